//! Every dashboard in a real browser: its charts drawn, filters applied.

use steward_web::Clock;

use super::Browser;
use crate::{
    dashboards::{NOW, at, seed},
    helpers::spawn_app_with_clock,
    web::{PASSWORD, admin_with_password},
};

#[tokio::test]
async fn each_dashboard_draws_its_charts() {
    let Some(mut b) = Browser::start().await else {
        return;
    };
    let app = spawn_app_with_clock(Clock::fixed(at(NOW))).await;
    seed(&app).await;
    admin_with_password(&app).await;
    b.sign_in(&app, &app.admin_email, PASSWORD).await;
    b.wait_for_text("My tickets").await;
    for (name, title) in [
        ("customer_health", "Customer health"),
        ("implementation", "Implementation progress"),
        ("csm_kpis", "CSM KPIs"),
        ("churn_risk", "Churn risk monitor"),
        ("sla", "SLA"),
    ] {
        b.goto(&format!("{}/dashboards/{name}", app.base)).await;
        b.wait_for_text(title).await;
        // Every tile holds a rendered SVG with something drawn in it and a
        // name for screen readers.
        let drawn = b
            .script(
                r#"return Array.from(document.querySelectorAll('section.tile')).map(t => {
                     const svg = t.querySelector('svg');
                     if (!svg) return 'missing';
                     const r = svg.getBoundingClientRect();
                     const shapes = svg.querySelectorAll('rect, path, circle, polyline, line, text').length;
                     return (r.width > 50 && r.height > 50 && shapes > 2 && (svg.getAttribute('aria-label') || svg.querySelector('title'))) ? 'drawn' : 'empty:' + shapes;
                   });"#,
            )
            .await;
        let drawn: Vec<String> = serde_json::from_value(drawn).unwrap();
        assert!(!drawn.is_empty(), "{name}: no tiles");
        assert!(drawn.iter().all(|d| d == "drawn"), "{name}: {drawn:?}");
        b.screenshot(&format!("dashboard-{name}")).await;
        b.check_accessibility().await;
    }
    // A filter select reloads the page with the filter applied.
    b.goto(&format!("{}/dashboards/churn_risk", app.base)).await;
    b.script("const s = document.getElementById('f-period'); s.value = '30'; s.dispatchEvent(new Event('change'));")
        .await;
    for _ in 0..50 {
        if b.url().await.contains("period=30") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(b.url().await.contains("period=30"), "{}", b.url().await);
}
