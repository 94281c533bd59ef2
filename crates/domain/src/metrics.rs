//! Baseline metrics (policies.md §14): the eight metrics, the measures
//! (fields) each is made of, their red/yellow/green thresholds, and the two
//! baselines every measure is compared against.
//!
//! Decisions, where §14 leaves room:
//!
//! * **Week-1 baseline** = the mean of the measurements taken on "days 1–7
//!   after go-live": the seven calendar days *after* the go-live date, in
//!   the account's business time zone (America/New_York unless the baseline
//!   plan says otherwise). The go-live day itself does not count: it is the
//!   day of the cut-over, whose numbers describe the switch, not the system.
//! * **Running baseline** = the trailing 7-day moving average: the mean of
//!   the measurements in `(as_of − 7 days, as_of]`, so a measurement taken
//!   exactly seven days before `as_of` has just left the window.
//! * **Thresholds** are data ([`Thresholds`], serde), so a baseline plan can
//!   override them per field. A threshold is a pair of conditions written
//!   as text (`">= 99.9"`): green when the green condition holds, else
//!   yellow when the yellow one holds, else red. Where §14 names a target
//!   it is the green condition; where §14 is silent the defaults in
//!   [`catalog`] are ours and say so in their `note`. A few measures have no
//!   default (concurrent users, workflows per user, raw counts): what is good
//!   depends on the account, so they are informational until a plan sets
//!   thresholds for them.
//! * **Trend** compares the running baseline with the one a week earlier;
//!   changes under 1 % are `steady` (§14's "< 1 % week-to-week variance").
//! * **Crossing into red** raises an alert: a red value whose predecessor
//!   was not red, or that has no predecessor.

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::{ParseError, string_enum};

string_enum! {
    /// The eight baseline metrics of §14.
    Metric, "metric" {
        SystemPerformance => "system_performance",
        UserAdoption => "user_adoption",
        DataQuality => "data_quality",
        ProcessCycleTimes => "process_cycle_times",
        TimeToValue => "time_to_value",
        UserSatisfaction => "user_satisfaction",
        SupportTickets => "support_tickets",
        ImplementationHealth => "implementation_health",
    }
}

impl Metric {
    pub fn title(self) -> &'static str {
        match self {
            Metric::SystemPerformance => "System performance",
            Metric::UserAdoption => "User adoption",
            Metric::DataQuality => "Data quality",
            Metric::ProcessCycleTimes => "Process cycle times",
            Metric::TimeToValue => "Time to value",
            Metric::UserSatisfaction => "User satisfaction",
            Metric::SupportTickets => "Support tickets",
            Metric::ImplementationHealth => "Implementation health",
        }
    }

    /// The measures this metric is made of.
    pub fn fields(self) -> &'static [FieldDef] {
        catalog(self)
    }

    /// The measure called `name`, or a message listing the valid ones.
    pub fn field(self, name: &str) -> Result<&'static FieldDef, ParseError> {
        let name = name.trim();
        self.fields()
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                ParseError::new(format!(
                    "{name} is not a field of {} (expected one of: {})",
                    self.as_str(),
                    self.fields()
                        .iter()
                        .map(|f| f.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rag {
    Red,
    Yellow,
    Green,
}

impl Rag {
    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Red => "red",
            Rag::Yellow => "yellow",
            Rag::Green => "green",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Gt,
    Le,
    Lt,
}

/// A condition on a value, written `">= 99.9"`, `"> 50"`, `"<= 21"`, `"< 2"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    pub op: Op,
    pub value: f64,
}

impl Condition {
    pub const fn ge(value: f64) -> Self {
        Condition { op: Op::Ge, value }
    }
    pub const fn gt(value: f64) -> Self {
        Condition { op: Op::Gt, value }
    }
    pub const fn le(value: f64) -> Self {
        Condition { op: Op::Le, value }
    }
    pub const fn lt(value: f64) -> Self {
        Condition { op: Op::Lt, value }
    }

    pub fn holds(self, v: f64) -> bool {
        match self.op {
            Op::Ge => v >= self.value,
            Op::Gt => v > self.value,
            Op::Le => v <= self.value,
            Op::Lt => v < self.value,
        }
    }

    fn direction(self) -> Direction {
        match self.op {
            Op::Ge | Op::Gt => Direction::HigherIsBetter,
            Op::Le | Op::Lt => Direction::LowerIsBetter,
        }
    }

    pub fn parse(s: &str) -> Result<Condition, ParseError> {
        let s = s.trim();
        let (op, rest) = if let Some(r) = s.strip_prefix(">=").or_else(|| s.strip_prefix('≥')) {
            (Op::Ge, r)
        } else if let Some(r) = s.strip_prefix("<=").or_else(|| s.strip_prefix('≤')) {
            (Op::Le, r)
        } else if let Some(r) = s.strip_prefix('>') {
            (Op::Gt, r)
        } else if let Some(r) = s.strip_prefix('<') {
            (Op::Lt, r)
        } else {
            return Err(ParseError::new(format!(
                "{s} is not a condition (write e.g. \">= 99.9\" or \"< 2\")"
            )));
        };
        let value = parse_number(rest)
            .map_err(|_| ParseError::new(format!("{s}: {} is not a number", rest.trim())))?;
        Ok(Condition { op, value })
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
        };
        write!(f, "{op} {}", self.value)
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Condition::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A finite number; `NaN` and infinities are refused.
pub fn parse_number(s: &str) -> Result<f64, ParseError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| ParseError::new(format!("{} is not a number", s.trim())))
}

/// Green when `green` holds, else yellow when `yellow` holds, else red.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub green: Condition,
    pub yellow: Condition,
}

impl Thresholds {
    const fn new(green: Condition, yellow: Condition) -> Self {
        Thresholds { green, yellow }
    }

    /// Both conditions point the field's way, and yellow is the looser one
    /// (every green value is at least yellow), so that worse values never
    /// rate better.
    pub fn check(&self, direction: Direction) -> Result<(), ParseError> {
        if self.green.direction() != direction || self.yellow.direction() != direction {
            let want = match direction {
                Direction::HigherIsBetter => ">= or >",
                Direction::LowerIsBetter => "<= or <",
            };
            return Err(ParseError::new(format!(
                "this field is {}: its conditions must use {want}",
                direction.as_str()
            )));
        }
        let looser = match direction {
            Direction::HigherIsBetter => self.yellow.value <= self.green.value,
            Direction::LowerIsBetter => self.yellow.value >= self.green.value,
        };
        if !looser {
            return Err(ParseError::new(
                "the yellow condition must be looser than the green one",
            ));
        }
        Ok(())
    }
}

/// The colour of `value` under `t`.
pub fn rag(value: f64, t: &Thresholds) -> Rag {
    if t.green.holds(value) {
        Rag::Green
    } else if t.yellow.holds(value) {
        Rag::Yellow
    } else {
        Rag::Red
    }
}

/// True when a series turns red: the current value is red and the previous
/// one was not (or there was none).
pub fn crossed_into_red(previous: Option<Rag>, current: Rag) -> bool {
    current == Rag::Red && previous != Some(Rag::Red)
}

/// One measure of a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldDef {
    pub name: &'static str,
    pub unit: &'static str,
    pub direction: Direction,
    /// `None`: informational until a baseline plan sets thresholds.
    pub thresholds: Option<Thresholds>,
    /// Accepted range of values (inclusive).
    pub min: f64,
    pub max: f64,
    /// Computed from Steward's own tickets on read; not accepted as input.
    pub computed: bool,
    /// Where the default thresholds come from, when not §14.
    pub note: &'static str,
}

impl FieldDef {
    /// Checks a value against the field's range.
    pub fn check_value(&self, v: f64) -> Result<f64, ParseError> {
        if !v.is_finite() {
            return Err(ParseError::new("must be a finite number"));
        }
        if v < self.min || v > self.max {
            return Err(ParseError::new(format!(
                "{v} is out of range for {} ({} to {})",
                self.name, self.min, self.max
            )));
        }
        Ok(v)
    }
}

const PCT: (f64, f64) = (0.0, 100.0);
const NONNEG: (f64, f64) = (0.0, 1e12);

const fn f(
    name: &'static str,
    unit: &'static str,
    direction: Direction,
    thresholds: Option<Thresholds>,
    range: (f64, f64),
    note: &'static str,
) -> FieldDef {
    FieldDef {
        name,
        unit,
        direction,
        thresholds,
        min: range.0,
        max: range.1,
        computed: false,
        note,
    }
}

const fn computed(def: FieldDef) -> FieldDef {
    FieldDef {
        computed: true,
        ..def
    }
}

const fn hi(green: f64, yellow: f64) -> Option<Thresholds> {
    Some(Thresholds::new(Condition::ge(green), Condition::ge(yellow)))
}

const fn lo(green: f64, yellow: f64) -> Option<Thresholds> {
    Some(Thresholds::new(Condition::le(green), Condition::le(yellow)))
}

use Direction::{HigherIsBetter as UP, LowerIsBetter as DOWN};

const SP: &str = "§14";
const OURS: &str = "Steward default (§14 names no threshold)";

static SYSTEM_PERFORMANCE: &[FieldDef] = &[
    f("uptime_pct", "%", UP, hi(99.9, 99.5), PCT, SP),
    f(
        "response_p50_ms",
        "ms",
        DOWN,
        lo(300.0, 800.0),
        NONNEG,
        OURS,
    ),
    f(
        "response_p95_ms",
        "ms",
        DOWN,
        lo(1000.0, 2000.0),
        NONNEG,
        OURS,
    ),
    f(
        "response_p99_ms",
        "ms",
        DOWN,
        lo(2000.0, 5000.0),
        NONNEG,
        OURS,
    ),
    f("concurrent_users", "users", UP, None, NONNEG, OURS),
    f("error_rate_pct", "%", DOWN, lo(1.0, 2.0), PCT, OURS),
];

static USER_ADOPTION: &[FieldDef] = &[
    f(
        "dau_pct",
        "% of licensed users",
        UP,
        hi(80.0, 50.0),
        PCT,
        SP,
    ),
    f(
        "workflows_per_user_day",
        "per user per day",
        UP,
        None,
        NONNEG,
        OURS,
    ),
    f(
        "training_completion_pct",
        "%",
        UP,
        hi(80.0, 60.0),
        PCT,
        OURS,
    ),
];

static DATA_QUALITY: &[FieldDef] = &[
    f("completeness_pct", "%", UP, hi(99.0, 95.0), PCT, SP),
    f("accuracy_pct", "%", UP, hi(99.0, 95.0), PCT, SP),
    f(
        "freshness_hours",
        "hours",
        DOWN,
        lo(24.0, 48.0),
        NONNEG,
        OURS,
    ),
    f("duplicates", "records", DOWN, None, NONNEG, OURS),
    f("validation_pass_rate_pct", "%", UP, hi(99.0, 95.0), PCT, SP),
];

static PROCESS_CYCLE_TIMES: &[FieldDef] = &[
    f("avg_minutes", "minutes", DOWN, None, NONNEG, OURS),
    f("p50_minutes", "minutes", DOWN, None, NONNEG, OURS),
    f("p95_minutes", "minutes", DOWN, None, NONNEG, OURS),
    f("error_rate_pct", "%", DOWN, lo(1.0, 5.0), PCT, OURS),
    f("manual_workarounds", "count", DOWN, None, NONNEG, OURS),
];

static TIME_TO_VALUE: &[FieldDef] = &[f(
    "days",
    "days",
    DOWN,
    Some(Thresholds::new(Condition::lt(14.0), Condition::le(21.0))),
    (0.0, 3650.0),
    SP,
)];

static USER_SATISFACTION: &[FieldDef] = &[
    f(
        "pulse_score",
        "score (0–10)",
        UP,
        hi(8.0, 6.0),
        (0.0, 10.0),
        OURS,
    ),
    f(
        "nps",
        "NPS",
        UP,
        Some(Thresholds::new(Condition::gt(50.0), Condition::gt(30.0))),
        (-100.0, 100.0),
        SP,
    ),
];

static SUPPORT_TICKETS: &[FieldDef] = &[
    computed(f(
        "created_per_day",
        "tickets per day",
        DOWN,
        None,
        NONNEG,
        OURS,
    )),
    computed(f(
        "avg_resolution_hours_p0",
        "hours",
        DOWN,
        Some(Thresholds::new(Condition::lt(2.0), Condition::lt(4.0))),
        NONNEG,
        SP,
    )),
    computed(f(
        "avg_resolution_hours_p1",
        "hours",
        DOWN,
        Some(Thresholds::new(Condition::lt(4.0), Condition::lt(8.0))),
        NONNEG,
        SP,
    )),
    computed(f(
        "first_contact_resolution_pct",
        "%",
        UP,
        hi(70.0, 50.0),
        PCT,
        OURS,
    )),
    f("csat_pct", "%", UP, hi(90.0, 80.0), PCT, OURS),
];

static IMPLEMENTATION_HEALTH: &[FieldDef] = &[
    f("completion_pct", "%", UP, None, PCT, OURS),
    f("milestones_on_time", "milestones", UP, None, NONNEG, OURS),
    f(
        "milestones_late",
        "milestones",
        DOWN,
        lo(0.0, 1.0),
        NONNEG,
        OURS,
    ),
    f("risks_red", "risks", DOWN, lo(0.0, 1.0), NONNEG, OURS),
    f(
        "budget_variance_pct",
        "% over budget",
        DOWN,
        lo(5.0, 10.0),
        (-100.0, 1e6),
        OURS,
    ),
    f(
        "stakeholder_alignment",
        "score (0–10)",
        UP,
        hi(8.0, 6.0),
        (0.0, 10.0),
        OURS,
    ),
    f("uat_pass_pct", "%", UP, hi(95.0, 90.0), PCT, OURS),
    f(
        "integration_tests_pass_pct",
        "%",
        UP,
        hi(100.0, 95.0),
        PCT,
        OURS,
    ),
    f("data_validation_pct", "%", UP, hi(99.0, 95.0), PCT, SP),
];

/// The measures of a metric with their default thresholds.
pub fn catalog(metric: Metric) -> &'static [FieldDef] {
    match metric {
        Metric::SystemPerformance => SYSTEM_PERFORMANCE,
        Metric::UserAdoption => USER_ADOPTION,
        Metric::DataQuality => DATA_QUALITY,
        Metric::ProcessCycleTimes => PROCESS_CYCLE_TIMES,
        Metric::TimeToValue => TIME_TO_VALUE,
        Metric::UserSatisfaction => USER_SATISFACTION,
        Metric::SupportTickets => SUPPORT_TICKETS,
        Metric::ImplementationHealth => IMPLEMENTATION_HEALTH,
    }
}

/// One measurement of a series: when, and what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub at: i64,
    pub value: f64,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u64), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

const WEEK: i64 = 7 * 86_400;

/// The instants `[start, end)` of days 1–7 after `go_live` in `tz`: from
/// midnight after the go-live day to midnight eight days after it.
pub fn week1_window(go_live: Date, tz: &TimeZone) -> Result<(i64, i64), ParseError> {
    let midnight = |d: Date| {
        d.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp().as_second())
            .map_err(|e| ParseError::new(e.to_string()))
    };
    let day = |n: i64| {
        go_live
            .checked_add(jiff::Span::new().days(n))
            .map_err(|e| ParseError::new(e.to_string()))
    };
    Ok((midnight(day(1)?)?, midnight(day(8)?)?))
}

/// The week-1 baseline: the mean of the samples taken on days 1–7 after
/// go-live (see the module docs); `None` when there are none.
pub fn week1_baseline(samples: &[Sample], go_live: Date, tz: &TimeZone) -> Option<f64> {
    let (start, end) = week1_window(go_live, tz).ok()?;
    mean(
        samples
            .iter()
            .filter(|s| s.at >= start && s.at < end)
            .map(|s| s.value),
    )
}

/// The running baseline at `as_of`: the mean of the samples in
/// `(as_of − 7 days, as_of]`; `None` when there are none.
pub fn running_baseline(samples: &[Sample], as_of: i64) -> Option<f64> {
    mean(
        samples
            .iter()
            .filter(|s| s.at > as_of - WEEK && s.at <= as_of)
            .map(|s| s.value),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Improving,
    Steady,
    Worsening,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Improving => "improving",
            Trend::Steady => "steady",
            Trend::Worsening => "worsening",
        }
    }
}

/// Week over week: a change of less than 1 % of the earlier value (or of
/// 0.01 when it was zero) is steady.
pub fn trend(previous: f64, current: f64, direction: Direction) -> Trend {
    let delta = current - previous;
    let tolerance = (previous.abs() * 0.01).max(0.01);
    if delta.abs() < tolerance {
        return Trend::Steady;
    }
    let up = delta > 0.0;
    match (up, direction) {
        (true, Direction::HigherIsBetter) | (false, Direction::LowerIsBetter) => Trend::Improving,
        _ => Trend::Worsening,
    }
}

/// The business time zone of accounts without one in their plan.
pub const DEFAULT_TIME_ZONE: &str = "America/New_York";

/// When a measurement was taken, as sent: an instant, or a date meaning
/// midnight at the start of that day in the account's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    At(i64),
    On(Date),
}

impl When {
    /// A date `YYYY-MM-DD` or an RFC 3339 timestamp.
    pub fn parse(s: &str) -> Result<When, ParseError> {
        let s = s.trim();
        if let Ok(d) = s.parse::<Date>() {
            return Ok(When::On(d));
        }
        s.parse::<Timestamp>()
            .map(|t| When::At(t.as_second()))
            .map_err(|_| {
                ParseError::new(format!(
                    "{s} is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"
                ))
            })
    }

    pub fn resolve(self, tz: &TimeZone) -> Result<i64, ParseError> {
        match self {
            When::At(t) => Ok(t),
            When::On(d) => d
                .to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp().as_second())
                .map_err(|e| ParseError::new(e.to_string())),
        }
    }
}

/// Measurements are accepted from 2000-01-01 to one day past `now`: older
/// or later values are typing mistakes (a year 20026, seconds for millis).
pub fn check_measured_at(at: i64, now: i64) -> Result<i64, ParseError> {
    const Y2K: i64 = 946_684_800;
    if at < Y2K || at > now + 86_400 {
        return Err(ParseError::new(
            "must lie between 2000-01-01 and one day from now",
        ));
    }
    Ok(at)
}

/// Longest label (process name, ticket category).
pub const MAX_LABEL: usize = 200;

/// A measurement that passed every check but the database's.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMeasurement {
    pub metric: Metric,
    pub field: &'static FieldDef,
    pub value: f64,
    pub measured_at: i64,
    pub label: Option<String>,
}

impl NewMeasurement {
    /// Checks one measurement; errors name the part at fault
    /// (`("field", message)`).
    pub fn parse(
        metric: &str,
        field: &str,
        value: f64,
        measured_at: When,
        label: Option<&str>,
        tz: &TimeZone,
        now: i64,
    ) -> Result<NewMeasurement, (&'static str, String)> {
        let metric = Metric::parse(metric).map_err(|e| ("metric", e.0))?;
        let def = metric.field(field).map_err(|e| ("field", e.0))?;
        if def.computed {
            return Err((
                "field",
                format!(
                    "{} is computed from Steward's own tickets and cannot be recorded",
                    def.name
                ),
            ));
        }
        let value = def.check_value(value).map_err(|e| ("value", e.0))?;
        let at = measured_at
            .resolve(tz)
            .and_then(|at| check_measured_at(at, now))
            .map_err(|e| ("measured_at", e.0))?;
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if let Some(l) = label
            && (l.chars().count() > MAX_LABEL || l.contains('\0'))
        {
            return Err((
                "label",
                format!("must be at most {MAX_LABEL} characters, without NUL"),
            ));
        }
        Ok(NewMeasurement {
            metric,
            field: def,
            value,
            measured_at: at,
            label: label.map(str::to_string),
        })
    }
}

/// Parses CSV measurements: a header row naming the columns `metric`,
/// `field`, `value`, `measured_at` and optionally `label` (any order), then
/// one measurement per line. Fields may be quoted with `"` (a doubled `""`
/// inside is a quote); blank lines are skipped. Errors carry the 1-based
/// line number (the header is line 1) and stop at the first bad line, since
/// the whole file is refused anyway.
pub fn parse_csv(
    text: &str,
    tz: &TimeZone,
    now: i64,
    max_rows: usize,
) -> Result<Vec<NewMeasurement>, CsvError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let (hline, header) = lines.next().ok_or(CsvError::Line {
        line: 1,
        message: "the file is empty; expected a header metric,field,value,measured_at[,label]"
            .into(),
    })?;
    let bad_header = |message: String| CsvError::Line {
        line: hline,
        message,
    };
    let names = split_csv_line(header).map_err(bad_header)?;
    let col = |n: &str| names.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let need = |n: &str| {
        col(n).ok_or_else(|| {
            bad_header(format!(
                "the header must name the columns metric, field, value, measured_at (and optionally label); {n} is missing"
            ))
        })
    };
    let (c_metric, c_field, c_value, c_at) = (
        need("metric")?,
        need("field")?,
        need("value")?,
        need("measured_at")?,
    );
    let c_label = col("label");
    let mut out = Vec::new();
    for (line, text) in lines {
        if out.len() == max_rows {
            return Err(CsvError::TooManyRows(max_rows));
        }
        let bad = |message: String| CsvError::Line { line, message };
        let cells = split_csv_line(text).map_err(bad)?;
        if cells.len() != names.len() {
            return Err(bad(format!(
                "expected {} columns as in the header, found {}",
                names.len(),
                cells.len()
            )));
        }
        let cell = |i: usize| cells[i].trim();
        let value = parse_number(cell(c_value)).map_err(|e| bad(format!("value: {}", e.0)))?;
        let when = When::parse(cell(c_at)).map_err(|e| bad(format!("measured_at: {}", e.0)))?;
        let m = NewMeasurement::parse(
            cell(c_metric),
            cell(c_field),
            value,
            when,
            c_label.map(cell),
            tz,
            now,
        )
        .map_err(|(k, e)| bad(format!("{k}: {e}")))?;
        out.push(m);
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("at most {0} measurements per import")]
    TooManyRows(usize),
}

/// Splits one CSV line; quoted fields may hold commas and `""`.
pub fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => quoted = false,
                _ => cur.push(c),
            }
        } else {
            match c {
                ',' => {
                    cells.push(std::mem::take(&mut cur));
                    at_start = true;
                    continue;
                }
                '"' if at_start && cur.trim().is_empty() => {
                    cur.clear();
                    quoted = true;
                }
                '"' => return Err("a quote may only open a field".into()),
                _ => cur.push(c),
            }
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    cells.push(cur);
    Ok(cells)
}

/// How often a measure is taken, as agreed in the baseline plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// §14's system performance: 02:00 and 14:00 ET.
    TwiceDaily,
    Daily,
    Weekly,
    Monthly,
}

/// One line of a baseline plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanItem {
    pub metric: Metric,
    pub field: String,
    pub frequency: Frequency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
}

/// What an account measures, how often, who owns each measure, and the
/// thresholds that override the defaults (§14: "signed off before
/// go-live").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselinePlan {
    #[serde(default)]
    pub items: Vec<PlanItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl BaselinePlan {
    /// Every item names a field of its metric, once; overrides point the
    /// field's way; the time zone exists. Errors name the item (`items[2]`).
    pub fn validate(&self) -> Result<(), (String, String)> {
        if let Some(tz) = &self.time_zone {
            TimeZone::get(tz)
                .map_err(|_| ("time_zone".to_string(), format!("{tz} is not a time zone")))?;
        }
        let mut seen = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            let at = |k: &str| format!("items[{i}].{k}");
            let def = item
                .metric
                .field(&item.field)
                .map_err(|e| (at("field"), e.0))?;
            if seen.contains(&(item.metric, def.name)) {
                return Err((at("field"), format!("{} is planned twice", def.name)));
            }
            seen.push((item.metric, def.name));
            if let Some(t) = &item.thresholds {
                t.check(def.direction)
                    .map_err(|e| (at("thresholds"), e.0))?;
            }
        }
        Ok(())
    }

    pub fn tz(&self) -> TimeZone {
        self.time_zone
            .as_deref()
            .and_then(|t| TimeZone::get(t).ok())
            .unwrap_or_else(default_tz)
    }

    /// The plan's thresholds for a field, else the default ones.
    pub fn thresholds(&self, metric: Metric, def: &FieldDef) -> (Option<Thresholds>, &'static str) {
        match self
            .items
            .iter()
            .find(|i| i.metric == metric && i.field == def.name)
            .and_then(|i| i.thresholds)
        {
            Some(t) => (Some(t), "plan"),
            None => (def.thresholds, "default"),
        }
    }
}

/// America/New_York (bundled with jiff, so always there); UTC as a last
/// resort.
pub fn default_tz() -> TimeZone {
    TimeZone::get(DEFAULT_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_second()
    }

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    #[test]
    fn every_metric_has_its_fields_and_thresholds_are_consistent() {
        assert_eq!(Metric::ALL.len(), 8);
        for m in Metric::ALL {
            assert!(!m.fields().is_empty());
            for f in m.fields() {
                assert_eq!(m.field(f.name).unwrap().name, f.name);
                if let Some(t) = f.thresholds {
                    t.check(f.direction).unwrap();
                }
                assert!(f.min < f.max);
            }
        }
        assert!(Metric::SystemPerformance.field("uptime").is_err());
        assert!(Metric::parse("vibes").is_err());
    }

    #[test]
    fn week1_baseline_is_the_mean_of_the_seven_days_after_go_live() {
        let go_live: Date = "2026-03-02".parse().unwrap();
        let samples = [
            // go-live day itself: not counted
            Sample {
                at: at("2026-03-02T18:00:00Z"),
                value: 1000.0,
            },
            // just before midnight New York (05:00Z in March before DST)
            Sample {
                at: at("2026-03-03T04:59:59Z"),
                value: 1000.0,
            },
            // day 1 starts at midnight New York
            Sample {
                at: at("2026-03-03T05:00:00Z"),
                value: 10.0,
            },
            Sample {
                at: at("2026-03-05T12:00:00Z"),
                value: 20.0,
            },
            // day 7 (2026-03-09, after the DST switch on 03-08: EDT, UTC-4)
            Sample {
                at: at("2026-03-10T03:59:59Z"),
                value: 30.0,
            },
            // day 8 has begun
            Sample {
                at: at("2026-03-10T04:00:00Z"),
                value: 1000.0,
            },
        ];
        assert_eq!(week1_baseline(&samples, go_live, &ny()), Some(20.0));
        assert_eq!(week1_baseline(&samples[..2], go_live, &ny()), None);
        let (s, e) = week1_window(go_live, &ny()).unwrap();
        assert_eq!(
            (s, e),
            (at("2026-03-03T05:00:00Z"), at("2026-03-10T04:00:00Z"))
        );
    }

    #[test]
    fn running_baseline_window_is_half_open_at_seven_days() {
        let now = at("2026-04-15T12:00:00Z");
        let samples = [
            Sample {
                at: now - WEEK,
                value: 1000.0,
            },
            Sample {
                at: now - WEEK + 1,
                value: 2.0,
            },
            Sample {
                at: now,
                value: 4.0,
            },
            Sample {
                at: now + 1,
                value: 1000.0,
            },
        ];
        assert_eq!(running_baseline(&samples, now), Some(3.0));
        assert_eq!(running_baseline(&samples, now - WEEK - 1), None);
        assert_eq!(running_baseline(&[], now), None);
    }

    #[test]
    fn rag_boundaries_in_both_directions() {
        let uptime = Metric::SystemPerformance.field("uptime_pct").unwrap();
        let t = uptime.thresholds.unwrap();
        assert_eq!(rag(99.9, &t), Rag::Green);
        assert_eq!(rag(99.89, &t), Rag::Yellow);
        assert_eq!(rag(99.5, &t), Rag::Yellow);
        assert_eq!(rag(99.49, &t), Rag::Red);

        let ttv = Metric::TimeToValue
            .field("days")
            .unwrap()
            .thresholds
            .unwrap();
        assert_eq!(rag(13.9, &ttv), Rag::Green);
        assert_eq!(rag(14.0, &ttv), Rag::Yellow);
        assert_eq!(rag(21.0, &ttv), Rag::Yellow);
        assert_eq!(rag(21.1, &ttv), Rag::Red);

        let nps = Metric::UserSatisfaction
            .field("nps")
            .unwrap()
            .thresholds
            .unwrap();
        assert_eq!(rag(51.0, &nps), Rag::Green);
        assert_eq!(rag(50.0, &nps), Rag::Yellow);
        assert_eq!(rag(30.0, &nps), Rag::Red);

        let p0 = Metric::SupportTickets
            .field("avg_resolution_hours_p0")
            .unwrap()
            .thresholds
            .unwrap();
        assert_eq!(rag(1.99, &p0), Rag::Green);
        assert_eq!(rag(2.0, &p0), Rag::Yellow);
        assert_eq!(rag(4.0, &p0), Rag::Red);
    }

    #[test]
    fn crossing_into_red_only_from_another_colour() {
        assert!(crossed_into_red(None, Rag::Red));
        assert!(crossed_into_red(Some(Rag::Green), Rag::Red));
        assert!(crossed_into_red(Some(Rag::Yellow), Rag::Red));
        assert!(!crossed_into_red(Some(Rag::Red), Rag::Red));
        assert!(!crossed_into_red(None, Rag::Yellow));
        assert!(!crossed_into_red(Some(Rag::Red), Rag::Green));
    }

    #[test]
    fn trend_follows_the_direction() {
        assert_eq!(
            trend(100.0, 100.5, Direction::HigherIsBetter),
            Trend::Steady
        );
        assert_eq!(
            trend(100.0, 102.0, Direction::HigherIsBetter),
            Trend::Improving
        );
        assert_eq!(
            trend(100.0, 102.0, Direction::LowerIsBetter),
            Trend::Worsening
        );
        assert_eq!(trend(0.0, 0.0, Direction::LowerIsBetter), Trend::Steady);
    }

    #[test]
    fn conditions_and_plans_round_trip_and_validate() {
        assert_eq!(Condition::parse(">= 99.9").unwrap(), Condition::ge(99.9));
        assert_eq!(Condition::parse("<2").unwrap(), Condition::lt(2.0));
        assert!(Condition::parse("= 3").is_err());
        assert!(Condition::parse(">= NaN").is_err());
        let plan: BaselinePlan = serde_json::from_value(serde_json::json!({
            "items": [{"metric": "system_performance", "field": "uptime_pct", "frequency": "twice_daily",
                       "owner_id": 3, "thresholds": {"green": ">= 99.95", "yellow": ">= 99.8"}}]
        }))
        .unwrap();
        plan.validate().unwrap();
        let uptime = Metric::SystemPerformance.field("uptime_pct").unwrap();
        let (t, source) = plan.thresholds(Metric::SystemPerformance, uptime);
        assert_eq!((rag(99.9, &t.unwrap()), source), (Rag::Yellow, "plan"));
        let back: BaselinePlan =
            serde_json::from_value(serde_json::to_value(&plan).unwrap()).unwrap();
        assert_eq!(back, plan);

        let mut wrong = plan.clone();
        wrong.items[0].thresholds = Some(Thresholds::new(Condition::le(1.0), Condition::le(2.0)));
        assert_eq!(wrong.validate().unwrap_err().0, "items[0].thresholds");
        let mut twice = plan.clone();
        twice.items.push(plan.items[0].clone());
        assert_eq!(twice.validate().unwrap_err().0, "items[1].field");
    }

    #[test]
    fn measurements_are_checked_and_dates_mean_midnight_in_the_zone() {
        let now = at("2026-03-20T00:00:00Z");
        let ok = NewMeasurement::parse(
            "system_performance",
            "uptime_pct",
            99.0,
            When::parse("2026-03-03").unwrap(),
            None,
            &ny(),
            now,
        )
        .unwrap();
        assert_eq!(ok.measured_at, at("2026-03-03T05:00:00Z"));
        let err = |m: &str, f: &str, v: f64, w: &str| {
            NewMeasurement::parse(m, f, v, When::parse(w).unwrap(), None, &ny(), now)
                .unwrap_err()
                .0
        };
        assert_eq!(err("nope", "uptime_pct", 1.0, "2026-03-03"), "metric");
        assert_eq!(
            err("system_performance", "nope", 1.0, "2026-03-03"),
            "field"
        );
        assert_eq!(
            err("system_performance", "uptime_pct", 101.0, "2026-03-03"),
            "value"
        );
        assert_eq!(
            err("system_performance", "uptime_pct", f64::NAN, "2026-03-03"),
            "value"
        );
        assert_eq!(
            err("system_performance", "uptime_pct", 1.0, "1999-12-31"),
            "measured_at"
        );
        assert_eq!(
            err("support_tickets", "created_per_day", 1.0, "2026-03-03"),
            "field"
        );
        assert!(When::parse("03/03/2026").is_err());
    }

    #[test]
    fn csv_reports_the_line_of_the_first_bad_row() {
        let now = at("2026-03-20T00:00:00Z");
        let text = "metric,field,value,measured_at,label\n\
                    system_performance,uptime_pct,99.95,2026-03-03,\n\
                    \n\
                    process_cycle_times,avg_minutes,12.5,2026-03-03T14:00:00Z,\"Invoice, approval\"\n";
        let rows = parse_csv(text, &ny(), now, 10).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].label.as_deref(), Some("Invoice, approval"));
        let bad = "metric,field,value,measured_at\nsystem_performance,uptime_pct,99,2026-03-03\nsystem_performance,uptime_pct,abc,2026-03-03\n";
        assert_eq!(
            parse_csv(bad, &ny(), now, 10).unwrap_err(),
            CsvError::Line {
                line: 3,
                message: "value: abc is not a number".into()
            }
        );
        assert!(matches!(
            parse_csv("metric,value\n", &ny(), now, 10),
            Err(CsvError::Line { line: 1, .. })
        ));
        assert_eq!(
            parse_csv(
                bad.lines().take(2).collect::<Vec<_>>().join("\n").as_str(),
                &ny(),
                now,
                0
            ),
            Err(CsvError::TooManyRows(0))
        );
        assert_eq!(
            split_csv_line("a,\"b \"\"c\"\"\",d").unwrap(),
            vec!["a", "b \"c\"", "d"]
        );
        assert!(split_csv_line("a,\"b").is_err());
    }
}
