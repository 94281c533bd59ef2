//! The NPS program's staff API (policies.md §10; rules and decisions in
//! `steward_store::surveys`): campaigns, sending, the one reminder, the
//! campaign report and the four-quarter trend. The public survey pages are
//! in `crate::survey`.

use axum::{
    Json,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::{
    nps::{Category, Tally},
    survey::{Audience, Quarter},
    time::{format_unix, parse_rfc3339},
};
use steward_store::surveys::{Campaign, NewCampaign, NpsReport};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/nps_campaigns", get(list).post(create)),
        ("/api/v2/nps_campaigns/{id}", get(show)),
        ("/api/v2/nps_campaigns/{id}/send", post(send)),
        ("/api/v2/nps_campaigns/{id}/remind", post(remind)),
        ("/api/v2/nps_campaigns/{id}/report", get(report)),
        ("/api/v2/nps/trend", get(trend)),
    ]
}

fn campaign_json(c: &Campaign) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "quarter": c.quarter,
        "send_at": format_unix(c.send_at),
        "audience": c.audience,
        "status": c.status,
        "sent_at": c.sent_at.map(format_unix),
        "reminded_at": c.reminded_at.map(format_unix),
        "created_by": c.created_by,
        "created_at": format_unix(c.created_at),
    })
}

fn tally_json(t: &Tally) -> Value {
    json!({
        "nps": t.nps(),
        "responses": t.responses(),
        "promoters": t.promoters,
        "passives": t.passives,
        "detractors": t.detractors,
        "shares": {
            "promoters": t.share(Category::Promoter),
            "passives": t.share(Category::Passive),
            "detractors": t.share(Category::Detractor),
        },
    })
}

fn report_json(r: &NpsReport) -> Value {
    let mut v = tally_json(&r.tally);
    v["campaign"] = campaign_json(&r.campaign);
    v["sent"] = json!(r.sent);
    v["response_rate"] = json!(r.response_rate);
    v["segments"] = json!({
        "tier": r.by_tier.iter().map(|(k, t)| (k.clone(), tally_json(t))).collect::<serde_json::Map<_, _>>(),
        "industry": r.by_industry.iter().map(|(k, t)| (k.clone(), tally_json(t))).collect::<serde_json::Map<_, _>>(),
        "time_live": r.by_time_live.iter().map(|(k, t)| (k.clone(), tally_json(t))).collect::<serde_json::Map<_, _>>(),
    });
    v["detractor_list"] = r
        .detractors
        .iter()
        .map(|d| {
            json!({
                "response_id": d.response_id,
                "organization_id": d.organization_id,
                "organization": d.organization,
                "user_id": d.user_id,
                "name": d.name,
                "score": d.score,
                "reason": d.reason,
                "extended": d.extended,
                "answered_at": format_unix(d.answered_at),
            })
        })
        .collect();
    v
}

/// `{"nps_campaign": {"name", "quarter": "2026-Q4", "send_at": RFC 3339,
/// "audience": {"account_statuses": [..], "tiers": [..]}}}`.
fn parse(body: &Value, now: i64) -> ApiResult<NewCampaign> {
    let mut r = Reader::new(envelope(body, "nps_campaign")?, "nps_campaign")?;
    let name = r.line("name").flatten();
    let quarter = r.parsed("quarter", Quarter::parse).flatten();
    let send_at = r.parsed("send_at", parse_rfc3339).flatten();
    let mut audience = Audience::default();
    match r.raw("audience") {
        None | Some(Value::Null) => {}
        Some(a @ Value::Object(_)) => {
            let mut ar = Reader::new(a, "nps_campaign.audience")?;
            let statuses = ar.strings("account_statuses").unwrap_or_default();
            let tiers = ar.strings("tiers").unwrap_or_default();
            ar.finish()?;
            match Audience::parse(&statuses, &tiers) {
                Ok(a) => audience = a,
                Err(e) => r.error("audience", e.0),
            }
        }
        Some(_) => r.error("audience", "must be {account_statuses, tiers}"),
    }
    if name.is_none() {
        r.error("name", "is required");
    }
    if quarter.is_none() && !r.has("quarter") {
        r.error("quarter", "is required (e.g. 2026-Q4)");
    }
    r.finish()?;
    match (name, quarter) {
        (Some(name), Some(quarter)) => Ok(NewCampaign {
            name,
            quarter,
            send_at: send_at.unwrap_or(now),
            audience,
        }),
        _ => Err(ApiError::invalid(vec![(
            "nps_campaign".into(),
            "name and quarter are required".into(),
        )])),
    }
}

async fn list(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .store
        .campaigns(&actor)
        .await?
        .iter()
        .map(campaign_json)
        .collect();
    Ok(Json(json!({"nps_campaigns": items, "count": items.len()})))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = parse(&body, state.now())?;
    let c = state
        .store
        .create_campaign(&actor, input, state.now())
        .await?;
    Ok((created(), Json(json!({"nps_campaign": campaign_json(&c)}))).into_response())
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let c = state.store.campaign(&actor, id).await?;
    Ok(Json(json!({"nps_campaign": campaign_json(&c)})))
}

async fn send(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (c, sent) = state
        .store
        .send_campaign(&actor, id, &base(&state, &headers), state.now())
        .await?;
    Ok(Json(
        json!({"nps_campaign": campaign_json(&c), "sent": sent}),
    ))
}

async fn remind(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let sent = state
        .store
        .remind_campaign(&actor, id, &base(&state, &headers), state.now())
        .await?;
    Ok(Json(json!({"reminded": sent})))
}

async fn report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let r = state.store.nps_report(&actor, id).await?;
    Ok(Json(json!({"report": report_json(&r)})))
}

async fn trend(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let quarters: Vec<Value> = state
        .store
        .nps_trend(&actor, state.now())
        .await?
        .iter()
        .map(|(q, t)| {
            let mut v = tally_json(t);
            v["quarter"] = json!(q.to_string());
            v
        })
        .collect();
    Ok(Json(json!({"trend": quarters})))
}
