//! The project page's own forms (issue 6; policies.md §13): add a risk and
//! move it along its workflow, record a decision, log hours. Each posts to
//! the store the API uses (the same validation, the same rights: viewers
//! and contractors are refused by the store) and returns to its section of
//! the project page; a refused form answers 422 with the field and the
//! reason, as every form of the web app does.

use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use steward_domain::project::{DecisionImpact, DecisionLevel, Likelihood, RiskKind, RiskStatus};
use steward_store::project_parts::{DecisionInput, HoursInput, RiskInput};

use super::{
    accounts::path_id,
    page::UiError,
    session::{Fields, Posted},
};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/risks", post(add_risk))
        .route("/projects/{id}/risks/{risk_id}/status", post(risk_status))
        .route("/projects/{id}/decisions", post(add_decision))
        .route("/projects/{id}/hours", post(log_hours))
}

/// At most this many characters in a title or name field.
const LINE_MAX: usize = 200;
/// At most this many bytes in a text area.
const TEXT_MAX: usize = 65_536;

fn invalid(field: &str, message: impl Into<String>) -> UiError {
    steward_store::StoreError::invalid(field, message).into()
}

/// A one-line field: absent stays absent, longer than [`LINE_MAX`] is refused.
fn line(f: &Fields, name: &str) -> Result<Option<String>, UiError> {
    match f.get(name) {
        Some(v) if v.chars().count() > LINE_MAX => {
            Err(invalid(name, format!("is at most {LINE_MAX} characters")))
        }
        v => Ok(v.map(str::to_string)),
    }
}

/// A text area, as typed (trimmed at the ends).
fn text(f: &Fields, name: &str) -> Result<Option<String>, UiError> {
    match f.get(name) {
        Some(v) if v.len() > TEXT_MAX => {
            Err(invalid(name, format!("is at most {TEXT_MAX} characters")))
        }
        v => Ok(v.map(str::to_string)),
    }
}

/// A choice among a string enum's values.
fn choice<T>(
    f: &Fields,
    name: &str,
    parse: fn(&str) -> Result<T, steward_domain::ParseError>,
) -> Result<Option<T>, UiError> {
    f.get(name)
        .map(|v| parse(v).map_err(|e| invalid(name, e.0)))
        .transpose()
}

/// A number typed into a number field.
fn number<T: std::str::FromStr>(f: &Fields, name: &str) -> Result<Option<T>, UiError> {
    f.get(name)
        .map(|v| v.parse().map_err(|_| invalid(name, "must be a number")))
        .transpose()
}

fn back(id: i64, done: &str, section: &str) -> Response {
    Redirect::to(&format!("/projects/{id}?done={done}#{section}")).into_response()
}

async fn add_risk(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let id = path_id(&id)?;
    let f = &p.fields;
    let input = RiskInput {
        kind: choice(f, "type", RiskKind::parse)?,
        title: line(f, "title")?,
        description: text(f, "description")?,
        probability: choice(f, "probability", Likelihood::parse)?,
        impact: choice(f, "impact", Likelihood::parse)?,
        status: None,
        mitigation: text(f, "mitigation")?,
        owner_id: f.id("owner_id")?.map(Some),
    };
    state
        .store
        .create_risk(&p.session.actor, id, input, state.now())
        .await?;
    Ok(back(id, "risk", "risks"))
}

/// Moves a risk along identified → monitoring → escalated → resolved (or
/// reopens it).
async fn risk_status(
    State(state): State<AppState>,
    Path((id, risk)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let (id, risk) = (path_id(&id)?, path_id(&risk)?);
    let status = choice(&p.fields, "status", RiskStatus::parse)?
        .ok_or_else(|| invalid("status", "is required"))?;
    let input = RiskInput {
        status: Some(status),
        ..Default::default()
    };
    state
        .store
        .update_risk(&p.session.actor, id, risk, input, state.now())
        .await?;
    Ok(back(id, "risk", "risks"))
}

async fn add_decision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let id = path_id(&id)?;
    let f = &p.fields;
    let input = DecisionInput {
        level: choice(f, "level", DecisionLevel::parse)?,
        title: line(f, "title")?,
        decision: text(f, "decision")?,
        rationale: text(f, "rationale")?,
        decided_by: line(f, "decided_by")?,
        decided_on: f.get("decided_on").map(str::to_string),
        impact: DecisionImpact {
            timeline_days: number(f, "timeline_impact_days")?.unwrap_or(0),
            scope_pct: number(f, "scope_change_pct")?.unwrap_or(0.0),
            budget_overrun_pct: number(f, "budget_overrun_pct")?.unwrap_or(0.0),
        },
    };
    state
        .store
        .create_decision(&p.session.actor, id, input, state.now())
        .await?;
    Ok(back(id, "decision", "decisions"))
}

async fn log_hours(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let id = path_id(&id)?;
    let f = &p.fields;
    let input = HoursInput {
        phase: number(f, "phase")?,
        role: line(f, "role")?,
        user_id: None,
        hours: number(f, "hours")?,
        logged_on: f.get("logged_on").map(str::to_string),
        note: text(f, "note")?,
    };
    state
        .store
        .log_hours(&p.session.actor, id, input, state.now())
        .await?;
    Ok(back(id, "hours", "hours"))
}
