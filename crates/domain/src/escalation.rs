//! The escalation ladder (policies.md §6), as pure rules.
//!
//! Reading of §6 written down here (the playbook is terse):
//! * Levels run 1..=4 (Starter has 3). A ticket's level only rises; each
//!   (ticket, level) escalation happens once and is recorded with a report.
//! * SLA triggers, per metric: the warning (75 %) raises the ticket to
//!   level 1; the breach ("elapsed > 1× target") to level 2 — one level up
//!   from a warned ticket, two from an unescalated one — and notifies the CS
//!   Manager; elapsed past 2× the target takes it to the tier's top level
//!   and records a credit.
//! * Time triggers, from creation while unsolved: P0 open 1 h → the level
//!   of VP Engineering; P0 unresolved 2 h → the COO is notified; P0 open
//!   4 h → level 3; P1 unresolved 8 h and P2 unresolved 24 h → next level.
//! * P3 tickets escalate only when linked to tickets of 2+ accounts (a
//!   platform incident).
//! * An account with ACV above $50,000 gets an executive stakeholder as
//!   follower on every ticket.

use serde::{Deserialize, Serialize};

use crate::{Money, Priority, Tier};

/// Who each level reaches, by tier (§6's table). Contacts are titles; the
/// store maps a title to users (by role or explicit users).
pub fn ladder(tier: Tier) -> &'static [&'static str] {
    match tier {
        Tier::Enterprise => &["CS Manager", "VP Engineering", "VP Product", "CEO"],
        Tier::MidMarket => &[
            "Implementation CSM",
            "CS Manager",
            "VP Engineering",
            "VP Product",
        ],
        Tier::Starter => &["Support Team", "Implementation CSM", "CS Manager"],
    }
}

pub fn top_level(tier: Tier) -> i64 {
    ladder(tier).len() as i64
}

/// The contact a level reaches (1-based).
pub fn contact(tier: Tier, level: i64) -> &'static str {
    let l = ladder(tier);
    l[(level.clamp(1, l.len() as i64) - 1) as usize]
}

/// The level whose contact is `title`, if the tier's ladder has it.
pub fn level_of(tier: Tier, title: &str) -> Option<i64> {
    ladder(tier)
        .iter()
        .position(|t| *t == title)
        .map(|i| i as i64 + 1)
}

/// What made a ticket escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    SlaWarning,
    SlaBreach,
    SlaDoubleTarget,
    P0Open1h,
    P0Unresolved2h,
    P0Open4h,
    P1Unresolved8h,
    P2Unresolved24h,
    /// An automation rule's `escalate` action (§7): one level up.
    Rule,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::SlaWarning => "sla_warning",
            Trigger::SlaBreach => "sla_breach",
            Trigger::SlaDoubleTarget => "sla_double_target",
            Trigger::P0Open1h => "p0_open_1h",
            Trigger::P0Unresolved2h => "p0_unresolved_2h",
            Trigger::P0Open4h => "p0_open_4h",
            Trigger::P1Unresolved8h => "p1_unresolved_8h",
            Trigger::P2Unresolved24h => "p2_unresolved_24h",
            Trigger::Rule => "rule",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        TIMED
            .iter()
            .map(|(t, _)| *t)
            .chain([
                Trigger::SlaWarning,
                Trigger::SlaBreach,
                Trigger::SlaDoubleTarget,
                Trigger::Rule,
            ])
            .find(|t| t.as_str() == s)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Trigger::SlaWarning => "an SLA target reached 75 %",
            Trigger::SlaBreach => "an SLA target was breached",
            Trigger::SlaDoubleTarget => "an SLA target is more than twice exceeded",
            Trigger::P0Open1h => "P0 open for 1 hour",
            Trigger::P0Unresolved2h => "P0 unresolved for 2 hours",
            Trigger::P0Open4h => "P0 open for 4 hours without resolution",
            Trigger::P1Unresolved8h => "P1 unresolved for 8 hours",
            Trigger::P2Unresolved24h => "P2 unresolved for 24 hours",
            Trigger::Rule => "an automation rule escalated it",
        }
    }
}

/// Time triggers and their delay from creation.
pub const TIMED: [(Trigger, i64); 5] = [
    (Trigger::P0Open1h, 3600),
    (Trigger::P0Unresolved2h, 2 * 3600),
    (Trigger::P0Open4h, 4 * 3600),
    (Trigger::P1Unresolved8h, 8 * 3600),
    (Trigger::P2Unresolved24h, 24 * 3600),
];

/// The time triggers a ticket of `priority` carries.
pub fn timed_triggers(priority: Priority) -> Vec<(Trigger, i64)> {
    TIMED
        .iter()
        .copied()
        .filter(|(t, _)| match t {
            Trigger::P0Open1h | Trigger::P0Unresolved2h | Trigger::P0Open4h => {
                priority == Priority::Urgent
            }
            Trigger::P1Unresolved8h => priority == Priority::High,
            Trigger::P2Unresolved24h => priority == Priority::Normal,
            _ => false,
        })
        .collect()
}

/// What a trigger does to a ticket at `current` level (0 = none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The new level, when it rises.
    pub level: Option<i64>,
    /// Titles notified without a level change (COO, CS Manager).
    pub notify: Vec<&'static str>,
    pub credit: bool,
}

/// Applies §6 to one trigger. `platform` says whether the ticket belongs
/// to a platform incident (linked to tickets of 2+ accounts), which is the
/// only way a P3 escalates.
pub fn decide(
    trigger: Trigger,
    tier: Tier,
    priority: Priority,
    current: i64,
    platform: bool,
) -> Decision {
    let top = top_level(tier);
    let mut d = Decision {
        level: None,
        notify: Vec::new(),
        credit: false,
    };
    if priority == Priority::Low && !platform {
        return d;
    }
    let target = match trigger {
        Trigger::SlaWarning => 1,
        Trigger::SlaBreach => {
            d.notify.push("CS Manager");
            2
        }
        Trigger::SlaDoubleTarget => {
            d.credit = true;
            top
        }
        Trigger::P0Open1h => level_of(tier, "VP Engineering").unwrap_or(top),
        Trigger::P0Unresolved2h => {
            d.notify.push("COO");
            0
        }
        Trigger::P0Open4h => 3,
        Trigger::P1Unresolved8h | Trigger::P2Unresolved24h | Trigger::Rule => current + 1,
    };
    let target = target.min(top);
    if target > current {
        d.level = Some(target);
    }
    d
}

/// §6: accounts above $50,000 ACV get an executive stakeholder follower.
pub fn needs_executive_follower(acv: Option<Money>) -> bool {
    acv.is_some_and(|a| a > Money::from_dollars(50_000))
}

/// War-room update cadence (§6: every 30 minutes for P0; hourly otherwise,
/// Steward's reading for lower priorities).
pub fn war_room_cadence_secs(priority: Priority) -> i64 {
    if priority == Priority::Urgent {
        1800
    } else {
        3600
    }
}

/// A P0 needs its root-cause analysis within 24 hours of being solved.
pub const RCA_DUE_SECS: i64 = 24 * 3600;

#[cfg(test)]
mod tests {
    use super::*;
    use Priority::*;
    use Tier::*;

    #[test]
    fn ladders_follow_the_table() {
        assert_eq!(contact(Enterprise, 1), "CS Manager");
        assert_eq!(contact(Enterprise, 4), "CEO");
        assert_eq!(contact(MidMarket, 1), "Implementation CSM");
        assert_eq!(contact(Starter, 3), "CS Manager");
        assert_eq!(top_level(Starter), 3);
        assert_eq!(level_of(Enterprise, "VP Engineering"), Some(2));
        assert_eq!(level_of(MidMarket, "VP Engineering"), Some(3));
        assert_eq!(level_of(Starter, "VP Engineering"), None);
    }

    #[test]
    fn sla_triggers_climb_the_ladder() {
        let d = decide(Trigger::SlaWarning, Enterprise, High, 0, false);
        assert_eq!(d.level, Some(1));
        let d = decide(Trigger::SlaBreach, Enterprise, High, 1, false);
        assert_eq!((d.level, d.notify.clone()), (Some(2), vec!["CS Manager"]));
        assert_eq!(
            decide(Trigger::SlaBreach, Enterprise, High, 0, false).level,
            Some(2),
            "two levels from none"
        );
        let d = decide(Trigger::SlaDoubleTarget, Starter, Urgent, 2, false);
        assert_eq!((d.level, d.credit), (Some(3), true), "Starter's top is 3");
        assert_eq!(
            decide(Trigger::SlaWarning, Enterprise, High, 2, false).level,
            None,
            "levels never fall"
        );
    }

    #[test]
    fn time_triggers_by_priority() {
        assert_eq!(timed_triggers(Urgent).len(), 3);
        assert_eq!(
            timed_triggers(High),
            vec![(Trigger::P1Unresolved8h, 8 * 3600)]
        );
        assert_eq!(
            timed_triggers(Normal),
            vec![(Trigger::P2Unresolved24h, 24 * 3600)]
        );
        assert!(timed_triggers(Low).is_empty());
        assert_eq!(
            decide(Trigger::P0Open1h, Enterprise, Urgent, 0, false).level,
            Some(2)
        );
        assert_eq!(
            decide(Trigger::P0Open1h, MidMarket, Urgent, 0, false).level,
            Some(3)
        );
        assert_eq!(
            decide(Trigger::P0Open1h, Starter, Urgent, 0, false).level,
            Some(3)
        );
        let coo = decide(Trigger::P0Unresolved2h, Enterprise, Urgent, 2, false);
        assert_eq!((coo.level, coo.notify), (None, vec!["COO"]));
        assert_eq!(
            decide(Trigger::P0Open4h, Enterprise, Urgent, 2, false).level,
            Some(3)
        );
        assert_eq!(
            decide(Trigger::P1Unresolved8h, MidMarket, High, 2, false).level,
            Some(3)
        );
    }

    #[test]
    fn p3_escalates_only_as_a_platform_incident() {
        assert_eq!(
            decide(Trigger::SlaBreach, Enterprise, Low, 0, false).level,
            None
        );
        assert_eq!(
            decide(Trigger::SlaBreach, Enterprise, Low, 0, true).level,
            Some(2)
        );
    }

    #[test]
    fn executive_follower_above_fifty_thousand() {
        assert!(!needs_executive_follower(Some(Money::from_dollars(50_000))));
        assert!(needs_executive_follower(Some(Money(5_000_001))));
        assert!(!needs_executive_follower(None));
        assert_eq!(Trigger::parse("p0_open_4h"), Some(Trigger::P0Open4h));
    }
}
