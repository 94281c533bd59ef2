//! Churn risk and health (issue 5; policies.md §9) over HTTP: a score
//! explained by its factors, flags, playbooks without duplicates, the
//! GREEN → worse alert, the factor table as data, dirty-account
//! recomputation, interventions, roles.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

async fn health(app: &TestApp, org: i64) -> Value {
    app.get_json(&format!("/api/v2/organizations/{org}/health.json"))
        .await["health"]
        .clone()
}

fn factor_keys(h: &Value) -> Vec<String> {
    h["explanation"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap().to_string())
        .collect()
}

async fn tasks_titled(app: &TestApp, org: i64, needle: &str) -> usize {
    app.get_json(&format!(
        "/api/v2/tasks.json?organization_id={org}&per_page=100"
    ))
    .await["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"].as_str().unwrap().contains(needle))
        .count()
}

#[tokio::test]
async fn a_score_is_explained_and_level_changes_act() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Riskline", "contract_start": "2026-06-01", "contract_end": "2027-01-23"}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    for i in 0..6 {
        app.post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": format!("Issue {i}"), "comment": {"body": "x"}, "requester_id": customer}}),
        )
        .await;
    }
    // Contract ends in 60 days (+10), 6 tickets in 30 days (+10), 176 days a
    // customer: no review or expansion factors yet.
    let h = health(&app, org).await;
    assert_eq!(h["risk_score"], 20, "{h}");
    assert_eq!(h["health_score"], 80);
    assert_eq!(h["level"], "green");
    let keys = factor_keys(&h);
    assert_eq!(
        keys,
        ["contract_final_90_days", "many_tickets_30_days"],
        "{h}"
    );
    let evidence = h["explanation"]["factors"][1]["evidence"].as_str().unwrap();
    assert!(evidence.contains("6 tickets"), "{evidence}");
    assert!(
        h["explanation"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("risk 20")
    );

    // A CSM flags the sponsor's departure: 50, ORANGE → playbook + alert.
    let (_, csm, csm_token) = app.user_with_token(Role::Csm, None).await;
    let resp = app
        .request_as(
            Method::POST,
            &format!("/api/v2/organizations/{org}/risk_flags.json"),
            &csm,
            &csm_token,
        )
        .json(&json!({"risk_flag": {"factor": "sponsor_departed", "note": "Ana left on 20 Nov"}}))
        .send()
        .await
        .unwrap();
    let made = json_of(resp, 201).await;
    assert_eq!(made["health"]["risk_score"], 50);
    assert_eq!(made["health"]["level"], "orange");
    let flag = made["risk_flag"]["id"].as_i64().unwrap();
    let h = health(&app, org).await;
    let sponsor = h["explanation"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "sponsor_departed")
        .unwrap()
        .clone();
    assert_eq!(sponsor["points"], 30);
    assert_eq!(sponsor["evidence"], "flagged: Ana left on 20 Nov");
    assert_eq!(
        tasks_titled(&app, org, "Riskline: VP-level executive call").await,
        1
    );
    assert_eq!(
        tasks_titled(&app, org, "Health alert: Riskline is ORANGE").await,
        1
    );
    let outbox = app.get_json("/api/v2/outbox.json?kind=slack").await;
    let alerts: Vec<&Value> = outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["payload"]["channel"] == "#escalations")
        .collect();
    assert_eq!(alerts.len(), 1, "{outbox}");
    let text = alerts[0]["payload"]["text"].as_str().unwrap();
    assert!(
        text.contains("from GREEN to ORANGE") && text.contains("Executive sponsor departed"),
        "{text}"
    );

    // Clearing the flag goes back to GREEN; re-flagging within 30 days
    // alerts again but does not repeat the playbook.
    let resp = app
        .admin(
            Method::DELETE,
            &format!("/api/v2/organizations/{org}/risk_flags/{flag}.json"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(health(&app, org).await["level"], "green");
    app.clock.set(t0 + 5 * 86_400);
    app.post_json(
        &format!("/api/v2/organizations/{org}/risk_flags.json"),
        json!({"risk_flag": {"factor": "sponsor_departed", "note": "confirmed: Ana left"}}),
    )
    .await;
    assert_eq!(health(&app, org).await["level"], "orange");
    assert_eq!(
        tasks_titled(&app, org, "Riskline: VP-level executive call").await,
        1,
        "no duplicate playbook"
    );
    assert_eq!(tasks_titled(&app, org, "Health alert: Riskline").await, 2);
    // History keeps every change.
    let h = health(&app, org).await;
    let levels: Vec<&str> = h["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["green", "orange", "green", "orange"], "{h}");
}

#[tokio::test]
async fn changes_mark_accounts_for_recompute_and_the_table_is_data() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Dirty Co", false).await;
    assert_eq!(health(&app, org).await["risk_score"], 0);
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    for _ in 0..3 {
        app.post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Help", "comment": {"body": "x"}, "requester_id": customer}}),
        )
        .await;
    }
    // An admin lowers the ticket threshold to 2 and doubles its points.
    let mut table = app.get_json("/api/v2/health/factors.json").await["factors"].clone();
    for f in table.as_array_mut().unwrap() {
        if f["key"] == "many_tickets_30_days" {
            f["threshold"] = json!(2.0);
            f["points"] = json!(20);
        }
    }
    app.put_json(
        "/api/v2/health/factors.json",
        json!({"factors": table.clone()}),
    )
    .await;
    // The worker's step: dirty accounts are recomputed.
    let done = app.store.recompute_dirty_health(t0, 500).await.unwrap();
    assert!(done.accounts >= 1);
    let h = health(&app, org).await;
    assert_eq!(h["risk_score"], 20, "{h}");
    assert_eq!(factor_keys(&h), ["many_tickets_30_days"]);
    assert_eq!(
        app.store
            .recompute_dirty_health(t0, 500)
            .await
            .unwrap()
            .accounts,
        0
    );

    // Bad tables are refused whole.
    let mut missing = table.clone();
    missing
        .as_array_mut()
        .unwrap()
        .retain(|f| f["key"] != "renewal_past_due");
    let mut invented = table.clone();
    invented
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "moon_phase", "label": "Moon", "points": 5, "source": "computed"}));
    let mut twice = table.clone();
    twice.as_array_mut().unwrap().push(table[0].clone());
    for bad in [missing, invented, twice, json!("nope")] {
        let resp = app
            .admin(Method::PUT, "/api/v2/health/factors.json")
            .json(&json!({"factors": bad}))
            .send()
            .await
            .unwrap();
        json_of(resp, 422).await;
    }
    // A new flag factor may be added, and then flagged.
    let mut added = table.clone();
    added.as_array_mut().unwrap().push(json!({"key": "key_user_churned", "label": "Key user churned", "points": 8, "source": "flag"}));
    app.put_json("/api/v2/health/factors.json", json!({"factors": added}))
        .await;
    app.post_json(
        &format!("/api/v2/organizations/{org}/risk_flags.json"),
        json!({"risk_flag": {"factor": "key_user_churned", "note": "power user moved on"}}),
    )
    .await;
    assert_eq!(health(&app, org).await["risk_score"], 28);
    // Flags need a known factor and a note.
    for body in [
        json!({"risk_flag": {"factor": "nope", "note": "x"}}),
        json!({"risk_flag": {"factor": "budget_cuts"}}),
        json!({"risk_flag": {"factor": "budget_cuts", "note": "x", "expires_at": "2020-01-01T00:00:00Z"}}),
        json!({"risk_flag": {"factor": "dau_below_10", "note": "bands are computed"}}),
    ] {
        let resp = app
            .admin(
                Method::POST,
                &format!("/api/v2/organizations/{org}/risk_flags.json"),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        json_of(resp, 422).await;
    }
    // The portfolio lists accounts riskiest first.
    let p = app.get_json("/api/v2/health/accounts.json").await;
    assert_eq!(p["accounts"][0]["name"], "Dirty Co");
    let resp = app
        .admin(Method::GET, "/api/v2/health/accounts.json?level=purple")
        .send()
        .await
        .unwrap();
    json_of(resp, 400).await;
}

#[tokio::test]
async fn interventions_and_roles() {
    let app =
        spawn_app_with_clock(Clock::fixed(parse_rfc3339("2026-11-24T15:00:00Z").unwrap())).await;
    let org = app.org("Rescue Co", false).await;
    let (csm, csm_email, csm_token) = app.user_with_token(Role::Csm, None).await;
    let made = app
        .post_json(
            &format!("/api/v2/organizations/{org}/interventions.json"),
            json!({"intervention": {"primary_issue": "Adoption stalled at 20 % DAU", "owner_id": csm, "target_date": "2027-01-15"}}),
        )
        .await["intervention"]
        .clone();
    assert_eq!(made["status"], "active");
    assert_eq!(made["started_on"], "2026-11-24");
    let id = made["id"].as_i64().unwrap();
    let resp = app
        .request_as(
            Method::PUT,
            &format!("/api/v2/interventions/{id}.json"),
            &csm_email,
            &csm_token,
        )
        .json(&json!({"intervention": {"progress": 40, "notes": "Training sessions booked"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 200).await["intervention"]["progress"], 40);
    let resp = app
        .admin(Method::PUT, &format!("/api/v2/interventions/{id}.json"))
        .json(&json!({"intervention": {"progress": 140}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 422).await;
    assert_eq!(
        health(&app, org).await["interventions"][0]["primary_issue"],
        "Adoption stalled at 20 % DAU"
    );
    // Customers never see scores; agents cannot change the model.
    let (_, email, token) = app.user_with_token(Role::EndUser, Some(org)).await;
    let resp = app
        .request_as(
            Method::GET,
            &format!("/api/v2/organizations/{org}/health.json"),
            &email,
            &token,
        )
        .send()
        .await
        .unwrap();
    json_of(resp, 403).await;
    let (_, email, token) = app.user_with_token(Role::Agent, None).await;
    let table = app.get_json("/api/v2/health/factors.json").await;
    let resp = app
        .request_as(Method::PUT, "/api/v2/health/factors.json", &email, &token)
        .json(&table)
        .send()
        .await
        .unwrap();
    json_of(resp, 403).await;
    let resp = app
        .admin(Method::GET, "/api/v2/organizations/999999/health.json")
        .send()
        .await
        .unwrap();
    json_of(resp, 404).await;
}

#[tokio::test]
async fn proactive_feedback_lowers_the_risk() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Chatty Co", "contract_start": "2026-01-05", "contract_end": "2026-12-20"}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    // 323 days a customer, no review (+5), no expansion (+5), contract ends in 26 days (+10).
    assert_eq!(health(&app, org).await["risk_score"], 20);
    app.post_json(
        "/api/v2/feedback_items.json",
        json!({"feedback_item": {"source": "advisory_interview", "category": "product", "sentiment": "positive",
                                 "text": "Bulk edit would save us hours", "organization_id": org}}),
    )
    .await;
    app.store.recompute_dirty_health(t0, 500).await.unwrap();
    let h = health(&app, org).await;
    assert_eq!(h["risk_score"], 15, "{h}");
    assert!(factor_keys(&h).contains(&"proactive_feedback".to_string()));
}

#[tokio::test]
async fn bad_csat_raises_the_risk() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Unhappy Co", false).await;
    let (customer, email, token) = app.user_with_token(Role::EndUser, Some(org)).await;
    for i in 0..3 {
        let id = app
            .post_json(
                "/api/v2/tickets.json",
                json!({"ticket": {"subject": format!("Broken {i}"), "comment": {"body": "x"}, "requester_id": customer}}),
            )
            .await["ticket"]["id"]
            .as_i64()
            .unwrap();
        app.put_json(
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"status": "solved"}}),
        )
        .await;
        let resp = app
            .request_as(
                Method::POST,
                &format!("/api/v2/tickets/{id}/satisfaction_rating.json"),
                &email,
                &token,
            )
            .json(&json!({"satisfaction_rating": {"score": "bad", "rating": 1, "comment": "Slow"}}))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }
    app.store.recompute_dirty_health(t0, 500).await.unwrap();
    let h = health(&app, org).await;
    let keys = factor_keys(&h);
    assert!(keys.contains(&"csat_below_3".to_string()), "{h}");
    assert!(keys.contains(&"bad_csat_3_tickets".to_string()), "{h}");
    assert_eq!(h["risk_score"], 30, "{h}");
    assert_eq!(h["level"], "yellow");
    // The comments arrived in the feedback loop, one per rating.
    let items = app
        .get_json(&format!(
            "/api/v2/feedback_items.json?organization_id={org}"
        ))
        .await;
    let texts: Vec<&str> = items["feedback_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 3, "{items}");
    assert!(
        texts
            .iter()
            .all(|t| t.starts_with("CSAT bad on ticket #") && t.ends_with(": Slow"))
    );
}

#[tokio::test]
async fn billing_tickets_from_finance_contacts_raise_the_risk() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Invoice Co", false).await;
    let other = app.org("Other Co", false).await;
    let (finance, ..) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (user, ..) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (elsewhere, ..) = app.user_with_token(Role::EndUser, Some(other)).await;
    for u in [finance, elsewhere] {
        app.put_json(
            &format!("/api/v2/users/{u}/contact_roles.json"),
            json!({"contact_roles": ["finance_procurement"]}),
        )
        .await;
    }
    // Counted: a finance contact's billing ticket. Not counted: the same
    // contact about something else, someone else about billing.
    for (requester, group) in [(finance, 3), (finance, 3), (finance, 1), (user, 3)] {
        app.post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Invoice", "comment": {"body": "x"}, "requester_id": requester, "group_id": group}}),
        )
        .await;
    }
    app.store.recompute_dirty_health(t0, 500).await.unwrap();
    let h = health(&app, org).await;
    let factor = h["explanation"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "billing_tickets_finance")
        .unwrap_or_else(|| panic!("{h}"))
        .clone();
    assert!(
        factor["evidence"]
            .as_str()
            .unwrap()
            .starts_with("2 billing tickets"),
        "{factor}"
    );
    assert!(
        !factor_keys(&health(&app, other).await).contains(&"billing_tickets_finance".to_string())
    );
    // The whole-portfolio form of the query agrees with the one-account form.
    let one = app.store.health_facts(Some(&[org]), t0).await.unwrap();
    let all = app.store.health_facts(None, t0).await.unwrap();
    assert_eq!(
        (
            one[&org].0.billing_tickets_from_finance_30d,
            all[&org].0.billing_tickets_from_finance_30d
        ),
        (2, 2)
    );
    assert_eq!(all[&other].0.billing_tickets_from_finance_30d, 0);
}

#[tokio::test]
async fn busy_and_quiet_accounts_count_escalations_alike() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let busy = app.org("Busy Co", false).await;
    let quiet = app.org("Quiet Co", false).await;
    let (b_user, ..) = app.user_with_token(Role::EndUser, Some(busy)).await;
    let (q_user, ..) = app.user_with_token(Role::EndUser, Some(quiet)).await;
    // 600 recent tickets make Busy Co count from the escalations.
    let admin = app
        .store
        .user_by_email(&app.admin_email)
        .await
        .unwrap()
        .unwrap();
    let ticket = |org, user, k: i64| steward_store::BulkTicket {
        subject: format!("Question {k}"),
        description: "x".into(),
        requester_id: user,
        comment_author_id: user,
        organization_id: Some(org),
        group_id: None,
        assignee_id: None,
        priority: steward_domain::Priority::Normal,
        status: steward_domain::Status::Open,
        ticket_type: None,
        tags: vec![],
        via: steward_domain::Via::Api,
        created_at: t0 - 3600 - k,
    };
    let mut batch: Vec<_> = (0..600).map(|k| ticket(busy, b_user, k)).collect();
    batch.extend((0..3).map(|k| ticket(quiet, q_user, k)));
    let mut tx = app.store.begin().await.unwrap();
    app.store
        .bulk_create_tickets_tx(&mut tx, admin.id, &batch)
        .await
        .unwrap();
    app.store.commit(tx).await.unwrap();
    // Escalations of the last 30 days on some of each account's tickets
    // (and one too old to count).
    app.store
        .execute_raw(&format!(
            "INSERT INTO escalations (ticket_id, level, from_level, trigger_kind, contact, report, created_at)
             SELECT id, 2, 1, 'test', 'Support manager', '{{}}', CASE WHEN id % 7 = 0 THEN {old} ELSE {t0} - 60 END
             FROM tickets WHERE id % 5 = 0",
            old = t0 - 40 * 86_400,
        ))
        .await
        .unwrap();
    let all = app.store.health_facts(None, t0).await.unwrap();
    for org in [busy, quiet] {
        let one = app.store.health_facts(Some(&[org]), t0).await.unwrap();
        assert_eq!(
            one[&org].0.escalations_30d, all[&org].0.escalations_30d,
            "org {org}"
        );
    }
    let both = app
        .store
        .health_facts(Some(&[busy, quiet]), t0)
        .await
        .unwrap();
    assert_eq!(
        both[&quiet].0.escalations_30d,
        all[&quiet].0.escalations_30d
    );
    assert_eq!(all[&busy].0.tickets_30d, 600);
    assert!(all[&busy].0.escalations_30d > 50, "{:?}", all[&busy].0);
}
