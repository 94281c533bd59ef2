//! The customer pages in a real browser: the account 360 with its
//! explained health and a logged call, the project page with its milestone
//! chart and a risk added through its form, and a status report under
//! review.

use super::Browser;
use crate::{
    web::{PASSWORD, admin_with_password},
    web_hub::{Seeded, seed},
};

/// Waits until a form's submission has replaced the page (so reading the
/// page cannot catch the old document going away), then for `needle`.
async fn after_navigation(b: &mut Browser, from: &str, needle: &str) -> String {
    for _ in 0..100 {
        if b.url().await != from {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.wait_for_text(needle).await
}

#[tokio::test]
async fn a_csm_reviews_an_account_and_its_project() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let Seeded { app, org, project } = seed().await;
    admin_with_password(&app).await;
    b.sign_in(&app, &app.admin_email, PASSWORD).await;
    let login = format!("{}/login", app.base);
    after_navigation(&mut b, &login, "Sign out").await;

    b.goto(&format!("{}/accounts", app.base)).await;
    let text = b.wait_for_text("Northwind Freight").await;
    assert!(text.contains("Dana Reyes"), "{text}");
    assert_eq!(b.title().await, "Accounts · Steward");
    b.screenshot("accounts").await;
    b.check_accessibility().await;

    // The account 360: contract, contacts, the score and its evidence.
    b.goto(&format!("{}/accounts/{org}", app.base)).await;
    let text = b.wait_for_text("Health:").await;
    for needle in [
        "$150,000",
        "Sam Okafor",
        "Budget cuts announced",
        "CFO announced a 10% cut in Q1",
    ] {
        assert!(text.contains(needle), "{needle} missing: {text}");
    }
    assert_eq!(b.title().await, "Northwind Freight · Steward");
    b.screenshot("account").await;
    b.check_accessibility().await;

    // Log a call through the form.
    b.click_css("#communications details summary").await;
    b.fill("#f-topic", "Weekly sync").await;
    b.fill("#f-summary", "Export fix agreed").await;
    let here = b.url().await;
    b.click_css("#communications form button[type=submit]")
        .await;
    let text = after_navigation(&mut b, &here, "The communication was logged.").await;
    assert!(text.contains("Weekly sync"), "{text}");

    // The project page draws its milestones as an SVG chart.
    b.goto(&format!("{}/projects/{project}", app.base)).await;
    b.wait_for_text("Risk registry").await;
    let charts = b.find_all("svg.chart").await;
    assert_eq!(charts.len(), 1);
    let bars = b.find_all("svg.chart rect.bar").await;
    assert_eq!(bars.len(), 20, "one bar per milestone");
    let drawn = b
        .script("const r = document.querySelector('svg.chart rect.bar').getBoundingClientRect(); return r.width > 0 && r.height > 0;")
        .await;
    assert_eq!(drawn, serde_json::json!(true), "the bars are drawn");
    assert_eq!(b.find_all("svg.chart line.today").await.len(), 1);
    assert_eq!(b.title().await, "Northwind rollout · Steward");
    b.screenshot("project").await;
    b.check_accessibility().await;
    for part in ["tasks", "risks", "handoffs"] {
        b.script(&format!(
            "document.getElementById('{part}').scrollIntoView();"
        ))
        .await;
        b.screenshot(&format!("project_{part}")).await;
    }

    // Add a risk through the registry's form; it is listed after the page
    // comes back, with its score.
    b.click_css("#risks details summary").await;
    b.fill("#risk-title", "Customer IT freeze in December")
        .await;
    b.fill("#risk-mitigation", "Front-load the SSO work").await;
    let here = b.url().await;
    b.click_css("#risks form[action$='/risks'] button[type=submit]")
        .await;
    let text = after_navigation(&mut b, &here, "The risk registry was updated.").await;
    assert!(text.contains("Customer IT freeze in December"), "{text}");
    assert!(
        text.contains("Mitigation: Front-load the SSO work"),
        "{text}"
    );
    b.check_accessibility().await;

    // Generate this week's report and look at it before sending.
    let here = b.url().await;
    b.click_css("#reports form button[type=submit]").await;
    after_navigation(&mut b, &here, "CSM notes").await;
    assert_eq!(b.find_all("iframe.report").await.len(), 1);
    b.screenshot("status_report").await;
    b.check_accessibility().await;
}
