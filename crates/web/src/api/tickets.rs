//! `/api/v2/tickets` and the ticket lists nested under users and
//! organizations, comments, audits and the bulk endpoints.

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use steward_store::{Actor, PageRequest, Sort, TicketFilter, TicketInput};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params},
    input, paging, render,
};

/// Most items a bulk endpoint takes, as Zendesk.
const BULK_MAX: usize = 100;

/// Columns ticket lists may be sorted by (`sort_by`).
const TICKET_SORTS: &[&str] = &["id", "created_at", "updated_at", "priority", "status"];

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/tickets", get(list).post(create)),
        ("/api/v2/tickets/count", get(count)),
        ("/api/v2/tickets/show_many", get(show_many)),
        (
            "/api/v2/tickets/create_many",
            axum::routing::post(create_many),
        ),
        (
            "/api/v2/tickets/update_many",
            axum::routing::put(update_many),
        ),
        (
            "/api/v2/tickets/destroy_many",
            axum::routing::delete(destroy_many),
        ),
        (
            "/api/v2/tickets/{id}",
            get(show).put(update).delete(destroy),
        ),
        ("/api/v2/tickets/{id}/comments", get(comments)),
        ("/api/v2/tickets/{id}/audits", get(audits)),
        ("/api/v2/tickets/{id}/incidents", get(incidents)),
        ("/api/v2/organizations/{id}/tickets", get(org_tickets)),
        ("/api/v2/users/{id}/tickets/requested", get(requested)),
        ("/api/v2/users/{id}/tickets/assigned", get(assigned)),
    ]
}

struct Ctx<'a> {
    state: &'a AppState,
    actor: &'a Actor,
    base: String,
}

impl Ctx<'_> {
    async fn render_all(&self, tickets: &[steward_store::Ticket]) -> ApiResult<Vec<Value>> {
        let fields = self.state.store.ticket_fields().await?;
        let ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
        let ratings = self.state.store.ticket_ratings(&ids).await?;
        Ok(tickets
            .iter()
            .map(|t| {
                let mut v = render::ticket(t, &self.base, &fields, self.actor.role());
                v["satisfaction_rating"] = super::satisfaction::embedded(ratings.get(&t.id));
                v
            })
            .collect())
    }

    async fn render_one(&self, t: &steward_store::Ticket) -> ApiResult<Value> {
        Ok(self.render_all(std::slice::from_ref(t)).await?.remove(0))
    }
}

async fn list_with(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    params: &Params,
    filter: TicketFilter,
) -> ApiResult<Response> {
    let (req, sort) = paging::request(params, TICKET_SORTS)?;
    let page = state.store.list_tickets(actor, &filter, req, sort).await?;
    let base = base(state, headers);
    let fields = state.store.ticket_fields().await?;
    let role = actor.role();
    let custom: Vec<Vec<render::FieldValue>> = page
        .items
        .iter()
        .map(|t| render::field_values(t, &fields, role))
        .collect();
    // One query for the page's CSAT ratings, not one per ticket.
    let ids: Vec<i64> = page.items.iter().map(|t| t.id).collect();
    let ratings = state.store.ticket_ratings(&ids).await?;
    let items: Vec<render::TicketOut> = page
        .items
        .iter()
        .zip(&custom)
        .map(|(t, c)| {
            render::ticket_out(t, &base, c, role)
                .with_satisfaction(super::satisfaction::embedded(ratings.get(&t.id)))
        })
        .collect();
    let body = paging::envelope_of("tickets", &page, items, req, uri, &base, |t| t.id);
    Ok(Json(body).into_response())
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let filter = TicketFilter {
        external_id: params.get("external_id").map(str::to_string),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn org_tickets(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let filter = TicketFilter {
        organization_id: Some(id),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn requested(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let filter = TicketFilter {
        requester_id: Some(id),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn assigned(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let filter = TicketFilter {
        assignee_id: Some(id),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn incidents(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    state.store.ticket(&actor, id).await?;
    let filter = TicketFilter {
        problem_id: Some(id),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn count(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let page = state
        .store
        .list_tickets(
            &actor,
            &TicketFilter::default(),
            PageRequest::Offset {
                page: 1,
                per_page: 1,
            },
            Sort::ID,
        )
        .await?;
    let now = steward_domain::time::format_unix(state.now());
    Ok(Json(
        json!({"count": {"value": page.count.unwrap_or(0), "refreshed_at": now}}),
    ))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Value>> {
    let t = state.store.ticket(&actor, id).await?;
    let ctx = Ctx {
        state: &state,
        actor: &actor,
        base: base(&state, &headers),
    };
    let mut body = json!({"ticket": ctx.render_one(&t).await?});
    // `include=slas,metric_events` (staff only: SLA internals).
    let include: Vec<&str> = params
        .get("include")
        .map(|s| s.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if actor.role().is_staff() && !include.is_empty() {
        if include.contains(&"slas") {
            let clocks = state.store.ticket_clocks(id).await?;
            let cals = state.store.calendars().await?;
            body["ticket"]["slas"] = super::slas::slas_json(&clocks, &cals, state.now());
        }
        if include.contains(&"metric_events") {
            let events = state.store.metric_events(Some(id), 0, None, 10_000).await?;
            let mut by_metric = serde_json::Map::new();
            for e in &events {
                if let Value::Array(list) = by_metric
                    .entry(e.metric.clone())
                    .or_insert_with(|| json!([]))
                {
                    list.push(super::slas::event_json(e));
                }
            }
            body["ticket"]["metric_events"] = Value::Object(by_metric);
        }
    }
    Ok(Json(body))
}

async fn show_many(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Response> {
    let ids = params.ids("ids", BULK_MAX)?;
    let filter = TicketFilter {
        ids: Some(ids),
        ..Default::default()
    };
    list_with(&state, &actor, &headers, &uri, &params, filter).await
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let ticket = input::ticket(input::envelope(&body, "ticket")?, true)?;
    let (t, audit) = state
        .store
        .create_ticket(&actor, ticket, state.now())
        .await?;
    let ctx = Ctx {
        state: &state,
        actor: &actor,
        base: base(&state, &headers),
    };
    let location = format!("{}/api/v2/tickets/{}.json", ctx.base, t.id);
    let body = json!({"ticket": ctx.render_one(&t).await?, "audit": render::audit(&audit)});
    Ok((created(), [(header::LOCATION, location)], Json(body)).into_response())
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let patch = input::ticket(input::envelope(&body, "ticket")?, false)?;
    let (t, audit) = state
        .store
        .update_ticket(&actor, id, patch, state.now())
        .await?;
    let ctx = Ctx {
        state: &state,
        actor: &actor,
        base: base(&state, &headers),
    };
    let mut out = json!({"ticket": ctx.render_one(&t).await?});
    if let (Some(a), Value::Object(map)) = (audit, &mut out) {
        map.insert("audit".into(), render::audit(&a));
    }
    Ok(Json(out))
}

async fn destroy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.store.delete_ticket(&actor, id, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn comments(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (req, sort) = paging::request(&params, &["created_at", "id"])?;
    let sort = if sort.column == "created_at" {
        Sort {
            column: "id",
            ..sort
        }
    } else {
        sort
    };
    let page = state.store.comments(&actor, id, req, sort).await?;
    let items = page.items.iter().map(render::comment).collect();
    Ok(Json(paging::envelope(
        "comments",
        &page,
        items,
        req,
        &uri,
        &base(&state, &headers),
        |c| c.id,
    )))
}

async fn audits(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    params: Params,
) -> ApiResult<Json<Value>> {
    let (req, _) = paging::request(&params, &["id"])?;
    let page = state.store.audits(&actor, id, req).await?;
    let items = page.items.iter().map(render::audit).collect();
    Ok(Json(paging::envelope(
        "audits",
        &page,
        items,
        req,
        &uri,
        &base(&state, &headers),
        |a| a.id,
    )))
}

// ----- bulk ------------------------------------------------------------------

fn job_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

async fn finish_job(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    job_type: &str,
    results: Vec<Value>,
) -> ApiResult<Json<Value>> {
    let job = steward_store::JobStatus {
        id: job_id(),
        job_type: job_type.into(),
        owner_id: actor.id(),
        status: "completed".into(),
        total: results.len() as i64,
        progress: results.len() as i64,
        results: Value::Array(results),
        message: Some(format!(
            "Completed at {}",
            steward_domain::time::format_unix(state.now())
        )),
    };
    state.store.save_job(&job, state.now()).await?;
    Ok(Json(
        json!({"job_status": render::job_status(&job, &base(state, headers))}),
    ))
}

fn item_error(key: &str, id: Value, e: ApiError) -> Value {
    json!({key: id, "success": false, "error": e.error, "details": e.description})
}

async fn create_many(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let items = body
        .get("tickets")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("the body must be {\"tickets\": [...]}"))?;
    if items.len() > BULK_MAX {
        return Err(ApiError::too_many_values(format!(
            "create_many accepts at most {BULK_MAX} tickets"
        )));
    }
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let outcome = match input::ticket(item, true) {
            Ok(t) => state
                .store
                .create_ticket(&actor, t, state.now())
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        results.push(match outcome {
            Ok((t, _)) => json!({"index": index, "id": t.id, "action": "create", "success": true, "status": "Created"}),
            Err(e) => item_error("index", json!(index), e),
        });
    }
    finish_job(&state, &actor, &headers, "bulk_create_tickets", results).await
}

async fn update_many(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    params: Params,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    // Either the same change for `?ids=` or one change per ticket.
    let mut work: Vec<(i64, Result<TicketInput, ApiError>)> = Vec::new();
    if params.get("ids").is_some() {
        let ids = params.ids("ids", BULK_MAX)?;
        let patch = input::envelope(&body, "ticket")?;
        for id in ids {
            work.push((id, input::ticket(patch, false)));
        }
    } else {
        let items = body
            .get("tickets")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "send ?ids= with {\"ticket\": {...}} or {\"tickets\": [{\"id\": ..}]}",
                )
            })?;
        if items.len() > BULK_MAX {
            return Err(ApiError::too_many_values(format!(
                "update_many accepts at most {BULK_MAX} tickets"
            )));
        }
        for item in items {
            match item.get("id").and_then(Value::as_i64) {
                Some(id) => work.push((id, input::ticket(item, false))),
                None => {
                    return Err(ApiError::invalid(vec![(
                        "tickets".into(),
                        "every ticket needs an id".into(),
                    )]));
                }
            }
        }
    }
    let mut results = Vec::with_capacity(work.len());
    for (id, patch) in work {
        let outcome = match patch {
            Ok(p) => state
                .store
                .update_ticket(&actor, id, p, state.now())
                .await
                .map_err(ApiError::from),
            Err(e) => Err(e),
        };
        results.push(match outcome {
            Ok(_) => json!({"id": id, "action": "update", "success": true, "status": "Updated"}),
            Err(e) => item_error("id", json!(id), e),
        });
    }
    finish_job(&state, &actor, &headers, "bulk_update_tickets", results).await
}

async fn destroy_many(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Value>> {
    let ids = params.ids("ids", BULK_MAX)?;
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        results.push(
            match state.store.delete_ticket(&actor, id, state.now()).await {
                Ok(()) => {
                    json!({"id": id, "action": "delete", "success": true, "status": "Deleted"})
                }
                Err(e) => item_error("id", json!(id), e.into()),
            },
        );
    }
    finish_job(&state, &actor, &headers, "bulk_delete_tickets", results).await
}
