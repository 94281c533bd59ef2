//! The knowledge-base pages over HTTP: staff `/kb` (editor, preview,
//! publish, delete) and the public `/help` (published only, search, votes).

use reqwest::StatusCode;
use serde_json::json;
use steward_domain::Role;

use crate::{
    helpers::{TestApp, now, spawn_app},
    web::{PASSWORD, Web, admin_with_password, csrf_in},
};

async fn signed_in(app: &TestApp, role: Role) -> (Web, String) {
    let (id, email, _) = app.user_with_token(role, None).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut web = Web::new(app);
    let csrf = web.sign_in(&email, PASSWORD).await;
    (web, csrf)
}

async fn article_json(app: &TestApp, id: i64) -> serde_json::Value {
    app.get_json(&format!("/api/v2/help_center/articles/{id}.json"))
        .await["article"]
        .clone()
}

#[tokio::test]
async fn the_help_center_lists_categories_and_articles_and_searches_them() {
    let app = spawn_app().await;
    let mut anon = Web::new(&app);

    let (status, html, _) = anon.get("/help").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<title>Help center · Steward</title>"),
        "{html}"
    );
    for name in [
        "Getting Started",
        "Troubleshooting",
        "API &amp; Advanced",
        "FAQs",
    ] {
        assert!(html.contains(name), "{name}: {html}");
    }
    // No staff or portal header for a visitor, but a way to sign in.
    assert!(!html.contains("class=\"top\""), "{html}");
    assert!(html.contains("href=\"/portal/login\""), "{html}");

    let (status, html, _) = anon.get("/help/categories/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Welcome to Steward"), "{html}");
    assert!(html.contains("<h1>Getting Started</h1>"), "{html}");

    // Search: ranked hits with the matching words highlighted.
    let (status, html, _) = anon.get("/help?q=argon2").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Signing in and creating the first admin"),
        "{html}"
    );
    assert!(html.contains("<em>argon2</em>"), "{html}");
    let (status, html, _) = anon.get("/help?q=zzyzzx").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No articles match"), "{html}");

    // The article page renders the Markdown.
    let (status, html, _) = anon.get("/help/articles/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Welcome to Steward"), "{html}");
    assert!(html.contains("<h2>Who does what</h2>"), "{html}");
    assert!(html.contains("Was this article helpful?"), "{html}");

    // Bad addresses are 4xx pages.
    for (path, want) in [
        ("/help/categories/99", StatusCode::NOT_FOUND),
        ("/help/articles/999999", StatusCode::NOT_FOUND),
        ("/help/articles/abc", StatusCode::NOT_FOUND),
        ("/help?q=sla&page=0", StatusCode::BAD_REQUEST),
        ("/help/categories/1?page=x", StatusCode::BAD_REQUEST),
    ] {
        let (status, html, _) = anon.get(path).await;
        assert_eq!(status, want, "{path}: {html}");
        assert!(html.contains("<!doctype html>"), "{path}: {html}");
    }

    // Staff see the same categories with counts, and status pills.
    admin_with_password(&app).await;
    let mut admin = Web::new(&app);
    admin.sign_in(&app.admin_email, PASSWORD).await;
    let (status, html, _) = admin.get("/kb").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<title>Knowledge base · Steward</title>"));
    assert!(html.contains("Getting Started"), "{html}");
    assert!(html.contains("href=\"/kb/new\""), "{html}");
    let (_, html, _) = admin.get("/kb/categories/1").await;
    assert!(html.contains("kb-published"), "{html}");
    assert!(html.contains("Welcome to Steward"), "{html}");
    let (_, html, _) = admin.get("/kb?q=argon2").await;
    assert!(html.contains("<em>argon2</em>"), "{html}");
    assert!(html.contains("href=\"/kb/articles/"), "{html}");
}

#[tokio::test]
async fn an_admin_writes_a_draft_that_customers_see_only_once_published() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut admin = Web::new(&app);
    let csrf = admin.sign_in(&app.admin_email, PASSWORD).await;
    let mut anon = Web::new(&app);

    let (status, html, _) = admin.get("/kb/new?category=4").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-preview=\"/kb/preview\""), "{html}");
    assert!(html.contains("<option value=\"4\" selected>"), "{html}");

    // Every problem is reported next to its field.
    let (status, html, _) = admin
        .post(
            "/kb/new",
            &[
                ("csrf", &csrf),
                ("title", "  "),
                ("category_id", ""),
                ("tags", "ok, not/ok"),
                ("body", "x"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["e-title", "e-category_id", "e-tags"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
    }
    // An unknown category comes back from the store the same way.
    let (status, html, _) = admin
        .post(
            "/kb/new",
            &[
                ("csrf", &csrf),
                ("title", "Lost"),
                ("category_id", "99"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-category_id\""), "{html}");
    let (status, _, _) = admin
        .post(
            "/kb/new",
            &[("csrf", &csrf), ("title", "X"), ("action", "explode")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The no-script preview re-renders the form with the rendered body.
    let body = "Restart the **quokka** relay.\n\n<script>alert('x')</script>\n\n[bad](javascript:alert(1))";
    let (status, html, _) = admin
        .post(
            "/kb/new",
            &[
                ("csrf", &csrf),
                ("title", "Quokka relay restarts"),
                ("category_id", "4"),
                ("tags", "relay"),
                ("body", body),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<strong>quokka</strong>"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("value=\"Quokka relay restarts\""), "{html}");

    let (status, _, location) = admin
        .post(
            "/kb/new",
            &[
                ("csrf", &csrf),
                ("title", "Quokka relay restarts"),
                ("category_id", "4"),
                ("tags", "relay, Ops"),
                ("body", body),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let id: i64 = location
        .trim_start_matches("/kb/articles/")
        .parse()
        .unwrap();
    let (status, html, _) = admin.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("kb-draft"), "{html}");
    assert!(html.contains("<strong>quokka</strong>"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(html.contains(&format!("/kb/articles/{id}/edit")), "{html}");
    let stored = article_json(&app, id).await;
    assert_eq!(stored["label_names"], json!(["relay", "ops"]));
    assert_eq!(stored["draft"], true);

    // A draft is not in the help center: not listed, not found, not searched.
    let (status, _, _) = anon.get(&format!("/help/articles/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html, _) = anon.get("/help/categories/4").await;
    assert!(!html.contains("Quokka"), "{html}");
    let (_, html, _) = anon.get("/help?q=quokka").await;
    assert!(html.contains("No articles match"), "{html}");
    // ... not even for staff looking at the public side; /kb finds it.
    let (status, _, _) = admin.get(&format!("/help/articles/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, html, _) = admin.get("/kb?q=quokka").await;
    assert!(html.contains("Quokka relay restarts"), "{html}");
    let (_, html, _) = admin.get("/kb").await;
    assert!(html.contains("Latest drafts"), "{html}");
    assert!(html.contains("Quokka relay restarts"), "{html}");
    let (_, html, _) = admin.get("/kb/categories/4?status=draft").await;
    assert!(html.contains("Quokka relay restarts"), "{html}");
    assert!(!html.contains("kb-published"), "{html}");
    let (_, html, _) = admin.get("/kb/categories/4?status=published").await;
    assert!(!html.contains("Quokka relay restarts"), "{html}");
    let (status, _, _) = admin.get("/kb/categories/4?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Publish: now customers read it, escaped the same way.
    let (status, _, _) = admin
        .post(&format!("/kb/articles/{id}/publish"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, html, _) = anon.get(&format!("/help/articles/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Quokka relay restarts"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    let (_, html, _) = anon.get("/help?q=quokka").await;
    assert!(html.contains("<em>quokka</em>"), "{html}");

    // Editing keeps the status unless asked; "Save as draft" unpublishes.
    let (status, html, _) = admin.get(&format!("/kb/articles/{id}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Quokka relay restarts"), "{html}");
    let (status, _, _) = admin
        .post(
            &format!("/kb/articles/{id}/edit"),
            &[
                ("csrf", &csrf),
                ("title", "Quokka relay restarts, revised"),
                ("category_id", "4"),
                ("tags", ""),
                ("body", "Now shorter."),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html, _) = anon.get(&format!("/help/articles/{id}")).await;
    assert!(html.contains("revised"), "{html}");
    let (status, _, _) = admin
        .post(&format!("/kb/articles/{id}/unpublish"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = anon.get(&format!("/help/articles/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Delete goes through a confirmation page.
    let (status, html, _) = admin.get(&format!("/kb/articles/{id}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("cannot be undone"), "{html}");
    let (status, _, location) = admin
        .post(&format!("/kb/articles/{id}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/kb?deleted=1"));
    let (_, html, _) = admin.get("/kb?deleted=1").await;
    assert!(html.contains("The article was deleted."), "{html}");
    let (status, _, _) = admin.get(&format!("/kb/articles/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A form without its token changes nothing.
    let (status, _, _) = admin
        .post("/kb/articles/1/unpublish", &[("csrf", "forged")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(article_json(&app, 1).await["draft"], false);
}

#[tokio::test]
async fn agents_read_drafts_but_cannot_write() {
    let app = spawn_app().await;
    let draft = app
        .post_json(
            "/api/v2/help_center/articles.json",
            json!({"article": {"title": "Internal runbook", "body": "Hush.", "section_id": 2, "draft": true}}),
        )
        .await["article"]["id"]
        .as_i64()
        .unwrap();
    let (mut agent, csrf) = signed_in(&app, Role::Agent).await;

    let (status, html, _) = agent.get("/kb").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("/kb/new"), "{html}");
    let (status, html, _) = agent.get(&format!("/kb/articles/{draft}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Internal runbook"), "{html}");
    assert!(!html.contains("/edit"), "{html}");
    assert!(!html.contains("/publish"), "{html}");
    assert!(!html.contains("/delete"), "{html}");

    for path in [
        "/kb/new".to_string(),
        format!("/kb/articles/{draft}/edit"),
        format!("/kb/articles/{draft}/delete"),
    ] {
        let (status, _, _) = agent.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    for path in [
        "/kb/new".to_string(),
        "/kb/preview".to_string(),
        format!("/kb/articles/{draft}/edit"),
        format!("/kb/articles/{draft}/publish"),
        format!("/kb/articles/{draft}/delete"),
    ] {
        let (status, _, _) = agent
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("title", "Mine now"),
                    ("category_id", "2"),
                    ("body", "x"),
                    ("action", "publish"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let stored = article_json(&app, draft).await;
    assert_eq!(stored["title"], "Internal runbook");
    assert_eq!(stored["draft"], true);

    // Customers are sent to the portal from the staff pages, and read the
    // help center with the portal's header.
    let org = app.org("Acme", false).await;
    let (id, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut customer = Web::new(&app);
    let (_, html, _) = customer.get("/login").await;
    let token = csrf_in(&html);
    customer
        .post(
            "/login",
            &[("csrf", &token), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    let (status, _, location) = customer.get("/kb").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));
    let (status, html, _) = customer.get("/help/articles/1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("My tickets"), "{html}");
    assert!(html.contains("aria-current=\"page\">Help center"), "{html}");
    let (status, _, _) = customer.get(&format!("/help/articles/{draft}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A customer's vote is theirs, with the session's token.
    let csrf = csrf_in(&html[html.find("/vote").unwrap()..]);
    let (status, _, _) = customer
        .post(
            "/help/articles/1/vote",
            &[("csrf", &csrf), ("helpful", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(article_json(&app, 1).await["vote_count"], 1);
}

#[tokio::test]
async fn votes_count_once_per_visitor_and_views_count_for_readers() {
    let app = spawn_app().await;
    let views = |a: serde_json::Value| a["view_count"].as_i64().unwrap();
    let before = views(article_json(&app, 3).await);

    let mut alice = Web::new(&app);
    let (_, html, _) = alice.get("/help/articles/3").await;
    let csrf = csrf_in(&html);
    alice.get("/help/articles/3").await;
    assert_eq!(views(article_json(&app, 3).await), before + 2);

    // Without the double-submit cookie's token, nothing happens.
    let (status, _, _) = alice
        .post(
            "/help/articles/3/vote",
            &[("csrf", "forged"), ("helpful", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = alice
        .post(
            "/help/articles/3/vote",
            &[("csrf", &csrf), ("helpful", "maybe")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for _ in 0..2 {
        let (status, _, location) = alice
            .post(
                "/help/articles/3/vote",
                &[("csrf", &csrf), ("helpful", "yes")],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location.as_deref(), Some("/help/articles/3?voted=yes#vote"));
    }
    assert!(
        alice.cookies.iter().any(|(k, _)| k == "steward_kb_visitor"),
        "{:?}",
        alice.cookies
    );
    let a = article_json(&app, 3).await;
    assert_eq!(
        (a["vote_count"].clone(), a["vote_sum"].clone()),
        (json!(1), json!(1))
    );
    // The thank-you page is not another read.
    let (_, html, _) = alice.get("/help/articles/3?voted=yes").await;
    assert!(html.contains("glad it helped"), "{html}");
    assert_eq!(views(article_json(&app, 3).await), before + 2);

    // Another visitor is another vote; changing one's mind replaces it.
    let mut bob = Web::new(&app);
    let (_, html, _) = bob.get("/help/articles/3").await;
    let bob_csrf = csrf_in(&html);
    bob.post(
        "/help/articles/3/vote",
        &[("csrf", &bob_csrf), ("helpful", "no")],
    )
    .await;
    alice
        .post(
            "/help/articles/3/vote",
            &[("csrf", &csrf), ("helpful", "no")],
        )
        .await;
    let a = article_json(&app, 3).await;
    assert_eq!(
        (a["vote_count"].clone(), a["vote_sum"].clone()),
        (json!(2), json!(-2))
    );

    // Staff reading at work do not count as views.
    admin_with_password(&app).await;
    let mut admin = Web::new(&app);
    admin.sign_in(&app.admin_email, PASSWORD).await;
    let seen = views(article_json(&app, 3).await);
    admin.get("/kb/articles/3").await;
    admin.get("/help/articles/3").await;
    assert_eq!(views(article_json(&app, 3).await), seen);

    // Voting on what is not there is a 404.
    let (status, _, _) = alice
        .post(
            "/help/articles/999999/vote",
            &[("csrf", &csrf), ("helpful", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_preview_renders_markdown_safely_and_needs_the_token() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut admin = Web::new(&app);
    let csrf = admin.sign_in(&app.admin_email, PASSWORD).await;

    let (status, html, _) = admin
        .post(
            "/kb/preview",
            &[
                ("csrf", &csrf),
                ("title", "ignored"),
                ("body", "# Hello\n\n<img src=x onerror=alert(1)> *there*"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Hello</h1>"), "{html}");
    assert!(html.contains("<em>there</em>"), "{html}");
    assert!(html.contains("&lt;img"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(
        !html.contains("<!doctype"),
        "a fragment, not a page: {html}"
    );

    let (status, _, _) = admin
        .post("/kb/preview", &[("csrf", "nope"), ("body", "# Hi")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, location) = Web::new(&app)
        .post("/kb/preview", &[("csrf", &csrf), ("body", "# Hi")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/login"));

    let big = "x".repeat(101 * 1024);
    let (status, html, _) = admin
        .post("/kb/preview", &[("csrf", &csrf), ("body", &big)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.starts_with("<p class=\"error\">The body is too long"),
        "{html}"
    );
}
