//! The feedback loop (policies.md §11) and the Customer Advisory Board
//! (§12) over HTTP. The rules live in `steward_domain::{feedback, cab}` and
//! the decisions taken are documented in `steward_store::{feedback, cab}`.

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use steward_domain::{
    feedback::{DecisionDraft, DecisionKind, FeedbackCategory, FeedbackSource, Sentiment},
    time::{format_unix, parse_date},
};
use steward_store::{
    cab::{CabMeeting, CabMember, Eligibility},
    dates::{utc_date as date_of, utc_start as start_of},
    feedback::{FeedbackItem, ItemEdit, ItemFilter, NewFeedbackItem, StoredDecision, Theme},
};

use super::{Routes, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, JsonBody, Params, TextBody},
    input::{Reader, envelope},
};

/// Rows per CSV import.
const MAX_CSV_ROWS: usize = 1_000;

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/feedback_items", get(list_items).post(create_item)),
        (
            "/api/v2/feedback_items/{id}",
            get(show_item).put(update_item),
        ),
        ("/api/v2/feedback_items/import", post(import_csv)),
        (
            "/api/v2/feedback_items/import_tickets",
            post(import_tickets),
        ),
        (
            "/api/v2/feedback_themes",
            get(list_themes).post(create_theme),
        ),
        ("/api/v2/feedback_themes/{id}", get(show_theme)),
        ("/api/v2/feedback_themes/{id}/merge", post(merge)),
        (
            "/api/v2/feedback_themes/{id}/decisions",
            get(decisions).post(decide),
        ),
        ("/api/v2/feedback_themes/{id}/shipped", post(shipped)),
        ("/api/v2/feedback/metrics", get(metrics)),
        (
            "/api/v2/organizations/{id}/cab_eligibility",
            get(eligibility),
        ),
        ("/api/v2/cab/candidates", get(candidates)),
        ("/api/v2/cab/members", get(members).post(add_member)),
        ("/api/v2/cab/members/{id}/end", post(end_member)),
        ("/api/v2/cab/review", get(review)),
        ("/api/v2/cab/meetings", get(meetings).post(create_meeting)),
        ("/api/v2/cab/meetings/{id}/held", post(held)),
        ("/api/v2/cab/meetings/{id}/follow_ups", post(follow_ups)),
    ]
}

fn item_json(i: &FeedbackItem) -> Value {
    json!({
        "id": i.id,
        "organization_id": i.organization_id,
        "user_id": i.user_id,
        "source": i.source.as_str(),
        "category": i.category.as_str(),
        "sentiment": i.sentiment.as_str(),
        "text": i.text,
        "theme_id": i.theme_id,
        "ticket_id": i.ticket_id,
        "survey_campaign_id": i.survey_campaign_id,
        "created_at": format_unix(i.created_at),
        "updated_at": format_unix(i.updated_at),
    })
}

fn theme_json(t: &Theme) -> Value {
    json!({
        "id": t.id,
        "title": t.title,
        "category": t.category.as_str(),
        "status": t.status.as_str(),
        "merged_into_id": t.merged_into_id,
        "items_count": t.items,
        "accounts_count": t.accounts,
        "created_at": format_unix(t.created_at),
        "updated_at": format_unix(t.updated_at),
    })
}

fn decision_json(d: &StoredDecision) -> Value {
    json!({
        "id": d.id,
        "theme_id": d.theme_id,
        "decision": d.decision.as_str(),
        "target_release": d.target_release,
        "revisit_on": d.revisit_on,
        "reason": d.reason,
        "alternative": d.alternative,
        "decided_at": format_unix(d.decided_at),
        "decided_by": d.decided_by,
    })
}

fn query_parsed<T>(
    params: &Params,
    k: &str,
    f: impl Fn(&str) -> Result<T, steward_domain::ParseError>,
) -> ApiResult<Option<T>> {
    params
        .get(k)
        .map(|v| f(v).map_err(|e| ApiError::bad_request(format!("{k}: {}", e.0))))
        .transpose()
}

fn query_id(params: &Params, k: &str) -> ApiResult<Option<i64>> {
    query_parsed(params, k, |v| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| steward_domain::ParseError::new(format!("{v} is not an id")))
    })
}

/// `GET /api/v2/feedback_items?source=&category=&sentiment=&theme_id=&organization_id=&per_page=`.
async fn list_items(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let limit = params.u32("per_page")?.unwrap_or(100).clamp(1, 100) as i64;
    let filter = ItemFilter {
        source: query_parsed(&params, "source", FeedbackSource::parse)?,
        category: query_parsed(&params, "category", FeedbackCategory::parse)?,
        sentiment: query_parsed(&params, "sentiment", Sentiment::parse)?,
        theme_id: match query_id(&params, "theme_id")? {
            Some(t) => Some(t),
            None => query_id(&params, "theme")?,
        },
        organization_id: query_id(&params, "organization_id")?,
    };
    let items: Vec<Value> = state
        .store
        .feedback_items(&actor, &filter, limit)
        .await?
        .iter()
        .map(item_json)
        .collect();
    Ok(Json(json!({"feedback_items": items, "count": items.len()})))
}

async fn show_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let i = state.store.feedback_item(&actor, id).await?;
    Ok(Json(json!({"feedback_item": item_json(&i)})))
}

/// Triage: `{"feedback_item": {"theme_id" (null: no theme) | "theme":
/// "title", "category", "sentiment"}}`; the text and origin stay.
async fn update_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut r = Reader::new(envelope(&body, "feedback_item")?, "feedback_item")?;
    let edit = ItemEdit {
        theme_id: r.int("theme_id"),
        theme: r.line("theme").flatten(),
        category: r.parsed("category", FeedbackCategory::parse).flatten(),
        sentiment: r.parsed("sentiment", Sentiment::parse).flatten(),
    };
    for fixed in ["source", "text", "organization_id", "user_id"] {
        if r.has(fixed) {
            r.error(fixed, "cannot be changed; add another item");
        }
    }
    r.finish()?;
    let i = state
        .store
        .update_feedback_item(&actor, id, edit, state.now())
        .await?;
    Ok(Json(json!({"feedback_item": item_json(&i)})))
}

/// `{"feedback_item": {"source", "category", "sentiment", "text",
/// "organization_id", "user_id", "theme_id" | "theme": "title"}}`.
async fn create_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "feedback_item")?, "feedback_item")?;
    let source = r.parsed("source", FeedbackSource::parse).flatten();
    let category = r.parsed("category", FeedbackCategory::parse).flatten();
    let sentiment = r.parsed("sentiment", Sentiment::parse).flatten();
    let text = r.text("text").flatten();
    let organization_id = r.int("organization_id").flatten();
    let user_id = r.int("user_id").flatten();
    let theme_id = r.int("theme_id").flatten();
    let theme = r.line("theme").flatten();
    let mut missing = Vec::new();
    for (k, ok) in [
        ("source", source.is_some()),
        ("category", category.is_some()),
        ("sentiment", sentiment.is_some()),
        (
            "text",
            text.as_deref().is_some_and(|t| !t.trim().is_empty()),
        ),
    ] {
        if !ok && !r.has(k) {
            missing.push(k);
        }
    }
    for k in missing {
        r.error(k, "is required");
    }
    if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
        r.error("text", "cannot be blank");
    }
    r.finish()?;
    let (Some(source), Some(category), Some(sentiment), Some(text)) =
        (source, category, sentiment, text)
    else {
        return Err(ApiError::invalid(vec![(
            "feedback_item".into(),
            "source, category, sentiment and text are required".into(),
        )]));
    };
    let now = state.now();
    let item = NewFeedbackItem {
        organization_id,
        user_id,
        source,
        category,
        sentiment,
        text,
        theme_id,
        theme,
        ticket_id: None,
        survey_campaign_id: None,
        created_at: now,
    };
    let i = state.store.create_feedback_item(&actor, item, now).await?;
    Ok((created(), Json(json!({"feedback_item": item_json(&i)}))).into_response())
}

/// `POST /api/v2/feedback_items/import` with a CSV body whose header is
/// `source,category,sentiment,text,organization_id,theme`.
async fn import_csv(
    State(state): State<AppState>,
    Auth(actor): Auth,
    TextBody(text): TextBody,
) -> ApiResult<Response> {
    let ids = state
        .store
        .import_feedback_csv(&actor, &text, MAX_CSV_ROWS, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"imported": ids.len(), "feedback_item_ids": ids})),
    )
        .into_response())
}

/// Turns tickets tagged `feedback` that have no item yet into items (the
/// ticket write path already does this as the tag is added).
async fn import_tickets(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> ApiResult<Json<Value>> {
    let n = state.store.import_feedback_tickets(&actor).await?;
    Ok(Json(json!({"imported": n})))
}

async fn list_themes(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .store
        .feedback_themes(&actor)
        .await?
        .iter()
        .map(theme_json)
        .collect();
    Ok(Json(
        json!({"feedback_themes": items, "count": items.len()}),
    ))
}

/// `{"feedback_theme": {"title", "category"}}`.
async fn create_theme(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "feedback_theme")?, "feedback_theme")?;
    let title = r.line("title").flatten();
    let category = r.parsed("category", FeedbackCategory::parse).flatten();
    if title.is_none() && !r.has("title") {
        r.error("title", "is required");
    }
    r.finish()?;
    let t = state
        .store
        .create_feedback_theme(
            &actor,
            title.as_deref().unwrap_or(""),
            category.unwrap_or(FeedbackCategory::Product),
            state.now(),
        )
        .await?;
    Ok((created(), Json(json!({"feedback_theme": theme_json(&t)}))).into_response())
}

async fn show_theme(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let t = state.store.feedback_theme(&actor, id).await?;
    Ok(Json(json!({"feedback_theme": theme_json(&t)})))
}

/// `{"theme_ids": [..]}`: those themes merge into this one.
async fn merge(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut r = Reader::new(&body, "")?;
    let ids = r.ints("theme_ids");
    if ids.is_none() && !r.has("theme_ids") {
        r.error("theme_ids", "is required");
    }
    r.finish()?;
    let t = state
        .store
        .merge_feedback_themes(&actor, id, &ids.unwrap_or_default(), state.now())
        .await?;
    Ok(Json(json!({"feedback_theme": theme_json(&t)})))
}

async fn decisions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    state.store.feedback_theme(&actor, id).await?;
    let items: Vec<Value> = state
        .store
        .feedback_decisions(&actor, id)
        .await?
        .iter()
        .map(decision_json)
        .collect();
    Ok(Json(
        json!({"feedback_decisions": items, "count": items.len()}),
    ))
}

/// `{"feedback_decision": {"decision", "target_release", "revisit_on",
/// "reason", "alternative"}}`. 201 with the e-mails enqueued; repeating the
/// standing decision answers 200 and sends nothing.
async fn decide(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "feedback_decision")?, "feedback_decision")?;
    let kind = r.parsed("decision", DecisionKind::parse).flatten();
    let draft = DecisionDraft {
        target_release: r.line("target_release").flatten(),
        revisit_on: r.line("revisit_on").flatten(),
        reason: r.text("reason").flatten(),
        alternative: r.text("alternative").flatten(),
    };
    if kind.is_none() && !r.has("decision") {
        r.error("decision", "is required");
    }
    r.finish()?;
    let Some(kind) = kind else {
        return Err(ApiError::invalid(vec![(
            "decision".into(),
            "is required".into(),
        )]));
    };
    let d = state
        .store
        .decide_feedback_theme(&actor, id, kind, &draft, state.now())
        .await?;
    let status = if d.recorded {
        created()
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        Json(json!({"feedback_decision": decision_json(&d), "notified": d.notified})),
    )
        .into_response())
}

async fn shipped(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let (t, n) = state
        .store
        .ship_feedback_theme(&actor, id, state.now())
        .await?;
    Ok(Json(
        json!({"feedback_theme": theme_json(&t), "notified": n}),
    ))
}

/// `GET /api/v2/feedback/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD`: items
/// received from `from` up to and including `to` (UTC days); the last 90
/// days when omitted.
async fn metrics(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let now = state.now();
    let day = |k: &str| query_parsed(&params, k, parse_date);
    let to = match day("to")? {
        Some(d) => start_of(d) + 86_400,
        None => start_of(date_of(now)) + 86_400,
    };
    let from = match day("from")? {
        Some(d) => start_of(d),
        None => to - 90 * 86_400,
    };
    if from >= to {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    let m = state.store.feedback_metrics(&actor, from, to).await?;
    let share = if m.accepted > 0 {
        Some(((m.shipped as f64 / m.accepted as f64) * 1000.0).round() / 1000.0)
    } else {
        None
    };
    let top: Vec<Value> = m
        .top_themes
        .iter()
        .map(|(id, title, accounts, items)| {
            json!({"id": id, "title": title, "accounts_count": accounts, "items_count": items})
        })
        .collect();
    Ok(Json(json!({"feedback_metrics": {
        "from": format_unix(from),
        "to": format_unix(to),
        "items_count": m.items,
        "by_source": m.by_source,
        "by_sentiment": m.by_sentiment,
        "by_category": m.by_category,
        "top_themes": top,
        "mean_days_to_decision": m.mean_days_to_decision,
        "accepted_count": m.accepted,
        "shipped_count": m.shipped,
        "share_implemented": share,
    }})))
}

fn eligibility_json(e: &Eligibility) -> Value {
    json!({
        "organization_id": e.organization_id,
        "name": e.name,
        "industry": e.industry,
        "company_size": e.company_size,
        "eligible": e.eligible,
        "criteria": e.criteria,
    })
}

fn member_json(m: &CabMember) -> Value {
    json!({
        "id": m.id,
        "organization_id": m.organization_id,
        "user_id": m.user_id,
        "term_start": m.term_start,
        "term_end": m.term_end,
        "status": m.status,
        "reference": m.reference,
        "created_at": format_unix(m.created_at),
        "ended_on": m.ended_on,
        "end_reason": m.end_reason,
    })
}

fn meeting_json(m: &CabMeeting) -> Value {
    json!({
        "id": m.id,
        "quarter_date": m.quarter_date,
        "agenda": m.agenda,
        "agenda_due": m.agenda_due,
        "prep_call_on": m.prep_call_on,
        "held_at": m.held_at.map(format_unix),
        "summary": m.summary,
        "follow_up_task_ids": m.follow_up_task_ids,
        "invitee_member_ids": m.invitees,
        "member_follow_ups": m.member_follow_ups.iter().map(|f| json!({
            "member_id": f.member_id,
            "organization_id": f.organization_id,
            "kind": f.kind,
            "task_id": f.task_id,
        })).collect::<Vec<_>>(),
    })
}

fn query_bool(params: &Params, k: &str) -> ApiResult<bool> {
    match params.get(k) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(v) => Err(ApiError::bad_request(format!(
            "{k}: {v} is not true or false"
        ))),
    }
}

/// `GET /api/v2/organizations/{id}/cab_eligibility[?reference=true]`.
async fn eligibility(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(org): Id,
    params: Params,
) -> ApiResult<Json<Value>> {
    let reference = query_bool(&params, "reference")?;
    let e = state
        .store
        .cab_eligibility(&actor, org, reference, state.now())
        .await?;
    Ok(Json(eligibility_json(&e)))
}

async fn candidates(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .store
        .cab_candidates(&actor, state.now())
        .await?
        .iter()
        .map(eligibility_json)
        .collect();
    Ok(Json(json!({"candidates": items, "count": items.len()})))
}

/// `GET /api/v2/cab/members[?status=active|ended]`; `active_count` is the
/// board's size (§12 aims for 5–7).
async fn members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let status = match params.get("status") {
        None => None,
        Some(s @ ("active" | "ended")) => Some(s),
        Some(s) => {
            return Err(ApiError::bad_request(format!(
                "status: {s} is not active or ended"
            )));
        }
    };
    let all = state.store.cab_members(&actor).await?;
    let active = all.iter().filter(|m| m.status == "active").count();
    let items: Vec<Value> = all
        .iter()
        .filter(|m| status.is_none_or(|s| m.status == s))
        .map(member_json)
        .collect();
    Ok(Json(
        json!({"cab_members": items, "count": items.len(), "active_count": active}),
    ))
}

/// `POST /api/v2/cab/members/{id}/end` with
/// `{"cab_member": {"reason", "ended_on": "YYYY-MM-DD"}}` (today by default).
async fn end_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut r = Reader::new(envelope(&body, "cab_member")?, "cab_member")?;
    let reason = r.text("reason").flatten();
    let ended_on = r.parsed("ended_on", parse_date).flatten();
    if reason.as_deref().is_none_or(|s| s.trim().is_empty()) {
        r.error("reason", "is required");
    }
    r.finish()?;
    let m = state
        .store
        .end_cab_member(
            &actor,
            id,
            ended_on,
            reason.as_deref().unwrap_or_default(),
            state.now(),
        )
        .await?;
    Ok(Json(json!({"cab_member": member_json(&m)})))
}

/// `{"cab_member": {"organization_id", "user_id", "term_start", "reference"}}`.
async fn add_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "cab_member")?, "cab_member")?;
    let org = r.int("organization_id").flatten();
    let user = r.int("user_id").flatten();
    let start = r.parsed("term_start", parse_date).flatten();
    let reference = r.boolean("reference").unwrap_or(false);
    if org.is_none() && !r.has("organization_id") {
        r.error("organization_id", "is required");
    }
    r.finish()?;
    let Some(org) = org else {
        return Err(ApiError::invalid(vec![(
            "organization_id".into(),
            "is required".into(),
        )]));
    };
    let m = state
        .store
        .add_cab_member(&actor, org, user, start, reference, state.now())
        .await?;
    Ok((created(), Json(json!({"cab_member": member_json(&m)}))).into_response())
}

/// `GET /api/v2/cab/review?year=YYYY`: the September review's list.
async fn review(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let year = match params.get("year") {
        Some(y) => y
            .trim()
            .parse::<i16>()
            .ok()
            .filter(|y| (1900..=9000).contains(y))
            .ok_or_else(|| ApiError::bad_request(format!("year: {y} is not a year")))?,
        None => date_of(state.now()).year(),
    };
    let items: Vec<Value> = state
        .store
        .cab_review(&actor, year)
        .await?
        .iter()
        .map(member_json)
        .collect();
    Ok(Json(
        json!({"year": year, "review_on": format!("{year}-09"), "cab_members": items, "count": items.len()}),
    ))
}

async fn meetings(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state
        .store
        .cab_meetings(&actor)
        .await?
        .iter()
        .map(meeting_json)
        .collect();
    Ok(Json(json!({"cab_meetings": items, "count": items.len()})))
}

/// `{"cab_meeting": {"quarter_date": "2026-03-15", "agenda"}}`.
async fn create_meeting(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "cab_meeting")?, "cab_meeting")?;
    let date = r.parsed("quarter_date", parse_date).flatten();
    let agenda = r.text("agenda").flatten().unwrap_or_default();
    if date.is_none() && !r.has("quarter_date") {
        r.error("quarter_date", "is required");
    }
    r.finish()?;
    let Some(date) = date else {
        return Err(ApiError::invalid(vec![(
            "quarter_date".into(),
            "is required".into(),
        )]));
    };
    let m = state
        .store
        .create_cab_meeting(&actor, date, &agenda, state.now())
        .await?;
    Ok((created(), Json(json!({"cab_meeting": meeting_json(&m)}))).into_response())
}

/// `POST /api/v2/cab/meetings/{id}/held` with an optional
/// `{"cab_meeting": {"summary"}}`: records the meeting and creates the
/// follow-up tasks.
async fn held(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    TextBody(body): TextBody,
) -> ApiResult<Json<Value>> {
    let summary = if body.trim().is_empty() {
        None
    } else {
        let b: Value = serde_json::from_str(&body)
            .map_err(|e| ApiError::bad_request(format!("the body must be JSON: {e}")))?;
        let mut r = Reader::new(envelope(&b, "cab_meeting")?, "cab_meeting")?;
        let s = r.text("summary").flatten();
        r.finish()?;
        s
    };
    let m = state
        .store
        .hold_cab_meeting(&actor, id, summary, state.now())
        .await?;
    Ok(Json(json!({"cab_meeting": meeting_json(&m)})))
}

/// `POST /api/v2/cab/meetings/{id}/follow_ups`: re-runs a held meeting's
/// per-member follow-ups, making only the missing ones.
async fn follow_ups(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let m = state
        .store
        .rerun_cab_follow_ups(&actor, id, state.now())
        .await?;
    Ok(Json(json!({"cab_meeting": meeting_json(&m)})))
}
