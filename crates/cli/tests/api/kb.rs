//! The knowledge base (policies.md §17) through the Help Center API: the
//! seeded categories and articles, admin-only writes, drafts hidden from
//! customers and anonymous visitors, ranked full-text search, one vote per
//! voter, safe Markdown rendering, views, and 4xx answers to bad input.

use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use steward_domain::Role;

use crate::helpers::{TestApp, json_of, spawn_app};

/// An anonymous request (no credentials).
fn anon(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.client.request(method, format!("{}{path}", app.base))
}

/// A signed-in user's request.
fn as_user(
    app: &TestApp,
    who: &(i64, String, String),
    method: Method,
    path: &str,
) -> RequestBuilder {
    app.request_as(method, path, &who.1, &who.2)
}

async fn create(app: &TestApp, article: Value) -> Value {
    app.post_json("/api/v2/help_center/articles", json!({"article": article}))
        .await["article"]
        .clone()
}

#[tokio::test]
async fn seeded_categories_and_articles_are_public() {
    let app = spawn_app().await;
    let cats = json_of(
        anon(&app, Method::GET, "/api/v2/help_center/categories.json")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let names: Vec<&str> = cats["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Getting Started",
            "Navigation & Workflows",
            "Configuration & Setup",
            "Troubleshooting",
            "Best Practices",
            "API & Advanced",
            "FAQs"
        ]
    );
    for c in cats["categories"].as_array().unwrap() {
        assert!(c["article_count"].as_i64().unwrap() >= 2, "{c}");
    }

    let list = json_of(
        anon(
            &app,
            Method::GET,
            "/api/v2/help_center/articles?per_page=100",
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(list["count"].as_i64().unwrap() >= 20, "{}", list["count"]);
    let articles = list["articles"].as_array().unwrap();
    assert!(articles.iter().all(|a| a["draft"] == false));
    assert!(articles.iter().all(|a| a["author_name"] == "Steward"));

    // One category's articles, in Zendesk's section shape too.
    let faq = json_of(
        anon(&app, Method::GET, "/api/v2/help_center/sections/7/articles")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(faq["count"].as_i64().unwrap() >= 2);
    assert!(
        faq["articles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["section_id"] == 7)
    );
    let sections = app.get_json("/api/v2/help_center/sections").await;
    assert_eq!(sections["sections"][0]["category_id"], 1);

    // One article, rendered.
    let one = json_of(
        anon(&app, Method::GET, "/api/v2/help_center/articles/1.json")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await["article"]
        .clone();
    assert_eq!(one["title"], "Welcome to Steward");
    assert!(one["body"].as_str().unwrap().contains("<h2>"), "{one}");
    assert!(one["body_markdown"].as_str().unwrap().contains("## "));
    assert!(
        one["html_url"]
            .as_str()
            .unwrap()
            .ends_with("/hc/articles/1")
    );
}

#[tokio::test]
async fn unknown_category_is_not_found() {
    let app = spawn_app().await;
    for path in [
        "/api/v2/help_center/categories/99",
        "/api/v2/help_center/categories/99/articles",
        "/api/v2/help_center/articles/99999",
        "/api/v2/help_center/articles/abc",
    ] {
        let r = anon(&app, Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn admins_write_others_are_refused_and_drafts_stay_internal() {
    let app = spawn_app().await;
    let agent = app.user_with_token(Role::Agent, None).await;
    let viewer = app.user_with_token(Role::Viewer, None).await;
    let contractor = app.user_with_token(Role::Contractor, None).await;
    let customer = app.user_with_token(Role::EndUser, None).await;

    // Agents may not create.
    let refused = as_user(&app, &agent, Method::POST, "/api/v2/help_center/articles")
        .json(&json!({"article": {"title": "Nope", "section_id": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let anonymous = anon(&app, Method::POST, "/api/v2/help_center/articles")
        .json(&json!({"article": {"title": "Nope", "section_id": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // The admin creates a draft (the default), tagged.
    let draft = create(
        &app,
        json!({
            "title": "Rotating the webhook secret",
            "body_markdown": "Open **Settings**, then rotate the webhook secret.",
            "section_id": 3,
            "label_names": ["Webhooks", "security"],
        }),
    )
    .await;
    let id = draft["id"].as_i64().unwrap();
    assert_eq!(draft["draft"], true);
    assert_eq!(draft["category_id"], 3);
    assert_eq!(draft["author_name"], "Ada Admin");
    assert_eq!(draft["label_names"], json!(["webhooks", "security"]));
    assert!(
        draft["body"]
            .as_str()
            .unwrap()
            .contains("<strong>Settings</strong>")
    );
    let path = format!("/api/v2/help_center/articles/{id}");

    // Staff who read the KB see the draft; customers, contractors and
    // visitors do not, anywhere.
    for who in [&agent, &viewer] {
        let r = as_user(&app, who, Method::GET, &path).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    for who in [&customer, &contractor] {
        let r = as_user(&app, who, Method::GET, &path).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }
    assert_eq!(
        anon(&app, Method::GET, &path)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let listed = |v: &Value| {
        v["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id)
    };
    let cat3 = "/api/v2/help_center/categories/3/articles?per_page=100";
    let public = json_of(anon(&app, Method::GET, cat3).send().await.unwrap(), 200).await;
    assert!(!listed(&public));
    let staff = json_of(
        as_user(&app, &agent, Method::GET, cat3)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(listed(&staff));
    let drafts = app
        .get_json("/api/v2/help_center/articles?draft=true")
        .await;
    assert_eq!(drafts["count"], 1);
    // Labels: any of the given ones, whole labels only.
    let labelled = app
        .get_json("/api/v2/help_center/articles?label_names=nothing,Security")
        .await;
    assert_eq!(labelled["count"], 1);
    assert_eq!(labelled["articles"][0]["id"], id);
    let partial = app
        .get_json("/api/v2/help_center/articles?label_names=secur,web_hooks")
        .await;
    assert_eq!(partial["count"], 0);
    let search = "/api/v2/help_center/articles/search?query=webhook%20secret";
    let public = json_of(
        as_user(&app, &customer, Method::GET, search)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(public["count"], 0);
    let staff = json_of(
        as_user(&app, &agent, Method::GET, search)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(staff["results"][0]["id"], id);
    let counts = json_of(
        anon(&app, Method::GET, "/api/v2/help_center/categories/3")
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let staff_counts = app.get_json("/api/v2/help_center/categories/3").await;
    assert_eq!(
        staff_counts["category"]["article_count"].as_i64().unwrap(),
        counts["category"]["article_count"].as_i64().unwrap() + 1
    );

    // Agents may not edit, publish or delete.
    let r = as_user(&app, &agent, Method::PUT, &path)
        .json(&json!({"article": {"draft": false}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = as_user(&app, &agent, Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // The admin edits and publishes: now everyone reads it.
    let published = app
        .put_json(
            &path,
            json!({"article": {"title": "Rotating webhook secrets", "draft": false}}),
        )
        .await["article"]
        .clone();
    assert_eq!(published["draft"], false);
    assert_eq!(published["title"], "Rotating webhook secrets");
    assert!(published["published_at"].is_string());
    let read = json_of(anon(&app, Method::GET, &path).send().await.unwrap(), 200).await;
    assert_eq!(read["article"]["title"], "Rotating webhook secrets");
    let found = json_of(anon(&app, Method::GET, search).send().await.unwrap(), 200).await;
    assert_eq!(found["results"][0]["id"], id);

    // Unpublished again, it disappears for visitors.
    app.put_json(&path, json!({"article": {"status": "draft"}}))
        .await;
    assert_eq!(
        anon(&app, Method::GET, &path)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Zendesk's create path, under a section.
    let in_section = json_of(
        app.admin(Method::POST, "/api/v2/help_center/sections/6/articles.json")
            .json(&json!({"article": {"title": "Webhooks reference", "body": "Payloads.", "draft": false}}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    assert_eq!(in_section["article"]["section_id"], 6);
    assert_eq!(in_section["article"]["draft"], false);

    // Deleting.
    let r = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = app.admin(Method::GET, &path).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let gone = app.get_json(search).await;
    assert!(
        gone["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != id)
    );
}

#[tokio::test]
async fn search_finds_title_and_body_words_and_ranks_titles_first() {
    let app = spawn_app().await;
    let body_hit = create(
        &app,
        json!({
            "title": "Regional settings",
            "body_markdown": "Each workspace has a locale. The zephyrine option is explained elsewhere.",
            "section_id": 3,
            "draft": false,
        }),
    )
    .await;
    let title_hit = create(
        &app,
        json!({
            "title": "Zephyrine mode explained",
            "body_markdown": "Turn it on from the account page.",
            "section_id": 3,
            "draft": false,
        }),
    )
    .await;
    let app = &app;
    let search = |q: &str| {
        let path = format!("/api/v2/help_center/articles/search?query={q}");
        async move { json_of(anon(app, Method::GET, &path).send().await.unwrap(), 200).await }
    };
    let found = search("zephyrine").await;
    assert_eq!(found["count"], 2);
    assert_eq!(found["results"][0]["id"], title_hit["id"], "{found}");
    assert_eq!(found["results"][1]["id"], body_hit["id"]);
    assert_eq!(found["results"][0]["result_type"], "article");
    assert!(
        found["results"][1]["snippet"]
            .as_str()
            .unwrap()
            .contains("<em>zephyrine</em>"),
        "{}",
        found["results"][1]["snippet"]
    );

    // A word only in one body; stemmed matching; every word must match.
    let found = search("workspace%20locale").await;
    assert_eq!(found["count"], 1);
    assert_eq!(found["results"][0]["id"], body_hit["id"]);
    let found = search("explain").await;
    assert!(found["count"].as_i64().unwrap() >= 2, "{found}");
    assert_eq!(search("zephyrine%20nonexistentword").await["count"], 0);

    // Seeded articles: the title that names both words comes first.
    let found = search("how%20do%20I%20create%20an%20API%20token%3F").await;
    assert_eq!(
        found["results"][0]["title"], "Creating and using API tokens",
        "{found}"
    );
    let found = search("calendars").await;
    assert_eq!(
        found["results"][0]["title"],
        "Business-hours calendars and holidays"
    );

    // Filters and paging.
    let found = search("zephyrine&category=1").await;
    assert_eq!(found["count"], 0);
    let found = search("zephyrine&per_page=1").await;
    assert_eq!(found["results"].as_array().unwrap().len(), 1);
    assert_eq!(found["page_count"], 2);
    assert!(found["next_page"].is_string());
    // Only stop words: nothing to look for.
    assert_eq!(search("the%20and").await["count"], 0);
}

#[tokio::test]
async fn votes_count_once_per_voter() {
    let app = spawn_app().await;
    let ana = app.user_with_token(Role::EndUser, None).await;
    let ben = app.user_with_token(Role::EndUser, None).await;
    let path = "/api/v2/help_center/articles/1";
    let vote = |who: &(i64, String, String), dir: &str| {
        as_user(&app, who, Method::POST, &format!("{path}/{dir}")).send()
    };
    let sums = || async {
        let a = app.get_json(path).await["article"].clone();
        (
            a["vote_sum"].as_i64().unwrap(),
            a["vote_count"].as_i64().unwrap(),
        )
    };

    let v = json_of(vote(&ana, "up").await.unwrap(), 200).await;
    assert_eq!(v["vote"]["value"], 1);
    assert_eq!(v["vote"]["item_id"], 1);
    assert_eq!(v["vote"]["user_id"], ana.0);
    assert_eq!(sums().await, (1, 1));
    json_of(vote(&ana, "up").await.unwrap(), 200).await;
    assert_eq!(sums().await, (1, 1), "a second up vote is the same vote");
    let changed = json_of(vote(&ana, "down").await.unwrap(), 200).await;
    assert_eq!(changed["vote"]["id"], v["vote"]["id"]);
    assert_eq!(changed["vote"]["value"], -1);
    assert_eq!(
        sums().await,
        (-1, 1),
        "changing one's mind replaces the vote"
    );
    json_of(vote(&ben, "up").await.unwrap(), 200).await;
    assert_eq!(sums().await, (0, 2));
    let a = app.get_json(path).await["article"].clone();
    assert_eq!(
        (a["helpful_count"].as_i64(), a["not_helpful_count"].as_i64()),
        (Some(1), Some(1))
    );

    // Anonymous visitors cannot vote through the API.
    let r = anon(&app, Method::POST, &format!("{path}/up"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Drafts take no votes: not found for customers, 422 for staff.
    let draft = create(&app, json!({"title": "Draft", "section_id": 1})).await;
    let draft_up = format!("/api/v2/help_center/articles/{}/up", draft["id"]);
    let r = as_user(&app, &ana, Method::POST, &draft_up)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app.admin(Method::POST, &draft_up).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .admin(Method::POST, "/api/v2/help_center/articles/99999/down")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn markdown_is_rendered_safely() {
    let app = spawn_app().await;
    let a = create(
        &app,
        json!({
            "title": "Hostile",
            "body_markdown": "<script>alert(1)</script>\n\nHello <img src=x onerror=alert(2)>\n\n[click](javascript:alert(3)) and [docs](https://example.com)",
            "section_id": 4,
            "draft": false,
        }),
    )
    .await;
    let body = a["body"].as_str().unwrap();
    assert!(!body.contains("<script"), "{body}");
    assert!(!body.contains("<img"), "{body}");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    assert!(body.contains(r##"<a href="#">click</a>"##), "{body}");
    assert!(body.contains(r#"<a href="https://example.com">docs</a>"#));
    assert!(
        a["body_markdown"].as_str().unwrap().starts_with("<script>"),
        "the source is kept as written"
    );
    // The same for anonymous readers.
    let read = json_of(
        anon(
            &app,
            Method::GET,
            &format!("/api/v2/help_center/articles/{}", a["id"]),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(read["article"]["body"], a["body"]);
}

#[tokio::test]
async fn customers_views_are_counted_staff_views_are_not() {
    let app = spawn_app().await;
    let customer = app.user_with_token(Role::EndUser, None).await;
    let path = "/api/v2/help_center/articles/2";
    let views = || async {
        app.get_json(path).await["article"]["view_count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(views().await, 0);
    let read = json_of(anon(&app, Method::GET, path).send().await.unwrap(), 200).await;
    assert_eq!(read["article"]["view_count"], 1);
    json_of(
        as_user(&app, &customer, Method::GET, path)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(views().await, 2);
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let app = spawn_app().await;
    let post = |body: Value| {
        app.admin(Method::POST, "/api/v2/help_center/articles")
            .json(&body)
            .send()
    };
    let cases = [
        (json!({"article": {"section_id": 1}}), "article.title"),
        (
            json!({"article": {"title": "  ", "section_id": 1}}),
            "article.title",
        ),
        (
            json!({"article": {"title": "x".repeat(256), "section_id": 1}}),
            "article.title",
        ),
        (
            json!({"article": {"title": "Big", "section_id": 1, "body_markdown": "x".repeat(100 * 1024 + 1)}}),
            "article.body_markdown",
        ),
        (
            json!({"article": {"title": "No category"}}),
            "article.section_id",
        ),
        (
            json!({"article": {"title": "Bad", "section_id": 42}}),
            "category_id",
        ),
        (
            json!({"article": {"title": "Bad", "section_id": 1, "label_names": ["two words"]}}),
            "article.label_names",
        ),
        (
            json!({"article": {"title": "Bad", "section_id": 1, "draft": "yes"}}),
            "article.draft",
        ),
        (
            json!({"article": {"title": "Bad", "section_id": 1, "status": "archived"}}),
            "article.status",
        ),
        (
            json!({"article": {"title": "Bad", "section_id": 1, "draft": true, "status": "published"}}),
            "article.draft",
        ),
        (
            json!({"article": {"title": "Bad", "section_id": 1, "category_id": 2}}),
            "article.section_id",
        ),
        (json!({"article": "text"}), "article"),
    ];
    for (body, field) in cases {
        let r = json_of(post(body.clone()).await.unwrap(), 422).await;
        assert_eq!(r["error"], "RecordInvalid", "{body}");
        assert!(r["details"].get(field).is_some(), "{field}: {r}");
    }
    // Exactly at the limits is fine.
    let ok = create(
        &app,
        json!({"title": "é".repeat(255), "section_id": 1, "body_markdown": "x".repeat(100 * 1024)}),
    )
    .await;
    assert_eq!(ok["title"].as_str().unwrap().chars().count(), 255);

    let r = post(json!({"title": "no envelope"})).await.unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .admin(Method::POST, "/api/v2/help_center/articles")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app
        .admin(Method::PUT, "/api/v2/help_center/articles/1")
        .json(&json!({"article": {"title": null}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .admin(Method::PUT, "/api/v2/help_center/articles/1")
        .json(&json!({"article": {"section_id": 99}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .admin(Method::PUT, "/api/v2/help_center/articles/99999")
        .json(&json!({"article": {"title": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    for path in [
        "/api/v2/help_center/articles/search",
        "/api/v2/help_center/articles/search?query=%20",
        "/api/v2/help_center/articles/search?query=x&per_page=1000",
        "/api/v2/help_center/articles/search?query=x&page=-1",
        "/api/v2/help_center/articles/search?query=x&category=abc",
        "/api/v2/help_center/articles?per_page=1000",
        "/api/v2/help_center/articles?sort_by=body",
        "/api/v2/help_center/articles?draft=maybe",
    ] {
        let r = anon(&app, Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
    }
    // Odd but harmless queries answer, never 500.
    for q in [
        "%22",
        "*",
        "NEAR(a%20b)",
        "a%22%20OR%20%22b",
        "%C2%B2",
        "%E2%85%A7",
        "e%CC%81",
        "%F0%9F%98%80",
        "%E2%9C%93",
        "'%3B--",
    ] {
        let path = format!("/api/v2/help_center/articles/search?query={q}");
        let r = anon(&app, Method::GET, &path).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // Wrong credentials on a public route are refused, not read as anonymous.
    let r = app
        .request_as(
            Method::GET,
            "/api/v2/help_center/articles",
            "x@example.com",
            "wrong",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
