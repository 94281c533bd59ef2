//! Churn risk and health (policies.md §9), the pure part: the factor table
//! as data (admins change points and thresholds), the banded factors, the
//! score as a sum of named factors with their evidence, clamping, levels,
//! and the playbooks each level starts.
//!
//! A score is never a bare number: [`Score`] keeps every factor that
//! produced it, with its points and evidence, so "what caused this score
//! to go up or down?" always has an answer. Banded factors (DAU, NPS) count
//! one band only: the worst that applies.

use serde::{Deserialize, Serialize};

use crate::string_enum;

string_enum! {
    /// §9's levels: 0–20 GREEN, 21–40 YELLOW, 41–60 ORANGE, 61+ RED.
    Level, "risk level" {
        Green => "green",
        Yellow => "yellow",
        Orange => "orange",
        Red => "red",
    }
}

impl Level {
    /// The level of a (clamped) risk score.
    pub fn of(risk: u8) -> Level {
        match risk {
            0..=20 => Level::Green,
            21..=40 => Level::Yellow,
            41..=60 => Level::Orange,
            _ => Level::Red,
        }
    }

    /// GREEN → YELLOW or worse raises an alert (§9); so does any move to
    /// a worse level.
    pub fn worsened(from: Level, to: Level) -> bool {
        to > from
    }
}

string_enum! {
    /// Where a factor's truth comes from: computed from Steward's own
    /// data, or a flag a CSM sets with a note and an expiry.
    Source, "factor source" {
        Computed => "computed",
        Flag => "flag",
    }
}

/// One row of the factor table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactorDef {
    pub key: String,
    pub label: String,
    /// Points added (negative: subtracted) when the factor applies.
    pub points: i32,
    pub source: Source,
    /// For a banded factor: the band's bounds, `[from, to)` on the input
    /// (e.g. DAU % 10–30). Bands of one family share `family`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    /// The factor's tunable number, where it has one (days, count, score
    /// or percent; see [`default_factors`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub family: BandFamily,
    /// Inclusive lower bound (`None`: no lower bound).
    pub from: Option<f64>,
    /// Exclusive upper bound.
    pub to: Option<f64>,
}

string_enum! {
    /// Families of banded factors: one band per family counts.
    BandFamily, "band family" {
        Dau => "dau",
        Nps => "nps",
    }
}

fn row(key: &str, label: &str, points: i32, source: Source) -> FactorDef {
    FactorDef {
        key: key.into(),
        label: label.into(),
        points,
        source,
        band: None,
        threshold: None,
    }
}

fn tuned(key: &str, label: &str, points: i32, source: Source, threshold: f64) -> FactorDef {
    FactorDef {
        threshold: Some(threshold),
        ..row(key, label, points, source)
    }
}

fn band(
    key: &str,
    label: &str,
    points: i32,
    family: BandFamily,
    from: Option<f64>,
    to: Option<f64>,
) -> FactorDef {
    FactorDef {
        band: Some(Band { family, from, to }),
        ..row(key, label, points, Source::Computed)
    }
}

/// §9's factor table as shipped.
pub fn default_factors() -> Vec<FactorDef> {
    use Source::{Computed as C, Flag as F};
    vec![
        tuned(
            "contract_final_90_days",
            "Contract in its final 90 days",
            10,
            C,
            90.0,
        ),
        row("renewal_past_due", "Renewal past due", 25, C),
        row(
            "contract_disputed",
            "Contract disputed or in negotiation",
            30,
            F,
        ),
        row("price_increase_over_25", "Price increase over 25 %", 15, F),
        band(
            "dau_below_10",
            "DAU below 10 %",
            20,
            BandFamily::Dau,
            None,
            Some(10.0),
        ),
        band(
            "dau_10_30",
            "DAU 10–30 %",
            10,
            BandFamily::Dau,
            Some(10.0),
            Some(30.0),
        ),
        band(
            "dau_30_50",
            "DAU 30–50 %",
            5,
            BandFamily::Dau,
            Some(30.0),
            Some(50.0),
        ),
        tuned(
            "training_below_30",
            "Training completion below 30 %",
            15,
            C,
            30.0,
        ),
        row(
            "no_feature_usage_30_days",
            "No feature usage in 30 days",
            20,
            C,
        ),
        tuned(
            "many_tickets_30_days",
            "More than 5 tickets or escalations in the last 30 days",
            10,
            C,
            5.0,
        ),
        band(
            "nps_below_30",
            "NPS below 30",
            20,
            BandFamily::Nps,
            None,
            Some(30.0),
        ),
        band(
            "nps_30_50",
            "NPS 30–50",
            10,
            BandFamily::Nps,
            Some(30.0),
            Some(50.0),
        ),
        tuned(
            "csat_below_3",
            "Support CSAT average below 3 of 5 (last 90 days)",
            15,
            C,
            3.0,
        ),
        tuned(
            "no_business_review_180_days",
            "No business review attended in 180 days",
            5,
            C,
            180.0,
        ),
        row("negative_social_mention", "Negative social mention", 10, F),
        row("sponsor_departed", "Executive sponsor departed", 30, F),
        row(
            "stakeholder_departed",
            "Other key stakeholder departed",
            25,
            F,
        ),
        row("budget_cuts", "Budget cuts announced", 15, F),
        row("market_downturn", "Industry or market downturn", 10, F),
        row(
            "acquired_competitor",
            "Customer acquired a competitor",
            20,
            F,
        ),
        row(
            "merged_or_acquired",
            "Customer merged or was acquired",
            10,
            F,
        ),
        tuned(
            "implementation_delayed",
            "Implementation delayed more than 2 weeks past target",
            20,
            C,
            14.0,
        ),
        tuned(
            "downtime_over_5h",
            "More than 5 h downtime in the month",
            25,
            C,
            5.0,
        ),
        row(
            "data_quality_unresolved",
            "Data-quality issues unresolved",
            15,
            C,
        ),
        row("integration_failures", "Integration failures", 20, F),
        row("multi_year_contract", "Signed multi-year contract", -15, C),
        row("expansion_ongoing", "Expansion discussion ongoing", -10, C),
        tuned(
            "sponsor_engaged",
            "Executive sponsor engaged (call in the last 30 days)",
            -5,
            C,
            30.0,
        ),
        row("expansion_milestone", "Expansion milestone hit", -10, F),
        tuned(
            "proactive_feedback",
            "Proactive feedback or suggestions (last 90 days)",
            -5,
            C,
            90.0,
        ),
        tuned(
            "nps_dropped_20",
            "NPS dropped more than 20 points month over month",
            15,
            C,
            20.0,
        ),
        row(
            "billing_tickets_finance",
            "Billing tickets from finance contacts (last 30 days)",
            10,
            C,
        ),
        tuned(
            "bad_csat_3_tickets",
            "CSAT of 2 or less (or bad) on 3+ tickets (last 90 days)",
            15,
            C,
            3.0,
        ),
        tuned(
            "no_expansion_after_6_months",
            "No expansion discussion after 6 months as a customer",
            5,
            C,
            180.0,
        ),
        row(
            "competitor_evaluation",
            "Competitor evaluation mentioned",
            5,
            F,
        ),
    ]
}

/// The band of `family` that `value` falls in, if any.
pub fn band_for(factors: &[FactorDef], family: BandFamily, value: f64) -> Option<&FactorDef> {
    factors.iter().find(|f| {
        f.band.is_some_and(|b| {
            b.family == family
                && b.from.is_none_or(|lo| value >= lo)
                && b.to.is_none_or(|hi| value < hi)
        })
    })
}

/// A factor that applies, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub key: String,
    pub label: String,
    pub points: i32,
    pub evidence: String,
}

/// A computed score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Sum of the points before clamping.
    pub raw: i32,
    /// Clamped to 0–100.
    pub risk: u8,
    /// 100 − risk.
    pub health: u8,
    pub level: Level,
    pub factors: Vec<Applied>,
}

/// Sums the applied factors, clamps to 0–100 and finds the level.
pub fn score(factors: Vec<Applied>) -> Score {
    let raw: i32 = factors.iter().map(|f| f.points).sum();
    let risk = raw.clamp(0, 100) as u8;
    Score {
        raw,
        risk,
        health: 100 - risk,
        level: Level::of(risk),
        factors,
    }
}

/// A playbook task a level starts: what, and within how many hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaybookStep {
    pub title: &'static str,
    pub due_hours: i64,
}

/// §9's playbooks.
pub fn playbook(level: Level) -> &'static [PlaybookStep] {
    const fn s(title: &'static str, due_hours: i64) -> PlaybookStep {
        PlaybookStep { title, due_hours }
    }
    const YELLOW: &[PlaybookStep] = &[
        s("Executive check-in call", 7 * 24),
        s("Value-realization assessment", 7 * 24),
        s("Targeted adoption intervention", 7 * 24),
        s("Roadmap alignment discussion", 7 * 24),
    ];
    const ORANGE: &[PlaybookStep] = &[
        s("VP-level executive call", 24),
        s("Root-cause analysis meeting", 48),
        s("Expansion opportunity assessment", 48),
        s("Contract extension offer (renewal within 6 months)", 48),
        s("6-week intensive adoption program", 48),
    ];
    const RED: &[PlaybookStep] = &[
        s("CEO engagement", 24),
        s("Emergency war-room meeting", 24),
        s("All-hands intervention", 24),
        s("Contract rescue / renewal negotiation", 24),
        s("90-day post-rescue monitoring with weekly check-ins", 24),
    ];
    match level {
        Level::Green => &[],
        Level::Yellow => YELLOW,
        Level::Orange => ORANGE,
        Level::Red => RED,
    }
}

/// Re-entering a level within this many seconds does not repeat its
/// playbook (§9: 30 days).
pub const PLAYBOOK_QUIET_SECS: i64 = 30 * 86_400;

/// What Steward knows about an account, gathered by the store; every
/// field is the input of one or more computed factors. `None` means "no
/// data", which never counts against the account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// Days from today to the contract's end (negative once past).
    pub days_to_contract_end: Option<i64>,
    /// Days from today to the renewal date (negative once past).
    pub days_to_renewal: Option<i64>,
    /// Days since the contract started.
    pub customer_days: Option<i64>,
    /// Contract length in days.
    pub contract_days: Option<i64>,
    pub churned: bool,
    pub dau_pct: Option<f64>,
    pub training_pct: Option<f64>,
    /// Highest workflows per user per day in the last 30 days; `None` when
    /// usage was never measured.
    pub usage_30d: Option<f64>,
    pub tickets_30d: i64,
    pub escalations_30d: i64,
    pub nps: Option<f64>,
    pub nps_month_ago: Option<f64>,
    /// Average CSAT on the 1–5 scale over 90 days, with the count.
    pub csat_avg_90d: Option<(f64, i64)>,
    /// Ratings of 2 or less (or bad) in 90 days.
    pub bad_csat_90d: i64,
    /// Days since the last business review attended.
    pub days_since_review: Option<i64>,
    /// How many days the latest implementation's go-live is past target.
    pub implementation_delay_days: Option<i64>,
    /// Hours of downtime this month, from uptime measurements.
    pub downtime_hours_month: Option<f64>,
    /// A data-quality measure is red now.
    pub data_quality_red: Option<String>,
    pub open_opportunities: i64,
    pub opportunities_ever: i64,
    /// Days since the last call or meeting with the executive sponsor.
    pub days_since_sponsor_call: Option<i64>,
    pub feedback_90d: i64,
    pub billing_tickets_from_finance_30d: i64,
}

/// A CSM's flag on an account: a flag factor with a note.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub key: String,
    pub note: String,
}

/// The factors of `table` that apply to an account, each with evidence.
pub fn evaluate(table: &[FactorDef], facts: &Facts, flags: &[Flag]) -> Vec<Applied> {
    let mut out = Vec::new();
    let mut banded = std::collections::BTreeSet::new();
    for f in table {
        let t = f.threshold.unwrap_or(0.0);
        let evidence: Option<String> = if let Some(b) = f.band {
            let value = match b.family {
                BandFamily::Dau => facts.dau_pct,
                BandFamily::Nps => facts.nps,
            };
            match value {
                Some(v)
                    if !banded.contains(&b.family)
                        && band_for(table, b.family, v).map(|x| &x.key) == Some(&f.key) =>
                {
                    banded.insert(b.family);
                    Some(format!("{} is {v:.1}", b.family.as_str().to_uppercase()))
                }
                _ => None,
            }
        } else if f.source == Source::Flag {
            flags
                .iter()
                .find(|x| x.key == f.key)
                .map(|x| format!("flagged: {}", x.note))
        } else {
            computed(&f.key, t, facts)
        };
        if let Some(evidence) = evidence {
            out.push(Applied {
                key: f.key.clone(),
                label: f.label.clone(),
                points: f.points,
                evidence,
            });
        }
    }
    // A flag whose key is a computed factor counts too (a CSM knows better
    // than missing data), unless the factor already applies.
    for x in flags {
        if let Some(f) = table
            .iter()
            .find(|f| f.key == x.key && f.source == Source::Computed)
            && !out.iter().any(|a| a.key == x.key)
        {
            out.push(Applied {
                key: f.key.clone(),
                label: f.label.clone(),
                points: f.points,
                evidence: format!("flagged: {}", x.note),
            });
        }
    }
    out
}

fn computed(key: &str, t: f64, f: &Facts) -> Option<String> {
    let days = t as i64;
    match key {
        "contract_final_90_days" => f
            .days_to_contract_end
            .filter(|d| (0..=days).contains(d))
            .map(|d| format!("the contract ends in {d} days")),
        "renewal_past_due" => f
            .days_to_renewal
            .filter(|d| *d < 0 && !f.churned)
            .map(|d| format!("the renewal date passed {} days ago", -d)),
        "training_below_30" => f
            .training_pct
            .filter(|v| *v < t)
            .map(|v| format!("training completion is {v:.1} %")),
        "no_feature_usage_30_days" => f
            .usage_30d
            .filter(|v| *v <= 0.0)
            .map(|_| "no workflows used in the last 30 days".to_string()),
        "many_tickets_30_days" => {
            let n = f.tickets_30d + f.escalations_30d;
            (n as f64 > t).then(|| {
                format!(
                    "{} tickets and {} escalations in the last 30 days",
                    f.tickets_30d, f.escalations_30d
                )
            })
        }
        "csat_below_3" => f
            .csat_avg_90d
            .filter(|(avg, _)| *avg < t)
            .map(|(avg, n)| format!("CSAT averages {avg:.2} of 5 over {n} ratings")),
        "no_business_review_180_days" => match (f.days_since_review, f.customer_days) {
            (Some(d), _) if d > days => Some(format!("the last business review was {d} days ago")),
            (None, Some(c)) if c > days => {
                Some(format!("no business review in {c} days as a customer"))
            }
            _ => None,
        },
        "implementation_delayed" => f
            .implementation_delay_days
            .filter(|d| *d > days)
            .map(|d| format!("go-live is {d} days past target")),
        "downtime_over_5h" => f
            .downtime_hours_month
            .filter(|h| *h > t)
            .map(|h| format!("{h:.1} h of downtime this month")),
        "data_quality_unresolved" => f.data_quality_red.clone(),
        "multi_year_contract" => f
            .contract_days
            .filter(|d| *d > 400)
            .map(|d| format!("a {:.1}-year contract", d as f64 / 365.0)),
        "expansion_ongoing" => (f.open_opportunities > 0)
            .then(|| format!("{} open expansion opportunities", f.open_opportunities)),
        "sponsor_engaged" => f
            .days_since_sponsor_call
            .filter(|d| *d <= days)
            .map(|d| format!("a call with the executive sponsor {d} days ago")),
        "proactive_feedback" => (f.feedback_90d > 0)
            .then(|| format!("{} feedback items in the last {days} days", f.feedback_90d)),
        "nps_dropped_20" => match (f.nps, f.nps_month_ago) {
            (Some(now), Some(before)) if before - now > t => {
                Some(format!("NPS fell from {before:.0} to {now:.0}"))
            }
            _ => None,
        },
        "billing_tickets_finance" => (f.billing_tickets_from_finance_30d > 0).then(|| {
            format!(
                "{} billing tickets from finance contacts in the last 30 days",
                f.billing_tickets_from_finance_30d
            )
        }),
        "bad_csat_3_tickets" => (f.bad_csat_90d as f64 >= t).then(|| {
            format!(
                "{} tickets rated 2 or less (or bad) in 90 days",
                f.bad_csat_90d
            )
        }),
        "no_expansion_after_6_months" => match f.customer_days {
            Some(c) if c > days && f.opportunities_ever == 0 => {
                Some(format!("no expansion discussed in {c} days as a customer"))
            }
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(points: i32) -> Applied {
        Applied {
            key: format!("f{points}"),
            label: String::new(),
            points,
            evidence: String::new(),
        }
    }

    #[test]
    fn level_boundaries() {
        for (risk, level) in [
            (0, Level::Green),
            (20, Level::Green),
            (21, Level::Yellow),
            (40, Level::Yellow),
            (41, Level::Orange),
            (60, Level::Orange),
            (61, Level::Red),
            (100, Level::Red),
        ] {
            assert_eq!(Level::of(risk), level, "risk {risk}");
        }
    }

    #[test]
    fn scores_clamp_and_explain() {
        let s = score(vec![applied(-15), applied(-10)]);
        assert_eq!(
            (s.raw, s.risk, s.health, s.level),
            (-25, 0, 100, Level::Green)
        );
        let s = score(vec![applied(30), applied(30), applied(25), applied(25)]);
        assert_eq!(
            (s.raw, s.risk, s.health, s.level),
            (110, 100, 0, Level::Red)
        );
        let s = score(vec![applied(25), applied(10), applied(-5)]);
        assert_eq!((s.risk, s.health, s.level), (30, 70, Level::Yellow));
        assert_eq!(s.factors.len(), 3, "every factor is kept");
    }

    #[test]
    fn one_band_per_family() {
        let f = default_factors();
        let key = |fam, v| band_for(&f, fam, v).map(|b| b.key.as_str());
        assert_eq!(key(BandFamily::Dau, 5.0), Some("dau_below_10"));
        assert_eq!(key(BandFamily::Dau, 10.0), Some("dau_10_30"));
        assert_eq!(key(BandFamily::Dau, 49.9), Some("dau_30_50"));
        assert_eq!(key(BandFamily::Dau, 50.0), None);
        assert_eq!(key(BandFamily::Nps, -20.0), Some("nps_below_30"));
        assert_eq!(key(BandFamily::Nps, 30.0), Some("nps_30_50"));
        assert_eq!(key(BandFamily::Nps, 50.0), None);
    }

    fn keys(a: &[Applied]) -> Vec<&str> {
        a.iter().map(|x| x.key.as_str()).collect()
    }

    #[test]
    fn each_computed_factor_reproduces() {
        let t = default_factors();
        let none = evaluate(&t, &Facts::default(), &[]);
        assert!(none.is_empty(), "no data counts against nobody: {none:?}");
        let cases: Vec<(Facts, &str)> = vec![
            (
                Facts {
                    days_to_contract_end: Some(90),
                    ..Default::default()
                },
                "contract_final_90_days",
            ),
            (
                Facts {
                    days_to_renewal: Some(-1),
                    ..Default::default()
                },
                "renewal_past_due",
            ),
            (
                Facts {
                    dau_pct: Some(9.9),
                    ..Default::default()
                },
                "dau_below_10",
            ),
            (
                Facts {
                    dau_pct: Some(29.9),
                    ..Default::default()
                },
                "dau_10_30",
            ),
            (
                Facts {
                    dau_pct: Some(30.0),
                    ..Default::default()
                },
                "dau_30_50",
            ),
            (
                Facts {
                    training_pct: Some(29.0),
                    ..Default::default()
                },
                "training_below_30",
            ),
            (
                Facts {
                    usage_30d: Some(0.0),
                    ..Default::default()
                },
                "no_feature_usage_30_days",
            ),
            (
                Facts {
                    tickets_30d: 4,
                    escalations_30d: 2,
                    ..Default::default()
                },
                "many_tickets_30_days",
            ),
            (
                Facts {
                    nps: Some(29.0),
                    ..Default::default()
                },
                "nps_below_30",
            ),
            (
                Facts {
                    nps: Some(49.0),
                    ..Default::default()
                },
                "nps_30_50",
            ),
            (
                Facts {
                    csat_avg_90d: Some((2.9, 4)),
                    ..Default::default()
                },
                "csat_below_3",
            ),
            (
                Facts {
                    days_since_review: Some(181),
                    ..Default::default()
                },
                "no_business_review_180_days",
            ),
            (
                Facts {
                    implementation_delay_days: Some(15),
                    ..Default::default()
                },
                "implementation_delayed",
            ),
            (
                Facts {
                    downtime_hours_month: Some(5.5),
                    ..Default::default()
                },
                "downtime_over_5h",
            ),
            (
                Facts {
                    data_quality_red: Some("validation 90 %".into()),
                    ..Default::default()
                },
                "data_quality_unresolved",
            ),
            (
                Facts {
                    contract_days: Some(1095),
                    ..Default::default()
                },
                "multi_year_contract",
            ),
            (
                Facts {
                    open_opportunities: 1,
                    opportunities_ever: 1,
                    ..Default::default()
                },
                "expansion_ongoing",
            ),
            (
                Facts {
                    days_since_sponsor_call: Some(30),
                    ..Default::default()
                },
                "sponsor_engaged",
            ),
            (
                Facts {
                    feedback_90d: 2,
                    ..Default::default()
                },
                "proactive_feedback",
            ),
            (
                Facts {
                    nps: Some(60.0),
                    nps_month_ago: Some(81.0),
                    ..Default::default()
                },
                "nps_dropped_20",
            ),
            (
                Facts {
                    billing_tickets_from_finance_30d: 1,
                    ..Default::default()
                },
                "billing_tickets_finance",
            ),
            (
                Facts {
                    bad_csat_90d: 3,
                    ..Default::default()
                },
                "bad_csat_3_tickets",
            ),
            (
                Facts {
                    customer_days: Some(181),
                    ..Default::default()
                },
                "no_expansion_after_6_months",
            ),
        ];
        for (facts, key) in cases {
            let applied = evaluate(&t, &facts, &[]);
            assert!(keys(&applied).contains(&key), "{key}: {applied:?}");
            assert!(applied.iter().all(|a| !a.evidence.is_empty()));
        }
        // Edges that do not count.
        for facts in [
            Facts {
                days_to_contract_end: Some(91),
                ..Default::default()
            },
            Facts {
                dau_pct: Some(50.0),
                ..Default::default()
            },
            Facts {
                tickets_30d: 5,
                ..Default::default()
            },
            Facts {
                implementation_delay_days: Some(14),
                ..Default::default()
            },
            Facts {
                nps: Some(61.0),
                nps_month_ago: Some(81.0),
                ..Default::default()
            },
            Facts {
                days_to_renewal: Some(-5),
                churned: true,
                ..Default::default()
            },
        ] {
            assert_eq!(evaluate(&t, &facts, &[]), vec![], "{facts:?}");
        }
    }

    #[test]
    fn flags_count_with_their_note_and_tuning_changes_the_rule() {
        let mut t = default_factors();
        let flags = [Flag {
            key: "sponsor_departed".into(),
            note: "Ana left in May".into(),
        }];
        let a = evaluate(&t, &Facts::default(), &flags);
        assert_eq!(a[0].points, 30);
        assert_eq!(a[0].evidence, "flagged: Ana left in May");
        // An admin halves the points and tightens the ticket threshold.
        for f in &mut t {
            if f.key == "sponsor_departed" {
                f.points = 15;
            }
            if f.key == "many_tickets_30_days" {
                f.threshold = Some(2.0);
            }
        }
        let facts = Facts {
            tickets_30d: 3,
            ..Default::default()
        };
        let s = score(evaluate(&t, &facts, &flags));
        assert_eq!(s.risk, 25);
        assert_eq!(s.level, Level::Yellow);
    }

    #[test]
    fn the_policys_sanity_examples() {
        let t = default_factors();
        // New, highly adopted, engaged: around 5, GREEN.
        let new = Facts {
            customer_days: Some(60),
            dau_pct: Some(72.0),
            training_pct: Some(90.0),
            contract_days: Some(365),
            days_since_sponsor_call: Some(10),
            nps: Some(45.0),
            ..Default::default()
        };
        let s = score(evaluate(&t, &new, &[]));
        assert_eq!(s.level, Level::Green, "{s:?}");
        // 6 months in, adoption declining, no expansion: around 35, YELLOW.
        let drifting = Facts {
            customer_days: Some(190),
            dau_pct: Some(25.0),
            nps: Some(42.0),
            days_since_review: Some(200),
            ..Default::default()
        };
        let s = score(evaluate(
            &t,
            &drifting,
            &[Flag {
                key: "competitor_evaluation".into(),
                note: "mentioned on a call".into(),
            }],
        ));
        assert_eq!(s.level, Level::Yellow, "{s:?}");
        // Renewal in 60 days, low satisfaction, budget concerns: around 50, ORANGE.
        let renewal = Facts {
            customer_days: Some(300),
            days_to_contract_end: Some(60),
            csat_avg_90d: Some((2.6, 9)),
            nps: Some(35.0),
            ..Default::default()
        };
        let s = score(evaluate(
            &t,
            &renewal,
            &[Flag {
                key: "budget_cuts".into(),
                note: "CFO memo".into(),
            }],
        ));
        assert_eq!(s.level, Level::Orange, "{s:?}");
        // Operational issues, key stakeholder leaving, renewal at risk: around 75, RED.
        let red = Facts {
            customer_days: Some(400),
            days_to_contract_end: Some(45),
            downtime_hours_month: Some(7.0),
            tickets_30d: 9,
            open_opportunities: 0,
            opportunities_ever: 1,
            days_since_review: Some(30),
            ..Default::default()
        };
        let s = score(evaluate(
            &t,
            &red,
            &[Flag {
                key: "stakeholder_departed".into(),
                note: "CTO resigned".into(),
            }],
        ));
        assert_eq!((s.risk, s.level), (70, Level::Red), "{s:?}");
    }

    #[test]
    fn the_table_matches_the_policy() {
        let f = default_factors();
        assert_eq!(f.len(), 35);
        let total_negative: i32 = f.iter().filter(|x| x.points < 0).map(|x| x.points).sum();
        assert_eq!(total_negative, -45);
        let mut keys: Vec<&str> = f.iter().map(|x| x.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), f.len(), "keys are unique");
        assert!(Level::worsened(Level::Green, Level::Yellow));
        assert!(!Level::worsened(Level::Red, Level::Orange));
        assert_eq!(playbook(Level::Yellow).len(), 4);
        assert_eq!(playbook(Level::Red)[0].due_hours, 24);
    }
}
