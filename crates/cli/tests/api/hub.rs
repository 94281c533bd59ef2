//! The customer hub's first pieces (issue 4): communication log with action
//! items and follow-ups as tasks, contact roles, the account timeline.

use reqwest::Method;
use serde_json::json;
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{json_of, spawn_app_with_clock};

#[tokio::test]
async fn communications_contacts_and_the_account_timeline() {
    let t0 = parse_rfc3339("2026-03-10T15:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let org = app.org("Hub Co", false).await;
    let (csm, csm_email, csm_token) = app.user_with_token(Role::Csm, None).await;
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (_, viewer, viewer_token) = app.user_with_token(Role::Viewer, None).await;
    let (_, enduser, enduser_token) = app.user_with_token(Role::EndUser, Some(org)).await;

    // A ticket, solved later, so the timeline has several kinds of entries.
    let t = app
        .post_json("/api/v2/tickets.json", json!({"ticket": {"subject": "Import stuck", "comment": {"body": "help"}, "requester_id": customer, "group_id": 2}}))
        .await;
    let ticket = t["ticket"]["id"].as_i64().unwrap();

    // A CSM logs a kickoff call with two action items and a follow-up date.
    app.clock.set(t0 + 3600);
    let body = json!({"communication": {
        "type": "meeting", "topic": "Kickoff", "summary": "Charter agreed", "attendees": ["Ana (sponsor)", "Raj"],
        "sentiment": "positive", "occurred_at": "2026-03-10T15:30:00Z", "follow_up_date": "2026-03-13",
        "action_items": [{"title": "Send the project charter", "owner_id": csm, "due_at": "2026-03-11T21:00:00Z"},
                         {"title": "Share sandbox credentials"}]}});
    let resp = app
        .request_as(
            Method::POST,
            &format!("/api/v2/organizations/{org}/communications.json"),
            &csm_email,
            &csm_token,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let c = json_of(resp, 201).await["communication"].clone();
    assert_eq!(c["type"], "meeting");
    let task_ids = c["action_item_task_ids"].as_array().unwrap().clone();
    assert_eq!(task_ids.len(), 2);
    let tasks = app
        .get_json(&format!("/api/v2/tasks.json?organization_id={org}"))
        .await;
    let titles: Vec<&str> = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Send the project charter") && titles.contains(&"Follow up: Kickoff"),
        "{titles:?}"
    );
    let follow = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Follow up: Kickoff")
        .unwrap();
    assert_eq!(follow["due_at"], "2026-03-13T14:00:00Z");

    // Bad input is refused with details; viewers and end users cannot write.
    let bad = json!({"communication": {"type": "carrier pigeon", "topic": ""}});
    let resp = app
        .admin(
            Method::POST,
            &format!("/api/v2/organizations/{org}/communications.json"),
        )
        .json(&bad)
        .send()
        .await
        .unwrap();
    let err = json_of(resp, 422).await;
    assert!(err["details"]["communication.type"].is_array(), "{err}");
    let resp = app
        .request_as(
            Method::POST,
            &format!("/api/v2/organizations/{org}/communications.json"),
            &viewer,
            &viewer_token,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .request_as(
            Method::GET,
            &format!("/api/v2/organizations/{org}/timeline.json"),
            &enduser,
            &enduser_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = app
        .admin(
            Method::POST,
            "/api/v2/organizations/999999/communications.json",
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);

    // Contact roles.
    let resp = app
        .admin(
            Method::PUT,
            &format!("/api/v2/users/{customer}/contact_roles.json"),
        )
        .json(&json!({"contact_roles": ["executive_sponsor", "project_lead", "project_lead"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(resp, 200).await["contact_roles"],
        json!(["executive_sponsor", "project_lead"])
    );
    let resp = app
        .admin(
            Method::PUT,
            &format!("/api/v2/users/{csm}/contact_roles.json"),
        )
        .json(&json!({"contact_roles": ["data_owner"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422, "staff are not customer contacts");
    let resp = app
        .admin(
            Method::PUT,
            &format!("/api/v2/users/{customer}/contact_roles.json"),
        )
        .json(&json!({"contact_roles": ["mascot"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let contacts = app
        .get_json(&format!("/api/v2/organizations/{org}/contacts.json"))
        .await;
    let me = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == customer)
        .unwrap();
    assert_eq!(
        me["contact_roles"],
        json!(["executive_sponsor", "project_lead"])
    );

    // The timeline: newest first, every kind, paged with `before`.
    app.clock.set(t0 + 7200);
    app.put_json(
        &format!("/api/v2/tickets/{ticket}.json"),
        json!({"ticket": {"status": "solved"}}),
    )
    .await;
    let tl = app
        .get_json(&format!("/api/v2/organizations/{org}/timeline.json"))
        .await;
    let kinds: Vec<&str> = tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["ticket_solved", "communication", "ticket_created"],
        "{tl}"
    );
    let older = app
        .get_json(&format!(
            "/api/v2/organizations/{org}/timeline.json?before=2026-03-10T15:30:00Z"
        ))
        .await;
    assert_eq!(older["timeline"].as_array().unwrap().len(), 1);
    let resp = app
        .admin(
            Method::GET,
            &format!("/api/v2/organizations/{org}/timeline.json?before=yesterday"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Update and delete.
    let id = c["id"].as_i64().unwrap();
    let upd = app
        .put_json(
            &format!("/api/v2/communications/{id}.json"),
            json!({"communication": {"sentiment": "neutral"}}),
        )
        .await;
    assert_eq!(upd["communication"]["sentiment"], "neutral");
    assert_eq!(upd["communication"]["topic"], "Kickoff");
    assert_eq!(
        app.admin(Method::DELETE, &format!("/api/v2/communications/{id}.json"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.admin(Method::GET, &format!("/api/v2/communications/{id}.json"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
