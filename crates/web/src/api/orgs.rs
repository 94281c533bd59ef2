//! `/api/v2/organizations`: customer accounts. Admins and CSMs write them
//! (CSMs own accounts, policies.md §8); other staff read; end users read
//! only their own organization, without commercial fields.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use steward_domain::Role;
use steward_store::{Actor, OrgFilter};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params},
    input, paging, render,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/organizations", get(list).post(create)),
        ("/api/v2/organizations/show_many", get(show_many)),
        (
            "/api/v2/organizations/{id}",
            get(show).put(update).delete(destroy),
        ),
    ]
}

fn may_write(actor: &Actor) -> ApiResult<()> {
    match actor.role() {
        Role::Admin | Role::Csm => Ok(()),
        _ => Err(ApiError::forbidden(
            "only admins and CSMs may change organizations",
        )),
    }
}

async fn list_with(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    params: &Params,
    mut filter: OrgFilter,
) -> ApiResult<Json<Value>> {
    if actor.role() == Role::EndUser {
        filter.only_id = Some(actor.user.organization_id.unwrap_or(0));
    }
    let (req, sort) = paging::request(params, &["id", "created_at", "updated_at", "name"])?;
    let page = state.store.list_orgs(&filter, req, sort).await?;
    let b = base(state, headers);
    let items = page
        .items
        .iter()
        .map(|o| render::organization(o, &b, actor.role()))
        .collect();
    Ok(Json(paging::envelope(
        "organizations",
        &page,
        items,
        req,
        uri,
        &b,
        |o| o.id,
    )))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    list_with(
        &state,
        &actor,
        &headers,
        &uri,
        &params,
        OrgFilter::default(),
    )
    .await
}

async fn show_many(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let filter = OrgFilter {
        ids: Some(params.ids("ids", 100)?),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    if actor.role() == Role::EndUser && actor.user.organization_id != Some(id) {
        return Err(ApiError::not_found());
    }
    let o = state.store.org(id).await?;
    Ok(Json(
        json!({"organization": render::organization(&o, &base(&state, &headers), actor.role())}),
    ))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    may_write(&actor)?;
    let input = input::organization(input::envelope(&body, "organization")?)?;
    let o = state.store.create_org(input, state.now()).await?;
    let body =
        json!({"organization": render::organization(&o, &base(&state, &headers), actor.role())});
    Ok((created(), Json(body)).into_response())
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    if actor.role() == Role::EndUser && actor.user.organization_id != Some(id) {
        return Err(ApiError::not_found());
    }
    may_write(&actor)?;
    let input = input::organization(input::envelope(&body, "organization")?)?;
    let o = state.store.update_org(id, input, state.now()).await?;
    Ok(Json(
        json!({"organization": render::organization(&o, &base(&state, &headers), actor.role())}),
    ))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    if actor.role() != Role::Admin {
        return Err(ApiError::forbidden("only admins may delete organizations"));
    }
    state.store.delete_org(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
