//! `/api/v2/groups` and `/api/v2/ticket_fields`: staff read, admins write.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, require_admin, require_staff},
    input, render,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/groups", get(list).post(create)),
        ("/api/v2/groups/{id}", get(show).put(update).delete(destroy)),
        ("/api/v2/ticket_fields", get(fields)),
        ("/api/v2/ticket_fields/{id}", get(field)),
    ]
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let groups = state.store.groups().await?;
    let b = base(&state, &headers);
    let items: Vec<Value> = groups.iter().map(|g| render::group(g, &b)).collect();
    Ok(Json(
        json!({"groups": items, "count": groups.len(), "next_page": null, "previous_page": null}),
    ))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let g = state.store.group(id).await?;
    Ok(Json(
        json!({"group": render::group(&g, &base(&state, &headers))}),
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    require_admin(&actor)?;
    let input = input::group(input::envelope(&body, "group")?)?;
    let g = state.store.create_group(input, state.now()).await?;
    Ok((
        created(),
        Json(json!({"group": render::group(&g, &base(&state, &headers))})),
    )
        .into_response())
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    require_admin(&actor)?;
    let input = input::group(input::envelope(&body, "group")?)?;
    let g = state.store.update_group(id, input, state.now()).await?;
    Ok(Json(
        json!({"group": render::group(&g, &base(&state, &headers))}),
    ))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    require_admin(&actor)?;
    state.store.delete_group(id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn fields(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let b = base(&state, &headers);
    let items: Vec<Value> = state
        .store
        .ticket_fields()
        .await?
        .values()
        .filter(|f| !f.commercial || actor.role().sees_commercials())
        .map(|f| render::ticket_field(f, &b))
        .collect();
    Ok(Json(
        json!({"ticket_fields": items, "count": items.len(), "next_page": null, "previous_page": null}),
    ))
}

async fn field(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    require_staff(&actor)?;
    let fields = state.store.ticket_fields().await?;
    let f = fields
        .get(&id)
        .filter(|f| !f.commercial || actor.role().sees_commercials())
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        json!({"ticket_field": render::ticket_field(f, &base(&state, &headers))}),
    ))
}
