//! The customer pages (issue 6): the accounts list and the account 360 —
//! contract (§1, hidden from contractors, §8), contacts with their roles,
//! health with its explanation (§9), recent tickets, projects, the
//! communication log, the timeline, NPS and CSAT answers; forms to log a
//! communication and to set or clear a risk flag.
//!
//! Every query is bounded: a page of at most 50 accounts (with one grouped
//! query each for open tickets and CSMs), and on the 360 the latest 10
//! tickets, 20 communications, 30 timeline entries and 10 survey answers.

use std::collections::HashMap;

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use minijinja::{Value, context};
use serde::Serialize;
use steward_domain::{
    Role, Tier,
    health::{Level, Source},
    hub::{CommunicationKind, Sentiment},
    time::parse_date,
};
use steward_store::{
    PageRequest, Sort, TicketFilter,
    account_list::AccountQuery,
    dates::{utc_date, utc_start},
    feedback::ItemFilter,
    hub::CommunicationInput,
    satisfaction::RatingFilter,
    sessions::WebSession,
};

use super::{
    page::{UiError, page, ser},
    session::{Posted, Staff},
};
use crate::{AppState, extract::Params};

pub const PER_PAGE: i64 = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list))
        .route("/accounts/{id}", get(show))
        .route("/accounts/{id}/communications", post(log_communication))
        .route("/accounts/{id}/risk_flags", post(set_flag))
        .route("/accounts/{id}/risk_flags/{flag}/clear", post(clear_flag))
}

/// `$150,000` from cents (whole dollars; cents shown only when present).
pub fn money(cents: i64) -> String {
    let neg = cents < 0;
    let c = cents.unsigned_abs();
    let dollars = c / 100;
    let digits = dollars.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    let cents_part = if c.is_multiple_of(100) {
        String::new()
    } else {
        format!(".{:02}", c % 100)
    };
    format!("{}${out}{cents_part}", if neg { "-" } else { "" })
}

/// A path id, or 404 (ids reveal nothing).
pub fn path_id(raw: &str) -> Result<i64, UiError> {
    crate::extract::parse_id(raw).ok_or_else(UiError::not_found)
}

fn page_no(params: &Params) -> Result<i64, UiError> {
    Ok(i64::from(
        params
            .u32("page")
            .map_err(|_| UiError::bad_request("page must be a positive number"))?
            .unwrap_or(1)
            .clamp(1, 100_000),
    ))
}

#[derive(Serialize)]
struct ListRow {
    id: i64,
    name: String,
    tier: &'static str,
    acv: Option<String>,
    renewal: Option<String>,
    status: Option<String>,
    level: Option<String>,
    risk: Option<i64>,
    csm: Option<String>,
    open_tickets: i64,
}

async fn list(
    State(state): State<AppState>,
    Staff(s): Staff,
    params: Params,
) -> Result<Response, UiError> {
    let tier = params
        .get("tier")
        .map(Tier::parse_loose)
        .transpose()
        .map_err(|e| UiError::bad_request(e.0))?;
    let level = params
        .get("level")
        .map(Level::parse)
        .transpose()
        .map_err(|e| UiError::bad_request(e.0))?;
    let q = params.get("q").map(str::trim).unwrap_or_default();
    if q.chars().count() > 200 {
        return Err(UiError::bad_request("Search for at most 200 characters."));
    }
    let page_no = page_no(&params)?;
    let commercials = s.actor.role().sees_commercials();
    let (rows, count) = state
        .store
        .account_rows(
            &s.actor,
            &AccountQuery {
                name: Some(q.to_string()),
                tier,
                level,
                page: page_no,
                per_page: PER_PAGE,
            },
        )
        .await?;
    let rows: Vec<ListRow> = rows
        .into_iter()
        .map(|r| ListRow {
            id: r.id,
            name: r.name,
            tier: r.tier.label(),
            acv: r.acv_cents.filter(|_| commercials).map(money),
            renewal: r.renewal_date.filter(|_| commercials),
            status: r.status,
            level: r.level,
            risk: r.risk,
            csm: r.csm,
            open_tickets: r.open_tickets,
        })
        .collect();
    let has_more = page_no * PER_PAGE < count;
    let qs: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q)
        .append_pair("tier", tier.map(|t| t.as_str()).unwrap_or_default())
        .append_pair("level", level.map(|l| l.as_str()).unwrap_or_default())
        .finish();
    page(
        &s,
        "accounts.html",
        "Accounts",
        context! {
            nav => "accounts",
            rows => ser(&rows), count, page => page_no, has_more, commercials, qs,
            q, tier => tier.map(|t| t.as_str()), level => level.map(|l| l.as_str()),
            tiers => vec![
                context!{value => "enterprise", label => "Enterprise"},
                context!{value => "mid_market", label => "Mid-Market"},
                context!{value => "starter", label => "Starter"},
            ],
            levels => ["green", "yellow", "orange", "red"].iter()
                .map(|l| context!{value => *l, label => l.to_uppercase()}).collect::<Vec<_>>(),
        },
    )
}

/// The account 360 with `extra` merged in (form values and errors).
async fn account_page(
    state: &AppState,
    s: &WebSession,
    id: i64,
    before: Option<i64>,
    extra: Value,
) -> Result<Response, UiError> {
    let store = &state.store;
    let now = state.now();
    let actor = &s.actor;
    let org = store.org(id).await?;
    let commercials = actor.role().sees_commercials();
    let a = &org.account;
    let contract = commercials.then(|| {
        context! {
            acv => a.acv.map(|m| money(m.cents())),
            arr => a.acv.map(|m| money(m.cents())),
            monthly_spend => a.monthly_spend.map(|m| money(m.cents())),
            monthly_fee => a.acv.map(|m| money(m.monthly_fee().cents())),
            contract_start => a.contract_start.clone(),
            contract_end => a.contract_end.clone(),
            renewal_date => a.renewal_date.clone(),
            expansion => a.expansion_potential.map(|m| money(m.cents())),
            finance_lead => a.finance_lead.clone(),
        }
    });
    let profile = context! {
        tier => org.tier().label(),
        pinned => a.tier_pinned.is_some(),
        status => a.status.map(|x| x.as_str()),
        industry => a.industry.map(|x| x.as_str()),
        company_size => a.company_size.map(|x| x.as_str()),
        region => a.region.map(|x| x.as_str()),
        executive_sponsor => a.executive_sponsor.clone(),
        technical_lead => a.technical_lead.clone(),
        primary_use_case => a.primary_use_case.clone(),
        last_health_check => a.last_health_check.clone(),
        next_business_review => a.next_business_review.clone(),
    };
    let csm = store.account_csm_name(actor, id).await?;
    let contacts: Vec<Value> = store
        .contacts(actor, id)
        .await?
        .iter()
        .map(|(u, roles)| {
            context! {
                id => u.id, name => u.name.clone(), email => u.email.clone(),
                roles => roles.iter().map(|r| r.as_str().replace('_', " ")).collect::<Vec<_>>(),
            }
        })
        .collect();

    let health = store.health_of(actor, id, now).await?;
    let factors: Vec<Value> = health
        .factors
        .iter()
        .map(|f| {
            context! {
                label => f["label"].as_str().unwrap_or_default(),
                key => f["key"].as_str().unwrap_or_default(),
                points => f["points"].as_i64().unwrap_or_default(),
                pts => format!("{:+}", f["points"].as_i64().unwrap_or_default()),
                evidence => f["evidence"].as_str().unwrap_or_default(),
            }
        })
        .collect();
    let up: i64 = health
        .factors
        .iter()
        .filter_map(|f| f["points"].as_i64())
        .filter(|p| *p > 0)
        .sum();
    let down: i64 = health
        .factors
        .iter()
        .filter_map(|f| f["points"].as_i64())
        .filter(|p| *p < 0)
        .sum();
    let flags = store.risk_flags(actor, id, now).await?;
    let table = store.risk_factors().await?;
    let label_of: HashMap<&str, &str> = table
        .iter()
        .map(|f| (f.key.as_str(), f.label.as_str()))
        .collect();
    let mut flaggable: Vec<_> = table.iter().filter(|f| f.band.is_none()).collect();
    flaggable.sort_by_key(|f| (f.source != Source::Flag, f.label.clone()));
    let flag_options: Vec<Value> = flaggable
        .iter()
        .map(|f| context! { value => f.key.clone(), label => format!("{} ({:+})", f.label, f.points) })
        .collect();
    let history = store.health_history(actor, id, now - 90 * 86_400).await?;
    let trend = risk_sparkline(&history).map(Value::from_safe_string);

    let tickets = store
        .list_tickets(
            actor,
            &TicketFilter {
                organization_id: Some(id),
                ..Default::default()
            },
            // Newest first through the (organization_id, id) index, without
            // counting the account's tickets.
            PageRequest::Cursor {
                size: 10,
                after: None,
                before: None,
            },
            Sort {
                column: "id",
                descending: true,
            },
        )
        .await?;
    let tickets: Vec<Value> = tickets
        .items
        .iter()
        .map(|t| {
            context! {
                id => t.id, subject => t.subject.clone(), status => t.status.as_str(),
                priority => t.priority.as_str(), priority_code => t.priority.code(), updated_at => t.updated_at,
            }
        })
        .collect();

    let (projects, _) = store.list_projects(actor, Some(id), None, 20, 0).await?;
    let overviews = store.project_overviews(actor, &projects, now).await?;
    let projects: Vec<Value> = projects
        .iter()
        .zip(&overviews)
        .map(|(p, o)| {
            context! {
                id => p.id, name => p.name.clone(), status => p.status.as_str(),
                phase => o.phase_name.clone(), completion => o.completion_pct.round() as i64,
                health => o.health.as_str(), go_live => p.go_live_date.to_string(),
            }
        })
        .collect();

    let comms = store.communications(actor, id, 20).await?;
    let mut user_ids: Vec<i64> = comms.iter().map(|c| c.author_id).collect();
    user_ids.extend(flags.iter().map(|f| f.set_by));
    let nps = store.account_nps_answers(actor, id, 10).await?;
    user_ids.extend(nps.iter().map(|n| n.user_id));
    let csat = store
        .satisfaction_ratings(
            actor,
            &RatingFilter {
                organization_id: Some(id),
                limit: 10,
                ..Default::default()
            },
        )
        .await?;
    user_ids.extend(csat.iter().map(|r| r.requester_id));
    let feedback: Vec<Value> = store
        .feedback_items(
            actor,
            &ItemFilter {
                organization_id: Some(id),
                ..Default::default()
            },
            5,
        )
        .await?
        .iter()
        .map(|f| {
            context! {
                category => f.category.as_str(), sentiment => f.sentiment.as_str(),
                text => f.text.chars().take(280).collect::<String>(), at => f.created_at, ticket => f.ticket_id,
            }
        })
        .collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let names: HashMap<i64, String> = store
        .users_by_ids(&user_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
    let comms: Vec<Value> = comms
        .iter()
        .map(|c| {
            context! {
                kind => c.kind.as_str(), at => c.occurred_at, topic => c.topic.clone(),
                summary => c.summary.clone(), attendees => c.attendees.join(", "),
                follow_up => c.follow_up_on.clone(), sentiment => c.sentiment.map(|s| s.as_str()),
                author => name(c.author_id), actions => c.action_item_task_ids.len(),
            }
        })
        .collect();
    let flags: Vec<Value> = flags
        .iter()
        .map(|f| {
            context! {
                id => f.id, label => label_of.get(f.factor_key.as_str()).copied().unwrap_or(f.factor_key.as_str()),
                note => f.note.clone(), by => name(f.set_by), at => f.set_at, expires => f.expires_at,
            }
        })
        .collect();
    let nps: Vec<Value> = nps
        .iter()
        .map(|n| context! { score => n.score, category => n.category.clone(), reason => n.reason.clone(), by => name(n.user_id), at => n.answered_at })
        .collect();
    let csat: Vec<Value> = csat
        .iter()
        .map(|r| context! { ticket => r.ticket_id, score => r.score.as_str(), comment => r.comment.clone(), by => name(r.requester_id), at => r.created_at })
        .collect();

    let entries = store
        .timeline(actor, id, before.unwrap_or(now + 1), 30)
        .await?;
    let older = (entries.len() == 30)
        .then(|| entries.last().map(|e| e.at))
        .flatten();
    let timeline: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            let ticket = e.detail["ticket_id"].as_i64();
            context! {
                at => e.at, kind => e.kind.replace('_', " "), title => e.title, ticket,
                project => e.detail["project_id"].as_i64(),
            }
        })
        .collect();

    let role = actor.role();
    let can_write = role.is_staff() && role.can_write();
    let can_flag = matches!(role, Role::Admin | Role::Csm);
    let kinds: Vec<Value> = [
        "call",
        "meeting",
        "email",
        "message",
        "training",
        "escalation",
    ]
    .iter()
    .map(|k| context! { value => *k, label => capitalize(k) })
    .collect();
    let sentiments: Vec<Value> = ["positive", "neutral", "negative"]
        .iter()
        .map(|k| context! { value => *k, label => capitalize(k) })
        .collect();
    page(
        s,
        "account.html",
        &org.name,
        context! {
            nav => "accounts",
            org => context! { id => org.id, name => org.name.clone(), notes => org.notes.clone(), domains => org.domain_names.join(", ") },
            profile, contract, csm, contacts,
            health => context! {
                risk => health.risk, score => health.health, level => health.level.as_str(),
                raw => health.raw, clamped => health.raw != i32::from(health.risk),
                up => format!("{up:+}"), down => format!("{down:+}"), computed_at => health.computed_at, since => health.level_since,
            },
            trend, factors, flags, flag_options, tickets, projects, comms, timeline, older, nps, csat, feedback,
            can_write, can_flag, kinds, sentiments,
            today => utc_date(now).to_string(),
            ..extra
        },
    )
}

/// The risk score over time as a small inline SVG line (risk 0 at the
/// bottom, 100 at the top; the level bands shaded), or `None` with fewer
/// than two points. Numbers only: nothing here comes from a user.
pub fn risk_sparkline(history: &[(i64, i64, String)]) -> Option<String> {
    const W: i64 = 280;
    const H: i64 = 48;
    if history.len() < 2 {
        return None;
    }
    let (t0, t1) = (history[0].0, history[history.len() - 1].0);
    let span = (t1 - t0).max(1);
    let y = |risk: i64| H - risk.clamp(0, 100) * H / 100;
    let points: Vec<String> = history
        .iter()
        .map(|(at, risk, _)| format!("{},{}", (at - t0) * W / span, y(*risk)))
        .collect();
    let (first, last) = (history[0].1, history[history.len() - 1].1);
    Some(format!(
        r#"<svg class="chart spark" role="img" viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg"><title>Risk score over the last 90 days: {first} to {last} ({n} scores)</title><rect class="band-red" x="0" y="0" width="{W}" height="{r}"/><rect class="band-orange" x="0" y="{r}" width="{W}" height="{o}"/><rect class="band-yellow" x="0" y="{yb}" width="{W}" height="{o}"/><rect class="band-green" x="0" y="{g}" width="{W}" height="{gh}"/><polyline class="line" points="{pts}"/></svg>"#,
        n = history.len(),
        r = y(61),
        o = y(41) - y(61),
        yb = y(41),
        g = y(21),
        gh = H - y(21),
        pts = points.join(" "),
    ))
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

async fn show(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, UiError> {
    let id = path_id(&id)?;
    let flash = match params.get("done") {
        Some("communication") => Some("The communication was logged."),
        Some("flag") => Some("The risk flag was set and the score recomputed."),
        Some("cleared") => Some("The risk flag was cleared and the score recomputed."),
        _ => None,
    };
    let before = params
        .get("before")
        .map(|b| b.parse::<i64>().ok().filter(|b| *b > 0))
        .map(|b| b.ok_or_else(|| UiError::bad_request("before must be a time in seconds")))
        .transpose()?;
    account_page(&state, &s, id, before, context! { flash }).await
}

/// A date (`YYYY-MM-DD`) at `hour`:00 UTC.
fn date_at(field: &str, raw: &str, hour: i8) -> Result<i64, (String, String)> {
    let d = parse_date(raw).map_err(|_| (field.to_string(), "must be a date".to_string()))?;
    Ok(utc_start(d) + i64::from(hour) * 3600)
}

/// Re-renders the account page with the form's values and errors (422).
async fn form_errors(
    state: &AppState,
    s: &WebSession,
    id: i64,
    form: &str,
    values: Value,
    errors: Vec<(String, String)>,
) -> Result<Response, UiError> {
    let errors: HashMap<String, String> = errors.into_iter().collect();
    let mut resp = account_page(
        state,
        s,
        id,
        None,
        context! { form_errors => context!{ form => form, errors => ser(&errors), values } },
    )
    .await?;
    *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(resp)
}

async fn log_communication(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let id = path_id(&id)?;
    let s = &p.session;
    if !s.actor.role().can_write() {
        return Err(UiError::forbidden("Viewers cannot log communications."));
    }
    state.store.org(id).await?;
    let f = &p.fields;
    let mut errors = Vec::new();
    let kind = match f.get("type").map(CommunicationKind::parse) {
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            errors.push(("type".into(), e.0));
            None
        }
        None => {
            errors.push(("type".into(), "Choose a type.".into()));
            None
        }
    };
    let topic = f.get("topic").map(str::to_string);
    if topic.is_none() {
        errors.push(("topic".into(), "Say what it was about.".into()));
    } else if topic.as_deref().is_some_and(|t| t.chars().count() > 200) {
        errors.push(("topic".into(), "At most 200 characters.".into()));
    }
    let summary = f.get("summary").map(str::to_string);
    if summary.as_deref().is_some_and(|t| t.len() > 65_536) {
        errors.push(("summary".into(), "At most 65,536 characters.".into()));
    }
    let occurred_at = match f.get("occurred_on") {
        Some(d) => match date_at("occurred_on", d, 12) {
            Ok(t) => Some(t.min(state.now())),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let follow_up = match f.get("follow_up_date") {
        Some(d) if parse_date(d).is_err() => {
            errors.push(("follow_up_date".into(), "must be a date".into()));
            None
        }
        other => other.map(str::to_string),
    };
    let sentiment = match f.get("sentiment").map(Sentiment::parse) {
        Some(Ok(x)) => Some(x),
        Some(Err(e)) => {
            errors.push(("sentiment".into(), e.0));
            None
        }
        None => None,
    };
    let attendees: Vec<String> = f
        .get("attendees")
        .map(|a| {
            a.split([',', ';', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let values = context! {
        type => f.get("type"), topic => f.get("topic"), summary => f.raw("summary"),
        attendees => f.get("attendees"), occurred_on => f.get("occurred_on"),
        follow_up_date => f.get("follow_up_date"), sentiment => f.get("sentiment"),
    };
    if !errors.is_empty() {
        return form_errors(&state, s, id, "communication", values, errors).await;
    }
    let input = CommunicationInput {
        kind,
        occurred_at,
        topic,
        summary,
        attendees: Some(attendees),
        follow_up_on: follow_up.map(Some),
        sentiment: sentiment.map(Some),
        ..Default::default()
    };
    match state
        .store
        .create_communication(&s.actor, id, input, state.now())
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/accounts/{id}?done=communication#communications"))
                .into_response(),
        ),
        Err(steward_store::StoreError::Invalid { field, message }) => {
            form_errors(
                &state,
                s,
                id,
                "communication",
                values,
                vec![(field, message)],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn set_flag(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let id = path_id(&id)?;
    let s = &p.session;
    if !matches!(s.actor.role(), Role::Admin | Role::Csm) {
        return Err(UiError::forbidden("Only CSMs and admins set risk flags."));
    }
    state.store.org(id).await?;
    let f = &p.fields;
    let mut errors = Vec::new();
    let factor = f.get("factor").map(str::to_string);
    if factor.is_none() {
        errors.push(("factor".into(), "Choose a factor.".into()));
    }
    let note = f.get("note").map(str::to_string);
    if note.is_none() {
        errors.push(("note".into(), "Say what you know.".into()));
    } else if note.as_deref().is_some_and(|n| n.len() > 65_536) {
        errors.push(("note".into(), "At most 65,536 characters.".into()));
    }
    let expires = match f.get("expires_on") {
        Some(d) => match date_at("expires_on", d, 23) {
            Ok(t) if t <= state.now() => {
                errors.push(("expires_on".into(), "must be in the future".into()));
                None
            }
            Ok(t) => Some(t + 59 * 60 + 59),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let values = context! { factor => f.get("factor"), note => f.raw("note"), expires_on => f.get("expires_on") };
    if !errors.is_empty() {
        return form_errors(&state, s, id, "flag", values, errors).await;
    }
    match state
        .store
        .set_risk_flag(
            &s.actor,
            id,
            factor.as_deref().unwrap_or_default(),
            note.as_deref().unwrap_or_default(),
            expires,
            state.now(),
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/accounts/{id}?done=flag#health")).into_response()),
        Err(steward_store::StoreError::Invalid { field, message }) => {
            let field = if field == "expires_at" {
                "expires_on".to_string()
            } else {
                field
            };
            form_errors(&state, s, id, "flag", values, vec![(field, message)]).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn clear_flag(
    State(state): State<AppState>,
    Path((id, flag)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let (id, flag) = (path_id(&id)?, path_id(&flag)?);
    if !matches!(p.session.actor.role(), Role::Admin | Role::Csm) {
        return Err(UiError::forbidden("Only CSMs and admins clear risk flags."));
    }
    state
        .store
        .clear_risk_flag(&p.session.actor, id, flag, state.now())
        .await?;
    Ok(Redirect::to(&format!("/accounts/{id}?done=cleared#health")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sparkline_needs_two_points_and_stays_in_its_box() {
        assert!(risk_sparkline(&[(0, 10, "green".into())]).is_none());
        let svg = risk_sparkline(&[
            (0, 0, "green".into()),
            (50, 100, "red".into()),
            (100, 130, "red".into()),
        ])
        .unwrap();
        assert!(svg.contains(r#"points="0,48 140,0 280,0""#), "{svg}");
        assert!(svg.contains("role=\"img\"") && svg.contains("<title>"));
    }

    #[test]
    fn money_reads_well() {
        assert_eq!(money(15_000_000), "$150,000");
        assert_eq!(money(0), "$0");
        assert_eq!(money(123_456_789), "$1,234,567.89");
        assert_eq!(money(-2_500), "-$25");
    }
}
