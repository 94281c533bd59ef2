//! Communication templates (policies.md §16) through the API: the eleven
//! defaults (and the two feedback notices beside them), edits that persist and render, save-time rejection of syntax
//! errors and unknown placeholders with line and column, reset to default,
//! previews from a real ticket, and who may read and write.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::Role;

use crate::helpers::{TestApp, json_of, spawn_app};

async fn put(app: &TestApp, key: &str, body: Value, status: u16) -> Value {
    json_of(
        app.admin(Method::PUT, &format!("/api/v2/templates/{key}"))
            .json(&body)
            .send()
            .await
            .unwrap(),
        status,
    )
    .await
}

async fn preview(app: &TestApp, key: &str, body: Value) -> Value {
    json_of(
        app.admin(Method::POST, &format!("/api/v2/templates/{key}/preview"))
            .json(&body)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["preview"]
        .clone()
}

#[tokio::test]
async fn list_edit_preview_and_reset() {
    let app = spawn_app().await;
    let list = app.get_json("/api/v2/templates.json").await;
    // §16's eleven and the two feedback notices of §11.
    assert_eq!(list["count"], 13);
    let keys: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"welcome") && keys.contains(&"reply_resolution"));
    assert!(
        list["templates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["default"] == true)
    );

    let welcome = app.get_json("/api/v2/templates/welcome").await["template"].clone();
    assert_eq!(welcome["placeholders"]["contact"][0], "first_name");
    assert!(welcome["placeholders"].get("ticket").is_none());

    let saved = put(
        &app,
        "welcome",
        json!({"template": {
            "subject": "Hello {{ account.name }}",
            "text_body": "Dear {{ contact.first_name }}, welcome aboard.",
            "html_body": "<p>Dear {{ contact.first_name }}</p>",
        }}),
        200,
    )
    .await["template"]
        .clone();
    assert_eq!(saved["default"], false);
    assert_eq!(saved["subject"], "Hello {{ account.name }}");
    let again = app.get_json("/api/v2/templates/welcome").await["template"].clone();
    assert_eq!(
        again["text_body"],
        "Dear {{ contact.first_name }}, welcome aboard."
    );

    let p = preview(
        &app,
        "welcome",
        json!({"context": {"account": {"name": "Globex"}, "contact": {"first_name": "<Ann>"}}}),
    )
    .await;
    assert_eq!(p["subject"], "Hello Globex");
    assert_eq!(p["text"], "Dear <Ann>, welcome aboard.");
    assert_eq!(p["html"], "<p>Dear &lt;Ann&gt;</p>");

    let reset = json_of(
        app.admin(Method::DELETE, "/api/v2/templates/welcome")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(reset["template"]["default"], true);
    let back = app.get_json("/api/v2/templates/welcome").await["template"].clone();
    assert_eq!(back["subject"], "Welcome to Steward, {{ account.name }}");
    assert_eq!(back["default"], true);

    json_of(
        app.admin(Method::GET, "/api/v2/templates/nope")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn bad_templates_are_rejected_with_line_and_column() {
    let app = spawn_app().await;
    let e = put(
        &app,
        "welcome",
        json!({"template": {"text_body": "Hi\n  {{ account.nmae }}"}}),
        422,
    )
    .await;
    assert_eq!(e["error"], "RecordInvalid");
    let d = e["details"]["text_body"][0]["description"]
        .as_str()
        .unwrap();
    assert!(d.starts_with("line 2, column 6: "), "{d}");
    assert!(d.contains("account.nmae"), "{d}");

    let e = put(
        &app,
        "welcome",
        json!({"template": {"subject": "About #{{ ticket.id }}"}}),
        422,
    )
    .await;
    let d = e["details"]["subject"][0]["description"].as_str().unwrap();
    assert!(d.starts_with("line 1, column 11: "), "{d}");

    let e = put(
        &app,
        "reply_resolution",
        json!({"template": {"html_body": "<p>\n{% if ticket.id %}\n</p>"}}),
        422,
    )
    .await;
    let d = e["details"]["html_body"][0]["description"]
        .as_str()
        .unwrap();
    assert!(d.starts_with("line "), "{d}");
    assert!(d.contains("column"), "{d}");
    assert!(d.contains("syntax error"), "{d}");

    // Nothing was stored.
    let t = app.get_json("/api/v2/templates/welcome").await["template"].clone();
    assert_eq!(t["default"], true);
}

#[tokio::test]
async fn preview_from_a_real_ticket() {
    let app = spawn_app().await;
    let org = app.org("Initech", false).await;
    let ticket = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Reports <broken>", "priority": "high",
                   "organization_id": org,
                   "comment": {"body": "details"},
                   "requester": {"name": "Peter Gibbons", "email": "peter@initech.example"}}}),
        )
        .await["ticket"]
        .clone();
    let id = ticket["id"].as_i64().unwrap();
    let p = preview(&app, "reply_initial_response", json!({"ticket_id": id})).await;
    assert_eq!(p["subject"], format!("Re: Reports <broken> [#{id}]"));
    let text = p["text"].as_str().unwrap();
    assert!(text.starts_with("Hi Peter,"), "{text}");
    assert!(text.contains("priority high"), "{text}");
    let html = p["html"].as_str().unwrap();
    assert!(html.contains(&format!("#{id}")), "{html}");

    let p = preview(
        &app,
        "monthly_risk_summary",
        json!({"organization_id": org}),
    )
    .await;
    assert!(
        p["subject"]
            .as_str()
            .unwrap()
            .starts_with("Initech risk summary")
    );

    json_of(
        app.admin(Method::POST, "/api/v2/templates/welcome/preview")
            .json(&json!({"ticket_id": 999_999}))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn staff_read_admins_write() {
    let app = spawn_app().await;
    let (_, agent, agent_token) = app.user_with_token(Role::Agent, None).await;
    let org = app.org("Hooli", false).await;
    let (_, user, user_token) = app.user_with_token(Role::EndUser, Some(org)).await;

    let list = json_of(
        app.request_as(Method::GET, "/api/v2/templates", &agent, &agent_token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["count"], 13);
    json_of(
        app.request_as(
            Method::POST,
            "/api/v2/templates/welcome/preview",
            &agent,
            &agent_token,
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    let body = json!({"template": {"subject": "Hi {{ account.name }}"}});
    json_of(
        app.request_as(
            Method::PUT,
            "/api/v2/templates/welcome",
            &agent,
            &agent_token,
        )
        .json(&body)
        .send()
        .await
        .unwrap(),
        403,
    )
    .await;
    json_of(
        app.request_as(
            Method::DELETE,
            "/api/v2/templates/welcome",
            &agent,
            &agent_token,
        )
        .send()
        .await
        .unwrap(),
        403,
    )
    .await;
    json_of(
        app.request_as(Method::GET, "/api/v2/templates", &user, &user_token)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
}
