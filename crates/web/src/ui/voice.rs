//! The voice-of-customer pages (issue 6 over issue 5's store): NPS
//! campaigns and their reports (§10), feedback themes with committee
//! decisions (§11), and the Customer Advisory Board (§12). Reading is for
//! every staff role; the forms call the same store functions as the API,
//! which refuse viewers.

use std::collections::{BTreeMap, HashMap};

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use steward_domain::{
    feedback::{DecisionDraft, DecisionKind},
    nps::{Category, Tally},
    survey::{Audience, CampaignKind, Quarter},
};
use steward_store::{StoreError, feedback::ItemFilter, surveys::NewCampaign};

use super::{
    page::{UiError, page},
    session::{Posted, Staff},
};
use crate::{AppState, extract::Id};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/nps", get(campaigns).post(create_campaign))
        .route("/nps/{id}", get(campaign))
        .route("/nps/{id}/send", post(send_campaign))
        .route("/feedback", get(themes))
        .route("/feedback/{id}", get(theme))
        .route("/feedback/{id}/decide", post(decide))
        .route("/feedback/{id}/shipped", post(shipped))
        .route("/cab", get(cab))
}

fn tally(t: &Tally) -> Value {
    context! {
        nps => t.nps(),
        responses => t.responses(),
        promoters => t.promoters,
        passives => t.passives,
        detractors => t.detractors,
        promoter_share => t.share(Category::Promoter),
        passive_share => t.share(Category::Passive),
        detractor_share => t.share(Category::Detractor),
    }
}

async fn campaigns(State(state): State<AppState>, Staff(s): Staff) -> Result<Response, UiError> {
    campaigns_page(&state, &s, BTreeMap::new(), StatusCode::OK).await
}

async fn campaigns_page(
    state: &AppState,
    s: &steward_store::sessions::WebSession,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let store = &state.store;
    let list: Vec<Value> = store
        .campaigns(&s.actor, None)
        .await?
        .iter()
        .map(|c| {
            context! { id => c.id, name => c.name.clone(), quarter => c.quarter.clone(), status => c.status.clone(),
                       send_at => c.send_at, sent_at => c.sent_at }
        })
        .collect();
    let trend: Vec<Value> = store
        .nps_trend(&s.actor, state.now())
        .await?
        .iter()
        .map(|(q, t)| context! { quarter => q.to_string(), ..tally(t) })
        .collect();
    let m = steward_domain::time::Month::of_instant(state.now());
    let quarter = Quarter::of_month(m.year() as i32, m.number() as i8).to_string();
    let mut resp = page(
        s,
        "nps.html",
        "NPS campaigns",
        context! { nav => "nps", campaigns => list, trend, target => 50, errors, quarter },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn create_campaign(State(state): State<AppState>, p: Posted) -> Result<Response, UiError> {
    p.require_staff()?;
    let f = &p.fields;
    let mut errors = BTreeMap::new();
    let name = f.get("name").map(str::to_string);
    if name.is_none() {
        errors.insert("name".to_string(), "is required".to_string());
    }
    let quarter = match f.get("quarter").map(Quarter::parse) {
        Some(Ok(q)) => Some(q),
        Some(Err(e)) => {
            errors.insert("quarter".into(), e.to_string());
            None
        }
        None => {
            errors.insert("quarter".into(), "is required (e.g. 2026-Q4)".into());
            None
        }
    };
    let audience = match Audience::parse(
        &f.all("account_statuses")
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
        &f.all("tiers")
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>(),
    ) {
        Ok(a) => a,
        Err(e) => {
            errors.insert("tiers".into(), e.0);
            Audience::default()
        }
    };
    let (Some(name), Some(quarter), true) = (name, quarter, errors.is_empty()) else {
        return campaigns_page(&state, &p.session, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let now = state.now();
    match state
        .store
        .create_campaign(
            &p.session.actor,
            NewCampaign {
                kind: CampaignKind::Nps,
                name,
                quarter,
                send_at: now,
                audience,
            },
            now,
        )
        .await
    {
        Ok(c) => Ok(Redirect::to(&format!("/nps/{}", c.id)).into_response()),
        Err(StoreError::Invalid { field, message }) => {
            errors.insert(field, message);
            campaigns_page(&state, &p.session, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn campaign(
    State(state): State<AppState>,
    Staff(s): Staff,
    Id(id): Id,
) -> Result<Response, UiError> {
    let r = state.store.nps_report(&s.actor, id).await?;
    let segments = |m: &BTreeMap<String, Tally>| -> Vec<Value> {
        m.iter()
            .map(|(k, t)| context! { name => k, ..tally(t) })
            .collect()
    };
    let detractors: Vec<Value> = r
        .detractors
        .iter()
        .map(|d| {
            context! { organization => d.organization.clone(), organization_id => d.organization_id, name => d.name.clone(),
                       score => d.score, reason => d.reason.clone(), answered_at => d.answered_at }
        })
        .collect();
    let c = &r.campaign;
    page(
        &s,
        "nps_campaign.html",
        &format!("NPS: {}", c.name),
        context! {
            nav => "nps",
            campaign => context! { id => c.id, name => c.name.clone(), quarter => c.quarter.clone(), status => c.status.clone(), sent_at => c.sent_at },
            tally => tally(&r.tally), sent => r.sent, response_rate => r.response_rate,
            by_tier => segments(&r.by_tier), by_industry => segments(&r.by_industry),
            by_time_live => segments(&r.by_time_live), detractors,
            can_send => c.sent_at.is_none(),
        },
    )
}

async fn send_campaign(
    State(state): State<AppState>,
    Id(id): Id,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let Some(base) = state.public_url.as_deref() else {
        return Err(UiError::bad_request(
            "Survey links need the server's public address: set STEWARD_PUBLIC_URL and restart.",
        ));
    };
    state
        .store
        .send_campaign(&p.session.actor, id, base, state.now())
        .await?;
    Ok(Redirect::to(&format!("/nps/{id}")).into_response())
}

async fn themes(State(state): State<AppState>, Staff(s): Staff) -> Result<Response, UiError> {
    let now = state.now();
    let list: Vec<Value> = state
        .store
        .feedback_themes(&s.actor)
        .await?
        .iter()
        .map(|t| {
            context! { id => t.id, title => t.title.clone(), category => t.category.as_str(), status => t.status.as_str(),
                       items => t.items, accounts => t.accounts, updated_at => t.updated_at }
        })
        .collect();
    let m = state
        .store
        .feedback_metrics(&s.actor, now - 90 * 86_400, now)
        .await?;
    let metrics = context! {
        items => m.items, by_source => m.by_source, by_sentiment => m.by_sentiment,
        by_category => m.by_category, accepted => m.accepted, shipped => m.shipped,
        mean_days_to_decision => m.mean_days_to_decision.map(|d| format!("{d:.1}")),
    };
    page(
        &s,
        "feedback.html",
        "Feedback themes",
        context! { nav => "feedback", themes => list, metrics },
    )
}

async fn theme_page(
    state: &AppState,
    s: &steward_store::sessions::WebSession,
    id: i64,
    errors: BTreeMap<String, String>,
    values: BTreeMap<String, String>,
    status: StatusCode,
) -> Result<Response, UiError> {
    let store = &state.store;
    let t = store.feedback_theme(&s.actor, id).await?;
    let items = store
        .feedback_items(
            &s.actor,
            &ItemFilter {
                theme_id: Some(id),
                ..Default::default()
            },
            100,
        )
        .await?;
    let mut org_ids: Vec<i64> = items.iter().filter_map(|i| i.organization_id).collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let orgs: HashMap<i64, String> = store
        .orgs_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let items: Vec<Value> = items
        .iter()
        .map(|i| {
            context! { text => i.text.clone(), source => i.source.as_str(), sentiment => i.sentiment.as_str(),
                       organization => i.organization_id.and_then(|o| orgs.get(&o).cloned()),
                       organization_id => i.organization_id, created_at => i.created_at, ticket_id => i.ticket_id }
        })
        .collect();
    let decisions: Vec<Value> = store
        .feedback_decisions(&s.actor, id)
        .await?
        .iter()
        .map(|d| {
            context! { decision => d.decision.as_str(), target_release => d.target_release.clone(), revisit_on => d.revisit_on.clone(),
                       reason => d.reason.clone(), alternative => d.alternative.clone(), decided_at => d.decided_at }
        })
        .collect();
    let kinds: Vec<Value> = [
        ("roadmap", "Roadmap"),
        ("backlog", "Backlog"),
        ("known_limitation", "Known limitation"),
        ("defer", "Defer"),
        ("reject", "Reject"),
    ]
    .iter()
    .map(|(v, l)| context! { value => *v, label => *l })
    .collect();
    let mut resp = page(
        s,
        "feedback_theme.html",
        &format!("Theme: {}", t.title),
        context! {
            nav => "feedback",
            theme => context! { id => t.id, title => t.title, category => t.category.as_str(), status => t.status.as_str(),
                                items => t.items, accounts => t.accounts },
            items, decisions, kinds, errors, values,
        },
    )?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn theme(
    State(state): State<AppState>,
    Staff(s): Staff,
    Id(id): Id,
) -> Result<Response, UiError> {
    theme_page(
        &state,
        &s,
        id,
        BTreeMap::new(),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

async fn decide(State(state): State<AppState>, Id(id): Id, p: Posted) -> Result<Response, UiError> {
    p.require_staff()?;
    let f = &p.fields;
    let values: BTreeMap<String, String> = [
        "decision",
        "target_release",
        "revisit_on",
        "reason",
        "alternative",
    ]
    .iter()
    .filter_map(|k| f.get(k).map(|v| (k.to_string(), v.to_string())))
    .collect();
    let kind = match f.get("decision").map(DecisionKind::parse) {
        Some(Ok(k)) => k,
        _ => {
            let errors =
                BTreeMap::from([("decision".to_string(), "choose a decision".to_string())]);
            return theme_page(
                &state,
                &p.session,
                id,
                errors,
                values,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let draft = DecisionDraft {
        target_release: f.get("target_release").map(str::to_string),
        revisit_on: f.get("revisit_on").map(str::to_string),
        reason: f.get("reason").map(str::to_string),
        alternative: f.get("alternative").map(str::to_string),
    };
    match state
        .store
        .decide_feedback_theme(&p.session.actor, id, kind, &draft, state.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/feedback/{id}")).into_response()),
        Err(StoreError::Invalid { field, message }) => {
            let errors = BTreeMap::from([(field, message)]);
            theme_page(
                &state,
                &p.session,
                id,
                errors,
                values,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn shipped(
    State(state): State<AppState>,
    Id(id): Id,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    state
        .store
        .ship_feedback_theme(&p.session.actor, id, state.now())
        .await?;
    Ok(Redirect::to(&format!("/feedback/{id}")).into_response())
}

async fn cab(State(state): State<AppState>, Staff(s): Staff) -> Result<Response, UiError> {
    let store = &state.store;
    let now = state.now();
    let members = store.cab_members(&s.actor).await?;
    let candidates = store.cab_candidates(&s.actor, now).await?;
    let meetings = store.cab_meetings(&s.actor).await?;
    let org_ids: Vec<i64> = members.iter().map(|m| m.organization_id).collect();
    let orgs: HashMap<i64, String> = store
        .orgs_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let members: Vec<Value> = members
        .iter()
        .map(|m| {
            context! { organization => orgs.get(&m.organization_id).cloned().unwrap_or_default(),
                       organization_id => m.organization_id, term_start => m.term_start.clone(), term_end => m.term_end.clone(),
                       status => m.status.clone(), reference => m.reference }
        })
        .collect();
    let candidates: Vec<Value> = candidates
        .iter()
        .map(|c| {
            context! { organization_id => c.organization_id, name => c.name.clone(), industry => c.industry.clone(),
                       eligible => c.eligible,
                       criteria => c.criteria.iter().map(|k| context! { key => k.key, met => k.met, evidence => k.evidence.clone() }).collect::<Vec<_>>() }
        })
        .collect();
    let meetings: Vec<Value> = meetings
        .iter()
        .map(|m| {
            context! { quarter_date => m.quarter_date.clone(), agenda => m.agenda.clone(), agenda_due => m.agenda_due.clone(),
                       prep_call_on => m.prep_call_on.clone(), held_at => m.held_at, summary => m.summary.clone(),
                       follow_ups => m.follow_up_task_ids.len() }
        })
        .collect();
    page(
        &s,
        "cab.html",
        "Customer Advisory Board",
        context! { nav => "cab", members, candidates, meetings },
    )
}
