//! The dashboard pages over HTTP: charts inline, data tables, filters, CSV
//! under the page's filters, roles.

use reqwest::StatusCode;
use steward_domain::Role;
use steward_web::Clock;

use crate::{
    dashboards::{NOW, at, seed},
    helpers::spawn_app_with_clock,
    web::{PASSWORD, Web, admin_with_password},
};

#[tokio::test]
async fn every_dashboard_page_draws_its_tiles_and_exports_them() {
    let app = spawn_app_with_clock(Clock::fixed(at(NOW))).await;
    let s = seed(&app).await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    web.sign_in("admin@example.com", PASSWORD).await;

    let (status, html, _) = web.get("/dashboards").await;
    assert_eq!(status, StatusCode::OK);
    for name in [
        "customer_health",
        "implementation",
        "csm_kpis",
        "churn_risk",
        "sla",
    ] {
        assert!(
            html.contains(&format!("href=\"/dashboards/{name}\"")),
            "{html}"
        );
        let (status, page, _) = web.get(&format!("/dashboards/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{name}: {page}");
        let api = app
            .get_json(&format!("/api/v2/dashboards/{name}.json"))
            .await;
        let tiles = api["dashboard"]["tiles"].as_array().unwrap();
        assert!(!tiles.is_empty());
        for t in tiles {
            let key = t["key"].as_str().unwrap();
            assert!(page.contains(&format!("id=\"tile-{key}\"")), "{name}/{key}");
            // The same CSV as the API's, through the session.
            let (status, csv, _) = web.get(&format!("/dashboards/{name}/{key}.csv")).await;
            assert_eq!(status, StatusCode::OK, "{name}/{key}");
            let header = csv.lines().next().unwrap_or_default().to_string();
            let labels: Vec<String> = t["table"]["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["key"].as_str().unwrap().to_string())
                .collect();
            assert!(header.contains(&labels[0]), "{header} vs {labels:?}");
        }
        // One drawn chart per tile, inline (not escaped).
        assert_eq!(page.matches("<svg").count(), tiles.len(), "{name}");
        assert!(!page.contains("&lt;svg"), "{name}");
    }
    // The seeded enterprise fintech account shows up in the churn monitor.
    let (_, page, _) = web.get("/dashboards/churn_risk").await;
    assert!(page.contains("Acme, Inc."), "{page}");
    // Filters narrow the data; a bad value is a clear 400.
    let (_, filtered, _) = web.get("/dashboards/churn_risk?industry=healthcare").await;
    assert!(!filtered.contains("Acme, Inc."));
    assert!(
        filtered.contains("<option value=\"healthcare\" selected>"),
        "{filtered}"
    );
    let (status, body, _) = web.get("/dashboards/churn_risk?period=45").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("period"), "{body}");
    let (status, _, _) = web.get("/dashboards/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = web.get("/dashboards/sla/nope.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let _ = s.acme;

    // Agents have no dashboards (§8): a 403 page.
    let (id, email, _) = app.user_with_token(Role::Agent, None).await;
    app.store.set_password(id, PASSWORD, at(NOW)).await.unwrap();
    let mut agent = Web::new(&app);
    agent.sign_in(&email, PASSWORD).await;
    let (status, _, _) = agent.get("/dashboards/sla").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
