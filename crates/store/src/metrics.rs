//! Baseline metrics of an account (policies.md §14): measurements over
//! time, the baseline plan, and the alerts raised when a series turns red.
//! The rules (fields, thresholds, baselines, RAG) live in
//! [`steward_domain::metrics`]; this module stores and aggregates.
//!
//! Decisions:
//!
//! * A **series** is (account, metric, field, label): two processes' cycle
//!   times are two series, each with its own baselines and alerts.
//! * A batch (JSON or CSV) is one transaction: one bad row refuses the whole
//!   batch, the error naming the row (`measurements[3].value`, `line 5`).
//!   Dates without a time mean midnight at the start of that day in the
//!   account's business time zone (the plan's, else America/New_York).
//! * **Crossing into red**: after a measurement is stored, if it is red
//!   under the effective thresholds (the plan's override, else the
//!   defaults), it is the newest of its series, and the measurement before
//!   it was not red (or there was none), a `metric_alerts` row and a Slack
//!   message to `#<account-slug>-implementation` are written in the same
//!   transaction, the message keyed `metric-red:<measurement id>`. Rows of a
//!   batch are stored in time order, so a back-filled history raises the
//!   alerts its crossings would have raised live; a value back-filled
//!   *behind* newer ones raises none (the series' present is not red
//!   because of it).
//! * **Support tickets** metrics are computed on read from Steward's own
//!   tickets of the account, never stored: tickets created per day over the
//!   7 days before `now`; average hours from creation to solve of urgent
//!   (P0) and high (P1) tickets solved in the 30 days before `now`; and
//!   first-contact resolution, the share of those solved tickets with at
//!   most one public reply by staff (the opening comment is the request,
//!   not a reply, even when an agent typed it in for the customer). Their
//!   week-1 baselines use the go-live week as the window instead; they raise
//!   no alerts (nothing is written when they change). `csat_pct` is
//!   recorded like any other measure.
//! * **Baseline plan**: editing a signed-off plan (a change of its items,
//!   time zone or go-live date) clears the sign-off, since what was signed
//!   is no longer what is planned; saving it unchanged keeps it.

use jiff::civil::Date;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};
use steward_domain::{
    metrics::{
        BaselinePlan, FieldDef, Metric, NewMeasurement, Rag, Sample, Thresholds, Trend, When,
        crossed_into_red, parse_csv, rag, running_baseline, trend, week1_baseline, week1_window,
    },
    time::{format_unix, parse_date},
};

use crate::{
    Store,
    access::Actor,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    escalation::{account_slug, slack},
};

/// Most measurements accepted in one request (JSON batch or CSV file).
pub const MAX_BATCH: usize = 5_000;

const WEEK: i64 = 7 * 86_400;

#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub id: i64,
    pub organization_id: i64,
    pub metric: Metric,
    pub field: String,
    pub label: Option<String>,
    pub value: f64,
    pub measured_at: i64,
    pub source: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricAlert {
    pub id: i64,
    pub organization_id: i64,
    pub metric: Metric,
    pub field: String,
    pub label: Option<String>,
    pub value: f64,
    pub measured_at: i64,
    pub measurement_id: i64,
    pub created_at: i64,
}

/// What a batch stored, and the alerts it raised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Added {
    pub measurements: Vec<Measurement>,
    pub alerts: Vec<MetricAlert>,
}

/// A measurement as a client sent it, before the account's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMeasurement {
    pub metric: String,
    pub field: String,
    pub value: f64,
    pub measured_at: When,
    pub label: Option<String>,
}

/// Filters of a series listing; `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Default)]
pub struct SeriesFilter {
    pub metric: Option<Metric>,
    pub field: Option<String>,
    pub label: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanRecord {
    pub organization_id: i64,
    pub plan: BaselinePlan,
    pub go_live_on: Option<Date>,
    pub signed_off_by: Option<i64>,
    pub signed_off_at: Option<i64>,
    pub updated_by: Option<i64>,
    pub updated_at: Option<i64>,
}

/// One series in the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSummary {
    pub metric: Metric,
    pub field: &'static FieldDef,
    pub label: Option<String>,
    pub latest: Option<Sample>,
    pub running_baseline: Option<f64>,
    pub previous_running_baseline: Option<f64>,
    pub week1_baseline: Option<f64>,
    pub thresholds: Option<Thresholds>,
    /// `plan` or `default`.
    pub thresholds_source: &'static str,
    pub rag: Option<Rag>,
    pub trend: Option<Trend>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricsSummary {
    pub go_live_on: Option<Date>,
    pub time_zone: String,
    pub as_of: i64,
    pub fields: Vec<FieldSummary>,
}

fn may_read(actor: &Actor) -> Result<()> {
    if actor.role().is_staff() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "baseline metrics are for staff".into(),
        ))
    }
}

fn may_write(actor: &Actor) -> Result<()> {
    may_read(actor)?;
    if actor.role().can_write() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "viewers cannot record metrics or change baseline plans".into(),
        ))
    }
}

const COLUMNS: &str =
    "id, organization_id, metric, field, label, value, measured_at, source, created_at";

fn measurement_from_row(r: &AnyRow) -> Result<Measurement> {
    Ok(Measurement {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        metric: Metric::parse(&r.try_get::<String, _>("metric")?)?,
        field: r.try_get("field")?,
        label: opt_str(r, "label")?,
        value: r.try_get("value")?,
        measured_at: r.try_get("measured_at")?,
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
    })
}

const ALERT_COLUMNS: &str =
    "id, organization_id, metric, field, label, value, measured_at, measurement_id, created_at";

fn alert_from_row(r: &AnyRow) -> Result<MetricAlert> {
    Ok(MetricAlert {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        metric: Metric::parse(&r.try_get::<String, _>("metric")?)?,
        field: r.try_get("field")?,
        label: opt_str(r, "label")?,
        value: r.try_get("value")?,
        measured_at: r.try_get("measured_at")?,
        measurement_id: r.try_get("measurement_id")?,
        created_at: r.try_get("created_at")?,
    })
}

/// `#acme-corp-implementation` for "Acme Corp".
pub fn implementation_channel(org_name: &str) -> String {
    format!("#{}-implementation", account_slug(org_name))
}

impl Store {
    /// Stores a batch of measurements in one transaction (see the module
    /// docs); a bad row refuses the batch, naming `measurements[i]`.
    pub async fn add_measurements(
        &self,
        actor: &Actor,
        org: i64,
        rows: Vec<RawMeasurement>,
        now: i64,
    ) -> Result<Added> {
        may_write(actor)?;
        if rows.len() > MAX_BATCH {
            return Err(StoreError::invalid(
                "measurements",
                format!("at most {MAX_BATCH} measurements per request"),
            ));
        }
        let mut tx = self.begin().await?;
        let name = self.org_tx(&mut tx, org).await?.name;
        let (plan, _) = self.plan_of(&mut tx, org).await?;
        let tz = plan.plan.tz();
        let mut parsed = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let m = NewMeasurement::parse(
                &r.metric,
                &r.field,
                r.value,
                r.measured_at,
                r.label.as_deref(),
                &tz,
                now,
            )
            .map_err(|(k, e)| StoreError::invalid(format!("measurements[{i}].{k}"), e))?;
            parsed.push(m);
        }
        let added = self
            .insert_measurements_tx(&mut tx, org, &name, &plan.plan, parsed, "api", now)
            .await?;
        self.mark_health_dirty(&mut tx, org, now).await?;
        self.commit(tx).await?;
        Ok(added)
    }

    /// Imports CSV (`metric,field,value,measured_at[,label]`, see
    /// [`parse_csv`]); a bad line refuses the file, naming `line N`.
    pub async fn import_measurements_csv(
        &self,
        actor: &Actor,
        org: i64,
        csv: &str,
        now: i64,
    ) -> Result<Added> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let name = self.org_tx(&mut tx, org).await?.name;
        let (plan, _) = self.plan_of(&mut tx, org).await?;
        let rows = parse_csv(csv, &plan.plan.tz(), now, MAX_BATCH).map_err(|e| match e {
            steward_domain::metrics::CsvError::Line { line, message } => {
                StoreError::invalid(format!("line {line}"), message)
            }
            e => StoreError::invalid("csv", e.to_string()),
        })?;
        let added = self
            .insert_measurements_tx(&mut tx, org, &name, &plan.plan, rows, "csv", now)
            .await?;
        self.mark_health_dirty(&mut tx, org, now).await?;
        self.commit(tx).await?;
        Ok(added)
    }

    #[allow(clippy::too_many_arguments)] // one internal step of two callers
    async fn insert_measurements_tx(
        &self,
        tx: &mut Tx,
        org: i64,
        org_name: &str,
        plan: &BaselinePlan,
        mut rows: Vec<NewMeasurement>,
        source: &str,
        now: i64,
    ) -> Result<Added> {
        // Time order, so each row's predecessor is stored before it.
        rows.sort_by_key(|m| m.measured_at);
        let mut added = Added::default();
        for m in rows {
            let sql = format!(
                "INSERT INTO measurements (organization_id, metric, field, label, value, measured_at, source, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(org)
                .bind(m.metric.as_str())
                .bind(m.field.name)
                .bind(m.label.as_deref())
                .bind(m.value)
                .bind(m.measured_at)
                .bind(source)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
            let stored = measurement_from_row(&row)?;
            let (thresholds, _) = plan.thresholds(m.metric, m.field);
            if let Some(t) = thresholds
                && rag(m.value, &t) == Rag::Red
                && let Some(alert) = self
                    .raise_if_crossed_tx(tx, org_name, &stored, m.field, &t, now)
                    .await?
            {
                added.alerts.push(alert);
            }
            added.measurements.push(stored);
        }
        Ok(added)
    }

    /// Raises the alert for a red measurement that turned its series red.
    async fn raise_if_crossed_tx(
        &self,
        tx: &mut Tx,
        org_name: &str,
        m: &Measurement,
        def: &FieldDef,
        t: &Thresholds,
        now: i64,
    ) -> Result<Option<MetricAlert>> {
        let series =
            "organization_id = $1 AND metric = $2 AND field = $3 AND COALESCE(label, '') = $4";
        let label = m.label.clone().unwrap_or_default();
        let newer = sqlx::query(&format!(
            "SELECT id FROM measurements WHERE {series}
               AND (measured_at > $5 OR (measured_at = $5 AND id > $6)) LIMIT 1"
        ))
        .bind(m.organization_id)
        .bind(m.metric.as_str())
        .bind(&m.field)
        .bind(&label)
        .bind(m.measured_at)
        .bind(m.id)
        .fetch_optional(&mut **tx)
        .await?;
        if newer.is_some() {
            return Ok(None);
        }
        let previous = sqlx::query(&format!(
            "SELECT value FROM measurements WHERE {series}
               AND (measured_at < $5 OR (measured_at = $5 AND id < $6))
             ORDER BY measured_at DESC, id DESC LIMIT 1"
        ))
        .bind(m.organization_id)
        .bind(m.metric.as_str())
        .bind(&m.field)
        .bind(&label)
        .bind(m.measured_at)
        .bind(m.id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get::<f64, _>("value"))
        .transpose()?;
        if !crossed_into_red(previous.map(|v| rag(v, t)), Rag::Red) {
            return Ok(None);
        }
        let sql = format!(
            "INSERT INTO metric_alerts (organization_id, metric, field, label, value, measured_at, measurement_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ALERT_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(m.organization_id)
            .bind(m.metric.as_str())
            .bind(&m.field)
            .bind(m.label.as_deref())
            .bind(m.value)
            .bind(m.measured_at)
            .bind(m.id)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
        let alert = alert_from_row(&row)?;
        let label = m
            .label
            .as_deref()
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        let was = match previous {
            Some(p) => format!("; it was {p} before"),
            None => String::new(),
        };
        let text = format!(
            ":red_circle: *{org_name}*: {} — `{}`{label} is {} {} at {}, in the red (green {}, yellow {}){was}.",
            m.metric.title(),
            m.field,
            m.value,
            def.unit,
            format_unix(m.measured_at),
            t.green,
            t.yellow,
        );
        let key = format!("metric-red:{}", m.id);
        self.enqueue(
            tx,
            "slack",
            &key,
            &slack(&implementation_channel(org_name), &text),
            now,
        )
        .await?;
        tracing::info!(
            account.id = m.organization_id,
            metric = m.metric.as_str(),
            field = %m.field,
            measurement.id = m.id,
            "metric turned red"
        );
        Ok(Some(alert))
    }

    /// A series of an account, oldest first.
    pub async fn measurements(
        &self,
        actor: &Actor,
        org: i64,
        filter: &SeriesFilter,
    ) -> Result<Vec<Measurement>> {
        may_read(actor)?;
        self.org(org).await?;
        let mut args = crate::sql::Args::default();
        let mut conds = vec![format!("organization_id = {}", args.int(org))];
        if let Some(m) = filter.metric {
            conds.push(format!("metric = {}", args.text(m.as_str())));
        }
        if let Some(f) = &filter.field {
            conds.push(format!("field = {}", args.text(f.as_str())));
        }
        if let Some(l) = &filter.label {
            conds.push(format!("label = {}", args.text(l.as_str())));
        }
        if let Some(from) = filter.from {
            conds.push(format!("measured_at >= {}", args.int(from)));
        }
        if let Some(to) = filter.to {
            conds.push(format!("measured_at < {}", args.int(to)));
        }
        let limit = args.int(filter.limit.clamp(1, 10_000));
        let sql = format!(
            "SELECT {COLUMNS} FROM measurements WHERE {} ORDER BY measured_at, id LIMIT {limit}",
            crate::sql::and_all(&conds)
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter().map(measurement_from_row).collect()
    }

    /// An account's metric alerts, newest first.
    pub async fn metric_alerts(
        &self,
        actor: &Actor,
        org: i64,
        limit: i64,
    ) -> Result<Vec<MetricAlert>> {
        may_read(actor)?;
        self.org(org).await?;
        let mut conn = self.reader().await?;
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM metric_alerts WHERE organization_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(org)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// The account's plan as stored, or an empty, unsaved one.
    pub(crate) async fn plan_of(
        &self,
        conn: &mut AnyConnection,
        org: i64,
    ) -> Result<(PlanRecord, bool)> {
        let row = sqlx::query(
            "SELECT plan, go_live_on, signed_off_by, signed_off_at, updated_by, updated_at
             FROM baseline_plans WHERE organization_id = $1",
        )
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(r) = row else {
            return Ok((
                PlanRecord {
                    organization_id: org,
                    plan: BaselinePlan::default(),
                    go_live_on: None,
                    signed_off_by: None,
                    signed_off_at: None,
                    updated_by: None,
                    updated_at: None,
                },
                false,
            ));
        };
        Ok((
            PlanRecord {
                organization_id: org,
                plan: serde_json::from_str(&r.try_get::<String, _>("plan")?)?,
                go_live_on: opt_str(&r, "go_live_on")?
                    .map(|d| parse_date(&d))
                    .transpose()?,
                signed_off_by: r.try_get("signed_off_by")?,
                signed_off_at: r.try_get("signed_off_at")?,
                updated_by: r.try_get("updated_by")?,
                updated_at: r.try_get("updated_at")?,
            },
            true,
        ))
    }

    /// The account's go-live date, the start of its week-1 baseline: the
    /// baseline plan's `go_live_on` when set, else the go-live of the
    /// account's latest implementation project (actual, else planned).
    pub(crate) async fn go_live_of(
        &self,
        conn: &mut AnyConnection,
        org: i64,
    ) -> Result<Option<Date>> {
        if let Some(d) = self.plan_of(conn, org).await?.0.go_live_on {
            return Ok(Some(d));
        }
        // Else the go-live of the account's latest implementation project:
        // the actual date once live, the planned one before.
        let row = sqlx::query(
            "SELECT COALESCE(actual_go_live, go_live_date) AS d FROM projects
             WHERE organization_id = $1 AND status <> 'cancelled' ORDER BY id DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(|r| crate::projects::date_col(&r, "d")).transpose()
    }

    /// The account's baseline plan; an empty, unsaved one when none exists.
    pub async fn baseline_plan(&self, actor: &Actor, org: i64) -> Result<PlanRecord> {
        may_read(actor)?;
        self.org(org).await?;
        let mut conn = self.reader().await?;
        Ok(self.plan_of(&mut conn, org).await?.0)
    }

    /// Saves the plan (validated; owners must be active staff). A change
    /// clears an earlier sign-off (see the module docs).
    pub async fn put_baseline_plan(
        &self,
        actor: &Actor,
        org: i64,
        plan: BaselinePlan,
        go_live_on: Option<Date>,
        now: i64,
    ) -> Result<PlanRecord> {
        may_write(actor)?;
        plan.validate()
            .map_err(|(field, message)| StoreError::invalid(field, message))?;
        let mut tx = self.begin().await?;
        self.org_tx(&mut tx, org).await?;
        for (i, item) in plan.items.iter().enumerate() {
            if let Some(owner) = item.owner_id {
                let ok = match self.user_tx(&mut tx, owner).await {
                    Ok(u) => u.active && u.role.is_staff(),
                    Err(StoreError::NotFound(_)) => false,
                    Err(e) => return Err(e),
                };
                if !ok {
                    return Err(StoreError::invalid(
                        format!("items[{i}].owner_id"),
                        format!("user {owner} is not an active staff member"),
                    ));
                }
            }
        }
        let (old, exists) = self.plan_of(&mut tx, org).await?;
        let unchanged = exists && old.plan == plan && old.go_live_on == go_live_on;
        let (signed_by, signed_at) = if unchanged {
            (old.signed_off_by, old.signed_off_at)
        } else {
            (None, None)
        };
        sqlx::query(
            "INSERT INTO baseline_plans (organization_id, plan, go_live_on, signed_off_by, signed_off_at, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (organization_id) DO UPDATE SET plan = excluded.plan, go_live_on = excluded.go_live_on,
                signed_off_by = excluded.signed_off_by, signed_off_at = excluded.signed_off_at,
                updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(org)
        .bind(serde_json::to_string(&plan)?)
        .bind(go_live_on.map(|d| d.to_string()))
        .bind(signed_by)
        .bind(signed_at)
        .bind(actor.id())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let (saved, _) = self.plan_of(&mut tx, org).await?;
        self.commit(tx).await?;
        Ok(saved)
    }

    /// Records who signed the plan off, and when.
    pub async fn sign_off_baseline_plan(
        &self,
        actor: &Actor,
        org: i64,
        now: i64,
    ) -> Result<PlanRecord> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        self.org_tx(&mut tx, org).await?;
        let done = sqlx::query(
            "UPDATE baseline_plans SET signed_off_by = $1, signed_off_at = $2 WHERE organization_id = $3",
        )
        .bind(actor.id())
        .bind(now)
        .bind(org)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::invalid(
                "baseline_plan",
                "the account has no baseline plan to sign off yet",
            ));
        }
        let (saved, _) = self.plan_of(&mut tx, org).await?;
        self.commit(tx).await?;
        Ok(saved)
    }

    /// Every series of the account with its latest value, baselines, RAG
    /// and trend as of `now`: the stored series, the fields of the plan,
    /// and the support-ticket measures computed from tickets.
    pub async fn metrics_summary(
        &self,
        actor: &Actor,
        org: i64,
        now: i64,
    ) -> Result<MetricsSummary> {
        may_read(actor)?;
        self.org(org).await?;
        let mut conn = self.reader().await?;
        let (plan, _) = self.plan_of(&mut conn, org).await?;
        let plan = plan.plan;
        let tz = plan.tz();
        let go_live = self.go_live_of(&mut conn, org).await?;
        let week1 = go_live.and_then(|d| week1_window(d, &tz).ok());

        // Series: stored ones, then planned ones without data.
        let mut keys: Vec<(Metric, &'static FieldDef, Option<String>)> = Vec::new();
        let rows = sqlx::query(
            "SELECT DISTINCT metric, field, label FROM measurements WHERE organization_id = $1",
        )
        .bind(org)
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let metric = Metric::parse(&r.try_get::<String, _>("metric")?)?;
            let def = metric.field(&r.try_get::<String, _>("field")?)?;
            keys.push((metric, def, opt_str(r, "label")?));
        }
        for item in &plan.items {
            if let Ok(def) = item.metric.field(&item.field)
                && !def.computed
                && !keys
                    .iter()
                    .any(|(m, d, _)| *m == item.metric && d.name == def.name)
            {
                keys.push((item.metric, def, None));
            }
        }
        keys.sort_by(|a, b| {
            (a.0, field_pos(a.0, a.1), &a.2).cmp(&(b.0, field_pos(b.0, b.1), &b.2))
        });

        let series =
            "organization_id = $1 AND metric = $2 AND field = $3 AND COALESCE(label, '') = $4";
        let range_sql = format!(
            "SELECT value, measured_at FROM measurements WHERE {series}
               AND measured_at >= $5 AND measured_at < $6"
        );
        let latest_sql = format!(
            "SELECT value, measured_at FROM measurements WHERE {series} AND measured_at <= $5
             ORDER BY measured_at DESC, id DESC LIMIT 1"
        );
        let mut fields = Vec::new();
        for (metric, def, label) in keys {
            let lab = label.clone().unwrap_or_default();
            let load = |from: i64, to: i64| {
                sqlx::query(&range_sql)
                    .bind(org)
                    .bind(metric.as_str())
                    .bind(def.name)
                    .bind(lab.clone())
                    .bind(from)
                    .bind(to)
            };
            let samples = |rows: Vec<AnyRow>| -> Result<Vec<Sample>> {
                rows.iter()
                    .map(|r| {
                        Ok(Sample {
                            at: r.try_get("measured_at")?,
                            value: r.try_get("value")?,
                        })
                    })
                    .collect()
            };
            let recent = samples(
                load(now - 2 * WEEK + 1, now + 1)
                    .fetch_all(&mut *conn)
                    .await?,
            )?;
            let first_week = match week1 {
                Some((s, e)) => samples(load(s, e).fetch_all(&mut *conn).await?)?,
                None => Vec::new(),
            };
            let latest = sqlx::query(&latest_sql)
                .bind(org)
                .bind(metric.as_str())
                .bind(def.name)
                .bind(lab.clone())
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| samples(vec![r]))
                .transpose()?
                .and_then(|mut v| v.pop());
            let running = running_baseline(&recent, now);
            let previous = running_baseline(&recent, now - WEEK);
            let w1 = go_live.and_then(|d| week1_baseline(&first_week, d, &tz));
            fields.push(summarize(
                &plan, metric, def, label, latest, running, previous, w1,
            ));
        }

        // Support tickets, from the tickets themselves.
        let now_window = self.ticket_figures(&mut conn, org, now).await?;
        let week_ago = self.ticket_figures(&mut conn, org, now - WEEK).await?;
        let first_week = match week1 {
            Some((s, e)) => Some(self.ticket_figures_in(&mut conn, org, s, e, s, e).await?),
            None => None,
        };
        for (i, def) in Metric::SupportTickets
            .fields()
            .iter()
            .filter(|d| d.computed)
            .enumerate()
        {
            let pick = |f: &TicketFigures| f.0[i];
            let current = pick(&now_window);
            let latest = current.map(|value| Sample { at: now, value });
            fields.push(summarize(
                &plan,
                Metric::SupportTickets,
                def,
                None,
                latest,
                current,
                pick(&week_ago),
                first_week.as_ref().and_then(pick),
            ));
        }
        fields.sort_by_key(|f| (f.metric, field_pos(f.metric, f.field)));
        Ok(MetricsSummary {
            go_live_on: go_live,
            time_zone: tz.iana_name().unwrap_or("UTC").to_string(),
            as_of: now,
            fields,
        })
    }

    /// The computed support-ticket figures as of `at`: created per day over
    /// the 7 days before, resolution and first-contact resolution over the
    /// 30 days before.
    async fn ticket_figures(
        &self,
        conn: &mut AnyConnection,
        org: i64,
        at: i64,
    ) -> Result<TicketFigures> {
        self.ticket_figures_in(
            conn,
            org,
            at - WEEK + 1,
            at + 1,
            at - 30 * 86_400 + 1,
            at + 1,
        )
        .await
    }

    /// Figures over `[created_from, created_to)` for creation and
    /// `[solved_from, solved_to)` for solving.
    async fn ticket_figures_in(
        &self,
        conn: &mut AnyConnection,
        org: i64,
        created_from: i64,
        created_to: i64,
        solved_from: i64,
        solved_to: i64,
    ) -> Result<TicketFigures> {
        let created: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM tickets WHERE organization_id = $1 AND deleted = 0
               AND created_at >= $2 AND created_at < $3",
        )
        .bind(org)
        .bind(created_from)
        .bind(created_to)
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
        let days = ((created_to - created_from) as f64 / 86_400.0).max(1.0 / 24.0);
        let per_day = Some(created as f64 / days);

        let mut hours = [None, None];
        for (i, priority) in ["urgent", "high"].iter().enumerate() {
            let r = sqlx::query(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(solved_at - created_at), 0) AS BIGINT) AS secs
                 FROM tickets WHERE organization_id = $1 AND deleted = 0 AND priority = $2
                   AND solved_at IS NOT NULL AND solved_at >= $3 AND solved_at < $4",
            )
            .bind(org)
            .bind(*priority)
            .bind(solved_from)
            .bind(solved_to)
            .fetch_one(&mut *conn)
            .await?;
            let (n, secs): (i64, i64) = (r.try_get("n")?, r.try_get("secs")?);
            hours[i] = (n > 0).then(|| secs as f64 / n as f64 / 3600.0);
        }

        let r = sqlx::query(
            "SELECT COUNT(*) AS solved,
                    COALESCE(SUM(CASE WHEN (
                        SELECT COUNT(*) FROM ticket_comments c JOIN users u ON u.id = c.author_id
                        WHERE c.ticket_id = t.id AND c.public = 1 AND u.role <> 'end-user'
                          AND c.id > (SELECT MIN(c0.id) FROM ticket_comments c0 WHERE c0.ticket_id = t.id)
                    ) <= 1 THEN 1 ELSE 0 END), 0) AS first_contact
             FROM tickets t WHERE t.organization_id = $1 AND t.deleted = 0
               AND t.solved_at IS NOT NULL AND t.solved_at >= $2 AND t.solved_at < $3",
        )
        .bind(org)
        .bind(solved_from)
        .bind(solved_to)
        .fetch_one(&mut *conn)
        .await?;
        let (solved, first): (i64, i64) = (r.try_get("solved")?, r.try_get("first_contact")?);
        let fcr = (solved > 0).then(|| first as f64 * 100.0 / solved as f64);
        Ok(TicketFigures([per_day, hours[0], hours[1], fcr]))
    }
}

/// created_per_day, avg_resolution_hours_p0, avg_resolution_hours_p1,
/// first_contact_resolution_pct — the computed fields in catalog order.
struct TicketFigures([Option<f64>; 4]);

fn field_pos(metric: Metric, def: &FieldDef) -> usize {
    metric
        .fields()
        .iter()
        .position(|f| f.name == def.name)
        .unwrap_or(usize::MAX)
}

#[allow(clippy::too_many_arguments)] // the parts of one summary line
fn summarize(
    plan: &BaselinePlan,
    metric: Metric,
    def: &'static FieldDef,
    label: Option<String>,
    latest: Option<Sample>,
    running: Option<f64>,
    previous: Option<f64>,
    week1: Option<f64>,
) -> FieldSummary {
    let (thresholds, source) = plan.thresholds(metric, def);
    FieldSummary {
        metric,
        field: def,
        label,
        latest,
        running_baseline: running,
        previous_running_baseline: previous,
        week1_baseline: week1,
        thresholds,
        thresholds_source: source,
        rag: thresholds.zip(latest).map(|(t, s)| rag(s.value, &t)),
        trend: running
            .zip(previous)
            .map(|(c, p)| trend(p, c, def.direction)),
    }
}

/// The JSON of a plan record, shared by the API and reports.
pub fn plan_json(p: &PlanRecord) -> Value {
    json!({
        "organization_id": p.organization_id,
        "go_live_on": p.go_live_on.map(|d| d.to_string()),
        "time_zone": p.plan.tz().iana_name().unwrap_or("UTC"),
        "items": p.plan.items,
        "signed_off": p.signed_off_at.is_some(),
        "signed_off_by": p.signed_off_by,
        "signed_off_at": p.signed_off_at.map(format_unix),
        "updated_by": p.updated_by,
        "updated_at": p.updated_at.map(format_unix),
    })
}
