//! Tasks (issue 3, policies.md §7): follow-ups with an owner, a due
//! instant, a priority on the ticket scale and a status, linked to a ticket
//! and/or an organization, created by a person or by an automation rule.
//!
//! Staff read tasks; everyone but viewers writes them. A task linked to a
//! ticket is visible only to those who may read the ticket (the same SQL
//! condition as ticket lists), so tasks never leak tickets across the
//! group permissions of §8. A task linked to a ticket belongs to the
//! ticket's organization unless it names one. Deleting a task removes it.

use sqlx::{Row, any::AnyRow};
use steward_domain::{Priority, Role, task::TaskStatus};

use crate::{
    Store,
    access::{Actor, Scope},
    db::{Tx, opt_str},
    error::{Result, StoreError},
    page::{self, Page, PageRequest, Sort},
    sql::{Args, and_all},
};

/// Who made a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatedBy {
    User(i64),
    Rule(i64),
    /// Steward itself (a scheduled job such as the Friday report drafts).
    System,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub due_at: Option<i64>,
    pub priority: Priority,
    pub status: TaskStatus,
    pub ticket_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub created_by: Option<CreatedBy>,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
}

/// Fields to create or change; for updates `None` leaves a field alone and
/// `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner_id: Option<Option<i64>>,
    pub due_at: Option<Option<i64>>,
    pub priority: Option<Priority>,
    pub status: Option<TaskStatus>,
    pub ticket_id: Option<Option<i64>>,
    pub organization_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub owner_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub status: Option<TaskStatus>,
}

/// A task as a rule makes it (already resolved and rendered).
#[derive(Debug, Clone)]
pub(crate) struct NewTask {
    pub title: String,
    pub description: String,
    pub owner_id: Option<i64>,
    pub due_at: Option<i64>,
    pub priority: Priority,
    pub ticket_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub created_by: CreatedBy,
}

pub(crate) const TASK_COLUMNS: &str = "k.id, k.title, k.description, k.owner_id, k.due_at, k.priority, k.status, \
    k.ticket_id, k.organization_id, k.created_by_user_id, k.created_by_rule_id, k.created_at, \
    k.updated_at, k.completed_at";

/// Longest task title, in characters.
pub const MAX_TITLE: usize = 255;

pub(crate) fn task_from_row(r: &AnyRow) -> Result<Task> {
    let by_user: Option<i64> = r.try_get("created_by_user_id")?;
    let by_rule: Option<i64> = r.try_get("created_by_rule_id")?;
    Ok(Task {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        description: opt_str(r, "description")?.unwrap_or_default(),
        owner_id: r.try_get("owner_id")?,
        due_at: r.try_get("due_at")?,
        priority: Priority::parse(&r.try_get::<String, _>("priority")?)?,
        status: TaskStatus::parse(&r.try_get::<String, _>("status")?)?,
        ticket_id: r.try_get("ticket_id")?,
        organization_id: r.try_get("organization_id")?,
        created_by: by_rule
            .map(CreatedBy::Rule)
            .or(by_user.map(CreatedBy::User)),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        completed_at: r.try_get("completed_at")?,
    })
}

/// The SQL condition (over alias `k`) selecting tasks the actor may read.
fn visible(actor: &Actor, args: &mut Args) -> String {
    if actor.read_scope() == Scope::All {
        return "1 = 1".into();
    }
    let tickets = actor.ticket_condition(args);
    format!(
        "(k.ticket_id IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.id = k.ticket_id AND {tickets}))"
    )
}

fn may_write(actor: &Actor) -> Result<()> {
    match actor.role() {
        Role::EndUser => Err(StoreError::Forbidden("tasks are for staff".into())),
        Role::Viewer => Err(StoreError::Forbidden("viewers cannot change tasks".into())),
        _ => Ok(()),
    }
}

impl Store {
    /// A task the actor may read; otherwise `NotFound`.
    pub async fn task(&self, actor: &Actor, id: i64) -> Result<Task> {
        if !actor.role().is_staff() {
            return Err(StoreError::Forbidden("tasks are for staff".into()));
        }
        let mut args = Args::default();
        let vis = visible(actor, &mut args);
        let p = args.int(id);
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks k WHERE k.id = {p} AND {vis}");
        let mut conn = self.reader().await?;
        let row = args
            .bind(sqlx::query(&sql))
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| task_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("task"))
    }

    pub async fn list_tasks(
        &self,
        actor: &Actor,
        filter: &TaskFilter,
        page: PageRequest,
        sort: Sort,
    ) -> Result<Page<Task>> {
        if !actor.role().is_staff() {
            return Err(StoreError::Forbidden("tasks are for staff".into()));
        }
        let mut args = Args::default();
        let mut conds = vec![visible(actor, &mut args)];
        for (col, v) in [
            ("owner_id", filter.owner_id),
            ("ticket_id", filter.ticket_id),
            ("organization_id", filter.organization_id),
        ] {
            if let Some(v) = v {
                conds.push(format!("k.{col} = {}", args.int(v)));
            }
        }
        if let Some(s) = filter.status {
            conds.push(format!("k.status = {}", args.text(s.as_str())));
        }
        let cond = and_all(&conds);
        let mut conn = self.reader().await?;
        let listing = page::Listing {
            columns: TASK_COLUMNS,
            from: "tasks k",
            cond: &cond,
            args: &args,
            alias: "k.",
        };
        let out = page::fetch_counted(&mut conn, &listing, sort, page).await?;
        let items = out
            .items
            .iter()
            .map(task_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: out.count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    pub async fn create_task(&self, actor: &Actor, input: TaskInput, now: i64) -> Result<Task> {
        may_write(actor)?;
        let title = input
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| StoreError::invalid("title", "cannot be blank"))?
            .to_string();
        let ticket_id = input.ticket_id.flatten();
        let ticket_org = match ticket_id {
            Some(t) => self.ensure_task_ticket(actor, t).await?,
            None => None,
        };
        let mut tx = self.begin().await?;
        let owner_id = input.owner_id.flatten();
        if let Some(o) = owner_id {
            self.ensure_task_owner(&mut tx, o).await?;
        }
        let organization_id = match input.organization_id {
            Some(Some(o)) => {
                self.ensure_task_org(&mut tx, o).await?;
                Some(o)
            }
            Some(None) => None,
            None => ticket_org,
        };
        let status = input.status.unwrap_or(TaskStatus::NotStarted);
        let new = NewTask {
            title,
            description: input.description.unwrap_or_default(),
            owner_id,
            due_at: input.due_at.flatten(),
            priority: input.priority.unwrap_or(Priority::Normal),
            ticket_id,
            organization_id,
            created_by: CreatedBy::User(actor.id()),
        };
        let id = self.insert_task_tx(&mut tx, &new, status, now).await?;
        self.commit(tx).await?;
        self.task(actor, id).await
    }

    /// Writes a task in the caller's transaction (rules make tasks in the
    /// transaction of the change that fired them). Titles longer than
    /// [`MAX_TITLE`] are cut.
    pub(crate) async fn create_task_tx(&self, tx: &mut Tx, task: NewTask, now: i64) -> Result<i64> {
        let mut task = task;
        if task.title.chars().count() > MAX_TITLE {
            task.title = task.title.chars().take(MAX_TITLE).collect();
        }
        self.insert_task_tx(tx, &task, TaskStatus::NotStarted, now)
            .await
    }

    async fn insert_task_tx(
        &self,
        tx: &mut Tx,
        t: &NewTask,
        status: TaskStatus,
        now: i64,
    ) -> Result<i64> {
        let (by_user, by_rule) = match t.created_by {
            CreatedBy::User(u) => (Some(u), None),
            CreatedBy::Rule(r) => (None, Some(r)),
            CreatedBy::System => (None, None),
        };
        let row = sqlx::query(
            "INSERT INTO tasks (title, description, owner_id, due_at, priority, status, ticket_id, organization_id,
                created_by_user_id, created_by_rule_id, created_at, updated_at, completed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id",
        )
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.owner_id)
        .bind(t.due_at)
        .bind(t.priority.as_str())
        .bind(status.as_str())
        .bind(t.ticket_id)
        .bind(t.organization_id)
        .bind(by_user)
        .bind(by_rule)
        .bind(now)
        .bind((status == TaskStatus::Completed).then_some(now))
        .fetch_one(&mut **tx)
        .await?;
        Ok(row.try_get("id")?)
    }

    pub async fn update_task(
        &self,
        actor: &Actor,
        id: i64,
        input: TaskInput,
        now: i64,
    ) -> Result<Task> {
        may_write(actor)?;
        let mut t = self.task(actor, id).await?;
        if let Some(Some(ticket)) = input.ticket_id {
            self.ensure_task_ticket(actor, ticket).await?;
        }
        let mut tx = self.begin().await?;
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
        if let Some(d) = input.due_at {
            t.due_at = d;
        }
        if let Some(p) = input.priority {
            t.priority = p;
        }
        if let Some(ticket) = input.ticket_id {
            t.ticket_id = ticket;
        }
        if let Some(o) = input.organization_id {
            if let Some(o) = o {
                self.ensure_task_org(&mut tx, o).await?;
            }
            t.organization_id = o;
        }
        if let Some(s) = input.status
            && s != t.status
        {
            t.completed_at = (s == TaskStatus::Completed).then_some(now);
            t.status = s;
        }
        // A concurrent delete leaves nothing to update: not found.
        let done = sqlx::query(
            "UPDATE tasks SET title = $1, description = $2, owner_id = $3, due_at = $4, priority = $5, status = $6,
                ticket_id = $7, organization_id = $8, updated_at = $9, completed_at = $10 WHERE id = $11",
        )
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.owner_id)
        .bind(t.due_at)
        .bind(t.priority.as_str())
        .bind(t.status.as_str())
        .bind(t.ticket_id)
        .bind(t.organization_id)
        .bind(now)
        .bind(t.completed_at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("task"));
        }
        self.commit(tx).await?;
        self.task(actor, id).await
    }

    pub async fn delete_task(&self, actor: &Actor, id: i64) -> Result<()> {
        may_write(actor)?;
        self.task(actor, id).await?;
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM tasks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }

    /// Owners are active staff who can act: not viewers, not end users.
    pub(crate) async fn ensure_task_owner(&self, tx: &mut Tx, id: i64) -> Result<()> {
        let ok = self
            .user_tx(tx, id)
            .await
            .is_ok_and(|u| u.active && u.role.is_staff() && u.role.can_write());
        if ok {
            Ok(())
        } else {
            Err(StoreError::invalid(
                "owner_id",
                format!("user {id} is not an active agent who can own tasks"),
            ))
        }
    }

    /// The ticket must be one the actor can read (others are reported as
    /// missing, never as forbidden); returns its organization.
    async fn ensure_task_ticket(&self, actor: &Actor, id: i64) -> Result<Option<i64>> {
        match self.ticket(actor, id).await {
            Ok(t) => Ok(t.organization_id),
            Err(StoreError::NotFound(_)) => Err(StoreError::invalid(
                "ticket_id",
                format!("ticket {id} does not exist"),
            )),
            Err(e) => Err(e),
        }
    }

    async fn ensure_task_org(&self, tx: &mut Tx, id: i64) -> Result<()> {
        self.ensure_org_exists(tx, id).await.map_err(|e| match e {
            StoreError::Invalid { .. } | StoreError::NotFound(_) => StoreError::invalid(
                "organization_id",
                format!("organization {id} does not exist"),
            ),
            e => e,
        })
    }
}
