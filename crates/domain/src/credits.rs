//! SLA credits (policies.md §5), as a pure function of an account's tier,
//! its monthly fee and its misses in one calendar month.
//!
//! | tier | response miss | resolution miss | repeat rule |
//! |---|---|---|---|
//! | Enterprise | 5 % | 10 % | 2+ misses in the month: max(15 %, sum) |
//! | Mid-Market | 3 % | 5 % | 2+ misses in the month: max(10 %, sum) |
//! | Starter | 1 % | 2 % | only the first miss of the month earns a credit |
//!
//! A *miss* is a breached first-response (`first_reply_time`) or resolution
//! (`agent_work_time`) metric that is neither excluded nor waived by force
//! majeure; P0's workaround target (`workaround_time`) is a resolution
//! target, so its breach is a resolution miss of its own. Periodic-update
//! breaches are reported but never credited ([`MissKind::of_metric`]).
//!
//! Interpretations, written down here because §5 leaves them open:
//!
//! - **Arithmetic.** Percentages are basis points (5 % = 500 bp). The
//!   month's percentage is settled first, then applied once to the monthly
//!   fee, so the credit is exactly that share of the fee and not a sum of
//!   separately rounded parts. The amount is rounded to the nearest cent,
//!   halves up (in the customer's favour); the fee itself is ACV / 12
//!   rounded down ([`Money::monthly_fee`]).
//! - **Cap.** A month's credit never exceeds 100 % of that month's fee
//!   (possible only with ten or more Enterprise resolution misses); the
//!   result says when the cap applied.
//! - **Starter's first miss** is the earliest by breach instant; on a tie a
//!   resolution miss goes first (the larger credit, in the customer's
//!   favour), so the result does not depend on the order of the input.
//! - **Quarter review.** "3+ misses in a quarter" counts the credited kinds
//!   of miss (response and resolution) in the calendar quarter; the caller
//!   decides the range (the SLA report counts the quarter to date).
//! - **Escalation's "credit is recorded"** (§6, elapsed past twice the
//!   target) marks the escalation report; it adds no credit of its own. The
//!   amount is always this module's monthly settlement of §5.
//! - **Tier and fee** are the account's as they stand when the credit is
//!   computed (Steward keeps no history of ACV or pinned tiers).

use serde::Serialize;

use crate::{Money, Tier, sla::Metric};

/// Basis points in 100 %.
pub const WHOLE_BP: i64 = 10_000;

/// The two kinds of credited miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissKind {
    Response,
    Resolution,
}

impl MissKind {
    /// Which kind of miss a breached metric is, if it earns credits at all.
    pub fn of_metric(m: Metric) -> Option<MissKind> {
        match m {
            Metric::FirstReplyTime => Some(MissKind::Response),
            Metric::AgentWorkTime | Metric::WorkaroundTime => Some(MissKind::Resolution),
            Metric::PausableUpdateTime => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MissKind::Response => "response",
            MissKind::Resolution => "resolution",
        }
    }
}

/// One credited miss: when the target was breached, and of which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Miss {
    pub at: i64,
    pub kind: MissKind,
}

/// How a tier treats more than one miss in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatRule {
    /// From `from_misses` misses on, the month earns max(`floor_bp`, sum).
    Floor { from_misses: usize, floor_bp: i64 },
    /// Only the month's first miss earns a credit.
    FirstMissOnly,
}

/// A tier's credit terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditTerms {
    pub response_bp: i64,
    pub resolution_bp: i64,
    pub repeat: RepeatRule,
}

impl CreditTerms {
    pub fn of(tier: Tier) -> CreditTerms {
        match tier {
            Tier::Enterprise => CreditTerms {
                response_bp: 500,
                resolution_bp: 1_000,
                repeat: RepeatRule::Floor {
                    from_misses: 2,
                    floor_bp: 1_500,
                },
            },
            Tier::MidMarket => CreditTerms {
                response_bp: 300,
                resolution_bp: 500,
                repeat: RepeatRule::Floor {
                    from_misses: 2,
                    floor_bp: 1_000,
                },
            },
            Tier::Starter => CreditTerms {
                response_bp: 100,
                resolution_bp: 200,
                repeat: RepeatRule::FirstMissOnly,
            },
        }
    }

    pub fn bp(&self, kind: MissKind) -> i64 {
        match kind {
            MissKind::Response => self.response_bp,
            MissKind::Resolution => self.resolution_bp,
        }
    }
}

/// Which rule settled a month's percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditRule {
    /// No misses, no credit.
    None,
    /// One miss (Enterprise, Mid-Market): its own percentage.
    PerMiss,
    /// 2+ misses (Enterprise, Mid-Market): max(floor, sum).
    RepeatFloor,
    /// Starter: the first miss's percentage, whatever followed.
    FirstMissOnly,
}

/// A month's credit for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCredit {
    pub misses: usize,
    pub response_misses: usize,
    pub resolution_misses: usize,
    /// Misses that earned a percentage (Starter: at most one).
    pub credited_misses: usize,
    /// Sum of the credited misses' percentages, before the repeat rule.
    pub sum_bp: i64,
    /// The month's percentage of the fee, after the repeat rule and cap.
    pub percent_bp: i64,
    pub rule: CreditRule,
    /// Whether the 100 % cap cut the percentage.
    pub capped: bool,
    pub fee_cents: i64,
    pub amount_cents: i64,
}

/// `bp` basis points of `fee`, to the nearest cent, halves up.
pub fn share(fee: Money, bp: i64) -> Money {
    let exact = i128::from(fee.cents().max(0)) * i128::from(bp.max(0));
    let cents = (exact + i128::from(WHOLE_BP / 2)) / i128::from(WHOLE_BP);
    Money(i64::try_from(cents).unwrap_or(i64::MAX))
}

/// The credit an account of `tier` earns for a calendar month with these
/// misses (policies.md §5). `misses` are the month's credited misses only:
/// excluded tickets and force-majeure waivers are left out by the caller.
pub fn month_credit(tier: Tier, fee: Money, misses: &[Miss]) -> MonthCredit {
    let terms = CreditTerms::of(tier);
    let count = |k: MissKind| misses.iter().filter(|m| m.kind == k).count();
    let (response_misses, resolution_misses) =
        (count(MissKind::Response), count(MissKind::Resolution));
    let (credited_misses, sum_bp, raw_bp, rule) = match (misses.len(), terms.repeat) {
        (0, _) => (0, 0, 0, CreditRule::None),
        (_, RepeatRule::FirstMissOnly) => {
            let first = misses
                .iter()
                .min_by_key(|m| (m.at, std::cmp::Reverse(m.kind)))
                .map_or(0, |m| terms.bp(m.kind));
            (1, first, first, CreditRule::FirstMissOnly)
        }
        (
            n,
            RepeatRule::Floor {
                from_misses,
                floor_bp,
            },
        ) => {
            let sum: i64 = misses.iter().map(|m| terms.bp(m.kind)).sum();
            if n >= from_misses {
                (n, sum, sum.max(floor_bp), CreditRule::RepeatFloor)
            } else {
                (n, sum, sum, CreditRule::PerMiss)
            }
        }
    };
    let percent_bp = raw_bp.min(WHOLE_BP);
    MonthCredit {
        misses: misses.len(),
        response_misses,
        resolution_misses,
        credited_misses,
        sum_bp,
        percent_bp,
        rule,
        capped: raw_bp > WHOLE_BP,
        fee_cents: fee.cents(),
        amount_cents: share(fee, percent_bp).cents(),
    }
}

/// What 3+ misses in a quarter call for (policies.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarterAction {
    /// Enterprise: executive review and an improvement plan (a task).
    ExecutiveReview,
    /// Mid-Market: escalation to the VP of Engineering and an improvement plan.
    VpEngineeringEscalation,
}

impl QuarterAction {
    pub fn label(self) -> &'static str {
        match self {
            QuarterAction::ExecutiveReview => "executive review + improvement plan",
            QuarterAction::VpEngineeringEscalation => {
                "escalation to VP Engineering + improvement plan"
            }
        }
    }
}

/// Misses in a quarter from which the quarter rule applies.
pub const QUARTER_MISSES: usize = 3;

/// The action due for `misses` credited misses in one quarter, if any.
pub fn quarter_action(tier: Tier, misses: usize) -> Option<QuarterAction> {
    if misses < QUARTER_MISSES {
        return None;
    }
    match tier {
        Tier::Enterprise => Some(QuarterAction::ExecutiveReview),
        Tier::MidMarket => Some(QuarterAction::VpEngineeringEscalation),
        Tier::Starter => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MissKind::{Resolution, Response};

    const FEE: Money = Money(1_000_000); // $10,000.00 a month ($120,000 ACV)

    fn misses(kinds: &[MissKind]) -> Vec<Miss> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, k)| Miss {
                at: 1_000 + i as i64 * 60,
                kind: *k,
            })
            .collect()
    }

    fn credit(tier: Tier, kinds: &[MissKind]) -> MonthCredit {
        month_credit(tier, FEE, &misses(kinds))
    }

    #[test]
    fn zero_misses_earn_nothing_on_every_tier() {
        for tier in Tier::ALL {
            let c = month_credit(*tier, FEE, &[]);
            assert_eq!(
                (c.misses, c.percent_bp, c.amount_cents, c.rule),
                (0, 0, 0, CreditRule::None),
                "{tier}"
            );
            assert_eq!(c.fee_cents, FEE.cents());
            assert_eq!(quarter_action(*tier, 0), None);
        }
    }

    #[test]
    fn a_single_miss_earns_its_own_percentage() {
        let cases = [
            (Tier::Enterprise, Response, 500),
            (Tier::Enterprise, Resolution, 1_000),
            (Tier::MidMarket, Response, 300),
            (Tier::MidMarket, Resolution, 500),
            (Tier::Starter, Response, 100),
            (Tier::Starter, Resolution, 200),
        ];
        for (tier, kind, bp) in cases {
            let c = credit(tier, &[kind]);
            assert_eq!(c.percent_bp, bp, "{tier} {kind:?}");
            assert_eq!(c.amount_cents, FEE.cents() * bp / WHOLE_BP);
            assert_eq!(c.credited_misses, 1);
            assert!(!c.capped);
        }
        assert_eq!(
            credit(Tier::Enterprise, &[Response]).rule,
            CreditRule::PerMiss
        );
        assert_eq!(
            credit(Tier::Starter, &[Response]).rule,
            CreditRule::FirstMissOnly
        );
    }

    #[test]
    fn enterprise_two_or_more_misses_earn_at_least_fifteen_percent() {
        // 5 % + 5 % = 10 % < 15 %: the floor applies.
        let c = credit(Tier::Enterprise, &[Response, Response]);
        assert_eq!((c.sum_bp, c.percent_bp), (1_000, 1_500));
        assert_eq!(c.rule, CreditRule::RepeatFloor);
        assert_eq!(c.amount_cents, 150_000);
        // 5 % + 10 % = 15 %: equal to the floor.
        let c = credit(Tier::Enterprise, &[Response, Resolution]);
        assert_eq!((c.sum_bp, c.percent_bp), (1_500, 1_500));
        // 10 % + 10 % = 20 % > 15 %: the sum.
        let c = credit(Tier::Enterprise, &[Resolution, Resolution]);
        assert_eq!((c.sum_bp, c.percent_bp), (2_000, 2_000));
        assert_eq!(c.amount_cents, 200_000);
        // Three misses: 5 + 10 + 10 = 25 %.
        let c = credit(Tier::Enterprise, &[Response, Resolution, Resolution]);
        assert_eq!(c.percent_bp, 2_500);
        assert_eq!((c.response_misses, c.resolution_misses), (1, 2));
        assert_eq!(c.credited_misses, 3);
    }

    #[test]
    fn mid_market_two_or_more_misses_earn_at_least_ten_percent() {
        let c = credit(Tier::MidMarket, &[Response, Response]);
        assert_eq!((c.sum_bp, c.percent_bp), (600, 1_000));
        assert_eq!(c.rule, CreditRule::RepeatFloor);
        let c = credit(Tier::MidMarket, &[Resolution, Resolution]);
        assert_eq!((c.sum_bp, c.percent_bp), (1_000, 1_000));
        let c = credit(Tier::MidMarket, &[Resolution, Resolution, Response]);
        assert_eq!((c.sum_bp, c.percent_bp), (1_300, 1_300));
    }

    #[test]
    fn starter_credits_only_the_first_miss_of_the_month() {
        // First a response miss (1 %), then resolutions: still 1 %.
        let c = credit(Tier::Starter, &[Response, Resolution, Resolution]);
        assert_eq!((c.misses, c.credited_misses), (3, 1));
        assert_eq!((c.sum_bp, c.percent_bp), (100, 100));
        assert_eq!(c.amount_cents, 10_000);
        // The earliest decides, whatever the input order.
        let mut m = misses(&[Resolution, Response]);
        m.reverse();
        assert_eq!(month_credit(Tier::Starter, FEE, &m).percent_bp, 200);
        // A tie goes to the resolution miss.
        let tie = [
            Miss {
                at: 5,
                kind: Response,
            },
            Miss {
                at: 5,
                kind: Resolution,
            },
        ];
        assert_eq!(month_credit(Tier::Starter, FEE, &tie).percent_bp, 200);
        assert_eq!(quarter_action(Tier::Starter, 10), None);
    }

    #[test]
    fn credits_never_exceed_the_fee() {
        let c = credit(Tier::Enterprise, &[Resolution; 11]);
        assert_eq!((c.sum_bp, c.percent_bp), (11_000, WHOLE_BP));
        assert!(c.capped);
        assert_eq!(c.amount_cents, FEE.cents());
        assert!(!credit(Tier::Enterprise, &[Resolution; 10]).capped);
    }

    #[test]
    fn amounts_round_to_the_nearest_cent_halves_up() {
        // $208.33 a month ($2,499.96 ACV / 12): 1 % = 208.33 ¢ → 208 ¢.
        assert_eq!(share(Money(20_833), 100), Money(208));
        // 5 % of 1,010 ¢ = 50.5 ¢ → 51 ¢.
        assert_eq!(share(Money(1_010), 500), Money(51));
        // 3 % of 1,049 ¢ = 31.47 ¢ → 31 ¢.
        assert_eq!(share(Money(1_049), 300), Money(31));
        assert_eq!(share(Money(0), 1_500), Money(0));
        assert_eq!(share(Money(i64::MAX), WHOLE_BP), Money(i64::MAX));
        // An account without an ACV has no fee and so no amount.
        let c = month_credit(Tier::Enterprise, Money(0), &misses(&[Response]));
        assert_eq!((c.percent_bp, c.amount_cents), (500, 0));
    }

    #[test]
    fn three_misses_in_a_quarter_call_for_action() {
        assert_eq!(quarter_action(Tier::Enterprise, 2), None);
        assert_eq!(
            quarter_action(Tier::Enterprise, 3),
            Some(QuarterAction::ExecutiveReview)
        );
        assert_eq!(
            quarter_action(Tier::MidMarket, 3),
            Some(QuarterAction::VpEngineeringEscalation)
        );
        assert_eq!(quarter_action(Tier::MidMarket, 2), None);
        assert_eq!(quarter_action(Tier::Starter, 3), None);
        assert!(QuarterAction::ExecutiveReview.label().contains("executive"));
    }

    #[test]
    fn only_first_response_and_resolution_metrics_are_credited() {
        assert_eq!(MissKind::of_metric(Metric::FirstReplyTime), Some(Response));
        assert_eq!(MissKind::of_metric(Metric::AgentWorkTime), Some(Resolution));
        assert_eq!(
            MissKind::of_metric(Metric::WorkaroundTime),
            Some(Resolution)
        );
        assert_eq!(MissKind::of_metric(Metric::PausableUpdateTime), None);
    }
}
