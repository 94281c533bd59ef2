use reqwest::Method;
use serde_json::json;

use crate::helpers::{json_of, spawn_app};

#[tokio::test]
async fn ticket_lifecycle_with_comments_audits_and_status_rules() {
    let app = spawn_app().await;
    let org = app.org("Acme Corp", false).await;
    let user = app
        .post_json("/api/v2/users.json", json!({"user": {"name": "Rita Requester", "email": "rita@acme.example", "organization_id": org}}))
        .await;
    let rita = user["user"]["id"].as_i64().unwrap();
    assert_eq!(user["user"]["role"], "end-user");

    let created = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Login broken", "comment": {"body": "Cannot log in since 9am"},
                              "requester_id": rita, "priority": "high", "tags": ["Login", "sso"]}}),
        )
        .await;
    let t = &created["ticket"];
    let id = t["id"].as_i64().unwrap();
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["priority_code"], "P1");
    assert_eq!(
        t["organization_id"], org,
        "organization defaults to the requester's"
    );
    assert_eq!(t["tags"], json!(["login", "sso"]));
    assert_eq!(t["description"], "Cannot log in since 9am");
    assert_eq!(created["audit"]["events"][0]["type"], "Comment");

    // Public reply, then an internal note, then a status change.
    let updated = app
        .put_json(
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"comment": {"body": "Looking into it"}, "status": "pending"}}),
        )
        .await;
    assert_eq!(updated["ticket"]["status"], "pending");
    let events = updated["audit"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["type"] == "Change"
        && e["field_name"] == "status"
        && e["previous_value"] == "new"));
    app.put_json(
        &format!("/api/v2/tickets/{id}"),
        json!({"ticket": {"comment": {"body": "note to self", "public": false}}}),
    )
    .await;

    let comments = app
        .get_json(&format!("/api/v2/tickets/{id}/comments.json"))
        .await;
    let bodies: Vec<_> = comments["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["body"].clone(), c["public"].clone()))
        .collect();
    assert_eq!(
        bodies,
        vec![
            (json!("Cannot log in since 9am"), json!(true)),
            (json!("Looking into it"), json!(true)),
            (json!("note to self"), json!(false))
        ]
    );
    assert_eq!(comments["count"], 3);

    // Solve: the solver becomes the assignee; a requester reply reopens.
    let solved = app
        .put_json(
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"status": "solved"}}),
        )
        .await;
    assert_eq!(solved["ticket"]["status"], "solved");
    assert!(solved["ticket"]["assignee_id"].is_i64());
    let reopened = app
        .put_json(
            &format!("/api/v2/tickets/{id}.json"),
            json!({"ticket": {"comment": {"body": "Still broken", "author_id": rita}}}),
        )
        .await;
    assert_eq!(reopened["ticket"]["status"], "open");

    // Closed tickets are read-only; closing requires solving first.
    let resp = app
        .admin(Method::PUT, &format!("/api/v2/tickets/{id}.json"))
        .json(&json!({"ticket": {"status": "closed"}}))
        .send()
        .await
        .unwrap();
    let err = json_of(resp, 422).await;
    assert_eq!(err["error"], "RecordInvalid");
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"status": "solved"}}),
    )
    .await;
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"status": "closed"}}),
    )
    .await;
    let resp = app
        .admin(Method::PUT, &format!("/api/v2/tickets/{id}.json"))
        .json(&json!({"ticket": {"subject": "x"}}))
        .send()
        .await
        .unwrap();
    let err = json_of(resp, 422).await;
    assert!(
        err["description"].as_str().unwrap().contains("closed"),
        "{err}"
    );

    let audits = app
        .get_json(&format!("/api/v2/tickets/{id}/audits.json"))
        .await;
    assert!(
        audits["audits"].as_array().unwrap().len() >= 6,
        "every change is audited: {audits}"
    );

    // Delete is soft: gone from show and lists, history kept.
    let resp = app
        .admin(Method::DELETE, &format!("/api/v2/tickets/{id}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app
        .admin(Method::GET, &format!("/api/v2/tickets/{id}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 404).await["error"], "RecordNotFound");
    for q in [
        "tags:login",
        "type:ticket tags:sso",
        "login",
        "type:ticket broken",
    ] {
        let resp = app
            .admin(Method::GET, "/api/v2/search.json")
            .query(&[("query", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            json_of(resp, 200).await["count"],
            0,
            "deleted tickets leave search: {q}"
        );
    }
}

#[tokio::test]
async fn offset_and_cursor_pagination() {
    let app = spawn_app().await;
    let tickets: Vec<_> = (0..7)
        .map(|i| json!({"subject": format!("T{i}"), "comment": {"body": "x"}}))
        .collect();
    let job = app
        .admin(Method::POST, "/api/v2/tickets/create_many.json")
        .json(&json!({"tickets": tickets}))
        .send()
        .await
        .unwrap();
    let job = json_of(job, 200).await;
    assert_eq!(job["job_status"]["status"], "completed");
    assert_eq!(job["job_status"]["results"].as_array().unwrap().len(), 7);
    let job_id = job["job_status"]["id"].as_str().unwrap();
    let again = app
        .get_json(&format!("/api/v2/job_statuses/{job_id}.json"))
        .await;
    assert_eq!(again["job_status"]["total"], 7);

    let page1 = app.get_json("/api/v2/tickets.json?per_page=3").await;
    assert_eq!(page1["count"], 7);
    assert_eq!(page1["tickets"].as_array().unwrap().len(), 3);
    let next = page1["next_page"].as_str().unwrap();
    assert!(next.contains("page=2"), "{next}");
    let page3 = app.get_json("/api/v2/tickets.json?per_page=3&page=3").await;
    assert_eq!(page3["tickets"].as_array().unwrap().len(), 1);
    assert!(page3["next_page"].is_null());

    // Cursor pagination walks all seven exactly once.
    let mut seen = Vec::new();
    let mut url = format!("{}/api/v2/tickets.json?page[size]=3", app.base);
    loop {
        let resp = app
            .client
            .get(&url)
            .basic_auth(format!("{}/token", app.admin_email), Some(&app.admin_token))
            .send()
            .await
            .unwrap();
        let body = json_of(resp, 200).await;
        seen.extend(
            body["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
        if !body["meta"]["has_more"].as_bool().unwrap() {
            break;
        }
        url = body["links"]["next"].as_str().unwrap().to_string();
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen.len(), 7);
    assert_eq!(sorted, seen);

    let many = app
        .get_json(&format!(
            "/api/v2/tickets/show_many.json?ids={},{}",
            seen[0], seen[3]
        ))
        .await;
    assert_eq!(many["tickets"].as_array().unwrap().len(), 2);

    let upd = app
        .admin(
            Method::PUT,
            &format!(
                "/api/v2/tickets/update_many.json?ids={},{}",
                seen[0], seen[1]
            ),
        )
        .json(&json!({"ticket": {"priority": "urgent", "additional_tags": ["bulk"]}}))
        .send()
        .await
        .unwrap();
    let upd = json_of(upd, 200).await;
    assert!(
        upd["job_status"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["success"] == true),
        "{upd}"
    );
    let t = app
        .get_json(&format!("/api/v2/tickets/{}.json", seen[1]))
        .await;
    assert_eq!(t["ticket"]["priority"], "urgent");
    assert_eq!(t["ticket"]["tags"], json!(["bulk"]));
}
