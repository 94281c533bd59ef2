//! Whatever a client sends, the answer is a 4xx with a Zendesk-style JSON
//! error — never a 5xx, never a dropped connection.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use steward_domain::Role;

use crate::helpers::spawn_app;

enum Body {
    None,
    Raw(&'static str),
    Json(Value),
    Big,
}

struct Case {
    method: Method,
    path: String,
    body: Body,
    /// `None` = admin credentials; `Some(header)` = this Authorization header.
    auth: Option<String>,
    expect: u16,
}

fn case(method: Method, path: impl Into<String>, body: Body, expect: u16) -> Case {
    Case {
        method,
        path: path.into(),
        body,
        auth: None,
        expect,
    }
}

fn authed(header: &str, expect: u16) -> Case {
    Case {
        method: Method::GET,
        path: "/api/v2/tickets.json".into(),
        body: Body::None,
        auth: Some(header.into()),
        expect,
    }
}

#[tokio::test]
async fn a_corpus_of_bad_requests_gets_clear_4xx_errors() {
    let app = spawn_app().await;
    let org = app.org("Corpus Org", false).await;
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let ticket = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "s", "comment": {"body": "b"}, "requester_id": customer}}),
        )
        .await["ticket"]["id"]
        .as_i64()
        .unwrap();
    let t = |suffix: &str| format!("/api/v2/tickets/{ticket}{suffix}");
    let new_ticket = |fields: Value| {
        let mut obj = json!({"subject": "x", "comment": {"body": "y"}});
        for (k, v) in fields.as_object().unwrap() {
            obj[k] = v.clone();
        }
        Body::Json(json!({"ticket": obj}))
    };
    use Method as M;
    let ids_101 = (1..=101)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let cases = vec![
        // Malformed bodies.
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Raw("{\"ticket\": {"),
            400,
        ),
        case(M::POST, "/api/v2/tickets.json", Body::Raw(""), 400),
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Raw("not json at all"),
            400,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Json(json!([1, 2])),
            400,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Json(json!({"tickets": {}})),
            400,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Json(json!({"ticket": "string"})),
            422,
        ),
        case(M::POST, "/api/v2/tickets.json", Body::Big, 413),
        // Wrong types and unknown values.
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"priority": 5})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"priority": "critical"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"status": "done"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"status": null})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"type": "bug"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"requester_id": "abc"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"requester_id": 1.5})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"requester_id": 99_999_999_999_999_999u64})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"tags": 5})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"tags": [1, 2]})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"comment": 42})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"comment": {"body": "x", "public": "yes"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"custom_fields": {"id": 1}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"custom_fields": [{"id": 1, "value": "not-a-phase"}]})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"custom_fields": [{"id": 5, "value": "true"}]})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"custom_fields": [{"id": 999, "value": 1}]})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"due_at": "tomorrow"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"subject": "a\u{0}b"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"subject": "x".repeat(5000)})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"requester": {"name": "No Email"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"requester": {"email": "not-an-email"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"followers": "x"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"followers": [{"action": "put"}]})),
            422,
        ),
        // Missing required fields and references to nothing.
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Json(json!({"ticket": {"subject": "no body"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            Body::Json(json!({"ticket": {"comment": {"body": "   "}}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"requester_id": 987654})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"group_id": 987654})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"organization_id": -3})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"assignee_id": customer})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"problem_id": ticket})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"status": "closed"})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/tickets.json",
            new_ticket(json!({"follower_ids": [customer]})),
            422,
        ),
        case(
            M::PUT,
            t(".json"),
            Body::Json(json!({"ticket": {"problem_id": ticket}})),
            422,
        ),
        case(
            M::PUT,
            t(".json"),
            Body::Json(json!({"ticket": {"subject": ""}})),
            422,
        ),
        case(
            M::PUT,
            t(".json"),
            Body::Json(json!({"ticket": {"status": "new", "assignee_id": null}})),
            200,
        ),
        case(
            M::PUT,
            t(".json"),
            Body::Json(
                json!({"ticket": {"safe_update": true, "updated_stamp": "2001-01-01T00:00:00Z"}}),
            ),
            409,
        ),
        case(
            M::PUT,
            t(".json"),
            Body::Json(json!({"ticket": {"safe_update": true}})),
            422,
        ),
        // Invalid ids and routes.
        case(M::GET, "/api/v2/tickets/abc.json", Body::None, 404),
        case(M::GET, "/api/v2/tickets/-1.json", Body::None, 404),
        case(M::GET, "/api/v2/tickets/0", Body::None, 404),
        case(
            M::GET,
            "/api/v2/tickets/99999999999999999999999.json",
            Body::None,
            404,
        ),
        case(M::GET, "/api/v2/tickets/123456789.json", Body::None, 404),
        case(
            M::GET,
            "/api/v2/tickets/123456789/comments.json",
            Body::None,
            404,
        ),
        case(M::GET, "/api/v2/users/nope.json", Body::None, 404),
        case(M::GET, "/api/v2/organizations/1e3.json", Body::None, 404),
        case(M::GET, "/api/v2/job_statuses/zzz.json", Body::None, 404),
        case(M::GET, "/api/v2/job_statuses/abcdef.json", Body::None, 404),
        case(M::GET, "/api/v2/nothing/here", Body::None, 404),
        case(M::DELETE, "/api/v2/search.json", Body::None, 405),
        // Query strings.
        case(M::GET, "/api/v2/tickets.json?per_page=101", Body::None, 400),
        case(M::GET, "/api/v2/tickets.json?per_page=abc", Body::None, 400),
        case(M::GET, "/api/v2/tickets.json?page=-1", Body::None, 400),
        case(
            M::GET,
            "/api/v2/tickets.json?page=99999999999",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?page=4000000000",
            Body::None,
            200,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?sort_by=password",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?sort_order=sideways",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?page[size]=abc",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?page[size]=10&page[after]=%%%",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?page[size]=10&page[after]=bm90LWFuLWlk",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?page[size]=10&sort=-updated_at",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/tickets.json?external_id=%00",
            Body::None,
            400,
        ),
        case(M::GET, "/api/v2/tickets/show_many.json", Body::None, 400),
        case(
            M::GET,
            "/api/v2/tickets/show_many.json?ids=1,x",
            Body::None,
            400,
        ),
        case(
            M::GET,
            format!("/api/v2/tickets/show_many.json?ids={ids_101}"),
            Body::None,
            400,
        ),
        case(
            M::DELETE,
            format!("/api/v2/tickets/destroy_many.json?ids={ids_101}"),
            Body::None,
            400,
        ),
        // Search syntax.
        case(
            M::GET,
            "/api/v2/search.json?query=%22unbalanced",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=type:spaceship",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=type:ticket%20colour:red",
            Body::None,
            422,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=type:ticket%20status:finished",
            Body::None,
            422,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=type:ticket%20created>someday",
            Body::None,
            422,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=type:ticket%20order_by:password",
            Body::None,
            422,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=type:group",
            Body::None,
            422,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=a&per_page=500",
            Body::None,
            400,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=x&sort_order=up",
            Body::None,
            400,
        ),
        case(M::GET, "/api/v2/search.json?query=%00", Body::None, 400),
        // Hostile but valid search text must simply match or not.
        case(
            M::GET,
            "/api/v2/search.json?query=AND%20OR%20NOT%20(%20)%20*%20%5E%20NEAR",
            Body::None,
            200,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=%27%3B%20DROP%20TABLE%20tickets%3B%20--",
            Body::None,
            200,
        ),
        case(M::GET, "/api/v2/search.json?query=%22%22", Body::None, 200),
        case(M::GET, "/api/v2/search.json?query=***", Body::None, 200),
        case(M::GET, "/api/v2/search.json?query=-", Body::None, 200),
        case(
            M::GET,
            "/api/v2/search.json?query=-only%20-negative",
            Body::None,
            200,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=%5C%3A*%20%26%20%7C%20!",
            Body::None,
            200,
        ),
        case(
            M::GET,
            "/api/v2/search.json?query=subject:%25_%25",
            Body::None,
            200,
        ),
        // Users, organizations, groups.
        case(
            M::POST,
            "/api/v2/users.json",
            Body::Json(json!({"user": {"name": "x", "email": "nope"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/users.json",
            Body::Json(json!({"user": {"email": "admin@example.com"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/users.json",
            Body::Json(json!({"user": {}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/users.json",
            Body::Json(json!({"user": {"name": "x", "role": "overlord"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/users.json",
            Body::Json(json!({"user": {"name": "x", "time_zone": "Mars/Olympus"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/users.json",
            Body::Json(json!({"user": {"name": "x", "organization_id": 424242}})),
            422,
        ),
        case(
            M::PUT,
            "/api/v2/users/1/password.json",
            Body::Json(json!({"password": "short"})),
            422,
        ),
        case(
            M::PUT,
            "/api/v2/users/1/password.json",
            Body::Json(json!({})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/organizations.json",
            Body::Json(json!({"organization": {"name": "Corpus Org"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/organizations.json",
            Body::Json(json!({"organization": {"name": ""}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/organizations.json",
            Body::Json(json!({"organization": {"name": "New", "acv_cents": -1}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/organizations.json",
            Body::Json(json!({"organization": {"name": "New", "industry": "mining"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/organizations.json",
            Body::Json(json!({"organization": {"name": "New", "renewal_date": "2027-13-45"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/organizations.json",
            Body::Json(json!({"organization": {"name": "New", "tier_pinned": "platinum"}})),
            422,
        ),
        case(
            M::DELETE,
            format!("/api/v2/organizations/{org}.json"),
            Body::None,
            422,
        ),
        case(
            M::POST,
            "/api/v2/groups.json",
            Body::Json(json!({"group": {"name": "Technical Support"}})),
            422,
        ),
        case(
            M::POST,
            "/api/v2/groups.json",
            Body::Json(json!({"group": {"name": "Sub", "parent_id": 11}})),
            422,
        ),
        case(M::DELETE, "/api/v2/groups/1.json", Body::None, 422),
        case(
            M::POST,
            "/api/v2/tickets/create_many.json",
            Body::Json(json!({"tickets": "x"})),
            400,
        ),
        case(
            M::PUT,
            "/api/v2/tickets/update_many.json",
            Body::Json(json!({"tickets": [{"subject": "no id"}]})),
            422,
        ),
        // Credentials.
        authed("Basic !!!not-base64", 401),
        authed("Basic YWRtaW5AZXhhbXBsZS5jb20=", 401),
        authed("Basic YWRtaW5AZXhhbXBsZS5jb20vdG9rZW46d3Jvbmc=", 401),
        authed("Basic YWRtaW5AZXhhbXBsZS5jb206d3Jvbmc=", 401),
        authed("Bearer wrong-token", 401),
        authed("Bearer", 401),
        authed("Digest abc", 401),
        authed("", 401),
    ];
    let mut failures = Vec::new();
    for c in cases {
        let mut req = app
            .client
            .request(c.method.clone(), format!("{}{}", app.base, c.path));
        req = match &c.auth {
            None => req.basic_auth(format!("{}/token", app.admin_email), Some(&app.admin_token)),
            Some(h) if h.is_empty() => req,
            Some(h) => req.header("Authorization", h),
        };
        req = match &c.body {
            Body::None => req,
            Body::Raw(s) => req.header("Content-Type", "application/json").body(*s),
            Body::Json(v) => req.json(v),
            Body::Big => req.header("Content-Type", "application/json").body(format!(
                "{{\"ticket\": {{\"subject\": \"big\", \"comment\": {{\"body\": \"{}\"}}}}}}",
                "x".repeat(1_100_000)
            )),
        };
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} {}: connection failed: {e}", c.method, c.path));
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body: Result<Value, _> = serde_json::from_str(&text);
        let label = format!(
            "{} {} -> {status}: {}",
            c.method,
            c.path,
            text.chars().take(200).collect::<String>()
        );
        if status.is_server_error() {
            failures.push(format!("5xx! {label}"));
        } else if status.as_u16() != c.expect {
            failures.push(format!("expected {} but got {label}", c.expect));
        } else if status.is_client_error() && !body.as_ref().is_ok_and(|b| b["error"].is_string()) {
            failures.push(format!("not a JSON error: {label}"));
        }
        assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert!(
        failures.is_empty(),
        "{} bad responses:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Details name the offending field, Zendesk-style.
    let resp = app
        .admin(Method::POST, "/api/v2/tickets.json")
        .json(&json!({"ticket": {"subject": "x", "comment": {"body": "y"}, "priority": "critical", "status": "done"}}))
        .send()
        .await
        .unwrap();
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "RecordInvalid");
    assert!(
        err["details"]["ticket.priority"].is_array() && err["details"]["ticket.status"].is_array(),
        "{err}"
    );
}
