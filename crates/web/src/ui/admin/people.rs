//! Users and roles, and groups (policies.md §8).

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use minijinja::{Value, context};
use steward_domain::{Email, Role};
use steward_store::{
    GroupInput, OrgFilter, PageRequest, Sort, User, UserFilter, UserInput, auth::MIN_PASSWORD_LEN,
    sessions::WebSession,
};

use super::{Admin, Errors, admin_page, done, error, field_error, notice, path_id, require_admin};
use crate::{
    AppState,
    extract::Params,
    ui::{
        page::UiError,
        session::{Fields, Posted},
    },
};

const PER_PAGE: u32 = 25;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", get(user))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/suspension", post(suspension))
        .route("/admin/users/{id}/password", post(set_password))
        .route("/admin/groups", get(groups).post(create_group))
        .route("/admin/groups/{id}/rename", post(rename_group))
        .route("/admin/groups/{id}/delete", post(delete_group))
}

fn roles() -> Vec<Value> {
    Role::ALL
        .iter()
        .map(|r| context! { value => r.as_str(), label => role_label(*r) })
        .collect()
}

fn role_label(r: Role) -> &'static str {
    match r {
        Role::Admin => "Admin (CS manager)",
        Role::Csm => "CSM",
        Role::Agent => "Agent (support)",
        Role::Contractor => "Contractor",
        Role::Viewer => "Viewer (executive)",
        Role::EndUser => "End user (customer contact)",
    }
}

fn user_value(u: &User, org: Option<&str>) -> Value {
    context! {
        id => u.id, name => u.name.clone(), email => u.email.clone(), role => u.role.as_str(),
        role_label => role_label(u.role), organization => org, organization_id => u.organization_id,
        suspended => u.suspended, active => u.active, last_login_at => u.last_login_at,
        created_at => u.created_at,
    }
}

/// The organizations to choose from (by name), and a lookup of names.
async fn orgs(state: &AppState) -> Result<Vec<(i64, String)>, UiError> {
    let page = state
        .store
        .list_orgs(
            &OrgFilter::default(),
            PageRequest::first(500),
            Sort {
                column: "name",
                descending: false,
            },
        )
        .await?;
    Ok(page.items.into_iter().map(|o| (o.id, o.name)).collect())
}

fn org_name(orgs: &[(i64, String)], id: Option<i64>) -> Option<&str> {
    id.and_then(|id| orgs.iter().find(|(i, _)| *i == id).map(|(_, n)| n.as_str()))
}

async fn users(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    users_page(
        &state,
        &s,
        &params,
        Fields::default(),
        Errors::new(),
        StatusCode::OK,
    )
    .await
}

async fn users_page(
    state: &AppState,
    s: &WebSession,
    params: &Params,
    form: Fields,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let role = match params.get("role") {
        Some(r) => Some(Role::parse(r).map_err(|e| UiError::bad_request(e.0))?),
        None => None,
    };
    let page_no = match params.get("page") {
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|p| (1..=100_000).contains(p))
            .ok_or_else(|| UiError::bad_request("page must be a page number"))?,
        None => 1,
    };
    let filter = UserFilter {
        role,
        include_inactive: true,
        ..Default::default()
    };
    let list = state
        .store
        .list_users(
            &filter,
            PageRequest::Offset {
                page: page_no,
                per_page: PER_PAGE,
            },
            Sort {
                column: "name",
                descending: false,
            },
        )
        .await?;
    let orgs = orgs(state).await?;
    let items: Vec<Value> = list
        .items
        .iter()
        .map(|u| user_value(u, org_name(&orgs, u.organization_id)))
        .collect();
    let org_options: Vec<Value> = orgs
        .iter()
        .map(|(id, name)| context! { value => id, label => name })
        .collect();
    let role_q = role
        .map(|r| format!("role={}&", r.as_str()))
        .unwrap_or_default();
    admin_page(
        s,
        "admin_users.html",
        "Users and roles",
        "users",
        status,
        context! {
            users => items, count => list.count, page => page_no,
            prev => (page_no > 1).then(|| format!("/admin/users?{role_q}page={}", page_no - 1)),
            next => list.has_more.then(|| format!("/admin/users?{role_q}page={}", page_no + 1)),
            role => role.map(|r| r.as_str()), role_label => role.map(role_label), roles => roles(), orgs => org_options,
            form => context! {
                name => form.get("name"), email => form.get("email"),
                role => form.get("role").unwrap_or("agent"), organization_id => form.get("organization_id"),
            },
            errors, notice => notice(params),
        },
    )
}

async fn create_user(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let f = &p.fields;
    let mut errors = Errors::new();
    let name = f.get("name").map(str::to_string);
    if name.is_none() {
        errors.insert("name".into(), "is required".into());
    }
    let email = match f.get("email").map(Email::parse) {
        Some(Ok(e)) => Some(e),
        Some(Err(e)) => {
            errors.insert("email".into(), e.0);
            None
        }
        None => {
            errors.insert("email".into(), "is required".into());
            None
        }
    };
    let role = match f.get("role").map(Role::parse) {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            errors.insert("role".into(), e.0);
            Role::Agent
        }
        None => Role::Agent,
    };
    let organization_id = f.id("organization_id")?;
    if role != Role::EndUser && organization_id.is_some() {
        errors.insert(
            "organization_id".into(),
            "only end users belong to a customer organization".into(),
        );
    }
    if errors.is_empty() {
        let input = UserInput {
            name,
            email,
            role: Some(role),
            organization_id: Some(organization_id),
            ..Default::default()
        };
        match state.store.create_user(input, state.now()).await {
            Ok(u) => {
                tracing::info!(user.id = u.id, by = s.actor.id(), "admin created a user");
                return Ok(done(
                    &format!("/admin/users/{}", u.id),
                    &format!("{} was created.", u.name),
                ));
            }
            Err(e) => errors = field_error(e, "email")?,
        }
    }
    let session = p.session.clone();
    users_page(
        &state,
        &session,
        &Params(Default::default()),
        p.fields,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn user(
    State(state): State<AppState>,
    Admin(s): Admin,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, UiError> {
    let id = path_id(&id)?;
    user_page(
        &state,
        &s,
        id,
        notice(&params),
        Errors::new(),
        StatusCode::OK,
    )
    .await
}

async fn user_page(
    state: &AppState,
    s: &WebSession,
    id: i64,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let u = state.store.user(id).await?;
    let orgs = orgs(state).await?;
    admin_page(
        s,
        "admin_user.html",
        &format!("User: {}", u.name),
        "users",
        status,
        context! {
            user => user_value(&u, org_name(&orgs, u.organization_id)),
            roles => roles(), is_me => u.id == s.actor.id(), min => MIN_PASSWORD_LEN,
            errors, notice,
        },
    )
}

async fn change_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let id = path_id(&id)?;
    let target = state.store.user(id).await?;
    let role = match p.fields.get("role").map(Role::parse) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return user_error(&state, &p, id, "role", e.0).await,
        None => return user_error(&state, &p, id, "role", "is required".into()).await,
    };
    if target.id == s.actor.id() && role != Role::Admin {
        return user_error(
            &state,
            &p,
            id,
            "role",
            "you cannot take away your own admin role; ask another admin".into(),
        )
        .await;
    }
    let input = UserInput {
        role: Some(role),
        // Staff belong to no customer organization.
        organization_id: (role != Role::EndUser && target.organization_id.is_some())
            .then_some(None),
        ..Default::default()
    };
    match state.store.update_user(id, input, state.now()).await {
        Ok(u) => Ok(done(
            &format!("/admin/users/{id}"),
            &format!("{} is now {}.", u.name, role_label(role)),
        )),
        Err(e) => {
            let errors = field_error(e, "role")?;
            let session = p.session.clone();
            user_page(
                &state,
                &session,
                id,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn user_error(
    state: &AppState,
    p: &Posted,
    id: i64,
    field: &str,
    message: String,
) -> Result<Response, UiError> {
    user_page(
        state,
        &p.session,
        id,
        None,
        error(field, message),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn suspension(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    let s = require_admin(&p)?;
    let id = path_id(&id)?;
    let suspend = match p.fields.get("suspended") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(UiError::bad_request("suspended must be true or false")),
    };
    if suspend && id == s.actor.id() {
        return user_error(
            &state,
            &p,
            id,
            "suspended",
            "you cannot suspend yourself".into(),
        )
        .await;
    }
    let input = UserInput {
        suspended: Some(suspend),
        ..Default::default()
    };
    let u = state.store.update_user(id, input, state.now()).await?;
    // Sessions and API tokens of suspended users stop working at once (the
    // store's session lookup skips them).
    tracing::info!(
        user.id = u.id,
        suspended = suspend,
        by = s.actor.id(),
        "suspension changed"
    );
    let what = if suspend { "suspended" } else { "active again" };
    Ok(done(
        &format!("/admin/users/{id}"),
        &format!("{} is {what}.", u.name),
    ))
}

async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let id = path_id(&id)?;
    let u = state.store.user(id).await?;
    let (new, again) = (p.fields.raw("password"), p.fields.raw("confirm_password"));
    if new != again {
        return user_error(
            &state,
            &p,
            id,
            "confirm_password",
            "does not match the password".into(),
        )
        .await;
    }
    match state.store.set_password(id, new, state.now()).await {
        Ok(()) => Ok(done(
            &format!("/admin/users/{id}"),
            &format!("The password of {} was set.", u.name),
        )),
        Err(e) => {
            let errors = field_error(e, "password")?;
            let session = p.session.clone();
            user_page(
                &state,
                &session,
                id,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn groups(
    State(state): State<AppState>,
    Admin(s): Admin,
    params: Params,
) -> Result<Response, UiError> {
    groups_page(&state, &s, notice(&params), Errors::new(), StatusCode::OK).await
}

async fn groups_page(
    state: &AppState,
    s: &WebSession,
    notice: Option<String>,
    errors: Errors,
    status: StatusCode,
) -> Result<Response, UiError> {
    let all = state.store.groups().await?;
    let items: Vec<Value> = all
        .iter()
        .map(|g| {
            context! {
                id => g.id, name => g.name.clone(), description => g.description.clone(),
                parent => g.parent_id.and_then(|p| all.iter().find(|x| x.id == p)).map(|p| p.name.clone()),
                created_at => g.created_at,
            }
        })
        .collect();
    let parents: Vec<Value> = all
        .iter()
        .filter(|g| g.parent_id.is_none())
        .map(|g| context! { value => g.id, label => g.name.clone() })
        .collect();
    admin_page(
        s,
        "admin_groups.html",
        "Groups",
        "groups",
        status,
        context! { groups => items, parents, errors, notice },
    )
}

async fn create_group(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    require_admin(&p)?;
    let input = GroupInput {
        name: p.fields.get("name").map(str::to_string),
        description: Some(p.fields.get("description").map(str::to_string)),
        parent_id: Some(p.fields.id("parent_id")?),
    };
    match state.store.create_group(input, state.now()).await {
        Ok(g) => Ok(done(
            "/admin/groups",
            &format!("The group {} was created.", g.name),
        )),
        Err(e) => {
            let errors = field_error(e, "name")?;
            let session = p.session.clone();
            groups_page(
                &state,
                &session,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn rename_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let id = path_id(&id)?;
    let input = GroupInput {
        name: Some(p.fields.get("name").unwrap_or_default().to_string()),
        ..Default::default()
    };
    match state.store.update_group(id, input, state.now()).await {
        Ok(g) => Ok(done(
            "/admin/groups",
            &format!("The group is now called {}.", g.name),
        )),
        Err(e) => {
            let errors = field_error(e, "name")?
                .into_values()
                .map(|m| (format!("name-{id}"), m))
                .collect();
            let session = p.session.clone();
            groups_page(
                &state,
                &session,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn delete_group(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    require_admin(&p)?;
    let id = path_id(&id)?;
    let g = state.store.group(id).await?;
    match state.store.delete_group(id, state.now()).await {
        Ok(()) => Ok(done(
            "/admin/groups",
            &format!("The group {} was deleted.", g.name),
        )),
        Err(e) => {
            let errors = field_error(e, "group")?;
            let session = p.session.clone();
            groups_page(
                &state,
                &session,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
