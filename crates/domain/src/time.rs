//! Timestamps as Zendesk shows them (`2026-01-31T09:00:00Z`, whole seconds,
//! UTC) and the date forms accepted by search (`2026-01-01`, RFC 3339, or a
//! relative `4hours`, counted back from `now`).

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
}
