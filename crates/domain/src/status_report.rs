//! The weekly status report (policies.md §15): the computed figures of one
//! project-week as a plain value, and its three renderings (HTML e-mail,
//! plain text, Markdown) from minijinja templates.
//!
//! The store computes a [`StatusReport`] from the project's data; it is
//! stored as JSON, so a report keeps the figures it was sent with. The
//! CSM's edits ([`Notes`]) are kept apart and rendered on top: nothing in
//! the figures is typed by hand.

use minijinja::{AutoEscape, Environment, UndefinedBehavior, context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub header: Header,
    pub summary: Summary,
    pub accomplished: Accomplished,
    pub next_week: NextWeek,
    pub risks: RiskSection,
    pub expansion: Expansion,
    pub facts: QuickFacts,
    pub appendix: Appendix,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub project: String,
    pub project_id: i64,
    pub account: String,
    pub week_ending: String,
    pub day: u32,
    pub total_days: u32,
    pub phase: String,
    pub recipient: String,
    pub prepared_by: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// GREEN, YELLOW or RED.
    pub health: String,
    /// on-track, at-risk or delayed.
    pub timeline_health: String,
    pub go_live_date: String,
    pub target_go_live: String,
    pub go_live_on_track: bool,
    /// Spend over budget in money, when both are known.
    pub budget_spent_pct: Option<f64>,
    /// Hours logged over the hours budget.
    pub hours_used_pct: f64,
    pub actual_pct: f64,
    pub planned_pct: f64,
    pub critical_blockers: Vec<String>,
    pub key_metrics: Vec<MetricLine>,
    pub decisions_needed: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricLine {
    pub name: String,
    pub value: Option<f64>,
    pub last_week: Option<f64>,
    pub target: String,
    /// green / yellow / red / none.
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accomplished {
    pub milestones: Vec<MilestoneLine>,
    pub tasks_completed: Vec<String>,
    pub blockers_resolved: Vec<String>,
    pub metrics: Vec<MetricLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MilestoneLine {
    pub name: String,
    pub phase: i64,
    pub planned: String,
    pub actual: Option<String>,
    pub status: String,
    pub critical_path: bool,
    pub owner: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NextWeek {
    pub milestones: Vec<MilestoneLine>,
    pub activities: Vec<Activity>,
    pub customer_dependencies: Vec<Activity>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub title: String,
    pub lead: String,
    pub due: String,
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskSection {
    pub red: Vec<RiskLine>,
    pub yellow: Vec<RiskLine>,
    pub green: Vec<RiskLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RiskLine {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub probability: String,
    pub impact: String,
    pub score: u8,
    pub rag: String,
    pub status: String,
    pub owner: String,
    pub mitigation: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expansion {
    pub opportunities: Vec<OpportunityLine>,
    /// Sum of the open opportunities' ARR, in cents.
    pub pipeline_cents: i64,
    /// Sum of ARR × probability, in cents.
    pub weighted_cents: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpportunityLine {
    pub title: String,
    pub arr_cents: i64,
    pub effort: String,
    pub probability_pct: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuickFacts {
    pub days_completed: u32,
    pub total_days: u32,
    pub milestones_completed: usize,
    pub milestones_on_track: usize,
    pub milestones_at_risk: usize,
    pub blockers: usize,
    pub tickets_resolved: i64,
    pub tickets_open: i64,
    pub uat_pass_pct: Option<f64>,
    pub data_validation_pct: Option<f64>,
    pub training_pct: Option<f64>,
    pub budget_cents: Option<i64>,
    pub spend_cents: Option<i64>,
    /// Spend − budget in cents (negative: under budget).
    pub budget_variance_cents: Option<i64>,
    pub hours_budget: f64,
    pub hours_actual: f64,
    pub hours_this_week: f64,
    pub acv_cents: Option<i64>,
    pub team: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Appendix {
    pub milestones: Vec<MilestoneLine>,
    pub risks: Vec<RiskLine>,
    pub action_items: Vec<Activity>,
    pub testing: Vec<MetricLine>,
    pub performance: Vec<MetricLine>,
    pub resources: Vec<ResourceLine>,
    pub readiness: Vec<ReadinessLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceLine {
    pub side: String,
    pub role: String,
    pub budget: f64,
    pub actual: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadinessLine {
    pub item: String,
    pub green: bool,
    pub evidence: String,
}

/// What a CSM adds before sending: an opening note, decisions to ask for
/// and anything else. Rendered above and beside the computed figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notes {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub decision_needed: String,
    #[serde(default)]
    pub other: String,
}

/// The three renderings of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Text,
    Markdown,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, crate::ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Format::Html),
            "text" | "txt" | "plain" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(crate::ParseError::new(format!(
                "{other} is not a report format (expected html, text or markdown)"
            ))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Text => "text/plain; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
        }
    }
}

const HTML: &str = include_str!("status_report/report.html");
const TEXT: &str = include_str!("status_report/report.txt");
const MARKDOWN: &str = include_str!("status_report/report.md");

/// `12500000` cents → `$125,000`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!(
        "{sign}${}",
        crate::account::group_thousands(cents.unsigned_abs() / 100)
    )
}

fn number(v: minijinja::Value) -> String {
    match f64::try_from(v) {
        Ok(x) if x.fract().abs() < 1e-9 => format!("{x:.0}"),
        Ok(x) => format!("{x:.2}").trim_end_matches('0').to_string(),
        Err(_) => "—".into(),
    }
}

fn money(v: minijinja::Value) -> String {
    i64::try_from(v).map(dollars).unwrap_or_else(|_| "—".into())
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.add_filter("num", number);
    env.add_filter("money", money);
    // The shipped templates are checked by the tests below.
    let _ = env.add_template("report.html", HTML);
    let _ = env.add_template("report.txt", TEXT);
    let _ = env.add_template("report.md", MARKDOWN);
    env
}

/// The report's e-mail subject.
pub fn subject(r: &StatusReport) -> String {
    format!(
        "{} weekly status, week ending {}: {}",
        r.header.project, r.header.week_ending, r.summary.health
    )
}

/// The templates, compiled once: compiling all three took about as long as
/// rendering one report (the weekly reports of 1,000 projects, issue 4).
static ENVIRONMENT: std::sync::LazyLock<Environment<'static>> =
    std::sync::LazyLock::new(environment);

/// Renders a report with the CSM's notes.
pub fn render(r: &StatusReport, notes: &Notes, format: Format) -> Result<String, String> {
    let env = &*ENVIRONMENT;
    let name = match format {
        Format::Html => "report.html",
        Format::Text => "report.txt",
        Format::Markdown => "report.md",
    };
    let t = env.get_template(name).map_err(|e| e.to_string())?;
    t.render(context! {
        r => minijinja::Value::from(minijinja::value::Serde(r)),
        notes => minijinja::Value::from(minijinja::value::Serde(notes)),
        subject => subject(r),
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped() {
        assert_eq!(dollars(12_500_000), "$125,000");
        assert_eq!(dollars(99), "$0");
        assert_eq!(dollars(10_000_000_000), "$100,000,000");
        assert_eq!(dollars(-150_000), "-$1,500");
    }

    #[test]
    fn an_empty_report_renders_in_every_format() {
        let r = StatusReport::default();
        for f in [Format::Html, Format::Text, Format::Markdown] {
            let out = render(&r, &Notes::default(), f).expect("renders");
            assert!(out.contains("Executive summary"), "{f:?}: {out}");
            assert!(out.contains("Appendices"), "{f:?}");
        }
    }

    #[test]
    fn html_escapes_and_text_does_not() {
        let mut r = StatusReport::default();
        r.header.project = "R&D <rollout>".into();
        let html = render(&r, &Notes::default(), Format::Html).expect("html");
        assert!(html.contains("R&amp;D &lt;rollout&gt;"));
        let md = render(&r, &Notes::default(), Format::Markdown).expect("md");
        assert!(md.contains("R&D <rollout>"));
    }
}
