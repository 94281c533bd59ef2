//! The escalation ladder of policies.md §6 through the API, with an
//! injected clock: SLA triggers, time triggers, executive followers, war
//! rooms that incidents follow, root-cause analyses, reports.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::time::parse_rfc3339;
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

async fn org(app: &TestApp, name: &str, dollars: i64) -> i64 {
    let body = json!({"organization": {"name": name, "acv_cents": dollars * 100}});
    app.post_json("/api/v2/organizations.json", body).await["organization"]["id"]
        .as_i64()
        .unwrap()
}

async fn ticket(app: &TestApp, org: i64, priority: &str, extra: Value) -> Value {
    let mut t = json!({"subject": format!("{priority} trouble"), "comment": {"body": "it broke"}, "priority": priority,
                       "organization_id": org, "group_id": 1,
                       "requester": {"name": "Pat", "email": format!("pat@org{org}.example")}});
    for (k, v) in extra.as_object().unwrap() {
        t[k] = v.clone();
    }
    app.post_json("/api/v2/tickets.json", json!({"ticket": t}))
        .await["ticket"]
        .clone()
}

async fn levels(app: &TestApp, id: i64) -> Vec<(i64, String, String)> {
    let body = app
        .get_json(&format!("/api/v2/tickets/{id}/escalations.json"))
        .await;
    body["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["level"].as_i64().unwrap(),
                e["contact"].as_str().unwrap().to_string(),
                e["trigger"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn slack_texts(app: &TestApp) -> Vec<(String, String)> {
    app.store
        .claim_outbox("t", 1000, 1, at("2100-01-01T00:00:00Z"))
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            (
                m.payload["channel"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                m.payload["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sla_warnings_and_breaches_climb_the_ladder() {
    let start = at("2026-03-10T18:00:00Z"); // Tuesday 14:00 New York
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let big = org(&app, "Ladder Co", 150_000).await;
    let t = ticket(&app, big, "high", json!({})).await;
    let id = t["id"].as_i64().unwrap();
    let me = app.get_json("/api/v2/users/me.json").await["user"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        t["follower_ids"],
        json!([me]),
        "ACV above $50,000 adds the executive stakeholder"
    );

    // The VP Engineering is a configured user; the CS Manager stays "the admins".
    let (vp, _, _) = app.user_with_token(steward_domain::Role::Agent, None).await;
    let resp = app
        .admin(Method::PUT, "/api/v2/escalation_contacts.json")
        .json(&json!({"escalation_contacts": {"VP Engineering": [vp]}}))
        .send()
        .await
        .unwrap();
    let contacts = json_of(resp, 200).await;
    assert_eq!(contacts["ladders"]["enterprise"][1], "VP Engineering");
    let resp = app
        .admin(Method::PUT, "/api/v2/escalation_contacts.json")
        .json(&json!({"escalation_contacts": {"CEO": ["nobody"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    app.store
        .fire_due_sla(at("2026-03-10T19:30:00Z"), 100)
        .await
        .unwrap(); // warn
    assert_eq!(
        levels(&app, id).await,
        vec![(1, "CS Manager".into(), "sla_warning".into())]
    );
    app.store
        .fire_due_sla(at("2026-03-10T20:00:00Z"), 100)
        .await
        .unwrap(); // breach
    assert_eq!(
        levels(&app, id).await[1],
        (2, "VP Engineering".into(), "sla_breach".into())
    );
    let reports = app
        .get_json(&format!("/api/v2/tickets/{id}/escalations.json"))
        .await;
    assert_eq!(
        reports["escalations"][1]["report"]["to"]["user_ids"],
        json!([vp])
    );
    // Twice the 2-hour business-hours target: Tuesday 18:00 New York (22:00Z).
    app.store
        .fire_due_sla(at("2026-03-10T21:59:59Z"), 100)
        .await
        .unwrap();
    assert_eq!(levels(&app, id).await.len(), 2);
    app.store
        .fire_due_sla(at("2026-03-10T22:00:00Z"), 100)
        .await
        .unwrap();
    let all = app
        .get_json(&format!("/api/v2/tickets/{id}/escalations.json"))
        .await;
    let top = all["escalations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (top["level"].as_i64(), top["contact"].as_str()),
        (Some(4), Some("CEO"))
    );
    assert_eq!(top["report"]["credit_recorded"], true);
    // The report carries every field of §6.
    let report = &all["escalations"][0]["report"];
    for field in [
        "date",
        "level",
        "from",
        "to",
        "summary",
        "severity",
        "account",
        "affected_users",
        "business_impact",
        "timeline",
        "what_was_tried",
        "why_escalating",
        "what_is_needed",
        "success_criteria",
        "next_steps",
    ] {
        assert!(
            report.get(field).is_some(),
            "report lacks {field}: {report}"
        );
    }
    assert_eq!(report["severity"], "P1");
    assert_eq!(report["account"]["tier"], "enterprise");
    assert_eq!(report["timeline"]["reported"], "2026-03-10T18:00:00Z");
    assert_eq!(
        report["to"]["user_ids"],
        json!([me]),
        "the CS Manager is the admin"
    );

    // People complete the free-text fields; nothing else is editable.
    let eid = all["escalations"][0]["id"].as_i64().unwrap();
    let done = app
        .put_json(
            &format!("/api/v2/escalations/{eid}.json"),
            json!({"escalation": {"report": {"business_impact": "Payroll blocked for 300 staff"}}}),
        )
        .await;
    assert_eq!(
        done["escalation"]["report"]["business_impact"],
        "Payroll blocked for 300 staff"
    );
    let resp = app
        .admin(Method::PUT, &format!("/api/v2/escalations/{eid}.json"))
        .json(&json!({"escalation": {"report": {"level": 9}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 422).await["error"], "RecordInvalid");

    let texts = slack_texts(&app).await;
    assert!(
        texts.iter().any(
            |(c, t)| c == "#escalations" && t.contains("escalated to level 2 (VP Engineering)")
        )
    );
    assert!(
        texts
            .iter()
            .any(|(c, t)| c == "#escalations" && t.starts_with("CS Manager:")),
        "a breach notifies the CS Manager"
    );
}

#[tokio::test]
async fn time_triggers_for_p0_p1_p2_and_none_for_p3() {
    let start = at("2026-03-10T18:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let ent = org(&app, "Timer Co", 40_000).await; // Mid-Market: VP Engineering is level 3
    let p0 = ticket(&app, ent, "urgent", json!({})).await["id"]
        .as_i64()
        .unwrap();
    let p1 = ticket(&app, ent, "high", json!({})).await["id"]
        .as_i64()
        .unwrap();
    let p2 = ticket(&app, ent, "normal", json!({})).await["id"]
        .as_i64()
        .unwrap();
    let p3 = ticket(&app, ent, "low", json!({})).await["id"]
        .as_i64()
        .unwrap();

    assert_eq!(
        app.store
            .fire_due_escalations(start + 3599, 100)
            .await
            .unwrap(),
        0
    );
    app.store
        .fire_due_escalations(start + 3600, 100)
        .await
        .unwrap();
    assert_eq!(
        levels(&app, p0).await,
        vec![(3, "VP Engineering".into(), "p0_open_1h".into())]
    );
    app.store
        .fire_due_escalations(start + 2 * 3600, 100)
        .await
        .unwrap();
    assert!(
        slack_texts(&app)
            .await
            .iter()
            .any(|(_, t)| t.starts_with("COO:")),
        "P0 unresolved 2 h notifies the COO"
    );
    app.store
        .fire_due_escalations(start + 4 * 3600, 100)
        .await
        .unwrap();
    assert_eq!(levels(&app, p0).await.len(), 1, "already above level 3");
    app.store
        .fire_due_escalations(start + 8 * 3600, 100)
        .await
        .unwrap();
    assert_eq!(
        levels(&app, p1).await,
        vec![(1, "Implementation CSM".into(), "p1_unresolved_8h".into())]
    );
    // Solving P2 before its 24 hours cancels its trigger.
    app.clock.set(start + 10 * 3600);
    app.put_json(
        &format!("/api/v2/tickets/{p2}.json"),
        json!({"ticket": {"status": "solved"}}),
    )
    .await;
    app.store
        .fire_due_escalations(start + 30 * 3600, 100)
        .await
        .unwrap();
    assert!(levels(&app, p2).await.is_empty());
    // P3 never escalates on its own, not even on SLA breaches.
    app.store
        .fire_due_sla(start + 30 * 24 * 3600, 1000)
        .await
        .unwrap();
    assert!(levels(&app, p3).await.is_empty());
}

#[tokio::test]
async fn platform_incidents_open_war_rooms_that_incidents_follow() {
    let start = at("2026-03-10T18:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let a = org(&app, "Acme Corp", 20_000).await;
    let b = org(&app, "Globex", 20_000).await;
    let problem = ticket(
        &app,
        a,
        "urgent",
        json!({"type": "problem", "subject": "API gateway 502s"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let i1 = ticket(
        &app,
        a,
        "low",
        json!({"type": "incident", "problem_id": problem}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert!(
        app.get_json("/api/v2/war_rooms.json").await["war_rooms"]
            .as_array()
            .unwrap()
            .is_empty(),
        "one account is not a platform incident"
    );
    let i2 = ticket(
        &app,
        b,
        "low",
        json!({"type": "incident", "problem_id": problem}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let rooms = app.get_json("/api/v2/war_rooms.json").await;
    let room = &rooms["war_rooms"][0];
    assert_eq!(room["problem_id"], problem);
    assert_eq!(room["incident_ids"], json!([i1, i2]));
    assert_eq!(
        room["update_cadence_minutes"], 30,
        "P0 war rooms update every 30 minutes"
    );
    assert_eq!(room["next_update_due"], "2026-03-10T18:30:00Z");
    let texts = slack_texts(&app).await;
    assert!(texts.iter().any(|(c, _)| c == "#incident-acme-corp"));
    assert!(texts.iter().any(|(c, _)| c == "#incident-globex"));

    // A late update is chased; posting one sets the next due time.
    let rid = room["id"].as_i64().unwrap();
    app.store
        .fire_due_escalations(at("2026-03-10T18:31:00Z"), 100)
        .await
        .unwrap();
    assert!(
        slack_texts(&app)
            .await
            .iter()
            .any(|(_, t)| t.contains("overdue"))
    );
    app.clock.set(at("2026-03-10T18:40:00Z"));
    let resp = app
        .admin(
            Method::POST,
            &format!("/api/v2/war_rooms/{rid}/updates.json"),
        )
        .json(&json!({"update": {"body": "Rolled back the gateway"}}))
        .send()
        .await
        .unwrap();
    let w = json_of(resp, 200).await;
    assert_eq!(
        w["war_room"]["updates"][0]["body"],
        "Rolled back the gateway"
    );
    assert_eq!(w["war_room"]["next_update_due"], "2026-03-10T19:10:00Z");

    // P3 incidents of a platform incident do escalate.
    app.store
        .fire_due_sla(at("2026-04-30T00:00:00Z"), 1000)
        .await
        .unwrap();
    assert!(!levels(&app, i1).await.is_empty());

    // Solving the problem solves its incidents and closes the war room;
    // the solved P0 now owes a root-cause analysis within 24 hours.
    app.clock.set(at("2026-03-10T20:00:00Z"));
    app.put_json(
        &format!("/api/v2/tickets/{problem}.json"),
        json!({"ticket": {"status": "solved", "comment": {"body": "Fixed"}}}),
    )
    .await;
    for i in [i1, i2] {
        assert_eq!(
            app.get_json(&format!("/api/v2/tickets/{i}.json")).await["ticket"]["status"],
            "solved"
        );
    }
    assert_eq!(
        app.get_json(&format!("/api/v2/war_rooms/{rid}.json")).await["war_room"]["status"],
        "closed"
    );
    let rca = app
        .get_json(&format!("/api/v2/tickets/{problem}/rca.json"))
        .await;
    assert_eq!(
        (rca["rca"]["status"].as_str(), rca["rca"]["due_at"].as_str()),
        (Some("due"), Some("2026-03-11T20:00:00Z"))
    );
    app.store
        .fire_due_escalations(at("2026-03-11T20:00:01Z"), 100)
        .await
        .unwrap();
    assert!(
        slack_texts(&app)
            .await
            .iter()
            .any(|(_, t)| t.contains("root-cause analysis") && t.contains("missing"))
    );
    let done = app
        .put_json(
            &format!("/api/v2/tickets/{problem}/rca.json"),
            json!({"rca": {"body": "Certificate expired on the gateway"}}),
        )
        .await;
    assert_eq!(done["rca"]["status"], "submitted");
    let resp = app
        .admin(Method::GET, &format!("/api/v2/tickets/{i1}/rca.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "only P0 tickets owe an RCA");
}
