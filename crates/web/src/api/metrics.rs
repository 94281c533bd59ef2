//! Baseline metrics API (policies.md §14): the per-account summary, series,
//! ingestion as JSON batches or CSV, the baseline plan with its sign-off,
//! and the alerts raised when a series turned red.
//!
//! A batch is all or nothing: the first bad row is reported as a 422 naming
//! it (`measurements[3].value`, or `line 5` in a CSV file); more than
//! [`MAX_BATCH`] rows is a 413. Dates without a time (`2026-03-03`) mean
//! midnight at the start of the day in the account's business time zone.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::{
    metrics::{Metric, PlanItem, When, parse_number},
    time::format_unix,
};
use steward_store::metrics::{
    FieldSummary, MAX_BATCH, Measurement, MetricAlert, RawMeasurement, SeriesFilter, plan_json,
};

use super::{Routes, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params, TextBody},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/organizations/{id}/metrics", get(summary)),
        (
            "/api/v2/organizations/{id}/measurements",
            get(series).post(create),
        ),
        (
            "/api/v2/organizations/{id}/measurements/import",
            post(import),
        ),
        (
            "/api/v2/organizations/{id}/baseline_plan",
            get(show_plan).put(put_plan),
        ),
        (
            "/api/v2/organizations/{id}/baseline_plan/sign_off",
            post(sign_off),
        ),
        ("/api/v2/organizations/{id}/metric_alerts", get(alerts)),
    ]
}

/// Four decimals are plenty for a dashboard and keep means readable.
fn num(v: f64) -> Value {
    json!((v * 10_000.0).round() / 10_000.0)
}

fn opt_num(v: Option<f64>) -> Value {
    v.map(num).unwrap_or(Value::Null)
}

fn measurement_json(m: &Measurement) -> Value {
    json!({
        "id": m.id,
        "organization_id": m.organization_id,
        "metric": m.metric.as_str(),
        "field": m.field,
        "label": m.label,
        "value": m.value,
        "measured_at": format_unix(m.measured_at),
        "source": m.source,
        "created_at": format_unix(m.created_at),
    })
}

fn alert_json(a: &MetricAlert) -> Value {
    json!({
        "id": a.id,
        "organization_id": a.organization_id,
        "metric": a.metric.as_str(),
        "field": a.field,
        "label": a.label,
        "value": a.value,
        "measured_at": format_unix(a.measured_at),
        "measurement_id": a.measurement_id,
        "created_at": format_unix(a.created_at),
    })
}

fn field_json(f: &FieldSummary) -> Value {
    json!({
        "field": f.field.name,
        "label": f.label,
        "unit": f.field.unit,
        "direction": f.field.direction.as_str(),
        "computed": f.field.computed,
        "latest": f.latest.map(|s| json!({"value": num(s.value), "measured_at": format_unix(s.at)})),
        "running_baseline": opt_num(f.running_baseline),
        "previous_running_baseline": opt_num(f.previous_running_baseline),
        "week1_baseline": opt_num(f.week1_baseline),
        "rag": f.rag.map(|r| r.as_str()),
        "trend": f.trend.map(|t| t.as_str()),
        "thresholds": f.thresholds,
        "thresholds_source": f.thresholds.map(|_| f.thresholds_source),
    })
}

/// `GET /api/v2/organizations/{id}/metrics`: every metric with its series.
async fn summary(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
) -> ApiResult<Json<Value>> {
    let s = state
        .store
        .metrics_summary(&actor, org, state.now())
        .await?;
    let metrics: Vec<Value> = Metric::ALL
        .iter()
        .map(|m| {
            let fields: Vec<Value> = s
                .fields
                .iter()
                .filter(|f| f.metric == *m)
                .map(field_json)
                .collect();
            json!({"metric": m.as_str(), "title": m.title(), "fields": fields})
        })
        .collect();
    Ok(Json(json!({
        "metrics": metrics,
        "go_live_on": s.go_live_on.map(|d| d.to_string()),
        "time_zone": s.time_zone,
        "as_of": format_unix(s.as_of),
    })))
}

/// `GET .../measurements?metric=&field=&label=&from=&to=&limit=`: oldest
/// first; `from` inclusive, `to` exclusive, each a date or RFC 3339.
async fn series(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    // Also checks access and that the account exists.
    let plan = state.store.baseline_plan(&actor, org).await?;
    let tz = plan.plan.tz();
    let metric = params
        .get("metric")
        .map(Metric::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(vec![("metric".into(), e.0)]))?;
    let field = params.get("field").map(str::to_string);
    if let (Some(m), Some(f)) = (metric, &field) {
        m.field(f)
            .map_err(|e| ApiError::invalid(vec![("field".into(), e.0)]))?;
    }
    let bound = |k: &str| -> ApiResult<Option<i64>> {
        params
            .get(k)
            .map(|v| When::parse(v).and_then(|w| w.resolve(&tz)))
            .transpose()
            .map_err(|e| ApiError::invalid(vec![(k.to_string(), e.0)]))
    };
    let filter = SeriesFilter {
        metric,
        field,
        label: params.get("label").map(str::to_string),
        from: bound("from")?,
        to: bound("to")?,
        limit: params.u32("limit")?.unwrap_or(1_000).clamp(1, 10_000) as i64,
    };
    let rows = state.store.measurements(&actor, org, &filter).await?;
    let items: Vec<Value> = rows.iter().map(measurement_json).collect();
    Ok(Json(json!({"measurements": items, "count": items.len()})))
}

fn too_many() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestTooLarge",
        format!("at most {MAX_BATCH} measurements per request"),
    )
}

/// `{"measurements": [{"metric", "field", "value", "measured_at", "label"?}]}`.
fn parse_batch(body: &Value) -> ApiResult<Vec<RawMeasurement>> {
    let list = match body.get("measurements") {
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(ApiError::invalid(vec![(
                "measurements".into(),
                "must be a list".into(),
            )]));
        }
        None => {
            return Err(ApiError::bad_request(
                "the body must be {\"measurements\": [...]}",
            ));
        }
    };
    if list.is_empty() {
        return Err(ApiError::invalid(vec![(
            "measurements".into(),
            "must not be empty".into(),
        )]));
    }
    if list.len() > MAX_BATCH {
        return Err(too_many());
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let mut r = Reader::new(item, &format!("measurements[{i}]"))?;
        let metric = r.line("metric").flatten();
        let field = r.line("field").flatten();
        let value = match r.raw("value") {
            Some(Value::Number(n)) => n.as_f64().filter(|v| v.is_finite()),
            Some(Value::String(s)) => parse_number(s).ok(),
            _ => None,
        };
        if value.is_none() {
            r.error("value", "must be a finite number");
        }
        let when = r.parsed("measured_at", When::parse).flatten();
        let label = r.line("label").flatten();
        if metric.is_none() {
            r.error("metric", "is required");
        }
        if field.is_none() {
            r.error("field", "is required");
        }
        if matches!(r.raw("measured_at"), None | Some(Value::Null)) {
            r.error(
                "measured_at",
                "is required (a date or an RFC 3339 timestamp)",
            );
        }
        r.finish()?;
        if let (Some(metric), Some(field), Some(value), Some(measured_at)) =
            (metric, field, value, when)
        {
            out.push(RawMeasurement {
                metric,
                field,
                value,
                measured_at,
                label,
            });
        } else {
            // Every missing part was reported above; this is a backstop.
            return Err(ApiError::invalid(vec![(
                format!("measurements[{i}]"),
                "is incomplete".into(),
            )]));
        }
    }
    Ok(out)
}

fn added_json(added: &steward_store::metrics::Added) -> Value {
    let alerts: Vec<Value> = added.alerts.iter().map(alert_json).collect();
    let rows: Vec<Value> = added.measurements.iter().map(measurement_json).collect();
    json!({"measurements": rows, "imported": rows.len(), "alerts": alerts})
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let rows = parse_batch(&body)?;
    let added = state
        .store
        .add_measurements(&actor, org, rows, state.now())
        .await?;
    Ok((created(), Json(added_json(&added))).into_response())
}

/// `POST .../measurements/import` with a CSV body
/// (`metric,field,value,measured_at[,label]`).
async fn import(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    TextBody(text): TextBody,
) -> ApiResult<Response> {
    let rows = text.lines().filter(|l| !l.trim().is_empty()).count();
    if rows.saturating_sub(1) > MAX_BATCH {
        return Err(too_many());
    }
    let added = state
        .store
        .import_measurements_csv(&actor, org, &text, state.now())
        .await?;
    let alerts: Vec<Value> = added.alerts.iter().map(alert_json).collect();
    Ok((
        created(),
        Json(json!({"imported": added.measurements.len(), "alerts": alerts})),
    )
        .into_response())
}

async fn show_plan(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
) -> ApiResult<Json<Value>> {
    let p = state.store.baseline_plan(&actor, org).await?;
    Ok(Json(json!({"baseline_plan": plan_json(&p)})))
}

/// `{"baseline_plan": {"go_live_on": "YYYY-MM-DD"|null, "time_zone"?,
/// "items": [{"metric", "field", "frequency", "owner_id"?,
/// "thresholds"?: {"green": ">= 99.9", "yellow": ">= 99.5"}}]}}`.
async fn put_plan(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut r = Reader::new(envelope(&body, "baseline_plan")?, "baseline_plan")?;
    let go_live_on = r.date("go_live_on").flatten();
    let time_zone = r.line("time_zone").flatten();
    let items: Vec<PlanItem> = match r.raw("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => match serde_json::from_value(v.clone()) {
            Ok(items) => items,
            Err(e) => {
                r.error("items", e.to_string());
                Vec::new()
            }
        },
    };
    r.finish()?;
    let go_live_on = go_live_on
        .map(|d| steward_domain::time::parse_date(&d))
        .transpose()
        .map_err(|e| ApiError::invalid(vec![("baseline_plan.go_live_on".into(), e.0)]))?;
    let plan = steward_domain::metrics::BaselinePlan { items, time_zone };
    let p = state
        .store
        .put_baseline_plan(&actor, org, plan, go_live_on, state.now())
        .await?;
    Ok(Json(json!({"baseline_plan": plan_json(&p)})))
}

async fn sign_off(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
) -> ApiResult<Json<Value>> {
    let p = state
        .store
        .sign_off_baseline_plan(&actor, org, state.now())
        .await?;
    Ok(Json(json!({"baseline_plan": plan_json(&p)})))
}

async fn alerts(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    let limit = params.u32("per_page")?.unwrap_or(100).clamp(1, 100) as i64;
    let items: Vec<Value> = state
        .store
        .metric_alerts(&actor, org, limit)
        .await?
        .iter()
        .map(alert_json)
        .collect();
    Ok(Json(json!({"metric_alerts": items, "count": items.len()})))
}
