//! The SLA report (policies.md §4 achievement targets, §5 exclusions,
//! force majeure and credits), as a pure function of the stored clocks.
//!
//! The store hands over every clock of the customer tickets that may
//! matter, the accounts, the force-majeure windows, the policy table and
//! the calendars; [`build`] decides each metric, assigns it to a period,
//! and settles achievement and credits per account, per tier and for the
//! portfolio.
//!
//! # Periods
//!
//! A report is asked for a month `M` (UTC, [`Month`]) and evaluated *as of*
//! an instant: the end of `M`, or now if `M` is not over yet. Enterprise and
//! Mid-Market accounts are reported for `M`; Starter accounts, reported
//! quarterly (§5), for their quarter *to the end of `M`* — ask for March,
//! June, September or December for the full quarter. Credits stay per
//! calendar month on every tier, so a Starter report lists up to three
//! monthly credits.
//!
//! # When a metric counts
//!
//! A metric is *decided* at its breach instant (the instant its open time
//! reached the target, whether or not it was fulfilled later) or, if it
//! never breached, at its fulfilment. It belongs to the period in which it
//! was decided; a metric not yet decided as of the evaluation instant is
//! listed as `open` and counts nowhere yet. So a miss belongs to the month
//! of its breach, which is also the month whose credit it earns.
//!
//! Outcomes, in order of precedence:
//!
//! - `excluded`: the ticket carries an exclusion reason (every metric of
//!   the ticket, met or not);
//! - `waived`: breached inside a force-majeure window;
//! - `missed`: breached; `met`: fulfilled before breaching; `open`.
//!
//! Achievement = met / (met + missed), over *every* metric of §4 (periodic
//! updates included: they are SLA targets too), each periodic-update
//! instance counting once; excluded and waived metrics are outside both
//! numerator and denominator. It is compared exactly with the policy's
//! `achievement_bp` (shown floored to the basis point). Credits (see
//! [`crate::credits`]) count only first-response and resolution misses.
//!
//! # What is reported
//!
//! - Accounts are organizations that are not prospects (prospects run on
//!   the group defaults of §4 and have neither targets nor credits), with
//!   their tier and ACV as they stand now; tickets without an organization
//!   are not in the report. Soft-deleted tickets are left out.
//! - Clocks are taken as they stand: a target re-targeted after the period
//!   (a priority change) is judged on its new target; a target the SLA no
//!   longer covers (`remove_sla`) has no clock and is not listed.
//! - An account appears when at least one of its metrics falls in its
//!   period (or when it was asked for by id).

use serde::Serialize;

use crate::{
    Money, Priority, Tier,
    credits::{self, Miss, MissKind, MonthCredit, QuarterAction, WHOLE_BP},
    exclusions::{ExclusionReason, ForceMajeure, ForceMajeureKind},
    sla::{Calendars, Clock, Metric, OpenHours, Policies},
    time::{Month, format_unix},
};

/// An account as the report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAccount {
    pub organization_id: i64,
    pub name: String,
    pub tier: Tier,
    pub monthly_fee: Money,
}

/// A ticket's clocks and what the report needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTicket {
    pub id: i64,
    pub organization_id: i64,
    pub priority: Priority,
    pub exclusion: Option<ExclusionReason>,
    pub clocks: Vec<Clock>,
}

pub struct ReportInput<'a> {
    pub month: Month,
    /// The evaluation instant is the earlier of this and the month's end.
    pub now: i64,
    pub accounts: &'a [ReportAccount],
    pub tickets: &'a [ReportTicket],
    pub windows: &'a [ForceMajeure],
    pub policies: &'a Policies,
    pub calendars: &'a dyn Calendars,
    /// List every given account, even those with no metric in the period.
    pub keep_empty: bool,
}

/// The instant `clock`'s open time reached its target, if it had by
/// `as_of` — whether the clock still runs, is paused or was fulfilled
/// (late). Consistent with [`Clock::missed`]: reaching the target exactly
/// is a breach.
pub fn breach_instant(clock: &Clock, cal: &dyn OpenHours, as_of: i64) -> Option<i64> {
    let running = match (clock.fulfilled_at, clock.running_since) {
        (None, Some(r)) => Some((r, as_of)),
        _ => None,
    };
    let mut elapsed = 0;
    for (a, b) in clock.runs.iter().copied().chain(running) {
        let b = b.min(as_of);
        if b <= a {
            continue;
        }
        let open = cal.open_between(a, b);
        if elapsed + open >= clock.target_secs {
            return Some(cal.add_open(a, clock.target_secs - elapsed).min(b));
        }
        elapsed += open;
    }
    None
}

/// How a metric ended up, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    Missed,
    Excluded,
    Waived,
    Open,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Missed => "missed",
            Outcome::Excluded => "excluded",
            Outcome::Waived => "waived",
            Outcome::Open => "open",
        }
    }
}

/// One metric (one instance, for periodic updates) of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetricLine {
    pub ticket_id: i64,
    pub metric: Metric,
    pub instance: i64,
    pub priority: Priority,
    pub policy: String,
    pub target_seconds: i64,
    pub calendar: String,
    pub started_at: String,
    pub fulfilled_at: Option<String>,
    pub breached_at: Option<String>,
    pub outcome: Outcome,
    /// For a missed first response or resolution: the kind of credited miss.
    pub miss_kind: Option<MissKind>,
    pub exclusion: Option<ExclusionReason>,
    pub force_majeure_id: Option<i64>,
    #[serde(skip)]
    decided_at: Option<i64>,
}

/// Counts of outcomes and the achievement they make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Achievement {
    pub metrics: usize,
    pub met: usize,
    pub missed: usize,
    pub excluded: usize,
    pub waived: usize,
    pub open: usize,
    /// Missed first responses and resolutions (the misses credits count).
    pub credited_misses: usize,
    /// met / (met + missed) in basis points, floored; none when nothing counted.
    pub achievement_bp: Option<i64>,
    pub target_bp: Option<i64>,
    /// Whether met / (met + missed) ≥ target, exactly; none without a target.
    pub meets_target: Option<bool>,
}

impl Achievement {
    fn add(&mut self, line: &MetricLine) {
        self.metrics += 1;
        match line.outcome {
            Outcome::Met => self.met += 1,
            Outcome::Missed => {
                self.missed += 1;
                if line.miss_kind.is_some() {
                    self.credited_misses += 1;
                }
            }
            Outcome::Excluded => self.excluded += 1,
            Outcome::Waived => self.waived += 1,
            Outcome::Open => self.open += 1,
        }
    }

    fn merge(&mut self, other: &Achievement) {
        self.metrics += other.metrics;
        self.met += other.met;
        self.missed += other.missed;
        self.excluded += other.excluded;
        self.waived += other.waived;
        self.open += other.open;
        self.credited_misses += other.credited_misses;
    }

    /// Fills the ratio fields from the counts.
    fn settle(mut self, target_bp: Option<i64>) -> Achievement {
        let counted = (self.met + self.missed) as i64;
        let met = self.met as i64;
        self.achievement_bp = (counted > 0).then(|| met * WHOLE_BP / counted);
        self.target_bp = target_bp;
        self.meets_target = target_bp.map(|t| met * WHOLE_BP >= t * counted);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    QuarterToDate,
}

/// `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExclusionLine {
    pub ticket_id: i64,
    pub reason: ExclusionReason,
    pub label: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCreditLine {
    pub month: String,
    #[serde(flatten)]
    pub credit: MonthCredit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarterStatus {
    pub quarter: String,
    /// Credited misses from the quarter's start to the end of the month.
    pub misses: usize,
    pub action: Option<QuarterAction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    pub organization_id: i64,
    pub name: String,
    pub tier: Tier,
    pub period: Period,
    pub monthly_fee_cents: i64,
    pub achievement: Achievement,
    pub metrics: Vec<MetricLine>,
    pub exclusions: Vec<ExclusionLine>,
    /// One entry per calendar month of the period.
    pub credits: Vec<MonthCreditLine>,
    /// Credits over the period.
    pub credit_cents: i64,
    /// The credit for the requested month (due on the next invoice).
    pub month_credit_cents: i64,
    pub quarter: QuarterStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierSummary {
    pub tier: Tier,
    pub period: Period,
    pub accounts: usize,
    pub accounts_below_target: usize,
    pub accounts_with_quarter_action: usize,
    pub achievement: Achievement,
    pub credit_cents: i64,
    pub month_credit_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Portfolio {
    pub tiers: Vec<TierSummary>,
    /// Every account's metrics together (no target: periods differ by tier).
    pub totals: Achievement,
    pub credit_cents: i64,
    pub month_credit_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowSummary {
    pub id: i64,
    pub kind: ForceMajeureKind,
    pub description: String,
    pub starts_at: String,
    pub ends_at: String,
    /// Metrics of the reported accounts whose breach it waived.
    pub waived: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaReport {
    pub month: String,
    pub quarter: String,
    /// The evaluation instant: the month's end, or now if earlier.
    pub as_of: String,
    pub portfolio: Portfolio,
    pub accounts: Vec<AccountReport>,
    /// Force-majeure windows overlapping the quarter to date.
    pub force_majeure: Vec<WindowSummary>,
}

/// When a clock was decided, as of `eval`, if it belongs at or after `from`.
enum Decision {
    Breached(i64),
    Met(i64),
    Open,
}

fn decide(clock: &Clock, cal: Option<&dyn OpenHours>, from: i64, eval: i64) -> Option<Decision> {
    if clock.started_at >= eval {
        return None;
    }
    if let Some(b) = cal.and_then(|cal| breach_instant(clock, cal, eval)) {
        return (b >= from).then_some(Decision::Breached(b));
    }
    match clock.fulfilled_at {
        Some(f) if f < eval => (f >= from).then_some(Decision::Met(f)),
        _ => Some(Decision::Open),
    }
}

fn period_of(tier: Tier, month: Month) -> (Month, PeriodKind) {
    match tier {
        Tier::Starter => (month.quarter_start(), PeriodKind::QuarterToDate),
        _ => (month, PeriodKind::Month),
    }
}

fn period_json(first: Month, kind: PeriodKind, end: i64) -> Period {
    Period {
        kind,
        start: format_unix(first.start()),
        end: format_unix(end),
    }
}

/// Builds the report (see the module docs for the rules).
pub fn build(input: &ReportInput<'_>) -> SlaReport {
    let month = input.month;
    let quarter_start = month.quarter_start().start();
    let end = month.end();
    let eval = input.now.min(end);
    let target_of = |tier: Tier| {
        input
            .policies
            .for_ticket(Some(tier), None)
            .and_then(|p| p.achievement_bp)
    };

    let mut accounts: Vec<AccountReport> = Vec::new();
    let mut waived_by: std::collections::BTreeMap<i64, usize> = Default::default();
    for account in input.accounts {
        let (first, kind) = period_of(account.tier, month);
        let period_start = first.start();
        // Every decision from the quarter's start, for the quarter rule.
        let mut lines: Vec<MetricLine> = Vec::new();
        for ticket in input
            .tickets
            .iter()
            .filter(|t| t.organization_id == account.organization_id)
        {
            for clock in &ticket.clocks {
                let cal = input.calendars.get(&clock.calendar);
                let Some(decision) = decide(clock, cal, quarter_start, eval) else {
                    continue;
                };
                let (decided_at, breached_at) = match decision {
                    Decision::Breached(b) => (Some(b), Some(b)),
                    Decision::Met(f) => (Some(f), None),
                    Decision::Open => (None, None),
                };
                let window = breached_at
                    .and_then(|b| input.windows.iter().find(|w| w.covers(b)))
                    .map(|w| w.id);
                let outcome = match (decision, ticket.exclusion, window) {
                    (_, Some(_), _) => Outcome::Excluded,
                    (Decision::Breached(_), None, Some(_)) => Outcome::Waived,
                    (Decision::Breached(_), None, None) => Outcome::Missed,
                    (Decision::Met(_), None, _) => Outcome::Met,
                    (Decision::Open, None, _) => Outcome::Open,
                };
                lines.push(MetricLine {
                    ticket_id: ticket.id,
                    metric: clock.metric,
                    instance: clock.instance,
                    priority: ticket.priority,
                    policy: clock.policy.clone(),
                    target_seconds: clock.target_secs,
                    calendar: clock.calendar.clone(),
                    started_at: format_unix(clock.started_at),
                    fulfilled_at: clock.fulfilled_at.filter(|f| *f < eval).map(format_unix),
                    breached_at: breached_at.map(format_unix),
                    outcome,
                    miss_kind: (outcome == Outcome::Missed)
                        .then(|| MissKind::of_metric(clock.metric))
                        .flatten(),
                    exclusion: ticket.exclusion,
                    force_majeure_id: window.filter(|_| outcome == Outcome::Waived),
                    decided_at,
                });
            }
        }
        let misses_between = |a: i64, b: i64| -> Vec<Miss> {
            lines
                .iter()
                .filter_map(|l| match (l.miss_kind, l.decided_at) {
                    (Some(kind), Some(at)) if a <= at && at < b => Some(Miss { at, kind }),
                    _ => None,
                })
                .collect()
        };
        let quarter_misses = misses_between(quarter_start, end).len();
        let mut credits = Vec::new();
        let mut m = first;
        while m <= month {
            credits.push(MonthCreditLine {
                month: m.to_string(),
                credit: credits::month_credit(
                    account.tier,
                    account.monthly_fee,
                    &misses_between(m.start(), m.end()),
                ),
            });
            m = m.next();
        }
        let in_period: Vec<MetricLine> = lines
            .into_iter()
            .filter(|l| l.decided_at.is_none_or(|d| d >= period_start))
            .collect();
        if in_period.is_empty() && !input.keep_empty {
            continue;
        }
        let mut achievement = Achievement::default();
        for l in &in_period {
            achievement.add(l);
            if let Some(w) = l.force_majeure_id {
                *waived_by.entry(w).or_default() += 1;
            }
        }
        let mut exclusions: Vec<ExclusionLine> = Vec::new();
        for l in &in_period {
            if let Some(reason) = l.exclusion
                && !exclusions.iter().any(|e| e.ticket_id == l.ticket_id)
            {
                exclusions.push(ExclusionLine {
                    ticket_id: l.ticket_id,
                    reason,
                    label: reason.label(),
                });
            }
        }
        let credit_cents = credits.iter().map(|c| c.credit.amount_cents).sum();
        let month_credit_cents = credits.last().map_or(0, |c| c.credit.amount_cents);
        accounts.push(AccountReport {
            organization_id: account.organization_id,
            name: account.name.clone(),
            tier: account.tier,
            period: period_json(first, kind, end),
            monthly_fee_cents: account.monthly_fee.cents(),
            achievement: achievement.settle(target_of(account.tier)),
            metrics: in_period,
            exclusions,
            credits,
            credit_cents,
            month_credit_cents,
            quarter: QuarterStatus {
                quarter: month.quarter_label(),
                misses: quarter_misses,
                action: credits::quarter_action(account.tier, quarter_misses),
            },
        });
    }
    accounts.sort_by(|a, b| {
        (a.tier, &a.name, a.organization_id).cmp(&(b.tier, &b.name, b.organization_id))
    });

    let mut tiers = Vec::new();
    let mut totals = Achievement::default();
    for tier in Tier::ALL {
        let (first, kind) = period_of(*tier, month);
        let mine: Vec<&AccountReport> = accounts.iter().filter(|a| a.tier == *tier).collect();
        let mut achievement = Achievement::default();
        for a in &mine {
            achievement.merge(&a.achievement);
        }
        totals.merge(&achievement);
        tiers.push(TierSummary {
            tier: *tier,
            period: period_json(first, kind, end),
            accounts: mine.len(),
            accounts_below_target: mine
                .iter()
                .filter(|a| a.achievement.meets_target == Some(false))
                .count(),
            accounts_with_quarter_action: mine
                .iter()
                .filter(|a| a.quarter.action.is_some())
                .count(),
            achievement: achievement.settle(target_of(*tier)),
            credit_cents: mine.iter().map(|a| a.credit_cents).sum(),
            month_credit_cents: mine.iter().map(|a| a.month_credit_cents).sum(),
        });
    }
    let portfolio = Portfolio {
        credit_cents: tiers.iter().map(|t| t.credit_cents).sum(),
        month_credit_cents: tiers.iter().map(|t| t.month_credit_cents).sum(),
        tiers,
        totals: totals.settle(None),
    };
    let force_majeure = input
        .windows
        .iter()
        .filter(|w| w.overlaps(quarter_start, end))
        .map(|w| WindowSummary {
            id: w.id,
            kind: w.kind,
            description: w.description.clone(),
            starts_at: format_unix(w.starts_at),
            ends_at: format_unix(w.ends_at),
            waived: waived_by.get(&w.id).copied().unwrap_or(0),
        })
        .collect();
    SlaReport {
        month: month.to_string(),
        quarter: month.quarter_label(),
        as_of: format_unix(eval),
        portfolio,
        accounts,
        force_majeure,
    }
}

#[cfg(test)]
mod tests;
