//! Calendars and holidays (§2), SLA policies (§4), escalation contacts
//! (§6), risk factors (§9) and notification channels (§19).

use std::collections::BTreeSet;

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use serde_json::{Map, Value as Json, json};
use steward_domain::{
    Priority, Role,
    calendar::WeeklyHours,
    health::FactorDef,
    sla::{Metric, Policies, Scope, Span, Unit},
};
use steward_store::{
    PageRequest, Sort, UserFilter, calendars::CalendarPatch, sessions::WebSession,
};

use super::{Admin, Errors, admin_page, done, error, field_error, notice, require_admin};
use crate::{
    AppState,
    extract::Params,
    ui::{page::UiError, session::Posted},
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/calendars", get(calendars).post(create_calendar))
        .route("/admin/calendars/{name}/zone", post(set_zone))
        .route("/admin/calendars/{name}/hours", post(set_hours))
        .route("/admin/calendars/{name}/delete", post(delete_calendar))
        .route("/admin/calendars/{name}/holidays", post(add_holiday))
        .route(
            "/admin/calendars/{name}/holidays/remove",
            post(remove_holiday),
        )
        .route("/admin/slas", get(slas).post(save_slas))
        .route(
            "/admin/escalation-contacts",
            get(contacts).post(save_contacts),
        )
        .route("/admin/risk-factors", get(factors).post(save_factors))
        .route("/admin/channels", get(channels).post(save_channels))
}

// ---- Calendars -----------------------------------------------------------

const DAYS: [(&str, &str); 7] = [
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
];

async fn calendars(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    calendars_page(&state, &s, notice(&params), Errors::new(), StatusCode::OK).await
}

async fn calendars_page(
    state: &AppState,
    s: &WebSession,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let cals = state.store.calendars().await?;
    let items: Vec<Value> = cals
        .names()
        .filter_map(|n| cals.calendar(n).map(|c| (n, c.to_def())))
        .map(|(name, def)| {
            let hours = serde_json::to_value(&def.hours).unwrap_or(Json::Null);
            let days: Vec<Value> = DAYS
                .iter()
                .map(|(k, label)| {
                    let spans: Vec<String> = hours
                        .get(*k)
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    context! { key => *k, label => *label, spans }
                })
                .collect();
            let holidays: Vec<String> = def.holidays.iter().map(|d| d.to_string()).collect();
            context! { name, zone => def.zone.clone(), days, holidays }
        })
        .collect();
    let new_days: Vec<Value> = DAYS
        .iter()
        .map(|(k, label)| {
            let open = !matches!(*k, "sat" | "sun");
            context! { key => *k, label => *label, spans => if open { vec!["09:00-17:00"] } else { vec![] } }
        })
        .collect();
    admin_page(
        s,
        "admin_calendars.html",
        "Calendars and holidays",
        "calendars",
        status,
        context! { calendars => items, new_days, errors, notice },
    )
}

async fn patch_calendar(
    state: &AppState,
    p: &Posted,
    name: &str,
    patch: CalendarPatch,
    field: &str,
    notice: String,
) -> Result<Response, UiError> {
    match state.store.put_calendar(name, patch, state.now()).await {
        Ok(()) => Ok(done("/admin/calendars", &notice)),
        Err(e) => {
            let message = field_error(e, field)?
                .into_values()
                .next()
                .unwrap_or_default();
            calendars_page(
                state,
                &p.session,
                None,
                error(&format!("{name}.{field}"), message),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The calendar as it is, or not found (the forms never create one).
async fn existing(
    state: &AppState,
    name: &str,
) -> Result<steward_domain::calendar::CalendarDef, UiError> {
    let cals = state.store.calendars().await?;
    cals.calendar(name)
        .map(|c| c.to_def())
        .ok_or_else(UiError::not_found)
}

async fn calendar_error(
    state: &AppState,
    p: &Posted,
    name: &str,
    field: &str,
    message: &str,
) -> Result<Response, UiError> {
    calendars_page(
        state,
        &p.session,
        None,
        error(&format!("{name}.{field}"), message),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn set_zone(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    existing(&state, &name).await?;
    let Some(zone) = p.fields.get("zone").map(str::to_string) else {
        return calendar_error(&state, &p, &name, "zone", "is required").await;
    };
    let patch = CalendarPatch {
        zone: Some(zone.clone()),
        ..Default::default()
    };
    patch_calendar(
        &state,
        &p,
        &name,
        patch,
        "zone",
        format!("{name} now keeps {zone} time."),
    )
    .await
}

/// The weekly hours of the form: a field per day (`mon` … `sun`), each a
/// comma-separated list of `HH:MM-HH:MM` spans, empty for a closed day.
/// The spans themselves are checked by the calendar (`Calendar::from_def`).
fn form_hours(p: &Posted) -> WeeklyHours {
    let day = |k: &str| -> Vec<String> {
        p.fields
            .get(k)
            .map(|v| {
                v.split([',', ';'])
                    .map(|s| s.split_whitespace().collect::<String>())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    WeeklyHours {
        mon: day("mon"),
        tue: day("tue"),
        wed: day("wed"),
        thu: day("thu"),
        fri: day("fri"),
        sat: day("sat"),
        sun: day("sun"),
    }
}

async fn set_hours(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    existing(&state, &name).await?;
    let patch = CalendarPatch {
        hours: Some(form_hours(&p)),
        ..Default::default()
    };
    patch_calendar(
        &state,
        &p,
        &name,
        patch,
        "hours",
        format!("{name} has new weekly hours."),
    )
    .await
}

/// A new calendar: a name, a time zone and its weekly hours (the form
/// offers Monday to Friday 09:00-17:00).
async fn create_calendar(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p)?;
    let name = p.fields.get("name").unwrap_or_default().to_lowercase();
    if state.store.calendars().await?.calendar(&name).is_some() {
        return calendar_error(&state, &p, "new", "name", "is already a calendar").await;
    }
    let Some(zone) = p.fields.get("zone").map(str::to_string) else {
        return calendar_error(&state, &p, "new", "zone", "is required").await;
    };
    let patch = CalendarPatch {
        zone: Some(zone),
        hours: Some(form_hours(&p)),
        holidays: None,
    };
    match state.store.put_calendar(&name, patch, state.now()).await {
        Ok(()) => Ok(done(
            "/admin/calendars",
            &format!("The calendar {name} was created."),
        )),
        Err(e) => {
            let (field, message) = field_error(e, "calendar")?
                .into_iter()
                .next()
                .unwrap_or_default();
            calendar_error(&state, &p, "new", &field, &message).await
        }
    }
}

/// Removes a calendar no SLA policy uses (the store refuses otherwise);
/// removing a built-in's changes restores the built-in.
async fn delete_calendar(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    existing(&state, &name).await?;
    match state.store.delete_calendar(&name, state.now()).await {
        Ok(()) => {
            let builtin = state.store.calendars().await?.calendar(&name).is_some();
            let notice = if builtin {
                format!("{name} is built in: it is back to its shipped hours and zone.")
            } else {
                format!("The calendar {name} was removed.")
            };
            Ok(done("/admin/calendars", &notice))
        }
        Err(e) => {
            let message = field_error(e, "delete")?
                .into_values()
                .next()
                .unwrap_or_default();
            calendar_error(&state, &p, &name, "delete", &message).await
        }
    }
}

fn parse_date(p: &Posted) -> Result<jiff::civil::Date, &'static str> {
    match p.fields.get("date") {
        None => Err("is required"),
        Some(d) => d.parse().map_err(|_| "must be a date like 2026-12-25"),
    }
}

async fn add_holiday(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let def = existing(&state, &name).await?;
    let date = match parse_date(&p) {
        Ok(d) => d,
        Err(m) => return calendar_error(&state, &p, &name, "holidays", m).await,
    };
    if def.holidays.contains(&date) {
        return calendar_error(&state, &p, &name, "holidays", "is already a holiday").await;
    }
    let mut holidays = def.holidays;
    holidays.push(date);
    holidays.sort();
    let patch = CalendarPatch {
        holidays: Some(holidays),
        ..Default::default()
    };
    patch_calendar(
        &state,
        &p,
        &name,
        patch,
        "holidays",
        format!("{date} is a holiday on {name}."),
    )
    .await
}

async fn remove_holiday(
    State(state): State<AppState>,
    Path(name): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let def = existing(&state, &name).await?;
    let date = parse_date(&p).map_err(|m| UiError::bad_request(format!("date {m}")))?;
    let holidays: Vec<_> = def.holidays.into_iter().filter(|d| *d != date).collect();
    let patch = CalendarPatch {
        holidays: Some(holidays),
        ..Default::default()
    };
    patch_calendar(
        &state,
        &p,
        &name,
        patch,
        "holidays",
        format!("{date} is a working day again on {name}."),
    )
    .await
}

// ---- SLA policies --------------------------------------------------------

fn span_text(s: &Span) -> String {
    let (amount, unit) = (s.amount, s.unit);
    let base = match unit {
        Unit::Minutes => format!("{amount} min"),
        Unit::Hours => format!("{amount} h"),
        Unit::BusinessDays => format!("{amount} bd"),
    };
    match (s.calendar.as_str(), unit) {
        ("24x7", _) => format!("{base} cal"),
        ("business", Unit::BusinessDays) => base,
        ("business", _) => format!("{base} bh"),
        (other, _) => format!("{base} ({other})"),
    }
}

fn metric_label(m: Metric) -> &'static str {
    match m {
        Metric::FirstReplyTime => "First response",
        Metric::WorkaroundTime => "Resolution (workaround)",
        Metric::AgentWorkTime => "Resolution",
        Metric::PausableUpdateTime => "Periodic update",
    }
}

const METRICS: [Metric; 4] = [
    Metric::FirstReplyTime,
    Metric::WorkaroundTime,
    Metric::AgentWorkTime,
    Metric::PausableUpdateTime,
];

const PRIORITIES: [Priority; 4] = [
    Priority::Urgent,
    Priority::High,
    Priority::Normal,
    Priority::Low,
];

/// The policies as readable tier × priority tables (§4).
fn policy_tables(p: &Policies, groups: &[steward_store::Group]) -> Vec<Value> {
    p.0.iter()
        .map(|policy| {
            let metrics: Vec<Metric> = METRICS
                .into_iter()
                .filter(|m| policy.targets.iter().any(|t| t.metric == *m))
                .collect();
            let rows: Vec<Value> = PRIORITIES
                .iter()
                .filter(|pr| policy.targets.iter().any(|t| t.priority == **pr))
                .map(|pr| {
                    let cells: Vec<String> = metrics
                        .iter()
                        .map(|m| {
                            policy
                                .targets
                                .iter()
                                .find(|t| t.priority == *pr && t.metric == *m)
                                .map(|t| match (&t.outside_hours, &t.hours_calendar) {
                                    (Some(o), Some(h)) => format!(
                                        "{} if opened inside {h} hours, else {}",
                                        span_text(&t.within),
                                        span_text(o)
                                    ),
                                    _ => span_text(&t.within),
                                })
                                .unwrap_or_else(|| "—".into())
                        })
                        .collect();
                    context! { priority => pr.code(), cells }
                })
                .collect();
            let scope = match &policy.scope {
                Scope::Tier(t) => format!("Accounts in the {} tier", t.label()),
                Scope::Group(g) => format!(
                    "Tickets without an account tier in {}",
                    groups
                        .iter()
                        .find(|x| x.id == *g)
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| format!("group {g}"))
                ),
            };
            context! {
                title => policy.title.clone(), scope,
                achievement => policy.achievement_bp.map(percent),
                metrics => metrics.iter().map(|m| metric_label(*m)).collect::<Vec<_>>(),
                rows,
            }
        })
        .collect()
}

/// Basis points as a percentage: 9950 → `99.5 %`, 9800 → `98 %`.
fn percent(bp: i64) -> String {
    let whole = format!("{}.{:02}", bp / 100, (bp % 100).abs());
    format!("{} %", whole.trim_end_matches('0').trim_end_matches('.'))
}

async fn slas(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    let p = state.store.sla_policies().await?;
    let doc = serde_json::to_string_pretty(&p.0).map_err(UiError::internal)?;
    slas_page(
        &state,
        &s,
        &p,
        doc,
        notice(&params),
        Errors::new(),
        StatusCode::OK,
    )
    .await
}

async fn slas_page(
    state: &AppState,
    s: &WebSession,
    p: &Policies,
    doc: String,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let groups = state.store.groups().await?;
    let cals: Vec<String> = state
        .store
        .calendars()
        .await?
        .names()
        .map(str::to_string)
        .collect();
    admin_page(
        s,
        "admin_slas.html",
        "SLA policies",
        "slas",
        status,
        context! { policies => policy_tables(p, &groups), doc, calendars => cals, errors, notice },
    )
}

async fn save_slas(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p)?;
    let doc = p.fields.raw("policies").to_string();
    let current = state.store.sla_policies().await?;
    let parsed: Result<Policies, String> = serde_json::from_str::<Policies>(&doc)
        .map_err(|e| format!("is not a valid policy list: {e}"));
    let result = match parsed {
        Ok(new) => match state.store.set_sla_policies(&new, state.now()).await {
            Ok(()) => return Ok(done("/admin/slas", "The SLA policies were saved.")),
            Err(e) => field_error(e, "policies")?
                .into_values()
                .next()
                .unwrap_or_default(),
        },
        Err(m) => m,
    };
    slas_page(
        &state,
        &p.session,
        &current,
        doc,
        None,
        error("policies", result),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

// ---- Escalation contacts --------------------------------------------------

/// Every title on some tier's ladder, in ladder order.
fn titles() -> Vec<&'static str> {
    let mut seen = BTreeSet::new();
    steward_domain::Tier::ALL
        .iter()
        .flat_map(|t| steward_domain::escalation::ladder(*t).iter().copied())
        .chain(["Finance"])
        .filter(|t| seen.insert(*t))
        .collect()
}

/// Active staff, by name, for the pickers.
async fn staff(state: &AppState) -> Result<Vec<steward_store::User>, UiError> {
    let mut out = Vec::new();
    for role in Role::ALL.iter().filter(|r| r.is_staff()) {
        let filter = UserFilter {
            role: Some(*role),
            ..Default::default()
        };
        let page = state
            .store
            .list_users(&filter, PageRequest::first(500), Sort::ID)
            .await?;
        out.extend(page.items.into_iter().filter(|u| !u.suspended));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

async fn contacts(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    let configured = state
        .store
        .setting("escalation_contacts")
        .await?
        .unwrap_or_else(|| json!({}));
    contacts_page(
        &state,
        &s,
        &configured,
        notice(&params),
        Errors::new(),
        StatusCode::OK,
    )
    .await
}

async fn contacts_page(
    state: &AppState,
    s: &WebSession,
    configured: &Json,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let people = staff(state).await?;
    let rows: Vec<Value> = titles()
        .into_iter()
        .enumerate()
        .map(|(i, title)| {
            let chosen: Vec<i64> = configured
                .get(title)
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_i64).collect())
                .unwrap_or_default();
            let options: Vec<Value> = people
                .iter()
                .map(|u| context! { value => u.id, label => format!("{} ({})", u.name, u.role.as_str()), selected => chosen.contains(&u.id) })
                .collect();
            let tiers: Vec<&str> = steward_domain::Tier::ALL
                .iter()
                .filter(|t| steward_domain::escalation::ladder(**t).contains(&title))
                .map(|t| t.label())
                .collect();
            context! { i, title, options, tiers, chosen => !chosen.is_empty() }
        })
        .collect();
    admin_page(
        s,
        "admin_contacts.html",
        "Escalation contacts",
        "escalation-contacts",
        status,
        context! { rows, errors, notice },
    )
}

async fn save_contacts(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p)?;
    let mut map = Map::new();
    let mut errors = Errors::new();
    for (i, title) in titles().into_iter().enumerate() {
        let mut ids = Vec::new();
        for v in p.fields.all(&format!("contact-{i}")) {
            match crate::extract::parse_id(v) {
                Some(id) => ids.push(id),
                None => {
                    errors.insert(format!("contact-{i}"), "must be user ids".into());
                }
            }
        }
        if ids.is_empty() {
            continue;
        }
        let found = state.store.users_by_ids(&ids).await?;
        if found.len() != ids.len() || found.iter().any(|u| !u.role.is_staff() || !u.active) {
            errors.insert(
                format!("contact-{i}"),
                "every contact must be an active member of staff".into(),
            );
        }
        map.insert(title.to_string(), json!(ids));
    }
    let value = Json::Object(map);
    if errors.is_empty() {
        state
            .store
            .put_setting("escalation_contacts", &value, state.now())
            .await?;
        return Ok(done(
            "/admin/escalation-contacts",
            "The escalation contacts were saved.",
        ));
    }
    contacts_page(
        &state,
        &p.session,
        &value,
        None,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

// ---- Risk factors ---------------------------------------------------------

async fn factors(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    let table = state.store.risk_factors().await?;
    factors_page(&s, &table, notice(&params), Errors::new(), StatusCode::OK)
}

fn factors_page(
    s: &WebSession,
    table: &[FactorDef],
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let rows: Vec<Value> = table
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let band = f.band.map(|b| {
                let bound = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_else(|| "…".into());
                format!("{} {} to {}", b.family.as_str(), bound(b.from), bound(b.to))
            });
            context! {
                i, key => f.key.clone(), label => f.label.clone(), points => f.points,
                source => f.source.as_str(), threshold => f.threshold, band,
                risk => f.points > 0,
            }
        })
        .collect();
    admin_page(
        s,
        "admin_factors.html",
        "Risk factors",
        "risk-factors",
        status,
        context! { factors => rows, errors, notice },
    )
}

async fn save_factors(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let mut table = state.store.risk_factors().await?;
    let mut errors = Errors::new();
    for (i, f) in table.iter_mut().enumerate() {
        let pk = format!("factors[{i}].points");
        match p.fields.get(&format!("points-{i}")).map(str::parse::<i32>) {
            Some(Ok(v)) => f.points = v,
            Some(Err(_)) => {
                errors.insert(pk, "must be a whole number".into());
            }
            None => {
                errors.insert(pk, "is required".into());
            }
        }
        if f.threshold.is_some() {
            let tk = format!("factors[{i}].threshold");
            match p
                .fields
                .get(&format!("threshold-{i}"))
                .map(str::parse::<f64>)
            {
                Some(Ok(v)) if v.is_finite() => f.threshold = Some(v),
                Some(_) => {
                    errors.insert(tk, "must be a number".into());
                }
                None => {
                    errors.insert(tk, "is required".into());
                }
            }
        }
    }
    if errors.is_empty() {
        match state
            .store
            .put_risk_factors(&s.actor, &table, state.now())
            .await
        {
            Ok(()) => return Ok(done("/admin/risk-factors", "The risk factors were saved.")),
            Err(e) => errors = field_error(e, "factors")?,
        }
    }
    factors_page(
        &p.session,
        &table,
        None,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

// ---- Channels -------------------------------------------------------------

/// The fixed channels of §19; per-account ones are added by name.
const CHANNELS: [(&str, &str); 3] = [
    ("#critical-alerts", "P0 tickets"),
    ("#escalations", "Escalations"),
    ("#status-updates", "Weekly summaries"),
];

fn valid_channel(name: &str) -> bool {
    name.starts_with('#')
        && name.len() > 1
        && name.len() <= 80
        && !name.contains(char::is_whitespace)
}

fn valid_url(u: &str) -> bool {
    let Some(rest) = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && u.len() <= 2048 && !u.contains(char::is_whitespace)
}

async fn channels(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    let configured = state
        .store
        .setting("channels")
        .await?
        .unwrap_or_else(|| json!({}));
    let rows = channel_rows(&configured);
    channels_page(
        &s,
        rows,
        ("", ""),
        notice(&params),
        Errors::new(),
        StatusCode::OK,
    )
}

/// (name, purpose, url): the fixed channels first, then the others.
fn channel_rows(configured: &Json) -> Vec<(String, String, String)> {
    let url_of = |name: &str| {
        configured
            .get(name)
            .and_then(|c| c.get("webhook_url"))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut rows: Vec<(String, String, String)> = CHANNELS
        .iter()
        .map(|(n, purpose)| (n.to_string(), purpose.to_string(), url_of(n)))
        .collect();
    if let Some(m) = configured.as_object() {
        for name in m.keys() {
            if !CHANNELS.iter().any(|(n, _)| n == name) {
                let purpose = if name.starts_with("#incident-") {
                    "War room"
                } else if name.ends_with("-implementation") {
                    "Implementation project"
                } else {
                    "Other"
                };
                rows.push((name.clone(), purpose.into(), url_of(name)));
            }
        }
    }
    rows
}

fn channels_page(
    s: &WebSession,
    rows: Vec<(String, String, String)>,
    new: (&str, &str),
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let rows: Vec<Value> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, purpose, url))| context! { i, name, purpose, url })
        .collect();
    admin_page(
        s,
        "admin_channels.html",
        "Channels",
        "channels",
        status,
        context! { channels => rows, new_name => new.0, new_url => new.1, errors, notice },
    )
}

async fn save_channels(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p)?;
    let f = &p.fields;
    let configured = state
        .store
        .setting("channels")
        .await?
        .unwrap_or_else(|| json!({}));
    let mut errors = Errors::new();
    let mut rows = Vec::new();
    let mut i = 0;
    while let Some(name) = f.get(&format!("channel-{i}")) {
        let url = f.get(&format!("url-{i}")).unwrap_or_default();
        if !valid_channel(name) {
            errors.insert(
                format!("url-{i}"),
                "channel names look like #critical-alerts".into(),
            );
        } else if !url.is_empty() && !valid_url(url) {
            errors.insert(
                format!("url-{i}"),
                "must be an http(s) URL, like https://hooks.slack.com/services/…".into(),
            );
        }
        rows.push((name.to_string(), String::new(), url.to_string()));
        i += 1;
        if i > 500 {
            return Err(UiError::bad_request("too many channels in one form"));
        }
    }
    let (new_name, new_url) = (
        f.get("new_channel").unwrap_or_default(),
        f.get("new_url").unwrap_or_default(),
    );
    if !new_name.is_empty() || !new_url.is_empty() {
        if !valid_channel(new_name) {
            errors.insert(
                "new_channel".into(),
                "channel names look like #incident-acme".into(),
            );
        } else if rows.iter().any(|(n, _, _)| n == new_name) {
            errors.insert("new_channel".into(), "is already in the list above".into());
        }
        if !valid_url(new_url) {
            errors.insert(
                "new_url".into(),
                "must be an http(s) URL, like https://hooks.slack.com/services/…".into(),
            );
        }
        rows.push((new_name.to_string(), String::new(), new_url.to_string()));
    }
    if !errors.is_empty() {
        // Re-show what was typed, with the purposes of the known channels.
        let known = channel_rows(&configured);
        let shown: Vec<(String, String, String)> = rows
            .iter()
            .take(i)
            .map(|(n, _, u)| {
                let purpose = known
                    .iter()
                    .find(|k| &k.0 == n)
                    .map(|k| k.1.clone())
                    .unwrap_or_default();
                (n.clone(), purpose, u.clone())
            })
            .collect();
        return channels_page(
            &p.session,
            shown,
            (new_name, new_url),
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // Keep whatever else a channel's entry holds; an empty URL removes it.
    let mut map = Map::new();
    for (name, _, url) in rows.into_iter().filter(|(_, _, u)| !u.is_empty()) {
        let mut entry = configured
            .get(&name)
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default();
        entry.insert("webhook_url".into(), json!(url));
        map.insert(name, Json::Object(entry));
    }
    state
        .store
        .put_setting("channels", &Json::Object(map), state.now())
        .await?;
    Ok(done("/admin/channels", "The channels were saved."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_shares_read_like_the_policy_text() {
        assert_eq!(percent(9950), "99.5 %");
        assert_eq!(percent(9800), "98 %");
        assert_eq!(
            span_text(&Span::new(30, Unit::Minutes, "24x7")),
            "30 min cal"
        );
        assert_eq!(span_text(&Span::new(4, Unit::Hours, "business")), "4 h bh");
        assert_eq!(
            span_text(&Span::new(5, Unit::BusinessDays, "business")),
            "5 bd"
        );
        assert_eq!(
            span_text(&Span::new(1, Unit::Hours, "extended")),
            "1 h (extended)"
        );
        assert!(valid_url("https://hooks.slack.com/services/T/B/X"));
        assert!(!valid_url("https://"));
        assert!(!valid_url("ftp://example.com"));
        assert!(!valid_url("https://exa mple.com"));
        assert!(valid_channel("#incident-acme"));
        assert!(!valid_channel("incident"));
        assert!(!valid_channel("#"));
    }
}
