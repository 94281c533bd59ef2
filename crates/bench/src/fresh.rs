//! What the stand-alone benchmarks (`report-bench`, `health-bench`) share:
//! a fresh database to seed, and deterministic pseudo-random numbers.
//! Included by each binary with `#[path]`, so not every binary uses every
//! item.
#![allow(dead_code)]

use anyhow::Context;
use steward_domain::Email;
use steward_store::Store;

/// Deterministic pseudo-random numbers (splitmix64), so two runs seed the
/// same data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In `[lo, hi)`, in millionths.
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() % 1_000_000) as f64 / 1_000_000.0 * (hi - lo)
    }
}

pub fn email(s: &str) -> anyhow::Result<Email> {
    Email::parse(s).map_err(|e| anyhow::anyhow!(e.0))
}

/// A fresh, migrated database: `name` dropped and created on the
/// PostgreSQL server at `url`, else a SQLite file in a new temporary
/// directory (returned, for the caller to remove).
pub async fn open(
    url: &Option<String>,
    name: &str,
) -> anyhow::Result<(Store, Option<std::path::PathBuf>)> {
    match url {
        Some(u) => {
            let admin = Store::connect(u).await?;
            admin
                .execute_raw(&format!("DROP DATABASE IF EXISTS {name}"))
                .await?;
            admin
                .execute_raw(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await;
            let (head, query) = match u.split_once('?') {
                Some((h, q)) => (h, format!("?{q}")),
                None => (u.as_str(), String::new()),
            };
            let root = &head[..head.rfind('/').context("database URL has no path")?];
            let s = Store::connect(&format!("{root}/{name}{query}")).await?;
            s.migrate().await?;
            Ok((s, None))
        }
        None => {
            let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let s = Store::connect(dir.join("b.db").to_str().context("path")?).await?;
            s.migrate().await?;
            Ok((s, Some(dir)))
        }
    }
}
