//! Zendesk search syntax over tickets, users and organizations, answered by
//! each database's own full-text engine.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_of, spawn_app};

async fn search(app: &TestApp, q: &str) -> Value {
    let resp = app
        .admin(Method::GET, "/api/v2/search.json")
        .query(&[("query", q)])
        .send()
        .await
        .unwrap();
    json_of(resp, 200).await
}

fn ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn ticket_search_combines_fields_and_full_text() {
    let app = spawn_app().await;
    let acme = app.org("Acme Corp", false).await;
    let globex = app.org("Globex", false).await;
    let mut made = Vec::new();
    for (subject, body, org, priority, tags) in [
        (
            "Payment gateway timeout",
            "Checkout fails with a timeout since the upgrade",
            acme,
            "urgent",
            vec!["billing", "gateway"],
        ),
        (
            "Invoice question",
            "Where do I download invoices?",
            acme,
            "low",
            vec!["billing"],
        ),
        (
            "Gateway slow",
            "The reporting gateway is slow on Mondays",
            globex,
            "high",
            vec!["performance"],
        ),
        (
            "Password reset",
            "Users cannot reset passwords; email never arrives",
            globex,
            "normal",
            vec![],
        ),
    ] {
        let t = app
            .post_json(
                "/api/v2/tickets.json",
                json!({"ticket": {"subject": subject, "comment": {"body": body}, "organization_id": org, "priority": priority, "tags": tags}}),
            )
            .await;
        made.push(t["ticket"]["id"].as_i64().unwrap());
    }
    let [timeout, invoice, slow, reset] = made[..] else {
        unreachable!()
    };
    let me = app.get_json("/api/v2/users/me.json").await["user"]["id"]
        .as_i64()
        .unwrap();
    app.put_json(
        &format!("/api/v2/tickets/{reset}.json"),
        json!({"ticket": {"comment": {"body": "Escalated to the mail provider (sendgrid bounce)"}, "assignee_id": me}}),
    )
    .await;

    assert_eq!(
        ids(&search(&app, "type:ticket gateway").await),
        vec![timeout, slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket \"reporting gateway\"").await),
        vec![slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket sendgrid").await),
        vec![reset],
        "later comments are searchable"
    );
    assert_eq!(
        ids(&search(&app, "type:ticket gate*").await),
        vec![timeout, slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket gateway -slow").await),
        vec![timeout]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket organization:\"acme corp\"").await),
        vec![timeout, invoice]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket priority:urgent").await),
        vec![timeout]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket priority>normal").await),
        vec![timeout, slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket tags:billing").await),
        vec![timeout, invoice]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket tags:billing -tags:gateway").await),
        vec![invoice]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket status:open").await),
        vec![reset]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket status<open").await),
        vec![timeout, invoice, slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket created>2020-01-01 tags:billing").await),
        vec![timeout, invoice]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket created<2020-01-01").await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&search(&app, "type:ticket created>1hour").await).len(),
        4
    );
    assert_eq!(
        ids(&search(&app, "type:ticket subject:gateway").await),
        vec![timeout, slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket assignee:none").await),
        vec![timeout, invoice, slow]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket assignee:me").await),
        vec![reset]
    );
    assert_eq!(
        ids(&search(&app, "type:ticket group:none organization:globex").await),
        vec![slow, reset]
    );

    // Ordering and pagination.
    let ordered = search(&app, "type:ticket order_by:created_at sort:asc").await;
    let in_order: Vec<i64> = ordered["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(in_order, made);
    let resp = app
        .admin(Method::GET, "/api/v2/search.json")
        .query(&[("query", "type:ticket"), ("per_page", "3")])
        .send()
        .await
        .unwrap();
    let page = json_of(resp, 200).await;
    assert_eq!(page["count"], 4);
    assert_eq!(page["results"].as_array().unwrap().len(), 3);
    assert_eq!(page["results"][0]["result_type"], "ticket");
    assert!(page["next_page"].as_str().unwrap().contains("page=2"));
    let resp = app
        .admin(Method::GET, "/api/v2/search/count.json")
        .query(&[("query", "type:ticket tags:billing")])
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 200).await["count"], 2);
}

#[tokio::test]
async fn users_and_organizations_are_searchable_too() {
    let app = spawn_app().await;
    let org = app.org("Initech", false).await;
    app.put_json(
        &format!("/api/v2/organizations/{org}.json"),
        json!({"organization": {"notes": "Uses the TPS reporting module", "industry": "fintech"}}),
    )
    .await;
    let u = app
        .post_json("/api/v2/users.json", json!({"user": {"name": "Peter Gibbons", "email": "peter@initech.example", "organization_id": org}}))
        .await;
    let peter = u["user"]["id"].as_i64().unwrap();

    let r = search(&app, "type:user gibbons").await;
    assert_eq!(ids(&r), vec![peter]);
    assert_eq!(r["results"][0]["result_type"], "user");
    assert_eq!(
        ids(&search(&app, "type:user email:peter@initech.example").await),
        vec![peter]
    );
    assert_eq!(
        ids(&search(&app, "type:user organization:initech role:end-user").await),
        vec![peter]
    );
    assert_eq!(ids(&search(&app, "type:organization tps").await), vec![org]);
    assert_eq!(
        ids(&search(&app, "type:organization industry:fintech").await),
        vec![org]
    );

    // Without a type, every type that understands the query answers.
    let mixed = search(&app, "initech").await;
    let kinds: Vec<&str> = mixed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["organization", "user"], "{mixed}");
    let resp = app
        .admin(Method::GET, "/api/v2/users/search.json")
        .query(&[("query", "peter")])
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 200).await["users"][0]["id"], peter);
}
