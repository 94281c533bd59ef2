//! The agent workspace's ticket queues (issue 6): Zendesk-style views over
//! unsolved tickets, and each ticket's SLA badge.
//!
//! A queue page reads one page plus one row (to know whether there is a
//! next page) and never counts the whole view: on a million tickets an
//! exact count of "all unsolved" would cost more than the page itself.
//! "Breaching soon" starts from the indexed SLA due instants
//! (`ticket_metrics.next_due`), so it costs what is due, not what exists.

use std::collections::HashMap;

use sqlx::Row;
use steward_domain::sla::{Calendars, Metric, Stage};

use crate::{
    Store,
    access::Actor,
    error::Result,
    sql::{Args, and_all},
    tickets::{TICKET_COLUMNS, Ticket},
};

/// Statuses a queue shows.
const UNSOLVED: &str = "t.status IN ('new', 'open', 'pending', 'hold')";

/// How far back "recently solved" reaches: 7 days.
pub const RECENTLY_SOLVED_SECS: i64 = 7 * 86_400;

/// Which tickets a queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Assigned to the viewer, unsolved.
    Mine,
    /// Nobody assigned, unsolved.
    Unassigned,
    /// In one group, unsolved.
    Group(i64),
    /// Running SLA targets due soonest first (including those already
    /// breached), unsolved.
    BreachingSoon,
    /// Every unsolved ticket the viewer may read.
    AllUnsolved,
    /// Solved or closed in the last [`RECENTLY_SOLVED_SECS`] (Zendesk's
    /// "Recently solved tickets": the last 7 days).
    Solved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueSort {
    UpdatedDesc,
    CreatedAsc,
    Priority,
    Id,
}

impl QueueSort {
    fn sql(self) -> &'static str {
        match self {
            QueueSort::UpdatedDesc => "t.updated_at DESC, t.id DESC",
            QueueSort::CreatedAsc => "t.created_at, t.id",
            QueueSort::Priority => {
                "CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, t.updated_at DESC, t.id DESC"
            }
            QueueSort::Id => "t.id DESC",
        }
    }
}

/// The most urgent unmet SLA target of a ticket, for its badge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaBadge {
    pub metric: Metric,
    /// Open seconds left at `now` (negative once breached). For a running
    /// clock this is also `breach_at - now` in open time; a paused clock
    /// keeps its remainder until it runs again.
    pub remaining_secs: i64,
    /// When the target is (or was) breached, if the clock runs.
    pub breach_at: Option<i64>,
    pub paused: bool,
}

pub struct QueuePage {
    pub tickets: Vec<Ticket>,
    pub has_more: bool,
}

impl QueueSort {
    /// The `tickets_open_*` index (migration 21) that holds every unsolved
    /// ticket in this order.
    fn open_index(self) -> &'static str {
        match self {
            QueueSort::UpdatedDesc => "tickets_open_updated",
            QueueSort::CreatedAsc => "tickets_open_created",
            QueueSort::Priority => "tickets_open_priority",
            QueueSort::Id => "tickets_open_id",
        }
    }
}

impl Store {
    /// One page (1-based) of a queue.
    ///
    /// Each view reads along one of migration 21's partial indexes of
    /// unsolved tickets: "all unsolved" along the index of its sort order
    /// (the page is that index's first rows), "mine" and "unassigned" along
    /// `tickets_open_assignee`, a group along `tickets_open_group` (in
    /// their default order the page is again the first rows; another sort
    /// orders the view's own tickets, which is one agent's or one group's
    /// workload, not the help desk's). SQLite is told the index with
    /// `INDEXED BY`: without statistics its planner prefers the equality on
    /// `tickets_status_priority` and sorts every unsolved ticket. "Breaching
    /// soon" walks the SLA due instants in order (`ticket_metrics_due`),
    /// keeping each ticket's soonest.
    pub async fn queue(
        &self,
        actor: &Actor,
        view: View,
        sort: QueueSort,
        page: u32,
        per_page: u32,
        now: i64,
    ) -> Result<QueuePage> {
        let per_page = per_page.clamp(1, 100) as i64;
        let offset = (page.max(1) as i64 - 1) * per_page;
        let mut args = Args::default();
        let mut conds = vec![
            "t.deleted = 0".to_string(),
            actor.ticket_condition(&mut args),
        ];
        let mut order = sort.sql().to_string();
        let tickets_along = |index: &str| self.indexed("tickets t", index);
        let from = match view {
            View::Mine => {
                conds.push(UNSOLVED.into());
                conds.push(format!("t.assignee_id = {}", args.int(actor.user.id)));
                tickets_along("tickets_open_assignee")
            }
            View::Unassigned => {
                conds.push(UNSOLVED.into());
                conds.push("t.assignee_id IS NULL".into());
                tickets_along("tickets_open_assignee")
            }
            View::Group(g) => {
                conds.push(UNSOLVED.into());
                conds.push(format!("t.group_id = {}", args.int(g)));
                tickets_along("tickets_open_group")
            }
            View::AllUnsolved => {
                conds.push(UNSOLVED.into());
                tickets_along(sort.open_index())
            }
            View::Solved => {
                let since = now - RECENTLY_SOLVED_SECS;
                conds.push("t.status IN ('solved', 'closed')".into());
                conds.push(format!("t.solved_at >= {}", args.int(since)));
                // Solving a ticket updates it, so its `updated_at` is at
                // least its `solved_at`: the bound that stops the walk
                // below at the week's start when fewer than a page of
                // tickets were solved.
                conds.push(format!("t.updated_at >= {}", args.int(since)));
                // Newest activity first: backwards along `updated_at` until
                // a page is found; another order sorts the week's solved
                // tickets, a range of `tickets_solved`.
                tickets_along(if sort == QueueSort::UpdatedDesc {
                    "tickets_updated"
                } else {
                    "tickets_solved"
                })
            }
            View::BreachingSoon => {
                conds.push(UNSOLVED.into());
                // Each ticket once, at its soonest due instant: a clock
                // counts unless the same ticket has one due sooner (ties
                // broken by metric and instance), a primary-key probe.
                conds.push(
                    "m.next_due IS NOT NULL AND NOT EXISTS (
                        SELECT 1 FROM ticket_metrics e
                        WHERE e.ticket_id = m.ticket_id AND e.next_due IS NOT NULL
                        AND (e.next_due < m.next_due OR (e.next_due = m.next_due
                             AND (e.metric < m.metric OR (e.metric = m.metric AND e.instance < m.instance)))))"
                        .into(),
                );
                order = "m.next_due, t.id".into();
                format!(
                    "{} JOIN tickets t ON t.id = m.ticket_id",
                    self.indexed("ticket_metrics m", "ticket_metrics_due")
                )
            }
        };
        // The page's ids first, then its rows: what is sorted or skipped
        // is an id and its sort keys (from the index alone where the index
        // covers them), never a whole ticket with its description.
        let sql = format!(
            "SELECT t.id FROM {from} WHERE {} ORDER BY {order} LIMIT {} OFFSET {offset}",
            and_all(&conds),
            per_page + 1
        );
        let mut conn = self.reader().await?;
        let mut ids = args
            .bind(sqlx::query(&sql))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let has_more = ids.len() as i64 > per_page;
        ids.truncate(per_page as usize);
        if ids.is_empty() {
            return Ok(QueuePage {
                tickets: Vec::new(),
                has_more,
            });
        }
        let mut args = Args::default();
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id IN ({})",
            args.ints(&ids)
        );
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        let mut tickets = self.hydrate(&mut conn, &rows).await?;
        let rank: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        tickets.sort_by_key(|t| rank.get(&t.id).copied());
        Ok(QueuePage { tickets, has_more })
    }

    /// Each ticket's most urgent SLA target: the earliest breach among its
    /// active or paused clocks; tickets whose targets are all met have none.
    pub async fn sla_badges(&self, ticket_ids: &[i64], now: i64) -> Result<HashMap<i64, SlaBadge>> {
        let mut out: HashMap<i64, SlaBadge> = HashMap::new();
        if ticket_ids.is_empty() {
            return Ok(out);
        }
        let cals = self.calendars().await?;
        let mut args = Args::default();
        let sql = format!(
            "SELECT ticket_id, clock FROM ticket_metrics WHERE ticket_id IN ({})",
            args.ints(ticket_ids)
        );
        let mut conn = self.reader().await?;
        let rows = args.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
        for r in rows {
            let id: i64 = r.try_get("ticket_id")?;
            let clock: steward_domain::sla::Clock =
                serde_json::from_str(&r.try_get::<String, _>("clock")?)?;
            let stage = clock.stage();
            if stage == Stage::Achieved {
                continue;
            }
            let Some(cal) = cals.get(&clock.calendar) else {
                continue;
            };
            let badge = SlaBadge {
                metric: clock.metric,
                remaining_secs: clock.target_secs - clock.elapsed_at(cal, now),
                breach_at: clock.breach_at(cal),
                paused: stage == Stage::Paused,
            };
            match out.get(&id) {
                Some(b) if b.remaining_secs <= badge.remaining_secs => {}
                _ => {
                    out.insert(id, badge);
                }
            }
        }
        Ok(out)
    }
}
