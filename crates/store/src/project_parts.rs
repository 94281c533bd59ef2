//! The registries around an implementation project (policies.md §13):
//! risks, decisions, hours, the go-live readiness checklist, handoffs,
//! expansion opportunities, and the computed overview (day X of N,
//! planned vs actual, timeline health, readiness, success criteria).
//!
//! Decisions are checked against §13's thresholds: recording a decision at
//! a level lower than its impact requires is rejected with the level it
//! needs and why ([`steward_domain::project::required_level`]).
//!
//! Readiness items are computed where Steward has the data — a baseline
//! metric (`measurements`), a milestone or a task of the plan — and ticked
//! by a person otherwise; a person may also tick a computed item that has
//! no data yet, with a note (the evidence then says so).

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    project::{
        self, DecisionImpact, DecisionLevel, Health, Likelihood, MilestoneStatus, Rag,
        ReadinessRule, RiskKind, RiskStatus, Side, TimelineFacts, day_number, risk_rag, risk_score,
        working_days,
    },
    task::TaskStatus,
};

use crate::{
    Store,
    access::Actor,
    error::{Result, StoreError},
    hub::{may_read, may_write},
    projects::{Milestone, Project, ProjectTask, date_col, local_date},
};

#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    pub id: i64,
    pub project_id: i64,
    pub kind: RiskKind,
    pub title: String,
    pub description: String,
    pub probability: Likelihood,
    pub impact: Likelihood,
    pub status: RiskStatus,
    pub mitigation: String,
    pub owner_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

impl Risk {
    pub fn score(&self) -> u8 {
        risk_score(self.probability, self.impact)
    }

    pub fn rag(&self) -> Rag {
        risk_rag(self.score())
    }
}

#[derive(Debug, Clone, Default)]
pub struct RiskInput {
    pub kind: Option<RiskKind>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub probability: Option<Likelihood>,
    pub impact: Option<Likelihood>,
    pub status: Option<RiskStatus>,
    pub mitigation: Option<String>,
    pub owner_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub id: i64,
    pub project_id: i64,
    pub level: DecisionLevel,
    pub title: String,
    pub decision: String,
    pub rationale: String,
    pub decided_by: String,
    pub decided_on: Date,
    pub impact: DecisionImpact,
    pub author_id: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct DecisionInput {
    pub level: Option<DecisionLevel>,
    pub title: Option<String>,
    pub decision: Option<String>,
    pub rationale: Option<String>,
    pub decided_by: Option<String>,
    pub decided_on: Option<String>,
    pub impact: DecisionImpact,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HoursEntry {
    pub id: i64,
    pub phase: i64,
    pub side: Side,
    pub role: String,
    pub user_id: Option<i64>,
    pub hours: f64,
    pub logged_on: Date,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct HoursInput {
    pub phase: Option<i64>,
    pub role: Option<String>,
    pub user_id: Option<i64>,
    pub hours: Option<f64>,
    pub logged_on: Option<String>,
    pub note: Option<String>,
}

/// Budget and actual hours of one phase and role.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HoursLine {
    pub phase: i64,
    pub side: Side,
    pub role: String,
    pub budget: f64,
    pub actual: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckItem {
    pub key: String,
    pub item: String,
    pub green: bool,
    /// `metric`, `milestone`, `task` or `manual`.
    pub source: &'static str,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Handoff {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub day: i64,
    pub due_date: Date,
    pub checklist: Vec<Value>,
    pub overlap: Value,
    pub signed_off_by: Option<i64>,
    pub signed_off_at: Option<i64>,
    pub note: String,
}

/// What a handoff update does: tick items (by index, done or not), set
/// the note, sign off.
#[derive(Debug, Clone, Default)]
pub struct HandoffChange {
    pub done: Vec<(usize, bool)>,
    pub note: Option<String>,
    pub sign_off: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub id: i64,
    pub organization_id: i64,
    pub project_id: Option<i64>,
    pub title: String,
    pub arr_cents: i64,
    pub effort: Likelihood,
    pub probability_pct: i64,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct OpportunityInput {
    pub title: Option<String>,
    pub arr_cents: Option<i64>,
    pub effort: Option<Likelihood>,
    pub probability_pct: Option<i64>,
    pub status: Option<String>,
}

pub const OPPORTUNITY_STATUSES: [&str; 3] = ["open", "won", "lost"];

/// A success criterion of §13 with where it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Criterion {
    pub key: String,
    pub text: String,
    /// `met`, `missed` or `pending`.
    pub status: &'static str,
    pub evidence: String,
}

/// What the project page and the report lead with.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub today: Date,
    pub day: u32,
    pub total_days: u32,
    pub phase: u32,
    pub phase_name: String,
    pub planned_pct: f64,
    pub completion_pct: f64,
    pub tasks_total: usize,
    pub tasks_completed: usize,
    pub milestones_total: usize,
    pub milestones_completed: usize,
    pub milestones_overdue: usize,
    pub critical_at_risk: usize,
    pub go_live_moved: bool,
    pub health: Health,
    pub ready: bool,
    pub readiness: Vec<CheckItem>,
    pub success_criteria: Vec<Criterion>,
}

fn risk_from_row(r: &AnyRow) -> Result<Risk> {
    Ok(Risk {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        kind: RiskKind::parse(&r.try_get::<String, _>("kind")?)?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        probability: Likelihood::parse(&r.try_get::<String, _>("probability")?)?,
        impact: Likelihood::parse(&r.try_get::<String, _>("impact")?)?,
        status: RiskStatus::parse(&r.try_get::<String, _>("status")?)?,
        mitigation: r.try_get("mitigation")?,
        owner_id: r.try_get("owner_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        resolved_at: r.try_get("resolved_at")?,
    })
}

fn decision_from_row(r: &AnyRow) -> Result<Decision> {
    Ok(Decision {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        level: DecisionLevel::parse(&r.try_get::<String, _>("level")?)?,
        title: r.try_get("title")?,
        decision: r.try_get("decision")?,
        rationale: r.try_get("rationale")?,
        decided_by: r.try_get("decided_by")?,
        decided_on: date_col(r, "decided_on")?,
        impact: DecisionImpact {
            timeline_days: r.try_get("timeline_impact_days")?,
            scope_pct: r.try_get("scope_change_pct")?,
            budget_overrun_pct: r.try_get("budget_overrun_pct")?,
        },
        author_id: r.try_get("author_id")?,
        created_at: r.try_get("created_at")?,
    })
}

fn handoff_from_row(r: &AnyRow) -> Result<Handoff> {
    Ok(Handoff {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        name: r.try_get("name")?,
        day: r.try_get("day")?,
        due_date: date_col(r, "due_date")?,
        checklist: serde_json::from_str(&r.try_get::<String, _>("checklist")?)?,
        overlap: serde_json::from_str(&r.try_get::<String, _>("overlap")?)?,
        signed_off_by: r.try_get("signed_off_by")?,
        signed_off_at: r.try_get("signed_off_at")?,
        note: r.try_get("note")?,
    })
}

fn opportunity_from_row(r: &AnyRow) -> Result<Opportunity> {
    Ok(Opportunity {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        project_id: r.try_get("project_id")?,
        title: r.try_get("title")?,
        arr_cents: r.try_get("arr_cents")?,
        effort: Likelihood::parse(&r.try_get::<String, _>("effort")?)?,
        probability_pct: r.try_get("probability_pct")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
    })
}

fn required_text(field: &str, v: Option<String>) -> Result<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| StoreError::invalid(field, "is required"))
}

const RISK_COLUMNS: &str = "id, project_id, kind, title, description, probability, impact, status, mitigation, \
    owner_id, created_at, updated_at, resolved_at";
const DECISION_COLUMNS: &str = "id, project_id, level, title, decision, rationale, decided_by, decided_on, \
    timeline_impact_days, scope_change_pct, budget_overrun_pct, author_id, created_at";
const HANDOFF_COLUMNS: &str =
    "id, key, name, day, due_date, checklist, overlap, signed_off_by, signed_off_at, note";
const OPPORTUNITY_COLUMNS: &str = "id, organization_id, project_id, title, arr_cents, effort, probability_pct, \
    status, created_at";

impl Store {
    // -- risks --------------------------------------------------------

    pub async fn risks(&self, actor: &Actor, project: i64) -> Result<Vec<Risk>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, project).await?;
        self.risks_in(&mut conn, project).await
    }

    pub(crate) async fn risks_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        project: i64,
    ) -> Result<Vec<Risk>> {
        let rows = sqlx::query(&format!(
            "SELECT {RISK_COLUMNS} FROM project_risks WHERE project_id = $1 ORDER BY id"
        ))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(risk_from_row).collect()
    }

    pub async fn create_risk(
        &self,
        actor: &Actor,
        project: i64,
        input: RiskInput,
        now: i64,
    ) -> Result<Risk> {
        may_write(actor)?;
        let title = required_text("title", input.title)?;
        let kind = input
            .kind
            .ok_or_else(|| StoreError::invalid("type", "is required"))?;
        let probability = input
            .probability
            .ok_or_else(|| StoreError::invalid("probability", "is required"))?;
        let impact = input
            .impact
            .ok_or_else(|| StoreError::invalid("impact", "is required"))?;
        let status = input.status.unwrap_or(RiskStatus::Identified);
        let mut tx = self.begin().await?;
        self.project_in(&mut tx, project).await?;
        if let Some(Some(o)) = input.owner_id {
            self.ensure_task_owner(&mut tx, o).await?;
        }
        let row = sqlx::query(
            "INSERT INTO project_risks (project_id, kind, title, description, probability, impact, status, mitigation,
                owner_id, created_at, updated_at, resolved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id",
        )
        .bind(project)
        .bind(kind.as_str())
        .bind(&title)
        .bind(input.description.unwrap_or_default())
        .bind(probability.as_str())
        .bind(impact.as_str())
        .bind(status.as_str())
        .bind(input.mitigation.unwrap_or_default())
        .bind(input.owner_id.flatten())
        .bind(now)
        .bind((status == RiskStatus::Resolved).then_some(now))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.commit(tx).await?;
        self.risk(project, id).await
    }

    async fn risk(&self, project: i64, id: i64) -> Result<Risk> {
        let mut conn = self.reader().await?;
        let row = sqlx::query(&format!(
            "SELECT {RISK_COLUMNS} FROM project_risks WHERE id = $1 AND project_id = $2"
        ))
        .bind(id)
        .bind(project)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| risk_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("risk"))
    }

    pub async fn update_risk(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
        input: RiskInput,
        now: i64,
    ) -> Result<Risk> {
        may_write(actor)?;
        let mut r = self.risk(project, id).await?;
        let mut tx = self.begin().await?;
        if let Some(t) = input.title {
            r.title = required_text("title", Some(t))?;
        }
        if let Some(k) = input.kind {
            r.kind = k;
        }
        if let Some(d) = input.description {
            r.description = d;
        }
        if let Some(p) = input.probability {
            r.probability = p;
        }
        if let Some(i) = input.impact {
            r.impact = i;
        }
        if let Some(m) = input.mitigation {
            r.mitigation = m;
        }
        if let Some(o) = input.owner_id {
            if let Some(o) = o {
                self.ensure_task_owner(&mut tx, o).await?;
            }
            r.owner_id = o;
        }
        if let Some(s) = input.status
            && s != r.status
        {
            r.resolved_at = (s == RiskStatus::Resolved).then_some(now);
            r.status = s;
        }
        sqlx::query(
            "UPDATE project_risks SET kind = $1, title = $2, description = $3, probability = $4, impact = $5,
                status = $6, mitigation = $7, owner_id = $8, updated_at = $9, resolved_at = $10 WHERE id = $11",
        )
        .bind(r.kind.as_str())
        .bind(&r.title)
        .bind(&r.description)
        .bind(r.probability.as_str())
        .bind(r.impact.as_str())
        .bind(r.status.as_str())
        .bind(&r.mitigation)
        .bind(r.owner_id)
        .bind(now)
        .bind(r.resolved_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        self.risk(project, id).await
    }

    // -- decisions ----------------------------------------------------

    pub async fn decisions(&self, actor: &Actor, project: i64) -> Result<Vec<Decision>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, project).await?;
        self.decisions_in(&mut conn, project).await
    }

    pub(crate) async fn decisions_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        project: i64,
    ) -> Result<Vec<Decision>> {
        let rows = sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM project_decisions WHERE project_id = $1 ORDER BY decided_on, id"
        ))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(decision_from_row).collect()
    }

    /// Records a decision. The level defaults to the one its impact
    /// requires; a lower level is rejected.
    pub async fn create_decision(
        &self,
        actor: &Actor,
        project: i64,
        input: DecisionInput,
        now: i64,
    ) -> Result<Decision> {
        may_write(actor)?;
        let title = required_text("title", input.title)?;
        let decision = required_text("decision", input.decision)?;
        let rationale = required_text("rationale", input.rationale)?;
        let decided_by = required_text("decided_by", input.decided_by)?;
        let i = input.impact;
        if i.timeline_days < 0 || i.timeline_days > 3650 {
            return Err(StoreError::invalid(
                "timeline_impact_days",
                "must be 0 to 3650",
            ));
        }
        for (v, f) in [
            (i.scope_pct, "scope_change_pct"),
            (i.budget_overrun_pct, "budget_overrun_pct"),
        ] {
            if !(v.is_finite() && (0.0..=1000.0).contains(&v)) {
                return Err(StoreError::invalid(
                    f,
                    "must be a percentage from 0 to 1000",
                ));
            }
        }
        let (needed, why) = project::required_level(i);
        let level = input.level.unwrap_or(needed);
        if level < needed {
            return Err(StoreError::invalid(
                "level",
                format!(
                    "this decision needs level {needed} ({}) because {why}",
                    needed.deciders()
                ),
            ));
        }
        let mut tx = self.begin().await?;
        let p = self.project_in(&mut tx, project).await?;
        let decided_on = match input.decided_on.as_deref() {
            Some(s) => steward_domain::time::parse_date(s)
                .map_err(|e| StoreError::invalid("decided_on", e.0))?,
            None => {
                let cal = self.project_calendar(&mut tx, &p.calendar).await?;
                local_date(now, cal.time_zone())
            }
        };
        let row = sqlx::query(
            "INSERT INTO project_decisions (project_id, level, title, decision, rationale, decided_by, decided_on,
                timeline_impact_days, scope_change_pct, budget_overrun_pct, author_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(project)
        .bind(level.as_str())
        .bind(&title)
        .bind(&decision)
        .bind(&rationale)
        .bind(&decided_by)
        .bind(decided_on.to_string())
        .bind(i.timeline_days)
        .bind(i.scope_pct)
        .bind(i.budget_overrun_pct)
        .bind(actor.id())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let row = sqlx::query(&format!(
            "SELECT {DECISION_COLUMNS} FROM project_decisions WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let d = decision_from_row(&row)?;
        self.commit(tx).await?;
        Ok(d)
    }

    // -- hours --------------------------------------------------------

    /// Logs hours against a phase and role.
    pub async fn log_hours(
        &self,
        actor: &Actor,
        project: i64,
        input: HoursInput,
        now: i64,
    ) -> Result<HoursEntry> {
        may_write(actor)?;
        let role = required_text("role", input.role)?;
        let hours = input
            .hours
            .ok_or_else(|| StoreError::invalid("hours", "is required"))?;
        if !(hours.is_finite() && hours > 0.0 && hours <= 24.0 * 7.0) {
            return Err(StoreError::invalid(
                "hours",
                "must be more than 0 and at most 168",
            ));
        }
        let mut tx = self.begin().await?;
        let p = self.project_in(&mut tx, project).await?;
        let side = p
            .template
            .resources
            .iter()
            .find(|r| r.role == role)
            .map(|r| r.side)
            .ok_or_else(|| {
                let roles: Vec<&str> = p
                    .template
                    .resources
                    .iter()
                    .map(|r| r.role.as_str())
                    .collect();
                StoreError::invalid(
                    "role",
                    format!("{role} is not a role of the plan ({})", roles.join(", ")),
                )
            })?;
        let cal = self.project_calendar(&mut tx, &p.calendar).await?;
        let logged_on = match input.logged_on.as_deref() {
            Some(s) => steward_domain::time::parse_date(s)
                .map_err(|e| StoreError::invalid("logged_on", e.0))?,
            None => local_date(now, cal.time_zone()),
        };
        let phase = match input.phase {
            Some(ph) if ph >= 1 && ph <= p.template.phases.len() as i64 => ph,
            Some(_) => {
                return Err(StoreError::invalid(
                    "phase",
                    format!("must be between 1 and {}", p.template.phases.len()),
                ));
            }
            None => {
                let days = working_days(&cal, p.start_date, p.template.days as usize);
                i64::from(
                    p.template
                        .phase_of(day_number(&days, logged_on).max(1) as u32),
                )
            }
        };
        if let Some(u) = input.user_id {
            self.user_tx(&mut tx, u)
                .await
                .map_err(|_| StoreError::invalid("user_id", format!("user {u} does not exist")))?;
        }
        let row = sqlx::query(
            "INSERT INTO project_hours (project_id, phase, side, role, user_id, hours, logged_on, note, author_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(project)
        .bind(phase)
        .bind(side.as_str())
        .bind(&role)
        .bind(input.user_id)
        .bind(hours)
        .bind(logged_on.to_string())
        .bind(input.note.clone().unwrap_or_default())
        .bind(actor.id())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.commit(tx).await?;
        Ok(HoursEntry {
            id,
            phase,
            side,
            role,
            user_id: input.user_id,
            hours,
            logged_on,
            note: input.note.unwrap_or_default(),
        })
    }

    /// Budget vs actual per phase and role, and the entries.
    pub async fn hours(
        &self,
        actor: &Actor,
        project: i64,
    ) -> Result<(Vec<HoursLine>, Vec<HoursEntry>)> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, project).await?;
        self.hours_in(&mut conn, project, None).await
    }

    /// As [`Store::hours`], counting entries logged on or before `until`.
    pub(crate) async fn hours_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        project: i64,
        until: Option<Date>,
    ) -> Result<(Vec<HoursLine>, Vec<HoursEntry>)> {
        let budget = sqlx::query(
            "SELECT phase, side, role, hours FROM project_budgets WHERE project_id = $1 ORDER BY phase, side DESC, role",
        )
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        let until = until
            .map(|d| d.to_string())
            .unwrap_or_else(|| "9999-12-31".into());
        let rows = sqlx::query(
            "SELECT id, phase, side, role, user_id, hours, logged_on, note FROM project_hours
             WHERE project_id = $1 AND logged_on <= $2 ORDER BY logged_on, id",
        )
        .bind(project)
        .bind(&until)
        .fetch_all(&mut *conn)
        .await?;
        let entries = rows
            .iter()
            .map(|r| {
                Ok(HoursEntry {
                    id: r.try_get("id")?,
                    phase: r.try_get("phase")?,
                    side: Side::parse(&r.try_get::<String, _>("side")?)?,
                    role: r.try_get("role")?,
                    user_id: r.try_get("user_id")?,
                    hours: r.try_get("hours")?,
                    logged_on: date_col(r, "logged_on")?,
                    note: r.try_get("note")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut lines: BTreeMap<(i64, String, String), HoursLine> = BTreeMap::new();
        for r in &budget {
            let phase: i64 = r.try_get("phase")?;
            let side = Side::parse(&r.try_get::<String, _>("side")?)?;
            let role: String = r.try_get("role")?;
            lines.insert(
                (phase, side.as_str().to_string(), role.clone()),
                HoursLine {
                    phase,
                    side,
                    role,
                    budget: r.try_get("hours")?,
                    actual: 0.0,
                },
            );
        }
        for e in &entries {
            lines
                .entry((e.phase, e.side.as_str().to_string(), e.role.clone()))
                .or_insert_with(|| HoursLine {
                    phase: e.phase,
                    side: e.side,
                    role: e.role.clone(),
                    budget: 0.0,
                    actual: 0.0,
                })
                .actual += e.hours;
        }
        Ok((lines.into_values().collect(), entries))
    }

    // -- readiness checklist ------------------------------------------

    /// Ticks (or unticks) a readiness item by hand, with a note.
    pub async fn check_readiness_item(
        &self,
        actor: &Actor,
        project: i64,
        key: &str,
        green: bool,
        note: &str,
        now: i64,
    ) -> Result<()> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let p = self.project_in(&mut tx, project).await?;
        if !p.template.checklist.iter().any(|c| c.key == key) {
            return Err(StoreError::NotFound("checklist item"));
        }
        sqlx::query(
            "INSERT INTO project_checks (project_id, key, green, note, checked_by, checked_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (project_id, key) DO UPDATE SET green = excluded.green, note = excluded.note,
                checked_by = excluded.checked_by, checked_at = excluded.checked_at",
        )
        .bind(project)
        .bind(key)
        .bind(i64::from(green))
        .bind(note)
        .bind(actor.id())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    async fn readiness_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Project,
        milestones: &[Milestone],
        tasks: &[ProjectTask],
        now: i64,
    ) -> Result<Vec<CheckItem>> {
        let checks =
            sqlx::query("SELECT key, green, note FROM project_checks WHERE project_id = $1")
                .bind(p.id)
                .fetch_all(&mut *conn)
                .await?;
        let mut manual: BTreeMap<String, (bool, String)> = BTreeMap::new();
        for c in checks {
            manual.insert(
                c.try_get("key")?,
                (c.try_get::<i64, _>("green")? != 0, c.try_get("note")?),
            );
        }
        let mut out = Vec::new();
        for c in &p.template.checklist {
            let ticked = manual.get(&c.key);
            let (source, green, evidence) = match &c.rule {
                ReadinessRule::Metric {
                    metric,
                    field,
                    at_least,
                    window_days,
                } => {
                    let value = self
                        .metric_value_in(conn, p.organization_id, metric, field, *window_days, now)
                        .await?;
                    match (value, ticked) {
                        (Some((v, n)), _) => {
                            let how = match window_days {
                                Some(d) => {
                                    format!("mean of {n} measurements over the last {d} days")
                                }
                                None => "latest measurement".into(),
                            };
                            (
                                "metric",
                                v + 1e-9 >= *at_least,
                                format!("{metric}.{field} = {v:.2} ({how}); needs ≥ {at_least}"),
                            )
                        }
                        (None, Some((g, note))) => (
                            "manual",
                            *g,
                            format!("no measurements; ticked by hand: {note}"),
                        ),
                        (None, None) => (
                            "metric",
                            false,
                            format!("no {metric}.{field} measurements yet"),
                        ),
                    }
                }
                ReadinessRule::Milestone { milestone } => {
                    let m = milestones
                        .iter()
                        .find(|m| m.key.as_deref() == Some(milestone));
                    match m {
                        Some(m) if m.status == MilestoneStatus::Completed => (
                            "milestone",
                            true,
                            format!(
                                "milestone \"{}\" completed {}",
                                m.name,
                                m.actual_date.map(|d| d.to_string()).unwrap_or_default()
                            ),
                        ),
                        Some(m) => (
                            "milestone",
                            false,
                            format!("milestone \"{}\" is {}", m.name, m.status),
                        ),
                        None => (
                            "milestone",
                            false,
                            format!("milestone {milestone} is not in the plan"),
                        ),
                    }
                }
                ReadinessRule::Task { task } => {
                    let t = tasks.iter().find(|t| t.plan_key.as_deref() == Some(task));
                    match (t, ticked) {
                        (Some(t), _) if t.task.status == TaskStatus::Completed => {
                            ("task", true, format!("task \"{}\" completed", t.task.title))
                        }
                        (_, Some((true, note))) => {
                            ("manual", true, format!("ticked by hand: {note}"))
                        }
                        (Some(t), _) => (
                            "task",
                            false,
                            format!("task \"{}\" is {}", t.task.title, t.task.status),
                        ),
                        (None, _) => ("task", false, format!("task {task} is not in the plan")),
                    }
                }
                ReadinessRule::Manual { .. } => match ticked {
                    Some((g, note)) => ("manual", *g, note.clone()),
                    None => ("manual", false, "not signed off yet".into()),
                },
            };
            out.push(CheckItem {
                key: c.key.clone(),
                item: c.item.clone(),
                green,
                source,
                evidence,
            });
        }
        Ok(out)
    }

    /// The mean of a baseline metric over the last `window_days` (or the
    /// latest value) with the number of measurements used.
    pub(crate) async fn metric_value_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
        metric: &str,
        field: &str,
        window_days: Option<u32>,
        now: i64,
    ) -> Result<Option<(f64, i64)>> {
        match window_days {
            Some(d) => {
                let row = sqlx::query(
                    "SELECT AVG(value) AS v, COUNT(*) AS n FROM measurements
                     WHERE organization_id = $1 AND metric = $2 AND field = $3 AND measured_at > $4 AND measured_at <= $5",
                )
                .bind(org)
                .bind(metric)
                .bind(field)
                .bind(now - i64::from(d) * 86_400)
                .bind(now)
                .fetch_one(&mut *conn)
                .await?;
                let n: i64 = row.try_get("n")?;
                if n == 0 {
                    return Ok(None);
                }
                Ok(Some((row.try_get::<f64, _>("v")?, n)))
            }
            None => {
                let row = sqlx::query(
                    "SELECT value FROM measurements WHERE organization_id = $1 AND metric = $2 AND field = $3
                        AND measured_at <= $4 ORDER BY measured_at DESC, id DESC LIMIT 1",
                )
                .bind(org)
                .bind(metric)
                .bind(field)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
                Ok(row
                    .map(|r| r.try_get::<f64, _>("value"))
                    .transpose()?
                    .map(|v| (v, 1)))
            }
        }
    }

    // -- handoffs -----------------------------------------------------

    pub async fn handoffs(&self, actor: &Actor, project: i64) -> Result<Vec<Handoff>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, project).await?;
        let rows = sqlx::query(&format!(
            "SELECT {HANDOFF_COLUMNS} FROM project_handoffs WHERE project_id = $1 ORDER BY day, id"
        ))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(handoff_from_row).collect()
    }

    /// Ticks checklist items of a handoff (by index) and optionally signs
    /// it off; sign-off needs every item done and is final.
    pub async fn update_handoff(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
        change: HandoffChange,
        now: i64,
    ) -> Result<Handoff> {
        let HandoffChange {
            done,
            note,
            sign_off,
        } = change;
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let row = sqlx::query(&format!(
            "SELECT {HANDOFF_COLUMNS} FROM project_handoffs WHERE id = $1 AND project_id = $2"
        ))
        .bind(id)
        .bind(project)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("handoff"))?;
        let mut h = handoff_from_row(&row)?;
        if h.signed_off_at.is_some() && (!done.is_empty() || sign_off) {
            return Err(StoreError::Conflict(
                "this handoff is already signed off".into(),
            ));
        }
        let len = h.checklist.len();
        for (i, d) in &done {
            let item = h.checklist.get_mut(*i).ok_or_else(|| {
                StoreError::invalid(
                    "checklist",
                    format!("item {i} does not exist (the list has {len})"),
                )
            })?;
            item["done"] = json!(d);
            item["done_by"] = if *d { json!(actor.id()) } else { Value::Null };
        }
        if let Some(n) = note {
            h.note = n;
        }
        if sign_off {
            let open: Vec<String> = h
                .checklist
                .iter()
                .filter(|c| c["done"] != json!(true))
                .map(|c| c["item"].as_str().unwrap_or_default().to_string())
                .collect();
            if !open.is_empty() {
                return Err(StoreError::invalid(
                    "sign_off",
                    format!(
                        "every checklist item must be done first; open: {}",
                        open.join("; ")
                    ),
                ));
            }
            h.signed_off_by = Some(actor.id());
            h.signed_off_at = Some(now);
        }
        sqlx::query(
            "UPDATE project_handoffs SET checklist = $1, note = $2, signed_off_by = $3, signed_off_at = $4 WHERE id = $5",
        )
        .bind(serde_json::to_string(&h.checklist)?)
        .bind(&h.note)
        .bind(h.signed_off_by)
        .bind(h.signed_off_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(h)
    }

    // -- expansion opportunities ----------------------------------------

    pub async fn opportunities(&self, actor: &Actor, project: i64) -> Result<Vec<Opportunity>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let p = self.project_in(&mut conn, project).await?;
        self.opportunities_in(&mut conn, p.organization_id).await
    }

    /// The account's opportunities (of any project), newest first.
    pub(crate) async fn opportunities_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
    ) -> Result<Vec<Opportunity>> {
        let rows = sqlx::query(&format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM expansion_opportunities WHERE organization_id = $1 ORDER BY id"
        ))
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(opportunity_from_row).collect()
    }

    pub async fn create_opportunity(
        &self,
        actor: &Actor,
        project: i64,
        input: OpportunityInput,
        now: i64,
    ) -> Result<Opportunity> {
        may_write(actor)?;
        let title = required_text("title", input.title)?;
        let arr = input
            .arr_cents
            .ok_or_else(|| StoreError::invalid("arr", "is required"))?;
        if arr < 0 {
            return Err(StoreError::invalid("arr", "cannot be negative"));
        }
        let probability = input.probability_pct.unwrap_or(50);
        if !(0..=100).contains(&probability) {
            return Err(StoreError::invalid("probability", "must be 0 to 100"));
        }
        let status = input.status.unwrap_or_else(|| "open".into());
        if !OPPORTUNITY_STATUSES.contains(&status.as_str()) {
            return Err(StoreError::invalid("status", "must be open, won or lost"));
        }
        let mut tx = self.begin().await?;
        let p = self.project_in(&mut tx, project).await?;
        let row = sqlx::query(
            "INSERT INTO expansion_opportunities (organization_id, project_id, title, arr_cents, effort, probability_pct,
                status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(p.organization_id)
        .bind(project)
        .bind(&title)
        .bind(arr)
        .bind(input.effort.unwrap_or(Likelihood::Medium).as_str())
        .bind(probability)
        .bind(&status)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let row = sqlx::query(&format!(
            "SELECT {OPPORTUNITY_COLUMNS} FROM expansion_opportunities WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        let o = opportunity_from_row(&row)?;
        self.mark_health_dirty(&mut tx, p.organization_id, now)
            .await?;
        self.commit(tx).await?;
        Ok(o)
    }

    // -- overview -----------------------------------------------------

    /// The overviews of projects already loaded (a list page), on one
    /// connection.
    pub async fn project_overviews(
        &self,
        actor: &Actor,
        projects: &[Project],
        now: i64,
    ) -> Result<Vec<Overview>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let mut out = Vec::with_capacity(projects.len());
        for p in projects {
            let milestones = self.milestones_in(&mut conn, p.id).await?;
            let tasks = self.project_tasks_in(&mut conn, p).await?;
            out.push(
                self.overview_in(&mut conn, p, &milestones, &tasks, now)
                    .await?,
            );
        }
        Ok(out)
    }

    pub async fn project_overview(
        &self,
        actor: &Actor,
        project: i64,
        now: i64,
    ) -> Result<(Project, Overview)> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let p = self.project_in(&mut conn, project).await?;
        let milestones = self.milestones_in(&mut conn, project).await?;
        let tasks = self.project_tasks_in(&mut conn, &p).await?;
        let o = self
            .overview_in(&mut conn, &p, &milestones, &tasks, now)
            .await?;
        Ok((p, o))
    }

    pub(crate) async fn overview_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Project,
        milestones: &[Milestone],
        tasks: &[ProjectTask],
        now: i64,
    ) -> Result<Overview> {
        let cal = self.project_calendar(conn, &p.calendar).await?;
        let today = local_date(now, cal.time_zone());
        let days = working_days(&cal, p.start_date, p.template.days as usize);
        let day = day_number(&days, today) as u32;
        let tasks_completed = tasks
            .iter()
            .filter(|t| t.task.status == TaskStatus::Completed)
            .count();
        let milestones_completed = milestones
            .iter()
            .filter(|m| m.status == MilestoneStatus::Completed)
            .count();
        let completion_pct = if tasks.is_empty() {
            project::pct(milestones_completed, milestones.len())
        } else {
            project::pct(tasks_completed, tasks.len())
        };
        let overdue = milestones.iter().filter(|m| m.overdue(today)).count();
        let critical = milestones
            .iter()
            .filter(|m| m.critical_at_risk(today))
            .count();
        let moved = p.go_live_date > p.target_go_live;
        let facts = TimelineFacts {
            day,
            total_days: p.template.days,
            completion_pct,
            overdue_milestones: overdue,
            critical_at_risk: critical,
            go_live_moved: moved,
        };
        let phase = p.template.phase_of(day.max(1));
        let readiness = self.readiness_in(conn, p, milestones, tasks, now).await?;
        let success_criteria = self.success_in(conn, p, &cal, now).await?;
        Ok(Overview {
            today,
            day,
            total_days: p.template.days,
            phase,
            phase_name: p.template.phase_name(phase).to_string(),
            planned_pct: (project::planned_pct(day, p.template.days) * 10.0).round() / 10.0,
            completion_pct,
            tasks_total: tasks.len(),
            tasks_completed,
            milestones_total: milestones.len(),
            milestones_completed,
            milestones_overdue: overdue,
            critical_at_risk: critical,
            go_live_moved: moved,
            health: project::timeline_health(&facts),
            ready: !readiness.is_empty() && readiness.iter().all(|c| c.green),
            readiness,
            success_criteria,
        })
    }

    async fn success_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Project,
        cal: &steward_domain::Calendar,
        now: i64,
    ) -> Result<Vec<Criterion>> {
        let tz = cal.time_zone();
        let live_at = p.actual_go_live.and_then(|d| {
            d.to_zoned_datetime(tz.clone())
                .ok()
                .map(|z| z.timestamp().as_second())
        });
        let mut out = Vec::new();
        for c in &p.template.success_criteria {
            let (status, evidence) = match c.key.as_str() {
                "go_live_on_time" => match p.actual_go_live {
                    Some(a) => {
                        let off = (a - p.target_go_live).get_days().abs();
                        (
                            if off <= 3 { "met" } else { "missed" },
                            format!("live on {a}, target {}", p.target_go_live),
                        )
                    }
                    None => (
                        "pending",
                        format!("planned {}, target {}", p.go_live_date, p.target_go_live),
                    ),
                },
                "adoption" => match live_at {
                    Some(t) => {
                        let row = sqlx::query(
                            "SELECT MAX(value) AS v FROM measurements WHERE organization_id = $1 AND metric = 'user_adoption'
                                AND field = 'dau_pct' AND measured_at >= $2 AND measured_at <= $3",
                        )
                        .bind(p.organization_id)
                        .bind(t)
                        .bind(t + 7 * 86_400)
                        .fetch_one(&mut *conn)
                        .await?;
                        let best: Option<f64> = row.try_get("v")?;
                        match best {
                            Some(v) if v > 50.0 => ("met", format!("DAU reached {v:.1} %")),
                            Some(v) if now > t + 7 * 86_400 => {
                                ("missed", format!("DAU peaked at {v:.1} %"))
                            }
                            None if now > t + 7 * 86_400 => {
                                ("missed", "no DAU measured in the first week".into())
                            }
                            Some(v) => ("pending", format!("DAU {v:.1} % so far")),
                            None => ("pending", "no DAU measured yet".into()),
                        }
                    }
                    None => ("pending", "not live yet".into()),
                },
                "no_critical_issues" => match live_at {
                    Some(t) => {
                        let n: i64 = sqlx::query(
                            "SELECT COUNT(*) AS n FROM tickets WHERE organization_id = $1 AND priority = 'urgent'
                                AND created_at >= $2 AND deleted = 0",
                        )
                        .bind(p.organization_id)
                        .bind(t)
                        .fetch_one(&mut *conn)
                        .await?
                        .try_get("n")?;
                        (
                            if n == 0 { "met" } else { "missed" },
                            format!("{n} urgent tickets since go-live"),
                        )
                    }
                    None => ("pending", "not live yet".into()),
                },
                "resolution_time" => match live_at {
                    Some(t) => {
                        let row = sqlx::query(
                            "SELECT COUNT(*) AS n, CAST(AVG(solved_at - created_at) AS DOUBLE PRECISION) AS s FROM tickets WHERE organization_id = $1
                                AND solved_at IS NOT NULL AND created_at >= $2 AND deleted = 0",
                        )
                        .bind(p.organization_id)
                        .bind(t)
                        .fetch_one(&mut *conn)
                        .await?;
                        let n: i64 = row.try_get("n")?;
                        if n == 0 {
                            ("pending", "no tickets solved since go-live".into())
                        } else {
                            let hours = row_f64(&row, "s")? / 3600.0;
                            (
                                if hours < 4.0 { "met" } else { "missed" },
                                format!("{hours:.1} h average over {n} solved tickets"),
                            )
                        }
                    }
                    None => ("pending", "not live yet".into()),
                },
                "nps" => match live_at {
                    Some(t) if now >= t + 30 * 86_400 => {
                        match self
                            .metric_value_in(
                                conn,
                                p.organization_id,
                                "user_satisfaction",
                                "nps",
                                None,
                                now,
                            )
                            .await?
                        {
                            Some((v, _)) => (
                                if v > 40.0 { "met" } else { "missed" },
                                format!("NPS {v:.0}"),
                            ),
                            None => ("pending", "no NPS measured yet".into()),
                        }
                    }
                    Some(_) => ("pending", "measured 30 days after go-live".into()),
                    None => ("pending", "not live yet".into()),
                },
                "expansion" => {
                    let n: i64 = sqlx::query(
                        "SELECT COUNT(*) AS n FROM expansion_opportunities WHERE organization_id = $1 AND status <> 'lost'",
                    )
                    .bind(p.organization_id)
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get("n")?;
                    (
                        if n > 0 { "met" } else { "pending" },
                        format!("{n} opportunities identified"),
                    )
                }
                _ => ("pending", "judged by the team".into()),
            };
            out.push(Criterion {
                key: c.key.clone(),
                text: c.text.clone(),
                status,
                evidence,
            });
        }
        Ok(out)
    }
}

/// A numeric aggregate that SQLite may return as an integer or a real.
pub(crate) fn row_f64(r: &AnyRow, col: &str) -> Result<f64> {
    if let Ok(v) = r.try_get::<Option<f64>, _>(col) {
        return Ok(v.unwrap_or(0.0));
    }
    if let Ok(v) = r.try_get::<Option<i64>, _>(col) {
        return Ok(v.unwrap_or(0) as f64);
    }
    let s: Option<String> = r.try_get(col)?;
    Ok(s.and_then(|s| s.parse().ok()).unwrap_or(0.0))
}
