//! The weekly pulse survey (policies.md §10), the pure part: its five
//! questions and their validation, the weekly schedule, who is asked in a
//! given week, and the arithmetic of its report.
//!
//! Questions: ease of use (1–5), meets needs (1–5), how likely to recommend
//! (0–10, the NPS question), friction points (text) and most valuable
//! features (text). The three scales are required, the texts optional.
//!
//! Decisions (§10 says only "weekly pulse survey"):
//! - **Sending day.** Tuesdays 10:00 America/New_York. Mid-week mornings
//!   get the best B2B survey response; Monday belongs to the quarterly NPS
//!   sends (Monday 09:00 ET) and the weekend's backlog, Friday to the weekly
//!   status reports. The hour is local, so it stays 10:00 across daylight
//!   saving time.
//! - **Audience.** The campaign's audience rules (as for NPS: active
//!   accounts, optionally some tiers), minus unsubscribed contacts, split
//!   into [`COHORTS`] rotating cohorts by contact id: in a given week only
//!   one cohort is asked, so every contact hears from us at most once every
//!   four weeks, yet every week yields a reading of the portfolio. Contacts
//!   sent an NPS link in the [`NPS_QUIET_DAYS`] days before are skipped that
//!   week: nobody gets two surveys in one week.
//! - **Series.** Sending a pulse campaign schedules the next week's draft
//!   (same audience) at the next Tuesday 10:00 ET after both its own slot
//!   and the moment of sending, so a scheduler that was down does not send
//!   a burst of overdue pulses. Closing the draft ends the series.
//! - **Report.** Averages are rounded half away from zero to two decimals
//!   (`None` without answers); the recommend question is reported as an
//!   NPS with [`Tally`].

use std::collections::BTreeMap;

use jiff::{
    Timestamp,
    civil::{Date, Weekday},
    tz::TimeZone,
};
use serde::Serialize;

use crate::nps::{Category, Tally, div_round_half_away};

/// Contacts are asked once every this many weeks.
pub const COHORTS: i64 = 4;
/// A contact sent an NPS link this many days before a pulse skips it.
pub const NPS_QUIET_DAYS: i64 = 7;
pub const SEND_WEEKDAY: Weekday = Weekday::Tuesday;
pub const SEND_HOUR: i8 = 10;
pub const SEND_ZONE: &str = "America/New_York";
/// Longest free-text answer, in characters.
pub const MAX_TEXT: usize = 5_000;

/// A rating question of the pulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Scale {
    pub name: &'static str,
    pub label: &'static str,
    pub min: u8,
    pub max: u8,
}

pub const SCALES: &[Scale] = &[
    Scale {
        name: "ease_of_use",
        label: "How easy is Steward to use? (1 = very difficult, 5 = very easy)",
        min: 1,
        max: 5,
    },
    Scale {
        name: "meets_needs",
        label: "How well does Steward meet your needs? (1 = not at all, 5 = completely)",
        min: 1,
        max: 5,
    },
    Scale {
        name: "recommend",
        label: "How likely are you to recommend Steward to a friend or colleague? (0 = not at all likely, 10 = extremely likely)",
        min: 0,
        max: 10,
    },
];

/// The free-text questions: (name, label).
pub const TEXTS: &[(&str, &str)] = &[
    (
        "friction",
        "What got in your way this week? (friction points)",
    ),
    (
        "valuable_features",
        "Which features were most valuable to you?",
    ),
];

/// A validated pulse answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulseAnswer {
    pub ease_of_use: u8,
    pub meets_needs: u8,
    pub recommend: u8,
    /// Trimmed; empty when not given.
    pub friction: String,
    pub valuable_features: String,
}

impl PulseAnswer {
    pub fn category(&self) -> Category {
        // `recommend` is validated to 0–10.
        Category::of(self.recommend).unwrap_or(Category::Detractor)
    }
}

/// Checks a posted pulse form: the three scales are required and in range,
/// the texts at most [`MAX_TEXT`] characters; unknown fields are ignored.
/// Errors are (field, message) pairs, one per field.
pub fn validate(form: &BTreeMap<String, String>) -> Result<PulseAnswer, Vec<(String, String)>> {
    let mut errors = vec![];
    let mut scores = [0u8; 3];
    for (slot, s) in scores.iter_mut().zip(SCALES) {
        let v = form.get(s.name).map(|v| v.trim()).unwrap_or_default();
        match v.parse::<u8>() {
            Ok(n) if (s.min..=s.max).contains(&n) => *slot = n,
            _ if v.is_empty() => errors.push((
                s.name.to_string(),
                "Please answer this question.".to_string(),
            )),
            _ => errors.push((
                s.name.to_string(),
                format!("Please pick a number from {} to {}.", s.min, s.max),
            )),
        }
    }
    let mut texts = vec![];
    for (name, _) in TEXTS {
        let v = form.get(*name).map(|v| v.trim()).unwrap_or_default();
        if v.chars().count() > MAX_TEXT {
            errors.push((
                name.to_string(),
                format!("Please keep this under {MAX_TEXT} characters."),
            ));
        }
        texts.push(v.to_string());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let [ease_of_use, meets_needs, recommend] = scores;
    let mut texts = texts.into_iter();
    Ok(PulseAnswer {
        ease_of_use,
        meets_needs,
        recommend,
        friction: texts.next().unwrap_or_default(),
        valuable_features: texts.next().unwrap_or_default(),
    })
}

fn zone() -> TimeZone {
    TimeZone::get(SEND_ZONE).unwrap_or(TimeZone::UTC)
}

/// The sending slot on `d` (10:00 ET), as unix seconds.
fn slot_on(d: Date, tz: &TimeZone) -> i64 {
    d.at(SEND_HOUR, 0, 0, 0)
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or_default()
}

fn local_date(t: i64, tz: &TimeZone) -> Date {
    Timestamp::from_second(t)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(tz.clone())
        .date()
}

/// The first sending slot (Tuesday 10:00 ET) strictly after `t`.
pub fn next_slot_after(t: i64) -> i64 {
    let tz = zone();
    let mut d = local_date(t, &tz);
    // At most eight steps: the rest of this week and one full week.
    for _ in 0..8 {
        if d.weekday() == SEND_WEEKDAY {
            let at = slot_on(d, &tz);
            if at > t {
                return at;
            }
        }
        d = d.tomorrow().unwrap_or(d);
    }
    t + 7 * 86_400
}

/// When the draft following a pulse sent for slot `send_at` goes out: the
/// next slot after both `send_at` and `now` (see the module docs).
pub fn next_send_at(send_at: i64, now: i64) -> i64 {
    next_slot_after(send_at.max(now))
}

/// The week number of the local (ET) date of `t`, counted from the Monday
/// 1970-01-05, so a week runs Monday to Sunday.
pub fn week_number(t: i64) -> i64 {
    let d = local_date(t, &zone());
    let monday = jiff::civil::date(1970, 1, 5);
    let days = d
        .since((jiff::Unit::Day, monday))
        .map(|s| i64::from(s.get_days()))
        .unwrap_or_default();
    days.div_euclid(7)
}

/// The cohort asked in the week of `send_at`.
pub fn cohort_of_week(send_at: i64) -> i64 {
    week_number(send_at).rem_euclid(COHORTS)
}

/// Whether contact `user_id` is asked by a pulse sent at `send_at`.
pub fn asks(user_id: i64, send_at: i64) -> bool {
    user_id.rem_euclid(COHORTS) == cohort_of_week(send_at)
}

/// A name for a pulse campaign: "Weekly pulse, week of 2026-11-24".
pub fn campaign_name(send_at: i64) -> String {
    format!("Weekly pulse, week of {}", local_date(send_at, &zone()))
}

/// The three scores of one stored answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    pub ease_of_use: u8,
    pub meets_needs: u8,
    pub recommend: u8,
}

/// A pulse campaign's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub responses: u32,
    pub ease_of_use: Option<f64>,
    pub meets_needs: Option<f64>,
    pub recommend: Option<f64>,
    /// The recommend question as an NPS.
    pub tally: Tally,
}

/// The mean of `sum / n`, rounded half away from zero to two decimals.
fn mean2(sum: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| div_round_half_away(100 * sum, n) as f64 / 100.0)
}

pub fn summarize(answers: &[Scores]) -> Summary {
    let n = answers.len() as i64;
    let sum = |f: fn(&Scores) -> u8| answers.iter().map(|a| i64::from(f(a))).sum::<i64>();
    let mut tally = Tally::default();
    for a in answers {
        if let Ok(c) = Category::of(a.recommend) {
            tally.add(c);
        }
    }
    Summary {
        responses: u32::try_from(n).unwrap_or(u32::MAX),
        ease_of_use: mean2(sum(|a| a.ease_of_use), n),
        meets_needs: mean2(sum(|a| a.meets_needs), n),
        recommend: mean2(sum(|a| a.recommend), n),
        tally,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::time::parse_rfc3339;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn validation() {
        let ok = validate(&form(&[
            ("ease_of_use", "4"),
            ("meets_needs", " 5 "),
            ("recommend", "0"),
            ("friction", "  Exports are slow  "),
            ("other", "ignored"),
        ]))
        .unwrap();
        assert_eq!((ok.ease_of_use, ok.meets_needs, ok.recommend), (4, 5, 0));
        assert_eq!(ok.friction, "Exports are slow");
        assert_eq!(ok.valuable_features, "");
        assert_eq!(ok.category(), Category::Detractor);

        let errs = validate(&form(&[
            ("ease_of_use", "0"),
            ("meets_needs", "x"),
            ("recommend", "11"),
        ]))
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(fields, ["ease_of_use", "meets_needs", "recommend"]);
        assert!(errs[0].1.contains("1 to 5"));
        assert!(errs[2].1.contains("0 to 10"));
        let errs = validate(&form(&[])).unwrap_err();
        assert_eq!(errs.len(), 3);
        assert_eq!(errs[0].1, "Please answer this question.");
        let long = "x".repeat(MAX_TEXT + 1);
        let errs = validate(&form(&[
            ("ease_of_use", "1"),
            ("meets_needs", "1"),
            ("recommend", "1"),
            ("valuable_features", &long),
        ]))
        .unwrap_err();
        assert_eq!(errs[0].0, "valuable_features");
    }

    #[test]
    fn tuesdays_at_ten_new_york_time_across_dst() {
        // Monday 2026-11-23 12:00 UTC → Tuesday 2026-11-24 10:00 EST (15:00 UTC).
        let t = parse_rfc3339("2026-11-23T12:00:00Z").unwrap();
        let s = next_slot_after(t);
        assert_eq!(s, parse_rfc3339("2026-11-24T15:00:00Z").unwrap());
        // At the slot itself: the next week.
        assert_eq!(
            next_slot_after(s),
            parse_rfc3339("2026-12-01T15:00:00Z").unwrap()
        );
        // Summer: 10:00 EDT is 14:00 UTC; the week of the change keeps 10:00.
        let before = parse_rfc3339("2026-03-03T15:00:00Z").unwrap(); // Tue 10:00 EST
        assert_eq!(
            next_slot_after(before),
            parse_rfc3339("2026-03-10T14:00:00Z").unwrap()
        );
        // A scheduler down for two weeks does not catch up week by week.
        let late = s + 15 * 86_400;
        assert_eq!(
            next_send_at(s, late),
            parse_rfc3339("2026-12-15T15:00:00Z").unwrap()
        );
        assert_eq!(
            next_send_at(s, s + 60),
            parse_rfc3339("2026-12-01T15:00:00Z").unwrap()
        );
    }

    #[test]
    fn every_contact_once_in_four_weeks() {
        let first = parse_rfc3339("2026-11-24T15:00:00Z").unwrap();
        let weeks: Vec<i64> = (0..4).map(|k| first + k * 7 * 86_400).collect();
        for user in 1..=40 {
            let asked = weeks.iter().filter(|w| asks(user, **w)).count();
            assert_eq!(asked, 1, "user {user}");
        }
        // Same week, same cohort, whatever the day.
        let monday = parse_rfc3339("2026-11-23T14:00:00Z").unwrap();
        let sunday = parse_rfc3339("2026-11-29T20:00:00Z").unwrap();
        assert_eq!(cohort_of_week(monday), cohort_of_week(first));
        assert_eq!(cohort_of_week(sunday), cohort_of_week(first));
        assert_ne!(cohort_of_week(sunday + 86_400), cohort_of_week(first));
        assert_eq!(campaign_name(first), "Weekly pulse, week of 2026-11-24");
    }

    #[test]
    fn summary_rounds_to_two_decimals() {
        let s = |e, m, r| Scores {
            ease_of_use: e,
            meets_needs: m,
            recommend: r,
        };
        let sum = summarize(&[s(4, 5, 10), s(3, 4, 6), s(5, 4, 8)]);
        assert_eq!(sum.responses, 3);
        assert_eq!(sum.ease_of_use, Some(4.0));
        assert_eq!(sum.meets_needs, Some(4.33));
        assert_eq!(sum.recommend, Some(8.0));
        assert_eq!(sum.tally.nps(), Some(0));
        assert_eq!(summarize(&[s(1, 2, 3), s(2, 2, 3)]).ease_of_use, Some(1.5));
        let none = summarize(&[]);
        assert_eq!((none.responses, none.ease_of_use), (0, None));
        assert_eq!(none.tally.nps(), None);
    }
}
