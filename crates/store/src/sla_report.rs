//! Force-majeure events and the SLA report's data (policies.md §5).
//!
//! The report itself is a pure function ([`steward_domain::sla_report`]);
//! this module reads what it needs and hands it over: the clocks of every
//! live customer ticket that may have been decided in the quarter to date
//! (created before the month's end and not solved before the quarter
//! began: a ticket solved earlier fulfilled all its clocks earlier), their
//! organizations with tier and monthly fee (ACV / 12), the force-majeure
//! windows that overlap the quarter, the policy table and the calendars.
//! Clocks and windows are read in one read transaction, so a report never
//! mixes two states of the same ticket.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;
use steward_domain::{
    AccountStatus, ExclusionReason, ForceMajeureKind, Priority,
    exclusions::{ForceMajeure, NewForceMajeure},
    sla::Clock,
    sla_report::{self, ReportAccount, ReportInput, ReportTicket, SlaReport},
    time::Month,
};

use crate::{
    Store,
    db::opt_str,
    error::{Result, StoreError},
    sql::Args,
};

const WINDOW_COLUMNS: &str = "id, kind, description, starts_at, ends_at, created_by, created_at";

/// Organizations read per statement (well under SQLite's parameter limit).
const ORG_CHUNK: usize = 500;

fn window_from_row(r: &sqlx::any::AnyRow) -> Result<ForceMajeure> {
    Ok(ForceMajeure {
        id: r.try_get("id")?,
        kind: ForceMajeureKind::parse(&r.try_get::<String, _>("kind")?)?,
        description: r.try_get("description")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Store {
    /// Every declared force-majeure event, latest first.
    pub async fn force_majeure_events(&self) -> Result<Vec<ForceMajeure>> {
        let mut conn = self.reader().await?;
        let sql = format!(
            "SELECT {WINDOW_COLUMNS} FROM force_majeure_events ORDER BY starts_at DESC, id DESC"
        );
        let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
        rows.iter().map(window_from_row).collect()
    }

    pub async fn force_majeure_event(&self, id: i64) -> Result<ForceMajeure> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {WINDOW_COLUMNS} FROM force_majeure_events WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| window_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("force-majeure event"))
    }

    /// Declares a force-majeure event; `author_id` is the admin declaring it.
    pub async fn create_force_majeure(
        &self,
        event: &NewForceMajeure,
        author_id: i64,
        now: i64,
    ) -> Result<ForceMajeure> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO force_majeure_events (kind, description, starts_at, ends_at, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(event.kind().as_str())
        .bind(event.description())
        .bind(event.starts_at())
        .bind(event.ends_at())
        .bind(author_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        self.commit(tx).await?;
        tracing::info!(
            force_majeure.id = id,
            force_majeure.kind = event.kind().as_str(),
            user.id = author_id,
            "force-majeure event declared"
        );
        Ok(ForceMajeure {
            id,
            kind: event.kind(),
            description: event.description().to_string(),
            starts_at: event.starts_at(),
            ends_at: event.ends_at(),
            created_by: author_id,
            created_at: now,
        })
    }

    /// Withdraws a force-majeure event (one declared by mistake): the
    /// breaches it waived count as misses again in every report.
    pub async fn delete_force_majeure(&self, id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM force_majeure_events WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("force-majeure event"));
        }
        self.commit(tx).await?;
        tracing::info!(force_majeure.id = id, "force-majeure event withdrawn");
        Ok(())
    }

    /// The SLA report for `month` as of `now` (see
    /// [`steward_domain::sla_report`]), for every customer account or for
    /// one organization (`NotFound` if it does not exist).
    pub async fn sla_report(
        &self,
        month: Month,
        organization_id: Option<i64>,
        now: i64,
    ) -> Result<SlaReport> {
        let policies = self.sla_policies().await?;
        let calendars = self.calendars().await?;
        let from = month.quarter_start().start();
        let end = month.end();

        // One read transaction on a gated reader (`Store::reader`), released
        // before the organizations are read through their own reader.
        let mut conn = self.reader().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let mut args = Args::default();
        let mut conds = vec![
            "t.deleted = 0".to_string(),
            "t.organization_id IS NOT NULL".to_string(),
            format!("t.created_at < {}", args.int(end)),
        ];
        let solved_from = args.int(from);
        conds.push(format!(
            "(t.solved_at IS NULL OR t.solved_at >= {solved_from})"
        ));
        if let Some(org) = organization_id {
            conds.push(format!("t.organization_id = {}", args.int(org)));
        }
        let sql = format!(
            "SELECT t.id, t.organization_id, t.priority, t.sla_exclusion, m.clock
             FROM tickets t JOIN ticket_metrics m ON m.ticket_id = t.id
             WHERE {} ORDER BY t.id, m.metric, m.instance",
            conds.join(" AND ")
        );
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *tx).await?;
        let mut tickets: Vec<ReportTicket> = Vec::new();
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let clock: Clock = serde_json::from_str(&r.try_get::<String, _>("clock")?)?;
            match tickets.last_mut() {
                Some(t) if t.id == id => t.clocks.push(clock),
                _ => tickets.push(ReportTicket {
                    id,
                    organization_id: r.try_get("organization_id")?,
                    priority: Priority::parse(&r.try_get::<String, _>("priority")?)?,
                    exclusion: opt_str(r, "sla_exclusion")?
                        .map(|s| ExclusionReason::parse(&s))
                        .transpose()?,
                    clocks: vec![clock],
                }),
            }
        }

        let sql = format!(
            "SELECT {WINDOW_COLUMNS} FROM force_majeure_events
             WHERE starts_at < $1 AND ends_at > $2 ORDER BY starts_at, id"
        );
        let windows = sqlx::query(&sql)
            .bind(end)
            .bind(from)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(window_from_row)
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        drop(conn);

        let wanted: Vec<i64> = match organization_id {
            Some(org) => vec![org],
            None => tickets
                .iter()
                .map(|t| t.organization_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        };
        let mut orgs = BTreeMap::new();
        for chunk in wanted.chunks(ORG_CHUNK) {
            for o in self.orgs_by_ids(chunk).await? {
                orgs.insert(o.id, o);
            }
        }
        if let Some(org) = organization_id
            && !orgs.contains_key(&org)
        {
            return Err(StoreError::NotFound("organization"));
        }
        // Prospects have no tier policy (their tickets run on the group
        // defaults, see `apply_sla_tx`): not customers, not in the report.
        let accounts: Vec<ReportAccount> = orgs
            .values()
            .filter(|o| o.account.status != Some(AccountStatus::Prospect))
            .map(|o| ReportAccount {
                organization_id: o.id,
                name: o.name.clone(),
                tier: o.tier(),
                monthly_fee: o.account.acv.unwrap_or_default().monthly_fee(),
            })
            .collect();

        Ok(sla_report::build(&ReportInput {
            month,
            now,
            accounts: &accounts,
            tickets: &tickets,
            windows: &windows,
            policies: &policies,
            calendars: calendars.as_ref(),
            keep_empty: organization_id.is_some(),
        }))
    }
}
