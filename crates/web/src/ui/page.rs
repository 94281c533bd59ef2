//! Rendering: the templates (compiled once, HTML auto-escaped), the page
//! context every view shares, and the UI's one error type.
//!
//! Error policy, as for the API: whatever a visitor can cause is a 4xx page
//! with a message written for them (404 for what does not exist *or* is not
//! theirs to see, so that ids reveal nothing; 403 for a role that may see a
//! page but not act; 422 re-renders the form with the errors next to the
//! fields). Anything unexpected is a 500 page whose detail goes to the log.

use std::sync::LazyLock;

use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use minijinja::{Environment, Value, context};
use steward_store::{StoreError, sessions::WebSession};

/// `templates!["a.html", ...]`: each name with its source, compiled in.
macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

/// Every template, by name. Pages extend `base.html`. One name per line,
/// so that branches adding pages merge cleanly.
#[rustfmt::skip]
const TEMPLATES: &[(&str, &str)] = templates![
    "base.html",
    "macros.html",
    "error.html",
    "login.html",
    "password.html",
    "queue.html",
    "nps.html",
    "nps_campaign.html",
    "feedback.html",
    "feedback_theme.html",
    "cab.html",
    "dashboards.html",
    "dashboard.html",
    "portal_login.html",
    "portal_link.html",
    "portal_confirm.html",
    "portal_tickets.html",
    "portal_ticket.html",
    "portal_new.html",
    "accounts.html",
    "account.html",
    "projects.html",
    "project.html",
    "status_report.html",
    "ticket.html",
    "search.html",
    "kb_macros.html",
    "kb.html",
    "kb_category.html",
    "kb_article.html",
    "kb_edit.html",
    "kb_delete.html",
    "admin_base.html",
    "admin_users.html",
    "admin_user.html",
    "admin_groups.html",
    "admin_calendars.html",
    "admin_slas.html",
    "admin_contacts.html",
    "admin_rules.html",
    "admin_rule.html",
    "admin_templates.html",
    "admin_template.html",
    "admin_template_preview.html",
    "admin_factors.html",
    "admin_channels.html",
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            // A broken template is a build defect; the unit test below
            // catches it before a release, and the page shows a 500.
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env.add_filter("dt", dt);
    env.add_filter("iso", iso);
    env.add_filter("duration", duration);
    env
});

/// `1764000000|dt` → `2025-11-24 16:00 UTC` (the browser script turns
/// `<time>` elements into the viewer's local time).
pub fn dt(ts: Option<i64>) -> String {
    ts.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn iso(ts: Option<i64>) -> String {
    ts.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Seconds as a short span: `2h 5m`, `-45m` (overdue), `3d 4h`.
pub fn duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{sign}{d}d {h}h")
    } else if h > 0 {
        format!("{sign}{h}h {m}m")
    } else {
        format!("{sign}{m}m")
    }
}

/// Any serializable value as a template value.
pub fn ser<T: serde::Serialize>(v: T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

/// Renders a full page for a signed-in viewer: `ctx` plus `me`, `csrf`
/// and `title`.
pub fn page(
    session: &WebSession,
    name: &str,
    title: &str,
    ctx: Value,
) -> Result<Response, UiError> {
    let me = &session.actor.user;
    let base = context! {
        title,
        csrf => session.csrf.clone(),
        me => context! {
            id => me.id,
            name => me.name.clone(),
            email => me.email.clone(),
            role => me.role.as_str(),
            staff => me.role.is_staff(),
            admin => me.role == steward_domain::Role::Admin,
        },
        ..ctx
    };
    render(StatusCode::OK, name, base)
}

/// Renders a template with exactly `ctx`.
pub fn render(status: StatusCode, name: &str, ctx: Value) -> Result<Response, UiError> {
    let html = ENV
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| UiError::internal(format!("rendering {name}: {e:#}")))?;
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response())
}

#[derive(Debug)]
pub enum UiError {
    /// Not signed in (or the wrong kind of user): go here.
    Redirect(String),
    Page {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

impl UiError {
    pub fn not_found() -> Self {
        UiError::Page {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            message: "There is nothing here, or it is not yours to see.".into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        UiError::Page {
            status: StatusCode::FORBIDDEN,
            title: "Not allowed",
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        UiError::Page {
            status: StatusCode::BAD_REQUEST,
            title: "That did not work",
            message: message.into(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "web page failed");
        UiError::Page {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "Something went wrong",
            message: "The page could not be shown. Please try again in a minute.".into(),
        }
    }
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => UiError::not_found(),
            StoreError::Forbidden(m) => UiError::forbidden(m),
            StoreError::Invalid { field, message } => UiError::Page {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "Please check the form",
                message: format!("{field}: {message}"),
            },
            StoreError::Conflict(m) => UiError::Page {
                status: StatusCode::CONFLICT,
                title: "Changed meanwhile",
                message: m,
            },
            other => UiError::internal(other),
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::Redirect(to) => Redirect::to(&to).into_response(),
            UiError::Page {
                status,
                title,
                message,
            } => match render(
                status,
                "error.html",
                context! { title, message, status => status.as_u16() },
            ) {
                Ok(r) => r,
                Err(_) => (
                    status,
                    Html(format!(
                        "<!doctype html><title>{title}</title><p>{title}</p>"
                    )),
                )
                    .into_response(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(0), "0m");
        assert_eq!(duration(59 * 60), "59m");
        assert_eq!(duration(2 * 3600 + 5 * 60), "2h 5m");
        assert_eq!(duration(-45 * 60), "-45m");
        assert_eq!(duration(3 * 86_400 + 4 * 3600), "3d 4h");
    }

    #[test]
    fn timestamps_format_in_utc() {
        assert_eq!(dt(Some(1_764_000_000)), "2025-11-24 16:00 UTC");
        assert_eq!(dt(None), "");
        assert_eq!(iso(Some(0)), "1970-01-01T00:00:00Z");
    }
}
