use jiff::civil::date;

use super::*;
use crate::CalendarDef;

fn business_with(holidays: &[Date]) -> Calendar {
    Calendar::builtin("business")
        .expect("business calendar")
        .with_holidays(holidays)
}

#[test]
fn the_shipped_template_is_valid_and_matches_the_policy() {
    let t = thirty_day();
    assert_eq!(t.validate(), Ok(()));
    assert_eq!(t.days, 30);
    assert_eq!(t.phases.len(), 6);
    let days: Vec<(u32, u32)> = t.phases.iter().map(|p| (p.first_day, p.last_day)).collect();
    assert_eq!(
        days,
        [(1, 3), (4, 8), (9, 14), (15, 22), (23, 25), (26, 30)]
    );
    let milestone_days: Vec<u32> = t.milestones.iter().map(|m| m.day).collect();
    assert_eq!(
        milestone_days,
        [
            1, 2, 3, 5, 7, 8, 9, 11, 13, 14, 15, 19, 21, 22, 23, 24, 25, 27, 29, 30
        ]
    );
    assert_eq!(t.checklist.len(), 7);
    assert_eq!(
        t.handoffs.iter().map(|h| h.day).collect::<Vec<_>>(),
        [4, 10, 30]
    );
    assert_eq!(t.success_criteria.len(), 6);
}

#[test]
fn budget_splits_450_and_600_hours_by_role_and_phase() {
    let t = thirty_day();
    let lines = t.budget();
    let side_total =
        |s: Side| -> f64 { lines.iter().filter(|l| l.side == s).map(|l| l.hours).sum() };
    assert!((side_total(Side::Customer) - 450.0).abs() < 0.5);
    assert!((side_total(Side::Vendor) - 600.0).abs() < 0.5);
    // Project lead: 20 of 75 customer hours a week = 120 h, phase 1 is 3 of 30 days.
    let lead_p1 = lines
        .iter()
        .find(|l| l.role == "project_lead" && l.phase == 1)
        .map(|l| l.hours);
    assert_eq!(lead_p1, Some(12.0));
}

#[test]
fn working_days_skip_weekends_and_holidays() {
    // Friday 2026-12-18 start; 25 Dec (Fri) and 1 Jan (Fri) are holidays.
    let cal = business_with(&[date(2026, 12, 25), date(2027, 1, 1)]);
    let days = working_days(&cal, date(2026, 12, 18), 30);
    assert_eq!(days[0], date(2026, 12, 18)); // day 1: the start itself
    assert_eq!(days[1], date(2026, 12, 21)); // day 2: Monday after the weekend
    assert_eq!(days[5], date(2026, 12, 28)); // 22,23,24 then skip 25 (holiday) + weekend
    assert_eq!(days[9], date(2027, 1, 4)); // 29,30,31, skip 1 Jan + weekend
    assert!(days.iter().all(|d| cal.is_working_day(*d)));
    assert_eq!(days[29], date(2027, 2, 1));
    // A start on a Saturday begins on Monday.
    let days = working_days(&cal, date(2026, 11, 28), 2);
    assert_eq!(days, [date(2026, 11, 30), date(2026, 12, 1)]);
    // day_number counts working days up to a date.
    let days = working_days(&cal, date(2026, 12, 18), 30);
    assert_eq!(day_number(&days, date(2026, 12, 17)), 0);
    assert_eq!(day_number(&days, date(2026, 12, 18)), 1);
    assert_eq!(day_number(&days, date(2026, 12, 20)), 1); // Sunday: still day 1
    assert_eq!(day_number(&days, date(2026, 12, 25)), 5);
    assert_eq!(day_number(&days, date(2027, 6, 1)), 30);
}

#[test]
fn working_days_follow_the_calendars_week() {
    // A calendar open Sunday to Thursday.
    let def: CalendarDef = serde_json::from_value(serde_json::json!({
        "name": "gulf", "zone": "Asia/Dubai",
        "hours": {"sun": ["09:00-17:00"], "mon": ["09:00-17:00"], "tue": ["09:00-17:00"],
                  "wed": ["09:00-17:00"], "thu": ["09:00-17:00"]}
    }))
    .expect("def");
    let cal = Calendar::from_def(&def).expect("calendar");
    let days = working_days(&cal, date(2026, 11, 26), 3); // Thursday
    assert_eq!(
        days,
        [date(2026, 11, 26), date(2026, 11, 29), date(2026, 11, 30)]
    );
}

#[test]
fn cycles_are_found_with_their_path() {
    assert_eq!(find_cycle::<i64>(&[]), None);
    assert_eq!(find_cycle(&[(2, 1), (3, 2), (3, 1)]), None);
    let cycle = find_cycle(&[(1, 2), (2, 3), (3, 1), (4, 1)]).expect("cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
    assert_eq!(find_cycle(&[(5, 5)]), Some(vec![5, 5]));
    // A diamond is not a cycle.
    assert_eq!(find_cycle(&[(4, 2), (4, 3), (2, 1), (3, 1)]), None);
}

#[test]
fn a_template_with_a_cycle_is_rejected() {
    let mut t = thirty_day();
    t.tasks[0].depends_on = vec!["review".into()];
    let errors = t.validate().expect_err("cycle");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("tasks: dependency cycle")),
        "{errors:?}"
    );
    let mut t = thirty_day();
    t.milestones[0].day = 31;
    t.tasks[1].depends_on.push("nope".into());
    t.phases[1].first_day = 5;
    let errors = t.validate().expect_err("invalid");
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn risk_scores_and_rag() {
    use Likelihood::*;
    let cases = [
        (Low, Low, 1, Rag::Green),
        (Low, Medium, 2, Rag::Green),
        (High, Low, 3, Rag::Yellow),
        (Medium, Medium, 4, Rag::Yellow),
        (Medium, High, 6, Rag::Red),
        (High, High, 9, Rag::Red),
    ];
    for (p, i, score, rag) in cases {
        assert_eq!(risk_score(p, i), score);
        assert_eq!(risk_score(i, p), score);
        assert_eq!(risk_rag(score), rag, "score {score}");
    }
}

#[test]
fn decision_levels_follow_the_thresholds() {
    let level = |t: i64, s: f64, b: f64| {
        required_level(DecisionImpact {
            timeline_days: t,
            scope_pct: s,
            budget_overrun_pct: b,
        })
        .0
    };
    assert_eq!(level(0, 0.0, 0.0), DecisionLevel::L1);
    assert_eq!(level(2, 0.0, 0.0), DecisionLevel::L1);
    assert_eq!(level(3, 0.0, 0.0), DecisionLevel::L2);
    assert_eq!(level(7, 0.0, 0.0), DecisionLevel::L2);
    assert_eq!(level(8, 0.0, 0.0), DecisionLevel::L3);
    assert_eq!(level(0, 5.0, 0.0), DecisionLevel::L2);
    assert_eq!(level(0, 19.9, 0.0), DecisionLevel::L2);
    assert_eq!(level(0, 20.0, 0.0), DecisionLevel::L3);
    assert_eq!(level(0, 0.0, 10.0), DecisionLevel::L2);
    assert_eq!(level(0, 0.0, 10.5), DecisionLevel::L3);
    let (_, why) = required_level(DecisionImpact {
        timeline_days: 9,
        ..Default::default()
    });
    assert!(why.contains("over 1 week"), "{why}");
    assert!(DecisionLevel::L1 < DecisionLevel::L3);
    assert_eq!(DecisionLevel::parse("l2"), Ok(DecisionLevel::L2));
    assert!(DecisionLevel::parse("L4").is_err());
}

#[test]
fn timeline_health_rules() {
    let base = TimelineFacts {
        day: 15,
        total_days: 30,
        completion_pct: 40.0,
        overdue_milestones: 0,
        critical_at_risk: 0,
        go_live_moved: false,
    };
    assert_eq!(planned_pct(15, 30), 50.0);
    // Exactly 10 points behind is still on track.
    assert_eq!(timeline_health(&base), Health::OnTrack);
    let behind = TimelineFacts {
        completion_pct: 39.9,
        ..base.clone()
    };
    assert_eq!(timeline_health(&behind), Health::AtRisk);
    let overdue = TimelineFacts {
        overdue_milestones: 1,
        ..base.clone()
    };
    assert_eq!(timeline_health(&overdue), Health::AtRisk);
    let critical = TimelineFacts {
        critical_at_risk: 1,
        ..base.clone()
    };
    assert_eq!(timeline_health(&critical), Health::AtRisk);
    let moved = TimelineFacts {
        go_live_moved: true,
        completion_pct: 90.0,
        ..base.clone()
    };
    assert_eq!(timeline_health(&moved), Health::Delayed);
    assert_eq!(Health::Delayed.report_colour(), "RED");
    assert_eq!(planned_pct(0, 30), 0.0);
    assert_eq!(planned_pct(45, 30), 100.0);
    assert_eq!(pct(1, 3), 33.3);
    assert_eq!(pct(0, 0), 0.0);
}
