//! Bulk loading of tickets: the rows [`Store::create_ticket_tx`] writes for
//! a new ticket, written for many tickets at once with multi-row INSERTs.
//!
//! This exists for filling databases with a million tickets (benchmarks,
//! large imports of already-validated data), where one round trip per
//! statement per ticket is what costs, especially on PostgreSQL. It writes
//! the same tables with the same values as the ordinary path — `tickets`
//! (with `search_vector` on PostgreSQL), `tickets_fts` on SQLite,
//! `ticket_tags`, `ticket_counts`, one `ticket_audits` row holding the
//! `Comment` and `Create` events, and one `ticket_comments` row — so a
//! bulk-loaded ticket reads, lists, searches and counts exactly like one
//! created through the API (a test below holds the two side by side).
//!
//! What it does not do is check: it trusts that requesters, organizations,
//! groups and assignees exist and that the caller may write them. Callers
//! pass data they generated or validated themselves.

use std::collections::BTreeMap;

use serde_json::json;
use sqlx::Row;
use steward_domain::{Priority, Status, TicketType, Via, ticket::normalize_tags};

use crate::{
    Store,
    db::{Dialect, Tx},
    error::{Result, StoreError},
    tickets::{COUNT_SHARDS, text_to_html},
};

/// One new ticket, with its first (public) comment as the description.
#[derive(Debug, Clone)]
pub struct BulkTicket {
    pub subject: String,
    /// Plain text of the first comment.
    pub description: String,
    pub requester_id: i64,
    /// Author of the first comment (the requester, usually).
    pub comment_author_id: i64,
    pub organization_id: Option<i64>,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub priority: Priority,
    pub status: Status,
    pub ticket_type: Option<TicketType>,
    pub tags: Vec<String>,
    pub via: Via,
    pub created_at: i64,
}

/// Rows per INSERT statement: well under SQLite's 32,766 and PostgreSQL's
/// 65,535 bound parameters for the widest table (`tickets`, 19 columns).
const ROWS_PER_STATEMENT: usize = 500;

#[derive(Debug, Clone)]
enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

/// One multi-row statement under construction.
struct Insert {
    sql: String,
    vals: Vec<Val>,
    rows: usize,
}

impl Insert {
    fn new(head: &str) -> Self {
        Insert {
            sql: format!("{head} VALUES "),
            vals: Vec::new(),
            rows: 0,
        }
    }

    fn p(&mut self, v: Val) -> String {
        self.vals.push(v);
        format!("${}", self.vals.len())
    }

    /// Appends `(a, b, ...)`, each item already a placeholder or expression.
    fn row(&mut self, items: &[String]) {
        if self.rows > 0 {
            self.sql.push_str(", ");
        }
        self.sql.push('(');
        self.sql.push_str(&items.join(", "));
        self.sql.push(')');
        self.rows += 1;
    }

    async fn run(self, tx: &mut Tx, tail: &str) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let sql = format!("{}{tail}", self.sql);
        let mut q = sqlx::query(&sql);
        for v in &self.vals {
            q = match v {
                Val::Int(i) => q.bind(*i),
                Val::OptInt(i) => q.bind(*i),
                Val::Text(s) => q.bind(s.as_str()),
                Val::OptText(s) => q.bind(s.as_deref()),
            };
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }
}

impl Store {
    /// `n` fresh ids of `table`. PostgreSQL draws them from the identity
    /// sequence, so concurrent writers never collide; SQLite has a single
    /// writer, so the ids after the current maximum are free for this
    /// transaction (and are what `INTEGER PRIMARY KEY` would assign).
    async fn allocate_ids(&self, tx: &mut Tx, table: &str, n: usize) -> Result<Vec<i64>> {
        match self.dialect {
            Dialect::Postgres => {
                let sql = format!(
                    "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id \
                     FROM generate_series(1::bigint, $1::bigint)"
                );
                let mut ids = sqlx::query(&sql)
                    .bind(n as i64)
                    .fetch_all(&mut **tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get::<i64, _>("id"))
                    .collect::<Result<Vec<_>, _>>()?;
                ids.sort_unstable();
                Ok(ids)
            }
            Dialect::Sqlite => {
                let sql = format!("SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) AS id FROM {table}");
                let max: i64 = sqlx::query(&sql)
                    .fetch_one(&mut **tx)
                    .await?
                    .try_get("id")?;
                Ok((max + 1..=max + n as i64).collect())
            }
        }
    }

    /// Writes `tickets` as if each had been created by `actor_id` through
    /// [`Store::create_ticket_tx`], in the caller's transaction, and returns
    /// their ids in input order.
    pub async fn bulk_create_tickets_tx(
        &self,
        tx: &mut Tx,
        actor_id: i64,
        tickets: &[BulkTicket],
    ) -> Result<Vec<i64>> {
        if tickets.is_empty() {
            return Ok(Vec::new());
        }
        for t in tickets {
            if t.status == Status::Closed {
                return Err(StoreError::invalid(
                    "status",
                    "a ticket cannot be created closed",
                ));
            }
            if t.subject.trim().is_empty() || t.description.trim().is_empty() {
                return Err(StoreError::invalid(
                    "description",
                    "subject and description cannot be blank",
                ));
            }
        }
        let n = tickets.len();
        let ticket_ids = self.allocate_ids(tx, "tickets", n).await?;
        let audit_ids = self.allocate_ids(tx, "ticket_audits", n).await?;
        let comment_ids = self.allocate_ids(tx, "ticket_comments", n).await?;
        let pg = self.dialect == Dialect::Postgres;
        let mut counts: BTreeMap<(i64, i64), i64> = BTreeMap::new();

        for start in (0..n).step_by(ROWS_PER_STATEMENT) {
            let end = (start + ROWS_PER_STATEMENT).min(n);
            let mut tk = Insert::new(&format!(
                "INSERT INTO tickets (id, subject, description, requester_id, submitter_id, organization_id,
                    group_id, assignee_id, priority, status, ticket_type, problem_id, tags, custom_fields, via,
                    external_id, due_at, created_at, updated_at, solved_at{})",
                if pg { ", search_vector" } else { "" }
            ));
            let mut fts = Insert::new("INSERT INTO tickets_fts (rowid, subject, body)");
            let mut tags = Insert::new("INSERT INTO ticket_tags (ticket_id, tag)");
            let mut audits = Insert::new(
                "INSERT INTO ticket_audits (id, ticket_id, author_id, via, events, created_at)",
            );
            let mut comments = Insert::new(
                "INSERT INTO ticket_comments (id, ticket_id, audit_id, author_id, public, body, html_body, via, created_at)",
            );
            for i in start..end {
                let t = &tickets[i];
                let (id, audit_id, comment_id) = (ticket_ids[i], audit_ids[i], comment_ids[i]);
                // Creating with an assignee opens a new ticket, as the ordinary path does.
                let status = if t.status == Status::New && t.assignee_id.is_some() {
                    Status::Open
                } else {
                    t.status
                };
                let subject = t.subject.trim().to_string();
                let tag_list = normalize_tags(&t.tags);
                let solved_at = (status == Status::Solved).then_some(t.created_at);
                let mut row = vec![
                    tk.p(Val::Int(id)),
                    tk.p(Val::Text(subject.clone())),
                    tk.p(Val::Text(t.description.clone())),
                    tk.p(Val::Int(t.requester_id)),
                    tk.p(Val::Int(actor_id)),
                    tk.p(Val::OptInt(t.organization_id)),
                    tk.p(Val::OptInt(t.group_id)),
                    tk.p(Val::OptInt(t.assignee_id)),
                    tk.p(Val::Text(t.priority.as_str().into())),
                    tk.p(Val::Text(status.as_str().into())),
                    tk.p(Val::OptText(t.ticket_type.map(|v| v.as_str().into()))),
                    tk.p(Val::OptInt(None)),
                    tk.p(Val::Text(tag_list.join(" "))),
                    "'{}'".into(),
                    tk.p(Val::Text(t.via.as_str().into())),
                    tk.p(Val::OptText(None)),
                    tk.p(Val::OptInt(None)),
                ];
                let at = tk.p(Val::Int(t.created_at));
                row.push(at.clone());
                row.push(at);
                row.push(tk.p(Val::OptInt(solved_at)));
                if pg {
                    let text = tk.p(Val::Text(format!("{subject} {}", t.description)));
                    row.push(format!(
                        "to_tsvector('simple', translate({text}, '@.-_/:+', '       '))"
                    ));
                }
                tk.row(&row);
                if !pg {
                    let r = [
                        fts.p(Val::Int(id)),
                        fts.p(Val::Text(subject.clone())),
                        fts.p(Val::Text(t.description.clone())),
                    ];
                    fts.row(&r);
                }
                for tag in &tag_list {
                    let r = [tags.p(Val::Int(id)), tags.p(Val::Text(tag.clone()))];
                    tags.row(&r);
                }
                *counts
                    .entry((t.group_id.unwrap_or(0), id % COUNT_SHARDS))
                    .or_default() += 1;

                // The audit's events, in the order create_ticket_tx writes them.
                let html = text_to_html(&t.description);
                let mut events = vec![
                    json!({"id": comment_id, "type": "Comment", "author_id": t.comment_author_id,
                           "body": t.description, "html_body": html, "plain_body": t.description,
                           "public": true, "attachments": []}),
                    json!({"type": "Create", "field_name": "subject", "value": subject}),
                    json!({"type": "Create", "field_name": "status", "value": status.as_str()}),
                    json!({"type": "Create", "field_name": "priority", "value": t.priority.as_str()}),
                    json!({"type": "Create", "field_name": "requester_id", "value": t.requester_id.to_string()}),
                ];
                for (name, v) in [
                    ("organization_id", t.organization_id),
                    ("group_id", t.group_id),
                    ("assignee_id", t.assignee_id),
                ] {
                    if let Some(v) = v {
                        events.push(
                            json!({"type": "Create", "field_name": name, "value": v.to_string()}),
                        );
                    }
                }
                if let Some(ty) = t.ticket_type {
                    events.push(
                        json!({"type": "Create", "field_name": "type", "value": ty.as_str()}),
                    );
                }
                if !tag_list.is_empty() {
                    events.push(json!({"type": "Create", "field_name": "tags", "value": tag_list}));
                }
                let r = [
                    audits.p(Val::Int(audit_id)),
                    audits.p(Val::Int(id)),
                    audits.p(Val::Int(actor_id)),
                    audits.p(Val::Text(t.via.as_str().into())),
                    audits.p(Val::Text(serde_json::to_string(&events)?)),
                    audits.p(Val::Int(t.created_at)),
                ];
                audits.row(&r);
                let r = [
                    comments.p(Val::Int(comment_id)),
                    comments.p(Val::Int(id)),
                    comments.p(Val::Int(audit_id)),
                    comments.p(Val::Int(t.comment_author_id)),
                    "1".into(),
                    comments.p(Val::Text(t.description.clone())),
                    comments.p(Val::Text(html)),
                    comments.p(Val::Text(t.via.as_str().into())),
                    comments.p(Val::Int(t.created_at)),
                ];
                comments.row(&r);
            }
            // Parents before children, as the foreign keys require.
            tk.run(tx, "").await?;
            fts.run(tx, "").await?;
            tags.run(tx, "").await?;
            audits.run(tx, "").await?;
            comments.run(tx, "").await?;
        }

        // One upsert per counter row touched, in key order so that
        // concurrent bulk loads on PostgreSQL lock them in the same order.
        for ((group_key, shard), delta) in counts {
            sqlx::query(
                "INSERT INTO ticket_counts (group_key, shard, n) VALUES ($1, $2, $3)
                 ON CONFLICT (group_key, shard) DO UPDATE SET n = ticket_counts.n + excluded.n",
            )
            .bind(group_key)
            .bind(shard)
            .bind(delta)
            .execute(&mut **tx)
            .await?;
        }
        Ok(ticket_ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Actor, NewComment, PageRequest, RequesterRef, Sort, Ticket, TicketFilter, TicketInput,
        UserInput, groups::TECHNICAL_SUPPORT,
    };
    use steward_domain::{Email, Role, search};

    /// A fresh store: a PostgreSQL database when `STEWARD_TEST_DATABASE_URL`
    /// is set, else a SQLite file in a temporary directory.
    async fn fresh_store() -> (Store, Option<std::path::PathBuf>) {
        let unique = format!(
            "{}_{:x}",
            std::process::id(),
            rand::random::<u64>() & 0xffff_ffff
        );
        match std::env::var("STEWARD_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(url) => {
                let name = format!("steward_test_bulk_{unique}");
                let admin = Store::connect(&url).await.unwrap();
                admin
                    .execute_raw(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await;
                let (head, query) = match url.split_once('?') {
                    Some((h, q)) => (h.to_string(), format!("?{q}")),
                    None => (url.clone(), String::new()),
                };
                let root = &head[..head.rfind('/').unwrap()];
                let store = Store::connect(&format!("{root}/{name}{query}"))
                    .await
                    .unwrap();
                store.migrate().await.unwrap();
                (store, None)
            }
            None => {
                let dir = std::env::temp_dir().join(format!("steward-bulk-test-{unique}"));
                std::fs::create_dir_all(&dir).unwrap();
                let store = Store::connect(dir.join("s.db").to_str().unwrap())
                    .await
                    .unwrap();
                store.migrate().await.unwrap();
                (store, Some(dir))
            }
        }
    }

    #[tokio::test]
    async fn bulk_tickets_match_tickets_created_one_by_one() {
        let (store, dir) = fresh_store().await;
        let now = 1_790_000_000;
        let user = |email: &str, role| UserInput {
            name: Some(email.into()),
            email: Some(Email::parse(email).unwrap()),
            role: Some(role),
            ..Default::default()
        };
        let admin = store
            .create_user(user("admin@bulk.test", Role::Admin), now)
            .await
            .unwrap();
        let agent = store
            .create_user(user("agent@bulk.test", Role::Agent), now)
            .await
            .unwrap();
        let customer = store
            .create_user(user("customer@bulk.test", Role::EndUser), now)
            .await
            .unwrap();
        let actor = Actor {
            user: admin.clone(),
            org_shares_tickets: false,
        };
        let spec = BulkTicket {
            subject: "Webhook deliveries delayed".into(),
            description: "Deliveries to https://hooks.example/x lag by minutes.\n\nSince Monday."
                .into(),
            requester_id: customer.id,
            comment_author_id: customer.id,
            organization_id: None,
            group_id: Some(TECHNICAL_SUPPORT),
            assignee_id: Some(agent.id),
            priority: Priority::Urgent,
            status: Status::Solved,
            ticket_type: Some(TicketType::Incident),
            tags: vec!["Integration".into(), "vip".into()],
            via: Via::Email,
            created_at: now - 3600,
        };
        let (ordinary, ordinary_audit) = store
            .create_ticket(
                &actor,
                TicketInput {
                    subject: Some(spec.subject.clone()),
                    comment: Some(NewComment {
                        body: spec.description.clone(),
                        author_id: Some(customer.id),
                        ..Default::default()
                    }),
                    requester: Some(RequesterRef::Id(customer.id)),
                    group_id: Some(spec.group_id),
                    assignee_id: Some(spec.assignee_id),
                    priority: Some(spec.priority),
                    status: Some(spec.status),
                    ticket_type: Some(spec.ticket_type),
                    tags: Some(spec.tags.clone()),
                    via: Some(spec.via),
                    created_at: Some(spec.created_at),
                    ..Default::default()
                },
                spec.created_at,
            )
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        let ids = store
            .bulk_create_tickets_tx(&mut tx, admin.id, &[spec.clone(), spec.clone()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(ids, vec![ordinary.id + 1, ordinary.id + 2]);

        let bulk = store.ticket(&actor, ids[0]).await.unwrap();
        assert_eq!(
            Ticket { id: 0, ..bulk },
            Ticket {
                id: 0,
                ..ordinary.clone()
            }
        );
        let audits = store
            .audits(&actor, ids[0], PageRequest::first(10))
            .await
            .unwrap()
            .items;
        assert_eq!(audits.len(), 1);
        // Event ids derive from the audit and comment ids; the rest is equal.
        let strip = |events: &[serde_json::Value]| {
            events
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    e.as_object_mut().unwrap().remove("id");
                    e
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&audits[0].events), strip(&ordinary_audit.events));
        let comments = store
            .comments(&actor, ids[0], PageRequest::first(10), Sort::ID)
            .await
            .unwrap()
            .items;
        let ordinary_comments = store
            .comments(&actor, ordinary.id, PageRequest::first(10), Sort::ID)
            .await
            .unwrap()
            .items;
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0].audit_id, audits[0].id);
        assert_eq!(audits[0].events[0]["id"], json!(comments[0].id));
        assert_eq!(
            (
                &comments[0].body,
                &comments[0].html_body,
                comments[0].author_id,
                comments[0].public
            ),
            (
                &ordinary_comments[0].body,
                &ordinary_comments[0].html_body,
                ordinary_comments[0].author_id,
                ordinary_comments[0].public
            )
        );

        // Counters, full text and tags see all three.
        let page = store
            .list_tickets(
                &actor,
                &TicketFilter::default(),
                PageRequest::first(10),
                Sort::ID,
            )
            .await
            .unwrap();
        assert_eq!(page.count, Some(3));
        for q in [
            "type:ticket hooks",
            "type:ticket delayed monday",
            "tags:vip",
            "status:solved priority:urgent",
        ] {
            let q = search::parse(q).unwrap();
            let found = store.search(&actor, &q, (1, 10), now).await.unwrap();
            assert_eq!(found.count, Some(3), "{q:?}");
        }
        // The sequences (PostgreSQL) or rowids (SQLite) continue after them.
        let (next, _) = store
            .create_ticket(
                &actor,
                TicketInput {
                    comment: Some(NewComment {
                        body: "after the bulk load".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                now,
            )
            .await
            .unwrap();
        assert!(next.id > ids[1]);
        store.close().await;
        if let Some(dir) = dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
