//! The SLA engine through the API, with an injected clock: every tier and
//! priority gets the targets of policies.md §4 on the right calendar;
//! clocks pause, resume, warn at 75 % and breach at 100 % exactly once,
//! with their metric events and notifications.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::time::parse_rfc3339;
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

async fn org_with_acv(app: &TestApp, name: &str, dollars: i64) -> i64 {
    let body = json!({"organization": {"name": name, "acv_cents": dollars * 100}});
    app.post_json("/api/v2/organizations.json", body).await["organization"]["id"]
        .as_i64()
        .unwrap()
}

async fn ticket(app: &TestApp, org: i64, priority: &str) -> i64 {
    let requester = json!({"name": "Casey Customer", "email": format!("casey@org{org}.example")});
    let body = json!({"ticket": {"subject": format!("{priority} issue"), "comment": {"body": "help"}, "requester": requester,
                                  "organization_id": org, "priority": priority, "group_id": 1}});
    app.post_json("/api/v2/tickets.json", body).await["ticket"]["id"]
        .as_i64()
        .unwrap()
}

async fn slas(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!(
        "/api/v2/tickets/{id}.json?include=slas,metric_events"
    ))
    .await["ticket"]
        .clone()
}

fn breach_at(t: &Value, metric: &str) -> Option<String> {
    t["slas"]["policy_metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .and_then(|m| m["breach_at"].as_str().map(str::to_string))
}

fn events(t: &Value, metric: &str) -> Vec<(String, String)> {
    t["metric_events"][metric]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|e| {
                    (
                        e["type"].as_str().unwrap().to_string(),
                        e["time"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// First-response and resolution due instants for every tier × priority,
/// opened Monday 2026-03-09 10:00 New York time (EDT, UTC−4: the day after
/// the spring-forward change).
#[tokio::test]
async fn every_tier_and_priority_gets_its_targets() {
    let start = at("2026-03-09T14:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let enterprise = org_with_acv(&app, "Big Co", 250_000).await;
    let mid = org_with_acv(&app, "Mid Co", 60_000).await;
    let starter = org_with_acv(&app, "Small Co", 10_000).await;
    let cases = [
        // (org, priority, first response due, resolution due)
        (
            enterprise,
            "urgent",
            "2026-03-09T14:30:00Z",
            Some("2026-03-10T14:00:00Z"),
        ),
        (
            enterprise,
            "high",
            "2026-03-09T16:00:00Z",
            Some("2026-03-10T14:00:00Z"),
        ),
        (
            enterprise,
            "normal",
            "2026-03-09T18:00:00Z",
            Some("2026-03-11T14:00:00Z"),
        ),
        (
            enterprise,
            "low",
            "2026-03-09T22:00:00Z",
            Some("2026-03-16T14:00:00Z"),
        ),
        (mid, "urgent", "2026-03-09T15:00:00Z", None),
        (
            mid,
            "high",
            "2026-03-09T18:00:00Z",
            Some("2026-03-11T14:00:00Z"),
        ),
        (
            mid,
            "normal",
            "2026-03-09T22:00:00Z",
            Some("2026-03-12T14:00:00Z"),
        ),
        (
            mid,
            "low",
            "2026-03-10T14:00:00Z",
            Some("2026-03-18T14:00:00Z"),
        ),
        (
            starter,
            "urgent",
            "2026-03-09T18:00:00Z",
            Some("2026-03-11T14:00:00Z"),
        ),
        (
            starter,
            "high",
            "2026-03-09T22:00:00Z",
            Some("2026-03-12T14:00:00Z"),
        ),
        (
            starter,
            "normal",
            "2026-03-10T14:00:00Z",
            Some("2026-03-16T14:00:00Z"),
        ),
        (
            starter,
            "low",
            "2026-03-11T14:00:00Z",
            Some("2026-03-23T14:00:00Z"),
        ),
    ];
    for (org, priority, first_reply, resolution) in cases {
        let id = ticket(&app, org, priority).await;
        let t = slas(&app, id).await;
        assert_eq!(
            breach_at(&t, "first_reply_time").as_deref(),
            Some(first_reply),
            "{priority} first reply on org {org}"
        );
        assert_eq!(
            breach_at(&t, "agent_work_time").as_deref(),
            resolution,
            "{priority} resolution on org {org}"
        );
        assert_eq!(events(&t, "first_reply_time")[0].0, "apply_sla");
    }
    // P0: a workaround target besides the fix (4 h Enterprise, 8 h Mid-Market).
    let id = ticket(&app, mid, "urgent").await;
    assert_eq!(
        breach_at(&slas(&app, id).await, "workaround_time").as_deref(),
        Some("2026-03-09T22:00:00Z")
    );

    // Opened outside business hours: Enterprise P1 falls back to 4 h calendar time.
    app.clock.set(at("2026-03-14T15:00:00Z")); // Saturday
    let id = ticket(&app, enterprise, "high").await;
    assert_eq!(
        breach_at(&slas(&app, id).await, "first_reply_time").as_deref(),
        Some("2026-03-14T19:00:00Z")
    );
}

#[tokio::test]
async fn a_ticket_walks_through_warn_breach_pause_and_reopen() {
    let start = at("2026-03-10T18:00:00Z"); // Tuesday 14:00 EDT
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let org = org_with_acv(&app, "Walk Co", 150_000).await;
    let id = ticket(&app, org, "high").await; // Enterprise P1: 2 h bh first reply, 24 h resolution
    let t = slas(&app, id).await;
    assert_eq!(
        breach_at(&t, "first_reply_time").as_deref(),
        Some("2026-03-10T20:00:00Z")
    );

    // Nothing is due yet; at 75 % the warning fires once, at 100 % the breach.
    assert_eq!(
        app.store
            .fire_due_sla(at("2026-03-10T19:29:59Z"), 100)
            .await
            .unwrap()
            .warnings,
        0
    );
    let fired = app
        .store
        .fire_due_sla(at("2026-03-10T19:30:00Z"), 100)
        .await
        .unwrap();
    assert_eq!((fired.warnings, fired.breaches), (1, 0));
    assert_eq!(
        app.store
            .fire_due_sla(at("2026-03-10T19:45:00Z"), 100)
            .await
            .unwrap()
            .warnings,
        0,
        "warnings fire once"
    );
    let fired = app
        .store
        .fire_due_sla(at("2026-03-10T20:00:01Z"), 100)
        .await
        .unwrap();
    assert_eq!((fired.warnings, fired.breaches), (0, 1));
    let t = slas(&app, id).await;
    assert_eq!(
        events(&t, "first_reply_time"),
        vec![
            ("apply_sla".into(), "2026-03-10T18:00:00Z".into()),
            ("activate".into(), "2026-03-10T18:00:00Z".into()),
            ("warn".into(), "2026-03-10T19:30:00Z".into()),
            ("breach".into(), "2026-03-10T20:00:00Z".into()),
        ]
    );

    // A late public reply fulfils first response and starts the 4 h periodic update.
    app.clock.set(at("2026-03-10T20:30:00Z"));
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"body": "on it"}}}),
    )
    .await;
    let t = slas(&app, id).await;
    assert_eq!(events(&t, "first_reply_time").last().unwrap().0, "fulfill");
    assert!(
        breach_at(&t, "first_reply_time").is_none(),
        "achieved metrics leave policy_metrics"
    );
    assert_eq!(
        breach_at(&t, "pausable_update_time").as_deref(),
        Some("2026-03-11T00:30:00Z")
    );

    // An internal note is not an update to the customer.
    app.clock.set(at("2026-03-10T21:00:00Z"));
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"body": "note", "public": false}}}),
    )
    .await;
    assert_eq!(
        breach_at(&slas(&app, id).await, "pausable_update_time").as_deref(),
        Some("2026-03-11T00:30:00Z")
    );

    // Pending pauses resolution and periodic update for 3 hours.
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"status": "pending"}}),
    )
    .await;
    let t = slas(&app, id).await;
    let stage = |t: &Value, m: &str| {
        t["slas"]["policy_metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["metric"] == m)
            .map(|x| x["stage"].clone())
    };
    assert_eq!(stage(&t, "agent_work_time"), Some(json!("paused")));
    assert!(breach_at(&t, "agent_work_time").is_none());
    assert_eq!(
        app.store
            .fire_due_sla(at("2026-03-11T18:00:01Z"), 100)
            .await
            .unwrap()
            .breaches,
        0,
        "paused clocks do not breach"
    );
    app.clock.set(at("2026-03-11T00:00:00Z"));
    let t = app.put_json(&format!("/api/v2/tickets/{id}.json"), json!({"ticket": {"comment": {"body": "here are the logs", "author_id": t["requester_id"]}}})).await;
    assert_eq!(
        t["ticket"]["status"], "open",
        "a requester reply reopens a pending ticket"
    );
    let t = slas(&app, id).await;
    assert_eq!(stage(&t, "agent_work_time"), Some(json!("active")));
    assert_eq!(
        breach_at(&t, "agent_work_time").as_deref(),
        Some("2026-03-11T21:00:00Z"),
        "24 h + 3 h paused"
    );
    assert_eq!(
        breach_at(&t, "pausable_update_time").as_deref(),
        Some("2026-03-11T03:30:00Z"),
        "4 h + 3 h paused: {:?}",
        events(&t, "pausable_update_time")
    );

    // Raising the priority re-targets from the original start: P0 resolution is 24 h too,
    // but the workaround target (4 h from creation) is already past.
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"priority": "urgent"}}),
    )
    .await;
    let t = slas(&app, id).await;
    assert_eq!(events(&t, "workaround_time")[0].0, "apply_sla");
    let fired = app
        .store
        .fire_due_sla(at("2026-03-11T00:00:01Z"), 100)
        .await
        .unwrap();
    assert!(
        fired.breaches >= 1,
        "the workaround target from the original start is breached at once"
    );

    // Workaround provided, then solve; reopening resumes resolution.
    app.clock.set(at("2026-03-11T01:00:00Z"));
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"workaround_provided": true}}),
    )
    .await;
    assert_eq!(
        events(&slas(&app, id).await, "workaround_time")
            .last()
            .unwrap()
            .0,
        "fulfill"
    );
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"status": "solved"}}),
    )
    .await;
    let t = slas(&app, id).await;
    assert!(
        t["slas"]["policy_metrics"].as_array().unwrap().is_empty(),
        "{}",
        t["slas"]
    );
    app.clock.set(at("2026-03-11T02:00:00Z"));
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"status": "open"}}),
    )
    .await;
    let t = slas(&app, id).await;
    assert_eq!(stage(&t, "agent_work_time"), Some(json!("active")));
    assert!(
        breach_at(&t, "pausable_update_time").is_some(),
        "a reopened ticket owes an update"
    );

    // The incremental stream has every event once, in order, with cursors.
    let mut seen = Vec::new();
    let mut url = format!(
        "{}/api/v2/incremental/ticket_metric_events.json?start_time=0&page[size]=5",
        app.base
    );
    loop {
        let resp = app
            .client
            .get(&url)
            .basic_auth(format!("{}/token", app.admin_email), Some(&app.admin_token))
            .send()
            .await
            .unwrap();
        let body = json_of(resp, 200).await;
        seen.extend(
            body["ticket_metric_events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        if body["end_of_stream"] == true {
            break;
        }
        url = body["links"]["next"].as_str().unwrap().to_string();
    }
    let total: usize = [
        "first_reply_time",
        "pausable_update_time",
        "agent_work_time",
        "workaround_time",
    ]
    .iter()
    .map(|m| events(&t, m).len())
    .sum();
    assert_eq!(seen.len(), total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));

    // Each warning and breach queued one Slack message for the right channel
    // (the agent's public reply also queued an e-mail to the requester).
    let msgs: Vec<_> = app
        .store
        .claim_outbox("test", 100, 60, at("2030-01-01T00:00:00Z"))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind != "email")
        .collect();
    assert!(msgs.iter().all(|m| m.kind == "slack"));
    assert!(
        msgs.iter()
            .any(|m| m.payload["channel"] == "#escalations" && m.payload["event"] == "breach")
    );
    let mut keys: Vec<_> = msgs.iter().map(|m| m.idempotency_key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), msgs.len());
}

#[tokio::test]
async fn policies_and_calendars_are_editable() {
    let app = spawn_app_with_clock(Clock::fixed(at("2026-12-24T15:00:00Z"))).await;
    let p = app.get_json("/api/v2/slas/policies.json").await;
    assert_eq!(p["sla_policies"][0]["title"], "Enterprise");
    let metrics = p["sla_policies"][0]["policy_metrics"].as_array().unwrap();
    assert!(metrics.iter().any(|m| m["priority"] == "urgent"
        && m["metric"] == "first_reply_time"
        && m["target"] == 30));

    // Christmas closes the business calendar: a Starter P2 (1 business day)
    // opened Thursday Dec 24 10:00 ET is due Monday Dec 28 10:00 ET.
    let resp = app
        .admin(Method::PUT, "/api/v2/calendars/business.json")
        .json(&json!({"calendar": {"holidays": ["2026-12-25"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(resp, 200).await["calendar"]["holidays"],
        json!(["2026-12-25"])
    );
    let org = org_with_acv(&app, "Holiday Co", 5_000).await;
    let id = ticket(&app, org, "normal").await;
    assert_eq!(
        breach_at(&slas(&app, id).await, "first_reply_time").as_deref(),
        Some("2026-12-28T15:00:00Z")
    );

    // Editing the table: Starter P2 first response becomes 2 hours.
    let mut table = p["sla_policies"].clone();
    for t in table[2]["targets"].as_array_mut().unwrap() {
        if t["priority"] == "normal" && t["metric"] == "first_reply_time" {
            t["within"] = json!({"amount": 2, "unit": "hours", "calendar": "business"});
        }
    }
    let resp = app
        .admin(Method::PUT, "/api/v2/slas/policies.json")
        .json(&json!({"sla_policies": table}))
        .send()
        .await
        .unwrap();
    json_of(resp, 200).await;
    let id = ticket(&app, org, "normal").await;
    assert_eq!(
        breach_at(&slas(&app, id).await, "first_reply_time").as_deref(),
        Some("2026-12-24T17:00:00Z")
    );

    // Nonsense is refused with a clear 422.
    table[0]["targets"][0]["within"]["calendar"] = json!("lunar");
    let resp = app
        .admin(Method::PUT, "/api/v2/slas/policies.json")
        .json(&json!({"sla_policies": table}))
        .send()
        .await
        .unwrap();
    assert!(
        json_of(resp, 422).await["description"]
            .as_str()
            .unwrap()
            .contains("lunar")
    );
    let resp = app
        .admin(Method::PUT, "/api/v2/calendars/business.json")
        .json(&json!({"calendar": {"holidays": ["someday"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    // A new calendar needs a zone and hours; nonsense is refused.
    let put = |name: &str, body: Value| {
        app.admin(Method::PUT, &format!("/api/v2/calendars/{name}.json"))
            .json(&body)
            .send()
    };
    assert_eq!(
        put("lunar", json!({"calendar": {"holidays": []}}))
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(
        put(
            "eu",
            json!({"calendar": {"zone": "Mars/Olympus", "hours": {"mon": ["08:00-16:00"]}}})
        )
        .await
        .unwrap()
        .status(),
        422
    );
    assert_eq!(put("eu", json!({"calendar": {"zone": "Europe/Berlin", "hours": {"mon": ["08:00-16:00", "15:00-17:00"]}}})).await.unwrap().status(), 422);
    assert_eq!(
        put(
            "EU!",
            json!({"calendar": {"zone": "Europe/Berlin", "hours": {"mon": ["08:00-16:00"]}}})
        )
        .await
        .unwrap()
        .status(),
        422
    );
    let eu = json_of(put("eu", json!({"calendar": {"zone": "Europe/Berlin", "hours": {"mon": ["08:00-16:00"], "tue": ["08:00-16:00"]}}})).await.unwrap(), 200).await;
    assert_eq!(eu["calendar"]["working_day_seconds"], 8 * 3600);
    let all = app.get_json("/api/v2/calendars.json").await;
    assert_eq!(all["count"], 4);
    // Policies may use it; then it cannot be removed.
    let mut table = app.get_json("/api/v2/slas/policies.json").await["sla_policies"].clone();
    table[0]["targets"][0]["within"]["calendar"] = json!("eu");
    json_of(
        app.admin(Method::PUT, "/api/v2/slas/policies.json")
            .json(&json!({"sla_policies": table}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        app.admin(Method::DELETE, "/api/v2/calendars/eu.json")
            .send()
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(
        app.admin(Method::DELETE, "/api/v2/calendars/nope.json")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Every tier × priority walked through reply, pending, hold, requester
/// reopen, a priority change, solve and reopen. Expected instants come from
/// the policy table and the calendar engine (itself property-tested), so
/// this checks that the engine starts, pauses, resumes, re-targets and
/// fulfils each clock at the right moments.
#[tokio::test]
async fn every_tier_and_priority_through_the_lifecycle() {
    use steward_domain::{
        Priority, Tier,
        calendar::Calendar,
        sla::{Metric, OpenHours, default_policies},
    };
    let t0 = at("2026-03-09T14:00:00Z"); // Monday 10:00 New York
    let h = 3600;
    let policies = default_policies();
    let cal = |name: &str| Calendar::builtin(name).unwrap();
    // (seconds, calendar) of a metric for a tier and priority, for a ticket opened at t0.
    let target = |tier: Tier, p: Priority, m: Metric| {
        let policy = policies.for_ticket(Some(tier), None).unwrap();
        policy
            .span(p, m, |c| OpenHours::is_open(&cal(c), t0))
            .map(|s| (s.seconds(&cal(&s.calendar)), s.calendar.clone()))
    };
    let fmt = |t: i64| steward_domain::time::format_unix(t);
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let orgs = [
        (Tier::Enterprise, org_with_acv(&app, "Ent", 300_000).await),
        (Tier::MidMarket, org_with_acv(&app, "Mid", 50_000).await),
        (Tier::Starter, org_with_acv(&app, "Small", 9_000).await),
    ];
    for (tier, org) in orgs {
        for (p, raised) in [
            (Priority::Urgent, Priority::Urgent),
            (Priority::High, Priority::Urgent),
            (Priority::Normal, Priority::High),
            (Priority::Low, Priority::Normal),
        ] {
            let ctx = format!("{} {}", tier.as_str(), p.as_str());
            app.clock.set(t0);
            let id = ticket(&app, org, p.as_str()).await;
            let put = |body: Value| {
                let app = &app;
                async move {
                    app.put_json(
                        &format!("/api/v2/tickets/{id}.json"),
                        json!({"ticket": body}),
                    )
                    .await
                }
            };
            let t = slas(&app, id).await;
            let (fr, fr_cal) = target(tier, p, Metric::FirstReplyTime).unwrap();
            assert_eq!(
                breach_at(&t, "first_reply_time"),
                Some(fmt(OpenHours::add_open(&cal(&fr_cal), t0, fr))),
                "{ctx} first reply"
            );
            let awt = target(tier, p, Metric::AgentWorkTime);
            assert_eq!(
                breach_at(&t, "agent_work_time"),
                awt.as_ref()
                    .map(|(s, c)| fmt(OpenHours::add_open(&cal(c), t0, *s))),
                "{ctx} resolution"
            );

            // +1 h: public reply. +2 h: pending. +5 h: hold. +26 h: the requester writes back.
            app.clock.set(t0 + h);
            put(json!({"comment": {"body": "looking"}})).await;
            let t = slas(&app, id).await;
            assert!(
                breach_at(&t, "first_reply_time").is_none(),
                "{ctx}: first reply fulfilled"
            );
            let pu = target(tier, p, Metric::PausableUpdateTime);
            assert_eq!(
                breach_at(&t, "pausable_update_time"),
                pu.as_ref()
                    .map(|(s, c)| fmt(OpenHours::add_open(&cal(c), t0 + h, *s))),
                "{ctx} periodic update"
            );
            app.clock.set(t0 + 2 * h);
            put(json!({"status": "pending"})).await;
            app.clock.set(t0 + 5 * h);
            put(json!({"status": "hold"})).await;
            let t = slas(&app, id).await;
            assert!(breach_at(&t, "agent_work_time").is_none(), "{ctx}: paused");
            app.clock.set(t0 + 26 * h);
            let requester = t["requester_id"].clone();
            let back = put(json!({"comment": {"body": "more info", "author_id": requester}})).await;
            // A requester reply reopens pending tickets; on hold it stays on hold.
            assert_eq!(back["ticket"]["status"], "hold", "{ctx}");
            put(json!({"status": "open"})).await;
            let t = slas(&app, id).await;
            if let Some((s, c)) = &awt {
                let c = cal(c);
                let ran = OpenHours::open_between(&c, t0, t0 + 2 * h);
                assert_eq!(
                    breach_at(&t, "agent_work_time"),
                    Some(fmt(OpenHours::add_open(&c, t0 + 26 * h, s - ran))),
                    "{ctx} resumed"
                );
            }

            // +27 h: priority raised — re-targeted from the original start.
            app.clock.set(t0 + 27 * h);
            put(json!({"priority": raised.as_str()})).await;
            let t = slas(&app, id).await;
            match target(tier, raised, Metric::AgentWorkTime) {
                Some((s, c)) => {
                    let c = cal(&c);
                    let ran = OpenHours::open_between(&c, t0, t0 + 2 * h);
                    assert_eq!(
                        breach_at(&t, "agent_work_time"),
                        Some(fmt(OpenHours::add_open(&c, t0 + 26 * h, (s - ran).max(0)))),
                        "{ctx} re-targeted"
                    );
                }
                None => assert!(breach_at(&t, "agent_work_time").is_none(), "{ctx}"),
            }

            // +28 h: solved — nothing left to breach. +29 h: reopened — resolution runs again.
            app.clock.set(t0 + 28 * h);
            put(json!({"status": "solved"})).await;
            assert!(
                slas(&app, id).await["slas"]["policy_metrics"]
                    .as_array()
                    .unwrap()
                    .is_empty(),
                "{ctx} solved"
            );
            app.clock.set(t0 + 29 * h);
            put(json!({"status": "open"})).await;
            let t = slas(&app, id).await;
            let stages: Vec<_> = t["slas"]["policy_metrics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["metric"].clone())
                .collect();
            assert_eq!(
                stages.contains(&json!("agent_work_time")),
                target(tier, raised, Metric::AgentWorkTime).is_some(),
                "{ctx} reopened: {stages:?}"
            );
            let kinds: Vec<String> = t["metric_events"]["first_reply_time"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["type"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(
                kinds.first().map(String::as_str),
                Some("apply_sla"),
                "{ctx}"
            );
            assert!(kinds.contains(&"fulfill".to_string()), "{ctx}: {kinds:?}");
        }
    }
}
