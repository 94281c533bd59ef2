//! SLA scheduler benchmarks (issue 3), run by hand:
//!
//! * **tick cost**: one `fire_due_sla` tick with 100 clocks due, among 1,000
//!   and among 1,000,000 running clocks — the scheduler reads due rows
//!   through the `next_due` index, so both should cost about the same;
//! * **breach latency**: the real workers (`steward-jobs`) with a 1-minute
//!   first-response target on 200 tickets; latency is when the breach event
//!   became visible minus the breach instant.
//!
//! ```sh
//! cargo run --release -p steward-bench --bin sla-bench -- [--database-url URL]
//! ```
//! Without `--database-url`, fresh SQLite files under the temp directory are
//! used (and removed); a PostgreSQL URL must name an empty database.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use clap::Parser;
use steward_domain::{
    Email, Priority, Role,
    sla::{Clock, Metric, Policies, Span, TargetRule, Unit},
};
use steward_store::{Actor, NewComment, Store, TicketInput, UserInput};

#[derive(Parser)]
struct Args {
    /// Empty PostgreSQL database to use instead of temporary SQLite files.
    #[arg(long)]
    database_url: Option<String>,
    /// Ticks measured per size.
    #[arg(long, default_value_t = 20)]
    ticks: usize,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn open(
    url: &Option<String>,
    tag: &str,
) -> anyhow::Result<(Store, Option<std::path::PathBuf>)> {
    match url {
        Some(u) => {
            let s = Store::connect(u).await?;
            s.migrate().await?;
            Ok((s, None))
        }
        None => {
            let dir = std::env::temp_dir()
                .join(format!("steward-sla-bench-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let s = Store::connect(dir.join("b.db").to_str().context("path")?).await?;
            s.migrate().await?;
            Ok((s, Some(dir)))
        }
    }
}

/// A running first-response clock on 24x7 started `ago` seconds ago.
fn clock_json(started: i64) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&Clock {
        metric: Metric::FirstReplyTime,
        instance: 1,
        target_secs: 1800,
        calendar: "24x7".into(),
        policy: "bench".into(),
        span: Span::new(30, Unit::Minutes, "24x7"),
        started_at: started,
        runs: vec![],
        running_since: Some(started),
        fulfilled_at: None,
        warned: false,
        breached: false,
        doubled: false,
    })?)
}

/// `open` running clocks, of which 100 are due; returns the median tick.
async fn tick_cost(args: &Args, open_clocks: i64) -> anyhow::Result<f64> {
    let (store, dir) = open(&args.database_url, &open_clocks.to_string()).await?;
    let t = now();
    let user = store
        .create_user(
            UserInput {
                name: Some("Bench".into()),
                email: Some(Email::parse("bench@example.com").map_err(|e| anyhow::anyhow!(e.0))?),
                ..Default::default()
            },
            t,
        )
        .await?;
    store
        .execute_raw(&format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {open_clocks})
             INSERT INTO tickets (subject, description, requester_id, submitter_id, priority, status, via, created_at, updated_at)
             SELECT 'ticket', 'body', {u}, {u}, 'normal', 'open', 'api', {t}, {t} FROM c",
            u = user.id
        ))
        .await?;
    let far = clock_json(t)?.replace('\'', "''");
    store
        .execute_raw(&format!(
            "INSERT INTO ticket_metrics (ticket_id, metric, instance, clock, next_due)
             SELECT id, 'first_reply_time', 1, '{far}', {} FROM tickets",
            t + 1350
        ))
        .await?;
    let due = clock_json(t - 3600)?.replace('\'', "''");
    let mut times = Vec::new();
    for _ in 0..args.ticks {
        // Re-arm 100 clocks as overdue (warning and breach both due).
        store
            .execute_raw(&format!(
                "UPDATE ticket_metrics SET clock = '{due}', next_due = {} WHERE ticket_id <= 100",
                t - 1
            ))
            .await?;
        let started = Instant::now();
        let fired = store.fire_due_sla(now(), 500).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            fired.breaches == 100,
            "expected 100 breaches, got {}",
            fired.breaches
        );
    }
    times.sort_by(f64::total_cmp);
    store.close().await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(times[times.len() / 2])
}

async fn breach_latency(args: &Args) -> anyhow::Result<Vec<f64>> {
    let (store, dir) = open(&args.database_url, "latency").await?;
    let t = now();
    let admin = store
        .create_user(
            UserInput {
                name: Some("Admin".into()),
                email: Some(Email::parse("admin@example.com").map_err(|e| anyhow::anyhow!(e.0))?),
                role: Some(Role::Admin),
                ..Default::default()
            },
            t,
        )
        .await?;
    // Every ticket without a tier gets a 1-minute first-response target.
    let mut policies: Policies = (*store.sla_policies().await?).clone();
    for p in &mut policies.0 {
        if p.title.starts_with("Technical Support") {
            p.targets = Priority::ALL
                .iter()
                .map(|pr| TargetRule {
                    priority: *pr,
                    metric: Metric::FirstReplyTime,
                    within: Span::new(1, Unit::Minutes, "24x7"),
                    outside_hours: None,
                    hours_calendar: None,
                })
                .collect();
        }
    }
    store.set_sla_policies(&policies, t).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = steward_jobs::spawn(
        store.clone(),
        Arc::new(now),
        steward_jobs::MailConfig::default(),
        stopped,
    );
    let actor = Actor {
        user: admin,
        org_shares_tickets: false,
    };
    let n = 200;
    for i in 0..n {
        let input = TicketInput {
            subject: Some(format!("latency {i}")),
            comment: Some(NewComment {
                body: "x".into(),
                ..Default::default()
            }),
            group_id: Some(Some(1)),
            ..Default::default()
        };
        store.create_ticket(&actor, input, now()).await?;
    }
    let mut seen: std::collections::BTreeMap<i64, f64> = Default::default();
    let deadline = Instant::now() + std::time::Duration::from_secs(150);
    while seen.len() < n && Instant::now() < deadline {
        let at = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
        for e in store.metric_events(None, 0, None, 100_000).await? {
            if e.event_type == "breach" {
                seen.entry(e.ticket_id).or_insert(at - e.time as f64);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    store.close().await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    let mut lat: Vec<f64> = seen.into_values().collect();
    lat.sort_by(f64::total_cmp);
    anyhow::ensure!(lat.len() == n, "only {} of {n} breaches seen", lat.len());
    Ok(lat)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.database_url.is_some() {
        println!("note: a PostgreSQL database is reused by each phase; pass an empty one per run");
    }
    for n in [1_000, 1_000_000] {
        let ms = tick_cost(&args, n).await?;
        println!("scheduler tick, 100 due among {n:>9} running clocks: median {ms:.2} ms");
        if args.database_url.is_some() {
            break;
        }
    }
    let lat = breach_latency(&args).await?;
    let pct = |p: f64| {
        lat[((lat.len() as f64 * p).ceil() as usize)
            .saturating_sub(1)
            .min(lat.len() - 1)]
    };
    println!(
        "breach latency over {} tickets (event visible − breach instant; instants are whole seconds): p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        lat.len(),
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1]
    );
    Ok(())
}
