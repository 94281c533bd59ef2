//! The home page, health check and the JSON fallbacks for unknown routes.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::Routes;
use crate::{AppState, error::ApiError};

pub(super) fn routes() -> Routes {
    Vec::new()
}

/// Liveness and database reachability.
pub(super) async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.groups().await {
        Ok(_) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable"})),
            )
        }
    }
}

pub(super) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "InvalidEndpoint", "Not found")
}

pub(super) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "This endpoint does not support that HTTP method",
    )
}
