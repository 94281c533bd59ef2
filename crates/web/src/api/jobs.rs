//! `/api/v2/job_statuses/{id}`: outcomes of bulk requests.

use axum::{Json, extract::State, http::HeaderMap, routing::get};
use serde_json::{Value, json};

use super::{Routes, base};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::Auth,
    render,
};

pub(super) fn routes() -> Routes {
    vec![("/api/v2/job_statuses/{id}", get(show))]
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let id = id.strip_suffix(".json").unwrap_or(&id);
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::not_found());
    }
    let job = state.store.job(id, actor.id()).await?;
    Ok(Json(
        json!({"job_status": render::job_status(&job, &base(&state, &headers))}),
    ))
}
