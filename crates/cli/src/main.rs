//! `steward`: one binary for the server and its administration.
//!
//! Every subcommand that touches the database reads `STEWARD_DATABASE_URL`
//! (default: `steward.db`, a SQLite file in the working directory);
//! `--database-url` wins where given.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use steward::demo;
use steward_domain::{Email, Role};
use steward_store::{Store, UserInput};

#[derive(Parser)]
#[command(
    name = "steward",
    version,
    about = "Customer success and support platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Db {
    /// SQLite file path or `sqlite:` URL, or a `postgres://` URL.
    #[arg(long, env = "STEWARD_DATABASE_URL", default_value = "steward.db")]
    database_url: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI, the API and the background workers.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        db: Db,
        /// On an empty database, first load a realistic demo portfolio.
        #[arg(long)]
        demo: bool,
        /// How many tickets the demo portfolio has.
        #[arg(long, default_value_t = demo::DEFAULT_TICKETS)]
        demo_tickets: usize,
        /// Base URL used in links (`url`, `next_page`) behind a proxy.
        #[arg(long, env = "STEWARD_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: Db,
    },
    /// Load the demo portfolio into an empty database and exit.
    Demo {
        #[command(flatten)]
        db: Db,
        /// Number of tickets to generate.
        #[arg(long, default_value_t = demo::DEFAULT_TICKETS)]
        tickets: usize,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// SLA arithmetic on the business-hours calendars (needs no database).
    Sla {
        #[command(subcommand)]
        command: SlaCommand,
    },
    /// Reports computed from the database.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// The SLA report of policies.md §5 for a month: per account and for the
    /// portfolio, every metric, miss, exclusion, force-majeure waiver,
    /// achievement against the tier's target, and credits. Starter accounts
    /// are reported for their quarter to the end of the month.
    Sla {
        /// The month, YYYY-MM (UTC).
        #[arg(long)]
        month: String,
        /// Only this organization.
        #[arg(long)]
        organization_id: Option<i64>,
        #[arg(long, value_enum, default_value = "text")]
        format: ReportFormat,
        /// Evaluate as of this instant (RFC 3339) instead of now; a month
        /// not over by then is reported up to it.
        #[arg(long)]
        as_of: Option<String>,
        #[command(flatten)]
        db: Db,
    },
    /// The weekly status report of an implementation project (policies.md
    /// §15): the stored report of that week when there is one (as reviewed
    /// or sent), else computed now from the project's data.
    Status {
        /// The project's id.
        #[arg(long)]
        project: i64,
        /// The last day of the week, YYYY-MM-DD (Fridays by convention).
        #[arg(long)]
        week_ending: String,
        #[arg(long, value_enum, default_value = "markdown")]
        format: StatusFormat,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StatusFormat {
    Markdown,
    Html,
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (staff or end user).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// admin, csm, agent, contractor, viewer or end-user.
        #[arg(long, default_value = "agent")]
        role: String,
        /// Password for signing in (read from STEWARD_USER_PASSWORD if set).
        #[arg(long, env = "STEWARD_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        organization_id: Option<i64>,
        #[command(flatten)]
        db: Db,
    },
    /// Set a user's password.
    Password {
        #[arg(long)]
        email: String,
        #[arg(long, env = "STEWARD_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it (shown only once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        description: String,
        #[command(flatten)]
        db: Db,
    },
}

#[derive(Subcommand)]
enum SlaCommand {
    /// Print the instant (RFC 3339, UTC) at which a target of N minutes of
    /// open time, started at --start, is due on a calendar of policies.md §2.
    Due {
        /// Calendar: 24x7, business or extended.
        #[arg(long)]
        calendar: String,
        /// When the clock starts, RFC 3339 (e.g. 2026-03-10T14:00:00-04:00).
        #[arg(long)]
        start: String,
        /// The target in minutes of open time (0 or more).
        #[arg(long, allow_negative_numbers = true)]
        minutes: i64,
        /// A date on which the calendar is closed all day; repeat for more.
        /// These replace the calendar's configured holidays.
        #[arg(long = "holiday", value_name = "YYYY-MM-DD")]
        holidays: Vec<String>,
    },
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

async fn open(db: &Db) -> anyhow::Result<Store> {
    let store = Store::connect(&db.database_url)
        .await
        .with_context(|| "could not open the database")?;
    store
        .migrate()
        .await
        .context("could not apply migrations")?;
    Ok(store)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A report's stdout is the report (`--format json | jq`): its logs go
    // to stderr. Everything else logs to stdout, as it always has.
    let writer = if matches!(cli.command, Command::Report { .. }) {
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stderr)
    } else {
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::io::stdout)
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STEWARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(writer)
        .init();
    match cli.command {
        Command::Serve {
            listen,
            db,
            demo,
            demo_tickets,
            public_url,
        } => serve(listen, db, demo.then_some(demo_tickets), public_url).await,
        Command::Migrate { db } => {
            open(&db).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Demo { db, tickets } => {
            let store = open(&db).await?;
            demo::load(&store, tickets, now()).await?;
            Ok(())
        }
        Command::User { command } => user(command).await,
        Command::Sla { command } => sla(command),
        Command::Report { command } => report(command).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    description,
                    db,
                },
        } => {
            let store = open(&db).await?;
            let user = store
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user with email {email}"))?;
            let token = steward_store::auth::generate_token();
            store
                .add_api_token(user.id, &token, &description, now())
                .await?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            email,
            name,
            role,
            password,
            organization_id,
            db,
        } => {
            let store = open(&db).await?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!(e.0))?;
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!(e.0))?;
            let input = UserInput {
                name,
                email: Some(email),
                role: Some(role),
                organization_id: organization_id.map(Some),
                verified: Some(true),
                ..Default::default()
            };
            let user = store.create_user(input, now()).await?;
            if let Some(p) = password {
                store.set_password(user.id, &p, now()).await?;
            }
            println!(
                "created user {} ({}, {})",
                user.id,
                user.email.unwrap_or_default(),
                user.role
            );
            Ok(())
        }
        UserCommand::Password {
            email,
            password,
            db,
        } => {
            let store = open(&db).await?;
            let user = store
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no user with email {email}"))?;
            store.set_password(user.id, &password, now()).await?;
            println!("password updated for {email}");
            Ok(())
        }
    }
}

/// `steward sla ...`: pure calendar arithmetic, so no database is opened.
fn sla(command: SlaCommand) -> anyhow::Result<()> {
    match command {
        SlaCommand::Due {
            calendar,
            start,
            minutes,
            holidays,
        } => {
            if minutes < 0 {
                anyhow::bail!("--minutes must be zero or more (got {minutes})");
            }
            let seconds = minutes
                .checked_mul(60)
                .with_context(|| format!("--minutes {minutes} is too large"))?;
            let start = start.trim().parse::<jiff::Timestamp>().map_err(|_| {
                anyhow::anyhow!(
                    "--start {start} is not an RFC 3339 timestamp (e.g. 2026-03-10T14:00:00Z)"
                )
            })?;
            let holidays = holidays
                .iter()
                .map(|d| {
                    steward_domain::time::parse_date(d)
                        .map_err(|e| anyhow::anyhow!("--holiday: {}", e.0))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let calendar = steward_domain::Calendar::builtin(&calendar)?.with_holidays(&holidays);
            let due = calendar.add_open(start, seconds)?;
            println!("{}", steward_domain::time::format_unix(due.as_second()));
            Ok(())
        }
    }
}

/// `steward report ...`: reads the database, prints to stdout.
async fn report(command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Sla {
            month,
            organization_id,
            format,
            as_of,
            db,
        } => {
            // Parse everything before touching the database.
            let month = steward_domain::time::Month::parse(&month)
                .map_err(|e| anyhow::anyhow!("--month: {}", e.0))?;
            if let Some(id) = organization_id
                && id <= 0
            {
                anyhow::bail!("--organization-id must be a positive id (got {id})");
            }
            let as_of = match as_of {
                Some(s) => steward_domain::time::parse_rfc3339(&s)
                    .map_err(|e| anyhow::anyhow!("--as-of: {}", e.0))?,
                None => now(),
            };
            let store = open(&db).await?;
            let report = match store.sla_report(month, organization_id, as_of).await {
                Err(steward_store::StoreError::NotFound(_)) => {
                    anyhow::bail!(
                        "no organization with id {}",
                        organization_id.unwrap_or_default()
                    )
                }
                other => other?,
            };
            match format {
                ReportFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&report)?)
                }
                ReportFormat::Text => print!("{}", steward::report::sla_text(&report)),
            }
            Ok(())
        }
        ReportCommand::Status {
            project,
            week_ending,
            format,
            db,
        } => {
            use steward_domain::status_report::{self, Format, Notes};
            let week = steward_domain::time::parse_date(&week_ending)
                .map_err(|e| anyhow::anyhow!("--week-ending: {}", e.0))?;
            if project <= 0 {
                anyhow::bail!("--project must be a positive id (got {project})");
            }
            let store = open(&db).await?;
            let (report, notes) = match store.status_report_for_week(project, week).await? {
                Some(stored) => (stored.report, stored.notes),
                None => match store.compute_status_report(project, week, now()).await {
                    Err(steward_store::StoreError::NotFound(_)) => {
                        anyhow::bail!("no project with id {project}")
                    }
                    other => (other?, Notes::default()),
                },
            };
            let format = match format {
                StatusFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    return Ok(());
                }
                StatusFormat::Markdown => Format::Markdown,
                StatusFormat::Html => Format::Html,
                StatusFormat::Text => Format::Text,
            };
            let out =
                status_report::render(&report, &notes, format).map_err(|e| anyhow::anyhow!(e))?;
            print!("{out}");
            Ok(())
        }
    }
}

/// Creates the first admin from the environment on a database without one.
async fn bootstrap_admin(store: &Store) -> anyhow::Result<()> {
    if store.count_admins().await? > 0 {
        return Ok(());
    }
    let (Ok(email), Ok(password)) = (
        std::env::var("STEWARD_ADMIN_EMAIL"),
        std::env::var("STEWARD_ADMIN_PASSWORD"),
    ) else {
        println!(
            "No admin exists yet. Create one by starting with STEWARD_ADMIN_EMAIL and STEWARD_ADMIN_PASSWORD \
             (and optionally STEWARD_ADMIN_API_TOKEN) set, or run:\n  \
             steward user create --role admin --email you@example.com --password '...'\n  \
             steward token create --email you@example.com"
        );
        return Ok(());
    };
    let email =
        Email::parse(&email).map_err(|e| anyhow::anyhow!("STEWARD_ADMIN_EMAIL: {}", e.0))?;
    let now = now();
    let admin = match store.user_by_email(email.as_str()).await? {
        Some(u) => {
            store
                .update_user(
                    u.id,
                    UserInput {
                        role: Some(Role::Admin),
                        ..Default::default()
                    },
                    now,
                )
                .await?
        }
        None => {
            let input = UserInput {
                name: Some("Administrator".into()),
                email: Some(email),
                role: Some(Role::Admin),
                verified: Some(true),
                ..Default::default()
            };
            store.create_user(input, now).await?
        }
    };
    store
        .set_password(admin.id, &password, now)
        .await
        .context("STEWARD_ADMIN_PASSWORD")?;
    if let Ok(token) = std::env::var("STEWARD_ADMIN_API_TOKEN") {
        store
            .add_api_token(
                admin.id,
                &token,
                "bootstrap token (STEWARD_ADMIN_API_TOKEN)",
                now,
            )
            .await?;
    }
    tracing::info!(
        user.id = admin.id,
        "created the first admin from STEWARD_ADMIN_EMAIL"
    );
    Ok(())
}

async fn serve(
    listen: SocketAddr,
    db: Db,
    demo: Option<usize>,
    public_url: Option<String>,
) -> anyhow::Result<()> {
    let store = open(&db).await?;
    bootstrap_admin(&store).await?;
    if let Some(tickets) = demo {
        if demo::is_empty(&store).await? {
            demo::load(&store, tickets, now()).await?;
        } else {
            tracing::info!("database already has data; not loading the demo portfolio");
        }
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("could not listen on {listen}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "steward is serving on http://{addr}");
    let mut state = steward_web::AppState::new(store.clone());
    state.public_url = public_url.map(Into::into);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clock = state.clock.clone();
    let workers = steward_jobs::spawn(
        store.clone(),
        std::sync::Arc::new(move || clock.now()),
        steward_jobs::MailConfig::from_env(),
        stopped,
    );
    steward_web::serve(listener, state, shutdown_signal()).await?;
    // In-flight requests are done; let the workers finish their batch.
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
