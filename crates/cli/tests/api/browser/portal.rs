//! The customer portal in a real browser: a contact signs in by the
//! e-mailed link, opens a ticket, and cannot reach another organization's
//! ticket by its URL.

use serde_json::json;
use steward_domain::Role;

use super::Browser;
use crate::{
    helpers::spawn_app,
    web_portal::{link_path, links_for},
};

#[tokio::test]
async fn a_contact_signs_in_by_link_opens_a_ticket_and_stays_in_their_organization() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let mine = app.org("Acme Corp", false).await;
    let other = app.org("Globex", false).await;
    let (me, email, _) = app.user_with_token(Role::EndUser, Some(mine)).await;
    let (stranger, _, _) = app.user_with_token(Role::EndUser, Some(other)).await;
    app.post_json(
        "/api/v2/tickets.json",
        json!({"ticket": {"subject": "Invoices export times out", "requester_id": me,
               "comment": {"body": "The export of November never finishes."}}}),
    )
    .await;
    let secret = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Globex merger data room", "requester_id": stranger,
                   "comment": {"body": "Confidential."}}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();

    // The portal asks anonymous visitors for their address.
    b.goto(&format!("{}/portal", app.base)).await;
    assert!(b.url().await.contains("/portal/login"), "{}", b.url().await);
    b.screenshot("portal-login").await;
    b.check_accessibility().await;
    b.fill("#f-email", &email).await;
    b.click_css("button[type=submit].primary").await;
    wait_for(&mut b, "we sent a sign-in link").await;

    // The link from the e-mail opens a page with one button, which signs
    // in and lands on the ticket list.
    let link = link_path(&links_for(&app, &email).await[0]);
    b.goto(&format!("{}{link}", app.base)).await;
    wait_for(&mut b, "This link signs you in once.").await;
    b.screenshot("portal-link").await;
    b.check_accessibility().await;
    b.click_css("form button[type=submit].primary").await;
    let text = wait_for(&mut b, "Invoices export times out").await;
    assert!(!text.contains("Globex"), "{text}");
    assert!(b.url().await.ends_with("/portal"), "{}", b.url().await);
    assert_eq!(b.title().await, "My tickets · Steward");

    // Opening a ticket from the header's link.
    b.click_css("header a[href='/portal/new']").await;
    wait_for(&mut b, "Describe the problem").await;
    b.fill("#f-subject", "Cannot add a second admin").await;
    b.fill(
        "#f-description",
        "The invite button stays grey.\nTried Firefox and Chrome.",
    )
    .await;
    b.script("document.getElementById('f-priority').value = 'high';")
        .await;
    b.click_css("form button[type=submit].primary").await;
    let text = wait_for(&mut b, "Your ticket was opened").await;
    assert!(text.contains("Cannot add a second admin"), "{text}");
    assert!(text.contains("Tried Firefox and Chrome."), "{text}");
    assert!(
        b.url().await.contains("/portal/tickets/"),
        "{}",
        b.url().await
    );
    b.fill("#f-body", "Also happens on the mobile app.").await;
    b.click_css("#reply button[type=submit]").await;
    wait_for(&mut b, "Your reply was sent.").await;
    wait_for(&mut b, "Also happens on the mobile app.").await;
    b.screenshot("portal-ticket").await;
    b.check_accessibility().await;

    b.click_css("header a[href='/portal']").await;
    // (The ticket page shows its own subject; the list alone shows the other.)
    let text = wait_for(&mut b, "Invoices export times out").await;
    assert!(text.contains("Cannot add a second admin"), "{text}");
    b.screenshot("portal").await;
    b.check_accessibility().await;

    // Another organization's ticket by URL: a 404 page that shows nothing of it.
    b.goto(&format!("{}/portal/tickets/{secret}", app.base))
        .await;
    let text = wait_for(&mut b, "Not found").await;
    assert!(!text.contains("Globex"), "{text}");
    assert!(!text.contains("merger"), "{text}");
    assert!(!text.contains("Confidential"), "{text}");
    let status = b
        .script("return performance.getEntriesByType('navigation')[0].responseStatus;")
        .await;
    assert_eq!(status, json!(404));
    b.screenshot("portal-not-found").await;
    b.check_accessibility().await;

    // On a phone: the list fits the width, nothing scrolls sideways.
    b.cmd("POST", "/window/rect", json!({"width": 390, "height": 844}))
        .await;
    for (path, shot) in [
        ("/portal", "portal-phone"),
        ("/portal/new", "portal-new-phone"),
    ] {
        b.goto(&format!("{}{path}", app.base)).await;
        let overflow = b
            .script("return document.documentElement.scrollWidth - window.innerWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path} scrolls sideways by {overflow}"
        );
        b.screenshot(shot).await;
    }
}

/// Waits until the page's text contains `needle`, reading it in one script
/// call: `Browser::wait_for_text` finds `body` and then reads it, and a
/// navigation between the two calls makes the element stale.
async fn wait_for(b: &mut Browser, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        text = b
            .script("return document.body ? document.body.innerText : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{needle:?} never appeared; the page says:\n{text}");
}
