//! SLA exclusions, force majeure, credits and the SLA report
//! (policies.md §5), end to end with an injected clock: accounts in each
//! tier, tickets that breach (fired by the scheduler), an excluded ticket,
//! a force-majeure window over another breach; the report through the API
//! and through `steward report sla`, which must agree.
//!
//! The scenario (all P0, opened inside business hours):
//!
//! | account | tier, monthly fee | February | March |
//! |---|---|---|---|
//! | Acme | Enterprise, $20,000 | E0 first response late | E1, E4 first response late; E2 late but excluded; E3 in time; E5 late inside a force-majeure window |
//! | Midco | Mid-Market, $5,000 | | M1 first response late; M2 in time |
//! | Tiny | Starter, $1,000 | S0 first response late | S1 first response late; S2 periodic update and resolution late |

use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

const BIN: &str = env!("CARGO_BIN_EXE_steward");

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

async fn org(app: &TestApp, name: &str, acv_dollars: i64) -> i64 {
    let body = json!({"organization": {"name": name, "acv_cents": acv_dollars * 100}});
    app.post_json("/api/v2/organizations.json", body).await["organization"]["id"]
        .as_i64()
        .unwrap()
}

/// A P0 ticket of `org`, opened at `when`.
async fn p0(app: &TestApp, org: i64, when: &str) -> i64 {
    app.clock.set(at(when));
    let requester = json!({"name": "Casey Customer", "email": format!("casey@org{org}.example")});
    let body = json!({"ticket": {"subject": "Production down", "comment": {"body": "help"},
                                  "requester": requester, "organization_id": org,
                                  "priority": "urgent", "group_id": 1}});
    app.post_json("/api/v2/tickets.json", body).await["ticket"]["id"]
        .as_i64()
        .unwrap()
}

async fn put(app: &TestApp, id: i64, when: &str, ticket: Value) -> Value {
    app.clock.set(at(when));
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({ "ticket": ticket }),
    )
    .await
}

/// A public agent reply that also solves the ticket.
async fn reply_and_solve(app: &TestApp, id: i64, when: &str) {
    put(
        app,
        id,
        when,
        json!({"comment": {"body": "Fixed."}, "status": "solved"}),
    )
    .await;
}

async fn fire(app: &TestApp, when: &str) -> usize {
    app.store
        .fire_due_sla(at(when), 1_000)
        .await
        .unwrap()
        .breaches
}

fn account<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {report}"))
}

/// (ticket, metric, outcome) of an account's metrics.
fn outcomes(a: &Value) -> Vec<(i64, String, String)> {
    a["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["ticket_id"].as_i64().unwrap(),
                m["metric"].as_str().unwrap().to_string(),
                m["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn counts(a: &Value) -> [i64; 6] {
    let c = &a["achievement"];
    ["metrics", "met", "missed", "excluded", "waived", "open"].map(|k| c[k].as_i64().unwrap())
}

/// Runs `steward report sla ARGS`; returns success, stdout and stderr.
fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["report", "sla"])
        .args(args)
        .args(["--database-url", &app.db_url])
        .env_remove("STEWARD_DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("run steward");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_monthly_report_settles_misses_exclusions_waivers_and_credits() {
    let app = spawn_app_with_clock(Clock::fixed(at("2026-02-01T00:00:00Z"))).await;
    let acme = org(&app, "Acme", 240_000).await;
    let midco = org(&app, "Midco", 60_000).await;
    let tiny = org(&app, "Tiny", 12_000).await;

    // February (Tuesday 10:00 EST): one Enterprise and one Starter miss.
    let e0 = p0(&app, acme, "2026-02-10T15:00:00Z").await;
    let s0 = p0(&app, tiny, "2026-02-10T15:00:00Z").await;
    reply_and_solve(&app, e0, "2026-02-10T16:00:00Z").await; // 30 min target
    reply_and_solve(&app, s0, "2026-02-10T20:00:00Z").await; // 4 business hours
    assert!(
        fire(&app, "2026-02-28T00:00:00Z").await == 0,
        "fulfilled clocks are not due"
    );

    // March, Tuesday 10:00 EDT.
    let t0 = "2026-03-10T14:00:00Z";
    let e1 = p0(&app, acme, t0).await;
    let e2 = p0(&app, acme, t0).await;
    let e3 = p0(&app, acme, t0).await;
    let e4 = p0(&app, acme, t0).await;
    let m1 = p0(&app, midco, t0).await;
    let m2 = p0(&app, midco, t0).await;
    let s1 = p0(&app, tiny, t0).await;
    let s2 = p0(&app, tiny, t0).await;
    reply_and_solve(&app, e3, "2026-03-10T14:10:00Z").await;
    reply_and_solve(&app, m2, "2026-03-10T14:10:00Z").await;
    put(
        &app,
        s2,
        "2026-03-10T14:30:00Z",
        json!({"comment": {"body": "Looking into it."}}),
    )
    .await;
    // Enterprise first responses (30 min) breach at 14:30; the scheduler fires them.
    assert_eq!(fire(&app, "2026-03-10T14:31:00Z").await, 3);

    // The team finds a third-party outage behind E2: staff exclude it, audited.
    let excluded = put(
        &app,
        e2,
        "2026-03-10T14:45:00Z",
        json!({"sla_exclusion": "third_party_integration"}),
    )
    .await;
    assert_eq!(
        excluded["ticket"]["sla_exclusion"],
        "third_party_integration"
    );
    let change = excluded["audit"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field_name"] == "sla_exclusion")
        .unwrap()
        .clone();
    assert_eq!(change["type"], "Change");
    assert_eq!(change["value"], "third_party_integration");
    assert_eq!(change["previous_value"], Value::Null);

    for id in [e1, e2, e4] {
        reply_and_solve(&app, id, "2026-03-10T15:00:00Z").await;
    }
    reply_and_solve(&app, m1, "2026-03-10T15:30:00Z").await; // Mid-Market P0: 1 h
    reply_and_solve(&app, s1, "2026-03-10T19:00:00Z").await; // Starter P0: 4 bh, due 18:00Z
    // S2's periodic update (4 bh from 10:30 EDT) breaches at 18:30Z; its
    // resolution (2 business days) on Thursday 10:00 EDT.
    assert!(fire(&app, "2026-03-12T14:00:01Z").await >= 2);

    // A blizzard: declared by an admin; E5's breach falls inside it.
    let resp = app
        .admin(Method::POST, "/api/v2/slas/force_majeure.json")
        .json(&json!({"force_majeure_event": {
            "kind": "extreme_weather", "description": "Blizzard takes out the primary data centre",
            "starts_at": "2026-03-20T00:00:00Z", "ends_at": "2026-03-21T00:00:00Z"}}))
        .send()
        .await
        .unwrap();
    let window = json_of(resp, 201).await["force_majeure_event"].clone();
    assert_eq!(window["kind"], "extreme_weather");
    let window_id = window["id"].as_i64().unwrap();
    let e5 = p0(&app, acme, "2026-03-20T10:00:00Z").await;
    assert_eq!(fire(&app, "2026-03-20T10:31:00Z").await, 1);
    reply_and_solve(&app, e5, "2026-03-20T11:00:00Z").await;
    let listed = app.get_json("/api/v2/slas/force_majeure.json").await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["force_majeure_events"][0]["id"], window_id);

    // The report, generated on April 2nd for March.
    app.clock.set(at("2026-04-02T08:00:00Z"));
    let body = app
        .get_json("/api/v2/slas/reports.json?month=2026-03")
        .await;
    let report = &body["sla_report"];
    assert_eq!(report["month"], "2026-03");
    assert_eq!(report["quarter"], "2026-Q1");
    assert_eq!(report["as_of"], "2026-04-01T00:00:00Z");
    let s = |x: &str| x.to_string();

    // Enterprise: E1 and E4 missed; E2 excluded; E5 waived; the floor applies.
    let a = account(report, "Acme");
    assert_eq!(a["tier"], "enterprise");
    assert_eq!(a["period"]["kind"], "month");
    assert_eq!(a["monthly_fee_cents"], 2_000_000);
    let (fr, wa, awt) = (
        s("first_reply_time"),
        s("workaround_time"),
        s("agent_work_time"),
    );
    let mut got = outcomes(a);
    got.sort();
    let mut want = vec![
        (e1, fr.clone(), s("missed")),
        (e1, wa.clone(), s("met")),
        (e1, awt.clone(), s("met")),
        (e2, fr.clone(), s("excluded")),
        (e2, wa.clone(), s("excluded")),
        (e2, awt.clone(), s("excluded")),
        (e3, fr.clone(), s("met")),
        (e3, wa.clone(), s("met")),
        (e3, awt.clone(), s("met")),
        (e4, fr.clone(), s("missed")),
        (e4, wa.clone(), s("met")),
        (e4, awt.clone(), s("met")),
        (e5, fr.clone(), s("waived")),
        (e5, wa.clone(), s("met")),
        (e5, awt.clone(), s("met")),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(counts(a), [15, 9, 2, 3, 1, 0]);
    assert_eq!(
        a["achievement"]["achievement_bp"], 8_181,
        "9 of 11, floored"
    );
    assert_eq!(a["achievement"]["target_bp"], 9_950);
    assert_eq!(a["achievement"]["meets_target"], false);
    let e1_fr = a["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ticket_id"] == e1 && m["metric"] == "first_reply_time")
        .unwrap();
    assert_eq!(e1_fr["breached_at"], "2026-03-10T14:30:00Z");
    assert_eq!(e1_fr["miss_kind"], "response");
    let e5_fr = a["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ticket_id"] == e5 && m["metric"] == "first_reply_time")
        .unwrap();
    assert_eq!(e5_fr["force_majeure_id"], window_id);
    assert_eq!(
        a["exclusions"],
        json!([{"ticket_id": e2, "reason": "third_party_integration", "label": "third-party integration"}])
    );
    let march = &a["credits"][0];
    assert_eq!(march["month"], "2026-03");
    assert_eq!(march["misses"], 2);
    assert_eq!(march["sum_bp"], 1_000, "5 % + 5 %");
    assert_eq!(march["percent_bp"], 1_500, "2+ misses: max(15 %, sum)");
    assert_eq!(march["rule"], "repeat_floor");
    assert_eq!(march["amount_cents"], 300_000);
    assert_eq!(a["month_credit_cents"], 300_000);
    // February's miss makes three in the quarter: executive review.
    assert_eq!(a["quarter"]["misses"], 3);
    assert_eq!(a["quarter"]["action"], "executive_review");

    // Mid-Market: one response miss, 3 %.
    let m = account(report, "Midco");
    assert_eq!(counts(m), [4, 3, 1, 0, 0, 0]);
    assert_eq!(m["achievement"]["achievement_bp"], 7_500);
    assert_eq!(m["achievement"]["target_bp"], 9_800);
    assert_eq!(m["credits"][0]["percent_bp"], 300);
    assert_eq!(m["month_credit_cents"], 15_000);
    assert_eq!(m["quarter"]["action"], Value::Null);

    // Starter: the quarter to date; each month's first miss only.
    let t = account(report, "Tiny");
    assert_eq!(t["period"]["kind"], "quarter_to_date");
    assert_eq!(t["period"]["start"], "2026-01-01T00:00:00Z");
    let mut got = outcomes(t);
    got.sort();
    let mut want = vec![
        (s0, fr.clone(), s("missed")),
        (s0, awt.clone(), s("met")),
        (s1, fr.clone(), s("missed")),
        (s1, awt.clone(), s("met")),
        (s2, fr.clone(), s("met")),
        (s2, awt.clone(), s("missed")),
        (s2, s("pausable_update_time"), s("missed")),
    ];
    want.sort();
    assert_eq!(got, want);
    let s2_update = t["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "pausable_update_time")
        .unwrap();
    assert_eq!(s2_update["breached_at"], "2026-03-10T18:30:00Z");
    assert_eq!(
        s2_update["miss_kind"],
        Value::Null,
        "periodic updates are reported, not credited"
    );
    assert_eq!(t["achievement"]["credited_misses"], 3);
    assert_eq!(t["achievement"]["achievement_bp"], 4_285, "3 of 7, floored");
    let months: Vec<(String, i64, i64, i64)> = t["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["month"].as_str().unwrap().to_string(),
                c["misses"].as_i64().unwrap(),
                c["percent_bp"].as_i64().unwrap(),
                c["amount_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        vec![
            (s("2026-01"), 0, 0, 0),
            (s("2026-02"), 1, 100, 1_000),
            // A response miss (1 %) then a resolution miss: only the first counts.
            (s("2026-03"), 2, 100, 1_000),
        ]
    );
    assert_eq!(t["credit_cents"], 2_000);
    assert_eq!(t["month_credit_cents"], 1_000);
    assert_eq!(t["quarter"]["misses"], 3);
    assert_eq!(t["quarter"]["action"], Value::Null);

    // The portfolio.
    let p = &report["portfolio"];
    let tiers: Vec<(String, i64, i64)> = p["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tier"].as_str().unwrap().to_string(),
                t["accounts"].as_i64().unwrap(),
                t["month_credit_cents"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tiers,
        vec![
            (s("enterprise"), 1, 300_000),
            (s("mid_market"), 1, 15_000),
            (s("starter"), 1, 1_000)
        ]
    );
    assert_eq!(p["tiers"][0]["accounts_with_quarter_action"], 1);
    assert_eq!(p["tiers"][0]["accounts_below_target"], 1);
    assert_eq!(p["month_credit_cents"], 316_000);
    assert_eq!(p["credit_cents"], 317_000);
    assert_eq!(p["totals"]["metrics"], 26);
    assert_eq!(report["force_majeure"][0]["id"], window_id);
    assert_eq!(report["force_majeure"][0]["waived"], 1);

    // One account by id; February alone for Acme.
    let one = app
        .get_json(&format!(
            "/api/v2/slas/reports?month=2026-03&organization_id={midco}"
        ))
        .await;
    assert_eq!(one["sla_report"]["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(one["sla_report"]["accounts"][0], *m);
    let feb = app
        .get_json(&format!(
            "/api/v2/slas/reports?month=2026-02&organization_id={acme}"
        ))
        .await;
    let fa = &feb["sla_report"]["accounts"][0];
    assert_eq!(counts(fa), [3, 2, 1, 0, 0, 0]);
    assert_eq!(fa["credits"][0]["percent_bp"], 500);
    assert_eq!(fa["month_credit_cents"], 100_000);

    // The CLI reads the same database and, as of the same instant, agrees.
    let (ok, stdout, stderr) = cli(
        &app,
        &[
            "--month",
            "2026-03",
            "--format",
            "json",
            "--as-of",
            "2026-04-02T08:00:00Z",
        ],
    );
    assert!(ok, "{stdout}{stderr}");
    let from_cli: Value = serde_json::from_str(&stdout).expect("the CLI prints JSON only");
    assert_eq!(&from_cli, report);
    let (ok, text, stderr) = cli(
        &app,
        &[
            "--month",
            "2026-03",
            "--organization-id",
            &acme.to_string(),
            "--as-of",
            "2026-04-02T08:00:00Z",
        ],
    );
    assert!(ok, "{text}{stderr}");
    for needle in [
        "SLA report 2026-03 (2026-Q1)",
        "Acme",
        "81.81 % (target 99.50 %, BELOW TARGET)",
        "15.00 %",
        "$3,000.00",
        "third_party_integration",
        "executive review",
        "force-majeure event",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }

    // Withdrawing the window turns E5's breach into a third March miss.
    let resp = app
        .admin(
            Method::DELETE,
            &format!("/api/v2/slas/force_majeure/{window_id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let again = app
        .get_json(&format!(
            "/api/v2/slas/reports?month=2026-03&organization_id={acme}"
        ))
        .await;
    let a = &again["sla_report"]["accounts"][0];
    assert_eq!(counts(a), [15, 9, 3, 3, 0, 0]);
    assert_eq!(a["credits"][0]["percent_bp"], 1_500, "5 + 5 + 5 = 15 %");
    // Clearing the exclusion makes E2 count again: four misses, 20 %.
    put(
        &app,
        e2,
        "2026-04-02T09:00:00Z",
        json!({"sla_exclusion": null}),
    )
    .await;
    app.clock.set(at("2026-04-02T08:00:00Z"));
    let again = app
        .get_json(&format!(
            "/api/v2/slas/reports?month=2026-03&organization_id={acme}"
        ))
        .await;
    let a = &again["sla_report"]["accounts"][0];
    assert_eq!(counts(a), [15, 11, 4, 0, 0, 0]);
    assert_eq!(a["credits"][0]["percent_bp"], 2_000);
    assert_eq!(a["credits"][0]["amount_cents"], 400_000);
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    let app = spawn_app_with_clock(Clock::fixed(at("2026-03-10T14:00:00Z"))).await;
    let acme = org(&app, "Acme", 240_000).await;
    let id = p0(&app, acme, "2026-03-10T14:00:00Z").await;

    let get = |path: String| app.admin(Method::GET, &path).send();
    for (path, status, needle) in [
        ("/api/v2/slas/reports?month=2026-13", 400, "01 to 12"),
        ("/api/v2/slas/reports?month=March", 400, "YYYY-MM"),
        ("/api/v2/slas/reports", 400, "month is required"),
        (
            "/api/v2/slas/reports?month=2026-03&organization_id=abc",
            400,
            "organization_id",
        ),
        (
            "/api/v2/slas/reports?month=2026-03&organization_id=999999",
            404,
            "",
        ),
        ("/api/v2/slas/force_majeure/999999", 404, ""),
    ] {
        let body = json_of(get(path.to_string()).await.unwrap(), status).await;
        assert!(
            body["description"].as_str().unwrap().contains(needle),
            "{path}: {body}"
        );
    }

    // An unknown exclusion reason is a 422 naming the field and the choices.
    let resp = app
        .admin(Method::PUT, &format!("/api/v2/tickets/{id}.json"))
        .json(&json!({"ticket": {"sla_exclusion": "bad_luck"}}))
        .send()
        .await
        .unwrap();
    let body = json_of(resp, 422).await;
    assert!(body["details"]["ticket.sla_exclusion"].is_array(), "{body}");
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("public_cloud_outage"),
        "{body}"
    );

    // Force-majeure events: every problem at once; admins only.
    let resp = app
        .admin(Method::POST, "/api/v2/slas/force_majeure")
        .json(
            &json!({"force_majeure_event": {"kind": "alien_invasion", "starts_at": "yesterday",
                                              "ends_at": "2026-03-01T00:00:00Z"}}),
        )
        .send()
        .await
        .unwrap();
    let body = json_of(resp, 422).await;
    for field in ["kind", "starts_at", "description"] {
        assert!(
            body["details"][format!("force_majeure_event.{field}")].is_array(),
            "{field}: {body}"
        );
    }
    let resp = app
        .admin(Method::POST, "/api/v2/slas/force_majeure")
        .json(
            &json!({"force_majeure_event": {"kind": "pandemic", "description": "x",
                                              "starts_at": "2026-03-02T00:00:00Z",
                                              "ends_at": "2026-03-01T00:00:00Z"}}),
        )
        .send()
        .await
        .unwrap();
    let body = json_of(resp, 422).await;
    assert!(
        body["details"]["force_majeure_event.ends_at"].is_array(),
        "{body}"
    );
    let resp = app
        .admin(Method::POST, "/api/v2/slas/force_majeure")
        .json(&json!({"kind": "pandemic"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = app
        .admin(Method::DELETE, "/api/v2/slas/force_majeure/999999")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Roles: agents read windows but may not declare them; contractors and
    // end users get no report (it shows fees and credits).
    let (_, agent, agent_token) = app.user_with_token(Role::Agent, None).await;
    let resp = app
        .request_as(
            Method::GET,
            "/api/v2/slas/force_majeure",
            &agent,
            &agent_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .request_as(
            Method::POST,
            "/api/v2/slas/force_majeure",
            &agent,
            &agent_token,
        )
        .json(
            &json!({"force_majeure_event": {"kind": "pandemic", "description": "x",
                                              "starts_at": "2026-03-01T00:00:00Z",
                                              "ends_at": "2026-03-02T00:00:00Z"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .request_as(
            Method::GET,
            "/api/v2/slas/reports?month=2026-03",
            &agent,
            &agent_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, contractor, contractor_token) = app.user_with_token(Role::Contractor, None).await;
    let resp = app
        .request_as(
            Method::GET,
            "/api/v2/slas/reports?month=2026-03",
            &contractor,
            &contractor_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (_, customer, customer_token) = app.user_with_token(Role::EndUser, Some(acme)).await;
    let resp = app
        .request_as(
            Method::GET,
            "/api/v2/slas/force_majeure",
            &customer,
            &customer_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // End users may not set an exclusion, nor see one.
    let resp = app
        .request_as(
            Method::PUT,
            &format!("/api/v2/tickets/{id}.json"),
            &customer,
            &customer_token,
        )
        .json(&json!({"ticket": {"sla_exclusion": "customer_systems"}}))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(resp.status().as_u16(), 403 | 404),
        "{}",
        resp.status()
    );

    // The CLI: a bad month or an unknown organization is a non-zero exit
    // with a message, never a panic.
    let (ok, _, stderr) = cli(&app, &["--month", "2026-13"]);
    assert!(!ok && stderr.contains("01 to 12"), "{stderr}");
    let (ok, _, stderr) = cli(&app, &["--month", "2026-03", "--organization-id", "999999"]);
    assert!(!ok && stderr.contains("no organization"), "{stderr}");
    let (ok, _, stderr) = cli(&app, &["--month", "2026-03", "--format", "xml"]);
    assert!(!ok && stderr.contains("xml"), "{stderr}");
    let (ok, _, stderr) = cli(&app, &["--month", "2026-03", "--as-of", "soon"]);
    assert!(!ok && stderr.contains("--as-of"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}
