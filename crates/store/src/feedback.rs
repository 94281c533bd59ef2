//! The feedback loop (policies.md §11): feedback items from the seven
//! sources, themes that merge duplicates and count distinct accounts, the
//! product committee's decisions, and the e-mails that tell every requester
//! the decision and, later, that it shipped.
//!
//! Decisions taken here:
//! - **Themes by title.** An item names its theme by id or by title; a title
//!   that matches an open theme (case-insensitively) joins it, otherwise a
//!   theme is made. That is how CSV rows and tickets dedupe.
//! - **Merging** moves the items and the decisions of the merged themes to
//!   the survivor and keeps the merged rows with `merged_into_id` pointing at
//!   it, so old links still resolve; lists hide merged themes.
//! - **Notifications** go to each distinct requester (`item.user_id` with an
//!   e-mail) through the outbox in the decision's transaction. The
//!   idempotency key is theme + decision (with its date) + recipient, so
//!   repeating the same decision sends nothing twice; recording the same
//!   decision again returns the standing one instead of a new row. The
//!   e-mails are the `feedback_decision` and `feedback_shipped` templates
//!   (editable defaults beside §16's eleven, `steward_domain::templates::EXTRAS`)
//!   as admins left them, rendered per requester over the `contact`, the
//!   `feedback` theme and decision, and the deciding staff member as
//!   `agent`. A template that does not render fails the decision (422)
//!   rather than send a blank.
//! - **Tickets tagged `feedback`** become an item (source support_tickets)
//!   in the transaction that adds the tag, once per ticket (a unique index on
//!   `ticket_id`); see [`Store::feedback_from_ticket_tx`]. Such an item is
//!   filed as category support, sentiment neutral, without a theme, for a
//!   CSM to triage; its text is the subject and first comment.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    ParseError,
    feedback::{
        Decision, DecisionDraft, DecisionKind, FeedbackCategory, FeedbackSource, Sentiment,
        ThemeStatus, distinct_accounts, mean_days, parse_csv, validate_decision,
    },
    templates::{self, Context, Object, Parts, Rendered},
};

use crate::{
    Store,
    access::Actor,
    db::{Tx, opt_str},
    error::{Result, StoreError},
    hub::{may_read, may_write},
    outbox::MESSAGE_ID_DOMAIN,
};

/// A domain rule's refusal as a 422 naming the field (`field: message`).
pub(crate) fn refused(e: ParseError) -> StoreError {
    match e.0.split_once(": ") {
        Some((field, msg)) if !field.contains(' ') => StoreError::invalid(field, msg),
        _ => StoreError::invalid("base", e.0),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackItem {
    pub id: i64,
    pub organization_id: Option<i64>,
    pub user_id: Option<i64>,
    pub source: FeedbackSource,
    pub category: FeedbackCategory,
    pub sentiment: Sentiment,
    pub text: String,
    pub theme_id: Option<i64>,
    pub ticket_id: Option<i64>,
    /// The survey campaign whose answer this came from.
    pub survey_campaign_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new item. `theme_id` wins over `theme` (a title, found or made).
#[derive(Debug, Clone)]
pub struct NewFeedbackItem {
    pub organization_id: Option<i64>,
    pub user_id: Option<i64>,
    pub source: FeedbackSource,
    pub category: FeedbackCategory,
    pub sentiment: Sentiment,
    pub text: String,
    pub theme_id: Option<i64>,
    pub theme: Option<String>,
    pub ticket_id: Option<i64>,
    /// Set by the survey code for an answer's feedback.
    pub survey_campaign_id: Option<i64>,
    pub created_at: i64,
}

/// A CSM's triage of an item: `None` keeps a field. `theme_id: Some(None)`
/// takes the item out of its theme; `theme` (a title, found or made) is
/// used when `theme_id` is not given.
#[derive(Debug, Clone, Default)]
pub struct ItemEdit {
    pub theme_id: Option<Option<i64>>,
    pub theme: Option<String>,
    pub category: Option<FeedbackCategory>,
    pub sentiment: Option<Sentiment>,
}

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    pub source: Option<FeedbackSource>,
    pub category: Option<FeedbackCategory>,
    pub sentiment: Option<Sentiment>,
    pub theme_id: Option<i64>,
    pub organization_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub id: i64,
    pub title: String,
    pub category: FeedbackCategory,
    pub status: ThemeStatus,
    pub merged_into_id: Option<i64>,
    pub items: i64,
    pub accounts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredDecision {
    pub id: i64,
    pub theme_id: i64,
    pub decision: DecisionKind,
    pub target_release: Option<String>,
    pub revisit_on: Option<String>,
    pub reason: Option<String>,
    pub alternative: Option<String>,
    pub decided_at: i64,
    pub decided_by: i64,
    /// E-mails enqueued by this call (0 when the decision already stood).
    pub notified: usize,
    /// False when the call repeated the standing decision (nothing new).
    pub recorded: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackMetrics {
    pub items: i64,
    pub by_source: BTreeMap<String, i64>,
    pub by_sentiment: BTreeMap<String, i64>,
    pub by_category: BTreeMap<String, i64>,
    /// (theme id, title, distinct accounts, items), best first, at most 10.
    pub top_themes: Vec<(i64, String, i64, i64)>,
    pub mean_days_to_decision: Option<f64>,
    pub accepted: i64,
    pub shipped: i64,
}

const ITEM_COLUMNS: &str = "id, organization_id, user_id, source, category, sentiment, text, theme_id, ticket_id, \
                            survey_campaign_id, created_at, updated_at";

fn item_row(r: &AnyRow) -> Result<FeedbackItem> {
    Ok(FeedbackItem {
        id: r.try_get("id")?,
        organization_id: r.try_get("organization_id")?,
        user_id: r.try_get("user_id")?,
        source: FeedbackSource::parse(&r.try_get::<String, _>("source")?)?,
        category: FeedbackCategory::parse(&r.try_get::<String, _>("category")?)?,
        sentiment: Sentiment::parse(&r.try_get::<String, _>("sentiment")?)?,
        text: r.try_get("text")?,
        theme_id: r.try_get("theme_id")?,
        ticket_id: r.try_get("ticket_id")?,
        survey_campaign_id: r.try_get("survey_campaign_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn decision_row(r: &AnyRow) -> Result<StoredDecision> {
    Ok(StoredDecision {
        id: r.try_get("id")?,
        theme_id: r.try_get("theme_id")?,
        decision: DecisionKind::parse(&r.try_get::<String, _>("decision")?)?,
        target_release: opt_str(r, "target_release")?,
        revisit_on: opt_str(r, "revisit_on")?,
        reason: opt_str(r, "reason")?,
        alternative: opt_str(r, "alternative")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        notified: 0,
        recorded: false,
    })
}

impl Store {
    pub async fn create_feedback_item(
        &self,
        actor: &Actor,
        item: NewFeedbackItem,
        now: i64,
    ) -> Result<FeedbackItem> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let id = self.add_feedback_item_tx(&mut tx, item, now).await?;
        let item = self.feedback_item_tx(&mut tx, id).await?;
        self.commit(tx).await?;
        Ok(item)
    }

    /// Adds an item in the caller's transaction (NPS and CSAT comments call
    /// this from their own writes). Checks the account, requester and theme.
    pub(crate) async fn add_feedback_item_tx(
        &self,
        tx: &mut Tx,
        item: NewFeedbackItem,
        now: i64,
    ) -> Result<i64> {
        let text = item.text.trim().to_string();
        if text.is_empty() {
            return Err(StoreError::invalid("text", "is required"));
        }
        if let Some(org) = item.organization_id {
            self.ensure_org_exists(tx, org).await?;
        }
        if let Some(u) = item.user_id {
            let found = sqlx::query("SELECT id FROM users WHERE id = $1")
                .bind(u)
                .fetch_optional(&mut **tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::invalid("user_id", format!("no user {u}")));
            }
        }
        let theme_id = match (item.theme_id, item.theme.as_deref().map(str::trim)) {
            (Some(t), _) => Some(self.live_theme_tx(tx, t).await?),
            (None, Some(title)) if !title.is_empty() => Some(
                self.theme_by_title_tx(tx, title, item.category, now)
                    .await?,
            ),
            _ => None,
        };
        let row = sqlx::query(
            "INSERT INTO feedback_items (organization_id, user_id, source, category, sentiment, text, theme_id,
                ticket_id, created_at, updated_at, survey_campaign_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(item.organization_id)
        .bind(item.user_id)
        .bind(item.source.as_str())
        .bind(item.category.as_str())
        .bind(item.sentiment.as_str())
        .bind(&text)
        .bind(theme_id)
        .bind(item.ticket_id)
        .bind(item.created_at)
        .bind(now)
        .bind(item.survey_campaign_id)
        .fetch_one(&mut **tx)
        .await?;
        // Proactive feedback is an input of the account's health (§9).
        if let Some(org) = item.organization_id {
            self.mark_health_dirty(tx, org, now).await?;
        }
        Ok(row.try_get("id")?)
    }

    /// Imports a CSV of items (see [`steward_domain::feedback::parse_csv`])
    /// in one transaction: all rows or none. Errors name the CSV line.
    pub async fn import_feedback_csv(
        &self,
        actor: &Actor,
        csv: &str,
        max_rows: usize,
        now: i64,
    ) -> Result<Vec<i64>> {
        may_write(actor)?;
        let rows = parse_csv(csv, max_rows)
            .map_err(|(line, msg)| StoreError::invalid(format!("line {line}"), msg))?;
        let mut tx = self.begin().await?;
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let line = r.line;
            let item = NewFeedbackItem {
                organization_id: r.organization_id,
                user_id: None,
                source: r.source,
                category: r.category,
                sentiment: r.sentiment,
                text: r.text,
                theme_id: None,
                theme: r.theme,
                ticket_id: None,
                survey_campaign_id: None,
                created_at: now,
            };
            let id = self
                .add_feedback_item_tx(&mut tx, item, now)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid { message, .. } => {
                        StoreError::invalid(format!("line {line}"), message)
                    }
                    e => e,
                })?;
            ids.push(id);
        }
        self.commit(tx).await?;
        Ok(ids)
    }

    /// The ticket just gained the `feedback` tag: it becomes an item, once.
    pub(crate) async fn feedback_from_ticket_tx(&self, tx: &mut Tx, ticket: i64) -> Result<()> {
        let Some(t) = sqlx::query(
            "SELECT organization_id, requester_id, subject, description, updated_at FROM tickets WHERE id = $1",
        )
        .bind(ticket)
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok(());
        };
        let subject: String = t.try_get("subject")?;
        let description: String = t.try_get("description")?;
        let now: i64 = t.try_get("updated_at")?;
        sqlx::query(
            "INSERT INTO feedback_items (organization_id, user_id, source, category, sentiment, text, ticket_id,
                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (ticket_id) DO NOTHING",
        )
        .bind(t.try_get::<Option<i64>, _>("organization_id")?)
        .bind(t.try_get::<i64, _>("requester_id")?)
        .bind(FeedbackSource::SupportTickets.as_str())
        .bind(FeedbackCategory::Support.as_str())
        .bind(Sentiment::Neutral.as_str())
        .bind(format!("{subject}\n\n{description}").trim().to_string())
        .bind(ticket)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Imports every ticket tagged `feedback` that has no item yet (for
    /// tickets tagged before this feature, or by bulk imports that bypass
    /// the ticket write path). Returns how many items were made.
    pub async fn import_feedback_tickets(&self, actor: &Actor) -> Result<usize> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let ids: Vec<i64> = sqlx::query(
            "SELECT tt.ticket_id FROM ticket_tags tt
             LEFT JOIN feedback_items f ON f.ticket_id = tt.ticket_id
             WHERE tt.tag = 'feedback' AND f.id IS NULL ORDER BY tt.ticket_id",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("ticket_id"))
        .collect::<std::result::Result<_, _>>()?;
        for id in &ids {
            self.feedback_from_ticket_tx(&mut tx, *id).await?;
        }
        self.commit(tx).await?;
        Ok(ids.len())
    }

    pub async fn feedback_item(&self, actor: &Actor, id: i64) -> Result<FeedbackItem> {
        may_read(actor)?;
        let r = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM feedback_items WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("feedback item"))?;
        item_row(&r)
    }

    /// Triage: files an item under a theme (by id or title), takes it out,
    /// or corrects its category or sentiment. Survey answers arrive without
    /// a theme (see `steward_store::surveys`); this is how they get one.
    pub async fn update_feedback_item(
        &self,
        actor: &Actor,
        id: i64,
        edit: ItemEdit,
        now: i64,
    ) -> Result<FeedbackItem> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let item = self.feedback_item_tx(&mut tx, id).await?;
        let category = edit.category.unwrap_or(item.category);
        let theme_id = match (edit.theme_id, edit.theme.as_deref().map(str::trim)) {
            (Some(Some(t)), _) => Some(self.live_theme_tx(&mut tx, t).await?),
            (Some(None), _) => None,
            (None, Some(title)) if !title.is_empty() => Some(
                self.theme_by_title_tx(&mut tx, title, category, now)
                    .await?,
            ),
            _ => item.theme_id,
        };
        sqlx::query(
            "UPDATE feedback_items SET theme_id = $1, category = $2, sentiment = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(theme_id)
        .bind(category.as_str())
        .bind(edit.sentiment.unwrap_or(item.sentiment).as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // Sentiment decides whether an item counts as proactive feedback (§9).
        if let Some(org) = item.organization_id {
            self.mark_health_dirty(&mut tx, org, now).await?;
        }
        let item = self.feedback_item_tx(&mut tx, id).await?;
        self.commit(tx).await?;
        Ok(item)
    }

    async fn feedback_item_tx(&self, tx: &mut Tx, id: i64) -> Result<FeedbackItem> {
        let r = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM feedback_items WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("feedback item"))?;
        item_row(&r)
    }

    pub async fn feedback_items(
        &self,
        actor: &Actor,
        f: &ItemFilter,
        limit: i64,
    ) -> Result<Vec<FeedbackItem>> {
        may_read(actor)?;
        // Conditions only for the filters given, so each database sees
        // typed parameters.
        let mut conds: Vec<String> = Vec::new();
        let mut texts: Vec<(&str, &'static str)> = Vec::new();
        let mut ints: Vec<(&str, i64)> = Vec::new();
        if let Some(v) = f.source {
            texts.push(("source", v.as_str()));
        }
        if let Some(v) = f.category {
            texts.push(("category", v.as_str()));
        }
        if let Some(v) = f.sentiment {
            texts.push(("sentiment", v.as_str()));
        }
        if let Some(v) = f.theme_id {
            ints.push(("theme_id", v));
        }
        if let Some(v) = f.organization_id {
            ints.push(("organization_id", v));
        }
        for (i, (col, _)) in texts.iter().enumerate() {
            conds.push(format!("{col} = ${}", i + 1));
        }
        for (i, (col, _)) in ints.iter().enumerate() {
            conds.push(format!("{col} = ${}", texts.len() + i + 1));
        }
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM feedback_items WHERE {} ORDER BY created_at DESC, id DESC LIMIT ${}",
            if conds.is_empty() {
                "1 = 1".to_string()
            } else {
                conds.join(" AND ")
            },
            texts.len() + ints.len() + 1
        );
        let mut q = sqlx::query(&sql);
        for (_, v) in &texts {
            q = q.bind(*v);
        }
        for (_, v) in &ints {
            q = q.bind(*v);
        }
        let rows = q.bind(limit).fetch_all(&self.read).await?;
        rows.iter().map(item_row).collect()
    }

    /// Follows merges to the surviving theme.
    async fn live_theme_tx(&self, tx: &mut Tx, id: i64) -> Result<i64> {
        let mut id = id;
        for _ in 0..32 {
            let r = sqlx::query("SELECT merged_into_id FROM feedback_themes WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or_else(|| StoreError::invalid("theme_id", format!("no theme {id}")))?;
            match r.try_get::<Option<i64>, _>("merged_into_id")? {
                Some(next) => id = next,
                None => return Ok(id),
            }
        }
        Err(StoreError::Corrupt(format!(
            "theme {id}: merge chain too long"
        )))
    }

    async fn theme_by_title_tx(
        &self,
        tx: &mut Tx,
        title: &str,
        category: FeedbackCategory,
        now: i64,
    ) -> Result<i64> {
        let found = sqlx::query(
            "SELECT id FROM feedback_themes WHERE merged_into_id IS NULL AND LOWER(title) = LOWER($1)
             ORDER BY id LIMIT 1",
        )
        .bind(title)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some(r) = found {
            return Ok(r.try_get("id")?);
        }
        self.insert_theme_tx(tx, title, category, now).await
    }

    async fn insert_theme_tx(
        &self,
        tx: &mut Tx,
        title: &str,
        category: FeedbackCategory,
        now: i64,
    ) -> Result<i64> {
        let r = sqlx::query(
            "INSERT INTO feedback_themes (title, category, status, created_at, updated_at)
             VALUES ($1, $2, 'open', $3, $3) RETURNING id",
        )
        .bind(title)
        .bind(category.as_str())
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(r.try_get("id")?)
    }

    pub async fn create_feedback_theme(
        &self,
        actor: &Actor,
        title: &str,
        category: FeedbackCategory,
        now: i64,
    ) -> Result<Theme> {
        may_write(actor)?;
        let title = title.trim();
        if title.is_empty() {
            return Err(StoreError::invalid("title", "is required"));
        }
        let mut tx = self.begin().await?;
        let id = self.insert_theme_tx(&mut tx, title, category, now).await?;
        let t = self.theme_tx(&mut tx, id).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    async fn theme_tx(&self, tx: &mut Tx, id: i64) -> Result<Theme> {
        let r = sqlx::query(
            "SELECT id, title, category, status, merged_into_id, created_at, updated_at
             FROM feedback_themes WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(StoreError::NotFound("feedback theme"))?;
        let orgs: Vec<Option<i64>> =
            sqlx::query("SELECT organization_id FROM feedback_items WHERE theme_id = $1")
                .bind(id)
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get("organization_id"))
                .collect::<std::result::Result<_, _>>()?;
        Ok(Theme {
            id,
            title: r.try_get("title")?,
            category: FeedbackCategory::parse(&r.try_get::<String, _>("category")?)?,
            status: ThemeStatus::parse(&r.try_get::<String, _>("status")?)?,
            merged_into_id: r.try_get("merged_into_id")?,
            items: orgs.len() as i64,
            accounts: distinct_accounts(orgs) as i64,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }

    pub async fn feedback_theme(&self, actor: &Actor, id: i64) -> Result<Theme> {
        may_read(actor)?;
        // A read-only transaction on the read pool: the writer stays free.
        let mut tx = self.read.begin().await?;
        let t = self.theme_tx(&mut tx, id).await?;
        tx.rollback().await?;
        Ok(t)
    }

    /// Live (unmerged) themes, most distinct accounts first.
    pub async fn feedback_themes(&self, actor: &Actor) -> Result<Vec<Theme>> {
        may_read(actor)?;
        let rows = sqlx::query(
            "SELECT t.id, t.title, t.category, t.status, t.merged_into_id, t.created_at, t.updated_at,
                    COUNT(i.id) AS items, COUNT(DISTINCT i.organization_id) AS accounts
             FROM feedback_themes t LEFT JOIN feedback_items i ON i.theme_id = t.id
             WHERE t.merged_into_id IS NULL
             GROUP BY t.id, t.title, t.category, t.status, t.merged_into_id, t.created_at, t.updated_at
             ORDER BY accounts DESC, t.id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Theme {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    category: FeedbackCategory::parse(&r.try_get::<String, _>("category")?)?,
                    status: ThemeStatus::parse(&r.try_get::<String, _>("status")?)?,
                    merged_into_id: r.try_get("merged_into_id")?,
                    items: r.try_get("items")?,
                    accounts: r.try_get("accounts")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }

    /// Merges `others` into `survivor` (see the module docs).
    pub async fn merge_feedback_themes(
        &self,
        actor: &Actor,
        survivor: i64,
        others: &[i64],
        now: i64,
    ) -> Result<Theme> {
        may_write(actor)?;
        if others.is_empty() {
            return Err(StoreError::invalid(
                "theme_ids",
                "name at least one theme to merge",
            ));
        }
        let mut tx = self.begin().await?;
        let s = self.theme_tx(&mut tx, survivor).await?;
        if s.merged_into_id.is_some() {
            return Err(StoreError::Conflict(format!(
                "theme {survivor} was itself merged; merge into the survivor"
            )));
        }
        for &o in others.iter().collect::<BTreeSet<_>>() {
            if o == survivor {
                return Err(StoreError::invalid(
                    "theme_ids",
                    "a theme cannot merge into itself",
                ));
            }
            let t = match self.theme_tx(&mut tx, o).await {
                Err(StoreError::NotFound(_)) => {
                    return Err(StoreError::invalid("theme_ids", format!("no theme {o}")));
                }
                r => r?,
            };
            if t.merged_into_id.is_some() {
                continue; // merging twice is a no-op
            }
            sqlx::query("UPDATE feedback_decisions SET theme_id = $1 WHERE theme_id = $2")
                .bind(survivor)
                .bind(o)
                .execute(&mut *tx)
                .await?;
            for sql in [
                "UPDATE feedback_items SET theme_id = $1, updated_at = $3 WHERE theme_id = $2",
                "UPDATE feedback_themes SET merged_into_id = $1, updated_at = $3 WHERE id = $2",
                "UPDATE feedback_themes SET merged_into_id = $1, updated_at = $3 WHERE merged_into_id = $2",
            ] {
                sqlx::query(sql)
                    .bind(survivor)
                    .bind(o)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE feedback_themes SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(survivor)
            .execute(&mut *tx)
            .await?;
        let t = self.theme_tx(&mut tx, survivor).await?;
        self.commit(tx).await?;
        Ok(t)
    }

    /// Distinct requesters of a theme's items that have an e-mail.
    async fn requesters_tx(&self, tx: &mut Tx, theme: i64) -> Result<Vec<(i64, String, String)>> {
        sqlx::query(
            "SELECT DISTINCT u.id, u.email, u.name FROM feedback_items i JOIN users u ON u.id = i.user_id
             WHERE i.theme_id = $1 AND u.email IS NOT NULL ORDER BY u.id",
        )
        .bind(theme)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("email")?, r.try_get("name")?)))
        .collect()
    }

    async fn latest_decision_tx(&self, tx: &mut Tx, theme: i64) -> Result<Option<StoredDecision>> {
        sqlx::query(
            "SELECT id, theme_id, decision, target_release, revisit_on, reason, alternative, decided_at, decided_by
             FROM feedback_decisions WHERE theme_id = $1 ORDER BY decided_at DESC, id DESC LIMIT 1",
        )
        .bind(theme)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(decision_row)
        .transpose()
    }

    /// Records the committee's decision on a theme and tells every
    /// requester, in one transaction.
    pub async fn decide_feedback_theme(
        &self,
        actor: &Actor,
        theme: i64,
        kind: DecisionKind,
        draft: &DecisionDraft,
        now: i64,
    ) -> Result<StoredDecision> {
        may_write(actor)?;
        let d: Decision =
            validate_decision(kind, draft, crate::dates::utc_date(now)).map_err(refused)?;
        let mut tx = self.begin().await?;
        let t = self.theme_tx(&mut tx, theme).await?;
        if let Some(s) = t.merged_into_id {
            return Err(StoreError::Conflict(format!(
                "theme {theme} was merged into theme {s}; decide on that one"
            )));
        }
        let (target, revisit) = (
            d.target_release.map(|d| d.to_string()),
            d.revisit_on.map(|d| d.to_string()),
        );
        if let Some(prev) = self.latest_decision_tx(&mut tx, theme).await?
            && prev.decision == d.kind
            && prev.target_release == target
            && prev.revisit_on == revisit
            && prev.reason == d.reason
            && prev.alternative == d.alternative
        {
            tx.rollback().await?;
            return Ok(prev); // a retry: the decision stands and was told
        }
        let row = sqlx::query(
            "INSERT INTO feedback_decisions (theme_id, decision, target_release, revisit_on, reason, alternative,
                decided_at, decided_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(theme)
        .bind(d.kind.as_str())
        .bind(target.as_deref())
        .bind(revisit.as_deref())
        .bind(d.reason.as_deref())
        .bind(d.alternative.as_deref())
        .bind(now)
        .bind(actor.id())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        sqlx::query("UPDATE feedback_themes SET status = 'decided', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(theme)
            .execute(&mut *tx)
            .await?;
        let template = self.template_in(&mut tx, "feedback_decision").await?;
        let mut ctx = feedback_context(
            actor,
            &t.title,
            d.kind,
            [
                target.as_deref(),
                revisit.as_deref(),
                d.reason.as_deref(),
                d.alternative.as_deref(),
            ],
        );
        let key_part = format!(
            "{}:{}",
            d.kind.as_str(),
            target.as_deref().or(revisit.as_deref()).unwrap_or("-")
        );
        let mut notified = 0;
        for (uid, email, name) in self.requesters_tx(&mut tx, theme).await? {
            let m = render_for(
                &template.parts,
                &mut ctx,
                &name,
                &email,
                "feedback_decision",
            )?;
            let payload = json!({
                "to": email,
                "subject": m.subject,
                "text": m.text,
                "html": m.html,
                "headers": {"Message-ID": format!("<feedback-{theme}-decision-{id}-{uid}@{MESSAGE_ID_DOMAIN}>")},
                "feedback_theme_id": theme,
            });
            let key = format!("email:feedback-decision:{theme}:{key_part}:{uid}");
            if self.enqueue(&mut tx, "email", &key, &payload, now).await? {
                notified += 1;
            }
        }
        let mut stored = self
            .latest_decision_tx(&mut tx, theme)
            .await?
            .ok_or(StoreError::NotFound("feedback decision"))?;
        stored.notified = notified;
        stored.recorded = true;
        self.commit(tx).await?;
        Ok(stored)
    }

    pub async fn feedback_decisions(
        &self,
        actor: &Actor,
        theme: i64,
    ) -> Result<Vec<StoredDecision>> {
        may_read(actor)?;
        sqlx::query(
            "SELECT id, theme_id, decision, target_release, revisit_on, reason, alternative, decided_at, decided_by
             FROM feedback_decisions WHERE theme_id = $1 ORDER BY decided_at, id",
        )
        .bind(theme)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(decision_row)
        .collect()
    }

    /// Marks an accepted theme shipped and tells every requester again.
    /// Returns the theme and how many e-mails this call enqueued.
    pub async fn ship_feedback_theme(
        &self,
        actor: &Actor,
        theme: i64,
        now: i64,
    ) -> Result<(Theme, usize)> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let t = self.theme_tx(&mut tx, theme).await?;
        if t.merged_into_id.is_some() {
            return Err(StoreError::Conflict(format!("theme {theme} was merged")));
        }
        let decision = match self.latest_decision_tx(&mut tx, theme).await? {
            Some(d) if d.decision.is_accepted() => d,
            _ => {
                return Err(StoreError::invalid(
                    "status",
                    "only a theme decided for the roadmap or backlog can ship",
                ));
            }
        };
        let template = self.template_in(&mut tx, "feedback_shipped").await?;
        let mut ctx = feedback_context(
            actor,
            &t.title,
            decision.decision,
            [
                decision.target_release.as_deref(),
                decision.revisit_on.as_deref(),
                decision.reason.as_deref(),
                decision.alternative.as_deref(),
            ],
        );
        sqlx::query("UPDATE feedback_themes SET status = 'shipped', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(theme)
            .execute(&mut *tx)
            .await?;
        let mut notified = 0;
        for (uid, email, name) in self.requesters_tx(&mut tx, theme).await? {
            let m = render_for(&template.parts, &mut ctx, &name, &email, "feedback_shipped")?;
            let payload = json!({
                "to": email,
                "subject": m.subject,
                "text": m.text,
                "html": m.html,
                "headers": {"Message-ID": format!("<feedback-{theme}-shipped-{uid}@{MESSAGE_ID_DOMAIN}>")},
                "feedback_theme_id": theme,
            });
            let key = format!("email:feedback-shipped:{theme}:{uid}");
            if self.enqueue(&mut tx, "email", &key, &payload, now).await? {
                notified += 1;
            }
        }
        let t = self.theme_tx(&mut tx, theme).await?;
        self.commit(tx).await?;
        Ok((t, notified))
    }

    /// §11's metrics over items received in `[from, to)`.
    pub async fn feedback_metrics(
        &self,
        actor: &Actor,
        from: i64,
        to: i64,
    ) -> Result<FeedbackMetrics> {
        may_read(actor)?;
        let items = sqlx::query(
            "SELECT i.source, i.category, i.sentiment, i.organization_id, i.theme_id, i.created_at,
                    (SELECT MIN(d.decided_at) FROM feedback_decisions d WHERE d.theme_id = i.theme_id) AS decided_at
             FROM feedback_items i WHERE i.created_at >= $1 AND i.created_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        let mut m = FeedbackMetrics {
            items: items.len() as i64,
            by_source: FeedbackSource::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), 0))
                .collect(),
            by_sentiment: Sentiment::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), 0))
                .collect(),
            by_category: FeedbackCategory::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), 0))
                .collect(),
            top_themes: Vec::new(),
            mean_days_to_decision: None,
            accepted: 0,
            shipped: 0,
        };
        let mut themes: BTreeMap<i64, Vec<Option<i64>>> = BTreeMap::new();
        let mut pairs = Vec::new();
        for r in &items {
            for (col, map) in [
                ("source", &mut m.by_source),
                ("category", &mut m.by_category),
                ("sentiment", &mut m.by_sentiment),
            ] {
                *map.entry(r.try_get::<String, _>(col)?).or_insert(0) += 1;
            }
            let created: i64 = r.try_get("created_at")?;
            if let Some(t) = r.try_get::<Option<i64>, _>("theme_id")? {
                themes
                    .entry(t)
                    .or_default()
                    .push(r.try_get("organization_id")?);
            }
            if let Some(d) = r.try_get::<Option<i64>, _>("decided_at")? {
                pairs.push((created, d));
            }
        }
        m.mean_days_to_decision = mean_days(&pairs);
        let titles: BTreeMap<i64, String> =
            sqlx::query("SELECT id, title FROM feedback_themes WHERE merged_into_id IS NULL")
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("title")?)))
                .collect::<Result<_>>()?;
        let mut top: Vec<(i64, String, i64, i64)> = themes
            .into_iter()
            .filter_map(|(id, orgs)| {
                let n = orgs.len() as i64;
                titles
                    .get(&id)
                    .map(|t| (id, t.clone(), distinct_accounts(orgs) as i64, n))
            })
            .collect();
        top.sort_by(|a, b| b.2.cmp(&a.2).then(b.3.cmp(&a.3)).then(a.0.cmp(&b.0)));
        top.truncate(10);
        m.top_themes = top;
        // Accepted: themes given a roadmap or backlog decision in the period.
        let accepted = sqlx::query(
            "SELECT DISTINCT t.id, t.status FROM feedback_decisions d JOIN feedback_themes t ON t.id = d.theme_id
             WHERE d.decision IN ('roadmap', 'backlog') AND d.decided_at >= $1 AND d.decided_at < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        m.accepted = accepted.len() as i64;
        for r in &accepted {
            if r.try_get::<String, _>("status")? == ThemeStatus::Shipped.as_str() {
                m.shipped += 1;
            }
        }
        Ok(m)
    }
}

/// The template context of a feedback notice: the theme and the decision
/// (`[target_release, revisit_on, reason, alternative]`, empty when the
/// decision has none) and the deciding staff member as `agent`; the
/// `contact` is set per requester by [`render_for`].
fn feedback_context(
    actor: &Actor,
    title: &str,
    kind: DecisionKind,
    [target, revisit, reason, alternative]: [Option<&str>; 4],
) -> Context {
    let mut c = Context::default();
    c.set(Object::Feedback, "title", title);
    c.set(Object::Feedback, "decision", kind.as_str());
    for (field, v) in [
        ("target_release", target),
        ("revisit_on", revisit),
        ("reason", reason),
        ("alternative", alternative),
    ] {
        c.set(Object::Feedback, field, v.unwrap_or_default());
    }
    c.set(Object::Agent, "name", actor.user.name.as_str());
    c.set(
        Object::Agent,
        "email",
        actor.user.email.clone().unwrap_or_default(),
    );
    c
}

/// Renders a feedback notice for one requester (a 422 naming the template
/// if an admin's edit no longer renders).
fn render_for(
    parts: &Parts,
    ctx: &mut Context,
    name: &str,
    email: &str,
    key: &str,
) -> Result<Rendered> {
    let first = name.split_whitespace().next().unwrap_or(name);
    ctx.set(Object::Contact, "first_name", first);
    ctx.set(Object::Contact, "name", name);
    ctx.set(Object::Contact, "email", email);
    templates::render(parts, ctx).map_err(|e| {
        StoreError::invalid(
            "template",
            format!("the {key} template could not be rendered: {}", e.message),
        )
    })
}
