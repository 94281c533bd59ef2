//! Implementation projects (issue 4; policies.md §13 and §15):
//! `/api/v2/projects` and its nested milestones, tasks, risks, decisions,
//! hours, readiness checklist, handoffs, expansion opportunities, go-live
//! moves and weekly status reports; `/api/v2/project_templates`.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post, put},
};
use serde_json::{Value, json};
use steward_domain::{
    Priority,
    project::{
        DecisionImpact, DecisionLevel, Likelihood, MilestoneKind, MilestoneStatus, ProjectStatus,
        RiskKind, RiskStatus, Template,
    },
    status_report::{self, Format, Notes},
    task::TaskStatus,
    time::format_unix,
};
use steward_store::{
    project_parts::{
        CheckItem, Decision, DecisionInput, Handoff, HandoffChange, HoursEntry, HoursInput,
        Opportunity, OpportunityInput, Overview, Risk, RiskInput,
    },
    projects::{
        GoLiveMove, Milestone, MilestoneInput, Project, ProjectInput, ProjectTask, ProjectTaskInput,
    },
    status_reports::StoredReport,
};

use super::{Routes, created};
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::{Auth, Id, Ids, JsonBody, Params, parse_id},
    input::{Reader, envelope},
};

pub(super) fn routes() -> Routes {
    vec![
        ("/api/v2/projects", get(list).post(create)),
        ("/api/v2/projects/{id}", get(show).put(update)),
        (
            "/api/v2/projects/{id}/go_live_moves",
            get(go_live_moves).post(move_go_live),
        ),
        (
            "/api/v2/projects/{id}/milestones",
            get(milestones).post(create_milestone),
        ),
        (
            "/api/v2/projects/{id}/milestones/{milestone_id}",
            put(update_milestone),
        ),
        ("/api/v2/projects/{id}/tasks", get(tasks).post(create_task)),
        (
            "/api/v2/projects/{id}/tasks/{task_id}",
            get(show_task).put(update_task),
        ),
        ("/api/v2/projects/{id}/risks", get(risks).post(create_risk)),
        ("/api/v2/projects/{id}/risks/{risk_id}", put(update_risk)),
        (
            "/api/v2/projects/{id}/decisions",
            get(decisions).post(create_decision),
        ),
        ("/api/v2/projects/{id}/hours", get(hours).post(log_hours)),
        ("/api/v2/projects/{id}/checklist", get(checklist)),
        ("/api/v2/projects/{id}/checklist/{key}", put(check_item)),
        ("/api/v2/projects/{id}/handoffs", get(handoffs)),
        (
            "/api/v2/projects/{id}/handoffs/{handoff_id}",
            put(update_handoff),
        ),
        (
            "/api/v2/projects/{id}/opportunities",
            get(opportunities).post(create_opportunity),
        ),
        (
            "/api/v2/projects/{id}/status_reports",
            get(status_reports).post(generate_report),
        ),
        (
            "/api/v2/projects/{id}/status_reports/{report_id}",
            get(show_report).put(edit_report),
        ),
        (
            "/api/v2/projects/{id}/status_reports/{report_id}/render",
            get(render_report),
        ),
        (
            "/api/v2/projects/{id}/status_reports/{report_id}/send",
            post(send_report),
        ),
        ("/api/v2/project_templates", get(templates)),
        (
            "/api/v2/project_templates/{key}",
            get(show_template).put(put_template).delete(delete_template),
        ),
    ]
}

// ---------------------------------------------------------------------
// JSON

fn project_json(p: &Project, o: Option<&Overview>, moves: &[GoLiveMove]) -> Value {
    let mut v = json!({
        "id": p.id,
        "url": format!("/api/v2/projects/{}.json", p.id),
        "organization_id": p.organization_id,
        "name": p.name,
        "template": p.template_key,
        "calendar": p.calendar,
        "start_date": p.start_date.to_string(),
        "target_go_live": p.target_go_live.to_string(),
        "go_live_date": p.go_live_date.to_string(),
        "actual_go_live": p.actual_go_live.map(|d| d.to_string()),
        "status": p.status.as_str(),
        "owner_id": p.owner_id,
        "assignments": p.assignments,
        "budget": p.budget_cents,
        "spend": p.spend_cents,
        "technical_blockers": p.technical_blockers,
        "dependencies": p.dependencies,
        "phases": p.template.phases.iter().map(|ph| json!({
            "number": ph.number, "name": ph.name, "first_day": ph.first_day, "last_day": ph.last_day,
        })).collect::<Vec<_>>(),
        "go_live_moves": moves.iter().map(move_json).collect::<Vec<_>>(),
        "created_at": format_unix(p.created_at),
        "updated_at": format_unix(p.updated_at),
    });
    if let Some(o) = o {
        v["day"] = json!(o.day);
        v["total_days"] = json!(o.total_days);
        v["phase"] = json!({"number": o.phase, "name": o.phase_name});
        v["planned_pct"] = json!(o.planned_pct);
        v["completion_pct"] = json!(o.completion_pct);
        v["tasks"] = json!({"total": o.tasks_total, "completed": o.tasks_completed});
        v["milestones"] = json!({
            "total": o.milestones_total,
            "completed": o.milestones_completed,
            "overdue": o.milestones_overdue,
            "critical_at_risk": o.critical_at_risk,
        });
        v["go_live_moved"] = json!(o.go_live_moved);
        v["health"] = json!(o.health.as_str());
        v["readiness"] = json!({"ready": o.ready, "items": o.readiness.iter().map(check_json).collect::<Vec<_>>()});
        v["success_criteria"] = json!(o.success_criteria);
    }
    v
}

fn move_json(m: &GoLiveMove) -> Value {
    json!({
        "id": m.id,
        "from": m.from_date.to_string(),
        "to": m.to_date.to_string(),
        "reason": m.reason,
        "decision_id": m.decision_id,
        "moved_by": m.moved_by,
        "moved_at": format_unix(m.moved_at),
    })
}

fn milestone_json(m: &Milestone) -> Value {
    json!({
        "id": m.id,
        "project_id": m.project_id,
        "key": m.key,
        "phase": m.phase,
        "day": m.day,
        "name": m.name,
        "type": m.kind.as_str(),
        "planned_date": m.planned_date.to_string(),
        "actual_date": m.actual_date.map(|d| d.to_string()),
        "owner_id": m.owner_id,
        "deliverables": m.deliverables,
        "success_criteria": m.success_criteria,
        "status": m.status.as_str(),
        "critical_path": m.critical_path,
        "updated_at": format_unix(m.updated_at),
    })
}

fn task_json(t: &ProjectTask) -> Value {
    json!({
        "id": t.task.id,
        "project_id": t.project_id,
        "title": t.task.title,
        "description": t.task.description,
        "owner_id": t.task.owner_id,
        "owner_role": t.owner_role,
        "due_at": t.task.due_at.map(format_unix),
        "priority": t.task.priority.as_str(),
        "status": t.task.status.as_str(),
        "phase": t.phase,
        "milestone_id": t.milestone_id,
        "plan_key": t.plan_key,
        "depends_on": t.depends_on,
        "blocked_by": t.blocked_by,
        "completed_at": t.task.completed_at.map(format_unix),
    })
}

fn risk_json(r: &Risk) -> Value {
    json!({
        "id": r.id,
        "project_id": r.project_id,
        "type": r.kind.as_str(),
        "title": r.title,
        "description": r.description,
        "probability": r.probability.as_str(),
        "impact": r.impact.as_str(),
        "score": r.score(),
        "rag": r.rag().as_str(),
        "status": r.status.as_str(),
        "mitigation": r.mitigation,
        "owner_id": r.owner_id,
        "created_at": format_unix(r.created_at),
        "updated_at": format_unix(r.updated_at),
        "resolved_at": r.resolved_at.map(format_unix),
    })
}

fn decision_json(d: &Decision) -> Value {
    json!({
        "id": d.id,
        "project_id": d.project_id,
        "level": d.level.as_str(),
        "deciders": d.level.deciders(),
        "cadence": d.level.cadence(),
        "title": d.title,
        "decision": d.decision,
        "rationale": d.rationale,
        "decided_by": d.decided_by,
        "decided_on": d.decided_on.to_string(),
        "timeline_impact_days": d.impact.timeline_days,
        "scope_change_pct": d.impact.scope_pct,
        "budget_overrun_pct": d.impact.budget_overrun_pct,
        "author_id": d.author_id,
        "created_at": format_unix(d.created_at),
    })
}

fn hours_entry_json(e: &HoursEntry) -> Value {
    json!({
        "id": e.id,
        "phase": e.phase,
        "side": e.side.as_str(),
        "role": e.role,
        "user_id": e.user_id,
        "hours": e.hours,
        "logged_on": e.logged_on.to_string(),
        "note": e.note,
    })
}

fn check_json(c: &CheckItem) -> Value {
    json!({"key": c.key, "item": c.item, "green": c.green, "source": c.source, "evidence": c.evidence})
}

fn handoff_json(h: &Handoff) -> Value {
    json!({
        "id": h.id,
        "key": h.key,
        "name": h.name,
        "day": h.day,
        "due_date": h.due_date.to_string(),
        "checklist": h.checklist,
        "overlap": h.overlap,
        "signed_off": h.signed_off_at.is_some(),
        "signed_off_by": h.signed_off_by,
        "signed_off_at": h.signed_off_at.map(format_unix),
        "note": h.note,
    })
}

fn opportunity_json(o: &Opportunity) -> Value {
    json!({
        "id": o.id,
        "organization_id": o.organization_id,
        "project_id": o.project_id,
        "title": o.title,
        "arr": o.arr_cents,
        "effort": o.effort.as_str(),
        "probability": o.probability_pct,
        "status": o.status,
        "created_at": format_unix(o.created_at),
    })
}

fn report_json(r: &StoredReport, full: bool) -> Value {
    let mut v = json!({
        "id": r.id,
        "project_id": r.project_id,
        "url": format!("/api/v2/projects/{}/status_reports/{}.json", r.project_id, r.id),
        "week_ending": r.week_ending.to_string(),
        "health": r.health,
        "owner_id": r.owner_id,
        "state": r.state,
        "recipient": r.recipient,
        "subject": status_report::subject(&r.report),
        "notes": r.notes,
        "created_at": format_unix(r.created_at),
        "updated_at": format_unix(r.updated_at),
        "sent_at": r.sent_at.map(format_unix),
    });
    if full {
        v["report"] = json!(r.report);
    }
    v
}

// ---------------------------------------------------------------------
// Inputs

fn project_input(body: &Value) -> ApiResult<ProjectInput> {
    let mut r = Reader::new(envelope(body, "project")?, "project")?;
    let assignments = match r.raw("assignments") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                match v.as_i64() {
                    Some(id) if id > 0 => {
                        out.insert(k.clone(), id);
                    }
                    _ => r.error("assignments", format!("{k} must map to a user id")),
                }
            }
            Some(out)
        }
        Some(_) => {
            r.error("assignments", "must be an object of role → user id");
            None
        }
    };
    let input = ProjectInput {
        organization_id: r.int("organization_id").flatten(),
        name: r.line("name").flatten(),
        template_key: r.line("template").flatten(),
        calendar: r.line("calendar").flatten(),
        start_date: r.date("start_date").flatten(),
        target_go_live: r.date("target_go_live").flatten(),
        status: r.parsed("status", ProjectStatus::parse).flatten(),
        owner_id: r.int("owner_id"),
        assignments,
        budget_cents: r.cents("budget").map(|m| m.map(|m| m.0)),
        spend_cents: r.cents("spend").map(|m| m.map(|m| m.0)),
        technical_blockers: r.text("technical_blockers").map(Option::unwrap_or_default),
        dependencies: r.text("dependencies").map(Option::unwrap_or_default),
        send_welcome: r.boolean("send_welcome").unwrap_or(false),
    };
    r.finish()?;
    Ok(input)
}

fn milestone_input(body: &Value) -> ApiResult<MilestoneInput> {
    let mut r = Reader::new(envelope(body, "milestone")?, "milestone")?;
    let input = MilestoneInput {
        name: r.line("name").flatten(),
        kind: r.parsed("type", MilestoneKind::parse).flatten(),
        phase: r.int("phase").flatten(),
        planned_date: r.date("planned_date").flatten(),
        actual_date: r.date("actual_date"),
        owner_id: r.int("owner_id"),
        deliverables: r.strings("deliverables"),
        success_criteria: r.text("success_criteria").map(Option::unwrap_or_default),
        status: r.parsed("status", MilestoneStatus::parse).flatten(),
        critical_path: r.boolean("critical_path"),
    };
    r.finish()?;
    Ok(input)
}

fn task_input(body: &Value) -> ApiResult<ProjectTaskInput> {
    let mut r = Reader::new(envelope(body, "task")?, "task")?;
    let input = ProjectTaskInput {
        title: r.line("title").flatten(),
        description: r.text("description").map(Option::unwrap_or_default),
        owner_id: r.int("owner_id"),
        due_date: r.date("due_date"),
        priority: r.parsed("priority", Priority::parse).flatten(),
        status: r.parsed("status", TaskStatus::parse_loose).flatten(),
        phase: r.int("phase"),
        milestone_id: r.int("milestone_id"),
        depends_on: r.ints("depends_on"),
    };
    r.finish()?;
    Ok(input)
}

fn risk_input(body: &Value) -> ApiResult<RiskInput> {
    let mut r = Reader::new(envelope(body, "risk")?, "risk")?;
    let input = RiskInput {
        kind: r.parsed("type", RiskKind::parse).flatten(),
        title: r.line("title").flatten(),
        description: r.text("description").map(Option::unwrap_or_default),
        probability: r.parsed("probability", Likelihood::parse).flatten(),
        impact: r.parsed("impact", Likelihood::parse).flatten(),
        status: r.parsed("status", RiskStatus::parse).flatten(),
        mitigation: r.text("mitigation").map(Option::unwrap_or_default),
        owner_id: r.int("owner_id"),
    };
    r.finish()?;
    Ok(input)
}

// ---------------------------------------------------------------------
// Handlers

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    params: Params,
) -> ApiResult<Json<Value>> {
    let per_page = params.u32("per_page")?.unwrap_or(100).clamp(1, 100) as i64;
    let page = params.u32("page")?.unwrap_or(1).max(1) as i64;
    let org = match params.get("organization_id") {
        Some(s) => Some(
            parse_id(s).ok_or_else(|| ApiError::bad_request("organization_id must be an id"))?,
        ),
        None => None,
    };
    let status = params
        .get("status")
        .map(ProjectStatus::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.0))?;
    let (items, count) = state
        .store
        .list_projects(&actor, org, status, per_page, (page - 1) * per_page)
        .await?;
    let overviews = state
        .store
        .project_overviews(&actor, &items, state.now())
        .await?;
    let out: Vec<Value> = items
        .iter()
        .zip(&overviews)
        .map(|(p, o)| project_json(p, Some(o), &[]))
        .collect();
    Ok(Json(json!({"projects": out, "count": count})))
}

async fn create(
    State(state): State<AppState>,
    Auth(actor): Auth,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = project_input(&body)?;
    let p = state
        .store
        .create_project(&actor, input, state.now())
        .await?;
    let (p, o) = state
        .store
        .project_overview(&actor, p.id, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"project": project_json(&p, Some(&o), &[])})),
    )
        .into_response())
}

async fn show(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let (p, o) = state
        .store
        .project_overview(&actor, id, state.now())
        .await?;
    let moves = state.store.go_live_moves(&actor, id).await?;
    Ok(Json(json!({"project": project_json(&p, Some(&o), &moves)})))
}

async fn update(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let input = project_input(&body)?;
    state
        .store
        .update_project(&actor, id, input, state.now())
        .await?;
    show(State(state), Auth(actor), Id(id)).await
}

async fn go_live_moves(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    state.store.project(&actor, id).await?;
    let moves = state.store.go_live_moves(&actor, id).await?;
    Ok(Json(
        json!({"go_live_moves": moves.iter().map(move_json).collect::<Vec<_>>()}),
    ))
}

/// `{"go_live_move": {"date": "YYYY-MM-DD", "reason": "...", "decision_id": N}}`.
async fn move_go_live(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "go_live_move")?, "go_live_move")?;
    let date = r.date("date").flatten();
    let reason = r.text("reason").flatten();
    let decision = r.int("decision_id").flatten();
    r.finish()?;
    let date = date.ok_or_else(|| {
        ApiError::invalid(vec![("go_live_move.date".into(), "is required".into())])
    })?;
    let p = state
        .store
        .move_go_live(
            &actor,
            id,
            &date,
            reason.as_deref().unwrap_or_default(),
            decision,
            state.now(),
        )
        .await?;
    let moves = state.store.go_live_moves(&actor, id).await?;
    let (_, o) = state
        .store
        .project_overview(&actor, p.id, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"project": project_json(&p, Some(&o), &moves)})),
    )
        .into_response())
}

async fn milestones(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.milestones(&actor, id).await?;
    Ok(Json(json!({
        "milestones": items.iter().map(milestone_json).collect::<Vec<_>>(),
        "count": items.len(),
    })))
}

async fn create_milestone(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = milestone_input(&body)?;
    let m = state
        .store
        .create_milestone(&actor, id, input, state.now())
        .await?;
    Ok((created(), Json(json!({"milestone": milestone_json(&m)}))).into_response())
}

async fn update_milestone(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, m): Ids,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let input = milestone_input(&body)?;
    let m = state
        .store
        .update_milestone(&actor, id, m, input, state.now())
        .await?;
    Ok(Json(json!({"milestone": milestone_json(&m)})))
}

async fn tasks(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.project_tasks(&actor, id).await?;
    Ok(Json(
        json!({"tasks": items.iter().map(task_json).collect::<Vec<_>>(), "count": items.len()}),
    ))
}

async fn create_task(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = task_input(&body)?;
    let t = state
        .store
        .create_project_task(&actor, id, input, state.now())
        .await?;
    Ok((created(), Json(json!({"task": task_json(&t)}))).into_response())
}

async fn show_task(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, t): Ids,
) -> ApiResult<Json<Value>> {
    let t = state.store.project_task(&actor, id, t).await?;
    Ok(Json(json!({"task": task_json(&t)})))
}

async fn update_task(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, t): Ids,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let input = task_input(&body)?;
    let t = state
        .store
        .update_project_task(&actor, id, t, input, state.now())
        .await?;
    Ok(Json(json!({"task": task_json(&t)})))
}

async fn risks(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.risks(&actor, id).await?;
    Ok(Json(
        json!({"risks": items.iter().map(risk_json).collect::<Vec<_>>(), "count": items.len()}),
    ))
}

async fn create_risk(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let input = risk_input(&body)?;
    let r = state
        .store
        .create_risk(&actor, id, input, state.now())
        .await?;
    Ok((created(), Json(json!({"risk": risk_json(&r)}))).into_response())
}

async fn update_risk(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, r): Ids,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let input = risk_input(&body)?;
    let r = state
        .store
        .update_risk(&actor, id, r, input, state.now())
        .await?;
    Ok(Json(json!({"risk": risk_json(&r)})))
}

async fn decisions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.decisions(&actor, id).await?;
    Ok(Json(
        json!({"decisions": items.iter().map(decision_json).collect::<Vec<_>>(), "count": items.len()}),
    ))
}

async fn create_decision(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "decision")?, "decision")?;
    let input = DecisionInput {
        level: r.parsed("level", DecisionLevel::parse).flatten(),
        title: r.line("title").flatten(),
        decision: r.text("decision").flatten(),
        rationale: r.text("rationale").flatten(),
        decided_by: r.line("decided_by").flatten(),
        decided_on: r.date("decided_on").flatten(),
        impact: DecisionImpact {
            timeline_days: r.int("timeline_impact_days").flatten().unwrap_or(0),
            scope_pct: r.float("scope_change_pct").flatten().unwrap_or(0.0),
            budget_overrun_pct: r.float("budget_overrun_pct").flatten().unwrap_or(0.0),
        },
    };
    r.finish()?;
    let d = state
        .store
        .create_decision(&actor, id, input, state.now())
        .await?;
    Ok((created(), Json(json!({"decision": decision_json(&d)}))).into_response())
}

async fn hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let (lines, entries) = state.store.hours(&actor, id).await?;
    let mut phases: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    let mut sides: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for l in &lines {
        let p = phases.entry(l.phase).or_default();
        p.0 += l.budget;
        p.1 += l.actual;
        let s = sides.entry(l.side.as_str()).or_default();
        s.0 += l.budget;
        s.1 += l.actual;
    }
    let round = |v: f64| (v * 10.0).round() / 10.0;
    Ok(Json(json!({
        "hours": {
            "lines": lines,
            "by_phase": phases.iter().map(|(p, (b, a))| json!({"phase": p, "budget": round(*b), "actual": round(*a)})).collect::<Vec<_>>(),
            "by_side": sides.iter().map(|(s, (b, a))| json!({"side": s, "budget": round(*b), "actual": round(*a)})).collect::<Vec<_>>(),
            "entries": entries.iter().map(hours_entry_json).collect::<Vec<_>>(),
        }
    })))
}

/// `{"hours": {"role", "hours", "phase"?, "logged_on"?, "user_id"?, "note"?}}`.
async fn log_hours(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "hours")?, "hours")?;
    let input = HoursInput {
        phase: r.int("phase").flatten(),
        role: r.line("role").flatten(),
        user_id: r.int("user_id").flatten(),
        hours: r.float("hours").flatten(),
        logged_on: r.date("logged_on").flatten(),
        note: r.text("note").flatten(),
    };
    r.finish()?;
    let e = state
        .store
        .log_hours(&actor, id, input, state.now())
        .await?;
    Ok((created(), Json(json!({"hours": hours_entry_json(&e)}))).into_response())
}

async fn checklist(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let (_, o) = state
        .store
        .project_overview(&actor, id, state.now())
        .await?;
    Ok(Json(json!({
        "checklist": o.readiness.iter().map(check_json).collect::<Vec<_>>(),
        "ready": o.ready,
    })))
}

/// `PUT .../checklist/{key}` with `{"check": {"green": true, "note": "..."}}`.
async fn check_item(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path((id, key)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let id = parse_id(&id).ok_or_else(ApiError::not_found)?;
    let key = key.strip_suffix(".json").unwrap_or(&key).to_string();
    let mut r = Reader::new(envelope(&body, "check")?, "check")?;
    let green = r.boolean("green");
    let note = r.text("note").flatten().unwrap_or_default();
    r.finish()?;
    let green = green
        .ok_or_else(|| ApiError::invalid(vec![("check.green".into(), "is required".into())]))?;
    state
        .store
        .check_readiness_item(&actor, id, &key, green, &note, state.now())
        .await?;
    checklist(State(state), Auth(actor), Id(id)).await
}

async fn handoffs(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.handoffs(&actor, id).await?;
    Ok(Json(
        json!({"handoffs": items.iter().map(handoff_json).collect::<Vec<_>>()}),
    ))
}

/// `{"handoff": {"done": [0, 2], "undone": [1], "note": "...", "sign_off": true}}`.
async fn update_handoff(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, h): Ids,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut r = Reader::new(envelope(&body, "handoff")?, "handoff")?;
    let done = r.ints("done").unwrap_or_default();
    let undone = r.ints("undone").unwrap_or_default();
    let note = r.text("note").flatten();
    let sign_off = r.boolean("sign_off").unwrap_or(false);
    r.finish()?;
    let mut changes = Vec::new();
    for (list, value) in [(&done, true), (&undone, false)] {
        for i in list {
            let i = usize::try_from(*i).map_err(|_| {
                ApiError::invalid(vec![("handoff.done".into(), "indexes start at 0".into())])
            })?;
            changes.push((i, value));
        }
    }
    let change = HandoffChange {
        done: changes,
        note,
        sign_off,
    };
    let h = state
        .store
        .update_handoff(&actor, id, h, change, state.now())
        .await?;
    Ok(Json(json!({"handoff": handoff_json(&h)})))
}

async fn opportunities(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.opportunities(&actor, id).await?;
    let open: Vec<&Opportunity> = items.iter().filter(|o| o.status == "open").collect();
    Ok(Json(json!({
        "opportunities": items.iter().map(opportunity_json).collect::<Vec<_>>(),
        "pipeline": open.iter().map(|o| o.arr_cents).sum::<i64>(),
        "weighted_pipeline": open.iter().map(|o| o.arr_cents * o.probability_pct / 100).sum::<i64>(),
    })))
}

/// `{"opportunity": {"title", "arr" (cents), "effort", "probability" (%), "status"}}`.
async fn create_opportunity(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "opportunity")?, "opportunity")?;
    let input = OpportunityInput {
        title: r.line("title").flatten(),
        arr_cents: r.int("arr").flatten(),
        effort: r.parsed("effort", Likelihood::parse).flatten(),
        probability_pct: r.int("probability").flatten(),
        status: r.line("status").flatten(),
    };
    r.finish()?;
    let o = state
        .store
        .create_opportunity(&actor, id, input, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"opportunity": opportunity_json(&o)})),
    )
        .into_response())
}

async fn status_reports(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let items = state.store.status_reports(&actor, id).await?;
    Ok(Json(json!({
        "status_reports": items.iter().map(|r| report_json(r, false)).collect::<Vec<_>>(),
        "count": items.len(),
    })))
}

/// `{"status_report": {"week_ending": "YYYY-MM-DD"}}`: makes or refreshes
/// the draft of that week.
async fn generate_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let mut r = Reader::new(envelope(&body, "status_report")?, "status_report")?;
    let week = r.date("week_ending").flatten();
    r.finish()?;
    let week = week.ok_or_else(|| {
        ApiError::invalid(vec![(
            "status_report.week_ending".into(),
            "is required".into(),
        )])
    })?;
    let r = state
        .store
        .generate_status_report(&actor, id, &week, state.now())
        .await?;
    Ok((
        created(),
        Json(json!({"status_report": report_json(&r, true)})),
    )
        .into_response())
}

async fn show_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, r): Ids,
) -> ApiResult<Json<Value>> {
    let r = state.store.status_report(&actor, id, r).await?;
    Ok(Json(json!({"status_report": report_json(&r, true)})))
}

/// `{"status_report": {"notes": {"summary", "decision_needed", "other"}, "recipient": "e-mail"}}`.
async fn edit_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, rid): Ids,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut r = Reader::new(envelope(&body, "status_report")?, "status_report")?;
    let recipient = r.line("recipient").flatten();
    let notes = match r.raw("notes") {
        None | Some(Value::Null) => None,
        Some(v) => match serde_json::from_value::<Notes>(v.clone()) {
            Ok(n)
                if [&n.summary, &n.decision_needed, &n.other]
                    .iter()
                    .all(|s| s.len() <= 65_536) =>
            {
                Some(n)
            }
            Ok(_) => {
                r.error("notes", "each note is at most 65,536 characters");
                None
            }
            Err(e) => {
                r.error(
                    "notes",
                    format!("must be {{summary, decision_needed, other}}: {e}"),
                );
                None
            }
        },
    };
    r.finish()?;
    let r = state
        .store
        .edit_status_report(&actor, id, rid, notes, recipient, state.now())
        .await?;
    Ok(Json(json!({"status_report": report_json(&r, true)})))
}

/// `GET .../render?format=html|text|markdown` (HTML by default).
async fn render_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, rid): Ids,
    params: Params,
) -> ApiResult<Response> {
    let format = Format::parse(params.get("format").unwrap_or("html"))
        .map_err(|e| ApiError::bad_request(e.0))?;
    let r = state.store.status_report(&actor, id, rid).await?;
    let body = status_report::render(&r.report, &r.notes, format)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "RenderError", e))?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], body).into_response())
}

async fn send_report(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Ids(id, rid): Ids,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<Value>> {
    let b = super::base(&state, &headers);
    let r = state
        .store
        .send_status_report(&actor, id, rid, &b, state.now())
        .await?;
    Ok(Json(json!({"status_report": report_json(&r, false)})))
}

async fn templates(State(state): State<AppState>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    if !actor.role().is_staff() {
        return Err(ApiError::forbidden("project templates are for staff"));
    }
    let items = state.store.project_templates().await?;
    Ok(Json(json!({
        "project_templates": items.iter().map(|(k, t, edited)| json!({
            "key": k, "name": t.name, "description": t.description, "days": t.days, "edited": edited,
        })).collect::<Vec<_>>()
    })))
}

fn template_key(raw: &str) -> &str {
    raw.strip_suffix(".json").unwrap_or(raw)
}

async fn show_template(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    if !actor.role().is_staff() {
        return Err(ApiError::forbidden("project templates are for staff"));
    }
    let t = state.store.project_template(template_key(&key)).await?;
    Ok(Json(
        json!({"project_template": {"key": template_key(&key), "definition": t, "budget": t.budget()}}),
    ))
}

/// `PUT` with `{"project_template": {"definition": {...}}}`: validated as a whole.
async fn put_template(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let def = envelope(&body, "project_template")?
        .get("definition")
        .ok_or_else(|| {
            ApiError::invalid(vec![(
                "project_template.definition".into(),
                "is required".into(),
            )])
        })?;
    let t: Template = serde_json::from_value(def.clone()).map_err(|e| {
        ApiError::invalid(vec![("project_template.definition".into(), e.to_string())])
    })?;
    let key = template_key(&key);
    state
        .store
        .put_project_template(&actor, key, &t, state.now())
        .await?;
    Ok(Json(
        json!({"project_template": {"key": key, "definition": t}}),
    ))
}

async fn delete_template(
    State(state): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_project_template(&actor, template_key(&key))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
