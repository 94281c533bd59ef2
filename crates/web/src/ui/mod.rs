//! The web app (issue 6): server-rendered pages from minijinja templates,
//! with a small script for progressive enhancement (local times, live SLA
//! countdowns, keyboard shortcuts). No CDN, no build step: the templates,
//! the stylesheet and the script are compiled into the binary.
//!
//! Layout: `page.rs` renders and maps errors; `session.rs` holds the
//! cookie, role gates and CSRF-checked forms; one module per area of the
//! app. Every handler takes its gate as an extractor ([`session::Staff`],
//! [`session::Customer`], [`session::Posted`]), so a page cannot forget to
//! check who is looking; finer rights (§8) are checked by the store, which
//! the API shares.

mod accounts;
mod admin;
mod auth;
mod dashboards;
mod kb;
mod page;
mod portal;
mod project_forms;
mod projects;
mod queue;
mod search;
mod session;
mod ticket;
mod voice;

use axum::{
    Router,
    http::header,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};

pub use page::UiError;

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queue") }))
        .route("/login", get(auth::show_login).post(auth::login))
        .route("/logout", post(auth::logout))
        .route(
            "/account/password",
            get(auth::show_password).post(auth::change_password),
        )
        .route("/queue", get(queue::show))
        .route("/tickets/{id}", get(ticket::show).post(ticket::update))
        .route("/tickets/{id}/comment", post(ticket::comment))
        .route("/tickets/{id}/macro", post(ticket::apply_macro))
        .route("/search", get(search::show))
        .merge(voice::routes())
        .merge(dashboards::routes())
        .merge(accounts::routes())
        .merge(projects::routes())
        .merge(project_forms::routes())
        .merge(admin::routes())
        .merge(kb::routes())
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .merge(portal::routes())
}

/// Static assets change only with the binary; an hour of caching is safe
/// and keeps page loads to one request after the first.
async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/app.js"),
    )
}
