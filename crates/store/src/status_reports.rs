//! Weekly status reports (issue 4; policies.md §15): computed from a
//! project's data for one week, stored as a record (week ending, health,
//! owner, the figures) that a CSM reviews, annotates and sends to the
//! executive sponsor through the outbox.
//!
//! The week ends on `week_ending` (any date; Fridays by convention) at
//! 23:59:59 in the project calendar's zone, or now if that is later than
//! now. Figures are taken *as of* that instant where the data has a time:
//! a task completed after it counts as open, a milestone completed after
//! the week ending as not completed, a risk resolved after it as open, a
//! measurement taken after it is not seen. So a report regenerated later
//! for a past week shows that week (statuses a person changed without a
//! timestamp, such as a risk's probability, show their current value).
//!
//! Drafts: every Friday from 09:00 in the project's zone, the worker makes
//! the draft of each active project's week (once: an existing report for
//! the week is left alone) and gives the project owner a task to review
//! and send it by 15:00 (§13's cadence). A draft may be regenerated
//! (figures refreshed, notes kept) until it is sent; a sent report is
//! frozen.

use std::collections::BTreeMap;

use jiff::{ToSpan, civil::Date};
use serde_json::json;
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Priority,
    hub::ContactRole,
    metrics::{self, Metric},
    project::{MilestoneStatus, ProjectStatus, Rag, RiskStatus},
    status_report::{
        self, Accomplished, Activity, Appendix, Expansion, Format, Header, MetricLine,
        MilestoneLine, NextWeek, Notes, OpportunityLine, QuickFacts, ReadinessLine, ResourceLine,
        RiskLine, RiskSection, StatusReport, Summary,
    },
    task::TaskStatus,
    templates::Object,
    time::parse_date,
};

use crate::{
    Store,
    access::Actor,
    dates::{at_hour, start_of},
    error::{Result, StoreError},
    hub::{may_read, may_write},
    outbox::MESSAGE_ID_DOMAIN,
    project_parts::{Risk, row_f64},
    projects::{Milestone, Project, ProjectTask, date_col, local_date},
    tasks::{CreatedBy, NewTask},
};

/// A stored report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub id: i64,
    pub project_id: i64,
    pub week_ending: Date,
    pub health: String,
    pub owner_id: Option<i64>,
    /// `draft` or `sent`.
    pub state: String,
    pub report: StatusReport,
    pub notes: Notes,
    pub recipient: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

/// The baseline metrics a report shows; their targets and colours are
/// the metric catalog's defaults, or the account's baseline plan.
struct KeyMetric {
    name: &'static str,
    metric: Metric,
    field: &'static str,
    section: Section,
}

#[derive(PartialEq, Clone, Copy)]
enum Section {
    Key,
    Testing,
    Performance,
}

const fn key(
    name: &'static str,
    metric: Metric,
    field: &'static str,
    section: Section,
) -> KeyMetric {
    KeyMetric {
        name,
        metric,
        field,
        section,
    }
}

const KEY_METRICS: &[KeyMetric] = &[
    key(
        "Daily active users (% of licensed)",
        Metric::UserAdoption,
        "dau_pct",
        Section::Key,
    ),
    key(
        "Training completion (%)",
        Metric::UserAdoption,
        "training_completion_pct",
        Section::Key,
    ),
    key(
        "UAT cases passed (%)",
        Metric::ImplementationHealth,
        "uat_pass_pct",
        Section::Testing,
    ),
    key(
        "Integration tests passing (%)",
        Metric::ImplementationHealth,
        "integration_tests_pass_pct",
        Section::Testing,
    ),
    key(
        "Data validation pass rate (%)",
        Metric::DataQuality,
        "validation_pass_rate_pct",
        Section::Testing,
    ),
    key(
        "Uptime (%)",
        Metric::SystemPerformance,
        "uptime_pct",
        Section::Performance,
    ),
    key(
        "Response time p95 (ms)",
        Metric::SystemPerformance,
        "response_p95_ms",
        Section::Performance,
    ),
    key(
        "Error rate (%)",
        Metric::SystemPerformance,
        "error_rate_pct",
        Section::Performance,
    ),
];

fn stored_from_row(r: &AnyRow) -> Result<StoredReport> {
    Ok(StoredReport {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        week_ending: date_col(r, "week_ending")?,
        health: r.try_get("health")?,
        owner_id: r.try_get("owner_id")?,
        state: r.try_get("state")?,
        report: serde_json::from_str(&r.try_get::<String, _>("data")?)?,
        notes: serde_json::from_str(&r.try_get::<String, _>("notes")?)?,
        recipient: crate::db::opt_str(r, "recipient")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

const REPORT_COLUMNS: &str = "id, project_id, week_ending, health, owner_id, state, data, notes, recipient, \
    created_at, updated_at, sent_at";

fn plus_days(d: Date, n: i64) -> Date {
    d.checked_add(n.days()).unwrap_or(d)
}

impl Store {
    /// Computes the report of `project` for the week ending `week_ending`.
    pub async fn compute_status_report(
        &self,
        project: i64,
        week_ending: Date,
        now: i64,
    ) -> Result<StatusReport> {
        let mut conn = self.reader().await?;
        let p = self.project_in(&mut conn, project).await?;
        self.compute_status_report_in(&mut conn, &p, week_ending, now)
            .await
    }

    pub(crate) async fn compute_status_report_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Project,
        week_ending: Date,
        now: i64,
    ) -> Result<StatusReport> {
        let cal = self.project_calendar(conn, &p.calendar).await?;
        let tz = cal.time_zone().clone();
        let week_start = plus_days(week_ending, -6);
        let from = start_of(week_start, &tz);
        let as_of = (start_of(plus_days(week_ending, 1), &tz) - 1).min(now.max(from));
        let next_end = plus_days(week_ending, 7);

        // The plan as it stood at the end of the week.
        let mut milestones = self.milestones_in(conn, p.id).await?;
        for m in &mut milestones {
            if m.actual_date.is_some_and(|d| d > week_ending) {
                m.actual_date = None;
                m.status = MilestoneStatus::InProgress;
            }
        }
        let mut tasks = self.project_tasks_in(conn, p).await?;
        for t in &mut tasks {
            if t.task.completed_at.is_some_and(|c| c > as_of) {
                t.task.completed_at = None;
                t.task.status = TaskStatus::InProgress;
            }
        }
        let open_ids: Vec<i64> = tasks
            .iter()
            .filter(|t| t.task.status != TaskStatus::Completed)
            .map(|t| t.task.id)
            .collect();
        for t in &mut tasks {
            t.blocked_by = t
                .depends_on
                .iter()
                .copied()
                .filter(|d| open_ids.contains(d))
                .collect();
        }
        let tasks: Vec<ProjectTask> = tasks
            .into_iter()
            .filter(|t| t.task.created_at <= as_of)
            .collect();
        let ov = self
            .overview_in(conn, p, &milestones, &tasks, as_of)
            .await?;
        let mut risks: Vec<Risk> = self
            .risks_in(conn, p.id)
            .await?
            .into_iter()
            .filter(|r| r.created_at <= as_of)
            .collect();
        for r in &mut risks {
            if r.resolved_at.is_some_and(|t| t > as_of) {
                r.resolved_at = None;
                r.status = RiskStatus::Monitoring;
            }
        }
        let (hours, entries) = self.hours_in(conn, p.id, Some(week_ending)).await?;
        let opportunities: Vec<_> = self
            .opportunities_in(conn, p.organization_id)
            .await?
            .into_iter()
            .filter(|o| o.created_at <= as_of && o.status == "open")
            .collect();

        let org = sqlx::query(
            "SELECT name, acv_cents, executive_sponsor FROM organizations WHERE id = $1",
        )
        .bind(p.organization_id)
        .fetch_one(&mut *conn)
        .await?;
        let account: String = org.try_get("name")?;
        let acv: Option<i64> = org.try_get("acv_cents")?;
        let sponsor_text: Option<String> = crate::db::opt_str(&org, "executive_sponsor")?;
        let sponsor = self.sponsor_in(conn, p.organization_id).await?;
        let recipient = match (&sponsor, &sponsor_text) {
            (Some((name, email)), _) => format!("{name} <{email}>"),
            (None, Some(s)) if !s.trim().is_empty() => s.clone(),
            _ => "the executive sponsor".into(),
        };
        let mut names: BTreeMap<i64, String> = BTreeMap::new();
        let mut ids: Vec<i64> = tasks.iter().filter_map(|t| t.task.owner_id).collect();
        ids.extend(risks.iter().filter_map(|r| r.owner_id));
        ids.extend(milestones.iter().filter_map(|m| m.owner_id));
        ids.extend(p.owner_id);
        ids.extend(p.assignments.values().copied());
        ids.sort_unstable();
        ids.dedup();
        if !ids.is_empty() {
            // Ids are integers from the database, so listing them inline is
            // safe; one query instead of one per person.
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            let rows = sqlx::query(&format!(
                "SELECT id, name FROM users WHERE id IN ({})",
                list.join(", ")
            ))
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                names.insert(r.try_get("id")?, r.try_get("name")?);
            }
        }
        let name_of = |id: Option<i64>| -> String {
            id.and_then(|i| names.get(&i).cloned())
                .unwrap_or_else(|| "unassigned".into())
        };
        let lead_of = |t: &ProjectTask| -> String {
            match &t.owner_role {
                Some(role) if p.is_customer_role(role) => {
                    format!("{} ({account})", role.replace('_', " "))
                }
                _ => name_of(t.task.owner_id),
            }
        };
        let milestone_line = |m: &Milestone| MilestoneLine {
            name: m.name.clone(),
            phase: m.phase,
            planned: m.planned_date.to_string(),
            actual: m.actual_date.map(|d| d.to_string()),
            status: if m.overdue(ov.today) {
                "overdue".into()
            } else {
                m.status.as_str().into()
            },
            critical_path: m.critical_path,
            owner: name_of(m.owner_id),
        };
        let due_date = |t: &ProjectTask| -> String {
            t.task
                .due_at
                .map(|d| local_date(d, &tz).to_string())
                .unwrap_or_default()
        };
        let activity = |t: &ProjectTask| Activity {
            title: t.task.title.clone(),
            lead: lead_of(t),
            due: due_date(t),
            status: if t.blocked_by.is_empty() {
                t.task.status.as_str().into()
            } else {
                format!("waiting on {} task(s)", t.blocked_by.len())
            },
        };

        // Metrics this week and last.
        let mut metric_lines: Vec<(Section, MetricLine)> = Vec::new();
        let plan = self.plan_of(conn, p.organization_id).await?.0.plan;
        let means = self
            .weekly_means(conn, p.organization_id, from, as_of)
            .await?;
        for k in KEY_METRICS {
            let def = k
                .metric
                .field(k.field)
                .map_err(|e| StoreError::Corrupt(e.0))?;
            let (thresholds, _) = plan.thresholds(k.metric, def);
            let (this, last) = means
                .get(&(k.metric.as_str().to_string(), k.field.to_string()))
                .copied()
                .unwrap_or((None, None));
            metric_lines.push((
                k.section,
                MetricLine {
                    name: k.name.into(),
                    value: this.map(round2),
                    last_week: last.map(round2),
                    target: thresholds
                        .map(|t| t.green.to_string())
                        .unwrap_or_else(|| "agreed in the baseline plan".into()),
                    status: match (this, &thresholds) {
                        (Some(v), Some(t)) => metrics::rag(v, t).as_str(),
                        _ => "none",
                    }
                    .into(),
                },
            ));
        }
        let metric_of = |field: &str| -> Option<f64> {
            KEY_METRICS
                .iter()
                .zip(&metric_lines)
                .find(|(k, _)| k.field == field)
                .and_then(|(_, (_, l))| l.value)
        };

        let tickets = sqlx::query(
            "SELECT SUM(CASE WHEN solved_at >= $2 AND solved_at <= $3 THEN 1 ELSE 0 END) AS resolved,
                    SUM(CASE WHEN created_at <= $3 AND (solved_at IS NULL OR solved_at > $3) THEN 1 ELSE 0 END) AS open
             FROM tickets WHERE organization_id = $1 AND deleted = 0",
        )
        .bind(p.organization_id)
        .bind(from)
        .bind(as_of)
        .fetch_one(&mut *conn)
        .await?;
        let tickets_resolved = row_f64(&tickets, "resolved")? as i64;
        let tickets_open = row_f64(&tickets, "open")? as i64;

        let open_risks: Vec<&Risk> = risks
            .iter()
            .filter(|r| r.status != RiskStatus::Resolved)
            .collect();
        let risk_line = |r: &Risk| RiskLine {
            id: r.id,
            title: r.title.clone(),
            kind: r.kind.as_str().into(),
            probability: r.probability.as_str().into(),
            impact: r.impact.as_str().into(),
            score: r.score(),
            rag: r.rag().as_str().into(),
            status: r.status.as_str().into(),
            owner: name_of(r.owner_id),
            mitigation: r.mitigation.clone(),
        };
        let band = |rag: Rag| -> Vec<RiskLine> {
            let mut v: Vec<RiskLine> = open_risks
                .iter()
                .filter(|r| r.rag() == rag)
                .map(|r| risk_line(r))
                .collect();
            v.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
            v
        };

        let blocked: Vec<&ProjectTask> = tasks
            .iter()
            .filter(|t| t.task.status == TaskStatus::Blocked)
            .collect();
        let mut critical_blockers: Vec<String> = blocked
            .iter()
            .map(|t| format!("Blocked: {} ({})", t.task.title, lead_of(t)))
            .collect();
        critical_blockers.extend(
            open_risks
                .iter()
                .filter(|r| r.rag() == Rag::Red)
                .map(|r| format!("Red risk: {} (score {})", r.title, r.score())),
        );
        critical_blockers.extend(
            milestones
                .iter()
                .filter(|m| m.critical_at_risk(ov.today))
                .map(|m| {
                    format!(
                        "Critical-path milestone at risk: {} (planned {})",
                        m.name, m.planned_date
                    )
                }),
        );
        critical_blockers.extend(
            p.technical_blockers
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| format!("Technical: {l}")),
        );
        let decisions_needed: Vec<String> = open_risks
            .iter()
            .filter(|r| r.status == RiskStatus::Escalated)
            .map(|r| format!("how to handle the escalated risk \"{}\"", r.title))
            .collect();

        let hours_budget: f64 = hours.iter().map(|h| h.budget).sum();
        let hours_actual: f64 = hours.iter().map(|h| h.actual).sum();
        let hours_this_week: f64 = entries
            .iter()
            .filter(|e| e.logged_on >= week_start && e.logged_on <= week_ending)
            .map(|e| e.hours)
            .sum();
        let mut resources: BTreeMap<(String, String), ResourceLine> = BTreeMap::new();
        for h in &hours {
            let line = resources
                .entry((h.side.as_str().to_string(), h.role.clone()))
                .or_insert_with(|| ResourceLine {
                    side: h.side.as_str().into(),
                    role: h.role.clone(),
                    budget: 0.0,
                    actual: 0.0,
                });
            line.budget += h.budget;
            line.actual += h.actual;
        }
        let mut resources: Vec<ResourceLine> = resources.into_values().collect();
        for r in &mut resources {
            r.budget = round1(r.budget);
            r.actual = round1(r.actual);
        }
        resources.sort_by(|a, b| b.side.cmp(&a.side).then(a.role.cmp(&b.role)));

        let not_done_at = |m: &&Milestone| m.status != MilestoneStatus::Completed;
        let milestones_at_risk = milestones
            .iter()
            .filter(not_done_at)
            .filter(|m| m.overdue(ov.today) || m.status == MilestoneStatus::AtRisk)
            .count();
        let milestones_on_track =
            milestones.iter().filter(not_done_at).count() - milestones_at_risk;

        let mut team = Vec::new();
        if let Some(o) = p.owner_id {
            team.push(format!("{} (owner)", name_of(Some(o))));
        }
        for (role, id) in &p.assignments {
            team.push(format!(
                "{} ({})",
                name_of(Some(*id)),
                role.replace('_', " ")
            ));
        }

        let pipeline: i64 = opportunities.iter().map(|o| o.arr_cents).sum();
        let weighted: i64 = opportunities
            .iter()
            .map(|o| o.arr_cents * o.probability_pct / 100)
            .sum();

        let mut action_items: Vec<&ProjectTask> = tasks
            .iter()
            .filter(|t| t.task.status != TaskStatus::Completed)
            .filter(|t| {
                t.task
                    .due_at
                    .is_some_and(|d| d <= start_of(plus_days(week_ending, 15), &tz))
            })
            .collect();
        action_items.sort_by_key(|t| (t.task.due_at, t.task.id));

        let in_week = |d: Date| d >= week_start && d <= week_ending;
        let in_next = |d: Date| d > week_ending && d <= next_end;
        let task_due = |t: &ProjectTask| t.task.due_at.map(|d| local_date(d, &tz));
        let report = StatusReport {
            header: Header {
                project: p.name.clone(),
                project_id: p.id,
                account: account.clone(),
                week_ending: week_ending.to_string(),
                day: ov.day,
                total_days: ov.total_days,
                phase: ov.phase_name.clone(),
                recipient,
                prepared_by: name_of(p.owner_id),
            },
            summary: Summary {
                health: ov.health.report_colour().into(),
                timeline_health: ov.health.as_str().into(),
                go_live_date: p.go_live_date.to_string(),
                target_go_live: p.target_go_live.to_string(),
                go_live_on_track: p.go_live_date <= p.target_go_live
                    && ov.health != steward_domain::project::Health::Delayed,
                budget_spent_pct: match (p.spend_cents, p.budget_cents) {
                    (Some(s), Some(b)) if b > 0 => Some(round1(s as f64 * 100.0 / b as f64)),
                    _ => None,
                },
                hours_used_pct: if hours_budget > 0.0 {
                    round1(hours_actual * 100.0 / hours_budget)
                } else {
                    0.0
                },
                actual_pct: ov.completion_pct,
                planned_pct: ov.planned_pct,
                critical_blockers,
                key_metrics: metric_lines
                    .iter()
                    .filter(|(s, l)| *s == Section::Key || l.status == "red")
                    .map(|(_, l)| l.clone())
                    .collect(),
                decisions_needed,
            },
            accomplished: Accomplished {
                milestones: milestones
                    .iter()
                    .filter(|m| m.actual_date.is_some_and(in_week))
                    .map(milestone_line)
                    .collect(),
                tasks_completed: tasks
                    .iter()
                    .filter(|t| t.task.completed_at.is_some_and(|c| c >= from && c <= as_of))
                    .map(|t| format!("{} ({})", t.task.title, lead_of(t)))
                    .collect(),
                blockers_resolved: risks
                    .iter()
                    .filter(|r| r.resolved_at.is_some_and(|t| t >= from && t <= as_of))
                    .map(|r| r.title.clone())
                    .collect(),
                metrics: metric_lines
                    .iter()
                    .filter(|(_, l)| l.value.is_some() && l.last_week.is_some())
                    .map(|(_, l)| l.clone())
                    .collect(),
            },
            next_week: NextWeek {
                milestones: milestones
                    .iter()
                    .filter(|m| m.status != MilestoneStatus::Completed && in_next(m.planned_date))
                    .map(milestone_line)
                    .collect(),
                activities: tasks
                    .iter()
                    .filter(|t| t.task.status != TaskStatus::Completed)
                    .filter(|t| task_due(t).is_some_and(in_next))
                    .map(activity)
                    .collect(),
                customer_dependencies: tasks
                    .iter()
                    .filter(|t| t.task.status != TaskStatus::Completed)
                    .filter(|t| {
                        t.owner_role
                            .as_deref()
                            .is_some_and(|r| p.is_customer_role(r))
                    })
                    .filter(|t| task_due(t).is_some_and(|d| d <= next_end))
                    .map(activity)
                    .collect(),
            },
            risks: RiskSection {
                red: band(Rag::Red),
                yellow: band(Rag::Yellow),
                green: band(Rag::Green),
            },
            expansion: Expansion {
                opportunities: opportunities
                    .iter()
                    .map(|o| OpportunityLine {
                        title: o.title.clone(),
                        arr_cents: o.arr_cents,
                        effort: o.effort.as_str().into(),
                        probability_pct: o.probability_pct,
                    })
                    .collect(),
                pipeline_cents: pipeline,
                weighted_cents: weighted,
            },
            facts: QuickFacts {
                days_completed: ov.day,
                total_days: ov.total_days,
                milestones_completed: ov.milestones_completed,
                milestones_on_track,
                milestones_at_risk,
                blockers: blocked.len() + open_risks.iter().filter(|r| r.rag() == Rag::Red).count(),
                tickets_resolved,
                tickets_open,
                uat_pass_pct: metric_of("uat_pass_pct"),
                data_validation_pct: metric_of("validation_pass_rate_pct"),
                training_pct: metric_of("training_completion_pct"),
                budget_cents: p.budget_cents,
                spend_cents: p.spend_cents,
                budget_variance_cents: match (p.spend_cents, p.budget_cents) {
                    (Some(s), Some(b)) => Some(s - b),
                    _ => None,
                },
                hours_budget: round1(hours_budget),
                hours_actual: round1(hours_actual),
                hours_this_week: round1(hours_this_week),
                acv_cents: acv,
                team,
            },
            appendix: Appendix {
                milestones: milestones.iter().map(milestone_line).collect(),
                risks: risks.iter().map(risk_line).collect(),
                action_items: action_items.iter().map(|t| activity(t)).collect(),
                testing: metric_lines
                    .iter()
                    .filter(|(s, _)| *s == Section::Testing)
                    .map(|(_, l)| l.clone())
                    .collect(),
                performance: metric_lines
                    .iter()
                    .filter(|(s, _)| *s == Section::Performance)
                    .map(|(_, l)| l.clone())
                    .collect(),
                resources,
                readiness: ov
                    .readiness
                    .iter()
                    .map(|c| ReadinessLine {
                        item: c.item.clone(),
                        green: c.green,
                        evidence: c.evidence.clone(),
                    })
                    .collect(),
            },
        };
        Ok(report)
    }

    /// The mean of every series of `org` over the week `from..=as_of` and
    /// over the seven days before it, keyed by (metric, field); `None` where
    /// a week has no measurement. One query for all of a report's metrics
    /// (a query per metric and week was half of a report's statements);
    /// the `IN` lists of the key metrics let it probe the series index
    /// instead of reading every series of the account.
    async fn weekly_means(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
        from: i64,
        as_of: i64,
    ) -> Result<BTreeMap<(String, String), (Option<f64>, Option<f64>)>> {
        // The names are the constants of KEY_METRICS, never input.
        let quoted = |names: Vec<&str>| {
            let mut names: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            names.sort();
            names.dedup();
            names.join(", ")
        };
        let metrics = quoted(KEY_METRICS.iter().map(|k| k.metric.as_str()).collect());
        let fields = quoted(KEY_METRICS.iter().map(|k| k.field).collect());
        let rows = sqlx::query(&format!(
            "SELECT metric, field,
                    COUNT(CASE WHEN measured_at >= $2 THEN 1 END) AS n_this,
                    AVG(CASE WHEN measured_at >= $2 THEN value END) AS v_this,
                    COUNT(CASE WHEN measured_at < $2 THEN 1 END) AS n_last,
                    AVG(CASE WHEN measured_at < $2 THEN value END) AS v_last
             FROM measurements
             WHERE organization_id = $1 AND metric IN ({metrics}) AND field IN ({fields})
               AND measured_at >= $3 AND measured_at <= $4
             GROUP BY metric, field"
        ))
        .bind(org)
        .bind(from)
        .bind(from - 7 * 86_400)
        .bind(as_of)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let mean = |n: &str, v: &str| -> Result<Option<f64>> {
                let n: i64 = r.try_get(n)?;
                (n > 0).then(|| row_f64(&r, v)).transpose()
            };
            out.insert(
                (r.try_get("metric")?, r.try_get("field")?),
                (mean("n_this", "v_this")?, mean("n_last", "v_last")?),
            );
        }
        Ok(out)
    }

    /// The account's executive sponsor as a contact: (name, e-mail).
    async fn sponsor_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        org: i64,
    ) -> Result<Option<(String, String)>> {
        self.contact_with_role_in(conn, org, ContactRole::ExecutiveSponsor)
            .await
    }

    // -- stored reports -------------------------------------------------

    /// Makes (or refreshes, while a draft) the report of a week.
    pub async fn generate_status_report(
        &self,
        actor: &Actor,
        project: i64,
        week_ending: &str,
        now: i64,
    ) -> Result<StoredReport> {
        may_write(actor)?;
        let week = parse_date(week_ending).map_err(|e| StoreError::invalid("week_ending", e.0))?;
        let mut tx = self.begin().await?;
        let p = self.project_in(&mut tx, project).await?;
        if week < p.start_date {
            return Err(StoreError::invalid(
                "week_ending",
                format!("the project starts on {}", p.start_date),
            ));
        }
        let id = self.save_report(&mut tx, &p, week, now, true).await?;
        let r = self.stored_report_in(&mut tx, project, id).await?;
        self.commit(tx).await?;
        Ok(r)
    }

    /// Inserts or refreshes the report of a week in `tx`; returns its id.
    /// With `refresh` false an existing report is left as it is.
    async fn save_report(
        &self,
        tx: &mut crate::Tx,
        p: &Project,
        week: Date,
        now: i64,
        refresh: bool,
    ) -> Result<i64> {
        let existing = sqlx::query(&format!(
            "SELECT id, state FROM status_reports WHERE project_id = $1 AND week_ending = $2{}",
            self.for_update()
        ))
        .bind(p.id)
        .bind(week.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(e) = &existing {
            let id: i64 = e.try_get("id")?;
            if !refresh {
                return Ok(id);
            }
            if e.try_get::<String, _>("state")? == "sent" {
                return Err(StoreError::Conflict(format!(
                    "the report for the week ending {week} was already sent"
                )));
            }
        }
        let report = self.compute_status_report_in(tx, p, week, now).await?;
        let data = serde_json::to_string(&report)?;
        match existing {
            Some(e) => {
                let id: i64 = e.try_get("id")?;
                sqlx::query("UPDATE status_reports SET data = $1, health = $2, updated_at = $3 WHERE id = $4")
                    .bind(&data)
                    .bind(&report.summary.health)
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                Ok(id)
            }
            None => {
                let row = sqlx::query(
                    "INSERT INTO status_reports (project_id, week_ending, health, owner_id, state, data, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, 'draft', $5, $6, $6) RETURNING id",
                )
                .bind(p.id)
                .bind(week.to_string())
                .bind(&report.summary.health)
                .bind(p.owner_id)
                .bind(&data)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                Ok(row.try_get("id")?)
            }
        }
    }

    async fn stored_report_in(
        &self,
        conn: &mut sqlx::AnyConnection,
        project: i64,
        id: i64,
    ) -> Result<StoredReport> {
        let row = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM status_reports WHERE id = $1 AND project_id = $2"
        ))
        .bind(id)
        .bind(project)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| stored_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("status report"))
    }

    pub async fn status_report(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
    ) -> Result<StoredReport> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.stored_report_in(&mut conn, project, id).await
    }

    /// The stored report of a week, if there is one (for the CLI).
    pub async fn status_report_for_week(
        &self,
        project: i64,
        week: Date,
    ) -> Result<Option<StoredReport>> {
        let mut conn = self.reader().await?;
        let row = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM status_reports WHERE project_id = $1 AND week_ending = $2"
        ))
        .bind(project)
        .bind(week.to_string())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| stored_from_row(&r)).transpose()
    }

    /// A project's reports, newest week first.
    pub async fn status_reports(&self, actor: &Actor, project: i64) -> Result<Vec<StoredReport>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        self.project_in(&mut conn, project).await?;
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM status_reports WHERE project_id = $1 ORDER BY week_ending DESC"
        ))
        .bind(project)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter().map(stored_from_row).collect()
    }

    /// The CSM's review: notes and recipient of a draft.
    pub async fn edit_status_report(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
        notes: Option<Notes>,
        recipient: Option<String>,
        now: i64,
    ) -> Result<StoredReport> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let r = self.stored_report_in(&mut tx, project, id).await?;
        if r.state == "sent" {
            return Err(StoreError::Conflict(
                "a sent report cannot be edited".into(),
            ));
        }
        if let Some(to) = &recipient {
            steward_domain::Email::parse(to).map_err(|e| StoreError::invalid("recipient", e.0))?;
        }
        sqlx::query(
            "UPDATE status_reports SET notes = $1, recipient = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(serde_json::to_string(&notes.unwrap_or(r.notes))?)
        .bind(recipient.or(r.recipient))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let r = self.stored_report_in(&mut tx, project, id).await?;
        self.commit(tx).await?;
        Ok(r)
    }

    /// Sends a report: the e-mail (HTML and text) goes to the outbox in the
    /// transaction that marks the report sent. The recipient is the one set
    /// on the report, else the account's executive sponsor contact. The
    /// covering note above the report is the `weekly_status` template of
    /// §16 (its subject is the e-mail's); `base_url` makes the report's link.
    pub async fn send_status_report(
        &self,
        actor: &Actor,
        project: i64,
        id: i64,
        base_url: &str,
        now: i64,
    ) -> Result<StoredReport> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let r = self.stored_report_in(&mut tx, project, id).await?;
        if r.state == "sent" {
            return Err(StoreError::Conflict("this report was already sent".into()));
        }
        let p = self.project_in(&mut tx, project).await?;
        let sponsor = self.sponsor_in(&mut tx, p.organization_id).await?;
        let to = match (r.recipient.clone(), &sponsor) {
            (Some(t), _) => t,
            (None, Some((_, e))) => e.clone(),
            (None, None) => {
                return Err(StoreError::invalid(
                    "recipient",
                    "the account has no executive sponsor contact; set a recipient",
                ));
            }
        };
        let html = status_report::render(&r.report, &r.notes, Format::Html)
            .map_err(StoreError::Corrupt)?;
        let text = status_report::render(&r.report, &r.notes, Format::Text)
            .map_err(StoreError::Corrupt)?;
        // The covering note is the §16 weekly status template, greeting the
        // sponsor by name when the report goes to them.
        let name = sponsor
            .filter(|(_, e)| *e == to)
            .map(|(n, _)| n)
            .unwrap_or_else(|| "team".into());
        let mut ctx = self
            .project_context_in(&mut tx, &p, &(name, to.clone()), r.week_ending)
            .await?;
        let summary = if r.notes.summary.trim().is_empty() {
            let s = &r.report.summary;
            format!(
                "{} % complete against {} % planned; {} critical blocker(s).",
                s.actual_pct,
                s.planned_pct,
                s.critical_blockers.len()
            )
        } else {
            r.notes.summary.clone()
        };
        ctx.set(Object::Report, "title", "Weekly status report");
        ctx.set(
            Object::Report,
            "period",
            format!("week ending {}", r.week_ending),
        );
        ctx.set(Object::Report, "health", r.report.summary.health.clone());
        ctx.set(Object::Report, "summary", summary);
        ctx.set(
            Object::Report,
            "url",
            format!("{base_url}/api/v2/projects/{project}/status_reports/{id}/render"),
        );
        let note = self
            .render_template_in(&mut tx, "weekly_status", &ctx)
            .await?;
        let html = match html
            .find("<body")
            .and_then(|b| html[b..].find('>').map(|e| b + e + 1))
        {
            Some(at) => format!("{}\n{}<hr>\n{}", &html[..at], note.html, &html[at..]),
            None => format!("{}<hr>\n{html}", note.html),
        };
        let payload = json!({
            "to": to,
            "subject": note.subject,
            "text": format!("{}\n\n{text}", note.text.trim_end()),
            "html": html,
            "headers": {
                "Message-ID": format!("<status-report-{id}@{MESSAGE_ID_DOMAIN}>"),
            },
            "status_report_id": id,
        });
        self.enqueue(
            &mut tx,
            "email",
            &format!("email:status-report-{id}:{to}"),
            &payload,
            now,
        )
        .await?;
        sqlx::query("UPDATE status_reports SET state = 'sent', recipient = $1, sent_at = $2, updated_at = $2 WHERE id = $3")
            .bind(&to)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let r = self.stored_report_in(&mut tx, project, id).await?;
        self.commit(tx).await?;
        Ok(r)
    }

    /// The Friday drafts (see the module docs). Returns how many were made.
    /// Cheap when there is nothing to do: projects are checked on a read
    /// connection and only a due draft takes the writer.
    pub async fn make_friday_drafts(&self, now: i64) -> Result<usize> {
        let due: Vec<(i64, Date)> = {
            let mut conn = self.reader().await?;
            let rows = sqlx::query(
                "SELECT id, calendar, start_date FROM projects WHERE status = $1 ORDER BY id",
            )
            .bind(ProjectStatus::Active.as_str())
            .fetch_all(&mut *conn)
            .await?;
            let calendars = self.calendars_in(&mut conn).await?;
            let mut due = Vec::new();
            for r in rows {
                let id: i64 = r.try_get("id")?;
                let name: String = r.try_get("calendar")?;
                let Some(cal) = calendars.calendar(&name) else {
                    continue;
                };
                let local = jiff::Timestamp::from_second(now)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                    .to_zoned_datetime(cal.time_zone().clone());
                let today = local.date();
                if today.weekday() != jiff::civil::Weekday::Friday
                    || local.hour() < 9
                    || today < date_col(&r, "start_date")?
                {
                    continue;
                }
                let exists = sqlx::query(
                    "SELECT id FROM status_reports WHERE project_id = $1 AND week_ending = $2",
                )
                .bind(id)
                .bind(today.to_string())
                .fetch_optional(&mut *conn)
                .await?;
                if exists.is_none() {
                    due.push((id, today));
                }
            }
            due
        };
        // Drafts are committed in groups of DRAFTS_PER_COMMIT: on SQLite
        // each commit waits for a WAL fsync, about a fifth of a draft's
        // cost. Safe because the job is idempotent (an existing draft is
        // left alone) and runs every minute: a group that fails is made on
        // the next run. A group holds the writer for ~20 × 2 ms.
        let mut made = 0;
        for group in due.chunks(DRAFTS_PER_COMMIT) {
            let mut tx = self.begin().await?;
            for &(id, today) in group {
                let p = self.project_in(&mut tx, id).await?;
                let cal = self.project_calendar(&mut tx, &p.calendar).await?;
                let report = self.save_report(&mut tx, &p, today, now, false).await?;
                let due_at = Some(at_hour(today, 15, cal.time_zone()));
                self.create_task_tx(
                    &mut tx,
                    NewTask {
                        title: format!("Review and send the weekly status report of {}", p.name),
                        description: format!(
                            "The draft for the week ending {today} is ready: /api/v2/projects/{id}/status_reports/{report}"
                        ),
                        owner_id: p.owner_id,
                        due_at,
                        priority: Priority::High,
                        ticket_id: None,
                        organization_id: Some(p.organization_id),
                        created_by: CreatedBy::System,
                    },
                    now,
                )
                .await?;
            }
            self.commit(tx).await?;
            made += group.len();
        }
        Ok(made)
    }
}

/// Friday drafts per transaction (see `make_friday_drafts`).
const DRAFTS_PER_COMMIT: usize = 20;

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Metric values keep two decimals: 99.95 % and 99.91 % uptime differ.
fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
