//! The ticket page and global search over plain HTTP: replies and notes,
//! field changes, macros, role rules, CSRF, search and the number jump.
//! (The same in a browser is `browser/ticket.rs`.)

use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_domain::Role;

use crate::{
    helpers::{TestApp, now, spawn_app},
    web::{PASSWORD, Web, admin_with_password},
};

/// A ticket in Technical Support (group 1) from Rita of `org`.
async fn ticket(app: &TestApp, org: i64, subject: &str, priority: &str) -> i64 {
    app.post_json(
        "/api/v2/tickets.json",
        json!({"ticket": {"subject": subject, "priority": priority, "group_id": 1, "organization_id": org,
               "requester": {"name": "Rita Requester", "email": "rita@example.com"},
               "comment": {"body": "The export fails.\nEvery time."}}}),
    )
    .await["ticket"]["id"]
        .as_i64()
        .unwrap()
}

/// A signed-in member of staff with `role`: the client, its CSRF token and id.
async fn staff(app: &TestApp, role: Role) -> (Web, String, i64) {
    let (id, email, _) = app.user_with_token(role, None).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut web = Web::new(app);
    let csrf = web.sign_in(&email, PASSWORD).await;
    (web, csrf, id)
}

async fn admin(app: &TestApp) -> (Web, String, i64) {
    let id = admin_with_password(app).await;
    let mut web = Web::new(app);
    let csrf = web.sign_in(&app.admin_email, PASSWORD).await;
    (web, csrf, id)
}

async fn comments(app: &TestApp, id: i64) -> Vec<Value> {
    app.get_json(&format!("/api/v2/tickets/{id}/comments.json"))
        .await["comments"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn replies_and_notes_are_one_update_each_and_shown_safely() {
    let app = spawn_app().await;
    let org = app.org("Globex", false).await;
    let id = ticket(&app, org, "Exports <fail> & time out", "urgent").await;
    // An API client's HTML comment: stored as sent, never put on the page.
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"html_body": "<p>Screenshot <img src=x onerror=alert(1)></p>", "public": false}}}),
    )
    .await;
    let (mut web, csrf, _) = admin(&app).await;

    let (status, html, _) = web.get(&format!("/tickets/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Exports &lt;fail&gt; &amp; time out"),
        "{html}"
    );
    assert!(html.contains("The export fails.\nEvery time."), "{html}");
    assert!(!html.contains("<img src=x"), "unsanitised HTML on the page");
    assert!(html.contains("Rita Requester"));
    assert!(html.contains(&format!("href=\"/accounts/{org}\">Globex</a>")));
    assert!(html.contains("id=\"reply-body\"") && html.contains("id=\"f-public\""));
    // The urgent ticket's first-reply clock runs, with a live badge.
    assert!(html.contains("First reply"), "{html}");
    assert!(html.contains("data-remaining=\""), "{html}");

    // A public reply with a status change: one update, back to the page at
    // the new comment.
    let (status, body, location) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[
                ("csrf", &csrf),
                ("public", "true"),
                ("status", "pending"),
                ("body", "Hello <b>Rita</b>,\r\nwe are on it."),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    assert!(
        location.starts_with(&format!("/tickets/{id}#comment-")),
        "{location}"
    );
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["status"], "pending");
    let (_, html, _) = web.get(&format!("/tickets/{id}")).await;
    let anchor = location.split('#').nth(1).unwrap();
    assert!(
        html.contains(&format!("id=\"{anchor}\" class=\"public\"")),
        "{html}"
    );
    assert!(html.contains("Hello &lt;b&gt;Rita&lt;"), "{html}");
    assert!(
        html.contains(",\nwe are on it."),
        "line breaks are kept: {html}"
    );
    // The reply met the first-reply target, and the history shows the change.
    assert!(html.contains(">achieved<"), "{html}");
    assert!(
        html.contains("<td>Status</td><td>new</td><td>pending</td>"),
        "{html}"
    );

    // An internal note: staff only, marked as such.
    let (status, _, location) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[
                ("csrf", &csrf),
                ("public", "false"),
                ("body", "Checked the logs."),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let anchor = location.unwrap().split('#').nth(1).unwrap().to_string();
    let (_, html, _) = web.get(&format!("/tickets/{id}")).await;
    assert!(
        html.contains(&format!("id=\"{anchor}\" class=\"internal\"")),
        "{html}"
    );
    let all = comments(&app, id).await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[2]["public"], true);
    assert_eq!(all[2]["via"]["channel"], "web");
    assert_eq!(all[3]["public"], false);
    assert_eq!(all[3]["body"], "Checked the logs.");

    // An empty reply is refused with the message next to the box.
    let (status, html, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[("csrf", &csrf), ("public", "true"), ("body", "  ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-reply\""), "{html}");
    assert_eq!(comments(&app, id).await.len(), 4);
}

#[tokio::test]
async fn fields_change_without_a_comment_and_followers_come_and_go() {
    let app = spawn_app().await;
    let org = app.org("Initech", false).await;
    let id = ticket(&app, org, "Slow dashboards", "normal").await;
    let (mut web, csrf, me) = admin(&app).await;
    let me_s = me.to_string();

    let (status, body, location) = web
        .post(
            &format!("/tickets/{id}"),
            &[
                ("csrf", &csrf),
                ("action", "fields"),
                ("status", "open"),
                ("priority", "high"),
                ("type", "incident"),
                ("group_id", "1"),
                ("assignee_id", &me_s),
                ("tags", "VIP, dashboards"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location.as_deref(), Some(format!("/tickets/{id}").as_str()));
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await["ticket"].clone();
    assert_eq!(t["priority"], "high");
    assert_eq!(t["type"], "incident");
    assert_eq!(t["assignee_id"], me);
    assert_eq!(t["tags"], json!(["vip", "dashboards"]));
    assert_eq!(comments(&app, id).await.len(), 1, "no comment was added");
    let (_, html, _) = web.get(&format!("/tickets/{id}")).await;
    assert!(
        html.contains("<td>Priority</td><td>normal</td><td>high</td>"),
        "{html}"
    );
    assert!(html.contains("<td>Assignee</td><td>—</td>"), "{html}");

    // Follow, then stop.
    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}"),
            &[("csrf", &csrf), ("action", "follow")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["follower_ids"], json!([me]));
    let (_, html, _) = web.get(&format!("/tickets/{id}")).await;
    assert!(html.contains("Stop following"), "{html}");
    web.post(
        &format!("/tickets/{id}"),
        &[("csrf", &csrf), ("action", "unfollow")],
    )
    .await;
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["follower_ids"], json!([]));

    // Bad input is a 4xx with a page that says why.
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let customer = customer.to_string();
    for (form, want) in [
        (vec![("status", "bogus")], StatusCode::BAD_REQUEST),
        (vec![("group_id", "abc")], StatusCode::BAD_REQUEST),
        (vec![("action", "explode")], StatusCode::BAD_REQUEST),
        (vec![("status", "new")], StatusCode::UNPROCESSABLE_ENTITY),
        (
            vec![("assignee_id", customer.as_str())],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str()), ("priority", "high")];
        f.extend(form.clone());
        let (status, html, _) = web.post(&format!("/tickets/{id}"), &f).await;
        assert_eq!(status, want, "{form:?}: {html}");
        assert!(html.contains("<h1>"), "{html}");
    }
    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[("csrf", &csrf), ("public", "maybe"), ("body", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let long = "x".repeat(70_000);
    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[("csrf", &csrf), ("public", "true"), ("body", &long)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn posts_need_the_csrf_token_and_hidden_tickets_are_not_found() {
    let app = spawn_app().await;
    let org = app.org("Umbrella", false).await;
    let id = ticket(&app, org, "Support question", "low").await;
    let billing = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Invoice query", "group_id": 3, "organization_id": org,
                   "requester": {"name": "Rita Requester", "email": "rita@example.com"}, "comment": {"body": "Why?"}}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();
    let (mut web, csrf, _) = staff(&app, Role::Agent).await;

    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[("public", "true"), ("body", "no token")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}"),
            &[("csrf", "forged"), ("action", "follow")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(comments(&app, id).await.len(), 1);

    // Billing is not an agent's group: not found, by id or by post.
    for path in [
        format!("/tickets/{billing}"),
        "/tickets/999999".into(),
        "/tickets/abc".into(),
        "/tickets/-1".into(),
    ] {
        let (status, _, _) = web.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = web
        .post(
            &format!("/tickets/{billing}/comment"),
            &[("csrf", &csrf), ("public", "false"), ("body", "peek")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = web
        .post(
            &format!("/tickets/{billing}/macro"),
            &[("csrf", &csrf), ("template", "reply_resolution")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Customers never reach the agent's ticket page, not even their own.
    let (cid, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    app.store.set_password(cid, PASSWORD, now()).await.unwrap();
    let mut customer = Web::new(&app);
    let (_, html, _) = customer.get("/login").await;
    let token = crate::web::csrf_in(&html);
    customer
        .post(
            "/login",
            &[("csrf", &token), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    let (status, _, location) = customer.get(&format!("/tickets/{id}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));
    let (status, _, _) = customer.get("/search?q=support").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn viewers_read_and_csms_read_support_tickets_but_neither_replies() {
    let app = spawn_app().await;
    let org = app.org("Hooli", false).await;
    let id = ticket(&app, org, "Read me", "normal").await;
    for role in [Role::Viewer, Role::Csm] {
        let (mut web, csrf, _) = staff(&app, role).await;
        let (status, html, _) = web.get(&format!("/tickets/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("id=\"reply-body\""), "{role:?}: {html}");
        assert!(html.contains("class=\"notice\""), "{html}");
        let (status, html, _) = web
            .post(
                &format!("/tickets/{id}/comment"),
                &[("csrf", &csrf), ("public", "true"), ("body", "Let me help")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        assert!(
            html.contains("you can read this ticket but not change it"),
            "{html}"
        );
        let (status, _, _) = web
            .post(
                &format!("/tickets/{id}"),
                &[
                    ("csrf", &csrf),
                    ("action", "fields"),
                    ("priority", "urgent"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert_eq!(comments(&app, id).await.len(), 1);
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["priority"], "normal");
}

#[tokio::test]
async fn contractors_reply_only_from_templates_and_never_see_commercial_fields() {
    let app = spawn_app().await;
    let org = app.org("Stark", false).await;
    let id = ticket(&app, org, "Login loop", "high").await;
    // Contract Value (field 2) is commercial.
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"custom_fields": [{"id": 2, "value": "98765"}]}}),
    )
    .await;
    let (mut admin_web, _, _) = admin(&app).await;
    let (_, html, _) = admin_web.get(&format!("/tickets/{id}")).await;
    assert!(html.contains("98765"), "{html}");

    let (mut web, csrf, _) = staff(&app, Role::Contractor).await;
    let (status, html, _) = web.get(&format!("/tickets/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("98765"),
        "a commercial value on a contractor's page"
    );
    assert!(!html.contains("Contract Value"), "{html}");
    assert!(html.contains("id=\"h-reply\""), "{html}");

    // Free text to the customer is refused, and the text is kept.
    let (status, html, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[
                ("csrf", &csrf),
                ("public", "true"),
                ("body", "Try turning it off"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("only from the help-desk templates"), "{html}");
    assert!(html.contains(">Try turning it off</textarea>"), "{html}");
    // So is the same through the API: the rule is the store's.
    let (_, c_email, c_token) = app.user_with_token(Role::Contractor, None).await;
    let resp = app
        .request_as(
            reqwest::Method::PUT,
            &format!("/api/v2/tickets/{id}.json"),
            &c_email,
            &c_token,
        )
        .json(&json!({"ticket": {"comment": {"body": "Free text", "public": true}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // A template is applied, shown as it will be sent, and sent.
    let (status, html, _) = web
        .post(
            &format!("/tickets/{id}/macro"),
            &[("csrf", &csrf), ("template", "reply_initial_response")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Hi Rita,"), "{html}");
    assert!(html.contains(" readonly"), "{html}");
    let (status, body, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[
                ("csrf", &csrf),
                ("template", "reply_initial_response"),
                ("public", "true"),
                ("body", "edited on the way (ignored)"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let all = comments(&app, id).await;
    let sent = all.last().unwrap();
    assert_eq!(sent["public"], true);
    let text = sent["body"].as_str().unwrap();
    assert!(text.starts_with("Hi Rita,"), "{text}");
    assert!(
        text.contains(&format!("request #{id} (priority high)")),
        "{text}"
    );
    assert!(
        text.contains("Test contractor"),
        "signed by the contractor: {text}"
    );

    // Internal notes stay free text.
    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[
                ("csrf", &csrf),
                ("public", "false"),
                ("body", "Asked for a HAR file"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // Moving the ticket out of Technical Support is not theirs to do.
    let (status, html, _) = web
        .post(
            &format!("/tickets/{id}"),
            &[
                ("csrf", &csrf),
                ("action", "fields"),
                ("priority", "high"),
                ("group_id", "3"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("you cannot move tickets into that group"),
        "{html}"
    );
}

#[tokio::test]
async fn macros_fill_the_reply_box_and_the_closing_one_proposes_solved() {
    let app = spawn_app().await;
    let org = app.org("Wayne", false).await;
    let id = ticket(&app, org, "Need a report", "normal").await;
    let (mut web, csrf, _) = admin(&app).await;
    let (_, html, _) = web.get(&format!("/tickets/{id}")).await;
    for name in [
        "Help desk: initial response",
        "Help desk: escalated to engineering",
        "Help desk: implementation status update",
        "Help desk: resolution and closing",
    ] {
        assert!(html.contains(name), "{name}: {html}");
    }

    let (status, html, _) = web
        .post(
            &format!("/tickets/{id}/macro"),
            &[("csrf", &csrf), ("template", "reply_resolution")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("We have solved #{id}.")), "{html}");
    assert!(
        html.contains("<option value=\"solved\" selected>"),
        "{html}"
    );
    assert!(
        !html.contains(" readonly"),
        "agents may edit a macro's text"
    );

    // Without an implementation project there is nothing to report.
    let (status, html, _) = web
        .post(
            &format!("/tickets/{id}/macro"),
            &[("csrf", &csrf), ("template", "reply_implementation_status")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("no active implementation project"), "{html}");
    for bad in ["welcome", "nope"] {
        let (status, _, _) = web
            .post(
                &format!("/tickets/{id}/macro"),
                &[("csrf", &csrf), ("template", bad)],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Sending the edited macro text with status solved solves the ticket.
    let (status, _, _) = web
        .post(
            &format!("/tickets/{id}/comment"),
            &[
                ("csrf", &csrf),
                ("public", "true"),
                ("status", "solved"),
                ("template", "reply_resolution"),
                ("body", "Hi Rita,\n\nWe have solved it. Thanks!"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["status"], "solved");
    assert_eq!(
        comments(&app, id).await.last().unwrap()["body"],
        "Hi Rita,\n\nWe have solved it. Thanks!"
    );
}

#[tokio::test]
async fn search_groups_results_pages_them_and_jumps_to_ticket_numbers() {
    let app = spawn_app().await;
    let org = app.org("Globex Printing", false).await;
    let printer = ticket(&app, org, "Printer on fire", "urgent").await;
    let invoice = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Printer invoice", "group_id": 3,
                   "requester": {"name": "Rita Requester", "email": "rita@example.com"}, "comment": {"body": "?"}}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();
    let (mut web, _, _) = staff(&app, Role::Agent).await;

    let (status, html, _) = web.get("/search?q=printer").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(&format!("href=\"/tickets/{printer}\"")),
        "{html}"
    );
    assert!(
        !html.contains(&format!("href=\"/tickets/{invoice}\"")),
        "billing is not an agent's: {html}"
    );
    assert!(html.contains("id=\"h-ticket\"") && html.contains("id=\"h-user\""));
    assert!(html.contains(&format!("href=\"/accounts/{org}\">Globex Printing</a>")));
    // The header's box keeps the query.
    assert!(html.contains("value=\"printer\""), "{html}");

    let (_, html, _) = web.get("/search?q=rita").await;
    assert!(html.contains("rita@example.com"), "{html}");

    // Field syntax, and a field that fits only tickets.
    let (status, html, _) = web.get("/search?q=priority%3Aurgent").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/tickets/{printer}\"")),
        "{html}"
    );
    assert!(!html.contains("id=\"h-user\""), "{html}");

    // One kind, paged.
    let (status, html, _) = web.get("/search?q=printer&type=ticket&page=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Page 1") && !html.contains("id=\"h-user\""),
        "{html}"
    );

    // A number opens the ticket.
    for q in [printer.to_string(), format!("%23{printer}")] {
        let (status, _, location) = web.get(&format!("/search?q={q}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location, Some(format!("/tickets/{printer}")));
    }

    // An empty search explains the syntax; bad ones say what is wrong.
    let (status, html, _) = web.get("/search?q=").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("status:open"), "{html}");
    for bad in [
        "/search?q=%22unbalanced",
        "/search?q=x&type=planet",
        "/search?q=x&page=abc",
        "/search?q=frobnicate%3Ayes",
    ] {
        let (status, html, _) = web.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {html}");
        assert!(html.contains("<h1>"), "{html}");
    }
}
