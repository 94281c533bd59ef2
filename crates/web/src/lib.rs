//! Steward's HTTP layer: the Zendesk-compatible API under `/api/v2/` and
//! (as the web-app issue lands) the HTML views.
//!
//! Handlers are thin: they parse the request into typed inputs
//! ([`input`]), call the store with the authenticated [`steward_store::Actor`]
//! and the current time, and render Zendesk JSON ([`render`]). Errors have
//! one type, [`error::ApiError`].

pub mod api;
pub mod charts;
pub mod error;
pub mod extract;
pub mod input;
pub mod paging;
pub mod render;
mod survey;
pub mod ui;

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
};

use axum::{Router, extract::DefaultBodyLimit};
use steward_store::Store;
use tokio::net::TcpListener;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Fixed base URL for links, when the server sits behind a proxy.
    pub public_url: Option<Arc<str>>,
    pub clock: Clock,
}

/// Where "now" comes from: the system clock, or a settable instant (tests
/// drive SLA clocks through days in milliseconds with it).
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stays at `at` until [`Clock::set`] moves it.
    pub fn fixed(at: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(at))))
    }

    pub fn set(&self, at: i64) {
        if let Some(c) = &self.0 {
            c.store(at, Ordering::SeqCst);
        }
    }

    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(c) => c.load(Ordering::SeqCst),
            None => jiff::Timestamp::now().as_second(),
        }
    }
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState {
            store,
            public_url: None,
            clock: Clock::system(),
        }
    }

    /// The edge reads the clock; everything below takes `now` as an argument.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

pub fn router(state: AppState) -> Router {
    api::routes()
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One structured line per request: debug level normally, error level for
/// a 5xx (which the error policy says should never happen).
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(http.method = %method, http.path = %path, http.status = status, duration_ms, "request failed");
    } else {
        tracing::debug!(http.method = %method, http.path = %path, http.status = status, duration_ms, "request");
    }
    resp
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
