//! NPS arithmetic and follow-ups (policies.md §10), the pure part.
//!
//! NPS = % promoters (9–10) − % detractors (0–6), passives 7–8, reported as
//! an integer rounded half away from zero, with the counts. It is computed
//! in integers (`100 × (promoters − detractors) / responses`), so 12.5
//! rounds to 13 and −12.5 to −13 exactly, never by float luck. A campaign
//! without responses has no NPS (`None`), not 0.

use serde::Serialize;

use crate::{ParseError, Priority, string_enum};

string_enum! {
    Category, "NPS category" {
        Promoter => "promoter",
        Passive => "passive",
        Detractor => "detractor",
    }
}

impl Category {
    /// The category of a 0–10 answer.
    pub fn of(score: u8) -> Result<Category, ParseError> {
        match score {
            0..=6 => Ok(Category::Detractor),
            7..=8 => Ok(Category::Passive),
            9..=10 => Ok(Category::Promoter),
            _ => Err(ParseError::new(format!(
                "{score} is not a score from 0 to 10"
            ))),
        }
    }
}

/// Counts of a set of responses and their NPS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub promoters: u32,
    pub passives: u32,
    pub detractors: u32,
}

impl Tally {
    pub fn add(&mut self, c: Category) {
        match c {
            Category::Promoter => self.promoters += 1,
            Category::Passive => self.passives += 1,
            Category::Detractor => self.detractors += 1,
        }
    }

    pub fn responses(&self) -> u32 {
        self.promoters + self.passives + self.detractors
    }

    /// The NPS, or `None` without responses.
    pub fn nps(&self) -> Option<i32> {
        let n = i64::from(self.responses());
        if n == 0 {
            return None;
        }
        let num = 100 * (i64::from(self.promoters) - i64::from(self.detractors));
        Some(div_round_half_away(num, n) as i32)
    }

    /// A category's share in percent, rounded half away from zero.
    pub fn share(&self, c: Category) -> Option<i32> {
        let n = i64::from(self.responses());
        let k = match c {
            Category::Promoter => self.promoters,
            Category::Passive => self.passives,
            Category::Detractor => self.detractors,
        };
        (n > 0).then(|| div_round_half_away(100 * i64::from(k), n) as i32)
    }
}

/// `num / den` rounded to the nearest integer, halves away from zero
/// (`den > 0`).
pub fn div_round_half_away(num: i64, den: i64) -> i64 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// A follow-up task of §10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUp {
    pub title: &'static str,
    /// Due this many hours after the response.
    pub due_hours: i64,
    pub priority: Priority,
}

/// §10's follow-ups per category.
pub fn follow_ups(c: Category) -> &'static [FollowUp] {
    const fn f(title: &'static str, due_hours: i64, priority: Priority) -> FollowUp {
        FollowUp {
            title,
            due_hours,
            priority,
        }
    }
    const PROMOTER: &[FollowUp] = &[
        f("Thank the promoter", 7 * 24, Priority::Normal),
        f("Offer an optional call", 14 * 24, Priority::Low),
        f("Invite to the CAB or a referral", 14 * 24, Priority::Low),
    ];
    const PASSIVE: &[FollowUp] = &[
        f("Send the gap e-mail", 3 * 24, Priority::Normal),
        f("Make a targeted improvement", 7 * 24, Priority::Normal),
        f("Re-check at 30 days", 30 * 24, Priority::Low),
    ];
    const DETRACTOR: &[FollowUp] = &[
        f("Contact the detractor personally", 24, Priority::Urgent),
        f("Root-cause analysis", 7 * 24, Priority::High),
        f(
            "Track the redemption path until resolved",
            30 * 24,
            Priority::High,
        ),
    ];
    match c {
        Category::Promoter => PROMOTER,
        Category::Passive => PASSIVE,
        Category::Detractor => DETRACTOR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(p: u32, pa: u32, d: u32) -> Tally {
        Tally {
            promoters: p,
            passives: pa,
            detractors: d,
        }
    }

    #[test]
    fn categories() {
        assert_eq!(Category::of(0), Ok(Category::Detractor));
        assert_eq!(Category::of(6), Ok(Category::Detractor));
        assert_eq!(Category::of(7), Ok(Category::Passive));
        assert_eq!(Category::of(8), Ok(Category::Passive));
        assert_eq!(Category::of(9), Ok(Category::Promoter));
        assert_eq!(Category::of(10), Ok(Category::Promoter));
        assert!(Category::of(11).is_err());
    }

    #[test]
    fn nps_rounds_half_away_from_zero() {
        assert_eq!(tally(0, 0, 0).nps(), None);
        assert_eq!(tally(1, 7, 0).nps(), Some(13)); // 12.5
        assert_eq!(tally(0, 7, 1).nps(), Some(-13)); // −12.5
        assert_eq!(tally(1, 1, 1).nps(), Some(0));
        assert_eq!(tally(2, 0, 1).nps(), Some(33)); // 33.3
        assert_eq!(tally(1, 0, 2).nps(), Some(-33));
        assert_eq!(tally(5, 0, 0).nps(), Some(100));
        assert_eq!(tally(0, 0, 3).nps(), Some(-100));
        assert_eq!(tally(3, 3, 2).nps(), Some(13)); // 12.5
        assert_eq!(tally(1, 2, 0).share(Category::Passive), Some(67));
        assert_eq!(div_round_half_away(-5, 2), -3);
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(-4, 3), -1);
    }

    #[test]
    fn detractors_are_contacted_within_a_day() {
        let d = follow_ups(Category::Detractor);
        assert_eq!(d[0].due_hours, 24);
        assert_eq!(d[0].priority, Priority::Urgent);
        assert_eq!(follow_ups(Category::Passive)[0].due_hours, 72);
        assert_eq!(follow_ups(Category::Promoter)[0].due_hours, 168);
    }
}
