//! SLA exclusions and force-majeure events (policies.md §5): the two ways a
//! breached metric stops counting as a miss.
//!
//! - An **exclusion** is a reason a staff member records on one ticket
//!   (`ticket.sla_exclusion`). The ticket keeps its clocks and metric events
//!   for reporting, but none of its metrics is ever a miss or earns a
//!   credit. The reason applies to the whole ticket, whenever it was set:
//!   setting it after a breach excludes that breach too (that is the point
//!   of recording, say, a third-party outage found during the analysis).
//! - A **force-majeure event** is a time window `[starts_at, ends_at)`. A
//!   metric whose breach instant falls inside a window is *waived*: not a
//!   miss, for every ticket and account alike. A metric breached before the
//!   window opened, or after it closed, is an ordinary miss.
//!
//! Both are closed vocabularies with snake_case spellings, parsed once at
//! the edge. (§5's "status update every 2 hours during an event" is a
//! notification duty, not a reporting rule; it is not implemented here.)

use serde::{Deserialize, Serialize};

use crate::{ParseError, string_enum};

string_enum! {
    /// Why a ticket is excluded from SLA misses and credits (the nine
    /// reasons of policies.md §5).
    ExclusionReason, "SLA exclusion reason" {
        CustomerSystems => "customer_systems",
        ThirdPartyIntegration => "third_party_integration",
        CustomerConfigurationError => "customer_configuration_error",
        BestPracticesNotFollowed => "best_practices_not_followed",
        UnappliedSecurityPatches => "unapplied_security_patches",
        CustomerDataCentre => "customer_data_centre",
        ScheduledMaintenance => "scheduled_maintenance",
        CustomerRequestedChange => "customer_requested_change",
        PublicCloudOutage => "public_cloud_outage",
    }
}

impl ExclusionReason {
    /// The wording of policies.md §5, for reports.
    pub fn label(self) -> &'static str {
        match self {
            ExclusionReason::CustomerSystems => "customer's own systems/network",
            ExclusionReason::ThirdPartyIntegration => "third-party integration",
            ExclusionReason::CustomerConfigurationError => "customer configuration error",
            ExclusionReason::BestPracticesNotFollowed => "not following best practices",
            ExclusionReason::UnappliedSecurityPatches => "unapplied security patches",
            ExclusionReason::CustomerDataCentre => "customer data-centre issue",
            ExclusionReason::ScheduledMaintenance => {
                "scheduled maintenance announced at least 7 days ahead"
            }
            ExclusionReason::CustomerRequestedChange => "customer-requested change",
            ExclusionReason::PublicCloudOutage => "public cloud provider outage",
        }
    }
}

string_enum! {
    /// The kinds of force-majeure event of policies.md §5.
    ForceMajeureKind, "force-majeure kind" {
        NaturalDisaster => "natural_disaster",
        WarTerrorismCivilUnrest => "war_terrorism_civil_unrest",
        GovernmentAction => "government_action",
        Pandemic => "pandemic",
        ExtremeWeather => "extreme_weather",
        CyberAttack => "cyber_attack",
        SupplyChainDisruption => "supply_chain_disruption",
    }
}

impl ForceMajeureKind {
    pub fn label(self) -> &'static str {
        match self {
            ForceMajeureKind::NaturalDisaster => "natural disaster",
            ForceMajeureKind::WarTerrorismCivilUnrest => "war, terrorism or civil unrest",
            ForceMajeureKind::GovernmentAction => "government action",
            ForceMajeureKind::Pandemic => "pandemic",
            ForceMajeureKind::ExtremeWeather => "extreme weather",
            ForceMajeureKind::CyberAttack => "cyber-attack on our infrastructure",
            ForceMajeureKind::SupplyChainDisruption => "major supply-chain disruption",
        }
    }
}

/// Longest accepted description of a force-majeure event.
pub const MAX_DESCRIPTION: usize = 2_000;

/// A declared force-majeure window, `[starts_at, ends_at)` in unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForceMajeure {
    pub id: i64,
    pub kind: ForceMajeureKind,
    pub description: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// The admin who declared it.
    pub created_by: i64,
    pub created_at: i64,
}

impl ForceMajeure {
    /// Whether a breach at `t` falls inside the window.
    pub fn covers(&self, t: i64) -> bool {
        self.starts_at <= t && t < self.ends_at
    }

    /// Whether the window overlaps `[a, b)`.
    pub fn overlaps(&self, a: i64, b: i64) -> bool {
        self.starts_at < b && a < self.ends_at
    }
}

/// A force-majeure event to declare, checked: a known kind, a description,
/// and a window that ends after it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewForceMajeure {
    kind: ForceMajeureKind,
    description: String,
    starts_at: i64,
    ends_at: i64,
}

impl NewForceMajeure {
    /// Every problem is reported, keyed by field name.
    pub fn parse(
        kind: ForceMajeureKind,
        description: &str,
        starts_at: i64,
        ends_at: i64,
    ) -> Result<NewForceMajeure, Vec<(&'static str, ParseError)>> {
        let mut errors = Vec::new();
        let description = description.trim();
        if description.is_empty() {
            errors.push(("description", ParseError::new("cannot be blank")));
        } else if description.chars().count() > MAX_DESCRIPTION {
            errors.push((
                "description",
                ParseError::new(format!(
                    "is too long (at most {MAX_DESCRIPTION} characters)"
                )),
            ));
        }
        if ends_at <= starts_at {
            errors.push(("ends_at", ParseError::new("must be after starts_at")));
        }
        if errors.is_empty() {
            Ok(NewForceMajeure {
                kind,
                description: description.to_string(),
                starts_at,
                ends_at,
            })
        } else {
            Err(errors)
        }
    }

    pub fn kind(&self) -> ForceMajeureKind {
        self.kind
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn starts_at(&self) -> i64 {
        self.starts_at
    }

    pub fn ends_at(&self) -> i64 {
        self.ends_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_reasons_and_seven_kinds_round_trip() {
        assert_eq!(ExclusionReason::ALL.len(), 9);
        assert_eq!(ForceMajeureKind::ALL.len(), 7);
        for r in ExclusionReason::ALL {
            assert_eq!(ExclusionReason::parse(r.as_str()).unwrap(), *r);
            assert!(!r.label().is_empty());
        }
        for k in ForceMajeureKind::ALL {
            assert_eq!(ForceMajeureKind::parse(k.as_str()).unwrap(), *k);
            assert!(!k.label().is_empty());
        }
        let err = ExclusionReason::parse("bad_luck").unwrap_err();
        assert!(err.0.contains("third_party_integration"), "{err}");
    }

    #[test]
    fn windows_are_half_open() {
        let w = ForceMajeure {
            id: 1,
            kind: ForceMajeureKind::ExtremeWeather,
            description: "Hurricane".into(),
            starts_at: 100,
            ends_at: 200,
            created_by: 1,
            created_at: 0,
        };
        assert!(!w.covers(99));
        assert!(w.covers(100));
        assert!(w.covers(199));
        assert!(!w.covers(200));
        assert!(w.overlaps(0, 101));
        assert!(!w.overlaps(0, 100));
        assert!(!w.overlaps(200, 300));
    }

    #[test]
    fn new_windows_are_checked() {
        let ok = NewForceMajeure::parse(ForceMajeureKind::Pandemic, "  Lockdown ", 10, 20).unwrap();
        assert_eq!(ok.description(), "Lockdown");
        let errs = NewForceMajeure::parse(ForceMajeureKind::Pandemic, " ", 20, 20).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.0).collect();
        assert_eq!(fields, vec!["description", "ends_at"]);
        let long = "x".repeat(MAX_DESCRIPTION + 1);
        assert!(NewForceMajeure::parse(ForceMajeureKind::Pandemic, &long, 1, 2).is_err());
    }
}
