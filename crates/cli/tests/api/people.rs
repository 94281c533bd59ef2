//! Users, organizations and groups through the API.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{json_of, spawn_app};

#[tokio::test]
async fn organizations_carry_the_account_profile_and_derived_tier() {
    let app = spawn_app().await;
    let created = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Vandelay Industries", "industry": "manufacturing", "company_size": "200-1K",
                   "region": "NA", "acv_cents": 5_000_000, "contract_start": "2026-01-01", "renewal_date": "2027-01-01",
                   "account_status": "onboarding", "executive_sponsor": "Art Vandelay", "domain_names": ["vandelay.example"]}}),
        )
        .await;
    let o = &created["organization"];
    let id = o["id"].as_i64().unwrap();
    assert_eq!(o["tier"], "mid_market");
    assert_eq!(o["company_size"], "200-1k");
    assert_eq!(o["region"], "na");
    assert_eq!(o["monthly_fee_cents"], 416_666);
    assert_eq!(o["account_status"], "onboarding");

    // ACV boundary and pinning.
    let o = app
        .put_json(
            &format!("/api/v2/organizations/{id}.json"),
            json!({"organization": {"acv_cents": 10_000_001}}),
        )
        .await;
    assert_eq!(o["organization"]["tier"], "enterprise");
    let o = app
        .put_json(
            &format!("/api/v2/organizations/{id}.json"),
            json!({"organization": {"tier_pinned": "starter"}}),
        )
        .await;
    assert_eq!(o["organization"]["tier"], "starter");
    assert_eq!(o["organization"]["tier_pinned"], "starter");
    let o = app.put_json(&format!("/api/v2/organizations/{id}.json"), json!({"organization": {"tier_pinned": null, "organization_fields": {"acv_cents": 2_499_999}}})).await;
    assert_eq!(o["organization"]["tier"], "starter");
    assert!(o["organization"]["tier_pinned"].is_null());

    let list = app.get_json("/api/v2/organizations.json").await;
    assert_eq!(list["count"], 1);
    let dup = app
        .admin(Method::POST, "/api/v2/organizations.json")
        .json(&json!({"organization": {"name": "vandelay industries"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(dup, 422).await["details"]["name"][0]["error"],
        "InvalidValue"
    );
}

#[tokio::test]
async fn users_me_create_or_update_and_deactivation() {
    let app = spawn_app().await;
    let me = app.get_json("/api/v2/users/me.json").await;
    assert_eq!(me["user"]["email"], app.admin_email);
    assert_eq!(me["user"]["role"], "admin");

    let first = app
        .admin(Method::POST, "/api/v2/users/create_or_update.json")
        .json(&json!({"user": {"name": "Jo", "email": "jo@example.com"}}))
        .send()
        .await
        .unwrap();
    let first = json_of(first, 201).await;
    let again = app
        .admin(Method::POST, "/api/v2/users/create_or_update.json")
        .json(&json!({"user": {"name": "Jo Updated", "email": "JO@example.com", "steward_role": "csm"}}))
        .send()
        .await
        .unwrap();
    let again = json_of(again, 200).await;
    assert_eq!(first["user"]["id"], again["user"]["id"]);
    assert_eq!(again["user"]["name"], "Jo Updated");
    assert_eq!(again["user"]["role"], "agent");
    assert_eq!(again["user"]["steward_role"], "csm");

    let id = again["user"]["id"].as_i64().unwrap();
    let agents = app.get_json("/api/v2/users.json?role=csm").await;
    assert_eq!(agents["users"].as_array().unwrap().len(), 1);
    let many = app
        .get_json(&format!("/api/v2/users/show_many.json?ids={id}"))
        .await;
    assert_eq!(many["users"][0]["id"], id);

    // Passwords: set, then authenticate with email:password.
    let resp = app
        .admin(Method::PUT, &format!("/api/v2/users/{id}/password.json"))
        .json(&json!({"password": "a sufficiently long one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .client
        .get(format!("{}/api/v2/users/me.json", app.base))
        .basic_auth("jo@example.com", Some("a sufficiently long one"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(resp, 200).await["user"]["id"], id);
    let resp = app
        .client
        .get(format!("{}/api/v2/users/me.json", app.base))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let gone = app
        .admin(Method::DELETE, &format!("/api/v2/users/{id}.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(gone, 200).await["user"]["active"], false);
    let resp = app
        .client
        .get(format!("{}/api/v2/users/me.json", app.base))
        .basic_auth("jo@example.com", Some("a sufficiently long one"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "deactivated users cannot sign in");
}

#[tokio::test]
async fn groups_default_and_custom() {
    let app = spawn_app().await;
    let groups = app.get_json("/api/v2/groups.json").await;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for expected in [
        "Technical Support",
        "Implementation",
        "Billing & Admin",
        "Escalations",
        "Implementation / Data migration",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let g = app
        .post_json(
            "/api/v2/groups.json",
            json!({"group": {"name": "Tier 2", "parent_id": 1}}),
        )
        .await;
    let id = g["group"]["id"].as_i64().unwrap();
    assert!(id > 43, "custom groups get ids after the seeded ones");
    let g = app
        .put_json(
            &format!("/api/v2/groups/{id}.json"),
            json!({"group": {"description": "second line"}}),
        )
        .await;
    assert_eq!(g["group"]["description"], "second line");
    assert_eq!(
        app.admin(Method::DELETE, &format!("/api/v2/groups/{id}.json"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.admin(Method::GET, &format!("/api/v2/groups/{id}.json"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let fields = app.get_json("/api/v2/ticket_fields.json").await;
    let titles: Vec<&str> = fields["ticket_fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Implementation Phase",
            "Contract Value",
            "Revenue Impact",
            "Churn Risk",
            "Requires Executive Escalation",
            "Requires Technical Deep Dive"
        ]
    );
    let doc = app.get_json("/api/v2/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v2/search"]["get"].is_object());
}
