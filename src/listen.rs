//! The process's one LISTEN connection to PostgreSQL, reconnected with
//! backoff when it drops (a restarted server): chat events wake the event
//! bus, key revocations evict the key cache and close the key's sockets.
//! Notifications sent while it was down are lost, and that loses nothing:
//! every (re)connection wakes the bus (which reads by position from the
//! table) and empties the key cache, and the periodic look at revoked keys
//! closes sockets whose revocation was missed.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sea_orm::sqlx::postgres::PgListener;

use crate::{
    events::EventBus,
    key_cache::KeyCache,
    service::{api_key::REVOKED_CHANNEL, events::CHANNEL},
    sockets::Sockets,
};

/// Longest wait between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Whether the LISTEN connection is up, and since when it is not: while
/// it is down, other processes' writes reach this one's subscribers only
/// by the reader's poll, and revocations only by the sweep.
#[derive(Debug)]
pub struct Listening {
    down_since: Mutex<Option<Instant>>,
}

impl Listening {
    /// Down until the first connection.
    fn new() -> Self {
        Self {
            down_since: Mutex::new(Some(Instant::now())),
        }
    }

    /// How long the connection has been down; `None` while it is up.
    pub fn down_for(&self) -> Option<Duration> {
        self.since().map(|since| since.elapsed())
    }

    fn since(&self) -> Option<Instant> {
        *self.down_since.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn up(&self) {
        *self.down_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn down(&self) {
        let mut since = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        since.get_or_insert_with(Instant::now);
    }
}

/// Listens on `url` for as long as the process runs; what it returns
/// tells whether the connection is up.
pub fn spawn(
    bus: EventBus,
    keys: Arc<KeyCache>,
    sockets: Arc<Sockets>,
    url: String,
) -> Arc<Listening> {
    let listening = Arc::new(Listening::new());
    let health = listening.clone();
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            let result = listen(&bus, &keys, &sockets, &url, &health).await;
            health.down();
            match result {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(error) => tracing::warn!(%error, ?backoff, "LISTEN connection failed"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    listening
}

/// One LISTEN connection, until it drops.
async fn listen(
    bus: &EventBus,
    keys: &KeyCache,
    sockets: &Sockets,
    url: &str,
    health: &Listening,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([CHANNEL, REVOKED_CHANNEL]).await?;
    health.up();
    tracing::debug!("listening for chat events and key revocations");
    // Whatever happened while there was no connection.
    keys.clear();
    bus.wake();
    loop {
        match listener.try_recv().await? {
            Some(notification) if notification.channel() == REVOKED_CHANNEL => {
                keys.forget(notification.payload());
                sockets.revoke(notification.payload());
            }
            Some(_) => bus.wake(),
            None => {
                keys.clear();
                tracing::warn!("LISTEN connection lost; reconnecting");
                return Ok(());
            }
        }
    }
}
