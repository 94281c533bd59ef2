//! E-mails written from the communication templates of policies.md §16
//! (the editable copies admins keep in `templates`), rendered over the
//! project's typed context and queued in the outbox in the transaction of
//! their cause:
//!
//! * **welcome** — when a project is created with `send_welcome`, to the
//!   account's executive sponsor (else its project lead);
//! * **weekly status** — the covering note of a sent status report, above
//!   the full report.
//!
//! A template edited so that it no longer renders (it was validated at
//! save time, so this means a value is missing) fails the operation with a
//! clear error instead of sending a blank.

use jiff::civil::Date;
use serde_json::json;
use sqlx::Row;
use steward_domain::{
    hub::ContactRole,
    templates::{self, Context, Object, Rendered},
};

use crate::{
    Store,
    db::Tx,
    error::{Result, StoreError},
    outbox::MESSAGE_ID_DOMAIN,
    projects::{Project, local_date},
};

/// A contact of an account: (name, e-mail).
pub(crate) type Contact = (String, String);

impl Store {
    /// The account's contact holding `role`, with an e-mail address.
    pub(crate) async fn contact_with_role_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
        role: ContactRole,
    ) -> Result<Option<Contact>> {
        let row = sqlx::query(
            "SELECT u.name, u.email FROM users u JOIN contact_roles c ON c.user_id = u.id
             WHERE u.organization_id = $1 AND c.role = $2 AND u.email IS NOT NULL AND u.active = 1
             ORDER BY u.id LIMIT 1",
        )
        .bind(org)
        .bind(role.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| Ok((r.try_get("name")?, r.try_get("email")?)))
            .transpose()
    }

    /// An account's name, effective tier and renewal date, into `c`.
    pub(crate) async fn account_context_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
        c: &mut Context,
    ) -> Result<()> {
        let org = sqlx::query(
            "SELECT name, acv_cents, tier_pinned, renewal_date FROM organizations WHERE id = $1",
        )
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
        let acv: Option<i64> = org.try_get("acv_cents")?;
        let pinned: Option<String> = crate::db::opt_str(&org, "tier_pinned")?;
        let pinned = pinned
            .map(|t| steward_domain::Tier::parse(&t))
            .transpose()?;
        let tier = steward_domain::Tier::effective(acv.map(steward_domain::Money), pinned);
        c.set(Object::Account, "name", org.try_get::<String, _>("name")?);
        c.set(Object::Account, "tier", tier.as_str());
        c.set(
            Object::Account,
            "renewal_date",
            crate::db::opt_str(&org, "renewal_date")?.unwrap_or_default(),
        );
        Ok(())
    }

    /// The template context of a project: its account, `contact`, the
    /// project as of `today`, and its owner as the agent.
    pub(crate) async fn project_context_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Project,
        contact: &Contact,
        today: Date,
    ) -> Result<Context> {
        let mut c = Context::default();
        self.account_context_in(conn, p.organization_id, &mut c)
            .await?;
        let (agent_name, agent_email) = match p.owner_id {
            Some(id) => {
                let r = sqlx::query("SELECT name, email FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
                (
                    r.try_get::<String, _>("name")?,
                    crate::db::opt_str(&r, "email")?.unwrap_or_default(),
                )
            }
            None => ("Your customer success team".to_string(), String::new()),
        };
        c.set(Object::Account, "csm_name", agent_name.clone());
        c.set(Object::Agent, "name", agent_name);
        c.set(Object::Agent, "email", agent_email);
        let (name, email) = contact;
        c.set(
            Object::Contact,
            "first_name",
            name.split_whitespace().next().unwrap_or(name).to_string(),
        );
        c.set(Object::Contact, "name", name.clone());
        c.set(Object::Contact, "email", email.clone());
        let cal = self.project_calendar(conn, &p.calendar).await?;
        let days =
            steward_domain::project::working_days(&cal, p.start_date, p.template.days as usize);
        let day = steward_domain::project::day_number(&days, today) as u32;
        c.set(Object::Project, "name", p.name.clone());
        c.set(Object::Project, "start_date", p.start_date.to_string());
        c.set(Object::Project, "go_live_date", p.go_live_date.to_string());
        c.set(Object::Project, "day", day);
        let phase = p.template.phase_of(day.max(1));
        c.set(
            Object::Project,
            "phase",
            p.template.phase_name(phase).to_string(),
        );
        Ok(c)
    }

    /// Renders template `key` over `ctx` (the template as admins left it).
    pub(crate) async fn render_template_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        key: &str,
        ctx: &Context,
    ) -> Result<Rendered> {
        let t = self.template_in(conn, key).await?;
        templates::render(&t.parts, ctx).map_err(|e| {
            StoreError::invalid(
                "template",
                format!("the {key} template could not be rendered: {}", e.message),
            )
        })
    }

    /// Queues the welcome e-mail of a new project in its transaction.
    pub(crate) async fn enqueue_welcome_in(
        &self,
        tx: &mut Tx,
        p: &Project,
        now: i64,
    ) -> Result<()> {
        let contact = match self
            .contact_with_role_in(tx, p.organization_id, ContactRole::ExecutiveSponsor)
            .await?
        {
            Some(c) => c,
            None => self
                .contact_with_role_in(tx, p.organization_id, ContactRole::ProjectLead)
                .await?
                .ok_or_else(|| {
                    StoreError::invalid(
                        "send_welcome",
                        "the account has no executive sponsor or project lead contact with an e-mail address",
                    )
                })?,
        };
        let cal = self.project_calendar(tx, &p.calendar).await?;
        let ctx = self
            .project_context_in(tx, p, &contact, local_date(now, cal.time_zone()))
            .await?;
        let r = self.render_template_in(tx, "welcome", &ctx).await?;
        let to = contact.1;
        let payload = json!({
            "to": to,
            "subject": r.subject,
            "text": r.text,
            "html": r.html,
            "headers": {"Message-ID": format!("<project-{}-welcome@{MESSAGE_ID_DOMAIN}>", p.id)},
            "project_id": p.id,
        });
        self.enqueue(
            tx,
            "email",
            &format!("email:project-{}-welcome:{to}", p.id),
            &payload,
            now,
        )
        .await?;
        Ok(())
    }
}
