//! Force-majeure events and the SLA report (policies.md §5).
//!
//! - `GET /api/v2/slas/force_majeure` (staff) lists the declared events;
//!   `POST` (admins) declares one from
//!   `{"force_majeure_event": {"kind", "description", "starts_at", "ends_at"}}`
//!   (RFC 3339 instants, the window `[starts_at, ends_at)`);
//!   `DELETE /api/v2/slas/force_majeure/{id}` (admins) withdraws one.
//! - `GET /api/v2/slas/reports?month=YYYY-MM[&organization_id=N]` answers
//!   `{"sla_report": ...}`, computed by `domain::sla_report` as of the
//!   month's end (or now): per account and for the portfolio, every metric
//!   decided in the period, misses, exclusions, force-majeure waivers,
//!   achievement against the tier's target, and credits. Staff who may see
//!   commercial data only (§8: contractors never see credits or fees).
//!
//! Exclusions themselves are set on tickets (`ticket.sla_exclusion`).

use axum::{Json, extract::State, http::StatusCode, routing::get};
use serde_json::{Value, json};
use steward_domain::{
    ForceMajeureKind,
    exclusions::{ForceMajeure, NewForceMajeure},
    time::{Month, format_unix},
};

use super::{Routes, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params, parse_id, require_admin, require_staff},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        (
            "/api/v2/slas/force_majeure",
            get(list_force_majeure).post(create_force_majeure),
        ),
        (
            "/api/v2/slas/force_majeure/{id}",
            get(show_force_majeure).delete(delete_force_majeure),
        ),
        ("/api/v2/slas/reports", get(report)),
    ]
}

fn window_json(w: &ForceMajeure) -> Value {
    json!({
        "id": w.id,
        "kind": w.kind.as_str(),
        "kind_label": w.kind.label(),
        "description": w.description,
        "starts_at": format_unix(w.starts_at),
        "ends_at": format_unix(w.ends_at),
        "created_by": w.created_by,
        "created_at": format_unix(w.created_at),
    })
}

async fn list_force_majeure(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let items: Vec<Value> = state
        .store
        .force_majeure_events()
        .await?
        .iter()
        .map(window_json)
        .collect();
    Ok(Json(json!({
        "force_majeure_events": items,
        "count": items.len(),
        "next_page": null,
        "previous_page": null,
    })))
}

async fn show_force_majeure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let w = state.store.force_majeure_event(id).await?;
    Ok(Json(json!({"force_majeure_event": window_json(&w)})))
}

/// Every field is checked and all problems reported at once (422).
fn parse_force_majeure(v: &Value) -> ApiResult<NewForceMajeure> {
    let mut r = Reader::new(v, "force_majeure_event")?;
    let kind = r.parsed("kind", ForceMajeureKind::parse).flatten();
    let description = r.text("description").flatten();
    let starts_at = r.instant("starts_at").flatten();
    let ends_at = r.instant("ends_at").flatten();
    for (key, missing) in [
        ("kind", kind.is_none()),
        ("description", description.is_none()),
        ("starts_at", starts_at.is_none()),
        ("ends_at", ends_at.is_none()),
    ] {
        // A present but malformed value has already been reported.
        if missing && matches!(r.raw(key), None | Some(Value::Null)) {
            r.error(key, "is required");
        }
    }
    if let (Some(kind), Some(description), Some(starts_at), Some(ends_at)) =
        (kind, &description, starts_at, ends_at)
    {
        match NewForceMajeure::parse(kind, description, starts_at, ends_at) {
            Ok(event) => {
                r.finish()?;
                return Ok(event);
            }
            Err(problems) => {
                for (field, e) in problems {
                    r.error(field, e.0);
                }
            }
        }
    }
    r.finish()?;
    // finish() fails whenever a field was missing or invalid.
    Err(ApiError::bad_request(
        "the force-majeure event is incomplete",
    ))
}

async fn create_force_majeure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require_admin(&actor)?;
    let event = parse_force_majeure(envelope(&body, "force_majeure_event")?)?;
    let w = state
        .store
        .create_force_majeure(&event, actor.id(), state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"force_majeure_event": window_json(&w)})),
    ))
}

async fn delete_force_majeure(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    require_admin(&actor)?;
    state.store.delete_force_majeure(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    if !actor.role().sees_commercials() {
        return Err(ApiError::forbidden(
            "SLA reports show credits and fees, which contractors may not see",
        ));
    }
    let month = params
        .get("month")
        .ok_or_else(|| ApiError::bad_request("month is required (YYYY-MM, e.g. 2026-03)"))
        .and_then(|m| Month::parse(m).map_err(|e| ApiError::bad_request(format!("month: {e}"))))?;
    let organization_id = params
        .get("organization_id")
        .map(|raw| {
            parse_id(raw.trim()).ok_or_else(|| {
                ApiError::bad_request(format!("organization_id: {raw} is not an id"))
            })
        })
        .transpose()?;
    let report = state
        .store
        .sla_report(month, organization_id, state.now())
        .await?;
    let body = serde_json::to_value(&report).map_err(|e| {
        tracing::error!(error = %e, "could not serialize an SLA report");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "An unexpected error occurred; it has been logged",
        )
    })?;
    Ok(Json(json!({ "sla_report": body })))
}
