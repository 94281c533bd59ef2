//! The feedback loop (policies.md §11): where feedback comes from, how it is
//! sorted, and what the monthly product committee may decide about a theme.
//!
//! Decisions taken here, for the reader of the store and the API:
//! - A theme counts **distinct accounts**, not items: ten items from one
//!   account weigh as much as one ([`distinct_accounts`]). Items without an
//!   account (an anonymous survey comment) count for nothing.
//! - `target_release` of a roadmap decision is the planned release **date**
//!   (`YYYY-MM-DD`), so "≤ 6 months" can be checked; a release name goes in
//!   the reason. `revisit_on` of a deferral is a date after the decision.
//! - A backlog decision ("≤ 12 months") needs no date; known limitations need
//!   nothing but the decision itself.

use std::collections::BTreeSet;

use jiff::{ToSpan, civil::Date};

use crate::{ParseError, string_enum};

pub use crate::hub::Sentiment;

string_enum! {
    /// The seven sources of §11.
    FeedbackSource, "feedback source" {
        PulseSurvey => "pulse_survey",
        ImplementationRetro => "implementation_retro",
        QbrCab => "qbr_cab",
        NpsSurvey => "nps_survey",
        AdvisoryInterview => "advisory_interview",
        SupportTickets => "support_tickets",
        ProductUsage => "product_usage",
    }
}

string_enum! {
    /// §11's categories, stored lower-case (input is case-insensitive, so
    /// "Product" from a spreadsheet parses).
    FeedbackCategory, "feedback category" {
        Product => "product",
        Support => "support",
        Implementation => "implementation",
        Billing => "billing",
        Training => "training",
        Other => "other",
    }
}

string_enum! {
    ThemeStatus, "theme status" {
        Open => "open",
        Decided => "decided",
        Shipped => "shipped",
    }
}

string_enum! {
    /// The product committee's decisions of §11.
    DecisionKind, "decision" {
        Roadmap => "roadmap",
        Backlog => "backlog",
        KnownLimitation => "known_limitation",
        Defer => "defer",
        Reject => "reject",
    }
}

impl DecisionKind {
    /// Roadmap and backlog items are "accepted": the denominator of the
    /// share implemented.
    pub fn is_accepted(self) -> bool {
        matches!(self, DecisionKind::Roadmap | DecisionKind::Backlog)
    }
}

/// A decision as proposed, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecisionDraft {
    pub target_release: Option<String>,
    pub revisit_on: Option<String>,
    pub reason: Option<String>,
    pub alternative: Option<String>,
}

/// A decision whose fields satisfy §11; fields a decision does not use are
/// dropped so the stored row says only what was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: DecisionKind,
    pub target_release: Option<Date>,
    pub revisit_on: Option<Date>,
    pub reason: Option<String>,
    pub alternative: Option<String>,
}

fn blank(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn date_field(field: &str, s: &Option<String>) -> Result<Option<Date>, ParseError> {
    blank(s)
        .map(|v| {
            v.parse::<Date>()
                .map_err(|_| ParseError::new(format!("{field}: {v} is not a date (YYYY-MM-DD)")))
        })
        .transpose()
}

/// Validates a decision taken on `today` (§11): roadmap needs a target
/// release within 6 months, defer a revisit date in the future, reject a
/// reason and an alternative.
pub fn validate_decision(
    kind: DecisionKind,
    draft: &DecisionDraft,
    today: Date,
) -> Result<Decision, ParseError> {
    let reason = blank(&draft.reason);
    let mut d = Decision {
        kind,
        target_release: None,
        revisit_on: None,
        reason: reason.clone(),
        alternative: None,
    };
    match kind {
        DecisionKind::Roadmap => {
            let t = date_field("target_release", &draft.target_release)?.ok_or_else(|| {
                ParseError::new("target_release: a roadmap decision needs a target release date")
            })?;
            let limit = today
                .checked_add(6.months())
                .map_err(|e| ParseError::new(e.to_string()))?;
            if t < today || t > limit {
                return Err(ParseError::new(format!(
                    "target_release: a roadmap item ships within 6 months ({today} to {limit}), not {t}"
                )));
            }
            d.target_release = Some(t);
        }
        DecisionKind::Defer => {
            let r = date_field("revisit_on", &draft.revisit_on)?
                .ok_or_else(|| ParseError::new("revisit_on: a deferral needs a revisit date"))?;
            if r <= today {
                return Err(ParseError::new(format!(
                    "revisit_on: {r} must be after the decision ({today})"
                )));
            }
            d.revisit_on = Some(r);
        }
        DecisionKind::Reject => {
            if reason.is_none() {
                return Err(ParseError::new("reason: a rejection needs a reason"));
            }
            d.alternative = Some(blank(&draft.alternative).ok_or_else(|| {
                ParseError::new("alternative: a rejection needs an alternative for the customer")
            })?);
        }
        DecisionKind::Backlog | DecisionKind::KnownLimitation => {}
    }
    Ok(d)
}

/// The number of distinct accounts among items' organizations.
pub fn distinct_accounts(orgs: impl IntoIterator<Item = Option<i64>>) -> usize {
    orgs.into_iter().flatten().collect::<BTreeSet<_>>().len()
}

/// Mean whole-or-fractional days between received and decided instants,
/// rounded to one decimal; `None` with no pairs.
pub fn mean_days(pairs: &[(i64, i64)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let total: i64 = pairs.iter().map(|(r, d)| (d - r).max(0)).sum();
    let days = total as f64 / 86_400.0 / pairs.len() as f64;
    Some((days * 10.0).round() / 10.0)
}

/// One row of a feedback CSV, with its line number for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: usize,
    pub source: FeedbackSource,
    pub category: FeedbackCategory,
    pub sentiment: Sentiment,
    pub text: String,
    pub organization_id: Option<i64>,
    pub theme: Option<String>,
}

pub const CSV_HEADER: &str = "source,category,sentiment,text,organization_id,theme";

/// Parses `source,category,sentiment,text,organization_id,theme` (columns
/// in any order, matched by name; organization_id and theme may be empty).
/// An error names the line: `(line, message)`.
pub fn parse_csv(text: &str, max_rows: usize) -> Result<Vec<CsvRow>, (usize, String)> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (hline, header) = lines.next().ok_or((
        1,
        format!("the file is empty; expected the header {CSV_HEADER}"),
    ))?;
    let names = crate::metrics::split_csv_line(header).map_err(|m| (hline, m))?;
    let col = |n: &str| names.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let mut idx = Vec::new();
    for n in CSV_HEADER.split(',') {
        idx.push(col(n).ok_or((
            hline,
            format!("the header must be {CSV_HEADER}; {n} is missing"),
        ))?);
    }
    let mut rows = Vec::new();
    for (line, l) in lines {
        if rows.len() >= max_rows {
            return Err((line, format!("at most {max_rows} rows per import")));
        }
        let cells = crate::metrics::split_csv_line(l).map_err(|m| (line, m))?;
        let cell = |i: usize| cells.get(idx[i]).map(|c| c.trim()).unwrap_or("");
        let e = |m: ParseError| (line, m.0);
        let text = cell(3).to_string();
        if text.is_empty() {
            return Err((line, "text is required".into()));
        }
        let organization_id = match cell(4) {
            "" => None,
            v => Some(
                v.parse::<i64>()
                    .map_err(|_| (line, format!("organization_id: {v} is not an id")))?,
            ),
        };
        rows.push(CsvRow {
            line,
            source: FeedbackSource::parse(cell(0)).map_err(e)?,
            category: FeedbackCategory::parse(cell(1)).map_err(e)?,
            sentiment: Sentiment::parse(cell(2)).map_err(e)?,
            text,
            organization_id,
            theme: Some(cell(5).to_string()).filter(|t| !t.is_empty()),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn draft(
        t: Option<&str>,
        r: Option<&str>,
        reason: Option<&str>,
        alt: Option<&str>,
    ) -> DecisionDraft {
        DecisionDraft {
            target_release: t.map(Into::into),
            revisit_on: r.map(Into::into),
            reason: reason.map(Into::into),
            alternative: alt.map(Into::into),
        }
    }

    #[test]
    fn roadmap_needs_a_release_within_six_months() {
        let today = d("2026-01-31");
        assert!(
            validate_decision(DecisionKind::Roadmap, &draft(None, None, None, None), today)
                .is_err()
        );
        let ok = validate_decision(
            DecisionKind::Roadmap,
            &draft(Some("2026-07-31"), None, None, None),
            today,
        )
        .unwrap();
        assert_eq!(ok.target_release, Some(d("2026-07-31")));
        assert!(
            validate_decision(
                DecisionKind::Roadmap,
                &draft(Some("2026-08-01"), None, None, None),
                today
            )
            .is_err()
        );
        assert!(
            validate_decision(
                DecisionKind::Roadmap,
                &draft(Some("2026-01-30"), None, None, None),
                today
            )
            .is_err()
        );
        assert!(
            validate_decision(
                DecisionKind::Roadmap,
                &draft(Some("soon"), None, None, None),
                today
            )
            .is_err()
        );
    }

    #[test]
    fn defer_needs_a_future_revisit_date_and_reject_a_reason_and_alternative() {
        let today = d("2026-03-01");
        assert!(
            validate_decision(DecisionKind::Defer, &draft(None, None, None, None), today).is_err()
        );
        assert!(
            validate_decision(
                DecisionKind::Defer,
                &draft(None, Some("2026-03-01"), None, None),
                today
            )
            .is_err()
        );
        assert!(
            validate_decision(
                DecisionKind::Defer,
                &draft(None, Some("2026-06-01"), None, None),
                today
            )
            .is_ok()
        );
        assert!(
            validate_decision(
                DecisionKind::Reject,
                &draft(None, None, Some("out of scope"), None),
                today
            )
            .is_err()
        );
        assert!(
            validate_decision(
                DecisionKind::Reject,
                &draft(None, None, Some(" "), Some("use X")),
                today
            )
            .is_err()
        );
        let r = validate_decision(
            DecisionKind::Reject,
            &draft(
                Some("2026-04-01"),
                None,
                Some("out of scope"),
                Some("use the export API"),
            ),
            today,
        )
        .unwrap();
        assert_eq!(r.target_release, None, "unused fields are dropped");
        assert!(
            validate_decision(DecisionKind::Backlog, &draft(None, None, None, None), today).is_ok()
        );
        assert!(
            validate_decision(
                DecisionKind::KnownLimitation,
                &draft(None, None, None, None),
                today
            )
            .is_ok()
        );
    }

    #[test]
    fn themes_count_distinct_accounts() {
        assert_eq!(
            distinct_accounts([Some(1), Some(1), Some(2), None, None]),
            2
        );
        assert_eq!(distinct_accounts([None]), 0);
        assert_eq!(distinct_accounts(Vec::new()), 0);
    }

    #[test]
    fn csv_rows_and_errors_name_the_line() {
        let ok = parse_csv("source,category,sentiment,text,organization_id,theme\nnps_survey,Product,negative,\"Needs SSO, badly\",7,SSO\n\nqbr_cab,other,positive,Great,,\n", 10).unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].text, "Needs SSO, badly");
        assert_eq!(
            (ok[0].organization_id, ok[0].theme.as_deref()),
            (Some(7), Some("SSO"))
        );
        assert_eq!((ok[1].line, ok[1].theme.clone()), (4, None));
        let bad = parse_csv(
            "source,category,sentiment,text,organization_id,theme\nfax,product,neutral,x,,\n",
            10,
        )
        .unwrap_err();
        assert_eq!(bad.0, 2);
        assert!(
            parse_csv("source,text\n", 10)
                .unwrap_err()
                .1
                .contains("category")
        );
        assert_eq!(parse_csv("", 10).unwrap_err().0, 1);
    }

    #[test]
    fn parsing_and_means() {
        assert_eq!(
            FeedbackCategory::parse("Product").unwrap(),
            FeedbackCategory::Product
        );
        assert!(FeedbackSource::parse("twitter").is_err());
        assert_eq!(FeedbackSource::ALL.len(), 7);
        assert_eq!(mean_days(&[]), None);
        assert_eq!(mean_days(&[(0, 86_400), (0, 2 * 86_400)]), Some(1.5));
        assert!(DecisionKind::Backlog.is_accepted() && !DecisionKind::Defer.is_accepted());
    }
}
