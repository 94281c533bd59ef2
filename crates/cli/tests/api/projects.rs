//! Implementation projects and weekly status reports (issue 4; §13, §15)
//! over HTTP: the template unfolded on working days, dependencies and
//! cycles, risks, decision levels, timeline health and go-live moves,
//! readiness, handoffs, and a golden weekly report.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

async fn send(app: &TestApp, method: Method, path: &str, body: Value) -> reqwest::Response {
    app.admin(method, path).json(&body).send().await.unwrap()
}

/// Christmas and New Year's Day as holidays of the business calendar.
async fn holidays(app: &TestApp) {
    app.put_json(
        "/api/v2/calendars/business",
        json!({"calendar": {"holidays": ["2026-12-25", "2027-01-01"]}}),
    )
    .await;
}

async fn csm(app: &TestApp, name: &str) -> i64 {
    app.post_json(
        "/api/v2/users.json",
        json!({"user": {"name": name, "email": format!("{}@vendor.example", name.to_lowercase().replace(' ', ".")), "role": "csm"}}),
    )
    .await["user"]["id"]
        .as_i64()
        .unwrap()
}

async fn project(app: &TestApp, org: i64, owner: i64, start: &str) -> Value {
    app.post_json(
        "/api/v2/projects.json",
        json!({"project": {"organization_id": org, "start_date": start, "owner_id": owner,
                           "budget": 6_000_000, "spend": 2_100_000}}),
    )
    .await["project"]
        .clone()
}

fn by_key<'a>(items: &'a Value, key: &str) -> &'a Value {
    items
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == key || m["plan_key"] == key)
        .unwrap_or_else(|| panic!("no {key}"))
}

#[tokio::test]
async fn a_project_unfolds_the_30_day_template_on_working_days() {
    let t0 = parse_rfc3339("2026-12-01T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    holidays(&app).await;
    let org = app.org("Northwind", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let p = project(&app, org, owner, "2026-12-07").await;
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["name"], "Northwind implementation");
    assert_eq!(p["start_date"], "2026-12-07");
    // Day 25 (go-live): 25 working days, skipping weekends, 25 Dec and 1 Jan.
    assert_eq!(p["target_go_live"], "2027-01-12");
    assert_eq!(p["go_live_date"], "2027-01-12");
    assert_eq!(p["day"], 0, "before the start");
    assert_eq!(p["health"], "on-track");
    assert_eq!(p["phases"].as_array().unwrap().len(), 6);

    let ms = app
        .get_json(&format!("/api/v2/projects/{id}/milestones.json"))
        .await["milestones"]
        .clone();
    assert_eq!(ms.as_array().unwrap().len(), 20);
    for (key, date, phase) in [
        ("kickoff", "2026-12-07", 1),
        ("plan_signed", "2026-12-09", 1),
        ("foundation", "2026-12-11", 2),
        ("data_validated", "2026-12-17", 3),
        ("governance", "2026-12-24", 3),
        ("test_env", "2026-12-28", 4), // after the Christmas holiday and a weekend
        ("go_live_approved", "2027-01-07", 4),
        ("live", "2027-01-12", 5),
        ("review_30", "2027-01-19", 6),
    ] {
        let m = by_key(&ms, key);
        assert_eq!(m["planned_date"], date, "{key}");
        assert_eq!(m["phase"], phase, "{key}");
        assert_eq!(m["status"], "scheduled");
    }
    assert_eq!(by_key(&ms, "live")["type"], "go-live");
    assert_eq!(by_key(&ms, "live")["critical_path"], true);

    let tasks = app
        .get_json(&format!("/api/v2/projects/{id}/tasks.json"))
        .await["tasks"]
        .clone();
    assert_eq!(tasks.as_array().unwrap().len(), 25);
    let cutover = by_key(&tasks, "cutover");
    assert_eq!(
        cutover["due_at"], "2027-01-12T22:00:00Z",
        "17:00 in New York"
    );
    assert_eq!(cutover["owner_id"], owner);
    assert_eq!(cutover["depends_on"].as_array().unwrap().len(), 2);
    assert_eq!(by_key(&tasks, "plan_sign")["owner_role"], "project_lead");

    // Hours budget: 450 customer and 600 vendor hours over six phases.
    let h = app
        .get_json(&format!("/api/v2/projects/{id}/hours.json"))
        .await["hours"]
        .clone();
    let side = |s: &str| {
        h["by_side"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["side"] == s)
            .unwrap()["budget"]
            .as_f64()
            .unwrap()
    };
    assert!((side("customer") - 450.0).abs() < 0.5);
    assert!((side("vendor") - 600.0).abs() < 0.5);

    // Handoffs on days 4, 10 and 30 with the 15-day overlap.
    let hs = app
        .get_json(&format!("/api/v2/projects/{id}/handoffs.json"))
        .await["handoffs"]
        .clone();
    let dates: Vec<&str> = hs
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["due_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2026-12-10", "2026-12-18", "2027-01-19"]);
    assert_eq!(hs[2]["overlap"][0]["from"], "2027-01-20");
    assert_eq!(hs[2]["overlap"][2]["first_day"], 46);

    // The template library lists the shipped template; an admin may add one.
    let list = app.get_json("/api/v2/project_templates.json").await;
    assert_eq!(list["project_templates"][0]["key"], "30-day");
    let mut def = app.get_json("/api/v2/project_templates/30-day.json").await["project_template"]
        ["definition"]
        .clone();
    def["name"] = json!("Quick start");
    app.put_json(
        "/api/v2/project_templates/quick",
        json!({"project_template": {"definition": def.clone()}}),
    )
    .await;
    // A template whose tasks depend on each other in a circle is refused.
    def["tasks"][0]["depends_on"] = json!(["review"]);
    let resp = send(
        &app,
        Method::PUT,
        "/api/v2/project_templates/loop",
        json!({"project_template": {"definition": def}}),
    )
    .await;
    let err = json_of(resp, 422).await;
    assert!(err.to_string().contains("dependency cycle"), "{err}");
}

#[tokio::test]
async fn task_dependencies_reject_cycles() {
    let t0 = parse_rfc3339("2026-12-01T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Cyclic", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let id = project(&app, org, owner, "2026-12-07").await["id"]
        .as_i64()
        .unwrap();
    let base = format!("/api/v2/projects/{id}/tasks");
    let a = app
        .post_json(&format!("{base}.json"), json!({"task": {"title": "A"}}))
        .await["task"]["id"]
        .as_i64()
        .unwrap();
    let b = app
        .post_json(
            &format!("{base}.json"),
            json!({"task": {"title": "B", "depends_on": [a], "due_date": "2026-12-09"}}),
        )
        .await["task"]
        .clone();
    assert_eq!(b["depends_on"], json!([a]));
    assert_eq!(b["blocked_by"], json!([a]));
    let b = b["id"].as_i64().unwrap();
    let c = app
        .post_json(
            &format!("{base}.json"),
            json!({"task": {"title": "C", "depends_on": [b]}}),
        )
        .await["task"]["id"]
        .as_i64()
        .unwrap();
    // A → C closes the loop A → C → B → A.
    let resp = send(
        &app,
        Method::PUT,
        &format!("{base}/{a}.json"),
        json!({"task": {"depends_on": [c]}}),
    )
    .await;
    let err = json_of(resp, 422).await;
    let text = err.to_string();
    assert!(text.contains("dependency cycle"), "{text}");
    assert!(text.contains(&format!("#{a}")), "{text}");
    // Self-dependency and unknown tasks are refused too.
    let resp = send(
        &app,
        Method::PUT,
        &format!("{base}/{a}.json"),
        json!({"task": {"depends_on": [a]}}),
    )
    .await;
    json_of(resp, 422).await;
    let resp = send(
        &app,
        Method::PUT,
        &format!("{base}/{a}.json"),
        json!({"task": {"depends_on": [999999]}}),
    )
    .await;
    json_of(resp, 422).await;
    // Completing A unblocks B.
    app.put_json(
        &format!("{base}/{a}.json"),
        json!({"task": {"status": "completed"}}),
    )
    .await;
    let b = app.get_json(&format!("{base}/{b}.json")).await;
    assert_eq!(b["task"]["blocked_by"], json!([]));
}

#[tokio::test]
async fn risks_score_decisions_need_their_level_and_handoffs_sign_off() {
    let t0 = parse_rfc3339("2026-12-08T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Riskful", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let id = project(&app, org, owner, "2026-12-07").await["id"]
        .as_i64()
        .unwrap();
    let risks = format!("/api/v2/projects/{id}/risks.json");
    for (p, i, score, rag) in [
        ("high", "high", 9, "red"),
        ("medium", "high", 6, "red"),
        ("medium", "medium", 4, "yellow"),
        ("low", "high", 3, "yellow"),
        ("low", "medium", 2, "green"),
    ] {
        let r = app
            .post_json(&risks, json!({"risk": {"type": "technical", "title": format!("{p} x {i}"), "probability": p, "impact": i}}))
            .await["risk"]
            .clone();
        assert_eq!(r["score"], score);
        assert_eq!(r["rag"], rag);
        assert_eq!(r["status"], "identified");
    }
    let first = app.get_json(&risks).await["risks"][0]["id"]
        .as_i64()
        .unwrap();
    let r = app
        .put_json(
            &format!("/api/v2/projects/{id}/risks/{first}.json"),
            json!({"risk": {"status": "resolved", "impact": "low"}}),
        )
        .await["risk"]
        .clone();
    assert_eq!(r["status"], "resolved");
    assert_eq!(r["score"], 3);
    assert!(r["resolved_at"].is_string());
    let resp = send(
        &app,
        Method::POST,
        &risks,
        json!({"risk": {"type": "weather", "title": "x", "probability": "low", "impact": "low"}}),
    )
    .await;
    json_of(resp, 422).await;

    // Decisions: the level defaults to what the impact needs; lower is refused.
    let decisions = format!("/api/v2/projects/{id}/decisions.json");
    let d = |level: Option<&str>, days: i64, scope: f64| {
        let mut v = json!({"decision": {"title": "Move the data load", "decision": "Load on Saturday",
            "rationale": "Source system freeze", "decided_by": "Dana Reyes", "timeline_impact_days": days,
            "scope_change_pct": scope}});
        if let Some(l) = level {
            v["decision"]["level"] = json!(l);
        }
        v
    };
    let made = app.post_json(&decisions, d(None, 1, 0.0)).await;
    assert_eq!(made["decision"]["level"], "L1");
    let made = app.post_json(&decisions, d(None, 5, 0.0)).await;
    assert_eq!(made["decision"]["level"], "L2");
    let made = app.post_json(&decisions, d(None, 0, 25.0)).await;
    assert_eq!(made["decision"]["level"], "L3");
    let resp = send(&app, Method::POST, &decisions, d(Some("L1"), 5, 0.0)).await;
    let err = json_of(resp, 422).await.to_string();
    assert!(err.contains("needs level L2"), "{err}");
    let resp = send(&app, Method::POST, &decisions, d(Some("L2"), 10, 0.0)).await;
    let err = json_of(resp, 422).await.to_string();
    assert!(
        err.contains("needs level L3") && err.contains("over 1 week"),
        "{err}"
    );
    // A higher level than needed is allowed.
    let made = app.post_json(&decisions, d(Some("L3"), 0, 0.0)).await;
    assert_eq!(made["decision"]["level"], "L3");
    assert_eq!(
        app.get_json(&decisions).await["count"],
        4,
        "refused decisions leave no trace"
    );

    // Handoffs sign off only with every checklist item done.
    let hs = app
        .get_json(&format!("/api/v2/projects/{id}/handoffs.json"))
        .await;
    let h = hs["handoffs"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v2/projects/{id}/handoffs/{h}.json");
    let resp = send(
        &app,
        Method::PUT,
        &path,
        json!({"handoff": {"done": [0, 1], "sign_off": true}}),
    )
    .await;
    let err = json_of(resp, 422).await.to_string();
    assert!(err.contains("every checklist item"), "{err}");
    let h = app
        .put_json(
            &path,
            json!({"handoff": {"done": [0, 1, 2, 3], "sign_off": true, "note": "Signed in the steering call"}}),
        )
        .await;
    assert_eq!(h["handoff"]["signed_off"], true);
    let resp = send(
        &app,
        Method::PUT,
        &path,
        json!({"handoff": {"undone": [0]}}),
    )
    .await;
    json_of(resp, 409).await;
}

#[tokio::test]
async fn timeline_health_readiness_and_go_live_moves() {
    let t0 = parse_rfc3339("2026-12-01T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    holidays(&app).await;
    let org = app.org("Healthy", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let id = project(&app, org, owner, "2026-12-07").await["id"]
        .as_i64()
        .unwrap();
    let tasks = app
        .get_json(&format!("/api/v2/projects/{id}/tasks.json"))
        .await["tasks"]
        .clone();
    let complete = |key: &'static str| {
        let t = by_key(&tasks, key)["id"].as_i64().unwrap();
        let app = &app;
        async move {
            app.put_json(
                &format!("/api/v2/projects/{id}/tasks/{t}.json"),
                json!({"task": {"status": "completed"}}),
            )
            .await
        }
    };
    // Day 3 (Wed 9 Dec): planned 10 %; 3 of 25 tasks done = 12 %.
    app.clock
        .set(parse_rfc3339("2026-12-09T20:00:00Z").unwrap());
    for k in ["kickoff_meeting", "assessment_call", "assessment_doc"] {
        complete(k).await;
    }
    let p = app.get_json(&format!("/api/v2/projects/{id}.json")).await["project"].clone();
    assert_eq!(p["day"], 3);
    assert_eq!(p["planned_pct"], 10.0);
    assert_eq!(p["completion_pct"], 12.0);
    assert_eq!(p["health"], "on-track");
    assert_eq!(p["phase"]["name"], "Planning & assessment");
    // The kickoff milestone completed with its only task.
    let ms = app
        .get_json(&format!("/api/v2/projects/{id}/milestones.json"))
        .await["milestones"]
        .clone();
    assert_eq!(by_key(&ms, "kickoff")["status"], "completed");
    assert_eq!(by_key(&ms, "kickoff")["actual_date"], "2026-12-09");
    assert_eq!(by_key(&ms, "plan_signed")["status"], "scheduled");

    // Day 8 (Wed 16 Dec): planned 26.7 %, 12 % done → behind and milestones overdue.
    app.clock
        .set(parse_rfc3339("2026-12-16T20:00:00Z").unwrap());
    let p = app.get_json(&format!("/api/v2/projects/{id}.json")).await["project"].clone();
    assert_eq!(p["day"], 8);
    assert_eq!(p["health"], "at-risk");
    assert!(p["milestones"]["overdue"].as_i64().unwrap() >= 3);

    // Moving go-live a week later: delayed, and the open plan shifts 5 working days.
    let moved = app
        .post_json(
            &format!("/api/v2/projects/{id}/go_live_moves.json"),
            json!({"go_live_move": {"date": "2027-01-19", "reason": "Data source freeze over the holidays"}}),
        )
        .await["project"]
        .clone();
    assert_eq!(moved["go_live_date"], "2027-01-19");
    assert_eq!(moved["target_go_live"], "2027-01-12");
    assert_eq!(moved["health"], "delayed");
    assert_eq!(moved["go_live_moves"][0]["from"], "2027-01-12");
    let ms = app
        .get_json(&format!("/api/v2/projects/{id}/milestones.json"))
        .await["milestones"]
        .clone();
    assert_eq!(by_key(&ms, "live")["planned_date"], "2027-01-19");
    assert_eq!(by_key(&ms, "review_30")["planned_date"], "2027-01-26");
    assert_eq!(
        by_key(&ms, "go_live_approved")["planned_date"],
        "2027-01-07",
        "before the old go-live: unchanged"
    );
    let tasks = app
        .get_json(&format!("/api/v2/projects/{id}/tasks.json"))
        .await["tasks"]
        .clone();
    assert_eq!(by_key(&tasks, "cutover")["due_at"], "2027-01-19T22:00:00Z");

    // Readiness: computed from metrics, milestones and tasks; a manual item.
    let check = app
        .get_json(&format!("/api/v2/projects/{id}/checklist.json"))
        .await;
    assert_eq!(check["ready"], false);
    assert_eq!(check["checklist"].as_array().unwrap().len(), 7);
    let now = "2026-12-16T12:00:00Z";
    app.post_json(
        &format!("/api/v2/organizations/{org}/measurements.json"),
        json!({"measurements": [
            {"metric": "system_performance", "field": "uptime_pct", "value": 99.95, "measured_at": "2026-12-14T07:00:00Z"},
            {"metric": "system_performance", "field": "uptime_pct", "value": 99.93, "measured_at": now},
            {"metric": "implementation_health", "field": "integration_tests_pass_pct", "value": 100, "measured_at": now},
            {"metric": "implementation_health", "field": "uat_pass_pct", "value": 96.5, "measured_at": now},
            {"metric": "user_adoption", "field": "training_completion_pct", "value": 72, "measured_at": now},
        ]}),
    )
    .await;
    let check = app
        .get_json(&format!("/api/v2/projects/{id}/checklist.json"))
        .await;
    let item = |k: &str| by_key(&check["checklist"], k).clone();
    assert_eq!(item("uptime")["green"], true, "{}", item("uptime"));
    assert_eq!(item("uat")["green"], true);
    assert_eq!(item("training")["green"], false, "72 % < 80 %");
    assert!(
        item("training")["evidence"]
            .as_str()
            .unwrap()
            .contains("72")
    );
    assert_eq!(item("executive_sign_off")["green"], false);
    app.put_json(
        &format!("/api/v2/projects/{id}/checklist/executive_sign_off.json"),
        json!({"check": {"green": true, "note": "Signed by the CFO on 16 Dec"}}),
    )
    .await;
    let resp = send(
        &app,
        Method::PUT,
        &format!("/api/v2/projects/{id}/checklist/nope.json"),
        json!({"check": {"green": true}}),
    )
    .await;
    json_of(resp, 404).await;
    let check = app
        .get_json(&format!("/api/v2/projects/{id}/checklist.json"))
        .await;
    assert_eq!(
        by_key(&check["checklist"], "executive_sign_off")["green"],
        true
    );
    assert_eq!(
        check["ready"], false,
        "training, support and dry run are open"
    );
}

#[tokio::test]
async fn bad_project_input_gets_clear_errors() {
    let app =
        spawn_app_with_clock(Clock::fixed(parse_rfc3339("2026-12-01T15:00:00Z").unwrap())).await;
    let org = app.org("Strict", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let id = project(&app, org, owner, "2026-12-07").await["id"]
        .as_i64()
        .unwrap();
    let cases: Vec<(Method, String, Value, u16)> = vec![
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": {"organization_id": org}}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": {"organization_id": org, "start_date": "2026-13-01"}}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": {"organization_id": 999999, "start_date": "2026-12-07"}}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": {"organization_id": org, "start_date": "2026-12-07", "template": "nope"}}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": {"organization_id": org, "start_date": "2026-12-07", "calendar": "mars"}}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": {"organization_id": org, "start_date": "2026-12-07", "assignments": {"pilot": owner}}}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!({"project": "x"}),
            422,
        ),
        (
            Method::POST,
            "/api/v2/projects.json".into(),
            json!([1, 2]),
            400,
        ),
        (
            Method::PUT,
            format!("/api/v2/projects/{id}.json"),
            json!({"project": {"start_date": "2027-01-01"}}),
            422,
        ),
        (
            Method::PUT,
            format!("/api/v2/projects/{id}.json"),
            json!({"project": {"budget": -5}}),
            422,
        ),
        (
            Method::GET,
            "/api/v2/projects/999999.json".into(),
            Value::Null,
            404,
        ),
        (
            Method::GET,
            "/api/v2/projects/abc.json".into(),
            Value::Null,
            404,
        ),
        (
            Method::GET,
            "/api/v2/projects.json?status=dreaming".into(),
            Value::Null,
            400,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/hours.json"),
            json!({"hours": {"role": "wizard", "hours": 3}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/hours.json"),
            json!({"hours": {"role": "csm", "hours": -3}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/hours.json"),
            json!({"hours": {"role": "csm", "hours": "lots"}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/hours.json"),
            json!({"hours": {"role": "csm", "hours": 2, "phase": 9}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/milestones.json"),
            json!({"milestone": {"name": "X"}}),
            422,
        ),
        (
            Method::PUT,
            format!("/api/v2/projects/{id}/milestones/999999.json"),
            json!({"milestone": {"status": "completed"}}),
            404,
        ),
        (
            Method::PUT,
            format!("/api/v2/projects/{id}/tasks/999999.json"),
            json!({"task": {"status": "completed"}}),
            404,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/tasks.json"),
            json!({"task": {"title": "x", "status": "done"}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/go_live_moves.json"),
            json!({"go_live_move": {"date": "2027-02-01"}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/go_live_moves.json"),
            json!({"go_live_move": {"date": "2020-01-01", "reason": "x"}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/opportunities.json"),
            json!({"opportunity": {"title": "x", "arr": 100, "probability": 120}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/decisions.json"),
            json!({"decision": {"title": "x", "decision": "y", "rationale": "z", "decided_by": "me", "scope_change_pct": "NaN"}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/status_reports.json"),
            json!({"status_report": {"week_ending": "2026-11-01"}}),
            422,
        ),
        (
            Method::POST,
            format!("/api/v2/projects/{id}/status_reports.json"),
            json!({"status_report": {}}),
            422,
        ),
        (
            Method::GET,
            format!("/api/v2/projects/{id}/status_reports/1/render?format=pdf"),
            Value::Null,
            400,
        ),
        (
            Method::GET,
            "/api/v2/project_templates/nope.json".into(),
            Value::Null,
            404,
        ),
        (
            Method::PUT,
            "/api/v2/project_templates/x.json".into(),
            json!({"project_template": {"definition": {"name": "x"}}}),
            422,
        ),
    ];
    for (method, path, body, status) in cases {
        let req = app.admin(method.clone(), &path);
        let req = if body.is_null() { req } else { req.json(&body) };
        let resp = req.send().await.unwrap();
        let got = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{method} {path} {body}: {text}");
        assert!(
            serde_json::from_str::<Value>(&text).is_ok(),
            "{path}: not JSON: {text}"
        );
    }
    // Customers and viewers.
    let (_, email, token) = app.user_with_token(Role::EndUser, Some(org)).await;
    let resp = app
        .request_as(
            Method::GET,
            &format!("/api/v2/projects/{id}.json"),
            &email,
            &token,
        )
        .send()
        .await
        .unwrap();
    json_of(resp, 403).await;
    let (_, email, token) = app.user_with_token(Role::Viewer, None).await;
    let resp = app
        .request_as(
            Method::GET,
            &format!("/api/v2/projects/{id}.json"),
            &email,
            &token,
        )
        .send()
        .await
        .unwrap();
    json_of(resp, 200).await;
    let resp = app
        .request_as(Method::POST, &format!("/api/v2/projects/{id}/risks.json"), &email, &token)
        .json(&json!({"risk": {"type": "technical", "title": "x", "probability": "low", "impact": "low"}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 403).await;
    let (_, email, token) = app.user_with_token(Role::Agent, None).await;
    let resp = app
        .request_as(
            Method::PUT,
            "/api/v2/project_templates/mine.json",
            &email,
            &token,
        )
        .json(&json!({"project_template": {"definition": {}}}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
}

#[tokio::test]
async fn a_new_project_can_send_the_welcome_email_from_the_template() {
    let app =
        spawn_app_with_clock(Clock::fixed(parse_rfc3339("2026-12-01T15:00:00Z").unwrap())).await;
    let org = app.org("Welcome Co", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let body = json!({"project": {"organization_id": org, "start_date": "2026-12-07", "owner_id": owner,
                                  "send_welcome": true}});
    // No sponsor or project lead with an address yet: refused, nothing made.
    let resp = send(&app, Method::POST, "/api/v2/projects.json", body.clone()).await;
    let err = json_of(resp, 422).await.to_string();
    assert!(err.contains("executive sponsor"), "{err}");
    assert_eq!(app.get_json("/api/v2/projects.json").await["count"], 0);

    let sam = app
        .post_json(
            "/api/v2/users.json",
            json!({"user": {"name": "Sam Okafor", "email": "sam@welcome.example", "role": "end-user", "organization_id": org}}),
        )
        .await["user"]["id"]
        .as_i64()
        .unwrap();
    app.put_json(
        &format!("/api/v2/users/{sam}/contact_roles.json"),
        json!({"contact_roles": ["project_lead"]}),
    )
    .await;
    // An admin's edit of the template is what goes out.
    app.put_json(
        "/api/v2/templates/welcome.json",
        json!({"template": {"subject": "Welcome aboard, {{ account.name }} ({{ account.tier }})"}}),
    )
    .await;
    let p = app.post_json("/api/v2/projects.json", body).await["project"].clone();
    let outbox = app.get_json("/api/v2/outbox.json?kind=email").await;
    let mails: Vec<&Value> = outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["payload"]["project_id"] == p["id"])
        .collect();
    assert_eq!(mails.len(), 1, "{outbox}");
    let mail = &mails[0]["payload"];
    assert_eq!(mail["to"], "sam@welcome.example");
    assert_eq!(mail["subject"], "Welcome aboard, Welcome Co (starter)");
    let text = mail["text"].as_str().unwrap();
    assert!(text.starts_with("Hi Sam,"), "{text}");
    assert!(text.contains("starts on 2026-12-07"), "{text}");
    assert!(text.contains("Dana Reyes"), "{text}");
}

#[tokio::test]
async fn success_criteria_are_judged_after_go_live() {
    let t0 = parse_rfc3339("2026-12-01T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Live Co", false).await;
    let owner = csm(&app, "Dana Reyes").await;
    let id = project(&app, org, owner, "2026-12-07").await["id"]
        .as_i64()
        .unwrap();
    let live = by_key(
        &app.get_json(&format!("/api/v2/projects/{id}/milestones.json"))
            .await["milestones"],
        "live",
    )["id"]
        .as_i64()
        .unwrap();
    // Live on 11 Jan, one day before the 12 Jan target.
    app.clock
        .set(parse_rfc3339("2027-01-11T18:00:00Z").unwrap());
    app.put_json(
        &format!("/api/v2/projects/{id}/milestones/{live}.json"),
        json!({"milestone": {"status": "completed"}}),
    )
    .await;
    // A ticket after go-live, solved in 2 hours.
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let t = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Report question", "comment": {"body": "?"}, "requester_id": customer}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();
    app.clock
        .set(parse_rfc3339("2027-01-11T20:00:00Z").unwrap());
    app.put_json(
        &format!("/api/v2/tickets/{t}.json"),
        json!({"ticket": {"status": "solved", "comment": {"body": "Answered.", "public": true}}}),
    )
    .await;
    let p = app.get_json(&format!("/api/v2/projects/{id}.json")).await["project"].clone();
    assert_eq!(p["actual_go_live"], "2027-01-11");
    let c = |k: &str| {
        p["success_criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(c("go_live_on_time")["status"], "met");
    assert_eq!(c("no_critical_issues")["status"], "met");
    assert_eq!(c("resolution_time")["status"], "met");
    assert!(
        c("resolution_time")["evidence"]
            .as_str()
            .unwrap()
            .starts_with("2.0 h average over 1"),
        "{}",
        c("resolution_time")
    );
    assert_eq!(c("adoption")["status"], "pending");
    assert_eq!(c("nps")["status"], "pending");
    assert_eq!(c("expansion")["status"], "pending");
}
