//! Help-desk replies from templates (policies.md §16 and §8): the four
//! reply templates agents apply to a ticket as macros, rendered over the
//! ticket's real context — its requester, its account, the account's
//! current implementation project and the replying agent. Never over the
//! sample values previews use: a reply goes to a customer, so a value that
//! is missing is an error, not a stand-in.
//!
//! Contractors reply to customers only from these templates (§8). The rule
//! lives in [`Store::update_ticket_tx`], which the API and the web app
//! share: a contractor's public comment must name a reply template
//! ([`ReplyTemplate`]), and the store renders the body itself, so what is
//! sent is the template as admins left it, not text the client claims came
//! from it. Internal notes stay free text.

use sqlx::Row;
use steward_domain::{
    Status,
    templates::{Context, Object, Rendered},
};

use crate::{
    Store,
    access::Actor,
    dates::local_date,
    error::{Result, StoreError},
    templates::{Template, require_staff},
    tickets::Ticket,
    users::User,
};

/// The help-desk reply templates of §16, in its order.
pub const REPLY_TEMPLATES: [&str; 4] = [
    "reply_initial_response",
    "reply_escalated_engineering",
    "reply_implementation_status",
    "reply_resolution",
];

/// The reply that solves a ticket: applying it also proposes status
/// solved, as a Zendesk macro would.
pub const RESOLUTION_TEMPLATE: &str = "reply_resolution";

/// A public comment written from a reply template: the store renders
/// `key` over the ticket and uses the result as the comment's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTemplate {
    pub key: String,
    /// Where the requester reads the ticket (`{{ ticket.url }}`): the
    /// caller knows the public address, the store does not.
    pub ticket_url: String,
}

fn check_key(key: &str) -> Result<()> {
    if REPLY_TEMPLATES.contains(&key) {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "template",
            format!("{key:?} is not a help-desk reply template"),
        ))
    }
}

impl Store {
    /// The reply templates as they are now (edited copies or defaults).
    pub async fn reply_templates(&self, actor: &Actor) -> Result<Vec<Template>> {
        let mut all = self.list_templates(actor).await?;
        all.retain(|t| REPLY_TEMPLATES.contains(&t.def.key));
        Ok(all)
    }

    /// Renders reply template `key` for a ticket the actor may read, with
    /// the actor as the agent who signs it.
    pub async fn render_reply(
        &self,
        actor: &Actor,
        ticket_id: i64,
        key: &str,
        ticket_url: &str,
        now: i64,
    ) -> Result<Rendered> {
        check_key(key)?;
        require_staff(actor)?;
        let t = self.ticket(actor, ticket_id).await?;
        let mut conn = self.reader().await?;
        let reply = ReplyTemplate {
            key: key.to_string(),
            ticket_url: ticket_url.to_string(),
        };
        self.render_reply_in(&mut conn, &actor.user, &t, t.status, &reply, now)
            .await
    }

    /// The template context of a ticket: the ticket, its requester as the
    /// contact, its account and the account's current project (if any),
    /// and `agent` (for API previews, which then fill in what is missing).
    pub async fn ticket_template_context(
        &self,
        actor: &Actor,
        ticket_id: i64,
        ticket_url: &str,
        now: i64,
    ) -> Result<Context> {
        require_staff(actor)?;
        let t = self.ticket(actor, ticket_id).await?;
        let mut conn = self.reader().await?;
        self.ticket_context_in(&mut conn, &actor.user, &t, t.status, ticket_url, now)
            .await
    }

    /// Renders a reply on `conn` (a transaction's own when writing), with
    /// `status` as the ticket's status after the update that sends it.
    pub(crate) async fn render_reply_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        agent: &User,
        t: &Ticket,
        status: Status,
        reply: &ReplyTemplate,
        now: i64,
    ) -> Result<Rendered> {
        check_key(&reply.key)?;
        let ctx = self
            .ticket_context_in(conn, agent, t, status, &reply.ticket_url, now)
            .await?;
        let needs_project = reply.key == "reply_implementation_status";
        if needs_project && !ctx.objects.contains_key(Object::Project.as_str()) {
            return Err(StoreError::invalid(
                "template",
                "this ticket's account has no active implementation project to report on",
            ));
        }
        self.render_template_in(conn, &reply.key, &ctx).await
    }

    pub(crate) async fn ticket_context_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        agent: &User,
        t: &Ticket,
        status: Status,
        ticket_url: &str,
        now: i64,
    ) -> Result<Context> {
        let row = sqlx::query("SELECT name, email FROM users WHERE id = $1")
            .bind(t.requester_id)
            .fetch_one(&mut *conn)
            .await?;
        let name: String = row.try_get("name")?;
        let email = crate::db::opt_str(&row, "email")?.unwrap_or_default();
        let first = name.split_whitespace().next().unwrap_or(&name).to_string();
        let contact = (name.clone(), email);
        let project = match t.organization_id {
            Some(org) => self.current_project_id(conn, org).await?,
            None => None,
        };
        let mut c = match (project, t.organization_id) {
            (Some(p), _) => {
                let p = self.project_in(conn, p).await?;
                let cal = self.project_calendar(conn, &p.calendar).await?;
                let today = local_date(now, cal.time_zone());
                self.project_context_in(conn, &p, &contact, today).await?
            }
            (None, Some(org)) => {
                let mut c = Context::default();
                self.account_context_in(conn, org, &mut c).await?;
                c
            }
            (None, None) => Context::default(),
        };
        // The replying agent signs, not the project's owner.
        c.set(Object::Agent, "name", agent.name.clone());
        c.set(
            Object::Agent,
            "email",
            agent.email.clone().unwrap_or_default(),
        );
        c.set(Object::Contact, "first_name", first.clone());
        c.set(Object::Contact, "name", name.clone());
        c.set(Object::Contact, "email", contact.1);
        c.set(Object::Ticket, "id", t.id);
        c.set(Object::Ticket, "subject", t.subject.clone());
        c.set(Object::Ticket, "status", status.as_str());
        c.set(Object::Ticket, "priority", t.priority.as_str());
        c.set(Object::Ticket, "url", ticket_url.to_string());
        c.set(Object::Ticket, "requester.first_name", first);
        c.set(Object::Ticket, "requester.name", name);
        Ok(c)
    }

    /// The account's newest active implementation project.
    async fn current_project_id(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
    ) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT id FROM projects WHERE organization_id = $1 AND status = 'active' ORDER BY id DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| r.try_get("id")).transpose().map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_templates_are_templates() {
        for key in REPLY_TEMPLATES {
            assert!(
                steward_domain::templates::default_for(key).is_some(),
                "{key}"
            );
        }
        assert!(REPLY_TEMPLATES.contains(&RESOLUTION_TEMPLATE));
        assert!(check_key("welcome").is_err());
    }
}
