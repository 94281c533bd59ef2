//! The Customer Advisory Board (policies.md §12): eligibility explained per
//! account, members with one-year terms starting in October, the September
//! review, and quarterly meetings with their agenda and prep-call dates and
//! the follow-up tasks made when a meeting is held.
//!
//! Decisions (the rules themselves are in `steward_domain::cab`):
//! - Eligibility is computed on every read from the organization's ACV,
//!   contract start and expansion potential and the latest `user_adoption`
//!   `dau_pct` measurement; nothing is cached, so it cannot go stale.
//! - "Reference value" is the `reference` flag stored on a member row (set
//!   when the member is added) or passed as `?reference=true` when looking at
//!   a candidate: Steward has no other record of reference customers.
//! - Holding a meeting creates five tasks owned by whoever records it, due at
//!   14:00 UTC on their day (as the hub's follow-ups): thank-you notes and
//!   the summary the next business day, scheduling 1:1s within a week,
//!   completing follow-ups and sending expansion proposals within a month.
//!   A meeting is held once; recording it again is a 409.

use jiff::{civil::Date, tz::TimeZone};
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Priority,
    cab::{self, Criterion},
    time::parse_date,
};

use crate::{
    Store,
    access::Actor,
    dates::utc_date as date_of,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    feedback::refused,
    hub::{may_read, may_write},
    tasks::{CreatedBy, NewTask},
};

#[derive(Debug, Clone, PartialEq)]
pub struct Eligibility {
    pub organization_id: i64,
    pub name: String,
    pub industry: Option<String>,
    pub company_size: Option<String>,
    pub eligible: bool,
    pub criteria: Vec<Criterion>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CabMember {
    pub id: i64,
    pub organization_id: i64,
    pub user_id: Option<i64>,
    pub term_start: String,
    pub term_end: String,
    pub status: String,
    pub reference: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CabMeeting {
    pub id: i64,
    pub quarter_date: String,
    pub agenda: String,
    pub agenda_due: String,
    pub prep_call_on: String,
    pub held_at: Option<i64>,
    pub summary: String,
    pub follow_up_task_ids: Vec<i64>,
}

const MEMBER_COLUMNS: &str =
    "id, organization_id, user_id, term_start, term_end, status, reference, created_at";
const MEETING_COLUMNS: &str =
    "id, quarter_date, agenda, agenda_due, prep_call_on, held_at, summary";

fn member_row(r: &AnyRow) -> Result<CabMember> {
    Ok(CabMember {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        user_id: r.try_get("user_id")?,
        term_start: r.try_get("term_start")?,
        term_end: r.try_get("term_end")?,
        status: r.try_get("status")?,
        reference: r.try_get::<i64, _>("reference")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn meeting_row(r: &AnyRow) -> Result<CabMeeting> {
    Ok(CabMeeting {
        id: r.try_get("id")?,
        quarter_date: r.try_get("quarter_date")?,
        agenda: r.try_get("agenda")?,
        agenda_due: r.try_get("agenda_due")?,
        prep_call_on: r.try_get("prep_call_on")?,
        held_at: r.try_get("held_at")?,
        summary: r.try_get("summary")?,
        follow_up_task_ids: Vec::new(),
    })
}

fn at_14_utc(d: Date) -> i64 {
    d.at(14, 0, 0, 0)
        .to_zoned_datetime(TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .unwrap_or_default()
}

impl Store {
    async fn eligibility_tx(
        &self,
        tx: &mut Tx,
        org: i64,
        reference: bool,
        today: Date,
    ) -> Result<Eligibility> {
        let r = sqlx::query(
            "SELECT name, industry, company_size, acv_cents, contract_start, expansion_potential_cents
             FROM organizations WHERE id = $1",
        )
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("organization"))?;
        let dau: Option<f64> = sqlx::query(
            "SELECT value FROM measurements WHERE organization_id = $1 AND metric = 'user_adoption'
               AND field = 'dau_pct' ORDER BY measured_at DESC, id DESC LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("value"))
        .transpose()?;
        let stored_reference = sqlx::query(
            "SELECT id FROM cab_members WHERE organization_id = $1 AND reference = 1 LIMIT 1",
        )
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
        let account = cab::Account {
            acv_cents: r.try_get("acv_cents")?,
            contract_start: opt_str(&r, "contract_start")?.and_then(|s| parse_date(&s).ok()),
            latest_dau_pct: dau,
            expansion_potential_cents: r.try_get("expansion_potential_cents")?,
            reference: reference || stored_reference,
        };
        let criteria = cab::criteria(&account, today);
        Ok(Eligibility {
            organization_id: org,
            name: r.try_get("name")?,
            industry: opt_str(&r, "industry")?,
            company_size: opt_str(&r, "company_size")?,
            eligible: cab::eligible(&criteria),
            criteria,
        })
    }

    pub async fn cab_eligibility(
        &self,
        actor: &Actor,
        org: i64,
        reference: bool,
        now: i64,
    ) -> Result<Eligibility> {
        may_read(actor)?;
        // Read-only: a transaction on the read pool keeps the writer free.
        let mut tx = self.read.begin().await?;
        let e = self
            .eligibility_tx(&mut tx, org, reference, date_of(now))
            .await?;
        tx.rollback().await?;
        Ok(e)
    }

    /// Eligible accounts that are not active members, by industry and size
    /// so a board of 5–7 can be spread across both.
    pub async fn cab_candidates(&self, actor: &Actor, now: i64) -> Result<Vec<Eligibility>> {
        may_read(actor)?;
        // Read-only: a transaction on the read pool keeps the writer free.
        let mut tx = self.read.begin().await?;
        // Only accounts passing the ACV bar can be eligible: the index-free
        // prefilter keeps the per-account work to plausible candidates.
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM organizations WHERE acv_cents >= $1
               AND id NOT IN (SELECT organization_id FROM cab_members WHERE status = 'active')
             ORDER BY industry, company_size, id",
        )
        .bind(cab::MIN_ACV_CENTS)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            let e = self
                .eligibility_tx(&mut tx, id, false, date_of(now))
                .await?;
            if e.eligible {
                out.push(e);
            }
        }
        tx.rollback().await?;
        Ok(out)
    }

    /// Adds a member after checking eligibility (422 naming the failing
    /// criteria). The term starts on the next October 1 unless given.
    pub async fn add_cab_member(
        &self,
        actor: &Actor,
        org: i64,
        user_id: Option<i64>,
        term_start: Option<Date>,
        reference: bool,
        now: i64,
    ) -> Result<CabMember> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        self.ensure_org_exists(&mut tx, org).await?;
        let e = self
            .eligibility_tx(&mut tx, org, reference, date_of(now))
            .await?;
        if !e.eligible {
            let failing: Vec<String> = e
                .criteria
                .iter()
                .filter(|c| !c.met)
                .map(|c| format!("{}: {}", c.key, c.evidence))
                .collect();
            return Err(StoreError::invalid(
                "organization_id",
                format!(
                    "is not eligible for the advisory board ({})",
                    failing.join("; ")
                ),
            ));
        }
        if let Some(u) = user_id {
            let found = sqlx::query("SELECT id FROM users WHERE id = $1 AND organization_id = $2")
                .bind(u)
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::invalid(
                    "user_id",
                    format!("no user {u} in organization {org}"),
                ));
            }
        }
        let active = sqlx::query(
            "SELECT id FROM cab_members WHERE organization_id = $1 AND status = 'active'",
        )
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?;
        if active.is_some() {
            return Err(StoreError::Conflict(format!(
                "organization {org} already has an active board membership"
            )));
        }
        let start = term_start.unwrap_or_else(|| cab::next_term_start(date_of(now)));
        let end = cab::term_end(start).map_err(refused)?;
        let r = sqlx::query(&format!(
            "INSERT INTO cab_members (organization_id, user_id, term_start, term_end, status, reference, created_at)
             VALUES ($1, $2, $3, $4, 'active', $5, $6) RETURNING {MEMBER_COLUMNS}"
        ))
        .bind(org)
        .bind(user_id)
        .bind(start.to_string())
        .bind(end.to_string())
        .bind(i64::from(reference))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let m = member_row(&r)?;
        self.commit(tx).await?;
        Ok(m)
    }

    pub async fn cab_members(&self, actor: &Actor) -> Result<Vec<CabMember>> {
        may_read(actor)?;
        sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM cab_members ORDER BY status, term_end, id"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(member_row)
        .collect()
    }

    /// The September review of `year`: active members whose term ends by
    /// September 30 of that year, before the new members join on October 1.
    pub async fn cab_review(&self, actor: &Actor, year: i16) -> Result<Vec<CabMember>> {
        may_read(actor)?;
        let last = Date::new(year, 9, 30)
            .map_err(|_| StoreError::invalid("year", format!("{year} is not a year")))?;
        sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM cab_members WHERE status = 'active' AND term_end <= $1
             ORDER BY term_end, id"
        ))
        .bind(last.to_string())
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(member_row)
        .collect()
    }

    pub async fn create_cab_meeting(
        &self,
        actor: &Actor,
        quarter_date: Date,
        agenda: &str,
        now: i64,
    ) -> Result<CabMeeting> {
        may_write(actor)?;
        let dates = cab::meeting_dates(quarter_date).map_err(refused)?;
        let mut tx = self.begin().await?;
        let exists = sqlx::query("SELECT id FROM cab_meetings WHERE quarter_date = $1")
            .bind(quarter_date.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "the {quarter_date} meeting already exists"
            )));
        }
        let r = sqlx::query(&format!(
            "INSERT INTO cab_meetings (quarter_date, agenda, agenda_due, prep_call_on, summary, created_at)
             VALUES ($1, $2, $3, $4, '', $5) RETURNING {MEETING_COLUMNS}"
        ))
        .bind(dates.quarter_date.to_string())
        .bind(agenda)
        .bind(dates.agenda_due.to_string())
        .bind(dates.prep_call_on.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let m = meeting_row(&r)?;
        self.commit(tx).await?;
        Ok(m)
    }

    pub async fn cab_meetings(&self, actor: &Actor) -> Result<Vec<CabMeeting>> {
        may_read(actor)?;
        sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM cab_meetings ORDER BY quarter_date"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(meeting_row)
        .collect()
    }

    /// Records the meeting as held and creates the §12 follow-up tasks in
    /// the same transaction (see the module docs).
    pub async fn hold_cab_meeting(
        &self,
        actor: &Actor,
        id: i64,
        summary: Option<String>,
        now: i64,
    ) -> Result<CabMeeting> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let r = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM cab_meetings WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound("CAB meeting"))?;
        let mut m = meeting_row(&r)?;
        if m.held_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "meeting {id} was already held"
            )));
        }
        let held_on = date_of(now);
        for f in cab::follow_ups(held_on) {
            let task = NewTask {
                title: f.title.to_string(),
                description: format!(
                    "Advisory board meeting of {} (policies.md §12)",
                    m.quarter_date
                ),
                owner_id: Some(actor.id()),
                due_at: Some(at_14_utc(f.due_on)),
                priority: Priority::Normal,
                ticket_id: None,
                organization_id: None,
                created_by: CreatedBy::User(actor.id()),
            };
            m.follow_up_task_ids
                .push(self.create_task_tx(&mut tx, task, now).await?);
        }
        if let Some(s) = summary {
            m.summary = s;
        }
        sqlx::query("UPDATE cab_meetings SET held_at = $1, summary = $2 WHERE id = $3")
            .bind(now)
            .bind(&m.summary)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        m.held_at = Some(now);
        self.commit(tx).await?;
        Ok(m)
    }
}
