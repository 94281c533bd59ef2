//! The web app over plain HTTP: sign-in, sessions, CSRF, throttling, role
//! gates and the queue's HTML. (Browser tests are in `browser/`.)

use reqwest::{Client, StatusCode, redirect::Policy};
use serde_json::json;
use steward_domain::Role;

use crate::helpers::{TestApp, now, spawn_app};

pub const PASSWORD: &str = "correct horse battery staple";

/// A browser-like client: no redirects followed, cookies kept by hand.
pub struct Web {
    pub http: Client,
    pub base: String,
    pub cookies: Vec<(String, String)>,
}

impl Web {
    pub fn new(app: &TestApp) -> Web {
        Web {
            http: Client::builder().redirect(Policy::none()).build().unwrap(),
            base: app.base.clone(),
            cookies: vec![],
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (kv, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !val.is_empty() {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, String, Option<String>) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&resp);
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, resp.text().await.unwrap(), location)
    }

    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&resp);
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (status, resp.text().await.unwrap(), location)
    }

    /// Signs in through the form and returns the session's CSRF token.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> String {
        let (_, html, _) = self.get("/login").await;
        let token = csrf_in(&html);
        let (status, body, location) = self
            .post(
                "/login",
                &[
                    ("csrf", &token),
                    ("email", email),
                    ("password", password),
                    ("next", "/queue"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert!(location.is_some());
        let (_, html, _) = self.get("/account/password").await;
        csrf_in(&html)
    }
}

/// The CSRF token in a page's first form.
pub fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

pub async fn admin_with_password(app: &TestApp) -> i64 {
    let admin = app
        .store
        .user_by_email(&app.admin_email)
        .await
        .unwrap()
        .unwrap();
    app.store
        .set_password(admin.id, PASSWORD, now())
        .await
        .unwrap();
    admin.id
}

#[tokio::test]
async fn signing_in_sets_a_safe_session_cookie_and_signing_out_ends_it() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);

    let (status, _, location) = web.get("/queue").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login?next=%2Fqueue"));

    let (_, html, _) = web.get("/login").await;
    let token = csrf_in(&html);
    let resp = web
        .http
        .post(format!("{}/login", app.base))
        .header("cookie", web.cookie_header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={token}&email=admin%40example.com&password=correct+horse+battery+staple&next=%2Fqueue%3Fview%3Dall"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/queue?view=all");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("steward_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing in {cookie}");
    }
    web.keep(&resp);
    let (status, html, _) = web.get("/queue?view=all").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<title>All unsolved · Steward</title>"),
        "{html}"
    );

    // Sign-out needs the CSRF token, then the cookie no longer works.
    let csrf = csrf_in(&html);
    let (status, _, _) = web.post("/logout", &[("csrf", "forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, location) = web.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/login"));
    let (status, _, _) = web.get("/queue").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // An off-site next= is ignored.
    let mut web = Web::new(&app);
    let (_, html, _) = web.get("/login?next=https://evil.example/").await;
    assert!(!html.contains("evil.example"), "{html}");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    // The sign-in form needs its double-submit token.
    web.get("/login").await;
    let (status, html, _) = web
        .post(
            "/login",
            &[("email", "admin@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Reload the page"), "{html}");

    let csrf = web.sign_in("admin@example.com", PASSWORD).await;
    let (status, _, _) = web
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another long password"),
                ("confirm_password", "another long password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // With the token it works; a mistyped confirmation is a 422 with the
    // error next to the field.
    let (status, html, _) = web
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "another long password"),
                ("confirm_password", "another long passwore"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-confirm_password\""), "{html}");
    let (status, html, _) = web
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "wrong password!"),
                ("new_password", "another long password"),
                ("confirm_password", "another long password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("is not your current password"), "{html}");
    let (status, html, _) = web
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "another long password"),
                ("confirm_password", "another long password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Your password was changed"), "{html}");
    // The new password signs in; the old one no longer does.
    let mut other = Web::new(&app);
    other
        .sign_in("admin@example.com", "another long password")
        .await;
    let mut third = Web::new(&app);
    let (_, html, _) = third.get("/login").await;
    let token = csrf_in(&html);
    let (status, _, _) = third
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("email", "admin@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_throttle_the_address() {
    let app = spawn_app().await;
    admin_with_password(&app).await;
    let mut web = Web::new(&app);
    let (_, html, _) = web.get("/login").await;
    let token = csrf_in(&html);
    for _ in 0..5 {
        let (status, _, _) = web
            .post(
                "/login",
                &[
                    ("csrf", &token),
                    ("email", "admin@example.com"),
                    ("password", "guess"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let resp = web
        .http
        .post(format!("{}/login", app.base))
        .header("cookie", web.cookie_header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={token}&email=ADMIN%40example.com&password=correct+horse+battery+staple"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
    // Another address is not affected.
    let (_, _, _) = web.get("/login").await;
    let (status, _, _) = web
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("email", "someone@example.com"),
                ("password", "guess"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn customers_are_kept_out_of_the_agent_pages() {
    let app = spawn_app().await;
    let org = app.org("Acme", false).await;
    let (id, email, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    app.store.set_password(id, PASSWORD, now()).await.unwrap();
    let mut web = Web::new(&app);
    let (_, html, _) = web.get("/login").await;
    let token = csrf_in(&html);
    let (status, _, location) = web
        .post(
            "/login",
            &[
                ("csrf", &token),
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/queue"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));
    let (status, _, location) = web.get("/queue").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/portal"));
}

/// The ticket ids a queue page lists, in its order.
fn listed(html: &str) -> Vec<i64> {
    html.split("<td><a href=\"/tickets/")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// Every view in every sort order reads the tickets it should, in order:
/// each (view, sort) reads along its own partial index on SQLite (`INDEXED
/// BY`, which fails if the query cannot use it), so each pair is asked.
#[tokio::test]
async fn every_queue_view_and_sort_lists_its_tickets_in_order() {
    let t0 = crate::dashboards::at("2026-03-10T15:00:00Z");
    let app = crate::helpers::spawn_app_with_clock(steward_web::Clock::fixed(t0)).await;
    let admin = admin_with_password(&app).await;
    let org = app.org("Initech", false).await;
    let requester = json!({"name": "Rita Requester", "email": "rita@example.com"});
    // (minutes after t0, priority, assigned to the admin, group)
    let specs = [
        (0, "low", true, Some(1)),
        (1, "urgent", false, None),
        (2, "high", true, None),
        (3, "normal", false, None),
        (4, "normal", false, Some(1)),
        (5, "normal", false, Some(1)),
    ];
    let mut ids = vec![];
    for (minute, priority, mine, group) in specs {
        app.clock.set(t0 + minute * 60);
        let mut ticket = json!({"subject": format!("Ticket at minute {minute}"), "priority": priority,
            "organization_id": org, "requester": requester, "comment": {"body": "Help"}});
        if mine {
            ticket["assignee_id"] = json!(admin);
        }
        if let Some(g) = group {
            ticket["group_id"] = json!(g);
        }
        let created = app
            .post_json("/api/v2/tickets.json", json!({ "ticket": ticket }))
            .await;
        ids.push(created["ticket"]["id"].as_i64().unwrap());
    }
    let [low, urgent, high, solved, deleted, grouped] = ids[..] else {
        unreachable!()
    };
    app.clock.set(t0 + 6 * 60);
    app.put_json(
        &format!("/api/v2/tickets/{solved}.json"),
        json!({"ticket": {"status": "solved", "assignee_id": admin}}),
    )
    .await;
    let resp = app
        .admin(
            reqwest::Method::DELETE,
            &format!("/api/v2/tickets/{deleted}.json"),
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    // The oldest ticket moves to the top of "recently updated".
    app.clock.set(t0 + 7 * 60);
    app.put_json(
        &format!("/api/v2/tickets/{low}.json"),
        json!({"ticket": {"comment": {"body": "Any news?", "public": false}}}),
    )
    .await;

    let mut web = Web::new(&app);
    web.sign_in("admin@example.com", PASSWORD).await;
    let cases: &[(&str, Vec<i64>)] = &[
        ("view=all", vec![low, grouped, high, urgent]),
        ("view=all&sort=created", vec![low, urgent, high, grouped]),
        ("view=all&sort=priority", vec![urgent, high, grouped, low]),
        ("view=all&sort=id", vec![grouped, high, urgent, low]),
        ("view=mine", vec![low, high]),
        ("view=mine&sort=priority", vec![high, low]),
        ("view=mine&sort=created", vec![low, high]),
        ("view=mine&sort=id", vec![high, low]),
        ("view=unassigned", vec![grouped, urgent]),
        ("view=unassigned&sort=priority", vec![urgent, grouped]),
        ("view=group&group=1", vec![low, grouped]),
        ("view=group&group=1&sort=created", vec![low, grouped]),
        ("view=group&group=1&sort=priority", vec![grouped, low]),
        ("view=solved", vec![solved]),
        ("view=solved&sort=priority", vec![solved]),
        ("view=solved&sort=created", vec![solved]),
        ("view=solved&sort=id", vec![solved]),
    ];
    for (query, expected) in cases {
        let (status, html, _) = web.get(&format!("/queue?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {html}");
        assert_eq!(&listed(&html), expected, "{query}");
    }
    // "Breaching soon": each unsolved ticket with a running target once
    // (a new ticket runs several clocks), the urgent one first; the sort
    // order does not apply.
    for query in ["view=breaching", "view=breaching&sort=priority"] {
        let (status, html, _) = web.get(&format!("/queue?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {html}");
        let got = listed(&html);
        let mut unique = got.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), got.len(), "each ticket once: {got:?}");
        assert_eq!(got.first(), Some(&urgent), "{got:?}");
        assert!(!got.contains(&solved) && !got.contains(&deleted), "{got:?}");
        assert!(got.contains(&high), "{got:?}");
    }
    // The accounts list counts the account's four open tickets (not the
    // solved or the deleted one).
    let (_, html, _) = web.get("/accounts?q=initech").await;
    let row = html
        .split(&format!("href=\"/accounts/{org}\""))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    assert!(row.contains("<td class=\"num\">4</td>"), "{row}");

    // A week later the solved ticket is no longer "recently solved".
    app.clock.set(t0 + 8 * 86_400);
    let mut web = Web::new(&app);
    web.sign_in("admin@example.com", PASSWORD).await;
    for query in ["view=solved", "view=solved&sort=priority"] {
        let (status, html, _) = web.get(&format!("/queue?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {html}");
        assert_eq!(listed(&html), Vec::<i64>::new(), "{query}");
    }
}

#[tokio::test]
async fn the_queue_shows_views_sorting_and_sla_badges() {
    let app = spawn_app().await;
    let admin = admin_with_password(&app).await;
    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Globex", "acv_cents": 25_000_000}}),
        )
        .await["organization"]["id"]
        .as_i64()
        .unwrap();
    let mine = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Mine & urgent <b>", "priority": "urgent", "assignee_id": admin, "organization_id": org, "group_id": 1,
                   "requester": {"name": "Rita Requester", "email": "rita@example.com"}, "comment": {"body": "Help"}}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();
    let loose = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Nobody's yet", "priority": "low",
                   "requester": {"name": "Rita Requester", "email": "rita@example.com"}, "comment": {"body": "Hm"}}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();
    let mut web = Web::new(&app);
    web.sign_in("admin@example.com", PASSWORD).await;

    let (status, html, _) = web.get("/queue?view=mine").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/tickets/{mine}\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("href=\"/tickets/{loose}\"")));
    // Subjects are escaped, never markup.
    assert!(html.contains("Mine &amp; urgent &lt;b&gt;"), "{html}");
    assert!(html.contains("Rita Requester"));
    assert!(html.contains("Globex"));
    // The urgent ticket runs a first-reply clock: a badge with seconds left.
    assert!(html.contains("class=\"sla sla-"), "{html}");
    assert!(html.contains("data-remaining=\""), "{html}");

    let (_, html, _) = web.get("/queue?view=unassigned").await;
    assert!(html.contains(&format!("href=\"/tickets/{loose}\"")));
    assert!(!html.contains(&format!("href=\"/tickets/{mine}\"")));

    let (_, html, _) = web.get("/queue?view=all&sort=priority").await;
    let (a, b) = (
        html.find("Mine &amp; urgent").unwrap(),
        html.find("Nobody").unwrap(),
    );
    assert!(a < b, "urgent first");
    let (_, html, _) = web.get("/queue?view=all&sort=created").await;
    let (a, b) = (
        html.find("Mine &amp; urgent").unwrap(),
        html.find("Nobody").unwrap(),
    );
    assert!(a < b, "oldest first");

    let (_, html, _) = web.get("/queue?view=breaching").await;
    assert!(
        html.contains(&format!("href=\"/tickets/{mine}\"")),
        "{html}"
    );

    for bad in [
        "/queue?view=nope",
        "/queue?sort=nope",
        "/queue?view=group",
        "/queue?page=-1",
    ] {
        let (status, html, _) = web.get(bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(html.contains("<h1>"), "{html}");
    }
}
