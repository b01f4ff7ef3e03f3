//! Authenticated API keys kept in the process for a short while, so that
//! on PostgreSQL a request costs no statement for its key. Revocation
//! still takes effect in every process as soon as it hears of it: revoking
//! sends a NOTIFY (delivered on commit, so there is a gap of milliseconds
//! in which another process may still accept the key) that every
//! process's LISTEN connection turns into an eviction
//! ([`crate::listen`]), and a lost LISTEN connection empties the cache
//! (a revocation may have been missed). On SQLite (one process, the key
//! read in-process) there is no cache: `api-key revoke` runs in another
//! process and could not tell this one.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use subtle::ConstantTimeEq;

use crate::{secret, service::api_key::Authenticated};

/// How long an authenticated key is trusted without a look.
const TTL: Duration = Duration::from_secs(30);

struct Entry {
    hash: String,
    found: Authenticated,
    until: Instant,
}

/// Keys by prefix.
pub struct KeyCache {
    enabled: bool,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    /// A cache that keeps keys only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whom `key` authenticated within the last [`TTL`], if anyone.
    pub fn get(&self, key: &str) -> Option<Authenticated> {
        if !self.enabled {
            return None;
        }
        let prefix = secret::prefix_of(key)?;
        let entries = self.entries();
        let entry = entries.get(prefix)?;
        let same: bool = secret::hash(key)
            .as_bytes()
            .ct_eq(entry.hash.as_bytes())
            .into();
        (same && Instant::now() < entry.until).then(|| entry.found.clone())
    }

    /// Remembers that `key` authenticated as `found`.
    pub fn put(&self, key: &str, found: Authenticated) {
        let Some(prefix) = secret::prefix_of(key).filter(|_| self.enabled) else {
            return;
        };
        let entry = Entry {
            hash: secret::hash(key),
            found,
            until: Instant::now() + TTL,
        };
        self.entries().insert(prefix.to_owned(), entry);
    }

    /// Forgets the key with `prefix` (it was revoked).
    pub fn forget(&self, prefix: &str) {
        self.entries().remove(prefix);
    }

    /// Forgets every key (revocations may have been missed).
    pub fn clear(&self) {
        self.entries().clear();
    }
}
