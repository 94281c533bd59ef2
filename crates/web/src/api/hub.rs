//! The customer hub's API (issue 4): the communication log, contact roles
//! and the account timeline.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, put},
};
use serde_json::{Value, json};
use steward_domain::{
    hub::{CommunicationKind, ContactRole, Sentiment},
    time::{format_unix, parse_rfc3339},
};
use steward_store::hub::{ActionItem, Communication, CommunicationInput};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params},
    input::{Reader, envelope},
    render,
};

pub(super) fn routes() -> Routes {
    vec![
        (
            "/api/v2/organizations/{id}/communications",
            get(list).post(create),
        ),
        (
            "/api/v2/communications/{id}",
            get(show).put(update).delete(destroy),
        ),
        ("/api/v2/organizations/{id}/contacts", get(contacts)),
        ("/api/v2/users/{id}/contact_roles", put(set_roles)),
        ("/api/v2/organizations/{id}/timeline", get(timeline)),
    ]
}

fn communication_json(c: &Communication) -> Value {
    json!({
        "id": c.id,
        "organization_id": c.organization_id,
        "type": c.kind.as_str(),
        "occurred_at": format_unix(c.occurred_at),
        "topic": c.topic,
        "summary": c.summary,
        "attendees": c.attendees,
        "action_item_task_ids": c.action_item_task_ids,
        "follow_up_date": c.follow_up_on,
        "follow_up_task_id": c.follow_up_task_id,
        "sentiment": c.sentiment.map(|s| s.as_str()),
        "author_id": c.author_id,
        "created_at": format_unix(c.created_at),
        "updated_at": format_unix(c.updated_at),
    })
}

/// `{"communication": {"type", "occurred_at", "topic", "summary",
/// "attendees": [..], "action_items": [{"title", "owner_id", "due_at"}],
/// "follow_up_date": "YYYY-MM-DD", "sentiment"}}`.
fn parse(body: &Value) -> ApiResult<CommunicationInput> {
    let mut r = Reader::new(envelope(body, "communication")?, "communication")?;
    let mut input = CommunicationInput {
        kind: r.parsed("type", CommunicationKind::parse).flatten(),
        occurred_at: r.instant("occurred_at").flatten(),
        topic: r.line("topic").flatten(),
        summary: r.text("summary").flatten(),
        attendees: r.strings("attendees"),
        follow_up_on: r.date("follow_up_date"),
        sentiment: r.parsed("sentiment", Sentiment::parse),
        ..Default::default()
    };
    match r.raw("action_items") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for it in items {
                let mut ir = Reader::new(it, "communication.action_items")?;
                let item = ActionItem {
                    title: ir.line("title").flatten().unwrap_or_default(),
                    owner_id: ir.int("owner_id").flatten(),
                    due_at: ir.instant("due_at").flatten(),
                };
                ir.finish()?;
                input.action_items.push(item);
            }
        }
        Some(_) => r.error(
            "action_items",
            "must be a list of {title, owner_id, due_at}",
        ),
    }
    r.finish()?;
    Ok(input)
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    let limit = params.u32("per_page")?.unwrap_or(100).clamp(1, 100) as i64;
    let items: Vec<Value> = state
        .store
        .communications(&actor, org, limit)
        .await?
        .iter()
        .map(communication_json)
        .collect();
    Ok(Json(json!({"communications": items, "count": items.len()})))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = parse(&body)?;
    let c = state
        .store
        .create_communication(&actor, org, input, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"communication": communication_json(&c)})),
    )
        .into_response())
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let c = state.store.communication(&actor, id).await?;
    Ok(Json(json!({"communication": communication_json(&c)})))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let input = parse(&body)?;
    let c = state
        .store
        .update_communication(&actor, id, input, state.now())
        .await?;
    Ok(Json(json!({"communication": communication_json(&c)})))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_communication(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn contacts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<Value>> {
    let b = base(&state, &headers);
    let items: Vec<Value> = state
        .store
        .contacts(&actor, org)
        .await?
        .iter()
        .map(|(u, roles)| {
            let mut v = render::user(u, &b);
            v["contact_roles"] = json!(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>());
            v
        })
        .collect();
    Ok(Json(json!({"contacts": items, "count": items.len()})))
}

/// `PUT /api/v2/users/{id}/contact_roles` with `{"contact_roles": ["executive_sponsor", ...]}`.
async fn set_roles(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let list = body
        .get("contact_roles")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("the body must be {\"contact_roles\": [...]}"))?;
    let roles = list
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| "must be strings".to_string())
                .and_then(|s| ContactRole::parse(s).map_err(|e| e.0))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::invalid(vec![("contact_roles".into(), e)]))?;
    let set = state.store.set_contact_roles(&actor, id, &roles).await?;
    Ok(Json(
        json!({"contact_roles": set.iter().map(|r| r.as_str()).collect::<Vec<_>>()}),
    ))
}

/// `GET /api/v2/organizations/{id}/timeline[?before=RFC3339][&per_page=N]`:
/// newest first; page on with `before` = the last entry's time.
async fn timeline(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    let limit = params.u32("per_page")?.unwrap_or(100).clamp(1, 100) as i64;
    let before = match params.get("before") {
        Some(b) => parse_rfc3339(b).map_err(|e| ApiError::bad_request(e.0))?,
        None => state.now() + 1,
    };
    let entries = state.store.timeline(&actor, org, before, limit).await?;
    let items: Vec<Value> = entries
        .iter()
        .map(|e| json!({"at": format_unix(e.at), "type": e.kind, "title": e.title, "detail": e.detail}))
        .collect();
    Ok(Json(json!({"timeline": items, "count": items.len()})))
}
