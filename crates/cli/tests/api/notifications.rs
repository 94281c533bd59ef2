//! Slack-compatible notifications end to end: an SLA breach queues its
//! messages in the outbox, the real delivery worker posts them to the
//! webhook configured for each channel with an Idempotency-Key, and a
//! failed delivery is retried with backoff until the receiver accepts it.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::time::parse_rfc3339;
use steward_web::Clock;

use crate::helpers::{json_of, spawn_app_with_clock};

/// (path, idempotency key, body, status answered)
type Call = (String, String, Value, u16);
type Calls = [Call];

#[derive(Clone, Default)]
struct Received {
    calls: Arc<Mutex<Vec<Call>>>,
}

async fn hook(State(r): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    record(&r, "/hook", &headers, &body, StatusCode::OK)
}

/// Refuses each message the first time it sees it.
async fn flaky(State(r): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let seen = r
        .calls
        .lock()
        .unwrap()
        .iter()
        .any(|c| c.0 == "/flaky" && c.1 == key);
    record(
        &r,
        "/flaky",
        &headers,
        &body,
        if seen {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
    )
}

fn record(
    r: &Received,
    path: &str,
    headers: &HeaderMap,
    body: &Bytes,
    status: StatusCode,
) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    r.calls
        .lock()
        .unwrap()
        .push((path.to_string(), key, v, status.as_u16()));
    status
}

async fn wait_for(r: &Received, pred: fn(&Calls) -> bool) -> bool {
    for _ in 0..100 {
        if pred(&r.calls.lock().unwrap()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn breaches_reach_slack_webhooks_at_least_once_with_retries() {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/hook", post(hook))
        .route("/flaky", post(flaky))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let t0 = parse_rfc3339("2026-03-10T18:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let channels = json!({"channels": {
        "#critical-alerts": {"webhook_url": format!("{receiver}/flaky")},
        "#escalations": {"webhook_url": format!("{receiver}/hook")},
    }});
    json_of(
        app.admin(Method::PUT, "/api/v2/channels.json")
            .json(&channels)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let bad = json!({"channels": {"critical": {"webhook_url": "ftp://x"}}});
    assert_eq!(
        app.admin(Method::PUT, "/api/v2/channels.json")
            .json(&bad)
            .send()
            .await
            .unwrap()
            .status(),
        422
    );

    let org = app
        .post_json(
            "/api/v2/organizations.json",
            json!({"organization": {"name": "Hook Co", "acv_cents": 20_000_000}}),
        )
        .await;
    let org = org["organization"]["id"].as_i64().unwrap();
    app.post_json(
        "/api/v2/tickets.json",
        json!({"ticket": {"subject": "Checkout down", "comment": {"body": "all payments fail"}, "priority": "urgent", "organization_id": org}}),
    )
    .await;
    app.clock.set(t0 + 31 * 60);
    let fired = app.store.fire_due_sla(t0 + 31 * 60, 100).await.unwrap();
    assert_eq!(
        (fired.warnings, fired.breaches),
        (1, 1),
        "the 30-minute P0 first response warned and breached"
    );

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock = app.clock.clone();
    let workers = steward_jobs::spawn(
        app.store.clone(),
        Arc::new(move || clock.now()),
        steward_jobs::MailConfig::default(),
        stopped,
    );
    // First attempts: escalations accepted, critical alerts refused.
    let firsts: fn(&Calls) -> bool =
        |c| c.iter().filter(|x| x.0 == "/flaky").count() >= 2 && c.iter().any(|x| x.0 == "/hook");
    assert!(
        wait_for(&received, firsts).await,
        "no deliveries: {:?}",
        received.calls.lock().unwrap()
    );
    // Past the backoff, the refused messages are retried with the same keys.
    app.clock.set(t0 + 31 * 60 + 600);
    let retried: fn(&Calls) -> bool =
        |c| c.iter().filter(|x| x.0 == "/flaky" && x.3 == 200).count() >= 2;
    assert!(
        wait_for(&received, retried).await,
        "no retries: {:?}",
        received.calls.lock().unwrap()
    );
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }

    let calls = received.calls.lock().unwrap().clone();
    let critical: Vec<_> = calls.iter().filter(|c| c.0 == "/flaky").collect();
    let keys: std::collections::BTreeSet<_> = critical.iter().map(|c| c.1.clone()).collect();
    assert_eq!(
        keys.len(),
        2,
        "warning and breach, each with its own key: {keys:?}"
    );
    for k in &keys {
        let tries: Vec<u16> = critical.iter().filter(|c| &c.1 == k).map(|c| c.3).collect();
        assert_eq!(
            tries,
            vec![503, 200],
            "{k}: refused once, then delivered once"
        );
    }
    let msg = &critical.iter().find(|c| c.3 == 200).unwrap().2;
    assert_eq!(msg["channel"], "#critical-alerts");
    assert!(msg["text"].as_str().unwrap().contains("P0"), "{msg}");
    assert_eq!(msg["blocks"][0]["type"], "section");
    assert!(calls.iter().any(|c| {
        c.0 == "/hook"
            && c.2["text"]
                .as_str()
                .unwrap_or_default()
                .contains("escalated to level")
    }));
}
