//! `/api/v2/users`: staff and customers' people.
//!
//! Admins manage everyone. Other staff may read everyone and create or edit
//! end users (as Zendesk agents can); viewers only read. End users see and
//! edit only themselves, and cannot change their own role or organization.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde_json::{Value, json};
use steward_domain::Role;
use steward_store::{Actor, UserFilter, UserInput};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params},
    input, paging, render,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/users", get(list).post(create)),
        ("/api/v2/users/me", get(me)),
        ("/api/v2/users/show_many", get(show_many)),
        ("/api/v2/users/search", get(search)),
        ("/api/v2/users/create_or_update", post(create_or_update)),
        ("/api/v2/users/{id}", get(show).put(update).delete(destroy)),
        (
            "/api/v2/users/{id}/password",
            put(set_password).post(set_password),
        ),
        ("/api/v2/organizations/{id}/users", get(org_users)),
    ]
}

/// Whether `actor` may create or change a user into `target_role`.
fn may_write(actor: &Actor, target_role: Role, target_id: Option<i64>) -> ApiResult<()> {
    match actor.role() {
        Role::Admin => Ok(()),
        Role::Viewer => Err(ApiError::forbidden("viewers cannot change users")),
        Role::EndUser if target_id == Some(actor.id()) && target_role == Role::EndUser => Ok(()),
        Role::EndUser => Err(ApiError::forbidden("you can change only your own profile")),
        _ if target_role == Role::EndUser => Ok(()),
        _ => Err(ApiError::forbidden(
            "only admins may create or change staff",
        )),
    }
}

async fn list_with(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    params: &Params,
    mut filter: UserFilter,
) -> ApiResult<Json<Value>> {
    if actor.role() == Role::EndUser {
        filter.only_id = Some(actor.id());
    }
    if let Some(r) = params.get("role") {
        filter.role = Some(Role::parse(r).map_err(|e| ApiError::bad_request(e.0))?);
    }
    let (req, sort) = paging::request(params, &["id", "created_at", "updated_at", "name"])?;
    let page = state.store.list_users(&filter, req, sort).await?;
    let b = base(state, headers);
    let items = page.items.iter().map(|u| render::user(u, &b)).collect();
    Ok(Json(paging::envelope(
        "users",
        &page,
        items,
        req,
        uri,
        &b,
        |u| u.id,
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
        UserFilter::default(),
    )
    .await
}

async fn org_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    if actor.role() == Role::EndUser && actor.user.organization_id != Some(id) {
        return Err(ApiError::not_found());
    }
    let filter = UserFilter {
        organization_id: Some(id),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn show_many(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let filter = UserFilter {
        ids: Some(params.ids("ids", 100)?),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn search(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Value>> {
    // Zendesk's users/search: `query` (search syntax) or `external_id`.
    let q = match (params.get("query"), params.get("external_id")) {
        (Some(q), _) => format!("type:user {q}"),
        (None, Some(x)) => format!("type:user external_id:\"{}\"", x.replace('"', "")),
        (None, None) => return Err(ApiError::bad_request("query or external_id is required")),
    };
    let query = steward_domain::search::parse(&q).map_err(|e| ApiError::bad_request(e.0))?;
    let page = state
        .store
        .search(
            &actor,
            &query,
            (
                params.u32("page")?.unwrap_or(1),
                params.u32("per_page")?.unwrap_or(100),
            ),
            state.now(),
        )
        .await?;
    let b = base(&state, &headers);
    let users: Vec<Value> = page
        .items
        .iter()
        .filter_map(|h| match h {
            steward_store::Hit::User(u) => Some(render::user(u, &b)),
            _ => None,
        })
        .collect();
    Ok(Json(
        json!({"users": users, "count": page.count, "next_page": null, "previous_page": null}),
    ))
}

async fn me(State(state): State<AppState>, Auth(actor): Auth, headers: HeaderMap) -> Json<Value> {
    Json(json!({"user": render::user(&actor.user, &base(&state, &headers))}))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    if actor.role() == Role::EndUser && id != actor.id() {
        return Err(ApiError::not_found());
    }
    let u = state.store.user(id).await?;
    Ok(Json(
        json!({"user": render::user(&u, &base(&state, &headers))}),
    ))
}

fn check_input(
    actor: &Actor,
    input: &UserInput,
    target: Option<&steward_store::User>,
) -> ApiResult<()> {
    let target_role = input
        .role
        .or(target.map(|t| t.role))
        .unwrap_or(Role::EndUser);
    may_write(actor, target_role, target.map(|t| t.id))?;
    if let Some(t) = target {
        may_write(actor, t.role, Some(t.id))?;
    }
    if actor.role() == Role::EndUser
        && (input.role.is_some() || input.organization_id.is_some() || input.suspended.is_some())
    {
        return Err(ApiError::forbidden(
            "you cannot change your role, organization or suspension",
        ));
    }
    Ok(())
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = input::user(input::envelope(&body, "user")?)?;
    check_input(&actor, &input, None)?;
    let u = state.store.create_user(input, state.now()).await?;
    Ok((
        created(),
        Json(json!({"user": render::user(&u, &base(&state, &headers))})),
    )
        .into_response())
}

async fn create_or_update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = input::user(input::envelope(&body, "user")?)?;
    let existing = match &input.email {
        Some(e) => state.store.user_by_email(e.as_str()).await?,
        None => None,
    };
    check_input(&actor, &input, existing.as_ref())?;
    let (u, was_new) = state
        .store
        .create_or_update_user(input, state.now())
        .await?;
    let status = if was_new { created() } else { StatusCode::OK };
    Ok((
        status,
        Json(json!({"user": render::user(&u, &base(&state, &headers))})),
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
    let input = input::user(input::envelope(&body, "user")?)?;
    if actor.role() == Role::EndUser && id != actor.id() {
        return Err(ApiError::not_found());
    }
    let target = state.store.user(id).await?;
    check_input(&actor, &input, Some(&target))?;
    let u = state.store.update_user(id, input, state.now()).await?;
    Ok(Json(
        json!({"user": render::user(&u, &base(&state, &headers))}),
    ))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let target = state.store.user(id).await?;
    may_write(&actor, target.role, Some(target.id))?;
    if actor.role() == Role::EndUser {
        return Err(ApiError::forbidden("end users cannot delete accounts"));
    }
    if target.id == actor.id() {
        return Err(ApiError::invalid(vec![(
            "user".into(),
            "you cannot delete yourself".into(),
        )]));
    }
    let u = state.store.deactivate_user(id, state.now()).await?;
    Ok(Json(
        json!({"user": render::user(&u, &base(&state, &headers))}),
    ))
}

/// Sets a password: admins for anyone, everyone for themselves.
async fn set_password(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<StatusCode> {
    if actor.role() != Role::Admin && id != actor.id() {
        return Err(ApiError::forbidden("you can set only your own password"));
    }
    let password = body
        .get("password")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid(vec![("password".into(), "is required".into())]))?;
    state.store.set_password(id, password, state.now()).await?;
    Ok(StatusCode::OK)
}
