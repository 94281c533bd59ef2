use super::*;
use crate::{
    exclusions::ForceMajeureKind,
    sla::{Span, Unit, default_policies},
    time::parse_rfc3339,
};

/// Always open: open time is wall time.
struct AlwaysOpen;
impl OpenHours for AlwaysOpen {
    fn add_open(&self, start: i64, secs: i64) -> i64 {
        start + secs
    }
    fn open_between(&self, a: i64, b: i64) -> i64 {
        (b - a).max(0)
    }
    fn is_open(&self, _: i64) -> bool {
        true
    }
    fn working_day_secs(&self) -> i64 {
        86_400
    }
}

/// Open only on even hours: breach instants must land inside open time.
struct EvenHours;
impl OpenHours for EvenHours {
    fn add_open(&self, start: i64, secs: i64) -> i64 {
        let mut t = start;
        let mut left = secs;
        loop {
            if self.is_open(t) {
                let close = (t / 3600 + 1) * 3600;
                if close - t >= left {
                    return t + left;
                }
                left -= close - t;
                t = close;
            } else {
                t = (t / 3600 + 1) * 3600;
            }
        }
    }
    fn open_between(&self, a: i64, b: i64) -> i64 {
        (a..b).filter(|t| self.is_open(*t)).count() as i64
    }
    fn is_open(&self, t: i64) -> bool {
        (t / 3600) % 2 == 0
    }
    fn working_day_secs(&self) -> i64 {
        12 * 3600
    }
}

struct Cals;
impl Calendars for Cals {
    fn get(&self, name: &str) -> Option<&dyn OpenHours> {
        (name == "24x7").then_some(&AlwaysOpen as &dyn OpenHours)
    }
}

fn at(s: &str) -> i64 {
    parse_rfc3339(s).unwrap()
}

const H: i64 = 3600;

fn clock(metric: Metric, start: i64, target: i64) -> Clock {
    Clock {
        metric,
        instance: 1,
        target_secs: target,
        calendar: "24x7".into(),
        policy: "Enterprise".into(),
        span: Span::new(target / 60, Unit::Minutes, "24x7"),
        started_at: start,
        runs: vec![],
        running_since: Some(start),
        fulfilled_at: None,
        warned: false,
        breached: false,
        doubled: false,
    }
}

/// A clock fulfilled at `done` after running since its start.
fn done(metric: Metric, start: i64, target: i64, done: i64) -> Clock {
    let mut c = clock(metric, start, target);
    c.fulfil(done);
    c
}

#[test]
fn breach_instants_follow_the_runs() {
    let cal = AlwaysOpen;
    // Running: breached at start + target once as_of passes it.
    let c = clock(Metric::FirstReplyTime, 1_000, 600);
    assert_eq!(breach_instant(&c, &cal, 1_599), None);
    assert_eq!(
        breach_instant(&c, &cal, 1_600),
        Some(1_600),
        "exactly at target"
    );
    assert_eq!(breach_instant(&c, &cal, 9_999), Some(1_600));
    // Fulfilled in time: never; fulfilled late: at the target, not at fulfilment.
    let c = done(Metric::AgentWorkTime, 0, 100, 99);
    assert_eq!(breach_instant(&c, &cal, 10_000), None);
    assert!(!c.missed(&cal, 10_000));
    let c = done(Metric::AgentWorkTime, 0, 100, 500);
    assert_eq!(breach_instant(&c, &cal, 10_000), Some(100));
    assert!(c.missed(&cal, 10_000));
    // As of before the fulfilment, the same clock had breached only if past target.
    assert_eq!(breach_instant(&c, &cal, 50), None);
    // Paused runs add up: 60 s, pause, then 40 s more → breach 40 s into run two.
    let mut c = clock(Metric::AgentWorkTime, 0, 100);
    c.pause(60);
    c.resume(1_000);
    assert_eq!(breach_instant(&c, &cal, 2_000), Some(1_040));
    assert_eq!(c.breach_at(&cal), Some(1_040), "agrees with the scheduler");
    // Paused before reaching the target: never breached.
    let mut c = clock(Metric::AgentWorkTime, 0, 100);
    c.pause(60);
    assert_eq!(breach_instant(&c, &cal, 1_000_000), None);
}

#[test]
fn breach_instants_count_open_time_only() {
    let cal = EvenHours;
    // Started at 01:30 (closed): 90 min of open time end at 03:30? No —
    // 02:00–03:00 is open (60 min), 03:00–04:00 closed, 04:00 + 30 min.
    let mut c = clock(Metric::FirstReplyTime, H + 1_800, 5_400);
    c.calendar = "even".into();
    assert_eq!(breach_instant(&c, &cal, 10 * H), Some(4 * H + 1_800));
    assert_eq!(c.breach_at(&cal), Some(4 * H + 1_800));
    assert_eq!(breach_instant(&c, &cal, 4 * H + 1_799), None);
}

fn account(id: i64, tier: Tier, fee_dollars: i64) -> ReportAccount {
    ReportAccount {
        organization_id: id,
        name: format!("Account {id}"),
        tier,
        monthly_fee: Money::from_dollars(fee_dollars),
    }
}

fn ticket(id: i64, org: i64, clocks: Vec<Clock>) -> ReportTicket {
    ReportTicket {
        id,
        organization_id: org,
        priority: Priority::High,
        exclusion: None,
        clocks,
    }
}

fn report(
    month: &str,
    now: i64,
    accounts: &[ReportAccount],
    tickets: &[ReportTicket],
    windows: &[ForceMajeure],
) -> SlaReport {
    let policies = default_policies();
    build(&ReportInput {
        month: Month::parse(month).unwrap(),
        now,
        accounts,
        tickets,
        windows,
        policies: &policies,
        calendars: &Cals,
        keep_empty: false,
    })
}

fn outcomes(a: &AccountReport) -> Vec<(i64, Metric, Outcome)> {
    a.metrics
        .iter()
        .map(|l| (l.ticket_id, l.metric, l.outcome))
        .collect()
}

#[test]
fn enterprise_month_with_exclusion_waiver_and_repeat_floor() {
    use Metric::*;
    let mar = |d: &str| at(&format!("2026-03-{d}Z"));
    let ent = account(1, Tier::Enterprise, 10_000);
    let mut excluded = ticket(
        3,
        1,
        vec![clock(FirstReplyTime, mar("10T10:00:00"), H)], // breaches, but excluded
    );
    excluded.exclusion = Some(ExclusionReason::ThirdPartyIntegration);
    let tickets = vec![
        // Two response misses (5 % + 5 % → floor 15 %), one met resolution.
        ticket(
            1,
            1,
            vec![
                done(FirstReplyTime, mar("02T10:00:00"), H, mar("02T12:00:00")),
                done(
                    AgentWorkTime,
                    mar("02T10:00:00"),
                    24 * H,
                    mar("02T13:00:00"),
                ),
            ],
        ),
        ticket(2, 1, vec![clock(FirstReplyTime, mar("05T10:00:00"), H)]),
        excluded,
        // Breach inside the force-majeure window: waived.
        ticket(4, 1, vec![clock(FirstReplyTime, mar("20T10:00:00"), H)]),
        // A periodic-update breach: a miss for achievement, never credited.
        ticket(
            5,
            1,
            vec![done(
                PausableUpdateTime,
                mar("21T10:00:00"),
                H,
                mar("21T10:30:00"),
            )],
        ),
        // Decided in February and April: outside March.
        ticket(
            6,
            1,
            vec![clock(FirstReplyTime, at("2026-02-27T10:00:00Z"), H)],
        ),
        ticket(
            7,
            1,
            vec![clock(FirstReplyTime, at("2026-04-01T10:00:00Z"), H)],
        ),
        // Still open at the end of March: listed as open.
        ticket(8, 1, vec![clock(AgentWorkTime, mar("31T20:00:00"), 24 * H)]),
    ];
    let window = ForceMajeure {
        id: 9,
        kind: ForceMajeureKind::ExtremeWeather,
        description: "Blizzard".into(),
        starts_at: mar("20T00:00:00"),
        ends_at: mar("21T00:00:00"),
        created_by: 1,
        created_at: 0,
    };
    let r = report(
        "2026-03",
        at("2026-06-01T00:00:00Z"),
        &[ent],
        &tickets,
        std::slice::from_ref(&window),
    );
    assert_eq!(r.as_of, "2026-04-01T00:00:00Z");
    assert_eq!(r.quarter, "2026-Q1");
    let a = &r.accounts[0];
    assert_eq!(a.period.kind, PeriodKind::Month);
    assert_eq!(a.period.start, "2026-03-01T00:00:00Z");
    assert_eq!(
        outcomes(a),
        vec![
            (1, FirstReplyTime, Outcome::Missed),
            (1, AgentWorkTime, Outcome::Met),
            (2, FirstReplyTime, Outcome::Missed),
            (3, FirstReplyTime, Outcome::Excluded),
            (4, FirstReplyTime, Outcome::Waived),
            (5, PausableUpdateTime, Outcome::Met),
            (8, AgentWorkTime, Outcome::Open),
        ]
    );
    let l = &a.metrics[0];
    assert_eq!(l.breached_at.as_deref(), Some("2026-03-02T11:00:00Z"));
    assert_eq!(l.fulfilled_at.as_deref(), Some("2026-03-02T12:00:00Z"));
    assert_eq!(l.miss_kind, Some(MissKind::Response));
    assert_eq!(a.metrics[4].force_majeure_id, Some(9));
    assert_eq!(
        a.metrics[3].exclusion,
        Some(ExclusionReason::ThirdPartyIntegration)
    );
    assert_eq!(a.exclusions.len(), 1);
    assert_eq!(a.exclusions[0].ticket_id, 3);

    let ach = &a.achievement;
    assert_eq!(
        (
            ach.metrics,
            ach.met,
            ach.missed,
            ach.excluded,
            ach.waived,
            ach.open
        ),
        (7, 2, 2, 1, 1, 1)
    );
    assert_eq!(ach.achievement_bp, Some(5_000));
    assert_eq!(ach.target_bp, Some(9_950));
    assert_eq!(ach.meets_target, Some(false));

    assert_eq!(a.credits.len(), 1);
    let c = &a.credits[0].credit;
    assert_eq!((c.misses, c.sum_bp, c.percent_bp), (2, 1_000, 1_500));
    assert_eq!(a.month_credit_cents, 150_000);
    assert_eq!(a.credit_cents, 150_000);
    // February's miss counts for the quarter: 3 misses → executive review.
    assert_eq!(a.quarter.misses, 3);
    assert_eq!(a.quarter.action, Some(QuarterAction::ExecutiveReview));

    let t = &r.portfolio.tiers[0];
    assert_eq!(
        (t.tier, t.accounts, t.accounts_below_target),
        (Tier::Enterprise, 1, 1)
    );
    assert_eq!(t.accounts_with_quarter_action, 1);
    assert_eq!(r.portfolio.month_credit_cents, 150_000);
    assert_eq!(r.force_majeure.len(), 1);
    assert_eq!(r.force_majeure[0].waived, 1);
}

#[test]
fn periodic_update_misses_are_reported_not_credited() {
    let start = at("2026-05-04T10:00:00Z");
    let tickets = vec![ticket(
        1,
        1,
        vec![clock(Metric::PausableUpdateTime, start, H)],
    )];
    let r = report(
        "2026-05",
        at("2026-07-01T00:00:00Z"),
        &[account(1, Tier::MidMarket, 5_000)],
        &tickets,
        &[],
    );
    let a = &r.accounts[0];
    assert_eq!(a.achievement.missed, 1);
    assert_eq!(a.achievement.credited_misses, 0);
    assert_eq!(a.metrics[0].miss_kind, None);
    assert_eq!(a.month_credit_cents, 0);
    assert_eq!(a.quarter.misses, 0);
}

#[test]
fn starter_is_reported_for_the_quarter_to_date_with_monthly_credits() {
    use Metric::*;
    let tickets = vec![
        // January: a resolution miss, then a response miss → 2 % (first only).
        ticket(
            1,
            7,
            vec![clock(AgentWorkTime, at("2026-01-05T00:00:00Z"), H)],
        ),
        ticket(
            2,
            7,
            vec![clock(FirstReplyTime, at("2026-01-06T00:00:00Z"), H)],
        ),
        // February: nothing missed.
        ticket(
            3,
            7,
            vec![done(
                FirstReplyTime,
                at("2026-02-02T00:00:00Z"),
                H,
                at("2026-02-02T00:10:00Z"),
            )],
        ),
        // March: a response miss → 1 %.
        ticket(
            4,
            7,
            vec![clock(FirstReplyTime, at("2026-03-03T00:00:00Z"), H)],
        ),
    ];
    let starter = account(7, Tier::Starter, 1_000); // $1,000 a month
    let r = report(
        "2026-03",
        at("2026-04-02T00:00:00Z"),
        std::slice::from_ref(&starter),
        &tickets,
        &[],
    );
    let a = &r.accounts[0];
    assert_eq!(a.period.kind, PeriodKind::QuarterToDate);
    assert_eq!(a.period.start, "2026-01-01T00:00:00Z");
    assert_eq!(a.period.end, "2026-04-01T00:00:00Z");
    assert_eq!(a.metrics.len(), 4);
    let per_month: Vec<(&str, usize, i64, i64)> = a
        .credits
        .iter()
        .map(|c| {
            (
                c.month.as_str(),
                c.credit.misses,
                c.credit.percent_bp,
                c.credit.amount_cents,
            )
        })
        .collect();
    assert_eq!(
        per_month,
        vec![
            ("2026-01", 2, 200, 2_000),
            ("2026-02", 0, 0, 0),
            ("2026-03", 1, 100, 1_000),
        ]
    );
    assert_eq!(a.credit_cents, 3_000);
    assert_eq!(a.month_credit_cents, 1_000);
    assert_eq!(a.quarter.misses, 3);
    assert_eq!(a.quarter.action, None, "Starter has no quarter rule");
    assert_eq!(a.achievement.achievement_bp, Some(2_500));
    assert_eq!(a.achievement.target_bp, Some(9_500));

    // Asked for January, the quarter to date is January alone.
    let r = report(
        "2026-01",
        at("2026-04-02T00:00:00Z"),
        &[starter],
        &tickets,
        &[],
    );
    assert_eq!(r.accounts[0].credits.len(), 1);
    assert_eq!(r.accounts[0].metrics.len(), 2);
}

#[test]
fn a_month_not_over_is_evaluated_as_of_now() {
    // Opened an hour before "now" with a 2 h target: open, not missed.
    let now = at("2026-03-15T12:00:00Z");
    let tickets = vec![
        ticket(1, 1, vec![clock(Metric::FirstReplyTime, now - H, 2 * H)]),
        ticket(2, 1, vec![clock(Metric::FirstReplyTime, now + H, 2 * H)]),
    ];
    let r = report(
        "2026-03",
        now,
        &[account(1, Tier::Enterprise, 1)],
        &tickets,
        &[],
    );
    assert_eq!(r.as_of, "2026-03-15T12:00:00Z");
    let a = &r.accounts[0];
    assert_eq!(
        outcomes(a),
        vec![(1, Metric::FirstReplyTime, Outcome::Open)]
    );
    assert_eq!(a.achievement.achievement_bp, None);
    assert_eq!(
        a.achievement.meets_target,
        Some(true),
        "nothing counted, nothing missed"
    );
    // Later the same clock has breached.
    let r = report(
        "2026-03",
        now + 2 * H,
        &[account(1, Tier::Enterprise, 1)],
        &tickets,
        &[],
    );
    assert_eq!(r.accounts[0].achievement.missed, 1);
}

#[test]
fn accounts_without_metrics_are_left_out_unless_asked_for() {
    let accounts = [
        account(1, Tier::Enterprise, 1),
        account(2, Tier::MidMarket, 1),
    ];
    let tickets = vec![ticket(
        1,
        1,
        vec![done(
            Metric::FirstReplyTime,
            at("2026-03-02T00:00:00Z"),
            H,
            at("2026-03-02T00:05:00Z"),
        )],
    )];
    let now = at("2026-05-01T00:00:00Z");
    let r = report("2026-03", now, &accounts, &tickets, &[]);
    assert_eq!(r.accounts.len(), 1);
    assert_eq!(r.accounts[0].achievement.achievement_bp, Some(10_000));
    assert_eq!(r.accounts[0].achievement.meets_target, Some(true));
    assert_eq!(r.portfolio.tiers.len(), 3);
    assert_eq!(r.portfolio.tiers[1].accounts, 0);
    assert_eq!(r.portfolio.totals.met, 1);
    assert_eq!(r.portfolio.totals.target_bp, None);
    let policies = default_policies();
    let r = build(&ReportInput {
        month: Month::parse("2026-03").unwrap(),
        now,
        accounts: &accounts[1..],
        tickets: &tickets,
        windows: &[],
        policies: &policies,
        calendars: &Cals,
        keep_empty: true,
    });
    assert_eq!(r.accounts.len(), 1);
    assert_eq!(r.accounts[0].organization_id, 2);
    assert_eq!(r.accounts[0].achievement.metrics, 0);
    assert_eq!(r.accounts[0].credits[0].credit.amount_cents, 0);
}

#[test]
fn achievement_is_compared_exactly_with_the_target() {
    // 199 met, 1 missed = 99.5 %: exactly Enterprise's target.
    let start = at("2026-03-02T00:00:00Z");
    let mut tickets: Vec<ReportTicket> = (0..199)
        .map(|i| {
            ticket(
                i,
                1,
                vec![done(Metric::FirstReplyTime, start, H, start + 60)],
            )
        })
        .collect();
    tickets.push(ticket(
        999,
        1,
        vec![clock(Metric::FirstReplyTime, start, H)],
    ));
    let now = at("2026-05-01T00:00:00Z");
    let r = report(
        "2026-03",
        now,
        &[account(1, Tier::Enterprise, 1)],
        &tickets,
        &[],
    );
    let a = &r.accounts[0].achievement;
    assert_eq!(
        (a.achievement_bp, a.meets_target),
        (Some(9_950), Some(true))
    );
    // One more miss: 199 / 201 = 99.0049… % < 99.5 %.
    tickets.push(ticket(
        1_000,
        1,
        vec![clock(Metric::FirstReplyTime, start, H)],
    ));
    let r = report(
        "2026-03",
        now,
        &[account(1, Tier::Enterprise, 1)],
        &tickets,
        &[],
    );
    let a = &r.accounts[0].achievement;
    assert_eq!(
        (a.achievement_bp, a.meets_target),
        (Some(9_900), Some(false))
    );
}

#[test]
fn reports_serialize_with_snake_case_values() {
    let start = at("2026-03-02T00:00:00Z");
    let tickets = vec![ticket(1, 1, vec![clock(Metric::AgentWorkTime, start, H)])];
    let r = report(
        "2026-03",
        at("2026-05-01T00:00:00Z"),
        &[account(1, Tier::MidMarket, 100)],
        &tickets,
        &[],
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["accounts"][0]["tier"], "mid_market");
    assert_eq!(v["accounts"][0]["metrics"][0]["outcome"], "missed");
    assert_eq!(v["accounts"][0]["metrics"][0]["miss_kind"], "resolution");
    assert_eq!(v["accounts"][0]["metrics"][0]["metric"], "agent_work_time");
    assert_eq!(v["accounts"][0]["credits"][0]["month"], "2026-03");
    assert_eq!(v["accounts"][0]["credits"][0]["percent_bp"], 500);
    assert_eq!(v["accounts"][0]["credits"][0]["rule"], "per_miss");
    assert_eq!(v["accounts"][0]["period"]["kind"], "month");
    assert!(v["accounts"][0]["metrics"][0].get("decided_at").is_none());
}
