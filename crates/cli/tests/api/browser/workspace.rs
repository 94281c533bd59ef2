//! The agent workspace in a real browser: sign in, open a queue.

use serde_json::json;

use super::Browser;
use crate::{
    helpers::spawn_app,
    web::{PASSWORD, admin_with_password},
};

#[tokio::test]
async fn an_agent_signs_in_and_works_the_queue() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = admin_with_password(&app).await;
    for (subject, priority) in [("Printer on fire", "urgent"), ("Export is slow", "normal")] {
        app.post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": subject, "priority": priority, "assignee_id": admin,
                   "comment": {"body": "Details inside."}, "requester": {"name": "Carla Customer", "email": "carla@example.com"}}}),
        )
        .await;
    }

    // Anonymous visitors are sent to the sign-in page, and back after it.
    b.goto(&format!("{}/queue?view=mine", app.base)).await;
    assert!(b.url().await.contains("/login?next="), "{}", b.url().await);
    b.screenshot("login").await;
    b.check_accessibility().await;

    // A wrong password is refused with a message, not an error page.
    b.fill("#f-email", &app.admin_email).await;
    b.fill("#f-password", "not the password").await;
    b.click_css("button[type=submit].primary").await;
    b.wait_for_text("do not match").await;

    // The form kept the address and where to go afterwards.
    b.fill("#f-password", PASSWORD).await;
    b.click_css("button[type=submit].primary").await;
    let text = b.wait_for_text("Printer on fire").await;
    assert!(
        b.url().await.ends_with("/queue?view=mine"),
        "{}",
        b.url().await
    );
    assert!(text.contains("Export is slow"), "{text}");
    assert!(text.contains("Carla Customer"), "{text}");
    assert_eq!(b.title().await, "My tickets · Steward");
    b.screenshot("queue").await;
    b.check_accessibility().await;

    // Sorting by priority puts the urgent ticket first.
    b.goto(&format!("{}/queue?view=mine&sort=priority", app.base))
        .await;
    let first = b
        .text_of("table.tickets tbody tr:first-child td:nth-child(2)")
        .await;
    assert_eq!(first, "Printer on fire");

    // j selects the first row; Enter opens it.
    b.keys("j").await;
    let selected = b.find_all("table.tickets tbody tr.selected").await;
    assert_eq!(selected.len(), 1);

    // Signing out ends the session: the queue asks for a sign-in again.
    b.click_css("header .me button[type=submit]").await;
    b.wait_for_text("Sign in to Steward").await;
    b.goto(&format!("{}/queue", app.base)).await;
    assert!(b.url().await.contains("/login"), "{}", b.url().await);

    b.sign_in(&app, &app.admin_email, PASSWORD).await;
    b.wait_for_text("Printer on fire").await;
}
