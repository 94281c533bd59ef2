//! Implementation projects (issue 6; policies.md §13, §15): the list with
//! timeline health, and the project page — a Gantt-like milestone chart
//! drawn as inline SVG on the server, tasks with their dependencies, the
//! risk registry, decisions, hours budget vs actual, the go-live readiness
//! checklist, handoffs and the weekly status reports with review-and-send.
//!
//! A project is a bounded thing (the 30-day template makes about 20
//! milestones and 60 tasks), so the page reads it whole; the list reads
//! one page of at most 50 projects.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use axum::{
    Router,
    extract::{Path, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use jiff::civil::Date;
use minijinja::{Value, context};
use steward_domain::{
    project::{
        DecisionLevel, Likelihood, MilestoneStatus, PhaseDef, ProjectStatus, RiskKind, RiskStatus,
    },
    status_report::{self, Format, Notes},
    task::TaskStatus,
};
use steward_store::{
    dates::utc_date,
    project_parts::HandoffChange,
    projects::{Milestone, ProjectTaskInput},
};

use super::{
    accounts::{money, path_id},
    page::{UiError, page},
    session::{Posted, Staff},
};
use crate::{AppState, extract::Params};

pub const PER_PAGE: i64 = 50;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list))
        .route("/projects/{id}", get(show))
        .route("/projects/{id}/tasks/{task_id}/status", post(task_status))
        .route("/projects/{id}/checklist/{key}", post(check_item))
        .route("/projects/{id}/handoffs/{handoff_id}", post(update_handoff))
        .route("/projects/{id}/status_reports", post(generate_report))
        .route(
            "/projects/{id}/status_reports/{report_id}",
            get(show_report).post(edit_report),
        )
        .route(
            "/projects/{id}/status_reports/{report_id}/send",
            post(send_report),
        )
}

async fn names(state: &AppState, mut ids: Vec<i64>) -> Result<HashMap<i64, String>, UiError> {
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

async fn list(
    State(state): State<AppState>,
    Staff(s): Staff,
    params: Params,
) -> Result<Response, UiError> {
    let status = params
        .get("status")
        .map(ProjectStatus::parse)
        .transpose()
        .map_err(|e| UiError::bad_request(e.0))?;
    let page_no = i64::from(
        params
            .u32("page")
            .map_err(|_| UiError::bad_request("page must be a positive number"))?
            .unwrap_or(1)
            .clamp(1, 100_000),
    );
    let now = state.now();
    let store = &state.store;
    let (items, count) = store
        .list_projects(&s.actor, None, status, PER_PAGE, (page_no - 1) * PER_PAGE)
        .await?;
    let overviews = store.project_overviews(&s.actor, &items, now).await?;
    let mut org_ids: Vec<i64> = items.iter().map(|p| p.organization_id).collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let orgs: HashMap<i64, String> = store
        .orgs_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let owners = names(&state, items.iter().filter_map(|p| p.owner_id).collect()).await?;
    let rows: Vec<Value> = items
        .iter()
        .zip(&overviews)
        .map(|(p, o)| {
            context! {
                id => p.id, name => p.name.clone(), status => p.status.as_str(),
                account => orgs.get(&p.organization_id).cloned().unwrap_or_default(),
                account_id => p.organization_id,
                phase => o.phase_name.clone(), phase_no => o.phase, day => o.day, total_days => o.total_days,
                completion => o.completion_pct.round() as i64, planned => o.planned_pct.round() as i64,
                health => o.health.as_str(), go_live => p.go_live_date.to_string(),
                owner => p.owner_id.and_then(|u| owners.get(&u).cloned()),
            }
        })
        .collect();
    page(
        &s,
        "projects.html",
        "Projects",
        context! {
            nav => "projects", rows, count, page => page_no,
            has_more => page_no * PER_PAGE < count, status => status.map(|x| x.as_str()),
            statuses => ["active", "completed", "cancelled"].iter()
                .map(|v| context!{value => *v, label => v.to_string()}).collect::<Vec<_>>(),
        },
    )
}

// ---------------------------------------------------------------------
// The milestone chart

/// Text for SVG/HTML: `&`, `<`, `>`, quotes escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn days(a: Date, b: Date) -> i64 {
    i64::from((b - a).get_days())
}

/// The status a bar shows: stored status, or `overdue` when a milestone
/// not completed is past its planned date.
fn bar_status(m: &Milestone, today: Date) -> &'static str {
    if m.overdue(today) && m.status != MilestoneStatus::AtRisk {
        "overdue"
    } else {
        m.status.as_str()
    }
}

/// A Gantt-like chart: one row per milestone, grouped under its phase; a
/// bar from the previous milestone's planned date (the project start for
/// the first) to the milestone's own, coloured by status; a diamond on
/// the actual date where there is one; a dashed line for today.
pub fn milestone_chart(
    title: &str,
    start: Date,
    go_live: Date,
    phases: &[PhaseDef],
    milestones: &[Milestone],
    today: Date,
) -> String {
    const LABEL_W: i64 = 320;
    const CHART_W: i64 = 640;
    const ROW_H: i64 = 24;
    const TOP: i64 = 34;
    let mut ms: Vec<&Milestone> = milestones.iter().collect();
    ms.sort_by_key(|m| (m.phase, m.planned_date, m.id));
    let first = ms
        .iter()
        .map(|m| m.planned_date)
        .chain([start])
        .min()
        .unwrap_or(start);
    let last = ms
        .iter()
        .flat_map(|m| [Some(m.planned_date), m.actual_date])
        .flatten()
        .chain([go_live, start])
        .max()
        .unwrap_or(go_live);
    let span = days(first, last).max(1) + 1;
    let x = |d: Date| LABEL_W + days(first, d).clamp(0, span) * CHART_W / span;
    let mut rows: Vec<String> = Vec::new();
    let mut y = TOP;
    let mut prev = start;
    let mut phase_seen = None;
    for m in &ms {
        if phase_seen != Some(m.phase) {
            phase_seen = Some(m.phase);
            let name = phases
                .iter()
                .find(|p| i64::from(p.number) == m.phase)
                .map(|p| format!("{} {}", p.number, p.name))
                .unwrap_or_else(|| format!("Phase {}", m.phase));
            rows.push(format!(
                r#"<text class="phase" x="4" y="{}">{}</text><line class="grid" x1="0" x2="{}" y1="{}" y2="{}"/>"#,
                y + 16,
                esc(&name),
                LABEL_W + CHART_W,
                y + ROW_H,
                y + ROW_H
            ));
            y += ROW_H;
        }
        let from = prev.min(m.planned_date);
        let (x0, x1) = (x(from), x(m.planned_date) + CHART_W / span);
        let status = bar_status(m, today);
        let mut label = m.name.clone();
        if label.chars().count() > 40 {
            label = label.chars().take(39).collect::<String>() + "…";
        }
        let tip = format!(
            "{} — planned {}{}, {}",
            m.name,
            m.planned_date,
            m.actual_date
                .map(|d| format!(", done {d}"))
                .unwrap_or_default(),
            status.replace('-', " ")
        );
        let mut row = format!(
            r#"<g class="milestone"><text class="label" x="16" y="{}">{}</text><rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}" rx="3"><title>{}</title></rect>"#,
            y + 16,
            esc(&label),
            status,
            x0,
            y + 5,
            (x1 - x0).max(4),
            ROW_H - 10,
            esc(&tip)
        );
        if m.critical_path {
            let _ = write!(
                row,
                r#"<text class="crit" x="{}" y="{}">critical</text>"#,
                LABEL_W - 6,
                y + 16
            );
        }
        if let Some(a) = m.actual_date {
            let ax = x(a) + CHART_W / span / 2;
            let _ = write!(
                row,
                r#"<path class="actual" d="M{ax} {} l5 7 l-5 7 l-5 -7 z"><title>Done {a}</title></path>"#,
                y + 5
            );
        }
        row.push_str("</g>");
        rows.push(row);
        prev = m.planned_date;
        y += ROW_H;
    }
    let height = y + 8;
    let mut svg = format!(
        r#"<svg class="chart gantt" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 {w} {height}" width="{w}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{t}</title><desc id="chart-desc">{n} milestones from {first} to {last}; today is {today}.</desc>"#,
        w = LABEL_W + CHART_W,
        t = esc(title),
        n = ms.len(),
    );
    // Week ticks along the top.
    let mut d = first;
    while d <= last {
        let _ = write!(
            svg,
            r#"<line class="tick" x1="{0}" x2="{0}" y1="{1}" y2="{height}"/><text class="axis" x="{0}" y="{2}">{3}</text>"#,
            x(d),
            TOP - 4,
            TOP - 12,
            d.strftime("%b %-d")
        );
        d = match d.checked_add(jiff::Span::new().days(7)) {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    for r in rows {
        svg.push_str(&r);
    }
    let go = x(go_live) + CHART_W / span / 2;
    let _ = write!(
        svg,
        r#"<line class="golive" x1="{go}" x2="{go}" y1="{}" y2="{height}"><title>Go-live {go_live}</title></line>"#,
        TOP - 4
    );
    if today >= first && today <= last {
        let tx = x(today) + CHART_W / span / 2;
        let _ = write!(
            svg,
            r#"<line class="today" x1="{tx}" x2="{tx}" y1="{}" y2="{height}"/><text class="today-label" x="{}" y="{}">today</text>"#,
            TOP - 4,
            tx + 3,
            TOP - 2
        );
    }
    svg.push_str("</svg>");
    svg
}

// ---------------------------------------------------------------------
// The project page

async fn show(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, UiError> {
    let id = path_id(&id)?;
    let now = state.now();
    let store = &state.store;
    let actor = &s.actor;
    let (p, o) = store.project_overview(actor, id, now).await?;
    let org = store.org(p.organization_id).await?;
    let milestones = store.milestones(actor, id).await?;
    let tasks = store.project_tasks(actor, id).await?;
    let risks = store.risks(actor, id).await?;
    let decisions = store.decisions(actor, id).await?;
    let (hours, _) = store.hours(actor, id).await?;
    let handoffs = store.handoffs(actor, id).await?;
    let commercials = actor.role().sees_commercials();
    let reports = if commercials {
        store.status_reports(actor, id).await?
    } else {
        Vec::new()
    };
    let moves = store.go_live_moves(actor, id).await?;

    let mut ids: Vec<i64> = p.owner_id.into_iter().collect();
    ids.extend(tasks.iter().filter_map(|t| t.task.owner_id));
    ids.extend(milestones.iter().filter_map(|m| m.owner_id));
    ids.extend(risks.iter().filter_map(|r| r.owner_id));
    ids.extend(handoffs.iter().filter_map(|h| h.signed_off_by));
    let names = names(&state, ids).await?;
    let name = |u: Option<i64>| u.and_then(|u| names.get(&u).cloned());

    let phase_name = |n: i64| {
        p.template
            .phases
            .iter()
            .find(|ph| i64::from(ph.number) == n)
            .map(|ph| format!("{} {}", ph.number, ph.name))
            .unwrap_or_else(|| format!("Phase {n}"))
    };
    let chart = milestone_chart(
        &format!("Milestones of {}", p.name),
        p.start_date,
        p.go_live_date,
        &p.template.phases,
        &milestones,
        o.today,
    );
    let ms_rows: Vec<Value> = {
        let mut ms: Vec<&Milestone> = milestones.iter().collect();
        ms.sort_by_key(|m| (m.phase, m.planned_date, m.id));
        ms.iter()
            .map(|m| {
                context! {
                    name => m.name.clone(), phase => m.phase, planned => m.planned_date.to_string(),
                    actual => m.actual_date.map(|d| d.to_string()), status => bar_status(m, o.today),
                    critical => m.critical_path, owner => name(m.owner_id), kind => m.kind.as_str(),
                }
            })
            .collect()
    };

    let titles: HashMap<i64, String> = tasks
        .iter()
        .map(|t| (t.task.id, t.task.title.clone()))
        .collect();
    let mut by_phase: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for t in &tasks {
        let blocked_by: Vec<Value> = t
            .blocked_by
            .iter()
            .map(|b| context! { id => *b, title => titles.get(b).cloned().unwrap_or_else(|| format!("#{b}")) })
            .collect();
        by_phase
            .entry(t.phase.unwrap_or(0))
            .or_default()
            .push(context! {
                id => t.task.id, title => t.task.title.clone(), status => t.task.status.as_str(),
                priority => t.task.priority.as_str(), priority_code => t.task.priority.code(),
                owner => name(t.task.owner_id).or_else(|| t.owner_role.clone()),
                due => t.task.due_at, done => t.task.status == TaskStatus::Completed,
                depends => t.depends_on.len(), blocked_by,
            });
    }
    let task_phases: Vec<Value> = by_phase
        .into_iter()
        .map(|(n, items)| {
            let done = items
                .iter()
                .filter(|v| v.get_attr("done").map(|d| d.is_true()).unwrap_or(false))
                .count();
            context! {
                name => if n == 0 { "Not in a phase".to_string() } else { phase_name(n) },
                total => items.len(), done, items,
            }
        })
        .collect();

    let risks: Vec<Value> = risks
        .iter()
        .map(|r| {
            context! {
                id => r.id, title => r.title.clone(), kind => r.kind.as_str(), probability => r.probability.as_str(),
                impact => r.impact.as_str(), score => r.score(), rag => r.rag().as_str(),
                status => r.status.as_str(), mitigation => r.mitigation.clone(), owner => name(r.owner_id),
            }
        })
        .collect();
    let decisions: Vec<Value> = decisions
        .iter()
        .map(|d| {
            context! {
                level => d.level.as_str(), title => d.title.clone(), decision => d.decision.clone(),
                rationale => d.rationale.clone(), by => d.decided_by.clone(), on => d.decided_on.to_string(),
                timeline_days => d.impact.timeline_days,
            }
        })
        .collect();

    let mut phases: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for l in &hours {
        let e = phases.entry(l.phase).or_default();
        e.0 += l.budget;
        e.1 += l.actual;
    }
    let max_h = phases
        .values()
        .map(|(b, a)| b.max(*a))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let (mut tb, mut ta) = (0.0, 0.0);
    let hours: Vec<Value> = phases
        .iter()
        .map(|(n, (b, a))| {
            tb += b;
            ta += a;
            context! {
                phase => phase_name(*n), budget => format!("{b:.1}"), actual => format!("{a:.1}"),
                over => a > b, budget_pct => (b / max_h * 100.0).round() as i64,
                actual_pct => (a / max_h * 100.0).round() as i64,
            }
        })
        .collect();

    let readiness: Vec<Value> = o
        .readiness
        .iter()
        .map(|c| context! { key => c.key.clone(), item => c.item.clone(), green => c.green, source => c.source, evidence => c.evidence.clone() })
        .collect();
    let handoffs: Vec<Value> = handoffs
        .iter()
        .map(|h| {
            let items: Vec<Value> = h
                .checklist
                .iter()
                .map(|c| context! { item => c["item"].as_str().unwrap_or_default(), done => c["done"] == serde_json::json!(true) })
                .collect();
            context! {
                id => h.id, name => h.name.clone(), due => h.due_date.to_string(), day => h.day, items,
                signed_off => h.signed_off_at, by => name(h.signed_off_by), note => h.note.clone(),
            }
        })
        .collect();
    let reports: Vec<Value> = reports
        .iter()
        .map(|r| {
            context! {
                id => r.id, week => r.week_ending.to_string(), health => r.health.clone(),
                state => r.state.clone(), sent_at => r.sent_at, recipient => r.recipient.clone(),
            }
        })
        .collect();
    let moves: Vec<Value> = moves
        .iter()
        .map(|m| context! { from => m.from_date.to_string(), to => m.to_date.to_string(), reason => m.reason.clone() })
        .collect();
    let criteria: Vec<Value> = o
        .success_criteria
        .iter()
        .map(|c| context! { text => c.text.clone(), status => c.status, evidence => c.evidence.clone() })
        .collect();
    let flash = match params.get("done") {
        Some("task") => Some("The task was updated."),
        Some("check") => Some("The checklist item was updated."),
        Some("handoff") => Some("The handoff was updated."),
        Some("risk") => Some("The risk registry was updated."),
        Some("decision") => Some("The decision was recorded."),
        Some("hours") => Some("The hours were logged."),
        _ => None,
    };
    // The choices of the page's forms (project_forms.rs).
    let choices = context! {
        risk_kinds => RiskKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        likelihoods => Likelihood::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        risk_statuses => RiskStatus::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        decision_levels => DecisionLevel::ALL.iter().map(|l| context! { key => l.as_str(), deciders => l.deciders() }).collect::<Vec<_>>(),
        roles => p.template.resources.iter().map(|r| r.role.clone()).collect::<Vec<_>>(),
        phases => p.template.phases.iter().map(|ph| context! { number => ph.number, name => ph.name.clone() }).collect::<Vec<_>>(),
        today => utc_date(now).to_string(),
    };
    page(
        &s,
        "project.html",
        &p.name,
        context! {
            nav => "projects", flash,
            p => context! {
                id => p.id, name => p.name.clone(), status => p.status.as_str(),
                account => org.name.clone(), account_id => org.id,
                start => p.start_date.to_string(), target => p.target_go_live.to_string(),
                go_live => p.go_live_date.to_string(), actual_go_live => p.actual_go_live.map(|d| d.to_string()),
                owner => name(p.owner_id),
                budget => p.budget_cents.filter(|_| commercials).map(money),
                spend => p.spend_cents.filter(|_| commercials).map(money),
                blockers => p.technical_blockers.clone(), dependencies => p.dependencies.clone(),
            },
            o => context! {
                day => o.day, total_days => o.total_days, phase => o.phase_name.clone(),
                planned => o.planned_pct.round() as i64, completion => o.completion_pct.round() as i64,
                health => o.health.as_str(), tasks_total => o.tasks_total, tasks_completed => o.tasks_completed,
                ms_total => o.milestones_total, ms_completed => o.milestones_completed,
                ms_overdue => o.milestones_overdue, critical_at_risk => o.critical_at_risk, ready => o.ready,
            },
            chart => Value::from_safe_string(chart),
            milestones => ms_rows, task_phases, risks, decisions, hours,
            hours_total => context! { budget => format!("{tb:.1}"), actual => format!("{ta:.1}") },
            readiness, handoffs, reports, moves, criteria,
            can_write => actor.role().can_write(), commercials, choices,
            week => this_friday(utc_date(now)).to_string(),
        },
    )
}

/// The Friday of `d`'s week (the day itself on a Friday; the coming one
/// from Saturday on, as a report covers the week that ends then).
fn this_friday(d: Date) -> Date {
    let wd = i64::from(d.weekday().to_monday_zero_offset());
    let ahead = (4 - wd).rem_euclid(7);
    d.checked_add(jiff::Span::new().days(ahead)).unwrap_or(d)
}

async fn task_status(
    State(state): State<AppState>,
    Path((id, task)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let (id, task) = (path_id(&id)?, path_id(&task)?);
    let status = p
        .fields
        .get("status")
        .ok_or_else(|| UiError::bad_request("Choose a status."))
        .and_then(|s| TaskStatus::parse_loose(s).map_err(|e| UiError::bad_request(e.0)))?;
    state
        .store
        .update_project_task(
            &p.session.actor,
            id,
            task,
            ProjectTaskInput {
                status: Some(status),
                ..Default::default()
            },
            state.now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}?done=task#task-{task}")).into_response())
}

async fn check_item(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let id = path_id(&id)?;
    let green = match p.fields.get("green") {
        Some("1") | Some("true") => true,
        Some("0") | Some("false") => false,
        _ => return Err(UiError::bad_request("green must be 1 or 0")),
    };
    let note = p.fields.get("note").unwrap_or_default();
    if note.len() > 65_536 {
        return Err(UiError::bad_request(
            "The note is at most 65,536 characters.",
        ));
    }
    state
        .store
        .check_readiness_item(&p.session.actor, id, &key, green, note, state.now())
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}?done=check#readiness")).into_response())
}

/// Ticks a handoff's checklist (the boxes sent are done, the others not),
/// keeps its note, and signs it off when asked.
async fn update_handoff(
    State(state): State<AppState>,
    Path((id, h)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    let (id, h) = (path_id(&id)?, path_id(&h)?);
    let handoff = state
        .store
        .handoffs(&p.session.actor, id)
        .await?
        .into_iter()
        .find(|x| x.id == h)
        .ok_or_else(UiError::not_found)?;
    let mut checked = Vec::new();
    for v in p.fields.all("done") {
        let i: usize = v
            .parse()
            .ok()
            .filter(|i| *i < handoff.checklist.len())
            .ok_or_else(|| UiError::bad_request("done must be the number of a checklist item"))?;
        checked.push(i);
    }
    let note = p.fields.raw("note").trim().to_string();
    if note.len() > 65_536 {
        return Err(UiError::bad_request(
            "The note is at most 65,536 characters.",
        ));
    }
    let change = HandoffChange {
        done: (0..handoff.checklist.len())
            .map(|i| (i, checked.contains(&i)))
            .collect(),
        note: Some(note),
        sign_off: p.fields.get("sign_off") == Some("1"),
    };
    state
        .store
        .update_handoff(&p.session.actor, id, h, change, state.now())
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}?done=handoff#handoffs")).into_response())
}

async fn generate_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    if !p.session.actor.role().sees_commercials() {
        return Err(UiError::not_found());
    }
    let id = path_id(&id)?;
    let week = match p.fields.get("week_ending") {
        Some(w) => w.to_string(),
        None => this_friday(utc_date(state.now())).to_string(),
    };
    let r = state
        .store
        .generate_status_report(&p.session.actor, id, &week, state.now())
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}/status_reports/{}", r.id)).into_response())
}

async fn report_page(
    state: &AppState,
    s: &steward_store::sessions::WebSession,
    id: i64,
    rid: i64,
    flash: Option<&str>,
    form: Value,
) -> Result<Response, UiError> {
    if !s.actor.role().sees_commercials() {
        // The report carries budget and expansion ARR (§15), which
        // contractors never see (§8).
        return Err(UiError::not_found());
    }
    let p = state.store.project(&s.actor, id).await?;
    let r = state.store.status_report(&s.actor, id, rid).await?;
    let html = status_report::render(&r.report, &r.notes, Format::Html)
        .map_err(|e| UiError::internal(format!("rendering report {rid}: {e}")))?;
    let title = format!("Status report, week ending {}", r.week_ending);
    page(
        s,
        "status_report.html",
        &title,
        context! {
            nav => "projects", flash,
            p => context! { id => p.id, name => p.name.clone() },
            r => context! {
                id => r.id, week => r.week_ending.to_string(), health => r.health.clone(), state => r.state.clone(),
                sent => r.state == "sent", sent_at => r.sent_at, recipient => r.recipient.clone(),
                subject => status_report::subject(&r.report),
                summary => r.notes.summary.clone(), decision_needed => r.notes.decision_needed.clone(),
                other => r.notes.other.clone(),
            },
            html, form,
            can_write => s.actor.role().can_write(),
        },
    )
}

async fn show_report(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path((id, rid)): Path<(String, String)>,
    params: Params,
) -> Result<Response, UiError> {
    let (id, rid) = (path_id(&id)?, path_id(&rid)?);
    let flash = match params.get("done") {
        Some("saved") => Some("The notes were saved."),
        Some("sent") => Some("The report was sent. It is now frozen."),
        _ => None,
    };
    report_page(&state, &s, id, rid, flash, Value::UNDEFINED).await
}

async fn edit_report(
    State(state): State<AppState>,
    Path((id, rid)): Path<(String, String)>,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    if !p.session.actor.role().sees_commercials() {
        return Err(UiError::not_found());
    }
    let (id, rid) = (path_id(&id)?, path_id(&rid)?);
    let f = &p.fields;
    let notes = Notes {
        summary: f.raw("summary").trim().to_string(),
        decision_needed: f.raw("decision_needed").trim().to_string(),
        other: f.raw("other").trim().to_string(),
    };
    if [&notes.summary, &notes.decision_needed, &notes.other]
        .iter()
        .any(|n| n.len() > 65_536)
    {
        return Err(UiError::bad_request(
            "Each note is at most 65,536 characters.",
        ));
    }
    let recipient = f.get("recipient").map(str::to_string);
    let form = context! {
        summary => notes.summary.clone(), decision_needed => notes.decision_needed.clone(),
        other => notes.other.clone(), recipient => recipient.clone(),
    };
    match state
        .store
        .edit_status_report(
            &p.session.actor,
            id,
            rid,
            Some(notes),
            recipient,
            state.now(),
        )
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/projects/{id}/status_reports/{rid}?done=saved"))
                .into_response(),
        ),
        // Keep what was typed and put the error next to its field.
        Err(steward_store::StoreError::Invalid { field, message }) => {
            let field = if field.ends_with("recipient") {
                "recipient".to_string()
            } else {
                field
            };
            let errors: BTreeMap<String, String> = BTreeMap::from([(field, message)]);
            let form = context! { form => form, errors => super::page::ser(&errors) };
            let mut resp = report_page(&state, &p.session, id, rid, None, form).await?;
            *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

async fn send_report(
    State(state): State<AppState>,
    Path((id, rid)): Path<(String, String)>,
    headers: HeaderMap,
    p: Posted,
) -> Result<Response, UiError> {
    p.require_staff()?;
    if !p.session.actor.role().sees_commercials() {
        return Err(UiError::not_found());
    }
    let (id, rid) = (path_id(&id)?, path_id(&rid)?);
    let base = crate::api::base(&state, &headers);
    state
        .store
        .send_status_report(&p.session.actor, id, rid, &base, state.now())
        .await?;
    Ok(Redirect::to(&format!("/projects/{id}/status_reports/{rid}?done=sent")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::project::MilestoneKind;

    fn ms(id: i64, phase: i64, name: &str, planned: &str, status: MilestoneStatus) -> Milestone {
        Milestone {
            id,
            project_id: 1,
            key: None,
            phase,
            day: None,
            name: name.into(),
            kind: MilestoneKind::PhaseComplete,
            planned_date: planned.parse().unwrap(),
            actual_date: None,
            owner_id: None,
            deliverables: vec![],
            success_criteria: String::new(),
            status,
            critical_path: false,
            updated_at: 0,
        }
    }

    #[test]
    fn the_chart_draws_one_escaped_bar_per_milestone_and_today() {
        let phases = vec![PhaseDef {
            number: 1,
            name: "Planning & <assessment>".into(),
            first_day: 1,
            last_day: 3,
        }];
        let list = vec![
            ms(
                1,
                1,
                "Kickoff <script>",
                "2026-12-07",
                MilestoneStatus::Completed,
            ),
            ms(
                2,
                1,
                "Plan \"signed\"",
                "2026-12-09",
                MilestoneStatus::Scheduled,
            ),
            ms(3, 2, "Tech done", "2026-12-14", MilestoneStatus::AtRisk),
        ];
        let svg = milestone_chart(
            "Milestones of A & B",
            "2026-12-07".parse().unwrap(),
            "2027-01-12".parse().unwrap(),
            &phases,
            &list,
            "2026-12-10".parse().unwrap(),
        );
        assert!(svg.starts_with("<svg class=\"chart gantt\" role=\"img\""));
        assert_eq!(svg.matches("<rect class=\"bar ").count(), 3);
        assert!(
            svg.contains("bar-completed")
                && svg.contains("bar-overdue")
                && svg.contains("bar-at-risk")
        );
        assert!(svg.contains("Kickoff &lt;script&gt;"));
        assert!(svg.contains("Plan &quot;signed&quot;"));
        assert!(svg.contains("Planning &amp; &lt;assessment&gt;"));
        assert!(svg.contains("<title id=\"chart-title\">Milestones of A &amp; B</title>"));
        assert!(svg.contains("class=\"today\""));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn reports_are_for_the_friday_of_the_week() {
        let f = |s: &str| this_friday(s.parse().unwrap()).to_string();
        assert_eq!(f("2026-12-14"), "2026-12-18"); // Monday
        assert_eq!(f("2026-12-18"), "2026-12-18"); // Friday
        assert_eq!(f("2026-12-19"), "2026-12-25"); // Saturday
    }
}
