//! The ticket queues (issue 6, agent workspace): Zendesk-style views with
//! sorting and an SLA badge per ticket. The badge counts down in the
//! browser from the server's figure (`data-remaining`), so it stays live
//! without polling; a reload brings the server's truth back.

use std::collections::HashMap;

use axum::{extract::State, response::Response};
use minijinja::context;
use serde::Serialize;
use steward_store::queues::{QueueSort, View};

use super::{
    page::{UiError, duration, page, ser},
    session::Staff,
};
use crate::{AppState, extract::Params};

pub const PER_PAGE: u32 = 50;

#[derive(Serialize)]
struct Row {
    id: i64,
    subject: String,
    status: &'static str,
    priority: &'static str,
    priority_code: &'static str,
    requester: String,
    organization: String,
    organization_id: Option<i64>,
    assignee: String,
    updated_at: i64,
    sla: Option<Badge>,
}

/// An SLA badge as `macros.html`'s `sla` draws it (the ticket page too).
#[derive(Serialize)]
pub(super) struct Badge {
    label: String,
    remaining: i64,
    text: String,
    state: &'static str,
    paused: bool,
}

fn parse_view(p: &Params) -> Result<(View, &'static str), UiError> {
    Ok(match p.get("view").unwrap_or("mine") {
        "mine" => (View::Mine, "mine"),
        "unassigned" => (View::Unassigned, "unassigned"),
        "breaching" => (View::BreachingSoon, "breaching"),
        "all" => (View::AllUnsolved, "all"),
        "solved" => (View::Solved, "solved"),
        "group" => {
            let g = p
                .get("group")
                .and_then(crate::extract::parse_id)
                .ok_or_else(|| UiError::bad_request("Choose a group for the group view."))?;
            (View::Group(g), "group")
        }
        other => {
            return Err(UiError::bad_request(format!(
                "There is no view called {other:?}."
            )));
        }
    })
}

fn parse_sort(p: &Params) -> Result<(QueueSort, &'static str), UiError> {
    Ok(match p.get("sort").unwrap_or("updated") {
        "updated" => (QueueSort::UpdatedDesc, "updated"),
        "created" => (QueueSort::CreatedAsc, "created"),
        "priority" => (QueueSort::Priority, "priority"),
        "id" => (QueueSort::Id, "id"),
        other => {
            return Err(UiError::bad_request(format!(
                "Tickets cannot be sorted by {other:?}."
            )));
        }
    })
}

pub async fn show(
    State(state): State<AppState>,
    Staff(s): Staff,
    params: Params,
) -> Result<Response, UiError> {
    let (view, view_key) = parse_view(&params)?;
    let (sort, sort_key) = parse_sort(&params)?;
    let page_no = params
        .u32("page")
        .map_err(|_| UiError::bad_request("page must be a positive number"))?
        .unwrap_or(1)
        .max(1);
    let now = state.now();
    let store = &state.store;
    let q = store
        .queue(&s.actor, view, sort, page_no, PER_PAGE, now)
        .await?;
    let ids: Vec<i64> = q.tickets.iter().map(|t| t.id).collect();
    let badges = store.sla_badges(&ids, now).await?;
    let mut user_ids: Vec<i64> = q
        .tickets
        .iter()
        .flat_map(|t| [Some(t.requester_id), t.assignee_id])
        .flatten()
        .collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let users: HashMap<i64, String> = store
        .users_by_ids(&user_ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut org_ids: Vec<i64> = q.tickets.iter().filter_map(|t| t.organization_id).collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let orgs: HashMap<i64, String> = store
        .orgs_by_ids(&org_ids)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let rows: Vec<Row> = q
        .tickets
        .iter()
        .map(|t| Row {
            id: t.id,
            subject: t.subject.clone(),
            status: t.status.as_str(),
            priority: t.priority.as_str(),
            priority_code: t.priority.code(),
            requester: users.get(&t.requester_id).cloned().unwrap_or_default(),
            organization: t
                .organization_id
                .and_then(|o| orgs.get(&o).cloned())
                .unwrap_or_default(),
            organization_id: t.organization_id,
            assignee: t
                .assignee_id
                .and_then(|a| users.get(&a).cloned())
                .unwrap_or_default(),
            updated_at: t.updated_at,
            sla: badges
                .get(&t.id)
                .map(|b| badge(b.metric, b.remaining_secs, b.paused)),
        })
        .collect();
    let groups: Vec<_> = store
        .groups()
        .await?
        .into_iter()
        .map(|g| context! { id => g.id, name => g.name })
        .collect();
    let group = match view {
        View::Group(g) => Some(g),
        _ => None,
    };
    let title = match view {
        View::Mine => "My tickets".to_string(),
        View::Unassigned => "Unassigned".into(),
        View::BreachingSoon => "Breaching soon".into(),
        View::AllUnsolved => "All unsolved".into(),
        View::Solved => "Recently solved".into(),
        View::Group(g) => groups
            .iter()
            .find(|x| x.get_attr("id").ok().and_then(|v| i64::try_from(v).ok()) == Some(g))
            .and_then(|x| x.get_attr("name").ok())
            .map(|n| format!("Group: {n}"))
            .unwrap_or_else(|| "Group".into()),
    };
    page(
        &s,
        "queue.html",
        &title,
        context! {
            nav => "queue",
            rows => ser(&rows), view => view_key, sort => sort_key, group, groups,
            page => page_no, has_more => q.has_more, now,
        },
    )
}

/// A badge for `remaining` open seconds of a metric's target: red once
/// breached, orange in the last hour.
pub(super) fn badge(metric: steward_domain::sla::Metric, remaining: i64, paused: bool) -> Badge {
    let state = if remaining <= 0 {
        "breached"
    } else if remaining <= 3600 {
        "soon"
    } else {
        "ok"
    };
    Badge {
        label: metric_label(metric).into(),
        remaining,
        text: duration(remaining),
        state,
        paused,
    }
}

pub fn metric_label(m: steward_domain::sla::Metric) -> &'static str {
    use steward_domain::sla::Metric;
    match m {
        Metric::FirstReplyTime => "First reply",
        Metric::PausableUpdateTime => "Next update",
        Metric::AgentWorkTime => "Resolution",
        Metric::WorkaroundTime => "Workaround",
    }
}
