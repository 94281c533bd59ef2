//! Zendesk's satisfaction ratings API (policies.md §10, CSAT):
//! `GET /api/v2/satisfaction_ratings` (staff; `score`, `start_time`,
//! `end_time` as unix seconds, `organization_id`, `per_page`, `before_id`),
//! `GET /api/v2/satisfaction_ratings/{id}`, and
//! `POST /api/v2/tickets/{ticket_id}/satisfaction_rating` for the requester
//! (`{"satisfaction_rating": {"score": "good"|"bad", "comment", "reason",
//! "rating": 1..5}}`). Rules live in `steward_store::satisfaction`.
//!
//! `ticket.satisfaction_rating` (`{id, score, comment}` or `null`) is filled
//! wherever tickets are rendered, with one batched query per page or
//! response (`Store::ticket_ratings`, over the unique `ticket_id` index),
//! never one per ticket.

use axum::{
    Json,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::{csat::Score, time::format_unix};
use steward_store::satisfaction::{RatingFilter, RatingInput, SatisfactionRating};

use super::{Routes, base};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/satisfaction_ratings", get(list)),
        ("/api/v2/satisfaction_ratings/{id}", get(show)),
        ("/api/v2/tickets/{id}/satisfaction_rating", post(create)),
    ]
}

pub(crate) fn rating_json(r: &SatisfactionRating, base: &str) -> Value {
    json!({
        "id": r.id,
        "url": format!("{base}/api/v2/satisfaction_ratings/{}.json", r.id),
        "assignee_id": r.assignee_id,
        "group_id": r.group_id,
        "requester_id": r.requester_id,
        "ticket_id": r.ticket_id,
        "organization_id": r.organization_id,
        "score": r.score.as_str(),
        "rating": r.rating,
        "comment": r.comment,
        "reason": r.reason,
        "created_at": format_unix(r.created_at),
        "updated_at": format_unix(r.updated_at),
    })
}

/// The short form embedded in a ticket, as Zendesk's.
pub(crate) fn embedded(r: Option<&SatisfactionRating>) -> Value {
    match r {
        Some(r) => json!({"id": r.id, "score": r.score.as_str(), "comment": r.comment}),
        None => Value::Null,
    }
}

fn unix(params: &Params, k: &str) -> ApiResult<Option<i64>> {
    params
        .get(k)
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("{k} must be a unix time in seconds")))
        })
        .transpose()
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<Value>> {
    let score = params
        .get("score")
        .map(|s| match Score::parse(s) {
            Ok(s) => Ok(s),
            Err(e) => Err(ApiError::bad_request(e.0)),
        })
        .transpose()?;
    let filter = RatingFilter {
        score,
        start_time: unix(&params, "start_time")?,
        end_time: unix(&params, "end_time")?,
        organization_id: unix(&params, "organization_id")?,
        before_id: unix(&params, "before_id")?,
        limit: i64::from(params.u32("per_page")?.unwrap_or(100).clamp(1, 100)),
    };
    let base = base(&state, &headers);
    let items: Vec<Value> = state
        .store
        .satisfaction_ratings(&actor, &filter)
        .await?
        .iter()
        .map(|r| rating_json(r, &base))
        .collect();
    Ok(Json(
        json!({"satisfaction_ratings": items, "count": items.len()}),
    ))
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let r = state.store.satisfaction_rating(&actor, id).await?;
    Ok(Json(
        json!({"satisfaction_rating": rating_json(&r, &base(&state, &headers))}),
    ))
}

fn parse(body: &Value) -> ApiResult<RatingInput> {
    let mut r = Reader::new(
        envelope(body, "satisfaction_rating")?,
        "satisfaction_rating",
    )?;
    let input = RatingInput {
        score: r.parsed("score", Score::parse).flatten(),
        rating: r.int("rating").flatten(),
        comment: r.text("comment").flatten(),
        reason: r.line("reason").flatten(),
    };
    r.finish()?;
    Ok(input)
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(ticket): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = parse(&body)?;
    let r = state
        .store
        .rate_ticket(&actor, ticket, input, state.now())
        .await?;
    Ok(
        Json(json!({"satisfaction_rating": rating_json(&r, &base(&state, &headers))}))
            .into_response(),
    )
}
