//! Weekly status reports (issue 4; policies.md §15): a seeded project's
//! report compared with golden HTML and Markdown files, the review and send
//! through the outbox, the Friday draft, and `steward report status`.
//!
//! Set `STEWARD_UPDATE_GOLDEN=1` to rewrite the golden files after an
//! intended change, and review the diff.

use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::time::parse_rfc3339;
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

/// The seeded project: Northwind's implementation started Monday 7 Dec
/// 2026; the report is for the week ending Friday 18 Dec (day 10).
struct Seeded {
    app: TestApp,
    org: i64,
    id: i64,
}

async fn seed() -> Seeded {
    let app = spawn_app_with_clock(Clock::fixed(at("2026-12-01T15:00:00Z"))).await;
    app.put_json(
        "/api/v2/calendars/business",
        json!({"calendar": {"holidays": ["2026-12-25", "2027-01-01"]}}),
    )
    .await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Northwind Freight", "acv_cents": 15_000_000, "industry": "logistics"}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let user = |name: &str, email: &str, role: &str, org: Option<i64>| json!({"user": {"name": name, "email": email, "role": role, "organization_id": org}});
    let dana = app
        .post_json(
            "/api/v2/users.json",
            user("Dana Reyes", "dana@vendor.example", "csm", None),
        )
        .await["user"]["id"]
        .as_i64()
        .unwrap();
    let lee = app
        .post_json(
            "/api/v2/users.json",
            user("Lee Park", "lee@vendor.example", "agent", None),
        )
        .await["user"]["id"]
        .as_i64()
        .unwrap();
    let sam = app
        .post_json(
            "/api/v2/users.json",
            user("Sam Okafor", "sam@northwind.example", "end-user", Some(org)),
        )
        .await["user"]["id"]
        .as_i64()
        .unwrap();
    app.put_json(
        &format!("/api/v2/users/{sam}/contact_roles.json"),
        json!({"contact_roles": ["executive_sponsor"]}),
    )
    .await;
    let id = app
        .post_json(
            "/api/v2/projects.json",
            json!({"project": {"organization_id": org, "name": "Northwind rollout", "start_date": "2026-12-07",
                "owner_id": dana, "assignments": {"engineering": lee}, "budget": 6_000_000, "spend": 2_100_000,
                "technical_blockers": "Legacy TMS export lacks delivery timestamps"}}),
        )
        .await["project"]["id"]
        .as_i64()
        .unwrap();
    let tasks = app
        .get_json(&format!("/api/v2/projects/{id}/tasks.json"))
        .await["tasks"]
        .clone();
    let task = |key: &str| {
        tasks
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["plan_key"] == key)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let set_status = |key: &str, status: &str| {
        let path = format!("/api/v2/projects/{id}/tasks/{}.json", task(key));
        let body = json!({"task": {"status": status}});
        let app = &app;
        async move {
            app.put_json(&path, body).await;
        }
    };
    // Week 1 (7–11 Dec): planning done, environments provisioned.
    app.clock.set(at("2026-12-10T20:00:00Z"));
    for k in [
        "kickoff_meeting",
        "assessment_call",
        "assessment_doc",
        "plan_sign",
        "environments",
    ] {
        set_status(k, "completed").await;
    }
    // Week 2 (14–18 Dec): design, foundation, business logic; the pipeline is blocked.
    app.clock.set(at("2026-12-16T18:00:00Z"));
    for k in ["design_session", "foundation_build", "configure_logic"] {
        set_status(k, "completed").await;
    }
    set_status("pipeline", "blocked").await;
    let risks = format!("/api/v2/projects/{id}/risks.json");
    app.post_json(&risks, json!({"risk": {"type": "technical", "title": "TMS export rate limits", "probability": "high",
        "impact": "high", "mitigation": "Nightly batch export", "owner_id": lee}}))
        .await;
    app.post_json(
        &risks,
        json!({"risk": {"type": "organizational", "title": "Data owner on leave 21–24 Dec",
        "probability": "medium", "impact": "medium", "status": "escalated", "owner_id": dana}}),
    )
    .await;
    let fixed = app
        .post_json(&risks, json!({"risk": {"type": "timeline", "title": "SSO certificate pending", "probability": "low",
            "impact": "medium", "owner_id": dana}}))
        .await["risk"]["id"]
        .as_i64()
        .unwrap();
    app.put_json(
        &format!("/api/v2/projects/{id}/risks/{fixed}.json"),
        json!({"risk": {"status": "resolved"}}),
    )
    .await;
    app.post_json(
        &format!("/api/v2/projects/{id}/decisions.json"),
        json!({"decision": {"title": "Weekend data load", "decision": "Load on Saturday 19 Dec",
            "rationale": "Source freeze on weekdays", "decided_by": "Dana Reyes and Sam Okafor", "timeline_impact_days": 1}}),
    )
    .await;
    for (role, hours, day) in [
        ("csm", 30.0, "2026-12-09"),
        ("csm", 32.0, "2026-12-16"),
        ("engineering", 14.5, "2026-12-15"),
        ("project_lead", 18.0, "2026-12-16"),
    ] {
        app.post_json(
            &format!("/api/v2/projects/{id}/hours.json"),
            json!({"hours": {"role": role, "hours": hours, "logged_on": day}}),
        )
        .await;
    }
    app.post_json(
        &format!("/api/v2/projects/{id}/opportunities.json"),
        json!({"opportunity": {"title": "Warehouse module", "arr": 4_500_000, "effort": "medium", "probability": 40}}),
    )
    .await;
    app.post_json(
        &format!("/api/v2/organizations/{org}/measurements.json"),
        json!({"measurements": [
            {"metric": "system_performance", "field": "uptime_pct", "value": 99.95, "measured_at": "2026-12-09T07:00:00Z"},
            {"metric": "system_performance", "field": "uptime_pct", "value": 99.97, "measured_at": "2026-12-15T07:00:00Z"},
            {"metric": "system_performance", "field": "uptime_pct", "value": 99.91, "measured_at": "2026-12-16T07:00:00Z"},
            {"metric": "user_adoption", "field": "training_completion_pct", "value": 20, "measured_at": "2026-12-10T19:00:00Z"},
            {"metric": "user_adoption", "field": "training_completion_pct", "value": 35, "measured_at": "2026-12-16T19:00:00Z"},
            {"metric": "data_quality", "field": "validation_pass_rate_pct", "value": 97.2, "measured_at": "2026-12-16T19:00:00Z"},
        ]}),
    )
    .await;
    // Two tickets this week, one solved.
    for (subject, solve) in [("Import mapping question", true), ("SSO login loop", false)] {
        let t = app
            .post_json(
                "/api/v2/tickets.json",
                json!({"ticket": {"subject": subject, "comment": {"body": "details"}, "requester_id": sam}}),
            )
            .await["ticket"]["id"]
            .as_i64()
            .unwrap();
        if solve {
            app.put_json(
                &format!("/api/v2/tickets/{t}.json"),
                json!({"ticket": {"status": "solved", "comment": {"body": "Mapped.", "public": true}}}),
            )
            .await;
        }
    }
    app.clock.set(at("2026-12-18T19:00:00Z"));
    Seeded { app, org, id }
}

fn golden(name: &str, got: &str) {
    let path = format!("{}/tests/api/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var("STEWARD_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(format!("{}/tests/api/golden", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} is missing: run with STEWARD_UPDATE_GOLDEN=1"));
    if want != got {
        let line = want
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(got.lines().count()));
        panic!(
            "{name} differs from the golden file at line {}:\n want: {:?}\n  got: {:?}\n(run with STEWARD_UPDATE_GOLDEN=1 to accept)",
            line + 1,
            want.lines().nth(line),
            got.lines().nth(line)
        );
    }
}

async fn render(app: &TestApp, path: &str, format: &str) -> (String, String) {
    let resp = app
        .admin(Method::GET, &format!("{path}/render?format={format}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    (ct, resp.text().await.unwrap())
}

#[tokio::test]
async fn the_weekly_report_of_a_seeded_project_matches_the_golden_files() {
    let Seeded { app, id, .. } = seed().await;
    let made = app
        .post_json(
            &format!("/api/v2/projects/{id}/status_reports.json"),
            json!({"status_report": {"week_ending": "2026-12-18"}}),
        )
        .await["status_report"]
        .clone();
    assert_eq!(made["state"], "draft");
    let r = &made["report"];
    // Every figure computed from the seeded data.
    assert_eq!(r["header"]["day"], 10);
    assert_eq!(
        r["header"]["recipient"],
        "Sam Okafor <sam@northwind.example>"
    );
    assert_eq!(r["header"]["prepared_by"], "Dana Reyes");
    assert_eq!(r["summary"]["planned_pct"], 33.3);
    assert_eq!(r["summary"]["actual_pct"], 32.0, "8 of 25 tasks");
    assert_eq!(r["summary"]["health"], "YELLOW", "milestones overdue");
    assert_eq!(r["summary"]["budget_spent_pct"], 35.0);
    assert_eq!(
        r["accomplished"]["tasks_completed"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        r["accomplished"]["blockers_resolved"],
        json!(["SSO certificate pending"])
    );
    assert_eq!(r["risks"]["red"][0]["title"], "TMS export rate limits");
    assert_eq!(r["risks"]["yellow"][0]["status"], "escalated");
    assert_eq!(r["expansion"]["pipeline_cents"], 4_500_000);
    assert_eq!(r["expansion"]["weighted_cents"], 1_800_000);
    assert_eq!(r["facts"]["tickets_resolved"], 1);
    assert_eq!(r["facts"]["tickets_open"], 1);
    assert_eq!(r["facts"]["hours_this_week"], 64.5);
    assert_eq!(r["facts"]["hours_actual"], 94.5);
    assert_eq!(r["facts"]["training_pct"], 35.0);
    let uptime = r["appendix"]["performance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Uptime (%)")
        .unwrap()
        .clone();
    assert_eq!(uptime["value"], 99.94, "mean of 99.97 and 99.91");
    assert_eq!(uptime["last_week"], 99.95);
    assert!(
        r["summary"]["critical_blockers"]
            .to_string()
            .contains("Blocked: Bring the data pipeline live in test")
    );

    let path = format!("/api/v2/projects/{id}/status_reports/{}", made["id"]);
    let (ct, html) = render(&app, &path, "html").await;
    assert!(ct.starts_with("text/html"));
    golden("status_report.html", &html);
    let (ct, md) = render(&app, &path, "markdown").await;
    assert!(ct.starts_with("text/markdown"));
    golden("status_report.md", &md);
    let (_, text) = render(&app, &path, "text").await;
    assert!(text.contains("1. Executive summary") && text.contains("7. Appendices"));

    // The CLI prints the same stored report.
    let out = Command::new(BIN)
        .args([
            "report",
            "status",
            "--project",
            &id.to_string(),
            "--week-ending",
            "2026-12-18",
        ])
        .args(["--database-url", &app.db_url])
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), md);
    let out = Command::new(BIN)
        .args([
            "report",
            "status",
            "--project",
            "999999",
            "--week-ending",
            "2026-12-18",
        ])
        .args(["--database-url", &app.db_url])
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no project"));
    let out = Command::new(BIN)
        .args([
            "report",
            "status",
            "--project",
            "1",
            "--week-ending",
            "18/12/2026",
        ])
        .args(["--database-url", &app.db_url])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn a_draft_is_reviewed_and_sent_once_through_the_outbox() {
    let Seeded { app, id, org } = seed().await;
    let base = format!("/api/v2/projects/{id}/status_reports");
    let made = app
        .post_json(
            &format!("{base}.json"),
            json!({"status_report": {"week_ending": "2026-12-18"}}),
        )
        .await["status_report"]
        .clone();
    let rid = made["id"].as_i64().unwrap();
    // The CSM adds a note and a decision to ask for.
    let edited = app
        .put_json(
            &format!("{base}/{rid}.json"),
            json!({"status_report": {"notes": {"summary": "Good week despite the TMS export.",
                "decision_needed": "Approve the nightly batch export by Tuesday."}}}),
        )
        .await;
    assert_eq!(
        edited["status_report"]["notes"]["summary"],
        "Good week despite the TMS export."
    );
    let (_, md) = render(&app, &format!("{base}/{rid}"), "markdown").await;
    assert!(md.contains("> Good week despite the TMS export."));
    assert!(md.contains("**Decision needed:** Approve the nightly batch export by Tuesday."));
    // Regenerating a draft refreshes the figures and keeps the notes.
    let again = app
        .post_json(
            &format!("{base}.json"),
            json!({"status_report": {"week_ending": "2026-12-18"}}),
        )
        .await["status_report"]
        .clone();
    assert_eq!(again["id"], rid);
    assert_eq!(
        again["notes"]["decision_needed"],
        "Approve the nightly batch export by Tuesday."
    );
    // Bad recipients are refused.
    let resp = app
        .admin(Method::PUT, &format!("{base}/{rid}.json"))
        .json(&json!({"status_report": {"recipient": "not an address"}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 422).await;

    let resp = app
        .admin(Method::POST, &format!("{base}/{rid}/send.json"))
        .send()
        .await
        .unwrap();
    let sent = json_of(resp, 200).await;
    assert_eq!(sent["status_report"]["state"], "sent");
    assert_eq!(sent["status_report"]["recipient"], "sam@northwind.example");
    let outbox = app.get_json("/api/v2/outbox.json?kind=email").await;
    let mails: Vec<&Value> = outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["payload"]["status_report_id"] == rid)
        .collect();
    assert_eq!(mails.len(), 1, "{outbox}");
    let mail = &mails[0]["payload"];
    assert_eq!(mail["to"], "sam@northwind.example");
    // The covering note is the weekly status template of §16.
    assert_eq!(
        mail["subject"],
        "Northwind rollout weekly status: YELLOW (week ending 2026-12-18)"
    );
    let text = mail["text"].as_str().unwrap();
    assert!(text.starts_with("Hi Sam,"), "{text}");
    assert!(
        text.contains("day 10 of 30, Data migration & setup"),
        "{text}"
    );
    assert!(text.contains("Good week despite the TMS export."), "{text}");
    assert!(text.contains("/status_reports/"), "{text}");
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains("<h2 style=\"font-size: 18px;\">4. Blockers and risks</h2>")
    );
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("Approve the nightly batch export")
    );
    // Sent reports are frozen: no second send, no edits, no regeneration.
    let resp = app
        .admin(Method::POST, &format!("{base}/{rid}/send.json"))
        .send()
        .await
        .unwrap();
    json_of(resp, 409).await;
    let resp = app
        .admin(Method::PUT, &format!("{base}/{rid}.json"))
        .json(&json!({"status_report": {"notes": {"summary": "x"}}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 409).await;
    let resp = app
        .admin(Method::POST, &format!("{base}.json"))
        .json(&json!({"status_report": {"week_ending": "2026-12-18"}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 409).await;
    let list = app.get_json(&format!("{base}.json")).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["status_reports"][0]["health"], "YELLOW");

    // The account timeline tells the project's story with the rest.
    let timeline = app
        .get_json(&format!("/api/v2/organizations/{org}/timeline.json"))
        .await;
    let kinds: Vec<&str> = timeline["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for k in [
        "status_report_sent",
        "milestone_completed",
        "risk_identified",
        "risk_resolved",
        "task_completed",
        "ticket_solved",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert_eq!(kinds[0], "status_report_sent", "newest first");
}

#[tokio::test]
async fn friday_drafts_are_made_once_with_a_review_task() {
    let Seeded { app, id, org } = seed().await;
    // Thursday: nothing. Friday 08:59 New York: nothing. 09:00: the draft.
    assert_eq!(
        app.store
            .make_friday_drafts(at("2026-12-17T20:00:00Z"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.store
            .make_friday_drafts(at("2026-12-18T13:59:00Z"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.store
            .make_friday_drafts(at("2026-12-18T14:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        app.store
            .make_friday_drafts(at("2026-12-18T16:00:00Z"))
            .await
            .unwrap(),
        0
    );
    let list = app
        .get_json(&format!("/api/v2/projects/{id}/status_reports.json"))
        .await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["status_reports"][0]["week_ending"], "2026-12-18");
    assert_eq!(list["status_reports"][0]["state"], "draft");
    let tasks = app
        .get_json(&format!("/api/v2/tasks.json?organization_id={org}"))
        .await;
    let review: Vec<&Value> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"] == "Review and send the weekly status report of Northwind rollout")
        .collect();
    assert_eq!(review.len(), 1);
    assert_eq!(
        review[0]["due_at"], "2026-12-18T20:00:00Z",
        "15:00 in New York"
    );
    // Cancelled projects get no drafts.
    app.put_json(
        &format!("/api/v2/projects/{id}.json"),
        json!({"project": {"status": "cancelled"}}),
    )
    .await;
    assert_eq!(
        app.store
            .make_friday_drafts(at("2026-12-25T15:00:00Z"))
            .await
            .unwrap(),
        0
    );
}
