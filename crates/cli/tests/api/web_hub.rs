//! The customer pages over HTTP (issue 6): the accounts list and the
//! account 360 (contract, contacts, health with its evidence, forms), the
//! projects list and the project page (milestone chart, tasks, risks), and
//! a weekly status report reviewed and sent once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::{
    helpers::{TestApp, now, spawn_app_with_clock},
    web::{PASSWORD, Web, admin_with_password, csrf_in},
};

pub struct Seeded {
    pub app: TestApp,
    pub org: i64,
    pub project: i64,
}

/// Northwind with a contract, two contacts, a flag, a project from the
/// 30-day template (started Monday 7 Dec 2026; today is 10 Dec) and a risk.
pub async fn seed() -> Seeded {
    let app =
        spawn_app_with_clock(Clock::fixed(parse_rfc3339("2026-12-10T15:00:00Z").unwrap())).await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Northwind Freight", "acv_cents": 15_000_000, "industry": "logistics",
                "contract_start": "2026-01-01", "contract_end": "2027-12-31", "renewal_date": "2027-10-01",
                "expansion_potential_cents": 4_000_000, "account_status": "onboarding"}}),
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
    let sam = app
        .post_json(
            "/api/v2/users.json",
            user("Sam Okafor", "sam@northwind.example", "end-user", Some(org)),
        )
        .await["user"]["id"]
        .as_i64()
        .unwrap();
    app.post_json(
        "/api/v2/users.json",
        user("Rita Ng", "rita@northwind.example", "end-user", Some(org)),
    )
    .await;
    app.put_json(
        &format!("/api/v2/users/{sam}/contact_roles.json"),
        json!({"contact_roles": ["executive_sponsor"]}),
    )
    .await;
    app.post_json(
        &format!("/api/v2/organizations/{org}/risk_flags.json"),
        json!({"risk_flag": {"factor": "budget_cuts", "note": "CFO announced a 10% cut in Q1"}}),
    )
    .await;
    let project = app
        .post_json(
            "/api/v2/projects.json",
            json!({"project": {"organization_id": org, "name": "Northwind rollout", "start_date": "2026-12-07",
                "owner_id": dana, "budget": 6_000_000, "spend": 2_100_000}}),
        )
        .await["project"]["id"]
        .as_i64()
        .unwrap();
    app.post_json(
        &format!("/api/v2/projects/{project}/risks.json"),
        json!({"risk": {"type": "technical", "title": "TMS export rate limits", "probability": "high", "impact": "medium",
            "mitigation": "Nightly batch export"}}),
    )
    .await;
    app.post_json(
        "/api/v2/feedback_items.json",
        json!({"feedback_item": {"source": "qbr_cab", "category": "product", "sentiment": "neutral",
            "text": "Bulk export of delivery events", "organization_id": org}}),
    )
    .await;
    Seeded { app, org, project }
}

async fn admin_web(app: &TestApp) -> (Web, String) {
    admin_with_password(app).await;
    let mut web = Web::new(app);
    let csrf = web.sign_in(&app.admin_email, PASSWORD).await;
    (web, csrf)
}

async fn web_as(app: &TestApp, role: Role) -> (Web, String) {
    let (id, email, _) = app.user_with_token(role, None).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut web = Web::new(app);
    let csrf = web.sign_in(&email, PASSWORD).await;
    (web, csrf)
}

#[tokio::test]
async fn the_account_360_shows_contract_contacts_and_explained_health() {
    let Seeded { app, org, project } = seed().await;
    let (mut web, _) = admin_web(&app).await;

    let (status, html, _) = web.get("/accounts").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<title>Accounts · Steward</title>"));
    assert!(html.contains(&format!("href=\"/accounts/{org}\">Northwind Freight</a>")));
    assert!(html.contains("$150,000"), "ACV in the list");
    assert!(html.contains("Dana Reyes"), "the CSM is the project owner");
    // Filters: by name, tier and level.
    let (_, html, _) = web.get("/accounts?q=north&tier=enterprise").await;
    assert!(html.contains("Northwind Freight"));
    let (_, html, _) = web.get("/accounts?q=zzz").await;
    assert!(html.contains("No account matches"));
    let (_, html, _) = web.get("/accounts?tier=starter").await;
    assert!(!html.contains("Northwind Freight"));
    let level = app
        .get_json(&format!("/api/v2/organizations/{org}/health.json"))
        .await["health"]["level"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html, _) = web.get(&format!("/accounts?level={level}")).await;
    assert!(html.contains("Northwind Freight"), "level {level}");
    let other = if level == "red" { "green" } else { "red" };
    let (_, html, _) = web.get(&format!("/accounts?level={other}")).await;
    assert!(!html.contains("Northwind Freight"));
    let (status, _, _) = web.get("/accounts?page=0x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = web.get("/accounts?tier=platinum").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = web.get("/accounts?level=purple").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, html, _) = web.get(&format!("/accounts/{org}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<title>Northwind Freight · Steward</title>"));
    assert_eq!(html.matches("<h1").count(), 1);
    // Contract (§1).
    for needle in [
        "Contract",
        "$150,000",
        "2026-01-01",
        "2027-12-31",
        "2027-10-01",
        "$40,000",
        "$12,500",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    // Contacts with their roles.
    assert!(html.contains("Sam Okafor") && html.contains("executive sponsor"));
    assert!(html.contains("Rita Ng"));
    // Health with every factor's points and evidence.
    let health = app
        .get_json(&format!("/api/v2/organizations/{org}/health.json"))
        .await["health"]
        .clone();
    let factors = health["explanation"]["factors"].as_array().unwrap();
    assert!(!factors.is_empty());
    for f in factors {
        let label = f["label"].as_str().unwrap();
        let evidence = f["evidence"].as_str().unwrap();
        assert!(html.contains(&html_escape(label)), "{label}");
        assert!(html.contains(&html_escape(evidence)), "{evidence}");
        assert!(html.contains(&format!("{:+}", f["points"].as_i64().unwrap())));
    }
    assert!(
        html.contains("CFO announced a 10% cut in Q1"),
        "the flag's note"
    );
    assert!(html.contains(&format!(
        "Health: {} / 100",
        health["health_score"].as_i64().unwrap()
    )));
    // Projects and the forms staff may use.
    assert!(html.contains(&format!(
        "href=\"/projects/{project}\">Northwind rollout</a>"
    )));
    assert!(html.contains("Log a communication"));
    assert!(html.contains("Set a risk flag"));

    let (status, _, _) = web.get(&format!("/accounts/{org}?before=yesterday")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = web.get(&format!("/accounts/{org}?before=1")).await;
    assert_eq!(status, StatusCode::OK);

    // Unknown and malformed ids are 404.
    for path in ["/accounts/999999", "/accounts/abc", "/accounts/0"] {
        let (status, _, _) = web.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

#[tokio::test]
async fn contractors_never_see_contract_fields_and_cannot_flag() {
    let Seeded { app, org, project } = seed().await;
    let rid = app
        .post_json(
            &format!("/api/v2/projects/{project}/status_reports.json"),
            json!({"status_report": {"week_ending": "2026-12-11"}}),
        )
        .await["status_report"]["id"]
        .as_i64()
        .unwrap();
    let (mut web, csrf) = web_as(&app, Role::Contractor).await;
    let (status, html, _) = web.get("/accounts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Northwind Freight"));
    assert!(!html.contains("$150,000") && !html.contains("Renewal"));
    let (status, html, _) = web.get(&format!("/accounts/{org}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for needle in [
        "$150,000",
        "2027-10-01",
        "2027-12-31",
        "$40,000",
        "ACV",
        "Contract start",
        "Renewal",
    ] {
        assert!(!html.contains(needle), "a contractor sees {needle}");
    }
    assert!(html.contains("Sam Okafor"), "contacts are not commercial");
    assert!(!html.contains("Set a risk flag"));
    let (status, _, _) = web
        .post(
            &format!("/accounts/{org}/risk_flags"),
            &[("csrf", &csrf), ("factor", "budget_cuts"), ("note", "nope")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The project without its money, and no status reports (they carry
    // budget and expansion ARR).
    let (status, html, _) = web.get(&format!("/projects/{project}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("svg class=\"chart gantt\""));
    assert!(!html.contains("$60,000") && !html.contains("$21,000"));
    assert!(!html.contains("Weekly status reports"));
    let report = format!("/projects/{project}/status_reports/{rid}");
    let (status, _, _) = web.get(&report).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = web
        .post(&format!("{report}/send"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn staff_log_communications_and_set_flags_through_checked_forms() {
    let Seeded { app, org, .. } = seed().await;
    let (mut web, csrf) = admin_web(&app).await;
    let path = format!("/accounts/{org}/communications");

    // Without the CSRF token nothing happens.
    let (status, _, _) = web
        .post(&path, &[("type", "call"), ("topic", "Forged")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A missing topic re-renders the form with the error next to the field.
    let (status, html, _) = web
        .post(
            &path,
            &[("csrf", &csrf), ("type", "call"), ("summary", "kept text")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-topic\""), "{html}");
    assert!(html.contains("kept text"));
    let (status, _, _) = web
        .post(
            &path,
            &[("csrf", &csrf), ("type", "carrier-pigeon"), ("topic", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = web
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("type", "call"),
                ("topic", "x"),
                ("follow_up_date", "soon"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, _, location) = web
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("type", "meeting"),
                ("topic", "QBR <prep>"),
                ("summary", "Agreed the Q1 goals"),
                ("attendees", "Sam Okafor, Dana Reyes"),
                ("sentiment", "positive"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(format!("/accounts/{org}?done=communication#communications").as_str())
    );
    let logged = app
        .get_json(&format!("/api/v2/organizations/{org}/communications.json"))
        .await;
    assert_eq!(logged["count"], 1);
    assert_eq!(
        logged["communications"][0]["attendees"],
        json!(["Sam Okafor", "Dana Reyes"])
    );
    let (_, html, _) = web
        .get(&format!("/accounts/{org}?done=communication"))
        .await;
    assert!(html.contains("QBR &lt;prep&gt;"), "escaped");
    assert!(html.contains("The communication was logged."));

    // A flag with a note and expiry moves the score; bad input is refused.
    let before = app
        .get_json(&format!("/api/v2/organizations/{org}/health.json"))
        .await["health"]["risk_score"]
        .as_i64()
        .unwrap();
    let flags = format!("/accounts/{org}/risk_flags");
    let (status, html, _) = web
        .post(&flags, &[("csrf", &csrf), ("factor", "sponsor_departed")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-note\""));
    let (status, _, _) = web
        .post(
            &flags,
            &[
                ("csrf", &csrf),
                ("factor", "sponsor_departed"),
                ("note", "Ana left"),
                ("expires_on", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = web
        .post(
            &flags,
            &[("csrf", &csrf), ("factor", "no_such_factor"), ("note", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = web
        .post(
            &flags,
            &[
                ("csrf", &csrf),
                ("factor", "sponsor_departed"),
                ("note", "Ana left on 20 Nov"),
                ("expires_on", "2027-03-31"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = app
        .get_json(&format!("/api/v2/organizations/{org}/health.json"))
        .await["health"]
        .clone();
    assert!(after["risk_score"].as_i64().unwrap() > before);
    assert!(
        after["explanation"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["key"] == "sponsor_departed" && f["points"] == 30),
        "{after}"
    );
    let flag = after["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["factor"] == "sponsor_departed")
        .unwrap()
        .clone();
    assert_eq!(flag["expires_at"], "2027-03-31T23:59:59Z");
    let (_, html, _) = web.get(&format!("/accounts/{org}")).await;
    assert!(html.contains("Ana left on 20 Nov"));
    // Clearing it.
    let (status, _, _) = web
        .post(
            &format!("/accounts/{org}/risk_flags/{}/clear", flag["id"]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = web
        .post(
            &format!("/accounts/{org}/risk_flags/{}/clear", flag["id"]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = web
        .post(
            "/accounts/999999/communications",
            &[("csrf", &csrf), ("type", "call"), ("topic", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_project_page_draws_milestones_and_lists_tasks_and_risks() {
    let Seeded { app, project, .. } = seed().await;
    let (mut web, csrf) = admin_web(&app).await;

    let (status, html, _) = web.get("/projects").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!(
        "href=\"/projects/{project}\">Northwind rollout</a>"
    )));
    assert!(html.contains("Northwind Freight") && html.contains("Dana Reyes"));
    assert!(html.contains("on-track") || html.contains("at-risk") || html.contains("delayed"));
    let (status, _, _) = web.get("/projects?status=sleeping").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, html, _) = web.get(&format!("/projects/{project}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(html.matches("<h1").count(), 1);
    let ms = app
        .get_json(&format!("/api/v2/projects/{project}/milestones.json"))
        .await["milestones"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(ms, 20);
    let svg_at = html
        .find("<svg class=\"chart gantt\" role=\"img\"")
        .expect("the chart");
    let svg = &html[svg_at..svg_at + html[svg_at..].find("</svg>").unwrap()];
    assert!(svg.contains("<title id=\"chart-title\">Milestones of Northwind rollout</title>"));
    assert_eq!(
        svg.matches("<rect class=\"bar ").count(),
        ms,
        "one bar per milestone"
    );
    assert!(svg.contains("class=\"today\""), "today is inside the plan");
    assert!(svg.contains("Kickoff"));

    let tasks = app
        .get_json(&format!("/api/v2/projects/{project}/tasks.json"))
        .await["tasks"]
        .clone();
    let tasks = tasks.as_array().unwrap();
    for t in tasks.iter().take(5) {
        assert!(html.contains(&html_escape(t["title"].as_str().unwrap())));
    }
    let blocked = tasks
        .iter()
        .find(|t| !t["blocked_by"].as_array().unwrap().is_empty())
        .expect("a task waiting on another");
    let row_at = html
        .find(&format!("id=\"task-{}\"", blocked["id"]))
        .unwrap();
    assert!(
        html[row_at..].starts_with(&format!("id=\"task-{}\" class=\"blocked\"", blocked["id"]))
    );
    assert!(html.contains("Blocked by"));
    assert!(html.contains("TMS export rate limits"));
    assert!(
        html.contains("rag-red") && html.contains(">6<"),
        "score 3×2 = 6, red"
    );
    assert!(html.contains("Go-live readiness"));
    assert!(html.contains("Hours: budget vs actual"));
    assert!(html.contains("$60,000"), "the budget");

    // Completing a task and reopening it.
    let first = tasks
        .iter()
        .find(|t| t["blocked_by"].as_array().unwrap().is_empty() && t["status"] != "completed")
        .unwrap();
    let tid = first["id"].as_i64().unwrap();
    let path = format!("/projects/{project}/tasks/{tid}/status");
    let (status, _, _) = web.post(&path, &[("status", "completed")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "CSRF required");
    let (status, _, _) = web
        .post(&path, &[("csrf", &csrf), ("status", "done-ish")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = web
        .post(&path, &[("csrf", &csrf), ("status", "completed")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app
        .get_json(&format!("/api/v2/projects/{project}/tasks/{tid}.json"))
        .await;
    assert_eq!(t["task"]["status"], "completed");
    let (status, _, _) = web
        .post(&path, &[("csrf", &csrf), ("status", "in-progress")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app
        .get_json(&format!("/api/v2/projects/{project}/tasks/{tid}.json"))
        .await;
    assert_eq!(t["task"]["status"], "in-progress");

    // Ticking a manual readiness item.
    let checklist = app
        .get_json(&format!("/api/v2/projects/{project}/checklist.json"))
        .await["checklist"]
        .clone();
    let manual = checklist
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "manual" && c["green"] == false)
        .expect("a manual item")
        .clone();
    let key = manual["key"].as_str().unwrap();
    let (_, html, _) = web.get(&format!("/projects/{project}")).await;
    assert!(html.contains(&format!("action=\"/projects/{project}/checklist/{key}\"")));
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/checklist/{key}"),
            &[("csrf", &csrf), ("green", "maybe")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/checklist/{key}"),
            &[("csrf", &csrf), ("green", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let checklist = app
        .get_json(&format!("/api/v2/projects/{project}/checklist.json"))
        .await["checklist"]
        .clone();
    assert!(
        checklist
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["key"] == key && c["green"] == true)
    );
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/checklist/no_such_item"),
            &[("csrf", &csrf), ("green", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A handoff: sign-off refused while items are open, then ticked and signed.
    let handoffs = app
        .get_json(&format!("/api/v2/projects/{project}/handoffs.json"))
        .await["handoffs"]
        .clone();
    let first = &handoffs[0];
    let hid = first["id"].as_i64().unwrap();
    let n = first["checklist"].as_array().unwrap().len();
    let hpath = format!("/projects/{project}/handoffs/{hid}");
    let (status, _, _) = web
        .post(&hpath, &[("csrf", &csrf), ("sign_off", "1")])
        .await;
    assert!(status.is_client_error(), "{status}");
    let (status, _, _) = web.post(&hpath, &[("csrf", &csrf), ("done", "99")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let indexes: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("note", "All set"), ("sign_off", "1")];
    form.extend(indexes.iter().map(|i| ("done", i.as_str())));
    let (status, body, _) = web.post(&hpath, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let handoffs = app
        .get_json(&format!("/api/v2/projects/{project}/handoffs.json"))
        .await["handoffs"]
        .clone();
    assert_eq!(handoffs[0]["signed_off"], true);
    assert_eq!(handoffs[0]["note"], "All set");

    for path in [
        "/projects/999999",
        "/projects/x",
        &format!("/projects/{project}/status_reports/999999"),
    ] {
        let (status, _, _) = web.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/tasks/999999/status"),
            &[("csrf", &csrf), ("status", "completed")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The project page's forms: a risk added and moved along its workflow, a
/// decision recorded (a level below what its impact needs refused), hours
/// logged against a role of the plan; each refusal a 4xx that stores
/// nothing, and a viewer refused every one.
#[tokio::test]
async fn risks_decisions_and_hours_are_recorded_from_the_project_page() {
    let Seeded { app, project, .. } = seed().await;
    let (mut web, csrf) = admin_web(&app).await;
    let page = format!("/projects/{project}");
    let (_, html, _) = web.get(&page).await;
    for summary in ["Add a risk", "Record a decision", "Log hours"] {
        assert!(
            html.contains(&format!("<summary>{summary}</summary>")),
            "{summary}"
        );
    }
    let count = |v: Value, key: &str| v[key].as_array().unwrap().len();
    let risks_before = count(
        app.get_json(&format!("/api/v2/projects/{project}/risks.json"))
            .await,
        "risks",
    );

    // A risk: refused without a title or with an unknown type, then added.
    let path = format!("/projects/{project}/risks");
    for bad in [
        vec![
            ("type", "technical"),
            ("probability", "high"),
            ("impact", "high"),
        ],
        vec![
            ("title", "X"),
            ("type", "cosmic"),
            ("probability", "high"),
            ("impact", "high"),
        ],
        vec![
            ("title", "X"),
            ("type", "technical"),
            ("probability", "certain"),
            ("impact", "high"),
        ],
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(bad);
        let (status, html, _) = web.post(&path, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    }
    let (status, _, _) = web
        .post(
            &path,
            &[
                ("title", "No CSRF"),
                ("type", "budget"),
                ("probability", "low"),
                ("impact", "low"),
            ],
        )
        .await;
    assert!(status.is_client_error());
    let (status, body, location) = web
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("title", "Customer IT freeze in December"),
                ("type", "timeline"),
                ("probability", "high"),
                ("impact", "medium"),
                ("mitigation", "Front-load the SSO work"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(&*format!("{page}?done=risk#risks"))
    );
    let risks = app
        .get_json(&format!("/api/v2/projects/{project}/risks.json"))
        .await;
    assert_eq!(count(risks.clone(), "risks"), risks_before + 1);
    let added = risks["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Customer IT freeze in December")
        .unwrap()
        .clone();
    assert_eq!(added["type"], "timeline");
    assert_eq!(added["mitigation"], "Front-load the SSO work");
    let rid = added["id"].as_i64().unwrap();
    let (_, html, _) = web.get(location.as_deref().unwrap()).await;
    assert!(html.contains("Customer IT freeze in December"));
    assert!(html.contains("The risk registry was updated."));
    // Its workflow: escalated, then a status that does not exist.
    let status_path = format!("/projects/{project}/risks/{rid}/status");
    let (status, _, _) = web
        .post(&status_path, &[("csrf", &csrf), ("status", "escalated")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = web
        .post(&status_path, &[("csrf", &csrf), ("status", "forgotten")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/risks/999999/status"),
            &[("csrf", &csrf), ("status", "resolved")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let risks = app
        .get_json(&format!("/api/v2/projects/{project}/risks.json"))
        .await;
    let r = risks["risks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == rid)
        .unwrap();
    assert_eq!(r["status"], "escalated");

    // A decision that moves go-live by 10 days needs more than L1.
    let path = format!("/projects/{project}/decisions");
    let decision = |level: &'static str, days: &'static str| {
        vec![
            ("title", "Phase the rollout"),
            ("decision", "Two waves of depots"),
            ("rationale", "Fewer depots at once"),
            ("decided_by", "Dana Reyes"),
            ("decided_on", "2026-12-01"),
            ("timeline_impact_days", days),
            ("level", level),
        ]
    };
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(decision("L1", "10"));
    let (status, html, _) = web.post(&path, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("level"), "{html}");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(decision("", "ten"));
    let (status, _, _) = web.post(&path, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let decisions = app
        .get_json(&format!("/api/v2/projects/{project}/decisions.json"))
        .await;
    assert_eq!(
        count(decisions, "decisions"),
        0,
        "nothing stored by a refusal"
    );
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(decision("", "10"));
    let (status, body, _) = web.post(&path, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let decisions = app
        .get_json(&format!("/api/v2/projects/{project}/decisions.json"))
        .await;
    assert_eq!(count(decisions.clone(), "decisions"), 1);
    assert_ne!(
        decisions["decisions"][0]["level"], "L1",
        "the level its impact needs"
    );
    assert_eq!(decisions["decisions"][0]["decided_on"], "2026-12-01");
    let (_, html, _) = web.get(&page).await;
    assert!(html.contains("Two waves of depots"));

    // Hours against a role of the plan; another role or 200 hours refused.
    let roles = app
        .get_json(&format!("/api/v2/projects/{project}/hours.json"))
        .await["hours"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["role"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let role = roles.first().expect("the plan budgets roles").clone();
    let path = format!("/projects/{project}/hours");
    for (r, h) in [
        ("Astronaut", "2"),
        (role.as_str(), "200"),
        (role.as_str(), "lots"),
    ] {
        let (status, _, _) = web
            .post(&path, &[("csrf", &csrf), ("role", r), ("hours", h)])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r} {h}");
    }
    let (status, body, _) = web
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("role", &role),
                ("hours", "2.5"),
                ("logged_on", "2026-12-07"),
                ("note", "Kickoff prep"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let entries = app
        .get_json(&format!("/api/v2/projects/{project}/hours.json"))
        .await["hours"]["entries"]
        .clone();
    assert_eq!(entries.as_array().unwrap().len(), 1);
    assert_eq!(entries[0]["hours"], 2.5);
    assert_eq!(entries[0]["role"], role.as_str());

    // A viewer sees no form and is refused each one.
    let (mut viewer, vcsrf) = web_as(&app, Role::Viewer).await;
    let (_, html, _) = viewer.get(&page).await;
    assert!(!html.contains("Add a risk") && !html.contains("Log hours"));
    for (path, form) in [
        (
            format!("/projects/{project}/risks"),
            vec![
                ("title", "V"),
                ("type", "budget"),
                ("probability", "low"),
                ("impact", "low"),
            ],
        ),
        (
            format!("/projects/{project}/hours"),
            vec![("role", role.as_str()), ("hours", "1")],
        ),
        (status_path.clone(), vec![("status", "resolved")]),
    ] {
        let mut f = vec![("csrf", vcsrf.as_str())];
        f.extend(form);
        let (status, _, _) = viewer.post(&path, &f).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
}

fn emails_for(outbox: &Value, rid: i64) -> usize {
    outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["payload"]["status_report_id"] == rid)
        .count()
}

#[tokio::test]
async fn a_status_report_is_reviewed_then_sent_once_and_frozen() {
    let Seeded { app, project, .. } = seed().await;
    let (mut web, csrf) = admin_web(&app).await;

    // Generate this week's draft: Thursday 10 Dec → the week ending Friday 11 Dec.
    let (status, html, location) = web
        .post(
            &format!("/projects/{project}/status_reports"),
            &[("csrf", &csrf), ("week_ending", "2026-12-11")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let location = location.unwrap();
    let rid: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/status_reports"),
            &[("csrf", &csrf), ("week_ending", "not-a-date")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, html, _) = web.get(&location).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<title>Status report, week ending 2026-12-11 · Steward</title>"));
    assert!(html.contains(
        "<iframe class=\"report\" title=\"Rendered status report\" sandbox=\"\" srcdoc=\""
    ));
    assert!(html.contains("Blockers and risks"), "the rendered report");
    assert!(html.contains("Send report"));

    // Edit the notes (CSRF checked), and they show in the rendered report.
    let edit = format!("/projects/{project}/status_reports/{rid}");
    let (status, _, _) = web.post(&edit, &[("summary", "Forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html, _) = web
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("summary", "typed and kept"),
                ("recipient", "not an address"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("typed and kept"), "{html}");
    assert!(html.contains("id=\"e-recipient\""), "{html}");
    let (status, _, _) = web
        .post(
            &edit,
            &[
                ("csrf", &csrf),
                ("summary", "Good week despite the TMS export."),
                ("decision_needed", "Approve the nightly batch export."),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html, _) = web.get(&format!("{edit}?done=saved")).await;
    assert!(html.contains("Good week despite the TMS export."));
    assert!(html.contains("The notes were saved."));

    // Send: the e-mail is queued once; the report is frozen.
    let send = format!("/projects/{project}/status_reports/{rid}/send");
    let (status, _, _) = web.post(&send, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "CSRF required");
    assert_eq!(
        emails_for(&app.get_json("/api/v2/outbox.json?kind=email").await, rid),
        0
    );
    let (status, _, location) = web.post(&send, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        emails_for(&app.get_json("/api/v2/outbox.json?kind=email").await, rid),
        1
    );
    let (_, html, _) = web.get(&location.unwrap()).await;
    assert!(html.contains("A sent report is frozen"));
    assert!(html.contains("sam@northwind.example"));
    assert!(!html.contains("Send report"));
    assert!(!html.contains("name=\"summary\""), "no more editing");
    // Sending again or editing is refused; still one e-mail.
    let (status, _, _) = web.post(&send, &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, _) = web
        .post(&edit, &[("csrf", &csrf), ("summary", "Changed")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        emails_for(&app.get_json("/api/v2/outbox.json?kind=email").await, rid),
        1
    );
    let (_, html, _) = web.get(&format!("/projects/{project}")).await;
    assert!(html.contains(&format!(
        "href=\"/projects/{project}/status_reports/{rid}\">2026-12-11</a>"
    )));
}

#[tokio::test]
async fn customers_and_strangers_do_not_reach_the_customer_pages() {
    let Seeded { app, org, project } = seed().await;
    let mut anon = Web::new(&app);
    let (status, _, location) = anon.get(&format!("/accounts/{org}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/login?next="));
    let (id, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut web = Web::new(&app);
    let (_, html, _) = web.get("/login").await;
    let token = csrf_in(&html);
    web.post(
        "/login",
        &[
            ("csrf", &token),
            ("email", &email),
            ("password", PASSWORD),
            ("next", "/queue"),
        ],
    )
    .await;
    for path in [
        format!("/accounts/{org}"),
        format!("/projects/{project}"),
        "/accounts".into(),
    ] {
        let (status, _, location) = web.get(&path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location.as_deref(), Some("/portal"), "{path}");
    }
}

#[tokio::test]
async fn viewers_read_the_customer_pages_but_change_nothing() {
    let Seeded { app, org, project } = seed().await;
    let (mut web, csrf) = web_as(&app, Role::Viewer).await;
    let (status, html, _) = web.get(&format!("/accounts/{org}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("$150,000"), "viewers read everything");
    assert!(!html.contains("Log a communication") && !html.contains("Set a risk flag"));
    let (status, _, _) = web
        .post(
            &format!("/accounts/{org}/communications"),
            &[("csrf", &csrf), ("type", "call"), ("topic", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html, _) = web.get(&format!("/projects/{project}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Generate this week"));
    let (status, _, _) = web
        .post(
            &format!("/projects/{project}/status_reports"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
