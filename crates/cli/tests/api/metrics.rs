//! Baseline metrics (policies.md §14) over HTTP: ingestion, baselines,
//! CSV import, red alerts with their Slack message, support-ticket figures
//! computed from tickets, bad input and roles.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

fn close(v: &Value, want: f64) {
    let got = v
        .as_f64()
        .unwrap_or_else(|| panic!("{v} is not a number (want {want})"));
    assert!((got - want).abs() < 1e-3, "got {got}, want {want}");
}

/// The summary entry of one series.
async fn series_summary(app: &TestApp, org: i64, metric: &str, field: &str) -> Value {
    let s = app
        .get_json(&format!("/api/v2/organizations/{org}/metrics.json"))
        .await;
    s["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == field)
        .unwrap_or_else(|| panic!("{metric}.{field} missing from {s}"))
        .clone()
}

fn uptime(at: &str, value: f64) -> Value {
    json!({"metric": "system_performance", "field": "uptime_pct", "value": value, "measured_at": at})
}

#[tokio::test]
async fn batches_feed_the_week1_and_running_baselines() {
    let now = at("2026-03-20T12:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(now)).await;
    let org = app.org("Baseline Co", false).await;
    // Go-live on Monday 2 March: week 1 is 3–9 March, New York time
    // (EST until the 8th, EDT after), i.e. 03-03T05:00Z to 03-10T04:00Z.
    app.put_json(
        &format!("/api/v2/organizations/{org}/baseline_plan.json"),
        json!({"baseline_plan": {"go_live_on": "2026-03-02", "items": [
            {"metric": "system_performance", "field": "uptime_pct", "frequency": "twice_daily"}]}}),
    )
    .await;
    let body = json!({"measurements": [
        uptime("2026-03-02T15:00:00Z", 90.0),   // go-live day: not week 1
        uptime("2026-03-03", 99.9),              // midnight New York, day 1
        uptime("2026-03-06T14:00:00Z", 99.7),
        uptime("2026-03-10T03:59:59Z", 99.5),    // 23:59:59 on day 7
        uptime("2026-03-10T14:00:00Z", 99.0),    // day 8
        uptime("2026-03-13T12:00:00Z", 50.0),    // exactly 7 days before now: out
        uptime("2026-03-14T14:00:00Z", 99.95),
        uptime("2026-03-19T14:00:00Z", 99.85),
        uptime("2026-03-20T12:00:00Z", 99.99),   // now: in
        {"metric": "process_cycle_times", "field": "avg_minutes", "value": 42, "measured_at": "2026-03-19", "label": "Invoice approval"},
    ]});
    let added = app
        .post_json(
            &format!("/api/v2/organizations/{org}/measurements.json"),
            body,
        )
        .await;
    assert_eq!(added["measurements"].as_array().unwrap().len(), 10);
    // Red on 2 March (the first value) and again on the 10th after yellow;
    // 50 % on the 13th follows a red value and raises nothing.
    let alerts = added["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[1]["value"], 99.0);

    let u = series_summary(&app, org, "system_performance", "uptime_pct").await;
    close(&u["week1_baseline"], (99.9 + 99.7 + 99.5) / 3.0);
    close(&u["running_baseline"], (99.95 + 99.85 + 99.99) / 3.0);
    close(
        &u["previous_running_baseline"],
        (99.7 + 99.5 + 99.0 + 50.0) / 4.0,
    );
    close(&u["latest"]["value"], 99.99);
    assert_eq!(u["latest"]["measured_at"], "2026-03-20T12:00:00Z");
    assert_eq!(u["rag"], "green");
    assert_eq!(u["trend"], "improving");
    assert_eq!(u["thresholds"]["green"], ">= 99.9");
    assert_eq!(u["thresholds_source"], "default");
    let p = series_summary(&app, org, "process_cycle_times", "avg_minutes").await;
    assert_eq!(p["label"], "Invoice approval");
    close(&p["running_baseline"], 42.0);
    assert_eq!(
        p["rag"],
        Value::Null,
        "no default thresholds for cycle times"
    );

    // The series, filtered.
    let s = app
        .get_json(&format!(
            "/api/v2/organizations/{org}/measurements.json?metric=system_performance&field=uptime_pct&from=2026-03-03&to=2026-03-10T04:00:00Z"
        ))
        .await;
    let values: Vec<f64> = s["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, vec![99.9, 99.7, 99.5]);
}

#[tokio::test]
async fn csv_imports_all_or_nothing_and_names_the_bad_line() {
    let now = at("2026-03-20T12:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(now)).await;
    let org = app.org("Csv Co", false).await;
    let path = format!("/api/v2/organizations/{org}/measurements/import");
    let send = |csv: &'static str| {
        app.admin(Method::POST, &path)
            .header("Content-Type", "text/csv")
            .body(csv)
            .send()
    };
    let bad = "metric,field,value,measured_at,label\n\
               data_quality,completeness_pct,99.5,2026-03-18,\n\
               data_quality,accuracy_pct,98,2026-03-18T14:00:00Z,\n\
               data_quality,accuracy_pct,lots,2026-03-19,\n";
    let err = json_of(send(bad).await.unwrap(), 422).await;
    let text = err.to_string();
    assert!(text.contains("line 4") && text.contains("lots"), "{err}");
    let stored = app
        .get_json(&format!("/api/v2/organizations/{org}/measurements.json"))
        .await;
    assert_eq!(stored["count"], 0, "a bad line refuses the whole file");

    let good = "metric,field,value,measured_at,label\r\n\
                data_quality,completeness_pct,99.5,2026-03-18,\r\n\
                data_quality,accuracy_pct,98,2026-03-18T14:00:00Z,\r\n\
                \"process_cycle_times\",\"avg_minutes\",12.5,2026-03-19,\"Invoice, approval\"\r\n";
    let ok = json_of(send(good).await.unwrap(), 201).await;
    assert_eq!(ok["imported"], 3);
    let stored = app
        .get_json(&format!(
            "/api/v2/organizations/{org}/measurements.json?metric=process_cycle_times"
        ))
        .await;
    assert_eq!(stored["measurements"][0]["label"], "Invoice, approval");
    assert_eq!(stored["measurements"][0]["source"], "csv");
    assert_eq!(
        stored["measurements"][0]["measured_at"], "2026-03-19T04:00:00Z",
        "a date is midnight in New York"
    );

    let missing = json_of(send("metric,value\n").await.unwrap(), 422).await;
    assert!(missing.to_string().contains("line 1"), "{missing}");
}

#[tokio::test]
async fn turning_red_raises_one_alert_and_one_slack_message() {
    let now = at("2026-04-01T12:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(now)).await;
    let org = app.org("Red Alert Inc.", false).await;
    let (csm, csm_email, csm_token) = app.user_with_token(Role::Csm, None).await;
    // The plan tightens DAU: green from 90 %, yellow from 70 %.
    let plan = app
        .put_json(
            &format!("/api/v2/organizations/{org}/baseline_plan.json"),
            json!({"baseline_plan": {"go_live_on": "2026-03-20", "items": [
                {"metric": "user_adoption", "field": "dau_pct", "frequency": "daily", "owner_id": csm,
                 "thresholds": {"green": ">= 90", "yellow": ">= 70"}}]}}),
        )
        .await;
    assert_eq!(plan["baseline_plan"]["signed_off"], false);
    assert_eq!(plan["baseline_plan"]["time_zone"], "America/New_York");
    let signed = json_of(
        app.request_as(
            Method::POST,
            &format!("/api/v2/organizations/{org}/baseline_plan/sign_off.json"),
            &csm_email,
            &csm_token,
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert_eq!(signed["baseline_plan"]["signed_off_by"], csm);
    assert_eq!(
        signed["baseline_plan"]["signed_off_at"],
        "2026-04-01T12:00:00Z"
    );

    let mpath = format!("/api/v2/organizations/{org}/measurements.json");
    let post = |value: f64, day: &str| {
        app.post_json(
            &mpath,
            json!({"measurements": [{"metric": "user_adoption", "field": "dau_pct", "value": value, "measured_at": day}]}),
        )
    };
    // 85 % is green by default but yellow under the plan; 60 % is red.
    assert!(
        post(85.0, "2026-03-29").await["alerts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let red = post(60.0, "2026-03-30").await;
    let alerts = red["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    let measurement = red["measurements"][0]["id"].as_i64().unwrap();
    assert_eq!(alerts[0]["measurement_id"], measurement);
    // Still red: no new alert.
    assert!(
        post(55.0, "2026-03-31").await["alerts"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let listed = app
        .get_json(&format!("/api/v2/organizations/{org}/metric_alerts.json"))
        .await;
    assert_eq!(listed["count"], 1);
    let outbox = app.get_json("/api/v2/outbox.json?kind=slack").await;
    let ours: Vec<&Value> = outbox["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["idempotency_key"]
                .as_str()
                .unwrap()
                .starts_with("metric-red:")
        })
        .collect();
    assert_eq!(ours.len(), 1, "{outbox}");
    assert_eq!(
        ours[0]["idempotency_key"],
        format!("metric-red:{measurement}")
    );
    assert_eq!(
        ours[0]["payload"]["channel"],
        "#red-alert-inc-implementation"
    );
    let text = ours[0]["payload"]["text"].as_str().unwrap();
    assert!(text.contains("dau_pct") && text.contains("60"), "{text}");

    let dau = series_summary(&app, org, "user_adoption", "dau_pct").await;
    assert_eq!(dau["rag"], "red");
    assert_eq!(dau["thresholds_source"], "plan");

    // Saving the plan unchanged keeps the sign-off; changing it clears it.
    let same = app
        .put_json(
            &format!("/api/v2/organizations/{org}/baseline_plan.json"),
            json!({"baseline_plan": {"go_live_on": "2026-03-20", "items": [
                {"metric": "user_adoption", "field": "dau_pct", "frequency": "daily", "owner_id": csm,
                 "thresholds": {"green": ">= 90", "yellow": ">= 70"}}]}}),
        )
        .await;
    assert_eq!(same["baseline_plan"]["signed_off"], true);
    let moved = app
        .put_json(
            &format!("/api/v2/organizations/{org}/baseline_plan.json"),
            json!({"baseline_plan": {"go_live_on": "2026-03-27", "items": []}}),
        )
        .await;
    assert_eq!(moved["baseline_plan"]["signed_off"], false);
    assert_eq!(moved["baseline_plan"]["signed_off_by"], Value::Null);
}

#[tokio::test]
async fn support_ticket_metrics_come_from_the_accounts_tickets() {
    let now = at("2026-04-10T18:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(now)).await;
    let org = app.org("Ticket Co", false).await;
    let (customer, _, _) = app.user_with_token(Role::EndUser, Some(org)).await;
    let ticket = |subject: &str, priority: &str, created: i64| {
        app.clock.set(created);
        app.post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": subject, "comment": {"body": "help"}, "priority": priority,
                              "requester_id": customer}}),
        )
    };
    let app = &app;
    let reply = |id: i64, when: i64, status: Option<&str>| {
        app.clock.set(when);
        let mut t = json!({"comment": {"body": "On it", "public": true}});
        if let Some(s) = status {
            t["status"] = json!(s);
        }
        async move {
            app.put_json(&format!("/api/v2/tickets/{id}.json"), json!({"ticket": t}))
                .await
        }
    };
    let id = |v: Value| v["ticket"]["id"].as_i64().unwrap();
    let h = 3600;
    // P0 solved in 2 h with one reply: first contact.
    let a = id(ticket("Down", "urgent", now - 3 * h).await);
    reply(a, now - h, Some("solved")).await;
    // P0 solved in 1 h after two replies: not first contact.
    let b = id(ticket("Down again", "urgent", now - 5 * h).await);
    reply(b, now - 4 * h - 1800, None).await;
    reply(b, now - 4 * h, Some("solved")).await;
    // P1 solved in 6 h without a reply (the opening comment is the request).
    let c = id(ticket("Slow", "high", now - 10 * h).await);
    app.clock.set(now - 4 * h);
    app.put_json(
        &format!("/api/v2/tickets/{c}.json"),
        json!({"ticket": {"status": "solved"}}),
    )
    .await;
    // Open, and one from eight days ago that is out of the 7-day window.
    ticket("Question", "normal", now - 2 * h).await;
    ticket("Old", "low", now - 8 * 24 * h).await;
    app.clock.set(now);

    let f = |field: &'static str| series_summary(app, org, "support_tickets", field);
    let created = f("created_per_day").await;
    close(&created["latest"]["value"], 4.0 / 7.0);
    assert_eq!(created["computed"], true);
    let p0 = f("avg_resolution_hours_p0").await;
    close(&p0["latest"]["value"], 1.5);
    assert_eq!(p0["rag"], "green");
    let p1 = f("avg_resolution_hours_p1").await;
    close(&p1["latest"]["value"], 6.0);
    assert_eq!(p1["rag"], "yellow");
    let fcr = f("first_contact_resolution_pct").await;
    close(&fcr["latest"]["value"], 200.0 / 3.0);

    // Computed measures are not accepted as input.
    let resp = app
        .admin(
            Method::POST,
            &format!("/api/v2/organizations/{org}/measurements.json"),
        )
        .json(&json!({"measurements": [{"metric": "support_tickets", "field": "created_per_day", "value": 3, "measured_at": "2026-04-09"}]}))
        .send()
        .await
        .unwrap();
    json_of(resp, 422).await;
}

#[tokio::test]
async fn bad_input_is_refused_with_the_row_at_fault_and_roles_hold() {
    let now = at("2026-04-10T18:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(now)).await;
    let org = app.org("Strict Co", false).await;
    let path = format!("/api/v2/organizations/{org}/measurements.json");
    let ok_row = json!({"metric": "user_adoption", "field": "dau_pct", "value": 50, "measured_at": "2026-04-09"});
    let send = |body: Value| app.admin(Method::POST, &path).json(&body).send();
    let cases = [
        (
            json!({"metric": "vibes", "field": "dau_pct", "value": 1, "measured_at": "2026-04-09"}),
            "measurements[1].metric",
        ),
        (
            json!({"metric": "user_adoption", "field": "nope", "value": 1, "measured_at": "2026-04-09"}),
            "measurements[1].field",
        ),
        (
            json!({"metric": "user_adoption", "field": "dau_pct", "value": "NaN", "measured_at": "2026-04-09"}),
            "measurements[1].value",
        ),
        (
            json!({"metric": "user_adoption", "field": "dau_pct", "value": "lots", "measured_at": "2026-04-09"}),
            "measurements[1].value",
        ),
        (
            json!({"metric": "user_adoption", "field": "dau_pct", "value": 120, "measured_at": "2026-04-09"}),
            "measurements[1].value",
        ),
        (
            json!({"metric": "user_adoption", "field": "dau_pct", "value": 1, "measured_at": "2026-13-45"}),
            "measurements[1].measured_at",
        ),
        (
            json!({"metric": "user_adoption", "field": "dau_pct", "value": 1, "measured_at": "2036-01-01"}),
            "measurements[1].measured_at",
        ),
        (
            json!({"metric": "user_adoption", "field": "dau_pct", "value": 1}),
            "measurements[1].measured_at",
        ),
        (json!("a string"), "measurements[1]"),
    ];
    for (row, key) in cases {
        let err = json_of(
            send(json!({"measurements": [ok_row, row]})).await.unwrap(),
            422,
        )
        .await;
        assert!(err["details"].get(key).is_some(), "{key}: {err}");
    }
    let stored = app.get_json(&path).await;
    assert_eq!(stored["count"], 0, "no row of a refused batch is kept");

    let huge: Vec<Value> = (0..5_001).map(|_| ok_row.clone()).collect();
    json_of(send(json!({"measurements": huge})).await.unwrap(), 413).await;
    json_of(send(json!({"measurements": []})).await.unwrap(), 422).await;
    json_of(send(json!({"nothing": 1})).await.unwrap(), 400).await;
    json_of(
        app.admin(
            Method::POST,
            "/api/v2/organizations/999999/measurements.json",
        )
        .json(&json!({"measurements": [ok_row]}))
        .send()
        .await
        .unwrap(),
        404,
    )
    .await;
    json_of(
        app.admin(Method::GET, "/api/v2/organizations/999999/metrics.json")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    json_of(
        app.admin(Method::GET, &format!("{path}?metric=vibes"))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    json_of(
        app.admin(Method::GET, &format!("{path}?from=yesterday"))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;

    // Plans: unknown fields, wrong-way thresholds, unknown owners.
    let plan_path = format!("/api/v2/organizations/{org}/baseline_plan.json");
    for plan in [
        json!({"items": [{"metric": "user_adoption", "field": "nope", "frequency": "daily"}]}),
        json!({"items": [{"metric": "user_adoption", "field": "dau_pct", "frequency": "hourly"}]}),
        json!({"items": [{"metric": "user_adoption", "field": "dau_pct", "frequency": "daily",
                          "thresholds": {"green": "<= 10", "yellow": "<= 20"}}]}),
        json!({"items": [{"metric": "user_adoption", "field": "dau_pct", "frequency": "daily", "owner_id": 999999}]}),
        json!({"go_live_on": "someday"}),
        json!({"time_zone": "Mars/Olympus_Mons"}),
    ] {
        json_of(
            app.admin(Method::PUT, &plan_path)
                .json(&json!({"baseline_plan": plan}))
                .send()
                .await
                .unwrap(),
            422,
        )
        .await;
    }
    json_of(
        app.admin(
            Method::POST,
            &format!("/api/v2/organizations/{org}/baseline_plan/sign_off.json"),
        )
        .send()
        .await
        .unwrap(),
        422,
    )
    .await;

    // End users see nothing; viewers read but do not write.
    let (_, user, user_token) = app.user_with_token(Role::EndUser, Some(org)).await;
    let (_, viewer, viewer_token) = app.user_with_token(Role::Viewer, None).await;
    for p in [
        format!("/api/v2/organizations/{org}/metrics.json"),
        path.clone(),
        plan_path.clone(),
        format!("/api/v2/organizations/{org}/metric_alerts.json"),
    ] {
        json_of(
            app.request_as(Method::GET, &p, &user, &user_token)
                .send()
                .await
                .unwrap(),
            403,
        )
        .await;
        json_of(
            app.request_as(Method::GET, &p, &viewer, &viewer_token)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
    }
    for (email, token) in [(&user, &user_token), (&viewer, &viewer_token)] {
        json_of(
            app.request_as(Method::POST, &path, email, token)
                .json(&json!({"measurements": [ok_row]}))
                .send()
                .await
                .unwrap(),
            403,
        )
        .await;
    }
}
