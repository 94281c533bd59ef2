//! Filling the benchmark database: a handful of organizations with their
//! end users, a few agents, the benchmark admin, and tickets up to the
//! requested number. Reruns find the people by e-mail and the tickets by
//! the counters, so a filled database is reused.

use std::time::Instant;

use anyhow::Context;
use steward_domain::{Email, Role};
use steward_store::{
    Actor, BulkTicket, NewComment, OrgInput, PageRequest, RequesterRef, Sort, Store, TicketFilter,
    TicketInput, User, UserInput,
};

use crate::data;

pub const ADMIN_EMAIL: &str = "bench-admin@steward.bench";
const ORGANIZATIONS: usize = 12;
const PEOPLE_PER_ORG: usize = 15;
const AGENTS: usize = 8;

/// How tickets are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FillMode {
    /// `store` on SQLite, `bulk` on PostgreSQL.
    Auto,
    /// `Store::create_ticket_tx`, many tickets per transaction.
    Store,
    /// `Store::bulk_create_tickets_tx`: the same rows, multi-row INSERTs.
    Bulk,
}

pub struct People {
    pub admin: Actor,
    /// (user id, organization id) of each end user.
    pub customers: Vec<(i64, i64)>,
    pub agents: Vec<i64>,
}

fn email(s: &str) -> anyhow::Result<Email> {
    Email::parse(s).map_err(|e| anyhow::anyhow!(e.0))
}

async fn user(
    store: &Store,
    address: &str,
    name: String,
    role: Role,
    org: Option<i64>,
    now: i64,
) -> anyhow::Result<User> {
    if let Some(u) = store.user_by_email(address).await? {
        return Ok(u);
    }
    let input = UserInput {
        name: Some(name),
        email: Some(email(address)?),
        role: Some(role),
        organization_id: Some(org),
        verified: Some(true),
        ..Default::default()
    };
    Ok(store.create_user(input, now).await?)
}

pub async fn people(store: &Store, now: i64) -> anyhow::Result<People> {
    let admin = user(
        store,
        ADMIN_EMAIL,
        "Bench Admin".into(),
        Role::Admin,
        None,
        now,
    )
    .await?;
    let mut agents = Vec::new();
    for i in 0..AGENTS {
        let a = user(
            store,
            &format!("agent{i}@steward.bench"),
            format!("Agent {i}"),
            Role::Agent,
            None,
            now,
        )
        .await?;
        agents.push(a.id);
    }
    let mut customers = Vec::new();
    for o in 0..ORGANIZATIONS {
        let name = format!("Bench Customer {o:02}");
        let org = match store.org_by_name(&name).await? {
            Some(org) => org,
            None => {
                let input = OrgInput {
                    name: Some(name),
                    domain_names: Some(vec![format!("customer{o:02}.bench")]),
                    shared_tickets: Some(o % 2 == 0),
                    ..Default::default()
                };
                store.create_org(input, now).await?
            }
        };
        for p in 0..PEOPLE_PER_ORG {
            let u = user(
                store,
                &format!("person{p:02}@customer{o:02}.bench"),
                format!("Person {p} of {o}"),
                Role::EndUser,
                Some(org.id),
                now,
            )
            .await?;
            customers.push((u.id, org.id));
        }
    }
    Ok(People {
        admin: Actor {
            user: admin,
            org_shares_tickets: false,
        },
        customers,
        agents,
    })
}

/// Live tickets, from the counters (what the list endpoint reports).
pub async fn ticket_count(store: &Store, admin: &Actor) -> anyhow::Result<usize> {
    let page = store
        .list_tickets(
            admin,
            &TicketFilter::default(),
            PageRequest::first(1),
            Sort::ID,
        )
        .await?;
    Ok(page.count.unwrap_or(0).max(0) as usize)
}

/// The lowest and highest ticket ids.
pub async fn id_range(store: &Store, admin: &Actor) -> anyhow::Result<(i64, i64)> {
    let mut ends = [0i64; 2];
    for (i, descending) in [false, true].into_iter().enumerate() {
        let page = store
            .list_tickets(
                admin,
                &TicketFilter::default(),
                PageRequest::Cursor {
                    size: 1,
                    after: None,
                    before: None,
                },
                Sort {
                    column: "id",
                    descending,
                },
            )
            .await?;
        ends[i] = page
            .items
            .first()
            .map(|t| t.id)
            .context("the database has no tickets")?;
    }
    Ok((ends[0], ends[1]))
}

pub struct FillReport {
    pub added: usize,
    pub seconds: f64,
}

/// Adds tickets until there are `target`, in transactions of `batch`.
pub async fn fill(
    store: &Store,
    people: &People,
    target: usize,
    batch: usize,
    mode: FillMode,
    now: i64,
) -> anyhow::Result<FillReport> {
    let have = ticket_count(store, &people.admin).await?;
    if have >= target {
        println!("fill: {have} tickets present, nothing to add");
        return Ok(FillReport {
            added: 0,
            seconds: 0.0,
        });
    }
    let mode = match (mode, store.dialect) {
        (FillMode::Auto, steward_store::Dialect::Sqlite) => FillMode::Store,
        (FillMode::Auto, steward_store::Dialect::Postgres) => FillMode::Bulk,
        (m, _) => m,
    };
    println!(
        "fill: {have} tickets present, adding {} ({mode:?} path, {batch} per transaction)",
        target - have
    );
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut k = have;
    let batch = batch.max(1);
    while k < target {
        let end = (k + batch).min(target);
        let specs: Vec<data::Spec> = (k..end)
            .map(|i| data::ticket(i, target, now, people.customers.len(), people.agents.len()))
            .collect();
        let mut tx = store.begin().await?;
        match mode {
            FillMode::Bulk => {
                let rows: Vec<BulkTicket> = specs.iter().map(|s| bulk_ticket(s, people)).collect();
                store
                    .bulk_create_tickets_tx(&mut tx, people.admin.id(), &rows)
                    .await?;
            }
            _ => {
                for s in &specs {
                    store
                        .create_ticket_tx(
                            &mut tx,
                            &people.admin,
                            ticket_input(s, people),
                            s.created_at,
                        )
                        .await
                        .with_context(|| format!("creating ticket {s:?}"))?;
                }
            }
        }
        tx.commit().await?;
        k = end;
        if last_report.elapsed().as_secs_f64() >= 10.0 || k == target {
            last_report = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            println!(
                "fill: {k}/{target} tickets, {:.0} tickets/s, {secs:.0} s",
                (k - have) as f64 / secs.max(1e-9)
            );
        }
    }
    Ok(FillReport {
        added: target - have,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn customer(s: &data::Spec, people: &People) -> (i64, i64) {
    people.customers[s.customer % people.customers.len().max(1)]
}

fn agent(s: &data::Spec, people: &People) -> Option<i64> {
    s.agent
        .map(|a| people.agents[a % people.agents.len().max(1)])
}

fn ticket_input(s: &data::Spec, people: &People) -> TicketInput {
    let (requester, org) = customer(s, people);
    TicketInput {
        subject: Some(s.subject.clone()),
        comment: Some(NewComment {
            body: s.description.clone(),
            author_id: Some(requester),
            ..Default::default()
        }),
        requester: Some(RequesterRef::Id(requester)),
        organization_id: Some(Some(org)),
        group_id: Some(Some(s.group)),
        assignee_id: Some(agent(s, people)),
        priority: Some(s.priority),
        status: Some(s.status),
        ticket_type: Some(Some(s.ticket_type)),
        tags: Some(s.tags.clone()),
        via: Some(s.via),
        created_at: Some(s.created_at),
        ..Default::default()
    }
}

fn bulk_ticket(s: &data::Spec, people: &People) -> BulkTicket {
    let (requester, org) = customer(s, people);
    BulkTicket {
        subject: s.subject.clone(),
        description: s.description.clone(),
        requester_id: requester,
        comment_author_id: requester,
        organization_id: Some(org),
        group_id: Some(s.group),
        assignee_id: agent(s, people),
        priority: s.priority,
        status: s.status,
        ticket_type: Some(s.ticket_type),
        tags: s.tags.clone(),
        via: s.via,
        created_at: s.created_at,
    }
}
