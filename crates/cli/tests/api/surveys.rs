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
