//! An NPS survey answered through its public page in a real browser, as a
//! contact would from the e-mailed link (no sign-in), on a phone-sized
//! window too.

use serde_json::json;
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use super::Browser;
use crate::{
    helpers::spawn_app_with_clock,
    surveys::{campaign, links_to, send},
};

#[tokio::test]
async fn a_contact_answers_the_nps_survey_in_the_browser() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let t0 = parse_rfc3339("2026-11-02T14:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Survey Co", "acv_cents": 20_000_000}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let (_, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let c = campaign(&app, "Q4 2026").await;
    assert_eq!(send(&app, c).await["sent"], 1);
    let token = links_to(&app, &email).await.remove(0);

    b.goto(&format!("{}/s/{token}", app.base)).await;
    b.wait_for_text("How likely are you to recommend").await;
    b.screenshot("nps-survey").await;
    // Every field of the public page has a label.
    let unlabelled = b
        .script(
            r#"return Array.from(document.querySelectorAll('input, textarea, select'))
                 .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length)).length;"#,
        )
        .await;
    assert_eq!(unlabelled, json!(0));
    b.click_css("#score-9").await;
    b.fill("#reason", "Fast support & clear reports").await;
    b.click_css("form button[type=submit]").await;
    b.wait_for_text("Thank you").await;
    b.screenshot("nps-survey-thanks").await;

    let r = app
        .get_json(&format!("/api/v2/nps_campaigns/{c}/report.json"))
        .await["report"]
        .clone();
    assert_eq!(r["responses"], 1, "{r}");
    assert_eq!(r["promoters"], 1, "{r}");
    assert_eq!(r["nps"], 100, "{r}");

    // The link is single-use: opening it again is a clear page, not an error.
    b.goto(&format!("{}/s/{token}", app.base)).await;
    let text = b.body_text().await;
    assert!(!text.contains("How likely are you to recommend"), "{text}");
    assert!(
        !text.to_lowercase().contains("something went wrong"),
        "{text}"
    );
}
