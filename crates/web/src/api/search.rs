//! `/api/v2/search`: the Zendesk search API over tickets, users and
//! organizations (see `steward_store::search` for what each field means).

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::HeaderMap,
    routing::get,
};
use serde_json::{Value, json};
use steward_domain::search;
use steward_store::{Hit, PageRequest};

use super::{Routes, base};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Params},
    paging, render,
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/search", get(run)),
        ("/api/v2/search/count", get(count)),
    ]
}

fn parse(params: &Params) -> ApiResult<search::Query> {
    let raw = params.get("query").unwrap_or_default();
    if raw.len() > 2_000 {
        return Err(ApiError::bad_request(
            "query is too long (at most 2000 characters)",
        ));
    }
    let mut q = search::parse(raw).map_err(|e| ApiError::bad_request(e.0))?;
    if let Some(s) = params.get("sort_by") {
        q.order_by = Some(s.to_ascii_lowercase());
    }
    match params.get("sort_order") {
        Some("asc") => q.descending = Some(false),
        Some("desc") => q.descending = Some(true),
        Some(_) => return Err(ApiError::bad_request("sort_order must be asc or desc")),
        None => {}
    }
    Ok(q)
}

async fn run(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let q = parse(&params)?;
    let page_no = params.u32("page")?.unwrap_or(1).max(1);
    let per_page = params.u32("per_page")?.unwrap_or(paging::DEFAULT_PER_PAGE);
    if per_page > 100 {
        return Err(ApiError::bad_request("per_page is at most 100"));
    }
    let page = state
        .store
        .search(&actor, &q, (page_no, per_page), state.now())
        .await?;
    let b = base(&state, &headers);
    let fields = state.store.ticket_fields().await?;
    let items = page
        .items
        .iter()
        .map(|h| {
            let (mut v, kind) = match h {
                Hit::Ticket(t) => (render::ticket(t, &b, &fields, actor.role()), "ticket"),
                Hit::User(u) => (render::user(u, &b), "user"),
                Hit::Organization(o) => (render::organization(o, &b, actor.role()), "organization"),
            };
            if let Value::Object(m) = &mut v {
                m.insert("result_type".into(), json!(kind));
            }
            v
        })
        .collect();
    let req = PageRequest::Offset {
        page: page_no,
        per_page,
    };
    let mut body = paging::envelope("results", &page, items, req, &uri, &b, |h| match h {
        Hit::Ticket(t) => t.id,
        Hit::User(u) => u.id,
        Hit::Organization(o) => o.id,
    });
    if let Value::Object(m) = &mut body {
        m.insert("facets".into(), Value::Null);
    }
    Ok(Json(body))
}

async fn count(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let q = parse(&params)?;
    let page = state.store.search(&actor, &q, (1, 1), state.now()).await?;
    Ok(Json(json!({"count": page.count.unwrap_or(0)})))
}
