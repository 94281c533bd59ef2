//! `steward sla due` as a user runs it (product.md, fixed interface): the
//! examples of policies.md §2 on the built-in calendars, holidays given on
//! the command line, and bad input refused with a message, never a panic.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_steward");

/// Runs `steward sla due ARGS`; returns success, stdout and stderr.
fn due(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(["sla", "due"])
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("STEWARD_DATABASE_URL")
        .output()
        .expect("run steward");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn due_ok(calendar: &str, start: &str, minutes: &str, holidays: &[&str]) -> String {
    let mut args = vec!["--calendar", calendar, "--start", start];
    args.extend(["--minutes", minutes]);
    for h in holidays {
        args.extend(["--holiday", h]);
    }
    let (ok, stdout, stderr) = due(&args);
    assert!(ok, "{args:?}: {stdout}{stderr}");
    stdout.trim().to_string()
}

#[test]
fn section_2_examples() {
    // Tuesday 17:00 EDT + 1 business hour = Tuesday 18:00, not Wednesday 09:00.
    assert_eq!(
        due_ok("business", "2026-03-10T17:00:00-04:00", "60", &[]),
        "2026-03-10T22:00:00Z"
    );
    // Tuesday 14:00 + 1 business day (9 h) = Wednesday 14:00.
    assert_eq!(
        due_ok("business", "2026-02-10T14:00:00-05:00", "540", &[]),
        "2026-02-11T19:00:00Z"
    );
    // Saturday + 1 business day = Monday 18:00.
    assert_eq!(
        due_ok("business", "2026-02-14T15:00:00Z", "540", &[]),
        "2026-02-16T23:00:00Z"
    );
    // Across the spring-forward weekend: Friday 17:00 EST + 2 h = Monday 10:00 EDT.
    assert_eq!(
        due_ok("business", "2026-03-06T22:00:00Z", "120", &[]),
        "2026-03-09T14:00:00Z"
    );
    // extended opens at 06:00; a zero target is due at the next opening.
    assert_eq!(
        due_ok("extended", "2026-02-14T15:00:00Z", "0", &[]),
        "2026-02-16T11:00:00Z"
    );
    // 24x7 is elapsed time.
    assert_eq!(
        due_ok("24x7", "2026-03-07T12:00:00Z", "1440", &[]),
        "2026-03-08T12:00:00Z"
    );
}

#[test]
fn holidays_on_the_command_line_close_those_days() {
    let start = "2026-12-24T17:00:00-05:00";
    assert_eq!(
        due_ok("business", start, "120", &[]),
        "2026-12-25T15:00:00Z"
    );
    assert_eq!(
        due_ok("business", start, "120", &["2026-12-25"]),
        "2026-12-28T15:00:00Z"
    );
    assert_eq!(
        due_ok("business", start, "120", &["2026-12-28", "2026-12-25"]),
        "2026-12-29T15:00:00Z"
    );
}

#[test]
fn bad_input_is_refused_with_a_message() {
    const T: &str = "2026-03-10T17:00:00Z";
    // (calendar, start, minutes, holiday, what the message says)
    let cases = [
        ("weekends", T, "60", None, "unknown calendar"),
        ("business", T, "60", Some("2026-02-30"), "not a date"),
        ("business", T, "-5", None, "zero or more"),
        (
            "business",
            "yesterday",
            "60",
            None,
            "not an RFC 3339 timestamp",
        ),
        ("business", T, "lots", None, "invalid value"),
        (
            "business",
            T,
            "99999999999999",
            None,
            "outside the supported range",
        ),
    ];
    for (calendar, start, minutes, holiday, expected) in cases {
        let mut args = vec!["--calendar", calendar, "--start", start];
        args.extend(["--minutes", minutes]);
        if let Some(h) = holiday {
            args.extend(["--holiday", h]);
        }
        let (ok, stdout, stderr) = due(&args);
        assert!(!ok, "{args:?} succeeded: {stdout}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let (ok, _, stderr) = due(&["--calendar", "business"]);
    assert!(!ok && stderr.contains("--start"), "{stderr}");
}

#[test]
fn has_help() {
    let (ok, stdout, _) = due(&["--help"]);
    assert!(
        ok && stdout.contains("Usage") && stdout.contains("--holiday"),
        "{stdout}"
    );
}
