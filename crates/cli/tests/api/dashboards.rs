//! Dashboards (policies.md §18) over HTTP: the numbers of each dashboard
//! over a small seeded portfolio, filters, CSV and SVG exports, roles.

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_web::Clock;

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

pub const NOW: &str = "2026-11-24T15:00:00Z";

pub fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

async fn org(app: &TestApp, body: Value) -> i64 {
    app.post_json(
        "/api/v2/organizations.json",
        json!({ "organization": body }),
    )
    .await["organization"]["id"]
        .as_i64()
        .unwrap()
}

async fn dashboard(app: &TestApp, path: &str) -> Value {
    app.get_json(&format!("/api/v2/dashboards/{path}")).await["dashboard"].clone()
}

/// A tile's rows as JSON values.
fn rows<'a>(d: &'a Value, tile: &str) -> &'a Vec<Value> {
    d["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == tile)
        .unwrap_or_else(|| panic!("no tile {tile} in {d}"))["table"]["rows"]
        .as_array()
        .unwrap()
}

/// The row whose first cell is `label`.
fn row<'a>(d: &'a Value, tile: &str, label: &str) -> &'a Vec<Value> {
    rows(d, tile)
        .iter()
        .find(|r| r[0] == label)
        .unwrap_or_else(|| panic!("no row {label} in {tile}: {d}"))
        .as_array()
        .unwrap()
}

fn kpi(d: &Value, name: &str) -> Value {
    row(d, "summary", name)[1].clone()
}

pub struct Seeded {
    pub acme: i64,
    pub csm_email: String,
    pub csm_token: String,
    pub project: i64,
}

/// Three accounts (enterprise fintech at RED, mid-market healthcare at
/// ORANGE, starter logistics at GREEN), NPS answers in two quarters, a
/// CSM's project for Acme with a red risk, a P0 ticket whose first
/// response breached, an intervention, and score history.
pub async fn seed(app: &TestApp) -> Seeded {
    let now = at(NOW);
    let acme = org(
        app,
        json!({"name": "Acme, Inc.", "industry": "fintech", "company_size": "1k+",
               "acv_cents": 15_000_000, "renewal_date": "2027-01-15",
               "expansion_potential_cents": 8_000_000, "account_status": "active"}),
    )
    .await;
    let beta = org(
        app,
        json!({"name": "Beta Health", "industry": "healthcare", "company_size": "50-200",
               "acv_cents": 5_000_000, "renewal_date": "2027-03-10",
               "expansion_potential_cents": 1_000_000, "account_status": "active"}),
    )
    .await;
    let gamma = org(
        app,
        json!({"name": "Gamma Logistics", "industry": "logistics", "company_size": "<50",
               "acv_cents": 1_000_000, "account_status": "churned"}),
    )
    .await;

    // Scores: written directly (the risk model is tested elsewhere).
    let factors = r#"[{"key":"renewal_past_due","label":"Renewal past due","points":25,"evidence":"x"},{"key":"sponsor_departed","label":"Executive sponsor departed","points":30,"evidence":"y"},{"key":"multi_year","label":"Signed multi-year contract","points":-15,"evidence":"z"}]"#;
    let orange = r#"[{"key":"renewal_past_due","label":"Renewal past due","points":25,"evidence":"x"},{"key":"low_csat","label":"Support CSAT below 3","points":15,"evidence":"y"}]"#;
    for (o, risk, level, f) in [
        (acme, 75, "red", factors),
        (beta, 45, "orange", orange),
        (gamma, 10, "green", "[]"),
    ] {
        app.store
            .execute_raw(&format!(
                "INSERT INTO health_current (organization_id, risk, health, level, raw, factors, computed_at, level_since)
                 VALUES ({o}, {risk}, {}, '{level}', {risk}, '{f}', {now}, {now})",
                100 - risk
            ))
            .await
            .unwrap();
        // History: today, and on the 1st of November (Acme was YELLOW then).
        let nov1 = at("2026-11-01T02:00:00Z");
        let (old_risk, old_level) = if o == acme {
            (30, "yellow")
        } else {
            (risk, level)
        };
        app.store
            .execute_raw(&format!(
                "INSERT INTO health_scores (organization_id, risk, level, factors, computed_at) VALUES
                 ({o}, {risk}, '{level}', '[]', {}), ({o}, {old_risk}, '{old_level}', '[]', {nov1})",
                now - 3600
            ))
            .await
            .unwrap();
    }

    // NPS: 2026-Q4 answers 5 days ago (Acme: a promoter and a passive;
    // Beta: a detractor), a 2026-Q3 promoter (Gamma) 60 days ago.
    let mut users = Vec::new();
    for o in [acme, acme, beta, gamma] {
        users.push(app.user_with_token(Role::EndUser, Some(o)).await.0);
    }
    app.store
        .execute_raw(&format!(
            "INSERT INTO nps_campaigns (name, quarter, send_at, status, created_by, created_at) VALUES
             ('Q3', '2026-Q3', {0}, 'sent', {1}, {0}), ('Q4', '2026-Q4', {0}, 'sent', {1}, {0})",
            now - 90 * 86_400,
            users[0]
        ))
        .await
        .unwrap();
    for (i, (o, score, cat, quarter, ago)) in [
        (acme, 10, "promoter", "2026-Q4", 5),
        (acme, 8, "passive", "2026-Q4", 5),
        (beta, 2, "detractor", "2026-Q4", 5),
        (gamma, 9, "promoter", "2026-Q3", 60),
    ]
    .into_iter()
    .enumerate()
    {
        app.store
            .execute_raw(&format!(
                "INSERT INTO nps_responses (campaign_id, organization_id, user_id, score, category, answered_at)
                 VALUES ((SELECT id FROM nps_campaigns WHERE quarter = '{quarter}'), {o}, {}, {score}, '{cat}', {})",
                users[i],
                now - ago * 86_400
            ))
            .await
            .unwrap();
    }

    // A CSM's project for Acme, started 2026-11-02 (day 17 today: phase 4),
    // with a high × high technical risk and an open opportunity.
    let (csm_id, csm_email, csm_token) = app.user_with_token(Role::Csm, None).await;
    app.clock.set(at("2026-11-02T14:00:00Z"));
    let project = app
        .post_json(
            "/api/v2/projects.json",
            json!({"project": {"organization_id": acme, "start_date": "2026-11-02", "owner_id": csm_id,
                               "spend": 2_100_000}}),
        )
        .await["project"]["id"]
        .as_i64()
        .unwrap();
    app.clock.set(now - 86_400);
    app.post_json(
        &format!("/api/v2/projects/{project}/risks.json"),
        json!({"risk": {"type": "technical", "title": "SSO, \"legacy\" IdP", "probability": "high", "impact": "high"}}),
    )
    .await;
    app.post_json(
        &format!("/api/v2/projects/{project}/opportunities.json"),
        json!({"opportunity": {"title": "EU rollout", "arr": 4_000_000, "effort": "medium", "probability": 50}}),
    )
    .await;
    // UAT at 97 % (an older 80 % first), data accuracy 99.2 %.
    app.post_json(
        &format!("/api/v2/organizations/{acme}/measurements.json"),
        json!({"measurements": [
            {"metric": "implementation_health", "field": "uat_pass_pct", "value": 80, "measured_at": "2026-11-20T14:00:00Z"},
            {"metric": "implementation_health", "field": "uat_pass_pct", "value": 97, "measured_at": "2026-11-23T14:00:00Z"},
            {"metric": "data_quality", "field": "accuracy_pct", "value": 99.2, "measured_at": "2026-11-23T14:00:00Z"},
        ]}),
    )
    .await;
    app.post_json(
        &format!("/api/v2/organizations/{acme}/interventions.json"),
        json!({"intervention": {"primary_issue": "Sponsor left", "started_on": "2026-11-20", "progress": 40}}),
    )
    .await;

    // A P0 ticket for Acme 3 hours ago: its 30-minute first response has
    // breached (Enterprise: 5 % of the $12,500 monthly fee).
    app.clock.set(now - 3 * 3600);
    let requester = json!({"name": "Casey Customer", "email": "casey@acme.example"});
    app.post_json(
        "/api/v2/tickets.json",
        json!({"ticket": {"subject": "Production down", "comment": {"body": "help"},
                          "requester": requester, "organization_id": acme,
                          "priority": "urgent", "group_id": 1}}),
    )
    .await;
    // A P3 question from Gamma two days ago (its targets are not due yet):
    // a closed day, counted through the daily roll-up.
    app.clock.set(now - 2 * 86_400);
    let requester = json!({"name": "Gus", "email": "gus@gamma.example"});
    app.post_json(
        "/api/v2/tickets.json",
        json!({"ticket": {"subject": "Question", "comment": {"body": "hi"},
                          "requester": requester, "organization_id": gamma, "priority": "low"}}),
    )
    .await;
    app.clock.set(now);
    Seeded {
        acme,
        csm_email,
        csm_token,
        project,
    }
}

#[tokio::test]
async fn dashboards_compute_filter_export_and_draw() {
    let app = spawn_app_with_clock(Clock::fixed(at(NOW))).await;
    let s = seed(&app).await;

    // The list names every dashboard and its tiles.
    let list = app.get_json("/api/v2/dashboards.json").await;
    let names: Vec<&str> = list["dashboards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "customer_health",
            "implementation",
            "csm_kpis",
            "churn_risk",
            "sla"
        ]
    );
    assert_eq!(list["dashboards"][3]["tiles"].as_array().unwrap().len(), 7);

    // Customer health.
    let d = dashboard(&app, "customer_health").await;
    assert_eq!(d["filters"]["period"], "90");
    assert_eq!(
        row(&d, "health_distribution", "20-29")[1],
        1,
        "Acme, health 25"
    );
    assert_eq!(row(&d, "health_distribution", "50-59")[1], 1);
    assert_eq!(row(&d, "health_distribution", "90-100")[1], 1);
    let q4 = row(&d, "nps_trend", "2026-Q4");
    assert_eq!(
        (q4[1].clone(), q4[2].clone(), q4[3].clone()),
        (json!(0), json!(50), json!(3))
    );
    assert_eq!(row(&d, "nps_trend", "2026-Q3")[1], 100);
    assert_eq!(
        row(&d, "implementation_by_phase", "4 Testing & validation")[1],
        1
    );
    let at_risk = rows(&d, "at_risk_accounts");
    assert_eq!(at_risk.len(), 2);
    assert_eq!(at_risk[0][0], "Acme, Inc.");
    assert_eq!(at_risk[0][1], 75);
    assert_eq!(at_risk[0][2], "RED");
    assert_eq!(at_risk[0][3], 150_000);
    assert_eq!(at_risk[0][5], "Executive sponsor departed");
    let opp = &rows(&d, "expansion_opportunities")[0];
    assert_eq!(
        (opp[2].clone(), opp[4].clone()),
        (json!(40_000), json!(20_000))
    );
    assert_eq!(
        row(&d, "renewals_timeline", "2027-01")[5],
        150_000,
        "RED ARR"
    );
    assert_eq!(
        row(&d, "renewals_timeline", "2027-03")[4],
        50_000,
        "ORANGE ARR"
    );

    // Filters change the numbers: fintech only, NPS of Q4 is 50.
    let d = dashboard(&app, "customer_health?industry=fintech").await;
    assert_eq!(row(&d, "nps_trend", "2026-Q4")[1], 50);
    assert_eq!(rows(&d, "at_risk_accounts").len(), 1);
    let d = dashboard(&app, "customer_health?status=churned&size=%3C50").await;
    assert_eq!(row(&d, "health_distribution", "90-100")[1], 1);
    assert_eq!(row(&d, "health_distribution", "20-29")[1], 0);

    // Implementation progress agrees with the project's own overview.
    let p = app
        .get_json(&format!("/api/v2/projects/{}.json", s.project))
        .await["project"]
        .clone();
    let d = dashboard(&app, "implementation").await;
    assert_eq!(p["phase"]["number"], 4, "{p}");
    assert_eq!(
        row(&d, "timeline_health", p["health"].as_str().unwrap())[1],
        1
    );
    assert_eq!(
        row(&d, "blockers_by_type", "technical")[1],
        1,
        "one red risk"
    );
    let green = p["readiness"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["green"] == true)
        .count();
    let ready = &rows(&d, "readiness")[0];
    assert_eq!(ready[3], green as i64);
    assert_eq!(
        ready[4],
        p["readiness"]["items"].as_array().unwrap().len() as i64
    );
    assert_eq!(ready[2], "17 of 30");
    assert!(green >= 1, "UAT is green: {p}");
    let quality = &rows(&d, "quality")[0];
    assert_eq!(
        (quality[2].clone(), quality[3].clone()),
        (json!(97.0), json!(99.2))
    );
    assert_eq!(rows(&d, "hours_by_phase").len(), 6);

    // CSM KPIs: the period selects the answers and tickets counted.
    let d = dashboard(&app, "csm_kpis?period=30").await;
    assert_eq!(kpi(&d, "NPS responses"), 3);
    assert_eq!(kpi(&d, "NPS"), 0);
    assert_eq!(kpi(&d, "Active customers"), 2);
    assert_eq!(kpi(&d, "Churn rate"), 33.3);
    assert_eq!(kpi(&d, "Tickets created"), 2);
    assert_eq!(
        row(&d, "tickets", "2026-11-16")[1],
        1,
        "Gamma's, from the roll-up"
    );
    assert_eq!(row(&d, "tickets", "2026-11-23")[1], 1, "Acme's, today");
    let churned = dashboard(&app, "csm_kpis?period=30&status=churned").await;
    assert_eq!(kpi(&churned, "Tickets created"), 1);
    assert_eq!(kpi(&d, "Expansion pipeline"), 40_000);
    assert_eq!(kpi(&d, "Cost per onboarding"), 21_000);
    let d = dashboard(&app, "csm_kpis?period=90").await;
    assert_eq!(kpi(&d, "NPS responses"), 4);
    assert_eq!(kpi(&d, "NPS"), 25);
    assert_eq!(row(&d, "health_distribution", "ORANGE")[1], 1);

    // Churn risk monitor, all seven tiles.
    let d = dashboard(&app, "churn_risk").await;
    let red = row(&d, "risk_levels", "RED");
    assert_eq!(
        (red[1].clone(), red[3].clone(), red[4].clone()),
        (json!(1), json!(150_000), json!(71.4))
    );
    let today = rows(&d, "average_risk").last().unwrap();
    assert_eq!(
        (today[0].clone(), today[1].clone(), today[2].clone()),
        (json!("2026-11-24"), json!(43.3), json!(3))
    );
    let drivers = rows(&d, "risk_drivers");
    assert_eq!(drivers[0][0], "renewal_past_due");
    assert_eq!(drivers[0][2], 2);
    let heat = &rows(&d, "heat_map")[0];
    assert_eq!(heat[0], "Acme, Inc.");
    assert_eq!(heat[2], 50, "Acme's NPS");
    assert_eq!(heat[4], 52, "days to 2027-01-15");
    assert_eq!(heat[5], 40_000);
    assert_eq!(rows(&d, "interventions")[0][5], 40);
    let nov = row(&d, "arr_by_level", "2026-11");
    assert_eq!(
        (nov[1].clone(), nov[2].clone(), nov[4].clone()),
        (json!(10_000), json!(150_000), json!(0))
    );
    let scatter = rows(&d, "risk_vs_expansion");
    assert_eq!(scatter.len(), 2);
    assert_eq!(
        (scatter[0][1].clone(), scatter[0][2].clone()),
        (json!(75), json!(80_000))
    );

    // SLA: the breached first response, its credit.
    let d = dashboard(&app, "sla?months=3").await;
    assert_eq!(rows(&d, "achievement").len(), 3);
    let nov = row(&d, "achievement", "2026-11");
    assert_eq!(
        (nov[1].clone(), nov[5].clone()),
        (json!(0.0), json!(1)),
        "{d}"
    );
    assert_eq!(row(&d, "breaches", "2026-11")[1], 1);
    assert_eq!(row(&d, "credits", "2026-11")[1], 625);
    let d = dashboard(&app, "sla?tier=starter").await;
    assert_eq!(row(&d, "credits", "2026-11")[4], 0);
    assert_eq!(row(&d, "achievement", "2026-11")[1], Value::Null);

    // CSV: the tile's table, quoted where needed.
    let resp = app
        .admin(
            Method::GET,
            "/api/v2/dashboards/customer_health/at_risk_accounts.csv",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = resp.text().await.unwrap();
    assert!(
        csv.starts_with("account,risk,level,arr_usd,renewal_date,top_driver\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\"Acme, Inc.\",75,RED,150000,2027-01-15,Executive sponsor departed\r\n"),
        "{csv}"
    );

    // SVG: the chart with its series.
    let resp = app
        .admin(Method::GET, "/api/v2/dashboards/churn_risk/risk_levels.svg")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let svg = resp.text().await.unwrap();
    assert!(svg.starts_with("<svg class=\"chart chart-bar\" role=\"img\" aria-label=\"Accounts and ARR by risk level\""), "{svg}");
    assert!(svg.contains("<title>Accounts and ARR by risk level</title>"));
    assert!(
        svg.contains("ARR (%): GREEN = 4.8, YELLOW = 0, ORANGE = 23.8, RED = 71.4"),
        "{svg}"
    );
    assert!(svg.contains("<rect"));
    for (path, class) in [
        ("customer_health/nps_trend.svg", "chart-line"),
        ("churn_risk/heat_map.svg", "chart-heat-map"),
        ("churn_risk/risk_vs_expansion.svg", "chart-scatter"),
        ("csm_kpis/summary.svg", "chart-kpi"),
        ("sla/credits.svg", "chart-stacked-bar"),
    ] {
        let svg = app
            .admin(Method::GET, &format!("/api/v2/dashboards/{path}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(svg.contains(class), "{path}: {svg}");
    }
    // No data: a clear message, not an error.
    let svg = app
        .admin(
            Method::GET,
            "/api/v2/dashboards/implementation/quality.svg?industry=other",
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        svg.contains("No data yet") && svg.contains("role=\"img\""),
        "{svg}"
    );
    let tile = app.get_json("/api/v2/dashboards/sla/credits.json").await;
    assert_eq!(tile["tile"]["key"], "credits");

    // Bad filters and unknown names.
    for (path, status) in [
        ("customer_health?period=60", 400),
        ("customer_health?industry=banking", 400),
        ("sla?months=13", 400),
        ("sla?tier=gold", 400),
        ("nope", 404),
        ("sla/nope.csv", 404),
        ("sla/credits.png", 404),
    ] {
        let resp = app
            .admin(Method::GET, &format!("/api/v2/dashboards/{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{path}");
    }

    // Roles: an agent is refused; a CSM sees only their accounts.
    let (_, agent, agent_token) = app.user_with_token(Role::Agent, None).await;
    for path in ["", "/churn_risk", "/sla/credits.csv"] {
        let resp = app
            .request_as(
                Method::GET,
                &format!("/api/v2/dashboards{path}"),
                &agent,
                &agent_token,
            )
            .send()
            .await
            .unwrap();
        json_of(resp, 403).await;
    }
    let as_csm = |path: &str| {
        app.request_as(
            Method::GET,
            &format!("/api/v2/dashboards/{path}"),
            &s.csm_email,
            &s.csm_token,
        )
    };
    let d = json_of(as_csm("churn_risk").send().await.unwrap(), 200).await["dashboard"].clone();
    assert_eq!(row(&d, "risk_levels", "RED")[1], 1);
    assert_eq!(row(&d, "risk_levels", "RED")[4], 100.0);
    assert_eq!(row(&d, "risk_levels", "ORANGE")[1], 0);
    assert_eq!(rows(&d, "heat_map").len(), 1);
    let d =
        json_of(as_csm("csm_kpis?period=90").send().await.unwrap(), 200).await["dashboard"].clone();
    assert_eq!(kpi(&d, "NPS responses"), 2);
    assert_eq!(kpi(&d, "Active customers"), 1);
    assert_eq!(kpi(&d, "Tickets created"), 1);
    let _ = s.acme;
}

/// The worker's daily warm-up rolls the closed days up before anyone
/// opens a dashboard, once per UTC day: the roll-up it wrote is what the
/// dashboard then reads (a ticket added afterwards to that settled day, as
/// an import would, is not counted), and a second call the same day does
/// nothing.
#[tokio::test]
async fn the_daily_warm_up_rolls_up_closed_days_once_a_day() {
    const DAY: i64 = 86_400;
    let now = at("2026-11-24T12:00:00Z");
    let app = spawn_app_with_clock(Clock::fixed(now)).await;
    let org = app.org("Warm Co", false).await;
    let ticket = |subject: &str| {
        json!({"ticket": {"subject": subject, "organization_id": org,
            "requester": {"name": "Wes Warm", "email": "wes@warm.example"}, "comment": {"body": "Hi"}}})
    };
    app.clock.set(now - 3 * DAY);
    app.post_json("/api/v2/tickets.json", ticket("Before the warm-up"))
        .await;
    app.clock.set(now);

    assert!(app.store.warm_dashboards(now).await.unwrap());
    assert!(
        !app.store.warm_dashboards(now + 3600).await.unwrap(),
        "once a day"
    );

    app.clock.set(now - 3 * DAY);
    app.post_json("/api/v2/tickets.json", ticket("After the warm-up"))
        .await;
    app.clock.set(now);
    let d = dashboard(&app, "csm_kpis?period=30").await;
    assert_eq!(kpi(&d, "Tickets created"), 1, "the warm-up's roll-up: {d}");

    assert!(
        app.store.warm_dashboards(now + DAY).await.unwrap(),
        "the next day warms again"
    );
    // The SLA months the worker keeps fresh: all six after the warm-up of
    // the next day are fresh; the running month is recomputed two minutes
    // before its 15 minutes run out, which a request would not yet do.
    let later = now + DAY + 60;
    assert_eq!(
        app.store
            .refresh_sla_months_ahead(later, 120)
            .await
            .unwrap(),
        0
    );
    let near_ttl = now + DAY + steward_store::dashboards::SLA_CURRENT_TTL - 100;
    let running = steward_domain::time::Month::of_instant(near_ttl);
    assert!(
        !app.store
            .refresh_sla_month(running, near_ttl)
            .await
            .unwrap()
    );
    assert_eq!(
        app.store
            .refresh_sla_months_ahead(near_ttl, 120)
            .await
            .unwrap(),
        1
    );
}
