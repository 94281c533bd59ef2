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
pub trait OpenHours {
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
    pub const ALL: [Metric; 4] =
        [Metric::FirstReplyTime, Metric::PausableUpdateTime, Metric::AgentWorkTime, Metric::WorkaroundTime];

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
        Span { amount, unit, calendar: calendar.to_string() }
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
                        return Err(ParseError::new(format!("{}: targets must be positive", p.title)));
                    }
                    if !known_calendar(&s.calendar) {
                        return Err(ParseError::new(format!("{}: unknown calendar {}", p.title, s.calendar)));
                    }
                }
                if let Some(h) = &t.hours_calendar
                    && !known_calendar(h)
                {
                    return Err(ParseError::new(format!("{}: unknown calendar {h}", p.title)));
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
    pub fn span(&self, priority: Priority, metric: Metric, opened_inside: impl Fn(&str) -> bool) -> Option<&Span> {
        let rule = self.targets.iter().find(|t| t.priority == priority && t.metric == metric)?;
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
    let rule = |priority, metric, within| TargetRule { priority, metric, within, outside_hours: None, hours_calendar: None };
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
        split(High, FirstReplyTime, s(2, Hours, "business"), s(4, Hours, "24x7"), "business"),
        rule(High, AgentWorkTime, s(24, Hours, "24x7")),
        rule(High, PausableUpdateTime, s(4, Hours, "24x7")),
        rule(Normal, FirstReplyTime, s(4, Hours, "business")),
        rule(Normal, AgentWorkTime, s(48, Hours, "24x7")),
        rule(Normal, PausableUpdateTime, s(1, BusinessDays, "business")),
        rule(Low, FirstReplyTime, s(8, Hours, "business")),
        rule(Low, AgentWorkTime, s(5, BusinessDays, "business")),
    ];
    let mid_market = vec![
        split(Urgent, FirstReplyTime, s(1, Hours, "24x7"), s(4, Hours, "24x7"), "business"),
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
    let tier = |t: Tier, targets, bp| Policy { title: t.label().to_string(), scope: Scope::Tier(t), targets, achievement_bp: Some(bp) };
    let group = |title: &str, id, targets| Policy { title: title.to_string(), scope: Scope::Group(id), targets, achievement_bp: None };
    Policies(vec![
        tier(Tier::Enterprise, enterprise, 9950),
        tier(Tier::MidMarket, mid_market, 9800),
        tier(Tier::Starter, starter, 9500),
        group("Technical Support (no tier)", 1, every(s(4, Hours, "business"), Some(s(24, Hours, "24x7")))),
        group("Implementation (no tier)", 2, every(s(2, Hours, "business"), Some(s(48, Hours, "24x7")))),
        group("Billing & Admin (no tier)", 3, every(s(8, Hours, "business"), Some(s(5, BusinessDays, "business")))),
        // §4 gives Escalations 30 min (critical) and 2 h (high) first
        // responses; both are read as calendar time, since an escalated
        // ticket does not wait for office hours. Medium/low get none.
        group(
            "Escalations (no tier)",
            4,
            vec![rule(Urgent, FirstReplyTime, s(30, Minutes, "24x7")), rule(High, FirstReplyTime, s(2, Hours, "24x7"))],
        ),
    ])
}

/// One metric's clock. Times are unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub metric: Metric,
    pub target_secs: i64,
    pub calendar: String,
    /// When the metric started (ticket creation, or the agent reply that
    /// opened this periodic-update instance).
    pub started_at: i64,
    /// Open seconds accumulated before `running_since`.
    pub elapsed: i64,
    /// Set while the clock runs.
    pub running_since: Option<i64>,
    pub fulfilled_at: Option<i64>,
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

    /// Open seconds elapsed at `now`.
    pub fn elapsed_at(&self, cal: &dyn OpenHours, now: i64) -> i64 {
        match self.running_since {
            Some(r) if now > r => self.elapsed + cal.open_between(r, now),
            _ => self.elapsed,
        }
    }

    /// When the elapsed open time reaches `secs`, if the clock runs.
    fn instant_of(&self, cal: &dyn OpenHours, secs: i64) -> Option<i64> {
        let running = self.running_since?;
        if self.fulfilled_at.is_some() {
            return None;
        }
        Some(cal.add_open(running, (secs - self.elapsed).max(0)))
    }

    pub fn breach_at(&self, cal: &dyn OpenHours) -> Option<i64> {
        self.instant_of(cal, self.target_secs)
    }

    pub fn warn_at(&self, cal: &dyn OpenHours) -> Option<i64> {
        self.instant_of(cal, warn_secs(self.target_secs))
    }

    /// Stops the clock, keeping the open time it counted.
    pub fn pause(&mut self, cal: &dyn OpenHours, now: i64) {
        if let Some(r) = self.running_since.take() {
            self.elapsed += cal.open_between(r, now.max(r));
        }
    }

    pub fn resume(&mut self, now: i64) {
        if self.running_since.is_none() && self.fulfilled_at.is_none() {
            self.running_since = Some(now);
        }
    }

    pub fn fulfil(&mut self, cal: &dyn OpenHours, now: i64) {
        self.pause(cal, now);
        self.fulfilled_at = Some(now);
    }

    /// Whether the metric missed its target (at fulfilment, or by `now`).
    pub fn breached(&self, cal: &dyn OpenHours, now: i64) -> bool {
        let at = self.fulfilled_at.unwrap_or(now);
        self.elapsed_at(cal, at) > self.target_secs
            || (self.fulfilled_at.is_none() && self.elapsed_at(cal, now) >= self.target_secs)
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
        p.validate(|c| ["24x7", "business", "extended"].contains(&c)).unwrap();
        for tier in Tier::ALL {
            let policy = p.for_ticket(Some(*tier), None).unwrap();
            for prio in Priority::ALL {
                assert!(policy.span(*prio, Metric::FirstReplyTime, |_| true).is_some(), "{tier} {prio}");
            }
        }
        let ent = p.for_ticket(Some(Tier::Enterprise), None).unwrap();
        assert_eq!(ent.span(Priority::High, Metric::FirstReplyTime, |_| true).unwrap(), &Span::new(2, Unit::Hours, "business"));
        assert_eq!(ent.span(Priority::High, Metric::FirstReplyTime, |_| false).unwrap(), &Span::new(4, Unit::Hours, "24x7"));
        assert!(ent.span(Priority::Low, Metric::PausableUpdateTime, |_| true).is_none(), "P3 has no periodic update");
        let starter = p.for_ticket(Some(Tier::Starter), None).unwrap();
        assert!(starter.span(Priority::Normal, Metric::PausableUpdateTime, |_| true).is_none());
        assert_eq!(p.for_ticket(None, Some(3)).unwrap().title, "Billing & Admin (no tier)");
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
            target_secs: 4 * 3600,
            calendar: "24x7".into(),
            started_at: 0,
            elapsed: 0,
            running_since: Some(0),
            fulfilled_at: None,
        };
        assert_eq!(c.warn_at(&cal), Some(3 * 3600));
        assert_eq!(c.breach_at(&cal), Some(4 * 3600));
        c.pause(&cal, 3600);
        assert_eq!(c.stage(), Stage::Paused);
        assert_eq!(c.breach_at(&cal), None);
        c.resume(7200);
        assert_eq!(c.breach_at(&cal), Some(7200 + 3 * 3600), "an hour paused moves the breach by an hour");
        assert!(!c.breached(&cal, 7200 + 3 * 3600 - 1));
        assert!(c.breached(&cal, 7200 + 3 * 3600));
        c.fulfil(&cal, 7200 + 3600);
        assert_eq!(c.stage(), Stage::Achieved);
        assert!(!c.breached(&cal, 1_000_000), "fulfilled in time stays met");
        assert_eq!(warn_secs(1800), 1350);
        assert_eq!(warn_secs(1), 1);
    }

    #[test]
    fn metrics_pause_as_policy_says() {
        assert!(!Metric::FirstReplyTime.paused_by(Status::Pending));
        assert!(Metric::AgentWorkTime.paused_by(Status::Hold));
        assert!(Metric::PausableUpdateTime.paused_by(Status::Pending));
        assert!(!Metric::AgentWorkTime.paused_by(Status::Open));
        assert_eq!(Metric::parse("agent_work_time").unwrap(), Metric::AgentWorkTime);
    }
}
