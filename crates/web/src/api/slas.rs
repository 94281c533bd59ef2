//! SLA policies, calendars and metric events (policies.md §2, §4).
//!
//! `GET /api/v2/slas/policies` answers in Zendesk's shape (`sla_policies`
//! with `filter` and `policy_metrics`, targets in minutes) and carries
//! Steward's own definition beside it (`scope`, `targets` with amount, unit
//! and calendar, `achievement_bp`); `PUT` takes that definition back, so a
//! client can GET, edit and PUT the table. Calendars list their hours and
//! holidays; admins replace holiday lists.

use axum::{
    Json,
    extract::{OriginalUri, Path, State},
    http::{HeaderMap, StatusCode},
    routing::get,
};
use serde_json::{Value, json};
use steward_domain::{
    Role,
    sla::{Clock, Policies, Policy, Scope},
    time::format_unix,
};
use steward_store::{
    calendars::{CalendarPatch, CalendarSet},
    sla::StoredMetricEvent,
};

use super::{Routes, base};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, JsonBody, Params, require_admin, require_staff},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/slas/policies", get(policies).put(put_policies)),
        ("/api/v2/calendars", get(calendars)),
        (
            "/api/v2/calendars/{name}",
            get(calendar).put(put_calendar).delete(delete_calendar),
        ),
        ("/api/v2/incremental/ticket_metric_events", get(incremental)),
        ("/api/v2/channels", get(channels).put(put_channels)),
    ]
}

fn policy_json(i: usize, p: &Policy, cals: &CalendarSet) -> Value {
    let filter = match &p.scope {
        Scope::Tier(t) => {
            json!({"all": [{"field": "organization.tier", "operator": "is", "value": t.as_str()}], "any": []})
        }
        Scope::Group(g) => {
            json!({"all": [{"field": "organization.tier", "operator": "is", "value": null},
                                          {"field": "group_id", "operator": "is", "value": g}], "any": []})
        }
    };
    let metrics: Vec<Value> = p
        .targets
        .iter()
        .map(|t| {
            let seconds = steward_domain::sla::Calendars::get(cals, &t.within.calendar)
                .map(|c| t.within.seconds(c));
            json!({
                "priority": t.priority.as_str(),
                "metric": t.metric.as_str(),
                "target": seconds.map(|s| s / 60),
                "target_in_seconds": seconds,
                "business_hours": t.within.calendar != "24x7",
                "calendar": t.within.calendar,
            })
        })
        .collect();
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(i + 1));
        m.insert("position".into(), json!(i + 1));
        m.insert(
            "description".into(),
            json!(format!("Steward default policy: {}", p.title)),
        );
        m.insert("filter".into(), filter);
        m.insert("policy_metrics".into(), Value::Array(metrics));
    }
    v
}

async fn policies(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let p = state.store.sla_policies().await?;
    let cals = state.store.calendars().await?;
    let items: Vec<Value> =
        p.0.iter()
            .enumerate()
            .map(|(i, p)| policy_json(i, p, &cals))
            .collect();
    Ok(Json(
        json!({"count": items.len(), "sla_policies": items, "next_page": null, "previous_page": null}),
    ))
}

async fn put_policies(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let list = body
        .get("sla_policies")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("the body must be {\"sla_policies\": [...]}"))?;
    let p: Policies = serde_json::from_value(list)
        .map_err(|e| ApiError::invalid(vec![("sla_policies".into(), e.to_string())]))?;
    state.store.set_sla_policies(&p, state.now()).await?;
    policies(State(state), Auth(actor)).await
}

fn calendar_json(name: &str, cals: &CalendarSet) -> Value {
    match cals.calendar(name) {
        Some(c) => {
            let def = c.to_def();
            let mut v = serde_json::to_value(&def).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut v {
                m.insert("name".into(), json!(name));
                m.insert("working_day_seconds".into(), json!(c.working_day_seconds()));
            }
            v
        }
        None => Value::Null,
    }
}

async fn calendars(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let cals = state.store.calendars().await?;
    let items: Vec<Value> = cals.names().map(|n| calendar_json(n, &cals)).collect();
    Ok(Json(json!({"calendars": items, "count": items.len()})))
}

async fn calendar(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let name = name.strip_suffix(".json").unwrap_or(&name).to_string();
    let cals = state.store.calendars().await?;
    match calendar_json(&name, &cals) {
        Value::Null => Err(ApiError::not_found()),
        v => Ok(Json(json!({"calendar": v}))),
    }
}

/// `PUT /api/v2/calendars/{name}` with `{"calendar": {"zone": "Europe/Berlin",
/// "hours": {"mon": ["09:00-17:00"], ...}, "holidays": ["2026-12-25"]}}`;
/// omitted parts keep their value; a new name needs a zone and hours.
async fn put_calendar(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let name = name.strip_suffix(".json").unwrap_or(&name).to_string();
    let patch = body
        .get("calendar")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("the body must be {\"calendar\": {...}}"))?;
    let patch: CalendarPatch = serde_json::from_value(patch)
        .map_err(|e| ApiError::invalid(vec![("calendar".into(), e.to_string())]))?;
    state.store.put_calendar(&name, patch, state.now()).await?;
    calendar(State(state), Auth(actor), Path(name)).await
}

async fn delete_calendar(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    require_admin(&actor)?;
    let name = name.strip_suffix(".json").unwrap_or(&name).to_string();
    state.store.delete_calendar(&name, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v2/channels`: the Slack-compatible channels of policies.md §19
/// and their webhook URLs (admins; the URLs are secrets).
async fn channels(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let configured = state
        .store
        .setting("channels")
        .await?
        .unwrap_or_else(|| json!({}));
    Ok(Json(json!({"channels": configured})))
}

/// `PUT /api/v2/channels` with `{"channels": {"#critical-alerts":
/// {"webhook_url": "https://hooks.slack.com/..."}, ...}}` replaces the map.
async fn put_channels(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let map = body
        .get("channels")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ApiError::bad_request(
                "the body must be {\"channels\": {\"#name\": {\"webhook_url\": \"...\"}}}",
            )
        })?;
    let mut errors = Vec::new();
    for (name, cfg) in map {
        if !name.starts_with('#') || name.len() > 80 || name.contains(char::is_whitespace) {
            errors.push((
                name.clone(),
                "channel names look like #critical-alerts".to_string(),
            ));
        }
        match cfg.get("webhook_url").and_then(Value::as_str) {
            Some(u)
                if (u.starts_with("http://") || u.starts_with("https://"))
                    && u.len() <= 2048
                    && !u.contains(char::is_whitespace) => {}
            _ => errors.push((
                format!("{name}.webhook_url"),
                "must be an http(s) URL".to_string(),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    state
        .store
        .put_setting("channels", &Value::Object(map.clone()), state.now())
        .await?;
    channels(State(state), Auth(actor)).await
}

pub(crate) fn event_json(e: &StoredMetricEvent) -> Value {
    let mut v = json!({
        "id": e.id,
        "ticket_id": e.ticket_id,
        "metric": e.metric,
        "instance_id": e.instance_id,
        "type": e.event_type,
        "time": format_unix(e.time),
    });
    if let (Some(sla), Value::Object(m)) = (&e.sla, &mut v) {
        m.insert("sla".into(), sla.clone());
    }
    if e.event_type == "breach"
        && let Value::Object(m) = &mut v
    {
        m.insert("deleted".into(), json!(false));
    }
    v
}

/// Zendesk's `slas.policy_metrics` for a ticket: every clock that is not
/// achieved, with its stage and breach instant.
pub(crate) fn slas_json(clocks: &[Clock], cals: &CalendarSet, now: i64) -> Value {
    let metrics: Vec<Value> = clocks
        .iter()
        .filter(|c| c.fulfilled_at.is_none())
        .map(|c| {
            let cal = steward_domain::sla::Calendars::get(cals, &c.calendar);
            let breach = cal.and_then(|cal| c.breach_at(cal));
            let mut v = json!({
                "metric": c.metric.as_str(),
                "instance_id": c.instance,
                "stage": c.stage().as_str(),
                "breach_at": breach.map(format_unix),
                "minutes": c.target_secs / 60,
                "calendar": c.calendar,
                "policy": c.policy,
            });
            if let (Some(cal), Value::Object(m)) = (cal, &mut v) {
                m.insert("elapsed_seconds".into(), json!(c.elapsed_at(cal, now)));
            }
            v
        })
        .collect();
    json!({"policy_metrics": metrics})
}

/// `GET /api/v2/incremental/ticket_metric_events?start_time=UNIX`, then
/// `page[after]` cursors from `links.next` until `end_of_stream`.
async fn incremental(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    if !matches!(actor.role(), Role::Admin | Role::Viewer) {
        return Err(ApiError::forbidden("incremental exports are for admins"));
    }
    let start_time: i64 = match params.get("start_time") {
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad_request("start_time must be a unix timestamp"))?,
        None if params.get("page[after]").is_some() => 0,
        None => return Err(ApiError::bad_request("start_time is required")),
    };
    let size = params.u32("page[size]")?.unwrap_or(1000).clamp(1, 1000) as i64;
    let after = params
        .get("page[after]")
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                ApiError::bad_request("page[after] is not a cursor this server issued")
            })
        })
        .transpose()?;
    let mut events = state
        .store
        .metric_events(None, start_time, after, size + 1)
        .await?;
    let has_more = events.len() as i64 > size;
    events.truncate(size as usize);
    let last = events.last().map(|e| e.id).or(after);
    let next = last.map(|l| {
        format!(
            "{}{}?page[after]={l}&page[size]={size}",
            base(&state, &headers),
            uri.path()
        )
    });
    let items: Vec<Value> = events.iter().map(event_json).collect();
    Ok(Json(json!({
        "ticket_metric_events": items,
        "count": items.len(),
        "meta": {"has_more": has_more, "after_cursor": last.map(|l| l.to_string())},
        "links": {"next": next},
        "end_of_stream": !has_more,
    })))
}
