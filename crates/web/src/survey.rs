//! The public survey pages (policies.md §10), no login: the link in the
//! e-mail is the credential, and the link's campaign says what is asked.
//! For NPS, `GET /s/{token}` shows the 0–10 question and the reason;
//! `POST /s/{token}` (an HTML form post) stores the answer — response,
//! follow-up tasks and the used mark in one transaction — and shows the
//! extended survey of the answer's category, posted to
//! `POST /s/{token}/more`. For the weekly pulse, `GET /s/{token}` shows its
//! five questions and `POST /s/{token}` stores them (and the friction
//! points as feedback) and thanks. `GET /s/{token}/unsubscribe` stops the
//! surveys.
//!
//! Every outcome is an HTML page: an unknown link is 404, an expired or
//! already used one, or one of a closed campaign, 410, a refused form 422
//! with the form shown again and the errors next to the fields; never JSON,
//! never a bare 500.
//! `application/x-www-form-urlencoded` bodies are decoded with
//! `form_urlencoded` (axum's `form` feature is off).

use std::collections::BTreeMap;

use axum::{
    Router,
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use steward_domain::{
    nps::Category,
    pulse,
    survey::{
        CampaignKind, extended_page, message_page, pulse_page, question_page, validate_extended,
    },
};
use steward_store::{StoreError, surveys::TokenProblem};

use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/s/{token}", get(show).post(answer))
        .route("/s/{token}/more", axum::routing::post(more))
        .route("/s/{token}/unsubscribe", get(unsubscribe))
}

fn page<E: std::fmt::Display>(status: StatusCode, html: Result<String, E>) -> Response {
    match html {
        Ok(h) => (status, Html(h)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "survey page could not be rendered");
            failure()
        }
    }
}

/// The page for a failure the visitor cannot fix.
fn failure() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>Something went wrong</title></head><body><h1>Something went wrong</h1>\
             <p>Your answer could not be processed. Please try the link again in a few minutes.</p></body></html>"
                .to_string(),
        ),
    )
        .into_response()
}

fn store_failure(e: StoreError) -> Response {
    match e {
        StoreError::Invalid { message, .. } => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            message_page("Please check your answer", &message),
        ),
        e => {
            tracing::error!(error = %e, "survey store error");
            failure()
        }
    }
}

fn problem(p: TokenProblem) -> Response {
    let (status, title, message) = match p {
        TokenProblem::Unknown => (
            StatusCode::NOT_FOUND,
            "Survey not found",
            "This survey link is not valid. Please use the link from your most recent e-mail.",
        ),
        TokenProblem::Expired => (
            StatusCode::GONE,
            "This survey has closed",
            "Survey links are valid for 7 days and this one has expired. Thank you for your interest.",
        ),
        TokenProblem::Used => (
            StatusCode::GONE,
            "Already answered",
            "This survey has already been answered. Thank you for your feedback!",
        ),
        TokenProblem::Closed => (
            StatusCode::GONE,
            "This survey is closed",
            "This survey is closed and no longer takes answers. Thank you for your interest.",
        ),
    };
    page(status, message_page(title, message))
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.replace('\0', "")))
        .collect()
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let none = BTreeMap::new();
    match state.store.survey_link(&token, state.now()).await {
        Ok(Ok(l)) if l.kind == CampaignKind::Pulse => page(
            StatusCode::OK,
            pulse_page(&token, &l.user_name, &none, &none),
        ),
        Ok(Ok(l)) => page(
            StatusCode::OK,
            question_page(&token, &l.user_name, None, "", &none),
        ),
        Ok(Err(p)) => problem(p),
        Err(e) => store_failure(e),
    }
}

async fn answer(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    let now = state.now();
    let f = form(&body);
    // The link says what was asked; a bad link gets its page whatever the
    // form holds.
    let link = match state.store.survey_link(&token, now).await {
        Ok(Ok(l)) => l,
        Ok(Err(p)) => return problem(p),
        Err(e) => return store_failure(e),
    };
    if link.kind == CampaignKind::Pulse {
        return answer_pulse(&state, &token, &link.user_name, &f, now).await;
    }
    let reason = f.get("reason").map(String::as_str).unwrap_or_default();
    let score = f
        .get("score")
        .and_then(|s| s.trim().parse::<u8>().ok())
        .filter(|s| *s <= 10);
    let Some(score) = score else {
        // Re-show the question with the error.
        let mut errors = BTreeMap::new();
        errors.insert(
            "score".to_string(),
            "Please pick a score from 0 to 10.".to_string(),
        );
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            question_page(&token, &link.user_name, None, reason, &errors),
        );
    };
    match state.store.answer_survey(&token, score, reason, now).await {
        Ok(Ok(a)) => page(
            StatusCode::OK,
            extended_page(&token, a.category, &BTreeMap::new(), &BTreeMap::new()),
        ),
        Ok(Err(p)) => problem(p),
        Err(e) => store_failure(e),
    }
}

async fn answer_pulse(
    state: &AppState,
    token: &str,
    name: &str,
    f: &BTreeMap<String, String>,
    now: i64,
) -> Response {
    let a = match pulse::validate(f) {
        Ok(a) => a,
        Err(errs) => {
            let errors: BTreeMap<String, String> = errs.into_iter().collect();
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                pulse_page(token, name, f, &errors),
            );
        }
    };
    match state.store.answer_pulse(token, &a, now).await {
        Ok(Ok(_)) => page(
            StatusCode::OK,
            message_page(
                "Thank you",
                "Thank you for your answers. They go straight to the team, and we read every friction point.",
            ),
        ),
        Ok(Err(p)) => problem(p),
        Err(e) => store_failure(e),
    }
}

async fn more(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    let now = state.now();
    let f = form(&body);
    let category: Category = match state.store.extended_survey(&token, now).await {
        Ok(Ok(c)) => c,
        Ok(Err(p)) => return problem(p),
        Err(e) => return store_failure(e),
    };
    let answers = match validate_extended(category, &f) {
        Ok(a) => a,
        Err(errs) => {
            let errors: BTreeMap<String, String> = errs.into_iter().collect();
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                extended_page(&token, category, &f, &errors),
            );
        }
    };
    match state.store.extend_survey(&token, &answers, now).await {
        Ok(Ok(_)) => page(
            StatusCode::OK,
            message_page(
                "Thank you",
                "Thank you for your feedback. It goes straight to the team.",
            ),
        ),
        Ok(Err(p)) => problem(p),
        Err(e) => store_failure(e),
    }
}

async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.unsubscribe_survey(&token, state.now()).await {
        Ok(Ok(())) => page(
            StatusCode::OK,
            message_page(
                "Unsubscribed",
                "You will not receive these surveys any more.",
            ),
        ),
        Ok(Err(p)) => problem(p),
        Err(e) => store_failure(e),
    }
}
