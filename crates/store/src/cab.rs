//! The Customer Advisory Board (policies.md §12): eligibility explained per
//! account, members with one-year terms starting in October (and ended early
//! with a date and a reason), the September review, and quarterly meetings
//! with their agenda and prep-call dates, their invitees, and the follow-up
//! tasks made when a meeting is held.
//!
//! Decisions (the rules themselves are in `steward_domain::cab`):
//! - Eligibility is computed on every read from the organization's ACV,
//!   contract start and expansion potential and the latest `user_adoption`
//!   `dau_pct` measurement; nothing is cached, so it cannot go stale.
//! - "Reference value" is the `reference` flag stored on a member row (set
//!   when the member is added) or passed as `?reference=true` when looking at
//!   a candidate: Steward has no other record of reference customers.
//! - **On the board.** A member sits on the board on a day when the
//!   membership is active (not ended) and the day falls in its term. A
//!   meeting's invitees are the members on the board on its quarter date; an
//!   ended member is neither counted (`active_count`, the September review,
//!   candidates) nor invited, nor given follow-ups.
//! - **Ending** a membership records the day (today by default; not in the
//!   future, not before the member was added) and a required reason; the row
//!   stays for history and the account may be proposed again. Ending it
//!   twice is a 409. Open follow-up tasks of an ended member are left to
//!   their owners.
//! - **Follow-ups.** Holding a meeting (once; again is a 409) creates the
//!   board-level task — the summary, the next business day, owned by whoever
//!   records the meeting — and, for every invitee, four tasks: a thank-you
//!   note the next business day, the 1:1 scheduled within a week, the
//!   follow-ups completed and an expansion proposal within a month. A
//!   member's tasks belong to the account's CSM (the owner of its latest
//!   project), else to whoever records the meeting, and link the account.
//!   All are due at 14:00 UTC on their day (as the hub's follow-ups),
//!   counted from the day the meeting was held. `cab_follow_ups` keeps one
//!   row per (meeting, member, kind), so re-running the follow-ups
//!   (`POST /cab/meetings/{id}/follow_ups`, e.g. after a member was added
//!   late) creates only the missing ones.

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
    pub ended_on: Option<String>,
    pub end_reason: Option<String>,
}

impl CabMember {
    /// On the board on `day` (see the module docs).
    pub fn on_board(&self, day: Date) -> bool {
        self.status == "active"
            && match (parse_date(&self.term_start), parse_date(&self.term_end)) {
                (Ok(start), Ok(end)) => cab::on_board(start, end, day),
                _ => false,
            }
    }
}

/// A per-member follow-up of a held meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberFollowUp {
    pub member_id: i64,
    pub organization_id: i64,
    pub kind: String,
    /// `None` only while being made.
    pub task_id: Option<i64>,
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
    /// Tasks made by the call that recorded the meeting (board-level and
    /// per-member); empty on reads.
    pub follow_up_task_ids: Vec<i64>,
    /// Members on the board on the quarter date.
    pub invitees: Vec<i64>,
    pub member_follow_ups: Vec<MemberFollowUp>,
}

const MEMBER_COLUMNS: &str = "id, organization_id, user_id, term_start, term_end, status, reference, created_at, \
                              ended_on, end_reason";
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
        ended_on: opt_str(r, "ended_on")?,
        end_reason: opt_str(r, "end_reason")?,
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
        invitees: Vec::new(),
        member_follow_ups: Vec::new(),
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
        let mut m = meeting_row(&r)?;
        self.decorate_meetings(&mut tx, std::slice::from_mut(&mut m))
            .await?;
        self.commit(tx).await?;
        Ok(m)
    }

    pub async fn cab_meetings(&self, actor: &Actor) -> Result<Vec<CabMeeting>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let mut out = sqlx::query(&format!(
            "SELECT {MEETING_COLUMNS} FROM cab_meetings ORDER BY quarter_date"
        ))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(meeting_row)
        .collect::<Result<Vec<_>>>()?;
        self.decorate_meetings(&mut conn, &mut out).await?;
        Ok(out)
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
        if let Some(s) = summary {
            m.summary = s;
        }
        // The claim: of two concurrent recorders only one finds it unheld.
        let claimed = sqlx::query(
            "UPDATE cab_meetings SET held_at = $1, summary = $2 WHERE id = $3 AND held_at IS NULL",
        )
        .bind(now)
        .bind(&m.summary)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 || m.held_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "meeting {id} was already held"
            )));
        }
        m.held_at = Some(now);
        for f in cab::board_follow_ups(date_of(now)) {
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
        let made = self.member_follow_ups_tx(&mut tx, actor, &m, now).await?;
        m.follow_up_task_ids.extend(made);
        self.decorate_meetings(&mut tx, std::slice::from_mut(&mut m))
            .await?;
        self.commit(tx).await?;
        Ok(m)
    }

    /// Re-runs a held meeting's per-member follow-ups: creates those of
    /// today's invitees that do not exist yet (none twice), due as if made
    /// when the meeting was held. `follow_up_task_ids` lists what this call
    /// made.
    pub async fn rerun_cab_follow_ups(
        &self,
        actor: &Actor,
        id: i64,
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
        if m.held_at.is_none() {
            return Err(StoreError::Conflict(format!(
                "meeting {id} has not been held yet; record it first"
            )));
        }
        m.follow_up_task_ids = self.member_follow_ups_tx(&mut tx, actor, &m, now).await?;
        self.decorate_meetings(&mut tx, std::slice::from_mut(&mut m))
            .await?;
        self.commit(tx).await?;
        Ok(m)
    }

    /// The missing per-member follow-ups of held meeting `m`; returns the
    /// tasks made. The `cab_follow_ups` row is claimed before its task is
    /// made, so concurrent runs cannot both make it.
    async fn member_follow_ups_tx(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        m: &CabMeeting,
        now: i64,
    ) -> Result<Vec<i64>> {
        let (Some(held_at), Ok(day)) = (m.held_at, parse_date(&m.quarter_date)) else {
            return Ok(vec![]);
        };
        let held_on = date_of(held_at);
        let members = all_members(tx).await?;
        let mut made = vec![];
        for member in members.iter().filter(|x| x.on_board(day)) {
            let org: String = sqlx::query("SELECT name FROM organizations WHERE id = $1")
                .bind(member.organization_id)
                .fetch_one(&mut **tx)
                .await?
                .try_get("name")?;
            let owner = match self
                .latest_project_owner(tx, member.organization_id)
                .await?
            {
                Some(o) => o,
                None => actor.id(),
            };
            for f in cab::member_follow_ups(held_on) {
                let claimed = sqlx::query(
                    "INSERT INTO cab_follow_ups (meeting_id, member_id, kind, task_id, created_at)
                     VALUES ($1, $2, $3, NULL, $4) ON CONFLICT (meeting_id, member_id, kind) DO NOTHING",
                )
                .bind(m.id)
                .bind(member.id)
                .bind(f.key)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if claimed == 0 {
                    continue;
                }
                let task = NewTask {
                    title: format!("{}: {org}", f.title),
                    description: format!(
                        "Advisory board meeting of {} (policies.md §12), member {org}",
                        m.quarter_date
                    ),
                    owner_id: Some(owner),
                    due_at: Some(at_14_utc(f.due_on)),
                    priority: Priority::Normal,
                    ticket_id: None,
                    organization_id: Some(member.organization_id),
                    created_by: CreatedBy::User(actor.id()),
                };
                let task_id = self.create_task_tx(tx, task, now).await?;
                sqlx::query(
                    "UPDATE cab_follow_ups SET task_id = $1 WHERE meeting_id = $2 AND member_id = $3 AND kind = $4",
                )
                .bind(task_id)
                .bind(m.id)
                .bind(member.id)
                .bind(f.key)
                .execute(&mut **tx)
                .await?;
                made.push(task_id);
            }
        }
        Ok(made)
    }

    /// Fills each meeting's invitees and per-member follow-ups.
    async fn decorate_meetings(
        &self,
        conn: &mut sqlx::AnyConnection,
        meetings: &mut [CabMeeting],
    ) -> Result<()> {
        let members = all_members(conn).await?;
        let rows = sqlx::query(
            "SELECT f.meeting_id, f.member_id, f.kind, f.task_id, m.organization_id
             FROM cab_follow_ups f JOIN cab_members m ON m.id = f.member_id
             ORDER BY f.meeting_id, f.member_id, f.created_at, f.kind",
        )
        .fetch_all(&mut *conn)
        .await?;
        for m in meetings.iter_mut() {
            m.invitees = match parse_date(&m.quarter_date) {
                Ok(day) => members
                    .iter()
                    .filter(|x| x.on_board(day))
                    .map(|x| x.id)
                    .collect(),
                Err(_) => vec![],
            };
            m.member_follow_ups.clear();
            for r in &rows {
                if r.try_get::<i64, _>("meeting_id")? == m.id {
                    m.member_follow_ups.push(MemberFollowUp {
                        member_id: r.try_get("member_id")?,
                        organization_id: r.try_get("organization_id")?,
                        kind: r.try_get("kind")?,
                        task_id: r.try_get("task_id")?,
                    });
                }
            }
        }
        Ok(())
    }

    /// Ends an active membership on `ended_on` (today when `None`) for
    /// `reason` (see the module docs).
    pub async fn end_cab_member(
        &self,
        actor: &Actor,
        id: i64,
        ended_on: Option<Date>,
        reason: &str,
        now: i64,
    ) -> Result<CabMember> {
        may_write(actor)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::invalid("reason", "is required"));
        }
        let mut tx = self.begin().await?;
        let m = sqlx::query(&format!(
            "SELECT {MEMBER_COLUMNS} FROM cab_members WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| member_row(&r))
        .transpose()?
        .ok_or(StoreError::NotFound("CAB member"))?;
        if m.status != "active" {
            return Err(StoreError::Conflict(format!(
                "membership {id} has already ended"
            )));
        }
        let today = date_of(now);
        let on = ended_on.unwrap_or(today);
        let added = date_of(m.created_at);
        let added = parse_date(&m.term_start).map_or(added, |s| s.min(added));
        cab::check_end(on, added, today).map_err(refused)?;
        let r = sqlx::query(&format!(
            "UPDATE cab_members SET status = 'ended', ended_on = $1, end_reason = $2
             WHERE id = $3 AND status = 'active' RETURNING {MEMBER_COLUMNS}"
        ))
        .bind(on.to_string())
        .bind(reason)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("membership {id} has already ended")))?;
        let m = member_row(&r)?;
        self.commit(tx).await?;
        Ok(m)
    }
}

/// Every membership, active and ended (a board is a handful of rows).
async fn all_members(conn: &mut sqlx::AnyConnection) -> Result<Vec<CabMember>> {
    sqlx::query(&format!(
        "SELECT {MEMBER_COLUMNS} FROM cab_members ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(member_row)
    .collect()
}
