//! The SLA engine's persistence (policies.md §4): the policy table, the
//! clocks of each ticket, their metric events, and the scheduler's tick.
//!
//! Clocks change in the same transaction as the ticket change that moves
//! them ([`Store::apply_sla_tx`]); warnings and breaches fire from
//! [`Store::fire_due_sla`], which reads only rows whose `next_due` has
//! come (an indexed column) and claims them with `FOR UPDATE SKIP LOCKED`
//! on PostgreSQL, so several `steward serve` processes fire each event
//! exactly once. Each warning and breach also enqueues its Slack-compatible
//! notification in the outbox, in the same transaction.

use serde_json::{Value, json};
use sqlx::Row;
use steward_domain::{
    AccountStatus, Priority,
    escalation::Trigger,
    sla::{self, Calendars, Clock, EventKind, Metric, MetricEvent, Policies, TicketFacts},
    time::format_unix,
};

use crate::{
    Dialect, Store,
    db::Tx,
    error::{Result, StoreError},
    sql::Args,
    tickets::Ticket,
};

const POLICIES_KEY: &str = "sla_policies";

/// A stored metric event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMetricEvent {
    pub id: i64,
    pub ticket_id: i64,
    pub metric: String,
    pub instance_id: i64,
    pub event_type: String,
    pub time: i64,
    pub sla: Option<Value>,
}

/// What one scheduler tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fired {
    pub warnings: usize,
    pub breaches: usize,
}

impl Store {
    pub async fn setting(&self, key: &str) -> Result<Option<Value>> {
        let mut conn = self.reader().await?;
        Self::setting_in(&mut conn, key).await
    }

    /// Reads a setting on a given connection — inside a transaction, the
    /// transaction's own, so that a write never waits for a second
    /// connection from a pool its peers may have exhausted.
    pub(crate) async fn setting_in(
        conn: &mut sqlx::AnyConnection,
        key: &str,
    ) -> Result<Option<Value>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| Ok(serde_json::from_str(&r.try_get::<String, _>("value")?)?))
            .transpose()
    }

    pub async fn put_setting(&self, key: &str, value: &Value, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(serde_json::to_string(value)?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    /// The SLA policy table in force: the admin's, or §4's defaults.
    pub async fn sla_policies(&self) -> Result<std::sync::Arc<Policies>> {
        if let Some(p) = self.policies.fresh() {
            return Ok(p);
        }
        let mut conn = self.reader().await?;
        self.sla_policies_in(&mut conn).await
    }

    pub(crate) async fn sla_policies_in(
        &self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<std::sync::Arc<Policies>> {
        if let Some(p) = self.policies.fresh() {
            return Ok(p);
        }
        let p = match Self::setting_in(conn, POLICIES_KEY).await? {
            Some(v) => serde_json::from_value(v)
                .map_err(|e| StoreError::Corrupt(format!("sla_policies: {e}")))?,
            None => sla::default_policies(),
        };
        let p = std::sync::Arc::new(p);
        self.policies.put(p.clone());
        Ok(p)
    }

    pub async fn set_sla_policies(&self, policies: &Policies, now: i64) -> Result<()> {
        let cals = self.calendars().await?;
        policies
            .validate(|name| cals.get(name).is_some())
            .map_err(|e| StoreError::invalid("sla_policies", e.0))?;
        self.put_setting(POLICIES_KEY, &serde_json::to_value(policies)?, now)
            .await?;
        self.policies.clear();
        Ok(())
    }

    /// Moves the ticket's SLA clocks for a change, in the change's
    /// transaction. `before` is `None` for a new ticket; `replied` says
    /// whether the change added a public agent reply.
    pub(crate) async fn apply_sla_tx(
        &self,
        tx: &mut Tx,
        ticket: &Ticket,
        before: Option<&TicketFacts>,
        replied: bool,
        now: i64,
    ) -> Result<()> {
        let policies = self.sla_policies_in(&mut *tx).await?;
        let cals = self.calendars_in(&mut *tx).await?;
        let tier = match ticket.organization_id {
            Some(org) => {
                let o = self.org_tx(tx, org).await?;
                (o.account.status != Some(AccountStatus::Prospect)).then(|| o.tier())
            }
            None => None,
        };
        let root_group = match ticket.group_id {
            Some(g) => self.group_tx(tx, g).await?.map(|g| g.root()),
            None => None,
        };
        let policy = policies.for_ticket(tier, root_group);
        let after = facts(ticket);
        let loaded = self.clocks_tx(tx, ticket.id).await?;
        let mut clocks = loaded.clone();
        let events = sla::evolve(
            &mut clocks,
            before,
            &after,
            replied,
            policy,
            cals.as_ref(),
            now,
        );
        if events.is_empty() {
            return Ok(());
        }
        for gone in loaded.iter().filter(|c| {
            !clocks
                .iter()
                .any(|n| n.metric == c.metric && n.instance == c.instance)
        }) {
            sqlx::query(
                "DELETE FROM ticket_metrics WHERE ticket_id = $1 AND metric = $2 AND instance = $3",
            )
            .bind(ticket.id)
            .bind(gone.metric.as_str())
            .bind(gone.instance)
            .execute(&mut **tx)
            .await?;
        }
        let changed: Vec<&Clock> = clocks.iter().filter(|c| !loaded.contains(c)).collect();
        self.save_clocks(tx, ticket.id, &changed, cals.as_ref())
            .await?;
        self.save_metric_events(tx, ticket.id, &events, &clocks)
            .await?;
        Ok(())
    }

    async fn clocks_tx(&self, tx: &mut Tx, ticket_id: i64) -> Result<Vec<Clock>> {
        let rows = sqlx::query(
            "SELECT clock FROM ticket_metrics WHERE ticket_id = $1 ORDER BY metric, instance",
        )
        .bind(ticket_id)
        .fetch_all(&mut **tx)
        .await?;
        rows.iter()
            .map(|r| Ok(serde_json::from_str(&r.try_get::<String, _>("clock")?)?))
            .collect()
    }

    /// Upserts clocks with their next due instant, one statement.
    async fn save_clocks(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        clocks: &[&Clock],
        cals: &dyn Calendars,
    ) -> Result<()> {
        if clocks.is_empty() {
            return Ok(());
        }
        let mut args = Args::default();
        let mut rows = Vec::new();
        for c in clocks {
            let due = cals.get(&c.calendar).and_then(|cal| c.next_due(cal));
            let due = match due {
                Some(d) => args.int(d),
                None => "NULL".to_string(),
            };
            rows.push(format!(
                "({}, {}, {}, {}, {due})",
                args.int(ticket_id),
                args.text(c.metric.as_str()),
                args.int(c.instance),
                args.text(serde_json::to_string(c)?),
            ));
        }
        let sql = format!(
            "INSERT INTO ticket_metrics (ticket_id, metric, instance, clock, next_due) VALUES {}
             ON CONFLICT (ticket_id, metric, instance) DO UPDATE SET clock = excluded.clock, next_due = excluded.next_due",
            rows.join(", ")
        );
        args.bind(sqlx::query(&sql)).execute(&mut **tx).await?;
        Ok(())
    }

    async fn save_metric_events(
        &self,
        tx: &mut Tx,
        ticket_id: i64,
        events: &[MetricEvent],
        clocks: &[Clock],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut args = Args::default();
        let mut rows = Vec::new();
        for e in events {
            let sla = match e.kind {
                EventKind::ApplySla => clocks
                    .iter()
                    .find(|c| c.metric == e.metric && c.instance == e.instance)
                    .map(sla_json)
                    .map(|v| args.text(v.to_string()))
                    .unwrap_or_else(|| "NULL".into()),
                _ => "NULL".into(),
            };
            rows.push(format!(
                "({}, {}, {}, {}, {}, {sla})",
                args.int(ticket_id),
                args.text(e.metric.as_str()),
                args.int(e.instance),
                args.text(e.kind.as_str()),
                args.int(e.time),
            ));
        }
        let sql = format!(
            "INSERT INTO ticket_metric_events (ticket_id, metric, instance_id, event_type, time, sla) VALUES {}",
            rows.join(", ")
        );
        args.bind(sqlx::query(&sql)).execute(&mut **tx).await?;
        Ok(())
    }

    /// One scheduler tick: fires every warning and breach due by `now` (at
    /// most `limit` clocks), each exactly once, with its metric event and
    /// its notification in the outbox.
    pub async fn fire_due_sla(&self, now: i64, limit: i64) -> Result<Fired> {
        let cals = self.calendars().await?;
        let mut tx = self.begin().await?;
        let lock = if self.dialect == Dialect::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT m.ticket_id, m.clock, t.subject, t.priority, t.organization_id FROM ticket_metrics m
             JOIN tickets t ON t.id = m.ticket_id
             WHERE m.next_due IS NOT NULL AND m.next_due <= $1
             ORDER BY m.next_due LIMIT $2{lock}"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            // Idle ticks write nothing, so they cost no fsync.
            tx.rollback().await?;
            return Ok(Fired::default());
        }
        let mut fired = Fired::default();
        for r in rows {
            let ticket_id: i64 = r.try_get("ticket_id")?;
            let mut clock: Clock = serde_json::from_str(&r.try_get::<String, _>("clock")?)?;
            let Some(cal) = cals.get(&clock.calendar) else {
                tracing::error!(ticket.id = ticket_id, calendar = %clock.calendar, "SLA clock on an unknown calendar");
                continue;
            };
            let priority = Priority::parse(&r.try_get::<String, _>("priority")?)?;
            let subject: String = r.try_get("subject")?;
            let mut events = Vec::new();
            for (kind, at) in [
                (EventKind::Warn, clock.warn_at(cal)),
                (EventKind::Breach, clock.breach_at(cal)),
            ] {
                let Some(at) = at.filter(|at| *at <= now) else {
                    continue;
                };
                let done = match kind {
                    EventKind::Warn => std::mem::replace(&mut clock.warned, true),
                    _ => std::mem::replace(&mut clock.breached, true),
                };
                if done {
                    continue;
                }
                events.push(MetricEvent {
                    metric: clock.metric,
                    instance: clock.instance,
                    kind,
                    time: at,
                });
                let channel = if priority == Priority::Urgent {
                    "#critical-alerts"
                } else {
                    "#escalations"
                };
                let verb = if kind == EventKind::Warn {
                    "is at 75% of"
                } else {
                    "breached"
                };
                let text = format!(
                    "Ticket #{ticket_id} ({}) {verb} its {} target ({}): {subject}",
                    priority.code(),
                    metric_label(clock.metric),
                    format_unix(at),
                );
                let payload = json!({
                    "channel": channel,
                    "text": text,
                    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
                    "ticket_id": ticket_id,
                    "metric": clock.metric.as_str(),
                    "event": kind.as_str(),
                });
                let key = format!(
                    "sla:{ticket_id}:{}:{}:{}",
                    clock.metric.as_str(),
                    clock.instance,
                    kind.as_str()
                );
                self.enqueue(&mut tx, "slack", &key, &payload, now).await?;
                match kind {
                    EventKind::Warn => fired.warnings += 1,
                    _ => fired.breaches += 1,
                }
                let trigger = if kind == EventKind::Warn {
                    Trigger::SlaWarning
                } else {
                    Trigger::SlaBreach
                };
                self.escalate_tx(&mut tx, ticket_id, trigger, now).await?;
            }
            // Past twice the target: the top of the ladder (§6).
            if !clock.doubled && clock.double_at(cal).is_some_and(|d| d <= now) {
                clock.doubled = true;
                self.escalate_tx(&mut tx, ticket_id, Trigger::SlaDoubleTarget, now)
                    .await?;
            }
            self.save_clocks(&mut tx, ticket_id, &[&clock], cals.as_ref())
                .await?;
            self.save_metric_events(&mut tx, ticket_id, &events, &[])
                .await?;
        }
        self.commit(tx).await?;
        Ok(fired)
    }

    /// A ticket's clocks (for `include=slas`).
    pub async fn ticket_clocks(&self, ticket_id: i64) -> Result<Vec<Clock>> {
        let mut tx = self.reader().await?;
        let rows = sqlx::query(
            "SELECT clock FROM ticket_metrics WHERE ticket_id = $1 ORDER BY metric, instance",
        )
        .bind(ticket_id)
        .fetch_all(&mut *tx)
        .await?;
        rows.iter()
            .map(|r| Ok(serde_json::from_str(&r.try_get::<String, _>("clock")?)?))
            .collect()
    }

    /// Metric events of one ticket, or of all tickets from `start_time`
    /// after the event id `after` (the incremental export's cursor).
    pub async fn metric_events(
        &self,
        ticket_id: Option<i64>,
        start_time: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredMetricEvent>> {
        let mut args = Args::default();
        let mut conds = Vec::new();
        if let Some(t) = ticket_id {
            conds.push(format!("ticket_id = {}", args.int(t)));
        }
        match after {
            Some(a) => conds.push(format!("id > {}", args.int(a))),
            None => conds.push(format!("time >= {}", args.int(start_time))),
        }
        let sql = format!(
            "SELECT id, ticket_id, metric, instance_id, event_type, time, sla FROM ticket_metric_events
             WHERE {} ORDER BY id LIMIT {}",
            conds.join(" AND "),
            args.int(limit)
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|r| {
                Ok(StoredMetricEvent {
                    id: r.try_get("id")?,
                    ticket_id: r.try_get("ticket_id")?,
                    metric: r.try_get("metric")?,
                    instance_id: r.try_get("instance_id")?,
                    event_type: r.try_get("event_type")?,
                    time: r.try_get("time")?,
                    sla: r
                        .try_get::<Option<String>, _>("sla")?
                        .map(|s| serde_json::from_str(&s))
                        .transpose()?,
                })
            })
            .collect()
    }
}

pub(crate) fn facts(t: &Ticket) -> TicketFacts {
    TicketFacts {
        created_at: t.created_at,
        status: t.status,
        priority: t.priority,
        workaround_provided: t.workaround_provided,
    }
}

fn metric_label(m: Metric) -> &'static str {
    match m {
        Metric::FirstReplyTime => "first response",
        Metric::PausableUpdateTime => "periodic update",
        Metric::AgentWorkTime => "resolution",
        Metric::WorkaroundTime => "workaround",
    }
}

/// The `sla` object of an apply_sla event (Zendesk shape plus Steward's
/// calendar and unit).
fn sla_json(c: &Clock) -> Value {
    json!({
        "target": c.target_secs / 60,
        "target_in_seconds": c.target_secs,
        "business_hours": c.calendar != "24x7",
        "calendar": c.calendar,
        "span": c.span,
        "policy": {"title": c.policy},
    })
}
