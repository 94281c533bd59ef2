//! Automation rules (policies.md §7): their storage, and the engine that
//! evaluates them — triggers in the transaction of every ticket change,
//! automations from the scheduler. The rules themselves (conditions,
//! actions, their JSON) are pure data in `steward_domain::automation`.
//!
//! **Once per condition episode.** A rule fires when its conditions become
//! true for a ticket, and not again until they have been false in between:
//! firing inserts a `(ticket, rule)` row in `rule_episodes`, and any
//! evaluation that finds the conditions false deletes it. Both happen in
//! the transaction of the change (or tick) that observed them, together with
//! the rule's effects, so a crash cannot fire a rule twice or lose a firing.
//!
//! **Triggers** run from the hook at the end of `create_ticket_tx` /
//! `update_ticket_tx` ([`Store::run_triggers_tx`]), in position order. A
//! rule's ticket-field actions are applied as one change through
//! `update_ticket_tx` itself — with the CS Manager's (first active
//! admin's) rights, `via: rule` — so SLA clocks, escalation timers, counters
//! and the lifecycle rules follow exactly as for a person's change. The
//! hook ignores changes made `via: rule`: the cascade that made them
//! re-evaluates the ticket itself, pass after pass, until a pass changes
//! nothing (at most [`MAX_PASSES`]). That is what bounds the recursion: a
//! rule change never starts a nested evaluation, and every rule fires at
//! most once per episode. Clients cannot send `via: rule` (the edge drops
//! it). Each firing leaves one ticket audit with `via: rule`, the system
//! author `-1` (as Zendesk records rule changes) and a `Rule` event naming
//! the rule and what it did; notifications go to the outbox and tasks to
//! `tasks` in the same transaction.
//!
//! **Automations** are time-based: each has at least one `hours_...`
//! condition, and those only turn true as time passes. So for a ticket
//! that does not change, the instant an automation will start to match is
//! known ([`Conditions::true_from`]): `ticket_rule_checks.next_check` keeps
//! the earliest such instant over the active automations not already in an
//! episode, recomputed on every change of the ticket and after every check.
//! [`Store::run_automations`] claims only rows whose instant has come,
//! through a partial index, with `SKIP LOCKED` and a lease on PostgreSQL —
//! so a tick costs what is due, not what is open — and evaluates each
//! ticket in its own transaction (automations first; triggers too when an
//! automation changed the ticket). The same table keeps when the ticket
//! entered its status, for `hours_in_status`.
//!
//! Creating an automation, changing its conditions or re-activating it
//! must schedule tickets that already exist: the rule gets a *sweep*, a
//! cursor over ticket ids that the ticks advance a bounded batch at a time,
//! marking the tickets that can match (pre-filtered on the rule's `status`
//! and `group_id` conditions) due for a check. Changing a rule's conditions
//! or deactivating it ends its episodes: the edited rule starts afresh.
//!
//! **Seeds.** Migration 0005 inserts §7's three rules once, as data
//! (admins may edit, deactivate or delete them; they do not come back).
//! Readings of §7 made there:
//! * *Critical system issue* (trigger: unsolved, urgent and Technical
//!   Support, its subgroups included): "an available agent" is the active agent with the
//!   fewest unsolved Technical Support tickets (ties: lowest id), and only
//!   an unassigned ticket gets one; "apply the 30 min first-response
//!   target" sets the ticket's `due_at` to creation + 30 minutes (unless
//!   already earlier, or the first response was given) — the contractual
//!   clock stays the SLA policy's (30 minutes for Enterprise P0, §4): a rule
//!   does not rewrite contracts, it sets the working deadline everyone sees.
//! * *Implementation blocker* (automation: Implementation, open, 72 hours
//!   in that status): priority one step up, a Slack alert addressed to the
//!   CS Manager in `#<account>-implementation` (§19's channel for
//!   blockers), a task for the CS Manager due in 24 hours and a follow-up
//!   task for the assignee (the CS Manager when unassigned) due in 48.
//! * *Billing escalation* (trigger: unsolved, Billing & Admin, high or
//!   urgent):
//!   assigned to the CS Manager, a task for finance (no due date) and a
//!   follow-up task for the assignee due in 24 hours.
//!
//! "The CS Manager" is the first active admin; "finance" is the `Finance`
//! entry of the `escalation_contacts` setting, else the CS Manager.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Role, Status, Via,
    automation::{
        self, Action, Assignee, Cmp, Condition, Conditions, Facts, Person, RuleKind, TaskOwner,
    },
    escalation::Trigger,
    sla::{Clock, Metric},
};

use crate::{
    Dialect, Store,
    access::Actor,
    db::{Tx, flag},
    error::{Result, StoreError},
    escalation::slack,
    groups::TECHNICAL_SUPPORT,
    sql::Args,
    tasks::{CreatedBy, NewTask},
    tickets::{TICKET_COLUMNS, Ticket, TicketInput, ticket_from_row},
};

/// Most passes of one cascade (see the module docs).
pub const MAX_PASSES: usize = 8;
/// How long a claimed check stays with its scheduler before another may
/// retry it (a crashed process's claims expire).
const CHECK_LEASE_SECS: i64 = 120;
/// Zendesk's author id for changes the system made.
pub const SYSTEM_AUTHOR: i64 = -1;

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: i64,
    pub kind: RuleKind,
    pub title: String,
    pub description: String,
    pub active: bool,
    pub position: i64,
    pub conditions: Conditions,
    pub actions: Vec<Action>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A rule to create, or the fields of one to change (`None` = unchanged).
/// Conditions and actions arrive parsed: the edge checked their shape.
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub position: Option<i64>,
    pub conditions: Option<Conditions>,
    pub actions: Option<Vec<Action>>,
}

/// What one [`Store::run_automations`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AutomationRun {
    /// Tickets whose check was due and done.
    pub checked: usize,
    /// Rules that fired.
    pub fired: usize,
    /// Tickets a sweep marked for a check.
    pub swept: usize,
}

const RULE_COLUMNS: &str =
    "id, kind, title, description, active, position, conditions, actions, created_at, updated_at";

fn rule_from_row(r: &AnyRow) -> Result<Rule> {
    let kind = RuleKind::parse(&r.try_get::<String, _>("kind")?)?;
    let id: i64 = r.try_get("id")?;
    let corrupt = |what: &str, p: automation::Problems| {
        StoreError::Corrupt(format!("rule {id}: {what}: {p:?}"))
    };
    let conditions: Value = serde_json::from_str(&r.try_get::<String, _>("conditions")?)?;
    let actions: Value = serde_json::from_str(&r.try_get::<String, _>("actions")?)?;
    Ok(Rule {
        id,
        kind,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        active: flag(r, "active")?,
        position: r.try_get("position")?,
        conditions: automation::parse_conditions(kind, &conditions)
            .map_err(|p| corrupt("conditions", p))?,
        actions: automation::parse_actions(&actions).map_err(|p| corrupt("actions", p))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Whether a cascade runs for a ticket change or for a scheduler check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Change,
    Tick,
}

/// What evaluating a ticket left behind.
struct Outcome {
    fired: usize,
    next_check: Option<i64>,
}

/// Which facts beyond the ticket row the active rules look at.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    root_group: bool,
    tier: bool,
    requester_role: bool,
}

impl Needs {
    fn of(rules: &[Rule]) -> Needs {
        let mut n = Needs::default();
        for c in rules.iter().flat_map(|r| r.conditions.iter()) {
            match c {
                Condition::Group { .. } => n.root_group = true,
                Condition::Tier { .. } => n.tier = true,
                Condition::RequesterRole { .. } => n.requester_role = true,
                _ => {}
            }
        }
        n
    }
}

impl Store {
    // ----- rules as data ---------------------------------------------------

    pub async fn rules(&self, kind: RuleKind) -> Result<Vec<Rule>> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE kind = $1 ORDER BY position, id");
        let rows = sqlx::query(&sql)
            .bind(kind.as_str())
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(rule_from_row).collect()
    }

    pub async fn rule(&self, kind: RuleKind, id: i64) -> Result<Rule> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {RULE_COLUMNS} FROM rules WHERE id = $1 AND kind = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(kind.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| rule_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("rule"))
    }

    pub async fn create_rule(&self, kind: RuleKind, input: RuleInput, now: i64) -> Result<Rule> {
        let title = checked_title(input.title.as_deref())?;
        let conditions = input
            .conditions
            .ok_or_else(|| StoreError::invalid("conditions", "is required"))?;
        let actions = input
            .actions
            .ok_or_else(|| StoreError::invalid("actions", "is required"))?;
        let mut tx = self.begin().await?;
        self.check_references_tx(&mut tx, &conditions, &actions)
            .await?;
        let position = match input.position {
            Some(p) => p,
            None => {
                sqlx::query("SELECT CAST(COALESCE(MAX(position), 0) + 1 AS BIGINT) AS p FROM rules WHERE kind = $1")
                    .bind(kind.as_str())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("p")?
            }
        };
        let active = input.active.unwrap_or(true);
        let sweep = (kind == RuleKind::Automation && active).then_some(0i64);
        let id: i64 = sqlx::query(
            "INSERT INTO rules (kind, title, description, active, position, conditions, actions, sweep_after, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(&title)
        .bind(input.description.unwrap_or_default())
        .bind(i64::from(active))
        .bind(position)
        .bind(conditions.to_json().to_string())
        .bind(automation::actions_to_json(&actions).to_string())
        .bind(sweep)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.commit(tx).await?;
        self.rule(kind, id).await
    }

    pub async fn update_rule(
        &self,
        kind: RuleKind,
        id: i64,
        input: RuleInput,
        now: i64,
    ) -> Result<Rule> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {RULE_COLUMNS} FROM rules WHERE id = $1 AND kind = $2{}",
            self.for_update()
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(kind.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("rule"))?;
        let old = rule_from_row(&row)?;
        let mut r = old.clone();
        if input.title.is_some() {
            r.title = checked_title(input.title.as_deref())?;
        }
        if let Some(d) = input.description {
            r.description = d;
        }
        if let Some(a) = input.active {
            r.active = a;
        }
        if let Some(p) = input.position {
            r.position = p;
        }
        if let Some(c) = input.conditions {
            r.conditions = c;
        }
        if let Some(a) = input.actions {
            r.actions = a;
        }
        self.check_references_tx(&mut tx, &r.conditions, &r.actions)
            .await?;
        let new_conditions = r.conditions != old.conditions;
        // An edited rule starts afresh; a deactivated one stops tracking.
        if new_conditions || !r.active {
            sqlx::query("DELETE FROM rule_episodes WHERE rule_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let sweep = kind == RuleKind::Automation && r.active && (new_conditions || !old.active);
        sqlx::query(
            "UPDATE rules SET title = $1, description = $2, active = $3, position = $4, conditions = $5, actions = $6,
                sweep_after = CASE WHEN $7 = 1 THEN 0 ELSE sweep_after END, updated_at = $8 WHERE id = $9",
        )
        .bind(&r.title)
        .bind(&r.description)
        .bind(i64::from(r.active))
        .bind(r.position)
        .bind(r.conditions.to_json().to_string())
        .bind(automation::actions_to_json(&r.actions).to_string())
        .bind(i64::from(sweep))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        self.rule(kind, id).await
    }

    pub async fn delete_rule(&self, kind: RuleKind, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM rules WHERE id = $1 AND kind = $2")
            .bind(id)
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("rule"));
        }
        sqlx::query("DELETE FROM rule_episodes WHERE rule_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    /// What the edge cannot check: the groups and users a rule names exist.
    async fn check_references_tx(
        &self,
        tx: &mut Tx,
        conditions: &Conditions,
        actions: &[Action],
    ) -> Result<()> {
        for (i, c) in conditions
            .all
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("all[{i}]"), c))
            .chain(
                conditions
                    .any
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("any[{i}]"), c)),
            )
        {
            if let Condition::Group { group: Some(g), .. } = c
                && self.group_tx(tx, *g).await?.is_none()
            {
                return Err(StoreError::invalid(
                    format!("conditions.{i}.value"),
                    format!("group {g} does not exist"),
                ));
            }
        }
        for (i, a) in actions.iter().enumerate() {
            let path = format!("actions[{i}].value");
            match a {
                Action::Group(Some(g)) if self.group_tx(tx, *g).await?.is_none() => {
                    return Err(StoreError::invalid(
                        path,
                        format!("group {g} does not exist"),
                    ));
                }
                Action::Assignee(Assignee::Person(Person::User(u)))
                | Action::AddFollower(Person::User(u)) => {
                    let ok = self
                        .user_tx(tx, *u)
                        .await
                        .is_ok_and(|x| x.active && x.role.is_staff() && x.role.can_write());
                    if !ok {
                        return Err(StoreError::invalid(
                            path,
                            format!("user {u} is not an active agent"),
                        ));
                    }
                }
                Action::CreateTask(t) => {
                    if let TaskOwner::Person(Person::User(u)) = t.owner {
                        let ok = self
                            .user_tx(tx, u)
                            .await
                            .is_ok_and(|x| x.active && x.role.is_staff() && x.role.can_write());
                        if !ok {
                            return Err(StoreError::invalid(
                                format!("{path}.owner"),
                                format!("user {u} is not an active agent"),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The active rules in position order. A rule that cannot be read
    /// (edited by hand in the database) is logged and left out: it must not
    /// stop every ticket change.
    async fn active_rules_tx(&self, tx: &mut Tx) -> Result<Vec<Rule>> {
        let sql =
            format!("SELECT {RULE_COLUMNS} FROM rules WHERE active = 1 ORDER BY position, id");
        let rows = sqlx::query(&sql).fetch_all(&mut **tx).await?;
        let mut rules = Vec::with_capacity(rows.len());
        for row in &rows {
            match rule_from_row(row) {
                Ok(r) => rules.push(r),
                Err(e) => tracing::error!(error = %e, "skipping a rule that cannot be read"),
            }
        }
        Ok(rules)
    }

    // ----- the engine -----------------------------------------------------

    /// Runs the triggers for a ticket change, in its transaction, and
    /// reschedules the ticket's automation check; `t` is left as the rules
    /// left it. `old` is `None` for a new ticket.
    pub(crate) async fn run_triggers_tx(
        &self,
        tx: &mut Tx,
        old: Option<&Ticket>,
        t: &mut Ticket,
        via: Via,
        now: i64,
    ) -> Result<()> {
        // The cascade that made a rule change evaluates its result itself.
        if via == Via::Rule {
            return Ok(());
        }
        let check = self.status_since_tx(tx, t.id).await?;
        let mut since = match (check, old) {
            (Some((status, since)), _) if status == t.status => since,
            // First sight of a ticket older than the rules: its last change
            // is the best estimate of when it entered its status.
            (None, Some(o)) if o.status == t.status => o.updated_at,
            (None, None) => t.created_at,
            _ => now,
        };
        let rules = self.active_rules_tx(tx).await?;
        let next = if rules.is_empty() {
            None
        } else {
            self.cascade_tx(tx, t, &mut since, &rules, Phase::Change, now)
                .await?
                .next_check
        };
        self.save_check_tx(tx, t, since, next).await
    }

    /// One scheduler tick for automations: advances the sweeps by up to
    /// `limit` tickets, then checks up to `limit` tickets whose next check
    /// has come, each in its own transaction.
    pub async fn run_automations(&self, now: i64, limit: i64) -> Result<AutomationRun> {
        let mut run = AutomationRun {
            swept: self.sweep_tx(now, limit).await?,
            ..Default::default()
        };
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT ticket_id FROM ticket_rule_checks WHERE next_check IS NOT NULL AND next_check <= $1
             ORDER BY next_check LIMIT $2{}",
            self.skip_locked_clause()
        );
        let ids = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("ticket_id"))
            .collect::<Result<Vec<i64>, _>>()?;
        if ids.is_empty() {
            return Ok(run);
        }
        // Claimed with a lease, so that each check runs in a transaction of
        // its own that locks the ticket before the check row, in the order
        // ticket changes take them.
        let mut args = Args::default();
        let sql = format!(
            "UPDATE ticket_rule_checks SET next_check = {} WHERE ticket_id IN ({})",
            args.int(now + CHECK_LEASE_SECS),
            args.ints(&ids)
        );
        args.bind(sqlx::query(&sql)).execute(&mut *tx).await?;
        self.commit(tx).await?;
        for id in ids {
            let mut tx = self.begin().await?;
            match self.check_ticket_tx(&mut tx, id, now).await {
                Ok(fired) => {
                    self.commit(tx).await?;
                    run.checked += 1;
                    run.fired += fired;
                }
                // The lease brings it back later; the others go on.
                Err(e) => tracing::error!(ticket.id = id, error = %e, "automation check failed"),
            }
        }
        Ok(run)
    }

    fn skip_locked_clause(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        }
    }

    async fn check_ticket_tx(&self, tx: &mut Tx, id: i64, now: i64) -> Result<usize> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1 AND t.deleted = 0{}",
            self.for_update()
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        let Some(row) = row else {
            sqlx::query("UPDATE ticket_rule_checks SET next_check = NULL WHERE ticket_id = $1")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            return Ok(0);
        };
        let mut t = ticket_from_row(&row)?;
        t.follower_ids = self.ticket_tx(tx, id).await?.follower_ids;
        let mut since = match self.status_since_tx(tx, id).await? {
            Some((status, since)) if status == t.status => since,
            _ => t.updated_at,
        };
        // Closed tickets are read-only and out of the automations' reach.
        let out = if t.status == Status::Closed {
            Outcome {
                fired: 0,
                next_check: None,
            }
        } else {
            let rules = self.active_rules_tx(tx).await?;
            self.cascade_tx(tx, &mut t, &mut since, &rules, Phase::Tick, now)
                .await?
        };
        self.save_check_tx(tx, &t, since, out.next_check).await?;
        Ok(out.fired)
    }

    /// Advances the automations' sweeps by up to `limit` tickets in all:
    /// the tickets after each cursor that the rule's `status` and
    /// `group_id` conditions admit are marked due for a check now.
    async fn sweep_tx(&self, now: i64, limit: i64) -> Result<usize> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT {RULE_COLUMNS}, sweep_after FROM rules WHERE sweep_after IS NOT NULL ORDER BY id{}",
            self.skip_locked_clause()
        );
        let sweeping = sqlx::query(&sql).fetch_all(&mut *tx).await?;
        let mut swept = 0;
        for row in &sweeping {
            let budget = limit - swept as i64;
            if budget <= 0 {
                break;
            }
            let id: i64 = row.try_get("id")?;
            let after: i64 = row.try_get("sweep_after")?;
            let batch = match rule_from_row(row) {
                Ok(rule) => {
                    self.sweep_batch_tx(&mut tx, &rule, after, budget, now)
                        .await?
                }
                Err(e) => {
                    tracing::error!(rule.id = id, error = %e, "not sweeping a rule that cannot be read");
                    Vec::new()
                }
            };
            let cursor = match batch.last() {
                Some(last) if batch.len() as i64 >= budget => Some(*last),
                _ => None,
            };
            sqlx::query("UPDATE rules SET sweep_after = $1 WHERE id = $2")
                .bind(cursor)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            swept += batch.len();
        }
        if sweeping.is_empty() {
            // Idle ticks write nothing, so they cost no fsync.
            tx.rollback().await?;
        } else {
            self.commit(tx).await?;
        }
        Ok(swept)
    }

    /// Marks up to `limit` tickets after `after` that `rule` may match due
    /// now; returns their ids.
    async fn sweep_batch_tx(
        &self,
        tx: &mut Tx,
        rule: &Rule,
        after: i64,
        limit: i64,
        now: i64,
    ) -> Result<Vec<i64>> {
        let mut args = Args::default();
        let mut conds = vec![
            format!("t.id > {}", args.int(after)),
            "t.deleted = 0".to_string(),
            "t.status <> 'closed'".to_string(),
        ];
        for c in &rule.conditions.all {
            match c {
                Condition::Status(Cmp::Is, s) => {
                    conds.push(format!("t.status = {}", args.text(s.as_str())))
                }
                Condition::Group {
                    is: true,
                    group: Some(g),
                } => {
                    let p = args.int(*g);
                    conds.push(format!(
                        "t.group_id IN (SELECT id FROM groups WHERE id = {p} OR parent_id = {p})"
                    ));
                }
                _ => {}
            }
        }
        let sql = format!(
            "SELECT t.id, t.status, t.updated_at FROM tickets t WHERE {} ORDER BY t.id LIMIT {}",
            conds.join(" AND "),
            args.int(limit)
        );
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut **tx).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut ids = Vec::with_capacity(rows.len());
        let mut args = Args::default();
        let mut values = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            ids.push(id);
            // A ticket seen for the first time entered its status no later
            // than its last change.
            values.push(format!(
                "({}, {}, {}, {})",
                args.int(id),
                args.text(r.try_get::<String, _>("status")?),
                args.int(r.try_get("updated_at")?),
                args.int(now)
            ));
        }
        let sql = format!(
            "INSERT INTO ticket_rule_checks (ticket_id, status, status_since, next_check) VALUES {}
             ON CONFLICT (ticket_id) DO UPDATE SET next_check = excluded.next_check",
            values.join(", ")
        );
        args.bind(sqlx::query(&sql)).execute(&mut **tx).await?;
        Ok(ids)
    }

    async fn status_since_tx(&self, tx: &mut Tx, ticket_id: i64) -> Result<Option<(Status, i64)>> {
        let row =
            sqlx::query("SELECT status, status_since FROM ticket_rule_checks WHERE ticket_id = $1")
                .bind(ticket_id)
                .fetch_optional(&mut **tx)
                .await?;
        row.map(|r| {
            Ok((
                Status::parse(&r.try_get::<String, _>("status")?)?,
                r.try_get("status_since")?,
            ))
        })
        .transpose()
    }

    async fn save_check_tx(
        &self,
        tx: &mut Tx,
        t: &Ticket,
        since: i64,
        next: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_rule_checks (ticket_id, status, status_since, next_check) VALUES ($1, $2, $3, $4)
             ON CONFLICT (ticket_id) DO UPDATE SET status = excluded.status, status_since = excluded.status_since,
                next_check = excluded.next_check",
        )
        .bind(t.id)
        .bind(t.status.as_str())
        .bind(since)
        .bind(next)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn facts_tx(&self, tx: &mut Tx, t: &Ticket, since: i64, needs: Needs) -> Result<Facts> {
        let root_group = match t.group_id {
            Some(g) if needs.root_group => {
                Some(self.group_tx(tx, g).await?.map_or(g, |g| g.root()))
            }
            g => g,
        };
        let tier = match t.organization_id {
            Some(o) if needs.tier => Some(self.org_tx(tx, o).await?.tier()),
            _ => None,
        };
        let requester_role = if needs.requester_role {
            self.user_tx(tx, t.requester_id).await?.role
        } else {
            Role::EndUser
        };
        Ok(Facts {
            status: t.status,
            priority: t.priority,
            group_id: t.group_id,
            root_group,
            ticket_type: t.ticket_type,
            tags: t.tags.clone(),
            tier,
            assignee_id: t.assignee_id,
            requester_role,
            created_at: t.created_at,
            updated_at: t.updated_at,
            status_since: since,
        })
    }

    /// Evaluates `rules` against the ticket pass after pass until a pass
    /// changes nothing: fires the rules whose conditions started to hold
    /// (triggers on a change; automations on a tick, and triggers after an
    /// automation changed the ticket) and ends the episodes of those that
    /// stopped holding. Returns how many fired and the ticket's next check.
    async fn cascade_tx(
        &self,
        tx: &mut Tx,
        t: &mut Ticket,
        since: &mut i64,
        rules: &[Rule],
        phase: Phase,
        now: i64,
    ) -> Result<Outcome> {
        let mut episodes: BTreeSet<i64> =
            sqlx::query("SELECT rule_id FROM rule_episodes WHERE ticket_id = $1")
                .bind(t.id)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("rule_id"))
                .collect::<Result<_, _>>()?;
        let needs = Needs::of(rules);
        let mut facts = self.facts_tx(tx, t, *since, needs).await?;
        let mut changed = false;
        let mut fired = 0;
        let mut settled = false;
        for _ in 0..MAX_PASSES {
            let mut again = false;
            for rule in rules {
                let holds = rule.conditions.holds(&facts, now);
                let open = episodes.contains(&rule.id);
                if !holds && open {
                    sqlx::query("DELETE FROM rule_episodes WHERE ticket_id = $1 AND rule_id = $2")
                        .bind(t.id)
                        .bind(rule.id)
                        .execute(&mut **tx)
                        .await?;
                    episodes.remove(&rule.id);
                }
                let may_fire = match rule.kind {
                    RuleKind::Trigger => phase == Phase::Change || changed,
                    RuleKind::Automation => phase == Phase::Tick,
                };
                if !(holds && !open && may_fire) {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO rule_episodes (ticket_id, rule_id, started_at) VALUES ($1, $2, $3)
                     ON CONFLICT (ticket_id, rule_id) DO NOTHING",
                )
                .bind(t.id)
                .bind(rule.id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                episodes.insert(rule.id);
                fired += 1;
                let before = t.status;
                if self.fire_tx(tx, rule, t, now).await? {
                    changed = true;
                    again = true;
                    if t.status != before {
                        *since = now;
                    }
                    facts = self.facts_tx(tx, t, *since, needs).await?;
                }
            }
            if !again {
                settled = true;
                break;
            }
        }
        if !settled {
            tracing::warn!(
                ticket.id = t.id,
                "automation rules kept changing the ticket; stopped after {MAX_PASSES} passes"
            );
        }
        let next_check = if t.status == Status::Closed {
            None
        } else {
            rules
                .iter()
                .filter(|r| r.kind == RuleKind::Automation && !episodes.contains(&r.id))
                .filter_map(|r| r.conditions.true_from(&facts))
                .min()
                .map(|at| at.max(now))
        };
        Ok(Outcome { fired, next_check })
    }

    /// Carries out one rule's actions on a ticket; returns whether the
    /// ticket's fields changed (and then `t` holds the new state).
    async fn fire_tx(&self, tx: &mut Tx, rule: &Rule, t: &mut Ticket, now: i64) -> Result<bool> {
        tracing::info!(rule.id = rule.id, rule.title = %rule.title, ticket.id = t.id, "rule fired");
        let mut did: Vec<Value> = Vec::new();
        let mut changed = false;
        let mut audit: Option<(i64, Vec<Value>)> = None;
        let field_actions: Vec<&Action> =
            rule.actions.iter().filter(|a| a.changes_ticket()).collect();
        if !field_actions.is_empty() {
            match self.rule_change_tx(tx, t, &field_actions).await? {
                None => {}
                Some(_) if t.status == Status::Closed => {
                    did.push(json!("ticket changes skipped: the ticket is closed"));
                }
                Some(input) => match self.rules_actor_tx(tx).await? {
                    None => did.push(json!("ticket changes skipped: no active admin to act as")),
                    // Boxed: update_ticket_tx calls back into run_triggers_tx
                    // (which returns at once for `via: rule`).
                    Some(actor) => {
                        match Box::pin(self.update_ticket_tx(tx, &actor, t.id, input, now)).await {
                            Ok((nt, a)) => {
                                if let Some(a) = a {
                                    changed = true;
                                    audit = Some((a.id, a.events));
                                    *t = nt;
                                }
                            }
                            // Refused before anything was written (a deactivated
                            // assignee, a forbidden transition): the rule's other
                            // effects still happen, the refusal is recorded.
                            Err(
                                e @ (StoreError::Invalid { .. }
                                | StoreError::Forbidden(_)
                                | StoreError::NotFound(_)
                                | StoreError::Conflict(_)),
                            ) => {
                                tracing::warn!(rule.id = rule.id, ticket.id = t.id, error = %e, "rule's ticket changes refused");
                                did.push(json!(format!("ticket changes refused: {e}")));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                },
            }
        }
        // The audit first, so its id can key the rule's outbox messages.
        let (audit_id, mut events) = match audit {
            Some(a) => a,
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO ticket_audits (ticket_id, author_id, via, events, created_at) VALUES ($1, $2, $3, '[]', $4) RETURNING id",
                )
                .bind(t.id)
                .bind(SYSTEM_AUTHOR)
                .bind(Via::Rule.as_str())
                .bind(now)
                .fetch_one(&mut **tx)
                .await?
                .try_get("id")?;
                (id, Vec::new())
            }
        };
        let vars = self.template_vars_tx(tx, t, rule).await?;
        let fill = |tpl: &str| automation::render(tpl, |k| vars.get(k));
        for (i, a) in rule.actions.iter().enumerate() {
            match a {
                Action::Notify { channel, text } => {
                    let channel = fill(channel);
                    let key = format!("rule:{}:audit:{audit_id}:{i}", rule.id);
                    self.enqueue(tx, "slack", &key, &slack(&channel, &fill(text)), now)
                        .await?;
                    did.push(json!(format!("notified {channel}")));
                }
                Action::CreateTask(tpl) => {
                    let owner = match &tpl.owner {
                        TaskOwner::Assignee => match t.assignee_id {
                            Some(a) => Some(a),
                            None => self.person_tx(tx, &Person::Contact("CS Manager")).await?,
                        },
                        TaskOwner::Person(p) => self.person_tx(tx, p).await?,
                    };
                    let owner = match owner {
                        Some(o) if self.can_own_tasks_tx(tx, o).await? => Some(o),
                        _ => None,
                    };
                    let id = self
                        .create_task_tx(
                            tx,
                            NewTask {
                                title: fill(&tpl.title),
                                description: fill(&tpl.description),
                                owner_id: owner,
                                due_at: tpl.due_in_hours.map(|h| now + h * 3600),
                                priority: tpl.priority.unwrap_or(t.priority),
                                ticket_id: Some(t.id),
                                organization_id: t.organization_id,
                                created_by: CreatedBy::Rule(rule.id),
                            },
                            now,
                        )
                        .await?;
                    did.push(json!(format!("created task {id}")));
                }
                Action::Escalate => {
                    let level = self.escalate_tx(tx, t.id, Trigger::Rule, now).await?;
                    did.push(json!(match level {
                        Some(l) => format!("escalated to level {l}"),
                        None => "escalation asked; the ticket's level did not rise".to_string(),
                    }));
                }
                _ => {}
            }
        }
        events.push(json!({
            "type": "Rule",
            "rule_id": rule.id,
            "title": rule.title,
            "kind": rule.kind.as_str(),
            "actions": did,
        }));
        // update_ticket_tx wrote the change as the acting admin; the audit
        // is the rule's, recorded as Zendesk records rule changes.
        sqlx::query("UPDATE ticket_audits SET author_id = $1, events = $2 WHERE id = $3")
            .bind(SYSTEM_AUTHOR)
            .bind(serde_json::to_string(&events)?)
            .bind(audit_id)
            .execute(&mut **tx)
            .await?;
        Ok(changed)
    }

    /// The ticket change a rule's field actions ask for, or `None` when
    /// they ask for nothing new.
    async fn rule_change_tx(
        &self,
        tx: &mut Tx,
        t: &Ticket,
        actions: &[&Action],
    ) -> Result<Option<TicketInput>> {
        let mut input = TicketInput {
            via: Some(Via::Rule),
            ..Default::default()
        };
        let mut any = false;
        for a in actions {
            match a {
                Action::Status(s) if *s != t.status => {
                    input.status = Some(*s);
                    any = true;
                }
                Action::Priority(p) if *p != t.priority => {
                    input.priority = Some(*p);
                    any = true;
                }
                Action::RaisePriority if automation::raise(t.priority) != t.priority => {
                    input.priority = Some(automation::raise(t.priority));
                    any = true;
                }
                Action::Group(g) if *g != t.group_id => {
                    input.group_id = Some(*g);
                    any = true;
                }
                Action::Assignee(who) => {
                    let target = match who {
                        Assignee::Nobody => Some(None),
                        Assignee::Person(p) => self.person_tx(tx, p).await?.map(Some),
                        Assignee::AvailableAgent if t.assignee_id.is_none() => {
                            self.available_agent_tx(tx).await?.map(Some)
                        }
                        Assignee::AvailableAgent => None,
                    };
                    if let Some(a) = target.filter(|a| *a != t.assignee_id) {
                        input.assignee_id = Some(a);
                        any = true;
                    }
                }
                Action::AddTags(tags) if tags.iter().any(|x| !t.tags.contains(x)) => {
                    input.additional_tags.extend(tags.iter().cloned());
                    any = true;
                }
                Action::AddFollower(p) => {
                    if let Some(u) = self.person_tx(tx, p).await?
                        && !t.follower_ids.contains(&u)
                    {
                        input.followers_add.push(u);
                        any = true;
                    }
                }
                Action::FirstResponseTarget { minutes } => {
                    let due = t.created_at + minutes * 60;
                    if t.due_at.is_none_or(|d| d > due)
                        && !self.first_reply_given_tx(tx, t.id).await?
                    {
                        input.due_at = Some(Some(due));
                        any = true;
                    }
                }
                _ => {}
            }
        }
        Ok(any.then_some(input))
    }

    /// Rules act with the rights of the CS Manager (the first active admin)
    /// so that the group permissions of §8 never stop them.
    async fn rules_actor_tx(&self, tx: &mut Tx) -> Result<Option<Actor>> {
        let Some(id) = crate::users::cs_manager(tx).await? else {
            return Ok(None);
        };
        let user = self.user_tx(tx, id).await?;
        Ok(Some(Actor {
            user,
            org_shares_tickets: false,
        }))
    }

    /// A person an action names: the user, or the first user a contact
    /// title reaches (falling back to the CS Manager).
    async fn person_tx(&self, tx: &mut Tx, p: &Person) -> Result<Option<i64>> {
        match p {
            Person::User(u) => Ok(Some(*u)),
            Person::Contact(title) => {
                if let Some(u) = self.contact_users_tx(tx, title).await?.first() {
                    return Ok(Some(*u));
                }
                Ok(self
                    .contact_users_tx(tx, "CS Manager")
                    .await?
                    .first()
                    .copied())
            }
        }
    }

    async fn can_own_tasks_tx(&self, tx: &mut Tx, user: i64) -> Result<bool> {
        Ok(sqlx::query(
            "SELECT 1 AS x FROM users WHERE id = $1 AND active = 1 AND role NOT IN ('end-user', 'viewer')",
        )
        .bind(user)
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
    }

    /// §7.1's "available agent": the active agent with the fewest unsolved
    /// Technical Support tickets (subgroups included), lowest id on ties.
    async fn available_agent_tx(&self, tx: &mut Tx) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT u.id, (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = u.id AND t.deleted = 0
                    AND t.status IN ('new', 'open', 'pending', 'hold')
                    AND t.group_id IN (SELECT g.id FROM groups g WHERE g.id = $1 OR g.parent_id = $1)) AS load
             FROM users u WHERE u.role = 'agent' AND u.active = 1 AND u.suspended = 0
             ORDER BY load, u.id LIMIT 1",
        )
        .bind(TECHNICAL_SUPPORT)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(|r| r.try_get::<i64, _>("id")).transpose()?)
    }

    async fn first_reply_given_tx(&self, tx: &mut Tx, ticket_id: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT clock FROM ticket_metrics WHERE ticket_id = $1 AND metric = $2 ORDER BY instance LIMIT 1",
        )
        .bind(ticket_id)
        .bind(Metric::FirstReplyTime.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            Some(r) => {
                let clock: Clock = serde_json::from_str(&r.try_get::<String, _>("clock")?)?;
                Ok(clock.fulfilled_at.is_some())
            }
            None => Ok(false),
        }
    }

    async fn template_vars_tx(&self, tx: &mut Tx, t: &Ticket, rule: &Rule) -> Result<Vars> {
        let group = match t.group_id {
            Some(g) => self.group_tx(tx, g).await?.map(|g| g.name),
            None => None,
        };
        let org = match t.organization_id {
            Some(o) => Some(self.org_tx(tx, o).await?),
            None => None,
        };
        let assignee = match t.assignee_id {
            Some(a) => Some(self.user_tx(tx, a).await?.name),
            None => None,
        };
        Ok(Vars(vec![
            ("ticket.id", t.id.to_string()),
            ("ticket.subject", t.subject.clone()),
            ("ticket.priority", t.priority.code().to_string()),
            ("ticket.status", t.status.as_str().to_string()),
            ("ticket.group", group.unwrap_or_else(|| "no group".into())),
            (
                "ticket.assignee",
                assignee.unwrap_or_else(|| "nobody".into()),
            ),
            (
                "account.name",
                org.as_ref()
                    .map_or_else(|| "no account".into(), |o| o.name.clone()),
            ),
            (
                "account.slug",
                org.as_ref()
                    .map_or_else(|| "no-account".into(), |o| automation::slug(&o.name)),
            ),
            (
                "account.tier",
                org.as_ref()
                    .map_or_else(|| "no tier".into(), |o| o.tier().label().to_string()),
            ),
            ("rule.title", rule.title.clone()),
        ]))
    }
}

/// Placeholder values for one firing.
struct Vars(Vec<(&'static str, String)>);

impl Vars {
    fn get(&self, k: &str) -> String {
        self.0
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn checked_title(t: Option<&str>) -> Result<String> {
    match t.map(str::trim) {
        Some(t) if !t.is_empty() => Ok(t.to_string()),
        _ => Err(StoreError::invalid("title", "cannot be blank")),
    }
}

#[cfg(test)]
mod tests {
    use steward_domain::automation::{RuleKind, parse_actions, parse_conditions};

    /// The seeded rules of migration 0005 parse, and are already in the
    /// canonical form the store writes.
    #[test]
    fn seeded_rules_are_valid() {
        let sql = include_str!("../migrations/0005_automation.sql");
        let docs: Vec<serde_json::Value> = sql
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("'{\"all\"") || l.starts_with("'[{\"field\""))
            .map(|l| {
                let body = l.trim_end_matches(',').trim_matches('\'');
                serde_json::from_str(body).unwrap()
            })
            .collect();
        assert_eq!(docs.len(), 6);
        let kinds = [RuleKind::Trigger, RuleKind::Automation, RuleKind::Trigger];
        for (pair, kind) in docs.chunks(2).zip(kinds) {
            let c = parse_conditions(kind, &pair[0]).unwrap();
            assert_eq!(c.to_json(), pair[0]);
            let a = parse_actions(&pair[1]).unwrap();
            assert_eq!(steward_domain::automation::actions_to_json(&a), pair[1]);
        }
    }
}
