//! `/api/v2/tasks`: follow-up tasks (policies.md §7). Staff read them
//! (tasks of tickets they cannot read stay invisible); all staff but
//! viewers write them. Zendesk-style envelopes: `{"task": {...}}` and
//! `{"tasks": [...], "count": n, "next_page": ..., "previous_page": ...}`
//! (or cursor pagination with `page[size]`). Lists filter on `owner_id`,
//! `ticket_id`, `organization_id` and `status`.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use steward_domain::{Priority, task::TaskStatus, time::format_unix};
use steward_store::tasks::{CreatedBy, MAX_TITLE, Task, TaskFilter, TaskInput};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params, require_staff},
    input::{Reader, envelope},
    paging,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/tasks", get(list).post(create)),
        ("/api/v2/tasks/{id}", get(show).put(update).delete(destroy)),
    ]
}

/// Viewers read everything and change nothing (§8).
fn may_write(actor: &steward_store::Actor) -> ApiResult<()> {
    if actor.role().can_write() {
        Ok(())
    } else {
        Err(ApiError::forbidden("viewers cannot change tasks"))
    }
}

fn task_json(t: &Task, base: &str) -> Value {
    json!({
        "id": t.id,
        "url": format!("{base}/api/v2/tasks/{}.json", t.id),
        "title": t.title,
        "description": t.description,
        "owner_id": t.owner_id,
        "due_at": t.due_at.map(format_unix),
        "priority": t.priority.as_str(),
        "status": t.status.as_str(),
        "ticket_id": t.ticket_id,
        "organization_id": t.organization_id,
        "created_by": match t.created_by {
            Some(CreatedBy::User(id)) => json!({"type": "user", "id": id}),
            Some(CreatedBy::Rule(id)) => json!({"type": "rule", "id": id}),
            Some(CreatedBy::System) | None => Value::Null,
        },
        "created_at": format_unix(t.created_at),
        "updated_at": format_unix(t.updated_at),
        "completed_at": t.completed_at.map(format_unix),
    })
}

/// The `task` object of a create or update request.
fn task_input(body: &Value, creating: bool) -> ApiResult<TaskInput> {
    let mut r = Reader::new(envelope(body, "task")?, "task")?;
    let mut t = TaskInput {
        title: r.line("title").flatten(),
        description: r.text("description").map(Option::unwrap_or_default),
        owner_id: r.int("owner_id"),
        due_at: r.instant("due_at"),
        ticket_id: r.int("ticket_id"),
        organization_id: r.int("organization_id"),
        ..Default::default()
    };
    match r.parsed("priority", Priority::parse_any) {
        Some(None) => r.error("priority", "cannot be null"),
        p => t.priority = p.flatten(),
    }
    match r.parsed("status", TaskStatus::parse_loose) {
        Some(None) => r.error("status", "cannot be null"),
        s => t.status = s.flatten(),
    }
    match &t.title {
        None if creating => r.error("title", "is required"),
        Some(title) if title.trim().is_empty() => r.error("title", "cannot be blank"),
        Some(title) if title.chars().count() > MAX_TITLE => r.error(
            "title",
            format!("is too long (at most {MAX_TITLE} characters)"),
        ),
        _ => {}
    }
    r.finish()?;
    Ok(t)
}

fn filter(p: &Params) -> ApiResult<TaskFilter> {
    let id = |k: &str| -> ApiResult<Option<i64>> {
        p.get(k)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("{k} must be an id")))
            })
            .transpose()
    };
    Ok(TaskFilter {
        owner_id: id("owner_id")?,
        ticket_id: id("ticket_id")?,
        organization_id: id("organization_id")?,
        status: p
            .get("status")
            .map(|s| TaskStatus::parse_loose(s).map_err(|e| ApiError::bad_request(e.0)))
            .transpose()?,
    })
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let f = filter(&params)?;
    let (req, sort) = paging::request(&params, &["id", "due_at", "created_at", "updated_at"])?;
    let page = state.store.list_tasks(&actor, &f, req, sort).await?;
    let b = base(&state, &headers);
    let items = page.items.iter().map(|t| task_json(t, &b)).collect();
    Ok(Json(paging::envelope(
        "tasks",
        &page,
        items,
        req,
        &uri,
        &b,
        |t| t.id,
    )))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let t = state.store.task(&actor, id).await?;
    Ok(Json(
        json!({"task": task_json(&t, &base(&state, &headers))}),
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    may_write(&actor)?;
    let input = task_input(&body, true)?;
    let t = state.store.create_task(&actor, input, state.now()).await?;
    Ok((
        created(),
        Json(json!({"task": task_json(&t, &base(&state, &headers))})),
    )
        .into_response())
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    may_write(&actor)?;
    let input = task_input(&body, false)?;
    let t = state
        .store
        .update_task(&actor, id, input, state.now())
        .await?;
    Ok(Json(
        json!({"task": task_json(&t, &base(&state, &headers))}),
    ))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    require_staff(&actor)?;
    may_write(&actor)?;
    state.store.delete_task(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
