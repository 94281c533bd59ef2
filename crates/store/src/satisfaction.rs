//! CSAT on solved tickets (policies.md §10), compatible with Zendesk's
//! satisfaction ratings: one row per ticket (`UNIQUE (ticket_id)`), created
//! as `offered` in the transaction that solves the ticket, and turned into
//! `good`/`bad` (with the optional 1–5 `rating`, see
//! [`steward_domain::csat`]) when the requester answers. Re-rating updates
//! the same row, as in Zendesk. Only the *transition* to solved offers a
//! rating: tickets created already solved (imports of history) are not
//! offered one, as in Zendesk, so importing years of tickets does not fill
//! the table with stale offers.
//!
//! Who may rate: only the ticket's requester, and only while acting as an
//! end user (staff rating their own tickets would skew CSAT), only once the
//! ticket is solved or closed. Ratings are read by staff (the churn-risk
//! model reads the table directly: `score`, `rating`, `organization_id`,
//! `created_at`).

use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Status,
    csat::{self, Score},
};

use crate::{
    Store,
    access::Actor,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    sql::Args,
    tickets::Ticket,
};

#[derive(Debug, Clone, PartialEq)]
pub struct SatisfactionRating {
    pub id: i64,
    pub ticket_id: i64,
    pub organization_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub score: Score,
    pub rating: Option<i64>,
    pub comment: Option<String>,
    pub reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A requester's answer.
#[derive(Debug, Clone, Default)]
pub struct RatingInput {
    pub score: Option<Score>,
    pub rating: Option<i64>,
    pub comment: Option<String>,
    pub reason: Option<String>,
}

/// Filters of the list (Zendesk's `score`, `start_time`, `end_time`).
#[derive(Debug, Clone, Default)]
pub struct RatingFilter {
    pub score: Option<Score>,
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub organization_id: Option<i64>,
    /// Ratings with an id below this one (keyset paging, newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
}

const COLUMNS: &str = "id, ticket_id, organization_id, requester_id, assignee_id, group_id, score, rating, \
    comment, reason, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<SatisfactionRating> {
    Ok(SatisfactionRating {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        organization_id: r.try_get("organization_id")?,
        requester_id: r.try_get("requester_id")?,
        assignee_id: r.try_get("assignee_id")?,
        group_id: r.try_get("group_id")?,
        score: Score::parse(&r.try_get::<String, _>("score")?)?,
        rating: r.try_get("rating")?,
        comment: opt_str(r, "comment")?,
        reason: opt_str(r, "reason")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn may_read(actor: &Actor) -> Result<()> {
    if actor.role().is_staff() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "satisfaction ratings are for staff".into(),
        ))
    }
}

impl Store {
    /// Offers a rating on a ticket that has just been solved (called in the
    /// solving transaction). An existing row — offered or answered — is left
    /// alone: a reopened and re-solved ticket keeps its requester's answer.
    pub(crate) async fn offer_rating_tx(&self, tx: &mut Tx, t: &Ticket, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO satisfaction_ratings (ticket_id, organization_id, requester_id, assignee_id, group_id,
                score, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'offered', $6, $6)
             ON CONFLICT (ticket_id) DO NOTHING",
        )
        .bind(t.id)
        .bind(t.organization_id)
        .bind(t.requester_id)
        .bind(t.assignee_id)
        .bind(t.group_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The requester rates a solved or closed ticket (or changes a rating).
    pub async fn rate_ticket(
        &self,
        actor: &Actor,
        ticket_id: i64,
        input: RatingInput,
        now: i64,
    ) -> Result<SatisfactionRating> {
        // Not visible → 404, as for any ticket.
        let t = self.ticket(actor, ticket_id).await?;
        if actor.role().is_staff() || t.requester_id != actor.id() {
            return Err(StoreError::Forbidden(
                "only the ticket's requester may rate it".into(),
            ));
        }
        if !matches!(t.status, Status::Solved | Status::Closed) {
            return Err(StoreError::invalid(
                "status",
                "a ticket can be rated once it is solved or closed",
            ));
        }
        let score = csat::answer(input.score, input.rating)
            .map_err(|e| StoreError::invalid("score", e.0))?;
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO satisfaction_ratings (ticket_id, organization_id, requester_id, assignee_id, group_id,
                score, rating, comment, reason, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (ticket_id) DO UPDATE SET score = excluded.score, rating = excluded.rating,
                comment = excluded.comment, reason = excluded.reason, assignee_id = excluded.assignee_id,
                group_id = excluded.group_id, updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(t.id)
        .bind(t.organization_id)
        .bind(t.requester_id)
        .bind(t.assignee_id)
        .bind(t.group_id)
        .bind(score.as_str())
        .bind(input.rating)
        .bind(input.comment.clone())
        .bind(input.reason)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        // A comment is feedback (§11, source: support tickets), once per
        // rating: a changed rating with the same comment adds nothing.
        if let Some(comment) = input
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let text = format!("CSAT {} on ticket #{}: {comment}", score.as_str(), t.id);
            let known =
                sqlx::query("SELECT id FROM feedback_items WHERE user_id = $1 AND text = $2")
                    .bind(t.requester_id)
                    .bind(&text)
                    .fetch_optional(&mut *tx)
                    .await?;
            if known.is_none() {
                let sentiment = if score.as_str() == "good" {
                    steward_domain::hub::Sentiment::Positive
                } else {
                    steward_domain::hub::Sentiment::Negative
                };
                let item = crate::feedback::NewFeedbackItem {
                    organization_id: t.organization_id,
                    user_id: Some(t.requester_id),
                    source: steward_domain::feedback::FeedbackSource::SupportTickets,
                    category: steward_domain::feedback::FeedbackCategory::Support,
                    sentiment,
                    text,
                    theme_id: None,
                    theme: None,
                    ticket_id: None,
                    survey_campaign_id: None,
                    created_at: now,
                };
                self.add_feedback_item_tx(&mut tx, item, now).await?;
            }
        }
        // CSAT is an input of the account's health (§9).
        if let Some(org) = t.organization_id {
            self.mark_health_dirty(&mut tx, org, now).await?;
        }
        self.commit(tx).await?;
        self.rating_by_id(id).await
    }

    async fn rating_by_id(&self, id: i64) -> Result<SatisfactionRating> {
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {COLUMNS} FROM satisfaction_ratings WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("satisfaction rating"))
    }

    pub async fn satisfaction_rating(&self, actor: &Actor, id: i64) -> Result<SatisfactionRating> {
        may_read(actor)?;
        self.rating_by_id(id).await
    }

    /// The ratings of some tickets (a page of them), by ticket id, for
    /// `ticket.satisfaction_rating`; one query over the `ticket_id` unique
    /// index. The caller has already checked the tickets are visible.
    pub async fn ticket_ratings(
        &self,
        ticket_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, SatisfactionRating>> {
        if ticket_ids.is_empty() {
            return Ok(Default::default());
        }
        let mut args = Args::default();
        let list = args.ints(ticket_ids);
        let sql = format!("SELECT {COLUMNS} FROM satisfaction_ratings WHERE ticket_id IN ({list})");
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter()
            .map(|r| from_row(r).map(|x| (x.ticket_id, x)))
            .collect()
    }

    /// Ratings, newest first.
    pub async fn satisfaction_ratings(
        &self,
        actor: &Actor,
        f: &RatingFilter,
    ) -> Result<Vec<SatisfactionRating>> {
        may_read(actor)?;
        let mut args = Args::default();
        let mut conds = vec!["1 = 1".to_string()];
        if let Some(s) = f.score {
            conds.push(format!("score = {}", args.text(s.as_str())));
        }
        if let Some(t) = f.start_time {
            conds.push(format!("created_at >= {}", args.int(t)));
        }
        if let Some(t) = f.end_time {
            conds.push(format!("created_at < {}", args.int(t)));
        }
        if let Some(o) = f.organization_id {
            conds.push(format!("organization_id = {}", args.int(o)));
        }
        if let Some(b) = f.before_id {
            conds.push(format!("id < {}", args.int(b)));
        }
        let limit = args.int(f.limit.clamp(1, 100));
        let sql = format!(
            "SELECT {COLUMNS} FROM satisfaction_ratings WHERE {} ORDER BY id DESC LIMIT {limit}",
            conds.join(" AND ")
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        rows.iter().map(from_row).collect()
    }
}
