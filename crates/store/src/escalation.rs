//! The escalation ladder's persistence (policies.md §6): escalation records
//! with their reports, time-based triggers, platform incidents (war rooms)
//! and root-cause analyses. The rules themselves are in
//! `steward_domain::escalation`; this module applies them in the
//! transaction of whatever caused them and queues the notifications.

use serde_json::{Value, json};
use sqlx::Row;
use steward_domain::{
    Priority, Role, Status, TicketType, Tier,
    escalation::{self, Trigger},
    time::format_unix,
};

use crate::{
    Dialect, Store,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    tickets::Ticket,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub id: i64,
    pub ticket_id: i64,
    pub level: i64,
    pub from_level: i64,
    pub trigger: String,
    pub contact: String,
    pub report: Value,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WarRoom {
    pub id: i64,
    pub problem_id: i64,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub cadence_secs: i64,
    pub next_update_due: Option<i64>,
    pub participants: Vec<i64>,
    pub incident_ids: Vec<i64>,
    pub updates: Vec<(i64, i64, String, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rca {
    pub ticket_id: i64,
    pub due_at: i64,
    pub submitted_at: Option<i64>,
    pub author_id: Option<i64>,
    pub body: Option<String>,
}

/// One move up the ladder, as the report describes it.
struct Step<'a> {
    tier: Tier,
    org: Option<&'a str>,
    from: i64,
    to: i64,
    trigger: Trigger,
    credit: bool,
}

/// Free-text fields of an escalation report that people fill in (§6).
pub const REPORT_TEXT_FIELDS: [&str; 5] = [
    "business_impact",
    "what_was_tried",
    "what_is_needed",
    "success_criteria",
    "next_steps",
];

/// `acme-corp` for "Acme Corp": lower case, runs of anything but ASCII
/// letters and digits become one dash. The account part of Slack channels.
pub fn account_slug(org_name: &str) -> String {
    org_name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// `#incident-acme-corp` for "Acme Corp".
pub fn incident_channel(org_name: &str) -> String {
    format!("#incident-{}", account_slug(org_name))
}

impl Store {
    fn skip_locked(&self) -> &'static str {
        if self.dialect == Dialect::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        }
    }

    /// The executive stakeholder added as follower on tickets of accounts
    /// above $50,000 ACV: the `executive_stakeholder_user_id` setting, or
    /// else the first active admin (the CS Manager).
    pub(crate) async fn executive_stakeholder_tx(&self, tx: &mut Tx) -> Result<Option<i64>> {
        let configured =
            sqlx::query("SELECT value FROM settings WHERE key = 'executive_stakeholder_user_id'")
                .fetch_optional(&mut **tx)
                .await?
                .and_then(|r| r.try_get::<String, _>("value").ok())
                .and_then(|v| v.trim().parse::<i64>().ok());
        if configured.is_some() {
            return Ok(configured);
        }
        crate::users::cs_manager(tx).await
    }

    /// Escalation bookkeeping for a ticket change, in its transaction:
    /// time triggers (re)scheduled or cancelled, the RCA owed for a solved
    /// P0, war rooms opened for platform incidents and closed with their
    /// problem.
    pub(crate) async fn escalation_on_change_tx(
        &self,
        tx: &mut Tx,
        old: Option<&Ticket>,
        t: &Ticket,
        now: i64,
    ) -> Result<()> {
        let solved = !t.status.is_unsolved();
        let was_solved = old.is_some_and(|o| !o.status.is_unsolved());
        let reschedule = old.is_none_or(|o| o.priority != t.priority || (was_solved && !solved));
        if solved && !was_solved || reschedule {
            sqlx::query("DELETE FROM ticket_timers WHERE ticket_id = $1 AND fired_at IS NULL")
                .bind(t.id)
                .execute(&mut **tx)
                .await?;
        }
        if reschedule && !solved {
            for (trigger, delay) in escalation::timed_triggers(t.priority) {
                sqlx::query(
                    "INSERT INTO ticket_timers (ticket_id, kind, due_at) VALUES ($1, $2, $3)
                     ON CONFLICT (ticket_id, kind) DO NOTHING",
                )
                .bind(t.id)
                .bind(trigger.as_str())
                .bind(t.created_at + delay)
                .execute(&mut **tx)
                .await?;
            }
        }
        if solved && !was_solved && t.priority == Priority::Urgent {
            sqlx::query("INSERT INTO rcas (ticket_id, due_at) VALUES ($1, $2) ON CONFLICT (ticket_id) DO NOTHING")
                .bind(t.id)
                .bind(now + escalation::RCA_DUE_SECS)
                .execute(&mut **tx)
                .await?;
        }
        if let Some(problem) = t.problem_id
            && old.is_none_or(|o| o.problem_id != t.problem_id)
        {
            self.check_war_room_tx(tx, problem, now).await?;
        }
        if t.ticket_type == Some(TicketType::Problem) && solved && !was_solved {
            sqlx::query("UPDATE war_rooms SET closed_at = $1, next_update_due = NULL WHERE problem_id = $2 AND closed_at IS NULL")
                .bind(now)
                .bind(t.id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Opens a war room when a problem's incidents span 2+ accounts (§6).
    async fn check_war_room_tx(&self, tx: &mut Tx, problem: i64, now: i64) -> Result<()> {
        let orgs = sqlx::query(
            "SELECT DISTINCT o.id, o.name FROM tickets t JOIN organizations o ON o.id = t.organization_id
             WHERE t.problem_id = $1 AND t.deleted = 0 ORDER BY o.id",
        )
        .bind(problem)
        .fetch_all(&mut **tx)
        .await?;
        if orgs.len() < 2 {
            return Ok(());
        }
        let p = self.ticket_tx(tx, problem).await?;
        let cadence = escalation::war_room_cadence_secs(p.priority);
        let participants = sqlx::query(
            "SELECT DISTINCT assignee_id FROM tickets WHERE (id = $1 OR problem_id = $1) AND assignee_id IS NOT NULL ORDER BY assignee_id",
        )
        .bind(problem)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("assignee_id"))
        .collect::<Result<Vec<i64>, _>>()?;
        let inserted = sqlx::query(
            "INSERT INTO war_rooms (problem_id, opened_at, cadence_secs, next_update_due, participants)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (problem_id) DO NOTHING",
        )
        .bind(problem)
        .bind(now)
        .bind(cadence)
        .bind(now + cadence)
        .bind(serde_json::to_string(&participants)?)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            for r in &orgs {
                let name: String = r.try_get("name")?;
                let channel = incident_channel(&name);
                let text = format!(
                    "Platform incident: problem #{problem} \"{}\" affects {} accounts. War room open; updates every {} minutes.",
                    p.subject,
                    orgs.len(),
                    cadence / 60
                );
                let key = format!("war_room:{problem}:opened:{channel}");
                self.enqueue(tx, "slack", &key, &slack(&channel, &text), now)
                    .await?;
            }
        }
        Ok(())
    }

    async fn current_level_tx(&self, tx: &mut Tx, ticket_id: i64) -> Result<i64> {
        let row = sqlx::query("SELECT CAST(COALESCE(MAX(level), 0) AS BIGINT) AS l FROM escalations WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(row.try_get("l")?)
    }

    /// Applies one trigger to a ticket (§6), in the caller's transaction.
    pub(crate) async fn escalate_tx(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        trigger: Trigger,
        now: i64,
    ) -> Result<Option<i64>> {
        let t = self.ticket_tx(tx, ticket_id).await?;
        let (tier, org_name) = match t.organization_id {
            Some(o) => {
                let org = self.org_tx(tx, o).await?;
                (org.tier(), Some(org.name))
            }
            None => (Tier::Starter, None),
        };
        let platform =
            sqlx::query("SELECT 1 AS x FROM war_rooms WHERE problem_id = $1 OR problem_id = $2")
                .bind(t.id)
                .bind(t.problem_id.unwrap_or(0))
                .fetch_optional(&mut **tx)
                .await?
                .is_some();
        let current = self.current_level_tx(tx, t.id).await?;
        let d = escalation::decide(trigger, tier, t.priority, current, platform);
        for title in &d.notify {
            let text = format!(
                "{title}: ticket #{} ({}, {}) — {}: {}",
                t.id,
                t.priority.code(),
                tier.label(),
                trigger.describe(),
                t.subject
            );
            let key = format!("notify:{}:{}:{title}", t.id, trigger.as_str());
            self.enqueue(tx, "slack", &key, &slack("#escalations", &text), now)
                .await?;
        }
        let Some(level) = d.level else {
            return Ok(None);
        };
        let contact = escalation::contact(tier, level);
        let report = self
            .escalation_report_tx(
                tx,
                &t,
                Step {
                    tier,
                    org: org_name.as_deref(),
                    from: current,
                    to: level,
                    trigger,
                    credit: d.credit,
                },
                now,
            )
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO escalations (ticket_id, level, from_level, trigger_kind, contact, report, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (ticket_id, level) DO NOTHING",
        )
        .bind(t.id)
        .bind(level)
        .bind(current)
        .bind(trigger.as_str())
        .bind(contact)
        .bind(serde_json::to_string(&report)?)
        .bind(now)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        let text = format!(
            "Ticket #{} escalated to level {level} ({contact}) — {}. {} {} — {}",
            t.id,
            trigger.describe(),
            t.priority.code(),
            tier.label(),
            t.subject
        );
        let key = format!("escalation:{}:{level}", t.id);
        self.enqueue(tx, "slack", &key, &slack("#escalations", &text), now)
            .await?;
        Ok(Some(level))
    }

    /// The escalation report of §6, computed from the ticket; the free-text
    /// fields start empty for people to complete.
    async fn escalation_report_tx(
        &self,
        tx: &mut Tx,
        t: &Ticket,
        step: Step<'_>,
        now: i64,
    ) -> Result<Value> {
        let Step {
            tier,
            org,
            from,
            to,
            trigger,
            credit,
        } = step;
        let first_response = sqlx::query(
            "SELECT MIN(c.created_at) AS at FROM ticket_comments c JOIN users u ON u.id = c.author_id
             WHERE c.ticket_id = $1 AND c.public = 1 AND u.role <> 'end-user'
               AND c.id > (SELECT MIN(id) FROM ticket_comments WHERE ticket_id = $1)",
        )
        .bind(t.id)
        .fetch_one(&mut **tx)
        .await?
        .try_get::<Option<i64>, _>("at")?;
        let notes = sqlx::query(
            "SELECT body FROM ticket_comments WHERE ticket_id = $1 AND public = 0 ORDER BY id DESC LIMIT 3",
        )
        .bind(t.id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("body"))
        .collect::<Result<Vec<_>, _>>()?;
        let requester = self.user_tx(tx, t.requester_id).await?;
        let contact_users = self
            .contact_users_tx(tx, escalation::contact(tier, to))
            .await?;
        Ok(json!({
            "date": format_unix(now),
            "level": to,
            "from": if from == 0 { Value::Null } else { json!({"level": from, "contact": escalation::contact(tier, from)}) },
            "to": {"level": to, "contact": escalation::contact(tier, to), "user_ids": contact_users},
            "summary": t.subject,
            "severity": t.priority.code(),
            "account": {"id": t.organization_id, "name": org, "tier": tier.as_str()},
            "affected_users": {"requester": requester.email, "followers": t.follower_ids},
            "business_impact": t.custom_fields.get(&3).cloned().unwrap_or(Value::Null),
            "timeline": {
                "reported": format_unix(t.created_at),
                "first_response": first_response.map(format_unix),
                "escalated": format_unix(now),
            },
            "what_was_tried": if notes.is_empty() { Value::Null } else { json!(notes) },
            "why_escalating": trigger.describe(),
            "what_is_needed": null,
            "success_criteria": null,
            "next_steps": null,
            "credit_recorded": credit,
        }))
    }

    /// Users a ladder contact reaches: the `escalation_contacts` setting
    /// (`{"VP Engineering": [user ids]}`), else by role for the roles Steward
    /// has (CS Manager = admins, Implementation CSM = CSMs, Support Team =
    /// agents); executives without a configured user are reached through
    /// the #escalations channel only.
    pub(crate) async fn contact_users_tx(&self, tx: &mut Tx, title: &str) -> Result<Vec<i64>> {
        let configured =
            sqlx::query("SELECT value FROM settings WHERE key = 'escalation_contacts'")
                .fetch_optional(&mut **tx)
                .await?
                .and_then(|r| r.try_get::<String, _>("value").ok())
                .and_then(|v| serde_json::from_str::<Value>(&v).ok())
                .and_then(|v| v.get(title).cloned())
                .and_then(|v| serde_json::from_value::<Vec<i64>>(v).ok());
        if let Some(ids) = configured {
            return Ok(ids);
        }
        let role = match title {
            "CS Manager" => Role::Admin,
            "Implementation CSM" => Role::Csm,
            "Support Team" => Role::Agent,
            _ => return Ok(Vec::new()),
        };
        let rows = sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 ORDER BY id")
            .bind(role.as_str())
            .fetch_all(&mut **tx)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<Result<_, _>>()?)
    }

    /// One tick of time-based escalation work: due triggers, overdue
    /// war-room updates and overdue RCAs. Returns how many fired.
    pub async fn fire_due_escalations(&self, now: i64, limit: i64) -> Result<usize> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT ticket_id, kind FROM ticket_timers WHERE fired_at IS NULL AND due_at <= $1
             ORDER BY due_at LIMIT $2{}",
            self.skip_locked()
        );
        let due = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut fired = 0;
        // Rows this tick changed (a timer of a solved ticket is marked
        // fired without escalating, and must still be committed).
        let mut touched = 0;
        for r in due {
            let ticket_id: i64 = r.try_get("ticket_id")?;
            let kind: String = r.try_get("kind")?;
            sqlx::query(
                "UPDATE ticket_timers SET fired_at = $1 WHERE ticket_id = $2 AND kind = $3",
            )
            .bind(now)
            .bind(ticket_id)
            .bind(&kind)
            .execute(&mut *tx)
            .await?;
            touched += 1;
            let unsolved = sqlx::query("SELECT status FROM tickets WHERE id = $1 AND deleted = 0")
                .bind(ticket_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>("status"))
                .transpose()?
                .is_some_and(|s| Status::parse(&s).is_ok_and(Status::is_unsolved));
            if let (true, Some(trigger)) = (unsolved, Trigger::parse(&kind)) {
                self.escalate_tx(&mut tx, ticket_id, trigger, now).await?;
                fired += 1;
            }
        }
        let sql = format!(
            "SELECT w.id, w.problem_id, w.next_update_due, w.cadence_secs, t.subject FROM war_rooms w
             JOIN tickets t ON t.id = w.problem_id
             WHERE w.closed_at IS NULL AND w.next_update_due <= $1 ORDER BY w.next_update_due LIMIT $2{}",
            self.skip_locked()
        );
        for r in sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
        {
            let (id, problem, due, cadence): (i64, i64, i64, i64) = (
                r.try_get("id")?,
                r.try_get("problem_id")?,
                r.try_get("next_update_due")?,
                r.try_get("cadence_secs")?,
            );
            let subject: String = r.try_get("subject")?;
            let text = format!(
                "War room for problem #{problem} ({subject}): a status update was due at {} and is overdue.",
                format_unix(due)
            );
            self.enqueue(
                &mut tx,
                "slack",
                &format!("war_room:{id}:overdue:{due}"),
                &slack("#escalations", &text),
                now,
            )
            .await?;
            sqlx::query("UPDATE war_rooms SET next_update_due = $1 WHERE id = $2")
                .bind(now + cadence)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            fired += 1;
        }
        let sql = format!(
            "SELECT ticket_id, due_at FROM rcas WHERE submitted_at IS NULL AND reminded = 0 AND due_at <= $1 LIMIT $2{}",
            self.skip_locked()
        );
        for r in sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
        {
            let (ticket_id, due): (i64, i64) = (r.try_get("ticket_id")?, r.try_get("due_at")?);
            let text = format!(
                "The root-cause analysis for P0 ticket #{ticket_id} was due at {} and is missing.",
                format_unix(due)
            );
            self.enqueue(
                &mut tx,
                "slack",
                &format!("rca:{ticket_id}:overdue"),
                &slack("#escalations", &text),
                now,
            )
            .await?;
            sqlx::query("UPDATE rcas SET reminded = 1 WHERE ticket_id = $1")
                .bind(ticket_id)
                .execute(&mut *tx)
                .await?;
            fired += 1;
        }
        if fired == 0 && touched == 0 {
            // Idle ticks write nothing, so they cost no fsync.
            tx.rollback().await?;
        } else {
            self.commit(tx).await?;
        }
        Ok(fired)
    }

    pub async fn escalations(&self, ticket_id: i64) -> Result<Vec<Escalation>> {
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT id, ticket_id, level, from_level, trigger_kind, contact, report, created_at FROM escalations
             WHERE ticket_id = $1 ORDER BY level",
        )
        .bind(ticket_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(escalation_from_row).collect()
    }

    /// The ticket an escalation belongs to.
    pub async fn escalation_ticket(&self, id: i64) -> Result<i64> {
        let mut conn = self.reader().await?;
        let row = sqlx::query("SELECT ticket_id FROM escalations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound("escalation"))?;
        Ok(row.try_get("ticket_id")?)
    }

    /// Fills in the free-text fields of an escalation report.
    pub async fn update_escalation_report(
        &self,
        id: i64,
        fields: &serde_json::Map<String, Value>,
    ) -> Result<Escalation> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT id, ticket_id, level, from_level, trigger_kind, contact, report, created_at FROM escalations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("escalation"))?;
        let mut e = escalation_from_row(&row)?;
        for (k, v) in fields {
            if !REPORT_TEXT_FIELDS.contains(&k.as_str()) {
                return Err(StoreError::invalid(
                    k.clone(),
                    format!(
                        "is not editable (editable: {})",
                        REPORT_TEXT_FIELDS.join(", ")
                    ),
                ));
            }
            if !(v.is_string() || v.is_null()) {
                return Err(StoreError::invalid(k.clone(), "must be text"));
            }
            e.report[k] = v.clone();
        }
        sqlx::query("UPDATE escalations SET report = $1 WHERE id = $2")
            .bind(serde_json::to_string(&e.report)?)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(e)
    }

    pub async fn war_rooms(&self, open_only: bool) -> Result<Vec<WarRoom>> {
        let mut conn = self.reader().await?;
        let cond = if open_only {
            "WHERE closed_at IS NULL"
        } else {
            ""
        };
        let ids = sqlx::query(&format!(
            "SELECT id FROM war_rooms {cond} ORDER BY id DESC LIMIT 200"
        ))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
        drop(conn);
        let mut out = Vec::new();
        for id in ids {
            out.push(self.war_room(id).await?);
        }
        Ok(out)
    }

    pub async fn war_room(&self, id: i64) -> Result<WarRoom> {
        let mut conn = self.reader().await?;
        let r = sqlx::query(
            "SELECT id, problem_id, opened_at, closed_at, cadence_secs, next_update_due, participants FROM war_rooms WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound("war room"))?;
        let problem_id: i64 = r.try_get("problem_id")?;
        let incident_ids =
            sqlx::query("SELECT id FROM tickets WHERE problem_id = $1 AND deleted = 0 ORDER BY id")
                .bind(problem_id)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<Result<Vec<_>, _>>()?;
        let updates = sqlx::query("SELECT id, author_id, body, created_at FROM war_room_updates WHERE war_room_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|u| Ok((u.try_get("id")?, u.try_get("author_id")?, u.try_get("body")?, u.try_get("created_at")?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(WarRoom {
            id,
            problem_id,
            opened_at: r.try_get("opened_at")?,
            closed_at: r.try_get("closed_at")?,
            cadence_secs: r.try_get("cadence_secs")?,
            next_update_due: r.try_get("next_update_due")?,
            participants: serde_json::from_str(&r.try_get::<String, _>("participants")?)?,
            incident_ids,
            updates,
        })
    }

    /// Posts a war-room update; the next one is due a cadence later.
    pub async fn add_war_room_update(
        &self,
        id: i64,
        author_id: i64,
        body: &str,
        now: i64,
    ) -> Result<WarRoom> {
        if body.trim().is_empty() {
            return Err(StoreError::invalid("body", "cannot be blank"));
        }
        let mut tx = self.begin().await?;
        let r = sqlx::query("SELECT cadence_secs, closed_at FROM war_rooms WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("war room"))?;
        if r.try_get::<Option<i64>, _>("closed_at")?.is_some() {
            return Err(StoreError::invalid("war_room", "is closed"));
        }
        let cadence: i64 = r.try_get("cadence_secs")?;
        sqlx::query("INSERT INTO war_room_updates (war_room_id, author_id, body, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(author_id)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE war_rooms SET next_update_due = $1 WHERE id = $2")
            .bind(now + cadence)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        self.war_room(id).await
    }

    pub async fn rca(&self, ticket_id: i64) -> Result<Rca> {
        let mut conn = self.reader().await?;
        let r = sqlx::query("SELECT ticket_id, due_at, submitted_at, author_id, body FROM rcas WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound("root-cause analysis"))?;
        Ok(Rca {
            ticket_id: r.try_get("ticket_id")?,
            due_at: r.try_get("due_at")?,
            submitted_at: r.try_get("submitted_at")?,
            author_id: r.try_get("author_id")?,
            body: opt_str(&r, "body")?,
        })
    }

    pub async fn submit_rca(
        &self,
        ticket_id: i64,
        author_id: i64,
        body: &str,
        now: i64,
    ) -> Result<Rca> {
        if body.trim().is_empty() {
            return Err(StoreError::invalid("body", "cannot be blank"));
        }
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE rcas SET body = $1, author_id = $2, submitted_at = $3 WHERE ticket_id = $4",
        )
        .bind(body)
        .bind(author_id)
        .bind(now)
        .bind(ticket_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("root-cause analysis"));
        }
        self.commit(tx).await?;
        self.rca(ticket_id).await
    }
}

fn escalation_from_row(r: &sqlx::any::AnyRow) -> Result<Escalation> {
    Ok(Escalation {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        level: r.try_get("level")?,
        from_level: r.try_get("from_level")?,
        trigger: r.try_get("trigger_kind")?,
        contact: r.try_get("contact")?,
        report: serde_json::from_str(&r.try_get::<String, _>("report")?)?,
        created_at: r.try_get("created_at")?,
    })
}

/// A Slack incoming-webhook message (text + blocks) for `channel`.
pub(crate) fn slack(channel: &str, text: &str) -> Value {
    json!({
        "channel": channel,
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    })
}
