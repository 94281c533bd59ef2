//! SLA policies and metric clocks (policies.md §4), as pure data and
//! arithmetic. The store keeps one clock row per ticket and metric and asks
//! this module what a change does to it; the scheduler fires the warn and
//! breach instants computed here.
//!
//! Metric names follow Zendesk's SLA API:
//!
//! | Steward (policies.md) | metric | pauses on pending/hold | fulfilled by |
//! |---|---|---|---|
//! | first response | `first_reply_time` | never | first public agent reply |
//! | periodic update | `pausable_update_time` | yes | each public agent reply (a new instance then starts) |
//! | resolution | `agent_work_time` | yes | solved |
//! | P0 resolution with workaround | `workaround_time` | yes | `workaround_provided` or solved |
//!
//! A clock counts *open time* on its calendar: `elapsed` open seconds were
//! accumulated before the current run, and a running clock has run since
//! `running_since`. Warning fires at 75 % of the target, breach at 100 %.

use serde::{Deserialize, Serialize};

use crate::{ParseError, Priority, Status, Tier};

/// Open-time arithmetic over unix seconds; implemented by the calendars.
pub trait OpenHours: Sync {
    /// The instant at which `secs` seconds of open time have elapsed from
    /// `start` (a clock started while closed starts at the next opening).
    fn add_open(&self, start: i64, secs: i64) -> i64;
    /// Seconds of open time in `[a, b)`.
    fn open_between(&self, a: i64, b: i64) -> i64;
    fn is_open(&self, t: i64) -> bool;
    /// Open seconds of one working day ("1 business day").
    fn working_day_secs(&self) -> i64;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    FirstReplyTime,
    PausableUpdateTime,
    AgentWorkTime,
    WorkaroundTime,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::FirstReplyTime,
        Metric::PausableUpdateTime,
        Metric::AgentWorkTime,
        Metric::WorkaroundTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstReplyTime => "first_reply_time",
            Metric::PausableUpdateTime => "pausable_update_time",
            Metric::AgentWorkTime => "agent_work_time",
            Metric::WorkaroundTime => "workaround_time",
        }
    }

    pub fn parse(s: &str) -> Result<Metric, ParseError> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseError::new(format!("{s} is not an SLA metric")))
    }

    /// Pending and hold pause every metric but first response (§4).
    pub fn paused_by(self, status: Status) -> bool {
        self != Metric::FirstReplyTime && matches!(status, Status::Pending | Status::Hold)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Minutes,
    Hours,
    /// N × the calendar's working day (9 h on `business`), §2.
    BusinessDays,
}

/// An amount of open time on a named calendar: "4 h bh", "30 min cal",
/// "5 bd".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub amount: i64,
    pub unit: Unit,
    pub calendar: String,
}

impl Span {
    pub fn new(amount: i64, unit: Unit, calendar: &str) -> Span {
        Span {
            amount,
            unit,
            calendar: calendar.to_string(),
        }
    }

    /// Target length in open seconds on `cal` (which must be this span's calendar).
    pub fn seconds(&self, cal: &dyn OpenHours) -> i64 {
        match self.unit {
            Unit::Minutes => self.amount * 60,
            Unit::Hours => self.amount * 3600,
            Unit::BusinessDays => self.amount * cal.working_day_secs(),
        }
    }
}

/// One target of a policy: `within` applies, except that when
/// `outside_hours` is set and the ticket was opened while `hours_calendar`
/// was closed, `outside_hours` applies instead (§4's "2 h bh if opened
/// inside business hours, else 4 h cal").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRule {
    pub priority: Priority,
    pub metric: Metric,
    pub within: Span,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_hours: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours_calendar: Option<String>,
}

/// Which tickets a policy covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Scope {
    /// Tickets of accounts in this tier.
    Tier(Tier),
    /// Tickets without an account tier (prospects), by root group id.
    Group(i64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub title: String,
    pub scope: Scope,
    pub targets: Vec<TargetRule>,
    /// Share of targets to meet per month, in basis points (99.5 % = 9950).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achievement_bp: Option<i64>,
}

/// The policy table in force: the first policy whose scope matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Policies(pub Vec<Policy>);

impl Policies {
    pub fn for_ticket(&self, tier: Option<Tier>, root_group: Option<i64>) -> Option<&Policy> {
        match tier {
            Some(t) => self.0.iter().find(|p| p.scope == Scope::Tier(t)),
            None => root_group.and_then(|g| self.0.iter().find(|p| p.scope == Scope::Group(g))),
        }
    }

    /// Checks what the engine relies on: known calendars, positive
    /// amounts, one rule per priority and metric in each policy.
    pub fn validate(&self, known_calendar: impl Fn(&str) -> bool) -> Result<(), ParseError> {
        for p in &self.0 {
            let mut seen = std::collections::BTreeSet::new();
            for t in &p.targets {
                if !seen.insert((t.priority, t.metric)) {
                    return Err(ParseError::new(format!(
                        "{}: two targets for {} {}",
                        p.title,
                        t.priority.as_str(),
                        t.metric.as_str()
                    )));
                }
                let spans = std::iter::once(&t.within).chain(t.outside_hours.as_ref());
                for s in spans {
                    if s.amount <= 0 {
                        return Err(ParseError::new(format!(
                            "{}: targets must be positive",
                            p.title
                        )));
                    }
                    if !known_calendar(&s.calendar) {
                        return Err(ParseError::new(format!(
                            "{}: unknown calendar {}",
                            p.title, s.calendar
                        )));
                    }
                }
                if let Some(h) = &t.hours_calendar
                    && !known_calendar(h)
                {
                    return Err(ParseError::new(format!(
                        "{}: unknown calendar {h}",
                        p.title
                    )));
                }
                if t.outside_hours.is_some() != t.hours_calendar.is_some() {
                    return Err(ParseError::new(format!(
                        "{}: outside_hours and hours_calendar go together",
                        p.title
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Policy {
    /// The span a ticket of `priority` gets for `metric`, given whether it
    /// was opened inside the rule's business hours.
    pub fn span(
        &self,
        priority: Priority,
        metric: Metric,
        opened_inside: impl Fn(&str) -> bool,
    ) -> Option<&Span> {
        let rule = self
            .targets
            .iter()
            .find(|t| t.priority == priority && t.metric == metric)?;
        match (&rule.outside_hours, &rule.hours_calendar) {
            (Some(outside), Some(cal)) if !opened_inside(cal) => Some(outside),
            _ => Some(&rule.within),
        }
    }
}

/// The defaults of policies.md §4, shipped as editable data.
pub fn default_policies() -> Policies {
    use Metric::*;
    use Priority::*;
    use Unit::*;
    let s = Span::new;
    let rule = |priority, metric, within| TargetRule {
        priority,
        metric,
        within,
        outside_hours: None,
        hours_calendar: None,
    };
    let split = |priority, metric, within, outside, hours: &str| TargetRule {
        priority,
        metric,
        within,
        outside_hours: Some(outside),
        hours_calendar: Some(hours.to_string()),
    };
    let enterprise = vec![
        rule(Urgent, FirstReplyTime, s(30, Minutes, "24x7")),
        rule(Urgent, WorkaroundTime, s(4, Hours, "24x7")),
        rule(Urgent, AgentWorkTime, s(24, Hours, "24x7")),
        rule(Urgent, PausableUpdateTime, s(30, Minutes, "24x7")),
        split(
            High,
            FirstReplyTime,
            s(2, Hours, "business"),
            s(4, Hours, "24x7"),
            "business",
        ),
        rule(High, AgentWorkTime, s(24, Hours, "24x7")),
        rule(High, PausableUpdateTime, s(4, Hours, "24x7")),
        rule(Normal, FirstReplyTime, s(4, Hours, "business")),
        rule(Normal, AgentWorkTime, s(48, Hours, "24x7")),
        rule(Normal, PausableUpdateTime, s(1, BusinessDays, "business")),
        rule(Low, FirstReplyTime, s(8, Hours, "business")),
        rule(Low, AgentWorkTime, s(5, BusinessDays, "business")),
    ];
    let mid_market = vec![
        split(
            Urgent,
            FirstReplyTime,
            s(1, Hours, "24x7"),
            s(4, Hours, "24x7"),
            "business",
        ),
        rule(Urgent, WorkaroundTime, s(8, Hours, "24x7")),
        rule(Urgent, PausableUpdateTime, s(30, Minutes, "24x7")),
        rule(High, FirstReplyTime, s(4, Hours, "business")),
        rule(High, AgentWorkTime, s(2, BusinessDays, "business")),
        rule(High, PausableUpdateTime, s(4, Hours, "24x7")),
        rule(Normal, FirstReplyTime, s(8, Hours, "business")),
        rule(Normal, AgentWorkTime, s(3, BusinessDays, "business")),
        rule(Normal, PausableUpdateTime, s(1, BusinessDays, "business")),
        rule(Low, FirstReplyTime, s(1, BusinessDays, "business")),
        rule(Low, AgentWorkTime, s(7, BusinessDays, "business")),
    ];
    let starter = vec![
        rule(Urgent, FirstReplyTime, s(4, Hours, "business")),
        rule(Urgent, AgentWorkTime, s(2, BusinessDays, "business")),
        rule(Urgent, PausableUpdateTime, s(4, Hours, "business")),
        rule(High, FirstReplyTime, s(8, Hours, "business")),
        rule(High, AgentWorkTime, s(3, BusinessDays, "business")),
        rule(High, PausableUpdateTime, s(1, BusinessDays, "business")),
        rule(Normal, FirstReplyTime, s(1, BusinessDays, "business")),
        rule(Normal, AgentWorkTime, s(5, BusinessDays, "business")),
        rule(Low, FirstReplyTime, s(2, BusinessDays, "business")),
        rule(Low, AgentWorkTime, s(10, BusinessDays, "business")),
    ];
    // Group defaults apply to every priority alike (Escalations by priority).
    let every = |fr: Span, res: Option<Span>| -> Vec<TargetRule> {
        Priority::ALL
            .iter()
            .flat_map(|p| {
                let mut v = vec![rule(*p, FirstReplyTime, fr.clone())];
                if let Some(r) = &res {
                    v.push(rule(*p, AgentWorkTime, r.clone()));
                }
                v
            })
            .collect()
    };
    let tier = |t: Tier, targets, bp| Policy {
        title: t.label().to_string(),
        scope: Scope::Tier(t),
        targets,
        achievement_bp: Some(bp),
    };
    let group = |title: &str, id, targets| Policy {
        title: title.to_string(),
        scope: Scope::Group(id),
        targets,
        achievement_bp: None,
    };
    Policies(vec![
        tier(Tier::Enterprise, enterprise, 9950),
        tier(Tier::MidMarket, mid_market, 9800),
        tier(Tier::Starter, starter, 9500),
        group(
            "Technical Support (no tier)",
            1,
            every(s(4, Hours, "business"), Some(s(24, Hours, "24x7"))),
        ),
        group(
            "Implementation (no tier)",
            2,
            every(s(2, Hours, "business"), Some(s(48, Hours, "24x7"))),
        ),
        group(
            "Billing & Admin (no tier)",
            3,
            every(
                s(8, Hours, "business"),
                Some(s(5, BusinessDays, "business")),
            ),
        ),
        // §4 gives Escalations 30 min (critical) and 2 h (high) first
        // responses; both are read as calendar time, since an escalated
        // ticket does not wait for office hours. Medium/low get none.
        group(
            "Escalations (no tier)",
            4,
            vec![
                rule(Urgent, FirstReplyTime, s(30, Minutes, "24x7")),
                rule(High, FirstReplyTime, s(2, Hours, "24x7")),
            ],
        ),
    ])
}

/// One metric's clock. Times are unix seconds.
///
/// The clock keeps its runs (the periods it was running), not just a
/// total, so that re-targeting onto another calendar recounts exactly the
/// same periods in the new calendar's open time (§4: "re-targets its
/// running metrics from their original start").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub metric: Metric,
    /// 1 for every metric but periodic updates, which start a new instance
    /// at each public agent reply.
    pub instance: i64,
    pub target_secs: i64,
    pub calendar: String,
    /// Policy title and the span the target came from, for reports.
    pub policy: String,
    pub span: Span,
    pub started_at: i64,
    /// Closed runs `[from, to)`.
    pub runs: Vec<(i64, i64)>,
    /// Set while the clock runs.
    pub running_since: Option<i64>,
    pub fulfilled_at: Option<i64>,
    pub warned: bool,
    pub breached: bool,
    /// Past twice the target (§6: top escalation level and a credit).
    #[serde(default)]
    pub doubled: bool,
}

/// Zendesk's stage of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Active,
    Paused,
    Achieved,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Active => "active",
            Stage::Paused => "paused",
            Stage::Achieved => "achieved",
        }
    }
}

/// Warning at 75 % of the target (§4), rounded up to the second.
pub fn warn_secs(target: i64) -> i64 {
    (target * 3 + 3) / 4
}

impl Clock {
    pub fn stage(&self) -> Stage {
        match (self.fulfilled_at, self.running_since) {
            (Some(_), _) => Stage::Achieved,
            (None, Some(_)) => Stage::Active,
            (None, None) => Stage::Paused,
        }
    }

    /// Open seconds of the closed runs.
    fn closed_elapsed(&self, cal: &dyn OpenHours) -> i64 {
        self.runs
            .iter()
            .map(|(a, b)| cal.open_between(*a, *b))
            .sum()
    }

    /// Open seconds elapsed at `now`.
    pub fn elapsed_at(&self, cal: &dyn OpenHours, now: i64) -> i64 {
        let running = match self.running_since {
            Some(r) if now > r => cal.open_between(r, now),
            _ => 0,
        };
        self.closed_elapsed(cal) + running
    }

    /// When the elapsed open time reaches `secs`, if the clock runs.
    fn instant_of(&self, cal: &dyn OpenHours, secs: i64) -> Option<i64> {
        let running = self.running_since?;
        if self.fulfilled_at.is_some() {
            return None;
        }
        Some(cal.add_open(running, (secs - self.closed_elapsed(cal)).max(0)))
    }

    pub fn breach_at(&self, cal: &dyn OpenHours) -> Option<i64> {
        self.instant_of(cal, self.target_secs)
    }

    pub fn warn_at(&self, cal: &dyn OpenHours) -> Option<i64> {
        self.instant_of(cal, warn_secs(self.target_secs))
    }

    /// The next instant the scheduler must look at this clock: its warning,
    /// then its breach; none once both fired or while it does not run.
    pub fn next_due(&self, cal: &dyn OpenHours) -> Option<i64> {
        if !self.warned {
            self.warn_at(cal)
        } else if !self.breached {
            self.breach_at(cal)
        } else if !self.doubled {
            self.double_at(cal)
        } else {
            None
        }
    }

    /// When the elapsed open time reaches twice the target.
    pub fn double_at(&self, cal: &dyn OpenHours) -> Option<i64> {
        self.instant_of(cal, self.target_secs.saturating_mul(2))
    }

    /// Stops the clock, keeping the run it had.
    pub fn pause(&mut self, now: i64) -> bool {
        match self.running_since.take() {
            Some(r) => {
                self.runs.push((r, now.max(r)));
                true
            }
            None => false,
        }
    }

    pub fn resume(&mut self, now: i64) -> bool {
        if self.running_since.is_none() && self.fulfilled_at.is_none() {
            self.running_since = Some(now);
            true
        } else {
            false
        }
    }

    pub fn fulfil(&mut self, now: i64) -> bool {
        if self.fulfilled_at.is_some() {
            return false;
        }
        self.pause(now);
        self.fulfilled_at = Some(now);
        true
    }

    /// Whether the metric missed its target: its elapsed open time reached
    /// the target before it was fulfilled (or by `now`, if it still runs).
    /// Reaching the target exactly is a breach, as the scheduler fires it
    /// at that instant.
    pub fn missed(&self, cal: &dyn OpenHours, now: i64) -> bool {
        self.elapsed_at(cal, self.fulfilled_at.unwrap_or(now)) >= self.target_secs
    }
}

/// A metric event (Zendesk's ticket metric events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricEvent {
    pub metric: Metric,
    pub instance: i64,
    pub kind: EventKind,
    pub time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A target was applied (or changed); `sla` describes it.
    ApplySla,
    /// The SLA no longer covers this metric (policy or priority change).
    RemoveSla,
    Activate,
    Pause,
    Fulfill,
    Warn,
    Breach,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ApplySla => "apply_sla",
            EventKind::RemoveSla => "remove_sla",
            EventKind::Activate => "activate",
            EventKind::Pause => "pause",
            EventKind::Fulfill => "fulfill",
            EventKind::Warn => "warn",
            EventKind::Breach => "breach",
        }
    }
}

/// What the SLA engine needs to know about a ticket at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    pub created_at: i64,
    pub status: Status,
    pub priority: Priority,
    pub workaround_provided: bool,
}

/// Looks calendars up by name.
pub trait Calendars: Sync {
    fn get(&self, name: &str) -> Option<&dyn OpenHours>;
}

/// A target resolved for a ticket: open seconds on a calendar.
fn resolve(
    policy: Option<&Policy>,
    facts: &TicketFacts,
    metric: Metric,
    cals: &dyn Calendars,
) -> Option<(i64, Span, String)> {
    let policy = policy?;
    let span = policy.span(facts.priority, metric, |hours| {
        cals.get(hours).is_some_and(|c| c.is_open(facts.created_at))
    })?;
    let cal = cals.get(&span.calendar)?;
    Some((span.seconds(cal), span.clone(), policy.title.clone()))
}

/// Moves a ticket's clocks from `before` (None when the ticket is new) to
/// `after`, under `policy` (the one in force after the change). `replied`
/// says whether the change added a public agent reply. Returns the events
/// in the order they happened; `clocks` is updated in place (new periodic
/// update instances are appended; clocks the SLA no longer covers are
/// removed).
pub fn evolve(
    clocks: &mut Vec<Clock>,
    before: Option<&TicketFacts>,
    after: &TicketFacts,
    replied: bool,
    policy: Option<&Policy>,
    cals: &dyn Calendars,
    now: i64,
) -> Vec<MetricEvent> {
    let mut events = Vec::new();
    let mut ev = |metric: Metric, instance: i64, kind: EventKind| {
        events.push(MetricEvent {
            metric,
            instance,
            kind,
            time: now,
        })
    };
    let was_solved = before.is_some_and(|b| !b.status.is_unsolved());
    let solved = !after.status.is_unsolved();
    let reopened = was_solved && !solved;

    // 1. Targets: apply, re-target or remove, per metric. Clocks made here
    // already reflect this change and are left alone by step 2.
    let mut fresh: Vec<Metric> = Vec::new();
    for metric in Metric::ALL {
        let target = resolve(policy, after, metric, cals);
        let latest = clocks.iter().rposition(|c| c.metric == metric);
        match (latest, target) {
            (Some(i), None) if clocks[i].fulfilled_at.is_none() => {
                let c = clocks.remove(i);
                ev(metric, c.instance, EventKind::RemoveSla);
            }
            (Some(i), Some((secs, span, title))) if clocks[i].fulfilled_at.is_none() => {
                let c = &mut clocks[i];
                if c.target_secs != secs || c.span != span || c.policy != title {
                    c.target_secs = secs;
                    c.calendar = span.calendar.clone();
                    c.span = span;
                    c.policy = title;
                    // A new target may move warnings and breaches back into
                    // the future (or the past): judge them afresh.
                    c.warned = false;
                    c.breached = false;
                    c.doubled = false;
                    ev(metric, c.instance, EventKind::ApplySla);
                }
            }
            (None, Some((secs, span, title))) => {
                // Periodic updates start at the first public agent reply;
                // the others count from the ticket's creation.
                let (start, applies) = match metric {
                    Metric::PausableUpdateTime => (now, replied && !solved),
                    _ => (after.created_at, !solved || before.is_none()),
                };
                if applies {
                    clocks.push(Clock {
                        metric,
                        instance: 1,
                        target_secs: secs,
                        calendar: span.calendar.clone(),
                        policy: title,
                        span,
                        started_at: start,
                        runs: Vec::new(),
                        running_since: None,
                        fulfilled_at: None,
                        warned: false,
                        breached: false,
                        doubled: false,
                    });
                    fresh.push(metric);
                    ev(metric, 1, EventKind::ApplySla);
                    if !metric.paused_by(after.status) && !solved {
                        let c = clocks.last_mut().map(|c| {
                            c.running_since = Some(start);
                            c.instance
                        });
                        if let Some(inst) = c {
                            ev(metric, inst, EventKind::Activate);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    // 2. What the change itself did.
    for c in clocks
        .iter_mut()
        .filter(|c| c.fulfilled_at.is_none() && !fresh.contains(&c.metric))
    {
        let fulfil = match c.metric {
            Metric::FirstReplyTime => replied || solved,
            Metric::PausableUpdateTime => replied || solved,
            Metric::AgentWorkTime => solved,
            Metric::WorkaroundTime => solved || after.workaround_provided,
        };
        if fulfil {
            if c.fulfil(now) {
                ev(c.metric, c.instance, EventKind::Fulfill);
            }
        } else if c.metric.paused_by(after.status) {
            if c.pause(now) {
                ev(c.metric, c.instance, EventKind::Pause);
            }
        } else if c.resume(now) {
            ev(c.metric, c.instance, EventKind::Activate);
        }
    }
    // A reopened ticket's resolution clock runs again, from where it was.
    if reopened {
        for c in clocks
            .iter_mut()
            .filter(|c| c.metric == Metric::AgentWorkTime && c.fulfilled_at.is_some())
        {
            c.fulfilled_at = None;
            if !c.metric.paused_by(after.status) && c.resume(now) {
                ev(c.metric, c.instance, EventKind::Activate);
            }
        }
    }
    // A public reply (or a reopen) on an unsolved ticket starts the next
    // periodic-update instance.
    let had_update = clocks
        .iter()
        .any(|c| c.metric == Metric::PausableUpdateTime);
    if !solved
        && ((replied && had_update) || reopened)
        && clocks
            .iter()
            .all(|c| c.metric != Metric::PausableUpdateTime || c.fulfilled_at.is_some())
        && let Some((secs, span, title)) = resolve(policy, after, Metric::PausableUpdateTime, cals)
    {
        let instance = clocks
            .iter()
            .filter(|c| c.metric == Metric::PausableUpdateTime)
            .map(|c| c.instance)
            .max()
            .unwrap_or(0)
            + 1;
        let running = !Metric::PausableUpdateTime.paused_by(after.status);
        clocks.push(Clock {
            metric: Metric::PausableUpdateTime,
            instance,
            target_secs: secs,
            calendar: span.calendar.clone(),
            policy: title,
            span,
            started_at: now,
            runs: Vec::new(),
            running_since: running.then_some(now),
            fulfilled_at: None,
            warned: false,
            breached: false,
            doubled: false,
        });
        ev(Metric::PausableUpdateTime, instance, EventKind::ApplySla);
        if running {
            ev(Metric::PausableUpdateTime, instance, EventKind::Activate);
        }
    }
    events
}

/// The calendars of §2 do the SLA's open-time arithmetic. Instants beyond
/// the calendar's range (year 9999) saturate: a target that would end
/// there never comes due.
impl OpenHours for crate::calendar::Calendar {
    fn add_open(&self, start: i64, secs: i64) -> i64 {
        jiff::Timestamp::from_second(start)
            .ok()
            .and_then(|t| crate::calendar::Calendar::add_open(self, t, secs.max(0)).ok())
            .map_or(i64::MAX, |t| t.as_second())
    }

    fn open_between(&self, a: i64, b: i64) -> i64 {
        match (
            jiff::Timestamp::from_second(a),
            jiff::Timestamp::from_second(b),
        ) {
            (Ok(a), Ok(b)) => crate::calendar::Calendar::open_between(self, a, b),
            _ => 0,
        }
    }

    fn is_open(&self, t: i64) -> bool {
        jiff::Timestamp::from_second(t).is_ok_and(|t| crate::calendar::Calendar::is_open(self, t))
    }

    fn working_day_secs(&self) -> i64 {
        self.working_day_seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Always open: open time is wall time.
    struct AlwaysOpen;
    impl OpenHours for AlwaysOpen {
        fn add_open(&self, start: i64, secs: i64) -> i64 {
            start + secs
        }
        fn open_between(&self, a: i64, b: i64) -> i64 {
            (b - a).max(0)
        }
        fn is_open(&self, _: i64) -> bool {
            true
        }
        fn working_day_secs(&self) -> i64 {
            86_400
        }
    }

    #[test]
    fn defaults_cover_every_tier_and_priority_and_validate() {
        let p = default_policies();
        p.validate(|c| ["24x7", "business", "extended"].contains(&c))
            .unwrap();
        for tier in Tier::ALL {
            let policy = p.for_ticket(Some(*tier), None).unwrap();
            for prio in Priority::ALL {
                assert!(
                    policy
                        .span(*prio, Metric::FirstReplyTime, |_| true)
                        .is_some(),
                    "{tier} {prio}"
                );
            }
        }
        let ent = p.for_ticket(Some(Tier::Enterprise), None).unwrap();
        assert_eq!(
            ent.span(Priority::High, Metric::FirstReplyTime, |_| true)
                .unwrap(),
            &Span::new(2, Unit::Hours, "business")
        );
        assert_eq!(
            ent.span(Priority::High, Metric::FirstReplyTime, |_| false)
                .unwrap(),
            &Span::new(4, Unit::Hours, "24x7")
        );
        assert!(
            ent.span(Priority::Low, Metric::PausableUpdateTime, |_| true)
                .is_none(),
            "P3 has no periodic update"
        );
        let starter = p.for_ticket(Some(Tier::Starter), None).unwrap();
        assert!(
            starter
                .span(Priority::Normal, Metric::PausableUpdateTime, |_| true)
                .is_none()
        );
        assert_eq!(
            p.for_ticket(None, Some(3)).unwrap().title,
            "Billing & Admin (no tier)"
        );
        assert!(p.for_ticket(None, None).is_none());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Policies>(&json).unwrap(), p);
    }

    #[test]
    fn validation_rejects_nonsense() {
        let mut p = default_policies();
        p.0[0].targets[0].within.amount = 0;
        assert!(p.validate(|_| true).is_err());
        let mut p = default_policies();
        p.0[0].targets[0].within.calendar = "lunar".into();
        assert!(p.validate(|c| c != "lunar").is_err());
        let mut p = default_policies();
        let dup = p.0[0].targets[0].clone();
        p.0[0].targets.push(dup);
        assert!(p.validate(|_| true).is_err());
    }

    #[test]
    fn clocks_pause_resume_warn_and_breach() {
        let cal = AlwaysOpen;
        let mut c = Clock {
            metric: Metric::AgentWorkTime,
            instance: 1,
            target_secs: 4 * 3600,
            calendar: "24x7".into(),
            policy: "test".into(),
            span: Span::new(4, Unit::Hours, "24x7"),
            started_at: 0,
            runs: vec![],
            running_since: Some(0),
            fulfilled_at: None,
            warned: false,
            breached: false,
            doubled: false,
        };
        assert_eq!(c.warn_at(&cal), Some(3 * 3600));
        assert_eq!(c.breach_at(&cal), Some(4 * 3600));
        assert_eq!(c.next_due(&cal), Some(3 * 3600));
        c.pause(3600);
        assert_eq!(c.stage(), Stage::Paused);
        assert_eq!(c.breach_at(&cal), None);
        assert_eq!(c.next_due(&cal), None);
        c.resume(7200);
        assert_eq!(
            c.breach_at(&cal),
            Some(7200 + 3 * 3600),
            "an hour paused moves the breach by an hour"
        );
        c.warned = true;
        assert_eq!(c.next_due(&cal), Some(7200 + 3 * 3600));
        assert!(!c.missed(&cal, 7200 + 3 * 3600 - 1));
        assert!(c.missed(&cal, 7200 + 3 * 3600));
        c.fulfil(7200 + 3600);
        assert_eq!(c.stage(), Stage::Achieved);
        assert!(!c.missed(&cal, 1_000_000), "fulfilled in time stays met");
        assert_eq!(warn_secs(1800), 1350);
        assert_eq!(warn_secs(1), 1);
    }

    struct Cals(AlwaysOpen);
    impl Calendars for Cals {
        fn get(&self, _: &str) -> Option<&dyn OpenHours> {
            Some(&self.0)
        }
    }

    fn facts(status: Status, priority: Priority) -> TicketFacts {
        TicketFacts {
            created_at: 0,
            status,
            priority,
            workaround_provided: false,
        }
    }

    fn kinds(ev: &[MetricEvent]) -> Vec<(Metric, i64, &'static str)> {
        ev.iter()
            .map(|e| (e.metric, e.instance, e.kind.as_str()))
            .collect()
    }

    #[test]
    fn a_ticket_walks_through_its_clocks() {
        use Metric::*;
        let policies = default_policies();
        let policy = policies.for_ticket(Some(Tier::Enterprise), None);
        let cals = Cals(AlwaysOpen);
        let mut clocks = Vec::new();
        let new = facts(Status::New, Priority::Urgent);
        let ev = evolve(&mut clocks, None, &new, false, policy, &cals, 0);
        assert_eq!(
            kinds(&ev),
            vec![
                (FirstReplyTime, 1, "apply_sla"),
                (FirstReplyTime, 1, "activate"),
                (AgentWorkTime, 1, "apply_sla"),
                (AgentWorkTime, 1, "activate"),
                (WorkaroundTime, 1, "apply_sla"),
                (WorkaroundTime, 1, "activate"),
            ]
        );
        assert_eq!(
            clocks
                .iter()
                .find(|c| c.metric == FirstReplyTime)
                .unwrap()
                .breach_at(&AlwaysOpen),
            Some(1800)
        );

        // Agent replies at 10 min: first reply met, periodic update starts.
        let open = facts(Status::Open, Priority::Urgent);
        let ev = evolve(&mut clocks, Some(&new), &open, true, policy, &cals, 600);
        assert_eq!(
            kinds(&ev),
            vec![
                (PausableUpdateTime, 1, "apply_sla"),
                (PausableUpdateTime, 1, "activate"),
                (FirstReplyTime, 1, "fulfill")
            ]
        );
        // Pending pauses resolution and the update clock, not first reply (done).
        let pending = facts(Status::Pending, Priority::Urgent);
        let ev = evolve(
            &mut clocks,
            Some(&open),
            &pending,
            false,
            policy,
            &cals,
            1200,
        );
        assert_eq!(
            kinds(&ev),
            vec![
                (AgentWorkTime, 1, "pause"),
                (WorkaroundTime, 1, "pause"),
                (PausableUpdateTime, 1, "pause")
            ]
        );
        // Back to open an hour later, then another reply: instance 2.
        let ev = evolve(
            &mut clocks,
            Some(&pending),
            &open,
            false,
            policy,
            &cals,
            4800,
        );
        assert_eq!(ev.len(), 3);
        let awt = clocks.iter().find(|c| c.metric == AgentWorkTime).unwrap();
        assert_eq!(
            awt.breach_at(&AlwaysOpen),
            Some(24 * 3600 + 3600),
            "paused an hour"
        );
        let ev = evolve(&mut clocks, Some(&open), &open, true, policy, &cals, 5400);
        assert_eq!(
            kinds(&ev),
            vec![
                (PausableUpdateTime, 1, "fulfill"),
                (PausableUpdateTime, 2, "apply_sla"),
                (PausableUpdateTime, 2, "activate")
            ]
        );
        // Priority drops to normal: targets change, the workaround target goes.
        let normal = facts(Status::Open, Priority::Normal);
        let ev = evolve(
            &mut clocks,
            Some(&open),
            &normal,
            false,
            policy,
            &cals,
            6000,
        );
        assert!(kinds(&ev).contains(&(WorkaroundTime, 1, "remove_sla")));
        assert!(kinds(&ev).contains(&(AgentWorkTime, 1, "apply_sla")));
        assert_eq!(
            clocks
                .iter()
                .find(|c| c.metric == AgentWorkTime)
                .unwrap()
                .target_secs,
            48 * 3600
        );
        // Solve fulfils what runs; reopening resumes resolution and starts an update.
        let solved = facts(Status::Solved, Priority::Normal);
        let ev = evolve(
            &mut clocks,
            Some(&normal),
            &solved,
            false,
            policy,
            &cals,
            7000,
        );
        assert_eq!(
            kinds(&ev),
            vec![
                (AgentWorkTime, 1, "fulfill"),
                (PausableUpdateTime, 2, "fulfill")
            ]
        );
        let ev = evolve(
            &mut clocks,
            Some(&solved),
            &normal,
            false,
            policy,
            &cals,
            8000,
        );
        assert_eq!(
            kinds(&ev),
            vec![
                (AgentWorkTime, 1, "activate"),
                (PausableUpdateTime, 3, "apply_sla"),
                (PausableUpdateTime, 3, "activate")
            ]
        );
    }

    #[test]
    fn metrics_pause_as_policy_says() {
        assert!(!Metric::FirstReplyTime.paused_by(Status::Pending));
        assert!(Metric::AgentWorkTime.paused_by(Status::Hold));
        assert!(Metric::PausableUpdateTime.paused_by(Status::Pending));
        assert!(!Metric::AgentWorkTime.paused_by(Status::Open));
        assert_eq!(
            Metric::parse("agent_work_time").unwrap(),
            Metric::AgentWorkTime
        );
    }
}
