//! The feedback loop (policies.md §11) and the Customer Advisory Board
//! (§12): themes that dedupe and merge with distinct-account counts,
//! decisions told once to every requester through the outbox, the shipped
//! notice, CSV and ticket intake, metrics; CAB eligibility explained,
//! members and terms, and the follow-up tasks after a QBR.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

async fn item(app: &TestApp, body: Value) -> Value {
    app.post_json(
        "/api/v2/feedback_items.json",
        json!({"feedback_item": body}),
    )
    .await["feedback_item"]
        .clone()
}

async fn emails_for_theme(app: &TestApp, theme: i64) -> Vec<Value> {
    let outbox = app.get_json("/api/v2/outbox.json?kind=email").await;
    outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["payload"]["feedback_theme_id"] == theme)
        .map(|m| m["payload"].clone())
        .collect()
}

#[tokio::test]
async fn themes_merge_count_accounts_and_decisions_reach_every_requester_once() {
    let t0 = parse_rfc3339("2026-03-10T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let a = app.org("Feedback A", false).await;
    let b = app.org("Feedback B", false).await;
    let (u1, e1, _) = app.user_with_token(Role::EndUser, Some(a)).await;
    let (u2, _, _) = app.user_with_token(Role::EndUser, Some(a)).await;
    let (u3, e3, t3) = app.user_with_token(Role::EndUser, Some(b)).await;

    // Two items from account A and one duplicate title: one theme, one account.
    let i1 = item(
        &app,
        json!({"source": "nps_survey", "category": "Product", "sentiment": "negative",
        "text": "We need SSO", "organization_id": a, "user_id": u1, "theme": "Single sign-on"}),
    )
    .await;
    let sso = i1["theme_id"].as_i64().unwrap();
    let i2 = item(
        &app,
        json!({"source": "qbr_cab", "category": "product", "sentiment": "neutral",
        "text": "SSO please", "organization_id": a, "user_id": u2, "theme": "single sign-on"}),
    )
    .await;
    assert_eq!(i2["theme_id"], sso, "same title, same theme");
    // Account B filed it under another title: a second theme, merged below.
    let i3 = item(
        &app,
        json!({"source": "advisory_interview", "category": "product", "sentiment": "negative",
        "text": "Okta login", "organization_id": b, "user_id": u3, "theme": "SAML login"}),
    )
    .await;
    let saml = i3["theme_id"].as_i64().unwrap();
    assert_ne!(saml, sso);
    let t = app
        .get_json(&format!("/api/v2/feedback_themes/{sso}.json"))
        .await;
    assert_eq!(
        (
            t["feedback_theme"]["items_count"].as_i64(),
            t["feedback_theme"]["accounts_count"].as_i64()
        ),
        (Some(2), Some(1))
    );

    let merged = json_of(
        app.admin(
            Method::POST,
            &format!("/api/v2/feedback_themes/{sso}/merge.json"),
        )
        .json(&json!({"theme_ids": [saml]}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(merged["feedback_theme"]["items_count"], 3);
    assert_eq!(merged["feedback_theme"]["accounts_count"], 2);
    let gone = app
        .get_json(&format!("/api/v2/feedback_themes/{saml}.json"))
        .await;
    assert_eq!(gone["feedback_theme"]["merged_into_id"], sso);
    let list = app.get_json("/api/v2/feedback_themes.json").await;
    assert_eq!(list["count"], 1, "{list}");
    let items = app
        .get_json(&format!("/api/v2/feedback_items.json?theme_id={sso}"))
        .await;
    assert_eq!(items["count"], 3);
    let items = app
        .get_json(&format!(
            "/api/v2/feedback_items.json?organization_id={a}&sentiment=negative"
        ))
        .await;
    assert_eq!(items["count"], 1);
    // Merging into itself or a missing theme is refused.
    for bad in [
        json!({"theme_ids": [sso]}),
        json!({"theme_ids": [999999]}),
        json!({"theme_ids": "x"}),
        json!({}),
    ] {
        let resp = app
            .admin(
                Method::POST,
                &format!("/api/v2/feedback_themes/{sso}/merge.json"),
            )
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 422, "{bad}");
    }

    // Decisions are validated per §11.
    app.clock.set(t0 + 2 * 86_400);
    let decide = |body: Value| {
        app.admin(
            Method::POST,
            &format!("/api/v2/feedback_themes/{sso}/decisions.json"),
        )
        .json(&json!({"feedback_decision": body}))
        .send()
    };
    for bad in [
        json!({"decision": "roadmap"}),
        json!({"decision": "roadmap", "target_release": "2026-12-01"}),
        json!({"decision": "defer"}),
        json!({"decision": "reject", "reason": "out of scope"}),
        json!({"decision": "maybe"}),
        json!({}),
    ] {
        let resp = decide(bad.clone()).await.unwrap();
        let body = json_of(resp, 422).await;
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let ok = json!({"decision": "roadmap", "target_release": "2026-06-30"});
    let d = json_of(decide(ok.clone()).await.unwrap(), 201).await;
    assert_eq!(d["feedback_decision"]["target_release"], "2026-06-30");
    assert_eq!(d["notified"], 3);
    let mails = emails_for_theme(&app, sso).await;
    assert_eq!(mails.len(), 3, "one e-mail per requester");
    let mut to: Vec<&str> = mails.iter().map(|m| m["to"].as_str().unwrap()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 3);
    assert!(to.contains(&e1.as_str()) && to.contains(&e3.as_str()));
    assert!(mails[0]["text"].as_str().unwrap().contains("2026-06-30"));
    // A retry of the same decision records nothing and sends nothing.
    let again = json_of(decide(ok).await.unwrap(), 200).await;
    assert_eq!(again["notified"], 0);
    assert_eq!(emails_for_theme(&app, sso).await.len(), 3);
    let ds = app
        .get_json(&format!("/api/v2/feedback_themes/{sso}/decisions.json"))
        .await;
    assert_eq!(ds["count"], 1);

    // Shipped: every requester hears again, once.
    let ship = |path: String| app.admin(Method::POST, &path).send();
    let s = json_of(
        ship(format!("/api/v2/feedback_themes/{sso}/shipped.json"))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        (
            s["feedback_theme"]["status"].as_str(),
            s["notified"].as_i64()
        ),
        (Some("shipped"), Some(3))
    );
    let s = json_of(
        ship(format!("/api/v2/feedback_themes/{sso}/shipped.json"))
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(s["notified"], 0);
    let mails = emails_for_theme(&app, sso).await;
    assert_eq!(mails.len(), 6);
    assert_eq!(
        mails
            .iter()
            .filter(|m| m["subject"].as_str().unwrap().starts_with("Shipped"))
            .count(),
        3
    );
    // A theme without an accepted decision cannot ship.
    let other = app
        .post_json(
            "/api/v2/feedback_themes.json",
            json!({"feedback_theme": {"title": "Dark mode", "category": "product"}}),
        )
        .await["feedback_theme"]["id"]
        .as_i64()
        .unwrap();
    json_of(
        ship(format!("/api/v2/feedback_themes/{other}/shipped.json"))
            .await
            .unwrap(),
        422,
    )
    .await;

    // CSV import; errors name the line and nothing is imported.
    let csv = "source,category,sentiment,text,organization_id,theme\n\
               pulse_survey,Training,positive,\"Great onboarding, thanks\",,\n\
               implementation_retro,Implementation,negative,Data import was slow,{a},Import speed\n"
        .replace("{a}", &a.to_string());
    let resp = app
        .admin(Method::POST, "/api/v2/feedback_items/import")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 201).await["imported"], 2);
    let bad = "source,category,sentiment,text,organization_id,theme\npulse_survey,training,positive,ok,,\nfax,product,neutral,x,,\n";
    let resp = app
        .admin(Method::POST, "/api/v2/feedback_items/import")
        .header("content-type", "text/csv")
        .body(bad)
        .send()
        .await
        .unwrap();
    let body = json_of(resp, 422).await;
    assert!(body.to_string().contains("line 3"), "{body}");
    let bad_org = "source,category,sentiment,text,organization_id,theme\npulse_survey,training,positive,ok,424242,\n";
    let resp = app
        .admin(Method::POST, "/api/v2/feedback_items/import")
        .body(bad_org)
        .send()
        .await
        .unwrap();
    assert!(json_of(resp, 422).await.to_string().contains("line 2"));

    // A ticket tagged `feedback` becomes an item, once.
    let tk = app
        .post_json("/api/v2/tickets.json", json!({"ticket": {"subject": "Idea: bulk edit", "comment": {"body": "Please add bulk edit"},
            "requester_id": u1, "tags": ["feedback"]}}))
        .await;
    let ticket = tk["ticket"]["id"].as_i64().unwrap();
    let from_tickets = app
        .get_json("/api/v2/feedback_items.json?source=support_tickets")
        .await;
    assert_eq!(from_tickets["count"], 1, "{from_tickets}");
    assert_eq!(from_tickets["feedback_items"][0]["ticket_id"], ticket);
    assert_eq!(from_tickets["feedback_items"][0]["organization_id"], a);
    let n = json_of(
        app.admin(Method::POST, "/api/v2/feedback_items/import_tickets.json")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(n["imported"], 0);

    // Metrics over March.
    let m = app
        .get_json("/api/v2/feedback/metrics.json?from=2026-03-01&to=2026-03-31")
        .await["feedback_metrics"]
        .clone();
    assert_eq!(m["items_count"], 6, "{m}");
    assert_eq!(m["by_source"]["support_tickets"], 1);
    assert_eq!(m["by_sentiment"]["negative"], 3);
    assert_eq!(m["by_category"]["product"], 3);
    assert_eq!(m["top_themes"][0]["id"], sso);
    assert_eq!(m["top_themes"][0]["accounts_count"], 2);
    assert_eq!(m["mean_days_to_decision"], 2.0);
    assert_eq!(
        (m["accepted_count"].as_i64(), m["shipped_count"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(m["share_implemented"], 1.0);
    for q in [
        "from=yesterday",
        "from=2026-04-01&to=2026-03-01",
        "source=x",
    ] {
        let path = if q.starts_with("source") {
            format!("/api/v2/feedback_items.json?{q}")
        } else {
            format!("/api/v2/feedback/metrics.json?{q}")
        };
        let resp = app.admin(Method::GET, &path).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{q}");
        assert!(json_of(resp, 400).await["error"].is_string());
    }

    // End users see none of it.
    for (m, path) in [
        (Method::GET, "/api/v2/feedback_items.json"),
        (Method::GET, "/api/v2/feedback_themes.json"),
        (Method::GET, "/api/v2/feedback/metrics.json"),
    ] {
        let resp = app.request_as(m, path, &e3, &t3).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{path}");
    }
    let resp = app
        .request_as(Method::POST, "/api/v2/feedback_items.json", &e3, &t3)
        .json(&json!({"feedback_item": {"source": "nps_survey", "category": "product", "sentiment": "positive", "text": "hi"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // Viewers read but do not write; a merged theme takes no decision.
    let (_, ve, vt) = app.user_with_token(Role::Viewer, None).await;
    let resp = app
        .request_as(Method::GET, "/api/v2/feedback_themes.json", &ve, &vt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let resp = app
        .request_as(
            Method::POST,
            &format!("/api/v2/feedback_themes/{sso}/shipped.json"),
            &ve,
            &vt,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let resp = app
        .admin(
            Method::POST,
            &format!("/api/v2/feedback_themes/{saml}/decisions.json"),
        )
        .json(&json!({"feedback_decision": {"decision": "backlog"}}))
        .send()
        .await
        .unwrap();
    assert!(json_of(resp, 409).await["error"].is_string());
    // Bad item bodies are 4xx JSON.
    for bad in [
        json!({"feedback_item": {"source": "twitter", "category": "product", "sentiment": "positive", "text": "x"}}),
        json!({"feedback_item": {"source": "nps_survey", "category": "product", "sentiment": "positive", "text": "  "}}),
        json!({"feedback_item": {"source": "nps_survey", "category": "product", "sentiment": "positive", "text": "x", "organization_id": 987654}}),
        json!({"feedback_item": {"source": "nps_survey", "category": "product", "sentiment": "positive", "text": "x", "theme_id": 987654}}),
        json!({"feedback_item": "x"}),
        json!([1]),
    ] {
        let resp = app
            .admin(Method::POST, "/api/v2/feedback_items.json")
            .json(&bad)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status), "{bad}: {status}");
        assert!(json_of(resp, status).await["error"].is_string(), "{bad}");
    }
}

#[tokio::test]
async fn advisory_board_eligibility_members_and_qbr_follow_ups() {
    let t0 = parse_rfc3339("2026-03-10T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let good = app.org("Board Worthy", false).await;
    let small = app.org("Small Fry", false).await;
    app.put_json(
        &format!("/api/v2/organizations/{good}.json"),
        json!({"organization": {"acv_cents": 6_000_000, "contract_start": "2025-06-01", "expansion_potential_cents": 2_000_000,
            "industry": "fintech", "company_size": "200-1k"}}),
    )
    .await;
    app.put_json(
        &format!("/api/v2/organizations/{small}.json"),
        json!({"organization": {"acv_cents": 1_000_000, "contract_start": "2026-01-01"}}),
    )
    .await;
    app.post_json(
        &format!("/api/v2/organizations/{good}/measurements.json"),
        json!({"measurements": [
            {"metric": "user_adoption", "field": "dau_pct", "value": 20, "measured_at": "2026-02-01T12:00:00Z"},
            {"metric": "user_adoption", "field": "dau_pct", "value": 45, "measured_at": "2026-03-01T12:00:00Z"}]}),
    )
    .await;

    let e = app
        .get_json(&format!(
            "/api/v2/organizations/{good}/cab_eligibility.json"
        ))
        .await;
    assert_eq!(e["eligible"], true, "{e}");
    let crit = e["criteria"].as_array().unwrap();
    let keys: Vec<&str> = crit.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["acv", "tenure", "active_usage", "expansion_or_reference"]
    );
    assert!(
        crit.iter()
            .all(|c| c["met"] == true && c["evidence"].is_string())
    );
    assert!(
        crit[2]["evidence"].as_str().unwrap().contains("45.0"),
        "the latest DAU counts: {e}"
    );

    let e = app
        .get_json(&format!(
            "/api/v2/organizations/{small}/cab_eligibility.json"
        ))
        .await;
    assert_eq!(e["eligible"], false);
    let met: Vec<bool> = e["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["met"].as_bool().unwrap())
        .collect();
    assert_eq!(met, [false, false, false, false], "{e}");
    let e = app
        .get_json(&format!(
            "/api/v2/organizations/{small}/cab_eligibility.json?reference=true"
        ))
        .await;
    assert_eq!(e["criteria"][3]["met"], true);

    let c = app.get_json("/api/v2/cab/candidates.json").await;
    let ids: Vec<i64> = c["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["organization_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [good]);
    assert_eq!(c["candidates"][0]["industry"], "fintech");
    assert_eq!(c["candidates"][0]["company_size"], "200-1k");

    // Members: eligibility checked, the term starts on the next October 1.
    let resp = app
        .admin(Method::POST, "/api/v2/cab/members.json")
        .json(&json!({"cab_member": {"organization_id": small}}))
        .send()
        .await
        .unwrap();
    let body = json_of(resp, 422).await;
    assert!(
        body.to_string().contains("acv") && body.to_string().contains("tenure"),
        "{body}"
    );
    let m = app
        .post_json(
            "/api/v2/cab/members.json",
            json!({"cab_member": {"organization_id": good}}),
        )
        .await["cab_member"]
        .clone();
    assert_eq!(
        (m["term_start"].as_str(), m["term_end"].as_str()),
        (Some("2026-10-01"), Some("2027-09-30"))
    );
    let resp = app
        .admin(Method::POST, "/api/v2/cab/members.json")
        .json(&json!({"cab_member": {"organization_id": good}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
    assert_eq!(
        app.get_json("/api/v2/cab/review.json?year=2027").await["count"],
        1
    );
    assert_eq!(
        app.get_json("/api/v2/cab/review.json?year=2026").await["count"],
        0
    );
    let resp = app
        .admin(Method::GET, "/api/v2/cab/review.json?year=abc")
        .send()
        .await
        .unwrap();
    json_of(resp, 400).await;

    // Meetings on the quarterly dates, agenda 2 weeks and prep call 1 week before.
    let resp = app
        .admin(Method::POST, "/api/v2/cab/meetings.json")
        .json(&json!({"cab_meeting": {"quarter_date": "2026-04-15"}}))
        .send()
        .await
        .unwrap();
    assert!(
        json_of(resp, 422)
            .await
            .to_string()
            .contains("quarter_date")
    );
    let mt = app
        .post_json(
            "/api/v2/cab/meetings.json",
            json!({"cab_meeting": {"quarter_date": "2026-03-15", "agenda": "Roadmap review"}}),
        )
        .await["cab_meeting"]
        .clone();
    assert_eq!(
        (mt["agenda_due"].as_str(), mt["prep_call_on"].as_str()),
        (Some("2026-03-01"), Some("2026-03-08"))
    );
    let id = mt["id"].as_i64().unwrap();

    // Held on Sunday 15 March: the summary is due Monday. The member's
    // term starts in October, so it is not on this board: no invitation,
    // no per-member follow-ups (those are in
    // `ended_members_and_per_member_follow_ups`).
    app.clock
        .set(parse_rfc3339("2026-03-15T18:00:00Z").unwrap());
    let held = json_of(
        app.admin(
            Method::POST,
            &format!("/api/v2/cab/meetings/{id}/held.json"),
        )
        .json(&json!({"cab_meeting": {"summary": "Three sessions, good energy"}}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(held["cab_meeting"]["invitee_member_ids"], json!([]));
    assert_eq!(
        held["cab_meeting"]["follow_up_task_ids"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let tasks = app.get_json("/api/v2/tasks.json").await;
    let due = |title: &str| {
        tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["title"] == title)
            .unwrap_or_else(|| panic!("{title} missing: {tasks}"))["due_at"]
            .clone()
    };
    assert_eq!(due("Send the CAB meeting summary"), "2026-03-16T14:00:00Z");
    let again = app
        .admin(
            Method::POST,
            &format!("/api/v2/cab/meetings/{id}/held.json"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 409);

    // End users cannot see the board.
    let (_, email, token) = app.user_with_token(Role::EndUser, Some(good)).await;
    for path in [
        format!("/api/v2/organizations/{good}/cab_eligibility.json"),
        "/api/v2/cab/members.json".into(),
        "/api/v2/cab/candidates.json".into(),
    ] {
        let resp = app
            .request_as(Method::GET, &path, &email, &token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{path}");
    }
    let resp = app
        .admin(
            Method::GET,
            "/api/v2/organizations/999999/cab_eligibility.json",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}

/// An account that meets the four §12 criteria on 2026-11-24.
async fn eligible_org(app: &TestApp, name: &str) -> i64 {
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": name, "acv_cents": 6_000_000, "contract_start": "2025-06-01",
                                    "expansion_potential_cents": 2_000_000}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    app.post_json(
        &format!("/api/v2/organizations/{org}/measurements.json"),
        json!({"measurements": [
            {"metric": "user_adoption", "field": "dau_pct", "value": 45, "measured_at": "2026-11-01T12:00:00Z"}]}),
    )
    .await;
    org
}

async fn add_member(app: &TestApp, org: i64) -> i64 {
    app.post_json(
        "/api/v2/cab/members.json",
        json!({"cab_member": {"organization_id": org, "term_start": "2026-10-01"}}),
    )
    .await["cab_member"]["id"]
        .as_i64()
        .unwrap()
}

async fn post(app: &TestApp, path: &str, body: Option<Value>, status: u16) -> Value {
    let mut req = app.admin(Method::POST, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.unwrap(), status).await
}

/// The account's advisory-board tasks (its project has others).
async fn org_tasks(app: &TestApp, org: i64) -> Vec<Value> {
    app.get_json(&format!(
        "/api/v2/tasks.json?organization_id={org}&per_page=100"
    ))
    .await["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["title"].as_str().unwrap().contains("CAB"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn ended_members_and_per_member_follow_ups() {
    let t0 = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let (a, b, c, d) = (
        eligible_org(&app, "Alpha Freight").await,
        eligible_org(&app, "Beta Health").await,
        eligible_org(&app, "Gamma Retail").await,
        eligible_org(&app, "Delta Energy").await,
    );
    // Alpha's CSM owns its project; Beta has none.
    let (csm, _, _) = app.user_with_token(Role::Csm, None).await;
    app.post_json(
        "/api/v2/projects.json",
        json!({"project": {"organization_id": a, "start_date": "2026-11-02", "owner_id": csm}}),
    )
    .await;
    let (ma, mb, mc) = (
        add_member(&app, a).await,
        add_member(&app, b).await,
        add_member(&app, c).await,
    );
    let members = app.get_json("/api/v2/cab/members.json").await;
    assert_eq!(members["active_count"], 3);

    // Ending a membership: a reason, a date not in the future, once.
    let end = format!("/api/v2/cab/members/{mc}/end.json");
    for bad in [
        json!({"cab_member": {}}),
        json!({"cab_member": {"reason": "  "}}),
        json!({"cab_member": {"reason": "Acquired", "ended_on": "2026-11-25"}}),
        json!({"cab_member": {"reason": "Acquired", "ended_on": "2026-02-30"}}),
        json!({"cab_member": {"reason": "Acquired", "ended_on": "2025-01-01"}}),
    ] {
        let body = post(&app, &end, Some(bad.clone()), 422).await;
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    let ended = post(
        &app,
        &end,
        Some(json!({"cab_member": {"reason": "Acquired by a competitor"}})),
        200,
    )
    .await["cab_member"]
        .clone();
    assert_eq!(
        (
            ended["status"].as_str(),
            ended["ended_on"].as_str(),
            ended["end_reason"].as_str()
        ),
        (
            Some("ended"),
            Some("2026-11-24"),
            Some("Acquired by a competitor")
        )
    );
    post(
        &app,
        &end,
        Some(json!({"cab_member": {"reason": "again"}})),
        409,
    )
    .await;
    post(
        &app,
        "/api/v2/cab/members/999999/end.json",
        Some(json!({"cab_member": {"reason": "x"}})),
        404,
    )
    .await;
    // No longer counted; the account may be proposed again.
    let members = app.get_json("/api/v2/cab/members.json").await;
    assert_eq!(
        (members["count"].as_i64(), members["active_count"].as_i64()),
        (Some(3), Some(2))
    );
    let active = app.get_json("/api/v2/cab/members.json?status=active").await;
    assert_eq!(active["count"], 2);
    let ended_list = app.get_json("/api/v2/cab/members.json?status=ended").await;
    assert_eq!(ended_list["cab_members"][0]["id"], mc);
    json_of(
        app.admin(Method::GET, "/api/v2/cab/members.json?status=gone")
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(
        app.get_json("/api/v2/cab/review.json?year=2027").await["count"],
        2
    );
    let candidates = app.get_json("/api/v2/cab/candidates.json").await;
    let ids: Vec<i64> = candidates["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["organization_id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&c) && !ids.contains(&a), "{candidates}");

    // The December QBR invites the two members on the board, not the ended one.
    let mt = app
        .post_json(
            "/api/v2/cab/meetings.json",
            json!({"cab_meeting": {"quarter_date": "2026-12-15", "agenda": "Roadmap"}}),
        )
        .await["cab_meeting"]
        .clone();
    assert_eq!(mt["invitee_member_ids"], json!([ma, mb]));
    let id = mt["id"].as_i64().unwrap();
    post(
        &app,
        &format!("/api/v2/cab/meetings/{id}/follow_ups.json"),
        None,
        409,
    )
    .await;

    // Held on Tuesday 15 December: the summary, and four tasks per member.
    app.clock
        .set(parse_rfc3339("2026-12-15T18:00:00Z").unwrap());
    let held = post(
        &app,
        &format!("/api/v2/cab/meetings/{id}/held.json"),
        None,
        200,
    )
    .await["cab_meeting"]
        .clone();
    assert_eq!(held["follow_up_task_ids"].as_array().unwrap().len(), 9);
    assert_eq!(held["member_follow_ups"].as_array().unwrap().len(), 8);
    let alpha = org_tasks(&app, a).await;
    assert_eq!(alpha.len(), 4, "{alpha:?}");
    assert!(
        alpha.iter().all(|t| t["owner_id"] == csm),
        "the account's CSM"
    );
    let due = |tasks: &[Value], prefix: &str| {
        tasks
            .iter()
            .find(|t| t["title"].as_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {tasks:?}"))["due_at"]
            .clone()
    };
    assert_eq!(due(&alpha, "Send a thank-you note"), "2026-12-16T14:00:00Z");
    assert_eq!(due(&alpha, "Schedule the 1:1"), "2026-12-22T14:00:00Z");
    assert_eq!(due(&alpha, "Complete the 1:1"), "2027-01-15T14:00:00Z");
    assert_eq!(
        due(&alpha, "Send the expansion proposal"),
        "2027-01-15T14:00:00Z"
    );
    assert!(
        alpha
            .iter()
            .all(|t| t["title"].as_str().unwrap().ends_with(": Alpha Freight"))
    );
    let all = app.get_json("/api/v2/tasks.json?per_page=100").await;
    let summary = all["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Send the CAB meeting summary")
        .unwrap()
        .clone();
    assert_eq!(summary["due_at"], "2026-12-16T14:00:00Z");
    let beta = org_tasks(&app, b).await;
    assert_eq!(beta.len(), 4);
    assert!(
        beta.iter().all(|t| t["owner_id"] == summary["owner_id"]),
        "no project: whoever recorded the meeting"
    );
    assert!(org_tasks(&app, c).await.is_empty(), "ended: no follow-ups");

    // A member added late gets its follow-ups on a re-run; none twice.
    let md = add_member(&app, d).await;
    let rerun = post(
        &app,
        &format!("/api/v2/cab/meetings/{id}/follow_ups.json"),
        None,
        200,
    )
    .await["cab_meeting"]
        .clone();
    assert_eq!(rerun["follow_up_task_ids"].as_array().unwrap().len(), 4);
    assert_eq!(rerun["invitee_member_ids"], json!([ma, mb, md]));
    let delta = org_tasks(&app, d).await;
    assert_eq!(due(&delta, "Send a thank-you note"), "2026-12-16T14:00:00Z");
    let again = post(
        &app,
        &format!("/api/v2/cab/meetings/{id}/follow_ups.json"),
        None,
        200,
    )
    .await["cab_meeting"]
        .clone();
    assert_eq!(again["follow_up_task_ids"], json!([]));
    assert_eq!(again["member_follow_ups"].as_array().unwrap().len(), 12);
    assert_eq!(org_tasks(&app, a).await.len(), 4);
    let listed = app.get_json("/api/v2/cab/meetings.json").await;
    assert_eq!(
        listed["cab_meetings"][0]["member_follow_ups"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    post(
        &app,
        "/api/v2/cab/meetings/999999/follow_ups.json",
        None,
        404,
    )
    .await;
}

#[tokio::test]
async fn feedback_notices_render_the_edited_templates() {
    let t0 = parse_rfc3339("2026-03-10T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Templated Co", false).await;
    let (user, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let theme = item(
        &app,
        json!({"source": "qbr_cab", "category": "product", "sentiment": "neutral", "text": "We need SSO",
               "organization_id": org, "user_id": user, "theme": "Single sign-on"}),
    )
    .await["theme_id"]
        .as_i64()
        .unwrap();

    // The two notices are editable defaults beside §16's eleven.
    let list = app.get_json("/api/v2/templates.json").await;
    let keys: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"feedback_decision") && keys.contains(&"feedback_shipped"));
    let t = app.get_json("/api/v2/templates/feedback_decision").await["template"].clone();
    assert_eq!(t["placeholders"]["feedback"][0], "title");
    // Placeholders are checked at save time, like the others.
    let resp = app
        .admin(Method::PUT, "/api/v2/templates/feedback_decision")
        .json(&json!({"template": {"text_body": "Hi {{ contact.first_name }},\n{{ feedback.titel }}"}}))
        .send()
        .await
        .unwrap();
    let body = json_of(resp, 422).await;
    assert!(body.to_string().contains("feedback.titel"), "{body}");
    let resp = app
        .admin(Method::PUT, "/api/v2/templates/feedback_shipped")
        .json(&json!({"template": {"subject": "{{ ticket.id }} shipped"}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 422).await;
    app.put_json(
        "/api/v2/templates/feedback_decision",
        json!({"template": {
            "subject": "Decision on {{ feedback.title }} ({{ feedback.decision }})",
            "text_body": "Hi {{ contact.first_name }}: {{ feedback.title }} is planned for {{ feedback.target_release }}. {{ agent.name }}\n"}}),
    )
    .await;

    // The decision e-mail is the edited template, through the outbox.
    let d = app
        .admin(
            Method::POST,
            &format!("/api/v2/feedback_themes/{theme}/decisions.json"),
        )
        .json(
            &json!({"feedback_decision": {"decision": "roadmap", "target_release": "2026-06-30"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(d, 201).await["notified"], 1);
    let mails = emails_for_theme(&app, theme).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["to"], email);
    assert_eq!(mails[0]["subject"], "Decision on Single sign-on (roadmap)");
    assert_eq!(
        mails[0]["text"],
        "Hi Test: Single sign-on is planned for 2026-06-30. Ada Admin"
    );
    // The HTML part was left as shipped.
    assert!(
        mails[0]["html"]
            .as_str()
            .unwrap()
            .contains("targeted for release by <strong>2026-06-30</strong>"),
        "{}",
        mails[0]["html"]
    );

    // Shipped: the default notice.
    let s = app
        .admin(
            Method::POST,
            &format!("/api/v2/feedback_themes/{theme}/shipped.json"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(s, 200).await["notified"], 1);
    let mails = emails_for_theme(&app, theme).await;
    let shipped = mails
        .iter()
        .find(|m| m["subject"] == "Shipped: Single sign-on")
        .expect("shipped notice");
    assert!(
        shipped["text"].as_str().unwrap().starts_with(
            "Hello Test end-user,\n\n\"Single sign-on\", which you asked for, has shipped."
        ),
        "{}",
        shipped["text"]
    );
}
