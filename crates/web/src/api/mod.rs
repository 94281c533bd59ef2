//! Routes of the `/api/v2/` surface, one module per resource. Every route
//! also answers with a `.json` suffix, as Zendesk's do.

pub(crate) mod dashboards;
mod escalations;
mod feedback;
mod groups;
mod health;
mod help_center;
mod hub;
mod jobs;
mod metrics;
mod misc;
mod nps;
mod openapi;
mod orgs;
mod projects;
mod rules;
mod satisfaction;
mod search;
mod sla_reports;
mod slas;
mod tasks;
mod templates;
mod tickets;
mod users;

use axum::{
    Router,
    http::HeaderMap,
    routing::{MethodRouter, get},
};

use crate::{AppState, paging};

pub use openapi::document as openapi_document;

/// Registers `path` and `path.json` (for paths not ending in a parameter,
/// which accept `123.json` through [`crate::extract::Id`]).
fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    if path.ends_with('}') {
        router.route(path, handler)
    } else {
        router
            .route(path, handler.clone())
            .route(&format!("{path}.json"), handler)
    }
}

/// Every resource's routes.
fn all() -> Routes {
    tickets::routes()
        .into_iter()
        .chain(users::routes())
        .chain(orgs::routes())
        .chain(groups::routes())
        .chain(search::routes())
        .chain(slas::routes())
        .chain(sla_reports::routes())
        .chain(escalations::routes())
        .chain(hub::routes())
        .chain(feedback::routes())
        .chain(metrics::routes())
        .chain(rules::routes())
        .chain(tasks::routes())
        .chain(templates::routes())
        .chain(jobs::routes())
        .chain(projects::routes())
        .chain(health::routes())
        .chain(satisfaction::routes())
        .chain(nps::routes())
        .chain(help_center::routes())
        .chain(dashboards::routes())
        .chain(misc::routes())
        .collect()
}

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for (path, handler) in all() {
        r = both(r, path, handler);
    }
    r.merge(crate::survey::routes())
        .merge(crate::ui::routes())
        .route("/api/v2/openapi.json", get(openapi::serve))
        .route("/healthz", get(misc::health))
        .fallback(misc::not_found)
        .method_not_allowed_fallback(misc::method_not_allowed)
}

pub(crate) fn base(state: &AppState, headers: &HeaderMap) -> String {
    paging::base_url(headers, state.public_url.as_deref())
}

/// Where a ticket's requester reads it (the portal's page): the
/// `{{ ticket.url }}` of the reply templates.
pub(crate) fn portal_ticket_url(state: &AppState, headers: &HeaderMap, id: i64) -> String {
    format!("{}/portal/tickets/{id}", base(state, headers))
}

pub(crate) type Routes = Vec<(&'static str, MethodRouter<AppState>)>;

pub(crate) fn created() -> axum::http::StatusCode {
    axum::http::StatusCode::CREATED
}
