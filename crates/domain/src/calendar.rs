//! Business-hours calendars (policies.md §2): when a calendar is open, and
//! how much open time lies between two instants — exact to the second.
//!
//! A [`Calendar`] is an IANA time zone, a weekly pattern of open intervals in
//! local wall-clock time (several per weekday allowed, `00:00`–`24:00`), and a
//! list of holidays (civil dates in that zone, closed all day). The three
//! calendars of §2 are built in: `24x7` (always open, UTC, no holidays),
//! `business` (Mon–Fri 09:00–18:00 America/New_York) and `extended`
//! (Mon–Fri 06:00–22:00 America/New_York). [`CalendarDef`] is the serde form
//! an admin stores and edits; [`Calendar::from_def`] validates it once.
//!
//! # What "open" means
//!
//! An instant is open when the wall clock of the calendar's zone, at that
//! instant, reads a time inside an open interval of its weekday, and that
//! date is not a holiday. Everything follows from this one definition:
//!
//! - "N seconds of open time" is the measure of the open instants, in real
//!   elapsed seconds. An interval that contains a DST change therefore counts
//!   what really elapses: a Sunday 00:00–24:00 in New York is 23 h long on the
//!   spring-forward date and 25 h long on the fall-back date; wall-clock times
//!   skipped by a spring-forward are never open, and those repeated by a
//!   fall-back are open twice.
//! - Intervals are half-open `[start, end)`: 18:00 itself is closed.
//! - Instants are taken at whole seconds (`Timestamp::as_second`); sub-second
//!   parts are ignored.
//!
//! # Conventions of §2
//!
//! - [`Calendar::add_open`]`(start, n)` with `n > 0` is the *earliest* instant
//!   at which `n` seconds of open time have elapsed since `start`. Because it
//!   is the earliest, a target that ends exactly at a closing time is due at
//!   that closing time (Tuesday 17:00 + 1 h on `business` = Tuesday 18:00,
//!   not Wednesday 09:00), and a clock started while closed effectively
//!   starts at the next opening (closed time adds nothing).
//! - `add_open(start, 0)` is [`Calendar::next_open`]`(start)`: `start` itself
//!   when open, otherwise the next opening (Zendesk's convention: the clock
//!   starts at the next opening, so a zero target is due then). A zero
//!   target is therefore never due at a closing time, which is the one
//!   exception to additivity: `add_open(add_open(s, a), b) == add_open(s, a +
//!   b)` for every `b > 0`, while for `b = 0` the left side moves a closing
//!   instant on to the next opening.
//! - "N business days" is N × [`Calendar::working_day_seconds`] of open time
//!   (9 h on `business`), so Tuesday 14:00 + 1 business day = Wednesday 14:00
//!   and Saturday + 1 business day = Monday 18:00. The working day is the
//!   longest weekday of the pattern (all weekdays are equal in the built-in
//!   calendars; 24 h on `24x7`).
//!
//! # Algorithm
//!
//! Converting between civil time and instants with jiff costs ~100 ns, and
//! a 10-business-day target spans two weeks, so walking day by day would
//! miss the performance target (≥ 1 M `add_open` per second on one core;
//! `examples/calendar_bench.rs` measures it). Instead
//! the time line is cut into *segments* between the zone's UTC-offset
//! transitions (precomputed once per calendar for 1900–2200, two a year in
//! New York; jiff is asked directly outside that window). Inside a segment
//! the offset is constant, so an instant maps to a local second by one
//! addition, and open time is pure arithmetic on local seconds:
//!
//! - `P(L)`, the open seconds of the weekly pattern before local second `L`
//!   counted from a Monday epoch, is `weeks × weekly_open + prefix within the
//!   week` — whole weeks are skipped in O(1) — and its inverse (the earliest
//!   `L` with `P(L) ≥ y`) is one division and a search over the week's few
//!   intervals.
//! - Holidays (a sorted list of local midnights, found by binary search)
//!   subtract their share of `P`; the inverse walks only the holidays that
//!   fall inside the range.
//!
//! A computation crosses a segment boundary only when its range contains a
//! DST change; it then carries the remaining amount into the next segment,
//! which is how an interval straddling a transition counts real elapsed
//! seconds. Leap years and year ends need no care: local seconds are uniform
//! (Unix time has no leap seconds) and weekdays repeat every 604 800 local
//! seconds; only holidays, given as civil dates, are converted to day numbers.

use std::{fmt, sync::Arc};

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
/// Local second of Monday 1969-12-29 00:00, the Monday before the Unix epoch:
/// week arithmetic counts from here so that weekday 0 is Monday.
const MONDAY_EPOCH: i64 = -3 * DAY;
/// Years whose zone transitions are precomputed (see the module docs).
const TABLE_FIRST_YEAR: i16 = 1900;
const TABLE_END_YEAR: i16 = 2200;

/// The names of the built-in calendars (policies.md §2).
pub const BUILTIN_NAMES: [&str; 3] = ["24x7", "business", "extended"];

/// Why a calendar could not be built or a computation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown calendar {0:?} (expected one of: 24x7, business, extended)")]
    UnknownCalendar(String),
    #[error("unknown time zone {0:?} (expected an IANA name such as America/New_York)")]
    UnknownZone(String),
    #[error("calendar {calendar:?}: {message}")]
    Invalid { calendar: String, message: String },
    #[error("an amount of open time cannot be negative (got {0} s)")]
    NegativeDuration(i64),
    #[error("the result lies outside the supported range of instants (years -9999 to 9999)")]
    OutOfRange,
}

/// The stored, editable form of a calendar: plain strings and dates, as an
/// admin writes them. [`Calendar::from_def`] parses and validates it.
///
/// ```json
/// {"name": "business", "zone": "America/New_York",
///  "hours": {"mon": ["09:00-18:00"], "tue": ["09:00-12:00", "13:00-18:00"]},
///  "holidays": ["2026-12-25"]}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    pub name: String,
    /// IANA time zone name (`UTC`, `America/New_York`, ...).
    pub zone: String,
    #[serde(default)]
    pub hours: WeeklyHours,
    /// Dates (in the calendar's zone) on which it is closed all day.
    #[serde(default)]
    pub holidays: Vec<Date>,
}

/// Open intervals per weekday, each `"HH:MM-HH:MM"` (seconds optional,
/// `24:00` allowed as an end), local wall-clock time, end exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<String>,
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeeklyHours {
    /// The same intervals on every day in `days` (0 = Monday).
    fn uniform(days: std::ops::Range<usize>, interval: &str) -> Self {
        let mut hours = WeeklyHours::default();
        for d in days {
            hours.day_mut(d).push(interval.to_string());
        }
        hours
    }

    fn day(&self, d: usize) -> &[String] {
        match d {
            0 => &self.mon,
            1 => &self.tue,
            2 => &self.wed,
            3 => &self.thu,
            4 => &self.fri,
            5 => &self.sat,
            _ => &self.sun,
        }
    }

    fn day_mut(&mut self, d: usize) -> &mut Vec<String> {
        match d {
            0 => &mut self.mon,
            1 => &mut self.tue,
            2 => &mut self.wed,
            3 => &mut self.thu,
            4 => &mut self.fri,
            5 => &mut self.sat,
            _ => &mut self.sun,
        }
    }
}

impl CalendarDef {
    /// `24x7`: always open. UTC, because an always-open calendar does not
    /// depend on its zone except across DST changes, where UTC keeps "24 h"
    /// equal to 86 400 s.
    pub fn always() -> Self {
        CalendarDef {
            name: "24x7".into(),
            zone: "UTC".into(),
            hours: WeeklyHours::uniform(0..7, "00:00-24:00"),
            holidays: Vec::new(),
        }
    }

    /// `business`: Monday to Friday 09:00–18:00 America/New_York.
    pub fn business() -> Self {
        CalendarDef {
            name: "business".into(),
            zone: "America/New_York".into(),
            hours: WeeklyHours::uniform(0..5, "09:00-18:00"),
            holidays: Vec::new(),
        }
    }

    /// `extended`: Monday to Friday 06:00–22:00 America/New_York.
    pub fn extended() -> Self {
        CalendarDef {
            name: "extended".into(),
            zone: "America/New_York".into(),
            hours: WeeklyHours::uniform(0..5, "06:00-22:00"),
            holidays: Vec::new(),
        }
    }

    /// The definition of a built-in calendar by its §2 name.
    pub fn builtin(name: &str) -> Result<Self, CalendarError> {
        match name.trim() {
            "24x7" => Ok(Self::always()),
            "business" => Ok(Self::business()),
            "extended" => Ok(Self::extended()),
            other => Err(CalendarError::UnknownCalendar(other.to_string())),
        }
    }
}

/// One open stretch of the weekly pattern, in seconds since Monday 00:00
/// local, with the pattern's open seconds before it in the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: i64,
    end: i64,
    before: i64,
}

/// A UTC-offset change: from instant `at` on, local = instant + `offset`.
#[derive(Debug, Clone, Copy)]
struct Transition {
    at: i64,
    offset: i64,
}

/// A stretch of the time line with one UTC offset: `[.., end)`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: i64,
    /// The next offset change, or `i64::MAX` when there is none.
    end: i64,
}

/// The zone's offset changes between `lo` and `hi`, so that the hot path
/// needs only a binary search; outside the window jiff is asked directly.
/// Shared, so that cloning a calendar (or changing its holidays) is cheap.
#[derive(Debug, Clone)]
struct OffsetTable {
    lo: i64,
    hi: i64,
    base_offset: i64,
    transitions: Arc<[Transition]>,
}

/// A validated business-hours calendar. Cheap to query, built once.
#[derive(Clone)]
pub struct Calendar {
    name: String,
    zone: String,
    tz: TimeZone,
    hours: WeeklyHours,
    /// The week's open stretches, sorted, touching ones merged.
    spans: Vec<Span>,
    /// Open seconds in one week of the pattern (never 0).
    week_open: i64,
    working_day: i64,
    /// Sorted, without duplicates.
    holidays: Vec<Date>,
    /// `holidays` as the local second of their midnight, same order.
    holiday_starts: Vec<i64>,
    offsets: OffsetTable,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("name", &self.name)
            .field("zone", &self.zone)
            .field("hours", &self.hours)
            .field("holidays", &self.holidays)
            .finish()
    }
}

impl Calendar {
    /// Validates a definition: a known zone, well-formed intervals that end
    /// after they start and do not overlap, and at least one open second a
    /// week (a calendar that is never open could never meet a target).
    pub fn from_def(def: &CalendarDef) -> Result<Self, CalendarError> {
        let invalid = |message: String| CalendarError::Invalid {
            calendar: def.name.clone(),
            message,
        };
        let tz = TimeZone::get(def.zone.trim())
            .map_err(|_| CalendarError::UnknownZone(def.zone.clone()))?;

        let mut raw: Vec<Span> = Vec::new();
        let mut day_open = [0i64; 7];
        for (d, open) in day_open.iter_mut().enumerate() {
            let mut day: Vec<(i64, i64)> = Vec::new();
            for text in def.hours.day(d) {
                let (start, end) =
                    parse_interval(text).map_err(|m| invalid(format!("{}: {m}", DAY_NAMES[d])))?;
                day.push((start, end));
            }
            day.sort_unstable();
            for pair in day.windows(2) {
                if let [a, b] = pair
                    && b.0 < a.1
                {
                    return Err(invalid(format!(
                        "{}: intervals {}-{} and {}-{} overlap",
                        DAY_NAMES[d],
                        clock(a.0),
                        clock(a.1),
                        clock(b.0),
                        clock(b.1)
                    )));
                }
            }
            for (start, end) in day {
                *open += end - start;
                let base = d as i64 * DAY;
                raw.push(Span {
                    start: base + start,
                    end: base + end,
                    before: 0,
                });
            }
        }
        // Merge touching stretches (12:00-13:00 + 13:00-18:00, or Monday
        // 24:00 + Tuesday 00:00) so that the week is a minimal sorted list.
        let mut spans: Vec<Span> = Vec::with_capacity(raw.len());
        let mut week_open = 0;
        for s in raw {
            match spans.last_mut() {
                Some(last) if last.end == s.start => last.end = s.end,
                _ => spans.push(s),
            }
        }
        for s in &mut spans {
            s.before = week_open;
            week_open += s.end - s.start;
        }
        if week_open == 0 {
            return Err(invalid("it has no open hours".into()));
        }

        let mut holidays = def.holidays.clone();
        holidays.sort_unstable();
        holidays.dedup();
        let holiday_starts = holidays.iter().map(|d| unix_day(*d) * DAY).collect();
        let offsets = OffsetTable::build(&tz);
        Ok(Calendar {
            name: def.name.clone(),
            zone: def.zone.trim().to_string(),
            tz,
            hours: def.hours.clone(),
            spans,
            week_open,
            working_day: day_open.iter().copied().max().unwrap_or(0),
            holidays,
            holiday_starts,
            offsets,
        })
    }

    /// A built-in calendar of §2 (`24x7`, `business`, `extended`), with no
    /// holidays.
    pub fn builtin(name: &str) -> Result<Self, CalendarError> {
        Self::from_def(&CalendarDef::builtin(name)?)
    }

    /// The same calendar with `holidays` instead of its own.
    pub fn with_holidays(&self, holidays: &[Date]) -> Self {
        let mut holidays = holidays.to_vec();
        holidays.sort_unstable();
        holidays.dedup();
        Calendar {
            holiday_starts: holidays.iter().map(|d| unix_day(*d) * DAY).collect(),
            holidays,
            ..self.clone()
        }
    }

    /// The definition this calendar was built from (holidays normalised).
    pub fn to_def(&self) -> CalendarDef {
        CalendarDef {
            name: self.name.clone(),
            zone: self.zone.clone(),
            hours: self.hours.clone(),
            holidays: self.holidays.clone(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// Length of this calendar's working day in seconds: what one "business
    /// day" of a target means (§2). The longest weekday of the pattern.
    pub fn working_day_seconds(&self) -> i64 {
        self.working_day
    }

    /// Open seconds in one week of the pattern, ignoring holidays and DST.
    pub fn weekly_open_seconds(&self) -> i64 {
        self.week_open
    }

    /// Whether `d` is a working day: its weekday has open hours and it is
    /// not one of the calendar's holidays. Implementation plans count their
    /// days in working days (§13).
    pub fn is_working_day(&self, d: Date) -> bool {
        let weekday = d.weekday().to_monday_zero_offset() as usize;
        !self.hours.day(weekday).is_empty() && self.holidays.binary_search(&d).is_err()
    }

    /// Whether the calendar is open at `t` (see the module docs).
    pub fn is_open(&self, t: Timestamp) -> bool {
        let t = t.as_second();
        let local = t + self.offsets.segment(&self.tz, t).offset;
        let midnight = local - local.rem_euclid(DAY);
        if self.holiday_starts.binary_search(&midnight).is_ok() {
            return false;
        }
        let r = (local - MONDAY_EPOCH).rem_euclid(WEEK);
        let i = self.spans.partition_point(|s| s.end <= r);
        self.spans.get(i).is_some_and(|s| s.start <= r)
    }

    /// `t` when open, else the next instant at which the calendar opens.
    pub fn next_open(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        // The earliest instant after one open second, less that second.
        to_timestamp(self.advance(t.as_second(), 1)? - 1)
    }

    /// The instant at which `seconds` of open time have elapsed from `start`
    /// (§2 conventions in the module docs; 0 gives [`Calendar::next_open`]).
    pub fn add_open(&self, start: Timestamp, seconds: i64) -> Result<Timestamp, CalendarError> {
        match seconds {
            s if s < 0 => Err(CalendarError::NegativeDuration(s)),
            0 => self.next_open(start),
            s => to_timestamp(self.advance(start.as_second(), s)?),
        }
    }

    /// `add_open` of `hours` business hours.
    pub fn add_hours(&self, start: Timestamp, hours: i64) -> Result<Timestamp, CalendarError> {
        self.add_open(
            start,
            hours.checked_mul(3_600).ok_or(CalendarError::OutOfRange)?,
        )
    }

    /// `add_open` of `days` business days (× the working day, §2).
    pub fn add_days(&self, start: Timestamp, days: i64) -> Result<Timestamp, CalendarError> {
        let seconds = days
            .checked_mul(self.working_day)
            .ok_or(CalendarError::OutOfRange)?;
        self.add_open(start, seconds)
    }

    /// Seconds of open time in `[a, b)`; 0 when `b <= a`.
    pub fn open_between(&self, a: Timestamp, b: Timestamp) -> i64 {
        let (mut t, b) = (a.as_second(), b.as_second());
        let mut total = 0;
        while t < b {
            let seg = self.offsets.segment(&self.tz, t);
            let stop = b.min(seg.end);
            total += self.open_local(t + seg.offset, stop + seg.offset);
            t = stop;
        }
        total
    }

    /// The earliest instant `u` with `n` (> 0) open seconds in `[t, u)`.
    fn advance(&self, mut t: i64, n: i64) -> Result<i64, CalendarError> {
        // Bounding `n` by the whole range of instants keeps every product
        // below in i64 (weeks × 604 800 stays under 10^18).
        let max = Timestamp::MAX.as_second() - Timestamp::MIN.as_second();
        if n > max {
            return Err(CalendarError::OutOfRange);
        }
        let mut remaining = n;
        loop {
            let seg = self.offsets.segment(&self.tz, t);
            let local = t + seg.offset;
            let due = self.advance_local(local, remaining) - seg.offset;
            if seg.end == i64::MAX || due <= seg.end {
                return Ok(due);
            }
            // The target lies past the next offset change: count what this
            // segment holds and carry the rest over. `remaining` stays > 0
            // because the segment holds strictly less than it.
            remaining -= self.open_local(local, seg.end + seg.offset);
            t = seg.end;
            if t > Timestamp::MAX.as_second() {
                return Err(CalendarError::OutOfRange);
            }
        }
    }

    /// Open seconds of the weekly pattern in local seconds `[MONDAY_EPOCH, l)`
    /// — `P(l)` of the module docs — ignoring holidays.
    fn pattern_before(&self, l: i64) -> i64 {
        let x = l - MONDAY_EPOCH;
        let (weeks, r) = (x.div_euclid(WEEK), x.rem_euclid(WEEK));
        let i = self.spans.partition_point(|s| s.end <= r);
        let within = match self.spans.get(i) {
            Some(s) if s.start < r => s.before + (r - s.start),
            Some(s) => s.before,
            None => self.week_open,
        };
        weeks * self.week_open + within
    }

    /// The earliest local second `l` with `pattern_before(l) >= y`.
    fn pattern_reach(&self, y: i64) -> i64 {
        // `y - 1` so that a target completed by a week's last open second
        // lands on that stretch's closing time, not next week's opening.
        let weeks = (y - 1).div_euclid(self.week_open);
        let r = y - weeks * self.week_open; // in 1..=week_open
        let i = self
            .spans
            .partition_point(|s| s.before + (s.end - s.start) < r);
        let offset_in_week = match self.spans.get(i) {
            Some(s) => s.start + (r - s.before),
            // Unreachable: r <= week_open, the last stretch's cumulative end.
            None => WEEK,
        };
        MONDAY_EPOCH + weeks * WEEK + offset_in_week
    }

    /// Index of the first holiday that ends after local second `l`.
    fn first_holiday_after(&self, l: i64) -> usize {
        self.holiday_starts.partition_point(|&h0| h0 + DAY <= l)
    }

    /// Open seconds in local seconds `[l1, l2)`, holidays excluded.
    fn open_local(&self, l1: i64, l2: i64) -> i64 {
        if l2 <= l1 {
            return 0;
        }
        let mut total = self.pattern_before(l2) - self.pattern_before(l1);
        for &h0 in &self.holiday_starts[self.first_holiday_after(l1)..] {
            let h1 = h0 + DAY;
            if h0 >= l2 {
                break;
            }
            total -= self.pattern_before(l2.min(h1)) - self.pattern_before(l1.max(h0));
        }
        total
    }

    /// The earliest local second `l` with `open_local(cur, l) >= a` (a > 0).
    fn advance_local(&self, mut cur: i64, mut a: i64) -> i64 {
        let mut i = self.first_holiday_after(cur);
        loop {
            let reach = self.pattern_reach(self.pattern_before(cur) + a);
            match self.holiday_starts.get(i) {
                // The pattern alone would get there inside or after this
                // holiday: use up what lies before it and resume the day
                // after. `a` stays > 0 since the stretch before the holiday
                // holds strictly less than `a`.
                Some(&h0) if reach > h0 => {
                    let h1 = h0 + DAY;
                    if cur < h0 {
                        a -= self.pattern_before(h0) - self.pattern_before(cur);
                    }
                    cur = cur.max(h1);
                    i += 1;
                }
                _ => return reach,
            }
        }
    }
}

impl OffsetTable {
    fn build(tz: &TimeZone) -> Self {
        let at = |ts: Timestamp| i64::from(tz.to_offset(ts).seconds());
        // A zone without any transition (UTC, fixed offsets) is one segment.
        if tz.following(Timestamp::MIN).next().is_none() {
            return OffsetTable {
                lo: i64::MIN,
                hi: i64::MAX,
                base_offset: at(Timestamp::UNIX_EPOCH),
                transitions: Arc::new([]),
            };
        }
        let year_start = |y: i16| {
            Date::new(y, 1, 1)
                .and_then(|d| d.to_zoned_datetime(TimeZone::UTC))
                .map(|z| z.timestamp())
        };
        let (Ok(lo), Ok(hi)) = (year_start(TABLE_FIRST_YEAR), year_start(TABLE_END_YEAR)) else {
            // Cannot happen for these constant years; an empty window only
            // means every lookup asks jiff.
            return OffsetTable {
                lo: 0,
                hi: 0,
                base_offset: 0,
                transitions: Arc::new([]),
            };
        };
        let transitions = tz
            .following(lo)
            .take_while(|tr| tr.timestamp() < hi)
            .map(|tr| Transition {
                at: tr.timestamp().as_second(),
                offset: i64::from(tr.offset().seconds()),
            })
            .collect::<Vec<_>>()
            .into();
        OffsetTable {
            lo: lo.as_second(),
            hi: hi.as_second(),
            base_offset: at(lo),
            transitions,
        }
    }

    /// The segment that contains instant `t`.
    fn segment(&self, tz: &TimeZone, t: i64) -> Segment {
        if self.lo <= t && t < self.hi {
            let i = self.transitions.partition_point(|tr| tr.at <= t);
            let offset = match i.checked_sub(1).and_then(|j| self.transitions.get(j)) {
                Some(tr) => tr.offset,
                None => self.base_offset,
            };
            let end = self.transitions.get(i).map_or(self.hi, |tr| tr.at);
            return Segment { offset, end };
        }
        // Outside the window: ask jiff. Past the end of the representable
        // range the offset no longer matters (the result will be refused),
        // so the last one is used for good.
        let ts = Timestamp::from_second(t).unwrap_or(if t < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        });
        let offset = i64::from(tz.to_offset(ts).seconds());
        let mut end = tz
            .following(ts)
            .next()
            .map_or(i64::MAX, |tr| tr.timestamp().as_second());
        if t < self.lo && end > self.lo {
            end = self.lo;
        }
        if ts.as_second() != t {
            end = i64::MAX;
        }
        Segment { offset, end }
    }
}

fn to_timestamp(t: i64) -> Result<Timestamp, CalendarError> {
    Timestamp::from_second(t).map_err(|_| CalendarError::OutOfRange)
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's
/// `days_from_civil`), kept here because jiff does not expose it.
fn unix_day(date: Date) -> i64 {
    let (y, m, d) = (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `"HH:MM-HH:MM"` (optionally with seconds) into seconds of the day.
fn parse_interval(text: &str) -> Result<(i64, i64), String> {
    let (a, b) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?} is not an interval such as 09:00-18:00"))?;
    let (start, end) = (parse_clock(a)?, parse_clock(b)?);
    if end <= start {
        return Err(format!(
            "interval {text:?} ends before it starts (write an overnight shift as two intervals on consecutive days)"
        ));
    }
    Ok((start, end))
}

fn parse_clock(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a time of day (HH:MM or HH:MM:SS, 00:00 to 24:00)");
    let mut parts = text.split(':');
    let mut field = |max: i64, required: bool| -> Result<i64, String> {
        match parts.next() {
            Some(p) if (1..=2).contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit()) => {
                p.parse::<i64>().ok().filter(|v| *v <= max).ok_or_else(bad)
            }
            None if !required => Ok(0),
            _ => Err(bad()),
        }
    };
    let (h, m, s) = (field(24, true)?, field(59, true)?, field(59, false)?);
    if parts.next().is_some() {
        return Err(bad());
    }
    let secs = h * 3_600 + m * 60 + s;
    if secs > DAY { Err(bad()) } else { Ok(secs) }
}

fn clock(secs: i64) -> String {
    let (h, m, s) = (secs / 3_600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests;
