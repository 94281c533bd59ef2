//! The admin pages over HTTP (policies.md §8: admins only): every page
//! renders for an admin, other staff get 403 and customers the portal; the
//! forms change what the JSON API then shows; CSRF is required; bad input
//! is a 4xx with the message.

use reqwest::StatusCode;
use serde_json::json;
use steward_domain::Role;

use crate::{
    helpers::{TestApp, now, spawn_app},
    web::{PASSWORD, Web, admin_with_password, csrf_in},
};

const PAGES: [&str; 11] = [
    "/admin/users",
    "/admin/groups",
    "/admin/calendars",
    "/admin/slas",
    "/admin/escalation-contacts",
    "/admin/rules",
    "/admin/templates",
    "/admin/templates/welcome",
    "/admin/risk-factors",
    "/admin/channels",
    "/admin/rules/triggers/new",
];

async fn signed_in_as(app: &TestApp, role: Role, org: Option<i64>) -> (Web, String) {
    let (id, email, _) = app.user_with_token(role, org).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut web = Web::new(app);
    let (_, html, _) = web.get("/login").await;
    let token = csrf_in(&html);
    let (status, body, _) = web
        .post(
            "/login",
            &[("csrf", &token), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    (web, email)
}

#[tokio::test]
async fn every_admin_page_renders_for_admins_only() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    web.sign_in(&app.admin_email, PASSWORD).await;
    for path in PAGES {
        let (status, html, _) = web.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        assert_eq!(html.matches("<h1").count(), 1, "{path}");
        assert!(html.contains("aria-label=\"Admin sections\""), "{path}");
        assert!(html.contains(" · Steward</title>"), "{path}");
    }
    let (status, _, location) = web.get("/admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/admin/users"));
    // The readable SLA table and the §19 channels are there.
    let (_, html, _) = web.get("/admin/slas").await;
    assert!(html.contains("30 min cal"), "{html}");
    let (_, html, _) = web.get("/admin/channels").await;
    assert!(html.contains("#critical-alerts"), "{html}");

    // Staff who are not admins: 403, for pages and for forms.
    let (mut agent, _) = signed_in_as(&app, Role::Agent, None).await;
    for path in PAGES {
        let (status, html, _) = agent.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("for admins"), "{html}");
    }
    let (_, html, _) = agent.get("/account/password").await;
    let csrf = csrf_in(&html);
    let (status, _, _) = agent
        .post("/admin/groups", &[("csrf", &csrf), ("name", "Sneaky")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The main navigation offers Admin only to admins.
    let (_, html, _) = agent.get("/queue").await;
    assert!(!html.contains("href=\"/admin\""));

    // Customers are sent to the portal.
    let org = app.org("Acme", false).await;
    let (mut customer, _) = signed_in_as(&app, Role::EndUser, Some(org)).await;
    let (status, _, location) = customer.get("/admin/users").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));

    // Anonymous visitors sign in first.
    let mut anon = Web::new(&app);
    let (status, _, location) = anon.get("/admin/templates").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/login?next="));
}

#[tokio::test]
async fn users_are_created_changed_suspended_and_given_passwords() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    let csrf = web.sign_in(&app.admin_email, PASSWORD).await;

    // Without the CSRF token nothing happens.
    let (status, _, _) = web
        .post(
            "/admin/users",
            &[("name", "Ann Agent"), ("email", "ann@example.com")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A bad address comes back with the message next to the field.
    let (status, html, _) = web
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "Ann Agent"),
                ("email", "not-an-address"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-email\""), "{html}");
    assert!(html.contains("value=\"Ann Agent\""), "{html}");

    let (status, _, location) = web
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "Ann Agent"),
                ("email", "ann@example.com"),
                ("role", "agent"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    let id: i64 = location
        .trim_start_matches("/admin/users/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let api = app.get_json(&format!("/api/v2/users/{id}.json")).await;
    assert_eq!(api["user"]["email"], "ann@example.com");
    assert_eq!(api["user"]["steward_role"], "agent");

    // An end user with an organization.
    let org = app.org("Globex", false).await;
    let (status, _, _) = web
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("name", "Carl Customer"),
                ("email", "carl@globex.example"),
                ("role", "end-user"),
                ("organization_id", &org.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html, _) = web.get("/admin/users?role=end-user").await;
    assert!(
        html.contains("Carl Customer") && html.contains("Globex"),
        "{html}"
    );
    assert!(!html.contains("Ann Agent"), "{html}");
    let (status, _, _) = web.get("/admin/users?role=wizard").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Role change, suspension, password.
    let (status, _, _) = web
        .post(
            &format!("/admin/users/{id}/role"),
            &[("csrf", &csrf), ("role", "csm")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let api = app.get_json(&format!("/api/v2/users/{id}.json")).await;
    assert_eq!(api["user"]["steward_role"], "csm");

    let (status, _, _) = web
        .post(
            &format!("/admin/users/{id}/suspension"),
            &[("csrf", &csrf), ("suspended", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let api = app.get_json(&format!("/api/v2/users/{id}.json")).await;
    assert_eq!(api["user"]["suspended"], true);
    let (status, _, _) = web
        .post(
            &format!("/admin/users/{id}/suspension"),
            &[("csrf", &csrf), ("suspended", "false")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, html, _) = web
        .post(
            &format!("/admin/users/{id}/password"),
            &[
                ("csrf", &csrf),
                ("password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-password\""), "{html}");
    let (status, _, _) = web
        .post(
            &format!("/admin/users/{id}/password"),
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut ann = Web::new(&app);
    ann.sign_in("ann@example.com", PASSWORD).await;
    // Suspending her ends her session at once.
    let (status, _, _) = web
        .post(
            &format!("/admin/users/{id}/suspension"),
            &[("csrf", &csrf), ("suspended", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, location) = ann.get("/queue").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/login"));

    // Admins cannot lock themselves out.
    let me = app.get_json("/api/v2/users/me.json").await["user"]["id"]
        .as_i64()
        .unwrap();
    let (status, html, _) = web
        .post(
            &format!("/admin/users/{me}/role"),
            &[("csrf", &csrf), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("your own admin role"), "{html}");
    let (status, _, _) = web.get("/admin/users/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn groups_calendars_and_channels_are_managed_from_the_pages() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    let csrf = web.sign_in(&app.admin_email, PASSWORD).await;

    // Groups: create, rename, delete; a blank name is refused.
    let (status, html, _) = web
        .post("/admin/groups", &[("csrf", &csrf), ("name", "  ")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-name\""), "{html}");
    let (status, _, _) = web
        .post(
            "/admin/groups",
            &[("csrf", &csrf), ("name", "Data migration")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let groups = app.get_json("/api/v2/groups.json").await;
    let g = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Data migration")
        .expect("the new group")
        .clone();
    let gid = g["id"].as_i64().unwrap();
    let (status, _, _) = web
        .post(
            &format!("/admin/groups/{gid}/rename"),
            &[("csrf", &csrf), ("name", "Migrations")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let g = app.get_json(&format!("/api/v2/groups/{gid}.json")).await;
    assert_eq!(g["group"]["name"], "Migrations");
    let (status, _, _) = web
        .post(&format!("/admin/groups/{gid}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The default groups stay.
    let (status, html, _) = web.post("/admin/groups/1/delete", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("default groups cannot be deleted"), "{html}");

    // Calendars: add and remove a holiday, change the zone.
    let (status, _, _) = web
        .post(
            "/admin/calendars/business/holidays",
            &[("csrf", &csrf), ("date", "2031-12-25")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.get_json("/api/v2/calendars/business.json").await;
    assert!(
        cal["calendar"]["holidays"]
            .as_array()
            .unwrap()
            .contains(&json!("2031-12-25")),
        "{cal}"
    );
    let (status, html, _) = web
        .post(
            "/admin/calendars/business/holidays",
            &[("csrf", &csrf), ("date", "Christmas")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("must be a date"), "{html}");
    let (status, _, _) = web
        .post(
            "/admin/calendars/business/holidays/remove",
            &[("csrf", &csrf), ("date", "2031-12-25")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.get_json("/api/v2/calendars/business.json").await;
    assert!(
        !cal["calendar"]["holidays"]
            .as_array()
            .map(|h| h.contains(&json!("2031-12-25")))
            .unwrap_or(false)
    );
    let (status, html, _) = web
        .post(
            "/admin/calendars/business/zone",
            &[("csrf", &csrf), ("zone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-zone-business\""), "{html}");
    let (status, _, _) = web
        .post(
            "/admin/calendars/business/zone",
            &[("csrf", &csrf), ("zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.get_json("/api/v2/calendars/business.json").await;
    assert_eq!(cal["calendar"]["zone"], "Europe/Berlin");
    let (status, _, _) = web
        .post(
            "/admin/calendars/nope/zone",
            &[("csrf", &csrf), ("zone", "UTC")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Weekly hours: a split Monday and a closed Friday are kept; a span
    // that is not a time is refused next to the form and changes nothing.
    let (_, html, _) = web.get("/admin/calendars").await;
    assert!(
        html.contains("id=\"hours-business-mon\" name=\"mon\" value=\"09:00-18:00\""),
        "{html}"
    );
    let week = |mon: &'static str| {
        vec![
            ("mon", mon),
            ("tue", "09:00-17:00"),
            ("wed", "09:00-17:00"),
            ("thu", "09:00-17:00"),
            ("fri", ""),
        ]
    };
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(week("08:00-12:00, 13:00-17:00"));
    let (status, _, _) = web.post("/admin/calendars/business/hours", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.get_json("/api/v2/calendars/business.json").await;
    assert_eq!(
        cal["calendar"]["hours"]["mon"],
        json!(["08:00-12:00", "13:00-17:00"]),
        "{cal}"
    );
    assert!(
        cal["calendar"]["hours"]["fri"]
            .as_array()
            .is_none_or(|a| a.is_empty()),
        "{cal}"
    );
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(week("9 to 5"));
    let (status, html, _) = web.post("/admin/calendars/business/hours", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("class=\"error\""), "{html}");
    let cal = app.get_json("/api/v2/calendars/business.json").await;
    assert_eq!(
        cal["calendar"]["hours"]["mon"],
        json!(["08:00-12:00", "13:00-17:00"])
    );

    // A new calendar, then removed; a name in use or a bad zone is refused.
    let new_cal = |name: &'static str, zone: &'static str| {
        vec![
            ("name", name),
            ("zone", zone),
            ("mon", "07:00-19:00"),
            ("sat", "10:00-14:00"),
        ]
    };
    for (name, zone, needle) in [
        ("business", "UTC", "is already a calendar"),
        ("apac", "Mars/Olympus", "unknown time zone"),
        ("APAC desk", "Asia/Singapore", "lower-case"),
    ] {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(new_cal(name, zone));
        let (status, html, _) = web.post("/admin/calendars", &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {html}");
        assert!(html.contains(needle), "{name}: {html}");
    }
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend(new_cal("apac", "Asia/Singapore"));
    let (status, _, _) = web.post("/admin/calendars", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.get_json("/api/v2/calendars/apac.json").await;
    assert_eq!(cal["calendar"]["zone"], "Asia/Singapore");
    assert_eq!(cal["calendar"]["hours"]["sat"], json!(["10:00-14:00"]));
    let (status, _, _) = web
        .post("/admin/calendars/apac/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let resp = app
        .admin(reqwest::Method::GET, "/api/v2/calendars/apac.json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Removing the changed built-in restores its shipped hours.
    let (status, _, _) = web
        .post("/admin/calendars/business/delete", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cal = app.get_json("/api/v2/calendars/business.json").await;
    assert_eq!(
        cal["calendar"]["hours"]["mon"],
        json!(["09:00-18:00"]),
        "{cal}"
    );

    // Channels: a bad URL is refused with the message; a good one is kept.
    let (_, html, _) = web.get("/admin/channels").await;
    let i = (0..3)
        .find(|i| html.contains(&format!("name=\"channel-{i}\" value=\"#critical-alerts\"")))
        .expect("the #critical-alerts row");
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for name in ["#critical-alerts", "#escalations", "#status-updates"] {
        let k = (0..3)
            .find(|k| html.contains(&format!("name=\"channel-{k}\" value=\"{name}\"")))
            .unwrap();
        form.push((format!("channel-{k}"), name.to_string()));
    }
    let post = |url: &str| {
        let mut f = form.clone();
        f.push((format!("url-{i}"), url.to_string()));
        f
    };
    let bad = post("ftp://hooks.example.com/x");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, html, _) = web.post("/admin/channels", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("must be an http(s) URL"), "{html}");
    let mut good = post("https://hooks.slack.com/services/T000/B000/XXXX");
    good.push(("new_channel".into(), "#incident-acme".into()));
    good.push(("new_url".into(), "https://hooks.example.com/acme".into()));
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, _) = web.post("/admin/channels", &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ch = app.get_json("/api/v2/channels").await;
    assert_eq!(
        ch["channels"]["#critical-alerts"]["webhook_url"],
        "https://hooks.slack.com/services/T000/B000/XXXX"
    );
    assert_eq!(
        ch["channels"]["#incident-acme"]["webhook_url"],
        "https://hooks.example.com/acme"
    );
    assert!(ch["channels"].get("#escalations").is_none(), "{ch}");
}

#[tokio::test]
async fn templates_are_previewed_validated_and_saved() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    let csrf = web.sign_in(&app.admin_email, PASSWORD).await;

    let (status, html, _) = web.get("/admin/templates").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/admin/templates/welcome"), "{html}");
    let (_, html, _) = web.get("/admin/templates/welcome").await;
    assert!(html.contains("data-preview=\"/admin/templates/welcome/preview\""));
    assert!(
        html.contains("Acme Logistics"),
        "the sample preview: {html}"
    );

    // An unknown placeholder: 422, the store's message next to the field,
    // the typed text kept, nothing saved.
    let (status, html, _) = web
        .post(
            "/admin/templates/welcome",
            &[
                ("csrf", &csrf),
                ("subject", "Welcome, {{ account.nmae }}"),
                ("html_body", "<p>Hi</p>"),
                ("text_body", "Hi"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-subject\""), "{html}");
    assert!(html.contains("account.nmae"), "{html}");
    assert!(html.contains("line 1, column"), "{html}");
    let api = app.get_json("/api/v2/templates/welcome").await;
    assert_eq!(api["template"]["default"], true);

    // The live preview answers a fragment; bad text shows the problem.
    let (status, html, _) = web
        .post(
            "/admin/templates/welcome/preview",
            &[("csrf", &csrf), ("subject", "Hello {{ account.name }}!")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Hello Acme Logistics!"), "{html}");
    assert!(!html.contains("<html"), "a fragment: {html}");
    let (_, html, _) = web
        .post(
            "/admin/templates/welcome/preview",
            &[("csrf", &csrf), ("subject", "Hello {{ account.nmae }}")],
        )
        .await;
    assert!(html.contains("account.nmae"), "{html}");
    let (status, _, _) = web
        .post("/admin/templates/welcome/preview", &[("subject", "Hello")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The no-script Preview button shows the same without saving.
    let (status, html, _) = web
        .post(
            "/admin/templates/welcome",
            &[
                ("csrf", &csrf),
                ("subject", "Hi {{ account.name }} team"),
                ("preview", "1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Hi Acme Logistics team"), "{html}");
    assert_eq!(
        app.get_json("/api/v2/templates/welcome").await["template"]["default"],
        true
    );

    // A good edit is saved and visible through the API.
    let (status, _, location) = web
        .post(
            "/admin/templates/welcome",
            &[
                ("csrf", &csrf),
                ("name", "Welcome"),
                ("subject", "Welcome aboard, {{ account.name }}"),
                ("html_body", "<p>Dear {{ contact.first_name }}</p>"),
                ("text_body", "Dear {{ contact.first_name }}"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().starts_with("/admin/templates/welcome"));
    let api = app.get_json("/api/v2/templates/welcome").await;
    assert_eq!(
        api["template"]["subject"],
        "Welcome aboard, {{ account.name }}"
    );
    assert_eq!(api["template"]["default"], false);

    // Reset brings the default back; unknown templates are not found.
    let (status, _, _) = web
        .post("/admin/templates/welcome/reset", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get_json("/api/v2/templates/welcome").await["template"]["default"],
        true
    );
    let (status, _, _) = web.get("/admin/templates/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rules_slas_contacts_and_factors_are_edited_with_validation() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    let csrf = web.sign_in(&app.admin_email, PASSWORD).await;

    // Rules: toggle, bad JSON, create.
    let triggers = app.get_json("/api/v2/triggers.json").await;
    let t = triggers["triggers"][0].clone();
    let tid = t["id"].as_i64().unwrap();
    let was = t["active"].as_bool().unwrap();
    let (status, _, _) = web
        .post(
            &format!("/admin/rules/triggers/{tid}/active"),
            &[
                ("csrf", &csrf),
                ("active", if was { "false" } else { "true" }),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let t = app.get_json(&format!("/api/v2/triggers/{tid}.json")).await;
    assert_eq!(t["trigger"]["active"], !was);
    let (status, html, _) = web.get("/admin/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("/admin/rules/triggers/{tid}")),
        "{html}"
    );
    let (status, html, _) = web.get(&format!("/admin/rules/triggers/{tid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("&quot;conditions&quot;"), "{html}");
    assert!(
        html.contains("priority is urgent"),
        "readable conditions: {html}"
    );

    let (status, html, _) = web
        .post(
            "/admin/rules/triggers",
            &[("csrf", &csrf), ("rule", "{\"title\": \"Oops\",")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("not valid JSON"), "{html}");
    let bad = json!({"title": "Bad field", "conditions": {"all": [{"field": "colour", "operator": "is", "value": "red"}]},
                     "actions": [{"field": "priority", "value": "urgent"}]});
    let (status, html, _) = web
        .post(
            "/admin/rules/triggers",
            &[("csrf", &csrf), ("rule", &bad.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("conditions.all[0]"), "{html}");
    let good = json!({"title": "Tag VIP mail", "active": false,
                      "conditions": {"all": [{"field": "priority", "operator": "is", "value": "urgent"}]},
                      "actions": [{"field": "add_tags", "value": "vip"}]});
    let (status, body, location) = web
        .post(
            "/admin/rules/triggers",
            &[("csrf", &csrf), ("rule", &good.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.unwrap().starts_with("/admin/rules/triggers/"));
    let all = app.get_json("/api/v2/triggers.json").await;
    assert!(
        all["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["title"] == "Tag VIP mail" && t["active"] == false),
        "{all}"
    );

    // SLA policies: bad JSON and invalid documents are refused; the
    // document round-trips.
    let (status, html, _) = web
        .post("/admin/slas", &[("csrf", &csrf), ("policies", "[{")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-policies\""), "{html}");
    let (_, html, _) = web.get("/admin/slas").await;
    let start = html.find("name=\"policies\"").unwrap();
    let body_start = start + html[start..].find('>').unwrap() + 1;
    let body_end = body_start + html[body_start..].find("</textarea>").unwrap();
    let doc = html_unescape(&html[body_start..body_end]);
    let mut policies: serde_json::Value = serde_json::from_str(&doc).unwrap();
    policies[0]["targets"][0]["within"]["calendar"] = json!("no-such-calendar");
    let (status, html, _) = web
        .post(
            "/admin/slas",
            &[("csrf", &csrf), ("policies", &policies.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("no-such-calendar"), "{html}");
    policies[0]["targets"][0]["within"]["calendar"] = json!("24x7");
    policies[0]["targets"][0]["within"]["amount"] = json!(45);
    policies[0]["targets"][0]["within"]["unit"] = json!("minutes");
    let (status, _, _) = web
        .post(
            "/admin/slas",
            &[("csrf", &csrf), ("policies", &policies.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let api = app.get_json("/api/v2/slas/policies").await;
    assert_eq!(api["sla_policies"][0]["targets"][0]["within"]["amount"], 45);

    // Escalation contacts: staff only.
    let (agent, _, _) = app.user_with_token(Role::Agent, None).await;
    let org = app.org("Initech", false).await;
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (_, html, _) = web.get("/admin/escalation-contacts").await;
    assert!(html.contains("VP Engineering"), "{html}");
    let (status, html, _) = web
        .post(
            "/admin/escalation-contacts",
            &[("csrf", &csrf), ("contact-1", &customer.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("active member of staff"), "{html}");
    let (status, _, _) = web
        .post(
            "/admin/escalation-contacts",
            &[("csrf", &csrf), ("contact-1", &agent.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let c = app.get_json("/api/v2/escalation_contacts").await;
    assert_eq!(c["escalation_contacts"]["VP Engineering"], json!([agent]));

    // Risk factors: points out of range are refused next to the field.
    let table = app.get_json("/api/v2/health/factors").await["factors"].clone();
    let n = table.as_array().unwrap().len();
    let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
    for (i, f) in table.as_array().unwrap().iter().enumerate() {
        let points = if i == 0 {
            "250".to_string()
        } else {
            f["points"].to_string()
        };
        form.push((format!("points-{i}"), points));
        if let Some(t) = f.get("threshold") {
            form.push((format!("threshold-{i}"), t.to_string()));
        }
    }
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, html, _) = web.post("/admin/risk-factors", &f).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-points-0\""), "{html}");
    form[1].1 = "7".into();
    let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, _) = web.post("/admin/risk-factors", &f).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let table = app.get_json("/api/v2/health/factors").await["factors"].clone();
    assert_eq!(table.as_array().unwrap().len(), n);
    assert_eq!(table[0]["points"], 7);
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
