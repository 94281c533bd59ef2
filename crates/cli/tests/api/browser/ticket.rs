//! The ticket page and search in a real browser: open a ticket from the
//! queue, reply, apply a macro and send it, then search.

use serde_json::json;

use super::Browser;
use crate::{
    helpers::spawn_app,
    web::{PASSWORD, admin_with_password},
};

#[tokio::test]
async fn an_agent_replies_applies_a_macro_and_searches() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    let admin = admin_with_password(&app).await;
    let org = app.org("Acme Logistics", false).await;
    let id = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Printer on fire", "priority": "urgent", "assignee_id": admin,
                   "group_id": 1, "organization_id": org, "tags": ["hardware"],
                   "comment": {"body": "Smoke everywhere.\nPlease help."},
                   "requester": {"name": "Carla Customer", "email": "carla@example.com"}}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();

    // Sign in, open the queue, open the ticket from it.
    b.sign_in(&app, &app.admin_email, PASSWORD).await;
    b.wait_for_text("Printer on fire").await;
    b.click_css(&format!("table.tickets a[href='/tickets/{id}']"))
        .await;
    let text = b.wait_for_text("Conversation").await;
    assert!(text.contains("Smoke everywhere."), "{text}");
    assert!(text.contains("Carla Customer"), "{text}");
    assert!(text.contains("First reply"), "{text}");
    assert_eq!(b.title().await, format!("#{id} Printer on fire · Steward"));
    b.screenshot("ticket").await;
    b.check_accessibility().await;

    // `r` focuses the reply box; a reply shows up in the conversation.
    b.script("document.activeElement && document.activeElement.blur();")
        .await;
    b.keys("r").await;
    let focused = b.script("return document.activeElement.id;").await;
    assert_eq!(focused, json!("reply-body"));
    let reply = b.find("#reply-body").await;
    b.type_into(&reply, "Thanks Carla, we are on our way.")
        .await;
    b.click_css("#reply button[type=submit]").await;
    b.wait_for_text("Thanks Carla, we are on our way.").await;
    assert!(b.url().await.contains("#comment-"), "{}", b.url().await);

    // The closing macro fills the box and proposes solved; sending it
    // solves the ticket.
    b.script("document.getElementById('macro-template').value = 'reply_resolution';")
        .await;
    b.click_css("form.macro button[type=submit]").await;
    let mut filled = String::new();
    for _ in 0..50 {
        filled = b
            .script("var e = document.getElementById('reply-body'); return e ? e.value : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !filled.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        filled.contains(&format!("We have solved #{id}.")),
        "{filled}"
    );
    assert!(filled.starts_with("Hi Carla,"), "{filled}");
    // With the script the box fills in place (without it, the post's
    // answer is the page with the box filled).
    assert!(!b.url().await.contains("/macro"), "{}", b.url().await);
    let status = b
        .script("return document.getElementById('reply-status').value;")
        .await;
    assert_eq!(status, json!("solved"));
    b.click_css("#reply button[type=submit]").await;
    let text = b.wait_for_text("Otherwise it closes by itself").await;
    assert!(text.contains("solved"), "{text}");
    let t = app.get_json(&format!("/api/v2/tickets/{id}.json")).await;
    assert_eq!(t["ticket"]["status"], "solved");

    // `/` focuses the header's search; results come grouped.
    b.script("document.activeElement && document.activeElement.blur();")
        .await;
    b.keys("/").await;
    let search = b.find("#global-search").await;
    b.type_into(&search, "printer\u{E007}").await;
    let text = b.wait_for_text("Results for").await;
    assert!(text.contains("Printer on fire"), "{text}");
    assert!(text.contains("Tickets (1)"), "{text}");
    b.screenshot("search").await;
    b.check_accessibility().await;

    // A ticket number jumps straight to the ticket.
    b.goto(&format!("{}/search?q={id}", app.base)).await;
    b.wait_for_text("Conversation").await;
    assert!(b.url().await.ends_with(&format!("/tickets/{id}")));
}
