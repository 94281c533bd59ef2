//! The Customer Advisory Board (policies.md §12): who may sit on it, when
//! terms run, and the dates around each quarterly meeting.
//!
//! Decisions:
//! - "High expansion potential" means `expansion_potential_cents` ≥ 25 % of
//!   the ACV; "reference value" is a flag a CSM sets on the candidate when
//!   adding the member (`reference: true`), and either satisfies the
//!   criterion. Eligibility is recomputed on every read: nothing is stored.
//! - Terms run from October 1 for one year (`term_end` is September 30 of
//!   the next year, inclusive); the September review of year Y looks at the
//!   active terms ending on or before Y-09-30.
//! - Meeting dates are calendar dates; "next business day" skips Saturday
//!   and Sunday only (the board meets customers, not a support calendar).

use jiff::{ToSpan, civil::Date, civil::Weekday};
use serde::Serialize;

use crate::ParseError;

pub const MIN_ACV_CENTS: i64 = 5_000_000;
pub const MIN_MONTHS_AS_CUSTOMER: i64 = 6;
pub const MIN_DAU_PCT: f64 = 30.0;
pub const EXPANSION_SHARE_PCT: i64 = 25;

/// What the eligibility rules look at, as Steward knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Account {
    pub acv_cents: Option<i64>,
    pub contract_start: Option<Date>,
    pub latest_dau_pct: Option<f64>,
    pub expansion_potential_cents: Option<i64>,
    pub reference: bool,
}

/// One criterion with its verdict and the evidence behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub key: &'static str,
    pub met: bool,
    pub evidence: String,
}

fn dollars(cents: i64) -> String {
    format!("${}", cents / 100)
}

/// The four criteria of §12, each explained.
pub fn criteria(a: &Account, today: Date) -> Vec<Criterion> {
    let acv = match a.acv_cents {
        Some(c) => Criterion {
            key: "acv",
            met: c >= MIN_ACV_CENTS,
            evidence: format!("ACV {} (needs ≥ {})", dollars(c), dollars(MIN_ACV_CENTS)),
        },
        None => Criterion {
            key: "acv",
            met: false,
            evidence: "no ACV recorded".into(),
        },
    };
    let tenure = match a.contract_start {
        Some(start) => {
            let since = today.checked_sub(MIN_MONTHS_AS_CUSTOMER.months()).ok();
            Criterion {
                key: "tenure",
                met: since.is_some_and(|s| start <= s),
                evidence: format!(
                    "customer since {start} (needs ≥ {MIN_MONTHS_AS_CUSTOMER} months by {today})"
                ),
            }
        }
        None => Criterion {
            key: "tenure",
            met: false,
            evidence: "no contract start recorded".into(),
        },
    };
    let usage = match a.latest_dau_pct {
        Some(p) => Criterion {
            key: "active_usage",
            met: p >= MIN_DAU_PCT,
            evidence: format!("latest DAU {p:.1} % (needs ≥ {MIN_DAU_PCT:.0} %)"),
        },
        None => Criterion {
            key: "active_usage",
            met: false,
            evidence: "no DAU measurement (user_adoption.dau_pct)".into(),
        },
    };
    let high_expansion = match (a.expansion_potential_cents, a.acv_cents) {
        (Some(e), Some(acv)) if acv > 0 => e * 100 >= acv * EXPANSION_SHARE_PCT,
        _ => false,
    };
    let expansion = Criterion {
        key: "expansion_or_reference",
        met: high_expansion || a.reference,
        evidence: format!(
            "expansion potential {} ({}), reference {}",
            a.expansion_potential_cents
                .map(dollars)
                .unwrap_or_else(|| "unknown".into()),
            if high_expansion {
                format!("≥ {EXPANSION_SHARE_PCT} % of ACV")
            } else {
                format!("below {EXPANSION_SHARE_PCT} % of ACV")
            },
            if a.reference { "yes" } else { "no" },
        ),
    };
    vec![acv, tenure, usage, expansion]
}

pub fn eligible(criteria: &[Criterion]) -> bool {
    criteria.iter().all(|c| c.met)
}

/// The October 1 a new member joins: this year's if still ahead, else next.
pub fn next_term_start(today: Date) -> Date {
    let year = if today.month() < 10 {
        today.year()
    } else {
        today.year() + 1
    };
    Date::new(year, 10, 1).unwrap_or(today)
}

/// One year, inclusive: the day before the anniversary.
pub fn term_end(start: Date) -> Result<Date, ParseError> {
    start
        .checked_add(1.year())
        .and_then(|d| d.checked_sub(1.day()))
        .map_err(|e| ParseError::new(e.to_string()))
}

/// The dates around one quarterly meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingDates {
    pub quarter_date: Date,
    pub agenda_due: Date,
    pub prep_call_on: Date,
}

/// Checks a quarter date is one of Mar 15, Jun 15, Sep 15, Dec 15, and
/// places the agenda two weeks and the prep call one week before it.
pub fn meeting_dates(quarter_date: Date) -> Result<MeetingDates, ParseError> {
    if quarter_date.day() != 15 || quarter_date.month() % 3 != 0 {
        return Err(ParseError::new(format!(
            "quarter_date: {quarter_date} is not a QBR date (Mar 15, Jun 15, Sep 15 or Dec 15)"
        )));
    }
    let back = |days: i64| {
        quarter_date
            .checked_sub(days.days())
            .map_err(|e| ParseError::new(e.to_string()))
    };
    Ok(MeetingDates {
        quarter_date,
        agenda_due: back(14)?,
        prep_call_on: back(7)?,
    })
}

/// The first Monday–Friday after `d`.
pub fn next_business_day(d: Date) -> Date {
    let mut n = d.tomorrow().unwrap_or(d);
    while matches!(n.weekday(), Weekday::Saturday | Weekday::Sunday) {
        n = n.tomorrow().unwrap_or(n);
    }
    n
}

/// A follow-up after a QBR: a stable key, its title and due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub key: &'static str,
    pub title: &'static str,
    pub due_on: Date,
}

/// §12's board-level follow-up after a meeting held on `held_on`: the
/// summary, to the whole board, the next business day.
pub fn board_follow_ups(held_on: Date) -> Vec<FollowUp> {
    vec![FollowUp {
        key: "summary",
        title: "Send the CAB meeting summary",
        due_on: next_business_day(held_on),
    }]
}

/// §12's follow-ups for each member after a meeting held on `held_on`: a
/// thank-you note the next business day, the 1:1 follow-up scheduled within
/// a week, the follow-ups completed and an expansion proposal within a
/// month.
pub fn member_follow_ups(held_on: Date) -> Vec<FollowUp> {
    let week = held_on.checked_add(7.days()).unwrap_or(held_on);
    let month = held_on.checked_add(1.month()).unwrap_or(held_on);
    let next = next_business_day(held_on);
    vec![
        FollowUp {
            key: "thank_you",
            title: "Send a thank-you note after the CAB meeting",
            due_on: next,
        },
        FollowUp {
            key: "schedule_one_on_one",
            title: "Schedule the 1:1 CAB follow-up",
            due_on: week,
        },
        FollowUp {
            key: "complete_follow_ups",
            title: "Complete the 1:1 CAB follow-ups",
            due_on: month,
        },
        FollowUp {
            key: "expansion_proposal",
            title: "Send the expansion proposal from the CAB meeting",
            due_on: month,
        },
    ]
}

/// Whether an active membership with this term sits on the board on `day`
/// (an ended one never does: see `steward_store::cab`).
pub fn on_board(term_start: Date, term_end: Date, day: Date) -> bool {
    term_start <= day && day <= term_end
}

/// Checks the end date of a membership being ended on `today`: not in the
/// future (ending is recorded when it happens) and not before the member
/// was added (`added_on`).
pub fn check_end(ended_on: Date, added_on: Date, today: Date) -> Result<(), ParseError> {
    if ended_on > today {
        return Err(ParseError::new(format!(
            "ended_on: {ended_on} is in the future; end the membership on the day it ends"
        )));
    }
    if ended_on < added_on {
        return Err(ParseError::new(format!(
            "ended_on: {ended_on} is before the member was added ({added_on})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn good() -> Account {
        Account {
            acv_cents: Some(5_000_000),
            contract_start: Some(d("2025-09-01")),
            latest_dau_pct: Some(30.0),
            expansion_potential_cents: Some(1_250_000),
            reference: false,
        }
    }

    #[test]
    fn eligibility_boundaries() {
        let today = d("2026-03-01");
        let c = criteria(&good(), today);
        assert!(eligible(&c), "{c:?}");
        let mut a = good();
        a.acv_cents = Some(4_999_999);
        assert!(!criteria(&a, today)[0].met);
        let mut a = good();
        a.contract_start = Some(d("2025-09-02"));
        assert!(!criteria(&a, today)[1].met);
        let mut a = good();
        a.latest_dau_pct = Some(29.9);
        assert!(!criteria(&a, today)[2].met);
        let mut a = good();
        a.expansion_potential_cents = Some(1_249_999);
        assert!(!criteria(&a, today)[3].met);
        a.reference = true;
        assert!(criteria(&a, today)[3].met);
        let none = criteria(&Account::default(), today);
        assert!(none.iter().all(|c| !c.met && !c.evidence.is_empty()));
    }

    #[test]
    fn terms_start_in_october_and_last_a_year() {
        assert_eq!(next_term_start(d("2026-03-01")), d("2026-10-01"));
        assert_eq!(next_term_start(d("2026-10-01")), d("2027-10-01"));
        assert_eq!(term_end(d("2026-10-01")).unwrap(), d("2027-09-30"));
    }

    #[test]
    fn meeting_dates_and_follow_ups() {
        let m = meeting_dates(d("2026-03-15")).unwrap();
        assert_eq!(
            (m.agenda_due, m.prep_call_on),
            (d("2026-03-01"), d("2026-03-08"))
        );
        assert!(meeting_dates(d("2026-04-15")).is_err());
        assert!(meeting_dates(d("2026-03-16")).is_err());
        // Friday → Monday, Saturday → Monday, Sunday → Monday, Monday → Tuesday.
        assert_eq!(next_business_day(d("2026-03-13")), d("2026-03-16"));
        assert_eq!(next_business_day(d("2026-03-14")), d("2026-03-16"));
        assert_eq!(next_business_day(d("2026-03-15")), d("2026-03-16"));
        assert_eq!(next_business_day(d("2026-03-16")), d("2026-03-17"));
        let b = board_follow_ups(d("2026-03-15"));
        assert_eq!((b.len(), b[0].due_on), (1, d("2026-03-16")));
        let f = member_follow_ups(d("2026-03-15"));
        let keys: Vec<&str> = f.iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            [
                "thank_you",
                "schedule_one_on_one",
                "complete_follow_ups",
                "expansion_proposal"
            ]
        );
        assert_eq!(f[0].due_on, d("2026-03-16"));
        assert_eq!(f[1].due_on, d("2026-03-22"));
        assert_eq!(f[3].due_on, d("2026-04-15"));
    }

    #[test]
    fn board_membership_and_ending() {
        let (start, end) = (d("2026-10-01"), d("2027-09-30"));
        assert!(!on_board(start, end, d("2026-09-15")));
        assert!(on_board(start, end, d("2026-12-15")));
        assert!(on_board(start, end, d("2027-09-30")));
        assert!(!on_board(start, end, d("2027-10-01")));
        let today = d("2026-11-24");
        assert!(check_end(today, d("2026-03-01"), today).is_ok());
        assert!(check_end(d("2026-11-25"), d("2026-03-01"), today).is_err());
        let e = check_end(d("2026-02-01"), d("2026-03-01"), today).unwrap_err();
        assert!(e.0.starts_with("ended_on: "), "{e}");
    }
}
