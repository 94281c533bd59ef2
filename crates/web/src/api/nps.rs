//! The survey program's staff API (policies.md §10; rules and decisions in
//! `steward_store::surveys` and `steward_domain::pulse`): NPS and weekly
//! pulse campaigns (`kind`), editing a draft, sending, the one reminder,
//! closing, the campaign report (its shape follows the kind) and the
//! four-quarter NPS trend. The public survey pages are in `crate::survey`.

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
    pulse,
    survey::{Audience, CampaignKind, Quarter},
    time::{Month, format_unix, parse_rfc3339},
};
use steward_store::surveys::{
    Campaign, CampaignEdit, NewCampaign, NpsReport, PulseReport, PulseText, ThemeCount,
};

use super::{Routes, base, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/nps_campaigns", get(list).post(create)),
        ("/api/v2/nps_campaigns/{id}", get(show).put(update)),
        ("/api/v2/nps_campaigns/{id}/send", post(send)),
        ("/api/v2/nps_campaigns/{id}/remind", post(remind)),
        ("/api/v2/nps_campaigns/{id}/close", post(close)),
        ("/api/v2/nps_campaigns/{id}/report", get(report)),
        ("/api/v2/nps/trend", get(trend)),
    ]
}

fn campaign_json(c: &Campaign) -> Value {
    json!({
        "id": c.id,
        "kind": c.kind.as_str(),
        "name": c.name,
        "quarter": c.quarter,
        "send_at": format_unix(c.send_at),
        "audience": c.audience,
        "status": c.status,
        "sent_at": c.sent_at.map(format_unix),
        "reminded_at": c.reminded_at.map(format_unix),
        "created_by": c.created_by,
        "created_at": format_unix(c.created_at),
        "closed_at": c.closed_at.map(format_unix),
        "follows_id": c.follows_id,
    })
}

fn themes_json(themes: &[ThemeCount]) -> Value {
    themes
        .iter()
        .map(|t| json!({"id": t.id, "title": t.title, "accounts_count": t.accounts, "items_count": t.items}))
        .collect()
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
    v["top_themes"] = themes_json(&r.top_themes);
    v
}

fn texts_json(list: &[PulseText]) -> Value {
    list.iter()
        .map(|t| {
            json!({
                "response_id": t.response_id,
                "organization_id": t.organization_id,
                "organization": t.organization,
                "user_id": t.user_id,
                "name": t.name,
                "text": t.text,
                "answered_at": format_unix(t.answered_at),
            })
        })
        .collect()
}

fn pulse_report_json(r: &PulseReport) -> Value {
    json!({
        "campaign": campaign_json(&r.campaign),
        "sent": r.sent,
        "responses": r.summary.responses,
        "response_rate": r.response_rate,
        "averages": {
            "ease_of_use": r.summary.ease_of_use,
            "meets_needs": r.summary.meets_needs,
            "recommend": r.summary.recommend,
        },
        "recommend_nps": tally_json(&r.summary.tally),
        "friction_points": texts_json(&r.friction_points),
        "valuable_features": texts_json(&r.valuable_features),
        "top_themes": themes_json(&r.top_themes),
    })
}

/// `audience: {account_statuses, tiers}`, reported on `r` when malformed.
fn audience(r: &mut Reader) -> ApiResult<Option<Audience>> {
    match r.raw("audience") {
        None | Some(Value::Null) => Ok(None),
        Some(a @ Value::Object(_)) => {
            let mut ar = Reader::new(a, "nps_campaign.audience")?;
            let statuses = ar.strings("account_statuses").unwrap_or_default();
            let tiers = ar.strings("tiers").unwrap_or_default();
            ar.finish()?;
            match Audience::parse(&statuses, &tiers) {
                Ok(a) => Ok(Some(a)),
                Err(e) => {
                    r.error("audience", e.0);
                    Ok(None)
                }
            }
        }
        Some(_) => {
            r.error("audience", "must be {account_statuses, tiers}");
            Ok(None)
        }
    }
}

/// `{"nps_campaign": {"kind": "nps"|"pulse", "name", "quarter": "2026-Q4",
/// "send_at": RFC 3339, "audience": {"account_statuses": [..], "tiers": [..]}}}`.
/// An NPS campaign needs a name and a quarter and goes out at `send_at`
/// (default now). A pulse campaign defaults to the next Tuesday 10:00 ET,
/// named for its week, in the quarter of its send date.
fn parse(body: &Value, now: i64) -> ApiResult<NewCampaign> {
    let mut r = Reader::new(envelope(body, "nps_campaign")?, "nps_campaign")?;
    let kind = r
        .parsed("kind", CampaignKind::parse)
        .flatten()
        .unwrap_or(CampaignKind::Nps);
    let name = r.line("name").flatten();
    let quarter = r.parsed("quarter", Quarter::parse).flatten();
    let send_at = r.parsed("send_at", parse_rfc3339).flatten();
    let audience = audience(&mut r)?.unwrap_or_default();
    let send_at = match (kind, send_at) {
        (_, Some(t)) => t,
        (CampaignKind::Nps, None) => now,
        (CampaignKind::Pulse, None) => pulse::next_slot_after(now),
    };
    let (name, quarter) = match kind {
        CampaignKind::Nps => {
            if name.is_none() {
                r.error("name", "is required");
            }
            if quarter.is_none() && !r.has("quarter") {
                r.error("quarter", "is required (e.g. 2026-Q4)");
            }
            (name, quarter)
        }
        CampaignKind::Pulse => {
            let m = Month::of_instant(send_at);
            (
                Some(name.unwrap_or_else(|| pulse::campaign_name(send_at))),
                Some(quarter.unwrap_or(Quarter::of_month(m.year() as i32, m.number() as i8))),
            )
        }
    };
    r.finish()?;
    match (name, quarter) {
        (Some(name), Some(quarter)) => Ok(NewCampaign {
            kind,
            name,
            quarter,
            send_at,
            audience,
        }),
        _ => Err(ApiError::invalid(vec![(
            "nps_campaign".into(),
            "name and quarter are required".into(),
        )])),
    }
}

/// `{"nps_campaign": {"name", "send_at", "audience"}}`, each optional.
fn parse_edit(body: &Value) -> ApiResult<CampaignEdit> {
    let mut r = Reader::new(envelope(body, "nps_campaign")?, "nps_campaign")?;
    let name = r.line("name").flatten();
    let send_at = r.parsed("send_at", parse_rfc3339).flatten();
    let audience = audience(&mut r)?;
    for fixed in ["kind", "quarter"] {
        if r.has(fixed) {
            r.error(fixed, "cannot be changed; create another campaign");
        }
    }
    r.finish()?;
    Ok(CampaignEdit {
        name,
        send_at,
        audience,
    })
}

/// `GET /api/v2/nps_campaigns[?kind=nps|pulse]`.
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let kind = params
        .get("kind")
        .map(|k| {
            CampaignKind::parse(k).map_err(|e| ApiError::bad_request(format!("kind: {}", e.0)))
        })
        .transpose()?;
    let items: Vec<Value> = state
        .store
        .campaigns(&actor, kind)
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

/// `PUT /api/v2/nps_campaigns/{id}`: a draft's name, send time and
/// audience; 409 once sent or closed.
async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let edit = parse_edit(&body)?;
    let c = state.store.update_campaign(&actor, id, edit).await?;
    Ok(Json(json!({"nps_campaign": campaign_json(&c)})))
}

/// `POST /api/v2/nps_campaigns/{id}/close`: no more answers or reminders.
async fn close(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let c = state.store.close_campaign(&actor, id, state.now()).await?;
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
    let c = state.store.campaign(&actor, id).await?;
    let report = match c.kind {
        CampaignKind::Nps => report_json(&state.store.nps_report(&actor, id).await?),
        CampaignKind::Pulse => pulse_report_json(&state.store.pulse_report(&actor, id).await?),
    };
    Ok(Json(json!({ "report": report })))
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
