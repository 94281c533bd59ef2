//! `steward-bench`: fills a database to N tickets (reusing it on reruns),
//! starts the real server in-process on 127.0.0.1:0 and measures the API
//! with concurrent HTTP clients: ticket creation, the first page of the
//! ticket list, showing a ticket by random id, and search. Traffic stays on
//! loopback; every phase is bounded in requests and in time.
//!
//! ```sh
//! CARGO_TARGET_DIR=/root/.cache/steward-bench-target \
//!   cargo run --release -p steward-bench -- --database-url /tmp/bench.db
//! ```
//!
//! Figures go to `BENCHMARKS.md` with the command that produced them.

mod data;
mod fill;
mod load;

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use rand::Rng;
use serde_json::json;
use steward_store::Store;

use crate::{
    fill::FillMode,
    load::{Outcome, Req, stats},
};

#[derive(Parser)]
#[command(
    name = "steward-bench",
    about = "Load generator for Steward's API (loopback only)"
)]
struct Args {
    /// SQLite file path or `postgres://` URL.
    #[arg(long, default_value = "/tmp/steward-bench.db")]
    database_url: String,
    /// Tickets the database must hold before the load starts.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Requests per operation (overrides the two settings below).
    #[arg(long)]
    requests: Option<usize>,
    /// Ticket creations to send.
    #[arg(long, default_value_t = 20_000)]
    create_requests: usize,
    /// Requests for each read operation (list, show, search).
    #[arg(long, default_value_t = 5_000)]
    read_requests: usize,
    /// Longest time, in seconds, any one operation may run; it then stops
    /// sending and reports what it has.
    #[arg(long, default_value_t = 120)]
    duration_limit: u64,
    /// How the fill writes tickets.
    #[arg(long, value_enum, default_value_t = FillMode::Auto)]
    fill: FillMode,
    /// Tickets per fill transaction.
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// Fill the database and stop.
    #[arg(long)]
    fill_only: bool,
    /// Operations to run, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "create,list,show,search"
    )]
    ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Op {
    Create,
    List,
    Show,
    Search,
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints one operation's figures and returns its markdown table row.
fn report(o: &mut Outcome) -> Vec<String> {
    let mut rows = Vec::new();
    let kinds: Vec<&'static str> = o.latencies.keys().copied().collect();
    let secs = o.elapsed.as_secs_f64().max(1e-9);
    // Per-kind rows only where an operation mixes several kinds (search).
    let per_kind = kinds.len() > 2;
    for kind in kinds
        .iter()
        .filter(|k| **k == "all")
        .chain(kinds.iter().filter(|k| per_kind && **k != "all"))
    {
        let Some(v) = o.latencies.get_mut(kind) else {
            continue;
        };
        let s = stats(v);
        let label = if *kind == "all" {
            o.name.clone()
        } else {
            format!("{} · {kind}", o.name)
        };
        // Per-kind throughput is that kind's share of the whole run.
        let rate = s.requests as f64 / secs;
        let errors = if *kind == "all" {
            o.errors.to_string()
        } else {
            String::new()
        };
        println!(
            "{label:<28} {:>7} req {:>5} err {:>9.0} req/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
            s.requests,
            errors,
            rate,
            ms(s.p50),
            ms(s.p99),
            ms(s.max)
        );
        rows.push(format!(
            "| {label} | {} | {errors} | {rate:.0} | {:.1} | {:.1} | {:.1} |",
            s.requests,
            ms(s.p50),
            ms(s.p99),
            ms(s.max)
        ));
    }
    if o.stopped_by_time {
        println!("  (stopped by --duration-limit after {:.1} s)", secs);
    }
    for e in &o.error_samples {
        println!("  error: {e}");
    }
    rows
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let limit = Duration::from_secs(args.duration_limit.max(1));
    let create_requests = args.requests.unwrap_or(args.create_requests);
    let read_requests = args.requests.unwrap_or(args.read_requests);

    let store = Store::connect(&args.database_url)
        .await
        .context("could not open the database")?;
    store.migrate().await.context("could not migrate")?;
    let started = now();
    let people = fill::people(&store, started).await?;
    let filled = fill::fill(
        &store,
        &people,
        args.tickets,
        args.batch,
        args.fill,
        started,
    )
    .await?;
    if filled.added > 0 {
        println!(
            "fill: added {} tickets in {:.0} s ({:.0} tickets/s)",
            filled.added,
            filled.seconds,
            filled.added as f64 / filled.seconds.max(1e-9)
        );
    }
    if args.fill_only {
        store.close().await;
        return Ok(());
    }

    let token = steward_store::auth::generate_token();
    store
        .add_api_token(people.admin.id(), &token, "steward-bench", now())
        .await?;
    let (min_id, max_id) = fill::id_range(&store, &people.admin).await?;
    let count = fill::ticket_count(&store, &people.admin).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(steward_web::serve(
        listener,
        steward_web::AppState::new(store.clone()),
        async move {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency)
        .default_headers({
            let mut h = reqwest::header::HeaderMap::new();
            h.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse()?,
            );
            h
        })
        .build()?;
    println!(
        "serving on {base}; {count} tickets (ids {min_id}..={max_id}); concurrency {}, \
         {create_requests} creates, {read_requests} of each read, limit {} s per operation",
        args.concurrency,
        limit.as_secs()
    );

    // Search queries: free text of high, middle and low selectivity, field
    // terms on the status/priority index, tags, and a creation date.
    let date = jiff::Timestamp::from_second(now() - 30 * data::DAY)?
        .strftime("%Y-%m-%d")
        .to_string();
    let mut searches: Vec<(&'static str, String)> = vec![
        ("text, common word", "reconciliation".into()),
        ("text, two words", "webhook timeout".into()),
        ("text, mid-frequency word", data::rare_word(30)),
        ("text, rare word", data::rare_word(3_000)),
        (
            "status + priority",
            "type:ticket status:open priority:urgent".into(),
        ),
        ("created>date", format!("created>{date}")),
    ];
    for t in data::SEARCH_TAGS {
        searches.push(("tag", format!("tags:{t}")));
    }

    // Warm-up (not measured): touch each endpoint, and show how many
    // tickets each search matches.
    let get = |path: &str| client.get(format!("{base}{path}"));
    let first = get("/api/v2/tickets.json").send().await?;
    anyhow::ensure!(
        first.status().is_success(),
        "GET /api/v2/tickets.json answered {}",
        first.status()
    );
    println!("list first page: {} bytes", first.bytes().await?.len());
    for (kind, q) in &searches {
        let r = get("/api/v2/search.json")
            .query(&[("query", q.as_str())])
            .send()
            .await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "search {q:?} answered {status}: {body}"
        );
        println!("search {kind:<26} {q:<42} matches {}", body["count"]);
    }

    let mut rows = Vec::new();
    let users: Vec<i64> = people.customers.iter().map(|c| c.0).collect();
    for op in &args.ops {
        let base = base.clone();
        let (concurrency, c) = (args.concurrency, &client);
        let mut o = match op {
            Op::Create => {
                let users = users.clone();
                load::run(
                    "create ticket",
                    c,
                    create_requests,
                    concurrency,
                    limit,
                    move |c, i, rng| {
                        let requester = users[rng.gen_range(0..users.len())];
                        let word = data::rare_word(rng.gen_range(0..data::RARE_WORDS));
                        let priority = ["low", "normal", "high", "urgent"][i % 4];
                        let body = json!({"ticket": {
                            "subject": format!("Bench ticket {i}: export {word} fails"),
                            "comment": {"body": format!(
                                "Load test ticket {i}. The export of {word} fails with a timeout after the upgrade."
                            )},
                            "requester_id": requester,
                            "priority": priority,
                            "type": "incident",
                            "tags": ["bench", "platform"],
                        }});
                        Req {
                            kind: "create",
                            request: c.post(format!("{base}/api/v2/tickets.json")).json(&body),
                        }
                    },
                )
                .await
            }
            Op::List => {
                load::run(
                    "list first page",
                    c,
                    read_requests,
                    concurrency,
                    limit,
                    move |c, _, _| Req {
                        kind: "list",
                        request: c.get(format!("{base}/api/v2/tickets.json")),
                    },
                )
                .await
            }
            Op::Show => {
                load::run(
                    "show by id",
                    c,
                    read_requests,
                    concurrency,
                    limit,
                    move |c, _, rng| {
                        let id = rng.gen_range(min_id..=max_id);
                        Req {
                            kind: "show",
                            request: c.get(format!("{base}/api/v2/tickets/{id}.json")),
                        }
                    },
                )
                .await
            }
            Op::Search => {
                let searches = searches.clone();
                load::run(
                    "search",
                    c,
                    read_requests,
                    concurrency,
                    limit,
                    move |c, i, _| {
                        let (kind, q) = &searches[i % searches.len()];
                        Req {
                            kind,
                            request: c
                                .get(format!("{base}/api/v2/search.json"))
                                .query(&[("query", q.as_str())]),
                        }
                    },
                )
                .await
            }
        };
        rows.extend(report(&mut o));
    }

    println!("\n| operation | requests | errors | req/s | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!("{r}");
    }

    let _ = stop.send(());
    server.await??;
    store.close().await;
    Ok(())
}
