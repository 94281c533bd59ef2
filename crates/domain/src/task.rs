//! Tasks (issue 3, policies.md §7): follow-ups that people own, made by
//! hand or by automation rules. Their priority is the ticket scale (P0–P3,
//! Zendesk's urgent..low).

use crate::string_enum;

string_enum! {
    /// Where a task stands. `completed` stamps the task's completion time.
    TaskStatus, "task status" {
        NotStarted => "not-started",
        InProgress => "in-progress",
        Blocked => "blocked",
        Completed => "completed",
    }
}

impl TaskStatus {
    /// Accepts `in_progress` and `In Progress` as well as `in-progress`.
    pub fn parse_loose(s: &str) -> Result<TaskStatus, crate::ParseError> {
        TaskStatus::parse(&s.trim().replace(['_', ' '], "-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_parse_loosely() {
        assert_eq!(
            TaskStatus::parse_loose("In Progress"),
            Ok(TaskStatus::InProgress)
        );
        assert_eq!(
            TaskStatus::parse_loose("not_started"),
            Ok(TaskStatus::NotStarted)
        );
        assert!(TaskStatus::parse_loose("done").is_err());
    }
}
