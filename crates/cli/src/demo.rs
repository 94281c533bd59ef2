//! The demo portfolio `steward serve --demo` loads into an empty database:
//! a few dozen customer accounts across every tier, industry, size, region
//! and status; staff in every role; and a few thousand tickets over the last
//! six months with conversations, internal notes and realistic lifecycles;
//! and an implementation project in every phase ([`projects`]).
//!
//! Generation is deterministic (fixed seed) so that screenshots, docs and
//! bug reports talk about the same data. Everything is written through the
//! store's ordinary operations, so demo tickets carry the same audits,
//! search entries and counters as real ones.

mod projects;

use rand::{Rng, SeedableRng, rngs::StdRng};
use steward_domain::{
    AccountStatus, CompanySize, Email, Industry, Money, Priority, Region, Role, Status, TicketType,
};
use steward_store::{
    Actor, NewComment, OrgInput, RequesterRef, Store, TicketInput, User, UserInput,
    groups::{BILLING_ADMIN, ESCALATIONS, IMPLEMENTATION, TECHNICAL_SUPPORT},
};

pub const DEFAULT_TICKETS: usize = 3_000;
pub const DEMO_PASSWORD: &str = "steward-demo-password";
pub const DEMO_ADMIN: &str = "admin@steward.demo";

const DAY: i64 = 86_400;

/// True when the database holds no organizations and no tickets.
pub async fn is_empty(store: &Store) -> anyhow::Result<bool> {
    Ok(!store.has_customer_data().await?)
}

const COMPANIES: &[&str] = &[
    "Northwind Payments",
    "Helix Health",
    "Bluewater Freight",
    "Ironclad Fabrication",
    "Quanta Ledger",
    "Meridian Clinics",
    "Cargo Compass",
    "Forge & Foundry",
    "Lumen Bank",
    "CarePath Networks",
    "Swift Haulage",
    "Precision Parts Co",
    "Atlas Capital",
    "Vital Signs Labs",
    "Harborline Logistics",
    "Steelworks United",
    "Coinbridge",
    "MediTrack",
    "RouteWise",
    "Anvil Robotics",
    "Sterling Treasury",
    "PulsePoint Care",
    "Portside Shipping",
    "Kiln Ceramics",
    "Ember Analytics",
    "Oakridge Dental",
    "FleetOps",
    "Gearbox Industries",
    "Tally Finance",
    "Wellspring Pharmacy",
    "Nimbus Retail",
    "Copperline Energy",
    "Brightside Insurance",
    "Summit Biotech",
    "Trailhead Outfitters",
    "Orbit Telecom",
];

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara",
    "Luis", "Maya", "Nikhil", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor",
    "Wen", "Yara",
];
const LAST: &[&str] = &[
    "Alvarez",
    "Brooks",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Weber",
];

/// (group, subjects, tags)
const TOPICS: &[(i64, &[&str], &[&str])] = &[
    (
        TECHNICAL_SUPPORT,
        &[
            "Dashboard fails to load after login",
            "API returns 502 on bulk export",
            "Slow report generation for monthly close",
            "SSO login loop with Okta",
            "Webhook deliveries delayed by several minutes",
            "CSV import rejects valid dates",
            "Search results missing recent records",
            "Mobile app crashes when opening attachments",
            "Integration with Salesforce stopped syncing",
            "Timeouts on the reconciliation job",
        ],
        &["platform", "integration", "performance", "sso", "api"],
    ),
    (
        IMPLEMENTATION,
        &[
            "Kickoff agenda and project charter review",
            "Data migration mapping for legacy CRM",
            "UAT environment access for business users",
            "Go-live runbook sign-off",
            "Training schedule for regional teams",
            "Field mapping questions for the customer master",
            "Cutover dry run results",
            "Configure approval workflow for purchase orders",
        ],
        &["onboarding", "migration", "go-live", "training", "uat"],
    ),
    (
        BILLING_ADMIN,
        &[
            "Invoice shows wrong number of seats",
            "Request to change billing contact",
            "Upgrade to annual plan",
            "Question about pro-rated charges",
            "Need a W-9 and vendor form",
            "Add cost center to invoices",
        ],
        &["billing", "invoice", "subscription", "procurement"],
    ),
    (
        ESCALATIONS,
        &[
            "Production outage affecting all users",
            "Data inconsistency in ledger balances",
            "Go-live blocked by failing integration",
            "Security review finding needs urgent response",
        ],
        &["escalation", "outage", "data-loss", "exec-visibility"],
    ),
];

const REPLIES_AGENT: &[&str] = &[
    "Thanks for the details. I have reproduced this and am looking at the logs now.",
    "We have identified the cause and a fix is being tested. I will update you within the hour.",
    "Could you share the time of the last failure and the user affected?",
    "The fix is deployed. Could you confirm it works on your side?",
    "I have scheduled a call with our engineer to walk through this with your team.",
];
const REPLIES_CUSTOMER: &[&str] = &[
    "Thanks, here is the screenshot and the time it happened: around 10:15 this morning.",
    "It is still happening for some users in the EU office.",
    "Confirmed, it works now. Thank you for the quick turnaround!",
    "Any update? This is blocking our finance team.",
];
const NOTES: &[&str] = &[
    "Looks related to the queue backlog from last night's deploy. Pinged engineering.",
    "Customer is in renewal talks; keep the CSM in the loop.",
    "Workaround shared; permanent fix tracked in the engineering backlog.",
];

struct Staff {
    admin: User,
    by_role: Vec<User>,
}

async fn create_staff(store: &Store, now: i64) -> anyhow::Result<Staff> {
    let people: &[(&str, &str, Role)] = &[
        ("Dana Whitfield", DEMO_ADMIN, Role::Admin),
        ("Carlos Mendes", "carlos.csm@steward.demo", Role::Csm),
        ("Aisha Bello", "aisha.csm@steward.demo", Role::Csm),
        ("Tom Becker", "tom.csm@steward.demo", Role::Csm),
        ("Lena Park", "lena.agent@steward.demo", Role::Agent),
        ("Marco Silva", "marco.agent@steward.demo", Role::Agent),
        ("Sofia Nguyen", "sofia.agent@steward.demo", Role::Agent),
        ("Raj Iyer", "raj.agent@steward.demo", Role::Agent),
        ("Eva Novak", "eva.agent@steward.demo", Role::Agent),
        ("Kim Osei", "kim.contractor@steward.demo", Role::Contractor),
        (
            "Pat Jordan",
            "pat.contractor@steward.demo",
            Role::Contractor,
        ),
        ("Morgan Hale", "morgan.exec@steward.demo", Role::Viewer),
    ];
    let mut by_role = Vec::new();
    let mut admin = None;
    for (name, email, role) in people {
        let user = match store.user_by_email(email).await? {
            Some(u) => u,
            None => {
                let input = UserInput {
                    name: Some((*name).into()),
                    email: Some(Email::parse(email).map_err(|e| anyhow::anyhow!(e.0))?),
                    role: Some(*role),
                    verified: Some(true),
                    time_zone: Some("America/New_York".into()),
                    ..Default::default()
                };
                let u = store.create_user(input, now - 200 * DAY).await?;
                store.set_password(u.id, DEMO_PASSWORD, now).await?;
                u
            }
        };
        if *role == Role::Admin {
            admin = Some(user.clone());
        }
        by_role.push(user);
    }
    let admin = admin.ok_or_else(|| anyhow::anyhow!("demo admin missing"))?;
    Ok(Staff { admin, by_role })
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

pub async fn load(store: &Store, tickets: usize, now: i64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut rng = StdRng::seed_from_u64(20_261_124);
    let staff = create_staff(store, now).await?;
    let admin = Actor {
        user: staff.admin.clone(),
        org_shares_tickets: false,
    };

    // Accounts: roughly a third in each tier, every status represented.
    let mut customers: Vec<(i64, Vec<i64>, u32)> = Vec::new(); // (org, end users, weight)
    // Accounts with an implementation project: the onboarding ones, then
    // one active account whose 30 days are over.
    let mut onboarding: Vec<(i64, Vec<i64>)> = Vec::new();
    let mut finished: Option<(i64, Vec<i64>)> = None;
    // At-risk accounts get a CSM's flags, so the risk model has stories.
    let mut at_risk: Vec<i64> = Vec::new();
    let mut portal_user: Option<String> = None;
    for (i, name) in COMPANIES.iter().enumerate() {
        let acv_dollars: i64 = match i % 3 {
            0 => rng.gen_range(110_000..=450_000),
            1 => rng.gen_range(25_000..=100_000),
            _ => rng.gen_range(6_000..=24_000),
        };
        let status = match i {
            3 | 17 | 29 => AccountStatus::AtRisk,
            11 | 23 => AccountStatus::Churned,
            35 => AccountStatus::Prospect,
            5 | 8 | 14 | 20 | 26 | 32 => AccountStatus::Onboarding,
            _ => AccountStatus::Active,
        };
        let start_days_ago: i64 = if status == AccountStatus::Onboarding {
            rng.gen_range(5..40)
        } else {
            rng.gen_range(60..900)
        };
        let date = |secs: i64| steward_domain::time::format_unix(secs)[..10].to_string();
        let start = now - start_days_ago * DAY;
        let end = start + 365 * DAY * rng.gen_range(1..=3);
        let domain = format!(
            "{}.example",
            name.to_lowercase()
                .replace([' ', '&'], "")
                .replace("--", "-")
        );
        let sponsor = format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST));
        let tech = format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST));
        let finance = format!("{} {}", pick(&mut rng, FIRST), pick(&mut rng, LAST));
        let input = OrgInput {
            name: Some((*name).into()),
            domain_names: Some(vec![domain.clone()]),
            details: Some(Some(format!(
                "{} customer since {}",
                Industry::ALL[i % 5].as_str(),
                date(start)
            ))),
            shared_tickets: Some(i % 2 == 0),
            shared_comments: Some(i % 2 == 0),
            industry: Some(Some(Industry::ALL[i % Industry::ALL.len()])),
            company_size: Some(Some(CompanySize::ALL[(i / 2) % CompanySize::ALL.len()])),
            region: Some(Some(Region::ALL[(i / 3) % Region::ALL.len()])),
            acv: Some(Some(Money::from_dollars(acv_dollars))),
            monthly_spend: Some(Some(Money::from_dollars(acv_dollars / 12))),
            contract_start: Some(Some(date(start))),
            contract_end: Some(Some(date(end))),
            renewal_date: Some(Some(date(end))),
            status: Some(status),
            executive_sponsor: Some(Some(sponsor)),
            technical_lead: Some(Some(tech)),
            finance_lead: Some(Some(finance)),
            primary_use_case: Some(Some(
                [
                    "Financial close automation",
                    "Patient scheduling",
                    "Shipment tracking",
                    "Production planning",
                    "Customer analytics",
                ][i % 5]
                    .into(),
            )),
            expansion_potential: Some(Some(Money::from_dollars(
                acv_dollars * rng.gen_range(0..=60) / 100,
            ))),
            last_health_check: Some(Some(date(now - rng.gen_range(3..60) * DAY))),
            next_business_review: Some(Some(date(now + rng.gen_range(7..90) * DAY))),
            tags: Some(vec![Industry::ALL[i % 5].as_str().to_string()]),
            ..Default::default()
        };
        let org = store.create_org(input, start).await?;
        let mut people = Vec::new();
        for _ in 0..3 {
            let (first, last) = (pick(&mut rng, FIRST), pick(&mut rng, LAST));
            let email = format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase());
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!(e.0))?;
            if store.user_by_email(email.as_str()).await?.is_some() {
                continue;
            }
            let input = UserInput {
                name: Some(format!("{first} {last}")),
                email: Some(email),
                role: Some(Role::EndUser),
                organization_id: Some(Some(org.id)),
                verified: Some(true),
                ..Default::default()
            };
            let user = store.create_user(input, start).await?;
            // One customer contact can sign in to the portal with the demo
            // password (others use the e-mailed one-time link).
            if i == 0 && people.is_empty() {
                store.set_password(user.id, DEMO_PASSWORD, start).await?;
                portal_user = user.email.clone();
            }
            people.push(user.id);
        }
        let weight = match i % 3 {
            0 => 5,
            1 => 3,
            _ => 1,
        };
        if status == AccountStatus::AtRisk {
            at_risk.push(org.id);
        }
        if status == AccountStatus::Onboarding && !people.is_empty() {
            onboarding.push((org.id, people.clone()));
        } else if status == AccountStatus::Active && finished.is_none() && !people.is_empty() {
            finished = Some((org.id, people.clone()));
        }
        if !people.is_empty() && status != AccountStatus::Prospect {
            customers.push((org.id, people, weight));
        }
    }

    let agents_for = |group: i64| -> Vec<i64> {
        staff
            .by_role
            .iter()
            .filter(|u| {
                // Billing goes to the CS Manager (the admin), as the billing
                // escalation rule routes it (policies.md §7).
                matches!(
                    (u.role, group),
                    (Role::Admin, _)
                        | (Role::Csm, IMPLEMENTATION)
                        | (Role::Agent, TECHNICAL_SUPPORT | ESCALATIONS)
                        | (Role::Contractor, TECHNICAL_SUPPORT)
                )
            })
            .map(|u| u.id)
            .collect()
    };
    let weighted: Vec<usize> = customers
        .iter()
        .enumerate()
        .flat_map(|(i, c)| std::iter::repeat_n(i, c.2 as usize))
        .collect();

    // One platform problem that several accounts' incidents point at.
    let problem_created = now - 20 * DAY;
    let (problem, _) = store
        .create_ticket(
            &admin,
            TicketInput {
                subject: Some("Platform: intermittent 502s from the API gateway".into()),
                comment: Some(NewComment { body: "Multiple customers report 502 errors from the public API. Tracking as a platform problem.".into(), ..Default::default() }),
                group_id: Some(Some(ESCALATIONS)),
                priority: Some(Priority::Urgent),
                ticket_type: Some(Some(TicketType::Problem)),
                tags: Some(vec!["platform-incident".into()]),
                created_at: Some(problem_created),
                ..Default::default()
            },
            problem_created,
        )
        .await?;

    let mut created = 0usize;
    while created < tickets {
        let mut tx = store.begin().await?;
        let batch_end = (created + 200).min(tickets);
        for n in created..batch_end {
            let (org_id, people, _) = &customers[*pick(&mut rng, &weighted)];
            let requester = *pick(&mut rng, people);
            let topic = &TOPICS[match rng.gen_range(0..100) {
                0..50 => 0,
                50..75 => 1,
                75..90 => 2,
                _ => 3,
            }];
            let priority = match (topic.0, rng.gen_range(0..100)) {
                (ESCALATIONS, 0..40) => Priority::Urgent,
                (ESCALATIONS, _) => Priority::High,
                (_, 0..4) => Priority::Urgent,
                (_, 4..24) => Priority::High,
                (_, 24..74) => Priority::Normal,
                _ => Priority::Low,
            };
            // Skew towards recent tickets: more volume lately.
            let age =
                (180.0 * rng.r#gen::<f64>().powf(1.4) * DAY as f64) as i64 + rng.gen_range(0..3600);
            let created_at = now - age;
            let subject = *pick(&mut rng, topic.1);
            let tags = vec![pick(&mut rng, topic.2).to_string()];
            let incident = topic.0 == ESCALATIONS && n % 7 == 0 && created_at > problem_created;
            let input = TicketInput {
                subject: Some(subject.into()),
                comment: Some(NewComment {
                    body: format!(
                        "{subject}.\n\nWe noticed this today and it affects our team's daily work. Please advise."
                    ),
                    author_id: Some(requester),
                    ..Default::default()
                }),
                requester: Some(RequesterRef::Id(requester)),
                organization_id: Some(Some(*org_id)),
                group_id: Some(Some(topic.0)),
                priority: Some(priority),
                ticket_type: Some(Some(if incident {
                    TicketType::Incident
                } else {
                    *pick(
                        &mut rng,
                        &[TicketType::Question, TicketType::Incident, TicketType::Task],
                    )
                })),
                problem_id: if incident {
                    Some(Some(problem.id))
                } else {
                    None
                },
                tags: Some(tags),
                via: Some(*pick(
                    &mut rng,
                    &[
                        steward_domain::Via::Email,
                        steward_domain::Via::Web,
                        steward_domain::Via::Api,
                    ],
                )),
                created_at: Some(created_at),
                ..Default::default()
            };
            let (t, _) = store
                .create_ticket_tx(&mut tx, &admin, input, created_at)
                .await?;
            let agents = agents_for(topic.0);
            let assignee = *pick(&mut rng, &agents);
            let mut at = created_at;
            let mut step = |rng: &mut StdRng| {
                at = (at + rng.gen_range(600..8 * 3600)).min(now - 60);
                at
            };
            // The conversation: first agent reply, then some back and forth.
            let first = TicketInput {
                assignee_id: Some(Some(assignee)),
                status: Some(Status::Open),
                comment: Some(NewComment {
                    body: pick(&mut rng, REPLIES_AGENT).to_string(),
                    author_id: Some(assignee),
                    public: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            };
            if age > 2 * 3600 {
                store
                    .update_ticket_tx(&mut tx, &admin, t.id, first, step(&mut rng))
                    .await?;
            } else {
                continue;
            }
            for _ in 0..rng.gen_range(0..3) {
                let (body, author, public) = match rng.gen_range(0..10) {
                    0..5 => (pick(&mut rng, REPLIES_CUSTOMER), requester, true),
                    5..8 => (pick(&mut rng, REPLIES_AGENT), assignee, true),
                    _ => (pick(&mut rng, NOTES), assignee, false),
                };
                let reply = TicketInput {
                    comment: Some(NewComment {
                        body: body.to_string(),
                        author_id: Some(author),
                        public: Some(public),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                store
                    .update_ticket_tx(&mut tx, &admin, t.id, reply, step(&mut rng))
                    .await?;
            }
            // Older tickets are mostly done; recent ones still in flight.
            let final_status = match (age / DAY, rng.gen_range(0..100)) {
                (d, r) if d > 21 && r < 70 => Some(Status::Closed),
                (d, r) if d > 7 && r < 80 => Some(Status::Solved),
                (_, r) if r < 25 => Some(Status::Pending),
                (_, r) if r < 32 => Some(Status::Hold),
                (_, r) if r < 55 => Some(Status::Solved),
                _ => None,
            };
            if let Some(s) = final_status {
                // Closing goes through solved, as the lifecycle requires.
                let first = if s == Status::Closed {
                    Status::Solved
                } else {
                    s
                };
                let change = TicketInput {
                    status: Some(first),
                    ..Default::default()
                };
                store
                    .update_ticket_tx(&mut tx, &admin, t.id, change, step(&mut rng))
                    .await?;
                if s == Status::Closed {
                    let close = TicketInput {
                        status: Some(Status::Closed),
                        ..Default::default()
                    };
                    store
                        .update_ticket_tx(&mut tx, &admin, t.id, close, step(&mut rng))
                        .await?;
                }
            }
        }
        store.commit(tx).await?;
        created = batch_end;
    }
    onboarding.extend(finished);
    let projects =
        projects::load(store, &admin, &staff.by_role, &onboarding, &mut rng, now).await?;
    // Health: the CSMs' flags on the at-risk accounts, then every score.
    let flags: [&[(&str, &str)]; 3] = [
        &[
            ("sponsor_departed", "The VP who signed left in October"),
            ("contract_disputed", "Disputing the renewal price"),
        ],
        &[(
            "competitor_evaluation",
            "Asked for a feature comparison with a competitor",
        )],
        &[
            ("stakeholder_departed", "Their admin lead resigned"),
            ("integration_failures", "Nightly sync failing since Monday"),
        ],
    ];
    // Baselines first, so the flags below move accounts and start their
    // playbooks as they would in use.
    store.recompute_health(None, now - DAY).await?;
    for (org, list) in at_risk.iter().zip(flags) {
        for (key, note) in list {
            store
                .set_risk_flag(&admin, *org, key, note, None, now)
                .await?;
        }
    }
    let health = store.recompute_health(None, now).await?;
    let token = steward_store::auth::generate_token();
    store
        .add_api_token(staff.admin.id, &token, "demo token", now)
        .await?;
    tracing::info!(
        tickets = created,
        projects,
        health.playbooks,
        organizations = COMPANIES.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "loaded the demo portfolio"
    );
    println!(
        "Demo data loaded. Sign in at /login as {DEMO_ADMIN} with password {DEMO_PASSWORD}, or call the API with \
         -u {DEMO_ADMIN}/token:{token}"
    );
    if let Some(customer) = portal_user {
        println!(
            "A customer's view: sign in at /login as {customer} with the same password (the portal)."
        );
    }
    Ok(())
}
