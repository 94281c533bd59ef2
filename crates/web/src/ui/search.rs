//! Global search (issue 6): the header's search box, with the Zendesk
//! query syntax the API accepts (`status:open priority>normal acme`,
//! `type:user`, `-word`, quoted phrases), parsed as `api/search.rs` does and
//! run by the same `Store::search`, so visibility rules are the store's.
//!
//! Results come grouped: tickets, users, organizations, each with its count
//! and its first results; `type=` (or `type:` in the query) shows one kind,
//! paged. A type whose fields do not fit the query (`status:open` means
//! nothing for users) is left out, as the API's mixed search does; only when
//! no type fits is the query's error shown. A bare number, or `#123`, opens
//! that ticket.

use std::collections::HashMap;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use minijinja::context;
use serde::Serialize;
use steward_domain::search::{self, ObjectType};
use steward_store::{Hit, StoreError};

use super::{
    page::{UiError, page, ser},
    session::Staff,
};
use crate::{AppState, extract::Params};

/// Results per kind on the grouped page, and per page for one kind.
const PREVIEW: u32 = 10;
const PER_PAGE: u32 = 25;

/// Longest query, as the API.
const MAX_QUERY: usize = 2_000;

const KINDS: [(ObjectType, &str, &str); 3] = [
    (ObjectType::Ticket, "ticket", "Tickets"),
    (ObjectType::User, "user", "People"),
    (ObjectType::Organization, "organization", "Accounts"),
];

#[derive(Serialize)]
struct Section {
    key: &'static str,
    title: &'static str,
    count: i64,
    has_more: bool,
    rows: Vec<Row>,
}

#[derive(Serialize, Default)]
struct Row {
    id: i64,
    title: String,
    /// ticket: status and priority; user: role; account: tier.
    status: Option<&'static str>,
    priority: Option<&'static str>,
    priority_code: Option<&'static str>,
    detail: String,
    account: Option<(i64, String)>,
    updated_at: Option<i64>,
}

/// A bare ticket number, with or without `#`.
fn ticket_number(q: &str) -> Option<i64> {
    let digits = q.strip_prefix('#').unwrap_or(q);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

pub async fn show(
    State(state): State<AppState>,
    Staff(s): Staff,
    params: Params,
) -> Result<Response, UiError> {
    let raw = params.get("q").unwrap_or_default().trim().to_string();
    if let Some(n) = ticket_number(&raw) {
        return Ok(Redirect::to(&format!("/tickets/{n}")).into_response());
    }
    if raw.len() > MAX_QUERY {
        return Err(UiError::bad_request(format!(
            "A search can be at most {MAX_QUERY} characters."
        )));
    }
    let only = match params.get("type") {
        None => None,
        Some(t) => match KINDS.iter().find(|(_, key, _)| *key == t) {
            Some(k) => Some(k.0),
            None => {
                return Err(UiError::bad_request(format!(
                    "There is nothing called {t:?} to search."
                )));
            }
        },
    };
    let page_no = params
        .u32("page")
        .map_err(|_| UiError::bad_request("page must be a positive number"))?
        .unwrap_or(1)
        .max(1);
    let empty = raw.is_empty();
    let found = if empty {
        Found::default()
    } else {
        run(&state, &s.actor, &raw, only, page_no).await?
    };
    let title = if empty {
        "Search".to_string()
    } else {
        format!("Search: {raw}")
    };
    let status = if found.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut resp = page(
        &s,
        "search.html",
        &title,
        context! {
            qs => form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>(),
            q => raw,
            empty,
            error => found.error,
            sections => ser(&found.sections),
            single => found.single,
            page => page_no,
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Default)]
struct Found {
    sections: Vec<Section>,
    /// Why nothing could be searched.
    error: Option<String>,
    /// One kind, paged (its key), rather than the grouped overview.
    single: Option<&'static str>,
}

async fn run(
    state: &AppState,
    actor: &steward_store::Actor,
    raw: &str,
    only: Option<ObjectType>,
    page_no: u32,
) -> Result<Found, UiError> {
    let query = match search::parse(raw) {
        Ok(q) => q,
        Err(e) => {
            return Ok(Found {
                error: Some(e.0),
                ..Found::default()
            });
        }
    };
    let wanted: Vec<ObjectType> = match (only, query.object_type) {
        (Some(t), _) | (None, Some(t)) => vec![t],
        (None, None) => KINDS.iter().map(|k| k.0).collect(),
    };
    let single = match wanted[..] {
        [t] => KINDS.iter().find(|k| k.0 == t).map(|k| k.1),
        _ => None,
    };
    let (per_page, page_no) = match single {
        Some(_) => (PER_PAGE, page_no),
        None => (PREVIEW, 1),
    };
    let mut found = Vec::new();
    let mut first_error = None;
    for ty in wanted {
        let Some(&(_, key, title)) = KINDS.iter().find(|k| k.0 == ty) else {
            first_error = first_error.or(Some(format!("{} cannot be searched here.", ty.as_str())));
            continue;
        };
        let q = search::Query {
            object_type: Some(ty),
            ..query.clone()
        };
        match state
            .store
            .search(actor, &q, (page_no, per_page), state.now())
            .await
        {
            Ok(p) => found.push((key, title, p)),
            Err(StoreError::Invalid { message, .. }) => {
                first_error = first_error.or(Some(message));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if found.is_empty() {
        return Ok(Found {
            error: first_error,
            ..Found::default()
        });
    }

    // Names for the tickets' requesters and everyone's accounts, at once.
    let hits = found.iter().flat_map(|(_, _, p)| &p.items);
    let mut user_ids = Vec::new();
    let mut org_ids = Vec::new();
    for h in hits {
        match h {
            Hit::Ticket(t) => {
                user_ids.push(t.requester_id);
                org_ids.extend(t.organization_id);
            }
            Hit::User(u) => org_ids.extend(u.organization_id),
            Hit::Organization(_) => {}
        }
    }
    user_ids.sort_unstable();
    user_ids.dedup();
    org_ids.sort_unstable();
    org_ids.dedup();
    let users: HashMap<i64, String> = state
        .store
        .users_by_ids(&user_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let orgs: HashMap<i64, String> = state
        .store
        .orgs_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let account = |id: Option<i64>| id.map(|o| (o, orgs.get(&o).cloned().unwrap_or_default()));

    let sections = found
        .into_iter()
        .map(|(key, title, p)| Section {
            key,
            title,
            count: p.count.unwrap_or(p.items.len() as i64),
            has_more: p.has_more,
            rows: p
                .items
                .iter()
                .map(|h| match h {
                    Hit::Ticket(t) => Row {
                        id: t.id,
                        title: t.subject.clone(),
                        status: Some(t.status.as_str()),
                        priority: Some(t.priority.as_str()),
                        priority_code: Some(t.priority.code()),
                        detail: users.get(&t.requester_id).cloned().unwrap_or_default(),
                        account: account(t.organization_id),
                        updated_at: Some(t.updated_at),
                    },
                    Hit::User(u) => Row {
                        id: u.id,
                        title: u.name.clone(),
                        status: Some(u.role.as_str()),
                        detail: u.email.clone().unwrap_or_default(),
                        account: account(u.organization_id),
                        ..Row::default()
                    },
                    Hit::Organization(o) => Row {
                        id: o.id,
                        title: o.name.clone(),
                        status: Some(o.tier().label()),
                        detail: o.domain_names.join(", "),
                        updated_at: Some(o.updated_at),
                        ..Row::default()
                    },
                })
                .collect(),
        })
        .collect();
    Ok(Found {
        sections,
        error: None,
        single,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_are_ticket_numbers() {
        assert_eq!(ticket_number("123"), Some(123));
        assert_eq!(ticket_number("#42"), Some(42));
        assert_eq!(ticket_number("0"), None);
        assert_eq!(ticket_number("12a"), None);
        assert_eq!(ticket_number("#"), None);
        assert_eq!(ticket_number("+5"), None);
        assert_eq!(ticket_number("99999999999999999999"), None);
    }
}
