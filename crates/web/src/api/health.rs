//! Churn risk and health (issue 5; policies.md §9): an account's score
//! with its explanation, history, flags and interventions; the factor
//! table; the portfolio by level.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
};
use serde_json::{Value, json};
use steward_domain::{
    health::{FactorDef, Level},
    time::format_unix,
};
use steward_store::health::{Current, Intervention, InterventionInput, RiskFlag};

use super::{Routes, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, Ids, JsonBody, Params},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/organizations/{id}/health", get(show)),
        (
            "/api/v2/organizations/{id}/health/recompute",
            post(recompute),
        ),
        (
            "/api/v2/organizations/{id}/risk_flags",
            get(flags).post(set_flag),
        ),
        (
            "/api/v2/organizations/{id}/risk_flags/{flag_id}",
            delete(clear_flag),
        ),
        (
            "/api/v2/organizations/{id}/interventions",
            get(interventions).post(create_intervention),
        ),
        ("/api/v2/interventions/{id}", put(update_intervention)),
        ("/api/v2/health/factors", get(factors).put(put_factors)),
        ("/api/v2/health/accounts", get(portfolio)),
    ]
}

fn score_json(c: &Current) -> Value {
    let up: i64 = c
        .factors
        .iter()
        .filter_map(|f| f["points"].as_i64())
        .filter(|p| *p > 0)
        .sum();
    let down: i64 = c
        .factors
        .iter()
        .filter_map(|f| f["points"].as_i64())
        .filter(|p| *p < 0)
        .sum();
    json!({
        "organization_id": c.organization_id,
        "risk_score": c.risk,
        "health_score": c.health,
        "level": c.level.as_str(),
        "raw_points": c.raw,
        "explanation": {
            "summary": format!(
                "risk {} = {:+} from risk factors {:+} from protective factors{}",
                c.risk, up, down,
                if c.raw != i32::from(c.risk) { format!(", clamped from {}", c.raw) } else { String::new() }
            ),
            "factors": c.factors,
        },
        "computed_at": format_unix(c.computed_at),
        "level_since": format_unix(c.level_since),
    })
}

fn flag_json(f: &RiskFlag) -> Value {
    json!({
        "id": f.id,
        "factor": f.factor_key,
        "note": f.note,
        "set_by": f.set_by,
        "set_at": format_unix(f.set_at),
        "expires_at": f.expires_at.map(format_unix),
    })
}

fn intervention_json(i: &Intervention) -> Value {
    json!({
        "id": i.id,
        "organization_id": i.organization_id,
        "primary_issue": i.primary_issue,
        "owner_id": i.owner_id,
        "started_on": i.started_on,
        "target_date": i.target_date,
        "progress": i.progress_pct,
        "status": i.status,
        "notes": i.notes,
        "created_at": format_unix(i.created_at),
        "updated_at": format_unix(i.updated_at),
    })
}

/// `GET .../health[?days=90]`: the score, its factors with evidence, the
/// history over `days`, the flags and interventions.
async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    let now = state.now();
    let days = i64::from(params.u32("days")?.unwrap_or(90).clamp(1, 730));
    let c = state.store.health_of(&actor, org, now).await?;
    let history = state
        .store
        .health_history(&actor, org, now - days * 86_400)
        .await?;
    let flags = state.store.risk_flags(&actor, org, now).await?;
    let interventions = state.store.interventions(&actor, org).await?;
    let mut v = score_json(&c);
    v["history"] = json!(
        history
            .iter()
            .map(|(at, risk, level)| json!({"at": format_unix(*at), "risk_score": risk, "level": level}))
            .collect::<Vec<_>>()
    );
    v["flags"] = json!(flags.iter().map(flag_json).collect::<Vec<_>>());
    v["interventions"] = json!(
        interventions
            .iter()
            .map(intervention_json)
            .collect::<Vec<_>>()
    );
    Ok(Json(json!({"health": v})))
}

async fn recompute(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
) -> ApiResult<Json<Value>> {
    if !actor.role().can_write() || !actor.role().is_staff() {
        return Err(ApiError::forbidden(
            "only staff who can write recompute scores",
        ));
    }
    state.store.org(org).await?;
    state
        .store
        .recompute_health(Some(&[org]), state.now())
        .await?;
    let c = state.store.health_of(&actor, org, state.now()).await?;
    Ok(Json(json!({"health": score_json(&c)})))
}

async fn flags(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.risk_flags(&actor, org, state.now()).await?;
    Ok(Json(
        json!({"risk_flags": items.iter().map(flag_json).collect::<Vec<_>>()}),
    ))
}

/// `{"risk_flag": {"factor": "sponsor_departed", "note": "...", "expires_at": RFC3339?}}`.
async fn set_flag(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "risk_flag")?, "risk_flag")?;
    let factor = r.line("factor").flatten();
    let note = r.text("note").flatten();
    let expires = r.instant("expires_at").flatten();
    r.finish()?;
    let factor = factor.ok_or_else(|| {
        ApiError::invalid(vec![("risk_flag.factor".into(), "is required".into())])
    })?;
    let now = state.now();
    let id = state
        .store
        .set_risk_flag(
            &actor,
            org,
            &factor,
            note.as_deref().unwrap_or_default(),
            expires,
            now,
        )
        .await?;
    let c = state.store.health_of(&actor, org, now).await?;
    Ok((
        created(),
        Json(json!({"risk_flag": {"id": id}, "health": score_json(&c)})),
    )
        .into_response())
}

async fn clear_flag(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(org, id): Ids,
) -> ApiResult<StatusCode> {
    state
        .store
        .clear_risk_flag(&actor, org, id, state.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn intervention_input(body: &Value) -> ApiResult<InterventionInput> {
    let mut r = Reader::new(envelope(body, "intervention")?, "intervention")?;
    let input = InterventionInput {
        primary_issue: r.line("primary_issue").flatten(),
        owner_id: r.int("owner_id"),
        started_on: r.date("started_on").flatten(),
        target_date: r.date("target_date"),
        progress_pct: r.int("progress").flatten(),
        status: r.line("status").flatten(),
        notes: r.text("notes").flatten(),
    };
    r.finish()?;
    Ok(input)
}

async fn interventions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.interventions(&actor, org).await?;
    Ok(Json(
        json!({"interventions": items.iter().map(intervention_json).collect::<Vec<_>>()}),
    ))
}

async fn create_intervention(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = intervention_input(&body)?;
    let i = state
        .store
        .create_intervention(&actor, org, input, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"intervention": intervention_json(&i)})),
    )
        .into_response())
}

async fn update_intervention(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let input = intervention_input(&body)?;
    let i = state
        .store
        .update_intervention(&actor, id, input, state.now())
        .await?;
    Ok(Json(json!({"intervention": intervention_json(&i)})))
}

async fn factors(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    if !actor.role().is_staff() {
        return Err(ApiError::forbidden("the risk model is for staff"));
    }
    Ok(Json(json!({"factors": state.store.risk_factors().await?})))
}

/// `PUT` with `{"factors": [...]}`: the whole table (admins).
async fn put_factors(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let list = body
        .get("factors")
        .cloned()
        .ok_or_else(|| ApiError::invalid(vec![("factors".into(), "is required".into())]))?;
    let table: Vec<FactorDef> = serde_json::from_value(list)
        .map_err(|e| ApiError::invalid(vec![("factors".into(), e.to_string())]))?;
    state
        .store
        .put_risk_factors(&actor, &table, state.now())
        .await?;
    Ok(Json(json!({"factors": table})))
}

/// `GET /api/v2/health/accounts[?level=red][&per_page=N]`: riskiest first.
async fn portfolio(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let level = params
        .get("level")
        .map(Level::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.0))?;
    let limit = i64::from(params.u32("per_page")?.unwrap_or(100).clamp(1, 1000));
    let rows = state.store.health_portfolio(&actor, level, limit).await?;
    Ok(Json(json!({
        "accounts": rows.iter().map(|(id, name, c)| {
            let mut v = score_json(c);
            v["name"] = json!(name);
            v["organization_id"] = json!(id);
            v
        }).collect::<Vec<_>>(),
    })))
}
