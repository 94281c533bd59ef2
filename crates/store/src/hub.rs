//! The customer hub's first pieces (issue 4; policies.md §13): the
//! communication log of an account, the roles its people hold, and the
//! account timeline — everything that happened to the account, from one
//! call: tickets opened and solved, SLA breaches, escalations,
//! communications, completed tasks and milestones, risks identified and
//! resolved, go-live moves, status reports sent, metrics turning red.
//!
//! A communication's action items become tasks owned by the people named,
//! and a follow-up date becomes a follow-up task due that day at 14:00 UTC
//! (09:00 or 10:00 in New York), all in the transaction that logs it, so
//! nothing agreed in a meeting depends on someone remembering it.

use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Priority, Role,
    hub::{CommunicationKind, ContactRole, Sentiment},
    time::parse_date,
};

use crate::{
    Store,
    access::Actor,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    tasks::{CreatedBy, NewTask},
    users::User,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Communication {
    pub id: i64,
    pub organization_id: i64,
    pub kind: CommunicationKind,
    pub occurred_at: i64,
    pub topic: String,
    pub summary: String,
    pub attendees: Vec<String>,
    pub action_item_task_ids: Vec<i64>,
    pub follow_up_on: Option<String>,
    pub follow_up_task_id: Option<i64>,
    pub sentiment: Option<Sentiment>,
    pub author_id: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ActionItem {
    pub title: String,
    pub owner_id: Option<i64>,
    pub due_at: Option<i64>,
}

/// Fields to log or change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct CommunicationInput {
    pub kind: Option<CommunicationKind>,
    pub occurred_at: Option<i64>,
    pub topic: Option<String>,
    pub summary: Option<String>,
    pub attendees: Option<Vec<String>>,
    /// New action items (each becomes a task).
    pub action_items: Vec<ActionItem>,
    pub follow_up_on: Option<Option<String>>,
    pub sentiment: Option<Option<Sentiment>>,
}

/// One entry of an account's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at: i64,
    pub kind: &'static str,
    pub title: String,
    pub detail: Value,
}

const COLUMNS: &str = "id, organization_id, kind, occurred_at, topic, summary, attendees, action_item_task_ids, \
    follow_up_on, follow_up_task_id, sentiment, author_id, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Communication> {
    Ok(Communication {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        kind: CommunicationKind::parse(&r.try_get::<String, _>("kind")?)?,
        occurred_at: r.try_get("occurred_at")?,
        topic: r.try_get("topic")?,
        summary: r.try_get("summary")?,
        attendees: serde_json::from_str(&r.try_get::<String, _>("attendees")?)?,
        action_item_task_ids: serde_json::from_str(
            &r.try_get::<String, _>("action_item_task_ids")?,
        )?,
        follow_up_on: opt_str(r, "follow_up_on")?,
        follow_up_task_id: r.try_get("follow_up_task_id")?,
        sentiment: opt_str(r, "sentiment")?
            .map(|s| Sentiment::parse(&s))
            .transpose()?,
        author_id: r.try_get("author_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) fn may_read(actor: &Actor) -> Result<()> {
    if actor.role().is_staff() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "the customer hub is for staff".into(),
        ))
    }
}

pub(crate) fn may_write(actor: &Actor) -> Result<()> {
    may_read(actor)?;
    if actor.role().can_write() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "viewers cannot change the customer hub".into(),
        ))
    }
}

impl Store {
    pub async fn create_communication(
        &self,
        actor: &Actor,
        org: i64,
        input: CommunicationInput,
        now: i64,
    ) -> Result<Communication> {
        may_write(actor)?;
        let kind = input
            .kind
            .ok_or_else(|| StoreError::invalid("type", "is required"))?;
        let topic = input
            .topic
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::invalid("topic", "is required"))?
            .to_string();
        let mut tx = self.begin().await?;
        self.ensure_org_exists(&mut tx, org).await?;
        let row = sqlx::query(
            "INSERT INTO communications (organization_id, kind, occurred_at, topic, summary, attendees, sentiment,
                author_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(org)
        .bind(kind.as_str())
        .bind(input.occurred_at.unwrap_or(now))
        .bind(&topic)
        .bind(input.summary.clone().unwrap_or_default())
        .bind(serde_json::to_string(&input.attendees.clone().unwrap_or_default())?)
        .bind(input.sentiment.flatten().map(|s| s.as_str()))
        .bind(actor.id())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let input = CommunicationInput {
            kind: None,
            topic: None,
            summary: None,
            attendees: None,
            sentiment: None,
            ..input
        };
        self.apply_communication_tx(&mut tx, actor, id, input, now)
            .await?;
        self.mark_health_dirty(&mut tx, org, now).await?;
        self.commit(tx).await?;
        self.communication(actor, id).await
    }

    pub async fn update_communication(
        &self,
        actor: &Actor,
        id: i64,
        input: CommunicationInput,
        now: i64,
    ) -> Result<Communication> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        self.communication_tx(&mut tx, id).await?;
        self.apply_communication_tx(&mut tx, actor, id, input, now)
            .await?;
        self.commit(tx).await?;
        self.communication(actor, id).await
    }

    /// Writes the changed fields, and the tasks for new action items and a
    /// new follow-up date.
    async fn apply_communication_tx(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: i64,
        input: CommunicationInput,
        now: i64,
    ) -> Result<()> {
        let mut c = self.communication_tx(tx, id).await?;
        if let Some(k) = input.kind {
            c.kind = k;
        }
        if let Some(at) = input.occurred_at {
            c.occurred_at = at;
        }
        if let Some(t) = input.topic {
            let t = t.trim().to_string();
            if t.is_empty() {
                return Err(StoreError::invalid("topic", "cannot be blank"));
            }
            c.topic = t;
        }
        if let Some(s) = input.summary {
            c.summary = s;
        }
        if let Some(a) = input.attendees {
            c.attendees = a;
        }
        if let Some(s) = input.sentiment {
            c.sentiment = s;
        }
        for item in input.action_items {
            let title = item.title.trim().to_string();
            if title.is_empty() {
                return Err(StoreError::invalid(
                    "action_items",
                    "every action item needs a title",
                ));
            }
            if let Some(o) = item.owner_id {
                self.ensure_task_owner(tx, o).await?;
            }
            let task = NewTask {
                title,
                description: format!("Action item from the {} \"{}\"", c.kind.as_str(), c.topic),
                owner_id: item.owner_id,
                due_at: item.due_at,
                priority: Priority::Normal,
                ticket_id: None,
                organization_id: Some(c.organization_id),
                created_by: CreatedBy::User(actor.id()),
            };
            c.action_item_task_ids
                .push(self.create_task_tx(tx, task, now).await?);
        }
        if let Some(f) = input.follow_up_on
            && f != c.follow_up_on
        {
            if let Some(date) = &f {
                let day =
                    parse_date(date).map_err(|e| StoreError::invalid("follow_up_date", e.0))?;
                let due = steward_domain::time::parse_rfc3339(&format!("{day}T14:00:00Z"))
                    .map_err(|e| StoreError::invalid("follow_up_date", e.0))?;
                let task = NewTask {
                    title: format!("Follow up: {}", c.topic),
                    description: format!(
                        "Follow-up agreed in the {} \"{}\"",
                        c.kind.as_str(),
                        c.topic
                    ),
                    owner_id: Some(actor.id()),
                    due_at: Some(due),
                    priority: Priority::Normal,
                    ticket_id: None,
                    organization_id: Some(c.organization_id),
                    created_by: CreatedBy::User(actor.id()),
                };
                c.follow_up_task_id = Some(self.create_task_tx(tx, task, now).await?);
            }
            c.follow_up_on = f;
        }
        sqlx::query(
            "UPDATE communications SET kind = $1, occurred_at = $2, topic = $3, summary = $4, attendees = $5,
                action_item_task_ids = $6, follow_up_on = $7, follow_up_task_id = $8, sentiment = $9, updated_at = $10
             WHERE id = $11",
        )
        .bind(c.kind.as_str())
        .bind(c.occurred_at)
        .bind(&c.topic)
        .bind(&c.summary)
        .bind(serde_json::to_string(&c.attendees)?)
        .bind(serde_json::to_string(&c.action_item_task_ids)?)
        .bind(&c.follow_up_on)
        .bind(c.follow_up_task_id)
        .bind(c.sentiment.map(|s| s.as_str()))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn communication_tx(&self, tx: &mut Tx, id: i64) -> Result<Communication> {
        let sql = format!("SELECT {COLUMNS} FROM communications WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.map(|r| from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("communication"))
    }

    pub async fn communication(&self, actor: &Actor, id: i64) -> Result<Communication> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {COLUMNS} FROM communications WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("communication"))
    }

    /// An account's communications, newest first.
    pub async fn communications(
        &self,
        actor: &Actor,
        org: i64,
        limit: i64,
    ) -> Result<Vec<Communication>> {
        may_read(actor)?;
        self.org(org).await?;
        let mut conn = self.reader().await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM communications WHERE organization_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn delete_communication(&self, actor: &Actor, id: i64) -> Result<()> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM communications WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("communication"));
        }
        self.commit(tx).await
    }

    /// Sets the roles a customer's contact holds on their account.
    pub async fn set_contact_roles(
        &self,
        actor: &Actor,
        user_id: i64,
        roles: &[ContactRole],
    ) -> Result<Vec<ContactRole>> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let u = self.user_tx(&mut tx, user_id).await?;
        if u.role != Role::EndUser || u.organization_id.is_none() {
            return Err(StoreError::invalid(
                "user",
                "contact roles are for a customer's people (end users of an organization)",
            ));
        }
        sqlx::query("DELETE FROM contact_roles WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let mut set: Vec<ContactRole> = roles.to_vec();
        set.sort();
        set.dedup();
        for r in &set {
            sqlx::query("INSERT INTO contact_roles (user_id, role) VALUES ($1, $2)")
                .bind(user_id)
                .bind(r.as_str())
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx).await?;
        Ok(set)
    }

    /// An account's people with their contact roles.
    pub async fn contacts(&self, actor: &Actor, org: i64) -> Result<Vec<(User, Vec<ContactRole>)>> {
        may_read(actor)?;
        self.org(org).await?;
        let page = self
            .list_users(
                &crate::UserFilter {
                    organization_id: Some(org),
                    role: Some(Role::EndUser),
                    ..Default::default()
                },
                crate::PageRequest::Offset {
                    page: 1,
                    per_page: crate::page::MAX_PER_PAGE,
                },
                crate::Sort::ID,
            )
            .await?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT r.user_id, r.role FROM contact_roles r JOIN users u ON u.id = r.user_id WHERE u.organization_id = $1 ORDER BY r.user_id, r.role",
        )
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
        let mut out: Vec<(User, Vec<ContactRole>)> =
            page.items.into_iter().map(|u| (u, Vec::new())).collect();
        for r in rows {
            let uid: i64 = r.try_get("user_id")?;
            let role = ContactRole::parse(&r.try_get::<String, _>("role")?)?;
            if let Some(entry) = out.iter_mut().find(|(u, _)| u.id == uid) {
                entry.1.push(role);
            }
        }
        Ok(out)
    }

    /// Everything that happened to an account before `before`, newest
    /// first: tickets opened and solved, SLA breaches, escalations, logged
    /// communications and completed tasks. Each source reads at most
    /// `limit` rows through an index, so the cost follows the page.
    pub async fn timeline(
        &self,
        actor: &Actor,
        org: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<TimelineEntry>> {
        may_read(actor)?;
        self.org(org).await?;
        let mut conn = self.reader().await?;
        let mut out = Vec::new();
        let q = |sql: &'static str| sqlx::query(sql).bind(org).bind(before).bind(limit);
        for r in q("SELECT id, subject, priority, created_at FROM tickets WHERE organization_id = $1 AND deleted = 0
                    AND created_at < $2 ORDER BY created_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("created_at")?,
                kind: "ticket_created",
                title: r.try_get("subject")?,
                detail: json!({"ticket_id": r.try_get::<i64, _>("id")?, "priority": r.try_get::<String, _>("priority")?}),
            });
        }
        for r in q(
            "SELECT id, subject, solved_at FROM tickets WHERE organization_id = $1 AND deleted = 0
                    AND solved_at IS NOT NULL AND solved_at < $2 ORDER BY solved_at DESC LIMIT $3",
        )
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("solved_at")?,
                kind: "ticket_solved",
                title: r.try_get("subject")?,
                detail: json!({"ticket_id": r.try_get::<i64, _>("id")?}),
            });
        }
        for r in q("SELECT e.ticket_id, e.metric, e.time, t.subject FROM ticket_metric_events e JOIN tickets t ON t.id = e.ticket_id
                    WHERE t.organization_id = $1 AND e.event_type = 'breach' AND e.time < $2 ORDER BY e.time DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("time")?,
                kind: "sla_breach",
                title: r.try_get("subject")?,
                detail: json!({"ticket_id": r.try_get::<i64, _>("ticket_id")?, "metric": r.try_get::<String, _>("metric")?}),
            });
        }
        for r in q("SELECT e.ticket_id, e.level, e.contact, e.created_at, t.subject FROM escalations e JOIN tickets t ON t.id = e.ticket_id
                    WHERE t.organization_id = $1 AND e.created_at < $2 ORDER BY e.created_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("created_at")?,
                kind: "escalation",
                title: r.try_get("subject")?,
                detail: json!({"ticket_id": r.try_get::<i64, _>("ticket_id")?, "level": r.try_get::<i64, _>("level")?,
                               "contact": r.try_get::<String, _>("contact")?}),
            });
        }
        for r in q("SELECT id, kind, topic, occurred_at, sentiment FROM communications WHERE organization_id = $1
                    AND occurred_at < $2 ORDER BY occurred_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("occurred_at")?,
                kind: "communication",
                title: r.try_get("topic")?,
                detail: json!({"communication_id": r.try_get::<i64, _>("id")?, "type": r.try_get::<String, _>("kind")?,
                               "sentiment": opt_str(&r, "sentiment")?}),
            });
        }
        for r in q("SELECT id, title, completed_at FROM tasks WHERE organization_id = $1 AND completed_at IS NOT NULL
                    AND completed_at < $2 ORDER BY completed_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("completed_at")?,
                kind: "task_completed",
                title: r.try_get("title")?,
                detail: json!({"task_id": r.try_get::<i64, _>("id")?}),
            });
        }
        for r in q("SELECT m.id, m.name, m.project_id, m.updated_at, m.kind FROM project_milestones m
                    JOIN projects p ON p.id = m.project_id WHERE p.organization_id = $1 AND m.status = 'completed'
                    AND m.updated_at < $2 ORDER BY m.updated_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("updated_at")?,
                kind: "milestone_completed",
                title: r.try_get("name")?,
                detail: json!({"project_id": r.try_get::<i64, _>("project_id")?, "milestone_id": r.try_get::<i64, _>("id")?,
                               "type": r.try_get::<String, _>("kind")?}),
            });
        }
        for r in q("SELECT k.id, k.title, k.project_id, k.created_at, k.probability, k.impact FROM project_risks k
                    JOIN projects p ON p.id = k.project_id WHERE p.organization_id = $1 AND k.created_at < $2
                    ORDER BY k.created_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("created_at")?,
                kind: "risk_identified",
                title: r.try_get("title")?,
                detail: json!({"project_id": r.try_get::<i64, _>("project_id")?, "risk_id": r.try_get::<i64, _>("id")?,
                               "probability": r.try_get::<String, _>("probability")?, "impact": r.try_get::<String, _>("impact")?}),
            });
        }
        for r in q("SELECT k.id, k.title, k.project_id, k.resolved_at FROM project_risks k
                    JOIN projects p ON p.id = k.project_id WHERE p.organization_id = $1 AND k.resolved_at IS NOT NULL
                    AND k.resolved_at < $2 ORDER BY k.resolved_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("resolved_at")?,
                kind: "risk_resolved",
                title: r.try_get("title")?,
                detail: json!({"project_id": r.try_get::<i64, _>("project_id")?, "risk_id": r.try_get::<i64, _>("id")?}),
            });
        }
        for r in q("SELECT g.project_id, g.from_date, g.to_date, g.reason, g.moved_at FROM project_go_live_moves g
                    JOIN projects p ON p.id = g.project_id WHERE p.organization_id = $1 AND g.moved_at < $2
                    ORDER BY g.moved_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("moved_at")?,
                kind: "go_live_moved",
                title: r.try_get("reason")?,
                detail: json!({"project_id": r.try_get::<i64, _>("project_id")?, "from": r.try_get::<String, _>("from_date")?,
                               "to": r.try_get::<String, _>("to_date")?}),
            });
        }
        for r in q("SELECT s.id, s.project_id, s.week_ending, s.health, s.sent_at FROM status_reports s
                    JOIN projects p ON p.id = s.project_id WHERE p.organization_id = $1 AND s.sent_at IS NOT NULL
                    AND s.sent_at < $2 ORDER BY s.sent_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("sent_at")?,
                kind: "status_report_sent",
                title: format!("Weekly status report, week ending {}", r.try_get::<String, _>("week_ending")?),
                detail: json!({"project_id": r.try_get::<i64, _>("project_id")?, "status_report_id": r.try_get::<i64, _>("id")?,
                               "health": r.try_get::<String, _>("health")?}),
            });
        }
        for r in q("SELECT id, metric, field, value, created_at FROM metric_alerts WHERE organization_id = $1
                    AND created_at < $2 ORDER BY created_at DESC LIMIT $3")
        .fetch_all(&mut *conn)
        .await?
        {
            out.push(TimelineEntry {
                at: r.try_get("created_at")?,
                kind: "metric_red",
                title: format!("{}.{} turned red", r.try_get::<String, _>("metric")?, r.try_get::<String, _>("field")?),
                detail: json!({"alert_id": r.try_get::<i64, _>("id")?, "value": r.try_get::<f64, _>("value")?}),
            });
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.at));
        out.truncate(limit as usize);
        Ok(out)
    }
}
