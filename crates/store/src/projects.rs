//! Implementation projects (issue 4; policies.md §13): a project made for
//! an account from a template and a start date, its milestones and tasks
//! (with dependencies), go-live moves, and the template library.
//!
//! Creating a project unfolds the template in one transaction: milestones
//! on the working days of the business calendar (holidays skipped), tasks
//! due at 17:00 on their day in the calendar's zone with their
//! dependencies, the hours budget per phase and role, the three handoffs.
//! The template is copied into the project, so editing a template changes
//! new projects only.
//!
//! Who owns a template task: the project's `assignments` map a resource
//! role (`csm`, `engineering`, ...) to an agent; roles left out fall to the
//! project owner. Tasks of the customer's roles (`project_lead`,
//! `data_owner`, ...) are owned by the project owner, who chases them; the
//! role stays visible as `owner_role` and those tasks are the "dependencies
//! on the customer's team" of the weekly report.
//!
//! Completing the last open task of a milestone completes the milestone
//! that day; completing the go-live milestone records the actual go-live.
//! Reopening a task does not reopen its milestone (a person decides that).
//! Moving go-live records the move and shifts every milestone and task not
//! yet completed that was planned on or after the old go-live date by the
//! same number of working days.

use std::collections::BTreeMap;

use jiff::{civil::Date, tz::TimeZone};
use serde_json::Value;
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Calendar, Priority, Role,
    project::{
        self, MilestoneKind, MilestoneStatus, ProjectStatus, Side, Template, find_cycle,
        working_days,
    },
    task::TaskStatus,
    time::parse_date,
};

use crate::{
    Store,
    access::Actor,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    hub::{may_read, may_write},
    tasks::{TASK_COLUMNS, Task, task_from_row},
};

/// The key of the shipped template.
pub const THIRTY_DAY: &str = "30-day";

/// Working days computed ahead of a project's start: enough for the plan,
/// the support overlap and go-live moves of several months.
const HORIZON: usize = 400;

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub template_key: String,
    pub template: Template,
    pub calendar: String,
    pub start_date: Date,
    pub target_go_live: Date,
    pub go_live_date: Date,
    pub actual_go_live: Option<Date>,
    pub status: ProjectStatus,
    pub owner_id: Option<i64>,
    pub assignments: BTreeMap<String, i64>,
    pub budget_cents: Option<i64>,
    pub spend_cents: Option<i64>,
    pub technical_blockers: String,
    pub dependencies: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Project {
    /// Whether `role` is one of the customer's resource roles.
    pub fn is_customer_role(&self, role: &str) -> bool {
        self.template
            .resources
            .iter()
            .any(|r| r.side == Side::Customer && r.role == role)
    }
}

/// Fields to create or change a project; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    pub organization_id: Option<i64>,
    pub name: Option<String>,
    pub template_key: Option<String>,
    pub calendar: Option<String>,
    pub start_date: Option<String>,
    pub target_go_live: Option<String>,
    pub status: Option<ProjectStatus>,
    pub owner_id: Option<Option<i64>>,
    pub assignments: Option<BTreeMap<String, i64>>,
    pub budget_cents: Option<Option<i64>>,
    pub spend_cents: Option<Option<i64>>,
    pub technical_blockers: Option<String>,
    pub dependencies: Option<String>,
    /// On creation: queue the welcome e-mail of §16 to the account's
    /// executive sponsor (else project lead) in the same transaction.
    pub send_welcome: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub id: i64,
    pub project_id: i64,
    pub key: Option<String>,
    pub phase: i64,
    pub day: Option<i64>,
    pub name: String,
    pub kind: MilestoneKind,
    pub planned_date: Date,
    pub actual_date: Option<Date>,
    pub owner_id: Option<i64>,
    pub deliverables: Vec<String>,
    pub success_criteria: String,
    pub status: MilestoneStatus,
    pub critical_path: bool,
    pub updated_at: i64,
}

impl Milestone {
    /// Past its planned date and not completed.
    pub fn overdue(&self, today: Date) -> bool {
        self.status != MilestoneStatus::Completed && self.planned_date < today
    }

    /// A critical-path milestone that is marked at risk or overdue.
    pub fn critical_at_risk(&self, today: Date) -> bool {
        self.critical_path && (self.status == MilestoneStatus::AtRisk || self.overdue(today))
    }
}

#[derive(Debug, Clone, Default)]
pub struct MilestoneInput {
    pub name: Option<String>,
    pub kind: Option<MilestoneKind>,
    pub phase: Option<i64>,
    pub planned_date: Option<String>,
    pub actual_date: Option<Option<String>>,
    pub owner_id: Option<Option<i64>>,
    pub deliverables: Option<Vec<String>>,
    pub success_criteria: Option<String>,
    pub status: Option<MilestoneStatus>,
    pub critical_path: Option<bool>,
}

/// A task of a project with its place in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectTask {
    pub task: Task,
    pub project_id: i64,
    pub phase: Option<i64>,
    pub milestone_id: Option<i64>,
    pub plan_key: Option<String>,
    /// The template's resource role, for tasks from the template.
    pub owner_role: Option<String>,
    pub depends_on: Vec<i64>,
    /// Dependencies not completed yet.
    pub blocked_by: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectTaskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner_id: Option<Option<i64>>,
    pub due_date: Option<Option<String>>,
    pub priority: Option<Priority>,
    pub status: Option<TaskStatus>,
    pub phase: Option<Option<i64>>,
    pub milestone_id: Option<Option<i64>>,
    pub depends_on: Option<Vec<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GoLiveMove {
    pub id: i64,
    pub from_date: Date,
    pub to_date: Date,
    pub reason: String,
    pub decision_id: Option<i64>,
    pub moved_by: i64,
    pub moved_at: i64,
}

pub(crate) fn date_col(r: &AnyRow, col: &str) -> Result<Date> {
    let s: String = r.try_get(col)?;
    parse_date(&s).map_err(|e| StoreError::Corrupt(e.0))
}

pub(crate) fn opt_date_col(r: &AnyRow, col: &str) -> Result<Option<Date>> {
    opt_str(r, col)?
        .map(|s| parse_date(&s).map_err(|e| StoreError::Corrupt(e.0)))
        .transpose()
}

fn date_input(field: &str, s: &str) -> Result<Date> {
    parse_date(s).map_err(|e| StoreError::invalid(field, e.0))
}

const PROJECT_COLUMNS: &str = "id, organization_id, name, template_key, template, calendar, start_date, \
    target_go_live, go_live_date, actual_go_live, status, owner_id, assignments, budget_cents, spend_cents, \
    technical_blockers, dependencies, created_at, updated_at";

fn project_from_row(r: &AnyRow) -> Result<Project> {
    Ok(Project {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        name: r.try_get("name")?,
        template_key: r.try_get("template_key")?,
        template: serde_json::from_str(&r.try_get::<String, _>("template")?)?,
        calendar: r.try_get("calendar")?,
        start_date: date_col(r, "start_date")?,
        target_go_live: date_col(r, "target_go_live")?,
        go_live_date: date_col(r, "go_live_date")?,
        actual_go_live: opt_date_col(r, "actual_go_live")?,
        status: ProjectStatus::parse(&r.try_get::<String, _>("status")?)?,
        owner_id: r.try_get("owner_id")?,
        assignments: serde_json::from_str(&r.try_get::<String, _>("assignments")?)?,
        budget_cents: r.try_get("budget_cents")?,
        spend_cents: r.try_get("spend_cents")?,
        technical_blockers: r.try_get("technical_blockers")?,
        dependencies: r.try_get("dependencies")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const MILESTONE_COLUMNS: &str = "id, project_id, key, phase, day, name, kind, planned_date, actual_date, owner_id, \
    deliverables, success_criteria, status, critical_path, updated_at";

fn milestone_from_row(r: &AnyRow) -> Result<Milestone> {
    Ok(Milestone {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        key: opt_str(r, "key")?,
        phase: r.try_get("phase")?,
        day: r.try_get("day")?,
        name: r.try_get("name")?,
        kind: MilestoneKind::parse(&r.try_get::<String, _>("kind")?)?,
        planned_date: date_col(r, "planned_date")?,
        actual_date: opt_date_col(r, "actual_date")?,
        owner_id: r.try_get("owner_id")?,
        deliverables: serde_json::from_str(&r.try_get::<String, _>("deliverables")?)?,
        success_criteria: r.try_get("success_criteria")?,
        status: MilestoneStatus::parse(&r.try_get::<String, _>("status")?)?,
        critical_path: r.try_get::<i64, _>("critical_path")? != 0,
        updated_at: r.try_get("updated_at")?,
    })
}

pub use crate::dates::local_date;

/// 17:00 on `d` in `tz`: when a plan task is due.
fn end_of_day(d: Date, tz: &TimeZone) -> i64 {
    crate::dates::at_hour(d, 17, tz)
}

/// Shifts `d` by `delta` working days on `days` (dates outside the list
/// are moved by the same offset from the nearest listed day).
fn shift(days: &[Date], d: Date, delta: i64) -> Date {
    let i = days.partition_point(|x| *x < d) as i64;
    let j = (i + delta).clamp(0, days.len() as i64 - 1);
    days.get(j as usize).copied().unwrap_or(d)
}

impl Store {
    // -- templates ----------------------------------------------------

    /// Every template: the shipped 30-day one (or its edited version) and
    /// those admins added, by key.
    pub async fn project_templates(&self) -> Result<Vec<(String, Template, bool)>> {
        let mut conn = self.reader().await?;
        let rows = sqlx::query("SELECT key, definition FROM project_templates ORDER BY key")
            .fetch_all(&mut *conn)
            .await?;
        let mut out: Vec<(String, Template, bool)> = Vec::new();
        let mut has_builtin = false;
        for r in rows {
            let key: String = r.try_get("key")?;
            let t: Template = serde_json::from_str(&r.try_get::<String, _>("definition")?)?;
            has_builtin |= key == THIRTY_DAY;
            let edited = key == THIRTY_DAY;
            out.push((key, t, edited));
        }
        if !has_builtin {
            out.insert(0, (THIRTY_DAY.to_string(), project::thirty_day(), false));
        }
        Ok(out)
    }

    pub async fn project_template(&self, key: &str) -> Result<Template> {
        let mut conn = self.reader().await?;
        self.project_template_in(&mut conn, key).await
    }

    async fn project_template_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        key: &str,
    ) -> Result<Template> {
        let row = sqlx::query("SELECT definition FROM project_templates WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(r) => Ok(serde_json::from_str(
                &r.try_get::<String, _>("definition")?,
            )?),
            None if key == THIRTY_DAY => Ok(project::thirty_day()),
            None => Err(StoreError::NotFound("project template")),
        }
    }

    /// Saves a template under `key` (admins only) after validating it.
    pub async fn put_project_template(
        &self,
        actor: &Actor,
        key: &str,
        t: &Template,
        now: i64,
    ) -> Result<()> {
        if actor.role() != Role::Admin {
            return Err(StoreError::Forbidden(
                "only admins edit project templates".into(),
            ));
        }
        let key = key.trim();
        if key.is_empty() || key.len() > 64 {
            return Err(StoreError::invalid("key", "must be 1 to 64 characters"));
        }
        if let Err(errors) = t.validate() {
            return Err(StoreError::invalid("template", errors.join("; ")));
        }
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO project_templates (key, definition, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(serde_json::to_string(t)?)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await
    }

    /// Deletes an added template, or resets the shipped one.
    pub async fn delete_project_template(&self, actor: &Actor, key: &str) -> Result<()> {
        if actor.role() != Role::Admin {
            return Err(StoreError::Forbidden(
                "only admins edit project templates".into(),
            ));
        }
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM project_templates WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 && key != THIRTY_DAY {
            return Err(StoreError::NotFound("project template"));
        }
        self.commit(tx).await
    }

    // -- projects -----------------------------------------------------

    /// The calendar a project counts its days on.
    pub(crate) async fn project_calendar(
        &self,
        conn: &mut sqlx::AnyConnection,
        name: &str,
    ) -> Result<Calendar> {
        let set = self.calendars_in(conn).await?;
        set.calendar(name)
            .cloned()
            .ok_or_else(|| StoreError::invalid("calendar", format!("no calendar named {name}")))
    }

    pub async fn create_project(
        &self,
        actor: &Actor,
        input: ProjectInput,
        now: i64,
    ) -> Result<Project> {
        may_write(actor)?;
        let org = input
            .organization_id
            .ok_or_else(|| StoreError::invalid("organization_id", "is required"))?;
        let start = date_input(
            "start_date",
            input
                .start_date
                .as_deref()
                .ok_or_else(|| StoreError::invalid("start_date", "is required"))?,
        )?;
        let key = input.template_key.unwrap_or_else(|| THIRTY_DAY.to_string());
        let calendar_name = input.calendar.unwrap_or_else(|| "business".to_string());
        let mut tx = self.begin().await?;
        self.ensure_org_exists(&mut tx, org).await.map_err(|_| {
            StoreError::invalid(
                "organization_id",
                format!("organization {org} does not exist"),
            )
        })?;
        let template = self
            .project_template_in(&mut tx, &key)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    StoreError::invalid("template", format!("no project template {key}"))
                }
                e => e,
            })?;
        let cal = self.project_calendar(&mut tx, &calendar_name).await?;
        let days = working_days(&cal, start, HORIZON);
        let day = |n: u32| days.get((n.max(1) - 1) as usize).copied().unwrap_or(start);
        let go_live_day = template
            .milestones
            .iter()
            .find(|m| m.kind == MilestoneKind::GoLive)
            .map(|m| m.day)
            .unwrap_or(template.days);
        let target = match input.target_go_live.as_deref() {
            Some(s) => date_input("target_go_live", s)?,
            None => day(go_live_day),
        };
        if target < start {
            return Err(StoreError::invalid(
                "target_go_live",
                "cannot be before the start date",
            ));
        }
        let owner = match input.owner_id {
            Some(o) => o,
            None => Some(actor.id()),
        };
        if let Some(o) = owner {
            self.ensure_task_owner(&mut tx, o).await.map_err(|_| {
                StoreError::invalid(
                    "owner_id",
                    format!("user {o} is not an agent who can own a project"),
                )
            })?;
        }
        let assignments = input.assignments.unwrap_or_default();
        for (role, user) in &assignments {
            if !template.resources.iter().any(|r| &r.role == role) {
                return Err(StoreError::invalid(
                    "assignments",
                    format!("{role} is not a role of the template"),
                ));
            }
            self.ensure_task_owner(&mut tx, *user).await.map_err(|_| {
                StoreError::invalid("assignments", format!("user {user} cannot own tasks"))
            })?;
        }
        let name = match input.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => n.to_string(),
            Some(_) => return Err(StoreError::invalid("name", "cannot be blank")),
            None => {
                let org_name: String = sqlx::query("SELECT name FROM organizations WHERE id = $1")
                    .bind(org)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("name")?;
                format!("{org_name} implementation")
            }
        };
        let row = sqlx::query(
            "INSERT INTO projects (organization_id, name, template_key, template, calendar, start_date, target_go_live,
                go_live_date, status, owner_id, assignments, budget_cents, spend_cents, technical_blockers, dependencies,
                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
        )
        .bind(org)
        .bind(&name)
        .bind(&key)
        .bind(serde_json::to_string(&template)?)
        .bind(&calendar_name)
        .bind(days.first().copied().unwrap_or(start).to_string())
        .bind(target.to_string())
        .bind(input.status.unwrap_or(ProjectStatus::Active).as_str())
        .bind(owner)
        .bind(serde_json::to_string(&assignments)?)
        .bind(input.budget_cents.flatten())
        .bind(input.spend_cents.flatten())
        .bind(input.technical_blockers.unwrap_or_default())
        .bind(input.dependencies.unwrap_or_default())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let tz = cal.time_zone().clone();

        let mut milestone_ids = BTreeMap::new();
        for m in &template.milestones {
            let mrow = sqlx::query(
                "INSERT INTO project_milestones (project_id, key, phase, day, name, kind, planned_date, owner_id,
                    deliverables, success_criteria, status, critical_path, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'scheduled', $11, $12) RETURNING id",
            )
            .bind(id)
            .bind(&m.key)
            .bind(i64::from(template.phase_of(m.day)))
            .bind(i64::from(m.day))
            .bind(&m.name)
            .bind(m.kind.as_str())
            .bind(day(m.day).to_string())
            .bind(owner)
            .bind(serde_json::to_string(&m.deliverables)?)
            .bind(&m.success_criteria)
            .bind(i64::from(m.critical_path))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            milestone_ids.insert(m.key.clone(), mrow.try_get::<i64, _>("id")?);
        }

        let mut task_ids = BTreeMap::new();
        for t in &template.tasks {
            let task_owner = assignments.get(&t.owner_role).copied().or(owner);
            let customer = template
                .resources
                .iter()
                .any(|r| r.side == Side::Customer && r.role == t.owner_role);
            let description = if customer {
                format!(
                    "Owned on the customer's side by the {}.",
                    t.owner_role.replace('_', " ")
                )
            } else {
                String::new()
            };
            let trow = sqlx::query(
                "INSERT INTO tasks (title, description, owner_id, due_at, priority, status, organization_id,
                    created_by_user_id, created_at, updated_at, project_id, phase, milestone_id, plan_key)
                 VALUES ($1, $2, $3, $4, $5, 'not-started', $6, $7, $8, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(&t.title)
            .bind(description)
            .bind(task_owner)
            .bind(end_of_day(day(t.day), &tz))
            .bind(t.priority.as_str())
            .bind(org)
            .bind(actor.id())
            .bind(now)
            .bind(id)
            .bind(i64::from(template.phase_of(t.day)))
            .bind(t.milestone.as_ref().and_then(|m| milestone_ids.get(m)).copied())
            .bind(&t.key)
            .fetch_one(&mut *tx)
            .await?;
            task_ids.insert(t.key.clone(), trow.try_get::<i64, _>("id")?);
        }
        for t in &template.tasks {
            for d in &t.depends_on {
                if let (Some(a), Some(b)) = (task_ids.get(&t.key), task_ids.get(d)) {
                    sqlx::query(
                        "INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2)",
                    )
                    .bind(a)
                    .bind(b)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        for line in template.budget() {
            sqlx::query(
                "INSERT INTO project_budgets (project_id, phase, side, role, hours) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(i64::from(line.phase))
            .bind(line.side.as_str())
            .bind(&line.role)
            .bind(line.hours)
            .execute(&mut *tx)
            .await?;
        }
        for h in &template.handoffs {
            let checklist: Vec<Value> = h
                .checklist
                .iter()
                .map(|item| serde_json::json!({"item": item, "done": false}))
                .collect();
            let overlap: Vec<Value> = h
                .overlap
                .iter()
                .map(|o| {
                    serde_json::json!({
                        "first_day": o.first_day,
                        "last_day": o.last_day,
                        "from": day(o.first_day).to_string(),
                        "until": o.last_day.map(|d| day(d).to_string()),
                        "mode": o.mode,
                    })
                })
                .collect();
            sqlx::query(
                "INSERT INTO project_handoffs (project_id, key, name, day, due_date, checklist, overlap)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(&h.key)
            .bind(&h.name)
            .bind(i64::from(h.day))
            .bind(day(h.day).to_string())
            .bind(serde_json::to_string(&checklist)?)
            .bind(serde_json::to_string(&overlap)?)
            .execute(&mut *tx)
            .await?;
        }
        if input.send_welcome {
            let p = self.project_in(&mut tx, id).await?;
            self.enqueue_welcome_in(&mut tx, &p, now).await?;
        }
        self.commit(tx).await?;
        self.project(actor, id).await
    }

    pub async fn project(&self, actor: &Actor, id: i64) -> Result<Project> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, id).await
    }

    pub(crate) async fn project_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Project> {
        let row = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| project_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("project"))
    }

    /// Projects, newest first, optionally of one account or status.
    pub async fn list_projects(
        &self,
        actor: &Actor,
        organization_id: Option<i64>,
        status: Option<ProjectStatus>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<Project>, i64)> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let cond = "($1 IS NULL OR organization_id = $1) AND ($2 IS NULL OR status = $2)";
        let rows = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE {cond} ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(organization_id)
        .bind(status.map(|s| s.as_str()))
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let count: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM projects WHERE {cond}"))
            .bind(organization_id)
            .bind(status.map(|s| s.as_str()))
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?;
        let items = rows
            .iter()
            .map(project_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((items, count))
    }

    /// Changes a project's own fields (name, status, owner, assignments,
    /// budget and spend, blockers, dependencies, target go-live). Dates of
    /// the plan move through milestones or [`Store::move_go_live`].
    pub async fn update_project(
        &self,
        actor: &Actor,
        id: i64,
        input: ProjectInput,
        now: i64,
    ) -> Result<Project> {
        may_write(actor)?;
        for (set, field) in [
            (input.start_date.is_some(), "start_date"),
            (input.template_key.is_some(), "template"),
            (input.calendar.is_some(), "calendar"),
            (input.organization_id.is_some(), "organization_id"),
        ] {
            if set {
                return Err(StoreError::invalid(
                    field,
                    "cannot change after the project is made",
                ));
            }
        }
        let mut tx = self.begin().await?;
        let mut p = self.project_locked(&mut tx, id).await?;
        if let Some(n) = input.name {
            let n = n.trim().to_string();
            if n.is_empty() {
                return Err(StoreError::invalid("name", "cannot be blank"));
            }
            p.name = n;
        }
        if let Some(s) = input.status {
            p.status = s;
        }
        if let Some(o) = input.owner_id {
            if let Some(o) = o {
                self.ensure_task_owner(&mut tx, o).await?;
            }
            p.owner_id = o;
        }
        if let Some(a) = input.assignments {
            for (role, user) in &a {
                if !p.template.resources.iter().any(|r| &r.role == role) {
                    return Err(StoreError::invalid(
                        "assignments",
                        format!("{role} is not a role of the template"),
                    ));
                }
                self.ensure_task_owner(&mut tx, *user).await?;
            }
            p.assignments = a;
        }
        if let Some(b) = input.budget_cents {
            p.budget_cents = b;
        }
        if let Some(s) = input.spend_cents {
            p.spend_cents = s;
        }
        if let Some(b) = input.technical_blockers {
            p.technical_blockers = b;
        }
        if let Some(d) = input.dependencies {
            p.dependencies = d;
        }
        if let Some(t) = input.target_go_live {
            p.target_go_live = date_input("target_go_live", &t)?;
        }
        sqlx::query(
            "UPDATE projects SET name = $1, status = $2, owner_id = $3, assignments = $4, budget_cents = $5,
                spend_cents = $6, technical_blockers = $7, dependencies = $8, target_go_live = $9, updated_at = $10
             WHERE id = $11",
        )
        .bind(&p.name)
        .bind(p.status.as_str())
        .bind(p.owner_id)
        .bind(serde_json::to_string(&p.assignments)?)
        .bind(p.budget_cents)
        .bind(p.spend_cents)
        .bind(&p.technical_blockers)
        .bind(&p.dependencies)
        .bind(p.target_go_live.to_string())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        self.project(actor, id).await
    }

    async fn project_locked(&self, tx: &mut Tx, id: i64) -> Result<Project> {
        let row = sqlx::query(&format!(
            "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1{}",
            self.for_update()
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|r| project_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("project"))
    }

    /// Moves go-live to `to` (a decision may be named), shifting the rest
    /// of the plan (see the module docs).
    pub async fn move_go_live(
        &self,
        actor: &Actor,
        id: i64,
        to: &str,
        reason: &str,
        decision_id: Option<i64>,
        now: i64,
    ) -> Result<Project> {
        may_write(actor)?;
        let to = date_input("date", to)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "is required"));
        }
        let mut tx = self.begin().await?;
        let p = self.project_locked(&mut tx, id).await?;
        if p.actual_go_live.is_some() {
            return Err(StoreError::Conflict("the project is already live".into()));
        }
        if to < p.start_date {
            return Err(StoreError::invalid(
                "date",
                "cannot be before the start date",
            ));
        }
        if to == p.go_live_date {
            return Err(StoreError::invalid(
                "date",
                "go-live is already on that date",
            ));
        }
        if let Some(d) = decision_id {
            let found =
                sqlx::query("SELECT id FROM project_decisions WHERE id = $1 AND project_id = $2")
                    .bind(d)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::invalid(
                    "decision_id",
                    format!("decision {d} is not one of this project's"),
                ));
            }
        }
        let cal = self.project_calendar(&mut tx, &p.calendar).await?;
        let days = working_days(&cal, p.start_date, HORIZON);
        let from = p.go_live_date;
        let delta =
            days.partition_point(|d| *d < to) as i64 - days.partition_point(|d| *d < from) as i64;
        let tz = cal.time_zone().clone();
        let rows = sqlx::query(&format!(
            "SELECT {MILESTONE_COLUMNS} FROM project_milestones WHERE project_id = $1 AND status <> 'completed'"
        ))
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let m = milestone_from_row(&r)?;
            let planned = if m.kind == MilestoneKind::GoLive && m.planned_date == from {
                to
            } else if m.planned_date >= from {
                shift(&days, m.planned_date, delta)
            } else {
                continue;
            };
            sqlx::query(
                "UPDATE project_milestones SET planned_date = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(planned.to_string())
            .bind(now)
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        }
        let from_at = end_of_day(from, &tz) - 17 * 3600;
        let rows = sqlx::query(
            "SELECT id, due_at FROM tasks WHERE project_id = $1 AND status <> 'completed' AND due_at >= $2",
        )
        .bind(id)
        .bind(from_at)
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let due: i64 = r.try_get("due_at")?;
            let moved = shift(&days, local_date(due, &tz), delta);
            sqlx::query("UPDATE tasks SET due_at = $1, updated_at = $2 WHERE id = $3")
                .bind(end_of_day(moved, &tz))
                .bind(now)
                .bind(r.try_get::<i64, _>("id")?)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO project_go_live_moves (project_id, from_date, to_date, reason, decision_id, moved_by, moved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(reason)
        .bind(decision_id)
        .bind(actor.id())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE projects SET go_live_date = $1, updated_at = $2 WHERE id = $3")
            .bind(to.to_string())
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        self.project(actor, id).await
    }

    pub async fn go_live_moves(&self, actor: &Actor, id: i64) -> Result<Vec<GoLiveMove>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.go_live_moves_in(&mut conn, id).await
    }

    pub(crate) async fn go_live_moves_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        id: i64,
    ) -> Result<Vec<GoLiveMove>> {
        let rows = sqlx::query(
            "SELECT id, from_date, to_date, reason, decision_id, moved_by, moved_at FROM project_go_live_moves
             WHERE project_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GoLiveMove {
                    id: r.try_get("id")?,
                    from_date: date_col(r, "from_date")?,
                    to_date: date_col(r, "to_date")?,
                    reason: r.try_get("reason")?,
                    decision_id: r.try_get("decision_id")?,
                    moved_by: r.try_get("moved_by")?,
                    moved_at: r.try_get("moved_at")?,
                })
            })
            .collect()
    }

    // -- milestones ---------------------------------------------------

    pub async fn milestones(&self, actor: &Actor, project: i64) -> Result<Vec<Milestone>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, project).await?;
        self.milestones_in(&mut conn, project).await
    }

    pub(crate) async fn milestones_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        project: i64,
    ) -> Result<Vec<Milestone>> {
        let rows = sqlx::query(&format!(
            "SELECT {MILESTONE_COLUMNS} FROM project_milestones WHERE project_id = $1 ORDER BY planned_date, id"
        ))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(milestone_from_row).collect()
    }

    async fn milestone_in(&self, tx: &mut Tx, project: i64, id: i64) -> Result<Milestone> {
        let row = sqlx::query(&format!(
            "SELECT {MILESTONE_COLUMNS} FROM project_milestones WHERE id = $1 AND project_id = $2"
        ))
        .bind(id)
        .bind(project)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|r| milestone_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("milestone"))
    }

    pub async fn create_milestone(
        &self,
        actor: &Actor,
        project: i64,
        input: MilestoneInput,
        now: i64,
    ) -> Result<Milestone> {
        may_write(actor)?;
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| StoreError::invalid("name", "is required"))?
            .to_string();
        let planned = date_input(
            "planned_date",
            input
                .planned_date
                .as_deref()
                .ok_or_else(|| StoreError::invalid("planned_date", "is required"))?,
        )?;
        let mut tx = self.begin().await?;
        let p = self.project_locked(&mut tx, project).await?;
        let phase = input.phase.unwrap_or(1);
        if phase < 1 || phase > p.template.phases.len() as i64 {
            return Err(StoreError::invalid(
                "phase",
                format!("must be between 1 and {}", p.template.phases.len()),
            ));
        }
        let row = sqlx::query(
            "INSERT INTO project_milestones (project_id, phase, name, kind, planned_date, owner_id, deliverables,
                success_criteria, status, critical_path, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(project)
        .bind(phase)
        .bind(&name)
        .bind(input.kind.unwrap_or(MilestoneKind::Review).as_str())
        .bind(planned.to_string())
        .bind(input.owner_id.flatten().or(p.owner_id))
        .bind(serde_json::to_string(&input.deliverables.unwrap_or_default())?)
        .bind(input.success_criteria.unwrap_or_default())
        .bind(input.status.unwrap_or(MilestoneStatus::Scheduled).as_str())
        .bind(i64::from(input.critical_path.unwrap_or(false)))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let m = self.milestone_in(&mut tx, project, id).await?;
        self.commit(tx).await?;
        Ok(m)
    }

    pub async fn update_milestone(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
        input: MilestoneInput,
        now: i64,
    ) -> Result<Milestone> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let p = self.project_locked(&mut tx, project).await?;
        let mut m = self.milestone_in(&mut tx, project, id).await?;
        let cal = self.project_calendar(&mut tx, &p.calendar).await?;
        let today = local_date(now, cal.time_zone());
        if let Some(n) = input.name {
            let n = n.trim().to_string();
            if n.is_empty() {
                return Err(StoreError::invalid("name", "cannot be blank"));
            }
            m.name = n;
        }
        if let Some(k) = input.kind {
            m.kind = k;
        }
        if let Some(ph) = input.phase {
            if ph < 1 || ph > p.template.phases.len() as i64 {
                return Err(StoreError::invalid(
                    "phase",
                    format!("must be between 1 and {}", p.template.phases.len()),
                ));
            }
            m.phase = ph;
        }
        if let Some(d) = input.planned_date {
            m.planned_date = date_input("planned_date", &d)?;
        }
        if let Some(o) = input.owner_id {
            if let Some(o) = o {
                self.ensure_task_owner(&mut tx, o).await?;
            }
            m.owner_id = o;
        }
        if let Some(d) = input.deliverables {
            m.deliverables = d;
        }
        if let Some(s) = input.success_criteria {
            m.success_criteria = s;
        }
        if let Some(c) = input.critical_path {
            m.critical_path = c;
        }
        if let Some(a) = input.actual_date {
            m.actual_date = a.map(|s| date_input("actual_date", &s)).transpose()?;
        }
        if let Some(s) = input.status {
            if s == MilestoneStatus::Completed && m.actual_date.is_none() {
                m.actual_date = Some(today);
            }
            if s != MilestoneStatus::Completed {
                m.actual_date = None;
            }
            m.status = s;
        }
        self.save_milestone(&mut tx, &m, now).await?;
        if m.kind == MilestoneKind::GoLive {
            let actual = (m.status == MilestoneStatus::Completed)
                .then_some(m.actual_date)
                .flatten();
            sqlx::query("UPDATE projects SET actual_go_live = $1, updated_at = $2 WHERE id = $3")
                .bind(actual.map(|d| d.to_string()))
                .bind(now)
                .bind(project)
                .execute(&mut *tx)
                .await?;
        }
        let m = self.milestone_in(&mut tx, project, id).await?;
        self.commit(tx).await?;
        Ok(m)
    }

    async fn save_milestone(&self, tx: &mut Tx, m: &Milestone, now: i64) -> Result<()> {
        sqlx::query(
            "UPDATE project_milestones SET name = $1, kind = $2, phase = $3, planned_date = $4, actual_date = $5,
                owner_id = $6, deliverables = $7, success_criteria = $8, status = $9, critical_path = $10,
                updated_at = $11 WHERE id = $12",
        )
        .bind(&m.name)
        .bind(m.kind.as_str())
        .bind(m.phase)
        .bind(m.planned_date.to_string())
        .bind(m.actual_date.map(|d| d.to_string()))
        .bind(m.owner_id)
        .bind(serde_json::to_string(&m.deliverables)?)
        .bind(&m.success_criteria)
        .bind(m.status.as_str())
        .bind(i64::from(m.critical_path))
        .bind(now)
        .bind(m.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    // -- tasks --------------------------------------------------------

    pub async fn project_tasks(&self, actor: &Actor, project: i64) -> Result<Vec<ProjectTask>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let p = self.project_in(&mut conn, project).await?;
        self.project_tasks_in(&mut conn, &p).await
    }

    pub(crate) async fn project_tasks_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Project,
    ) -> Result<Vec<ProjectTask>> {
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS}, k.project_id, k.phase, k.milestone_id, k.plan_key FROM tasks k
             WHERE k.project_id = $1 ORDER BY k.due_at, k.id"
        ))
        .bind(p.id)
        .fetch_all(&mut *conn)
        .await?;
        let deps = sqlx::query(
            "SELECT d.task_id, d.depends_on_id FROM task_dependencies d JOIN tasks k ON k.id = d.task_id
             WHERE k.project_id = $1",
        )
        .bind(p.id)
        .fetch_all(&mut *conn)
        .await?;
        let mut edges: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for d in deps {
            edges
                .entry(d.try_get("task_id")?)
                .or_default()
                .push(d.try_get("depends_on_id")?);
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let task = task_from_row(r)?;
            let plan_key = opt_str(r, "plan_key")?;
            let owner_role = plan_key.as_ref().and_then(|k| {
                p.template
                    .tasks
                    .iter()
                    .find(|t| &t.key == k)
                    .map(|t| t.owner_role.clone())
            });
            out.push(ProjectTask {
                depends_on: edges.get(&task.id).cloned().unwrap_or_default(),
                task,
                project_id: p.id,
                phase: r.try_get("phase")?,
                milestone_id: r.try_get("milestone_id")?,
                plan_key,
                owner_role,
                blocked_by: Vec::new(),
            });
        }
        let done: BTreeMap<i64, bool> = out
            .iter()
            .map(|t| (t.task.id, t.task.status == TaskStatus::Completed))
            .collect();
        for t in &mut out {
            t.blocked_by = t
                .depends_on
                .iter()
                .copied()
                .filter(|d| !done.get(d).copied().unwrap_or(true))
                .collect();
        }
        Ok(out)
    }

    /// Adds a task to a project.
    pub async fn create_project_task(
        &self,
        actor: &Actor,
        project: i64,
        input: ProjectTaskInput,
        now: i64,
    ) -> Result<ProjectTask> {
        may_write(actor)?;
        let title = input
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::invalid("title", "is required"))?
            .to_string();
        let mut tx = self.begin().await?;
        let p = self.project_locked(&mut tx, project).await?;
        let cal = self.project_calendar(&mut tx, &p.calendar).await?;
        let due = match input.due_date.flatten() {
            Some(d) => Some(end_of_day(date_input("due_date", &d)?, cal.time_zone())),
            None => None,
        };
        let owner = input.owner_id.flatten().or(p.owner_id);
        if let Some(o) = owner {
            self.ensure_task_owner(&mut tx, o).await?;
        }
        let row = sqlx::query(
            "INSERT INTO tasks (title, description, owner_id, due_at, priority, status, organization_id,
                created_by_user_id, created_at, updated_at, project_id, phase, milestone_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&title)
        .bind(input.description.clone().unwrap_or_default())
        .bind(owner)
        .bind(due)
        .bind(input.priority.unwrap_or(Priority::Normal).as_str())
        .bind(input.status.unwrap_or(TaskStatus::NotStarted).as_str())
        .bind(p.organization_id)
        .bind(actor.id())
        .bind(now)
        .bind(project)
        .bind(input.phase.flatten())
        .bind(input.milestone_id.flatten())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        if let Some(m) = input.milestone_id.flatten() {
            self.milestone_in(&mut tx, project, m).await.map_err(|_| {
                StoreError::invalid(
                    "milestone_id",
                    format!("milestone {m} is not one of this project's"),
                )
            })?;
        }
        if let Some(deps) = &input.depends_on {
            self.set_dependencies(&mut tx, project, id, deps).await?;
        }
        self.commit(tx).await?;
        self.project_task(actor, project, id).await
    }

    pub async fn project_task(&self, actor: &Actor, project: i64, id: i64) -> Result<ProjectTask> {
        self.project_tasks(actor, project)
            .await?
            .into_iter()
            .find(|t| t.task.id == id)
            .ok_or(StoreError::NotFound("task"))
    }

    /// Changes a project task; a dependency list replaces the old one and
    /// is rejected when it would close a cycle.
    pub async fn update_project_task(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
        input: ProjectTaskInput,
        now: i64,
    ) -> Result<ProjectTask> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let p = self.project_locked(&mut tx, project).await?;
        let cal = self.project_calendar(&mut tx, &p.calendar).await?;
        let row = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS}, k.milestone_id, k.phase FROM tasks k WHERE k.id = $1 AND k.project_id = $2"
        ))
        .bind(id)
        .bind(project)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("task"))?;
        let mut t = task_from_row(&row)?;
        let mut milestone: Option<i64> = row.try_get("milestone_id")?;
        let mut phase: Option<i64> = row.try_get("phase")?;
        if let Some(title) = input.title {
            let title = title.trim().to_string();
            if title.is_empty() {
                return Err(StoreError::invalid("title", "cannot be blank"));
            }
            t.title = title;
        }
        if let Some(d) = input.description {
            t.description = d;
        }
        if let Some(o) = input.owner_id {
            if let Some(o) = o {
                self.ensure_task_owner(&mut tx, o).await?;
            }
            t.owner_id = o;
        }
        if let Some(d) = input.due_date {
            t.due_at = d
                .map(|d| date_input("due_date", &d).map(|d| end_of_day(d, cal.time_zone())))
                .transpose()?;
        }
        if let Some(pr) = input.priority {
            t.priority = pr;
        }
        if let Some(ph) = input.phase {
            phase = ph;
        }
        if let Some(m) = input.milestone_id {
            if let Some(m) = m {
                self.milestone_in(&mut tx, project, m).await.map_err(|_| {
                    StoreError::invalid(
                        "milestone_id",
                        format!("milestone {m} is not one of this project's"),
                    )
                })?;
            }
            milestone = m;
        }
        let completing =
            input.status == Some(TaskStatus::Completed) && t.status != TaskStatus::Completed;
        if let Some(s) = input.status
            && s != t.status
        {
            t.completed_at = (s == TaskStatus::Completed).then_some(now);
            t.status = s;
        }
        sqlx::query(
            "UPDATE tasks SET title = $1, description = $2, owner_id = $3, due_at = $4, priority = $5, status = $6,
                updated_at = $7, completed_at = $8, phase = $9, milestone_id = $10 WHERE id = $11",
        )
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.owner_id)
        .bind(t.due_at)
        .bind(t.priority.as_str())
        .bind(t.status.as_str())
        .bind(now)
        .bind(t.completed_at)
        .bind(phase)
        .bind(milestone)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(deps) = &input.depends_on {
            self.set_dependencies(&mut tx, project, id, deps).await?;
        }
        if completing && let Some(m) = milestone {
            let open: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM tasks WHERE milestone_id = $1 AND project_id = $2 AND status <> 'completed'",
            )
            .bind(m)
            .bind(project)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if open == 0 {
                let mut ms = self.milestone_in(&mut tx, project, m).await?;
                if ms.status != MilestoneStatus::Completed {
                    ms.status = MilestoneStatus::Completed;
                    ms.actual_date = Some(local_date(now, cal.time_zone()));
                    self.save_milestone(&mut tx, &ms, now).await?;
                    if ms.kind == MilestoneKind::GoLive {
                        sqlx::query("UPDATE projects SET actual_go_live = $1, updated_at = $2 WHERE id = $3")
                            .bind(ms.actual_date.map(|d| d.to_string()))
                            .bind(now)
                            .bind(project)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
        }
        self.commit(tx).await?;
        self.project_task(actor, project, id).await
    }

    async fn set_dependencies(
        &self,
        tx: &mut Tx,
        project: i64,
        id: i64,
        deps: &[i64],
    ) -> Result<()> {
        let rows = sqlx::query(
            "SELECT d.task_id, d.depends_on_id FROM task_dependencies d JOIN tasks k ON k.id = d.task_id
             WHERE k.project_id = $1 AND d.task_id <> $2",
        )
        .bind(project)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
        let mut edges: Vec<(i64, i64)> = rows
            .iter()
            .map(|r| Ok((r.try_get("task_id")?, r.try_get("depends_on_id")?)))
            .collect::<Result<_>>()?;
        for d in deps {
            let found = sqlx::query("SELECT id FROM tasks WHERE id = $1 AND project_id = $2")
                .bind(d)
                .bind(project)
                .fetch_optional(&mut **tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::invalid(
                    "depends_on",
                    format!("task {d} is not one of this project's tasks"),
                ));
            }
            edges.push((id, *d));
        }
        if let Some(cycle) = find_cycle(&edges) {
            let path: Vec<String> = cycle.iter().map(|t| format!("#{t}")).collect();
            return Err(StoreError::invalid(
                "depends_on",
                format!("this would create a dependency cycle: {}", path.join(" → ")),
            ));
        }
        sqlx::query("DELETE FROM task_dependencies WHERE task_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        for d in deps {
            sqlx::query(
                "INSERT INTO task_dependencies (task_id, depends_on_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(d)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
