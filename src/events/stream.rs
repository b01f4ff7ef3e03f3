//! One subscriber's view of the bus: the events it follows, from a cursor
//! (replayed from the table, then live) or from now. It subscribes to the
//! bus before replaying, so nothing falls between the two, and drops what
//! it already delivered. A cursor older than the retention, or
//! a subscriber that fell behind the bus's buffer, gets a resync instead
//! of a silent gap (and the process's memory does not grow for it).

use std::sync::Arc;

use futures_util::Stream;
use sea_orm::DatabaseConnection;

use super::{
    BATCH, ChatEvent, EventBus,
    fanout::{Interest, Received},
    load,
};
use crate::{
    error::AppError,
    service::events::{self, Position},
};

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// An event of its workspace.
    Event(Arc<ChatEvent>),
    /// Events were lost to it; resume from `position` after refetching.
    Resync {
        /// The position the bus had read up to when it happened.
        position: Position,
    },
}

/// Where a subscriber starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the next event.
    Now,
    /// After the event at this position, replaying what followed it.
    After(Position),
    /// With a resync: the client cannot say where it stood.
    Resync,
}

/// `read`, again after a pause while the database is unavailable or too
/// slow (restarting, say): a subscriber replaying from its cursor waits
/// for it to come back rather than losing its subscription, while live
/// events queue for it (a queue that overflows resyncs, as ever). Other
/// errors end the subscription.
async fn retrying<T, F, Fut>(mut read: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        match read().await {
            Err(AppError::Unavailable | AppError::Timeout) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            done => return done,
        }
    }
}

/// The events `interest` follows, from `start`. A position that cannot be
/// replayed (older than the retention, or newer than any event: a cursor
/// from before the database was restored) starts with a resync.
pub fn followed_events(
    bus: EventBus,
    db: DatabaseConnection,
    interest: Interest,
    start: Start,
) -> impl Stream<Item = Result<Delivery, AppError>> + Send + 'static {
    async_stream::try_stream! {
        let workspace_id = interest.workspace_id;
        let chats = interest.chats.clone();
        let mut live = bus.subscribe(interest);
        let mut last = live.start;
        let after = match start {
            Start::Now => None,
            Start::After(after) => Some(after),
            Start::Resync => Some(Position::MIN),
        };
        if let Some(after) = after {
            // Replayable when nothing after it can have been pruned: its
            // own event is still kept, or it is no older than the oldest
            // kept; and when it is not beyond what exists.
            let newest = retrying(|| events::newest(&db)).await?.map_or(last, |newest| newest.max(last));
            let replayable = after <= newest
                && match retrying(|| events::oldest(&db)).await? {
                    Some(oldest) => after >= oldest || retrying(|| events::kept(&db, after)).await?,
                    None => after >= last,
                };
            if replayable {
                // Every event up to where the live queue starts has been
                // read by this process's reader, so it is in the table;
                // what follows comes through the queue. Replaying only up
                // to there keeps a crowd of resuming subscribers from
                // chasing the newest writes through the table.
                let live_from = last;
                last = after;
                while last < live_from {
                    let batch = retrying(|| events::since(&db, Some(workspace_id), last, BATCH)).await?;
                    let Some(newest) = batch.events.last().map(Position::of) else {
                        break;
                    };
                    let events = batch.events;
                    for event in retrying(|| load(&db, events.clone())).await? {
                        let followed = chats.as_ref().is_none_or(|chats| chats.contains(&event.chat_id));
                        if followed {
                            yield Delivery::Event(Arc::new(event));
                        }
                    }
                    last = newest;
                }
                // Live events up to here were replayed already.
                last = last.max(after);
            } else {
                yield Delivery::Resync { position: last };
            }
        }
        while let Some(received) = live.next().await {
            match received {
                Received::Event(event) if event.position > last => {
                    last = event.position;
                    yield Delivery::Event(event);
                }
                Received::Event(_) => {}
                Received::Lagged(position) => {
                    last = position;
                    yield Delivery::Resync { position };
                }
            }
        }
    }
}
