//! The customer portal over plain HTTP: sign-in by e-mailed link, the
//! contact's tickets and nobody else's, public conversations only, replies,
//! new tickets, surveys, CSRF and the role gates.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::Role;
use steward_web::Clock;

use crate::{
    helpers::{TestApp, json_of, now, spawn_app, spawn_app_with_clock},
    web::{PASSWORD, Web, admin_with_password, csrf_in},
};

const SAME_ANSWER: &str = "If that address belongs to a customer account, we sent a sign-in link";

/// Portal link e-mails queued for `to`, newest first.
pub async fn links_for(app: &TestApp, to: &str) -> Vec<Value> {
    app.store
        .list_outbox(Some("email"), 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.idempotency_key.starts_with("email:portal-link:") && e.payload["to"] == to)
        .map(|e| e.payload)
        .collect()
}

/// The path of the sign-in link in an e-mail payload.
pub fn link_path(payload: &Value) -> String {
    let text = payload["text"].as_str().unwrap();
    let at = text.find("/portal/login/").expect("a link in the e-mail");
    text[at..].split_whitespace().next().unwrap().to_string()
}

/// Opens a sign-in link (its confirmation page, which spends nothing) and
/// presses its button; returns the button's answer.
pub async fn follow_link(web: &mut Web, link: &str) -> (StatusCode, String, Option<String>) {
    let (status, html, _) = web.get(link).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("action=\"{link}\"")), "{html}");
    let csrf = csrf_in(&html);
    web.post(link, &[("csrf", &csrf)]).await
}

/// Asks for a link through the form and returns the page's answer.
async fn ask(web: &mut Web, email: &str) -> (StatusCode, String) {
    let (_, html, _) = web.get("/portal/login").await;
    let csrf = csrf_in(&html);
    let (status, body, _) = web
        .post("/portal/login", &[("csrf", &csrf), ("email", email)])
        .await;
    (status, body)
}

/// Signs `email` in by the link and returns the session's CSRF token.
async fn portal_sign_in(app: &TestApp, web: &mut Web, email: &str) -> String {
    let (status, body) = ask(web, email).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let link = link_path(&links_for(app, email).await[0]);
    let (status, body, location) = follow_link(web, &link).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location.as_deref(), Some("/portal"));
    let (status, html, _) = web.get("/portal").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    csrf_in(&html)
}

async fn ticket_for(app: &TestApp, requester: i64, subject: &str) -> i64 {
    app.post_json(
        "/api/v2/tickets.json",
        json!({"ticket": {"subject": subject, "requester_id": requester,
               "comment": {"body": format!("About {subject}.")}}}),
    )
    .await["ticket"]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_contact_signs_in_by_a_one_time_link() {
    let app = spawn_app().await;
    let org = app.org("Link Co", false).await;
    let (_, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let mut web = Web::new(&app);

    // Anonymous visitors are sent to the link form, which asks for an address.
    let (status, _, location) = web.get("/portal").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal/login?next=%2Fportal"));
    let (status, html, _) = web.get("/portal/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<label for=\"f-email\">"), "{html}");
    assert!(html.contains("Sign in to the support portal · Steward"));

    // A known address: the answer, and an e-mail with the link in the outbox.
    let (status, known) = ask(&mut web, &email.to_uppercase()).await;
    assert_eq!(status, StatusCode::OK, "{known}");
    assert!(known.contains(SAME_ANSWER), "{known}");
    let mails = links_for(&app, &email).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("{}/portal/login/", app.base)),
        "the link uses the request's host: {}",
        mails[0]["text"]
    );

    // An unknown address gets the same page and no e-mail.
    let before = app.store.outbox_count("email:portal-link:").await.unwrap();
    let (status, unknown) = ask(&mut web, "nobody@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(unknown.contains(SAME_ANSWER));
    assert_eq!(
        app.store.outbox_count("email:portal-link:").await.unwrap(),
        before
    );
    // Staff addresses are not portal accounts either.
    admin_with_password(&app).await;
    ask(&mut web, &app.admin_email).await;
    assert_eq!(
        app.store.outbox_count("email:portal-link:").await.unwrap(),
        before
    );

    // Opening the link (as a mail service's link scanner does) spends
    // nothing; its button, posted without the page's CSRF token, neither.
    let link = link_path(&mails[0]);
    let mut scanner = Web::new(&app);
    for _ in 0..2 {
        let (status, html, _) = scanner.get(&link).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains(">Sign in</button>"), "{html}");
    }
    let (status, _, _) = scanner.post(&link, &[("csrf", "forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(scanner.cookies.iter().all(|(k, _)| k != "steward_session"));
    // The button signs in, once.
    let (status, _, location) = follow_link(&mut web, &link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));
    let (status, html, _) = web.get("/portal").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("My tickets · Steward"));
    assert!(html.contains("You have no tickets yet"), "{html}");
    // Signed in, the link form sends the contact to the portal.
    let (_, _, location) = web.get("/portal/login").await;
    assert_eq!(location.as_deref(), Some("/portal"));

    let mut other = Web::new(&app);
    let (status, html, _) = other.get(&link).await;
    assert_eq!(status, StatusCode::GONE);
    let csrf = csrf_in(&other.get("/portal/login").await.1);
    let (status, _, _) = other.post(&link, &[("csrf", &csrf)]).await;
    assert_eq!(
        status,
        StatusCode::GONE,
        "a spent link cannot be posted again"
    );
    assert!(html.contains("already been used or has expired"), "{html}");
    assert!(html.contains("href=\"/portal/login\""));
    assert!(other.cookies.iter().all(|(k, _)| k != "steward_session"));
    let (status, html, _) = other.get("/portal/login/not-a-token").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Send me a new link"));
    let (status, _, _) = other
        .get("/portal/login/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(status, StatusCode::GONE);

    // Signing out ends the session and goes back to the link form.
    let csrf = csrf_in(&web.get("/portal").await.1);
    let (_, _, location) = web.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location.as_deref(), Some("/portal/login"));
    let (status, _, _) = web.get("/portal").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_expired_link_is_refused_and_requests_are_throttled() {
    let t0 = now();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let (_, email, _) = app.user_with_token(Role::EndUser, None).await;
    let mut web = Web::new(&app);

    ask(&mut web, &email).await;
    let link = link_path(&links_for(&app, &email).await[0]);
    app.clock.set(t0 + 31 * 60);
    let (status, html, _) = web.get(&link).await;
    assert_eq!(status, StatusCode::GONE, "{html}");
    assert!(html.contains("Send me a new link"));

    // Five requests in fifteen minutes, then a wait; unknown addresses too,
    // so the throttle says nothing about which addresses have accounts.
    for address in [email.as_str(), "stranger@example.com"] {
        for _ in 0..5 {
            let (status, body) = ask(&mut web, address).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let (status, body) = ask(&mut web, address).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(body.contains("try again in 15 minute(s)"), "{body}");
    }
    assert_eq!(links_for(&app, &email).await.len(), 6);
    app.clock.set(t0 + 31 * 60 + 15 * 60 + 1);
    let (status, _) = ask(&mut web, &email).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(links_for(&app, &email).await.len(), 7);

    // The newest link works.
    let link = link_path(&links_for(&app, &email).await[0]);
    let (status, _, location) = follow_link(&mut web, &link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));

    // Nonsense input is a 4xx page, not an error.
    let mut fresh = Web::new(&app);
    let csrf = csrf_in(&fresh.get("/portal/login").await.1);
    let (status, body, _) = fresh
        .post(
            "/portal/login",
            &[("csrf", &csrf), ("email", "not an address")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("aria-invalid=\"true\""));
}

#[tokio::test]
async fn the_portal_shows_a_contact_their_tickets_and_nobody_elses() {
    let app = spawn_app().await;
    let shared = app.org("Shared Co", true).await;
    let private = app.org("Private Co", false).await;
    let (a1, a1_email, _) = app.user_with_token(Role::EndUser, Some(shared)).await;
    let (a2, _, _) = app.user_with_token(Role::EndUser, Some(shared)).await;
    let (b1, b1_email, _) = app.user_with_token(Role::EndUser, Some(private)).await;
    let (b2, _, _) = app.user_with_token(Role::EndUser, Some(private)).await;
    let mine = ticket_for(&app, a1, "Alpha login fails").await;
    let colleague = ticket_for(&app, a2, "Alpha colleague export").await;
    let theirs = ticket_for(&app, b1, "Beta secret migration").await;
    let their_colleague = ticket_for(&app, b2, "Beta colleague invoice").await;

    // A public reply with markup, and an internal note.
    app.put_json(
        &format!("/api/v2/tickets/{mine}.json"),
        json!({"ticket": {"comment": {"body": "Try <script>alert(1)</script> & reload.", "public": true}}}),
    )
    .await;
    app.put_json(
        &format!("/api/v2/tickets/{mine}.json"),
        json!({"ticket": {"comment": {"body": "INTERNAL: customer is on the churn list", "public": false}}}),
    )
    .await;

    // The shared organization's contact sees their own and colleagues' tickets.
    let mut a = Web::new(&app);
    portal_sign_in(&app, &mut a, &a1_email).await;
    let (_, html, _) = a.get("/portal").await;
    assert!(html.contains("Alpha login fails"), "{html}");
    assert!(html.contains("Alpha colleague export"));
    assert!(!html.contains("Beta"), "{html}");
    assert!(html.contains("Requested by"));

    // The conversation: public comments, escaped; never the internal note.
    let (status, html, _) = a.get(&format!("/portal/tickets/{mine}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("About Alpha login fails."));
    assert!(
        html.contains("Try &lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; reload."),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("INTERNAL"), "{html}");
    assert!(!html.contains("churn list"));
    let (status, _, _) = a.get(&format!("/portal/tickets/{colleague}")).await;
    assert_eq!(status, StatusCode::OK);

    // Another organization's tickets are not found, and say nothing.
    for id in [theirs, their_colleague] {
        let (status, html, _) = a.get(&format!("/portal/tickets/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!html.contains("Beta"), "{html}");
    }
    for path in [
        "/portal/tickets/999999",
        "/portal/tickets/abc",
        "/portal/tickets/-1",
    ] {
        let (status, _, _) = a.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = a.get("/portal?page=zero").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Without sharing, a contact sees only their own tickets.
    let mut b = Web::new(&app);
    let csrf = portal_sign_in(&app, &mut b, &b1_email).await;
    let (_, html, _) = b.get("/portal").await;
    assert!(html.contains("Beta secret migration"));
    assert!(!html.contains("Beta colleague invoice"), "{html}");
    assert!(!html.contains("Alpha"));
    assert!(!html.contains("Requested by"));
    let (status, _, _) = b.get(&format!("/portal/tickets/{their_colleague}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor may they reply to another's ticket.
    let (status, html, _) = b
        .post(
            &format!("/portal/tickets/{mine}/reply"),
            &[("csrf", &csrf), ("body", "let me in")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains("Alpha"));
    let comments = app
        .get_json(&format!("/api/v2/tickets/{mine}/comments.json"))
        .await;
    assert!(!comments.to_string().contains("let me in"));
}

#[tokio::test]
async fn a_contact_replies_and_opens_tickets_through_the_portal() {
    let app = spawn_app().await;
    let org = app.org("Reply Co", false).await;
    let (me, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let id = ticket_for(&app, me, "Sync stopped").await;
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"status": "solved", "comment": {"body": "Fixed on our side."}}}),
    )
    .await;

    // A link to a ticket from an e-mail: sign in, then land on the ticket.
    let mut web = Web::new(&app);
    let (status, _, location) = web.get(&format!("/portal/tickets/{id}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert_eq!(
        location,
        format!("/portal/login?next=%2Fportal%2Ftickets%2F{id}")
    );
    let (_, html, _) = web.get(&location).await;
    let next_field = format!("name=\"next\" value=\"&#x2f;portal&#x2f;tickets&#x2f;{id}\"");
    assert!(html.contains(&next_field), "{html}");
    let csrf = csrf_in(&html);
    let next = format!("/portal/tickets/{id}");
    web.post(
        "/portal/login",
        &[("csrf", &csrf), ("email", &email), ("next", &next)],
    )
    .await;
    let link = link_path(&links_for(&app, &email).await[0]);
    let (_, _, location) = follow_link(&mut web, &link).await;
    assert_eq!(location.as_deref(), Some(next.as_str()));
    let (status, html, _) = web.get(&next).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Replying reopens it"), "{html}");
    let csrf = csrf_in(&html);
    assert!(html.contains("status-solved\">Solved</span>"), "{html}");

    // CSRF is required on every portal form.
    for (path, form) in [
        (format!("/portal/tickets/{id}/reply"), vec![("body", "hi")]),
        (
            "/portal/new".to_string(),
            vec![("subject", "x"), ("description", "y")],
        ),
    ] {
        let (status, _, _) = web.post(&path, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let mut with_bad = form.clone();
        with_bad.push(("csrf", "forged"));
        let (status, _, _) = web.post(&path, &with_bad).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _, _) = Web::new(&app)
        .post("/portal/login", &[("csrf", "x"), ("email", &email)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An empty reply is sent back with a message.
    let (status, html, _) = web
        .post(
            &format!("/portal/tickets/{id}/reply"),
            &[("csrf", &csrf), ("body", "   ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Write your reply"), "{html}");

    // A reply is a public comment by the requester and reopens the ticket.
    let (status, _, location) = web
        .post(
            &format!("/portal/tickets/{id}/reply"),
            &[("csrf", &csrf), ("body", "Still broken <b>here</b>.")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.starts_with(&format!("/portal/tickets/{id}")));
    let (_, html, _) = web.get(&location).await;
    assert!(html.contains("Your reply was sent."));
    assert!(html.contains("status-open\">Open</span>"), "{html}");
    assert!(!html.contains("Replying reopens it"));
    assert!(
        html.contains("Still broken &lt;b&gt;here&lt;&#x2f;b&gt;."),
        "{html}"
    );
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["status"], "open");
    let comments = app
        .get_json(&format!("/api/v2/tickets/{id}/comments.json"))
        .await;
    let last = comments["comments"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["author_id"], me);
    assert_eq!(last["public"], true);
    assert_eq!(last["body"], "Still broken <b>here</b>.");

    // The new-ticket form: labelled fields, errors next to them.
    let (status, html, _) = web.get("/portal/new").await;
    assert_eq!(status, StatusCode::OK);
    for f in ["f-subject", "f-description", "f-priority"] {
        assert!(html.contains(&format!("<label for=\"{f}\">")), "{f}");
    }
    assert!(html.contains("value=\"urgent\""));
    let (status, html, _) = web
        .post(
            "/portal/new",
            &[
                ("csrf", &csrf),
                ("subject", ""),
                ("description", "kept text"),
                ("priority", "normal"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Give your ticket a short subject."));
    assert!(html.contains("kept text"));
    let (status, html, _) = web
        .post(
            "/portal/new",
            &[
                ("csrf", &csrf),
                ("subject", "x"),
                ("description", "y"),
                ("priority", "P0-now"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Choose one of the priorities."));

    let (status, _, location) = web
        .post(
            "/portal/new",
            &[
                ("csrf", &csrf),
                ("subject", "Reports are empty"),
                ("description", "Since Monday the weekly report has no rows."),
                ("priority", "high"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let new_id: i64 = location
        .trim_start_matches("/portal/tickets/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (_, html, _) = web.get(&location).await;
    assert!(html.contains("Your ticket was opened"));
    assert!(html.contains("Since Monday the weekly report has no rows."));
    let t = app
        .get_json(&format!("/api/v2/tickets/{new_id}.json"))
        .await;
    assert_eq!(t["ticket"]["subject"], "Reports are empty");
    assert_eq!(t["ticket"]["priority"], "high");
    assert_eq!(t["ticket"]["requester_id"], me);
    assert_eq!(t["ticket"]["organization_id"], org);
    assert_eq!(t["ticket"]["via"]["channel"], "portal");
    let (_, html, _) = web.get("/portal").await;
    assert!(html.contains("Reports are empty"));
    assert!(html.contains("Sync stopped"));

    // A closed ticket shows no reply form and refuses a late reply kindly.
    for status in ["solved", "closed"] {
        app.put_json(
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"status": status}}),
        )
        .await;
    }
    let (_, html, _) = web.get(&format!("/portal/tickets/{id}")).await;
    assert!(html.contains("This ticket is closed."), "{html}");
    assert!(!html.contains("Send reply"));
    let (status, html, _) = web
        .post(
            &format!("/portal/tickets/{id}/reply"),
            &[("csrf", &csrf), ("body", "one more thing")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("open a new ticket"), "{html}");
}

#[tokio::test]
async fn staff_are_sent_to_the_queue_and_contacts_see_their_surveys() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut staff = Web::new(&app);
    let csrf = staff.sign_in(&app.admin_email, PASSWORD).await;
    for path in [
        "/portal",
        "/portal/new",
        "/portal/tickets/1",
        "/portal/login",
    ] {
        let (status, _, location) = staff.get(path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location.as_deref(), Some("/queue"), "{path}");
    }
    let (_, _, location) = staff
        .post(
            "/portal/new",
            &[("csrf", &csrf), ("subject", "x"), ("description", "y")],
        )
        .await;
    assert_eq!(location.as_deref(), Some("/queue"));

    // A sent NPS campaign is listed until answered; answering uses /s/{token}.
    let org = app.org("Survey Co", false).await;
    let (_, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let c = app
        .post_json(
            "/api/v2/nps_campaigns.json",
            json!({"nps_campaign": {"name": "Q4 check-in", "quarter": "2026-Q4", "send_at": "2026-11-02T14:00:00Z"}}),
        )
        .await["nps_campaign"]["id"]
        .as_i64()
        .unwrap();
    let mut web = Web::new(&app);
    let csrf = portal_sign_in(&app, &mut web, &email).await;
    let (_, html, _) = web.get("/portal").await;
    assert!(!html.contains("Q4 check-in"), "drafts are not listed");
    json_of(
        app.admin(
            Method::POST,
            &format!("/api/v2/nps_campaigns/{c}/send.json"),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    let (_, html, _) = web.get("/portal").await;
    assert!(html.contains("Q4 check-in"), "{html}");
    assert!(html.contains(&format!("action=\"/portal/surveys/{c}\"")));
    let (status, _, location) = web
        .post(&format!("/portal/surveys/{c}"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(location.starts_with("/s/"), "{location}");
    let (status, html, _) = web.get(&location).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, _, _) = web
        .post(&location, &[("score", "9"), ("reason", "Quick answers")])
        .await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let (_, html, _) = web.get("/portal").await;
    assert!(
        !html.contains("Q4 check-in"),
        "answered surveys leave the list"
    );
    let (status, _, _) = web
        .post(&format!("/portal/surveys/{c}"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::GONE);
}
