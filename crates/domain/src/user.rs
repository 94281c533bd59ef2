//! People (policies.md §8): the six roles and e-mail addresses.

use crate::{ParseError, string_enum};

string_enum! {
    /// Steward's roles. Zendesk knows only `admin`, `agent` and `end-user`;
    /// [`Role::zendesk_role`] maps ours onto those for Zendesk clients.
    Role, "role" {
        Admin => "admin",
        Csm => "csm",
        Agent => "agent",
        Contractor => "contractor",
        Viewer => "viewer",
        EndUser => "end-user",
    }
}

impl Role {
    pub fn is_staff(self) -> bool {
        self != Role::EndUser
    }

    /// The role as a Zendesk client expects to see it.
    pub fn zendesk_role(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::EndUser => "end-user",
            _ => "agent",
        }
    }

    /// Contractors never see billing or contract fields (policies.md §8).
    pub fn sees_commercials(self) -> bool {
        !matches!(self, Role::Contractor | Role::EndUser)
    }

    /// Viewers (executives) read everything and change nothing.
    pub fn can_write(self) -> bool {
        self != Role::Viewer
    }
}

/// An e-mail address, trimmed and lower-cased, with one `@`, a non-empty
/// local part and a dotted domain. Deliverability is not our concern here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, ParseError> {
        let s = s.trim().to_lowercase();
        let bad = || ParseError::new(format!("{s} is not a valid email address"));
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let valid = !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if valid { Ok(Email(s)) } else { Err(bad()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse(" Ana@Acme.COM ").unwrap().as_str(),
            "ana@acme.com"
        );
        assert_eq!(Email::parse("ana@acme.com").unwrap().domain(), "acme.com");
        for bad in [
            "",
            "ana",
            "@acme.com",
            "ana@acme",
            "a@b@c.com",
            "a b@c.com",
            "ana@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn roles_map_to_zendesk() {
        assert_eq!(Role::Csm.zendesk_role(), "agent");
        assert_eq!(Role::EndUser.zendesk_role(), "end-user");
        assert!(!Role::Contractor.sees_commercials());
        assert!(!Role::Viewer.can_write());
    }
}
