//! The admin pages in a real browser: edit a template with its live
//! preview, save an unknown placeholder and see the store's error.

use super::Browser;
use crate::{
    helpers::spawn_app,
    web::{PASSWORD, admin_with_password},
};

#[tokio::test]
async fn an_admin_edits_a_template_and_sees_the_validation_error() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    admin_with_password(&app).await;
    b.sign_in(&app, &app.admin_email, PASSWORD).await;
    wait_for_url(&mut b, "/queue").await;

    b.goto(&format!("{}/admin/templates", app.base)).await;
    let text = wait_text(&mut b, "Welcome").await;
    assert!(text.contains("on contract signature"), "{text}");
    assert_eq!(b.title().await, "Templates · Steward");
    b.screenshot("admin-templates").await;
    b.check_accessibility().await;

    b.click_css("a[href='/admin/templates/welcome']").await;
    wait_text(&mut b, "With sample data").await;
    b.check_accessibility().await;

    // The preview follows the typing.
    b.fill("#f-subject", "Hello {{ account.name }}, glad you are here")
        .await;
    wait_text(&mut b, "Hello Acme Logistics, glad you are here").await;
    b.screenshot("admin-template-edit").await;

    // An unknown placeholder: the preview says so as you type …
    b.fill("#f-subject", "Hello {{ account.nmae }}").await;
    let text = wait_text(&mut b, "does not render").await;
    assert!(text.contains("account.nmae"), "{text}");

    // … and saving is refused with the message next to the field.
    b.click_css("form[data-preview] button.primary").await;
    let text = wait_text(&mut b, "was not saved").await;
    let error = b.text_of("#e-subject").await;
    assert!(error.contains("account.nmae"), "{error}\n{text}");
    assert!(error.contains("line 1, column"), "{error}");
    b.screenshot("admin-template-error").await;
    let api = app.get_json("/api/v2/templates/welcome").await;
    assert_eq!(api["template"]["default"], true, "nothing was saved");

    // Fixed, it saves.
    b.fill("#f-subject", "Hello {{ account.name }}").await;
    b.click_css("form[data-preview] button.primary").await;
    wait_text(&mut b, "was saved").await;
    let api = app.get_json("/api/v2/templates/welcome").await;
    assert_eq!(api["template"]["subject"], "Hello {{ account.name }}");

    b.goto(&format!("{}/admin/users", app.base)).await;
    wait_text(&mut b, "New user").await;
    assert_eq!(b.title().await, "Users and roles · Steward");
    b.screenshot("admin-users").await;
    b.check_accessibility().await;

    for (path, title) in [
        ("/admin/groups", "Groups"),
        ("/admin/calendars", "Calendars and holidays"),
        ("/admin/slas", "SLA policies"),
        ("/admin/escalation-contacts", "Escalation contacts"),
        ("/admin/rules", "Automation rules"),
        ("/admin/rules/triggers/1", "Critical system issue"),
        ("/admin/risk-factors", "Risk factors"),
        ("/admin/channels", "Channels"),
    ] {
        b.goto(&format!("{}{path}", app.base)).await;
        wait_text(&mut b, title).await;
        b.screenshot(&format!(
            "admin-{}",
            path.trim_start_matches("/admin/").replace('/', "-")
        ))
        .await;
        b.check_accessibility().await;
    }
}

/// Waits until the address contains `needle` (a navigation finished), so
/// that reading the page does not race the page being replaced.
async fn wait_for_url(b: &mut Browser, needle: &str) {
    for _ in 0..100 {
        if b.url().await.contains(needle) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("never reached {needle:?}: {}", b.url().await);
}

/// Waits for text on the page, read by script so that a page being
/// replaced by a form's answer is read again instead of going stale.
async fn wait_text(b: &mut Browser, needle: &str) -> String {
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
