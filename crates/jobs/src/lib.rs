//! Steward's background workers, started by `steward serve`.
//!
//! * The **SLA scheduler** fires warnings and breaches whose instant has
//!   come, and the escalation ladder's time triggers, overdue war-room
//!   updates and overdue root-cause analyses, and the time-based
//!   automation rules (policies.md §7) of tickets whose next check is due.
//!   It polls every [`TICK`] with indexed queries over due rows only, so a
//!   tick costs the same with a thousand or a million open tickets; events
//!   fire within a tick (plus commit time) of their instant.
//! * **Outbox delivery** sends queued Slack-compatible messages to the
//!   webhook URL configured for their channel (the `channels` setting),
//!   with the outbox row's idempotency key in an `Idempotency-Key` header,
//!   retrying failures with backoff. Messages for a channel without a URL
//!   are marked done and logged: nothing is waiting to receive them.
//! * **E-mail delivery** sends outbox messages of kind `email` over SMTP
//!   ([`mail`]), with the same claim, lease and backoff. Without SMTP
//!   configuration they stay queued, deferred a minute at a time, and each
//!   deferral is logged: an e-mail is never dropped for want of a server.
//!
//! * The **schedule** makes the Friday drafts of the weekly status reports
//!   (checked every minute; see `steward_store::status_reports`) and the
//!   nightly recompute of every account's health (from 02:00 UTC). Accounts
//!   whose inputs changed are recomputed by the SLA loop within a tick.
//!
//! Work is claimed in the database, so several processes sharing one
//! PostgreSQL database each do part of it and nothing twice.

use std::{sync::Arc, time::Duration};

use serde_json::Value;
use steward_store::Store;
use tokio::sync::watch;

pub mod mail;

pub use mail::MailConfig;

pub const TICK: Duration = Duration::from_millis(250);
const BATCH: i64 = 500;
pub const SCHEDULE_TICK: Duration = Duration::from_secs(60);

/// Where workers read "now" (the system clock, or a test's clock).
pub type Now = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Starts the workers; they stop when `shutdown` turns true. `mail` says
/// where e-mails go (read from the environment by the binary).
pub fn spawn(
    store: Store,
    now: Now,
    mail: MailConfig,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let worker = format!("{}-{:08x}", std::process::id(), rand_id());
    vec![
        tokio::spawn(sla_loop(store.clone(), now.clone(), shutdown.clone())),
        tokio::spawn(schedule_loop(store.clone(), now.clone(), shutdown.clone())),
        tokio::spawn(outbox_loop(store, now, worker, mail, shutdown)),
    ]
}

fn rand_id() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

async fn pause(shutdown: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.changed() => true,
    }
}

async fn sla_loop(store: Store, now: Now, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match store.fire_due_sla(now(), BATCH).await {
            // A full batch means more is due: go again at once.
            Ok(f) if (f.warnings + f.breaches) as i64 >= BATCH => continue,
            Ok(f) if f.warnings + f.breaches > 0 => {
                tracing::info!(
                    sla.warnings = f.warnings,
                    sla.breaches = f.breaches,
                    "fired SLA events"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "SLA scheduler tick failed"),
        }
        match store.fire_due_escalations(now(), BATCH).await {
            Ok(n) if n as i64 >= BATCH => continue,
            Ok(n) if n > 0 => tracing::info!(escalation.fired = n, "fired time-based escalations"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "escalation tick failed"),
        }
        match store.run_automations(now(), BATCH).await {
            Ok(r) if r.checked as i64 >= BATCH => continue,
            Ok(r) if r.fired > 0 => tracing::info!(
                automation.checked = r.checked,
                automation.fired = r.fired,
                "ran automations"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "automation tick failed"),
        }
        match store.recompute_dirty_health(now(), BATCH).await {
            Ok(r) if r.accounts as i64 >= BATCH => continue,
            Ok(r) if r.level_changes > 0 => tracing::info!(
                health.accounts = r.accounts,
                health.level_changes = r.level_changes,
                health.playbooks = r.playbooks,
                health.alerts = r.alerts,
                "recomputed health"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "health recompute failed"),
        }
        if pause(&mut shutdown, TICK).await {
            return;
        }
    }
}

/// Calendar work that is due at most once a day: the nightly health
/// recompute, the Friday drafts of the weekly status reports, survey
/// campaigns (quarterly NPS, weekly pulse) whose `send_at` has come, and
/// the dashboards' daily roll-ups (so the day's first dashboard request
/// does not compute them); and, every tick, the SLA dashboard's months
/// before they go stale. Checked every [`SCHEDULE_TICK`].
///
/// Survey links need an absolute base URL, which only configuration knows:
/// `STEWARD_PUBLIC_URL` (the variable `steward serve --public-url` reads).
/// Without it, scheduled campaigns wait (and say so in the log); they can
/// still be sent through the API, which takes the base from the request.
async fn schedule_loop(store: Store, now: Now, mut shutdown: watch::Receiver<bool>) {
    let public_url = std::env::var("STEWARD_PUBLIC_URL")
        .ok()
        .filter(|v| !v.is_empty());
    loop {
        if *shutdown.borrow() {
            return;
        }
        match store.nightly_health(now()).await {
            Ok(Some(r)) => tracing::info!(
                health.accounts = r.accounts,
                health.level_changes = r.level_changes,
                "nightly health recompute"
            ),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "nightly health recompute failed"),
        }
        match &public_url {
            Some(base) => match store.send_due_campaigns(base, now()).await {
                Ok(n) if n > 0 => tracing::info!(emails.queued = n, "sent due survey campaigns"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "sending due survey campaigns failed"),
            },
            None => tracing::debug!("STEWARD_PUBLIC_URL is not set; scheduled NPS campaigns wait"),
        }
        match store.make_friday_drafts(now()).await {
            Ok(n) if n > 0 => tracing::info!(reports.drafted = n, "drafted weekly status reports"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "weekly report drafts failed"),
        }
        let started = std::time::Instant::now();
        match store.warm_dashboards(now()).await {
            Ok(true) => tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "warmed the dashboards' daily roll-ups"
            ),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "warming the dashboards failed"),
        }
        // Two ticks early, so a request does not find the month stale
        // between two ticks.
        let early = 2 * SCHEDULE_TICK.as_secs() as i64;
        if let Err(e) = store.refresh_sla_months_ahead(now(), early).await {
            tracing::error!(error = %e, "refreshing the SLA dashboard's months failed");
        }
        if pause(&mut shutdown, SCHEDULE_TICK).await {
            return;
        }
    }
}

async fn outbox_loop(
    store: Store,
    now: Now,
    worker: String,
    mail: MailConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let mailer = match mail::Mailer::new(&mail) {
        Ok(Some(m)) => Some(m),
        Ok(None) => {
            tracing::warn!(
                "SMTP is not configured (STEWARD_SMTP_URL, STEWARD_MAIL_FROM); e-mails stay queued"
            );
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "SMTP is misconfigured; e-mails stay queued");
            None
        }
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        match deliver_some(&store, &client, mailer.as_ref(), &now, &worker).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "outbox delivery failed"),
        }
        if pause(&mut shutdown, TICK * 2).await {
            return;
        }
    }
}

async fn deliver_some(
    store: &Store,
    client: &reqwest::Client,
    mailer: Option<&mail::Mailer>,
    now: &Now,
    worker: &str,
) -> steward_store::Result<usize> {
    let batch = store.claim_outbox(worker, 20, 60, now()).await?;
    let channels = store.setting("channels").await?.unwrap_or(Value::Null);
    for m in &batch {
        if m.kind == "email" {
            deliver_email(store, mailer, now, m).await?;
            continue;
        }
        let channel = m
            .payload
            .get("channel")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let url = channels
            .get(channel)
            .and_then(|c| c.get("webhook_url"))
            .and_then(Value::as_str);
        let Some(url) = url.filter(|_| m.kind == "slack") else {
            tracing::info!(outbox.id = m.id, outbox.kind = %m.kind, channel, "no webhook configured; message dropped");
            store.complete_outbox(m.id, now()).await?;
            continue;
        };
        let sent = client
            .post(url)
            .header("Idempotency-Key", &m.idempotency_key)
            .json(&m.payload)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => store.complete_outbox(m.id, now()).await?,
            Ok(r) => {
                store
                    .fail_outbox(
                        m.id,
                        m.attempts,
                        &format!("webhook answered {}", r.status()),
                        now(),
                    )
                    .await?
            }
            Err(e) => {
                store
                    .fail_outbox(
                        m.id,
                        m.attempts,
                        &format!("webhook unreachable: {e}"),
                        now(),
                    )
                    .await?
            }
        }
    }
    Ok(batch.len())
}

async fn deliver_email(
    store: &Store,
    mailer: Option<&mail::Mailer>,
    now: &Now,
    m: &steward_store::OutboxMessage,
) -> steward_store::Result<()> {
    let Some(mailer) = mailer else {
        tracing::info!(
            outbox.id = m.id,
            "SMTP is not configured; e-mail stays queued"
        );
        return store
            .defer_outbox(m.id, now() + 60, "SMTP is not configured")
            .await;
    };
    match mailer.send(&m.payload).await {
        Ok(()) => {
            tracing::info!(
                outbox.id = m.id,
                outbox.attempts = m.attempts + 1,
                "e-mail sent"
            );
            store.complete_outbox(m.id, now()).await
        }
        Err(e) => {
            tracing::warn!(outbox.id = m.id, error = %e, "e-mail not sent; will retry");
            store.fail_outbox(m.id, m.attempts, &e, now()).await
        }
    }
}
