//! End-to-end tests: the real server over HTTP on port 0, against SQLite by
//! default and PostgreSQL when `STEWARD_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod automation;
mod bad_input;
mod browser;
mod cli;
mod cluster;
mod dashboards;
mod escalation;
mod feedback;
mod health;
mod helpers;
mod hub;
mod kb;
mod mail;
mod metrics;
mod notifications;
mod outbox;
mod people;
mod projects;
mod search;
mod sla;
mod sla_cli;
mod sla_report;
mod status_reports;
mod surveys;
mod templates;
mod tickets;
mod visibility;
mod web;
mod web_dashboards;
mod web_hub;
mod web_portal;
mod web_ticket;
mod web_voice;
mod zenpy;
