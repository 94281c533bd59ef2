//! A small per-process cache for configuration every request needs (field
//! definitions, calendars) and admins change rarely. Entries are trusted
//! for [`TTL`], so a change made by another process shows within that time;
//! a change made here invalidates at once.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

pub const TTL: Duration = Duration::from_secs(10);

pub(crate) struct Cached<T>(RwLock<Option<(Instant, Arc<T>)>>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(RwLock::new(None))
    }
}

impl<T> Cached<T> {
    pub fn fresh(&self) -> Option<Arc<T>> {
        let guard = self.0.read().ok()?;
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, value: Arc<T>) {
        if let Ok(mut guard) = self.0.write() {
            *guard = Some((Instant::now(), value));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut guard) = self.0.write() {
            *guard = None;
        }
    }
}
