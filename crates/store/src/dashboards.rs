//! The five dashboards of policies.md §18, computed by the store.
//!
//! A dashboard is a list of tiles; a tile is a table (columns and rows)
//! plus a chart hint saying which columns a chart draws. The same table is
//! the JSON of the API, the CSV export and the data of the server-rendered
//! SVG chart (`steward_web::charts`), so the three never disagree.
//!
//! * **Scope (§8).** Admins and viewers see every account; a CSM sees the
//!   accounts they own a project of (as `health::account_csm` reads it);
//!   agents, contractors and end users are refused.
//! * **Filters (§18).** Customer health, implementation progress, CSM KPIs
//!   and the churn-risk monitor take the account filters (industry, size,
//!   status) and a period (last 30 or 90 days). The period selects the
//!   *activity* counted — survey answers, CSAT ratings, tickets created and
//!   solved, opportunities opened; tiles that show a state (scores,
//!   projects, renewals) are as of `now`, and trend tiles keep their own
//!   span (four quarters of NPS, 90 days of risk, 12 months of ARR). The
//!   SLA dashboard takes a number of months (1–12) and a tier.
//! * **Set-based.** Every tile is one or two grouped queries over indexed
//!   columns, never a query per account or per ticket. The exceptions are
//!   named: project phase, timeline health and go-live readiness are
//!   evaluated in Rust over rows read in one query per source (milestones,
//!   tasks, checks, metrics), mirroring `project_parts::overview_in`; risk
//!   drivers parse the stored factor lists of non-GREEN accounts.
//! * **SLA from a monthly roll-up.** Achievement and credits are the SLA
//!   report's (`Store::sla_report`, the only place §4/§5 are decided), which
//!   reads every clock of a quarter: far too slow to run per page view on a
//!   large database. Its per-account results are kept per month in
//!   `dashboard_sla_months` (migration 19) and recomputed when older than
//!   [`SLA_CURRENT_TTL`] (the running month) or [`SLA_CLOSED_TTL`] (closed
//!   months, which still change when an exclusion or a force-majeure event
//!   is recorded later).
//! * **Money** is shown in whole US dollars (columns ending in `_usd`);
//!   ARR is the account's ACV as it stands now (ACV history is not kept).

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use steward_domain::{
    AccountStatus, CompanySize, Industry, Role, Tier,
    nps::{Category, Tally},
    project::{
        self as project, ChecklistDef, Health, Likelihood, PhaseDef, ReadinessRule, TimelineFacts,
        day_number, working_days,
    },
    sla::{Metric, Scope as PolicyScope},
    sla_report::Outcome,
    survey::Quarter,
    time::{Month, parse_date, parse_rfc3339},
};

use crate::{
    Store,
    access::Actor,
    dates::{local_date, utc_date, utc_start},
    db::opt_str,
    error::{Result, StoreError},
    project_parts::row_f64,
    sql::{Args, and_all},
};

const DAY: i64 = 86_400;
/// How long the running month's SLA roll-up is reused.
pub const SLA_CURRENT_TTL: i64 = 15 * 60;
/// How long a closed month's SLA roll-up is reused.
pub const SLA_CLOSED_TTL: i64 = DAY;
/// Rows of the per-account tables (riskiest or largest first).
const TOP: i64 = 25;
/// Points of the risk-vs-expansion scatter.
const SCATTER_POINTS: i64 = 200;

// ---------------------------------------------------------------------
// What a dashboard is

/// The five dashboards: (name in the URL, title).
pub const DASHBOARDS: [(&str, &str); 5] = [
    ("customer_health", "Customer health"),
    ("implementation", "Implementation progress"),
    ("csm_kpis", "CSM KPIs"),
    ("churn_risk", "Churn risk monitor"),
    ("sla", "SLA"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardName {
    CustomerHealth,
    Implementation,
    CsmKpis,
    ChurnRisk,
    Sla,
}

impl DashboardName {
    pub const ALL: [DashboardName; 5] = [
        DashboardName::CustomerHealth,
        DashboardName::Implementation,
        DashboardName::CsmKpis,
        DashboardName::ChurnRisk,
        DashboardName::Sla,
    ];

    pub fn parse(s: &str) -> Option<DashboardName> {
        let i = DASHBOARDS.iter().position(|(n, _)| *n == s)?;
        Some(DashboardName::ALL[i])
    }

    pub fn as_str(self) -> &'static str {
        DASHBOARDS[self as usize].0
    }

    pub fn title(self) -> &'static str {
        DASHBOARDS[self as usize].1
    }

    /// The keys of its tiles, in the order they come.
    pub fn tiles(self) -> &'static [&'static str] {
        match self {
            DashboardName::CustomerHealth => &[
                "health_distribution",
                "nps_trend",
                "implementation_by_phase",
                "at_risk_accounts",
                "expansion_opportunities",
                "renewals_timeline",
            ],
            DashboardName::Implementation => &[
                "projects_by_phase",
                "timeline_health",
                "blockers_by_type",
                "hours_by_phase",
                "quality",
                "readiness",
            ],
            DashboardName::CsmKpis => {
                &["summary", "tickets", "health_distribution", "nps_breakdown"]
            }
            DashboardName::ChurnRisk => &[
                "risk_levels",
                "average_risk",
                "risk_drivers",
                "heat_map",
                "interventions",
                "arr_by_level",
                "risk_vs_expansion",
            ],
            DashboardName::Sla => &["achievement", "breaches", "credits"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub name: &'static str,
    pub title: &'static str,
    pub generated_at: i64,
    /// The filters applied, as query parameters would name them.
    pub filters: BTreeMap<&'static str, String>,
    pub tiles: Vec<Tile>,
}

impl Dashboard {
    pub fn tile(&self, key: &str) -> Option<&Tile> {
        self.tiles.iter().find(|t| t.key == key)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tile {
    pub key: &'static str,
    pub title: String,
    pub chart: Chart,
    pub table: Table,
    /// How to read the tile (definitions, what is left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// One bar per row for each value column (grouped when several).
    Bar,
    /// The value columns stacked per row.
    StackedBar,
    /// One line per value column, with the target lines.
    Line,
    /// x = first value column, y = second; `group` colours the points.
    Scatter,
    /// A grid: a row per table row, a cell per value column, coloured by
    /// where the value sits in its column (`higher_is_better` per column).
    HeatMap,
    /// Key figures (label column, value column) drawn as cards.
    Kpi,
}

/// Which columns a chart draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    pub kind: ChartKind,
    /// The column naming each row (x axis, bar or point label).
    pub label: usize,
    /// The columns drawn, in series order.
    pub values: Vec<usize>,
    /// The column whose value colours a scatter point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
    /// Horizontal target lines: (label, value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<(String, f64)>,
    /// Heat maps: per value column, whether higher is better.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub higher_is_better: Vec<bool>,
}

impl Chart {
    fn new(kind: ChartKind, label: usize, values: Vec<usize>) -> Chart {
        Chart {
            kind,
            label,
            values,
            group: None,
            targets: Vec::new(),
            higher_is_better: Vec::new(),
        }
    }

    fn target(mut self, label: impl Into<String>, v: f64) -> Chart {
        self.targets.push((label.into(), v));
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub key: &'static str,
    pub label: &'static str,
}

/// A cell: `null`, an integer, a number or text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Null,
    Int(i64),
    Num(f64),
    Text(String),
}

impl Cell {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(v) => Some(*v as f64),
            Cell::Num(v) => Some(*v),
            _ => None,
        }
    }

    /// The cell as text (numbers as the CSV writes them, null as "").
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Int(v) => v.to_string(),
            Cell::Num(v) => format!("{v}"),
            Cell::Text(s) => s.clone(),
        }
    }

    /// A number rounded to one decimal.
    fn num1(v: f64) -> Cell {
        Cell::Num((v * 10.0).round() / 10.0)
    }

    fn opt1(v: Option<f64>) -> Cell {
        v.map_or(Cell::Null, Cell::num1)
    }

    fn usd(cents: i64) -> Cell {
        Cell::Int(cents.div_euclid(100))
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}

impl From<usize> for Cell {
    fn from(v: usize) -> Cell {
        Cell::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Cell {
        v.map_or(Cell::Null, Cell::Int)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(columns: &[(&'static str, &'static str)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(key, label)| Column { key, label })
                .collect(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// RFC 4180 CSV: a header of column keys, CRLF line ends, fields with
    /// a comma, quote, CR or LF quoted with quotes doubled. A field that
    /// starts with `=`, `+`, `-` or `@` and is not a number gets a leading
    /// `'` so a spreadsheet does not run it as a formula.
    pub fn csv(&self) -> String {
        fn field(out: &mut String, s: &str, numeric: bool) {
            let guarded = !numeric && s.starts_with(['=', '+', '-', '@']);
            let s = if guarded {
                format!("'{s}")
            } else {
                s.to_string()
            };
            if s.contains([',', '"', '\r', '\n']) {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(&s);
            }
        }
        let mut out = String::new();
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c.key, false);
        }
        out.push_str("\r\n");
        for row in &self.rows {
            for (i, c) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                field(
                    &mut out,
                    &c.text(),
                    matches!(c, Cell::Int(_) | Cell::Num(_)),
                );
            }
            out.push_str("\r\n");
        }
        out
    }
}

fn tile(key: &'static str, title: &str, chart: Chart, table: Table) -> Tile {
    Tile {
        key,
        title: title.to_string(),
        chart,
        table,
        note: None,
    }
}

impl Tile {
    fn note(mut self, n: impl Into<String>) -> Tile {
        self.note = Some(n.into());
        self
    }
}

// ---------------------------------------------------------------------
// Filters

/// §18's "last 30/90 days".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Period {
    Last30,
    #[default]
    Last90,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s.trim() {
            "30" | "30d" => Some(Period::Last30),
            "90" | "90d" => Some(Period::Last90),
            _ => None,
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Period::Last30 => 30,
            Period::Last90 => 90,
        }
    }
}

/// The account filters of §18 and the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub period: Period,
    pub industry: Option<Industry>,
    pub size: Option<CompanySize>,
    pub status: Option<AccountStatus>,
}

impl Filters {
    fn describe(&self) -> BTreeMap<&'static str, String> {
        let mut m = BTreeMap::new();
        m.insert("period", self.period.days().to_string());
        if let Some(v) = self.industry {
            m.insert("industry", v.as_str().to_string());
        }
        if let Some(v) = self.size {
            m.insert("size", v.as_str().to_string());
        }
        if let Some(v) = self.status {
            m.insert("status", v.as_str().to_string());
        }
        m
    }
}

/// The SLA dashboard's filters: the last `months` months (the running one
/// included) and optionally one tier.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaFilters {
    pub months: u8,
    pub tier: Option<Tier>,
}

impl Default for SlaFilters {
    fn default() -> Self {
        SlaFilters {
            months: 6,
            tier: None,
        }
    }
}

/// Who may read dashboards, and over which accounts.
#[derive(Debug, Clone, Copy)]
enum Reach {
    All,
    OwnerOf(i64),
}

fn reach(actor: &Actor) -> Result<Reach> {
    match actor.role() {
        Role::Admin | Role::Viewer => Ok(Reach::All),
        Role::Csm => Ok(Reach::OwnerOf(actor.id())),
        _ => Err(StoreError::Forbidden(
            "dashboards are for admins, viewers and CSMs".into(),
        )),
    }
}

/// The SQL condition (over alias `o`) selecting the accounts a dashboard
/// counts: the actor's reach and the filters.
fn accounts(reach: Reach, f: Option<&Filters>, args: &mut Args) -> String {
    let mut conds = Vec::new();
    if let Reach::OwnerOf(user) = reach {
        // An IN list rather than EXISTS, so the planner can start from the
        // CSM's few accounts instead of checking every row.
        conds.push(format!("o.id IN ({})", own_accounts(user, args)));
    }
    if let Some(f) = f {
        if let Some(v) = f.industry {
            conds.push(format!("o.industry = {}", args.text(v.as_str())));
        }
        if let Some(v) = f.size {
            conds.push(format!("o.company_size = {}", args.text(v.as_str())));
        }
        if let Some(v) = f.status {
            conds.push(format!("o.account_status = {}", args.text(v.as_str())));
        }
    }
    and_all(&conds)
}

/// ` AND col IN (accounts)`, or nothing when every account counts (the
/// planner would otherwise list all of them first).
fn within(col: &str, acct: &str) -> String {
    if acct == "1 = 1" {
        String::new()
    } else {
        format!(" AND {col} IN (SELECT o.id FROM organizations o WHERE {acct})")
    }
}

/// The ids of the accounts a CSM owns a project of (a subquery).
fn own_accounts(user: i64, args: &mut Args) -> String {
    format!(
        "SELECT sp.organization_id FROM projects sp WHERE sp.owner_id = {}",
        args.int(user)
    )
}

/// The account filters over a roll-up row (alias `d`), whose segment
/// columns are `''` where the account has no value.
fn segment(f: &Filters, args: &mut Args) -> String {
    let mut conds = Vec::new();
    if let Some(v) = f.industry {
        conds.push(format!("d.industry = {}", args.text(v.as_str())));
    }
    if let Some(v) = f.size {
        conds.push(format!("d.company_size = {}", args.text(v.as_str())));
    }
    if let Some(v) = f.status {
        conds.push(format!("d.account_status = {}", args.text(v.as_str())));
    }
    and_all(&conds)
}

/// Whether a roll-up of the closed day starting at `day` computed at `at`
/// can be used at `now`: computed after the day ended, and either a full
/// day after (late changes settled) or less than a day ago.
fn settled(day: i64, at: i64, now: i64) -> bool {
    let end = day + DAY;
    at >= end && (at >= end + DAY || now - at < DAY)
}

/// Segment columns of an account row (alias `o`) for the roll-ups.
const SEGMENT: &str =
    "COALESCE(o.industry, '') AS si, COALESCE(o.company_size, '') AS sz, o.account_status AS ss";

/// `CASE` giving the index of the `[start, end)` range `col` falls in
/// (NULL outside them all), and the `OR` of the ranges for the `WHERE`.
fn buckets(col: &str, ranges: &[(i64, i64)], args: &mut Args) -> (String, String) {
    let mut case = String::from("CASE");
    let mut ors = Vec::new();
    for (i, (a, b)) in ranges.iter().enumerate() {
        let (a, b) = (args.int(*a), args.int(*b));
        case.push_str(&format!(" WHEN {col} >= {a} AND {col} < {b} THEN {i}"));
        ors.push(format!("({col} >= {a} AND {col} < {b})"));
    }
    case.push_str(" END");
    let ors = if ors.is_empty() {
        "1 = 0".to_string()
    } else {
        format!("({})", ors.join(" OR "))
    };
    (case, ors)
}

fn level_label(level: &str) -> String {
    level.to_uppercase()
}

const LEVELS: [&str; 4] = ["green", "yellow", "orange", "red"];

fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

fn int(r: &sqlx::any::AnyRow, col: &str) -> Result<i64> {
    Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

/// The months of the last `n` (oldest first), the one holding `now` last.
fn last_months(now: i64, n: usize) -> Vec<Month> {
    let mut out = vec![Month::of_instant(now)];
    while out.len() < n {
        let first = out[0];
        out.insert(0, Month::of_instant(first.start() - 1));
    }
    out
}

/// A factor as stored in `health_current.factors`.
#[derive(Deserialize)]
struct StoredFactor {
    key: String,
    #[serde(default)]
    label: String,
    points: i64,
}

// ---------------------------------------------------------------------
// Projects, set-based (phase, timeline health, readiness)

/// What a project template says about phases and readiness; the rest of
/// the stored copy is skipped.
#[derive(Deserialize)]
struct TemplateHead {
    days: u32,
    phases: Vec<PhaseDef>,
    #[serde(default)]
    checklist: Vec<ChecklistDef>,
}

impl TemplateHead {
    fn phase_of(&self, day: u32) -> Option<&PhaseDef> {
        self.phases
            .iter()
            .find(|p| day >= p.first_day && day <= p.last_day)
            .or(self.phases.last())
    }
}

/// An active project as the dashboards need it.
#[derive(Debug, Clone)]
struct ProjectState {
    name: String,
    account: String,
    day: u32,
    total_days: u32,
    phase: u32,
    phase_name: String,
    health: Health,
    ready_items: usize,
    checklist_items: usize,
    /// The checklist items not green, by name.
    missing: Vec<String>,
    uat_pass_pct: Option<f64>,
    data_accuracy_pct: Option<f64>,
}

/// (key, status, planned date, critical path) of a milestone.
type MilestoneRow = (Option<String>, String, String, bool);

#[derive(Default)]
struct MilestoneAgg {
    total: usize,
    completed: usize,
    overdue: usize,
    critical: usize,
    completed_keys: BTreeSet<String>,
}

impl Store {
    /// Active projects of the accounts selected by `acct` (built with
    /// `args`), with phase, timeline health and readiness as the project
    /// overview computes them.
    async fn project_states(
        &self,
        conn: &mut sqlx::AnyConnection,
        reach: Reach,
        f: &Filters,
        now: i64,
    ) -> Result<Vec<ProjectState>> {
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let scope = format!("p.status = 'active'{}", within("p.organization_id", &acct));
        let sql = format!(
            "SELECT p.id, p.name, o.name AS account, p.organization_id, p.calendar, p.start_date,
                    p.target_go_live, p.go_live_date, p.template
             FROM projects p JOIN organizations o ON o.id = p.organization_id
             WHERE {scope} ORDER BY p.id"
        );
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let calendars = self.calendars().await?;

        let sql = format!(
            "SELECT m.project_id, m.key, m.status, m.planned_date, m.critical_path
             FROM project_milestones m JOIN projects p ON p.id = m.project_id WHERE {scope}"
        );
        let mut milestones: BTreeMap<i64, Vec<MilestoneRow>> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            milestones
                .entry(r.try_get("project_id")?)
                .or_default()
                .push((
                    opt_str(&r, "key")?,
                    r.try_get("status")?,
                    r.try_get("planned_date")?,
                    r.try_get::<i64, _>("critical_path")? != 0,
                ));
        }
        let sql = format!(
            "SELECT t.project_id, COUNT(*) AS n,
                    SUM(CASE WHEN t.status = 'completed' THEN 1 ELSE 0 END) AS done
             FROM tasks t JOIN projects p ON p.id = t.project_id WHERE {scope} GROUP BY t.project_id"
        );
        let mut tasks: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            tasks.insert(
                r.try_get("project_id")?,
                (int(&r, "n")? as usize, int(&r, "done")? as usize),
            );
        }
        let sql = format!(
            "SELECT t.project_id, t.plan_key FROM tasks t JOIN projects p ON p.id = t.project_id
             WHERE {scope} AND t.status = 'completed' AND t.plan_key IS NOT NULL"
        );
        let mut done_tasks: BTreeSet<(i64, String)> = BTreeSet::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            done_tasks.insert((r.try_get("project_id")?, r.try_get("plan_key")?));
        }
        let sql = format!(
            "SELECT c.project_id, c.key, c.green FROM project_checks c JOIN projects p ON p.id = c.project_id
             WHERE {scope}"
        );
        let mut checks: BTreeMap<(i64, String), bool> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            checks.insert(
                (r.try_get("project_id")?, r.try_get("key")?),
                r.try_get::<i64, _>("green")? != 0,
            );
        }

        struct Loaded {
            id: i64,
            name: String,
            account: String,
            org: i64,
            today: Date,
            day: u32,
            head: TemplateHead,
            moved: bool,
        }
        let mut loaded = Vec::with_capacity(rows.len());
        let mut metric_rules: BTreeSet<(String, String, Option<u32>)> = BTreeSet::new();
        for r in &rows {
            let head: TemplateHead = serde_json::from_str(&r.try_get::<String, _>("template")?)?;
            let cal_name: String = r.try_get("calendar")?;
            let Some(cal) = calendars.calendar(&cal_name) else {
                return Err(StoreError::Corrupt(format!("no calendar named {cal_name}")));
            };
            let today = local_date(now, cal.time_zone());
            let start = parse_date(&r.try_get::<String, _>("start_date")?)?;
            let days = working_days(cal, start, head.days as usize);
            let day = day_number(&days, today) as u32;
            let target: String = r.try_get("target_go_live")?;
            let planned: String = r.try_get("go_live_date")?;
            for c in &head.checklist {
                if let ReadinessRule::Metric {
                    metric,
                    field,
                    window_days,
                    ..
                } = &c.rule
                {
                    metric_rules.insert((metric.clone(), field.clone(), *window_days));
                }
            }
            loaded.push(Loaded {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                account: r.try_get("account")?,
                org: r.try_get("organization_id")?,
                today,
                day,
                head,
                moved: parse_date(&planned)? > parse_date(&target)?,
            });
        }
        // The quality figures of the implementation dashboard are latest
        // measurements too: read them with the readiness metrics.
        metric_rules.insert(("implementation_health".into(), "uat_pass_pct".into(), None));
        metric_rules.insert(("data_quality".into(), "accuracy_pct".into(), None));
        let orgs = format!("SELECT p.organization_id FROM projects p WHERE {scope}");
        let mut values: BTreeMap<(String, String, Option<u32>), BTreeMap<i64, f64>> =
            BTreeMap::new();
        for (metric, field, window) in metric_rules {
            let v = self
                .metric_values(conn, &metric, &field, window, &orgs, &args, now)
                .await?;
            values.insert((metric, field, window), v);
        }
        let latest = |metric: &str, field: &str, org: i64| {
            values
                .get(&(metric.to_string(), field.to_string(), None))
                .and_then(|m| m.get(&org))
                .copied()
        };

        let mut out = Vec::with_capacity(loaded.len());
        for p in loaded {
            let mut agg = MilestoneAgg::default();
            for (key, status, planned, critical) in milestones.get(&p.id).into_iter().flatten() {
                agg.total += 1;
                let completed = status == "completed";
                if completed {
                    agg.completed += 1;
                    if let Some(k) = key {
                        agg.completed_keys.insert(k.clone());
                    }
                }
                let overdue = !completed && parse_date(planned).is_ok_and(|d| d < p.today);
                if overdue {
                    agg.overdue += 1;
                }
                if *critical && (status == "at-risk" || overdue) {
                    agg.critical += 1;
                }
            }
            let (task_total, task_done) = tasks.get(&p.id).copied().unwrap_or((0, 0));
            let completion_pct = if task_total == 0 {
                project::pct(agg.completed, agg.total)
            } else {
                project::pct(task_done, task_total)
            };
            let health = project::timeline_health(&TimelineFacts {
                day: p.day,
                total_days: p.head.days,
                completion_pct,
                overdue_milestones: agg.overdue,
                critical_at_risk: agg.critical,
                go_live_moved: p.moved,
            });
            let mut missing = Vec::new();
            for c in &p.head.checklist {
                let ticked = checks.get(&(p.id, c.key.clone())).copied();
                let green = match &c.rule {
                    ReadinessRule::Metric {
                        metric,
                        field,
                        at_least,
                        window_days,
                    } => match values
                        .get(&(metric.clone(), field.clone(), *window_days))
                        .and_then(|m| m.get(&p.org))
                    {
                        Some(v) => v + 1e-9 >= *at_least,
                        None => ticked.unwrap_or(false),
                    },
                    ReadinessRule::Milestone { milestone } => {
                        agg.completed_keys.contains(milestone)
                    }
                    ReadinessRule::Task { task } => {
                        done_tasks.contains(&(p.id, task.clone())) || ticked == Some(true)
                    }
                    ReadinessRule::Manual { .. } => ticked.unwrap_or(false),
                };
                if !green {
                    missing.push(c.item.clone());
                }
            }
            let phase = p.head.phase_of(p.day.max(1));
            out.push(ProjectState {
                name: p.name,
                account: p.account,
                day: p.day,
                total_days: p.head.days,
                phase: phase.map_or(1, |ph| ph.number),
                phase_name: phase.map_or_else(String::new, |ph| ph.name.clone()),
                health,
                ready_items: p.head.checklist.len() - missing.len(),
                checklist_items: p.head.checklist.len(),
                missing,
                uat_pass_pct: latest("implementation_health", "uat_pass_pct", p.org),
                data_accuracy_pct: latest("data_quality", "accuracy_pct", p.org),
            });
        }
        Ok(out)
    }

    /// One metric field per account of `orgs` (a subquery built with
    /// `args`): the mean over the last `window` days, or the latest value.
    #[allow(clippy::too_many_arguments)]
    async fn metric_values(
        &self,
        conn: &mut sqlx::AnyConnection,
        metric: &str,
        field: &str,
        window: Option<u32>,
        orgs: &str,
        args: &Args,
        now: i64,
    ) -> Result<BTreeMap<i64, f64>> {
        let mut args = args.clone();
        let (m, fl, to) = (args.text(metric), args.text(field), args.int(now));
        let sql = match window {
            Some(d) => {
                let from = args.int(now - i64::from(d) * DAY);
                format!(
                    "SELECT m.organization_id, CAST(AVG(m.value) AS DOUBLE PRECISION) AS v, 0 AS id FROM measurements m
                     WHERE m.metric = {m} AND m.field = {fl} AND m.measured_at > {from} AND m.measured_at <= {to}
                       AND m.organization_id IN ({orgs}) GROUP BY m.organization_id"
                )
            }
            None => format!(
                "SELECT m.organization_id, m.value AS v, m.id FROM measurements m
                 JOIN (SELECT organization_id, MAX(measured_at) AS at FROM measurements
                       WHERE metric = {m} AND field = {fl} AND measured_at <= {to}
                         AND organization_id IN ({orgs}) GROUP BY organization_id) x
                   ON x.organization_id = m.organization_id AND m.measured_at = x.at
                 WHERE m.metric = {m} AND m.field = {fl}"
            ),
        };
        let mut out: BTreeMap<i64, (i64, f64)> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let org: i64 = r.try_get("organization_id")?;
            let id: i64 = r.try_get("id")?;
            let v = row_f64(&r, "v")?;
            let e = out.entry(org).or_insert((id, v));
            if id >= e.0 {
                *e = (id, v);
            }
        }
        Ok(out.into_iter().map(|(k, (_, v))| (k, v)).collect())
    }
}

// ---------------------------------------------------------------------
// Daily roll-ups (tickets per day, risk samples) for the whole portfolio,
// in `dashboard_days` (migration 20)

/// A roll-up row: day, industry, size, status, level, n, m, v.
type DayRow = (i64, String, String, String, String, i64, i64, i64);

/// (day, industry, size, status) of a roll-up row.
type SegmentDay = (i64, String, String, String);

/// Per day start: (tickets created, solved, seconds to solve those solved).
type DayTotals = BTreeMap<i64, (i64, i64, i64)>;

/// Per (sample index, level): (accounts, risk sum, ACV cents).
type Samples = BTreeMap<(usize, String), (i64, i64, i64)>;

fn day_of(t: i64) -> i64 {
    t - t.rem_euclid(DAY)
}

fn day_list(days: &[i64]) -> String {
    days.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The days among `days` (closed day starts) whose `kind` roll-up is
    /// missing or not [`settled`].
    async fn stale_days(
        &self,
        conn: &mut sqlx::AnyConnection,
        kind: &str,
        days: &[i64],
        now: i64,
    ) -> Result<Vec<i64>> {
        if days.is_empty() {
            return Ok(Vec::new());
        }
        let mut done: BTreeMap<i64, i64> = BTreeMap::new();
        for r in sqlx::query(&format!(
            "SELECT day, computed_at FROM dashboard_days_computed WHERE kind = $1 AND day IN ({})",
            day_list(days)
        ))
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?
        {
            done.insert(r.try_get("day")?, r.try_get("computed_at")?);
        }
        Ok(days
            .iter()
            .copied()
            .filter(|d| !done.get(d).is_some_and(|at| settled(*d, *at, now)))
            .collect())
    }

    /// Replaces the `kind` roll-up of `days` with `rows`, in one
    /// transaction; concurrent refreshes of the same day upsert.
    async fn store_days(&self, kind: &str, days: &[i64], rows: &[DayRow], now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "DELETE FROM dashboard_days WHERE kind = $1 AND day IN ({})",
            day_list(days)
        ))
        .bind(kind)
        .execute(&mut *tx)
        .await?;
        for chunk in rows.chunks(200) {
            let mut args = Args::default();
            let values: Vec<String> = chunk
                .iter()
                .map(|r| {
                    format!(
                        "({}, {}, {}, {}, {}, {}, {}, {}, {})",
                        args.text(kind),
                        args.int(r.0),
                        args.text(r.1.as_str()),
                        args.text(r.2.as_str()),
                        args.text(r.3.as_str()),
                        args.text(r.4.as_str()),
                        args.int(r.5),
                        args.int(r.6),
                        args.int(r.7)
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO dashboard_days (kind, day, industry, company_size, account_status, level, n, m, v)
                 VALUES {} ON CONFLICT (kind, day, industry, company_size, account_status, level)
                 DO UPDATE SET n = excluded.n, m = excluded.m, v = excluded.v",
                values.join(", ")
            );
            args.bind(sqlx::query(&sql)).execute(&mut *tx).await?;
        }
        for d in days {
            sqlx::query(
                "INSERT INTO dashboard_days_computed (kind, day, computed_at) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, day) DO UPDATE SET computed_at = excluded.computed_at",
            )
            .bind(kind)
            .bind(*d)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx).await
    }

    /// Tickets created and solved per day from the day starting `first`
    /// to now, of the accounts the dashboard counts. The portfolio reads
    /// the daily roll-up (closed days) plus today live; a CSM's few
    /// accounts are read directly.
    async fn ticket_days(
        &self,
        conn: &mut sqlx::AnyConnection,
        reach: Reach,
        f: &Filters,
        first: i64,
        now: i64,
    ) -> Result<DayTotals> {
        let today = day_of(now);
        if let Reach::OwnerOf(_) = reach {
            return self.ticket_totals(conn, reach, f, first, now + 1).await;
        }
        let days: Vec<i64> = (0..)
            .map(|i| first + i * DAY)
            .take_while(|d| *d < today)
            .collect();
        let stale = self.stale_days(conn, "tickets", &days, now).await?;
        if let (Some(a), Some(b)) = (stale.first(), stale.last()) {
            let mut rows: BTreeMap<SegmentDay, (i64, i64, i64)> = BTreeMap::new();
            for col in ["created_at", "solved_at"] {
                let v = if col == "solved_at" {
                    "CAST(SUM(t.solved_at - t.created_at) AS BIGINT)"
                } else {
                    "0"
                };
                let sql = format!(
                    "SELECT t.{col} / 86400 AS d, {SEGMENT}, COUNT(*) AS n, {v} AS v
                     FROM tickets t JOIN organizations o ON o.id = t.organization_id
                     WHERE t.deleted = 0 AND t.{col} >= $1 AND t.{col} < $2 GROUP BY 1, 2, 3, 4"
                );
                for r in sqlx::query(&sql)
                    .bind(*a)
                    .bind(b + DAY)
                    .fetch_all(&mut *conn)
                    .await?
                {
                    let key = (
                        int(&r, "d")? * DAY,
                        r.try_get("si")?,
                        r.try_get("sz")?,
                        r.try_get("ss")?,
                    );
                    let e = rows.entry(key).or_default();
                    if col == "created_at" {
                        e.0 += int(&r, "n")?;
                    } else {
                        e.1 += int(&r, "n")?;
                        e.2 += int(&r, "v")?;
                    }
                }
            }
            let rows: Vec<DayRow> = rows
                .into_iter()
                .filter(|((d, ..), _)| stale.contains(d))
                .map(|((d, i, z, s), (n, m, v))| (d, i, z, s, String::new(), n, m, v))
                .collect();
            self.store_days("tickets", &stale, &rows, now).await?;
        }
        let mut args = Args::default();
        let seg = segment(f, &mut args);
        let (a, b) = (args.int(first), args.int(today));
        let sql = format!(
            "SELECT d.day, CAST(SUM(d.n) AS BIGINT) AS n, CAST(SUM(d.m) AS BIGINT) AS m, CAST(SUM(d.v) AS BIGINT) AS v
             FROM dashboard_days d WHERE d.kind = 'tickets' AND d.day >= {a} AND d.day < {b} AND {seg}
             GROUP BY d.day"
        );
        let mut out = DayTotals::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            out.insert(
                r.try_get("day")?,
                (int(&r, "n")?, int(&r, "m")?, int(&r, "v")?),
            );
        }
        out.extend(self.ticket_totals(conn, reach, f, today, now + 1).await?);
        Ok(out)
    }

    /// Tickets created and solved per day in `[from, to)`, read from the
    /// tickets themselves.
    async fn ticket_totals(
        &self,
        conn: &mut sqlx::AnyConnection,
        reach: Reach,
        f: &Filters,
        from: i64,
        to: i64,
    ) -> Result<DayTotals> {
        let mut out = DayTotals::new();
        for col in ["created_at", "solved_at"] {
            let mut args = Args::default();
            let acct = accounts(reach, Some(f), &mut args);
            let own = match reach {
                Reach::OwnerOf(u) => {
                    format!(" AND t.organization_id IN ({})", own_accounts(u, &mut args))
                }
                Reach::All => String::new(),
            };
            let (a, b) = (args.int(from), args.int(to));
            let v = if col == "solved_at" {
                "CAST(SUM(t.solved_at - t.created_at) AS BIGINT)"
            } else {
                "0"
            };
            let sql = format!(
                "SELECT t.{col} / 86400 AS d, COUNT(*) AS n, {v} AS v
                 FROM tickets t JOIN organizations o ON o.id = t.organization_id
                 WHERE t.deleted = 0 AND t.{col} >= {a} AND t.{col} < {b}{own} AND {acct} GROUP BY 1"
            );
            for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
                let e = out.entry(int(&r, "d")? * DAY).or_default();
                if col == "created_at" {
                    e.0 += int(&r, "n")?;
                } else {
                    e.1 += int(&r, "n")?;
                    e.2 += int(&r, "v")?;
                }
            }
        }
        Ok(out)
    }

    /// Risk by level at each of `days` (day starts): each account's last
    /// history row of the day; today, the current scores.
    async fn risk_samples(
        &self,
        conn: &mut sqlx::AnyConnection,
        reach: Reach,
        f: &Filters,
        days: &[i64],
        now: i64,
    ) -> Result<Samples> {
        let today = day_of(now);
        let mut out = Samples::new();
        let mut add = |day: i64, level: String, v: (i64, i64, i64)| {
            for (i, _) in days.iter().enumerate().filter(|(_, d)| **d == day) {
                let e = out.entry((i, level.clone())).or_default();
                e.0 += v.0;
                e.1 += v.1;
                e.2 += v.2;
            }
        };
        if days.contains(&today) {
            let mut args = Args::default();
            let acct = accounts(reach, Some(f), &mut args);
            let sql = format!(
                "SELECT h.level, COUNT(*) AS n, CAST(SUM(h.risk) AS BIGINT) AS m,
                        CAST(SUM(COALESCE(o.acv_cents, 0)) AS BIGINT) AS v
                 FROM health_current h JOIN organizations o ON o.id = h.organization_id
                 WHERE {acct} GROUP BY h.level"
            );
            for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
                add(
                    today,
                    r.try_get("level")?,
                    (int(&r, "n")?, int(&r, "m")?, int(&r, "v")?),
                );
            }
        }
        let closed: Vec<i64> = days
            .iter()
            .copied()
            .filter(|d| *d < today)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if closed.is_empty() {
            return Ok(out);
        }
        match reach {
            Reach::All => {
                let stale = self.stale_days(conn, "risk", &closed, now).await?;
                let mut rows: Vec<DayRow> = Vec::new();
                for d in &stale {
                    let sql = format!(
                        "SELECT {SEGMENT}, h.level, COUNT(*) AS n, CAST(SUM(h.risk) AS BIGINT) AS m,
                                CAST(SUM(COALESCE(o.acv_cents, 0)) AS BIGINT) AS v
                         FROM (SELECT MAX(id) AS id FROM health_scores WHERE computed_at >= $1 AND computed_at < $2
                               GROUP BY organization_id) s
                         JOIN health_scores h ON h.id = s.id JOIN organizations o ON o.id = h.organization_id
                         GROUP BY 1, 2, 3, 4"
                    );
                    for r in sqlx::query(&sql)
                        .bind(*d)
                        .bind(d + DAY)
                        .fetch_all(&mut *conn)
                        .await?
                    {
                        rows.push((
                            *d,
                            r.try_get("si")?,
                            r.try_get("sz")?,
                            r.try_get("ss")?,
                            r.try_get("level")?,
                            int(&r, "n")?,
                            int(&r, "m")?,
                            int(&r, "v")?,
                        ));
                    }
                }
                if !stale.is_empty() {
                    self.store_days("risk", &stale, &rows, now).await?;
                }
                let mut args = Args::default();
                let seg = segment(f, &mut args);
                let sql = format!(
                    "SELECT d.day, d.level, CAST(SUM(d.n) AS BIGINT) AS n, CAST(SUM(d.m) AS BIGINT) AS m,
                            CAST(SUM(d.v) AS BIGINT) AS v
                     FROM dashboard_days d WHERE d.kind = 'risk' AND d.day IN ({}) AND {seg}
                     GROUP BY d.day, d.level",
                    day_list(&closed)
                );
                for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
                    add(
                        r.try_get("day")?,
                        r.try_get("level")?,
                        (int(&r, "n")?, int(&r, "m")?, int(&r, "v")?),
                    );
                }
            }
            Reach::OwnerOf(u) => {
                let ranges: Vec<(i64, i64)> = closed.iter().map(|d| (*d, d + DAY)).collect();
                let mut args = Args::default();
                let (case, ors) = buckets("computed_at", &ranges, &mut args);
                let own = own_accounts(u, &mut args);
                let acct = accounts(reach, Some(f), &mut args);
                let sql = format!(
                    "SELECT s.b, h.level, COUNT(*) AS n, CAST(SUM(h.risk) AS BIGINT) AS m,
                            CAST(SUM(COALESCE(o.acv_cents, 0)) AS BIGINT) AS v
                     FROM (SELECT {case} AS b, MAX(id) AS id FROM health_scores
                           WHERE organization_id IN ({own}) AND {ors} GROUP BY 1, organization_id) s
                     JOIN health_scores h ON h.id = s.id JOIN organizations o ON o.id = h.organization_id
                     WHERE {acct} GROUP BY 1, 2"
                );
                for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
                    let Some(day) = closed.get(int(&r, "b")? as usize) else {
                        continue;
                    };
                    add(
                        *day,
                        r.try_get("level")?,
                        (int(&r, "n")?, int(&r, "m")?, int(&r, "v")?),
                    );
                }
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------
// The dashboards

/// The setting that records the UTC day the dashboards were last warmed.
const WARMED_SETTING: &str = "dashboards_warmed_on";

impl Store {
    /// Computes, once per UTC day, what the first dashboard request of the
    /// day would otherwise compute while someone waits (about 1.5 s on a
    /// million tickets): the daily roll-ups of the day that just closed
    /// and the SLA months, by drawing each dashboard once with its default
    /// filters as an administrator would see it. The worker's schedule
    /// calls this every minute; it returns whether it did the work. Other
    /// filter choices (another period, a segment) reuse the same roll-ups.
    pub async fn warm_dashboards(&self, now: i64) -> Result<bool> {
        let today = utc_date(now).to_string();
        if self.setting(WARMED_SETTING).await? == Some(serde_json::json!(today)) {
            return Ok(false);
        }
        let system = Actor::system(now);
        for name in DashboardName::ALL {
            self.dashboard(
                &system,
                name,
                &Filters::default(),
                &SlaFilters::default(),
                now,
            )
            .await?;
        }
        self.put_setting(WARMED_SETTING, &serde_json::json!(today), now)
            .await?;
        Ok(true)
    }

    /// Any dashboard by name (the SLA one with its own filters).
    pub async fn dashboard(
        &self,
        actor: &Actor,
        name: DashboardName,
        f: &Filters,
        sla: &SlaFilters,
        now: i64,
    ) -> Result<Dashboard> {
        match name {
            DashboardName::CustomerHealth => self.customer_health_dashboard(actor, f, now).await,
            DashboardName::Implementation => self.implementation_dashboard(actor, f, now).await,
            DashboardName::CsmKpis => self.csm_kpis_dashboard(actor, f, now).await,
            DashboardName::ChurnRisk => self.churn_risk_dashboard(actor, f, now).await,
            DashboardName::Sla => self.sla_dashboard(actor, sla, now).await,
        }
    }

    /// §18 customer health: health score distribution, NPS trend vs 50,
    /// implementation progress by phase, at-risk accounts, expansion
    /// opportunities, renewals timeline.
    pub async fn customer_health_dashboard(
        &self,
        actor: &Actor,
        f: &Filters,
        now: i64,
    ) -> Result<Dashboard> {
        let reach = reach(actor)?;
        let mut conn = self.reader().await?;
        let mut tiles = Vec::new();

        // Health score distribution, in bands of 10 (90–100 together).
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT h.health / 10 AS b, COUNT(*) AS n FROM health_current h
             JOIN organizations o ON o.id = h.organization_id WHERE {acct} GROUP BY h.health / 10"
        );
        let mut bands = [0i64; 10];
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let b = int(&r, "b")?.clamp(0, 9) as usize;
            bands[b] += int(&r, "n")?;
        }
        let mut t = Table::new(&[("band", "Health score"), ("accounts", "Accounts")]);
        for (i, n) in bands.iter().enumerate() {
            let band = if i == 9 {
                "90-100".to_string()
            } else {
                format!("{}-{}", i * 10, i * 10 + 9)
            };
            t.push(vec![band.into(), (*n).into()]);
        }
        tiles.push(
            tile(
                "health_distribution",
                "Health score distribution",
                Chart::new(ChartKind::Bar, 0, vec![1]),
                t,
            )
            .note("Accounts by current health score (100 − risk); accounts never scored are not counted."),
        );

        // NPS trend, last four quarters, against the target of 50.
        let m = Month::of_instant(now);
        let quarters = Quarter::of_month(m.year() as i32, m.number() as i8).last_four();
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let qs: Vec<String> = quarters.iter().map(ToString::to_string).collect();
        let list = args.texts(&qs.iter().map(String::as_str).collect::<Vec<_>>());
        let sql = format!(
            "SELECT c.quarter, r.category, COUNT(*) AS n FROM nps_responses r
             JOIN nps_campaigns c ON c.id = r.campaign_id JOIN organizations o ON o.id = r.organization_id
             WHERE c.quarter IN ({list}) AND {acct} GROUP BY c.quarter, r.category"
        );
        let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let c = Category::parse(&r.try_get::<String, _>("category")?)?;
            let n = int(&r, "n")?;
            let t = tallies.entry(r.try_get("quarter")?).or_default();
            for _ in 0..n {
                t.add(c);
            }
        }
        let mut t = Table::new(&[
            ("quarter", "Quarter"),
            ("nps", "NPS"),
            ("target", "Target"),
            ("responses", "Responses"),
            ("promoters", "Promoters"),
            ("passives", "Passives"),
            ("detractors", "Detractors"),
        ]);
        for q in &qs {
            let tally = tallies.get(q).copied().unwrap_or_default();
            t.push(vec![
                q.as_str().into(),
                tally.nps().map(i64::from).into(),
                50i64.into(),
                i64::from(tally.responses()).into(),
                i64::from(tally.promoters).into(),
                i64::from(tally.passives).into(),
                i64::from(tally.detractors).into(),
            ]);
        }
        tiles.push(
            tile(
                "nps_trend",
                "NPS trend vs target",
                Chart::new(ChartKind::Line, 0, vec![1]).target("Target 50", 50.0),
                t,
            )
            .note("A quarter's NPS is that of its campaigns' answers (§10); empty quarters have no NPS."),
        );

        // Implementation progress by phase.
        let projects = self.project_states(&mut conn, reach, f, now).await?;
        tiles.push(phase_tile(
            "implementation_by_phase",
            "Implementation progress by phase",
            &projects,
        ));

        // At-risk accounts (ORANGE and RED), riskiest first.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT o.name, h.risk, h.level, o.acv_cents, o.renewal_date, h.factors FROM health_current h
             JOIN organizations o ON o.id = h.organization_id
             WHERE h.level IN ('orange', 'red') AND {acct} ORDER BY h.risk DESC, o.id LIMIT {TOP}"
        );
        let mut t = Table::new(&[
            ("account", "Account"),
            ("risk", "Risk score"),
            ("level", "Level"),
            ("arr_usd", "ARR ($)"),
            ("renewal_date", "Renewal"),
            ("top_driver", "Top risk driver"),
        ]);
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let factors: Vec<StoredFactor> =
                serde_json::from_str(&r.try_get::<String, _>("factors")?)?;
            let top = factors
                .iter()
                .filter(|f| f.points > 0)
                .max_by_key(|f| f.points)
                .map(|f| f.label.clone());
            t.push(vec![
                r.try_get::<String, _>("name")?.into(),
                int(&r, "risk")?.into(),
                level_label(&r.try_get::<String, _>("level")?).into(),
                Cell::usd(int(&r, "acv_cents")?),
                opt_str(&r, "renewal_date")?.map_or(Cell::Null, Cell::Text),
                top.map_or(Cell::Null, Cell::Text),
            ]);
        }
        tiles.push(
            tile(
                "at_risk_accounts",
                "At-risk accounts",
                Chart::new(ChartKind::Bar, 0, vec![1]),
                t,
            )
            .note(format!("ORANGE and RED accounts, the {TOP} riskiest.")),
        );

        // Expansion opportunities opened in the period, still open.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let since = args.int(now - f.period.days() * DAY);
        let sql = format!(
            "SELECT o.name, e.title, e.arr_cents, e.probability_pct FROM expansion_opportunities e
             JOIN organizations o ON o.id = e.organization_id
             WHERE e.status = 'open' AND e.created_at > {since} AND {acct}
             ORDER BY e.arr_cents DESC, e.id LIMIT {TOP}"
        );
        let mut t = Table::new(&[
            ("account", "Account"),
            ("opportunity", "Opportunity"),
            ("arr_usd", "ARR ($)"),
            ("probability_pct", "Probability (%)"),
            ("weighted_usd", "Weighted ($)"),
        ]);
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let arr = int(&r, "arr_cents")?;
            let p = int(&r, "probability_pct")?;
            t.push(vec![
                r.try_get::<String, _>("name")?.into(),
                r.try_get::<String, _>("title")?.into(),
                Cell::usd(arr),
                p.into(),
                Cell::usd(arr * p / 100),
            ]);
        }
        tiles.push(
            tile(
                "expansion_opportunities",
                "Expansion opportunities",
                Chart::new(ChartKind::Bar, 0, vec![2, 4]),
                t,
            )
            .note(format!(
                "Open opportunities opened in the last {} days, largest first.",
                f.period.days()
            )),
        );

        // Renewals timeline: the next 12 months, ARR by current level.
        let today = utc_date(now);
        let months = {
            let mut v = vec![Month::of_instant(now)];
            while v.len() < 12 {
                let last = v[v.len() - 1];
                v.push(last.next());
            }
            v
        };
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let from = args.text(today.to_string());
        let to = args.text(utc_date(months[11].end()).to_string());
        let sql = format!(
            "SELECT SUBSTR(o.renewal_date, 1, 7) AS m, COALESCE(h.level, 'unscored') AS level,
                    COUNT(*) AS n, CAST(SUM(COALESCE(o.acv_cents, 0)) AS BIGINT) AS arr
             FROM organizations o LEFT JOIN health_current h ON h.organization_id = o.id
             WHERE o.renewal_date >= {from} AND o.renewal_date < {to} AND {acct}
             GROUP BY SUBSTR(o.renewal_date, 1, 7), COALESCE(h.level, 'unscored')"
        );
        let mut by_month: BTreeMap<String, (i64, [i64; 5])> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let level: String = r.try_get("level")?;
            let i = LEVELS.iter().position(|l| *l == level).unwrap_or(4);
            let e = by_month.entry(r.try_get("m")?).or_default();
            e.0 += int(&r, "n")?;
            e.1[i] += int(&r, "arr")?;
        }
        let mut t = Table::new(&[
            ("month", "Month"),
            ("renewals", "Renewals"),
            ("green_usd", "GREEN ARR ($)"),
            ("yellow_usd", "YELLOW ARR ($)"),
            ("orange_usd", "ORANGE ARR ($)"),
            ("red_usd", "RED ARR ($)"),
            ("unscored_usd", "Unscored ARR ($)"),
        ]);
        for m in &months {
            let (n, arr) = by_month.get(&m.to_string()).copied().unwrap_or_default();
            let mut row = vec![m.to_string().into(), n.into()];
            row.extend(arr.iter().map(|c| Cell::usd(*c)));
            t.push(row);
        }
        tiles.push(
            tile(
                "renewals_timeline",
                "Renewals timeline",
                Chart::new(ChartKind::StackedBar, 0, vec![2, 3, 4, 5, 6]),
                t,
            )
            .note("Renewal dates from today to 12 months ahead, ARR by the account's current risk level."),
        );

        Ok(Dashboard {
            name: DashboardName::CustomerHealth.as_str(),
            title: DashboardName::CustomerHealth.title(),
            generated_at: now,
            filters: f.describe(),
            tiles,
        })
    }

    /// §18 implementation progress: projects by phase; on-track / at-risk /
    /// delayed; blockers by type; hours budget vs actual by phase; UAT pass
    /// rate and data migration accuracy; go-live readiness per project.
    pub async fn implementation_dashboard(
        &self,
        actor: &Actor,
        f: &Filters,
        now: i64,
    ) -> Result<Dashboard> {
        let reach = reach(actor)?;
        let mut conn = self.reader().await?;
        let projects = self.project_states(&mut conn, reach, f, now).await?;
        let mut tiles = vec![phase_tile(
            "projects_by_phase",
            "Projects by phase",
            &projects,
        )];

        let mut t = Table::new(&[("health", "Timeline health"), ("projects", "Projects")]);
        for h in [Health::OnTrack, Health::AtRisk, Health::Delayed] {
            let n = projects.iter().filter(|p| p.health == h).count();
            t.push(vec![h.as_str().into(), n.into()]);
        }
        tiles.push(
            tile(
                "timeline_health",
                "On track / at risk / delayed",
                Chart::new(ChartKind::Bar, 0, vec![1]),
                t,
            )
            .note("§13: delayed when go-live moved; on track when completion ≥ planned − 10 points with no overdue milestone."),
        );

        let scope = |args: &mut Args| {
            let acct = accounts(reach, Some(f), args);
            format!("p.status = 'active'{}", within("p.organization_id", &acct))
        };

        // Blockers: open risks by type and RAG.
        let mut args = Args::default();
        let sql = format!(
            "SELECT r.kind, r.probability, r.impact, COUNT(*) AS n FROM project_risks r
             JOIN projects p ON p.id = r.project_id
             WHERE r.status <> 'resolved' AND {} GROUP BY r.kind, r.probability, r.impact",
            scope(&mut args)
        );
        let mut by_kind: BTreeMap<String, [i64; 3]> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let p = Likelihood::parse(&r.try_get::<String, _>("probability")?)?;
            let i = Likelihood::parse(&r.try_get::<String, _>("impact")?)?;
            let slot = match project::risk_rag(project::risk_score(p, i)) {
                project::Rag::Red => 0,
                project::Rag::Yellow => 1,
                project::Rag::Green => 2,
            };
            by_kind.entry(r.try_get("kind")?).or_default()[slot] += int(&r, "n")?;
        }
        let mut t = Table::new(&[
            ("type", "Type"),
            ("red", "Red"),
            ("yellow", "Yellow"),
            ("green", "Green"),
        ]);
        for k in project::RiskKind::ALL {
            let c = by_kind.get(k.as_str()).copied().unwrap_or_default();
            t.push(vec![
                k.as_str().into(),
                c[0].into(),
                c[1].into(),
                c[2].into(),
            ]);
        }
        tiles.push(
            tile(
                "blockers_by_type",
                "Blockers by type",
                Chart::new(ChartKind::StackedBar, 0, vec![1, 2, 3]),
                t,
            )
            .note("Open (unresolved) risks of active projects by type and RAG (score ≥ 6 red, 3–4 yellow, ≤ 2 green)."),
        );

        // Hours budget vs actual by phase.
        let mut budget: BTreeMap<i64, f64> = BTreeMap::new();
        let mut actual: BTreeMap<i64, f64> = BTreeMap::new();
        for (table, target) in [
            ("project_budgets", &mut budget),
            ("project_hours", &mut actual),
        ] {
            let mut args = Args::default();
            let sql = format!(
                "SELECT b.phase, CAST(SUM(b.hours) AS DOUBLE PRECISION) AS h FROM {table} b
                 JOIN projects p ON p.id = b.project_id WHERE {} GROUP BY b.phase",
                scope(&mut args)
            );
            for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
                target.insert(r.try_get("phase")?, row_f64(&r, "h")?);
            }
        }
        let names: BTreeMap<i64, String> = projects
            .iter()
            .map(|p| (i64::from(p.phase), p.phase_name.clone()))
            .collect();
        let default_phases = project::thirty_day().phases;
        let phase_name = |n: i64| {
            names.get(&n).cloned().unwrap_or_else(|| {
                default_phases
                    .iter()
                    .find(|p| i64::from(p.number) == n)
                    .map_or_else(|| format!("Phase {n}"), |p| p.name.clone())
            })
        };
        let mut t = Table::new(&[
            ("phase", "Phase"),
            ("budget_hours", "Budget (h)"),
            ("actual_hours", "Actual (h)"),
        ]);
        let phases: BTreeSet<i64> = budget.keys().chain(actual.keys()).copied().collect();
        for n in phases {
            t.push(vec![
                format!("{n} {}", phase_name(n)).into(),
                Cell::num1(budget.get(&n).copied().unwrap_or(0.0)),
                Cell::num1(actual.get(&n).copied().unwrap_or(0.0)),
            ]);
        }
        tiles.push(
            tile(
                "hours_by_phase",
                "Hours: budget vs actual by phase",
                Chart::new(ChartKind::Bar, 0, vec![1, 2]),
                t,
            )
            .note("Both sides' hours over the active projects."),
        );

        let mut t = Table::new(&[
            ("project", "Project"),
            ("account", "Account"),
            ("uat_pass_pct", "UAT pass rate (%)"),
            ("data_accuracy_pct", "Data migration accuracy (%)"),
        ]);
        for p in &projects {
            t.push(vec![
                p.name.as_str().into(),
                p.account.as_str().into(),
                Cell::opt1(p.uat_pass_pct),
                Cell::opt1(p.data_accuracy_pct),
            ]);
        }
        tiles.push(
            tile(
                "quality",
                "UAT pass rate and data migration accuracy",
                Chart::new(ChartKind::Bar, 0, vec![2, 3]).target("Target 95 %", 95.0),
                t,
            )
            .note("Latest implementation_health.uat_pass_pct and data_quality.accuracy_pct of each project's account."),
        );

        let mut t = Table::new(&[
            ("project", "Project"),
            ("account", "Account"),
            ("day", "Day"),
            ("green_items", "Green items"),
            ("items", "Items"),
            ("ready", "Ready"),
            ("missing", "Not green yet"),
        ]);
        let mut most = 0usize;
        for p in &projects {
            most = most.max(p.checklist_items);
            t.push(vec![
                p.name.as_str().into(),
                p.account.as_str().into(),
                format!("{} of {}", p.day, p.total_days).into(),
                p.ready_items.into(),
                p.checklist_items.into(),
                if p.checklist_items > 0 && p.missing.is_empty() {
                    "yes"
                } else {
                    "no"
                }
                .into(),
                p.missing.join("; ").into(),
            ]);
        }
        tiles.push(
            tile(
                "readiness",
                "Go-live readiness per project",
                Chart::new(ChartKind::Bar, 0, vec![3]).target("All items", most.max(1) as f64),
                t,
            )
            .note(
                "The §13 checklist as the project page computes it: all items green means ready.",
            ),
        );

        Ok(Dashboard {
            name: DashboardName::Implementation.as_str(),
            title: DashboardName::Implementation.title(),
            generated_at: now,
            filters: f.describe(),
            tiles,
        })
    }

    /// §18 CSM KPIs: active customers; NPS, CSAT, effort; churn rate;
    /// expansion pipeline; cost per onboarding; time to value; ticket
    /// volume and resolution time; average and distribution of health.
    pub async fn csm_kpis_dashboard(
        &self,
        actor: &Actor,
        f: &Filters,
        now: i64,
    ) -> Result<Dashboard> {
        let reach = reach(actor)?;
        let mut conn = self.reader().await?;
        // The period is whole UTC days: today and the days before it.
        let days = f.period.days();
        let since = day_of(now) - (days - 1) * DAY;

        // Accounts by status.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT o.account_status AS s, COUNT(*) AS n FROM organizations o WHERE {acct} GROUP BY o.account_status"
        );
        let mut statuses: BTreeMap<String, i64> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            statuses.insert(r.try_get("s")?, int(&r, "n")?);
        }
        let st = |s: &str| statuses.get(s).copied().unwrap_or(0);
        let active = st("active") + st("onboarding") + st("at-risk");
        let customers = active + st("churned");

        // NPS over the period.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let from = args.int(since);
        let sql = format!(
            "SELECT r.category, COUNT(*) AS n FROM nps_responses r JOIN organizations o ON o.id = r.organization_id
             WHERE r.answered_at >= {from} AND {acct} GROUP BY r.category"
        );
        let mut tally = Tally::default();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let c = Category::parse(&r.try_get::<String, _>("category")?)?;
            for _ in 0..int(&r, "n")? {
                tally.add(c);
            }
        }

        // CSAT: good share of the ratings given on tickets solved in the period.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let from = args.int(since);
        let sql = format!(
            "SELECT s.score, COUNT(*) AS n FROM satisfaction_ratings s JOIN organizations o ON o.id = s.organization_id
             WHERE s.created_at >= {from} AND s.score IN ('good', 'bad') AND {acct} GROUP BY s.score"
        );
        let (mut good, mut bad) = (0, 0);
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            match r.try_get::<String, _>("score")?.as_str() {
                "good" => good += int(&r, "n")?,
                _ => bad += int(&r, "n")?,
            }
        }

        // Effort (the weekly pulse score) and time to value, from metrics.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let from = args.int(since);
        let sql = format!(
            "SELECT CAST(AVG(m.value) AS DOUBLE PRECISION) AS v, COUNT(*) AS n FROM measurements m
             WHERE m.metric = 'user_satisfaction' AND m.field = 'pulse_score' AND m.measured_at >= {from}
               {}",
            within("m.organization_id", &acct)
        );
        let r = args.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
        let pulse = (int(&r, "n")? > 0).then(|| row_f64(&r, "v")).transpose()?;
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let orgs = format!("SELECT o.id FROM organizations o WHERE {acct}");
        let ttv = self
            .metric_values(&mut conn, "time_to_value", "days", None, &orgs, &args, now)
            .await?;
        let ttv_avg = (!ttv.is_empty()).then(|| ttv.values().sum::<f64>() / ttv.len() as f64);

        // Expansion pipeline and cost per onboarding.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT CAST(SUM(e.arr_cents) AS BIGINT) AS arr,
                    CAST(SUM(e.arr_cents * e.probability_pct) AS BIGINT) AS weighted, COUNT(*) AS n
             FROM expansion_opportunities e JOIN organizations o ON o.id = e.organization_id
             WHERE e.status = 'open' AND {acct}"
        );
        let r = args.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
        let (pipeline, weighted, opps) =
            (int(&r, "arr")?, int(&r, "weighted")? / 100, int(&r, "n")?);
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT CAST(AVG(p.spend_cents) AS DOUBLE PRECISION) AS c, COUNT(*) AS n FROM projects p
             JOIN organizations o ON o.id = p.organization_id
             WHERE p.spend_cents IS NOT NULL AND p.status <> 'cancelled' AND {acct}"
        );
        let r = args.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
        let onboarding_cost = (int(&r, "n")? > 0).then(|| row_f64(&r, "c")).transpose()?;

        // Tickets by week over the period: created, solved, resolution time.
        let weeks = (days + 6) / 7;
        let first = day_of(now) - (days - 1) * DAY;
        let mut weekly = vec![(0i64, 0i64, 0.0f64); weeks as usize];
        for (day, (n, m, v)) in self.ticket_days(&mut conn, reach, f, first, now).await? {
            if let Some(w) = weekly.get_mut(((day - first).max(0) / (7 * DAY)) as usize) {
                w.0 += n;
                w.1 += m;
                w.2 += v as f64;
            }
        }
        let created: i64 = weekly.iter().map(|w| w.0).sum();
        let solved: i64 = weekly.iter().map(|w| w.1).sum();
        let resolution: f64 = weekly.iter().map(|w| w.2).sum();

        // Health: average and distribution by level.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT h.level, COUNT(*) AS n, CAST(SUM(h.health) AS BIGINT) AS s FROM health_current h
             JOIN organizations o ON o.id = h.organization_id WHERE {acct} GROUP BY h.level"
        );
        let mut levels: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            levels.insert(r.try_get("level")?, (int(&r, "n")?, int(&r, "s")?));
        }
        let scored: i64 = levels.values().map(|v| v.0).sum();
        let health_sum: i64 = levels.values().map(|v| v.1).sum();

        let mut t = Table::new(&[("kpi", "KPI"), ("value", "Value"), ("unit", "Unit")]);
        let mut kpi = |k: &str, v: Cell, unit: &str| t.push(vec![k.into(), v, unit.into()]);
        kpi("Active customers", active.into(), "accounts");
        kpi("NPS", tally.nps().map(i64::from).into(), "NPS");
        kpi(
            "NPS responses",
            i64::from(tally.responses()).into(),
            "answers",
        );
        kpi("CSAT", Cell::opt1(pct(good, good + bad)), "% good");
        kpi("CSAT ratings", (good + bad).into(), "ratings");
        kpi("Effort (weekly pulse score)", Cell::opt1(pulse), "0-10");
        kpi(
            "Churn rate",
            Cell::opt1(pct(st("churned"), customers)),
            "% of customers",
        );
        kpi("Expansion pipeline", Cell::usd(pipeline), "USD");
        kpi("Weighted pipeline", Cell::usd(weighted), "USD");
        kpi("Open opportunities", opps.into(), "opportunities");
        kpi(
            "Cost per onboarding",
            onboarding_cost.map_or(Cell::Null, |c| Cell::usd(c.round() as i64)),
            "USD",
        );
        kpi("Time to value", Cell::opt1(ttv_avg), "days");
        kpi("Tickets created", created.into(), "tickets");
        kpi("Tickets solved", solved.into(), "tickets");
        kpi(
            "Average resolution time",
            Cell::opt1((solved > 0).then(|| resolution / solved as f64 / 3600.0)),
            "hours",
        );
        kpi(
            "Average health",
            Cell::opt1((scored > 0).then(|| health_sum as f64 / scored as f64)),
            "0-100",
        );
        let mut tiles = vec![
            tile("summary", "Key figures", Chart::new(ChartKind::Kpi, 0, vec![1]), t).note(format!(
                "Over the last {days} days: NPS answers, CSAT ratings of tickets solved, pulse scores, tickets. \
                 As of now: customers (active, onboarding, at-risk), churn rate (churned / customers), open \
                 pipeline, average spend of projects, latest time_to_value.days per account, health."
            )),
        ];

        let mut t = Table::new(&[
            ("week", "Week from"),
            ("created", "Created"),
            ("solved", "Solved"),
            ("avg_resolution_hours", "Avg resolution (h)"),
        ]);
        for (i, w) in weekly.iter().enumerate() {
            t.push(vec![
                utc_date(first + i as i64 * 7 * DAY).to_string().into(),
                w.0.into(),
                w.1.into(),
                Cell::opt1((w.1 > 0).then(|| w.2 / w.1 as f64 / 3600.0)),
            ]);
        }
        tiles.push(
            tile(
                "tickets",
                "Ticket volume and resolution time",
                Chart::new(ChartKind::Bar, 0, vec![1, 2]),
                t,
            )
            .note("Customer tickets by week: created, solved, and the mean hours from creation to solve of those solved."),
        );

        let mut t = Table::new(&[
            ("level", "Level"),
            ("accounts", "Accounts"),
            ("avg_health", "Average health"),
        ]);
        for l in LEVELS {
            let (n, s) = levels.get(l).copied().unwrap_or_default();
            t.push(vec![
                level_label(l).into(),
                n.into(),
                Cell::opt1((n > 0).then(|| s as f64 / n as f64)),
            ]);
        }
        tiles.push(tile(
            "health_distribution",
            "Health by level",
            Chart::new(ChartKind::Bar, 0, vec![1]),
            t,
        ));

        let mut t = Table::new(&[("category", "Category"), ("responses", "Responses")]);
        t.push(vec!["promoters".into(), i64::from(tally.promoters).into()]);
        t.push(vec!["passives".into(), i64::from(tally.passives).into()]);
        t.push(vec![
            "detractors".into(),
            i64::from(tally.detractors).into(),
        ]);
        tiles.push(tile(
            "nps_breakdown",
            "NPS answers by category",
            Chart::new(ChartKind::Bar, 0, vec![1]),
            t,
        ));

        Ok(Dashboard {
            name: DashboardName::CsmKpis.as_str(),
            title: DashboardName::CsmKpis.title(),
            generated_at: now,
            filters: f.describe(),
            tiles,
        })
    }

    /// §18 churn risk monitor, seven tiles: accounts and % of ARR per
    /// level; average risk over 90 days; risk drivers; per-account heat
    /// map; interventions underway; ARR by level over 12 months; risk vs
    /// expansion potential.
    pub async fn churn_risk_dashboard(
        &self,
        actor: &Actor,
        f: &Filters,
        now: i64,
    ) -> Result<Dashboard> {
        let reach = reach(actor)?;
        let mut conn = self.reader().await?;
        let mut tiles = Vec::new();

        // 1. Accounts and ARR per level.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT h.level, COUNT(*) AS n, CAST(SUM(COALESCE(o.acv_cents, 0)) AS BIGINT) AS arr
             FROM health_current h JOIN organizations o ON o.id = h.organization_id WHERE {acct} GROUP BY h.level"
        );
        let mut levels: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            levels.insert(r.try_get("level")?, (int(&r, "n")?, int(&r, "arr")?));
        }
        let total_arr: i64 = levels.values().map(|v| v.1).sum();
        let total_n: i64 = levels.values().map(|v| v.0).sum();
        let mut t = Table::new(&[
            ("level", "Level"),
            ("accounts", "Accounts"),
            ("accounts_pct", "Accounts (%)"),
            ("arr_usd", "ARR ($)"),
            ("arr_pct", "ARR (%)"),
        ]);
        for l in LEVELS {
            let (n, arr) = levels.get(l).copied().unwrap_or_default();
            t.push(vec![
                level_label(l).into(),
                n.into(),
                Cell::opt1(pct(n, total_n)),
                Cell::usd(arr),
                Cell::opt1(pct(arr, total_arr)),
            ]);
        }
        tiles.push(
            tile(
                "risk_levels",
                "Accounts and ARR by risk level",
                Chart::new(ChartKind::Bar, 0, vec![2, 4]),
                t,
            )
            .note("Current scores; ARR is the account's ACV."),
        );

        // 2. Average risk over 90 days: the scores recorded on one day a
        // week (history has a row per account at least daily).
        let samples: Vec<Date> = (0..13)
            .map(|i| utc_date(now - (12 - i) * 7 * DAY))
            .collect();
        let starts: Vec<i64> = samples.iter().map(|d| utc_start(*d)).collect();
        let risk = self.risk_samples(&mut conn, reach, f, &starts, now).await?;
        let mut t = Table::new(&[
            ("date", "Date"),
            ("average_risk", "Average risk"),
            ("accounts", "Accounts scored"),
        ]);
        for (i, d) in samples.iter().enumerate() {
            let (n, sum) = risk
                .range((i, String::new())..(i + 1, String::new()))
                .fold((0, 0), |(n, m), (_, v)| (n + v.0, m + v.1));
            t.push(vec![
                d.to_string().into(),
                Cell::opt1((n > 0).then(|| sum as f64 / n as f64)),
                n.into(),
            ]);
        }
        tiles.push(
            tile(
                "average_risk",
                "Average risk over 90 days",
                Chart::new(ChartKind::Line, 0, vec![1]).target("YELLOW from 21", 21.0),
                t,
            )
            .note("Weekly: the mean of each account's last score recorded that day (UTC); today, the current scores."),
        );

        // 3. Risk drivers: how many non-GREEN accounts each factor weighs on.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT h.factors FROM health_current h JOIN organizations o ON o.id = h.organization_id
             WHERE h.level <> 'green' AND {acct}"
        );
        let mut drivers: BTreeMap<String, (String, i64, i64)> = BTreeMap::new();
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            let factors: Vec<StoredFactor> =
                serde_json::from_str(&r.try_get::<String, _>("factors")?)?;
            for fa in factors.into_iter().filter(|f| f.points > 0) {
                let e = drivers.entry(fa.key).or_insert((fa.label, 0, 0));
                e.1 += 1;
                e.2 += fa.points;
            }
        }
        let mut drivers: Vec<(String, (String, i64, i64))> = drivers.into_iter().collect();
        drivers.sort_by(|a, b| {
            b.1.1
                .cmp(&a.1.1)
                .then(b.1.2.cmp(&a.1.2))
                .then(a.0.cmp(&b.0))
        });
        let mut t = Table::new(&[
            ("factor", "Factor"),
            ("label", "Risk driver"),
            ("accounts", "Accounts"),
            ("points", "Points"),
        ]);
        for (key, (label, n, points)) in drivers.into_iter().take(12) {
            t.push(vec![key.into(), label.into(), n.into(), points.into()]);
        }
        tiles.push(
            tile(
                "risk_drivers",
                "Risk drivers",
                Chart::new(ChartKind::Bar, 1, vec![2]),
                t,
            )
            .note("Factors adding points to YELLOW, ORANGE and RED accounts, by how many accounts they apply to (top 12)."),
        );

        // 4. Heat map of the riskiest accounts.
        tiles.push(self.heat_map(&mut conn, reach, f, now).await?);

        // 5. Interventions underway.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT o.name, i.primary_issue, u.name AS owner, i.started_on, i.target_date, i.progress_pct
             FROM interventions i JOIN organizations o ON o.id = i.organization_id
             LEFT JOIN users u ON u.id = i.owner_id
             WHERE i.status = 'active' AND {acct} ORDER BY i.started_on, i.id"
        );
        let mut t = Table::new(&[
            ("account", "Account"),
            ("issue", "Primary issue"),
            ("owner", "Owner"),
            ("started_on", "Started"),
            ("target_date", "Target"),
            ("progress_pct", "Progress (%)"),
        ]);
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            t.push(vec![
                r.try_get::<String, _>("name")?.into(),
                r.try_get::<String, _>("primary_issue")?.into(),
                opt_str(&r, "owner")?.map_or(Cell::Null, Cell::Text),
                r.try_get::<String, _>("started_on")?.into(),
                opt_str(&r, "target_date")?.map_or(Cell::Null, Cell::Text),
                int(&r, "progress_pct")?.into(),
            ]);
        }
        tiles.push(tile(
            "interventions",
            "Interventions underway",
            Chart::new(ChartKind::Bar, 0, vec![5]).target("Done", 100.0),
            t,
        ));

        // 6. ARR by level over 12 months (the 1st of each month).
        let months = last_months(now, 12);
        let starts: Vec<i64> = months.iter().map(|m| m.start()).collect();
        let arr = self.risk_samples(&mut conn, reach, f, &starts, now).await?;
        let mut t = Table::new(&[
            ("month", "Month"),
            ("green_usd", "GREEN ARR ($)"),
            ("yellow_usd", "YELLOW ARR ($)"),
            ("orange_usd", "ORANGE ARR ($)"),
            ("red_usd", "RED ARR ($)"),
        ]);
        for (i, m) in months.iter().enumerate() {
            let mut row = vec![m.to_string().into()];
            for l in LEVELS {
                let v = arr.get(&(i, l.to_string())).map_or(0, |v| v.2);
                row.push(Cell::usd(v));
            }
            t.push(row);
        }
        tiles.push(
            tile(
                "arr_by_level",
                "ARR by risk level over 12 months",
                Chart::new(ChartKind::StackedBar, 0, vec![1, 2, 3, 4]),
                t,
            )
            .note("Each account's last score recorded on the 1st of the month (UTC), weighted by its current ACV."),
        );

        // 7. Risk vs expansion potential.
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT o.name, h.risk, h.level, o.expansion_potential_cents FROM health_current h
             JOIN organizations o ON o.id = h.organization_id
             WHERE o.expansion_potential_cents > 0 AND {acct}
             ORDER BY h.risk DESC, o.expansion_potential_cents DESC, o.id LIMIT {SCATTER_POINTS}"
        );
        let mut t = Table::new(&[
            ("account", "Account"),
            ("risk", "Risk score"),
            ("expansion_usd", "Expansion potential ($)"),
            ("level", "Level"),
        ]);
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            t.push(vec![
                r.try_get::<String, _>("name")?.into(),
                int(&r, "risk")?.into(),
                Cell::usd(int(&r, "expansion_potential_cents")?),
                level_label(&r.try_get::<String, _>("level")?).into(),
            ]);
        }
        let mut chart = Chart::new(ChartKind::Scatter, 0, vec![1, 2]);
        chart.group = Some(3);
        tiles.push(
            tile("risk_vs_expansion", "Risk vs expansion potential", chart, t).note(format!(
                "Rescue opportunities sit top right: high risk, high expansion potential. The {SCATTER_POINTS} riskiest accounts with a potential."
            )),
        );

        Ok(Dashboard {
            name: DashboardName::ChurnRisk.as_str(),
            title: DashboardName::ChurnRisk.title(),
            generated_at: now,
            filters: f.describe(),
            tiles,
        })
    }

    /// The per-account heat map: DAU, NPS, CSAT, days to renewal,
    /// pipeline and risk of the riskiest accounts.
    async fn heat_map(
        &self,
        conn: &mut sqlx::AnyConnection,
        reach: Reach,
        f: &Filters,
        now: i64,
    ) -> Result<Tile> {
        let mut args = Args::default();
        let acct = accounts(reach, Some(f), &mut args);
        let sql = format!(
            "SELECT o.id, o.name, h.risk, o.renewal_date FROM health_current h
             JOIN organizations o ON o.id = h.organization_id WHERE {acct}
             ORDER BY h.risk DESC, o.id LIMIT {TOP}"
        );
        let top = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        let ids: Vec<i64> = top
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        let mut t = Table::new(&[
            ("account", "Account"),
            ("dau_pct", "DAU (%)"),
            ("nps", "NPS"),
            ("csat_pct", "CSAT (% good)"),
            ("days_to_renewal", "Days to renewal"),
            ("pipeline_usd", "Pipeline ($)"),
            ("risk", "Risk"),
        ]);
        let mut chart = Chart::new(ChartKind::HeatMap, 0, vec![1, 2, 3, 4, 5, 6]);
        chart.higher_is_better = vec![true, true, true, true, true, false];
        if !ids.is_empty() {
            let list = ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let dau = self
                .metric_values(
                    conn,
                    "user_adoption",
                    "dau_pct",
                    None,
                    &list,
                    &Args::default(),
                    now,
                )
                .await?;
            let mut nps: BTreeMap<i64, Tally> = BTreeMap::new();
            for r in sqlx::query(&format!(
                "SELECT organization_id, category, COUNT(*) AS n FROM nps_responses
                 WHERE organization_id IN ({list}) AND answered_at > $1 GROUP BY organization_id, category"
            ))
            .bind(now - 180 * DAY)
            .fetch_all(&mut *conn)
            .await?
            {
                let c = Category::parse(&r.try_get::<String, _>("category")?)?;
                let tally = nps.entry(r.try_get("organization_id")?).or_default();
                for _ in 0..int(&r, "n")? {
                    tally.add(c);
                }
            }
            let mut csat: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
            for r in sqlx::query(&format!(
                "SELECT organization_id, score, COUNT(*) AS n FROM satisfaction_ratings
                 WHERE organization_id IN ({list}) AND created_at > $1 AND score IN ('good', 'bad')
                 GROUP BY organization_id, score"
            ))
            .bind(now - 90 * DAY)
            .fetch_all(&mut *conn)
            .await?
            {
                let e = csat.entry(r.try_get("organization_id")?).or_default();
                let n = int(&r, "n")?;
                if r.try_get::<String, _>("score")? == "good" {
                    e.0 += n;
                }
                e.1 += n;
            }
            let mut pipeline: BTreeMap<i64, i64> = BTreeMap::new();
            for r in sqlx::query(&format!(
                "SELECT organization_id, CAST(SUM(arr_cents) AS BIGINT) AS arr FROM expansion_opportunities
                 WHERE organization_id IN ({list}) AND status = 'open' GROUP BY organization_id"
            ))
            .fetch_all(&mut *conn)
            .await?
            {
                pipeline.insert(r.try_get("organization_id")?, int(&r, "arr")?);
            }
            let today = utc_date(now);
            for r in &top {
                let id: i64 = r.try_get("id")?;
                let renewal = opt_str(r, "renewal_date")?.and_then(|s| parse_date(&s).ok());
                t.push(vec![
                    r.try_get::<String, _>("name")?.into(),
                    Cell::opt1(dau.get(&id).copied()),
                    nps.get(&id).and_then(Tally::nps).map(i64::from).into(),
                    Cell::opt1(csat.get(&id).and_then(|(g, n)| pct(*g, *n))),
                    renewal.map(|d| i64::from((d - today).get_days())).into(),
                    Cell::usd(pipeline.get(&id).copied().unwrap_or(0)),
                    int(r, "risk")?.into(),
                ]);
            }
        }
        Ok(tile("heat_map", "Account heat map", chart, t).note(format!(
            "The {TOP} riskiest accounts: latest DAU, NPS of answers in 180 days, CSAT of 90 days, days to renewal, open pipeline, risk."
        )))
    }

    /// §18 SLA: achievement per tier and month vs target; breaches;
    /// credits. Read from the monthly roll-up of the SLA report.
    pub async fn sla_dashboard(
        &self,
        actor: &Actor,
        f: &SlaFilters,
        now: i64,
    ) -> Result<Dashboard> {
        let reach = reach(actor)?;
        if !(1..=12).contains(&f.months) {
            return Err(StoreError::invalid("months", "must be 1 to 12"));
        }
        let months = last_months(now, usize::from(f.months));
        for m in &months {
            self.refresh_sla_month(*m, now).await?;
        }
        let policies = self.sla_policies().await?;
        let target = |t: Tier| {
            policies
                .0
                .iter()
                .find(|p| p.scope == PolicyScope::Tier(t))
                .and_then(|p| p.achievement_bp)
        };

        let mut args = Args::default();
        let acct = accounts(reach, None, &mut args);
        let names: Vec<String> = months.iter().map(ToString::to_string).collect();
        let list = args.texts(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let tier = match f.tier {
            Some(t) => format!(" AND d.tier = {}", args.text(t.as_str())),
            None => String::new(),
        };
        let sql = format!(
            "SELECT d.month, d.tier, CAST(SUM(d.met) AS BIGINT) AS met, CAST(SUM(d.missed) AS BIGINT) AS missed,
                    CAST(SUM(d.excluded) AS BIGINT) AS excluded, CAST(SUM(d.waived) AS BIGINT) AS waived,
                    CAST(SUM(d.missed_first_reply) AS BIGINT) AS fr, CAST(SUM(d.missed_update) AS BIGINT) AS up,
                    CAST(SUM(d.missed_resolution) AS BIGINT) AS res, CAST(SUM(d.credit_cents) AS BIGINT) AS credit
             FROM dashboard_sla_months d JOIN organizations o ON o.id = d.organization_id
             WHERE d.month IN ({list}) AND {acct}{tier} GROUP BY d.month, d.tier"
        );
        #[derive(Default, Clone, Copy)]
        struct Agg {
            met: i64,
            missed: i64,
            excluded: i64,
            waived: i64,
            fr: i64,
            up: i64,
            res: i64,
            credit: i64,
        }
        let mut cells: BTreeMap<(String, String), Agg> = BTreeMap::new();
        let mut conn = self.reader().await?;
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            cells.insert(
                (r.try_get("month")?, r.try_get("tier")?),
                Agg {
                    met: int(&r, "met")?,
                    missed: int(&r, "missed")?,
                    excluded: int(&r, "excluded")?,
                    waived: int(&r, "waived")?,
                    fr: int(&r, "fr")?,
                    up: int(&r, "up")?,
                    res: int(&r, "res")?,
                    credit: int(&r, "credit")?,
                },
            );
        }
        drop(conn);
        let tiers: Vec<Tier> = match f.tier {
            Some(t) => vec![t],
            None => vec![Tier::Enterprise, Tier::MidMarket, Tier::Starter],
        };
        let get = |m: &str, t: Tier| {
            cells
                .get(&(m.to_string(), t.as_str().to_string()))
                .copied()
                .unwrap_or_default()
        };

        let mut t = Table::new(&[
            ("month", "Month"),
            ("enterprise_pct", "Enterprise (%)"),
            ("mid_market_pct", "Mid-Market (%)"),
            ("starter_pct", "Starter (%)"),
            ("met", "Met"),
            ("missed", "Missed"),
            ("excluded", "Excluded"),
            ("waived", "Waived"),
        ]);
        for m in &names {
            let mut row: Vec<Cell> = vec![m.as_str().into()];
            let mut all = Agg::default();
            for tier in [Tier::Enterprise, Tier::MidMarket, Tier::Starter] {
                if !tiers.contains(&tier) {
                    row.push(Cell::Null);
                    continue;
                }
                let a = get(m, tier);
                all.met += a.met;
                all.missed += a.missed;
                all.excluded += a.excluded;
                all.waived += a.waived;
                // Floored to a hundredth of a percent, as the report shows
                // achievement (floored to the basis point).
                row.push(match a.met + a.missed {
                    0 => Cell::Null,
                    n => Cell::Num((a.met * 10_000 / n) as f64 / 100.0),
                });
            }
            row.extend([
                all.met.into(),
                all.missed.into(),
                all.excluded.into(),
                all.waived.into(),
            ]);
            t.push(row);
        }
        let mut chart = Chart::new(
            ChartKind::Line,
            0,
            [Tier::Enterprise, Tier::MidMarket, Tier::Starter]
                .iter()
                .enumerate()
                .filter(|(_, t)| tiers.contains(t))
                .map(|(i, _)| i + 1)
                .collect(),
        );
        for tier in &tiers {
            if let Some(bp) = target(*tier) {
                chart = chart.target(
                    format!("{} target {}", tier.label(), bp as f64 / 100.0),
                    bp as f64 / 100.0,
                );
            }
        }
        let mut tiles = vec![
            tile("achievement", "SLA achievement per tier vs target", chart, t).note(
                "Share of SLA targets met, per month of decision (the SLA report's rules, §4–§5); excluded and waived metrics are outside it.",
            ),
        ];

        let mut t = Table::new(&[
            ("month", "Month"),
            ("first_response", "First response"),
            ("periodic_update", "Periodic update"),
            ("resolution", "Resolution"),
        ]);
        for m in &names {
            let (mut fr, mut up, mut res) = (0, 0, 0);
            for tier in &tiers {
                let a = get(m, *tier);
                fr += a.fr;
                up += a.up;
                res += a.res;
            }
            t.push(vec![m.as_str().into(), fr.into(), up.into(), res.into()]);
        }
        tiles.push(
            tile(
                "breaches",
                "SLA breaches (misses) by metric",
                Chart::new(ChartKind::StackedBar, 0, vec![1, 2, 3]),
                t,
            )
            .note("Breached metrics that count as misses (not excluded, not inside a force-majeure window)."),
        );

        let mut t = Table::new(&[
            ("month", "Month"),
            ("enterprise_usd", "Enterprise ($)"),
            ("mid_market_usd", "Mid-Market ($)"),
            ("starter_usd", "Starter ($)"),
            ("total_usd", "Total ($)"),
        ]);
        for m in &names {
            let mut row: Vec<Cell> = vec![m.as_str().into()];
            let mut total = 0;
            for tier in [Tier::Enterprise, Tier::MidMarket, Tier::Starter] {
                if tiers.contains(&tier) {
                    let c = get(m, tier).credit;
                    total += c;
                    row.push(Cell::usd(c));
                } else {
                    row.push(Cell::Null);
                }
            }
            row.push(Cell::usd(total));
            t.push(row);
        }
        tiles.push(
            tile(
                "credits",
                "SLA credits",
                Chart::new(ChartKind::StackedBar, 0, vec![1, 2, 3]),
                t,
            )
            .note("Credits earned per calendar month (§5), issued on the next invoice."),
        );

        let mut filters = BTreeMap::new();
        filters.insert("months", f.months.to_string());
        if let Some(t) = f.tier {
            filters.insert("tier", t.as_str().to_string());
        }
        Ok(Dashboard {
            name: DashboardName::Sla.as_str(),
            title: DashboardName::Sla.title(),
            generated_at: now,
            filters,
            tiles,
        })
    }

    /// Keeps the SLA roll-ups of the months the SLA dashboard shows by
    /// default fresh from the worker: each is recomputed `early` seconds
    /// before its TTL runs out, so a request never finds it stale while the
    /// worker runs (the running month every 15 minutes costs about a
    /// second on a million tickets). Returns how many were recomputed.
    pub async fn refresh_sla_months_ahead(&self, now: i64, early: i64) -> Result<usize> {
        let mut n = 0;
        for m in last_months(now, usize::from(SlaFilters::default().months)) {
            n += usize::from(self.refresh_sla_month_within(m, now, early).await?);
        }
        Ok(n)
    }

    /// Recomputes month `m` of the SLA roll-up from the SLA report when it
    /// is missing or older than its TTL.
    pub async fn refresh_sla_month(&self, m: Month, now: i64) -> Result<bool> {
        self.refresh_sla_month_within(m, now, 0).await
    }

    /// [`Store::refresh_sla_month`], counting the roll-up stale `early`
    /// seconds before its TTL ends.
    async fn refresh_sla_month_within(&self, m: Month, now: i64, early: i64) -> Result<bool> {
        let key = m.to_string();
        {
            let mut conn = self.reader().await?;
            let at: Option<i64> =
                sqlx::query("SELECT computed_at FROM dashboard_sla_computed WHERE month = $1")
                    .bind(&key)
                    .fetch_optional(&mut *conn)
                    .await?
                    .map(|r| r.try_get("computed_at"))
                    .transpose()?;
            let ttl = if m.end() <= now {
                SLA_CLOSED_TTL
            } else {
                SLA_CURRENT_TTL
            } - early;
            if at.is_some_and(|at| at <= now && now - at < ttl && (m.end() > now || at >= m.end()))
            {
                return Ok(false);
            }
        }
        let report = self.sla_report(m, None, now).await?;
        let (from, to) = (m.start(), m.end());
        let decided = |l: &steward_domain::sla_report::MetricLine| {
            l.breached_at
                .as_deref()
                .or(l.fulfilled_at.as_deref())
                .and_then(|s| parse_rfc3339(s).ok())
                .is_some_and(|t| t >= from && t < to)
        };
        // Two requests may refresh the same month at once: the upsert
        // makes the later one overwrite rather than fail.
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM dashboard_sla_months WHERE month = $1")
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        for a in &report.accounts {
            let (mut met, mut missed, mut excluded, mut waived) = (0i64, 0i64, 0i64, 0i64);
            let (mut fr, mut up, mut res) = (0i64, 0i64, 0i64);
            for l in a.metrics.iter().filter(|l| decided(l)) {
                match l.outcome {
                    Outcome::Met => met += 1,
                    Outcome::Missed => {
                        missed += 1;
                        match l.metric {
                            Metric::FirstReplyTime => fr += 1,
                            Metric::PausableUpdateTime => up += 1,
                            Metric::AgentWorkTime | Metric::WorkaroundTime => res += 1,
                        }
                    }
                    Outcome::Excluded => excluded += 1,
                    Outcome::Waived => waived += 1,
                    Outcome::Open => {}
                }
            }
            let credit: i64 = a
                .credits
                .iter()
                .filter(|c| c.month == key)
                .map(|c| c.credit.amount_cents)
                .sum();
            if met + missed + excluded + waived == 0 && credit == 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO dashboard_sla_months (month, organization_id, tier, met, missed, excluded, waived,
                    missed_first_reply, missed_update, missed_resolution, credit_cents)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (month, organization_id) DO UPDATE SET tier = excluded.tier, met = excluded.met,
                    missed = excluded.missed, excluded = excluded.excluded, waived = excluded.waived,
                    missed_first_reply = excluded.missed_first_reply, missed_update = excluded.missed_update,
                    missed_resolution = excluded.missed_resolution, credit_cents = excluded.credit_cents",
            )
            .bind(&key)
            .bind(a.organization_id)
            .bind(a.tier.as_str())
            .bind(met)
            .bind(missed)
            .bind(excluded)
            .bind(waived)
            .bind(fr)
            .bind(up)
            .bind(res)
            .bind(credit)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO dashboard_sla_computed (month, computed_at) VALUES ($1, $2)
             ON CONFLICT (month) DO UPDATE SET computed_at = excluded.computed_at",
        )
        .bind(&key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(true)
    }
}

/// Active projects by phase (every phase of the template listed).
fn phase_tile(key: &'static str, title: &str, projects: &[ProjectState]) -> Tile {
    let mut phases: BTreeMap<u32, (String, i64)> = project::thirty_day()
        .phases
        .iter()
        .map(|p| (p.number, (p.name.clone(), 0)))
        .collect();
    for p in projects {
        let e = phases
            .entry(p.phase)
            .or_insert_with(|| (p.phase_name.clone(), 0));
        e.1 += 1;
    }
    let mut t = Table::new(&[("phase", "Phase"), ("projects", "Projects")]);
    for (n, (name, count)) in phases {
        t.push(vec![format!("{n} {name}").into(), count.into()]);
    }
    tile(key, title, Chart::new(ChartKind::Bar, 0, vec![1]), t)
        .note("Active projects by the phase their plan puts today in (§13).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut t = Table::new(&[("a", "A"), ("b", "B")]);
        t.push(vec![Cell::Text("Acme, Inc.".into()), Cell::Int(-3)]);
        t.push(vec![Cell::Text("say \"hi\"\nthere".into()), Cell::Num(1.5)]);
        t.push(vec![Cell::Text("=SUM(A1)".into()), Cell::Null]);
        assert_eq!(
            t.csv(),
            "a,b\r\n\"Acme, Inc.\",-3\r\n\"say \"\"hi\"\"\nthere\",1.5\r\n'=SUM(A1),\r\n"
        );
    }

    #[test]
    fn months_and_buckets() {
        let now = parse_rfc3339("2026-11-24T12:00:00Z").expect("instant");
        let m: Vec<String> = last_months(now, 3)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(m, ["2026-09", "2026-10", "2026-11"]);
        let mut args = Args::default();
        let (case, ors) = buckets("x", &[(0, 10), (10, 20)], &mut args);
        assert_eq!(
            case,
            "CASE WHEN x >= $1 AND x < $2 THEN 0 WHEN x >= $3 AND x < $4 THEN 1 END"
        );
        assert_eq!(ors, "((x >= $1 AND x < $2) OR (x >= $3 AND x < $4))");
        assert_eq!(Period::parse("30"), Some(Period::Last30));
        assert_eq!(Period::parse("60"), None);
        assert_eq!(DashboardName::parse("sla"), Some(DashboardName::Sla));
        assert_eq!(DashboardName::ChurnRisk.as_str(), "churn_risk");
    }
}
