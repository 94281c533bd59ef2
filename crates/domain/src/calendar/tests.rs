//! Tests of the calendar engine: the examples of policies.md §2 verbatim,
//! DST weeks, holidays, year ends and leap years, and property tests that
//! check the fast arithmetic against a slow oracle which asks jiff for the
//! wall clock at every step.

use std::sync::OnceLock;

use jiff::{Timestamp, civil::Date, civil::DateTime, tz::TimeZone};
use proptest::prelude::*;

use super::*;

const H: i64 = 3_600;
const NY: &str = "America/New_York";

fn cal(name: &str) -> Calendar {
    Calendar::builtin(name).unwrap()
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

/// A wall-clock time in `zone` (`"2026-02-10 14:00"`); in a DST gap the
/// later instant (jiff's compatible rule).
fn at(zone: &str, civil: &str) -> Timestamp {
    civil
        .parse::<DateTime>()
        .unwrap()
        .to_zoned_datetime(TimeZone::get(zone).unwrap())
        .unwrap()
        .timestamp()
}

fn ny(civil: &str) -> Timestamp {
    at(NY, civil)
}

fn utc(rfc3339: &str) -> Timestamp {
    rfc3339.parse().unwrap()
}

fn def(name: &str, zone: &str, hours: &[(usize, &str)], holidays: &[&str]) -> CalendarDef {
    let mut h = WeeklyHours::default();
    for (d, i) in hours {
        h.day_mut(*d).push((*i).to_string());
    }
    CalendarDef {
        name: name.into(),
        zone: zone.into(),
        hours: h,
        holidays: holidays.iter().map(|d| date(d)).collect(),
    }
}

/// Always open, but in New York: a day is 23 h or 25 h across DST.
fn all_day_ny() -> Calendar {
    let hours: Vec<(usize, &str)> = (0..7).map(|d| (d, "00:00-24:00")).collect();
    Calendar::from_def(&def("ny-24h", NY, &hours, &[])).unwrap()
}

// ---------------------------------------------------------------- §2 verbatim

#[test]
fn one_business_day_from_tuesday_afternoon_is_wednesday_same_time() {
    let b = cal("business");
    assert_eq!(b.working_day_seconds(), 9 * H);
    // 2026-02-10 is a Tuesday.
    let due = b.add_days(ny("2026-02-10 14:00"), 1).unwrap();
    assert_eq!(due, ny("2026-02-11 14:00"));
}

#[test]
fn one_business_day_from_saturday_is_monday_at_closing() {
    let b = cal("business");
    for start in [
        "2026-02-14 00:00",
        "2026-02-14 10:30",
        "2026-02-15 23:59:59",
    ] {
        assert_eq!(
            b.add_days(ny(start), 1).unwrap(),
            ny("2026-02-16 18:00"),
            "{start}"
        );
    }
}

#[test]
fn a_target_ending_at_closing_time_is_due_at_closing_time() {
    let b = cal("business");
    let due = b.add_hours(ny("2026-02-10 17:00"), 1).unwrap();
    assert_eq!(due, ny("2026-02-10 18:00"), "not Wednesday 09:00");
    assert!(!b.is_open(due) && b.is_open(Timestamp::from_second(due.as_second() - 1).unwrap()));
}

#[test]
fn a_clock_started_while_closed_starts_at_the_next_opening() {
    let b = cal("business");
    assert_eq!(
        b.add_hours(ny("2026-02-10 20:00"), 1).unwrap(),
        ny("2026-02-11 10:00")
    );
    assert_eq!(
        b.add_hours(ny("2026-02-11 06:00"), 1).unwrap(),
        ny("2026-02-11 10:00")
    );
    assert_eq!(
        b.add_hours(ny("2026-02-14 12:00"), 4).unwrap(),
        ny("2026-02-16 13:00")
    );
    // A zero target is due at the next opening (Zendesk), or at once if open.
    assert_eq!(
        b.add_open(ny("2026-02-10 20:00"), 0).unwrap(),
        ny("2026-02-11 09:00")
    );
    assert_eq!(
        b.add_open(ny("2026-02-10 18:00"), 0).unwrap(),
        ny("2026-02-11 09:00")
    );
    assert_eq!(
        b.add_open(ny("2026-02-10 10:00"), 0).unwrap(),
        ny("2026-02-10 10:00")
    );
}

#[test]
fn the_three_calendars_of_section_2() {
    let (a, b, e) = (cal("24x7"), cal("business"), cal("extended"));
    assert_eq!(a.working_day_seconds(), 24 * H);
    assert_eq!(b.working_day_seconds(), 9 * H);
    assert_eq!(e.working_day_seconds(), 16 * H);
    assert_eq!(a.weekly_open_seconds(), 7 * 24 * H);
    assert_eq!(b.weekly_open_seconds(), 45 * H);
    assert_eq!(e.weekly_open_seconds(), 80 * H);
    // The CLI's example: Tuesday 17:00 EDT + 60 business minutes.
    let due = b.add_open(utc("2026-03-10T21:00:00Z"), 3_600).unwrap();
    assert_eq!(due.to_string(), "2026-03-10T22:00:00Z");
    // extended: Friday 21:00 + 2 h = Monday 07:00.
    assert_eq!(
        e.add_hours(ny("2026-02-13 21:00"), 2).unwrap(),
        ny("2026-02-16 07:00")
    );
    // 24x7 is plain elapsed time.
    let t = utc("2026-03-07T12:34:56Z");
    assert_eq!(a.add_hours(t, 30).unwrap(), utc("2026-03-08T18:34:56Z"));
    assert_eq!(a.add_open(t, 0).unwrap(), t);
    for n in BUILTIN_NAMES.iter().chain(&[" business "]) {
        assert!(Calendar::builtin(n).is_ok(), "{n}");
    }
    assert_eq!(
        Calendar::builtin("weekends").unwrap_err(),
        CalendarError::UnknownCalendar("weekends".into())
    );
}

// ---------------------------------------------------------------- DST

#[test]
fn business_hours_across_spring_forward() {
    let b = cal("business");
    // Friday 2026-03-06 17:00 EST; the clocks go forward on Sunday 03-08.
    let start = ny("2026-03-06 17:00");
    assert_eq!(start, utc("2026-03-06T22:00:00Z"));
    let due = b.add_hours(start, 2).unwrap();
    assert_eq!(due, ny("2026-03-09 10:00"));
    assert_eq!(due, utc("2026-03-09T14:00:00Z"));
    assert_eq!(b.open_between(start, due), 2 * H);
    assert_eq!(
        b.open_between(ny("2026-03-02 00:00"), ny("2026-03-16 00:00")),
        10 * 9 * H
    );
    assert_eq!(
        b.add_days(ny("2026-03-05 14:00"), 3).unwrap(),
        ny("2026-03-10 14:00")
    );
}

#[test]
fn business_hours_across_fall_back() {
    let b = cal("business");
    let start = ny("2026-10-30 17:00");
    assert_eq!(start, utc("2026-10-30T21:00:00Z"));
    let due = b.add_hours(start, 2).unwrap();
    assert_eq!(due, ny("2026-11-02 10:00"));
    assert_eq!(due, utc("2026-11-02T15:00:00Z"));
    assert_eq!(
        b.open_between(ny("2026-10-26 00:00"), ny("2026-11-09 00:00")),
        10 * 9 * H
    );
}

#[test]
fn a_24_hour_calendar_in_a_dst_zone_counts_real_time() {
    let c = all_day_ny();
    assert_eq!(c.working_day_seconds(), 24 * H);
    // Sunday 2026-03-08 has 23 hours, Sunday 2026-11-01 has 25.
    assert_eq!(
        c.open_between(ny("2026-03-08 00:00"), ny("2026-03-09 00:00")),
        23 * H
    );
    assert_eq!(
        c.open_between(ny("2026-11-01 00:00"), ny("2026-11-02 00:00")),
        25 * H
    );
    assert_eq!(
        c.add_hours(ny("2026-03-07 12:00"), 24).unwrap(),
        ny("2026-03-08 13:00")
    );
    assert_eq!(
        c.add_hours(ny("2026-10-31 12:00"), 24).unwrap(),
        ny("2026-11-01 11:00")
    );
    // Always open, so open time is elapsed time, whatever the offset does.
    let base = ny("2026-03-07 00:00").as_second();
    for step in (0..4 * 24 * H).step_by(1_799) {
        let t = Timestamp::from_second(base + step).unwrap();
        assert!(c.is_open(t));
        assert_eq!(c.next_open(t).unwrap(), t);
        let due = c.add_open(t, 5 * H + 17).unwrap();
        assert_eq!(due.as_second(), t.as_second() + 5 * H + 17);
    }
}

#[test]
fn an_interval_containing_a_transition_counts_elapsed_seconds() {
    // Open Sundays 01:00-04:00 New York time.
    let c = Calendar::from_def(&def("night", NY, &[(6, "01:00-04:00")], &[])).unwrap();
    let (spring, fall) = (ny("2026-03-08 00:00"), ny("2026-11-01 00:00"));
    let day = |t: Timestamp| Timestamp::from_second(t.as_second() + 30 * H).unwrap();
    // 02:00-03:00 never happens on 03-08; 01:00-02:00 happens twice on 11-01.
    assert_eq!(c.open_between(spring, day(spring)), 2 * H);
    assert_eq!(c.open_between(fall, day(fall)), 4 * H);
    assert_eq!(
        c.add_hours(ny("2026-03-08 01:00"), 1).unwrap(),
        utc("2026-03-08T07:00:00Z")
    );
    assert_eq!(
        c.add_hours(ny("2026-03-08 01:00"), 2).unwrap(),
        ny("2026-03-08 04:00")
    );
    // 01:30 EDT, then 01:30 EST an hour later: both open.
    assert!(c.is_open(utc("2026-11-01T05:30:00Z")));
    assert!(c.is_open(utc("2026-11-01T06:30:00Z")));
    assert_eq!(
        c.add_hours(utc("2026-11-01T05:00:00Z"), 4).unwrap(),
        utc("2026-11-01T09:00:00Z")
    );
    // An interval that lies inside the gap is never open that day.
    let gap = Calendar::from_def(&def("gap", NY, &[(6, "02:00-02:30")], &[])).unwrap();
    assert_eq!(gap.open_between(spring, day(spring)), 0);
    assert_eq!(
        gap.next_open(spring).unwrap(),
        ny("2026-03-15 02:00"),
        "the next Sunday"
    );
}

// ---------------------------------------------------------------- holidays

#[test]
fn christmas_on_a_friday_closes_the_day() {
    let b = cal("business").with_holidays(&[date("2026-12-25")]);
    assert_eq!(
        b.add_hours(ny("2026-12-24 17:00"), 2).unwrap(),
        ny("2026-12-28 10:00")
    );
    assert_eq!(
        b.open_between(ny("2026-12-21 00:00"), ny("2026-12-28 00:00")),
        4 * 9 * H
    );
    assert!(!b.is_open(ny("2026-12-25 10:00")));
    assert_eq!(
        b.add_open(ny("2026-12-25 10:00"), 0).unwrap(),
        ny("2026-12-28 09:00")
    );
    assert_eq!(
        b.add_hours(ny("2026-12-25 10:00"), 1).unwrap(),
        ny("2026-12-28 10:00")
    );
    // Without the holiday, Friday counts.
    assert_eq!(
        cal("business")
            .add_hours(ny("2026-12-24 17:00"), 2)
            .unwrap(),
        ny("2026-12-25 10:00")
    );
}

#[test]
fn a_monday_holiday_after_a_weekend() {
    // Memorial Day, Monday 2026-05-25.
    let b = cal("business").with_holidays(&[date("2026-05-25")]);
    assert_eq!(
        b.add_hours(ny("2026-05-22 17:00"), 2).unwrap(),
        ny("2026-05-26 10:00")
    );
    assert_eq!(
        b.add_days(ny("2026-05-23 11:00"), 1).unwrap(),
        ny("2026-05-26 18:00"),
        "Saturday + 1 business day skips the holiday Monday"
    );
    // A Friday and the following Monday both closed: a four-day weekend.
    let b = cal("business").with_holidays(&[date("2026-07-06"), date("2026-07-03")]);
    assert_eq!(
        b.add_days(ny("2026-07-02 17:00"), 1).unwrap(),
        ny("2026-07-07 17:00")
    );
    assert_eq!(b.holidays(), &[date("2026-07-03"), date("2026-07-06")]);
}

#[test]
fn a_holiday_on_a_closed_day_changes_nothing() {
    let b = cal("business");
    let h = b.with_holidays(&[date("2026-02-14"), date("2026-02-15")]);
    for start in ["2026-02-13 15:00", "2026-02-14 09:00"] {
        assert_eq!(
            h.add_days(ny(start), 2).unwrap(),
            b.add_days(ny(start), 2).unwrap()
        );
    }
}

#[test]
fn year_end() {
    let b = cal("business");
    assert_eq!(
        b.add_hours(ny("2026-12-31 17:00"), 2).unwrap(),
        ny("2027-01-01 10:00")
    );
    let b = b.with_holidays(&[date("2027-01-01")]);
    assert_eq!(
        b.add_days(ny("2026-12-31 17:00"), 1).unwrap(),
        ny("2027-01-04 17:00")
    );
    assert_eq!(
        cal("24x7")
            .add_hours(utc("2026-12-31T23:00:00Z"), 2)
            .unwrap(),
        utc("2027-01-01T01:00:00Z")
    );
    // 2026 has 261 weekdays.
    assert_eq!(
        cal("business").open_between(ny("2026-01-01 00:00"), ny("2027-01-01 00:00")),
        261 * 9 * H
    );
}

#[test]
fn leap_years() {
    let a = cal("24x7");
    assert_eq!(
        a.open_between(utc("2028-02-28T00:00:00Z"), utc("2028-03-01T00:00:00Z")),
        48 * H
    );
    assert_eq!(
        a.open_between(utc("2027-02-28T00:00:00Z"), utc("2027-03-01T00:00:00Z")),
        24 * H
    );
    // Tuesday 2028-02-29 as a holiday.
    let b = cal("business").with_holidays(&[date("2028-02-29")]);
    assert_eq!(
        b.add_hours(ny("2028-02-28 17:00"), 2).unwrap(),
        ny("2028-03-01 10:00")
    );
    // February 2028 has 21 weekdays, one of them the holiday.
    assert_eq!(
        b.open_between(ny("2028-02-01 00:00"), ny("2028-03-01 00:00")),
        20 * 9 * H
    );
    assert_eq!(super::unix_day(date("2028-02-29")), 21_243);
    assert_eq!(super::unix_day(date("2000-02-29")), 11_016);
}

#[test]
fn unix_day_agrees_with_jiff() {
    let mut d = date("1895-12-25");
    while d < date("2110-01-10") {
        let jiff_day = d
            .to_zoned_datetime(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second()
            .div_euclid(DAY);
        assert_eq!(super::unix_day(d), jiff_day, "{d}");
        d = d.checked_add(jiff::Span::new().days(37)).unwrap();
    }
    for (y, m, dd) in [(-1, 3, 1), (0, 2, 29), (9999, 12, 30), (-9999, 1, 3)] {
        let d = Date::new(y, m, dd).unwrap();
        let jiff_day = d
            .to_zoned_datetime(TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_second()
            .div_euclid(DAY);
        assert_eq!(super::unix_day(d), jiff_day, "{d}");
    }
}

// ---------------------------------------------------------------- edges

#[test]
fn bad_amounts_and_far_instants_are_errors_not_panics() {
    let b = cal("business");
    let t = ny("2026-02-10 14:00");
    assert_eq!(b.add_open(t, -1), Err(CalendarError::NegativeDuration(-1)));
    assert_eq!(b.add_open(t, i64::MAX), Err(CalendarError::OutOfRange));
    assert_eq!(b.add_days(t, i64::MAX), Err(CalendarError::OutOfRange));
    assert_eq!(
        b.add_open(Timestamp::MAX, 1),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        cal("24x7").add_open(Timestamp::MAX, 1),
        Err(CalendarError::OutOfRange)
    );
    // 7 000 years of business days still fit.
    let far = b.add_days(t, 7_000 * 261).unwrap();
    assert!(far > utc("9000-01-01T00:00:00Z"), "{far}");
    assert_eq!(b.open_between(t, t), 0);
    assert_eq!(b.open_between(ny("2026-02-11 00:00"), t), 0);
    assert!(b.next_open(Timestamp::MIN).is_ok());
}

#[test]
fn far_past_and_future_use_jiff_directly_and_agree() {
    // Outside the precomputed 1900-2200 window; New York still has DST.
    let cals = [cal("business"), all_day_ny()];
    for c in &cals {
        let o = Oracle::new(c);
        for start in [
            "1899-12-29 16:00",
            "2199-12-30 12:00",
            "2300-03-09 17:00",
            "2300-10-31 17:00",
            "1800-06-06 10:00",
        ] {
            let t = ny(start).as_second();
            for n in [0, 1, 3 * H, 9 * H * 5, 9 * H * 30] {
                let due = c.add_open(ny(start), n).unwrap().as_second();
                assert_eq!(due, o.add(t, n), "{} {start} + {n}", c.name());
            }
        }
    }
}

#[test]
fn sub_second_parts_are_ignored() {
    let b = cal("business");
    let t = Timestamp::new(ny("2026-02-10 17:00").as_second(), 999_999_999).unwrap();
    assert_eq!(b.add_hours(t, 1).unwrap(), ny("2026-02-10 18:00"));
}

// ---------------------------------------------------------------- definitions

#[test]
fn definitions_are_validated() {
    let err = |d: CalendarDef| Calendar::from_def(&d).unwrap_err().to_string();
    let e = err(def("x", "Mars/Olympus_Mons", &[(0, "09:00-17:00")], &[]));
    assert!(e.contains("unknown time zone"), "{e}");
    let e = err(def("x", NY, &[(0, "18:00-09:00")], &[]));
    assert!(
        e.contains("ends before it starts") && e.contains("mon"),
        "{e}"
    );
    let e = err(def("x", NY, &[(2, "09:00-09:00")], &[]));
    assert!(e.contains("ends before it starts"), "{e}");
    let e = err(def("x", NY, &[(1, "09:00-12:00"), (1, "11:00-13:00")], &[]));
    assert!(e.contains("overlap") && e.contains("tue"), "{e}");
    let e = err(def("x", NY, &[(4, "09:00-24:01")], &[]));
    assert!(e.contains("not a time of day"), "{e}");
    let e = err(def("x", NY, &[(4, "9am-5pm")], &[]));
    assert!(e.contains("not a time of day"), "{e}");
    let e = err(def("x", NY, &[(4, "09:00")], &[]));
    assert!(e.contains("not an interval"), "{e}");
    let e = err(def("x", NY, &[], &[]));
    assert!(e.contains("no open hours"), "{e}");
    // Touching intervals, seconds and 24:00 are fine.
    let ok = Calendar::from_def(&def(
        "split",
        NY,
        &[
            (0, "13:00-18:00"),
            (0, "09:00-13:00"),
            (6, "22:00:30-24:00"),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(ok.working_day_seconds(), 9 * H);
    assert_eq!(ok.weekly_open_seconds(), 9 * H + 2 * H - 30);
}

#[test]
fn definitions_round_trip_through_json() {
    let b = Calendar::builtin("business").unwrap().with_holidays(&[
        date("2026-12-25"),
        date("2026-11-26"),
        date("2026-12-25"),
    ]);
    let json = serde_json::to_string(&b.to_def()).unwrap();
    assert_eq!(
        json,
        r#"{"name":"business","zone":"America/New_York","hours":{"mon":["09:00-18:00"],"tue":["09:00-18:00"],"wed":["09:00-18:00"],"thu":["09:00-18:00"],"fri":["09:00-18:00"]},"holidays":["2026-11-26","2026-12-25"]}"#
    );
    let back: CalendarDef = serde_json::from_str(&json).unwrap();
    assert_eq!(back, b.to_def());
    let edited: CalendarDef = serde_json::from_str(
        r#"{"name":"support","zone":"Europe/Paris","hours":{"sat":["10:00-12:00","14:00-16:00"]}}"#,
    )
    .unwrap();
    let c = Calendar::from_def(&edited).unwrap();
    assert_eq!(c.weekly_open_seconds(), 4 * H);
    assert!(
        serde_json::from_str::<CalendarDef>(r#"{"name":"x","zone":"UTC","hourz":{}}"#).is_err()
    );
}

// ---------------------------------------------------------------- oracle

/// The slow, obviously correct reading of "open": at each step ask jiff for
/// the wall clock, and step to the next interval edge, midnight or offset
/// change, whichever comes first.
struct Oracle {
    tz: TimeZone,
    days: Vec<Vec<(i64, i64)>>,
    holidays: Vec<Date>,
}

impl Oracle {
    fn new(c: &Calendar) -> Self {
        let d = c.to_def();
        let days = (0..7)
            .map(|i| {
                let mut v: Vec<(i64, i64)> = d
                    .hours
                    .day(i)
                    .iter()
                    .map(|s| super::parse_interval(s).unwrap())
                    .collect();
                v.sort();
                v
            })
            .collect();
        Oracle {
            tz: TimeZone::get(&d.zone).unwrap(),
            days,
            holidays: d.holidays,
        }
    }

    /// Whether `t` is open, and the instant until which that holds.
    fn state(&self, t: i64) -> (bool, i64) {
        let ts = Timestamp::from_second(t).unwrap();
        let dt = self.tz.to_datetime(ts);
        let sod = i64::from(dt.hour()) * H + i64::from(dt.minute()) * 60 + i64::from(dt.second());
        let next_change = self
            .tz
            .following(ts)
            .next()
            .map_or(i64::MAX, |tr| tr.timestamp().as_second());
        let wd = dt.weekday().to_monday_zero_offset() as usize;
        let mut state = (false, DAY - sod);
        if !self.holidays.contains(&dt.date()) {
            for &(s, e) in &self.days[wd] {
                if sod < s {
                    state = (false, s - sod);
                    break;
                }
                if sod < e {
                    state = (true, e - sod);
                    break;
                }
            }
        }
        (state.0, (t + state.1).min(next_change))
    }

    fn open_between(&self, a: i64, b: i64) -> i64 {
        let (mut t, mut total) = (a, 0);
        while t < b {
            let (open, until) = self.state(t);
            let u = until.min(b);
            if open {
                total += u - t;
            }
            t = u;
        }
        total
    }

    fn add(&self, start: i64, n: i64) -> i64 {
        let (mut t, mut left) = (start, n);
        loop {
            let (open, until) = self.state(t);
            if open {
                if left == 0 {
                    return t;
                }
                if until - t >= left {
                    return t + left;
                }
                left -= until - t;
            }
            t = until;
        }
    }
}

// ---------------------------------------------------------------- properties

/// Calendars the properties run on: the three of §2, with and without
/// holidays, and odd shapes in zones with DST (New York, London, and Lord
/// Howe's half-hour shift at 02:00).
fn calendars() -> &'static [Calendar] {
    static CALS: OnceLock<Vec<Calendar>> = OnceLock::new();
    CALS.get_or_init(|| {
        let us = [
            "2025-01-01",
            "2025-05-26",
            "2025-07-04",
            "2025-11-27",
            "2025-12-25",
            "2026-01-01",
            "2026-05-25",
            "2026-07-03",
            "2026-11-26",
            "2026-12-25",
            "2027-01-01",
            "2027-05-31",
            "2027-07-05",
            "2027-11-25",
            "2027-12-24",
            "2028-02-29",
            "2028-05-29",
            "2028-12-25",
        ];
        let weekdays_and_sunday_night = [
            (0, "09:00-12:00"),
            (0, "13:00-18:00"),
            (1, "09:00-18:00"),
            (2, "22:00-24:00"),
            (3, "00:00-06:00"),
            (3, "07:00-07:00:01"),
            (4, "08:30-17:30"),
            (5, "10:00-14:00"),
            (6, "00:30-03:30"),
        ];
        let lord_howe = [(5, "01:00-03:00"), (6, "00:00-24:00"), (0, "01:45-02:45")];
        let all_days: Vec<(usize, &str)> = (0..7).map(|d| (d, "00:00-24:00")).collect();
        vec![
            cal("business"),
            cal("extended"),
            cal("24x7"),
            cal("business").with_holidays(&us.map(date)),
            cal("extended").with_holidays(&us.map(date)),
            cal("24x7").with_holidays(&us.map(date)),
            Calendar::from_def(&def("ny-24h", NY, &all_days, &us)).unwrap(),
            Calendar::from_def(&def("odd", NY, &weekdays_and_sunday_night, &us)).unwrap(),
            Calendar::from_def(&def(
                "london",
                "Europe/London",
                &weekdays_and_sunday_night,
                &[],
            ))
            .unwrap(),
            Calendar::from_def(&def("lord-howe", "Australia/Lord_Howe", &lord_howe, &us)).unwrap(),
        ]
    })
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

/// Starts over 2025-2028, and targets up to 12 working days.
fn case() -> impl Strategy<Value = (usize, i64, i64, i64)> {
    let (lo, hi) = (
        utc("2025-01-01T00:00:00Z").as_second(),
        utc("2029-01-01T00:00:00Z").as_second(),
    );
    (0..calendars().len(), lo..hi, 0.0..12.0f64, 0.0..12.0f64).prop_map(|(c, t, a, b)| {
        let wd = calendars()[c].working_day_seconds() as f64;
        (c, t, (a * wd) as i64, (b * wd) as i64)
    })
}

/// Starts around the ends of the precomputed 1900-2200 offset table, where
/// lookups switch between the table and jiff.
fn edge_case() -> impl Strategy<Value = (usize, i64, i64)> {
    let years = |a: &str, b: &str| utc(a).as_second()..utc(b).as_second();
    let starts = prop_oneof![
        years("1899-10-01T00:00:00Z", "1900-03-01T00:00:00Z"),
        years("2199-10-01T00:00:00Z", "2200-03-01T00:00:00Z"),
        years("2290-01-01T00:00:00Z", "2300-01-01T00:00:00Z"),
    ];
    // New York calendars only: those have transitions to get wrong.
    (
        prop_oneof![Just(0usize), Just(1), Just(6), Just(7)],
        starts,
        0.0..12.0f64,
    )
        .prop_map(|(c, t, a)| {
            (
                c,
                t,
                (a * calendars()[c].working_day_seconds() as f64) as i64,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn agrees_with_the_oracle_around_the_table_edges((c, start, n) in edge_case()) {
        let cal = &calendars()[c];
        let o = Oracle::new(cal);
        prop_assert_eq!(cal.add_open(ts(start), n).unwrap().as_second(), o.add(start, n));
        prop_assert_eq!(cal.open_between(ts(start), ts(start + n)), o.open_between(start, start + n));
    }

    #[test]
    fn agrees_with_the_oracle((c, start, n, m) in case()) {
        let cal = &calendars()[c];
        let o = Oracle::new(cal);
        let due = cal.add_open(ts(start), n).unwrap().as_second();
        prop_assert_eq!(due, o.add(start, n), "{} + {}", ts(start), n);
        prop_assert_eq!(cal.open_between(ts(start), ts(start + m)), o.open_between(start, start + m));
        prop_assert_eq!(cal.is_open(ts(start)), o.state(start).0);
        prop_assert_eq!(cal.next_open(ts(start)).unwrap().as_second(), o.add(start, 0));
    }

    #[test]
    fn adding_is_additive((c, start, a, b) in case()) {
        let cal = &calendars()[c];
        let first = cal.add_open(ts(start), a).unwrap();
        let b = b.max(1);
        prop_assert_eq!(cal.add_open(first, b).unwrap(), cal.add_open(ts(start), a + b).unwrap());
        // A zero step only moves a closing instant on to the next opening.
        prop_assert_eq!(cal.add_open(first, 0).unwrap(), cal.next_open(first).unwrap());
        // Normalising the start first changes nothing.
        let normal = cal.next_open(ts(start)).unwrap();
        prop_assert_eq!(cal.add_open(normal, a).unwrap(), cal.add_open(ts(start), a).unwrap());
    }

    #[test]
    fn due_is_never_inside_a_closed_period((c, start, n, _m) in case()) {
        let cal = &calendars()[c];
        let due = cal.add_open(ts(start), n).unwrap();
        let before = ts(due.as_second() - 1);
        if n == 0 {
            prop_assert!(cal.is_open(due));
        } else {
            // Open up to the due instant: inside an open stretch or exactly
            // at its closing time.
            prop_assert!(cal.is_open(before), "{} + {} = {}", ts(start), n, due);
        }
        prop_assert!(due >= ts(start));
    }

    #[test]
    fn open_between_inverts_add((c, start, n, _m) in case()) {
        let cal = &calendars()[c];
        let due = cal.add_open(ts(start), n).unwrap();
        prop_assert_eq!(cal.open_between(ts(start), due), n);
    }

    #[test]
    fn monotonic_in_the_amount((c, start, a, b) in case()) {
        let cal = &calendars()[c];
        let (lo, hi) = (a.min(b), a.max(b));
        prop_assert!(cal.add_open(ts(start), lo).unwrap() <= cal.add_open(ts(start), hi).unwrap());
        if lo < hi {
            prop_assert!(cal.add_open(ts(start), lo).unwrap() < cal.add_open(ts(start), hi).unwrap());
        }
    }

    #[test]
    fn open_between_is_additive((c, start, a, b) in case()) {
        let cal = &calendars()[c];
        let (x, y, z) = (ts(start), ts(start + a), ts(start + a + b));
        prop_assert_eq!(cal.open_between(x, y) + cal.open_between(y, z), cal.open_between(x, z));
        prop_assert!(cal.open_between(x, z) <= a + b);
    }
}
