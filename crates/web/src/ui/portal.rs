//! The customer portal (issue 6; policies.md §8, end users): sign-in by a
//! one-time e-mailed link, the contact's tickets (and their organization's
//! when it shares tickets), the public conversation with a reply form, new
//! tickets, and the NPS surveys waiting for an answer.
//!
//! Who sees what is the store's business, shared with the API: `ticket`,
//! `list_tickets` and `comments` apply the end-user rules (own tickets, the
//! organization's when shared, public comments only), and an invisible
//! ticket is `NotFound`, so another organization's ticket is a 404 page
//! that says nothing about it. Replies and new tickets go through the same
//! `update_ticket` / `create_ticket` as `PUT`/`POST /api/v2/tickets`, so a
//! requester's reply reopens a solved ticket exactly as it does there.
//!
//! Sign-in links: asking answers the same page whether or not the address
//! belongs to a contact (no account enumeration), and is throttled per
//! address ([`steward_store::portal`]).

use std::collections::{BTreeMap, HashMap};

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Serialize;
use steward_domain::{Email, Priority, Role};
use steward_store::{
    NewComment, PageRequest, Sort, StoreError, TicketFilter, TicketInput,
    sessions::PORTAL_LINK_SECS,
};

use super::{
    page::{UiError, page, render, ser},
    session::{
        Customer, MaybeSignedIn, Posted, PublicForm, SESSION_COOKIE, clear_cookie, cookie,
        login_csrf, safe_next, set_cookie,
    },
};
use crate::{AppState, extract::Params, paging};

const PER_PAGE: u32 = 25;
/// Where to go after the link, remembered by the browser that asked for
/// it (the link itself is the store's and carries no target). A link
/// opened in another browser lands on `/portal`.
const NEXT_COOKIE: &str = "steward_portal_next";
/// Comments read per store call when showing a conversation.
const COMMENTS_PER_CALL: u32 = 100;
/// Longest subject a portal form takes (the API's limit is the store's).
const MAX_SUBJECT: usize = 200;

/// What a contact may pick: the API lets end users set any priority, and
/// the labels say when each is meant (policies.md §2).
const PRIORITIES: &[(&str, &str)] = &[
    ("low", "Low — a question or a minor issue"),
    ("normal", "Normal — something does not work as expected"),
    ("high", "High — important work is blocked"),
    (
        "urgent",
        "Urgent — system down, data loss, security breach or a blocked go-live",
    ),
];

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(tickets))
        .route("/portal/login", get(show_login).post(ask_link))
        .route("/portal/login/{token}", get(confirm).post(redeem))
        .route("/portal/new", get(show_new).post(create))
        .route("/portal/tickets/{id}", get(ticket))
        .route("/portal/tickets/{id}/reply", post(reply))
        .route("/portal/surveys/{campaign}", post(survey))
}

// ----- sign-in by link ---------------------------------------------------

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    ctx: Value,
) -> Result<Response, UiError> {
    before_sign_in(state, headers, status, "portal_login.html", ctx)
}

/// A page shown before sign-in whose form carries the pre-sign-in CSRF
/// token (`csrf`), setting its cookie when the browser has none yet.
fn before_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    template: &str,
    ctx: Value,
) -> Result<Response, UiError> {
    let (csrf, set) = login_csrf(headers, state);
    let mut resp = render(
        status,
        template,
        context! { title => "Sign in to the support portal", csrf, ..ctx },
    )?;
    if let Some(c) = set.and_then(|c| c.parse().ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

async fn show_login(
    State(state): State<AppState>,
    MaybeSignedIn(session): MaybeSignedIn,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, UiError> {
    if let Some(s) = session {
        let to = if s.actor.role() == Role::EndUser {
            "/portal"
        } else {
            "/queue"
        };
        return Ok(Redirect::to(to).into_response());
    }
    let next = portal_next(params.get("next"));
    login_page(&state, &headers, StatusCode::OK, context! { next })
}

/// A `next=` target inside the portal; anything else is the ticket list.
fn portal_next(next: Option<&str>) -> String {
    let n = safe_next(next, "/portal");
    if n == "/portal" || n.starts_with("/portal/") || n.starts_with("/portal?") {
        n
    } else {
        "/portal".into()
    }
}

async fn ask_link(
    State(state): State<AppState>,
    headers: HeaderMap,
    PublicForm(f): PublicForm,
) -> Result<Response, UiError> {
    let email = f.get("email").unwrap_or_default().to_string();
    let next = portal_next(f.get("next"));
    if Email::parse(&email).is_err() {
        return login_page(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { email, next, errors => BTreeMap::from([("email", "Enter the e-mail address you write to support from.")]) },
        );
    }
    let now = state.now();
    if let Some(retry_after) = state.store.note_portal_link_request(&email, now).await? {
        let minutes = (retry_after + 59) / 60;
        let mut resp = login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            context! { email, next, error => format!(
                "Several links were asked for this address just now. Use the latest e-mail, or try again in {minutes} minute(s)."
            ) },
        )?;
        if let Ok(v) = retry_after.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let base = paging::base_url(&headers, state.public_url.as_deref());
    let sent = state.store.request_portal_link(&email, &base, now).await?;
    // Logged without the address's fate in the answer: the page is the same.
    tracing::info!(portal.link_queued = sent, "portal sign-in link asked for");
    let mut resp = login_page(
        &state,
        &headers,
        StatusCode::OK,
        context! { sent => true, next => next.clone() },
    )?;
    if let Ok(c) = set_cookie(
        &state,
        NEXT_COOKIE,
        &form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>(),
        Some(PORTAL_LINK_SECS),
    )
    .parse()
    {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// Whether a path segment could be a link token (43 URL-safe base64
/// characters); anything else is simply not a page.
fn looks_like_token(t: &str) -> bool {
    t.len() == 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The page a sign-in link opens: one button that signs in. Opening the
/// link spends nothing, so the link scanners of mail services (which fetch
/// every link of a message before the person does) cannot use it up; the
/// button posts the link back with the pre-sign-in CSRF token, so another
/// site cannot sign a browser into someone else's portal account either.
async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, UiError> {
    if !looks_like_token(&token) {
        return link_refused(StatusCode::NOT_FOUND);
    }
    if !state.store.portal_link_is_open(&token, state.now()).await? {
        return link_refused(StatusCode::GONE);
    }
    let mut resp = before_sign_in(
        &state,
        &headers,
        StatusCode::OK,
        "portal_confirm.html",
        context! { token },
    )?;
    // The token is in this page's address: keep it out of any Referer.
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    Ok(resp)
}

fn link_refused(status: StatusCode) -> Result<Response, UiError> {
    render(
        status,
        "portal_link.html",
        context! { title => "This sign-in link does not work", gone => status == StatusCode::GONE },
    )
}

async fn redeem(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    PublicForm(_): PublicForm,
) -> Result<Response, UiError> {
    let status = if looks_like_token(&token) {
        match state.store.redeem_portal_link(&token, state.now()).await? {
            Some(session) => {
                let next = cookie(&headers, NEXT_COOKIE).and_then(|v| {
                    form_urlencoded::parse(format!("n={v}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                });
                let mut resp = Redirect::to(&portal_next(next.as_deref())).into_response();
                for c in [
                    set_cookie(&state, SESSION_COOKIE, &session, None),
                    clear_cookie(&state, NEXT_COOKIE),
                ] {
                    if let Ok(c) = c.parse() {
                        resp.headers_mut().append(header::SET_COOKIE, c);
                    }
                }
                return Ok(resp);
            }
            None => StatusCode::GONE,
        }
    } else {
        StatusCode::NOT_FOUND
    };
    link_refused(status)
}

// ----- tickets -----------------------------------------------------------

/// Statuses in the customer's words, as help centers show them: whether
/// the team is on it, waiting for the customer, or done.
fn customer_status(s: steward_domain::Status) -> &'static str {
    use steward_domain::Status;
    match s {
        Status::New | Status::Open | Status::Hold => "Open",
        Status::Pending => "Awaiting your reply",
        Status::Solved => "Solved",
        Status::Closed => "Closed",
    }
}

#[derive(Serialize)]
struct Row {
    id: i64,
    subject: String,
    status: &'static str,
    status_label: &'static str,
    priority: &'static str,
    requester: String,
    mine: bool,
    updated_at: i64,
}

async fn names(
    state: &AppState,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>, UiError> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(state
        .store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

async fn tickets(
    State(state): State<AppState>,
    Customer(s): Customer,
    params: Params,
) -> Result<Response, UiError> {
    let page_no = params
        .u32("page")
        .map_err(|_| UiError::bad_request("page must be a positive number"))?
        .unwrap_or(1)
        .clamp(1, 10_000);
    let list = state
        .store
        .list_tickets(
            &s.actor,
            &TicketFilter::default(),
            PageRequest::Offset {
                page: page_no,
                per_page: PER_PAGE,
            },
            Sort {
                column: "updated_at",
                descending: true,
            },
        )
        .await?;
    let who = names(&state, list.items.iter().map(|t| t.requester_id)).await?;
    let me = s.actor.id();
    let rows: Vec<Row> = list
        .items
        .iter()
        .map(|t| Row {
            id: t.id,
            subject: t.subject.clone(),
            status: t.status.as_str(),
            status_label: customer_status(t.status),
            priority: t.priority.as_str(),
            requester: who.get(&t.requester_id).cloned().unwrap_or_default(),
            mine: t.requester_id == me,
            updated_at: t.updated_at,
        })
        .collect();
    let surveys: Vec<Value> = state
        .store
        .pending_surveys(me, state.now())
        .await?
        .into_iter()
        .map(|p| context! { id => p.campaign_id, name => p.name, expires_at => p.expires_at })
        .collect();
    page(
        &s,
        "portal_tickets.html",
        "My tickets",
        context! {
            nav => "portal",
            rows => ser(&rows),
            shared => s.actor.org_shares_tickets,
            page => page_no,
            has_more => list.has_more,
            total => list.count,
            surveys,
        },
    )
}

#[derive(Serialize)]
struct Message {
    id: i64,
    author: String,
    from_support: bool,
    body: String,
    created_at: i64,
}

async fn ticket_page(
    state: &AppState,
    s: &steward_store::sessions::WebSession,
    id: i64,
    status: StatusCode,
    extra: Value,
) -> Result<Response, UiError> {
    let t = state.store.ticket(&s.actor, id).await?;
    // Every public comment, oldest first; the store leaves out internal
    // notes for end users, as it does for the API.
    let mut comments = Vec::new();
    let mut n = 1;
    loop {
        let p = state
            .store
            .comments(
                &s.actor,
                id,
                PageRequest::Offset {
                    page: n,
                    per_page: COMMENTS_PER_CALL,
                },
                Sort::ID,
            )
            .await?;
        comments.extend(p.items);
        if !p.has_more || n >= 50 {
            break;
        }
        n += 1;
    }
    let people = state
        .store
        .users_by_ids(&{
            let mut ids: Vec<i64> = comments
                .iter()
                .map(|c| c.author_id)
                .chain([t.requester_id])
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        })
        .await?;
    let people: HashMap<i64, (String, bool)> = people
        .into_iter()
        .map(|u| (u.id, (u.name, u.role.is_staff())))
        .collect();
    let messages: Vec<Message> = comments
        .iter()
        .filter(|c| c.public)
        .map(|c| {
            let (author, staff) = people.get(&c.author_id).cloned().unwrap_or_default();
            Message {
                id: c.id,
                author,
                from_support: staff,
                body: c.body.clone(),
                created_at: c.created_at,
            }
        })
        .collect();
    let mut resp = page(
        s,
        "portal_ticket.html",
        &format!("#{} {}", t.id, t.subject),
        context! {
            nav => "portal",
            t => context! {
                id => t.id,
                subject => t.subject.clone(),
                status => t.status.as_str(),
                status_label => customer_status(t.status),
                priority => PRIORITIES
                    .iter()
                    .find(|(v, _)| *v == t.priority.as_str())
                    .map(|(_, l)| l.split(" — ").next().unwrap_or_default())
                    .unwrap_or_default(),
                created_at => t.created_at,
                updated_at => t.updated_at,
                requester => people.get(&t.requester_id).map(|p| p.0.clone()).unwrap_or_default(),
                closed => t.status == steward_domain::Status::Closed,
                solved => t.status == steward_domain::Status::Solved,
            },
            messages => ser(&messages),
            ..extra
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn ticket(
    State(state): State<AppState>,
    Customer(s): Customer,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, UiError> {
    let id = crate::extract::parse_id(&id).ok_or_else(UiError::not_found)?;
    let flash = match params.get("done") {
        Some("reply") => Some("Your reply was sent."),
        Some("created") => Some("Your ticket was opened. We will answer by e-mail and here."),
        _ => None,
    };
    ticket_page(&state, &s, id, StatusCode::OK, context! { flash }).await
}

/// Posted portal forms are for contacts only; staff go to their queue.
fn customer_only(p: &Posted) -> Result<(), UiError> {
    if p.session.actor.role() == Role::EndUser {
        Ok(())
    } else {
        Err(UiError::Redirect("/queue".into()))
    }
}

async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    customer_only(&p)?;
    let id = crate::extract::parse_id(&id).ok_or_else(UiError::not_found)?;
    let body = p.fields.raw("body").trim();
    if body.is_empty() {
        return ticket_page(
            &state,
            &p.session,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { errors => BTreeMap::from([("body", "Write your reply before sending it.")]) },
        )
        .await;
    }
    let input = TicketInput {
        comment: Some(NewComment {
            body: body.to_string(),
            ..Default::default()
        }),
        ..Default::default()
    };
    match state
        .store
        .update_ticket(&p.session.actor, id, input, state.now())
        .await
    {
        Ok(_) => {}
        // Closed tickets take no more comments (the form is not shown;
        // this is a reply from a page opened before the ticket closed).
        Err(StoreError::Invalid { field, .. }) if field == "status" => {
            return Err(UiError::Page {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                title: "This ticket is closed",
                message: "Closed tickets take no more replies. Please open a new ticket from the portal; you can mention this one by its number.".into(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/portal/tickets/{id}?done=reply#reply")).into_response())
}

// ----- new ticket --------------------------------------------------------

fn priority_options() -> Vec<Value> {
    PRIORITIES
        .iter()
        .map(|&(value, label)| context! { value, label })
        .collect()
}

fn new_page(
    s: &steward_store::sessions::WebSession,
    status: StatusCode,
    form: Value,
    errors: BTreeMap<&str, String>,
) -> Result<Response, UiError> {
    let mut resp = page(
        s,
        "portal_new.html",
        "New ticket",
        context! { nav => "portal-new", priorities => priority_options(), form, errors },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn show_new(Customer(s): Customer) -> Result<Response, UiError> {
    new_page(
        &s,
        StatusCode::OK,
        context! { priority => "normal" },
        BTreeMap::new(),
    )
}

async fn create(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    customer_only(&p)?;
    let subject = p.fields.get("subject").unwrap_or_default();
    let description = p.fields.raw("description").trim();
    let priority_text = p.fields.get("priority").unwrap_or("normal");
    let mut errors = BTreeMap::new();
    if subject.is_empty() {
        errors.insert("subject", "Give your ticket a short subject.".to_string());
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.insert(
            "subject",
            format!("Keep the subject under {MAX_SUBJECT} characters."),
        );
    }
    if description.is_empty() {
        errors.insert(
            "description",
            "Describe what happened and what you expected.".to_string(),
        );
    }
    let priority = match PRIORITIES.iter().find(|(v, _)| *v == priority_text) {
        Some((v, _)) => Priority::parse(v).ok(),
        None => None,
    };
    if priority.is_none() {
        errors.insert("priority", "Choose one of the priorities.".to_string());
    }
    if !errors.is_empty() {
        return new_page(
            &p.session,
            StatusCode::UNPROCESSABLE_ENTITY,
            context! { subject, description, priority => priority_text },
            errors,
        );
    }
    let input = TicketInput {
        subject: Some(subject.to_string()),
        comment: Some(NewComment {
            body: description.to_string(),
            ..Default::default()
        }),
        priority,
        ..Default::default()
    };
    let (t, _) = state
        .store
        .create_ticket(&p.session.actor, input, state.now())
        .await?;
    tracing::info!(ticket.id = t.id, "ticket opened in the portal");
    Ok(Redirect::to(&format!("/portal/tickets/{}?done=created", t.id)).into_response())
}

// ----- surveys -----------------------------------------------------------

async fn survey(
    State(state): State<AppState>,
    Path(campaign): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    customer_only(&p)?;
    let campaign = crate::extract::parse_id(&campaign).ok_or_else(UiError::not_found)?;
    match state
        .store
        .portal_survey_token(p.session.actor.id(), campaign, state.now())
        .await?
    {
        Some(token) => Ok(Redirect::to(&format!("/s/{token}")).into_response()),
        None => Err(UiError::Page {
            status: StatusCode::GONE,
            title: "Survey closed",
            message: "This survey was already answered or is no longer open. Thank you!".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_generated_shape() {
        assert!(looks_like_token(&steward_store::auth::generate_token()));
        assert!(!looks_like_token("short"));
        assert!(!looks_like_token(&"a/".repeat(22)[..43]));
    }

    #[test]
    fn next_targets_stay_in_the_portal() {
        assert_eq!(portal_next(Some("/portal/tickets/5")), "/portal/tickets/5");
        assert_eq!(portal_next(Some("/portal?page=2")), "/portal?page=2");
        assert_eq!(portal_next(Some("/queue")), "/portal");
        assert_eq!(portal_next(Some("/portalx")), "/portal");
        assert_eq!(portal_next(Some("//evil.example/portal")), "/portal");
        assert_eq!(portal_next(None), "/portal");
    }

    #[test]
    fn priorities_parse() {
        for (v, _) in PRIORITIES {
            assert!(Priority::parse(v).is_ok(), "{v}");
        }
    }
}
