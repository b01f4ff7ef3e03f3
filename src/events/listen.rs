//! PostgreSQL's NOTIFY turned into wake-ups of the bus: one LISTEN
//! connection per process, reconnected with backoff when it drops (a
//! restarted server). Notifications sent while it was down are lost, which
//! loses no event: the bus reads by `seq` from the table, and every
//! (re)connection wakes it once to pick up what was committed meanwhile.

use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;

use super::EventBus;
use crate::service::events::CHANNEL;

/// Longest wait between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Listens on `url` for as long as the process runs.
pub fn spawn(bus: EventBus, url: String) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            match listen(&bus, &url).await {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(error) => tracing::warn!(%error, ?backoff, "LISTEN connection failed"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
}

/// One LISTEN connection, until it drops.
async fn listen(bus: &EventBus, url: &str) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    tracing::debug!("listening for chat events");
    // Whatever committed while there was no connection.
    bus.wake();
    loop {
        match listener.try_recv().await? {
            Some(_) => bus.wake(),
            None => {
                tracing::warn!("LISTEN connection lost; reconnecting");
                return Ok(());
            }
        }
    }
}
