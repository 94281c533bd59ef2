//! Page speed of the web app (issue 6): server time of the queue, the
//! ticket page, the account pages and every dashboard on a large database
//! (target p99 ≤ 100 ms each on 1,000,000 tickets).
//!
//! It opens an existing database (fill one first: `steward-bench
//! --fill-only` for 1,000,000 tickets over 12 accounts, or `health-bench
//! --keep` for 1,000,000 tickets over 10,000 accounts with health facts),
//! adds an admin and a browser session for it, starts the real server
//! in-process on 127.0.0.1:0, and requests each page `--requests` times one
//! after another (one client, so latency is server time plus loopback),
//! with random ticket and account ids. Every answer must be 200.
//!
//! ```sh
//! CARGO_TARGET_DIR=/root/.cache/steward-bench-target \
//!   cargo run --release -p steward-bench --bin page-bench -- --database-url /tmp/steward-bench.db
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use steward_domain::{Email, Role};
use steward_store::{Actor, OrgFilter, PageRequest, Sort, Store, TicketFilter, UserInput};

#[derive(Parser)]
struct Args {
    /// SQLite file path or `postgres://` URL of a filled database.
    #[arg(long, default_value = "/tmp/steward-bench.db")]
    database_url: String,
    /// Requests per page.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Serve with the clock stopped at this instant (RFC 3339), such as the
    /// `health-bench` data's 2026-11-24T12:00:00Z, so that "recently
    /// solved", the SLA badges and the dashboards' periods meet the data.
    #[arg(long)]
    at: Option<String>,
}

const ADMIN: &str = "page-bench@steward.bench";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// splitmix64, so two runs ask for the same ids.
struct Rng(u64);

impl Rng {
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        v[((z ^ (z >> 31)) % v.len() as u64) as usize]
    }
}

/// Up to `n` ids spread over the table, read through the list API.
async fn sample_ticket_ids(store: &Store, admin: &Actor, n: usize) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for descending in [false, true] {
        let page = store
            .list_tickets(
                admin,
                &TicketFilter::default(),
                PageRequest::Cursor {
                    size: 100,
                    after: None,
                    before: None,
                },
                Sort {
                    column: "id",
                    descending,
                },
            )
            .await?;
        ids.extend(page.items.iter().map(|t| t.id));
    }
    let (lo, hi) = (
        ids.iter()
            .copied()
            .min()
            .context("the database has no tickets")?,
        ids.iter().copied().max().unwrap_or_default(),
    );
    // Evenly spaced ids between the ends; deleted ones answer 404 and are
    // dropped in the warm-up.
    let step = ((hi - lo) / n.max(1) as i64).max(1);
    Ok((0..n as i64)
        .map(|i| lo + i * step)
        .filter(|id| *id <= hi)
        .collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let clock = match &args.at {
        Some(at) => steward_web::Clock::fixed(
            at.parse::<jiff::Timestamp>()
                .context("--at must be an RFC 3339 instant")?
                .as_second(),
        ),
        None => steward_web::Clock::system(),
    };
    let now = || clock.now();
    let store = Store::connect(&args.database_url)
        .await
        .context("could not open the database")?;
    store.migrate().await.context("could not migrate")?;
    let admin = match store.user_by_email(ADMIN).await? {
        Some(u) => u,
        None => {
            store
                .create_user(
                    UserInput {
                        name: Some("Page Bench".into()),
                        email: Some(Email::parse(ADMIN).map_err(|e| anyhow::anyhow!(e.0))?),
                        role: Some(Role::Admin),
                        ..Default::default()
                    },
                    now(),
                )
                .await?
        }
    };
    let actor = Actor {
        user: admin.clone(),
        org_shares_tickets: false,
    };
    let cookie = format!(
        "steward_session={}",
        store.open_session(admin.id, now()).await?
    );
    let mut ticket_ids = sample_ticket_ids(&store, &actor, 500).await?;
    let orgs = store
        .list_orgs(&OrgFilter::default(), PageRequest::first(100), Sort::ID)
        .await?;
    let org_ids: Vec<i64> = orgs.items.iter().map(|o| o.id).collect();
    anyhow::ensure!(!org_ids.is_empty(), "the database has no organizations");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut state = steward_web::AppState::new(store.clone());
    state.clock = clock.clone();
    tokio::spawn(steward_web::serve(listener, state, std::future::pending()));
    let client = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let get = |path: String| {
        client
            .get(format!("{base}{path}"))
            .header(reqwest::header::COOKIE, cookie.clone())
            .send()
    };

    // Drop sampled ids that are gone (deleted tickets).
    let mut live = Vec::new();
    for id in ticket_ids.drain(..) {
        if get(format!("/tickets/{id}")).await?.status().is_success() {
            live.push(id);
        }
    }
    let ticket_ids = live;
    // The five dashboards of §18 (their page paths).
    let dashboards: Vec<String> = [
        "customer_health",
        "implementation",
        "csm_kpis",
        "churn_risk",
        "sla",
    ]
    .iter()
    .map(|d| d.to_string())
    .collect();
    println!(
        "serving on {base}; {} sampled tickets, {} accounts, dashboards: {dashboards:?}",
        ticket_ids.len(),
        org_ids.len()
    );

    type PathFn<'a> = Box<dyn FnMut(&mut Rng) -> String + 'a>;
    let mut pages: Vec<(String, PathFn)> = vec![
        (
            "queue: all unsolved".into(),
            Box::new(|_| "/queue?view=all".into()),
        ),
        (
            "queue: unassigned".into(),
            Box::new(|_| "/queue?view=unassigned".into()),
        ),
        (
            "queue: by priority".into(),
            Box::new(|_| "/queue?view=all&sort=priority".into()),
        ),
        (
            "queue: oldest first".into(),
            Box::new(|_| "/queue?view=all&sort=created".into()),
        ),
        (
            "queue: newest ticket first".into(),
            Box::new(|_| "/queue?view=all&sort=id".into()),
        ),
        (
            "queue: breaching soon".into(),
            Box::new(|_| "/queue?view=breaching".into()),
        ),
        (
            "queue: recently solved".into(),
            Box::new(|_| "/queue?view=solved".into()),
        ),
        (
            "queue: recently solved by priority".into(),
            Box::new(|_| "/queue?view=solved&sort=priority".into()),
        ),
        (
            "queue: all unsolved, page 20".into(),
            Box::new(|_| "/queue?view=all&page=20".into()),
        ),
        (
            "ticket page".into(),
            Box::new(|r| format!("/tickets/{}", r.pick(&ticket_ids))),
        ),
        (
            "account page".into(),
            Box::new(|r| format!("/accounts/{}", r.pick(&org_ids))),
        ),
        ("account list".into(), Box::new(|_| "/accounts".into())),
        (
            "account list, page 50".into(),
            Box::new(|_| "/accounts?page=50".into()),
        ),
        ("search".into(), Box::new(|_| "/search?q=webhook".into())),
    ];
    for d in &dashboards {
        let path = format!("/dashboards/{d}");
        pages.push((format!("dashboard: {d}"), Box::new(move |_| path.clone())));
    }

    println!("| page | requests | errors | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut rng = Rng(42);
    for (label, mut path) in pages {
        // Two warm-up requests (not measured).
        for _ in 0..2 {
            let _ = get(path(&mut rng)).await?.bytes().await;
        }
        let mut times = Vec::with_capacity(args.requests);
        let mut errors = 0;
        let mut first_error = None;
        let mut slowest = (Duration::ZERO, String::new());
        for _ in 0..args.requests {
            let p = path(&mut rng);
            let started = Instant::now();
            let resp = get(p.clone()).await?;
            let status = resp.status();
            let _ = resp.bytes().await?;
            let took = started.elapsed();
            times.push(took);
            if took > slowest.0 {
                slowest = (took, p.clone());
            }
            if !status.is_success() {
                errors += 1;
                first_error.get_or_insert(format!("{p} answered {status}"));
            }
        }
        times.sort_unstable();
        let at =
            |q: f64| times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
        println!(
            "| {label} | {} | {errors} | {:.1} | {:.1} | {:.1} |",
            times.len(),
            ms(at(0.5)),
            ms(at(0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO))
        );
        if let Some(e) = first_error {
            println!("  first error: {e}");
        }
        if ms(slowest.0) > 100.0 {
            println!("  slowest: {} ({:.1} ms)", slowest.1, ms(slowest.0));
        }
    }
    Ok(())
}
