//! `/api/v2/job_statuses/{id}`: outcomes of bulk requests, and
//! `/api/v2/outbox`: the delivery log of outbound effects (e-mail, Slack),
//! for admins.

use axum::{Json, extract::State, http::HeaderMap, routing::get};
use serde_json::{Value, json};

use super::{Routes, base};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::Auth,
    render,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/job_statuses/{id}", get(show)),
        ("/api/v2/outbox", get(outbox)),
    ]
}

#[derive(serde::Deserialize)]
struct OutboxQuery {
    kind: Option<String>,
}

/// The newest 100 outbox messages (of `?kind=` if given) with their status:
/// `delivered`, `queued` (not tried yet; `last_error` may say why, e.g. SMTP
/// is not configured), `sending` (a worker claimed it and is trying) or
/// `retrying` (tried, failed, rescheduled).
async fn outbox(
    State(state): State<AppState>,
    Auth(actor): Auth,
    axum::extract::Query(q): axum::extract::Query<OutboxQuery>,
) -> ApiResult<Json<Value>> {
    crate::extract::require_admin(&actor)?;
    let kind = q.kind.as_deref().filter(|k| !k.is_empty());
    let rows = state.store.list_outbox(kind, 100).await?;
    let ts = |t: Option<i64>| t.map(steward_domain::time::format_unix);
    let messages: Vec<Value> = rows
        .iter()
        .map(|m| {
            let status = if m.delivered_at.is_some() {
                "delivered"
            } else if m.attempts == 0 {
                "queued"
            } else if m.last_error.is_some() {
                "retrying"
            } else {
                "sending"
            };
            json!({
                "id": m.id,
                "kind": m.kind,
                "idempotency_key": m.idempotency_key,
                "status": status,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "next_attempt_at": ts(m.delivered_at.is_none().then_some(m.available_at)),
                "delivered_at": ts(m.delivered_at),
                "created_at": ts(Some(m.created_at)),
                "payload": m.payload,
            })
        })
        .collect();
    Ok(Json(json!({"count": messages.len(), "outbox": messages})))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let id = id.strip_suffix(".json").unwrap_or(&id);
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::not_found());
    }
    let job = state.store.job(id, actor.id()).await?;
    Ok(Json(
        json!({"job_status": render::job_status(&job, &base(&state, &headers))}),
    ))
}
