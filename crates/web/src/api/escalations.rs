//! Escalations, war rooms and root-cause analyses (policies.md §6).

use axum::{
    Json,
    extract::State,
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::time::format_unix;
use steward_store::escalation::{Escalation, Rca, WarRoom};

use super::Routes;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, require_staff},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/tickets/{id}/escalations", get(ticket_escalations)),
        (
            "/api/v2/escalations/{id}",
            axum::routing::put(update_report),
        ),
        ("/api/v2/war_rooms", get(war_rooms)),
        ("/api/v2/war_rooms/{id}", get(war_room)),
        ("/api/v2/war_rooms/{id}/updates", post(add_update)),
        ("/api/v2/tickets/{id}/rca", get(rca).put(submit_rca)),
        (
            "/api/v2/escalation_contacts",
            get(contacts).put(put_contacts),
        ),
    ]
}

/// `GET /api/v2/escalation_contacts`: who each ladder title reaches
/// (policies.md §6). Titles without an entry fall back to roles (CS
/// Manager = admins, Implementation CSM = CSMs, Support Team = agents);
/// executives are reached through #escalations until given users.
async fn contacts(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let configured = state
        .store
        .setting("escalation_contacts")
        .await?
        .unwrap_or_else(|| json!({}));
    let ladders: serde_json::Map<String, Value> = steward_domain::Tier::ALL
        .iter()
        .map(|t| {
            (
                t.as_str().to_string(),
                json!(steward_domain::escalation::ladder(*t)),
            )
        })
        .collect();
    Ok(Json(
        json!({"escalation_contacts": configured, "ladders": ladders}),
    ))
}

/// `PUT /api/v2/escalation_contacts` with `{"escalation_contacts":
/// {"VP Engineering": [12], "CEO": [3], "Finance": [7]}}` (user ids per
/// title) replaces the map.
async fn put_contacts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    crate::extract::require_admin(&actor)?;
    let map = body
        .get("escalation_contacts")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request(
                "the body must be {\"escalation_contacts\": {\"Title\": [user ids]}}",
            )
        })?;
    let mut errors = Vec::new();
    for (title, ids) in map {
        let list = ids
            .as_array()
            .filter(|l| l.iter().all(|i| i.as_i64().is_some_and(|v| v > 0)));
        match list {
            Some(l) => {
                let ids: Vec<i64> = l.iter().filter_map(Value::as_i64).collect();
                let found = state.store.users_by_ids(&ids).await?;
                if found.len() != ids.len() || found.iter().any(|u| !u.role.is_staff() || !u.active)
                {
                    errors.push((
                        title.clone(),
                        "every id must be an active staff user".to_string(),
                    ));
                }
            }
            None => errors.push((title.clone(), "must be a list of user ids".to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    state
        .store
        .put_setting(
            "escalation_contacts",
            &Value::Object(map.clone()),
            state.now(),
        )
        .await?;
    contacts(State(state), Auth(actor)).await
}

fn escalation_json(e: &Escalation) -> Value {
    json!({
        "id": e.id,
        "ticket_id": e.ticket_id,
        "level": e.level,
        "from_level": e.from_level,
        "trigger": e.trigger,
        "contact": e.contact,
        "created_at": format_unix(e.created_at),
        "report": e.report,
    })
}

fn war_room_json(w: &WarRoom) -> Value {
    json!({
        "id": w.id,
        "problem_id": w.problem_id,
        "incident_ids": w.incident_ids,
        "opened_at": format_unix(w.opened_at),
        "closed_at": w.closed_at.map(format_unix),
        "status": if w.closed_at.is_some() { "closed" } else { "open" },
        "update_cadence_minutes": w.cadence_secs / 60,
        "next_update_due": w.next_update_due.map(format_unix),
        "participant_ids": w.participants,
        "updates": w.updates.iter().map(|(id, author, body, at)| json!({"id": id, "author_id": author, "body": body, "created_at": format_unix(*at)})).collect::<Vec<_>>(),
    })
}

fn rca_json(r: &Rca) -> Value {
    json!({
        "ticket_id": r.ticket_id,
        "due_at": format_unix(r.due_at),
        "submitted_at": r.submitted_at.map(format_unix),
        "author_id": r.author_id,
        "body": r.body,
        "status": if r.submitted_at.is_some() { "submitted" } else { "due" },
    })
}

async fn ticket_escalations(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    state.store.ticket(&actor, id).await?;
    let list: Vec<Value> = state
        .store
        .escalations(id)
        .await?
        .iter()
        .map(escalation_json)
        .collect();
    Ok(Json(json!({"escalations": list, "count": list.len()})))
}

/// `PUT /api/v2/escalations/{id}` with `{"escalation": {"report": {"business_impact": "...", ...}}}`.
async fn update_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    if !actor.role().can_write() {
        return Err(ApiError::forbidden(
            "viewers cannot change escalation reports",
        ));
    }
    let fields = body
        .pointer("/escalation/report")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request("the body must be {\"escalation\": {\"report\": {...}}}")
        })?;
    // Editing requires seeing the ticket (checked before anything changes).
    let ticket_id = state.store.escalation_ticket(id).await?;
    state.store.ticket(&actor, ticket_id).await?;
    let e = state.store.update_escalation_report(id, fields).await?;
    Ok(Json(json!({"escalation": escalation_json(&e)})))
}

async fn war_rooms(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let list: Vec<Value> = state
        .store
        .war_rooms(false)
        .await?
        .iter()
        .map(war_room_json)
        .collect();
    Ok(Json(json!({"war_rooms": list, "count": list.len()})))
}

async fn war_room(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    Ok(Json(
        json!({"war_room": war_room_json(&state.store.war_room(id).await?)}),
    ))
}

/// `POST /api/v2/war_rooms/{id}/updates` with `{"update": {"body": "..."}}`.
async fn add_update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    if !actor.role().can_write() {
        return Err(ApiError::forbidden("viewers cannot post updates"));
    }
    let text = body_text(&body, "/update/body", "update.body")?;
    let w = state
        .store
        .add_war_room_update(id, actor.id(), text, state.now())
        .await?;
    Ok(Json(json!({"war_room": war_room_json(&w)})))
}

/// A required text field of a body: present, no NUL, at most 64 KiB.
fn body_text<'a>(body: &'a Value, pointer: &str, name: &str) -> ApiResult<&'a str> {
    match body.pointer(pointer).and_then(Value::as_str) {
        None => Err(ApiError::invalid(vec![(name.into(), "is required".into())])),
        Some(t) if t.contains('\0') || t.len() > 65_536 => Err(ApiError::invalid(vec![(
            name.into(),
            "must be text of at most 64 KiB".into(),
        )])),
        Some(t) => Ok(t),
    }
}

async fn rca(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    state.store.ticket(&actor, id).await?;
    Ok(Json(json!({"rca": rca_json(&state.store.rca(id).await?)})))
}

/// `PUT /api/v2/tickets/{id}/rca` with `{"rca": {"body": "..."}}`.
async fn submit_rca(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    if !actor.role().can_write() {
        return Err(ApiError::forbidden("viewers cannot submit analyses"));
    }
    state.store.ticket(&actor, id).await?;
    let text = body_text(&body, "/rca/body", "rca.body")?;
    let r = state
        .store
        .submit_rca(id, actor.id(), text, state.now())
        .await?;
    Ok(Json(json!({"rca": rca_json(&r)})))
}
