//! Automation rules and tasks (policies.md §7) through the API, with an
//! injected clock: the three seeded rules end to end, firing once per
//! condition episode, rule validation, loops that settle, and tasks with
//! their role checks. Time-based automations are run by calling the
//! scheduler's tick (`run_automations`) directly.

use std::sync::atomic::{AtomicI64, Ordering};

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

const HOUR: i64 = 3600;

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

async fn org(app: &TestApp, name: &str, dollars: i64) -> i64 {
    let body = json!({"organization": {"name": name, "acv_cents": dollars * 100}});
    app.post_json("/api/v2/organizations.json", body).await["organization"]["id"]
        .as_i64()
        .unwrap()
}

async fn ticket(app: &TestApp, fields: Value) -> Value {
    let mut t = json!({"subject": "Help", "comment": {"body": "details"},
                       "requester": {"name": "Pat", "email": "pat@customer.example"}});
    for (k, v) in fields.as_object().unwrap() {
        t[k] = v.clone();
    }
    app.post_json("/api/v2/tickets.json", json!({"ticket": t}))
        .await["ticket"]
        .clone()
}

async fn update(app: &TestApp, id: i64, fields: Value) -> Value {
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": fields}),
    )
    .await["ticket"]
        .clone()
}

async fn show(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v2/tickets/{id}.json")).await["ticket"].clone()
}

/// Every Slack-compatible message queued so far, as (channel, text). Each
/// call claims at a later instant than the last, past the earlier leases.
async fn slack(app: &TestApp) -> Vec<(String, String)> {
    static CALLS: AtomicI64 = AtomicI64::new(0);
    let when = at("2100-01-01T00:00:00Z") + 10 * CALLS.fetch_add(1, Ordering::SeqCst);
    app.store
        .claim_outbox("t", 1000, 1, when)
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

async fn rule_id(app: &TestApp, kind: &str, title: &str) -> i64 {
    let list = app.get_json(&format!("/api/v2/{kind}.json")).await;
    list[kind]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == title)
        .unwrap_or_else(|| panic!("no {kind} called {title}: {list}"))["id"]
        .as_i64()
        .unwrap()
}

async fn tasks_of(app: &TestApp, ticket: i64) -> Vec<Value> {
    app.get_json(&format!("/api/v2/tasks.json?ticket_id={ticket}"))
        .await["tasks"]
        .as_array()
        .unwrap()
        .clone()
}

async fn rule_audits(app: &TestApp, ticket: i64) -> Vec<Value> {
    app.get_json(&format!("/api/v2/tickets/{ticket}/audits.json"))
        .await["audits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["via"]["channel"] == "rule")
        .cloned()
        .collect()
}

async fn me(app: &TestApp) -> i64 {
    app.get_json("/api/v2/users/me.json").await["user"]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn critical_system_issue_alerts_assigns_and_sets_the_response_target() {
    let start = at("2026-03-10T18:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let acme = org(&app, "Acme Corp", 150_000).await;
    let (busy, ..) = app.user_with_token(Role::Agent, None).await;
    let (free, ..) = app.user_with_token(Role::Agent, None).await;
    // The first agent already works an open Technical Support ticket.
    ticket(&app, json!({"group_id": 12, "assignee_id": busy})).await;

    // P0 in a Technical Support subgroup: the root group counts.
    let t = ticket(
        &app,
        json!({"subject": "Checkout is down", "priority": "urgent", "group_id": 11, "organization_id": acme}),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["assignee_id"], free, "the least busy agent gets it");
    assert_eq!(t["status"], "open");
    assert_eq!(
        t["due_at"], "2026-03-10T18:30:00Z",
        "30-minute first response"
    );
    let alerts: Vec<(String, String)> = slack(&app)
        .await
        .into_iter()
        .filter(|(c, _)| c == "#critical-alerts")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0]
            .1
            .contains(&format!("ticket #{id} (Acme Corp, Enterprise)"))
            && alerts[0].1.contains("Checkout is down"),
        "{}",
        alerts[0].1
    );
    // One audit records the rule's change, by the system, naming the rule.
    let audits = rule_audits(&app, id).await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0]["author_id"], -1);
    let events = audits[0]["events"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["field_name"] == "assignee_id" && e["value"] == json!(free.to_string()))
    );
    let rule = events.iter().find(|e| e["type"] == "Rule").unwrap();
    assert_eq!(rule["title"], "Critical system issue");
    assert!(
        rule["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("notified #critical-alerts"))
    );

    // Staying true does not fire again.
    let key = format!(
        "rule:{}:",
        rule_id(&app, "triggers", "Critical system issue").await
    );
    app.clock.set(start + 600);
    update(
        &app,
        id,
        json!({"comment": {"body": "Looking", "public": false}}),
    )
    .await;
    assert_eq!(app.store.outbox_count(&key).await.unwrap(), 1);
    // False in between, then true again: a new episode fires again (the
    // ticket keeps its agent: only unassigned tickets get one).
    update(&app, id, json!({"priority": "high"})).await;
    assert_eq!(app.store.outbox_count(&key).await.unwrap(), 1);
    app.clock.set(start + 1200);
    let again = update(&app, id, json!({"priority": "urgent"})).await;
    assert_eq!(app.store.outbox_count(&key).await.unwrap(), 2);
    assert_eq!(again["assignee_id"], free);
    assert_eq!(rule_audits(&app, id).await.len(), 2);

    // P0 in another group does not match.
    let escalated = ticket(&app, json!({"priority": "urgent", "group_id": 4})).await;
    assert!(escalated["assignee_id"].is_null());
    assert_eq!(app.store.outbox_count(&key).await.unwrap(), 2);
}

#[tokio::test]
async fn implementation_blocker_fires_after_three_days_open_once_per_episode() {
    let start = at("2026-03-09T15:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let admin = me(&app).await;
    let globex = org(&app, "Globex", 40_000).await;
    let (csm, ..) = app.user_with_token(Role::Csm, None).await;
    let t = ticket(
        &app,
        json!({"subject": "Data migration stuck", "group_id": 23, "organization_id": globex, "assignee_id": csm}),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        (t["status"].as_str(), t["priority"].as_str()),
        (Some("open"), Some("normal"))
    );
    // A ticket in another group, open as long, is left alone.
    let other = ticket(
        &app,
        json!({"group_id": 1, "assignee_id": csm, "subject": "Slow"}),
    )
    .await;

    // (The seeded rule's first sweep looks at the ticket once.)
    let run = app
        .store
        .run_automations(start + 72 * HOUR - 1, 100)
        .await
        .unwrap();
    assert_eq!(run.fired, 0);
    let run = app
        .store
        .run_automations(start + 72 * HOUR - 1, 100)
        .await
        .unwrap();
    assert_eq!(
        (run.checked, run.fired),
        (0, 0),
        "nothing is due before its instant"
    );
    let run = app
        .store
        .run_automations(start + 72 * HOUR, 100)
        .await
        .unwrap();
    assert_eq!(
        (run.checked, run.fired),
        (1, 1),
        "only the due ticket is read"
    );
    let t = show(&app, id).await;
    assert_eq!(t["priority"], "high", "raised one step");
    assert_eq!(
        show(&app, other["id"].as_i64().unwrap()).await["priority"],
        "normal"
    );

    let msgs = slack(&app).await;
    assert!(
        msgs.iter().any(|(c, text)| c == "#globex-implementation"
            && text.starts_with("CS Manager: implementation blocker")
            && text.contains("priority raised to P1")),
        "{msgs:?}"
    );
    let tasks = tasks_of(&app, id).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let alert = tasks.iter().find(|k| k["owner_id"] == admin).unwrap();
    assert!(
        alert["title"]
            .as_str()
            .unwrap()
            .starts_with("Implementation blocker on ticket")
    );
    assert_eq!(alert["due_at"], "2026-03-13T15:00:00Z");
    let follow_up = tasks.iter().find(|k| k["owner_id"] == csm).unwrap();
    assert_eq!(follow_up["due_at"], "2026-03-14T15:00:00Z");
    assert_eq!(follow_up["organization_id"], globex);
    assert_eq!(follow_up["priority"], "high");
    let rule = rule_id(&app, "automations", "Implementation blocker").await;
    assert_eq!(follow_up["created_by"], json!({"type": "rule", "id": rule}));

    // Still open days later: the same episode, nothing more.
    let run = app
        .store
        .run_automations(start + 200 * HOUR, 100)
        .await
        .unwrap();
    assert_eq!(run.fired, 0);
    assert_eq!(show(&app, id).await["priority"], "high");

    // Pending, then open again: the clock of "open for 3 days" restarts and
    // the next episode fires 72 hours after the reopening.
    app.clock.set(start + 201 * HOUR);
    update(&app, id, json!({"status": "pending"})).await;
    app.clock.set(start + 202 * HOUR);
    update(&app, id, json!({"status": "open"})).await;
    let reopened = start + 202 * HOUR;
    assert_eq!(
        app.store
            .run_automations(reopened + 72 * HOUR - 1, 100)
            .await
            .unwrap()
            .fired,
        0
    );
    assert_eq!(
        app.store
            .run_automations(reopened + 72 * HOUR, 100)
            .await
            .unwrap()
            .fired,
        1
    );
    assert_eq!(show(&app, id).await["priority"], "urgent");
    assert_eq!(tasks_of(&app, id).await.len(), 4);
}

#[tokio::test]
async fn billing_escalation_routes_to_the_cs_manager_with_tasks() {
    let start = at("2026-03-10T14:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let admin = me(&app).await;
    let (finance, ..) = app.user_with_token(Role::Agent, None).await;
    app.store
        .put_setting("escalation_contacts", &json!({"Finance": [finance]}), start)
        .await
        .unwrap();
    let initech = org(&app, "Initech", 30_000).await;

    // P2 in Billing & Admin: nothing happens.
    let t = ticket(
        &app,
        json!({"subject": "Invoice twice", "group_id": 31, "organization_id": initech}),
    )
    .await;
    let id = t["id"].as_i64().unwrap();
    assert!(t["assignee_id"].is_null());
    assert!(tasks_of(&app, id).await.is_empty());

    // Raised to P1 (a trigger on update): routed and tasks made.
    app.clock.set(start + HOUR);
    let t = update(&app, id, json!({"priority": "high"})).await;
    assert_eq!(t["assignee_id"], admin, "the CS Manager is the first admin");
    let tasks = tasks_of(&app, id).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let for_finance = tasks.iter().find(|k| k["owner_id"] == finance).unwrap();
    assert!(
        for_finance["title"]
            .as_str()
            .unwrap()
            .starts_with("Finance: review billing escalation")
    );
    assert!(for_finance["due_at"].is_null());
    let follow_up = tasks.iter().find(|k| k["owner_id"] == admin).unwrap();
    assert_eq!(
        follow_up["due_at"], "2026-03-11T15:00:00Z",
        "due 24 h after the escalation"
    );
    assert_eq!(follow_up["status"], "not-started");

    // P0 is still "P1 or higher": the same episode.
    update(&app, id, json!({"priority": "urgent"})).await;
    assert_eq!(tasks_of(&app, id).await.len(), 2);
    // Without a Finance contact, the CS Manager owns the finance task.
    app.store
        .put_setting("escalation_contacts", &json!({}), start)
        .await
        .unwrap();
    let t2 = ticket(&app, json!({"group_id": 3, "priority": "urgent"})).await;
    let owners: Vec<Value> = tasks_of(&app, t2["id"].as_i64().unwrap())
        .await
        .iter()
        .map(|k| k["owner_id"].clone())
        .collect();
    assert_eq!(owners, vec![json!(admin), json!(admin)]);
}

#[tokio::test]
async fn rules_are_validated_and_only_admins_write_them() {
    let start = at("2026-03-10T14:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let (_, agent_email, agent_token) = app.user_with_token(Role::Agent, None).await;
    let (_, viewer_email, viewer_token) = app.user_with_token(Role::Viewer, None).await;

    // Everything wrong with a rule comes back at once, by path.
    let bad = json!({"trigger": {"title": "Broken",
        "conditions": {"all": [{"field": "colour", "operator": "is", "value": "red"},
                               {"field": "priority", "operator": "is", "value": "critical"},
                               {"field": "hours_since_created", "operator": "greater_than_or_equal", "value": 2}]},
        "actions": [{"field": "notify_channel", "value": {"channel": "alerts", "text": "{{ticket.colour}}"}},
                    {"field": "launch_rocket", "value": true}]}});
    let resp = app
        .admin(Method::POST, "/api/v2/triggers.json")
        .json(&bad)
        .send()
        .await
        .unwrap();
    let err = json_of(resp, 422).await;
    assert_eq!(err["error"], "RecordInvalid");
    let details = err["details"].as_object().unwrap();
    for path in [
        "trigger.conditions.all[0].field",
        "trigger.conditions.all[1].value",
        "trigger.conditions",
        "trigger.actions[0].value.channel",
        "trigger.actions[0].value.text",
        "trigger.actions[1].field",
    ] {
        assert!(details.contains_key(path), "{path} missing from {err}");
    }
    // An automation needs a time condition; references must exist.
    for (path, body, field) in [
        (
            "/api/v2/automations.json",
            json!({"automation": {"title": "No clock", "conditions": {"all": [{"field": "status", "operator": "is", "value": "open"}]},
                                  "actions": [{"field": "add_tags", "value": "x"}]}}),
            "automation.conditions.all",
        ),
        (
            "/api/v2/triggers.json",
            json!({"trigger": {"title": "Ghost group", "conditions": {"all": [{"field": "group_id", "operator": "is", "value": 999}]},
                               "actions": [{"field": "add_tags", "value": "x"}]}}),
            "conditions.all[0].value",
        ),
        (
            "/api/v2/triggers.json",
            json!({"trigger": {"conditions": {"all": [{"field": "status", "operator": "is", "value": "open"}]}}}),
            "trigger.title",
        ),
    ] {
        let resp = app
            .admin(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = json_of(resp, 422).await;
        assert!(
            err["details"].get(field).is_some(),
            "{field} missing from {err}"
        );
    }

    // Staff read, only admins write.
    let rule = json!({"trigger": {"title": "VIP heads-up",
        "conditions": {"all": [{"field": "tags", "operator": "includes", "value": "vip"}], "any": []},
        "actions": [{"field": "add_tags", "value": "watched"},
                    {"field": "notify_channel", "value": {"channel": "#escalations", "text": "VIP ticket #{{ticket.id}}"}}]}});
    let resp = app
        .request_as(
            Method::POST,
            "/api/v2/triggers.json",
            &agent_email,
            &agent_token,
        )
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .request_as(
            Method::GET,
            "/api/v2/triggers.json",
            &viewer_email,
            &viewer_token,
        )
        .send()
        .await
        .unwrap();
    let list = json_of(resp, 200).await;
    assert_eq!(list["count"], 2, "the two seeded triggers");
    let created = app.post_json("/api/v2/triggers.json", rule).await["trigger"].clone();
    let rid = created["id"].as_i64().unwrap();
    assert_eq!(created["position"], 4);
    assert_eq!(created["conditions"]["all"][0]["value"], "vip");

    let t = ticket(&app, json!({"tags": ["vip"]})).await;
    assert_eq!(t["tags"], json!(["vip", "watched"]));
    // Deactivated, it does nothing; the automations path does not know it.
    let off = app
        .put_json(
            &format!("/api/v2/triggers/{rid}.json"),
            json!({"trigger": {"active": false}}),
        )
        .await;
    assert_eq!(off["trigger"]["active"], false);
    let t = ticket(&app, json!({"tags": ["vip"]})).await;
    assert_eq!(t["tags"], json!(["vip"]));
    let resp = app
        .admin(Method::GET, &format!("/api/v2/automations/{rid}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app
        .admin(Method::DELETE, &format!("/api/v2/triggers/{rid}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .admin(Method::GET, &format!("/api/v2/triggers/{rid}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(
        app.get_json("/api/v2/openapi.json").await["paths"]["/api/v2/triggers/{id}"]["put"]
            .is_object()
    );
}

#[tokio::test]
async fn rules_that_undo_each_other_settle_and_new_automations_reach_old_tickets() {
    let start = at("2026-03-10T14:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let admin = me(&app).await;
    // Two triggers that undo each other: the cascade stops once each fired
    // for its episode, and the request succeeds.
    for (from, to) in [("open", "pending"), ("pending", "open")] {
        app.post_json(
            "/api/v2/triggers.json",
            json!({"trigger": {"title": format!("{from} to {to}"),
                "conditions": {"all": [{"field": "status", "operator": "is", "value": from},
                                       {"field": "tags", "operator": "includes", "value": "flip"}]},
                "actions": [{"field": "status", "value": to}]}}),
        )
        .await;
    }
    let t = ticket(&app, json!({"tags": ["flip"], "assignee_id": admin})).await;
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["status"], "open");
    assert_eq!(rule_audits(&app, id).await.len(), 2);

    // A ticket pending since before an automation existed is reached by
    // the new rule's sweep.
    let old = ticket(
        &app,
        json!({"assignee_id": admin, "status": "pending", "subject": "Waiting"}),
    )
    .await;
    let oid = old["id"].as_i64().unwrap();
    app.clock.set(start + 10 * HOUR);
    app.post_json(
        "/api/v2/automations.json",
        json!({"automation": {"title": "Nudge stale pending",
            "conditions": {"all": [{"field": "status", "operator": "is", "value": "pending"},
                                   {"field": "hours_since_updated", "operator": "greater_than_or_equal", "value": 24}]},
            "actions": [{"field": "add_tags", "value": "stale"}, {"field": "escalate"}]}}),
    )
    .await;
    let run = app
        .store
        .run_automations(start + 23 * HOUR, 100)
        .await
        .unwrap();
    assert_eq!((run.swept, run.fired), (1, 0), "{run:?}");
    let run = app
        .store
        .run_automations(start + 24 * HOUR, 100)
        .await
        .unwrap();
    assert_eq!(run.fired, 1, "{run:?}");
    assert!(
        show(&app, oid).await["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("stale"))
    );
    let escalations = app
        .get_json(&format!("/api/v2/tickets/{oid}/escalations.json"))
        .await;
    assert_eq!(escalations["escalations"][0]["trigger"], "rule");
}

#[tokio::test]
async fn tasks_crud_filters_and_roles() {
    let start = at("2026-03-10T14:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(start)).await;
    let admin = me(&app).await;
    let acme = org(&app, "Acme Tasks", 20_000).await;
    let (agent, agent_email, agent_token) = app.user_with_token(Role::Agent, None).await;
    let (_, viewer_email, viewer_token) = app.user_with_token(Role::Viewer, None).await;
    let (viewer_id, ..) = app.user_with_token(Role::Viewer, None).await;
    let (_, csm_email, csm_token) = app.user_with_token(Role::Csm, None).await;
    let (_, end_email, end_token) = app.user_with_token(Role::EndUser, Some(acme)).await;
    let support = ticket(&app, json!({"group_id": 1, "organization_id": acme})).await["id"]
        .as_i64()
        .unwrap();
    let billing = ticket(&app, json!({"group_id": 3})).await["id"]
        .as_i64()
        .unwrap();

    // Create: the ticket's organization is the task's unless it names one.
    let created = app
        .post_json(
            "/api/v2/tasks.json",
            json!({"task": {"title": "Call the customer back", "owner_id": agent, "priority": "P1",
                            "due_at": "2026-03-11T14:00:00Z", "ticket_id": support}}),
        )
        .await["task"]
        .clone();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["organization_id"], acme);
    assert_eq!(created["priority"], "high");
    assert_eq!(created["status"], "not-started");
    assert_eq!(created["created_by"], json!({"type": "user", "id": admin}));
    app.post_json(
        "/api/v2/tasks.json",
        json!({"task": {"title": "Check the invoice", "ticket_id": billing, "status": "in-progress"}}),
    )
    .await;

    // Filters.
    let mine = app
        .get_json(&format!("/api/v2/tasks.json?owner_id={agent}"))
        .await;
    assert_eq!(mine["count"], 1);
    let busy = app.get_json("/api/v2/tasks.json?status=in-progress").await;
    assert_eq!(busy["tasks"][0]["title"], "Check the invoice");
    let by_org = app
        .get_json(&format!("/api/v2/tasks.json?organization_id={acme}"))
        .await;
    assert_eq!(by_org["count"], 1);

    // Completing stamps the time; reopening clears it.
    app.clock.set(start + HOUR);
    let done = app
        .put_json(
            &format!("/api/v2/tasks/{id}.json"),
            json!({"task": {"status": "completed"}}),
        )
        .await;
    assert_eq!(done["task"]["completed_at"], "2026-03-10T15:00:00Z");
    let again = app
        .put_json(
            &format!("/api/v2/tasks/{id}.json"),
            json!({"task": {"status": "blocked", "owner_id": null}}),
        )
        .await;
    assert!(again["task"]["completed_at"].is_null());
    assert!(again["task"]["owner_id"].is_null());

    // Validation.
    for (body, field) in [
        (json!({"task": {"owner_id": agent}}), "task.title"),
        (
            json!({"task": {"title": "x", "priority": "critical"}}),
            "task.priority",
        ),
        (
            json!({"task": {"title": "x", "status": "done"}}),
            "task.status",
        ),
        (
            json!({"task": {"title": "x", "due_at": "tomorrow"}}),
            "task.due_at",
        ),
        (
            json!({"task": {"title": "x", "owner_id": viewer_id}}),
            "owner_id",
        ),
        (
            json!({"task": {"title": "x", "ticket_id": 999_999}}),
            "ticket_id",
        ),
    ] {
        let resp = app
            .admin(Method::POST, "/api/v2/tasks.json")
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = json_of(resp, 422).await;
        assert!(
            err["details"].get(field).is_some(),
            "{field} missing from {err}"
        );
    }

    // Roles: viewers read only; end users not at all; tasks of tickets a
    // role cannot read stay invisible to it.
    let as_ =
        |email: &str, token: &str, m: Method, path: &str| app.request_as(m, path, email, token);
    let resp = as_(
        &viewer_email,
        &viewer_token,
        Method::GET,
        "/api/v2/tasks.json",
    )
    .send()
    .await
    .unwrap();
    assert_eq!(json_of(resp, 200).await["count"], 2);
    let resp = as_(
        &viewer_email,
        &viewer_token,
        Method::POST,
        "/api/v2/tasks.json",
    )
    .json(&json!({"task": {"title": "x"}}))
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = as_(
        &viewer_email,
        &viewer_token,
        Method::DELETE,
        &format!("/api/v2/tasks/{id}.json"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = as_(&end_email, &end_token, Method::GET, "/api/v2/tasks.json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = as_(&csm_email, &csm_token, Method::GET, "/api/v2/tasks.json")
        .send()
        .await
        .unwrap();
    let seen = json_of(resp, 200).await;
    assert_eq!(seen["count"], 1, "CSMs do not read Billing tickets: {seen}");
    let resp = as_(
        &agent_email,
        &agent_token,
        Method::POST,
        "/api/v2/tasks.json",
    )
    .json(&json!({"task": {"title": "Peek", "ticket_id": billing}}))
    .send()
    .await
    .unwrap();
    assert!(
        json_of(resp, 422).await["details"]
            .get("ticket_id")
            .is_some()
    );
    let resp = as_(
        &agent_email,
        &agent_token,
        Method::POST,
        "/api/v2/tasks.json",
    )
    .json(&json!({"task": {"title": "Mine", "ticket_id": support}}))
    .send()
    .await
    .unwrap();
    let mine = json_of(resp, 201).await;
    assert_eq!(mine["task"]["created_by"]["type"], "user");

    // Delete.
    let resp = app
        .admin(Method::DELETE, &format!("/api/v2/tasks/{id}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .admin(Method::GET, &format!("/api/v2/tasks/{id}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 404).await["error"], "RecordNotFound");
}
