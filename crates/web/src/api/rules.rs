//! `/api/v2/triggers` and `/api/v2/automations`: automation rules as data
//! (policies.md §7). Staff read them; admins write them. The body is
//! Zendesk's: `{"trigger": {"title", "active", "position", "conditions":
//! {"all": [...], "any": [...]}, "actions": [...]}}` (likewise
//! `automation`); the condition and action vocabulary is documented in
//! `steward_domain::automation`. Every problem of a rule is reported at
//! once as a 422 with per-path details (`trigger.conditions.all[0].field`).

use axum::{
    Json,
    extract::{FromRequestParts, State},
    http::{HeaderMap, StatusCode, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use steward_domain::{
    automation::{self, RuleKind},
    time::format_unix,
};
use steward_store::automation::{Rule, RuleInput};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, require_admin, require_staff},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/triggers", get(list).post(create)),
        (
            "/api/v2/triggers/{id}",
            get(show).put(update).delete(destroy),
        ),
        ("/api/v2/automations", get(list).post(create)),
        (
            "/api/v2/automations/{id}",
            get(show).put(update).delete(destroy),
        ),
    ]
}

/// Which kind of rule a request is about, from its path: the two
/// resources share their handlers.
struct Kind(RuleKind);

impl<S: Send + Sync> FromRequestParts<S> for Kind {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let path = parts.uri.path();
        if path.starts_with("/api/v2/triggers") {
            Ok(Kind(RuleKind::Trigger))
        } else if path.starts_with("/api/v2/automations") {
            Ok(Kind(RuleKind::Automation))
        } else {
            Err(ApiError::not_found())
        }
    }
}

/// `trigger` / `automation`, and the plural for lists.
fn keys(kind: RuleKind) -> (&'static str, &'static str) {
    match kind {
        RuleKind::Trigger => ("trigger", "triggers"),
        RuleKind::Automation => ("automation", "automations"),
    }
}

fn rule_json(r: &Rule, base: &str) -> Value {
    json!({
        "id": r.id,
        "url": format!("{base}/api/v2/{}/{}.json", keys(r.kind).1, r.id),
        "title": r.title,
        "description": r.description,
        "active": r.active,
        "position": r.position,
        "conditions": r.conditions.to_json(),
        "actions": automation::actions_to_json(&r.actions),
        "created_at": format_unix(r.created_at),
        "updated_at": format_unix(r.updated_at),
    })
}

/// Reads a rule body; `creating` requires title, conditions and actions.
fn rule_input(body: &Value, kind: RuleKind, creating: bool) -> ApiResult<RuleInput> {
    let key = keys(kind).0;
    let mut r = Reader::new(envelope(body, key)?, key)?;
    let title = match r.line("title") {
        Some(t) => t,
        // Steward's own spelling, for clients that think of rules by name.
        None => r.line("name").flatten(),
    };
    let mut input = RuleInput {
        title,
        description: r.text("description").map(Option::unwrap_or_default),
        active: r.boolean("active"),
        position: r.int("position").flatten(),
        ..Default::default()
    };
    if creating && input.title.is_none() {
        r.error("title", "is required");
    }
    match r.raw("conditions") {
        Some(v) => match automation::parse_conditions(kind, v) {
            Ok(c) => input.conditions = Some(c),
            Err(problems) => problems.into_iter().for_each(|(p, m)| r.error(&p, m)),
        },
        None if creating => r.error("conditions", "is required"),
        None => {}
    }
    match r.raw("actions") {
        Some(v) => match automation::parse_actions(v) {
            Ok(a) => input.actions = Some(a),
            Err(problems) => problems.into_iter().for_each(|(p, m)| r.error(&p, m)),
        },
        None if creating => r.error("actions", "is required"),
        None => {}
    }
    r.finish()?;
    Ok(input)
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Kind(kind): Kind,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let b = base(&state, &headers);
    let items: Vec<Value> = state
        .store
        .rules(kind)
        .await?
        .iter()
        .map(|r| rule_json(r, &b))
        .collect();
    Ok(Json(json!({
        keys(kind).1: items,
        "count": items.len(),
        "next_page": null,
        "previous_page": null,
    })))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Kind(kind): Kind,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let r = state.store.rule(kind, id).await?;
    Ok(Json(
        json!({keys(kind).0: rule_json(&r, &base(&state, &headers))}),
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Kind(kind): Kind,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    require_admin(&actor)?;
    let input = rule_input(&body, kind, true)?;
    let r = state.store.create_rule(kind, input, state.now()).await?;
    Ok((
        created(),
        Json(json!({keys(kind).0: rule_json(&r, &base(&state, &headers))})),
    )
        .into_response())
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Kind(kind): Kind,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let input = rule_input(&body, kind, false)?;
    let r = state
        .store
        .update_rule(kind, id, input, state.now())
        .await?;
    Ok(Json(
        json!({keys(kind).0: rule_json(&r, &base(&state, &headers))}),
    ))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Kind(kind): Kind,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    require_admin(&actor)?;
    state.store.delete_rule(kind, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
