//! The customer portal's own queries (issue 6): throttling sign-in link
//! requests, and the NPS surveys a signed-in contact has not answered yet.
//!
//! - **Link throttling.** At most [`MAX_LINK_REQUESTS`] link requests per
//!   address in [`LINK_WINDOW_SECS`]. Requests are counted in
//!   `login_failures` under the key `portal-link:<address>` (no migration;
//!   the password sign-in's keys are bare addresses, so the two counts never
//!   mix, and its clean-up of old rows covers these too). Unknown addresses
//!   are counted like known ones, so the throttle reveals nothing about
//!   which addresses have accounts.
//! - **Pending surveys.** Survey tokens are stored as digests and cannot be
//!   rebuilt, so the portal lists the campaigns and, when the contact
//!   chooses one, issues a fresh link that expires with the e-mailed one (as
//!   a reminder does, see `surveys.rs`); answering spends both.

use sqlx::Row;

use crate::{
    Store,
    auth::{generate_token, token_digest},
    error::Result,
    sessions::FAILURE_WINDOW_SECS,
};

pub const MAX_LINK_REQUESTS: i64 = 5;
pub const LINK_WINDOW_SECS: i64 = 15 * 60;

/// An NPS campaign the contact may still answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSurvey {
    pub campaign_id: i64,
    pub name: String,
    pub expires_at: i64,
}

fn link_key(email: &str) -> String {
    format!("portal-link:{}", email.trim().to_lowercase())
}

impl Store {
    /// Counts a portal link request for `email`; `Some(retry_after)` (in
    /// seconds) when the address has asked too often and must wait.
    pub async fn note_portal_link_request(&self, email: &str, now: i64) -> Result<Option<i64>> {
        let key = link_key(email);
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE login_key = $1 AND at > $2",
        )
        .bind(&key)
        .bind(now - LINK_WINDOW_SECS)
        .fetch_one(&mut *tx)
        .await?;
        let n: i64 = row.try_get("n")?;
        if n >= MAX_LINK_REQUESTS {
            let first: Option<i64> = row.try_get("first")?;
            self.commit(tx).await?;
            let retry = first.map_or(LINK_WINDOW_SECS, |f| f + LINK_WINDOW_SECS - now);
            return Ok(Some(retry.max(1)));
        }
        sqlx::query("INSERT INTO login_failures (login_key, at) VALUES ($1, $2)")
            .bind(&key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // Rows older than both windows count for nothing; the table stays
        // small even when nobody mistypes a password.
        sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(now - LINK_WINDOW_SECS.max(FAILURE_WINDOW_SECS))
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(None)
    }

    /// The campaigns whose link `user_id` holds, unanswered and unexpired
    /// (unsubscribed contacts are left alone), soonest expiry first.
    pub async fn pending_surveys(&self, user_id: i64, now: i64) -> Result<Vec<PendingSurvey>> {
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT t.campaign_id, c.name, MAX(t.expires_at) AS expires_at
             FROM survey_tokens t JOIN nps_campaigns c ON c.id = t.campaign_id
             WHERE t.user_id = $1 AND t.used_at IS NULL AND t.expires_at > $2
               AND NOT EXISTS (SELECT 1 FROM nps_responses r
                               WHERE r.campaign_id = t.campaign_id AND r.user_id = t.user_id)
               AND NOT EXISTS (SELECT 1 FROM survey_unsubscribes s WHERE s.user_id = t.user_id)
             GROUP BY t.campaign_id, c.name
             ORDER BY MAX(t.expires_at), t.campaign_id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingSurvey {
                    campaign_id: r.try_get("campaign_id")?,
                    name: r.try_get("name")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// A fresh survey link token for a pending campaign of `user_id`,
    /// expiring with the one e-mailed; `None` when nothing is pending.
    pub async fn portal_survey_token(
        &self,
        user_id: i64,
        campaign_id: i64,
        now: i64,
    ) -> Result<Option<String>> {
        let Some(p) = self
            .pending_surveys(user_id, now)
            .await?
            .into_iter()
            .find(|p| p.campaign_id == campaign_id)
        else {
            return Ok(None);
        };
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT organization_id FROM survey_tokens
             WHERE user_id = $1 AND campaign_id = $2 AND expires_at = $3",
        )
        .bind(user_id)
        .bind(campaign_id)
        .bind(p.expires_at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let org: i64 = row.try_get("organization_id")?;
        let token = generate_token();
        sqlx::query(
            "INSERT INTO survey_tokens (token_hash, campaign_id, user_id, organization_id, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_digest(&token))
        .bind(campaign_id)
        .bind(user_id)
        .bind(org)
        .bind(p.expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(Some(token))
    }
}
