//! Dashboards benchmark (policies.md §18): the time to compute each
//! dashboard's data on a database of 10,000 accounts and 1,000,000
//! tickets. Target: each well under 100 ms.
//!
//! It runs on the database `health-bench --keep` leaves behind (10,000
//! accounts with contract dates, measurements, opportunities, current
//! scores; 1,000,000 tickets over 180 days), migrates it, and adds what
//! the dashboards read and health-bench does not seed (not measured, but
//! timed): `--projects` active projects from the 30-day template owned by
//! one CSM, spread over the last 40 days, each with two risks and logged
//! hours; score history for every account on each of the last 90 days and
//! on the 1st of each of the last 12 months; 5,000 NPS answers; 200
//! interventions. Then, with the clock at 2026-11-24 12:00 UTC, it times
//! `--rounds` calls of each dashboard as an admin (the whole portfolio),
//! as an admin with a filter, and as the CSM, after one untimed warm-up;
//! and the SLA roll-up of the running month computed from the SLA report
//! (what a cold SLA dashboard pays once per 15 minutes).
//!
//! ```sh
//! health-bench --keep                       # prints "kept /tmp/.../b.db"
//! dashboards-bench --database-url /tmp/.../b.db [--projects 200] [--rounds 5]
//! ```

use std::time::Instant;

use clap::Parser;
use steward_domain::{Industry, Role, time::Month};
use steward_store::{
    Actor, Store, UserInput,
    dashboards::{DashboardName, Filters, Period, SlaFilters},
    projects::ProjectInput,
};

#[derive(Parser)]
struct Args {
    /// The database health-bench kept (a SQLite path or a PostgreSQL URL).
    #[arg(long)]
    database_url: String,
    /// Active projects to add.
    #[arg(long, default_value_t = 200)]
    projects: usize,
    /// Timed calls per dashboard and actor.
    #[arg(long, default_value_t = 15)]
    rounds: usize,
    /// Accounts in the database (health-bench's --accounts).
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
}

/// Tuesday 2026-11-24 12:00 UTC, as in health-bench.
const NOW: &str = "2026-11-24T12:00:00Z";
const DAY: i64 = 86_400;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

async fn seed(
    store: &Store,
    admin: &Actor,
    csm: i64,
    n: usize,
    accounts: usize,
    now: i64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    // health-bench creates its accounts first, so their ids are 1..=N; a
    // CSM's accounts are spread over the portfolio (ids 1, 51, 101, ...),
    // so they hold an ordinary share of the tickets.
    let step = (accounts / n.max(1)).max(1) as i64;
    let orgs: Vec<i64> = (0..n as i64).map(|i| 1 + i * step).collect();
    let today = jiff::civil::Date::strptime("%Y-%m-%d", &NOW[..10])?;
    for (i, org) in orgs.iter().enumerate() {
        let start = today.checked_sub(jiff::Span::new().days((i % 40) as i64))?;
        let p = store
            .create_project(
                admin,
                ProjectInput {
                    organization_id: Some(*org),
                    start_date: Some(start.to_string()),
                    owner_id: Some(Some(csm)),
                    spend_cents: Some(Some(1_000_000 + (i as i64 % 7) * 250_000)),
                    ..Default::default()
                },
                now - (i % 40) as i64 * DAY,
            )
            .await?;
        store
            .execute_raw(&format!(
                "INSERT INTO project_risks (project_id, kind, title, probability, impact, status, created_at, updated_at) VALUES
                 ({0}, '{1}', 'Risk A', 'high', '{2}', 'identified', {3}, {3}),
                 ({0}, 'timeline', 'Risk B', 'low', 'medium', 'monitoring', {3}, {3})",
                p.id,
                ["technical", "budget", "organizational", "product-fit"][i % 4],
                ["high", "medium", "low"][i % 3],
                now - DAY
            ))
            .await?;
        store
            .execute_raw(&format!(
                "INSERT INTO project_hours (project_id, phase, side, role, hours, logged_on, author_id, created_at) VALUES
                 ({0}, 1, 'vendor', 'csm', 12.5, '{1}', {2}, {3}), ({0}, 2, 'customer', 'project_lead', 20, '{1}', {2}, {3})",
                p.id,
                start,
                admin.id(),
                now - DAY
            ))
            .await?;
    }
    println!(
        "seeded {} projects in {:.1} s",
        orgs.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    // health-bench leaves industry and size empty: spread them, so the
    // filters select a fifth and a quarter of the accounts.
    store
        .execute_raw(
            "UPDATE organizations SET
                industry = CASE id % 5 WHEN 0 THEN 'fintech' WHEN 1 THEN 'healthcare' WHEN 2 THEN 'logistics'
                                       WHEN 3 THEN 'manufacturing' ELSE 'other' END,
                company_size = CASE id % 4 WHEN 0 THEN '<50' WHEN 1 THEN '50-200' WHEN 2 THEN '200-1k' ELSE '1k+' END",
        )
        .await?;
    let mut days: Vec<i64> = (0..90).map(|d| now - d * DAY).collect();
    let mut m = Month::of_instant(now);
    for _ in 0..12 {
        days.push(m.start() + 7200);
        m = Month::of_instant(m.start() - 1);
    }
    for (i, t) in days.iter().enumerate() {
        // Scores drift a little from day to day.
        store
            .execute_raw(&format!(
                "INSERT INTO health_scores (organization_id, risk, level, factors, computed_at)
                 SELECT organization_id, (risk + {i}) % 100,
                        CASE WHEN (risk + {i}) % 100 <= 20 THEN 'green' WHEN (risk + {i}) % 100 <= 40 THEN 'yellow'
                             WHEN (risk + {i}) % 100 <= 60 THEN 'orange' ELSE 'red' END,
                        '[]', {t} FROM health_current",
            ))
            .await?;
    }
    store
        .execute_raw(&format!(
            "INSERT INTO nps_campaigns (name, quarter, send_at, status, created_by, created_at)
             VALUES ('Bench Q4', '2026-Q4', {0}, 'sent', {1}, {0})",
            now - 30 * DAY,
            admin.id()
        ))
        .await?;
    store
        .execute_raw(&format!(
            "INSERT INTO nps_responses (campaign_id, organization_id, user_id, score, category, answered_at)
             SELECT (SELECT MAX(id) FROM nps_campaigns), u.organization_id, u.id, u.id % 11,
                    CASE WHEN u.id % 11 >= 9 THEN 'promoter' WHEN u.id % 11 >= 7 THEN 'passive' ELSE 'detractor' END,
                    {} - (u.id % 25) * 86400
             FROM users u WHERE u.role = 'end-user' AND u.organization_id IS NOT NULL ORDER BY u.id LIMIT 5000",
            now
        ))
        .await?;
    store
        .execute_raw(&format!(
            "INSERT INTO interventions (organization_id, primary_issue, owner_id, started_on, progress_pct, status, created_at, updated_at)
             SELECT organization_id, 'Rescue plan', {csm}, '2026-11-01', risk % 100, 'active', {now}, {now}
             FROM health_current ORDER BY risk DESC, organization_id LIMIT 200"
        ))
        .await?;
    println!(
        "seeded history ({} days x accounts), NPS and interventions in {:.1} s",
        days.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let store = Store::connect(&args.database_url).await?;
    let started = Instant::now();
    store.migrate().await?;
    println!("migrated in {:.1} s", started.elapsed().as_secs_f64());
    let now: i64 = NOW.parse::<jiff::Timestamp>()?.as_second();

    let admin = store
        .create_user(
            UserInput {
                name: Some("Dashboard Admin".into()),
                email: Some(steward_domain::Email::parse(&format!(
                    "dash-admin-{}@vendor.example",
                    std::process::id()
                ))?),
                role: Some(Role::Admin),
                ..Default::default()
            },
            now,
        )
        .await?;
    let csm = store
        .create_user(
            UserInput {
                name: Some("Dashboard CSM".into()),
                email: Some(steward_domain::Email::parse(&format!(
                    "dash-csm-{}@vendor.example",
                    std::process::id()
                ))?),
                role: Some(Role::Csm),
                ..Default::default()
            },
            now,
        )
        .await?;
    let admin = Actor {
        user: admin,
        org_shares_tickets: false,
    };
    let csm = Actor {
        user: csm,
        org_shares_tickets: false,
    };
    seed(&store, &admin, csm.id(), args.projects, args.accounts, now).await?;

    // The SLA roll-up of the running month, cold.
    let t = Instant::now();
    store.refresh_sla_month(Month::of_instant(now), now).await?;
    println!(
        "SLA roll-up of {} (cold, from the SLA report): {:.0} ms",
        Month::of_instant(now),
        ms(t)
    );

    let all = Filters::default();
    let fintech = Filters {
        period: Period::Last30,
        industry: Some(Industry::Fintech),
        ..Default::default()
    };
    let sla = SlaFilters::default();
    println!(
        "| dashboard | admin, all accounts (p50 / max ms) | admin, fintech, 30 days | CSM ({} accounts) |",
        args.projects
    );
    println!("|---|---|---|---|");
    for name in DashboardName::ALL {
        let mut cells = Vec::new();
        for (actor, f) in [(&admin, &all), (&admin, &fintech), (&csm, &all)] {
            // Warm-up (and, for the SLA dashboard, the roll-up of the
            // earlier months).
            let w = Instant::now();
            store.dashboard(actor, name, f, &sla, now).await?;
            let warm = ms(w);
            let mut times = Vec::new();
            for _ in 0..args.rounds.max(1) {
                let t = Instant::now();
                let d = store.dashboard(actor, name, f, &sla, now).await?;
                times.push(ms(t));
                std::hint::black_box(d);
            }
            times.sort_by(f64::total_cmp);
            cells.push(format!(
                "{:.1} / {:.1} (first {:.0})",
                times[times.len() / 2],
                times[times.len() - 1],
                warm
            ));
        }
        println!("| {} | {} |", name.as_str(), cells.join(" | "));
    }
    Ok(())
}
