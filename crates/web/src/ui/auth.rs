//! Sign-in, sign-out and password change for staff (policies.md §8 roles;
//! throttling and session rules in `steward_store::sessions`).

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use minijinja::context;
use steward_store::{StoreError, auth::MIN_PASSWORD_LEN, sessions::SignIn};

use super::{
    page::{UiError, page, render},
    session::{
        MaybeSignedIn, Posted, PublicForm, SESSION_COOKIE, Staff, clear_cookie, login_csrf,
        safe_next, set_cookie,
    },
};
use crate::{AppState, extract::Params};

fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<String>,
) -> Result<Response, UiError> {
    let (csrf, set) = login_csrf(headers, state);
    let mut resp = render(
        status,
        "login.html",
        context! { title => "Sign in", csrf, email, next, error },
    )?;
    if let Some(c) = set.and_then(|c| c.parse().ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

pub async fn show_login(
    State(state): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, UiError> {
    let next = safe_next(params.get("next"), "/queue");
    if let Some(s) = session {
        let to = if s.actor.role().is_staff() {
            next
        } else {
            "/portal".into()
        };
        return Ok(Redirect::to(&to).into_response());
    }
    login_form(&state, &headers, StatusCode::OK, "", &next, None)
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    PublicForm(f): PublicForm,
) -> Result<Response, UiError> {
    let email = f.get("email").unwrap_or_default().to_string();
    let next = safe_next(f.get("next"), "/queue");
    if email.is_empty() || f.raw("password").is_empty() {
        return login_form(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            &email,
            &next,
            Some("Enter your e-mail address and password.".into()),
        );
    }
    match state
        .store
        .sign_in(&email, f.raw("password"), state.now())
        .await?
    {
        SignIn::Ok { token, user } => {
            let to = if user.role.is_staff() {
                next
            } else {
                "/portal".into()
            };
            let mut resp = Redirect::to(&to).into_response();
            if let Ok(c) = set_cookie(&state, SESSION_COOKIE, &token, None).parse() {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            tracing::info!(user.id = user.id, "signed in");
            Ok(resp)
        }
        SignIn::Wrong => login_form(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            &email,
            &next,
            Some("That e-mail address and password do not match.".into()),
        ),
        SignIn::Throttled { retry_after } => {
            let minutes = (retry_after + 59) / 60;
            let mut resp = login_form(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                &next,
                Some(format!(
                    "Too many failed attempts for this address. Try again in {minutes} minute(s)."
                )),
            )?;
            if let Ok(v) = retry_after.to_string().parse() {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
    }
}

pub async fn logout(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    state.store.close_session(p.session.id).await?;
    let to = if p.session.actor.role().is_staff() {
        "/login"
    } else {
        "/portal/login"
    };
    let mut resp = Redirect::to(to).into_response();
    if let Ok(c) = clear_cookie(&state, SESSION_COOKIE).parse() {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

pub async fn show_password(Staff(s): Staff) -> Result<Response, UiError> {
    page(
        &s,
        "password.html",
        "Change password",
        context! { min => MIN_PASSWORD_LEN },
    )
}

pub async fn change_password(
    State(state): State<AppState>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let (current, new, again) = (
        p.fields.raw("current_password"),
        p.fields.raw("new_password"),
        p.fields.raw("confirm_password"),
    );
    let error = if new != again {
        Some((
            "confirm_password",
            "does not match the new password".to_string(),
        ))
    } else {
        match state
            .store
            .change_password(&p.session, current, new, state.now())
            .await
        {
            Ok(()) => None,
            Err(StoreError::Invalid { field, message }) => {
                let field = if field == "password" {
                    "new_password"
                } else {
                    "current_password"
                };
                Some((field, message))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut resp = page(
        &p.session,
        "password.html",
        "Change password",
        context! { min => MIN_PASSWORD_LEN, errors => error.as_ref().map(|(f, m)| std::collections::BTreeMap::from([(f.to_string(), m.clone())])), done => error.is_none() },
    )?;
    if error.is_some() {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}
