//! The NPS, feedback and CAB pages over HTTP.

use reqwest::StatusCode;
use serde_json::json;
use steward_domain::Role;

use crate::{
    helpers::spawn_app,
    web::{PASSWORD, Web, admin_with_password, csrf_in},
};

#[tokio::test]
async fn nps_campaigns_are_created_and_reported_from_the_pages() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    let csrf = web.sign_in("admin@example.com", PASSWORD).await;

    let (status, html, _) = web.get("/nps").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No campaigns yet"), "{html}");

    // A bad quarter comes back with the error next to the field.
    let (status, html, _) = web
        .post(
            "/nps",
            &[("csrf", &csrf), ("name", "Q4 pulse"), ("quarter", "Q9")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-quarter\""), "{html}");

    let (status, _, location) = web
        .post(
            "/nps",
            &[
                ("csrf", &csrf),
                ("name", "Q4 survey"),
                ("quarter", "2026-Q4"),
                ("tiers", "enterprise"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let id: i64 = location.trim_start_matches("/nps/").parse().unwrap();
    let api = app
        .get_json(&format!("/api/v2/nps_campaigns/{id}.json"))
        .await;
    assert_eq!(api["nps_campaign"]["name"], "Q4 survey");
    assert_eq!(
        api["nps_campaign"]["audience"]["tiers"],
        json!(["enterprise"])
    );

    let (status, html, _) = web.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Q4 survey"), "{html}");
    assert!(html.contains("No detractors in this campaign"), "{html}");
    // Sending needs the public URL, which this server lacks: a clear 400.
    let csrf = csrf_in(&html);
    let (status, html, _) = web
        .post(&format!("/nps/{id}/send"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("STEWARD_PUBLIC_URL"), "{html}");

    let (status, _, _) = web.get("/nps/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn feedback_themes_take_committee_decisions_from_the_page() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let org = app.org("Initech", false).await;
    let item = app
        .post_json(
            "/api/v2/feedback_items.json",
            json!({"feedback_item": {"source": "advisory_interview", "category": "product", "sentiment": "negative",
                   "text": "We need SAML <login>", "organization_id": org, "theme": "SSO"}}),
        )
        .await;
    let theme = item["feedback_item"]["theme_id"].as_i64().unwrap();
    let mut web = Web::new(&app);
    let csrf = web.sign_in("admin@example.com", PASSWORD).await;

    let (_, html, _) = web.get("/feedback").await;
    assert!(
        html.contains(&format!("href=\"/feedback/{theme}\">SSO</a>")),
        "{html}"
    );
    let (status, html, _) = web.get(&format!("/feedback/{theme}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("We need SAML &lt;login&gt;"), "{html}");
    assert!(html.contains("Initech"));

    // No decision chosen: 422 with the message.
    let (status, html, _) = web
        .post(
            &format!("/feedback/{theme}/decide"),
            &[("csrf", &csrf), ("reason", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("choose a decision"), "{html}");
    // A roadmap decision without a date is refused by §11's rules.
    let (status, html, _) = web
        .post(
            &format!("/feedback/{theme}/decide"),
            &[
                ("csrf", &csrf),
                ("decision", "roadmap"),
                ("reason", "Many asks"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("needs a target release date"), "{html}");
    let release = steward_store::dates::utc_date(crate::helpers::now())
        .checked_add(jiff::Span::new().days(60))
        .unwrap()
        .to_string();
    let (status, html, _) = web
        .post(
            &format!("/feedback/{theme}/decide"),
            &[
                ("csrf", &csrf),
                ("decision", "roadmap"),
                ("target_release", &release),
                ("reason", "Many asks"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let d = app
        .get_json(&format!("/api/v2/feedback_themes/{theme}/decisions.json"))
        .await;
    assert_eq!(d["feedback_decisions"][0]["decision"], "roadmap", "{d}");
    let (_, html, _) = web.get(&format!("/feedback/{theme}")).await;
    assert!(html.contains(&format!("Target: {release}")), "{html}");
}

#[tokio::test]
async fn viewers_read_but_cannot_decide_and_the_cab_page_renders() {
    let app = spawn_app().await;
    let (id, email, _) = app.user_with_token(Role::Viewer, None).await;
    app.store
        .set_password(id, PASSWORD, crate::helpers::now())
        .await
        .unwrap();
    let mut web = Web::new(&app);
    let csrf = web.sign_in(&email, PASSWORD).await;
    let (status, html, _) = web.get("/cab").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Customer Advisory Board</h1>"), "{html}");
    let (status, html, _) = web
        .post(
            "/nps",
            &[("csrf", &csrf), ("name", "x"), ("quarter", "2026-Q4")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
}
