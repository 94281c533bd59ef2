//! E-mail delivery over SMTP for outbox messages of kind `email`.
//!
//! The payload is `{to, subject, text, html, headers: {Message-ID,
//! In-Reply-To, References}, ticket_id?}`. Its Message-ID comes from the
//! cause (a ticket comment), so a redelivery after a crash carries the same
//! id and receivers can drop the duplicate: delivery is at least once.
//!
//! Configuration is read once at the edge ([`MailConfig::from_env`]) and
//! passed to the workers, so tests point them at their own SMTP server.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        MultiPart,
        header::{InReplyTo, References},
    },
    transport::smtp::authentication::Credentials,
};
use serde_json::Value;

/// Where and as whom e-mail is sent. Without a URL and a sender, e-mails
/// stay queued until a process that has them is started.
#[derive(Debug, Clone, Default)]
pub struct MailConfig {
    /// `smtp://host:port` (plain), `smtp+starttls://host:port` or
    /// `smtps://host:port`, optionally with `user:password@` before the host.
    pub smtp_url: Option<String>,
    /// Overrides the URL's user and password (for secrets kept apart).
    pub user: Option<String>,
    pub password: Option<String>,
    /// The `From` address, e.g. `Support <support@example.com>`.
    pub from: Option<String>,
}

impl MailConfig {
    /// Reads `STEWARD_SMTP_URL`, `STEWARD_SMTP_USER`, `STEWARD_SMTP_PASSWORD`
    /// and `STEWARD_MAIL_FROM`; empty values count as unset.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        MailConfig {
            smtp_url: var("STEWARD_SMTP_URL"),
            user: var("STEWARD_SMTP_USER"),
            password: var("STEWARD_SMTP_PASSWORD"),
            from: var("STEWARD_MAIL_FROM"),
        }
    }

    /// Both the server and the sender are set.
    pub fn is_configured(&self) -> bool {
        self.smtp_url.is_some() && self.from.is_some()
    }
}

/// A ready SMTP client with its sender.
pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl Mailer {
    /// `Ok(None)` when mail is not configured; `Err` when it is configured
    /// wrongly (the message says what to fix).
    pub(crate) fn new(config: &MailConfig) -> Result<Option<Mailer>, String> {
        let (Some(url), Some(from)) = (&config.smtp_url, &config.from) else {
            return Ok(None);
        };
        let from = from
            .parse()
            .map_err(|e| format!("STEWARD_MAIL_FROM is not an address: {e}"))?;
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("STEWARD_SMTP_URL must look like smtp://host:port")?;
        let rest = rest.trim_end_matches('/');
        let (userinfo, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| format!("STEWARD_SMTP_URL has a bad port: {p}"))?,
                ),
            ),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err("STEWARD_SMTP_URL has no host".into());
        }
        let tls_err = |e: lettre::transport::smtp::Error| format!("TLS setup for {host}: {e}");
        let mut builder = match scheme {
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port.unwrap_or(25)),
            "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(tls_err)?
                .port(port.unwrap_or(587)),
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(tls_err)?
                .port(port.unwrap_or(465)),
            other => {
                return Err(format!(
                    "STEWARD_SMTP_URL scheme {other} is not smtp, smtp+starttls or smtps"
                ));
            }
        };
        let (url_user, url_password) = match userinfo.map(|u| u.split_once(':')) {
            Some(Some((u, p))) => (Some(u.to_string()), Some(p.to_string())),
            Some(None) => (userinfo.map(str::to_string), None),
            None => (None, None),
        };
        let user = config.user.clone().or(url_user);
        let password = config.password.clone().or(url_password);
        if let Some(user) = user {
            builder = builder.credentials(Credentials::new(user, password.unwrap_or_default()));
        }
        Ok(Some(Mailer {
            transport: builder.timeout(Some(Duration::from_secs(20))).build(),
            from,
        }))
    }

    /// Sends one outbox payload. The error says whether retrying may help
    /// only in its text: every failure is retried with the outbox backoff.
    pub(crate) async fn send(&self, payload: &Value) -> Result<(), String> {
        let field = |k: &str| payload.get(k).and_then(Value::as_str).unwrap_or_default();
        let header = |k: &str| {
            payload
                .get("headers")
                .and_then(|h| h.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let to = field("to")
            .parse()
            .map_err(|e| format!("bad recipient {:?}: {e}", field("to")))?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(field("subject"))
            .message_id(header("Message-ID"));
        if let Some(v) = header("In-Reply-To") {
            message = message.header(InReplyTo::from(v));
        }
        if let Some(v) = header("References") {
            message = message.header(References::from(v));
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(
                field("text").to_string(),
                field("html").to_string(),
            ))
            .map_err(|e| format!("could not build the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
