//! Weekly status report benchmark (issue 4): the reports of `--projects`
//! active projects (1,000 by default), target ≤ 2 s in total on SQLite.
//!
//! It seeds a fresh database (not measured, but timed): one account per
//! project with an executive sponsor contact and ~20 tickets (some solved),
//! and a project from the 30-day template started on a staggered date, so
//! the projects are spread over every phase, with 8–15 completed tasks
//! (completion times spread from the start to the report week), one blocked
//! task, 3–5 risks (one resolved), 1–2 decisions, 10–20 hours entries, an
//! opportunity and ~20 measurements over the last two weeks. Then, with the
//! clock at Friday 2026-11-20 18:00 UTC, it measures:
//!
//! * (a) `compute_status_report` + rendering HTML and Markdown of every
//!   project, one after another;
//! * (b) the same with `--concurrency` tasks;
//! * (c) `generate_status_report` (computed and stored, one transaction
//!   each) of the previous week (2026-11-13), so (d) still has work;
//! * (d) `make_friday_drafts` end to end: a draft and a review task for
//!   every project.
//!
//! ```sh
//! cargo run --release -p steward-bench --bin report-bench -- [--projects N] [--database-url URL]
//! ```
//! Without `--database-url`, a fresh SQLite file under the temp directory is
//! used (and removed). A PostgreSQL URL names a server: the benchmark
//! (re)creates the database `steward_bench_reports` on it.

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
use steward_domain::{
    Priority, Role, Status, Via,
    hub::ContactRole,
    metrics::When,
    project::{DecisionImpact, DecisionLevel, Likelihood, RiskKind, RiskStatus},
    status_report::{self, Format, Notes},
    task::TaskStatus,
};
use steward_store::{
    Actor, BulkTicket, OrgInput, Store, UserInput,
    metrics::RawMeasurement,
    project_parts::{DecisionInput, HoursInput, OpportunityInput, RiskInput},
    projects::{ProjectInput, ProjectTaskInput},
};

#[derive(Parser)]
struct Args {
    /// PostgreSQL server URL; the database `steward_bench_reports` is
    /// dropped and created on it. Default: a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Active projects (one account each).
    #[arg(long, default_value_t = 1_000)]
    projects: usize,
    /// Tasks computing reports at once in phase (b).
    #[arg(long, default_value_t = 2)]
    concurrency: usize,
    /// Times phases (a) and (b) are repeated.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Projects seeded at once (commits share the WAL fsync on SQLite).
    #[arg(long, default_value_t = 16)]
    seed_concurrency: usize,
}

/// Friday 2026-11-20 18:00 UTC (13:00 in the business calendar's New York).
const NOW: &str = "2026-11-20T18:00:00Z";
const WEEK: &str = "2026-11-20";
const PREVIOUS_WEEK: &str = "2026-11-13";
/// Projects start between 45 days before the previous week's Friday and
/// that Friday, so every one is reportable for both weeks.
const STAGGER_DAYS: i64 = 45;
const DAY: i64 = 86_400;

fn ts(s: &str) -> anyhow::Result<i64> {
    Ok(s.parse::<jiff::Timestamp>()?.as_second())
}

fn date(s: &str) -> anyhow::Result<Date> {
    Ok(s.parse::<Date>()?)
}

/// Everything one project needs; `i` picks its start date and sizes.
async fn seed_project(
    store: &Store,
    actor: &Actor,
    csms: &[i64],
    i: usize,
) -> anyhow::Result<(i64, Counts)> {
    let mut rng = Rng(i as u64 + 1);
    let now = ts(NOW)?;
    let start = date(PREVIOUS_WEEK)?.checked_sub((i as i64 % STAGGER_DAYS).days())?;
    let start_ts = ts(&format!("{start}T13:00:00Z"))?;
    let at = |t: i64| t.clamp(start_ts, now - 3600);
    let mut c = Counts::default();

    let org = store
        .create_org(
            OrgInput {
                name: Some(format!("Account {i:04}")),
                acv: Some(Some(steward_domain::Money(
                    rng.range(20_000, 400_000) * 100,
                ))),
                ..Default::default()
            },
            start_ts - 30 * DAY,
        )
        .await?;
    let sponsor = store
        .create_user(
            UserInput {
                name: Some(format!("Sponsor {i:04}")),
                email: Some(email(&format!("sponsor{i}@account{i}.example"))?),
                role: Some(Role::EndUser),
                organization_id: Some(Some(org.id)),
                ..Default::default()
            },
            start_ts - 30 * DAY,
        )
        .await?;
    store
        .set_contact_roles(actor, sponsor.id, &[ContactRole::ExecutiveSponsor])
        .await?;
    let owner = csms[i % csms.len()];
    let engineer = csms[(i + 1) % csms.len()];
    let budget = rng.range(40_000, 120_000) * 100;
    let p = store
        .create_project(
            actor,
            ProjectInput {
                organization_id: Some(org.id),
                name: Some(format!("Account {i:04} rollout")),
                start_date: Some(start.to_string()),
                owner_id: Some(Some(owner)),
                assignments: Some([("engineering".to_string(), engineer)].into()),
                budget_cents: Some(Some(budget)),
                spend_cents: Some(Some(budget * rng.range(10, 90) / 100)),
                technical_blockers: i
                    .is_multiple_of(7)
                    .then(|| "Legacy export lacks timestamps".to_string()),
                ..Default::default()
            },
            start_ts,
        )
        .await?;
    c.writes += 4;

    // Completed tasks in plan order, completion times spread evenly from the
    // start to now; then the next task is blocked.
    let mut tasks = store.project_tasks(actor, p.id).await?;
    tasks.sort_by_key(|t| (t.task.due_at, t.task.id));
    let done = rng.range(8, 15) as usize;
    for (j, t) in tasks.iter().take(done).enumerate() {
        let when = at(start_ts + (now - start_ts) * (j as i64 + 1) / (done as i64 + 1));
        store
            .update_project_task(
                actor,
                p.id,
                t.task.id,
                ProjectTaskInput {
                    status: Some(TaskStatus::Completed),
                    ..Default::default()
                },
                when,
            )
            .await?;
    }
    if let Some(t) = tasks.get(done) {
        store
            .update_project_task(
                actor,
                p.id,
                t.task.id,
                ProjectTaskInput {
                    status: Some(TaskStatus::Blocked),
                    ..Default::default()
                },
                at(now - rng.range(1, 10) * DAY),
            )
            .await?;
    }
    c.writes += done + 1;
    c.completed += done;

    let levels = [Likelihood::Low, Likelihood::Medium, Likelihood::High];
    let kinds = [
        RiskKind::Technical,
        RiskKind::Budget,
        RiskKind::Timeline,
        RiskKind::Organizational,
        RiskKind::ProductFit,
    ];
    let n_risks = rng.range(3, 5);
    for r in 0..n_risks {
        let risk = store
            .create_risk(
                actor,
                p.id,
                RiskInput {
                    kind: Some(kinds[rng.range(0, 4) as usize]),
                    title: Some(format!("Risk {r} of account {i}")),
                    description: Some("Seeded by report-bench".into()),
                    probability: Some(levels[rng.range(0, 2) as usize]),
                    impact: Some(levels[rng.range(0, 2) as usize]),
                    status: Some(if r == 1 {
                        RiskStatus::Escalated
                    } else {
                        RiskStatus::Identified
                    }),
                    mitigation: Some("Weekly check with the customer".into()),
                    owner_id: Some(Some(if r % 2 == 0 { owner } else { engineer })),
                },
                at(start_ts + rng.range(0, 20) * DAY),
            )
            .await?;
        if r == 0 {
            store
                .update_risk(
                    actor,
                    p.id,
                    risk.id,
                    RiskInput {
                        status: Some(RiskStatus::Resolved),
                        ..Default::default()
                    },
                    at(risk.created_at + rng.range(1, 10) * DAY),
                )
                .await?;
            c.writes += 1;
        }
    }
    c.writes += n_risks as usize;
    c.risks += n_risks as usize;

    let n_decisions = rng.range(1, 2);
    for d in 0..n_decisions {
        let when = at(start_ts + rng.range(1, 20) * DAY);
        store
            .create_decision(
                actor,
                p.id,
                DecisionInput {
                    level: Some(if d == 0 {
                        DecisionLevel::L1
                    } else {
                        DecisionLevel::L2
                    }),
                    title: Some(format!("Decision {d}")),
                    decision: Some("Load data on the weekend".into()),
                    rationale: Some("Source freeze on weekdays".into()),
                    decided_by: Some("CSM and customer project lead".into()),
                    decided_on: Some(jiff::Timestamp::from_second(when)?.to_string()[..10].into()),
                    impact: DecisionImpact {
                        timeline_days: d,
                        ..Default::default()
                    },
                },
                when,
            )
            .await?;
    }
    c.writes += n_decisions as usize;
    c.decisions += n_decisions as usize;

    let roles = ["csm", "engineering", "project_lead", "technical_lead"];
    let n_hours = rng.range(10, 20);
    for _ in 0..n_hours {
        let when = at(start_ts + rng.range(0, (now - start_ts) / DAY) * DAY);
        store
            .log_hours(
                actor,
                p.id,
                HoursInput {
                    role: Some(roles[rng.range(0, 3) as usize].into()),
                    hours: Some((rng.float(1.0, 12.0) * 2.0).round() / 2.0),
                    logged_on: Some(jiff::Timestamp::from_second(when)?.to_string()[..10].into()),
                    note: Some("Workshop and follow-up".into()),
                    ..Default::default()
                },
                when,
            )
            .await?;
    }
    c.writes += n_hours as usize;
    c.hours += n_hours as usize;

    store
        .create_opportunity(
            actor,
            p.id,
            OpportunityInput {
                title: Some("Second region".into()),
                arr_cents: Some(rng.range(10_000, 90_000) * 100),
                effort: Some(Likelihood::Medium),
                probability_pct: Some(rng.range(10, 70)),
                status: None,
            },
            at(start_ts + DAY),
        )
        .await?;

    // ~20 measurements over the last two weeks, five of each field.
    let fields = [
        ("system_performance", "uptime_pct", 99.0, 100.0),
        ("user_adoption", "training_completion_pct", 10.0, 95.0),
        ("implementation_health", "uat_pass_pct", 60.0, 100.0),
        ("data_quality", "validation_pass_rate_pct", 90.0, 100.0),
    ];
    let mut rows = Vec::new();
    for (metric, field, lo, hi) in fields {
        for k in 0..5 {
            rows.push(RawMeasurement {
                metric: metric.into(),
                field: field.into(),
                value: (rng.float(lo, hi) * 100.0).round() / 100.0,
                measured_at: When::At(now - 14 * DAY + k * 3 * DAY + rng.range(0, DAY - 1)),
                label: None,
            });
        }
    }
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| matches!(r.measured_at, When::At(t) if t < now))
        .collect();
    c.measurements += rows.len();
    store.add_measurements(actor, org.id, rows, now).await?;

    // ~20 tickets over the last three weeks, about half solved.
    let tickets: Vec<BulkTicket> = (0..rng.range(16, 24))
        .map(|k| BulkTicket {
            subject: format!("Question {k} from account {i}"),
            description: "How do we map the import fields?".into(),
            requester_id: sponsor.id,
            comment_author_id: sponsor.id,
            organization_id: Some(org.id),
            group_id: None,
            assignee_id: None,
            priority: Priority::Normal,
            status: if k % 2 == 0 {
                Status::Solved
            } else {
                Status::Open
            },
            ticket_type: None,
            tags: vec!["implementation".into()],
            via: Via::Api,
            created_at: now - rng.range(1, 21 * DAY),
        })
        .collect();
    let mut tx = store.begin().await?;
    store
        .bulk_create_tickets_tx(&mut tx, actor.id(), &tickets)
        .await?;
    store.commit(tx).await?;
    c.tickets += tickets.len();
    c.solved += tickets
        .iter()
        .filter(|t| t.status == Status::Solved)
        .count();
    c.writes += 3;
    Ok((p.id, c))
}

/// What seeding wrote, summed over projects.
#[derive(Default)]
struct Counts {
    writes: usize,
    completed: usize,
    risks: usize,
    decisions: usize,
    hours: usize,
    measurements: usize,
    tickets: usize,
    solved: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.writes += o.writes;
        self.completed += o.completed;
        self.risks += o.risks;
        self.decisions += o.decisions;
        self.hours += o.hours;
        self.measurements += o.measurements;
        self.tickets += o.tickets;
        self.solved += o.solved;
    }
}

/// Wall time per report (total ÷ N) and per-report latency.
fn summary(label: &str, mut times: Vec<f64>, total: f64) {
    times.sort_by(f64::total_cmp);
    let n = times.len().max(1);
    let pct = |p: f64| {
        times
            .get(((n as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    println!(
        "{label}: {n} reports in {total:.3} s ({:.2} ms per report); latency mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        total * 1000.0 / n as f64,
        times.iter().sum::<f64>() / n as f64,
        pct(0.5),
        pct(0.99),
        pct(1.0),
    );
}

/// Computes and renders (HTML and Markdown) one report; returns the bytes,
/// the report's phase and health, and the seconds spent rendering.
async fn compute_render(
    store: &Store,
    id: i64,
    week: Date,
    now: i64,
) -> anyhow::Result<(usize, String, String, f64)> {
    let r = store.compute_status_report(id, week, now).await?;
    let rendering = Instant::now();
    let html = status_report::render(&r, &Notes::default(), Format::Html)
        .map_err(|e| anyhow::anyhow!(e))?;
    let md = status_report::render(&r, &Notes::default(), Format::Markdown)
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok((
        html.len() + md.len(),
        r.header.phase,
        r.summary.health,
        rendering.elapsed().as_secs_f64(),
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (store, dir) = fresh::open(&args.database_url, "steward_bench_reports").await?;
    let now = ts(NOW)?;
    let seed_t = ts("2026-08-01T12:00:00Z")?;
    let admin = store
        .create_user(
            UserInput {
                name: Some("Bench Admin".into()),
                email: Some(email("admin@vendor.example")?),
                role: Some(Role::Admin),
                ..Default::default()
            },
            seed_t,
        )
        .await?;
    let mut csms = Vec::new();
    for c in 0..25 {
        csms.push(
            store
                .create_user(
                    UserInput {
                        name: Some(format!("CSM {c:02}")),
                        email: Some(email(&format!("csm{c}@vendor.example"))?),
                        role: Some(Role::Csm),
                        ..Default::default()
                    },
                    seed_t,
                )
                .await?
                .id,
        );
    }
    let actor = Arc::new(Actor {
        user: admin,
        org_shares_tickets: false,
    });
    let csms = Arc::new(csms);

    // Seeding (not measured).
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut seeders = Vec::new();
    for _ in 0..args.seed_concurrency.max(1) {
        let (store, actor, csms, next) = (store.clone(), actor.clone(), csms.clone(), next.clone());
        let n = args.projects;
        seeders.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                out.push(seed_project(&store, &actor, &csms, i).await?);
            }
            anyhow::Ok(out)
        }));
    }
    let mut projects = Vec::new();
    let mut c = Counts::default();
    for s in seeders {
        for (id, w) in s.await?? {
            projects.push(id);
            c.add(&w);
        }
    }
    projects.sort_unstable();
    let n = projects.len().max(1) as f64;
    let seed_secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {} projects ({} write transactions) in {seed_secs:.1} s ({:.0} transactions/s)",
        projects.len(),
        c.writes,
        c.writes as f64 / seed_secs
    );
    println!(
        "  per project: 25 template tasks ({:.1} completed, 1 blocked), 20 milestones, {:.1} risks, \
         {:.1} decisions, {:.1} hours entries, 1 opportunity, {:.1} measurements, {:.1} tickets ({:.1} solved)",
        c.completed as f64 / n,
        c.risks as f64 / n,
        c.decisions as f64 / n,
        c.hours as f64 / n,
        c.measurements as f64 / n,
        c.tickets as f64 / n,
        c.solved as f64 / n,
    );

    let week = date(WEEK)?;
    // Warm-up: one report, so caches (calendars, templates) are filled.
    if let Some(&id) = projects.first() {
        compute_render(&store, id, week, now).await?;
    }

    // (a) and (b), `--rounds` times each: the machine is shared, so one
    // round can be slowed by someone else's compiler.
    for round in 1..=args.rounds.max(1) {
        // (a) sequential compute + render.
        let mut times = Vec::new();
        let (mut bytes, mut render_secs) = (0, 0.0);
        let mut spread: std::collections::BTreeMap<(String, String), usize> = Default::default();
        let started = Instant::now();
        for &id in &projects {
            let t = Instant::now();
            let (b, phase, health, r) = compute_render(&store, id, week, now).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes += b;
            render_secs += r;
            *spread.entry((phase, health)).or_default() += 1;
        }
        let total = started.elapsed().as_secs_f64();
        summary(
            &format!("(a) round {round}: compute + render HTML & Markdown, sequential"),
            times,
            total,
        );
        println!(
            "    of which rendering {render_secs:.3} s, computing (queries included) {:.3} s",
            total - render_secs
        );
        if round == 1 {
            println!(
                "    rendered {:.1} MB in all ({:.1} KB per report, HTML + Markdown)",
                bytes as f64 / 1e6,
                bytes as f64 / 1e3 / projects.len().max(1) as f64
            );
            let spread: Vec<String> = spread
                .iter()
                .map(|((phase, health), k)| format!("{phase} {health}: {k}"))
                .collect();
            println!("    phase and health: {}", spread.join("; "));
        }

        // (b) the same with K tasks.
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(projects.clone());
        let mut workers = Vec::new();
        for _ in 0..args.concurrency.max(1) {
            let (store, next, shared) = (store.clone(), next.clone(), shared.clone());
            workers.push(tokio::spawn(async move {
                let mut times = Vec::new();
                while let Some(&id) = shared.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let t = Instant::now();
                    compute_render(&store, id, week, now).await?;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                anyhow::Ok(times)
            }));
        }
        let mut times = Vec::new();
        for w in workers {
            times.extend(w.await??);
        }
        let total = started.elapsed().as_secs_f64();
        summary(
            &format!(
                "(b) round {round}: compute + render, {} concurrent tasks",
                args.concurrency
            ),
            times,
            total,
        );
    }

    // (c) generate_status_report of the previous week, one transaction each.
    let fsyncs = store.wal_fsyncs();
    let mut times = Vec::new();
    let started = Instant::now();
    for &id in &projects {
        let t = Instant::now();
        store
            .generate_status_report(&actor, id, PREVIOUS_WEEK, now)
            .await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let total = started.elapsed().as_secs_f64();
    summary(
        &format!("(c) generate_status_report (stored drafts, week {PREVIOUS_WEEK})"),
        times,
        total,
    );

    let fsynced = |before: Option<u64>| match (before, store.wal_fsyncs()) {
        (Some(a), Some(b)) => format!("; {} WAL fsyncs", b - a),
        _ => String::new(),
    };
    println!("    {} commits{}", projects.len(), fsynced(fsyncs));

    // (d) the Friday job end to end.
    let fsyncs = store.wal_fsyncs();
    let started = Instant::now();
    let made = store.make_friday_drafts(now).await?;
    let total = started.elapsed().as_secs_f64();
    println!(
        "(d) make_friday_drafts: {made} drafts + review tasks in {total:.3} s; {:.2} ms per project{}",
        total * 1000.0 / made.max(1) as f64,
        fsynced(fsyncs)
    );
    anyhow::ensure!(
        made == projects.len(),
        "expected {} drafts, made {made}",
        projects.len()
    );
    let (mut reports, mut json_bytes) = (0, 0);
    for &id in &projects {
        for r in store.status_reports(&actor, id).await? {
            reports += 1;
            json_bytes += serde_json::to_string(&r.report)?.len();
        }
    }
    println!(
        "status_reports: {reports} rows, {:.1} KB of report JSON each",
        json_bytes as f64 / 1e3 / reports.max(1) as f64
    );

    store.close().await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(())
}
