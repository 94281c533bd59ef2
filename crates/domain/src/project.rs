//! Implementation projects (policies.md §13): the template as data, the
//! working-day schedule it unfolds into, and the rules a project is judged
//! by — dependency cycles, risk scores and RAG, decision levels, timeline
//! health, go-live readiness and the resource budget.
//!
//! A template is JSON an admin may edit ([`Template`]); the shipped one is
//! [`thirty_day`]. Days are *working days* of the business calendar: day 1
//! is the start date when that is a working day, else the next one, and
//! day N is the Nth working day counted from there (weekends and the
//! calendar's holidays skipped).

use std::collections::{BTreeMap, BTreeSet};

use jiff::{ToSpan, civil::Date};
use serde::{Deserialize, Serialize};

use crate::{Calendar, ParseError, Priority, string_enum};

string_enum! {
    /// §13's milestone types.
    MilestoneKind, "milestone type" {
        Kickoff => "kickoff",
        Training => "training",
        PhaseComplete => "phase-complete",
        GoLive => "go-live",
        Optimization => "optimization",
        Review => "review",
    }
}

string_enum! {
    MilestoneStatus, "milestone status" {
        Scheduled => "scheduled",
        InProgress => "in-progress",
        Completed => "completed",
        AtRisk => "at-risk",
    }
}

string_enum! {
    RiskKind, "risk type" {
        Technical => "technical",
        Budget => "budget",
        Timeline => "timeline",
        Organizational => "organizational",
        ProductFit => "product-fit",
    }
}

string_enum! {
    /// Probability and impact of a risk: low = 1, medium = 2, high = 3.
    Likelihood, "level (low, medium, high)" {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
}

impl Likelihood {
    pub fn points(self) -> u8 {
        match self {
            Likelihood::Low => 1,
            Likelihood::Medium => 2,
            Likelihood::High => 3,
        }
    }
}

string_enum! {
    /// The risk workflow: identified → monitoring → escalated → resolved
    /// (any step may be skipped; a resolved risk may be reopened).
    RiskStatus, "risk status" {
        Identified => "identified",
        Monitoring => "monitoring",
        Escalated => "escalated",
        Resolved => "resolved",
    }
}

/// Red / amber (yellow) / green: the same scale as baseline metrics.
pub use crate::metrics::Rag;

string_enum! {
    /// Timeline health (§13).
    Health, "timeline health" {
        OnTrack => "on-track",
        AtRisk => "at-risk",
        Delayed => "delayed",
    }
}

impl Health {
    /// The status report's GREEN / YELLOW / RED.
    pub fn report_colour(self) -> &'static str {
        match self {
            Health::OnTrack => "GREEN",
            Health::AtRisk => "YELLOW",
            Health::Delayed => "RED",
        }
    }
}

string_enum! {
    ProjectStatus, "project status" {
        Active => "active",
        Completed => "completed",
        Cancelled => "cancelled",
    }
}

string_enum! {
    /// Whose hours: the customer's team or ours.
    Side, "side (customer, vendor)" {
        Customer => "customer",
        Vendor => "vendor",
    }
}

/// Score of a risk: probability × impact (1–9).
pub fn risk_score(probability: Likelihood, impact: Likelihood) -> u8 {
    probability.points() * impact.points()
}

/// §13: score ≥ 6 red, 3–4 yellow, ≤ 2 green. (5 cannot occur.)
pub fn risk_rag(score: u8) -> Rag {
    match score {
        0..=2 => Rag::Green,
        3..=5 => Rag::Yellow,
        _ => Rag::Red,
    }
}

/// Decision levels (§13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DecisionLevel {
    /// Tactical, daily, the technical CSM.
    L1,
    /// Operational, weekly, CS Manager + customer project lead.
    L2,
    /// Strategic, monthly, customer executive + CS Manager + VP Engineering.
    L3,
}

impl DecisionLevel {
    pub const ALL: &'static [DecisionLevel] =
        &[DecisionLevel::L1, DecisionLevel::L2, DecisionLevel::L3];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionLevel::L1 => "L1",
            DecisionLevel::L2 => "L2",
            DecisionLevel::L3 => "L3",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L1" | "1" => Ok(DecisionLevel::L1),
            "L2" | "2" => Ok(DecisionLevel::L2),
            "L3" | "3" => Ok(DecisionLevel::L3),
            other => Err(ParseError::new(format!(
                "{other} is not a decision level (expected L1, L2 or L3)"
            ))),
        }
    }

    /// Who decides at this level, in §13's words.
    pub fn deciders(self) -> &'static str {
        match self {
            DecisionLevel::L1 => "technical CSM",
            DecisionLevel::L2 => "CS Manager and customer project lead",
            DecisionLevel::L3 => "customer executive, CS Manager and VP Engineering",
        }
    }

    /// How often this level meets.
    pub fn cadence(self) -> &'static str {
        match self {
            DecisionLevel::L1 => "daily",
            DecisionLevel::L2 => "weekly",
            DecisionLevel::L3 => "monthly",
        }
    }
}

impl std::fmt::Display for DecisionLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DecisionLevel {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a decision changes, for [`required_level`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DecisionImpact {
    /// Calendar days the timeline moves (0 when none).
    pub timeline_days: i64,
    /// Scope change in percent of the plan.
    pub scope_pct: f64,
    /// Budget overrun in percent.
    pub budget_overrun_pct: f64,
}

/// The lowest level allowed to take a decision with this impact, and why.
///
/// §13 reads: L1 escalates when the timeline impact is over 2 days; L2
/// covers timeline changes under 2 weeks and scope under 20 % and escalates
/// when the timeline impact is over 1 week; L3 takes timelines over 2
/// weeks, scope over 20 % and budget overruns over 10 %. Steward applies the
/// escalation thresholds, the stricter reading: over 2 days needs L2, over
/// 7 days, scope of 20 % or more, or a budget overrun over 10 % needs L3.
/// Any scope change at all is at least L2 (a tactical call does not change
/// scope).
pub fn required_level(impact: DecisionImpact) -> (DecisionLevel, String) {
    let DecisionImpact {
        timeline_days,
        scope_pct,
        budget_overrun_pct,
    } = impact;
    if timeline_days > 7 {
        return (
            DecisionLevel::L3,
            format!("a timeline impact of {timeline_days} days is over 1 week"),
        );
    }
    if scope_pct >= 20.0 {
        return (
            DecisionLevel::L3,
            format!("a scope change of {scope_pct} % is 20 % or more"),
        );
    }
    if budget_overrun_pct > 10.0 {
        return (
            DecisionLevel::L3,
            format!("a budget overrun of {budget_overrun_pct} % is over 10 %"),
        );
    }
    if timeline_days > 2 {
        return (
            DecisionLevel::L2,
            format!("a timeline impact of {timeline_days} days is over 2 days"),
        );
    }
    if scope_pct > 0.0 {
        return (
            DecisionLevel::L2,
            format!("a scope change of {scope_pct} % is not tactical"),
        );
    }
    if budget_overrun_pct > 0.0 {
        return (
            DecisionLevel::L2,
            format!("a budget overrun of {budget_overrun_pct} % is not tactical"),
        );
    }
    (
        DecisionLevel::L1,
        "no timeline, scope or budget impact".into(),
    )
}

/// The cycle a set of dependencies contains, if any, as the path
/// `a → b → … → a` (each edge is `(item, depends_on)`).
pub fn find_cycle<K: Ord + Clone>(edges: &[(K, K)]) -> Option<Vec<K>> {
    let mut graph: BTreeMap<&K, Vec<&K>> = BTreeMap::new();
    for (a, b) in edges {
        graph.entry(a).or_default().push(b);
        graph.entry(b).or_default();
    }
    // Iterative three-colour depth-first search.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&K, Colour> = graph.keys().map(|k| (*k, Colour::White)).collect();
    for &root in graph.keys() {
        if colour[root] != Colour::White {
            continue;
        }
        let mut stack: Vec<(&K, usize)> = vec![(root, 0)];
        colour.insert(root, Colour::Grey);
        while let Some((node, next)) = stack.last().copied() {
            let children = &graph[node];
            if next == children.len() {
                colour.insert(node, Colour::Black);
                stack.pop();
                continue;
            }
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let child = children[next];
            match colour[child] {
                Colour::White => {
                    colour.insert(child, Colour::Grey);
                    stack.push((child, 0));
                }
                Colour::Grey => {
                    let start = stack.iter().position(|(k, _)| *k == child).unwrap_or(0);
                    let mut cycle: Vec<K> =
                        stack[start..].iter().map(|(k, _)| (*k).clone()).collect();
                    cycle.push(child.clone());
                    return Some(cycle);
                }
                Colour::Black => {}
            }
        }
    }
    None
}

/// The working days of `cal` from `start`: element 0 is day 1.
pub fn working_days(cal: &Calendar, start: Date, count: usize) -> Vec<Date> {
    let mut out = Vec::with_capacity(count);
    let mut d = start;
    // A calendar open on no weekday cannot be built, so this terminates;
    // the guard bounds pathological holiday lists all the same.
    let mut guard = 0;
    while out.len() < count && guard < count * 7 + 3660 {
        if cal.is_working_day(d) {
            out.push(d);
        }
        d = match d.checked_add(1.day()) {
            Ok(next) => next,
            Err(_) => break,
        };
        guard += 1;
    }
    out
}

/// Day number of `date` in a plan whose working days are `days` (day 1 is
/// `days[0]`): the number of working days up to and including `date`,
/// 0 before the start. Beyond the listed days it stays at `days.len()`.
pub fn day_number(days: &[Date], date: Date) -> usize {
    days.partition_point(|d| *d <= date)
}

// ---------------------------------------------------------------------
// Templates

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Length of the plan in working days.
    pub days: u32,
    pub phases: Vec<PhaseDef>,
    pub milestones: Vec<MilestoneDef>,
    #[serde(default)]
    pub tasks: Vec<TaskDef>,
    #[serde(default)]
    pub checklist: Vec<ChecklistDef>,
    #[serde(default)]
    pub handoffs: Vec<HandoffDef>,
    #[serde(default)]
    pub resources: Vec<ResourceDef>,
    #[serde(default)]
    pub budget_hours: BudgetHours,
    #[serde(default)]
    pub success_criteria: Vec<CriterionDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseDef {
    pub number: u32,
    pub name: String,
    pub first_day: u32,
    pub last_day: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneDef {
    pub key: String,
    pub name: String,
    pub day: u32,
    pub kind: MilestoneKind,
    #[serde(default)]
    pub critical_path: bool,
    #[serde(default)]
    pub deliverables: Vec<String>,
    #[serde(default)]
    pub success_criteria: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskDef {
    pub key: String,
    pub title: String,
    pub day: u32,
    /// A resource role (`csm`, `engineering`, `project_lead`, ...): who
    /// owns the task once the project assigns people to roles.
    pub owner_role: String,
    #[serde(default = "normal")]
    pub priority: Priority,
    #[serde(default)]
    pub milestone: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

fn normal() -> Priority {
    Priority::Normal
}

/// How a readiness item turns green.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReadinessRule {
    /// A baseline metric at or above a value: the mean over the last
    /// `window_days` days, or the latest measurement when no window.
    Metric {
        metric: String,
        field: String,
        at_least: f64,
        #[serde(default)]
        window_days: Option<u32>,
    },
    /// A milestone of the plan completed.
    Milestone { milestone: String },
    /// A task of the plan completed.
    Task { task: String },
    /// A person ticks it, with a note.
    Manual { manual: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistDef {
    pub key: String,
    pub item: String,
    pub rule: ReadinessRule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffDef {
    pub key: String,
    pub name: String,
    pub day: u32,
    pub checklist: Vec<String>,
    #[serde(default)]
    pub overlap: Vec<OverlapDef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlapDef {
    pub first_day: u32,
    pub last_day: Option<u32>,
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDef {
    pub side: Side,
    pub role: String,
    pub hours_per_week: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetHours {
    #[serde(default)]
    pub customer: f64,
    #[serde(default)]
    pub vendor: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionDef {
    pub key: String,
    pub text: String,
}

/// The shipped 30-day template of §13.
pub fn thirty_day() -> Template {
    // Checked by a unit test, so this cannot fail at run time.
    serde_json::from_str(THIRTY_DAY_JSON).unwrap_or_else(|_| Template {
        name: "30-day implementation".into(),
        description: String::new(),
        days: 30,
        phases: Vec::new(),
        milestones: Vec::new(),
        tasks: Vec::new(),
        checklist: Vec::new(),
        handoffs: Vec::new(),
        resources: Vec::new(),
        budget_hours: BudgetHours::default(),
        success_criteria: Vec::new(),
    })
}

pub const THIRTY_DAY_JSON: &str = include_str!("project/thirty_day.json");

impl Template {
    /// Every problem with the template, each with the path it is at.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        if self.name.trim().is_empty() {
            errors.push("name: is required".to_string());
        }
        if self.days == 0 || self.days > 365 {
            errors.push("days: must be between 1 and 365".to_string());
        }
        if self.phases.is_empty() {
            errors.push("phases: at least one phase is required".to_string());
        }
        let mut expected = 1;
        for (i, p) in self.phases.iter().enumerate() {
            if p.number as usize != i + 1 {
                errors.push(format!("phases[{i}].number: expected {}", i + 1));
            }
            if p.first_day != expected || p.last_day < p.first_day {
                errors.push(format!(
                    "phases[{i}]: days {}–{} must start at day {expected} and not end before they start",
                    p.first_day, p.last_day
                ));
            }
            expected = p.last_day + 1;
        }
        if !self.phases.is_empty() && expected != self.days + 1 {
            errors.push(format!(
                "phases: must cover days 1–{} exactly (they end at day {})",
                self.days,
                expected - 1
            ));
        }
        let mut keys = BTreeSet::new();
        for (i, m) in self.milestones.iter().enumerate() {
            if !keys.insert(m.key.as_str()) {
                errors.push(format!("milestones[{i}].key: {} is used twice", m.key));
            }
            if m.day == 0 || m.day > self.days {
                errors.push(format!(
                    "milestones[{i}].day: {} is outside days 1–{}",
                    m.day, self.days
                ));
            }
        }
        let milestone_keys = keys;
        let mut task_keys = BTreeSet::new();
        for (i, t) in self.tasks.iter().enumerate() {
            if !task_keys.insert(t.key.as_str()) {
                errors.push(format!("tasks[{i}].key: {} is used twice", t.key));
            }
            if t.day == 0 || t.day > self.days {
                errors.push(format!(
                    "tasks[{i}].day: {} is outside days 1–{}",
                    t.day, self.days
                ));
            }
            if let Some(m) = &t.milestone
                && !milestone_keys.contains(m.as_str())
            {
                errors.push(format!("tasks[{i}].milestone: no milestone {m}"));
            }
        }
        let mut edges = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            for d in &t.depends_on {
                if !task_keys.contains(d.as_str()) {
                    errors.push(format!("tasks[{i}].depends_on: no task {d}"));
                } else {
                    edges.push((t.key.clone(), d.clone()));
                }
            }
        }
        if let Some(cycle) = find_cycle(&edges) {
            errors.push(format!("tasks: dependency cycle {}", cycle.join(" → ")));
        }
        for (i, c) in self.checklist.iter().enumerate() {
            match &c.rule {
                ReadinessRule::Milestone { milestone }
                    if !milestone_keys.contains(milestone.as_str()) =>
                {
                    errors.push(format!("checklist[{i}].rule: no milestone {milestone}"))
                }
                ReadinessRule::Task { task } if !task_keys.contains(task.as_str()) => {
                    errors.push(format!("checklist[{i}].rule: no task {task}"))
                }
                _ => {}
            }
        }
        for (i, h) in self.handoffs.iter().enumerate() {
            if h.day == 0 || h.day > self.days {
                errors.push(format!(
                    "handoffs[{i}].day: {} is outside days 1–{}",
                    h.day, self.days
                ));
            }
        }
        for (i, r) in self.resources.iter().enumerate() {
            if !(r.hours_per_week.is_finite() && r.hours_per_week >= 0.0) {
                errors.push(format!("resources[{i}].hours_per_week: must be 0 or more"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The phase a day falls in (the last phase for days past the end).
    pub fn phase_of(&self, day: u32) -> u32 {
        self.phases
            .iter()
            .find(|p| day >= p.first_day && day <= p.last_day)
            .or(self.phases.last())
            .map(|p| p.number)
            .unwrap_or(1)
    }

    /// The name of phase `number` ("" when the template has no such phase).
    pub fn phase_name(&self, number: u32) -> &str {
        self.phases
            .iter()
            .find(|ph| ph.number == number)
            .map_or("", |ph| ph.name.as_str())
    }

    /// Hours budget per (phase, side, role): each side's total split over
    /// its roles by their weekly hours and over the phases by their length
    /// in days, rounded to a tenth of an hour.
    pub fn budget(&self) -> Vec<BudgetLine> {
        let mut out = Vec::new();
        for side in Side::ALL {
            let total = match side {
                Side::Customer => self.budget_hours.customer,
                Side::Vendor => self.budget_hours.vendor,
            };
            let roles: Vec<&ResourceDef> =
                self.resources.iter().filter(|r| r.side == *side).collect();
            let weekly: f64 = roles.iter().map(|r| r.hours_per_week).sum();
            if weekly <= 0.0 || self.days == 0 {
                continue;
            }
            for p in &self.phases {
                let share = f64::from(p.last_day - p.first_day + 1) / f64::from(self.days);
                for r in &roles {
                    let hours = total * r.hours_per_week / weekly * share;
                    out.push(BudgetLine {
                        phase: p.number,
                        side: *side,
                        role: r.role.clone(),
                        hours: (hours * 10.0).round() / 10.0,
                    });
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetLine {
    pub phase: u32,
    pub side: Side,
    pub role: String,
    pub hours: f64,
}

// ---------------------------------------------------------------------
// Timeline health and readiness

/// What timeline health is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineFacts {
    /// Day X of the plan (0 before the start).
    pub day: u32,
    pub total_days: u32,
    /// Completed share of the plan's work, 0–100.
    pub completion_pct: f64,
    /// Milestones past their planned date and not completed.
    pub overdue_milestones: usize,
    /// Critical-path milestones at risk (overdue or marked at-risk).
    pub critical_at_risk: usize,
    /// Whether go-live has moved later than the original target.
    pub go_live_moved: bool,
}

/// planned % = elapsed days / total days, 0–100.
pub fn planned_pct(day: u32, total_days: u32) -> f64 {
    if total_days == 0 {
        return 0.0;
    }
    (f64::from(day.min(total_days)) * 100.0 / f64::from(total_days)).clamp(0.0, 100.0)
}

/// §13: delayed when go-live moved; on-track when actual ≥ planned − 10
/// points and no milestone is overdue; at-risk otherwise (behind by more,
/// an overdue milestone, or a critical-path milestone at risk).
pub fn timeline_health(f: &TimelineFacts) -> Health {
    if f.go_live_moved {
        return Health::Delayed;
    }
    let planned = planned_pct(f.day, f.total_days);
    if f.completion_pct + 1e-9 >= planned - 10.0
        && f.overdue_milestones == 0
        && f.critical_at_risk == 0
    {
        Health::OnTrack
    } else {
        Health::AtRisk
    }
}

/// Percent with one decimal.
pub fn pct(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part as f64) * 1000.0 / whole as f64).round() / 10.0
    }
}

#[cfg(test)]
mod tests;
