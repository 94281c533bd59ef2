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
        row(
            "contract_final_90_days",
            "Contract in its final 90 days",
            10,
            C,
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
        row("training_below_30", "Training completion below 30 %", 15, C),
        row(
            "no_feature_usage_30_days",
            "No feature usage in 30 days",
            20,
            C,
        ),
        row(
            "many_tickets_30_days",
            "More than 5 tickets or escalations in the last 30 days",
            10,
            C,
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
        row(
            "csat_below_3",
            "Support CSAT average below 3 of 5 (last 90 days)",
            15,
            C,
        ),
        row(
            "no_business_review_180_days",
            "No business review attended in 180 days",
            5,
            C,
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
        row(
            "implementation_delayed",
            "Implementation delayed more than 2 weeks past target",
            20,
            C,
        ),
        row(
            "downtime_over_5h",
            "More than 5 h downtime in the month",
            25,
            C,
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
        row(
            "sponsor_engaged",
            "Executive sponsor engaged (call in the last 30 days)",
            -5,
            C,
        ),
        row("expansion_milestone", "Expansion milestone hit", -10, F),
        row(
            "proactive_feedback",
            "Proactive feedback or suggestions (last 90 days)",
            -5,
            C,
        ),
        row(
            "nps_dropped_20",
            "NPS dropped more than 20 points month over month",
            15,
            C,
        ),
        row(
            "billing_tickets_finance",
            "Billing tickets from finance contacts (last 30 days)",
            10,
            C,
        ),
        row(
            "bad_csat_3_tickets",
            "CSAT of 2 or less (or bad) on 3+ tickets (last 90 days)",
            15,
            C,
        ),
        row(
            "no_expansion_after_6_months",
            "No expansion discussion after 6 months as a customer",
            5,
            C,
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
