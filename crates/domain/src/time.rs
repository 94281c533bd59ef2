//! Timestamps as Zendesk shows them (`2026-01-31T09:00:00Z`, whole seconds,
//! UTC), the date forms accepted by search (`2026-01-01`, RFC 3339, or a
//! relative `4hours`, counted back from `now`), and calendar months in UTC
//! ([`Month`], the period of SLA credits and reports, policies.md §5).

use jiff::{Timestamp, civil::Date, tz::TimeZone};

use crate::ParseError;

/// Formats unix seconds the way Zendesk does.
pub fn format_unix(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp to unix seconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, ParseError> {
    s.trim()
        .parse::<Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| ParseError::new(format!("{s} is not an RFC 3339 timestamp")))
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<Date, ParseError> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| ParseError::new(format!("{s} is not a date (YYYY-MM-DD)")))
}

/// A search bound: the instant range `[start, end)` a value denotes. A date
/// denotes its whole UTC day, a timestamp a single second, and a relative
/// value (`3days`) the instant that long before `now`.
pub fn search_instant(value: &str, now: i64) -> Result<(i64, i64), ParseError> {
    let v = value.trim();
    if let Ok(date) = v.parse::<Date>() {
        let start = date
            .to_zoned_datetime(TimeZone::UTC)
            .map_err(|e| ParseError::new(e.to_string()))?
            .timestamp()
            .as_second();
        return Ok((start, start + 86_400));
    }
    if let Ok(t) = v.parse::<Timestamp>() {
        return Ok((t.as_second(), t.as_second() + 1));
    }
    let digits = v.chars().take_while(|c| c.is_ascii_digit()).count();
    let (n, unit) = v.split_at(digits);
    let n: i64 = n
        .parse()
        .map_err(|_| ParseError::new(format!("{v} is not a date, timestamp or relative time")))?;
    let unit_secs = match unit.trim_end_matches('s') {
        "minute" | "min" => 60,
        "hour" | "h" => 3_600,
        "day" | "d" => 86_400,
        "week" | "w" => 7 * 86_400,
        "month" => 30 * 86_400,
        "year" => 365 * 86_400,
        _ => return Err(ParseError::new(format!("{v}: unknown time unit {unit}"))),
    };
    let at = now - n.saturating_mul(unit_secs);
    Ok((at, at + 1))
}

/// A calendar month in UTC (`2026-03`), the unit of SLA credits and
/// monthly reports (policies.md §5). Months are taken in UTC because
/// instants are stored in UTC (policies.md, preamble): a report does not
/// depend on who reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i64,
    month: i64,
}

impl Month {
    /// Exactly `YYYY-MM`, years 1000 to 9998, months 01 to 12.
    pub fn parse(s: &str) -> Result<Month, ParseError> {
        let s = s.trim();
        let bad = || {
            ParseError::new(format!(
                "{s} is not a month (expected YYYY-MM, e.g. 2026-03)"
            ))
        };
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.chars().chain(m.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let (year, month): (i64, i64) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(1..=12).contains(&month) {
            return Err(ParseError::new(format!(
                "{s} is not a month: the month must be 01 to 12"
            )));
        }
        if !(1000..=9998).contains(&year) {
            return Err(ParseError::new(format!(
                "{s} is not a month: the year must be 1000 to 9998"
            )));
        }
        Ok(Month { year, month })
    }

    /// The month holding the instant `t` (unix seconds, UTC).
    pub fn of_instant(t: i64) -> Month {
        let (year, month, _) = civil_from_days(t.div_euclid(86_400));
        Month { year, month }
    }

    pub fn year(self) -> i64 {
        self.year
    }

    /// 1 to 12.
    pub fn number(self) -> i64 {
        self.month
    }

    /// The first instant of the month (00:00 UTC on the 1st).
    pub fn start(self) -> i64 {
        days_from_civil(self.year, self.month, 1) * 86_400
    }

    /// The first instant after the month.
    pub fn end(self) -> i64 {
        self.next().start()
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The calendar quarter, 1 to 4.
    pub fn quarter(self) -> i64 {
        (self.month - 1) / 3 + 1
    }

    /// The first month of this month's quarter.
    pub fn quarter_start(self) -> Month {
        Month {
            year: self.year,
            month: (self.quarter() - 1) * 3 + 1,
        }
    }

    /// `2026-Q1`.
    pub fn quarter_label(self) -> String {
        format!("{}-Q{}", self.year, self.quarter())
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm: exact, and infallible for every input).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_zendesk() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2026-01-31T09:00:00Z").unwrap(),
            1_769_850_000
        );
        assert_eq!(format_unix(1_769_850_000), "2026-01-31T09:00:00Z");
    }

    #[test]
    fn search_instants() {
        let day = search_instant("2026-01-01", 0).unwrap();
        assert_eq!(day.1 - day.0, 86_400);
        assert_eq!(format_unix(day.0), "2026-01-01T00:00:00Z");
        assert_eq!(search_instant("2hours", 10_000).unwrap().0, 10_000 - 7_200);
        assert_eq!(search_instant("1day", 100_000).unwrap().0, 100_000 - 86_400);
        assert!(search_instant("soon", 0).is_err());
        assert!(search_instant("3fortnights", 0).is_err());
    }

    #[test]
    fn months_parse_strictly_and_bound_in_utc() {
        let m = Month::parse("2026-03").unwrap();
        assert_eq!(m.to_string(), "2026-03");
        assert_eq!(format_unix(m.start()), "2026-03-01T00:00:00Z");
        assert_eq!(format_unix(m.end()), "2026-04-01T00:00:00Z");
        assert_eq!(m.quarter(), 1);
        assert_eq!(m.quarter_start().to_string(), "2026-01");
        assert_eq!(m.quarter_label(), "2026-Q1");
        let dec = Month::parse("2025-12").unwrap();
        assert_eq!(dec.next().to_string(), "2026-01");
        assert_eq!(format_unix(dec.end()), "2026-01-01T00:00:00Z");
        assert_eq!(dec.quarter_start().to_string(), "2025-10");
        assert_eq!(
            Month::parse("2024-02").unwrap().end() - Month::parse("2024-02").unwrap().start(),
            29 * 86_400
        );
        for bad in [
            "2026-13",
            "2026-00",
            "2026-3",
            "26-03",
            "2026/03",
            "2026-03-01",
            "",
            "abcd-ef",
            "0999-01",
            "9999-12",
            "+026-03",
        ] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert!(Month::parse("2026-13").unwrap_err().0.contains("01 to 12"));
        assert_eq!(
            Month::of_instant(parse_rfc3339("2026-03-31T23:59:59Z").unwrap()),
            m
        );
        assert_eq!(
            Month::of_instant(parse_rfc3339("2026-04-01T00:00:00Z").unwrap()),
            m.next()
        );
        assert_eq!(Month::of_instant(-1).to_string(), "1969-12");
    }

    #[test]
    fn civil_days_agree_with_jiff() {
        for days in (-700_000..2_900_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            let date = jiff::Timestamp::from_second(days * 86_400)
                .unwrap()
                .to_zoned_datetime(TimeZone::UTC)
                .date();
            assert_eq!(
                (y, m, d),
                (
                    i64::from(date.year()),
                    i64::from(date.month()),
                    i64::from(date.day())
                )
            );
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
