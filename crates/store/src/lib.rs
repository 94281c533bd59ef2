//! Steward's persistence layer: one [`Store`] over SQLite (default, embedded)
//! and PostgreSQL, chosen from the database URL.
//!
//! Every write that belongs together runs in one transaction, including its
//! full-text index entries, audit events, counters and outbox rows, so a
//! crash at any point leaves either all of it or none.

pub mod access;
pub mod account_list;
pub mod auth;
pub mod automation;
pub mod bulk;
pub mod cab;
mod cache;
pub mod calendars;
pub mod dashboards;
pub mod dates;
pub mod db;
pub mod error;
pub mod escalation;
pub mod feedback;
pub mod groups;
pub mod health;
pub mod hub;
pub mod jobs;
pub mod kb;
pub mod metrics;
mod notices;
pub mod orgs;
pub mod outbox;
pub mod page;
pub mod portal;
pub mod project_parts;
pub mod projects;
pub mod queues;
pub mod replies;
pub mod satisfaction;
pub mod search;
pub mod sessions;
pub mod sla;
pub mod sla_report;
mod sql;
pub mod status_reports;
pub mod surveys;
pub mod tasks;
pub mod templates;
pub mod tickets;
pub mod users;

pub use access::{Actor, Scope};
pub use bulk::BulkTicket;
pub use db::{Dialect, Store, Tx};
pub use error::{Result, StoreError};
pub use groups::{Group, GroupInput, TicketField};
pub use jobs::JobStatus;
pub use orgs::{Account, OrgFilter, OrgInput, Organization};
pub use outbox::{OutboxEntry, OutboxMessage};
pub use page::{Page, PageRequest, Sort};
pub use search::Hit;
pub use sqlx::Error as DbError;
pub use tickets::{Audit, Comment, NewComment, RequesterRef, Ticket, TicketFilter, TicketInput};
pub use users::{User, UserFilter, UserInput};
