//! Web sign-in (issue 6): browser sessions, sign-in throttling and the
//! customer portal's one-time links.
//!
//! - A session is a random 32-byte token in an HttpOnly cookie; the table
//!   keeps its SHA-256 digest, so a stolen database copy holds no usable
//!   session. Each session carries its own CSRF token, which every form
//!   posts back. Sessions last [`SESSION_IDLE_SECS`] without use and at most
//!   [`SESSION_MAX_SECS`] in all (Zendesk's agent sessions expire after
//!   8 hours idle; a CS team works a full day, so 12 hours).
//! - Throttling: after [`MAX_FAILURES`] failed sign-ins for one e-mail in
//!   [`FAILURE_WINDOW_SECS`], further attempts for it are refused until the
//!   oldest failure leaves the window, even with the right password. The
//!   count lives in the database so that several `steward serve` processes
//!   share it.
//! - Portal links are single-use and valid [`PORTAL_LINK_SECS`]; asking for
//!   one queues the e-mail through the outbox in the same transaction. An
//!   unknown address gets the same answer as a known one (no account
//!   enumeration) and no e-mail.

use serde_json::json;
use sqlx::Row;

use crate::{
    Store,
    access::Actor,
    auth::{generate_token, token_digest},
    error::{Result, StoreError},
    outbox::MESSAGE_ID_DOMAIN,
    users::{USER_COLUMNS, User, user_from_row},
};
use steward_domain::Role;

pub const SESSION_IDLE_SECS: i64 = 12 * 3600;
pub const SESSION_MAX_SECS: i64 = 7 * 24 * 3600;
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
pub const PORTAL_LINK_SECS: i64 = 30 * 60;
/// `last_seen_at` is refreshed at most this often, so that reading pages
/// does not write on every request.
const TOUCH_EVERY_SECS: i64 = 300;

/// A signed-in browser: who, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub id: i64,
    pub actor: Actor,
    pub csrf: String,
}

/// The outcome of a password sign-in.
#[derive(Debug)]
pub enum SignIn {
    /// The session's cookie value (only ever shown to the browser).
    Ok {
        token: String,
        user: Box<User>,
    },
    Wrong,
    /// Too many failures; retry after this many seconds.
    Throttled {
        retry_after: i64,
    },
}

impl Store {
    /// Checks the password (with throttling) and opens a session.
    pub async fn sign_in(&self, email: &str, password: &str, now: i64) -> Result<SignIn> {
        let key = email.trim().to_lowercase();
        let since = now - FAILURE_WINDOW_SECS;
        let mut conn = self.reader().await?;
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE login_key = $1 AND at > $2",
        )
        .bind(&key)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
        drop(conn);
        let failures: i64 = row.try_get("n")?;
        if failures >= MAX_FAILURES {
            let first: Option<i64> = row.try_get("first")?;
            let retry_after = first.map_or(FAILURE_WINDOW_SECS, |f| f + FAILURE_WINDOW_SECS - now);
            return Ok(SignIn::Throttled {
                retry_after: retry_after.max(1),
            });
        }
        match self.user_by_password(&key, password).await? {
            Some(user) => {
                let token = self.open_session(user.id, now).await?;
                self.touch_login(user.id, now).await?;
                Ok(SignIn::Ok {
                    token,
                    user: Box::new(user),
                })
            }
            None => {
                let mut tx = self.begin().await?;
                sqlx::query("INSERT INTO login_failures (login_key, at) VALUES ($1, $2)")
                    .bind(&key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // Old rows go as new ones arrive; the table stays small.
                sqlx::query("DELETE FROM login_failures WHERE at <= $1")
                    .bind(now - FAILURE_WINDOW_SECS)
                    .execute(&mut *tx)
                    .await?;
                self.commit(tx).await?;
                Ok(SignIn::Wrong)
            }
        }
    }

    /// A new session for `user_id`; returns the cookie value.
    pub async fn open_session(&self, user_id: i64, now: i64) -> Result<String> {
        let token = generate_token();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO web_sessions (token_sha256, user_id, csrf_token, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_digest(&token))
        .bind(user_id)
        .bind(generate_token())
        .bind(now)
        .bind(now + SESSION_MAX_SECS)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now)
            .bind(now - SESSION_IDLE_SECS)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(token)
    }

    /// The live session behind a cookie value, if any. Suspended or
    /// deactivated users lose their sessions at once.
    pub async fn session(&self, token: &str, now: i64) -> Result<Option<WebSession>> {
        let sql = format!(
            "SELECT s.id AS session_id, s.csrf_token, s.last_seen_at, {USER_COLUMNS},
                    COALESCE(o.shared_tickets, 0) AS org_shared
             FROM web_sessions s JOIN users u ON u.id = s.user_id
             LEFT JOIN organizations o ON o.id = u.organization_id
             WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND s.last_seen_at > $3
               AND u.active = 1 AND u.suspended = 0"
        );
        let mut conn = self.reader().await?;
        let Some(row) = sqlx::query(&sql)
            .bind(token_digest(token))
            .bind(now)
            .bind(now - SESSION_IDLE_SECS)
            .fetch_optional(&mut *conn)
            .await?
        else {
            return Ok(None);
        };
        drop(conn);
        let id: i64 = row.try_get("session_id")?;
        let last_seen: i64 = row.try_get("last_seen_at")?;
        if now - last_seen >= TOUCH_EVERY_SECS {
            sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&self.write)
                .await?;
        }
        let user = user_from_row(&row)?;
        let org_shares_tickets =
            user.role == Role::EndUser && row.try_get::<i64, _>("org_shared")? != 0;
        Ok(Some(WebSession {
            id,
            csrf: row.try_get("csrf_token")?,
            actor: Actor {
                user,
                org_shares_tickets,
            },
        }))
    }

    pub async fn close_session(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        self.make_durable().await
    }

    /// Changes the password after checking the current one, and signs out
    /// every other session of the user.
    pub async fn change_password(
        &self,
        session: &WebSession,
        current: &str,
        new: &str,
        now: i64,
    ) -> Result<()> {
        let email = session.actor.user.email.clone().unwrap_or_default();
        if self.user_by_password(&email, current).await?.is_none() {
            return Err(StoreError::invalid(
                "current_password",
                "is not your current password",
            ));
        }
        self.set_password(session.actor.user.id, new, now).await?;
        sqlx::query("DELETE FROM web_sessions WHERE user_id = $1 AND id <> $2")
            .bind(session.actor.user.id)
            .bind(session.id)
            .execute(&self.write)
            .await?;
        self.make_durable().await
    }

    /// Queues a one-time portal sign-in link for an end user with this
    /// e-mail. Returns whether a link was queued; callers must answer the
    /// same either way. `base_url` is the server's public address.
    pub async fn request_portal_link(&self, email: &str, base_url: &str, now: i64) -> Result<bool> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u
             WHERE u.email = $1 AND u.role = 'end-user' AND u.active = 1 AND u.suspended = 0"
        );
        let mut conn = self.reader().await?;
        let row = sqlx::query(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&mut *conn)
            .await?;
        drop(conn);
        let Some(row) = row else {
            return Ok(false);
        };
        let user = user_from_row(&row)?;
        let Some(to) = user.email.clone() else {
            return Ok(false);
        };
        let token = generate_token();
        let link = format!("{}/portal/login/{token}", base_url.trim_end_matches('/'));
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO portal_links (token_sha256, user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(token_digest(&token))
        .bind(user.id)
        .bind(now)
        .bind(now + PORTAL_LINK_SECS)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let minutes = PORTAL_LINK_SECS / 60;
        let text = format!(
            "Hello {},\n\nUse this link to sign in to the support portal:\n\n{link}\n\n\
             It works once and expires in {minutes} minutes. If you did not ask for it, ignore this e-mail.\n",
            user.name
        );
        let payload = json!({
            "to": to,
            "subject": "Your sign-in link for the support portal",
            "text": text,
            "headers": {"Message-ID": format!("<portal-link-{id}@{MESSAGE_ID_DOMAIN}>")},
        });
        self.enqueue(
            &mut tx,
            "email",
            &format!("email:portal-link:{id}"),
            &payload,
            now,
        )
        .await?;
        self.commit(tx).await?;
        Ok(true)
    }

    /// Spends a portal link and opens a session; `None` when the link is
    /// unknown, used or expired.
    /// Whether a portal sign-in link would still sign in (unused, not
    /// expired), without spending it: the confirmation page asks this, so
    /// a mail scanner that opens links does not use them up.
    pub async fn portal_link_is_open(&self, token: &str, now: i64) -> Result<bool> {
        let mut conn = self.reader().await?;
        let row = sqlx::query(
            "SELECT 1 AS one FROM portal_links WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_digest(token))
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.is_some())
    }

    pub async fn redeem_portal_link(&self, token: &str, now: i64) -> Result<Option<String>> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "UPDATE portal_links SET used_at = $1
             WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING user_id",
        )
        .bind(now)
        .bind(token_digest(token))
        .fetch_optional(&mut *tx)
        .await?;
        self.commit(tx).await?;
        match row {
            Some(r) => Ok(Some(self.open_session(r.try_get("user_id")?, now).await?)),
            None => Ok(None),
        }
    }
}
