//! The ticket page (issue 6, agent workspace): the conversation, the
//! ticket's fields, requester and account, followers, SLA clocks with
//! their metric events, the escalation ladder and the audit history; a
//! reply box (public reply or internal note, with field changes in the
//! same update), reply templates applied as macros, and field changes
//! without a comment.
//!
//! Every change is one `Store::update_ticket`, the call the API makes, so
//! SLA clocks, escalations, triggers and the outbox behave as for the API,
//! and the store's role rules (§8) apply unchanged: a viewer's or a CSM's
//! read-only ticket is refused there, contractors may not set commercial
//! fields and reply to customers only from templates (`replies`). A
//! refusal re-renders the page with the store's message and its status
//! (403, 422, 409) and keeps what was typed.
//!
//! Comment bodies are shown from their plain text, escaped, with the line
//! breaks kept by CSS (`white-space: pre-wrap`). The stored `html_body` may
//! come from API clients unsanitised and is never put on the page.
//!
//! Escalation is automatic only (§6: SLA and time triggers, rules), so the
//! page shows the ladder and its records read-only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use minijinja::context;
use serde::Serialize;
use serde_json::Value;
use steward_domain::{
    Priority, Role, Status, TicketType, Tier, Via,
    escalation::{self, Trigger},
    sla::{Clock, Metric, Stage},
};
use steward_store::{
    Audit, Comment, Group, NewComment, Organization, Page, PageRequest, Sort, StoreError, Ticket,
    TicketField, TicketInput, User,
    calendars::CalendarSet,
    escalation::Escalation,
    replies::{RESOLUTION_TEMPLATE, ReplyTemplate},
    sessions::WebSession,
};

use super::{
    page::{UiError, duration, page, ser},
    queue::{Badge, badge, metric_label},
    session::{Fields, Posted, Staff},
};
use crate::AppState;

/// Longest reply or note, as the API's `comment.body`.
const MAX_BODY: usize = 65_536;

/// Most comments and audits the page walks (a thousand of each).
const MAX_PAGES: usize = 10;

fn ticket_id(raw: &str) -> Result<i64, UiError> {
    crate::extract::parse_id(raw).ok_or_else(UiError::not_found)
}

/// What the reply box holds: empty, what a refused post had, or a macro.
#[derive(Serialize)]
struct Reply {
    body: String,
    public: bool,
    /// Status to set with the reply (`""` keeps the current one).
    status: String,
    /// The reply template a contractor's reply is written from.
    template: Option<String>,
    error: Option<String>,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            body: String::new(),
            public: true,
            status: String::new(),
            template: None,
            error: None,
        }
    }
}

/// A refusal shown at the top of the page, with the status it is sent with.
struct Problem {
    status: StatusCode,
    message: String,
}

impl Problem {
    /// The store's refusals are shown on the page; anything else is an
    /// error page (404 for what the viewer may not see, 500 otherwise).
    fn from_store(e: StoreError) -> Result<Problem, UiError> {
        let (status, message) = match e {
            StoreError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            StoreError::Invalid { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: {message}", field_label(&field)),
            ),
            StoreError::Conflict(m) => (StatusCode::CONFLICT, m),
            other => return Err(other.into()),
        };
        Ok(Problem { status, message })
    }

    fn invalid(message: impl Into<String>) -> Problem {
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
        }
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "comment.body" => "Reply",
        "comment.public" => "Reply",
        "assignee_id" => "Assignee",
        "group_id" => "Group",
        "status" => "Status",
        "follower_ids" => "Followers",
        "template" => "Template",
        other => other,
    }
}

// ----- handlers --------------------------------------------------------------

pub async fn show(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(raw): Path<String>,
) -> Result<Response, UiError> {
    let id = ticket_id(&raw)?;
    render(&state, &s, id, Reply::default(), None).await
}

/// `POST /tickets/{id}/comment`: a public reply or an internal note, with
/// optional status change, in one update.
pub async fn comment(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    form: Posted,
) -> Result<Response, UiError> {
    form.require_staff()?;
    let id = ticket_id(&raw)?;
    let Posted { session, fields } = form;
    let reply = Reply {
        body: fields.raw("body").replace("\r\n", "\n"),
        public: parse_public(&fields)?,
        status: fields.get("status").unwrap_or_default().to_string(),
        template: fields.get("template").map(str::to_string),
        error: None,
    };
    let status = fields.get("status").map(parse_status).transpose()?;
    if reply.body.len() > MAX_BODY {
        return reply_refused(
            &state,
            &session,
            id,
            reply,
            format!("A reply can be at most {MAX_BODY} bytes."),
        )
        .await;
    }
    // A contractor's public reply is the template itself, rendered by the
    // store; anyone else sends what the box holds (macro text or typed).
    let from_template = reply.public && session.actor.role() == Role::Contractor;
    let comment = match (&reply.template, from_template) {
        (Some(key), true) => NewComment {
            public: Some(true),
            template: Some(ReplyTemplate {
                key: key.clone(),
                ticket_url: crate::api::portal_ticket_url(&state, &headers, id),
            }),
            ..Default::default()
        },
        _ if reply.body.trim().is_empty() => {
            let message = if reply.public {
                "Write a reply first."
            } else {
                "Write a note first."
            };
            return reply_refused(&state, &session, id, reply, message.into()).await;
        }
        _ => NewComment {
            body: reply.body.clone(),
            public: Some(reply.public),
            ..Default::default()
        },
    };
    let input = TicketInput {
        comment: Some(comment),
        status,
        via: Some(Via::Web),
        ..Default::default()
    };
    match state
        .store
        .update_ticket(&session.actor, id, input, state.now())
        .await
    {
        Ok((_, audit)) => {
            let anchor = audit
                .as_ref()
                .and_then(comment_id)
                .map(|c| format!("#comment-{c}"))
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/tickets/{id}{anchor}")).into_response())
        }
        Err(e) => {
            let p = Problem::from_store(e)?;
            let reply = Reply {
                error: Some(p.message.clone()),
                ..reply
            };
            render(&state, &session, id, reply, Some(p)).await
        }
    }
}

async fn reply_refused(
    state: &AppState,
    session: &WebSession,
    id: i64,
    reply: Reply,
    message: String,
) -> Result<Response, UiError> {
    let reply = Reply {
        error: Some(message.clone()),
        ..reply
    };
    render(state, session, id, reply, Some(Problem::invalid(message))).await
}

/// `POST /tickets/{id}/macro`: the page again, its reply box filled with a
/// reply template rendered over this ticket (works without JavaScript).
pub async fn apply_macro(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    form: Posted,
) -> Result<Response, UiError> {
    form.require_staff()?;
    let id = ticket_id(&raw)?;
    let Posted { session, fields } = form;
    let Some(key) = fields.get("template") else {
        return reply_refused(
            &state,
            &session,
            id,
            Reply::default(),
            "Choose a template to apply.".into(),
        )
        .await;
    };
    let url = crate::api::portal_ticket_url(&state, &headers, id);
    match state
        .store
        .render_reply(&session.actor, id, key, &url, state.now())
        .await
    {
        Ok(r) => {
            let reply = Reply {
                body: r.text,
                public: true,
                // Solving with the closing reply, as Zendesk's macro does.
                status: if key == RESOLUTION_TEMPLATE {
                    Status::Solved.as_str().into()
                } else {
                    String::new()
                },
                template: Some(key.to_string()),
                error: None,
            };
            render(&state, &session, id, reply, None).await
        }
        Err(e) => {
            let p = Problem::from_store(e)?;
            let reply = Reply {
                error: Some(p.message.clone()),
                ..Reply::default()
            };
            render(&state, &session, id, reply, Some(p)).await
        }
    }
}

/// `POST /tickets/{id}`: `action=fields` changes status, priority, type,
/// group, assignee and tags without a comment; `action=follow` and
/// `action=unfollow` add or remove the viewer as a follower.
pub async fn update(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: Posted,
) -> Result<Response, UiError> {
    form.require_staff()?;
    let id = ticket_id(&raw)?;
    let Posted { session, fields } = form;
    let me = session.actor.id();
    let input = match fields.get("action").unwrap_or("fields") {
        "follow" => TicketInput {
            followers_add: vec![me],
            ..Default::default()
        },
        "unfollow" => TicketInput {
            followers_remove: vec![me],
            ..Default::default()
        },
        "fields" => field_changes(&fields)?,
        other => {
            return Err(UiError::bad_request(format!(
                "There is no action called {other:?}."
            )));
        }
    };
    let input = TicketInput {
        via: Some(Via::Web),
        ..input
    };
    match state
        .store
        .update_ticket(&session.actor, id, input, state.now())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/tickets/{id}")).into_response()),
        Err(e) => {
            let p = Problem::from_store(e)?;
            render(&state, &session, id, Reply::default(), Some(p)).await
        }
    }
}

fn parse_public(fields: &Fields) -> Result<bool, UiError> {
    match fields.get("public").unwrap_or("true") {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(UiError::bad_request(
            "Choose a public reply or an internal note.",
        )),
    }
}

fn parse_status(s: &str) -> Result<Status, UiError> {
    Status::parse(s).map_err(|e| UiError::bad_request(e.0))
}

/// The properties form. A field the form does not carry stays as it is;
/// an empty group, assignee, type or tags field clears it. The store
/// records only what differs.
fn field_changes(f: &Fields) -> Result<TicketInput, UiError> {
    let bad = |e: steward_domain::ParseError| UiError::bad_request(e.0);
    let sent = |name: &str| f.0.iter().any(|(k, _)| k == name);
    let clearable = |name: &str| -> Result<Option<Option<i64>>, UiError> {
        if sent(name) {
            f.id(name).map(Some)
        } else {
            Ok(None)
        }
    };
    Ok(TicketInput {
        status: f.get("status").map(parse_status).transpose()?,
        priority: f
            .get("priority")
            .map(Priority::parse)
            .transpose()
            .map_err(bad)?,
        ticket_type: if sent("type") {
            Some(
                f.get("type")
                    .map(TicketType::parse)
                    .transpose()
                    .map_err(bad)?,
            )
        } else {
            None
        },
        group_id: clearable("group_id")?,
        assignee_id: clearable("assignee_id")?,
        tags: sent("tags").then(|| {
            f.raw("tags")
                .split([' ', ','])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect()
        }),
        ..Default::default()
    })
}

/// The id of the comment an update added.
fn comment_id(a: &Audit) -> Option<i64> {
    a.events
        .iter()
        .find(|e| e.get("type").and_then(Value::as_str) == Some("Comment"))
        .and_then(|e| e.get("id"))
        .and_then(Value::as_i64)
}

// ----- the page --------------------------------------------------------------

#[derive(Serialize)]
struct Opt {
    value: String,
    label: String,
}

fn opt(value: impl ToString, label: impl ToString) -> Opt {
    Opt {
        value: value.to_string(),
        label: label.to_string(),
    }
}

#[derive(Serialize)]
struct Person {
    id: i64,
    name: String,
}

#[derive(Serialize)]
struct Entry {
    id: i64,
    author: String,
    author_staff: bool,
    public: bool,
    body: String,
    created_at: i64,
}

#[derive(Serialize)]
struct ClockRow {
    label: &'static str,
    instance: i64,
    target: String,
    calendar: String,
    policy: String,
    /// achieved, achieved-late, paused, due, breached
    state: &'static str,
    due_at: Option<i64>,
    fulfilled_at: Option<i64>,
    badge: Option<Badge>,
}

#[derive(Serialize)]
struct EventRow {
    label: String,
    instance: i64,
    kind: String,
    time: i64,
}

#[derive(Serialize)]
struct Step {
    level: i64,
    contact: &'static str,
    reached: bool,
}

#[derive(Serialize)]
struct EscalationRow {
    level: i64,
    from_level: i64,
    contact: String,
    why: String,
    created_at: i64,
}

#[derive(Serialize)]
struct ChangeRow {
    field: String,
    from: String,
    to: String,
}

#[derive(Serialize)]
struct HistoryRow {
    author: String,
    at: i64,
    via: &'static str,
    changes: Vec<ChangeRow>,
}

#[derive(Serialize)]
struct FieldRow {
    title: String,
    value: String,
}

/// Every item of a cursor-paged store listing, up to [`MAX_PAGES`] pages;
/// `true` when more were left.
async fn walk<T, F, Fut>(mut fetch: F, id_of: fn(&T) -> i64) -> Result<(Vec<T>, bool), UiError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..MAX_PAGES {
        let page = fetch(PageRequest::Cursor {
            size: 100,
            after,
            before: None,
        })
        .await?;
        after = page.items.last().map(id_of);
        out.extend(page.items);
        if !page.has_more {
            return Ok((out, false));
        }
    }
    Ok((out, true))
}

fn change_events(a: &Audit) -> impl Iterator<Item = &Value> {
    a.events
        .iter()
        .filter(|e| e.get("type").and_then(Value::as_str) == Some("Change"))
}

/// User ids an audit value names (assignee, requester, followers).
fn user_ids_in(field: &str, v: &Value) -> Vec<i64> {
    let one = |v: &Value| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    };
    match field {
        "assignee_id" | "requester_id" => one(v).into_iter().collect(),
        "follower_ids" => v
            .as_array()
            .map(|l| l.iter().filter_map(one).collect())
            .unwrap_or_default(),
        _ => vec![],
    }
}

async fn render(
    state: &AppState,
    s: &WebSession,
    id: i64,
    reply: Reply,
    problem: Option<Problem>,
) -> Result<Response, UiError> {
    let actor = &s.actor;
    let store = &state.store;
    let now = state.now();
    let t: Ticket = store.ticket(actor, id).await?;
    let (comments, truncated) = walk(
        |req| store.comments(actor, id, req, Sort::ID),
        |c: &Comment| c.id,
    )
    .await?;
    let (audits, _) = walk(|req| store.audits(actor, id, req), |a: &Audit| a.id).await?;
    let groups = store.groups().await?;
    let fields = store.ticket_fields().await?;

    // Everyone the page names, in one query.
    let mut ids: BTreeSet<i64> = [t.requester_id, t.submitter_id].into();
    ids.extend(t.assignee_id);
    ids.extend(&t.follower_ids);
    ids.extend(comments.iter().map(|c| c.author_id));
    for a in &audits {
        ids.insert(a.author_id);
        for e in change_events(a) {
            let f = e.get("field_name").and_then(Value::as_str).unwrap_or("");
            for v in [e.get("value"), e.get("previous_value")]
                .into_iter()
                .flatten()
            {
                ids.extend(user_ids_in(f, v));
            }
        }
    }
    let ids: Vec<i64> = ids.into_iter().collect();
    let org = match t.organization_id {
        Some(o) => Some(store.org(o).await?),
        None => None,
    };
    let names = Names {
        users: store
            .users_by_ids(&ids)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect(),
        groups: &groups,
        org: org.as_ref(),
    };

    // What this viewer may do here (the store decides again on every post).
    let role = actor.role();
    let root = t
        .group_id
        .map(|g| groups.iter().find(|x| x.id == g).map_or(g, |x| x.root()));
    let can_write =
        role.can_write() && actor.write_scope().allows(root) && t.status != Status::Closed;
    let read_only_reason = if t.status == Status::Closed {
        Some("This ticket is closed: it can no longer be changed.")
    } else if !role.can_write() {
        Some("Viewers read tickets; they cannot change them.")
    } else if !can_write {
        Some(
            "You can read this ticket but not change it: it is in a group your role does not work.",
        )
    } else {
        None
    };

    let conversation: Vec<Entry> = comments
        .iter()
        .map(|c| Entry {
            id: c.id,
            author: names.user(c.author_id),
            author_staff: names
                .users
                .get(&c.author_id)
                .is_some_and(|u| u.role.is_staff()),
            public: c.public,
            body: c.body.clone(),
            created_at: c.created_at,
        })
        .collect();

    let history = history_rows(&audits, &fields, role, &names);

    // SLA: every clock with its state, and the metric events.
    let cals = store.calendars().await?;
    let clocks = clock_rows(&store.ticket_clocks(id).await?, &cals, now);
    let events: Vec<EventRow> = store
        .metric_events(Some(id), 0, None, 1_000)
        .await?
        .into_iter()
        .map(|e| EventRow {
            label: Metric::parse(&e.metric)
                .map(metric_label)
                .unwrap_or(&e.metric)
                .to_string(),
            instance: e.instance_id,
            kind: e.event_type.replace('_', " "),
            time: e.time,
        })
        .collect();
    let top_badge = store
        .sla_badges(&[id], now)
        .await?
        .remove(&id)
        .map(|b| badge(b.metric, b.remaining_secs, b.paused));

    let tier = org.as_ref().map_or(Tier::Starter, |o| o.tier());
    let escalation = escalation_view(tier, &store.escalations(id).await?);

    let custom: Vec<FieldRow> = fields
        .values()
        .filter(|f| !f.commercial || role.sees_commercials())
        .filter_map(|f| {
            let v = t.custom_fields.get(&f.id)?;
            Some(FieldRow {
                title: f.title.clone(),
                value: plain(v),
            })
        })
        .collect();

    let templates: Vec<Opt> = store
        .reply_templates(actor)
        .await?
        .iter()
        .map(|x| opt(x.def.key, &x.name))
        .collect();
    // The current assignee and group stay choices even when they would
    // not be offered now (a deactivated agent, a group out of reach), so
    // saving other fields never clears them by accident.
    let mut agents: Vec<Opt> = if can_write {
        store
            .assignable_agents()
            .await?
            .iter()
            .map(|u| opt(u.id, &u.name))
            .collect()
    } else {
        vec![]
    };
    if let Some(a) = t.assignee_id
        && !agents.iter().any(|o| o.value == a.to_string())
    {
        agents.push(opt(a, names.user(a)));
    }
    let mut writable_groups: Vec<Opt> = groups
        .iter()
        .filter(|g| !g.deleted && actor.write_scope().allows(Some(g.root())))
        .map(|g| opt(g.id, &g.name))
        .collect();
    if let Some(g) = t.group_id
        && !writable_groups.iter().any(|o| o.value == g.to_string())
    {
        writable_groups.push(opt(g, names.group(g)));
    }

    let requester = names.users.get(&t.requester_id);
    let status_code = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let title = format!("#{} {}", t.id, t.subject);
    let mut resp = page(
        s,
        "ticket.html",
        &title,
        context! {
            nav => "queue",
            problem => problem.map(|p| p.message),
            ticket => context! {
                id => t.id,
                subject => t.subject.clone(),
                status => t.status.as_str(),
                priority => t.priority.as_str(),
                priority_code => t.priority.code(),
                kind => t.ticket_type.map(|x| x.as_str()),
                tags => t.tags.join(" "),
                tag_list => t.tags.clone(),
                group_id => t.group_id,
                group => t.group_id.map(|g| names.group(g)),
                assignee_id => t.assignee_id,
                assignee => t.assignee_id.map(|a| names.user(a)),
                submitter => names.user(t.submitter_id),
                via => t.via.as_str(),
                created_at => t.created_at,
                updated_at => t.updated_at,
                solved_at => t.solved_at,
                due_at => t.due_at,
                external_id => t.external_id.clone(),
                problem_id => t.problem_id,
                sla_exclusion => t.sla_exclusion.map(|x| x.as_str()),
            },
            requester => requester.map(|u| context! {
                id => u.id,
                name => u.name.clone(),
                email => u.email.clone(),
                phone => u.phone.clone(),
            }),
            organization => org.as_ref().map(|o| context! {
                id => o.id,
                name => o.name.clone(),
                tier => o.tier().label(),
            }),
            followers => ser(t.follower_ids.iter().map(|f| Person { id: *f, name: names.user(*f) }).collect::<Vec<_>>()),
            following => t.follower_ids.contains(&actor.id()),
            conversation => ser(&conversation),
            truncated,
            history => ser(&history),
            clocks => ser(&clocks),
            events => ser(&events),
            sla => ser(&top_badge),
            escalation,
            custom => ser(&custom),
            templates => ser(&templates),
            agents => ser(&agents),
            groups => ser(&writable_groups),
            statuses => ser(Status::ALL.iter().filter(|x| **x != Status::Closed).map(|x| opt(x.as_str(), x.as_str())).collect::<Vec<_>>()),
            priorities => ser(Priority::ALL.iter().rev().map(|x| opt(x.as_str(), format!("{} ({})", x.code(), x.as_str()))).collect::<Vec<_>>()),
            types => ser(TicketType::ALL.iter().map(|x| opt(x.as_str(), x.as_str())).collect::<Vec<_>>()),
            can_write,
            read_only_reason,
            templates_only => role == Role::Contractor,
            reply => ser(&reply),
        },
    )?;
    *resp.status_mut() = status_code;
    Ok(resp)
}

/// Names for the ids the page shows: people, groups, the account.
struct Names<'a> {
    users: HashMap<i64, User>,
    groups: &'a [Group],
    org: Option<&'a Organization>,
}

impl Names<'_> {
    fn user(&self, id: i64) -> String {
        match self.users.get(&id) {
            Some(u) => u.name.clone(),
            // Automation and the SLA scheduler act as no user.
            None if id <= 0 => "Steward".into(),
            None => format!("user {id}"),
        }
    }

    fn group(&self, id: i64) -> String {
        self.groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| format!("group {id}"))
    }

    /// An audit value as text, with names for the ids it holds.
    fn value(&self, field: &str, v: Option<&Value>) -> String {
        let v = v.unwrap_or(&Value::Null);
        let number = || {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        };
        match (field, v) {
            (_, Value::Null) => "—".into(),
            ("assignee_id" | "requester_id" | "follower_ids", _) => {
                let ids = user_ids_in(field, v);
                if ids.is_empty() {
                    "—".into()
                } else {
                    ids.iter()
                        .map(|i| self.user(*i))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            }
            ("group_id", _) => number().map_or_else(|| plain(v), |g| self.group(g)),
            ("organization_id", _) => match (self.org, number()) {
                (Some(o), Some(i)) if o.id == i => o.name.clone(),
                (_, Some(i)) => format!("account {i}"),
                _ => plain(v),
            },
            ("due_at", _) => super::page::dt(v.as_i64()),
            (_, Value::Array(items)) if items.is_empty() => "—".into(),
            (_, Value::Array(items)) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
            _ => plain(v),
        }
    }
}

/// The audit trail as the page shows it: who changed which field from what
/// to what. Commercial custom fields stay hidden from roles that may not
/// see them, here as everywhere.
fn history_rows(
    audits: &[Audit],
    fields: &BTreeMap<i64, TicketField>,
    role: Role,
    names: &Names<'_>,
) -> Vec<HistoryRow> {
    audits
        .iter()
        .filter_map(|a| {
            let changes: Vec<ChangeRow> = change_events(a)
                .filter_map(|e| {
                    let field = e.get("field_name").and_then(Value::as_str)?;
                    let (label, from, to) = if field == "custom_field" {
                        let fid = e.pointer("/value/id").and_then(Value::as_i64)?;
                        let f = fields.get(&fid)?;
                        if f.commercial && !role.sees_commercials() {
                            return None;
                        }
                        let show = |v: Option<&Value>| match v.map(plain) {
                            Some(s) if !s.is_empty() => s,
                            _ => "—".into(),
                        };
                        (
                            f.title.clone(),
                            show(e.get("previous_value")),
                            show(e.pointer("/value/value")),
                        )
                    } else {
                        (
                            field_title(field).to_string(),
                            names.value(field, e.get("previous_value")),
                            names.value(field, e.get("value")),
                        )
                    };
                    Some(ChangeRow {
                        field: label,
                        from,
                        to,
                    })
                })
                .collect();
            (!changes.is_empty()).then(|| HistoryRow {
                author: names.user(a.author_id),
                at: a.created_at,
                via: a.via.as_str(),
                changes,
            })
        })
        .collect()
}

/// The escalation ladder of the ticket's tier (§6), how far up the ticket
/// is, and the record of each step.
fn escalation_view(tier: Tier, records: &[Escalation]) -> minijinja::Value {
    let level = records.iter().map(|e| e.level).max().unwrap_or(0);
    let ladder: Vec<Step> = escalation::ladder(tier)
        .iter()
        .enumerate()
        .map(|(i, c)| Step {
            level: i as i64 + 1,
            contact: c,
            reached: (i as i64) < level,
        })
        .collect();
    let rows: Vec<EscalationRow> = records
        .iter()
        .map(|e| EscalationRow {
            level: e.level,
            from_level: e.from_level,
            contact: e.contact.clone(),
            why: Trigger::parse(&e.trigger)
                .map(|t| t.describe().to_string())
                .unwrap_or_else(|| e.trigger.replace('_', " ")),
            created_at: e.created_at,
        })
        .collect();
    context! {
        tier => tier.label(),
        level,
        top => escalation::top_level(tier),
        ladder => ser(&ladder),
        records => ser(&rows),
    }
}

/// Every SLA clock of the ticket with its state: achieved (on time or
/// late), paused, due or breached, and a live badge while it counts.
fn clock_rows(clocks: &[Clock], cals: &CalendarSet, now: i64) -> Vec<ClockRow> {
    clocks
        .iter()
        .map(|c| {
            let cal = steward_domain::sla::Calendars::get(cals, &c.calendar);
            let due_at = cal.and_then(|cal| c.breach_at(cal));
            let remaining = cal.map(|cal| c.target_secs - c.elapsed_at(cal, now));
            let stage = c.stage();
            let state = match stage {
                Stage::Achieved if c.breached => "achieved-late",
                Stage::Achieved => "achieved",
                _ if c.breached || remaining.is_some_and(|r| r <= 0) => "breached",
                Stage::Paused => "paused",
                Stage::Active => "due",
            };
            ClockRow {
                label: metric_label(c.metric),
                instance: c.instance,
                target: duration(c.target_secs),
                calendar: c.calendar.clone(),
                policy: c.policy.clone(),
                state,
                due_at,
                fulfilled_at: c.fulfilled_at,
                badge: match (stage, remaining) {
                    (Stage::Achieved, _) | (_, None) => None,
                    (_, Some(r)) => Some(badge(c.metric, r, stage == Stage::Paused)),
                },
            }
        })
        .collect()
}

/// A JSON value as text: strings bare, `null` empty.
fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn field_title(field: &str) -> &str {
    match field {
        "assignee_id" => "Assignee",
        "group_id" => "Group",
        "requester_id" => "Requester",
        "organization_id" => "Account",
        "follower_ids" => "Followers",
        "problem_id" => "Problem",
        "due_at" => "Due",
        "external_id" => "External id",
        "workaround_provided" => "Workaround provided",
        "sla_exclusion" => "SLA exclusion",
        "type" => "Type",
        "status" => "Status",
        "priority" => "Priority",
        "subject" => "Subject",
        "tags" => "Tags",
        other => other,
    }
}
