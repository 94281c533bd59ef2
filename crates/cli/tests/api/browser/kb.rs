//! The knowledge base in a real browser: an admin edits an article with
//! the live preview; an anonymous visitor reads it and votes.

use std::time::Duration;

use super::Browser;
use crate::{
    helpers::spawn_app,
    web::{PASSWORD, admin_with_password},
};

/// Waits until a click's navigation has left `from`, then for `needle` in
/// the new page's text. (Reading the page through a script holds no element
/// reference, so a page still being replaced cannot make it stale.)
async fn after_navigation(b: &mut Browser, from: &str, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        if b.url().await != from {
            text = b
                .script("return document.readyState === 'complete' ? document.body.innerText : '';")
                .await
                .as_str()
                .unwrap_or_default()
                .to_string();
            if text.contains(needle) {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{needle:?} never appeared after leaving {from}; the page says:\n{text}");
}

#[tokio::test]
async fn an_admin_edits_with_a_live_preview_and_a_visitor_votes() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let app = spawn_app().await;
    admin_with_password(&app).await;
    b.sign_in(&app, &app.admin_email, PASSWORD).await;
    after_navigation(&mut b, &format!("{}/login", app.base), "Sign out").await;

    b.goto(&format!("{}/kb", app.base)).await;
    b.wait_for_text("Getting Started").await;
    assert_eq!(b.title().await, "Knowledge base · Steward");
    b.screenshot("kb").await;
    b.check_accessibility().await;

    // The editor opens with the article rendered in the preview ...
    b.goto(&format!("{}/kb/articles/1/edit", app.base)).await;
    b.wait_for_text("Edit article").await;
    assert!(b.text_of("#preview").await.contains("Who does what"));

    // ... and the preview follows the typing, through the same renderer.
    b.fill(
        "#f-body",
        "## Fresh heading\n\nNow with **bold** words and <b>raw</b> HTML.",
    )
    .await;
    let mut preview = String::new();
    for _ in 0..50 {
        preview = b.text_of("#preview").await;
        if preview.contains("Fresh heading") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(preview.contains("Fresh heading"), "{preview}");
    assert!(!preview.contains("Who does what"), "{preview}");
    assert_eq!(b.text_of("#preview h2").await, "Fresh heading");
    assert_eq!(b.text_of("#preview strong").await, "bold");
    assert!(
        preview.contains("<b>raw</b>"),
        "raw HTML shows as text: {preview}"
    );
    b.screenshot("kb-edit").await;
    b.check_accessibility().await;

    let editing = b.url().await;
    b.click_css("button[name=action][value=publish]").await;
    after_navigation(&mut b, &editing, "See it in the help center").await;
    assert!(
        b.url().await.ends_with("/kb/articles/1"),
        "{}",
        b.url().await
    );
    assert_eq!(b.text_of(".kb-article .markdown h2").await, "Fresh heading");

    // Signed out, a visitor reads the article in the help center and votes.
    let reading = b.url().await;
    b.click_css("header .me button[type=submit]").await;
    after_navigation(&mut b, &reading, "Sign in").await;
    b.goto(&format!("{}/help/articles/1", app.base)).await;
    b.wait_for_text("Was this article helpful?").await;
    assert_eq!(b.title().await, "Welcome to Steward · Steward");
    assert_eq!(b.text_of(".markdown h2").await, "Fresh heading");
    b.screenshot("help-article").await;
    b.check_accessibility().await;

    let reading = b.url().await;
    b.click_css("button[name=helpful][value=yes]").await;
    after_navigation(&mut b, &reading, "glad it helped").await;
    let a = app.get_json("/api/v2/help_center/articles/1.json").await["article"].clone();
    assert_eq!(a["vote_count"], 1);
    assert_eq!(a["helpful_count"], 1);
}
