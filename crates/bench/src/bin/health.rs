//! Churn risk recomputation benchmark (issue 5): the risk scores of
//! `--accounts` accounts (10,000 by default) with `--tickets` tickets
//! (1,000,000), target ≤ 5 s on SQLite, and the incremental update after one
//! ticket changes, target ≤ 10 ms.
//!
//! It seeds a fresh database (not measured, but timed): accounts with
//! contract dates spread over the cases the factor table looks at (final 90
//! days, renewal past due, multi-year, one-year), one end user each, and
//! tickets over the last 180 days through `bulk_create_tickets_tx`, skewed
//! so a few accounts hold many (the busiest about 4–5 %). A quarter of the
//! accounts (the busiest among them) also have a finance contact
//! (`finance_procurement`) with three billing tickets over the last 60
//! days, so the finance-billing factor has something to find. A fraction of
//! the accounts also get measurements (DAU, training completion, NPS now
//! and a month ago, uptime), business reviews and sponsor calls, expansion
//! opportunities, escalations and CSM risk flags, written with set-based SQL
//! (none of it is what is measured). Bulk loading does not mark accounts
//! dirty, so `health_current` starts empty. Then, with the clock at
//! 2026-11-24 12:00 UTC, it measures:
//!
//! * (a) `recompute_health(None, now)` from an empty `health_current`: every
//!   score inserted and a history row written;
//! * (b) the same again, scores unchanged;
//! * (c) the incremental path: one ticket created through `create_ticket`
//!   (which marks its account dirty), then `recompute_dirty_health(now,
//!   500)` as the worker's tick runs it, `--increments` times on different
//!   accounts; and `recompute_health(Some(&[org]), now)` of single accounts,
//!   including the busiest.
//!
//! ```sh
//! cargo run --release -p steward-bench --bin health-bench -- [--accounts N] [--tickets N] [--database-url URL]
//! ```
//! Without `--database-url`, a fresh SQLite file under the temp directory is
//! used (and removed). A PostgreSQL URL names a server: the benchmark
//! (re)creates the database `steward_bench_health` on it.

#[path = "../fresh.rs"]
mod fresh;

use fresh::{Rng, email};

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use clap::Parser;
use jiff::{ToSpan, civil::Date};
use steward_domain::{Priority, Role, Status, Via, health::Level};
use steward_store::{
    Actor, BulkTicket, NewComment, OrgInput, RequesterRef, Store, TicketInput, UserInput,
};

#[derive(Parser)]
struct Args {
    /// PostgreSQL server URL; the database `steward_bench_health` is dropped
    /// and created on it. Default: a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Accounts (organizations), one end user each.
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    /// Tickets over the last 180 days.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: usize,
    /// Tickets per seeding transaction.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Single-ticket changes measured in phase (c).
    #[arg(long, default_value_t = 200)]
    increments: usize,
    /// Times phase (b) is repeated.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Accounts seeded at once.
    #[arg(long, default_value_t = 8)]
    seed_concurrency: usize,
    /// Keep the temporary SQLite file (to inspect query plans).
    #[arg(long)]
    keep: bool,
}

/// Tuesday 2026-11-24 12:00 UTC.
const NOW: &str = "2026-11-24T12:00:00Z";
const DAY: i64 = 86_400;
/// Flag factors of §9's table, set on a few hundred accounts.
const FLAGS: [&str; 6] = [
    "contract_disputed",
    "price_increase_over_25",
    "competitor_evaluation",
    "budget_cuts",
    "sponsor_departed",
    "stakeholder_departed",
];

fn ts(s: &str) -> anyhow::Result<i64> {
    Ok(s.parse::<jiff::Timestamp>()?.as_second())
}

/// Contract dates by account: a tenth in their final 90 days, a tenth past
/// their renewal date, a fifth on multi-year contracts, the rest on
/// one-year contracts somewhere in their term.
fn contract(i: usize, today: Date, rng: &mut Rng) -> anyhow::Result<(Date, Date, Date)> {
    let d = |n: i64| today.checked_add(n.days());
    Ok(match i % 10 {
        0 => {
            let end = d(rng.range(1, 89))?;
            (end.checked_sub(365.days())?, end, end)
        }
        1 => {
            let renewal = d(-rng.range(5, 60))?;
            (
                renewal.checked_sub(300.days())?,
                renewal.checked_add(65.days())?,
                renewal,
            )
        }
        2 | 3 => {
            let start = d(-rng.range(400, 1000))?;
            let end = start.checked_add((3 * 365).days())?;
            (start, end, end.checked_sub(90.days())?)
        }
        _ => {
            let start = d(-rng.range(0, 270))?;
            let end = start.checked_add(365.days())?;
            (start, end, end.checked_sub(60.days())?)
        }
    })
}

/// One account and its end user, and for one account in four a finance
/// contact; returns (organization, user, finance contact).
async fn seed_account(
    store: &Store,
    i: usize,
    now: i64,
) -> anyhow::Result<(i64, i64, Option<i64>)> {
    let mut rng = Rng(i as u64 + 1);
    let today = Date::strptime("%Y-%m-%d", &NOW[..10])?;
    let (start, end, renewal) = contract(i, today, &mut rng)?;
    let created = now - 400 * DAY;
    let org = store
        .create_org(
            OrgInput {
                name: Some(format!("Account {i:05}")),
                acv: Some(Some(steward_domain::Money(
                    rng.range(10_000, 500_000) * 100,
                ))),
                contract_start: Some(Some(start.to_string())),
                contract_end: Some(Some(end.to_string())),
                renewal_date: Some(Some(renewal.to_string())),
                executive_sponsor: Some(i.is_multiple_of(2).then(|| format!("Sponsor {i:05}"))),
                ..Default::default()
            },
            created,
        )
        .await?;
    let user = store
        .create_user(
            UserInput {
                name: Some(format!("User {i:05}")),
                email: Some(email(&format!("user{i}@account{i}.example"))?),
                role: Some(Role::EndUser),
                organization_id: Some(Some(org.id)),
                ..Default::default()
            },
            created,
        )
        .await?;
    let finance = if i.is_multiple_of(4) {
        let f = store
            .create_user(
                UserInput {
                    name: Some(format!("Finance {i:05}")),
                    email: Some(email(&format!("finance{i}@account{i}.example"))?),
                    role: Some(Role::EndUser),
                    organization_id: Some(Some(org.id)),
                    ..Default::default()
                },
                created,
            )
            .await?;
        Some(f.id)
    } else {
        None
    };
    Ok((org.id, user.id, finance))
}

/// Set-based extras for a fraction of the accounts: measurements,
/// communications, opportunities, escalations and flags. Only numbers are
/// formatted into the SQL.
async fn seed_extras(store: &Store, admin: i64, now: i64) -> anyhow::Result<()> {
    let month_start = ts(&format!("{}-01T00:00:00Z", &NOW[..7]))?;
    // (metric, field, value expression over `id`, instants): a third of the
    // accounts, several readings each.
    let series: [(&str, &str, &str, [i64; 3]); 5] = [
        (
            "user_adoption",
            "dau_pct",
            "(id * 37 % 90) + 2.5",
            [now - 20 * DAY, now - 10 * DAY, now - DAY],
        ),
        (
            "user_adoption",
            "training_completion_pct",
            "(id * 53 % 100) + 0.5",
            [now - 25 * DAY, now - 12 * DAY, now - 2 * DAY],
        ),
        (
            "user_satisfaction",
            "nps",
            "(id * 13 % 160) - 60",
            [now - 45 * DAY, now - 40 * DAY, now - 3 * DAY],
        ),
        (
            "system_performance",
            "uptime_pct",
            "99.0 + (id % 11) / 10.0",
            [month_start + DAY, month_start + 8 * DAY, now - 3600],
        ),
        (
            "user_adoption",
            "workflows_per_user_day",
            "(id % 7) * 1.5",
            [now - 28 * DAY, now - 14 * DAY, now - 5 * DAY],
        ),
    ];
    for (metric, field, value, ats) in series {
        for at in ats {
            store
                .execute_raw(&format!(
                    "INSERT INTO measurements (organization_id, metric, field, label, value, measured_at, source, created_at)
                     SELECT id, '{metric}', '{field}', NULL, {value}, {at}, 'api', {now} FROM organizations WHERE id % 3 = 0"
                ))
                .await?;
        }
    }
    // Business reviews (a quarter of the accounts, some long ago) and sponsor
    // calls (an eighth).
    store
        .execute_raw(&format!(
            "INSERT INTO communications (organization_id, kind, occurred_at, topic, summary, attendees, author_id, created_at, updated_at)
             SELECT id, 'meeting', {now} - (id % 300) * {DAY}, 'Quarterly business review', '', '[\"CSM\"]', {admin}, {now}, {now}
             FROM organizations WHERE id % 4 = 0"
        ))
        .await?;
    store
        .execute_raw(&format!(
            "INSERT INTO communications (organization_id, kind, occurred_at, topic, summary, attendees, author_id, created_at, updated_at)
             SELECT id, 'call', {now} - (id % 200) * {DAY}, 'Roadmap', '', '[\"Executive sponsor\"]', {admin}, {now}, {now}
             FROM organizations WHERE id % 8 = 1"
        ))
        .await?;
    // Opportunities: a fifth of the accounts, open or won.
    store
        .execute_raw(&format!(
            "INSERT INTO expansion_opportunities (organization_id, project_id, title, arr_cents, effort, probability_pct, status, created_at, updated_at)
             SELECT id, NULL, 'Second region', 5000000, 'medium', 40,
                    CASE WHEN id % 10 = 0 THEN 'won' ELSE 'open' END, {now} - 90 * {DAY}, {now}
             FROM organizations WHERE id % 5 = 0"
        ))
        .await?;
    // Escalations: one ticket in 300 of the last 30 days.
    store
        .execute_raw(&format!(
            "INSERT INTO escalations (ticket_id, level, from_level, trigger_kind, contact, report, created_at)
             SELECT id, 2, 1, 'bench', 'Support manager', '{{}}', created_at + 3600
             FROM tickets WHERE created_at > {} AND id % 300 = 0",
            now - 30 * DAY
        ))
        .await?;
    // CSM flags: one account in 40, a few expired or cleared.
    for (k, key) in FLAGS.iter().enumerate() {
        store
            .execute_raw(&format!(
                "INSERT INTO risk_flags (organization_id, factor_key, note, set_by, set_at, expires_at, cleared_at)
                 SELECT id, '{key}', 'Seeded by health-bench', {admin}, {now} - 20 * {DAY},
                        CASE WHEN id % 7 = 0 THEN {now} - {DAY} ELSE NULL END,
                        CASE WHEN id % 11 = 0 THEN {now} - 2 * {DAY} ELSE NULL END
                 FROM organizations WHERE id % 40 = {k}"
            ))
            .await?;
    }
    Ok(())
}

fn percentiles(mut times: Vec<f64>) -> String {
    times.sort_by(f64::total_cmp);
    let n = times.len().max(1);
    let pct = |p: f64| {
        times
            .get(((n as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    format!(
        "n {}, mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        times.iter().sum::<f64>() / n as f64,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    )
}

async fn levels(store: &Store, actor: &Actor) -> anyhow::Result<String> {
    let mut out = Vec::new();
    for l in [Level::Green, Level::Yellow, Level::Orange, Level::Red] {
        let n = store
            .health_portfolio(actor, Some(l), i64::MAX)
            .await?
            .len();
        out.push(format!("{} {n}", l.as_str().to_uppercase()));
    }
    Ok(out.join(", "))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (store, dir) = fresh::open(&args.database_url, "steward_bench_health").await?;
    let now = ts(NOW)?;
    let admin = store
        .create_user(
            UserInput {
                name: Some("Bench Admin".into()),
                email: Some(email("admin@vendor.example")?),
                role: Some(Role::Admin),
                ..Default::default()
            },
            now - 400 * DAY,
        )
        .await?;
    let actor = Actor {
        user: admin,
        org_shares_tickets: false,
    };

    // Seeding (not measured).
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut seeders = Vec::new();
    for _ in 0..args.seed_concurrency.max(1) {
        let (store, next, n) = (store.clone(), next.clone(), args.accounts);
        seeders.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                out.push((i, seed_account(&store, i, now).await?));
            }
            anyhow::Ok(out)
        }));
    }
    let mut accounts = Vec::new();
    for s in seeders {
        accounts.extend(s.await??);
    }
    accounts.sort_unstable();
    let finance: Vec<(i64, i64)> = accounts
        .iter()
        .filter_map(|(_, (org, _, f))| f.map(|f| (*org, f)))
        .collect();
    let accounts: Vec<(i64, i64)> = accounts
        .into_iter()
        .map(|(_, (org, user, _))| (org, user))
        .collect();
    store
        .execute_raw(
            "INSERT INTO contact_roles (user_id, role)
             SELECT id, 'finance_procurement' FROM users WHERE name LIKE 'Finance %'",
        )
        .await?;
    let accounts_secs = started.elapsed().as_secs_f64();

    // Tickets: account index ⌊N·u³⌋ puts about (1/N)^(1/3) of them on the
    // first account and leaves the tail with a handful each.
    let started = Instant::now();
    let mut rng = Rng(0x5eed);
    let mut per_account = vec![0usize; accounts.len()];
    let mut made = 0;
    while made < args.tickets {
        let n = args.batch.min(args.tickets - made);
        let batch: Vec<BulkTicket> = (0..n)
            .map(|k| {
                let a =
                    ((accounts.len() as f64 * rng.unit().powi(3)) as usize).min(accounts.len() - 1);
                per_account[a] += 1;
                let (org, user) = accounts[a];
                let solved = rng.range(0, 9) < 7;
                BulkTicket {
                    subject: format!("Question {} from account {a}", made + k),
                    description: "The export stops at the first empty row.".into(),
                    requester_id: user,
                    comment_author_id: user,
                    organization_id: Some(org),
                    group_id: None,
                    assignee_id: None,
                    priority: Priority::Normal,
                    status: if solved { Status::Solved } else { Status::Open },
                    ticket_type: None,
                    tags: vec!["bench".into()],
                    via: Via::Api,
                    created_at: now - rng.range(60, 180 * DAY),
                }
            })
            .collect();
        let mut tx = store.begin().await?;
        store
            .bulk_create_tickets_tx(&mut tx, actor.id(), &batch)
            .await?;
        store.commit(tx).await?;
        made += n;
    }
    // Three billing tickets per finance contact over the last 60 days.
    let finance_tickets: Vec<BulkTicket> = finance
        .iter()
        .flat_map(|&(org, user)| (0..3).map(move |k| (org, user, k)))
        .map(|(org, user, k)| BulkTicket {
            subject: format!("Invoice question {k}"),
            description: "The invoice does not match the order form.".into(),
            requester_id: user,
            comment_author_id: user,
            organization_id: Some(org),
            group_id: Some(steward_store::groups::BILLING_ADMIN),
            assignee_id: None,
            priority: Priority::Normal,
            status: Status::Open,
            ticket_type: None,
            tags: vec!["bench".into()],
            via: Via::Api,
            created_at: now - rng.range(60, 60 * DAY),
        })
        .collect();
    for chunk in finance_tickets.chunks(args.batch.max(1)) {
        let mut tx = store.begin().await?;
        store
            .bulk_create_tickets_tx(&mut tx, actor.id(), chunk)
            .await?;
        store.commit(tx).await?;
    }
    let tickets_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    seed_extras(&store, actor.id(), now).await?;
    let extras_secs = started.elapsed().as_secs_f64();
    let busiest = per_account
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .map(|(a, n)| (a, *n))
        .unwrap_or((0, 0));
    let mut sorted = per_account.clone();
    sorted.sort_unstable();
    println!(
        "seeded {} accounts in {accounts_secs:.1} s, {} tickets in {tickets_secs:.1} s ({:.0}/s), extras in {extras_secs:.1} s",
        accounts.len(),
        args.tickets + finance_tickets.len(),
        (args.tickets + finance_tickets.len()) as f64 / tickets_secs
    );
    println!(
        "  finance contacts: {} (the busiest account's included: {}), {} billing tickets from them",
        finance.len(),
        finance.iter().any(|(org, _)| *org == accounts[busiest.0].0),
        finance_tickets.len()
    );
    println!(
        "  tickets per account: busiest {} (account {}), p99 {}, median {}, accounts without tickets {}",
        busiest.1,
        busiest.0,
        sorted
            .get(sorted.len() * 99 / 100)
            .copied()
            .unwrap_or_default(),
        sorted.get(sorted.len() / 2).copied().unwrap_or_default(),
        sorted.iter().filter(|n| **n == 0).count()
    );

    // (0) facts alone: the grouped reads, without scoring or writing.
    let started = Instant::now();
    let facts = store.health_facts(None, now).await?;
    println!(
        "(0) health_facts(None): {} accounts in {:.3} s",
        facts.len(),
        started.elapsed().as_secs_f64()
    );

    // (a) first full run.
    let fsyncs = store.wal_fsyncs();
    let started = Instant::now();
    let done = store.recompute_health(None, now).await?;
    let secs = started.elapsed().as_secs_f64();
    let fsynced = |before: Option<u64>| match (before, store.wal_fsyncs()) {
        (Some(a), Some(b)) => format!("; {} WAL fsyncs", b - a),
        _ => String::new(),
    };
    println!(
        "(a) recompute_health(None), empty health_current: {} accounts in {secs:.3} s \
         ({} level changes, {} playbooks, {} alerts){}",
        done.accounts,
        done.level_changes,
        done.playbooks,
        done.alerts,
        fsynced(fsyncs)
    );
    println!("    levels: {}", levels(&store, &actor).await?);

    // (b) again, nothing changed.
    for round in 1..=args.rounds.max(1) {
        let fsyncs = store.wal_fsyncs();
        let started = Instant::now();
        let done = store.recompute_health(None, now + round as i64).await?;
        println!(
            "(b) round {round}: recompute_health(None), scores unchanged: {} accounts in {:.3} s ({} level changes){}",
            done.accounts,
            started.elapsed().as_secs_f64(),
            done.level_changes,
            fsynced(fsyncs)
        );
    }

    // (c) one ticket, then the worker's tick. Accounts spread over the
    // whole range (busy and quiet ones alike).
    let picks: Vec<usize> = (0..args.increments)
        .map(|k| (k * 7_919 + k * k) % accounts.len())
        .collect();
    let (mut create, mut tick, mut counted) = (Vec::new(), Vec::new(), 0);
    for (k, &a) in picks.iter().enumerate() {
        let (org, user) = accounts[a];
        let t = now + 60 + k as i64;
        let started = Instant::now();
        store
            .create_ticket(
                &actor,
                TicketInput {
                    subject: Some(format!("New question {k}")),
                    comment: Some(NewComment {
                        body: "The dashboard shows yesterday's numbers.".into(),
                        author_id: Some(user),
                        ..Default::default()
                    }),
                    requester: Some(RequesterRef::Id(user)),
                    organization_id: Some(Some(org)),
                    ..Default::default()
                },
                t,
            )
            .await?;
        create.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let done = store.recompute_dirty_health(t, 500).await?;
        tick.push(started.elapsed().as_secs_f64() * 1000.0);
        counted += done.accounts;
    }
    anyhow::ensure!(
        counted == picks.len(),
        "expected {} dirty accounts, recomputed {counted}",
        picks.len()
    );
    println!(
        "(c) create_ticket (not the target): {}",
        percentiles(create)
    );
    println!(
        "(c) recompute_dirty_health(now, 500) after one ticket: {}",
        percentiles(tick)
    );
    let empty_tick = {
        let started = Instant::now();
        store.recompute_dirty_health(now + 3600, 500).await?;
        started.elapsed().as_secs_f64() * 1000.0
    };
    println!("    tick with nothing dirty: {empty_tick:.2} ms");

    let mut single = Vec::new();
    for (k, &a) in picks.iter().enumerate() {
        let started = Instant::now();
        store
            .recompute_health(Some(&[accounts[a].0]), now + 7200 + k as i64)
            .await?;
        single.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "(c) recompute_health(Some(&[org])): {}",
        percentiles(single)
    );
    let mut heavy = Vec::new();
    for k in 0..10 {
        let started = Instant::now();
        store
            .recompute_health(Some(&[accounts[busiest.0].0]), now + 9000 + k)
            .await?;
        heavy.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "(c) recompute_health of the busiest account ({} tickets): {}",
        busiest.1,
        percentiles(heavy)
    );

    store.close().await;
    match dir {
        Some(d) if args.keep => println!("kept {}", d.join("b.db").display()),
        Some(d) => {
            let _ = std::fs::remove_dir_all(d);
        }
        None => {}
    }
    Ok(())
}
