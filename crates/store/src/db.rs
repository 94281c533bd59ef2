//! Connections, dialects and embedded migrations.
//!
//! One store serves both databases through sqlx's `Any` driver: SQL is
//! written once with `$n` placeholders (which SQLite also accepts) and the
//! few dialect differences (full-text search, row locks, identity columns)
//! branch on [`Dialect`]. SQLite gets a single writer connection, so writes
//! queue in the pool instead of failing with SQLITE_BUSY, and a small pool of
//! readers that WAL lets run beside the writer. PostgreSQL uses one pool.

use std::{
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use sqlx::{
    Any, AnyConnection, Connection, Executor, Row, Transaction,
    any::{AnyConnectOptions, AnyPoolOptions},
    pool::PoolConnection,
};

use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub type Tx = Transaction<'static, Any>;

#[derive(Clone)]
pub struct Store {
    pub(crate) read: sqlx::AnyPool,
    pub(crate) write: sqlx::AnyPool,
    pub dialect: Dialect,
    /// SQLite only: the group fsync that makes commits durable.
    wal: Option<Arc<WalSync>>,
    pub(crate) fields:
        Arc<crate::cache::Cached<std::collections::BTreeMap<i64, crate::groups::TicketField>>>,
    pub(crate) calendars: Arc<crate::cache::Cached<crate::calendars::CalendarSet>>,
    pub(crate) policies: Arc<crate::cache::Cached<steward_domain::sla::Policies>>,
    read_gate: Arc<tokio::sync::Semaphore>,
}

/// Group commit for SQLite.
///
/// SQLite runs with `synchronous = NORMAL`: a commit writes its WAL frames
/// without waiting for the disk, which survives a crash of the process but
/// not of the machine. Steward acknowledges a write only once it would
/// survive a power loss, so [`Store::commit`] then waits for an `fdatasync`
/// of the WAL file. Commits that finish while one fsync runs share the next
/// one, so a disk that syncs ~130 times a second (this machine's) still
/// acknowledges thousands of writes per second under concurrency — the same
/// group commit PostgreSQL does for its own WAL. Checkpoints stay safe:
/// SQLite syncs the WAL before and the database after each checkpoint.
struct WalSync {
    wal: PathBuf,
    dir: PathBuf,
    /// Held by the one task running an fsync; the flag records whether the
    /// directory entry of the WAL file has been synced once.
    running: tokio::sync::Mutex<bool>,
    /// Commits finished so far, and how many of them an fsync covers.
    committed: AtomicU64,
    synced: AtomicU64,
    fsyncs: AtomicU64,
}

impl WalSync {
    async fn sync(&self) -> Result<()> {
        let mine = self.committed.fetch_add(1, Ordering::SeqCst) + 1;
        let mut dir_synced = self.running.lock().await;
        if self.synced.load(Ordering::SeqCst) >= mine {
            return Ok(()); // an fsync that started after our commit covered it
        }
        let target = self.committed.load(Ordering::SeqCst);
        let (wal, dir, sync_dir) = (self.wal.clone(), self.dir.clone(), !*dir_synced);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            match std::fs::OpenOptions::new().write(true).open(&wal) {
                Ok(f) => f.sync_data()?,
                // No WAL yet means nothing was written through it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            }
            if sync_dir {
                std::fs::File::open(&dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
        .map_err(StoreError::Io)?;
        *dir_synced = true;
        self.fsyncs.fetch_add(1, Ordering::SeqCst);
        self.synced.store(target, Ordering::SeqCst);
        Ok(())
    }
}

/// The file behind a SQLite URL made by [`normalize_url`].
fn sqlite_path(url: &str) -> PathBuf {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

const SQLITE_READERS: u32 = 4;
const PG_CONNECTIONS: u32 = 24;

/// A pooled read connection holding its place in the read gate.
pub(crate) struct Reader {
    conn: PoolConnection<Any>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl std::ops::Deref for Reader {
    type Target = AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

/// SQLite settings applied to every connection: WAL so readers never block
/// the writer, a busy timeout so a second process waits instead of failing,
/// NORMAL sync (durable against process crashes; a power loss may lose the
/// last commits, as with every WAL database at this setting), foreign keys.
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA cache_size = -65536",
    "PRAGMA mmap_size = 268435456",
    "PRAGMA temp_store = MEMORY",
];

/// Turns what a user may type (`steward.db`, `sqlite:x.db`, `postgres://..`)
/// into a driver URL. Bare paths are SQLite files, created if missing.
pub fn normalize_url(url: &str) -> (Dialect, String) {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return (Dialect::Postgres, url.to_string());
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let sep = if path.contains('?') { '&' } else { '?' };
    let with_mode = if path.contains("mode=") {
        path.to_string()
    } else {
        format!("{path}{sep}mode=rwc")
    };
    (Dialect::Sqlite, format!("sqlite://{with_mode}"))
}

impl Store {
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = normalize_url(url);
        let options = AnyConnectOptions::from_str(&url)?;
        match dialect {
            Dialect::Sqlite => {
                let pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .min_connections(1)
                        // A ping per checkout doubles the cost of small
                        // queries; a broken connection fails its query instead.
                        .test_before_acquire(false)
                        .acquire_timeout(Duration::from_secs(60))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                for pragma in SQLITE_PRAGMAS {
                                    conn.execute(*pragma).await?;
                                }
                                Ok(())
                            })
                        })
                };
                // Create the file and switch it to WAL before readers open it.
                let write = pool(1).connect_with(options.clone()).await?;
                let read = pool(SQLITE_READERS).connect_with(options).await?;
                let file = sqlite_path(&url);
                let dir = match file.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let mut wal = file.into_os_string();
                wal.push("-wal");
                let wal = Some(Arc::new(WalSync {
                    wal: PathBuf::from(wal),
                    dir,
                    running: tokio::sync::Mutex::new(false),
                    committed: AtomicU64::new(0),
                    synced: AtomicU64::new(0),
                    fsyncs: AtomicU64::new(0),
                }));
                Ok(Store {
                    read,
                    write,
                    dialect,
                    fields: Arc::default(),
                    calendars: Arc::default(),
                    policies: Arc::default(),
                    read_gate: Arc::new(tokio::sync::Semaphore::new(SQLITE_READERS as usize)),
                    wal,
                })
            }
            Dialect::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(PG_CONNECTIONS)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?;
                // PostgreSQL's commit is durable by itself (synchronous_commit).
                Ok(Store {
                    read: pool.clone(),
                    write: pool,
                    dialect,
                    fields: Arc::default(),
                    calendars: Arc::default(),
                    policies: Arc::default(),
                    read_gate: Arc::new(tokio::sync::Semaphore::new(PG_CONNECTIONS as usize)),
                    wal: None,
                })
            }
        }
    }

    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin().await?)
    }

    /// Commits and returns once the commit would survive a power loss.
    pub async fn commit(&self, tx: Tx) -> Result<()> {
        tx.commit().await?;
        self.make_durable().await
    }

    /// Waits until every write committed so far is on disk (see
    /// [`WalSync`]); call after writes made outside [`Store::commit`].
    pub async fn make_durable(&self) -> Result<()> {
        match &self.wal {
            Some(w) => w.sync().await,
            None => Ok(()),
        }
    }

    /// How many WAL fsyncs this process ran (SQLite), for metrics and tests.
    pub fn wal_fsyncs(&self) -> Option<u64> {
        self.wal.as_ref().map(|w| w.fsyncs.load(Ordering::SeqCst))
    }

    /// A read connection, handed out first come, first served: sqlx's pool
    /// does not queue waiters fairly, and under load a request could wait
    /// for its whole timeout while later ones were served. The FIFO gate in
    /// front of it has as many permits as the pool has connections.
    pub(crate) async fn reader(&self) -> Result<Reader> {
        let permit = self
            .read_gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Db(sqlx::Error::PoolClosed))?;
        Ok(Reader {
            conn: self.read.acquire().await?,
            _permit: permit,
        })
    }

    /// Appends ` FOR UPDATE` where the database has row locks; SQLite's
    /// single writer already serializes.
    pub(crate) fn for_update(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// `table` as a FROM item that reads along `index` on SQLite (`INDEXED
    /// BY`, which fails loudly if the query cannot use it), for the few
    /// queries whose right index SQLite's planner cannot tell without
    /// statistics (a partial index against an equality on a wider one).
    /// PostgreSQL's planner is left to choose.
    pub(crate) fn indexed(&self, table: &str, index: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("{table} INDEXED BY {index}"),
            Dialect::Postgres => table.to_string(),
        }
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// Applies the embedded migrations that are not yet applied. Safe to run
    /// from several processes at once: PostgreSQL takes an advisory lock,
    /// SQLite an immediate write transaction.
    pub async fn migrate(&self) -> Result<()> {
        let mut conn = self.write.acquire().await?;
        if self.dialect == Dialect::Postgres {
            conn.execute("SELECT pg_advisory_lock(7419001)").await?;
        }
        let outcome = run_migrations(&mut conn, self.dialect).await;
        if self.dialect == Dialect::Postgres {
            conn.execute("SELECT pg_advisory_unlock(7419001)").await?;
        }
        outcome
    }
}

struct Migration {
    version: i64,
    name: &'static str,
    /// Scripts in order; `__PK__` is replaced per dialect.
    common_before: &'static [&'static str],
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
    common_after: &'static [&'static str],
    postgres_after: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "core",
        common_before: &[include_str!("../migrations/0001_core.sql")],
        sqlite: &[include_str!("../migrations/0001_sqlite.sql")],
        postgres: &[include_str!("../migrations/0001_postgres.sql")],
        common_after: &[include_str!("../migrations/common_seed.sql")],
        postgres_after: &[include_str!("../migrations/0001_postgres_after_seed.sql")],
    },
    Migration {
        version: 2,
        name: "sla",
        common_before: &[include_str!("../migrations/0002_sla.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 3,
        name: "sla_credits",
        common_before: &[include_str!("../migrations/0003_sla_credits.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 4,
        name: "escalation",
        common_before: &[include_str!("../migrations/0004_escalation.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 5,
        name: "automation",
        common_before: &[include_str!("../migrations/0005_automation.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 6,
        name: "index_hygiene",
        common_before: &[include_str!("../migrations/0006_index_hygiene.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 7,
        name: "templates",
        common_before: &[include_str!("../migrations/0007_templates.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 9,
        name: "hub",
        common_before: &[include_str!("../migrations/0009_hub.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 10,
        name: "projects",
        common_before: &[include_str!("../migrations/0010_projects.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 11,
        name: "metrics",
        common_before: &[include_str!("../migrations/0011_metrics.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 12,
        name: "surveys",
        common_before: &[include_str!("../migrations/0012_surveys.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 13,
        name: "feedback",
        common_before: &[include_str!("../migrations/0013_feedback.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 14,
        name: "health",
        common_before: &[include_str!("../migrations/0014_health.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 15,
        name: "health_indexes",
        common_before: &[include_str!("../migrations/0015_health_indexes.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 16,
        name: "web_sessions",
        common_before: &[include_str!("../migrations/0016_web_sessions.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 17,
        name: "pulse_board",
        common_before: &[include_str!("../migrations/0017_pulse_board.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 18,
        name: "knowledge_base",
        // Seeded rows first, so that the dialect scripts date them and
        // index them (FTS5 rows on SQLite; the generated tsvector on
        // PostgreSQL fills itself).
        common_before: &[
            include_str!("../migrations/0018_kb.sql"),
            include_str!("../migrations/0018_kb_seed.sql"),
        ],
        sqlite: &[include_str!("../migrations/0018_kb_sqlite.sql")],
        postgres: &[include_str!("../migrations/0018_kb_postgres.sql")],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 19,
        name: "dashboards",
        common_before: &[include_str!("../migrations/0019_dashboards.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 20,
        name: "dashboard_rollups",
        common_before: &[include_str!("../migrations/0020_dashboard_rollups.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
    Migration {
        version: 21,
        name: "queue_indexes",
        common_before: &[include_str!("../migrations/0021_queue_indexes.sql")],
        sqlite: &[],
        postgres: &[],
        common_after: &[],
        postgres_after: &[],
    },
];

async fn run_migrations(conn: &mut AnyConnection, dialect: Dialect) -> Result<()> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    let pk = match dialect {
        Dialect::Sqlite => "INTEGER PRIMARY KEY",
        Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    };
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let specific = if dialect == Dialect::Sqlite {
            m.sqlite
        } else {
            m.postgres
        };
        let after: &[&str] = if dialect == Dialect::Postgres {
            m.postgres_after
        } else {
            &[]
        };
        let mut tx = conn.begin().await?;
        for script in m
            .common_before
            .iter()
            .chain(specific)
            .chain(m.common_after)
            .chain(after)
        {
            sqlx::raw_sql(&script.replace("__PK__", pk))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(jiff::Timestamp::now().as_second())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(
            migration.version = m.version,
            migration.name = m.name,
            "applied migration"
        );
    }
    Ok(())
}

/// Reads an optional text column, treating a missing value as `None`.
pub(crate) fn opt_str(row: &sqlx::any::AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

/// Reads a 0/1 column as a bool.
pub(crate) fn flag(row: &sqlx::any::AnyRow, col: &str) -> Result<bool> {
    Ok(row.try_get::<i64, _>(col)? != 0)
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl Store {
    /// Runs one statement without parameters (administration: creating
    /// test databases, maintenance). Not for anything built from input.
    pub async fn execute_raw(&self, sql: &str) -> Result<()> {
        let mut conn = self.write.acquire().await?;
        conn.execute(sql).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        assert_eq!(
            normalize_url("steward.db"),
            (Dialect::Sqlite, "sqlite://steward.db?mode=rwc".into())
        );
        assert_eq!(
            normalize_url("sqlite:/tmp/x.db").1,
            "sqlite:///tmp/x.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite://a.db?mode=ro").1,
            "sqlite://a.db?mode=ro"
        );
        assert_eq!(normalize_url("postgres://h/db").0, Dialect::Postgres);
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc"),
            PathBuf::from("/tmp/x.db")
        );
        assert_eq!(
            sqlite_path("sqlite://steward.db?mode=rwc"),
            PathBuf::from("steward.db")
        );
    }
}
