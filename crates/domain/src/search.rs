//! The Zendesk search query language, parsed into terms.
//!
//! `type:ticket status:open priority>normal organization:"Acme Corp"
//! -tags:spam created>2026-01-01 "exact phrase" words order_by:created_at
//! sort:desc` becomes a [`Query`]. This module only parses; what a field
//! means for tickets, users or organizations is decided by the store, which
//! rejects fields it does not know so that typos are reported, not ignored.

use crate::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Ticket,
    User,
    Organization,
    Group,
}

impl ObjectType {
    pub fn parse(s: &str) -> Result<ObjectType, ParseError> {
        match s.to_ascii_lowercase().as_str() {
            "ticket" | "tickets" => Ok(ObjectType::Ticket),
            "user" | "users" => Ok(ObjectType::User),
            "organization" | "organizations" | "org" => Ok(ObjectType::Organization),
            "group" | "groups" => Ok(ObjectType::Group),
            other => Err(ParseError::new(format!("unknown search type {other}"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Ticket => "ticket",
            ObjectType::User => "user",
            ObjectType::Organization => "organization",
            ObjectType::Group => "group",
        }
    }
}

/// One `field<op>value` condition, possibly negated with a leading `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub field: String,
    pub op: Op,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub object_type: Option<ObjectType>,
    pub terms: Vec<Term>,
    /// Free-text words and quoted phrases, all of which must match.
    pub text: Vec<String>,
    /// Free text that must not match (`-word`).
    pub excluded_text: Vec<String>,
    pub order_by: Option<String>,
    /// `Some(true)` for `sort:desc`.
    pub descending: Option<bool>,
}

/// Parses a query. Empty queries are allowed (they match everything of the
/// requested type); unbalanced quotes and empty values are errors.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let mut q = Query::default();
    for token in tokenize(input)? {
        let (negated, body) = match token.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest.to_string()),
            _ => (false, token.clone()),
        };
        match split_term(&body) {
            Some((field, op, value)) => {
                let field = field.to_ascii_lowercase();
                let value = unquote(&value);
                if value.is_empty() {
                    return Err(ParseError::new(format!("{field} needs a value")));
                }
                match (field.as_str(), op) {
                    ("type", Op::Eq) if !negated => {
                        q.object_type = Some(ObjectType::parse(&value)?)
                    }
                    ("order_by", Op::Eq) => q.order_by = Some(value.to_ascii_lowercase()),
                    ("sort", Op::Eq) => {
                        q.descending = Some(match value.to_ascii_lowercase().as_str() {
                            "desc" => true,
                            "asc" => false,
                            other => {
                                return Err(ParseError::new(format!(
                                    "sort:{other} must be asc or desc"
                                )));
                            }
                        })
                    }
                    _ => q.terms.push(Term {
                        negated,
                        field,
                        op,
                        value,
                    }),
                }
            }
            None => {
                let text = unquote(&body);
                if text.is_empty() {
                    continue;
                }
                if negated {
                    q.excluded_text.push(text);
                } else {
                    q.text.push(text);
                }
            }
        }
    }
    Ok(q)
}

/// Splits on whitespace outside double quotes; quotes are kept so that
/// `organization:"Acme Corp"` stays one token.
fn tokenize(input: &str) -> Result<Vec<String>, ParseError> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    for c in input.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                current.push(c);
            }
            c if c.is_whitespace() && !in_quotes => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if in_quotes {
        return Err(ParseError::new("unbalanced quote in search query"));
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    Ok(tokens)
}

fn split_term(token: &str) -> Option<(String, Op, String)> {
    if token.starts_with('"') {
        return None;
    }
    let idx = token.find([':', '<', '>'])?;
    let field = &token[..idx];
    if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let rest = &token[idx..];
    // Zendesk accepts both `created>x` and `created:>x`.
    let rest = rest
        .strip_prefix(':')
        .map_or(rest, |r| if r.starts_with(['<', '>']) { r } else { rest });
    let (op, value) = if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else if let Some(v) = rest.strip_prefix(':') {
        (Op::Eq, v)
    } else {
        return None;
    };
    Some((field.to_string(), op, value.to_string()))
}

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(negated: bool, field: &str, op: Op, value: &str) -> Term {
        Term {
            negated,
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn parses_the_zendesk_example() {
        let q = parse(
            r#"type:ticket status:open priority:urgent organization:"Acme Corp" tags:x created>2026-01-01 "free text" order_by:created_at sort:desc"#,
        )
        .unwrap();
        assert_eq!(q.object_type, Some(ObjectType::Ticket));
        assert_eq!(
            q.terms,
            vec![
                term(false, "status", Op::Eq, "open"),
                term(false, "priority", Op::Eq, "urgent"),
                term(false, "organization", Op::Eq, "Acme Corp"),
                term(false, "tags", Op::Eq, "x"),
                term(false, "created", Op::Gt, "2026-01-01"),
            ]
        );
        assert_eq!(q.text, vec!["free text"]);
        assert_eq!(q.order_by.as_deref(), Some("created_at"));
        assert_eq!(q.descending, Some(true));
    }

    #[test]
    fn operators_negation_and_words() {
        let q = parse("-tags:spam created:>=2026-02-01 updated<=3days login -noise").unwrap();
        assert_eq!(
            q.terms,
            vec![
                term(true, "tags", Op::Eq, "spam"),
                term(false, "created", Op::Ge, "2026-02-01"),
                term(false, "updated", Op::Le, "3days"),
            ]
        );
        assert_eq!(q.text, vec!["login"]);
        assert_eq!(q.excluded_text, vec!["noise"]);
    }

    #[test]
    fn rejects_malformed_queries() {
        assert!(parse(r#"subject:"unclosed"#).is_err());
        assert!(parse("status:").is_err());
        assert!(parse("type:spaceship").is_err());
        assert!(parse("sort:sideways").is_err());
        assert_eq!(parse("").unwrap(), Query::default());
    }

    #[test]
    fn urls_and_colons_in_text_are_words() {
        let q = parse(r#""error: timeout" http://x"#).unwrap();
        assert_eq!(q.text, vec!["error: timeout"]);
        assert_eq!(q.terms, vec![term(false, "http", Op::Eq, "//x")]);
    }
}
