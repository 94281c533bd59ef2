//! Steward's pure domain: the typed values every other crate trusts, and the
//! rules of `shared/spec/policies.md` that need no I/O.
//!
//! Everything here is parsed once at the edge (HTTP, CLI, CSV) and then
//! trusted: a [`Priority`] cannot hold an unknown value, an [`Email`] is
//! always lower-cased and plausible, money is integer cents. Time is always
//! an argument (`now: Timestamp`), never read from the wall clock here.

pub mod account;
pub mod automation;
pub mod cab;
pub mod calendar;
pub mod credits;
pub mod csat;
pub mod escalation;
pub mod exclusions;
pub mod feedback;
pub mod health;
pub mod hub;
pub mod kb;
pub mod metrics;
pub mod nps;
pub mod project;
pub mod pulse;
pub mod search;
pub mod sla;
pub mod sla_report;
pub mod status_report;
pub mod survey;
pub mod task;
pub mod templates;
pub mod ticket;
pub mod time;
pub mod user;

pub use account::{AccountStatus, CompanySize, Industry, Money, Region, Tier};
pub use calendar::{Calendar, CalendarDef, CalendarError};
pub use exclusions::{ExclusionReason, ForceMajeureKind};
pub use ticket::{Priority, Status, TicketType, Via};
pub use user::{Email, Role};

/// A value that failed to parse, with a message fit for an API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// Declares a closed set of string-valued variants with `parse` / `as_str`
/// so that enums exchanged with clients and the database share one spelling.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Result<Self, $crate::ParseError> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::ParseError::new(format!(
                        "{} is not a valid {} (expected one of: {})",
                        other, $what, [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_enum;
