//! Implementation projects of the demo portfolio: one per onboarding
//! account, started so that on the day the demo loads they stand in every
//! phase of the 30-day plan (and one has gone live and is stabilising),
//! with the plan worked up to today, risks, decisions, hours, baseline
//! measurements, an expansion opportunity and last Friday's status report —
//! so a newcomer's first status report is a real one.

use rand::{Rng, rngs::StdRng};
use steward_domain::{
    Calendar, Role,
    hub::ContactRole,
    metrics::When,
    project::{DecisionImpact, Likelihood, MilestoneStatus, RiskKind, RiskStatus, working_days},
    task::TaskStatus,
};
use steward_store::{
    Actor, Store, User,
    metrics::RawMeasurement,
    project_parts::{DecisionInput, HoursInput, OpportunityInput, RiskInput},
    projects::{MilestoneInput, ProjectInput, ProjectTaskInput, local_date},
};

const DAY: i64 = 86_400;

/// The day of the plan each demo project has reached today.
const DAYS_REACHED: [u32; 7] = [2, 6, 11, 18, 24, 28, 36];

const RISKS: &[(&str, RiskKind, Likelihood, Likelihood, &str)] = &[
    (
        "Legacy export lacks timestamps",
        RiskKind::Technical,
        Likelihood::High,
        Likelihood::High,
        "Nightly batch export with a reconciliation job",
    ),
    (
        "Data owner on leave during migration",
        RiskKind::Organizational,
        Likelihood::Medium,
        Likelihood::Medium,
        "Deputy named and briefed",
    ),
    (
        "SSO certificate renewal pending",
        RiskKind::Timeline,
        Likelihood::Low,
        Likelihood::Medium,
        "Temporary local accounts for testers",
    ),
    (
        "Budget freeze at quarter end",
        RiskKind::Budget,
        Likelihood::Low,
        Likelihood::High,
        "Invoice milestones agreed in advance",
    ),
    (
        "Reporting needs beyond the standard package",
        RiskKind::ProductFit,
        Likelihood::Medium,
        Likelihood::Low,
        "Custom dashboard scoped as phase 2",
    ),
];

/// Loads the demo projects for `accounts` (org id, its people).
pub async fn load(
    store: &Store,
    admin: &Actor,
    staff: &[User],
    accounts: &[(i64, Vec<i64>)],
    rng: &mut StdRng,
    now: i64,
) -> anyhow::Result<usize> {
    let csms: Vec<&User> = staff.iter().filter(|u| u.role == Role::Csm).collect();
    let agents: Vec<&User> = staff.iter().filter(|u| u.role == Role::Agent).collect();
    let cal = Calendar::builtin("business")?;
    let today = local_date(now, cal.time_zone());
    // Working days back from today, newest first.
    let mut back = Vec::new();
    let mut d = today;
    while back.len() < 60 {
        if cal.is_working_day(d) {
            back.push(d);
        }
        d = d.yesterday()?;
    }
    let mut made = 0;
    for (i, (org, people)) in accounts.iter().enumerate() {
        let Some(&reached) = DAYS_REACHED.get(i) else {
            break;
        };
        let start = back[(reached - 1) as usize];
        let owner = csms[i % csms.len()];
        let engineer = agents[i % agents.len()];
        if let Some(&sponsor) = people.first() {
            store
                .set_contact_roles(admin, sponsor, &[ContactRole::ExecutiveSponsor])
                .await?;
        }
        if let Some(&lead) = people.get(1) {
            store
                .set_contact_roles(admin, lead, &[ContactRole::ProjectLead])
                .await?;
        }
        let created = start
            .to_zoned_datetime(cal.time_zone().clone())?
            .timestamp()
            .as_second()
            - 3 * DAY;
        let p = store
            .create_project(
                admin,
                ProjectInput {
                    organization_id: Some(*org),
                    start_date: Some(start.to_string()),
                    owner_id: Some(Some(owner.id)),
                    assignments: Some(
                        [
                            ("engineering".to_string(), engineer.id),
                            ("support".to_string(), engineer.id),
                        ]
                        .into(),
                    ),
                    budget_cents: Some(Some(rng.gen_range(40_000..90_000) * 100)),
                    spend_cents: Some(Some(
                        rng.gen_range(5_000..40_000) * 100 * i64::from(reached) / 20,
                    )),
                    technical_blockers: (i % 3 == 1)
                        .then(|| "Waiting for production API credentials".to_string()),
                    ..Default::default()
                },
                created,
            )
            .await?;
        let days = working_days(&cal, p.start_date, 60);
        let day_at = |n: u32| -> i64 {
            days[(n.max(1) - 1) as usize]
                .to_zoned_datetime(cal.time_zone().clone())
                .map(|z| z.timestamp().as_second() + 20 * 3600)
                .unwrap_or(now)
        };

        // Work the plan: tasks due before today are done (a few late), one
        // is blocked in some projects, today's are in progress.
        let tasks = store.project_tasks(admin, p.id).await?;
        let behind = i % 3 == 1;
        for t in &tasks {
            let due_day = t
                .task
                .due_at
                .map(|d| local_date(d, cal.time_zone()))
                .unwrap_or(today);
            let due_n = days.partition_point(|x| *x <= due_day) as u32;
            let (status, at) = if due_n + u32::from(behind) * 2 < reached {
                (TaskStatus::Completed, day_at(due_n).min(now))
            } else if due_n <= reached + 1 {
                let blocked = behind && t.plan_key.as_deref() == Some("pipeline");
                (
                    if blocked {
                        TaskStatus::Blocked
                    } else {
                        TaskStatus::InProgress
                    },
                    now - DAY,
                )
            } else {
                continue;
            };
            store
                .update_project_task(
                    admin,
                    p.id,
                    t.task.id,
                    ProjectTaskInput {
                        status: Some(status),
                        ..Default::default()
                    },
                    at,
                )
                .await?;
        }
        // The go-live milestone is completed with its task; the last
        // project moved go-live once before it happened.
        if i == 5 {
            let ms = store.milestones(admin, p.id).await?;
            if let Some(m) = ms.iter().find(|m| m.key.as_deref() == Some("first_week")) {
                store
                    .update_milestone(
                        admin,
                        p.id,
                        m.id,
                        MilestoneInput {
                            status: Some(MilestoneStatus::AtRisk),
                            ..Default::default()
                        },
                        now - DAY,
                    )
                    .await?;
            }
        }

        // The project at day 18 moved go-live three working days.
        if i == 3 {
            let to = days[27].to_string();
            store
                .move_go_live(
                    admin,
                    p.id,
                    &to,
                    "Data owner on leave during migration",
                    None,
                    now - DAY,
                )
                .await?;
        }

        // Risks (one resolved), decisions, opportunity.
        for (k, (title, kind, prob, impact, mitigation)) in RISKS.iter().enumerate().take(2 + i % 3)
        {
            let r = store
                .create_risk(
                    admin,
                    p.id,
                    RiskInput {
                        kind: Some(*kind),
                        title: Some((*title).into()),
                        probability: Some(*prob),
                        impact: Some(*impact),
                        mitigation: Some((*mitigation).into()),
                        owner_id: Some(Some(if k % 2 == 0 { owner.id } else { engineer.id })),
                        status: Some(if k == 1 && reached > 10 {
                            RiskStatus::Escalated
                        } else {
                            RiskStatus::Identified
                        }),
                        ..Default::default()
                    },
                    day_at((k as u32 * 3 + 1).min(reached)),
                )
                .await?;
            if k == 2 {
                store
                    .update_risk(
                        admin,
                        p.id,
                        r.id,
                        RiskInput {
                            status: Some(RiskStatus::Resolved),
                            ..Default::default()
                        },
                        now - 2 * DAY,
                    )
                    .await?;
            }
        }
        store
            .create_decision(
                admin,
                p.id,
                DecisionInput {
                    title: Some("Weekend data load".into()),
                    decision: Some("Run the full load on Saturday".into()),
                    rationale: Some("The source system is frozen on weekdays".into()),
                    decided_by: Some(owner.name.clone()),
                    decided_on: Some(days[(reached.min(8) - 1) as usize].to_string()),
                    impact: DecisionImpact {
                        timeline_days: 1,
                        ..Default::default()
                    },
                    ..Default::default()
                },
                now - DAY,
            )
            .await?;
        if i % 2 == 0 {
            store
                .create_opportunity(
                    admin,
                    p.id,
                    OpportunityInput {
                        title: Some(
                            ["Analytics add-on", "Second region", "Premium support"][i % 3].into(),
                        ),
                        arr_cents: Some(rng.gen_range(10_000..60_000) * 100),
                        effort: Some(Likelihood::Medium),
                        probability_pct: Some(rng.gen_range(20..70)),
                        status: None,
                    },
                    now - DAY,
                )
                .await?;
        }

        // Hours: a week's worth at the end of each week so far.
        for n in (5..=reached.min(30)).step_by(5) {
            for (role, hours) in [
                ("csm", 32.0 + f64::from(n % 7)),
                ("engineering", 17.5),
                ("project_lead", 20.0),
            ] {
                store
                    .log_hours(
                        admin,
                        p.id,
                        HoursInput {
                            role: Some(role.into()),
                            hours: Some(hours),
                            logged_on: Some(days[(n - 1) as usize].to_string()),
                            ..Default::default()
                        },
                        now,
                    )
                    .await?;
            }
        }

        // Baseline measurements: two readings a day for the last two weeks.
        let mut rows = Vec::new();
        for back_days in 0..14 {
            let at = now - back_days * DAY - 3 * 3600;
            let progress = f64::from(reached) - back_days as f64 / 2.0;
            rows.push((
                "system_performance",
                "uptime_pct",
                99.85 + rng.gen_range(0.0..0.15),
                at,
            ));
            rows.push((
                "system_performance",
                "response_p95_ms",
                rng.gen_range(320.0..680.0),
                at,
            ));
            rows.push((
                "user_adoption",
                "training_completion_pct",
                (progress * 3.2).clamp(0.0, 100.0),
                at,
            ));
            if reached >= 9 {
                rows.push((
                    "data_quality",
                    "validation_pass_rate_pct",
                    96.0 + rng.gen_range(0.0..3.8),
                    at,
                ));
            }
            if reached >= 15 {
                rows.push((
                    "implementation_health",
                    "uat_pass_pct",
                    (70.0 + progress).min(99.0),
                    at,
                ));
                rows.push((
                    "implementation_health",
                    "integration_tests_pass_pct",
                    (80.0 + progress).min(100.0),
                    at,
                ));
            }
            if reached >= 25 {
                rows.push((
                    "user_adoption",
                    "dau_pct",
                    (20.0 + (progress - 24.0) * 6.0).clamp(5.0, 95.0),
                    at,
                ));
            }
        }
        let rows = rows
            .into_iter()
            .filter(|r| r.3 >= created)
            .map(|(metric, field, value, at)| RawMeasurement {
                metric: metric.into(),
                field: field.into(),
                value: (value * 100.0_f64).round() / 100.0,
                measured_at: When::At(at),
                label: None,
            })
            .collect();
        store.add_measurements(admin, *org, rows, now).await?;

        // Last Friday's report, as drafted and reviewed.
        let mut friday = today.yesterday()?;
        while friday.weekday() != jiff::civil::Weekday::Friday {
            friday = friday.yesterday()?;
        }
        if friday >= p.start_date {
            store
                .generate_status_report(admin, p.id, &friday.to_string(), now)
                .await?;
        }
        made += 1;
    }
    Ok(made)
}
