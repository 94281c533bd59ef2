//! The outbox: effects outside the database, recorded with their cause.
//!
//! A write that must reach the outside world (an e-mail, a Slack message, a
//! webhook) calls [`Store::enqueue`] inside its own transaction, so the
//! effect exists exactly when the cause was committed. Workers claim due
//! rows with a lease (`locked_until`), deliver them, and mark them done or
//! reschedule them with backoff; a crashed worker's lease simply expires.
//! The idempotency key is unique: enqueuing the same effect twice is a
//! no-op, and receivers get the key to de-duplicate redeliveries.

use sqlx::Row;

use crate::{Store, db::Tx, error::Result};

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
}

impl Store {
    /// Records an effect in the caller's transaction. Returns false when the
    /// same idempotency key was already enqueued.
    pub async fn enqueue(
        &self,
        tx: &mut Tx,
        kind: &str,
        key: &str,
        payload: &serde_json::Value,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO outbox (kind, idempotency_key, payload, available_at, created_at)
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(kind)
        .bind(key)
        .bind(serde_json::to_string(payload)?)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Claims up to `limit` due messages for `worker` for `lease_secs`.
    /// Work is found through the `(delivered_at, available_at)` index, so
    /// the cost follows what is due, not what was ever sent.
    pub async fn claim_outbox(
        &self,
        worker: &str,
        limit: i64,
        lease_secs: i64,
        now: i64,
    ) -> Result<Vec<OutboxMessage>> {
        let mut tx = self.begin().await?;
        let skip_locked = if self.dialect == crate::Dialect::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, kind, idempotency_key, payload, attempts FROM outbox
             WHERE delivered_at IS NULL AND available_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
             ORDER BY available_at, id LIMIT $2{skip_locked}"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let m = OutboxMessage {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                idempotency_key: r.try_get("idempotency_key")?,
                payload: serde_json::from_str(&r.try_get::<String, _>("payload")?)?,
                attempts: r.try_get("attempts")?,
            };
            sqlx::query("UPDATE outbox SET locked_until = $1, locked_by = $2, attempts = attempts + 1 WHERE id = $3")
                .bind(now + lease_secs)
                .bind(worker)
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
            out.push(m);
        }
        self.commit(tx).await?;
        Ok(out)
    }

    pub async fn complete_outbox(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE outbox SET delivered_at = $1, locked_until = NULL, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.write)
            .await?;
        self.make_durable().await?;
        Ok(())
    }

    /// Puts a claimed message back untouched until `until`: it was not
    /// attempted (e.g. SMTP is not configured), so it does not count as one.
    pub async fn defer_outbox(&self, id: i64, until: i64, note: &str) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET available_at = $1, locked_until = NULL, attempts = attempts - 1, last_error = $2 WHERE id = $3",
        )
        .bind(until)
        .bind(note)
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Reschedules a failed delivery with exponential backoff (30 s doubling,
    /// capped at 6 h).
    pub async fn fail_outbox(&self, id: i64, attempts: i64, error: &str, now: i64) -> Result<()> {
        let delay = 30i64
            .saturating_mul(1 << attempts.clamp(0, 10))
            .min(6 * 3600);
        sqlx::query("UPDATE outbox SET available_at = $1, locked_until = NULL, last_error = $2 WHERE id = $3")
            .bind(now + delay)
            .bind(error)
            .bind(id)
            .execute(&self.write)
            .await?;
        self.make_durable().await?;
        Ok(())
    }
}

impl Store {
    /// How many messages whose idempotency key starts with `prefix` were
    /// ever enqueued (tests, metrics).
    pub async fn outbox_count(&self, prefix: &str) -> Result<i64> {
        let mut conn = self.reader().await?;
        let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE idempotency_key LIKE $1")
            .bind(format!("{prefix}%"))
            .fetch_one(&mut *conn)
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// One row of the delivery log: a message with where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub available_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

impl Store {
    /// The newest `limit` messages, of one kind when `kind` is given.
    pub async fn list_outbox(&self, kind: Option<&str>, limit: i64) -> Result<Vec<OutboxEntry>> {
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT id, kind, idempotency_key, payload, attempts, available_at, last_error, delivered_at, created_at
             FROM outbox WHERE ($1 = '' OR kind = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(kind.unwrap_or_default())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxEntry {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    idempotency_key: r.try_get("idempotency_key")?,
                    payload: serde_json::from_str(&r.try_get::<String, _>("payload")?)?,
                    attempts: r.try_get("attempts")?,
                    available_at: r.try_get("available_at")?,
                    last_error: r.try_get("last_error")?,
                    delivered_at: r.try_get("delivered_at")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

/// The domain of Steward's Message-IDs. It names the namespace of the ids,
/// not a host: what matters to receivers is that an id is stable (the same
/// comment always gets the same id, so a redelivery after a crash is
/// recognised) and that replies quoting it in `In-Reply-To` thread back.
pub const MESSAGE_ID_DOMAIN: &str = "steward.localhost";

/// The root Message-ID of a ticket's thread, which every e-mail about the
/// ticket refers to.
pub fn ticket_message_id(ticket_id: i64) -> String {
    format!("<ticket-{ticket_id}@{MESSAGE_ID_DOMAIN}>")
}

impl Store {
    /// Queues the e-mail that tells a ticket's requester about an agent's
    /// public reply, in the reply's transaction. Nothing is sent when the
    /// audit holds no public comment, when the requester wrote it, or when
    /// the requester has no address. The key is one per (comment,
    /// recipient), so a retried request cannot send the reply twice.
    pub(crate) async fn enqueue_reply_email_tx(
        &self,
        tx: &mut Tx,
        ticket: &crate::Ticket,
        audit: &crate::Audit,
        now: i64,
    ) -> Result<()> {
        use serde_json::{Value, json};
        let Some(comment) = audit.events.iter().find(|e| {
            e.get("type").and_then(Value::as_str) == Some("Comment")
                && e.get("public").and_then(Value::as_bool) == Some(true)
        }) else {
            return Ok(());
        };
        let comment_id = comment.get("id").and_then(Value::as_i64).unwrap_or(0);
        let author = comment.get("author_id").and_then(Value::as_i64);
        if author == Some(ticket.requester_id) {
            return Ok(());
        }
        let to: Option<String> = sqlx::query("SELECT email FROM users WHERE id = $1")
            .bind(ticket.requester_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get::<Option<String>, _>("email"))
            .transpose()?
            .flatten();
        let Some(to) = to.filter(|t| !t.is_empty()) else {
            return Ok(());
        };
        let root = ticket_message_id(ticket.id);
        let text = comment
            .get("plain_body")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let html = comment
            .get("html_body")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let payload = json!({
            "to": to,
            "subject": format!("[#{}] {}", ticket.id, ticket.subject),
            "text": text,
            "html": html,
            "headers": {
                "Message-ID": format!("<ticket-{}-comment-{comment_id}@{MESSAGE_ID_DOMAIN}>", ticket.id),
                "In-Reply-To": root,
                "References": root,
            },
            "ticket_id": ticket.id,
        });
        let key = format!(
            "email:ticket-{}-comment-{comment_id}:user-{}",
            ticket.id, ticket.requester_id
        );
        self.enqueue(tx, "email", &key, &payload, now).await?;
        Ok(())
    }
}
