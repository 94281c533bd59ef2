//! Ticket vocabulary (policies.md §3): priorities with their Zendesk
//! spellings, the Zendesk status lifecycle, ticket types and channels.

use crate::string_enum;

string_enum! {
    /// Severity. Steward's P0–P3 are Zendesk's urgent/high/normal/low
    /// (policies.md §3). Ordered from least to most severe so that
    /// `priority>normal` in search means "high or urgent", as in Zendesk.
    Priority, "priority" {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
}

impl Priority {
    /// The playbook's name for this priority: P0 (urgent) .. P3 (low).
    pub fn code(self) -> &'static str {
        match self {
            Priority::Urgent => "P0",
            Priority::High => "P1",
            Priority::Normal => "P2",
            Priority::Low => "P3",
        }
    }

    /// Accepts the Zendesk value or the playbook code (`P0`..`P3`).
    pub fn parse_any(s: &str) -> Result<Self, crate::ParseError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "P0" => Ok(Priority::Urgent),
            "P1" => Ok(Priority::High),
            "P2" => Ok(Priority::Normal),
            "P3" => Ok(Priority::Low),
            _ => Priority::parse(s),
        }
    }
}

string_enum! {
    /// The Zendesk status lifecycle, ordered as Zendesk orders it for
    /// `status<solved` style searches.
    Status, "status" {
        New => "new",
        Open => "open",
        Pending => "pending",
        Hold => "hold",
        Solved => "solved",
        Closed => "closed",
    }
}

impl Status {
    /// Solved and closed tickets are done; everything else is unsolved.
    pub fn is_unsolved(self) -> bool {
        !matches!(self, Status::Solved | Status::Closed)
    }
}

string_enum! {
    TicketType, "ticket type" {
        Question => "question",
        Incident => "incident",
        Problem => "problem",
        Task => "task",
    }
}

string_enum! {
    /// The channel a ticket or comment arrived through (`via.channel`);
    /// `rule` marks changes made by automation rules (policies.md §7).
    Via, "channel" {
        Api => "api",
        Web => "web",
        Email => "email",
        Portal => "portal",
        Import => "import",
        System => "system",
        Rule => "rule",
    }
}

/// Why a requested status change is not allowed, per Zendesk's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Closed tickets are read-only.
    Closed,
    /// Only a solved ticket can be closed.
    CloseUnsolved,
    /// A ticket that left `new` cannot go back to it.
    BackToNew,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TransitionError::Closed => "Status: closed prevents ticket update",
            TransitionError::CloseUnsolved => "Status: a ticket must be solved before it is closed",
            TransitionError::BackToNew => "Status: a ticket cannot return to new",
        })
    }
}

/// Checks a status change against Zendesk's lifecycle.
pub fn check_transition(from: Status, to: Status) -> Result<(), TransitionError> {
    match (from, to) {
        (Status::Closed, _) => Err(TransitionError::Closed),
        (f, Status::Closed) if f != Status::Solved => Err(TransitionError::CloseUnsolved),
        (f, Status::New) if f != Status::New => Err(TransitionError::BackToNew),
        _ => Ok(()),
    }
}

/// Zendesk tags: lower-cased, no spaces (a space separates tags), deduplicated,
/// order of first appearance kept.
pub fn normalize_tags<I, S>(tags: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out: Vec<String> = Vec::new();
    for raw in tags {
        for tag in raw.as_ref().split_whitespace() {
            let tag = tag.trim_matches(',').to_lowercase();
            if !tag.is_empty() && !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_parse_both_spellings_and_order_by_severity() {
        assert_eq!(Priority::parse_any("P0").unwrap(), Priority::Urgent);
        assert_eq!(Priority::parse_any("urgent").unwrap(), Priority::Urgent);
        assert_eq!(Priority::parse_any("p3").unwrap(), Priority::Low);
        assert!(Priority::parse_any("critical").is_err());
        assert!(Priority::Urgent > Priority::High && Priority::Normal > Priority::Low);
        assert_eq!(Priority::High.code(), "P1");
    }

    #[test]
    fn status_lifecycle_follows_zendesk() {
        use Status::*;
        assert!(check_transition(Open, Solved).is_ok());
        assert!(check_transition(Solved, Open).is_ok());
        assert!(check_transition(Solved, Closed).is_ok());
        assert_eq!(
            check_transition(Open, Closed),
            Err(TransitionError::CloseUnsolved)
        );
        assert_eq!(check_transition(Closed, Open), Err(TransitionError::Closed));
        assert_eq!(
            check_transition(Closed, Closed),
            Err(TransitionError::Closed)
        );
        assert_eq!(check_transition(Open, New), Err(TransitionError::BackToNew));
        assert!(check_transition(New, New).is_ok());
        assert!(Status::Pending.is_unsolved() && !Status::Solved.is_unsolved());
    }

    #[test]
    fn unknown_enum_values_name_the_choices() {
        let err = Status::parse("done").unwrap_err();
        assert!(
            err.0.contains("new, open, pending, hold, solved, closed"),
            "{err}"
        );
    }

    #[test]
    fn tags_are_normalized() {
        assert_eq!(
            normalize_tags(["VIP billing", "vip", "  ", "go-live"]),
            vec!["vip", "billing", "go-live"]
        );
    }
}
