//! The admin pages (issue 6, policies.md §8: admins only): users and
//! roles, groups, calendars, SLA policies, escalation contacts, automation
//! rules, communication templates, risk factors and notification channels.
//!
//! Every page lists what exists and offers forms that call the same store
//! functions as the JSON API under `/api/v2`. Members of staff who are not
//! admins get a 403 page; customers are sent to the portal ([`Admin`]
//! builds on [`Staff`]). Posted forms pass [`Posted`]'s CSRF check and then
//! [`require_admin`]. Rejected input re-renders the form with status 422
//! and the message next to the field.

mod config;
mod people;
mod rules;
mod templates;

use std::collections::BTreeMap;

use axum::{
    Router,
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use minijinja::{Value, context};
use steward_domain::Role;
use steward_store::{StoreError, sessions::WebSession};

use super::{
    page::{UiError, page},
    session::{Posted, Staff},
};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .merge(people::routes())
        .merge(config::routes())
        .merge(rules::routes())
        .merge(templates::routes())
}

/// The sections, in tab order: (path, label).
const TABS: &[(&str, &str)] = &[
    ("users", "Users"),
    ("groups", "Groups"),
    ("calendars", "Calendars"),
    ("slas", "SLA policies"),
    ("escalation-contacts", "Escalation contacts"),
    ("rules", "Automation rules"),
    ("templates", "Templates"),
    ("risk-factors", "Risk factors"),
    ("channels", "Channels"),
];

const NOT_ADMIN: &str =
    "The admin pages are for admins (CS managers). Ask one if something here needs changing.";

/// A signed-in admin. Other staff get a 403 page; customers and anonymous
/// visitors are redirected as by [`Staff`].
pub struct Admin(pub WebSession);

impl FromRequestParts<AppState> for Admin {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        let Staff(s) = Staff::from_request_parts(parts, state).await?;
        if s.actor.role() == Role::Admin {
            Ok(Admin(s))
        } else {
            Err(UiError::forbidden(NOT_ADMIN))
        }
    }
}

/// The admin gate for posted forms (after the CSRF check).
pub fn require_admin(p: &Posted) -> Result<&WebSession, UiError> {
    match p.session.actor.role() {
        Role::Admin => Ok(&p.session),
        Role::EndUser => Err(UiError::not_found()),
        _ => Err(UiError::forbidden(NOT_ADMIN)),
    }
}

/// Field errors shown next to their fields.
pub type Errors = BTreeMap<String, String>;

pub fn error(field: &str, message: impl Into<String>) -> Errors {
    BTreeMap::from([(field.to_string(), message.into())])
}

/// Renders an admin page: `tab` marks the current section.
pub fn admin_page(
    s: &WebSession,
    name: &str,
    title: &str,
    tab: &str,
    status: StatusCode,
    ctx: Value,
) -> Result<Response, UiError> {
    let tabs: Vec<Value> = TABS
        .iter()
        .map(|(path, label)| context! { href => format!("/admin/{path}"), label => *label, current => *path == tab })
        .collect();
    let mut resp = page(s, name, title, context! { nav => "admin", tabs, ..ctx })?;
    *resp.status_mut() = status;
    Ok(resp)
}

/// Back to a page after a change, with a notice (`?done=...`).
pub fn done(to: &str, notice: &str) -> Response {
    let n: String = form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}done={n}")).into_response()
}

/// The notice of a `?done=` redirect, if short and plain.
pub fn notice(params: &crate::extract::Params) -> Option<String> {
    params
        .get("done")
        .filter(|d| d.len() <= 200)
        .map(str::to_string)
}

/// A store refusal that belongs next to a field: `Ok(errors)`; anything
/// else is the page's error.
pub fn field_error(e: StoreError, default_field: &str) -> Result<Errors, UiError> {
    match e {
        StoreError::Invalid { field, message } => {
            let field = if field.is_empty() {
                default_field.to_string()
            } else {
                field
            };
            Ok(error(&field, message))
        }
        StoreError::Conflict(m) => Ok(error(default_field, m)),
        other => Err(other.into()),
    }
}

/// A positive id from a path segment; anything else is not found.
pub fn path_id(raw: &str) -> Result<i64, UiError> {
    crate::extract::parse_id(raw).ok_or_else(UiError::not_found)
}
