//! Calendar days and instants: the one place the store turns a unix second
//! into a local date and a local date and hour back into a unix second
//! (projects, status reports, health, feedback and the advisory board).

use jiff::{Timestamp, civil::Date, tz::TimeZone};

/// The local date of instant `t` in `tz`.
pub fn local_date(t: i64, tz: &TimeZone) -> Date {
    Timestamp::from_second(t)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(tz.clone())
        .date()
}

/// The UTC date of instant `t`.
pub fn utc_date(t: i64) -> Date {
    local_date(t, &TimeZone::UTC)
}

/// `hour`:00 on `d` in `tz`, as unix seconds (0 if out of range).
pub fn at_hour(d: Date, hour: i8, tz: &TimeZone) -> i64 {
    d.at(hour, 0, 0, 0)
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(0)
}

/// Midnight starting `d` in `tz`.
pub fn start_of(d: Date, tz: &TimeZone) -> i64 {
    at_hour(d, 0, tz)
}

/// Midnight UTC starting `d`.
pub fn utc_start(d: Date) -> i64 {
    start_of(d, &TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn round_trips() {
        let ny = TimeZone::get("America/New_York").expect("zone");
        let t = at_hour(date(2026, 11, 24), 17, &ny);
        assert_eq!(t, 1_795_557_600); // 2026-11-24T22:00:00Z
        assert_eq!(local_date(t, &ny), date(2026, 11, 24));
        assert_eq!(utc_date(t), date(2026, 11, 24));
        assert_eq!(utc_start(date(1970, 1, 2)), 86_400);
    }
}
