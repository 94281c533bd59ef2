//! Roles on every call (policies.md §8): end users see only their own
//! tickets (or their organization's when it shares), never another
//! organization's — not by id, not in lists, not in search; staff see and
//! change only the groups their role allows; contractors never see
//! commercial fields; viewers change nothing.

use reqwest::Method;
use serde_json::json;
use steward_domain::Role;

use crate::helpers::{TestApp, json_of, spawn_app};

async fn ticket_for(app: &TestApp, requester: i64, subject: &str, group: Option<i64>) -> i64 {
    let body = json!({"ticket": {"subject": subject, "comment": {"body": format!("{subject} body")}, "requester_id": requester, "group_id": group}});
    app.post_json("/api/v2/tickets.json", body).await["ticket"]["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn end_users_never_see_another_organizations_tickets() {
    let app = spawn_app().await;
    let org_a = app.org("Org A", false).await;
    let org_b = app.org("Org B", true).await;
    let (a1, a1_email, a1_token) = app.user_with_token(Role::EndUser, Some(org_a)).await;
    let (a2, _, _) = app.user_with_token(Role::EndUser, Some(org_a)).await;
    let (b1, b1_email, b1_token) = app.user_with_token(Role::EndUser, Some(org_b)).await;
    let (b2, _, _) = app.user_with_token(Role::EndUser, Some(org_b)).await;
    let t_a1 = ticket_for(&app, a1, "zebra alpha", None).await;
    let t_a2 = ticket_for(&app, a2, "zebra colleague", None).await;
    let t_b1 = ticket_for(&app, b1, "zebra bravo", None).await;
    let t_b2 = ticket_for(&app, b2, "zebra shared", None).await;

    let get = |email: &str, token: &str, path: String| {
        app.request_as(Method::GET, &path, email, token).send()
    };

    // By id: other organization's ticket is 404, as is a colleague's when
    // the organization does not share.
    assert_eq!(
        get(&a1_email, &a1_token, format!("/api/v2/tickets/{t_a1}.json"))
            .await
            .unwrap()
            .status(),
        200
    );
    let resp = get(&a1_email, &a1_token, format!("/api/v2/tickets/{t_b1}.json"))
        .await
        .unwrap();
    assert_eq!(json_of(resp, 404).await["error"], "RecordNotFound");
    assert_eq!(
        get(&a1_email, &a1_token, format!("/api/v2/tickets/{t_a2}.json"))
            .await
            .unwrap()
            .status(),
        404
    );
    // Org B shares tickets: its people see each other's, still not org A's.
    assert_eq!(
        get(&b1_email, &b1_token, format!("/api/v2/tickets/{t_b2}.json"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get(&b1_email, &b1_token, format!("/api/v2/tickets/{t_a1}.json"))
            .await
            .unwrap()
            .status(),
        404
    );

    // Lists, show_many, comments, search.
    let ids = |v: &serde_json::Value, key: &str| -> Vec<i64> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let list = json_of(
        get(&a1_email, &a1_token, "/api/v2/tickets.json".into())
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(ids(&list, "tickets"), vec![t_a1]);
    assert_eq!(list["count"], 1);
    let cursor = json_of(
        get(
            &a1_email,
            &a1_token,
            "/api/v2/tickets.json?page[size]=10".into(),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(ids(&cursor, "tickets"), vec![t_a1]);
    let many = json_of(
        get(
            &a1_email,
            &a1_token,
            format!("/api/v2/tickets/show_many.json?ids={t_a1},{t_b1},{t_b2}"),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(ids(&many, "tickets"), vec![t_a1]);
    let search = json_of(
        get(
            &a1_email,
            &a1_token,
            "/api/v2/search.json?query=zebra".into(),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(ids(&search, "results"), vec![t_a1], "{search}");
    let search_b = json_of(
        get(
            &b1_email,
            &b1_token,
            "/api/v2/search.json?query=type:ticket%20zebra".into(),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    let mut got = ids(&search_b, "results");
    got.sort();
    assert_eq!(got, vec![t_b1, t_b2]);
    assert_eq!(
        get(
            &a1_email,
            &a1_token,
            format!("/api/v2/tickets/{t_b1}/comments.json")
        )
        .await
        .unwrap()
        .status(),
        404
    );
    assert_eq!(
        get(
            &a1_email,
            &a1_token,
            format!("/api/v2/organizations/{org_b}/tickets.json")
        )
        .await
        .unwrap()
        .status(),
        200
    );
    let via_org = json_of(
        get(
            &a1_email,
            &a1_token,
            format!("/api/v2/organizations/{org_b}/tickets.json"),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(ids(&via_org, "tickets").is_empty());

    // Other organizations and users are not found either.
    assert_eq!(
        get(
            &a1_email,
            &a1_token,
            format!("/api/v2/organizations/{org_b}.json")
        )
        .await
        .unwrap()
        .status(),
        404
    );
    assert_eq!(
        get(&a1_email, &a1_token, format!("/api/v2/users/{b1}.json"))
            .await
            .unwrap()
            .status(),
        404
    );
    let users = json_of(
        get(&a1_email, &a1_token, "/api/v2/users.json".into())
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(ids(&users, "users"), vec![a1]);
    assert_eq!(
        get(&a1_email, &a1_token, "/api/v2/groups.json".into())
            .await
            .unwrap()
            .status(),
        403
    );

    // Writing to someone else's ticket is not found; to one's own, only comments.
    let put = |id: i64, body: serde_json::Value| {
        app.request_as(
            Method::PUT,
            &format!("/api/v2/tickets/{id}.json"),
            &a1_email,
            &a1_token,
        )
        .json(&body)
        .send()
    };
    assert_eq!(
        put(t_b1, json!({"ticket": {"comment": {"body": "hi"}}}))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        put(t_a1, json!({"ticket": {"status": "solved"}}))
            .await
            .unwrap()
            .status(),
        403
    );
    let ok = json_of(
        put(
            t_a1,
            json!({"ticket": {"comment": {"body": "any news?", "public": false}}}),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        ok["audit"]["events"][0]["public"], true,
        "end users cannot write internal notes"
    );

    // Internal notes are invisible to end users.
    app.put_json(
        &format!("/api/v2/tickets/{t_a1}.json"),
        json!({"ticket": {"comment": {"body": "secret note", "public": false}}}),
    )
    .await;
    let comments = json_of(
        get(
            &a1_email,
            &a1_token,
            format!("/api/v2/tickets/{t_a1}/comments.json"),
        )
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(
        comments["comments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["body"] != "secret note")
    );

    // An end user's new ticket is theirs, whatever they claim.
    let created = app
        .request_as(Method::POST, "/api/v2/tickets.json", &a1_email, &a1_token)
        .json(&json!({"ticket": {"subject": "mine", "comment": {"body": "please help"}}}))
        .send()
        .await
        .unwrap();
    let created = json_of(created, 201).await;
    assert_eq!(created["ticket"]["requester_id"], a1);
    assert_eq!(created["ticket"]["organization_id"], org_a);
    let spoof = app
        .request_as(Method::POST, "/api/v2/tickets.json", &a1_email, &a1_token)
        .json(&json!({"ticket": {"subject": "x", "comment": {"body": "x"}, "requester_id": b1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(spoof.status(), 403);
}

#[tokio::test]
async fn staff_roles_follow_the_group_permissions() {
    let app = spawn_app().await;
    let org = app.org("Staff Org", false).await;
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let support = ticket_for(&app, customer, "support ticket", Some(1)).await;
    let implementation = ticket_for(&app, customer, "implementation ticket", Some(2)).await;
    let billing = ticket_for(&app, customer, "billing ticket", Some(3)).await;
    let subgroup = ticket_for(&app, customer, "platform subgroup ticket", Some(11)).await;

    let (_, csm, csm_t) = app.user_with_token(Role::Csm, None).await;
    let (_, agent, agent_t) = app.user_with_token(Role::Agent, None).await;
    let (_, contractor, contractor_t) = app.user_with_token(Role::Contractor, None).await;
    let (_, viewer, viewer_t) = app.user_with_token(Role::Viewer, None).await;

    let status = |email: &str, token: &str, m: Method, id: i64| {
        let req = app.request_as(
            m.clone(),
            &format!("/api/v2/tickets/{id}.json"),
            email,
            token,
        );
        let req = if m == Method::PUT {
            req.json(&json!({"ticket": {"comment": {"body": "note", "public": false}}}))
        } else {
            req
        };
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // CSM: implementation read/write, technical support read-only, billing hidden.
    assert_eq!(status(&csm, &csm_t, Method::PUT, implementation).await, 200);
    assert_eq!(status(&csm, &csm_t, Method::GET, support).await, 200);
    assert_eq!(status(&csm, &csm_t, Method::PUT, support).await, 403);
    assert_eq!(status(&csm, &csm_t, Method::GET, billing).await, 404);
    // Agent: technical support (incl. subgroups), not implementation.
    assert_eq!(status(&agent, &agent_t, Method::PUT, subgroup).await, 200);
    assert_eq!(
        status(&agent, &agent_t, Method::GET, implementation).await,
        404
    );
    // Contractor: technical support only.
    assert_eq!(
        status(&contractor, &contractor_t, Method::PUT, support).await,
        200
    );
    assert_eq!(
        status(&contractor, &contractor_t, Method::GET, billing).await,
        404
    );
    // Viewer: reads all, writes nothing.
    assert_eq!(status(&viewer, &viewer_t, Method::GET, billing).await, 200);
    assert_eq!(status(&viewer, &viewer_t, Method::PUT, billing).await, 403);

    // Counts follow visibility.
    let list = json_of(
        app.request_as(Method::GET, "/api/v2/tickets.json", &csm, &csm_t)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(
        list["count"], 3,
        "csm sees support (2) and implementation (1): {list}"
    );
    let list = json_of(
        app.request_as(Method::GET, "/api/v2/tickets.json", &viewer, &viewer_t)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["count"], 4);

    // Contractors never see commercial fields.
    app.put_json(
        &format!("/api/v2/organizations/{org}.json"),
        json!({"organization": {"acv_cents": 12_000_000, "renewal_date": "2027-03-01"}}),
    )
    .await;
    let o = json_of(
        app.request_as(
            Method::GET,
            &format!("/api/v2/organizations/{org}.json"),
            &contractor,
            &contractor_t,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(
        o["organization"].get("acv_cents").is_none()
            && o["organization"].get("renewal_date").is_none(),
        "{o}"
    );
    assert_eq!(o["organization"]["tier"], "enterprise");
    let o = app
        .get_json(&format!("/api/v2/organizations/{org}.json"))
        .await;
    assert_eq!(o["organization"]["acv_cents"], 12_000_000);
    let t = json_of(
        app.request_as(
            Method::GET,
            &format!("/api/v2/tickets/{support}.json"),
            &contractor,
            &contractor_t,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    let field_ids: Vec<i64> = t["ticket"]["custom_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        field_ids,
        vec![1, 4, 5, 6],
        "Contract Value (2) and Revenue Impact (3) are hidden"
    );
    let set = app
        .request_as(
            Method::PUT,
            &format!("/api/v2/tickets/{support}.json"),
            &contractor,
            &contractor_t,
        )
        .json(&json!({"ticket": {"custom_fields": [{"id": 2, "value": "1000"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 403);

    // Only admins manage staff and groups.
    let mk = app
        .request_as(Method::POST, "/api/v2/users.json", &agent, &agent_t)
        .json(&json!({"user": {"name": "Sneaky", "email": "sneaky@example.com", "role": "admin"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(mk.status(), 403);
    let mk = app
        .request_as(Method::POST, "/api/v2/users.json", &agent, &agent_t)
        .json(&json!({"user": {"name": "Customer", "email": "customer@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(mk.status(), 201, "agents may add end users");
    let g = app
        .request_as(Method::POST, "/api/v2/groups.json", &agent, &agent_t)
        .json(&json!({"group": {"name": "x"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(g.status(), 403);
}
