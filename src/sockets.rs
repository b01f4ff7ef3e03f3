//! The process's authenticated WebSockets, by credential (an API key's
//! prefix): how many each holds, against `--max-ws-connections-per-key`,
//! and a signal that closes them all when the credential is revoked. A
//! revocation arrives by NOTIFY (PostgreSQL, every replica) or from the
//! periodic look at recently revoked keys (both backends: SQLite has no
//! NOTIFY, and a lost LISTEN connection may have missed one).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use tokio::sync::watch;

/// Sockets by credential.
pub struct Sockets {
    per_credential: usize,
    open: Mutex<HashMap<Arc<str>, Credential>>,
}

struct Credential {
    count: usize,
    revoked: watch::Sender<bool>,
}

/// One socket's place under its credential; leaves when dropped.
pub struct Held {
    credential: Arc<str>,
    revoked: watch::Receiver<bool>,
    sockets: Arc<Sockets>,
}

impl Sockets {
    /// A registry allowing `per_credential` sockets to each credential.
    pub fn new(per_credential: usize) -> Self {
        Self {
            per_credential,
            open: Mutex::new(HashMap::new()),
        }
    }

    fn open(&self) -> MutexGuard<'_, HashMap<Arc<str>, Credential>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more socket of `credential`, or `None` when it
    /// holds as many as it may.
    pub fn hold(self: &Arc<Self>, credential: &Arc<str>) -> Option<Held> {
        let mut open = self.open();
        let entry = open
            .entry(credential.clone())
            .or_insert_with(|| Credential {
                count: 0,
                revoked: watch::Sender::new(false),
            });
        if entry.count >= self.per_credential {
            return None;
        }
        entry.count += 1;
        Some(Held {
            credential: credential.clone(),
            revoked: entry.revoked.subscribe(),
            sockets: self.clone(),
        })
    }

    /// Closes every socket of `credential` (it was revoked).
    pub fn revoke(&self, credential: &str) {
        if let Some(entry) = self.open().get(credential) {
            entry.revoked.send_replace(true);
        }
    }

    /// Sockets `credential` holds now.
    pub fn count(&self, credential: &str) -> usize {
        self.open().get(credential).map_or(0, |entry| entry.count)
    }
}

impl Held {
    /// Resolves when the credential is revoked.
    pub async fn revoked(&mut self) {
        // An error means the registry entry is gone, which it cannot be
        // while this is held: wait forever rather than close for it.
        if self.revoked.wait_for(|revoked| *revoked).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.sockets.open();
        if let Some(entry) = open.get_mut(&self.credential) {
            entry.count -= 1;
            if entry.count == 0 {
                open.remove(&self.credential);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_credential_holds_up_to_its_cap_and_a_revocation_reaches_each_socket() {
        let sockets = Arc::new(Sockets::new(2));
        let (a, b): (Arc<str>, Arc<str>) = ("cgw_a".into(), "cgw_b".into());
        let mut first = sockets.hold(&a).unwrap();
        let mut second = sockets.hold(&a).unwrap();
        assert!(sockets.hold(&a).is_none(), "over the cap");
        let mut other = sockets.hold(&b).unwrap();
        sockets.revoke(&a);
        first.revoked().await;
        second.revoked().await;
        let quiet = tokio::time::timeout(Duration::from_millis(50), other.revoked());
        assert!(
            quiet.await.is_err(),
            "another credential's socket was closed"
        );
        drop(first);
        assert_eq!(sockets.count(&a), 1);
        drop(second);
        assert_eq!(sockets.count(&a), 0);
        assert!(sockets.open().get(&*a).is_none());
        // A new socket of a credential starts unrevoked.
        let mut again = sockets.hold(&a).unwrap();
        let quiet = tokio::time::timeout(Duration::from_millis(50), again.revoked());
        assert!(quiet.await.is_err());
    }
}
