//! Surveys (policies.md §10): Zendesk-style CSAT on solved tickets, and the
//! NPS program with its public survey pages.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

async fn rate(
    app: &TestApp,
    ticket: i64,
    email: &str,
    token: &str,
    body: Value,
) -> reqwest::Response {
    app.request_as(
        Method::POST,
        &format!("/api/v2/tickets/{ticket}/satisfaction_rating.json"),
        email,
        token,
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn csat_rating_rules_and_listing() {
    let t0 = parse_rfc3339("2026-05-04T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Rated Co", false).await;
    let (customer, c_email, c_token) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (_, o_email, o_token) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (_, a_email, a_token) = app.user_with_token(Role::Agent, None).await;
    let mut tickets = vec![];
    for subject in ["Slow export", "Login loop"] {
        let t = app
            .post_json(
                "/api/v2/tickets.json",
                json!({"ticket": {"subject": subject, "comment": {"body": "help"}, "requester_id": customer}}),
            )
            .await;
        tickets.push(t["ticket"]["id"].as_i64().unwrap());
    }
    let (t1, t2) = (tickets[0], tickets[1]);
    let good = json!({"satisfaction_rating": {"score": "good", "comment": "Quick fix"}});

    // Not solved yet: 422, and no rating on the ticket.
    json_of(rate(&app, t1, &c_email, &c_token, good.clone()).await, 422).await;
    let shown = app.get_json(&format!("/api/v2/tickets/{t1}.json")).await;
    assert_eq!(shown["ticket"]["satisfaction_rating"], Value::Null);

    // Solving offers a rating in the same transaction.
    for t in [t1, t2] {
        app.put_json(
            &format!("/api/v2/tickets/{t}.json"),
            json!({"ticket": {"status": "solved", "comment": {"body": "Fixed", "public": true}}}),
        )
        .await;
    }
    let shown = app.get_json(&format!("/api/v2/tickets/{t1}.json")).await;
    assert_eq!(shown["ticket"]["satisfaction_rating"]["score"], "offered");
    let offered = app
        .get_json("/api/v2/satisfaction_ratings.json?score=offered")
        .await;
    assert_eq!(offered["count"], 2);

    // Only the requester rates: another end user of the org (who cannot
    // see the ticket) gets 404, an agent 403.
    json_of(rate(&app, t1, &o_email, &o_token, good.clone()).await, 404).await;
    json_of(rate(&app, t1, &a_email, &a_token, good.clone()).await, 403).await;
    // Bad input is a 422, never a 500.
    for bad in [
        json!({"satisfaction_rating": {"score": "meh"}}),
        json!({"satisfaction_rating": {"score": "offered"}}),
        json!({"satisfaction_rating": {"rating": 7}}),
        json!({"satisfaction_rating": {"score": "good", "rating": 2}}),
        json!({"satisfaction_rating": {}}),
    ] {
        json_of(rate(&app, t1, &c_email, &c_token, bad).await, 422).await;
    }

    let r = json_of(rate(&app, t1, &c_email, &c_token, good).await, 200).await;
    assert_eq!(r["satisfaction_rating"]["score"], "good");
    let id = r["satisfaction_rating"]["id"].as_i64().unwrap();
    // Re-rating updates the same row; a 1-5 rating of 3 counts as bad.
    app.clock.set(t0 + 60);
    let r = json_of(
        rate(
            &app,
            t1,
            &c_email,
            &c_token,
            json!({"satisfaction_rating": {"rating": 3, "comment": "Took a while"}}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(r["satisfaction_rating"]["id"], id);
    assert_eq!(r["satisfaction_rating"]["score"], "bad");
    assert_eq!(r["satisfaction_rating"]["rating"], 3);
    let r = json_of(
        rate(
            &app,
            t2,
            &c_email,
            &c_token,
            json!({"satisfaction_rating": {"rating": 5}}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(r["satisfaction_rating"]["score"], "good");

    let shown = app.get_json(&format!("/api/v2/tickets/{t1}.json")).await;
    assert_eq!(
        shown["ticket"]["satisfaction_rating"],
        json!({"id": id, "score": "bad", "comment": "Took a while"})
    );
    // Lists carry it too (one batched query per page).
    let list = app.get_json("/api/v2/tickets.json").await;
    let listed = list["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == t1)
        .unwrap();
    assert_eq!(listed["satisfaction_rating"]["score"], "bad");
    let one = app
        .get_json(&format!("/api/v2/satisfaction_ratings/{id}.json"))
        .await;
    assert_eq!(one["satisfaction_rating"]["ticket_id"], t1);
    assert_eq!(one["satisfaction_rating"]["organization_id"], org);

    let bad = app
        .get_json("/api/v2/satisfaction_ratings.json?score=bad")
        .await;
    assert_eq!(bad["count"], 1);
    let all = app.get_json("/api/v2/satisfaction_ratings.json").await;
    assert_eq!(all["count"], 2);
    let later = app
        .get_json(&format!(
            "/api/v2/satisfaction_ratings.json?start_time={}",
            t0 + 1
        ))
        .await;
    assert_eq!(later["count"], 0, "start_time filters on created_at");
    let resp = app
        .admin(Method::GET, "/api/v2/satisfaction_ratings.json?score=meh")
        .send()
        .await
        .unwrap();
    json_of(resp, 400).await;
    // End users cannot list.
    let resp = app
        .request_as(
            Method::GET,
            "/api/v2/satisfaction_ratings.json",
            &c_email,
            &c_token,
        )
        .send()
        .await
        .unwrap();
    json_of(resp, 403).await;
}

/// The survey links e-mailed to `to`, newest first.
pub async fn links_to(app: &TestApp, to: &str) -> Vec<String> {
    app.store
        .list_outbox(Some("email"), 1000)
        .await
        .unwrap()
        .iter()
        .filter(|m| m.payload["to"] == to)
        .filter_map(|m| {
            let text = m.payload["text"].as_str()?;
            let at = text.find("/s/")?;
            let token: String = text[at + 3..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            Some(token)
        })
        .collect()
}

async fn form_post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+").replace('&', "%26")))
        .collect::<Vec<_>>()
        .join("&");
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "survey pages are HTML"
    );
    (status, resp.text().await.unwrap())
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

pub async fn campaign(app: &TestApp, name: &str) -> i64 {
    app.post_json(
        "/api/v2/nps_campaigns.json",
        json!({"nps_campaign": {"name": name, "quarter": "2026-Q4", "send_at": "2026-11-02T14:00:00Z"}}),
    )
    .await["nps_campaign"]["id"]
        .as_i64()
        .unwrap()
}

pub async fn send(app: &TestApp, id: i64) -> Value {
    json_of(
        app.admin(
            Method::POST,
            &format!("/api/v2/nps_campaigns/{id}/send.json"),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await
}

#[tokio::test]
async fn an_nps_survey_answered_through_the_public_pages() {
    let t0 = parse_rfc3339("2026-11-02T14:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let (csm, _, _) = app.user_with_token(Role::Csm, None).await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Survey Co", "industry": "fintech", "acv_cents": 20_000_000, "contract_start": "2026-06-15"}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let churned = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Gone Co", "account_status": "churned"}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let mut people = vec![];
    for _ in 0..3 {
        people.push(app.user_with_token(Role::EndUser, Some(org)).await.1);
    }
    app.user_with_token(Role::EndUser, Some(churned)).await;

    // Before sending: no responses, no NPS (null, not 0), no rate.
    let c = campaign(&app, "Q4 2026").await;
    let r = app
        .get_json(&format!("/api/v2/nps_campaigns/{c}/report.json"))
        .await["report"]
        .clone();
    assert_eq!(r["nps"], Value::Null);
    assert_eq!(r["responses"], 0);
    assert_eq!(r["response_rate"], Value::Null);

    // Active accounts' contacts only; a campaign goes out once.
    assert_eq!(send(&app, c).await["sent"], 3);
    let resp = app
        .admin(
            Method::POST,
            &format!("/api/v2/nps_campaigns/{c}/send.json"),
        )
        .send()
        .await
        .unwrap();
    json_of(resp, 409).await;
    let tok: Vec<String> = {
        let mut v = vec![];
        for p in &people {
            let links = links_to(&app, p).await;
            assert_eq!(links.len(), 1);
            v.push(links[0].clone());
        }
        v
    };

    // The question page works without login, on a phone.
    let (status, html) = page(&app, &format!("/s/{}", tok[0])).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"name="viewport""#) && html.contains(r#"name="score""#));
    // No score: the question again, with the error.
    let (status, html) = form_post(&app, &format!("/s/{}", tok[0]), &[("reason", "x")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("Please pick a score"));

    // A detractor: stored, follow-ups created, the extended survey shown.
    let (status, html) = form_post(
        &app,
        &format!("/s/{}", tok[0]),
        &[("score", "3"), ("reason", "Exports are slow & flaky")],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("higher_rating"), "{html}");
    let tasks = app
        .get_json(&format!("/api/v2/tasks.json?organization_id={org}"))
        .await;
    let contact = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["title"]
                .as_str()
                .unwrap()
                .starts_with("Contact the detractor personally")
        })
        .expect("detractor contact task");
    assert_eq!(contact["due_at"], "2026-11-03T14:00:00Z", "within 24 h");
    assert_eq!(contact["priority"], "urgent");
    assert_eq!(contact["owner_id"], csm);
    // Detractors must say what would earn a higher rating.
    let (status, html) = form_post(
        &app,
        &format!("/s/{}/more", tok[0]),
        &[("renewal_likelihood", "Unsure")],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Please answer this question."), "{html}");
    assert!(html.contains("selected>Unsure"), "answers are kept: {html}");
    let (status, _) = form_post(
        &app,
        &format!("/s/{}/more", tok[0]),
        &[("higher_rating", "Faster exports"), ("vp_call", "yes")],
    )
    .await;
    assert_eq!(status, 200);

    // Reused: a clear page, 410, for the question and the extended survey.
    let (status, html) = form_post(&app, &format!("/s/{}", tok[0]), &[("score", "10")]).await;
    assert_eq!(status, 410);
    assert!(html.contains("Already answered"), "{html}");
    let (status, _) = page(&app, &format!("/s/{}", tok[0])).await;
    assert_eq!(status, 410);
    let (status, _) = form_post(
        &app,
        &format!("/s/{}/more", tok[0]),
        &[("higher_rating", "x")],
    )
    .await;
    assert_eq!(status, 410);
    // Unknown: 404, HTML.
    let (status, html) = page(&app, "/s/not-a-token").await;
    assert_eq!(status, 404);
    assert!(html.contains("not valid"));

    // A promoter: the extended survey has no required question.
    app.clock.set(t0 + 3600);
    let (status, _) = form_post(&app, &format!("/s/{}", tok[1]), &[("score", "10")]).await;
    assert_eq!(status, 200);
    let (status, _) = form_post(&app, &format!("/s/{}/more", tok[1]), &[]).await;
    assert_eq!(status, 200);
    let tasks = app
        .get_json(&format!("/api/v2/tasks.json?organization_id={org}"))
        .await;
    let thanks = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            t["title"]
                .as_str()
                .unwrap()
                .starts_with("Thank the promoter")
        })
        .unwrap();
    assert_eq!(thanks["due_at"], "2026-11-09T15:00:00Z", "within a week");

    // One reminder, to the one non-responder, with a fresh link.
    let r = app
        .admin(
            Method::POST,
            &format!("/api/v2/nps_campaigns/{c}/remind.json"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(r, 200).await["reminded"], 1);
    assert_eq!(links_to(&app, &people[2]).await.len(), 2);
    let r = app
        .admin(
            Method::POST,
            &format!("/api/v2/nps_campaigns/{c}/remind.json"),
        )
        .send()
        .await
        .unwrap();
    json_of(r, 409).await;

    let r = app
        .get_json(&format!("/api/v2/nps_campaigns/{c}/report.json"))
        .await["report"]
        .clone();
    assert_eq!(r["nps"], 0);
    assert_eq!(
        (r["promoters"].clone(), r["detractors"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(r["sent"], 3);
    assert_eq!(r["response_rate"], 67);
    assert_eq!(r["segments"]["tier"]["enterprise"]["responses"], 2);
    assert_eq!(r["segments"]["industry"]["fintech"]["nps"], 0);
    assert_eq!(r["segments"]["time_live"]["3-6 months"]["responses"], 2);
    let list = r["detractor_list"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["reason"], "Exports are slow & flaky");
    assert_eq!(list[0]["extended"]["higher_rating"], "Faster exports");

    // Eight days later the link has expired: a clear page, 410.
    app.clock.set(t0 + 8 * 24 * 3600);
    let (status, html) = page(&app, &format!("/s/{}", tok[2])).await;
    assert_eq!(status, 410);
    assert!(html.contains("expired"), "{html}");
    let (status, _) = form_post(&app, &format!("/s/{}", tok[2]), &[("score", "8")]).await;
    assert_eq!(status, 410);

    // Unsubscribing (from any link, even an expired one) is honoured on
    // the next send.
    let (status, html) = page(&app, &format!("/s/{}/unsubscribe", tok[2])).await;
    assert_eq!(status, 200);
    assert!(html.contains("Unsubscribed"));
    let next = campaign(&app, "Q4 2026, second wave").await;
    assert_eq!(send(&app, next).await["sent"], 2);
    assert_eq!(links_to(&app, &people[2]).await.len(), 2, "no new link");

    let trend = app.get_json("/api/v2/nps/trend.json").await;
    let quarters: Vec<&str> = trend["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["quarter"].as_str().unwrap())
        .collect();
    assert_eq!(quarters, ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]);
    assert_eq!(trend["trend"][3]["nps"], 0);
    assert_eq!(trend["trend"][0]["nps"], Value::Null);
}

#[tokio::test]
async fn nps_rounds_half_away_from_zero_in_the_report() {
    let t0 = parse_rfc3339("2026-11-02T14:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Rounding Co", false).await;
    let mut people = vec![];
    for _ in 0..8 {
        people.push(app.user_with_token(Role::EndUser, Some(org)).await.1);
    }
    let c = campaign(&app, "Rounding").await;
    assert_eq!(send(&app, c).await["sent"], 8);
    // 1 promoter, 7 passives: 12.5 → 13.
    for (i, p) in people.iter().enumerate() {
        let tok = links_to(&app, p).await[0].clone();
        let score = if i == 0 { "9" } else { "7" };
        let (status, _) = form_post(&app, &format!("/s/{tok}"), &[("score", score)]).await;
        assert_eq!(status, 200);
    }
    let r = app
        .get_json(&format!("/api/v2/nps_campaigns/{c}/report.json"))
        .await["report"]
        .clone();
    assert_eq!(r["nps"], 13);
    assert_eq!(r["shares"]["passives"], 88); // 87.5
    assert_eq!(r["shares"]["promoters"], 13);
    assert_eq!(r["response_rate"], 100);
    // Bad campaign input is a 422, not a 500; end users cannot see campaigns.
    let resp = app
        .admin(Method::POST, "/api/v2/nps_campaigns.json")
        .json(&json!({"nps_campaign": {"name": "x", "quarter": "2026-Q5", "audience": {"tiers": ["gold"]}}}))
        .send()
        .await
        .unwrap();
    json_of(resp, 422).await;
}

#[tokio::test]
async fn a_campaign_is_sent_when_its_time_comes() {
    let t0 = parse_rfc3339("2026-10-30T12:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Scheduled Co", false).await;
    let (_, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    // send_at is 2026-11-02T14:00:00Z (Monday 09:00 ET).
    let c = campaign(&app, "Scheduled").await;
    assert_eq!(
        app.store.send_due_campaigns(&app.base, t0).await.unwrap(),
        0
    );
    let at = parse_rfc3339("2026-11-02T14:00:00Z").unwrap();
    assert_eq!(
        app.store.send_due_campaigns(&app.base, at).await.unwrap(),
        1
    );
    assert_eq!(
        app.store
            .send_due_campaigns(&app.base, at + 60)
            .await
            .unwrap(),
        0
    );
    let shown = app
        .get_json(&format!("/api/v2/nps_campaigns/{c}.json"))
        .await;
    assert_eq!(shown["nps_campaign"]["status"], "sent");
    let links = links_to(&app, &email).await;
    assert_eq!(links.len(), 1);
    app.clock.set(at + 60);
    let (status, _) = page(&app, &format!("/s/{}", links[0])).await;
    assert_eq!(status, 200);
}

async fn campaign_json(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v2/nps_campaigns/{id}.json"))
        .await["nps_campaign"]
        .clone()
}

async fn report(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v2/nps_campaigns/{id}/report.json"))
        .await["report"]
        .clone()
}

async fn status_of(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = app.admin(method, path);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `POST` without a body, expecting 200.
async fn post_ok(app: &TestApp, path: &str) -> Value {
    json_of(app.admin(Method::POST, path).send().await.unwrap(), 200).await
}

/// Files feedback items under a theme (by title), as a CSM triaging.
async fn file_under(app: &TestApp, items: &[i64], theme: &str) {
    for id in items {
        let i = app
            .put_json(
                &format!("/api/v2/feedback_items/{id}.json"),
                json!({"feedback_item": {"theme": theme}}),
            )
            .await;
        assert!(i["feedback_item"]["theme_id"].is_i64(), "{i}");
    }
}

/// The feedback items of a source, oldest first: (id, user, campaign, text).
async fn items_from(app: &TestApp, source: &str) -> Vec<(i64, i64, Value, String)> {
    let items = app
        .get_json(&format!("/api/v2/feedback_items.json?source={source}"))
        .await;
    let mut out: Vec<(i64, i64, Value, String)> = items["feedback_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_i64().unwrap(),
                i["user_id"].as_i64().unwrap(),
                i["survey_campaign_id"].clone(),
                i["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort_by_key(|i| i.0);
    out
}

#[tokio::test]
async fn editing_closing_and_top_themes_of_an_nps_campaign() {
    let t0 = parse_rfc3339("2026-11-02T14:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let big = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Big Co", "acv_cents": 20_000_000}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let small = app.org("Small Co", false).await;
    let other = app.org("Elsewhere Co", false).await;
    let mut people = vec![];
    for org in [big, big, small, small] {
        let (id, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
        people.push((id, email));
    }
    let c = app
        .post_json(
            "/api/v2/nps_campaigns.json",
            json!({"nps_campaign": {"name": "Q4", "quarter": "2026-Q4", "send_at": "2026-11-09T14:00:00Z",
                                    "audience": {"tiers": ["enterprise"]}}}),
        )
        .await["nps_campaign"]
        .clone();
    assert_eq!(
        (c["kind"].as_str(), c["status"].as_str()),
        (Some("nps"), Some("draft"))
    );
    let c = c["id"].as_i64().unwrap();
    let path = format!("/api/v2/nps_campaigns/{c}.json");

    // A draft's audience, name and time can change; bad input is a 422.
    let edited = app
        .put_json(
            &path,
            json!({"nps_campaign": {"name": "Q4, everyone", "send_at": "2026-11-02T14:00:00Z",
                                    "audience": {"account_statuses": ["active"], "tiers": []}}}),
        )
        .await["nps_campaign"]
        .clone();
    assert_eq!(edited["name"], "Q4, everyone");
    assert_eq!(edited["audience"]["tiers"], json!([]));
    assert_eq!(edited["send_at"], "2026-11-02T14:00:00Z");
    for bad in [
        json!({"nps_campaign": {"audience": {"tiers": ["gold"]}}}),
        json!({"nps_campaign": {"audience": "everyone"}}),
        json!({"nps_campaign": {"name": ""}}),
        json!({"nps_campaign": {"kind": "pulse"}}),
        json!({"nps_campaign": {"send_at": "next week"}}),
    ] {
        let (status, body) = status_of(&app, Method::PUT, &path, Some(bad.clone())).await;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    assert_eq!(campaign_json(&app, c).await["name"], "Q4, everyone");

    // Sent to all four (the edit widened it); then the audience is frozen.
    assert_eq!(send(&app, c).await["sent"], 4);
    let (status, body) = status_of(
        &app,
        Method::PUT,
        &path,
        Some(json!({"nps_campaign": {"audience": {"tiers": ["enterprise"]}}})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let mut tok = vec![];
    for (_, email) in &people {
        tok.push(links_to(&app, email).await[0].clone());
    }

    // Three answers with reasons become feedback of this campaign.
    // Big Co, Small Co, Big Co.
    for (i, score, reason) in [
        (0, "3", "Exports are slow"),
        (2, "5", "Export timeouts"),
        (1, "10", "Great support"),
    ] {
        let (status, _) = form_post(
            &app,
            &format!("/s/{}", tok[i]),
            &[("score", score), ("reason", reason)],
        )
        .await;
        assert_eq!(status, 200);
    }
    let items = items_from(&app, "nps_survey").await;
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i.2 == json!(c)), "{items:?}");
    // A CSM files them under themes; an unrelated item of the same theme
    // from elsewhere does not count for the campaign.
    file_under(&app, &[items[0].0, items[1].0], "Slow exports").await;
    file_under(&app, &[items[2].0], "Support quality").await;
    app.post_json(
        "/api/v2/feedback_items.json",
        json!({"feedback_item": {"source": "advisory_interview", "category": "product", "sentiment": "negative",
                                 "text": "Exports crawl", "organization_id": other, "theme": "slow exports"}}),
    )
    .await;
    let r = report(&app, c).await;
    assert_eq!(
        r["top_themes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (
                t["title"].as_str().unwrap(),
                t["accounts_count"].as_i64().unwrap(),
                t["items_count"].as_i64().unwrap()
            ))
            .collect::<Vec<_>>(),
        [("Slow exports", 2, 2), ("Support quality", 1, 1)],
        "distinct accounts first: {r}"
    );

    // Closing: the open link and the extended survey answer 410 "closed",
    // reminders stop, unsubscribing still works; closing again is a no-op.
    app.clock.set(t0 + 3600);
    let closed =
        post_ok(&app, &format!("/api/v2/nps_campaigns/{c}/close.json")).await["nps_campaign"]
            .clone();
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_at"], "2026-11-02T15:00:00Z");
    let (status, html) = page(&app, &format!("/s/{}", tok[3])).await;
    assert_eq!(status, 410);
    assert!(html.contains("This survey is closed"), "{html}");
    let (status, html) = form_post(&app, &format!("/s/{}", tok[3]), &[("score", "9")]).await;
    assert_eq!(status, 410);
    assert!(html.contains("closed"), "{html}");
    let (status, _) = form_post(
        &app,
        &format!("/s/{}/more", tok[0]),
        &[("higher_rating", "Faster exports")],
    )
    .await;
    assert_eq!(status, 410);
    let (status, _) = status_of(
        &app,
        Method::POST,
        &format!("/api/v2/nps_campaigns/{c}/remind.json"),
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = page(&app, &format!("/s/{}/unsubscribe", tok[3])).await;
    assert_eq!(status, 200);
    app.clock.set(t0 + 7200);
    let again = post_ok(&app, &format!("/api/v2/nps_campaigns/{c}/close.json")).await;
    assert_eq!(again["nps_campaign"]["closed_at"], "2026-11-02T15:00:00Z");
    assert_eq!(report(&app, c).await["responses"], 3, "answers stay");
    let (status, _) = status_of(
        &app,
        Method::PUT,
        &path,
        Some(json!({"nps_campaign": {"name": "x"}})),
    )
    .await;
    assert_eq!(status, 409);

    // A closed draft is never sent, by the scheduler or by hand.
    let draft = campaign(&app, "Never sent").await;
    post_ok(&app, &format!("/api/v2/nps_campaigns/{draft}/close.json")).await;
    let later = parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
    assert_eq!(
        app.store
            .send_due_campaigns(&app.base, later)
            .await
            .unwrap(),
        0
    );
    let (status, body) = status_of(
        &app,
        Method::POST,
        &format!("/api/v2/nps_campaigns/{draft}/send.json"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = status_of(
        &app,
        Method::POST,
        "/api/v2/nps_campaigns/999999/close.json",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_weekly_pulse_answered_through_the_public_page() {
    // Monday 2026-11-23; the pulse goes out Tuesdays 10:00 New York time.
    let t0 = parse_rfc3339("2026-11-23T12:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let pulse_co = app.org("Pulse Co", false).await;
    let quiet_co = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Quiet Co", "acv_cents": 20_000_000}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let gone = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Gone Co", "account_status": "churned"}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let mut pulse_people = vec![];
    for _ in 0..8 {
        let (id, email, _) = app.user_with_token(Role::EndUser, Some(pulse_co)).await;
        pulse_people.push((id, email));
    }
    let mut quiet_people = vec![];
    for _ in 0..4 {
        let (id, email, _) = app.user_with_token(Role::EndUser, Some(quiet_co)).await;
        quiet_people.push((id, email));
    }
    app.user_with_token(Role::EndUser, Some(gone)).await;
    // Quiet Co's contacts had an NPS link this week: no pulse for them.
    let nps = app
        .post_json(
            "/api/v2/nps_campaigns.json",
            json!({"nps_campaign": {"name": "Q4 enterprise", "quarter": "2026-Q4",
                                    "audience": {"tiers": ["enterprise"]}}}),
        )
        .await["nps_campaign"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(send(&app, nps).await["sent"], 4);

    let c = app
        .post_json(
            "/api/v2/nps_campaigns.json",
            json!({"nps_campaign": {"kind": "pulse"}}),
        )
        .await["nps_campaign"]
        .clone();
    assert_eq!(c["kind"], "pulse");
    assert_eq!(c["send_at"], "2026-11-24T15:00:00Z", "Tuesday 10:00 EST");
    assert_eq!(c["name"], "Weekly pulse, week of 2026-11-24");
    assert_eq!(c["quarter"], "2026-Q4");
    let id = c["id"].as_i64().unwrap();
    let send_at = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();

    // The scheduler sends it when its time comes, to this week's cohort.
    assert_eq!(
        app.store.send_due_campaigns(&app.base, t0).await.unwrap(),
        0
    );
    let cohort: Vec<&(i64, String)> = pulse_people
        .iter()
        .filter(|(u, _)| steward_domain::pulse::asks(*u, send_at))
        .collect();
    assert_eq!(cohort.len(), 2, "eight consecutive ids, four cohorts");
    assert_eq!(
        app.store
            .send_due_campaigns(&app.base, send_at)
            .await
            .unwrap(),
        2
    );
    for (u, email) in &pulse_people {
        let asked = steward_domain::pulse::asks(*u, send_at);
        assert_eq!(
            links_to(&app, email).await.len(),
            usize::from(asked),
            "user {u}"
        );
    }
    for (_, email) in &quiet_people {
        assert_eq!(links_to(&app, email).await.len(), 1, "the NPS link only");
    }
    // Sending scheduled next week's draft, once.
    assert_eq!(
        app.store
            .send_due_campaigns(&app.base, send_at + 60)
            .await
            .unwrap(),
        0
    );
    let list = app.get_json("/api/v2/nps_campaigns.json?kind=pulse").await;
    assert_eq!(list["count"], 2, "{list}");
    let next = list["nps_campaigns"][0].clone();
    assert_eq!(next["status"], "draft");
    assert_eq!(next["follows_id"], id);
    assert_eq!(next["send_at"], "2026-12-01T15:00:00Z");
    assert_eq!(next["name"], "Weekly pulse, week of 2026-12-01");
    assert_eq!(campaign_json(&app, id).await["status"], "sent");
    let (status, _) = status_of(
        &app,
        Method::GET,
        "/api/v2/nps_campaigns.json?kind=weekly",
        None,
    )
    .await;
    assert_eq!(status, 400);

    // The public page asks the five questions, without login.
    app.clock.set(send_at + 3600);
    let tok1 = links_to(&app, &cohort[0].1).await[0].clone();
    let tok2 = links_to(&app, &cohort[1].1).await[0].clone();
    let (status, html) = page(&app, &format!("/s/{tok1}")).await;
    assert_eq!(status, 200);
    for field in [
        "ease_of_use",
        "meets_needs",
        "recommend",
        "friction",
        "valuable_features",
    ] {
        assert!(
            html.contains(&format!(r#"name="{field}""#)),
            "{field}: {html}"
        );
    }
    // A missing scale: the form again, answers kept, the error shown.
    let (status, html) = form_post(
        &app,
        &format!("/s/{tok1}"),
        &[
            ("meets_needs", "4"),
            ("recommend", "9"),
            ("friction", "Exports"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("Please answer this question."), "{html}");
    assert!(html.contains(r#"value="4" checked"#), "{html}");
    assert!(html.contains(">Exports</textarea>"), "{html}");
    let (status, _) = form_post(
        &app,
        &format!("/s/{tok1}"),
        &[
            ("ease_of_use", "6"),
            ("meets_needs", "4"),
            ("recommend", "9"),
        ],
    )
    .await;
    assert_eq!(status, 422, "1-5 only");
    // Answered by form post.
    let (status, html) = form_post(
        &app,
        &format!("/s/{tok1}"),
        &[
            ("ease_of_use", "4"),
            ("meets_needs", "5"),
            ("recommend", "9"),
            ("friction", "Exports are slow & flaky"),
            ("valuable_features", "Dashboards"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Thank you"), "{html}");
    let (status, html) = form_post(
        &app,
        &format!("/s/{tok1}"),
        &[
            ("ease_of_use", "1"),
            ("meets_needs", "1"),
            ("recommend", "0"),
        ],
    )
    .await;
    assert_eq!(status, 410);
    assert!(html.contains("Already answered"), "{html}");
    let (status, _) = form_post(
        &app,
        &format!("/s/{tok2}"),
        &[
            ("ease_of_use", "2"),
            ("meets_needs", "3"),
            ("recommend", "5"),
            ("friction", "SSO setup took a day"),
        ],
    )
    .await;
    assert_eq!(status, 200);

    // Friction points are feedback (source pulse survey) of this campaign.
    let items = items_from(&app, "pulse_survey").await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].3, "Pulse friction: Exports are slow & flaky");
    assert_eq!(items[0].1, cohort[0].0);
    assert!(items.iter().all(|i| i.2 == json!(id)));
    file_under(&app, &[items[0].0, items[1].0], "Onboarding friction").await;

    let r = report(&app, id).await;
    assert_eq!(r["campaign"]["kind"], "pulse");
    assert_eq!(
        (r["sent"].as_i64(), r["responses"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(r["response_rate"], 100);
    assert_eq!(
        r["averages"],
        json!({"ease_of_use": 3.0, "meets_needs": 4.0, "recommend": 7.0})
    );
    assert_eq!(r["recommend_nps"]["nps"], 0);
    assert_eq!(
        (
            r["recommend_nps"]["promoters"].as_i64(),
            r["recommend_nps"]["detractors"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let friction: Vec<&str> = r["friction_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        friction,
        ["Exports are slow & flaky", "SSO setup took a day"]
    );
    assert_eq!(r["friction_points"][0]["organization"], "Pulse Co");
    assert_eq!(r["valuable_features"][0]["text"], "Dashboards");
    assert_eq!(r["top_themes"][0]["title"], "Onboarding friction");
    assert_eq!(r["top_themes"][0]["accounts_count"], 1);
    assert_eq!(r["top_themes"][0]["items_count"], 2);
    // The quarterly NPS trend is the NPS program only.
    let trend = app.get_json("/api/v2/nps/trend.json").await;
    assert_eq!(trend["trend"][3]["responses"], 0, "{trend}");

    // Closing next week's draft ends the series.
    let next_id = next["id"].as_i64().unwrap();
    post_ok(&app, &format!("/api/v2/nps_campaigns/{next_id}/close.json")).await;
    let week2 = parse_rfc3339("2026-12-01T15:00:00Z").unwrap();
    assert_eq!(
        app.store
            .send_due_campaigns(&app.base, week2)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.get_json("/api/v2/nps_campaigns.json?kind=pulse").await["count"],
        2
    );
}
