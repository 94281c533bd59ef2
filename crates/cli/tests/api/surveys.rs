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
async fn links_to(app: &TestApp, to: &str) -> Vec<String> {
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

async fn campaign(app: &TestApp, name: &str) -> i64 {
    app.post_json(
        "/api/v2/nps_campaigns.json",
        json!({"nps_campaign": {"name": name, "quarter": "2026-Q4", "send_at": "2026-11-02T14:00:00Z"}}),
    )
    .await["nps_campaign"]["id"]
        .as_i64()
        .unwrap()
}

async fn send(app: &TestApp, id: i64) -> Value {
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
