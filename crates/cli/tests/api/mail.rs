//! E-mail out end to end: an agent's public reply queues one e-mail for the
//! requester, and the real outbox worker hands it to a real SMTP server —
//! a small sink in this file, speaking enough SMTP over TCP on port 0 —
//! with threading headers, retrying a temporary refusal. Internal notes
//! and the requester's own comments send nothing, and without SMTP
//! configuration the e-mail stays queued.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::Method;
use serde_json::{Value, json};
use steward_domain::{Role, time::parse_rfc3339};
use steward_jobs::MailConfig;
use steward_web::Clock;
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::TcpListener,
};

use crate::helpers::{TestApp, json_of, spawn_app_with_clock};

/// One message the sink accepted: envelope recipients and the raw data.
#[derive(Debug, Clone)]
struct Mail {
    rcpt: Vec<String>,
    data: String,
}

#[derive(Clone, Default)]
struct Sink {
    accepted: Arc<Mutex<Vec<Mail>>>,
    /// DATA commands seen, including refused ones.
    data_commands: Arc<Mutex<usize>>,
    /// Answer the first DATA with `451` (a temporary failure).
    refuse_first: bool,
}

impl Sink {
    async fn start(refuse_first: bool) -> (Sink, String) {
        let sink = Sink {
            refuse_first,
            ..Sink::default()
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let s = sink.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(stream).await;
                });
            }
        });
        (sink, url)
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut rcpt = Vec::new();
        while let Some(line) = lines.next_line().await? {
            let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" | "HELO" => write.write_all(b"250 sink\r\n").await?,
                "MAIL" => {
                    rcpt.clear();
                    write.write_all(b"250 OK\r\n").await?
                }
                "RCPT" => {
                    let to = line
                        .split_once('<')
                        .and_then(|(_, r)| r.split_once('>'))
                        .map(|(a, _)| a.to_string())
                        .unwrap_or_default();
                    rcpt.push(to);
                    write.write_all(b"250 OK\r\n").await?
                }
                "DATA" => {
                    let first = {
                        let mut n = self.data_commands.lock().unwrap();
                        *n += 1;
                        *n == 1
                    };
                    if self.refuse_first && first {
                        write.write_all(b"451 4.3.0 try again later\r\n").await?;
                        continue;
                    }
                    write.write_all(b"354 go ahead\r\n").await?;
                    let mut data = String::new();
                    while let Some(l) = lines.next_line().await? {
                        if l == "." {
                            break;
                        }
                        data.push_str(l.strip_prefix('.').unwrap_or(&l));
                        data.push('\n');
                    }
                    self.accepted.lock().unwrap().push(Mail {
                        rcpt: std::mem::take(&mut rcpt),
                        data,
                    });
                    write.write_all(b"250 queued\r\n").await?
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => write.write_all(b"250 OK\r\n").await?,
            }
        }
        Ok(())
    }

    fn accepted(&self) -> Vec<Mail> {
        self.accepted.lock().unwrap().clone()
    }
}

/// The value of header `name` in a raw message (unfolded).
fn header(data: &str, name: &str) -> Option<String> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut lines = data.lines().take_while(|l| !l.is_empty()).peekable();
    while let Some(l) = lines.next() {
        if l.to_ascii_lowercase().starts_with(&prefix) {
            let mut v = l[prefix.len()..].trim().to_string();
            while let Some(cont) = lines.next_if(|n| n.starts_with([' ', '\t'])) {
                v.push(' ');
                v.push_str(cont.trim());
            }
            return Some(v);
        }
    }
    None
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

fn start_workers(
    app: &TestApp,
    mail: MailConfig,
) -> (
    tokio::sync::watch::Sender<bool>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock = app.clock.clone();
    let workers = steward_jobs::spawn(
        app.store.clone(),
        Arc::new(move || clock.now()),
        mail,
        stopped,
    );
    (stop, workers)
}

/// A ticket requested by a new end user: (ticket id, requester email, token).
async fn ticket_from_customer(app: &TestApp) -> (i64, String, String) {
    let (customer, email, token) = app.user_with_token(Role::EndUser, None).await;
    let t = app
        .post_json(
            "/api/v2/tickets.json",
            json!({"ticket": {"subject": "Printer on fire", "comment": {"body": "help"}, "requester_id": customer}}),
        )
        .await;
    (t["ticket"]["id"].as_i64().unwrap(), email, token)
}

async fn comment(app: &TestApp, id: i64, body: &str, public: bool) {
    app.put_json(
        &format!("/api/v2/tickets/{id}.json"),
        json!({"ticket": {"comment": {"body": body, "public": public}}}),
    )
    .await;
}

async fn email_log(app: &TestApp) -> Vec<Value> {
    app.get_json("/api/v2/outbox.json?kind=email").await["outbox"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_agent_reply_emails_the_requester_once_with_threading_headers() {
    let (sink, url) = Sink::start(true).await;
    let t0 = parse_rfc3339("2026-03-10T18:00:00Z").unwrap();
    let app = spawn_app_with_clock(Clock::fixed(t0)).await;
    let (id, requester, token) = ticket_from_customer(&app).await;

    comment(&app, id, "Internal: check the fuser", false).await;
    json_of(
        app.request_as(
            Method::PUT,
            &format!("/api/v2/tickets/{id}.json"),
            &requester,
            &token,
        )
        .json(&json!({"ticket": {"comment": {"body": "any news?"}}}))
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;
    assert!(
        email_log(&app).await.is_empty(),
        "notes and the requester's own comments send nothing"
    );
    comment(&app, id, "We are sending a technician.", true).await;
    let log = email_log(&app).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "queued");
    assert_eq!(log[0]["payload"]["to"], requester);

    let (stop, workers) = start_workers(
        &app,
        MailConfig {
            smtp_url: Some(url),
            from: Some("Steward Support <support@example.com>".into()),
            ..MailConfig::default()
        },
    );
    // The first attempt is refused with 451 and rescheduled with backoff.
    until("the refused first attempt", async || {
        email_log(&app).await[0]["status"] == "retrying"
    })
    .await;
    let log = email_log(&app).await;
    assert!(
        log[0]["last_error"].as_str().unwrap().contains("451"),
        "{log:?}"
    );
    assert!(sink.accepted().is_empty());
    app.clock.set(t0 + 600);
    until("the retried delivery", async || {
        email_log(&app).await[0]["status"] == "delivered"
    })
    .await;
    // Give a wrong second delivery the chance to happen before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }

    let mails = sink.accepted();
    assert_eq!(mails.len(), 1, "exactly one e-mail: {mails:?}");
    let m = &mails[0];
    assert_eq!(m.rcpt, vec![requester.clone()]);
    let subject = header(&m.data, "Subject").unwrap();
    assert!(subject.contains(&format!("[#{id}]")), "{subject}");
    assert!(subject.contains("Printer on fire"), "{subject}");
    let message_id = header(&m.data, "Message-ID").unwrap();
    assert!(
        message_id.starts_with(&format!("<ticket-{id}-comment-")),
        "{message_id}"
    );
    let root = format!("<ticket-{id}@steward.localhost>");
    assert_eq!(header(&m.data, "In-Reply-To").as_deref(), Some(&*root));
    assert_eq!(header(&m.data, "References").as_deref(), Some(&*root));
    assert!(
        header(&m.data, "From")
            .unwrap()
            .contains("support@example.com")
    );
    assert!(
        m.data.contains("We are sending a technician."),
        "{}",
        m.data
    );
    assert_eq!(*sink.data_commands.lock().unwrap(), 2);

    let log = email_log(&app).await;
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["payload"]["headers"]["Message-ID"], message_id);
    assert!(log[0]["delivered_at"].is_string());

    // The log is for admins only.
    let (_, agent, agent_token) = app.user_with_token(Role::Agent, None).await;
    let r = app
        .request_as(Method::GET, "/api/v2/outbox.json", &agent, &agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn without_smtp_configuration_emails_stay_queued() {
    let app = spawn_app_with_clock(Clock::system()).await;
    let (id, _, _) = ticket_from_customer(&app).await;
    let (stop, workers) = start_workers(&app, MailConfig::default());
    comment(&app, id, "Fixed, please confirm.", true).await;
    until("the deferral", async || {
        email_log(&app).await[0]["last_error"] == "SMTP is not configured"
    })
    .await;
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }
    let log = email_log(&app).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "queued", "{log:?}");
    assert_eq!(log[0]["attempts"], 0);
    assert!(log[0]["delivered_at"].is_null());
}

/// A restart between enqueue and delivery: the e-mail is queued by one
/// server (without SMTP), which stops; a `steward serve` process started
/// later on the same database delivers it; a second process started after
/// that does not send it again.
#[tokio::test]
async fn a_restart_between_enqueue_and_delivery_loses_nothing() {
    let (sink, url) = Sink::start(false).await;
    let app = spawn_app_with_clock(Clock::system()).await;
    let (id, requester, _) = ticket_from_customer(&app).await;
    comment(&app, id, "Queued before the restart.", true).await;
    assert_eq!(email_log(&app).await[0]["status"], "queued");

    let serve = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_steward"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                &app.db_url,
            ])
            .env("STEWARD_SMTP_URL", &url)
            .env("STEWARD_MAIL_FROM", "Steward Support <support@example.com>")
            .env_remove("STEWARD_DATABASE_URL")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start steward serve")
    };
    let mut first = serve();
    until(
        "the restarted server to deliver and record it",
        async || email_log(&app).await[0]["status"] == "delivered",
    )
    .await;
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(sink.accepted().len(), 1);

    let mut second = serve();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let _ = second.kill();
    let _ = second.wait();
    let mails = sink.accepted();
    assert_eq!(mails.len(), 1, "delivered exactly once: {mails:?}");
    assert_eq!(mails[0].rcpt, vec![requester]);
    assert!(mails[0].data.contains("Queued before the restart."));
}
