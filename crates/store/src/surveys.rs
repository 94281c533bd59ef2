//! The survey program (policies.md §10): NPS and weekly pulse campaigns,
//! single-use survey tokens, responses (NPS ones with their §10 follow-up
//! tasks), reminders, unsubscribes, closing and editing campaigns, the
//! campaign reports and the four-quarter NPS trend.
//!
//! Decisions:
//! - **Kinds.** A campaign is `nps` (the quarterly 0–10 question with its
//!   extended survey) or `pulse` (the weekly five questions; its schedule,
//!   audience rotation and arithmetic are `steward_domain::pulse`'s). Both
//!   share tokens, sending, reminders, unsubscribes and the public page
//!   `/s/{token}`, which asks what the link's campaign asks. Pulse answers
//!   are `pulse_responses`, not NPS responses: the quarterly trend and the
//!   churn-risk model's NPS read only the NPS program.
//! - **Editing** (name, send time, audience) is allowed while a campaign is
//!   a draft; once sent, a 409 (the claim is a conditional UPDATE, so an
//!   edit racing the sender either lands before it or is refused).
//! - **Closing** (`sent` or `draft` → `closed`) stops answers — the public
//!   page answers 410 "closed" — and reminders; closing a closed campaign
//!   is a no-op. Closing a pulse series' next draft ends the series.
//!   Unsubscribing from a closed campaign's link still works.
//! - **Themes.** Feedback made from a survey answer (an NPS reason, a pulse
//!   friction point) keeps its campaign (`feedback_items.survey_campaign_id`);
//!   a report's `top_themes` are the live themes those items were filed
//!   under, by distinct accounts, then items (at most 10).
//! - **Tokens.** A link carries a random 32-byte token; only its sha256 is
//!   stored (`survey_tokens.token_hash`), like API tokens. Tokens are valid
//!   7 days from sending and single-use: answering marks every token of that
//!   contact in that campaign used (a reminder issues a second link, since
//!   the first one cannot be rebuilt from its hash; both expire together).
//!   `UNIQUE (campaign_id, user_id)` on responses backs this up.
//! - **Audience.** Active, unsuspended end users with an e-mail address, of
//!   accounts whose status and tier match the campaign's rules (default:
//!   active accounts, every tier), minus `survey_unsubscribes`.
//! - **Sending** creates every token and every outbox e-mail in one
//!   transaction (STYLE rule 4); a campaign is sent once (`draft` → `sent`,
//!   claimed by a conditional UPDATE), by the API or, once `send_at` has
//!   come, by the jobs' schedule loop ([`Store::send_due_campaigns`]).
//! - **Reminders** go once per campaign, to contacts who have not answered
//!   and whose link has not expired.
//! - **Follow-up owner.** Steward has no per-account CSM field yet, so the
//!   §10 follow-up tasks go to the first active CSM (lowest id), or the
//!   first active admin when there is no CSM. Tasks are created in the
//!   transaction that stores the response.
//! - **Time live.** Segmented by months since the account's
//!   `contract_start` (the account-level date Steward has; per-project
//!   go-live dates live in projects and an account may have several).
//! - **Report.** NPS and shares come from [`Tally`] (integers, half away
//!   from zero, `null` without responses); response rate = answered
//!   contacts / contacts sent to, in percent, rounded the same way.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sqlx::{AnyConnection, Row, any::AnyRow};
use steward_domain::{
    Money, Role, Tier,
    feedback::{FeedbackCategory, FeedbackSource},
    hub::Sentiment,
    nps::{Category, Tally, div_round_half_away, follow_ups},
    pulse::{self, PulseAnswer},
    survey::{Audience, CampaignKind, Quarter, time_live_segment},
    time::Month,
};

use crate::{
    Store,
    access::Actor,
    auth::{generate_token, token_digest},
    db::{Tx, opt_str},
    error::{Result, StoreError},
    outbox::MESSAGE_ID_DOMAIN,
    tasks::{CreatedBy, NewTask},
};

/// How long a survey link is valid.
pub const TOKEN_TTL: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: i64,
    pub kind: CampaignKind,
    pub name: String,
    pub quarter: String,
    pub send_at: i64,
    pub audience: Audience,
    pub status: String,
    pub sent_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub created_by: i64,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// The pulse campaign this draft continues (the weekly series).
    pub follows_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub kind: CampaignKind,
    pub name: String,
    pub quarter: Quarter,
    pub send_at: i64,
    pub audience: Audience,
}

/// An edit of a draft campaign: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct CampaignEdit {
    pub name: Option<String>,
    pub send_at: Option<i64>,
    pub audience: Option<Audience>,
}

/// Why a survey link does not open the survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Expired,
    Used,
    /// Staff closed the campaign.
    Closed,
}

/// A valid link's context.
#[derive(Debug, Clone)]
pub struct SurveyLink {
    pub campaign_id: i64,
    pub kind: CampaignKind,
    pub campaign_status: String,
    pub user_id: i64,
    pub user_name: String,
    pub organization_id: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A stored answer to the 0–10 question.
#[derive(Debug, Clone)]
pub struct Answered {
    pub response_id: i64,
    pub category: Category,
    pub task_ids: Vec<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Segment {
    pub tally: Tally,
}

#[derive(Debug, Clone)]
pub struct Detractor {
    pub response_id: i64,
    pub organization_id: i64,
    pub organization: String,
    pub user_id: i64,
    pub name: String,
    pub score: i64,
    pub reason: String,
    pub extended: Option<Value>,
    pub answered_at: i64,
}

#[derive(Debug, Clone)]
pub struct NpsReport {
    pub campaign: Campaign,
    pub tally: Tally,
    /// Contacts a link was sent to.
    pub sent: u32,
    /// Answered / sent, percent (`None` before sending).
    pub response_rate: Option<i32>,
    pub by_tier: BTreeMap<String, Tally>,
    pub by_industry: BTreeMap<String, Tally>,
    /// Months from the account's contract start to the answer (§10's
    /// "time live"; see `survey::time_live_segment`).
    pub by_time_live: BTreeMap<String, Tally>,
    pub detractors: Vec<Detractor>,
    pub top_themes: Vec<ThemeCount>,
}

/// A feedback theme in a report: (id, title, distinct accounts, items).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeCount {
    pub id: i64,
    pub title: String,
    pub accounts: i64,
    pub items: i64,
}

/// A free-text pulse answer with who gave it.
#[derive(Debug, Clone)]
pub struct PulseText {
    pub response_id: i64,
    pub organization_id: i64,
    pub organization: String,
    pub user_id: i64,
    pub name: String,
    pub text: String,
    pub answered_at: i64,
}

#[derive(Debug, Clone)]
pub struct PulseReport {
    pub campaign: Campaign,
    /// Contacts a link was sent to.
    pub sent: u32,
    /// Answered / sent, percent (`None` before sending).
    pub response_rate: Option<i32>,
    pub summary: pulse::Summary,
    pub friction_points: Vec<PulseText>,
    pub valuable_features: Vec<PulseText>,
    pub top_themes: Vec<ThemeCount>,
}

const COLUMNS: &str = "id, kind, name, quarter, send_at, audience, status, sent_at, reminded_at, \
                       created_by, created_at, closed_at, follows_id";

fn campaign_from_row(r: &AnyRow) -> Result<Campaign> {
    Ok(Campaign {
        id: r.try_get("id")?,
        kind: CampaignKind::parse(&r.try_get::<String, _>("kind")?)?,
        name: r.try_get("name")?,
        quarter: r.try_get("quarter")?,
        send_at: r.try_get("send_at")?,
        audience: serde_json::from_str(&r.try_get::<String, _>("audience")?)?,
        status: r.try_get("status")?,
        sent_at: r.try_get("sent_at")?,
        reminded_at: r.try_get("reminded_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        closed_at: r.try_get("closed_at")?,
        follows_id: r.try_get("follows_id")?,
    })
}

fn may_read(actor: &Actor) -> Result<()> {
    if actor.role().is_staff() {
        Ok(())
    } else {
        Err(StoreError::Forbidden("NPS campaigns are for staff".into()))
    }
}

fn may_write(actor: &Actor) -> Result<()> {
    may_read(actor)?;
    if actor.role().can_write() {
        Ok(())
    } else {
        Err(StoreError::Forbidden(
            "viewers cannot run NPS campaigns".into(),
        ))
    }
}

fn tier_of(acv: Option<i64>, pinned: Option<String>) -> Tier {
    let pinned = pinned.and_then(|p| Tier::parse(&p).ok());
    Tier::effective(acv.map(Money), pinned)
}

fn link(public_url: &str, token: &str) -> String {
    format!("{}/s/{token}", public_url.trim_end_matches('/'))
}

fn survey_email(
    kind: CampaignKind,
    to: &str,
    name: &str,
    url: &str,
    reminder: bool,
    key: &str,
) -> Value {
    let (subject, intro) = match (kind, reminder) {
        (CampaignKind::Nps, true) => (
            "Reminder: one question about Steward",
            "A few days ago we asked you one question; your answer would help us a lot.",
        ),
        (CampaignKind::Nps, false) => (
            "One question about Steward",
            "How likely are you to recommend Steward to a friend or colleague?",
        ),
        (CampaignKind::Pulse, true) => (
            "Reminder: your weekly pulse",
            "A few days ago we sent you five quick questions; two minutes of your time would help us a lot.",
        ),
        (CampaignKind::Pulse, false) => (
            "Your weekly pulse: five quick questions about Steward",
            "How is Steward working for you this week? Five quick questions, two minutes.",
        ),
    };
    let text = format!(
        "Hello {name},\n\n{intro}\n\nAnswer here (one click, valid 7 days): {url}\n\nStop these surveys: {url}/unsubscribe\n"
    );
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let html = format!(
        "<p>Hello {},</p><p>{intro}</p><p><a href=\"{u}\">Answer the survey</a> (valid 7 days)</p>\
         <p><small><a href=\"{u}/unsubscribe\">Stop these surveys</a></small></p>",
        esc(name),
        u = esc(url),
    );
    json!({
        "to": to,
        "subject": subject,
        "text": text,
        "html": html,
        "headers": {"Message-ID": format!("<{key}@{MESSAGE_ID_DOMAIN}>")},
    })
}

impl Store {
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        input: NewCampaign,
        now: i64,
    ) -> Result<Campaign> {
        may_write(actor)?;
        let name = input.name.trim().to_string();
        if name.is_empty() {
            return Err(StoreError::invalid("name", "is required"));
        }
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO nps_campaigns (name, quarter, send_at, audience, status, created_by, created_at, kind)
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7) RETURNING id",
        )
        .bind(&name)
        .bind(input.quarter.to_string())
        .bind(input.send_at)
        .bind(serde_json::to_string(&input.audience)?)
        .bind(actor.id())
        .bind(now)
        .bind(input.kind.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        self.commit(tx).await?;
        self.campaign(actor, id).await
    }

    /// Changes a draft's name, send time or audience; a campaign that went
    /// out (or was closed) is a 409.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: i64,
        edit: CampaignEdit,
    ) -> Result<Campaign> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let c = self.campaign_tx(&mut tx, id).await?;
        if c.status != "draft" {
            return Err(StoreError::Conflict(format!(
                "campaign {id} is {}; only a draft can be edited",
                c.status
            )));
        }
        let name = match edit.name {
            Some(n) if n.trim().is_empty() => {
                return Err(StoreError::invalid("name", "cannot be blank"));
            }
            Some(n) => n.trim().to_string(),
            None => c.name,
        };
        let audience = edit.audience.unwrap_or(c.audience);
        // Conditional on the draft: of an edit and a send racing, the send's
        // claim (also conditional) wins or waits, never both.
        let changed = sqlx::query(
            "UPDATE nps_campaigns SET name = $1, send_at = $2, audience = $3 WHERE id = $4 AND status = 'draft'",
        )
        .bind(&name)
        .bind(edit.send_at.unwrap_or(c.send_at))
        .bind(serde_json::to_string(&audience)?)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "campaign {id} was sent meanwhile; only a draft can be edited"
            )));
        }
        self.commit(tx).await?;
        self.campaign(actor, id).await
    }

    /// Closes a campaign: no more answers, no reminders, never sent if it
    /// was a draft. Closing it again changes nothing.
    pub async fn close_campaign(&self, actor: &Actor, id: i64, now: i64) -> Result<Campaign> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        self.campaign_tx(&mut tx, id).await?;
        sqlx::query(
            "UPDATE nps_campaigns SET status = 'closed', closed_at = $1 WHERE id = $2 AND status <> 'closed'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        self.campaign(actor, id).await
    }

    pub async fn campaign(&self, actor: &Actor, id: i64) -> Result<Campaign> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let sql = format!("SELECT {COLUMNS} FROM nps_campaigns WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| campaign_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("NPS campaign"))
    }

    /// The latest 100 campaigns, of one kind when given.
    pub async fn campaigns(
        &self,
        actor: &Actor,
        kind: Option<CampaignKind>,
    ) -> Result<Vec<Campaign>> {
        may_read(actor)?;
        let mut conn = self.reader().await?;
        let rows = match kind {
            Some(k) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM nps_campaigns WHERE kind = $1 ORDER BY id DESC LIMIT 100"
                );
                sqlx::query(&sql)
                    .bind(k.as_str())
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM nps_campaigns ORDER BY id DESC LIMIT 100");
                sqlx::query(&sql).fetch_all(&mut *conn).await?
            }
        };
        rows.iter().map(campaign_from_row).collect()
    }

    async fn campaign_tx(&self, tx: &mut Tx, id: i64) -> Result<Campaign> {
        let sql = format!("SELECT {COLUMNS} FROM nps_campaigns WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?;
        row.map(|r| campaign_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("NPS campaign"))
    }

    async fn insert_token_tx(
        &self,
        tx: &mut Tx,
        (campaign, user, org): (i64, i64, i64),
        expires_at: i64,
        reminded_at: Option<i64>,
        now: i64,
    ) -> Result<String> {
        let token = generate_token();
        sqlx::query(
            "INSERT INTO survey_tokens (token_hash, campaign_id, user_id, organization_id, expires_at, reminded_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_digest(&token))
        .bind(campaign)
        .bind(user)
        .bind(org)
        .bind(expires_at)
        .bind(reminded_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(token)
    }

    /// Sends a draft campaign: a token and an e-mail per contact of the
    /// audience, all in one transaction. Returns the number of e-mails.
    pub async fn send_campaign(
        &self,
        actor: &Actor,
        id: i64,
        public_url: &str,
        now: i64,
    ) -> Result<(Campaign, u32)> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let c = self.campaign_tx(&mut tx, id).await?;
        // The claim: of two concurrent senders (the API and the scheduler,
        // or two workers) only the one whose UPDATE finds the draft goes on;
        // on PostgreSQL the other waits on the row lock, then finds 'sent'.
        let claimed = sqlx::query(
            "UPDATE nps_campaigns SET status = 'sent', sent_at = $1 WHERE id = $2 AND status = 'draft'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 || c.status != "draft" {
            return Err(StoreError::Conflict(match c.status.as_str() {
                "closed" => format!("campaign {id} is closed"),
                _ => format!("campaign {id} was already sent"),
            }));
        }
        // A pulse asks one cohort a week and skips whoever was sent an NPS
        // link in the days before (`steward_domain::pulse`). Only integers
        // are formatted into the SQL.
        let pulse_only = match c.kind {
            CampaignKind::Nps => String::new(),
            CampaignKind::Pulse => format!(
                " AND u.id % {cohorts} = {cohort}
                  AND NOT EXISTS (SELECT 1 FROM survey_tokens t JOIN nps_campaigns nc ON nc.id = t.campaign_id
                                  WHERE t.user_id = u.id AND t.created_at > {quiet} AND nc.kind = 'nps')",
                cohorts = pulse::COHORTS,
                cohort = pulse::cohort_of_week(c.send_at),
                quiet = now - pulse::NPS_QUIET_DAYS * 86_400,
            ),
        };
        let rows = sqlx::query(&format!(
            "SELECT u.id, u.name, u.email, o.id AS org_id, o.account_status, o.acv_cents, o.tier_pinned
             FROM users u JOIN organizations o ON o.id = u.organization_id
             WHERE u.role = $1 AND u.active = 1 AND u.suspended = 0 AND u.email IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM survey_unsubscribes s WHERE s.user_id = u.id){pulse_only}
             ORDER BY u.id"
        ))
        .bind(Role::EndUser.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let mut sent = 0u32;
        for r in &rows {
            let status: String = r.try_get("account_status")?;
            let tier = tier_of(r.try_get("acv_cents")?, opt_str(r, "tier_pinned")?);
            if !c.audience.matches(&status, tier) {
                continue;
            }
            let user: i64 = r.try_get("id")?;
            let name: String = r.try_get("name")?;
            let Some(email) = opt_str(r, "email")? else {
                continue;
            };
            let org: i64 = r.try_get("org_id")?;
            let token = self
                .insert_token_tx(&mut tx, (id, user, org), now + TOKEN_TTL, None, now)
                .await?;
            let key = format!("{}-{id}-{user}", c.kind.as_str());
            let payload = survey_email(
                c.kind,
                &email,
                &name,
                &link(public_url, &token),
                false,
                &key,
            );
            self.enqueue(&mut tx, "email", &format!("email:{key}"), &payload, now)
                .await?;
            sent += 1;
        }
        if c.kind == CampaignKind::Pulse {
            self.schedule_next_pulse_tx(&mut tx, &c, now).await?;
        }
        self.commit(tx).await?;
        Ok((self.campaign(actor, id).await?, sent))
    }

    /// The weekly series: the draft that follows pulse `c`, same audience
    /// and creator, at the next slot (`pulse::next_send_at`). Once per
    /// campaign (`UNIQUE (follows_id)`).
    async fn schedule_next_pulse_tx(&self, tx: &mut Tx, c: &Campaign, now: i64) -> Result<()> {
        let at = pulse::next_send_at(c.send_at, now);
        let m = Month::of_instant(at);
        let quarter = Quarter::of_month(m.year() as i32, m.number() as i8);
        sqlx::query(
            "INSERT INTO nps_campaigns (name, quarter, send_at, audience, status, created_by, created_at, kind, follows_id)
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, 'pulse', $7) ON CONFLICT (follows_id) DO NOTHING",
        )
        .bind(pulse::campaign_name(at))
        .bind(quarter.to_string())
        .bind(at)
        .bind(serde_json::to_string(&c.audience)?)
        .bind(c.created_by)
        .bind(now)
        .bind(c.id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Sends the draft campaigns whose `send_at` has come (the scheduler's
    /// side of §10's quarterly NPS program and of the weekly pulse), each
    /// as its creator. Returns the
    /// number of e-mails queued.
    pub async fn send_due_campaigns(&self, public_url: &str, now: i64) -> Result<u32> {
        let rows = {
            let mut conn = self.reader().await?;
            sqlx::query(
                "SELECT id, created_by FROM nps_campaigns WHERE status = 'draft' AND send_at <= $1
                 ORDER BY send_at, id LIMIT 20",
            )
            .bind(now)
            .fetch_all(&mut *conn)
            .await?
        };
        let mut total = 0;
        for r in &rows {
            let actor = Actor {
                user: self.user(r.try_get("created_by")?).await?,
                org_shares_tickets: false,
            };
            match self
                .send_campaign(&actor, r.try_get("id")?, public_url, now)
                .await
            {
                Ok((_, n)) => total += n,
                // Sent meanwhile by someone else.
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(total)
    }

    /// Reminds, once per campaign, the contacts who have not answered and
    /// whose link is still valid: a fresh link, expiring with the first.
    pub async fn remind_campaign(
        &self,
        actor: &Actor,
        id: i64,
        public_url: &str,
        now: i64,
    ) -> Result<u32> {
        may_write(actor)?;
        let mut tx = self.begin().await?;
        let c = self.campaign_tx(&mut tx, id).await?;
        // A closed campaign takes no answers, so it sends no reminders.
        if c.status != "sent" {
            return Err(StoreError::Conflict(format!(
                "campaign {id} is not out (status {})",
                c.status
            )));
        }
        if c.reminded_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "campaign {id} was already reminded"
            )));
        }
        let rows = sqlx::query(
            "SELECT t.user_id, t.organization_id, t.expires_at, u.name, u.email
             FROM survey_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.campaign_id = $1 AND t.used_at IS NULL AND t.reminded_at IS NULL AND t.expires_at > $2
               AND u.active = 1 AND u.suspended = 0
               AND NOT EXISTS (SELECT 1 FROM survey_unsubscribes s WHERE s.user_id = t.user_id)
               AND NOT EXISTS (SELECT 1 FROM nps_responses r WHERE r.campaign_id = t.campaign_id AND r.user_id = t.user_id)
               AND NOT EXISTS (SELECT 1 FROM pulse_responses p WHERE p.campaign_id = t.campaign_id AND p.user_id = t.user_id)
             ORDER BY t.user_id",
        )
        .bind(id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut sent = 0u32;
        for r in &rows {
            let user: i64 = r.try_get("user_id")?;
            let Some(email) = opt_str(r, "email")? else {
                continue;
            };
            let name: String = r.try_get("name")?;
            let token = self
                .insert_token_tx(
                    &mut tx,
                    (id, user, r.try_get("organization_id")?),
                    r.try_get("expires_at")?,
                    Some(now),
                    now,
                )
                .await?;
            let key = format!("{}-{id}-{user}-reminder", c.kind.as_str());
            let payload =
                survey_email(c.kind, &email, &name, &link(public_url, &token), true, &key);
            self.enqueue(&mut tx, "email", &format!("email:{key}"), &payload, now)
                .await?;
            sent += 1;
        }
        sqlx::query("UPDATE survey_tokens SET reminded_at = $1 WHERE campaign_id = $2 AND reminded_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE nps_campaigns SET reminded_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(sent)
    }

    async fn link_tx(&self, tx: &mut Tx, token: &str) -> Result<Option<SurveyLink>> {
        link_on(tx, token).await
    }

    /// The survey behind a link, if it may still be answered.
    pub async fn survey_link(
        &self,
        token: &str,
        now: i64,
    ) -> Result<std::result::Result<SurveyLink, TokenProblem>> {
        // A read: a survey page view must not queue behind SQLite's writer.
        let mut conn = self.reader().await?;
        let l = link_on(&mut conn, token).await?;
        Ok(check_link(l, now))
    }

    /// Stores a 0–10 answer: the response, the §10 follow-up tasks and the
    /// used mark, in one transaction.
    pub async fn answer_survey(
        &self,
        token: &str,
        score: u8,
        reason: &str,
        now: i64,
    ) -> Result<std::result::Result<Answered, TokenProblem>> {
        let category = Category::of(score).map_err(|e| StoreError::invalid("score", e.0))?;
        let mut tx = self.begin().await?;
        let l = match check_link(self.link_tx(&mut tx, token).await?, now) {
            // A pulse link answers the pulse (`answer_pulse`), never NPS.
            Ok(l) if l.kind != CampaignKind::Nps => return Ok(Err(TokenProblem::Unknown)),
            Ok(l) => l,
            Err(p) => return Ok(Err(p)),
        };
        let row = sqlx::query(
            "INSERT INTO nps_responses (campaign_id, organization_id, user_id, score, category, reason, answered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(l.campaign_id)
        .bind(l.organization_id)
        .bind(l.user_id)
        .bind(i64::from(score))
        .bind(category.as_str())
        .bind(reason.trim())
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let response_id: i64 = match row {
            Ok(r) => r.try_get("id")?,
            // A second link of the same contact, answered concurrently.
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                return Ok(Err(TokenProblem::Used));
            }
            Err(e) => return Err(e.into()),
        };
        sqlx::query(
            "UPDATE survey_tokens SET used_at = $1 WHERE campaign_id = $2 AND user_id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(l.campaign_id)
        .bind(l.user_id)
        .execute(&mut *tx)
        .await?;
        let owner = self.follow_up_owner_tx(&mut tx).await?;
        let org_name: String = sqlx::query("SELECT name FROM organizations WHERE id = $1")
            .bind(l.organization_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("name")?;
        let mut task_ids = vec![];
        for f in follow_ups(category) {
            let task = NewTask {
                title: format!("{} ({}, NPS {score})", f.title, l.user_name),
                description: format!(
                    "NPS {} of {} at {org_name}: {}",
                    category.as_str(),
                    l.user_name,
                    if reason.trim().is_empty() {
                        "(no reason given)"
                    } else {
                        reason.trim()
                    }
                ),
                owner_id: owner,
                due_at: Some(now + f.due_hours * 3600),
                priority: f.priority,
                ticket_id: None,
                organization_id: Some(l.organization_id),
                created_by: CreatedBy::System,
            };
            task_ids.push(self.create_task_tx(&mut tx, task, now).await?);
        }
        // NPS is an input of the account's health (§9), and its reason is
        // feedback (§11, source: NPS surveys).
        self.mark_health_dirty(&mut tx, l.organization_id, now)
            .await?;
        if !reason.trim().is_empty() {
            let item = crate::feedback::NewFeedbackItem {
                organization_id: Some(l.organization_id),
                user_id: Some(l.user_id),
                source: FeedbackSource::NpsSurvey,
                category: FeedbackCategory::Product,
                sentiment: match category {
                    Category::Promoter => Sentiment::Positive,
                    Category::Passive => Sentiment::Neutral,
                    Category::Detractor => Sentiment::Negative,
                },
                text: format!("NPS {score}: {}", reason.trim()),
                theme_id: None,
                theme: None,
                ticket_id: None,
                survey_campaign_id: Some(l.campaign_id),
                created_at: now,
            };
            self.add_feedback_item_tx(&mut tx, item, now).await?;
        }
        self.commit(tx).await?;
        Ok(Ok(Answered {
            response_id,
            category,
            task_ids,
        }))
    }

    /// Stores a weekly pulse answer: the response (with its contact and
    /// account), the used mark of the contact's links, and the friction
    /// points as a feedback item (§11, source: pulse surveys; negative, for
    /// a CSM to file under a theme), in one transaction.
    pub async fn answer_pulse(
        &self,
        token: &str,
        a: &PulseAnswer,
        now: i64,
    ) -> Result<std::result::Result<i64, TokenProblem>> {
        let mut tx = self.begin().await?;
        let l = match check_link(self.link_tx(&mut tx, token).await?, now) {
            Ok(l) if l.kind != CampaignKind::Pulse => return Ok(Err(TokenProblem::Unknown)),
            Ok(l) => l,
            Err(p) => return Ok(Err(p)),
        };
        let row = sqlx::query(
            "INSERT INTO pulse_responses (campaign_id, organization_id, user_id, ease_of_use, meets_needs, recommend,
                friction, valuable_features, answered_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(l.campaign_id)
        .bind(l.organization_id)
        .bind(l.user_id)
        .bind(i64::from(a.ease_of_use))
        .bind(i64::from(a.meets_needs))
        .bind(i64::from(a.recommend))
        .bind(&a.friction)
        .bind(&a.valuable_features)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match row {
            Ok(r) => r.try_get("id")?,
            // A second link of the same contact, answered concurrently.
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation()) =>
            {
                return Ok(Err(TokenProblem::Used));
            }
            Err(e) => return Err(e.into()),
        };
        sqlx::query(
            "UPDATE survey_tokens SET used_at = $1 WHERE campaign_id = $2 AND user_id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(l.campaign_id)
        .bind(l.user_id)
        .execute(&mut *tx)
        .await?;
        if !a.friction.is_empty() {
            let item = crate::feedback::NewFeedbackItem {
                organization_id: Some(l.organization_id),
                user_id: Some(l.user_id),
                source: FeedbackSource::PulseSurvey,
                category: FeedbackCategory::Product,
                sentiment: Sentiment::Negative,
                text: format!("Pulse friction: {}", a.friction),
                theme_id: None,
                theme: None,
                ticket_id: None,
                survey_campaign_id: Some(l.campaign_id),
                created_at: now,
            };
            self.add_feedback_item_tx(&mut tx, item, now).await?;
        }
        self.commit(tx).await?;
        Ok(Ok(id))
    }

    /// The first active CSM, else the first active admin (see module docs).
    async fn follow_up_owner_tx(&self, tx: &mut Tx) -> Result<Option<i64>> {
        match crate::users::first_active(tx, Role::Csm).await? {
            Some(id) => Ok(Some(id)),
            None => crate::users::cs_manager(tx).await,
        }
    }

    /// The category of the answer behind a used link, while the extended
    /// survey may still be filled (the link's 7 days, and only once).
    pub async fn extended_survey(
        &self,
        token: &str,
        now: i64,
    ) -> Result<std::result::Result<Category, TokenProblem>> {
        let mut tx = self.begin().await?;
        let r = self.extended_target_tx(&mut tx, token, now).await?;
        tx.rollback().await?;
        Ok(r.map(|(_, c)| c))
    }

    async fn extended_target_tx(
        &self,
        tx: &mut Tx,
        token: &str,
        now: i64,
    ) -> Result<std::result::Result<(i64, Category), TokenProblem>> {
        let Some(l) = self.link_tx(tx, token).await? else {
            return Ok(Err(TokenProblem::Unknown));
        };
        if l.kind != CampaignKind::Nps {
            return Ok(Err(TokenProblem::Unknown)); // a pulse has no extended survey
        }
        if l.campaign_status == "closed" {
            return Ok(Err(TokenProblem::Closed));
        }
        if l.expires_at <= now {
            return Ok(Err(TokenProblem::Expired));
        }
        let row = sqlx::query(
            "SELECT id, category, extended FROM nps_responses WHERE campaign_id = $1 AND user_id = $2",
        )
        .bind(l.campaign_id)
        .bind(l.user_id)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            // Not answered yet: the first page comes first.
            None => Ok(Err(TokenProblem::Unknown)),
            Some(r) if opt_str(&r, "extended")?.is_some() => Ok(Err(TokenProblem::Used)),
            Some(r) => Ok(Ok((
                r.try_get("id")?,
                Category::parse(&r.try_get::<String, _>("category")?)?,
            ))),
        }
    }

    /// Stores the extended answers (already validated for the category).
    pub async fn extend_survey(
        &self,
        token: &str,
        answers: &BTreeMap<String, String>,
        now: i64,
    ) -> Result<std::result::Result<Category, TokenProblem>> {
        let mut tx = self.begin().await?;
        let (id, c) = match self.extended_target_tx(&mut tx, token, now).await? {
            Ok(t) => t,
            Err(p) => return Ok(Err(p)),
        };
        sqlx::query("UPDATE nps_responses SET extended = $1 WHERE id = $2")
            .bind(serde_json::to_string(answers)?)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(Ok(c))
    }

    /// Honours an unsubscribe from any link the contact received, even an
    /// expired or used one.
    pub async fn unsubscribe_survey(
        &self,
        token: &str,
        now: i64,
    ) -> Result<std::result::Result<(), TokenProblem>> {
        let mut tx = self.begin().await?;
        let Some(l) = self.link_tx(&mut tx, token).await? else {
            return Ok(Err(TokenProblem::Unknown));
        };
        sqlx::query(
            "INSERT INTO survey_unsubscribes (user_id, at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(l.user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(Ok(()))
    }

    pub async fn nps_report(&self, actor: &Actor, id: i64) -> Result<NpsReport> {
        let campaign = self.campaign(actor, id).await?;
        if campaign.kind != CampaignKind::Nps {
            return Err(StoreError::invalid(
                "kind",
                format!("campaign {id} is a pulse campaign; see pulse_report"),
            ));
        }
        let mut conn = self.reader().await?;
        let sent = sent_count(&mut conn, id).await?;
        let rows = sqlx::query(
            "SELECT r.id, r.organization_id, r.user_id, r.score, r.category, r.reason, r.extended, r.answered_at,
                    o.name AS org_name, o.industry, o.contract_start, o.acv_cents, o.tier_pinned, u.name AS user_name
             FROM nps_responses r JOIN organizations o ON o.id = r.organization_id JOIN users u ON u.id = r.user_id
             WHERE r.campaign_id = $1 ORDER BY r.score, r.answered_at, r.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut tally = Tally::default();
        let mut by_tier: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_industry: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_time_live: BTreeMap<String, Tally> = BTreeMap::new();
        let mut detractors = vec![];
        for r in &rows {
            let c = Category::parse(&r.try_get::<String, _>("category")?)?;
            tally.add(c);
            let tier = tier_of(r.try_get("acv_cents")?, opt_str(r, "tier_pinned")?);
            by_tier.entry(tier.as_str().to_string()).or_default().add(c);
            let industry = opt_str(r, "industry")?.unwrap_or_else(|| "unknown".into());
            by_industry.entry(industry).or_default().add(c);
            let live = time_live_segment(
                opt_str(r, "contract_start")?.as_deref(),
                r.try_get("answered_at")?,
            );
            by_time_live.entry(live.to_string()).or_default().add(c);
            if c == Category::Detractor {
                detractors.push(Detractor {
                    response_id: r.try_get("id")?,
                    organization_id: r.try_get("organization_id")?,
                    organization: r.try_get("org_name")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("user_name")?,
                    score: r.try_get("score")?,
                    reason: r.try_get("reason")?,
                    extended: opt_str(r, "extended")?
                        .map(|s| serde_json::from_str(&s))
                        .transpose()?,
                    answered_at: r.try_get("answered_at")?,
                });
            }
        }
        let response_rate = rate(tally.responses(), sent);
        let top_themes = top_themes(&mut conn, id).await?;
        Ok(NpsReport {
            campaign,
            tally,
            sent,
            response_rate,
            by_tier,
            by_industry,
            by_time_live,
            detractors,
            top_themes,
        })
    }

    /// A pulse campaign's report: response count and rate, the averages,
    /// the NPS of the recommend question, the friction points and most
    /// valuable features as written (oldest first), and the themes.
    pub async fn pulse_report(&self, actor: &Actor, id: i64) -> Result<PulseReport> {
        let campaign = self.campaign(actor, id).await?;
        if campaign.kind != CampaignKind::Pulse {
            return Err(StoreError::invalid(
                "kind",
                format!("campaign {id} is not a pulse campaign"),
            ));
        }
        let mut conn = self.reader().await?;
        let sent = sent_count(&mut conn, id).await?;
        let rows = sqlx::query(
            "SELECT r.id, r.organization_id, r.user_id, r.ease_of_use, r.meets_needs, r.recommend, r.friction,
                    r.valuable_features, r.answered_at, o.name AS org_name, u.name AS user_name
             FROM pulse_responses r JOIN organizations o ON o.id = r.organization_id JOIN users u ON u.id = r.user_id
             WHERE r.campaign_id = $1 ORDER BY r.answered_at, r.id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let score = |r: &AnyRow, col: &str| -> Result<u8> {
            Ok(u8::try_from(r.try_get::<i64, _>(col)?).unwrap_or(0))
        };
        let mut scores = Vec::with_capacity(rows.len());
        let (mut friction_points, mut valuable_features) = (vec![], vec![]);
        for r in &rows {
            scores.push(pulse::Scores {
                ease_of_use: score(r, "ease_of_use")?,
                meets_needs: score(r, "meets_needs")?,
                recommend: score(r, "recommend")?,
            });
            for (col, list) in [
                ("friction", &mut friction_points),
                ("valuable_features", &mut valuable_features),
            ] {
                let text: String = r.try_get(col)?;
                if !text.is_empty() {
                    list.push(PulseText {
                        response_id: r.try_get("id")?,
                        organization_id: r.try_get("organization_id")?,
                        organization: r.try_get("org_name")?,
                        user_id: r.try_get("user_id")?,
                        name: r.try_get("user_name")?,
                        text,
                        answered_at: r.try_get("answered_at")?,
                    });
                }
            }
        }
        let summary = pulse::summarize(&scores);
        Ok(PulseReport {
            response_rate: rate(summary.responses, sent),
            campaign,
            sent,
            summary,
            friction_points,
            valuable_features,
            top_themes: top_themes(&mut conn, id).await?,
        })
    }

    /// The tallies of the quarter of `now` and the three before, oldest
    /// first (a quarter's responses are those of its campaigns).
    pub async fn nps_trend(&self, actor: &Actor, now: i64) -> Result<Vec<(Quarter, Tally)>> {
        may_read(actor)?;
        let m = Month::of_instant(now);
        let quarters = Quarter::of_month(m.year() as i32, m.number() as i8).last_four();
        let mut conn = self.reader().await?;
        let rows = sqlx::query(
            "SELECT c.quarter, r.category, COUNT(*) AS n FROM nps_responses r
             JOIN nps_campaigns c ON c.id = r.campaign_id
             WHERE c.quarter IN ($1, $2, $3, $4) AND c.kind = 'nps' GROUP BY c.quarter, r.category",
        )
        .bind(quarters[0].to_string())
        .bind(quarters[1].to_string())
        .bind(quarters[2].to_string())
        .bind(quarters[3].to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut out: Vec<(Quarter, Tally)> =
            quarters.iter().map(|q| (*q, Tally::default())).collect();
        for r in &rows {
            let q: String = r.try_get("quarter")?;
            let c = Category::parse(&r.try_get::<String, _>("category")?)?;
            let n = u32::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0);
            if let Some((_, t)) = out.iter_mut().find(|(qq, _)| qq.to_string() == q) {
                match c {
                    Category::Promoter => t.promoters += n,
                    Category::Passive => t.passives += n,
                    Category::Detractor => t.detractors += n,
                }
            }
        }
        Ok(out)
    }
}

/// Contacts a campaign's links went to.
async fn sent_count(conn: &mut AnyConnection, campaign: i64) -> Result<u32> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(DISTINCT user_id) AS n FROM survey_tokens WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Answered / sent in percent, half away from zero; `None` before sending.
fn rate(answered: u32, sent: u32) -> Option<i32> {
    (sent > 0).then(|| div_round_half_away(100 * i64::from(answered), i64::from(sent)) as i32)
}

/// The live themes of the feedback a campaign's answers became, by distinct
/// accounts, then items, at most 10 (see the module docs).
async fn top_themes(conn: &mut AnyConnection, campaign: i64) -> Result<Vec<ThemeCount>> {
    sqlx::query(
        "SELECT t.id, t.title, COUNT(DISTINCT i.organization_id) AS accounts, COUNT(*) AS items
         FROM feedback_items i JOIN feedback_themes t ON t.id = i.theme_id
         WHERE i.survey_campaign_id = $1 AND t.merged_into_id IS NULL
         GROUP BY t.id, t.title ORDER BY accounts DESC, items DESC, t.id LIMIT 10",
    )
    .bind(campaign)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ThemeCount {
            id: r.try_get("id")?,
            title: r.try_get("title")?,
            accounts: r.try_get("accounts")?,
            items: r.try_get("items")?,
        })
    })
    .collect()
}

fn check_link(l: Option<SurveyLink>, now: i64) -> std::result::Result<SurveyLink, TokenProblem> {
    match l {
        None => Err(TokenProblem::Unknown),
        // Closed first: whoever holds the link, the answer is "closed".
        Some(l) if l.campaign_status == "closed" => Err(TokenProblem::Closed),
        Some(l) if l.used_at.is_some() => Err(TokenProblem::Used),
        Some(l) if l.expires_at <= now => Err(TokenProblem::Expired),
        Some(l) => Ok(l),
    }
}

/// A link by its token (reads only; used inside and outside transactions).
async fn link_on(conn: &mut AnyConnection, token: &str) -> Result<Option<SurveyLink>> {
    let row = sqlx::query(
        "SELECT t.campaign_id, t.user_id, t.organization_id, t.expires_at, t.used_at, u.name,
                c.kind, c.status
         FROM survey_tokens t JOIN users u ON u.id = t.user_id JOIN nps_campaigns c ON c.id = t.campaign_id
         WHERE t.token_hash = $1",
    )
    .bind(token_digest(token))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(SurveyLink {
            campaign_id: r.try_get("campaign_id")?,
            kind: CampaignKind::parse(&r.try_get::<String, _>("kind")?)?,
            campaign_status: r.try_get("status")?,
            user_id: r.try_get("user_id")?,
            user_name: r.try_get("name")?,
            organization_id: r.try_get("organization_id")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
        })
    })
    .transpose()
}
