//! Building dynamic SQL safely: values always travel as bound parameters,
//! never inside the SQL text; only column names chosen from fixed lists are
//! interpolated.

use sqlx::{Any, any::AnyArguments, query::Query};

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// Parameters collected while a query is assembled; `push` returns the
/// placeholder to write into the SQL.
#[derive(Debug, Default, Clone)]
pub(crate) struct Args(pub Vec<Arg>);

impl Args {
    pub fn int(&mut self, v: i64) -> String {
        self.0.push(Arg::Int(v));
        format!("${}", self.0.len())
    }

    pub fn text(&mut self, v: impl Into<String>) -> String {
        self.0.push(Arg::Text(v.into()));
        format!("${}", self.0.len())
    }

    /// `a, b, c` placeholders for an IN list (never empty: callers check).
    pub fn ints(&mut self, vs: &[i64]) -> String {
        vs.iter()
            .map(|v| self.int(*v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn texts(&mut self, vs: &[&str]) -> String {
        vs.iter()
            .map(|v| self.text(*v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn bind<'q>(
        &'q self,
        mut q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        for a in &self.0 {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

/// Joins conditions with AND; an empty list is "true".
pub(crate) fn and_all(conds: &[String]) -> String {
    if conds.is_empty() {
        "1 = 1".to_string()
    } else {
        conds.join(" AND ")
    }
}
