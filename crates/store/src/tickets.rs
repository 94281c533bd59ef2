//! Tickets, their comments and their audit trail, following Zendesk.
//!
//! Every change to a ticket is written as one audit holding its events
//! (`Create`, `Change` with `previous_value`, `Comment`), in the same
//! transaction as the change, together with the full-text index, the tag
//! and follower side tables and the visible-ticket counters. Lifecycle rules
//! are Zendesk's: closed tickets are read-only; a ticket can be closed only
//! once solved; a requester's reply reopens a pending or solved ticket;
//! assigning a new ticket opens it; solving an unassigned ticket assigns it
//! to the agent who solved it. Deleting is a soft delete.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sqlx::{Row, any::AnyRow};
use steward_domain::{
    Email, ExclusionReason, Priority, Role, Status, TicketType, Via, escalation,
    ticket::{check_transition, normalize_tags},
};

use crate::{
    Store,
    access::{Actor, Scope},
    db::{Dialect, Tx, flag, opt_str},
    error::{Result, StoreError},
    groups::TicketField,
    page::{self, Page, PageRequest, Sort},
    sql::{Args, and_all},
    users::{User, UserInput, split_tags},
};

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub subject: String,
    pub description: String,
    pub requester_id: i64,
    pub submitter_id: i64,
    pub organization_id: Option<i64>,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub priority: Priority,
    pub status: Status,
    pub ticket_type: Option<TicketType>,
    pub problem_id: Option<i64>,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<i64, Value>,
    pub via: Via,
    pub external_id: Option<String>,
    pub due_at: Option<i64>,
    pub is_public: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub solved_at: Option<i64>,
    pub follower_ids: Vec<i64>,
    /// P0: a workaround was given (meets the workaround target, §4).
    pub workaround_provided: bool,
    /// §5: why the ticket never counts as an SLA miss, if it does not.
    pub sla_exclusion: Option<ExclusionReason>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub id: i64,
    pub ticket_id: i64,
    pub audit_id: i64,
    pub author_id: i64,
    pub public: bool,
    pub body: String,
    pub html_body: String,
    pub via: Via,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Audit {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: i64,
    pub via: Via,
    /// Zendesk audit events, each with an `id` and a `type`.
    pub events: Vec<Value>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewComment {
    pub body: String,
    pub html_body: Option<String>,
    pub public: Option<bool>,
    pub author_id: Option<i64>,
    /// A public reply written from a help-desk template: the store renders
    /// it over the ticket and it becomes the body (see `replies`).
    pub template: Option<crate::replies::ReplyTemplate>,
}

/// Who requests a ticket: an existing user, or a person identified by
/// e-mail who is found or created as an end user (Zendesk's
/// `requester: {name, email}`).
#[derive(Debug, Clone)]
pub enum RequesterRef {
    Id(i64),
    Person { name: Option<String>, email: Email },
}

/// Ticket fields to create or change. For updates, `None` leaves a field as
/// it is; for nullable fields `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TicketInput {
    pub subject: Option<String>,
    pub comment: Option<NewComment>,
    pub requester: Option<RequesterRef>,
    pub submitter_id: Option<i64>,
    pub organization_id: Option<Option<i64>>,
    pub group_id: Option<Option<i64>>,
    pub assignee_id: Option<Option<i64>>,
    pub priority: Option<Priority>,
    pub status: Option<Status>,
    pub ticket_type: Option<Option<TicketType>>,
    pub problem_id: Option<Option<i64>>,
    pub tags: Option<Vec<String>>,
    pub additional_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub custom_fields: Vec<(i64, Value)>,
    pub external_id: Option<Option<String>>,
    pub due_at: Option<Option<i64>>,
    pub follower_ids: Option<Vec<i64>>,
    pub followers_add: Vec<i64>,
    pub followers_remove: Vec<i64>,
    pub via: Option<Via>,
    /// For imports: the original creation instant.
    pub created_at: Option<i64>,
    /// Zendesk `safe_update`: refuse if the ticket changed since this stamp.
    pub updated_stamp: Option<i64>,
    pub workaround_provided: Option<bool>,
    pub sla_exclusion: Option<Option<ExclusionReason>>,
}

impl TicketInput {
    /// Whether anything other than a comment is being set: end users may
    /// only talk on existing tickets.
    fn sets_agent_fields(&self) -> bool {
        self.requester.is_some()
            || self.submitter_id.is_some()
            || self.organization_id.is_some()
            || self.group_id.is_some()
            || self.assignee_id.is_some()
            || self.status.is_some()
            || self.problem_id.is_some()
            || self.tags.is_some()
            || !self.additional_tags.is_empty()
            || !self.remove_tags.is_empty()
            || self.external_id.is_some()
            || self.due_at.is_some()
            || self.follower_ids.is_some()
            || !self.followers_add.is_empty()
            || !self.followers_remove.is_empty()
            || self.created_at.is_some()
            || self.workaround_provided.is_some()
            || self.sla_exclusion.is_some()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub ids: Option<Vec<i64>>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub external_id: Option<String>,
    pub problem_id: Option<i64>,
}

impl TicketFilter {
    fn is_empty(&self) -> bool {
        self.ids.is_none()
            && self.requester_id.is_none()
            && self.organization_id.is_none()
            && self.assignee_id.is_none()
            && self.group_id.is_none()
            && self.external_id.is_none()
            && self.problem_id.is_none()
    }
}

pub(crate) const TICKET_COLUMNS: &str = "t.id, t.subject, t.description, t.requester_id, t.submitter_id, \
    t.organization_id, t.group_id, t.assignee_id, t.priority, t.status, t.ticket_type, t.problem_id, \
    t.tags, t.custom_fields, t.via, t.external_id, t.due_at, t.is_public, t.created_at, t.updated_at, t.solved_at, t.workaround_provided, t.sla_exclusion";

pub(crate) fn ticket_from_row(r: &AnyRow) -> Result<Ticket> {
    let fields: BTreeMap<i64, Value> =
        serde_json::from_str(&r.try_get::<String, _>("custom_fields")?)?;
    Ok(Ticket {
        id: r.try_get("id")?,
        subject: r.try_get("subject")?,
        description: r.try_get("description")?,
        requester_id: r.try_get("requester_id")?,
        submitter_id: r.try_get("submitter_id")?,
        organization_id: r.try_get("organization_id")?,
        group_id: r.try_get("group_id")?,
        assignee_id: r.try_get("assignee_id")?,
        priority: Priority::parse(&r.try_get::<String, _>("priority")?)?,
        status: Status::parse(&r.try_get::<String, _>("status")?)?,
        ticket_type: opt_str(r, "ticket_type")?
            .map(|s| TicketType::parse(&s))
            .transpose()?,
        problem_id: r.try_get("problem_id")?,
        tags: split_tags(&r.try_get::<String, _>("tags")?),
        custom_fields: fields,
        via: Via::parse(&r.try_get::<String, _>("via")?)?,
        external_id: opt_str(r, "external_id")?,
        due_at: r.try_get("due_at")?,
        is_public: flag(r, "is_public")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        solved_at: r.try_get("solved_at")?,
        follower_ids: Vec::new(),
        workaround_provided: flag(r, "workaround_provided")?,
        sla_exclusion: opt_str(r, "sla_exclusion")?
            .map(|s| ExclusionReason::parse(&s))
            .transpose()?,
    })
}

fn comment_from_row(r: &AnyRow) -> Result<Comment> {
    Ok(Comment {
        id: r.try_get("id")?,
        ticket_id: r.try_get("ticket_id")?,
        audit_id: r.try_get("audit_id")?,
        author_id: r.try_get("author_id")?,
        public: flag(r, "public")?,
        body: r.try_get("body")?,
        html_body: r.try_get("html_body")?,
        via: Via::parse(&r.try_get::<String, _>("via")?)?,
        created_at: r.try_get("created_at")?,
    })
}

/// Event ids are derived from the audit id and position: stable, unique
/// within the audit, and free to store. (A comment event carries its
/// comment's id instead.)
fn number_events(audit_id: i64, events: &mut [Value]) {
    for (i, e) in events.iter_mut().enumerate() {
        if let Value::Object(map) = e {
            map.entry("id").or_insert(json!(audit_id * 1000 + i as i64));
        }
    }
}

fn audit_from_row(r: &AnyRow) -> Result<Audit> {
    let id: i64 = r.try_get("id")?;
    let mut events: Vec<Value> = serde_json::from_str(&r.try_get::<String, _>("events")?)?;
    number_events(id, &mut events);
    Ok(Audit {
        id,
        ticket_id: r.try_get("ticket_id")?,
        author_id: r.try_get("author_id")?,
        via: Via::parse(&r.try_get::<String, _>("via")?)?,
        events,
        created_at: r.try_get("created_at")?,
    })
}

/// Escapes plain text into the HTML Zendesk shows for a comment.
pub fn text_to_html(body: &str) -> String {
    let escaped = body
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().replace('\n', "<br>")))
        .collect();
    format!("<div class=\"zd-comment\">{}</div>", paragraphs.join(""))
}

/// Plain text from client-supplied HTML: tags dropped, common entities
/// decoded. The HTML itself is stored as given and must be sanitized by
/// whatever renders it.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Counter shard of a ticket (see `ticket_counts` in the schema).
pub(crate) const COUNT_SHARDS: i64 = 16;

/// Who changed which ticket, how and when: what every audit starts with.
struct AuditHead {
    ticket_id: i64,
    author_id: i64,
    via: Via,
    at: i64,
}

struct Change {
    field: &'static str,
    value: Value,
    previous: Value,
}

impl Store {
    // ----- reading -------------------------------------------------------

    /// A ticket the actor may read; otherwise `NotFound`, never `Forbidden`,
    /// so that ids of other organizations' tickets are not even confirmed.
    pub async fn ticket(&self, actor: &Actor, id: i64) -> Result<Ticket> {
        let mut args = Args::default();
        let vis = actor.ticket_condition(&mut args);
        let p = args.int(id);
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = {p} AND t.deleted = 0 AND {vis}"
        );
        let mut conn = self.reader().await?;
        let row = args
            .bind(sqlx::query(&sql))
            .fetch_optional(&mut *conn)
            .await?;
        let mut t = row
            .map(|r| ticket_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("ticket"))?;
        t.follower_ids = self
            .followers_of(&mut conn, &[t.id])
            .await?
            .remove(&t.id)
            .unwrap_or_default();
        Ok(t)
    }

    async fn followers_of(
        &self,
        conn: &mut sqlx::AnyConnection,
        ids: &[i64],
    ) -> Result<BTreeMap<i64, Vec<i64>>> {
        let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut args = Args::default();
        let sql = format!(
            "SELECT ticket_id, user_id FROM ticket_followers WHERE ticket_id IN ({}) ORDER BY ticket_id, user_id",
            args.ints(ids)
        );
        for r in args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await? {
            out.entry(r.try_get("ticket_id")?)
                .or_default()
                .push(r.try_get("user_id")?);
        }
        Ok(out)
    }

    pub(crate) async fn hydrate(
        &self,
        conn: &mut sqlx::AnyConnection,
        rows: &[AnyRow],
    ) -> Result<Vec<Ticket>> {
        let mut tickets = rows
            .iter()
            .map(ticket_from_row)
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
        let mut followers = self.followers_of(conn, &ids).await?;
        for t in &mut tickets {
            t.follower_ids = followers.remove(&t.id).unwrap_or_default();
        }
        Ok(tickets)
    }

    pub async fn list_tickets(
        &self,
        actor: &Actor,
        filter: &TicketFilter,
        page: PageRequest,
        sort: Sort,
    ) -> Result<Page<Ticket>> {
        let mut args = Args::default();
        let mut conds = vec![
            "t.deleted = 0".to_string(),
            actor.ticket_condition(&mut args),
        ];
        if let Some(ids) = &filter.ids {
            if ids.is_empty() {
                return Ok(Page {
                    items: vec![],
                    count: Some(0),
                    has_more: false,
                    has_prev: false,
                });
            }
            conds.push(format!("t.id IN ({})", args.ints(ids)));
        }
        for (col, v) in [
            ("requester_id", filter.requester_id),
            ("organization_id", filter.organization_id),
            ("assignee_id", filter.assignee_id),
            ("group_id", filter.group_id),
            ("problem_id", filter.problem_id),
        ] {
            if let Some(v) = v {
                conds.push(format!("t.{col} = {}", args.int(v)));
            }
        }
        if let Some(x) = &filter.external_id {
            conds.push(format!("t.external_id = {}", args.text(x.clone())));
        }
        let cond = and_all(&conds);
        let mut conn = self.reader().await?;
        let listing = page::Listing {
            columns: TICKET_COLUMNS,
            from: "tickets t",
            cond: &cond,
            args: &args,
            alias: "t.",
        };
        let out = page::fetch(&mut conn, &listing, sort, page).await?;
        let count = match page {
            PageRequest::Offset { .. } if filter.is_empty() && actor.role() != Role::EndUser => {
                Some(
                    self.visible_ticket_count(&mut conn, actor.read_scope())
                        .await?,
                )
            }
            PageRequest::Offset { .. } => {
                Some(page::count(&mut conn, "tickets t", &cond, &args).await?)
            }
            PageRequest::Cursor { .. } => None,
        };
        let items = self.hydrate(&mut conn, &out.items).await?;
        Ok(Page {
            items,
            count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    /// The number of live tickets in a scope, from the counters.
    async fn visible_ticket_count(
        &self,
        conn: &mut sqlx::AnyConnection,
        scope: Scope,
    ) -> Result<i64> {
        let mut args = Args::default();
        let cond = match scope {
            Scope::All => "1 = 1".to_string(),
            Scope::Nothing => return Ok(0),
            Scope::Roots { roots, ungrouped } => {
                let list = args.ints(roots);
                let null = if ungrouped { " OR group_key = 0" } else { "" };
                format!(
                    "(group_key IN (SELECT id FROM groups WHERE id IN ({list}) OR parent_id IN ({list})){null})"
                )
            }
        };
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM ticket_counts WHERE {cond}"
        );
        let row = args.bind(sqlx::query(&sql)).fetch_one(&mut *conn).await?;
        Ok(row.try_get("n")?)
    }

    pub async fn comments(
        &self,
        actor: &Actor,
        ticket_id: i64,
        page: PageRequest,
        sort: Sort,
    ) -> Result<Page<Comment>> {
        self.ticket(actor, ticket_id).await?;
        let mut args = Args::default();
        let mut cond = format!("c.ticket_id = {}", args.int(ticket_id));
        if !actor.role().is_staff() {
            cond.push_str(" AND c.public = 1");
        }
        let cols = "c.id, c.ticket_id, c.audit_id, c.author_id, c.public, c.body, c.html_body, c.via, c.created_at";
        let mut conn = self.reader().await?;
        let listing = page::Listing {
            columns: cols,
            from: "ticket_comments c",
            cond: &cond,
            args: &args,
            alias: "c.",
        };
        let out = page::fetch_counted(&mut conn, &listing, sort, page).await?;
        let items = out
            .items
            .iter()
            .map(comment_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: out.count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    /// The audit trail of a ticket (staff only: it shows internal notes).
    pub async fn audits(
        &self,
        actor: &Actor,
        ticket_id: i64,
        page: PageRequest,
    ) -> Result<Page<Audit>> {
        self.ticket(actor, ticket_id).await?;
        if !actor.role().is_staff() {
            return Err(StoreError::Forbidden("end users cannot read audits".into()));
        }
        let mut args = Args::default();
        let cond = format!("a.ticket_id = {}", args.int(ticket_id));
        let cols = "a.id, a.ticket_id, a.author_id, a.via, a.events, a.created_at";
        let mut conn = self.reader().await?;
        let listing = page::Listing {
            columns: cols,
            from: "ticket_audits a",
            cond: &cond,
            args: &args,
            alias: "a.",
        };
        let out = page::fetch_counted(&mut conn, &listing, Sort::ID, page).await?;
        let items = out
            .items
            .iter()
            .map(audit_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            count: out.count,
            has_more: out.has_more,
            has_prev: out.has_prev,
        })
    }

    // ----- writing -------------------------------------------------------

    pub async fn create_ticket(
        &self,
        actor: &Actor,
        input: TicketInput,
        now: i64,
    ) -> Result<(Ticket, Audit)> {
        let mut tx = self.begin().await?;
        let out = self.create_ticket_tx(&mut tx, actor, input, now).await?;
        self.commit(tx).await?;
        Ok(out)
    }

    pub async fn create_ticket_tx(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        mut input: TicketInput,
        now: i64,
    ) -> Result<(Ticket, Audit)> {
        let role = actor.role();
        if !role.can_write() {
            return Err(StoreError::Forbidden(
                "viewers cannot create tickets".into(),
            ));
        }
        let fields = self.ticket_fields_in(&mut *tx).await?;
        if role == Role::EndUser {
            if input.sets_agent_fields() || input.ticket_type.is_some() {
                return Err(StoreError::Forbidden(
                    "end users may set only subject, comment, priority and custom fields".into(),
                ));
            }
            input.requester = Some(RequesterRef::Id(actor.id()));
            input.organization_id = Some(actor.user.organization_id);
            if let Some(c) = &mut input.comment {
                c.public = Some(true);
                c.author_id = Some(actor.id());
            }
        }
        let comment = input
            .comment
            .take()
            .filter(|c| {
                !c.body.trim().is_empty()
                    || c.html_body.as_deref().is_some_and(|h| !h.trim().is_empty())
            })
            .ok_or_else(|| {
                StoreError::invalid("description", "cannot be blank (send ticket.comment.body)")
            })?;
        let comment_text = comment_plain(&comment);
        let subject = match input.subject.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s.to_string(),
            _ => comment_text
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(80)
                .collect(),
        };
        let requester = match input.requester.take() {
            Some(r) => self.resolve_requester(tx, r, now).await?,
            None => actor.user.clone(),
        };
        let requester_id = requester.id;
        let submitter_id = match input.submitter_id {
            Some(s) => {
                self.user_tx(tx, s)
                    .await
                    .map_err(|_| StoreError::invalid("submitter_id", "no such user"))?
                    .id
            }
            None => actor.id(),
        };
        let organization_id = match input.organization_id {
            Some(Some(o)) => {
                self.ensure_org_exists(tx, o).await?;
                Some(o)
            }
            Some(None) => None,
            None => requester.organization_id,
        };
        // Staff who can write only some groups file into their own by default.
        let default_group = match actor.write_scope() {
            Scope::Roots {
                roots: [first, ..],
                ungrouped: false,
            } => Some(*first),
            _ => None,
        };
        let group_id = input.group_id.unwrap_or(default_group);
        let group_root = self.group_root(tx, group_id).await?;
        if role != Role::EndUser && !actor.write_scope().allows(group_root) {
            return Err(StoreError::Forbidden(
                "you cannot create tickets in that group".into(),
            ));
        }
        let assignee_id = input.assignee_id.flatten();
        if let Some(a) = assignee_id {
            self.ensure_assignable(tx, a).await?;
        }
        let mut status = input.status.unwrap_or(if assignee_id.is_some() {
            Status::Open
        } else {
            Status::New
        });
        if status == Status::Closed {
            return Err(StoreError::invalid(
                "status",
                "a ticket cannot be created closed",
            ));
        }
        if status == Status::New && assignee_id.is_some() {
            status = Status::Open;
        }
        let ticket_type = input.ticket_type.flatten();
        let problem_id = input.problem_id.flatten();
        if let Some(p) = problem_id {
            self.ensure_problem(tx, p, None).await?;
        }
        let priority = input.priority.unwrap_or(Priority::Normal);
        let mut tags = normalize_tags(
            input
                .tags
                .unwrap_or_default()
                .iter()
                .chain(&input.additional_tags),
        );
        tags.retain(|t| !input.remove_tags.contains(t));
        let custom = apply_custom_fields(&fields, actor, BTreeMap::new(), &input.custom_fields)?;
        let mut followers: BTreeSet<i64> =
            input.follower_ids.unwrap_or_default().into_iter().collect();
        followers.extend(&input.followers_add);
        for f in &followers {
            self.ensure_staff(tx, *f, "follower_ids").await?;
        }
        // §6: accounts above $50,000 ACV get an executive stakeholder follower.
        if let Some(org) = organization_id
            && escalation::needs_executive_follower(self.org_tx(tx, org).await?.account.acv)
            && let Some(exec) = self.executive_stakeholder_tx(tx).await?
        {
            followers.insert(exec);
        }
        let via = input.via.unwrap_or(if role == Role::EndUser {
            Via::Portal
        } else {
            Via::Api
        });
        let created_at = input.created_at.unwrap_or(now);
        let solved_at = (status == Status::Solved).then_some(created_at);
        let mut ticket = Ticket {
            id: 0,
            subject,
            description: comment_text,
            requester_id,
            submitter_id,
            organization_id,
            group_id,
            assignee_id,
            priority,
            status,
            ticket_type,
            problem_id,
            tags,
            custom_fields: custom,
            via,
            external_id: input.external_id.flatten(),
            due_at: input.due_at.flatten(),
            is_public: true,
            created_at,
            updated_at: created_at,
            solved_at,
            follower_ids: followers.iter().copied().collect(),
            workaround_provided: input.workaround_provided.unwrap_or(false),
            sla_exclusion: input.sla_exclusion.flatten(),
        };
        // PostgreSQL's full-text entry is a column of the row itself.
        let (search_col, search_val) = match self.dialect {
            Dialect::Postgres => (
                ", search_vector",
                ", to_tsvector('simple', translate($21, '@.-_/:+', '       '))",
            ),
            Dialect::Sqlite => ("", ""),
        };
        let sql = format!(
            "INSERT INTO tickets (subject, description, requester_id, submitter_id, organization_id, group_id,
                assignee_id, priority, status, ticket_type, problem_id, tags, custom_fields, via, external_id,
                due_at, created_at, updated_at, solved_at, workaround_provided, sla_exclusion{search_col})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19, $20{search_val})
             RETURNING id"
        );
        let t = &ticket;
        let mut q = sqlx::query(&sql)
            .bind(&t.subject)
            .bind(&t.description)
            .bind(t.requester_id)
            .bind(t.submitter_id)
            .bind(t.organization_id)
            .bind(t.group_id)
            .bind(t.assignee_id)
            .bind(t.priority.as_str())
            .bind(t.status.as_str())
            .bind(t.ticket_type.map(|v| v.as_str()))
            .bind(t.problem_id)
            .bind(t.tags.join(" "))
            .bind(serde_json::to_string(&t.custom_fields)?)
            .bind(t.via.as_str())
            .bind(&t.external_id)
            .bind(t.due_at)
            .bind(t.created_at)
            .bind(t.solved_at)
            .bind(i64::from(t.workaround_provided))
            .bind(t.sla_exclusion.map(|r| r.as_str()));
        if self.dialect == Dialect::Postgres {
            q = q.bind(format!("{} {}", t.subject, t.description));
        }
        let id: i64 = q.fetch_one(&mut **tx).await?.try_get("id")?;
        ticket.id = id;
        let Ticket {
            subject,
            description: comment_text,
            tags,
            ..
        } = &ticket;

        if self.dialect == Dialect::Sqlite {
            sqlx::query("INSERT INTO tickets_fts (rowid, subject, body) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(subject)
                .bind(comment_text)
                .execute(&mut **tx)
                .await?;
        }
        self.set_tags(tx, id, &[], tags).await?;
        for f in &followers {
            sqlx::query("INSERT INTO ticket_followers (ticket_id, user_id) VALUES ($1, $2)")
                .bind(id)
                .bind(f)
                .execute(&mut **tx)
                .await?;
        }
        self.bump_count(tx, id, group_id, 1).await?;

        let mut events = vec![
            json!({"type": "Create", "field_name": "subject", "value": subject}),
            json!({"type": "Create", "field_name": "status", "value": status.as_str()}),
            json!({"type": "Create", "field_name": "priority", "value": priority.as_str()}),
            json!({"type": "Create", "field_name": "requester_id", "value": requester_id.to_string()}),
        ];
        for (name, v) in [
            ("organization_id", organization_id),
            ("group_id", group_id),
            ("assignee_id", assignee_id),
            ("problem_id", problem_id),
        ] {
            if let Some(v) = v {
                events.push(json!({"type": "Create", "field_name": name, "value": v.to_string()}));
            }
        }
        if let Some(t) = ticket_type {
            events.push(json!({"type": "Create", "field_name": "type", "value": t.as_str()}));
        }
        if !tags.is_empty() {
            events.push(json!({"type": "Create", "field_name": "tags", "value": tags}));
        }
        if let Some(r) = ticket.sla_exclusion {
            events.push(
                json!({"type": "Create", "field_name": "sla_exclusion", "value": r.as_str()}),
            );
        }
        let author = comment.author_id.unwrap_or(actor.id());
        let comment = NewComment {
            author_id: Some(author),
            public: Some(comment.public.unwrap_or(true)),
            ..comment
        };
        let audit = self
            .write_audit(
                tx,
                AuditHead {
                    ticket_id: id,
                    author_id: actor.id(),
                    via,
                    at: created_at,
                },
                events,
                Some(comment),
            )
            .await?;
        self.apply_sla_tx(tx, &ticket, None, false, created_at)
            .await?;
        self.escalation_on_change_tx(tx, None, &ticket, created_at)
            .await?;
        self.run_triggers_tx(tx, None, &mut ticket, via, now)
            .await?;
        // The account's ticket count is an input of its health (§9).
        if let Some(org) = ticket.organization_id {
            self.mark_health_dirty(tx, org, now).await?;
        }
        Ok((ticket, audit))
    }

    pub async fn update_ticket(
        &self,
        actor: &Actor,
        id: i64,
        input: TicketInput,
        now: i64,
    ) -> Result<(Ticket, Option<Audit>)> {
        let mut tx = self.begin().await?;
        let out = self
            .update_ticket_tx(&mut tx, actor, id, input, now)
            .await?;
        self.commit(tx).await?;
        Ok(out)
    }

    pub async fn update_ticket_tx(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        id: i64,
        mut input: TicketInput,
        now: i64,
    ) -> Result<(Ticket, Option<Audit>)> {
        let role = actor.role();
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1 AND t.deleted = 0{}",
            self.for_update()
        );
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        let old = row
            .map(|r| ticket_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("ticket"))?;
        // Invisible tickets are not found; visible but read-only ones are forbidden.
        if role == Role::EndUser {
            if !actor.end_user_sees(old.requester_id, old.organization_id) {
                return Err(StoreError::NotFound("ticket"));
            }
            if input.sets_agent_fields()
                || input.subject.is_some()
                || input.ticket_type.is_some()
                || input.priority.is_some()
                || !input.custom_fields.is_empty()
            {
                return Err(StoreError::Forbidden(
                    "end users may only add comments to their tickets".into(),
                ));
            }
            if let Some(c) = &mut input.comment {
                c.public = Some(true);
                c.author_id = Some(actor.id());
            }
        } else {
            let root = self.group_root(tx, old.group_id).await?;
            if !actor.read_scope().allows(root) {
                return Err(StoreError::NotFound("ticket"));
            }
            if !actor.write_scope().allows(root) {
                return Err(StoreError::Forbidden(
                    "you can read this ticket but not change it".into(),
                ));
            }
        }
        if old.status == Status::Closed {
            return Err(StoreError::invalid(
                "status",
                "closed prevents ticket update",
            ));
        }
        if let Some(stamp) = input.updated_stamp
            && stamp != old.updated_at
        {
            return Err(StoreError::Conflict(
                "the ticket was updated by someone else since you loaded it (safe_update)".into(),
            ));
        }
        let fields = self.ticket_fields_in(&mut *tx).await?;
        let mut t = old.clone();
        let mut changes: Vec<Change> = Vec::new();
        macro_rules! change {
            ($field:literal, $old:expr, $new:expr) => {
                changes.push(Change {
                    field: $field,
                    value: json!($new),
                    previous: json!($old),
                })
            };
        }

        if let Some(s) = input.subject.take() {
            let s = s.trim().to_string();
            if s.is_empty() {
                return Err(StoreError::invalid("subject", "cannot be blank"));
            }
            if s != t.subject {
                change!("subject", t.subject, s);
                t.subject = s;
            }
        }
        if let Some(r) = input.requester.take() {
            let r = self.resolve_requester(tx, r, now).await?.id;
            if r != t.requester_id {
                change!("requester_id", t.requester_id.to_string(), r.to_string());
                t.requester_id = r;
            }
        }
        if let Some(o) = input.organization_id {
            if let Some(o) = o {
                self.ensure_org_exists(tx, o).await?;
            }
            if o != t.organization_id {
                change!(
                    "organization_id",
                    t.organization_id.map(|v| v.to_string()),
                    o.map(|v| v.to_string())
                );
                t.organization_id = o;
            }
        }
        if let Some(g) = input.group_id {
            let root = self.group_root(tx, g).await?;
            if !actor.write_scope().allows(root) {
                return Err(StoreError::Forbidden(
                    "you cannot move tickets into that group".into(),
                ));
            }
            if g != t.group_id {
                change!(
                    "group_id",
                    t.group_id.map(|v| v.to_string()),
                    g.map(|v| v.to_string())
                );
                t.group_id = g;
            }
        }
        if let Some(a) = input.assignee_id {
            if let Some(a) = a {
                self.ensure_assignable(tx, a).await?;
            }
            if a != t.assignee_id {
                change!(
                    "assignee_id",
                    t.assignee_id.map(|v| v.to_string()),
                    a.map(|v| v.to_string())
                );
                t.assignee_id = a;
            }
        }
        if let Some(p) = input.priority
            && p != t.priority
        {
            change!("priority", t.priority.as_str(), p.as_str());
            t.priority = p;
        }
        if let Some(ty) = input.ticket_type
            && ty != t.ticket_type
        {
            change!(
                "type",
                t.ticket_type.map(|v| v.as_str()),
                ty.map(|v| v.as_str())
            );
            t.ticket_type = ty;
        }
        if let Some(p) = input.problem_id {
            if let Some(p) = p {
                self.ensure_problem(tx, p, Some(id)).await?;
            }
            if p != t.problem_id {
                change!(
                    "problem_id",
                    t.problem_id.map(|v| v.to_string()),
                    p.map(|v| v.to_string())
                );
                t.problem_id = p;
            }
        }
        if let Some(x) = input.external_id.take()
            && x != t.external_id
        {
            change!("external_id", t.external_id, x);
            t.external_id = x;
        }
        if let Some(d) = input.due_at
            && d != t.due_at
        {
            change!("due_at", t.due_at, d);
            t.due_at = d;
        }
        if let Some(w) = input.workaround_provided
            && w != t.workaround_provided
        {
            change!("workaround_provided", t.workaround_provided, w);
            t.workaround_provided = w;
        }
        if let Some(x) = input.sla_exclusion
            && x != t.sla_exclusion
        {
            change!(
                "sla_exclusion",
                t.sla_exclusion.map(|r| r.as_str()),
                x.map(|r| r.as_str())
            );
            t.sla_exclusion = x;
        }
        let mut tags = match input.tags.take() {
            Some(replace) => normalize_tags(replace),
            None => t.tags.clone(),
        };
        tags = normalize_tags(tags.iter().chain(&input.additional_tags));
        let remove = normalize_tags(&input.remove_tags);
        tags.retain(|x| !remove.contains(x));
        if tags != t.tags {
            change!("tags", t.tags, tags);
        }
        let old_tags = std::mem::replace(&mut t.tags, tags);
        if !input.custom_fields.is_empty() {
            let merged = apply_custom_fields(
                &fields,
                actor,
                t.custom_fields.clone(),
                &input.custom_fields,
            )?;
            for (fid, v) in &merged {
                let before = t.custom_fields.get(fid).cloned().unwrap_or(Value::Null);
                if &before != v {
                    changes.push(Change {
                        field: "custom_field",
                        value: json!({"id": fid, "value": v}),
                        previous: before,
                    });
                }
            }
            t.custom_fields = merged;
        }

        // A reply from a template gets its body here, over the ticket as
        // this update leaves it; contractors reply only this way (§8).
        if let Some(c) = &mut input.comment {
            match c.template.take() {
                Some(reply) => {
                    if !c.body.trim().is_empty() || c.html_body.is_some() {
                        return Err(StoreError::invalid(
                            "comment.body",
                            "a reply from a template takes its text from the template; send one or the other",
                        ));
                    }
                    if c.public == Some(false) {
                        return Err(StoreError::invalid(
                            "comment.public",
                            "templates write public replies",
                        ));
                    }
                    let status = input.status.unwrap_or(t.status);
                    let r = self
                        .render_reply_in(tx, &actor.user, &t, status, &reply, now)
                        .await?;
                    c.body = r.text;
                    c.html_body = Some(r.html);
                }
                None if role == Role::Contractor && c.public != Some(false) => {
                    return Err(StoreError::Forbidden(
                        "contractors reply to customers only from the help-desk templates: apply one, or write an internal note"
                            .into(),
                    ));
                }
                None => {}
            }
        }

        // Comment and the status rules that depend on who is talking.
        let comment = input.comment.take().filter(|c| {
            !c.body.trim().is_empty()
                || c.html_body.as_deref().is_some_and(|h| !h.trim().is_empty())
        });
        let comment = match comment {
            Some(c) => {
                let author = c.author_id.unwrap_or(actor.id());
                let author_user = self
                    .user_tx(tx, author)
                    .await
                    .map_err(|_| StoreError::invalid("comment.author_id", "no such user"))?;
                // End users cannot write internal notes.
                let public = if author_user.role.is_staff() {
                    c.public.unwrap_or(true)
                } else {
                    true
                };
                Some((
                    NewComment {
                        author_id: Some(author),
                        public: Some(public),
                        ..c
                    },
                    author_user,
                ))
            }
            None => None,
        };
        let mut status = input.status.unwrap_or(t.status);
        if input.status.is_none() {
            if let Some((c, author)) = &comment {
                let by_requester = c.author_id == Some(t.requester_id) || !author.role.is_staff();
                if by_requester && matches!(t.status, Status::Pending | Status::Solved) {
                    status = Status::Open;
                }
            }
            if t.status == Status::New && t.assignee_id.is_some() {
                status = Status::Open;
            }
        }
        check_transition(t.status, status)
            .map_err(|e| StoreError::invalid("status", e.to_string()))?;
        if status == Status::Solved && t.assignee_id.is_none() {
            if role.is_staff() {
                change!("assignee_id", Value::Null, actor.id().to_string());
                t.assignee_id = Some(actor.id());
            } else {
                return Err(StoreError::invalid(
                    "assignee_id",
                    "is required when solving a ticket",
                ));
            }
        }
        if status != t.status {
            change!("status", t.status.as_str(), status.as_str());
            t.solved_at = match status {
                Status::Solved => Some(now),
                Status::Closed => t.solved_at,
                _ => None,
            };
            t.status = status;
        }

        // Followers.
        let before_followers = self.follower_set(tx, id).await?;
        let mut followers: BTreeSet<i64> = match input.follower_ids.take() {
            Some(ids) => ids.into_iter().collect(),
            None => before_followers.clone(),
        };
        followers.extend(&input.followers_add);
        for r in &input.followers_remove {
            followers.remove(r);
        }
        for f in followers.difference(&before_followers) {
            self.ensure_staff(tx, *f, "follower_ids").await?;
        }
        if followers != before_followers {
            change!("follower_ids", before_followers, followers);
        }

        if changes.is_empty() && comment.is_none() {
            let mut t = self.ticket_tx(tx, id).await?;
            t.follower_ids = followers.into_iter().collect();
            return Ok((t, None));
        }

        t.updated_at = now;
        sqlx::query(
            "UPDATE tickets SET subject = $1, requester_id = $2, organization_id = $3, group_id = $4,
                assignee_id = $5, priority = $6, status = $7, ticket_type = $8, problem_id = $9, tags = $10,
                custom_fields = $11, external_id = $12, due_at = $13, updated_at = $14, solved_at = $15,
                workaround_provided = $16, sla_exclusion = $17
             WHERE id = $18",
        )
        .bind(&t.subject)
        .bind(t.requester_id)
        .bind(t.organization_id)
        .bind(t.group_id)
        .bind(t.assignee_id)
        .bind(t.priority.as_str())
        .bind(t.status.as_str())
        .bind(t.ticket_type.map(|v| v.as_str()))
        .bind(t.problem_id)
        .bind(t.tags.join(" "))
        .bind(serde_json::to_string(&t.custom_fields)?)
        .bind(&t.external_id)
        .bind(t.due_at)
        .bind(t.updated_at)
        .bind(t.solved_at)
        .bind(i64::from(t.workaround_provided))
        .bind(t.sla_exclusion.map(|r| r.as_str()))
        .bind(id)
        .execute(&mut **tx)
        .await?;
        self.set_tags(tx, id, &old_tags, &t.tags).await?;
        if followers != before_followers {
            for gone in before_followers.difference(&followers) {
                sqlx::query("DELETE FROM ticket_followers WHERE ticket_id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(gone)
                    .execute(&mut **tx)
                    .await?;
            }
            for new in followers.difference(&before_followers) {
                sqlx::query("INSERT INTO ticket_followers (ticket_id, user_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(new)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        if t.group_id != old.group_id {
            self.bump_count(tx, id, old.group_id, -1).await?;
            self.bump_count(tx, id, t.group_id, 1).await?;
        }
        if t.subject != old.subject {
            match self.dialect {
                Dialect::Sqlite => {
                    sqlx::query("UPDATE tickets_fts SET subject = $1 WHERE rowid = $2")
                        .bind(&t.subject)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
                Dialect::Postgres => {
                    sqlx::query(
                        "UPDATE tickets SET search_vector = search_vector || to_tsvector('simple', translate($1, '@.-_/:+', '       ')) WHERE id = $2",
                    )
                    .bind(&t.subject)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                }
            }
        }
        let events = changes
            .into_iter()
            .map(|c| json!({"type": "Change", "field_name": c.field, "value": c.value, "previous_value": c.previous}))
            .collect();
        let via = input.via.unwrap_or(if role == Role::EndUser {
            Via::Portal
        } else {
            Via::Api
        });
        // A public comment by staff is an agent reply: it meets first
        // response and periodic update targets (policies.md §4).
        let replied = comment
            .as_ref()
            .is_some_and(|(c, author)| c.public == Some(true) && author.role.is_staff());
        let comment = comment.map(|(c, _)| c);
        // A reply's text joins the ticket's full-text entry (the first
        // comment was indexed as the description when the ticket was made).
        if let Some(c) = &comment {
            self.index_comment(tx, id, &comment_plain(c)).await?;
        }
        let audit = self
            .write_audit(
                tx,
                AuditHead {
                    ticket_id: id,
                    author_id: actor.id(),
                    via,
                    at: now,
                },
                events,
                comment,
            )
            .await?;
        // The requester hears of an agent's public reply by e-mail,
        // committed with the reply itself (outbox, STYLE rule 4).
        if replied {
            self.enqueue_reply_email_tx(tx, &t, &audit, now).await?;
        }
        t.follower_ids = followers.into_iter().collect();
        self.apply_sla_tx(tx, &t, Some(&crate::sla::facts(&old)), replied, now)
            .await?;
        self.escalation_on_change_tx(tx, Some(&old), &t, now)
            .await?;
        self.run_triggers_tx(tx, Some(&old), &mut t, via, now)
            .await?;
        // CSAT (§10): solving offers the requester a rating, in this same
        // transaction (see `satisfaction`).
        if t.status == Status::Solved && old.status != Status::Solved {
            self.offer_rating_tx(tx, &t, now).await?;
        }
        // Incidents follow their problem (§6): solving it solves them.
        if t.ticket_type == Some(TicketType::Problem)
            && t.status == Status::Solved
            && old.status != Status::Solved
        {
            let incidents = sqlx::query(
                "SELECT id FROM tickets WHERE problem_id = $1 AND deleted = 0 AND status NOT IN ('solved', 'closed')",
            )
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
            for r in incidents {
                let incident: i64 = r.try_get("id")?;
                let solve = TicketInput {
                    status: Some(Status::Solved),
                    comment: Some(NewComment {
                        body: format!("Solved together with problem #{id}: {}", t.subject),
                        public: Some(true),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                // Incidents in groups the solver cannot write stay for their owners.
                match Box::pin(self.update_ticket_tx(tx, actor, incident, solve, now)).await {
                    Ok(_) | Err(StoreError::Forbidden(_)) | Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok((t, Some(audit)))
    }

    /// Soft-deletes a ticket: it disappears from lists and search, its
    /// history stays.
    pub async fn delete_ticket(&self, actor: &Actor, id: i64, now: i64) -> Result<()> {
        // Read before taking the write connection: a transaction never waits
        // for a second connection (PostgreSQL shares one pool).
        let t = self.ticket(actor, id).await?;
        let mut tx = self.begin().await?;
        let root = self.group_root(&mut tx, t.group_id).await?;
        if !actor.role().is_staff()
            || !actor.write_scope().allows(root)
            || actor.role() == Role::Contractor
        {
            return Err(StoreError::Forbidden(
                "you cannot delete this ticket".into(),
            ));
        }
        let done = sqlx::query(
            "UPDATE tickets SET deleted = 1, updated_at = $1 WHERE id = $2 AND deleted = 0",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            self.bump_count(&mut tx, id, t.group_id, -1).await?;
            // Index rows of deleted tickets go, so that searches driven by
            // an index never meet them (the ticket keeps its tags).
            sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if self.dialect == Dialect::Sqlite {
                sqlx::query("DELETE FROM tickets_fts WHERE rowid = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let events = vec![
                json!({"type": "Change", "field_name": "deleted", "value": true, "previous_value": false}),
            ];
            self.write_audit(
                &mut tx,
                AuditHead {
                    ticket_id: id,
                    author_id: actor.id(),
                    via: Via::Api,
                    at: now,
                },
                events,
                None,
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    // ----- helpers -------------------------------------------------------

    pub(crate) async fn ticket_tx(&self, tx: &mut Tx, id: i64) -> Result<Ticket> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        let mut t = row
            .map(|r| ticket_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("ticket"))?;
        t.follower_ids = self.follower_set(tx, id).await?.into_iter().collect();
        Ok(t)
    }

    async fn follower_set(&self, tx: &mut Tx, ticket_id: i64) -> Result<BTreeSet<i64>> {
        let rows = sqlx::query("SELECT user_id FROM ticket_followers WHERE ticket_id = $1")
            .bind(ticket_id)
            .fetch_all(&mut **tx)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<i64, _>("user_id")?))
            .collect()
    }

    async fn write_audit(
        &self,
        tx: &mut Tx,
        head: AuditHead,
        mut events: Vec<Value>,
        comment: Option<NewComment>,
    ) -> Result<Audit> {
        let AuditHead {
            ticket_id,
            author_id,
            via,
            at: now,
        } = head;
        let audit_id: i64 = sqlx::query(
            "INSERT INTO ticket_audits (ticket_id, author_id, via, events, created_at) VALUES ($1, $2, $3, '[]', $4) RETURNING id",
        )
        .bind(ticket_id)
        .bind(author_id)
        .bind(via.as_str())
        .bind(now)
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?;
        if let Some(c) = comment {
            let plain = comment_plain(&c);
            let html = c.html_body.clone().unwrap_or_else(|| text_to_html(&c.body));
            let public = c.public.unwrap_or(true);
            let author = c.author_id.unwrap_or(author_id);
            let comment_id: i64 = sqlx::query(
                "INSERT INTO ticket_comments (ticket_id, audit_id, author_id, public, body, html_body, via, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(ticket_id)
            .bind(audit_id)
            .bind(author)
            .bind(i64::from(public))
            .bind(&plain)
            .bind(&html)
            .bind(via.as_str())
            .bind(now)
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?;
            events.insert(
                0,
                json!({"id": comment_id, "type": "Comment", "author_id": author, "body": plain,
                       "html_body": html, "plain_body": plain, "public": public, "attachments": []}),
            );
        }
        sqlx::query("UPDATE ticket_audits SET events = $1 WHERE id = $2")
            .bind(serde_json::to_string(&events)?)
            .bind(audit_id)
            .execute(&mut **tx)
            .await?;
        number_events(audit_id, &mut events);
        Ok(Audit {
            id: audit_id,
            ticket_id,
            author_id,
            via,
            events,
            created_at: now,
        })
    }

    async fn index_comment(&self, tx: &mut Tx, ticket_id: i64, text: &str) -> Result<()> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::query("UPDATE tickets_fts SET body = body || ' ' || $1 WHERE rowid = $2")
                    .bind(text)
                    .bind(ticket_id)
                    .execute(&mut **tx)
                    .await?;
            }
            Dialect::Postgres => {
                sqlx::query(
                    "UPDATE tickets SET search_vector = search_vector || to_tsvector('simple', translate($1, '@.-_/:+', '       ')) WHERE id = $2",
                )
                .bind(text)
                .bind(ticket_id)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }

    async fn set_tags(&self, tx: &mut Tx, id: i64, old: &[String], new: &[String]) -> Result<()> {
        for gone in old.iter().filter(|t| !new.contains(t)) {
            sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1 AND tag = $2")
                .bind(id)
                .bind(gone)
                .execute(&mut **tx)
                .await?;
        }
        for added in new.iter().filter(|t| !old.contains(t)) {
            sqlx::query("INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2)")
                .bind(id)
                .bind(added)
                .execute(&mut **tx)
                .await?;
            // Policies.md §11: tickets tagged as feedback feed the loop, in
            // the same transaction (once per ticket; see crate::feedback).
            if added == "feedback" {
                self.feedback_from_ticket_tx(tx, id).await?;
            }
        }
        Ok(())
    }

    async fn bump_count(&self, tx: &mut Tx, id: i64, group: Option<i64>, delta: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO ticket_counts (group_key, shard, n) VALUES ($1, $2, $3)
             ON CONFLICT (group_key, shard) DO UPDATE SET n = ticket_counts.n + excluded.n",
        )
        .bind(group.unwrap_or(0))
        .bind(id % COUNT_SHARDS)
        .bind(delta)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn group_root(&self, tx: &mut Tx, group: Option<i64>) -> Result<Option<i64>> {
        match group {
            None => Ok(None),
            Some(g) => Ok(Some(self.ensure_group_exists(tx, g).await?.root())),
        }
    }

    async fn resolve_requester(&self, tx: &mut Tx, r: RequesterRef, now: i64) -> Result<User> {
        match r {
            RequesterRef::Id(id) => self.user_tx(tx, id).await.map_err(|_| {
                StoreError::invalid("requester_id", format!("user {id} does not exist"))
            }),
            RequesterRef::Person { name, email } => {
                match self.user_id_by_email_tx(tx, email.as_str()).await? {
                    Some(id) => self.user_tx(tx, id).await,
                    None => {
                        let input = UserInput {
                            name,
                            email: Some(email),
                            role: Some(Role::EndUser),
                            ..Default::default()
                        };
                        self.create_user_tx(tx, input, now).await
                    }
                }
            }
        }
    }

    async fn ensure_assignable(&self, tx: &mut Tx, id: i64) -> Result<()> {
        let u = self.ensure_staff(tx, id, "assignee_id").await?;
        if u.role == Role::Viewer {
            return Err(StoreError::invalid(
                "assignee_id",
                "viewers cannot be assigned tickets",
            ));
        }
        Ok(())
    }

    async fn ensure_staff(&self, tx: &mut Tx, id: i64, field: &str) -> Result<User> {
        let u = self
            .user_tx(tx, id)
            .await
            .map_err(|_| StoreError::invalid(field, format!("user {id} does not exist")))?;
        if !u.role.is_staff() || !u.active {
            return Err(StoreError::invalid(
                field,
                format!("user {id} is not an active agent"),
            ));
        }
        Ok(u)
    }

    async fn ensure_problem(&self, tx: &mut Tx, problem: i64, this: Option<i64>) -> Result<()> {
        if Some(problem) == this {
            return Err(StoreError::invalid(
                "problem_id",
                "a ticket cannot be its own problem",
            ));
        }
        let row = sqlx::query("SELECT ticket_type FROM tickets WHERE id = $1 AND deleted = 0")
            .bind(problem)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some(r) if opt_str(&r, "ticket_type")?.as_deref() == Some("problem") => Ok(()),
            Some(_) => Err(StoreError::invalid(
                "problem_id",
                format!("ticket {problem} is not a problem"),
            )),
            None => Err(StoreError::invalid(
                "problem_id",
                format!("ticket {problem} does not exist"),
            )),
        }
    }
}

fn comment_plain(c: &NewComment) -> String {
    if c.body.trim().is_empty() {
        c.html_body.as_deref().map(html_to_text).unwrap_or_default()
    } else {
        c.body.clone()
    }
}

/// Merges custom field values, checking each against its definition and
/// the actor's right to see commercial fields.
fn apply_custom_fields(
    fields: &BTreeMap<i64, TicketField>,
    actor: &Actor,
    mut current: BTreeMap<i64, Value>,
    updates: &[(i64, Value)],
) -> Result<BTreeMap<i64, Value>> {
    for (id, value) in updates {
        let field = fields.get(id).ok_or_else(|| {
            StoreError::invalid("custom_fields", format!("ticket field {id} does not exist"))
        })?;
        if field.commercial && !actor.role().sees_commercials() {
            return Err(StoreError::Forbidden(format!(
                "you cannot set {}",
                field.title
            )));
        }
        let v = field
            .check(value)
            .map_err(|m| StoreError::invalid("custom_fields", m))?;
        if v.is_null() {
            current.remove(id);
        } else {
            current.insert(*id, v);
        }
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_round_trip() {
        assert_eq!(
            text_to_html("a < b\n\nnext\nline"),
            "<div class=\"zd-comment\"><p>a &lt; b</p><p>next<br>line</p></div>"
        );
        assert_eq!(html_to_text("<p>Hello &amp; <b>bye</b></p>"), "Hello & bye");
    }
}
