//! Churn risk and health (issue 5; policies.md §9): facts gathered from
//! Steward's own data, scored by the factor table (the `risk_factors`
//! setting, §9's table by default), stored with their explanation, kept
//! current, and acted on.
//!
//! * **Set-based.** Facts are read with one grouped query per source for
//!   any set of accounts — one account after a change, or the whole
//!   portfolio at night — so recomputing ten thousand accounts costs a
//!   dozen queries, not a dozen per account.
//! * **Kept current.** A change to an account's tickets marks it in
//!   `health_dirty` in the change's transaction; the worker recomputes
//!   dirty accounts within a tick. Everything is recomputed nightly (from
//!   02:00 UTC), which also moves the time-based factors (contract dates,
//!   windows). History (`health_scores`) gets a row when a score changes
//!   and at least one a day.
//! * **Playbooks.** Entering YELLOW, ORANGE or RED creates that level's
//!   tasks (§9) for the account's CSM — the owner of its latest project,
//!   else the CS Manager (first active admin) — unless the same level's
//!   playbook started in the last 30 days. An account's first score is its
//!   baseline and starts nothing. Moving from GREEN to a worse level (or to
//!   any worse level) raises an alert: a task for the CS
//!   Manager due in a day and a Slack-compatible message to `#escalations`,
//!   in the transaction that stores the score.
//! * **Proactive feedback** counts `feedback_items` of the last 90 days that
//!   the customer offered: not survey answers (NPS reasons, CSAT comments)
//!   and not complaints (negative sentiment).
//!   CSAT reads `satisfaction_ratings`; NPS the account's survey answers
//!   (else the latest `user_satisfaction.nps` measurement); usage is
//!   `user_adoption.workflows_per_user_day`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde_json::{Value, json};
use sqlx::Row;
use steward_domain::{
    Priority,
    health::{self, Applied, FactorDef, Facts, Flag, Level, Score, Source},
    metrics::{self, Metric},
    time::parse_date,
};

use crate::{
    Store,
    access::Actor,
    dates::{utc_date, utc_start},
    db::Tx,
    error::{Result, StoreError},
    escalation::slack,
    hub::{may_read, may_write},
    project_parts::row_f64,
    tasks::{CreatedBy, NewTask},
};

const FACTORS_SETTING: &str = "risk_factors";
/// Above this many tickets in 30 days, the accounts being recomputed count
/// their escalations from the escalations rather than from their tickets
/// (see `health_facts_in`).
const BUSY_TICKETS_30D: i64 = 500;
const NIGHTLY_SETTING: &str = "health_nightly_on";
const DAY: i64 = 86_400;

/// An account's stored score.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub organization_id: i64,
    pub risk: u8,
    pub health: u8,
    pub level: Level,
    pub raw: i32,
    pub factors: Vec<Value>,
    pub computed_at: i64,
    pub level_since: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RiskFlag {
    pub id: i64,
    pub organization_id: i64,
    pub factor_key: String,
    pub note: String,
    pub set_by: i64,
    pub set_at: i64,
    pub expires_at: Option<i64>,
    pub cleared_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Intervention {
    pub id: i64,
    pub organization_id: i64,
    pub primary_issue: String,
    pub owner_id: Option<i64>,
    pub started_on: String,
    pub target_date: Option<String>,
    pub progress_pct: i64,
    pub status: String,
    pub notes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct InterventionInput {
    pub primary_issue: Option<String>,
    pub owner_id: Option<Option<i64>>,
    pub started_on: Option<String>,
    pub target_date: Option<Option<String>>,
    pub progress_pct: Option<i64>,
    pub status: Option<String>,
    pub notes: Option<String>,
}

pub const INTERVENTION_STATUSES: [&str; 3] = ["active", "succeeded", "failed"];

/// What a recomputation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recomputed {
    pub accounts: usize,
    pub level_changes: usize,
    pub playbooks: usize,
    pub alerts: usize,
}

fn days_between(a: Date, b: Date) -> i64 {
    (b - a).get_days() as i64
}

fn opt_date(r: &sqlx::any::AnyRow, col: &str) -> Result<Option<Date>> {
    Ok(crate::db::opt_str(r, col)?.and_then(|s| parse_date(&s).ok()))
}

/// `IN (...)` over ids (numbers only, never input text).
fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The factor table in force.
    pub async fn risk_factors(&self) -> Result<Vec<FactorDef>> {
        let mut conn = self.reader().await?;
        self.risk_factors_in(&mut conn).await
    }

    async fn risk_factors_in(&self, conn: &mut sqlx::AnyConnection) -> Result<Vec<FactorDef>> {
        match Store::setting_in(conn, FACTORS_SETTING).await? {
            Some(v) => Ok(serde_json::from_value(v)?),
            None => Ok(health::default_factors()),
        }
    }

    /// Replaces the factor table (admins). Computed factors keep their
    /// keys (their rules are code); flag factors may be added or removed.
    pub async fn put_risk_factors(
        &self,
        actor: &Actor,
        table: &[FactorDef],
        now: i64,
    ) -> Result<()> {
        if actor.role() != steward_domain::Role::Admin {
            return Err(StoreError::Forbidden(
                "only admins change the risk model".into(),
            ));
        }
        let defaults = health::default_factors();
        let mut seen = BTreeSet::new();
        for (i, f) in table.iter().enumerate() {
            if !seen.insert(f.key.as_str()) {
                return Err(StoreError::invalid(
                    format!("factors[{i}].key"),
                    format!("{} is used twice", f.key),
                ));
            }
            if !(-100..=100).contains(&f.points) {
                return Err(StoreError::invalid(
                    format!("factors[{i}].points"),
                    "must be between -100 and 100",
                ));
            }
            if f.threshold.is_some_and(|t| !t.is_finite() || t < 0.0) {
                return Err(StoreError::invalid(
                    format!("factors[{i}].threshold"),
                    "must be 0 or more",
                ));
            }
            let shipped = defaults.iter().find(|d| d.key == f.key);
            match (f.source, shipped) {
                (Source::Computed, None) => {
                    return Err(StoreError::invalid(
                        format!("factors[{i}].source"),
                        format!(
                            "{} is not a computed factor Steward knows; add it as a flag",
                            f.key
                        ),
                    ));
                }
                (_, Some(d))
                    if d.source != f.source
                        || d.band.map(|b| b.family) != f.band.map(|b| b.family) =>
                {
                    return Err(StoreError::invalid(
                        format!("factors[{i}].source"),
                        format!("{} keeps its source and band family", f.key),
                    ));
                }
                _ => {}
            }
        }
        for d in defaults.iter().filter(|d| d.source == Source::Computed) {
            if !seen.contains(d.key.as_str()) {
                return Err(StoreError::invalid(
                    "factors",
                    format!(
                        "{} is missing (set its points to 0 to switch it off)",
                        d.key
                    ),
                ));
            }
        }
        self.put_setting(FACTORS_SETTING, &serde_json::to_value(table)?, now)
            .await?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO health_dirty (organization_id, since) SELECT id, $1 FROM organizations WHERE 1 = 1
             ON CONFLICT (organization_id) DO NOTHING",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    /// Marks an account's score stale, in the caller's transaction.
    pub(crate) async fn mark_health_dirty(&self, tx: &mut Tx, org: i64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO health_dirty (organization_id, since) VALUES ($1, $2) ON CONFLICT (organization_id) DO NOTHING",
        )
        .bind(org)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The facts of `orgs` (all accounts when `None`) as of `now`.
    pub async fn health_facts(
        &self,
        orgs: Option<&[i64]>,
        now: i64,
    ) -> Result<BTreeMap<i64, (Facts, Vec<Flag>)>> {
        let mut conn = self.reader().await?;
        self.health_facts_in(&mut conn, orgs, now).await
    }

    async fn health_facts_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        orgs: Option<&[i64]>,
        now: i64,
    ) -> Result<BTreeMap<i64, (Facts, Vec<Flag>)>> {
        let today = utc_date(now);
        let only = |col: &str| match orgs {
            Some([]) => " AND 1 = 0".to_string(),
            Some(ids) => format!(" AND {col} IN ({})", id_list(ids)),
            None => String::new(),
        };
        let mut out: BTreeMap<i64, (Facts, Vec<Flag>)> = BTreeMap::new();
        let mut sponsors: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for r in sqlx::query(&format!(
            "SELECT id, contract_start, contract_end, renewal_date, account_status, executive_sponsor
             FROM organizations WHERE 1 = 1{}",
            only("id")
        ))
        .fetch_all(&mut *conn)
        .await?
        {
            let id: i64 = r.try_get("id")?;
            let start = opt_date(&r, "contract_start")?;
            let end = opt_date(&r, "contract_end")?;
            let renewal = opt_date(&r, "renewal_date")?;
            let f = Facts {
                days_to_contract_end: end.map(|e| days_between(today, e)),
                days_to_renewal: renewal.map(|e| days_between(today, e)),
                customer_days: start.map(|s| days_between(s, today)),
                contract_days: start.zip(end).map(|(s, e)| days_between(s, e)),
                churned: r.try_get::<String, _>("account_status")? == "churned",
                ..Default::default()
            };
            if let Some(s) = crate::db::opt_str(&r, "executive_sponsor")?.filter(|s| !s.trim().is_empty()) {
                sponsors.entry(id).or_default().push(s);
            }
            out.insert(id, (f, Vec::new()));
        }

        // Baseline metrics: the latest of each field, usage, downtime.
        let month_start = utc_start(today.first_of_month());
        let mut latest: BTreeMap<(i64, String), (i64, f64)> = BTreeMap::new();
        let mut month_ago: BTreeMap<i64, (i64, f64)> = BTreeMap::new();
        let mut uptime: BTreeMap<i64, (f64, i64)> = BTreeMap::new();
        for r in sqlx::query(&format!(
            "SELECT organization_id, field, value, measured_at FROM measurements
             WHERE field IN ('dau_pct', 'training_completion_pct', 'nps', 'workflows_per_user_day',
                             'validation_pass_rate_pct', 'uptime_pct')
               AND measured_at > $1 AND measured_at <= $2{}",
            only("organization_id")
        ))
        .bind(now - 60 * DAY)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            let field: String = r.try_get("field")?;
            let at: i64 = r.try_get("measured_at")?;
            let v: f64 = r.try_get("value")?;
            if field == "uptime_pct" && at >= month_start {
                let e = uptime.entry(org).or_insert((0.0, 0));
                e.0 += v;
                e.1 += 1;
            }
            if field == "workflows_per_user_day" && at < now - 30 * DAY {
                continue;
            }
            if field == "nps" && at <= now - 30 * DAY {
                let e = month_ago.entry(org).or_insert((at, v));
                if at >= e.0 {
                    *e = (at, v);
                }
            }
            let slot = latest.entry((org, field.clone())).or_insert((at, v));
            if field == "workflows_per_user_day" {
                slot.1 = slot.1.max(v);
            } else if at >= slot.0 {
                *slot = (at, v);
            }
        }
        let dq = Metric::DataQuality
            .field("validation_pass_rate_pct")
            .ok()
            .and_then(|d| d.thresholds);
        for ((org, field), (_, v)) in &latest {
            let Some((f, _)) = out.get_mut(org) else {
                continue;
            };
            match field.as_str() {
                "dau_pct" => f.dau_pct = Some(*v),
                "training_completion_pct" => f.training_pct = Some(*v),
                "nps" => f.nps = Some(*v),
                "workflows_per_user_day" => f.usage_30d = Some(*v),
                "validation_pass_rate_pct"
                    if dq.is_some_and(|t| metrics::rag(*v, &t) == metrics::Rag::Red) =>
                {
                    f.data_quality_red = Some(format!("data validation pass rate is {v:.1} %"));
                }
                _ => {}
            }
        }
        for (org, (_, v)) in month_ago {
            if let Some((f, _)) = out.get_mut(&org) {
                f.nps_month_ago = Some(v);
            }
        }
        let hours_so_far = ((now - month_start) as f64 / 3600.0).max(0.0);
        for (org, (sum, n)) in uptime {
            if let Some((f, _)) = out.get_mut(&org) {
                let mean = sum / n as f64;
                f.downtime_hours_month =
                    Some(((100.0 - mean) / 100.0 * hours_so_far * 10.0).round() / 10.0);
            }
        }

        // Tickets and escalations in 30 days; billing tickets from finance.
        // The ticket count is a range of `tickets_org_recent`
        // (organization_id, deleted, created_at) per account (migration 15).
        let since = now - 30 * DAY;
        let mut busy = 0;
        for (org, n) in counts(
            conn,
            &format!(
                "SELECT organization_id AS org, COUNT(*) AS n FROM tickets WHERE deleted = 0 AND created_at > $1
                 AND organization_id IS NOT NULL{} GROUP BY organization_id",
                only("organization_id")
            ),
            since,
        )
        .await?
        {
            if let Some((f, _)) = out.get_mut(&org) {
                f.tickets_30d = n;
                busy += n;
            }
        }
        // Escalations have no account of their own: they are counted
        // through their tickets, from one side or the other. From the last
        // 30 days' escalations (`escalations_created`, then a primary-key
        // probe each) for all accounts, and for accounts so busy that
        // starting from their tickets would cost more; from the accounts'
        // tickets (`tickets_org_recent`, then the `(ticket_id, level)`
        // index: a probe per ticket the account ever had) for quiet ones,
        // most of them. "Busy" is judged by the tickets just counted; the
        // CROSS JOINs fix SQLite's order. Either way the count is the same.
        let escalations_from = match orgs {
            Some(_) if busy <= BUSY_TICKETS_30D => "tickets t CROSS JOIN escalations e",
            _ => "escalations e CROSS JOIN tickets t",
        };
        for (org, n) in counts(
            conn,
            &format!(
                "SELECT t.organization_id AS org, COUNT(*) AS n FROM {escalations_from}
                 WHERE t.id = e.ticket_id AND e.created_at > $1 AND t.organization_id IS NOT NULL{}
                 GROUP BY t.organization_id",
                only("t.organization_id")
            ),
            since,
        )
        .await?
        {
            if let Some((f, _)) = out.get_mut(&org) {
                f.escalations_30d = n;
            }
        }
        // Billing tickets from finance contacts — the account's contacts
        // holding the finance role, tickets of that account — start from the
        // contacts, then read each contact's tickets through
        // `tickets_requester`: a busy account's other tickets are never
        // read. For all accounts the contacts come from `contact_roles
        // (role, user_id)` (migration 17). For given accounts, from their
        // users, read first and named as a literal list: without table
        // statistics PostgreSQL would otherwise start from every finance
        // contact of every account. The CROSS JOINs fix SQLite's join order;
        // `+t.organization_id` keeps both engines off the account indexes,
        // which would read all the account's recent tickets.
        let finance_from = match orgs {
            Some(ids) => {
                let users: Vec<i64> = sqlx::query(&format!(
                    "SELECT id FROM users WHERE organization_id IN ({})",
                    id_list(ids)
                ))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
                (!users.is_empty()).then(|| {
                    format!(
                        "users u CROSS JOIN contact_roles c CROSS JOIN tickets t WHERE u.id IN ({}) AND",
                        id_list(&users)
                    )
                })
            }
            None => {
                Some("contact_roles c CROSS JOIN users u CROSS JOIN tickets t WHERE".to_string())
            }
        };
        if let Some(from) = finance_from {
            for (org, n) in counts(
                conn,
                &format!(
                    "SELECT u.organization_id AS org, COUNT(*) AS n FROM {from}
                       c.user_id = u.id AND c.role = 'finance_procurement' AND u.organization_id IS NOT NULL
                       AND t.requester_id = u.id AND +t.organization_id = u.organization_id
                       AND t.deleted = 0 AND t.created_at > $1
                       AND t.group_id IN (SELECT id FROM groups WHERE id = {b} OR parent_id = {b})
                     GROUP BY u.organization_id",
                    b = crate::groups::BILLING_ADMIN
                ),
                since,
            )
            .await?
            {
                if let Some((f, _)) = out.get_mut(&org) {
                    f.billing_tickets_from_finance_30d = n;
                }
            }
        }

        // Business reviews and sponsor calls from the communication log.
        for r in sqlx::query(&format!(
            "SELECT organization_id, kind, topic, attendees, occurred_at FROM communications
             WHERE occurred_at > $1 AND occurred_at <= $2{}",
            only("organization_id")
        ))
        .bind(now - 400 * DAY)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            let Some((f, _)) = out.get_mut(&org) else {
                continue;
            };
            let at: i64 = r.try_get("occurred_at")?;
            let days = (now - at) / DAY;
            let kind: String = r.try_get("kind")?;
            let topic = r.try_get::<String, _>("topic")?.to_lowercase();
            if kind == "meeting" && (topic.contains("review") || topic.contains("qbr")) {
                f.days_since_review = Some(f.days_since_review.map_or(days, |d| d.min(days)));
            }
            let attendees = r.try_get::<String, _>("attendees")?.to_lowercase();
            let with_sponsor = sponsors
                .get(&org)
                .is_some_and(|names| names.iter().any(|n| attendees.contains(&n.to_lowercase())))
                || attendees.contains("sponsor");
            if matches!(kind.as_str(), "call" | "meeting") && with_sponsor {
                f.days_since_sponsor_call =
                    Some(f.days_since_sponsor_call.map_or(days, |d| d.min(days)));
            }
        }

        // Implementation delay: how far the latest project's go-live is
        // (or will be) past its target.
        for r in sqlx::query(&format!(
            "SELECT organization_id, target_go_live, go_live_date, actual_go_live FROM projects
             WHERE status <> 'cancelled'{} ORDER BY id",
            only("organization_id")
        ))
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            let Some((f, _)) = out.get_mut(&org) else {
                continue;
            };
            let target = opt_date(&r, "target_go_live")?;
            let planned = opt_date(&r, "go_live_date")?;
            let actual = opt_date(&r, "actual_go_live")?;
            let effective = match (actual, planned) {
                (Some(a), _) => Some(a),
                (None, Some(p)) => Some(p.max(today)),
                _ => None,
            };
            f.implementation_delay_days = target
                .zip(effective)
                .map(|(t, e)| days_between(t, e).max(0));
        }

        // Expansion opportunities.
        for r in sqlx::query(&format!(
            "SELECT organization_id, SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS open, COUNT(*) AS ever
             FROM expansion_opportunities WHERE 1 = 1{} GROUP BY organization_id",
            only("organization_id")
        ))
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            if let Some((f, _)) = out.get_mut(&org) {
                f.open_opportunities = row_f64(&r, "open")? as i64;
                f.opportunities_ever = r.try_get("ever")?;
            }
        }

        // CSAT over 90 days: the 1–5 rating where given, else good = 5 and
        // bad = 1; "bad" is a rating of 2 or less, or a bad without one.
        for r in sqlx::query(&format!(
            "SELECT organization_id, COUNT(*) AS n,
                    CAST(AVG(COALESCE(rating, CASE WHEN score = 'good' THEN 5 ELSE 1 END)) AS DOUBLE PRECISION) AS avg,
                    SUM(CASE WHEN (rating IS NOT NULL AND rating <= 2) OR (rating IS NULL AND score = 'bad')
                        THEN 1 ELSE 0 END) AS bad
             FROM satisfaction_ratings
             WHERE score <> 'offered' AND updated_at > $1 AND organization_id IS NOT NULL{} GROUP BY organization_id",
            only("organization_id")
        ))
        .bind(now - 90 * DAY)
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            if let Some((f, _)) = out.get_mut(&org) {
                let n: i64 = r.try_get("n")?;
                f.csat_avg_90d = Some(((row_f64(&r, "avg")? * 100.0).round() / 100.0, n));
                f.bad_csat_90d = row_f64(&r, "bad")? as i64;
            }
        }

        // NPS from the account's survey answers: the last 90 days now, and
        // the 90 days that ended a month ago; answers win over measurements.
        let mut now_tally: BTreeMap<i64, steward_domain::nps::Tally> = BTreeMap::new();
        let mut then_tally: BTreeMap<i64, steward_domain::nps::Tally> = BTreeMap::new();
        for r in sqlx::query(&format!(
            "SELECT organization_id, score, answered_at FROM nps_responses
             WHERE answered_at > $1 AND answered_at <= $2{}",
            only("organization_id")
        ))
        .bind(now - 120 * DAY)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            let at: i64 = r.try_get("answered_at")?;
            let score: i64 = r.try_get("score")?;
            let Ok(c) = steward_domain::nps::Category::of(score.clamp(0, 10) as u8) else {
                continue;
            };
            if at > now - 90 * DAY {
                now_tally.entry(org).or_default().add(c);
            }
            if at <= now - 30 * DAY {
                then_tally.entry(org).or_default().add(c);
            }
        }
        for (org, t) in now_tally {
            if let (Some((f, _)), Some(v)) = (out.get_mut(&org), t.nps()) {
                f.nps = Some(f64::from(v));
            }
        }
        for (org, t) in then_tally {
            if let (Some((f, _)), Some(v)) = (out.get_mut(&org), t.nps()) {
                f.nps_month_ago = Some(f64::from(v));
            }
        }

        // Feedback the account gave in the last 90 days.
        for r in sqlx::query(&format!(
            "SELECT organization_id, COUNT(*) AS n FROM feedback_items
             WHERE created_at > $1 AND created_at <= $2 AND organization_id IS NOT NULL
               AND source <> 'nps_survey' AND sentiment <> 'negative' AND text NOT LIKE 'CSAT %'{}
             GROUP BY organization_id",
            only("organization_id")
        ))
        .bind(now - 90 * DAY)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            if let Some((f, _)) = out.get_mut(&org) {
                f.feedback_90d = r.try_get("n")?;
            }
        }

        // CSM flags in force.
        for r in sqlx::query(&format!(
            "SELECT organization_id, factor_key, note FROM risk_flags
             WHERE cleared_at IS NULL AND (expires_at IS NULL OR expires_at > $1){} ORDER BY id",
            only("organization_id")
        ))
        .bind(now)
        .fetch_all(&mut *conn)
        .await?
        {
            let org: i64 = r.try_get("organization_id")?;
            if let Some((_, flags)) = out.get_mut(&org) {
                flags.push(Flag {
                    key: r.try_get("factor_key")?,
                    note: r.try_get("note")?,
                });
            }
        }
        Ok(out)
    }

    /// Recomputes and stores the scores of `orgs` (all when `None`),
    /// starting playbooks and raising alerts on level changes.
    pub async fn recompute_health(&self, orgs: Option<&[i64]>, now: i64) -> Result<Recomputed> {
        let (facts, table) = {
            let mut conn = self.reader().await?;
            let table = self.risk_factors_in(&mut conn).await?;
            (self.health_facts_in(&mut conn, orgs, now).await?, table)
        };
        let scores: Vec<(i64, Score)> = facts
            .iter()
            .map(|(org, (f, flags))| (*org, health::score(health::evaluate(&table, f, flags))))
            .collect();
        let mut done = Recomputed::default();
        for chunk in scores.chunks(2_000) {
            let mut tx = self.begin().await?;
            let ids: Vec<i64> = chunk.iter().map(|(o, _)| *o).collect();
            let mut current: BTreeMap<i64, (i64, String, i64, String)> = BTreeMap::new();
            for r in sqlx::query(&format!(
                "SELECT organization_id, risk, level, level_since, factors FROM health_current
                 WHERE organization_id IN ({})",
                id_list(&ids)
            ))
            .fetch_all(&mut *tx)
            .await?
            {
                current.insert(
                    r.try_get("organization_id")?,
                    (
                        r.try_get("risk")?,
                        r.try_get("level")?,
                        r.try_get("level_since")?,
                        r.try_get("factors")?,
                    ),
                );
            }
            let mut last_history: BTreeMap<i64, i64> = BTreeMap::new();
            for r in sqlx::query(&format!(
                "SELECT organization_id, MAX(computed_at) AS at FROM health_scores WHERE organization_id IN ({})
                 GROUP BY organization_id",
                id_list(&ids)
            ))
            .fetch_all(&mut *tx)
            .await?
            {
                last_history.insert(r.try_get("organization_id")?, r.try_get("at")?);
            }
            for (org, s) in chunk {
                let factors = serde_json::to_string(&s.factors)?;
                let before = current.get(org);
                let old_level = before.map(|b| Level::parse(&b.1)).transpose()?;
                let changed = before.is_none_or(|b| b.0 != i64::from(s.risk) || b.3 != factors);
                let level_since = match (before, old_level) {
                    (Some(b), Some(l)) if l == s.level => b.2,
                    _ => now,
                };
                sqlx::query(
                    "INSERT INTO health_current (organization_id, risk, health, level, raw, factors, computed_at, level_since)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (organization_id) DO UPDATE SET risk = excluded.risk, health = excluded.health,
                        level = excluded.level, raw = excluded.raw, factors = excluded.factors,
                        computed_at = excluded.computed_at, level_since = excluded.level_since",
                )
                .bind(org)
                .bind(i64::from(s.risk))
                .bind(i64::from(s.health))
                .bind(s.level.as_str())
                .bind(i64::from(s.raw))
                .bind(&factors)
                .bind(now)
                .bind(level_since)
                .execute(&mut *tx)
                .await?;
                if changed || last_history.get(org).is_none_or(|at| now - at >= 20 * 3600) {
                    sqlx::query(
                        "INSERT INTO health_scores (organization_id, risk, level, factors, computed_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(org)
                    .bind(i64::from(s.risk))
                    .bind(s.level.as_str())
                    .bind(&factors)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                // An account's first score is its baseline: nothing moved,
                // so no playbook and no alert (a first deployment would
                // otherwise open thousands of tasks at once).
                let Some(from) = old_level else {
                    continue;
                };
                if s.level != from {
                    done.level_changes += 1;
                    if s.level != Level::Green && self.start_playbook(&mut tx, *org, s, now).await?
                    {
                        done.playbooks += 1;
                    }
                    if Level::worsened(from, s.level) {
                        self.raise_health_alert(&mut tx, *org, from, s, now).await?;
                        done.alerts += 1;
                    }
                }
            }
            sqlx::query(&format!(
                "DELETE FROM health_dirty WHERE organization_id IN ({}) AND since <= $1",
                id_list(&ids)
            ))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await?;
            done.accounts += chunk.len();
        }
        Ok(done)
    }

    /// The account's CSM: the owner of its latest project, else the CS
    /// Manager (first active admin).
    async fn account_csm(&self, tx: &mut Tx, org: i64) -> Result<Option<i64>> {
        match self.latest_project_owner(tx, org).await? {
            Some(o) => Ok(Some(o)),
            None => crate::users::cs_manager(tx).await,
        }
    }

    /// The owner of the account's latest project (Steward's record of who
    /// looks after an account), if any.
    pub(crate) async fn latest_project_owner(&self, tx: &mut Tx, org: i64) -> Result<Option<i64>> {
        let owner = sqlx::query(
            "SELECT owner_id FROM projects WHERE organization_id = $1 AND owner_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?;
        owner.map(|r| Ok(r.try_get("owner_id")?)).transpose()
    }

    async fn start_playbook(&self, tx: &mut Tx, org: i64, s: &Score, now: i64) -> Result<bool> {
        let recent = sqlx::query(
            "SELECT id FROM playbook_runs WHERE organization_id = $1 AND level = $2 AND started_at > $3 LIMIT 1",
        )
        .bind(org)
        .bind(s.level.as_str())
        .bind(now - health::PLAYBOOK_QUIET_SECS)
        .fetch_optional(&mut **tx)
        .await?;
        if recent.is_some() {
            return Ok(false);
        }
        let owner = self.account_csm(tx, org).await?;
        let name: String = sqlx::query("SELECT name FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_one(&mut **tx)
            .await?
            .try_get("name")?;
        let why: Vec<String> = s
            .factors
            .iter()
            .filter(|f| f.points > 0)
            .map(|f| format!("{} (+{}): {}", f.label, f.points, f.evidence))
            .collect();
        let mut ids = Vec::new();
        for step in health::playbook(s.level) {
            ids.push(
                self.create_task_tx(
                    tx,
                    NewTask {
                        title: format!("{}: {}", name, step.title),
                        description: format!(
                            "{} playbook (risk {}). Why:\n{}",
                            s.level.as_str().to_uppercase(),
                            s.risk,
                            why.join("\n")
                        ),
                        owner_id: owner,
                        due_at: Some(now + step.due_hours * 3600),
                        priority: match s.level {
                            Level::Red => Priority::Urgent,
                            Level::Orange => Priority::High,
                            _ => Priority::Normal,
                        },
                        ticket_id: None,
                        organization_id: Some(org),
                        created_by: CreatedBy::System,
                    },
                    now,
                )
                .await?,
            );
        }
        sqlx::query("INSERT INTO playbook_runs (organization_id, level, started_at, task_ids) VALUES ($1, $2, $3, $4)")
            .bind(org)
            .bind(s.level.as_str())
            .bind(now)
            .bind(serde_json::to_string(&ids)?)
            .execute(&mut **tx)
            .await?;
        Ok(true)
    }

    async fn raise_health_alert(
        &self,
        tx: &mut Tx,
        org: i64,
        from: Level,
        s: &Score,
        now: i64,
    ) -> Result<()> {
        let name: String = sqlx::query("SELECT name FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_one(&mut **tx)
            .await?
            .try_get("name")?;
        let mut top: Vec<&Applied> = s.factors.iter().filter(|f| f.points > 0).collect();
        top.sort_by_key(|f| std::cmp::Reverse(f.points));
        let drivers: Vec<String> = top
            .iter()
            .take(3)
            .map(|f| format!("{} (+{})", f.label, f.points))
            .collect();
        let text = format!(
            "*{name}* moved from {} to {} (risk {}, health {}). Drivers: {}",
            from.as_str().to_uppercase(),
            s.level.as_str().to_uppercase(),
            s.risk,
            s.health,
            drivers.join("; ")
        );
        let key = format!("health-alert:{org}:{}:{now}", s.level.as_str());
        self.enqueue(tx, "slack", &key, &slack("#escalations", &text), now)
            .await?;
        let manager = crate::users::cs_manager(tx).await?;
        self.create_task_tx(
            tx,
            NewTask {
                title: format!(
                    "Health alert: {name} is {}",
                    s.level.as_str().to_uppercase()
                ),
                description: text,
                owner_id: manager,
                due_at: Some(now + DAY),
                priority: Priority::High,
                ticket_id: None,
                organization_id: Some(org),
                created_by: CreatedBy::System,
            },
            now,
        )
        .await?;
        tracing::info!(
            account.id = org,
            from = from.as_str(),
            to = s.level.as_str(),
            risk = s.risk,
            "health alert"
        );
        Ok(())
    }

    /// Recomputes the accounts marked dirty (at most `limit`).
    pub async fn recompute_dirty_health(&self, now: i64, limit: i64) -> Result<Recomputed> {
        let ids: Vec<i64> = {
            let mut conn = self.reader().await?;
            sqlx::query("SELECT organization_id FROM health_dirty ORDER BY since LIMIT $1")
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| r.try_get("organization_id"))
                .collect::<std::result::Result<_, _>>()?
        };
        if ids.is_empty() {
            return Ok(Recomputed::default());
        }
        self.recompute_health(Some(&ids), now).await
    }

    /// The nightly run: everything, once a day from 02:00 UTC.
    pub async fn nightly_health(&self, now: i64) -> Result<Option<Recomputed>> {
        let today = utc_date(now).to_string();
        if (now.rem_euclid(DAY)) < 2 * 3600 {
            return Ok(None);
        }
        if self.setting(NIGHTLY_SETTING).await? == Some(json!(today)) {
            return Ok(None);
        }
        let done = self.recompute_health(None, now).await?;
        self.put_setting(NIGHTLY_SETTING, &json!(today), now)
            .await?;
        Ok(Some(done))
    }

    // -- reading ------------------------------------------------------

    /// The account's score, computed now if it has none yet.
    pub async fn health_of(&self, actor: &Actor, org: i64, now: i64) -> Result<Current> {
        may_read(actor)?;
        self.org(org).await?;
        if let Some(c) = self.current_health(org).await? {
            return Ok(c);
        }
        self.recompute_health(Some(&[org]), now).await?;
        self.current_health(org)
            .await?
            .ok_or(StoreError::NotFound("health score"))
    }

    async fn current_health(&self, org: i64) -> Result<Option<Current>> {
        let mut conn = self.reader().await?;
        let row = sqlx::query(
            "SELECT organization_id, risk, health, level, raw, factors, computed_at, level_since
             FROM health_current WHERE organization_id = $1",
        )
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| current_from_row(&r)).transpose()
    }

    /// Score history since `from`: (computed_at, risk, level).
    pub async fn health_history(
        &self,
        actor: &Actor,
        org: i64,
        from: i64,
    ) -> Result<Vec<(i64, i64, String)>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT computed_at, risk, level FROM health_scores WHERE organization_id = $1 AND computed_at >= $2
             ORDER BY computed_at",
        )
        .bind(org)
        .bind(from)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("computed_at")?,
                    r.try_get("risk")?,
                    r.try_get("level")?,
                ))
            })
            .collect()
    }

    /// Accounts by level (all when `None`), riskiest first.
    pub async fn health_portfolio(
        &self,
        actor: &Actor,
        level: Option<Level>,
        limit: i64,
    ) -> Result<Vec<(i64, String, Current)>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT h.organization_id, o.name, h.risk, h.health, h.level, h.raw, h.factors, h.computed_at, h.level_since
             FROM health_current h JOIN organizations o ON o.id = h.organization_id
             WHERE ($1 IS NULL OR h.level = $1) ORDER BY h.risk DESC, h.organization_id LIMIT $2",
        )
        .bind(level.map(|l| l.as_str()))
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("organization_id")?,
                    r.try_get("name")?,
                    current_from_row(r)?,
                ))
            })
            .collect()
    }

    // -- flags ----------------------------------------------------------

    pub async fn risk_flags(&self, actor: &Actor, org: i64, now: i64) -> Result<Vec<RiskFlag>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT id, organization_id, factor_key, note, set_by, set_at, expires_at, cleared_at FROM risk_flags
             WHERE organization_id = $1 AND cleared_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY id",
        )
        .bind(org)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RiskFlag {
                    id: r.try_get("id")?,
                    organization_id: r.try_get("organization_id")?,
                    factor_key: r.try_get("factor_key")?,
                    note: r.try_get("note")?,
                    set_by: r.try_get("set_by")?,
                    set_at: r.try_get("set_at")?,
                    expires_at: r.try_get("expires_at")?,
                    cleared_at: r.try_get("cleared_at")?,
                })
            })
            .collect()
    }

    /// Sets a flag (a factor key of the table) with a note; the score is
    /// recomputed in the same call.
    pub async fn set_risk_flag(
        &self,
        actor: &Actor,
        org: i64,
        key: &str,
        note: &str,
        expires_at: Option<i64>,
        now: i64,
    ) -> Result<i64> {
        may_write(actor)?;
        let note = note.trim();
        if note.is_empty() {
            return Err(StoreError::invalid(
                "note",
                "is required: say what you know",
            ));
        }
        if expires_at.is_some_and(|e| e <= now) {
            return Err(StoreError::invalid("expires_at", "must be in the future"));
        }
        let table = self.risk_factors().await?;
        if !table.iter().any(|f| f.key == key && f.band.is_none()) {
            return Err(StoreError::invalid(
                "factor",
                format!("{key} is not a factor that can be flagged"),
            ));
        }
        let mut tx = self.begin().await?;
        self.ensure_org_exists(&mut tx, org).await?;
        let row = sqlx::query(
            "INSERT INTO risk_flags (organization_id, factor_key, note, set_by, set_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(org)
        .bind(key)
        .bind(note)
        .bind(actor.id())
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.commit(tx).await?;
        self.recompute_health(Some(&[org]), now).await?;
        Ok(id)
    }

    pub async fn clear_risk_flag(&self, actor: &Actor, org: i64, id: i64, now: i64) -> Result<()> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE risk_flags SET cleared_at = $1 WHERE id = $2 AND organization_id = $3 AND cleared_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(org)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("risk flag"));
        }
        self.commit(tx).await?;
        self.recompute_health(Some(&[org]), now).await?;
        Ok(())
    }

    // -- interventions ------------------------------------------------

    pub async fn interventions(&self, actor: &Actor, org: i64) -> Result<Vec<Intervention>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE organization_id = $1 ORDER BY id"
        ))
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(intervention_from_row).collect()
    }

    pub async fn create_intervention(
        &self,
        actor: &Actor,
        org: i64,
        input: InterventionInput,
        now: i64,
    ) -> Result<Intervention> {
        may_write(actor)?;
        let issue = input
            .primary_issue
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| StoreError::invalid("primary_issue", "is required"))?
            .to_string();
        let mut tx = self.begin().await?;
        self.ensure_org_exists(&mut tx, org).await?;
        if let Some(Some(o)) = input.owner_id {
            self.ensure_task_owner(&mut tx, o).await?;
        }
        let started = input
            .started_on
            .unwrap_or_else(|| utc_date(now).to_string());
        let row = sqlx::query(
            "INSERT INTO interventions (organization_id, primary_issue, owner_id, started_on, target_date, progress_pct,
                status, notes, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $8) RETURNING id",
        )
        .bind(org)
        .bind(&issue)
        .bind(input.owner_id.flatten())
        .bind(&started)
        .bind(input.target_date.flatten())
        .bind(input.progress_pct.unwrap_or(0).clamp(0, 100))
        .bind(input.notes.unwrap_or_default())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.commit(tx).await?;
        self.intervention(id).await
    }

    async fn intervention(&self, id: i64) -> Result<Intervention> {
        let mut conn = self.reader().await?;
        let row = sqlx::query(&format!(
            "SELECT {INTERVENTION_COLUMNS} FROM interventions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| intervention_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("intervention"))
    }

    pub async fn update_intervention(
        &self,
        actor: &Actor,
        id: i64,
        input: InterventionInput,
        now: i64,
    ) -> Result<Intervention> {
        may_write(actor)?;
        let mut i = self.intervention(id).await?;
        let mut tx = self.begin().await?;
        if let Some(p) = input.primary_issue {
            i.primary_issue = p;
        }
        if let Some(o) = input.owner_id {
            if let Some(o) = o {
                self.ensure_task_owner(&mut tx, o).await?;
            }
            i.owner_id = o;
        }
        if let Some(t) = input.target_date {
            i.target_date = t;
        }
        if let Some(p) = input.progress_pct {
            if !(0..=100).contains(&p) {
                return Err(StoreError::invalid("progress", "must be 0 to 100"));
            }
            i.progress_pct = p;
        }
        if let Some(s) = input.status {
            if !INTERVENTION_STATUSES.contains(&s.as_str()) {
                return Err(StoreError::invalid(
                    "status",
                    "must be active, succeeded or failed",
                ));
            }
            i.status = s;
        }
        if let Some(n) = input.notes {
            i.notes = n;
        }
        sqlx::query(
            "UPDATE interventions SET primary_issue = $1, owner_id = $2, target_date = $3, progress_pct = $4, status = $5,
                notes = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&i.primary_issue)
        .bind(i.owner_id)
        .bind(&i.target_date)
        .bind(i.progress_pct)
        .bind(&i.status)
        .bind(&i.notes)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        self.intervention(id).await
    }
}

fn current_from_row(r: &sqlx::any::AnyRow) -> Result<Current> {
    Ok(Current {
        organization_id: r.try_get("organization_id")?,
        risk: r.try_get::<i64, _>("risk")?.clamp(0, 100) as u8,
        health: r.try_get::<i64, _>("health")?.clamp(0, 100) as u8,
        level: Level::parse(&r.try_get::<String, _>("level")?)?,
        raw: r.try_get::<i64, _>("raw")? as i32,
        factors: serde_json::from_str(&r.try_get::<String, _>("factors")?)?,
        computed_at: r.try_get("computed_at")?,
        level_since: r.try_get("level_since")?,
    })
}

const INTERVENTION_COLUMNS: &str = "id, organization_id, primary_issue, owner_id, started_on, target_date, \
    progress_pct, status, notes, created_at, updated_at";

fn intervention_from_row(r: &sqlx::any::AnyRow) -> Result<Intervention> {
    Ok(Intervention {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        primary_issue: r.try_get("primary_issue")?,
        owner_id: r.try_get("owner_id")?,
        started_on: r.try_get("started_on")?,
        target_date: crate::db::opt_str(r, "target_date")?,
        progress_pct: r.try_get("progress_pct")?,
        status: r.try_get("status")?,
        notes: r.try_get("notes")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// `(org, n)` rows of a grouped count bound to one instant.
async fn counts(conn: &mut sqlx::AnyConnection, sql: &str, since: i64) -> Result<Vec<(i64, i64)>> {
    sqlx::query(sql)
        .bind(since)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("org")?, r.try_get("n")?)))
        .collect()
}
