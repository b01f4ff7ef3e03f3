//! Live chat events, from the outbox table to every subscriber of this
//! process. One reader task per process reads what is new once for all
//! local subscribers (the chat rows, the posted messages and the chats'
//! newest two messages, each one statement per batch) and hands each event
//! to the subscribers that follow its workspace or chat ([`fanout`]), each
//! through a bounded queue.
//!
//! A write of this process wakes the reader after its commit
//! ([`OnCommit::committed`]) and, on PostgreSQL, has one `NOTIFY` sent for
//! it outside its transaction, coalesced with any others pending, which
//! wakes the readers of the other processes (one LISTEN connection each,
//! [`crate::listen`]). Sent inside the transaction, a NOTIFY took a lock
//! that every committing writer of the database queued for. The table is
//! the source of truth, so a lost notification delays an event but never
//! loses it: a one-second poll is the safety net.
//!
//! The read is by position, as far as no running transaction can precede
//! it (see [`crate::service::events`]), so a late-committing write is never
//! skipped; when newer events wait behind a running transaction, the
//! reader looks again shortly. After a lost LISTEN connection the next read
//! simply picks up everything committed meanwhile.

pub mod fanout;
pub mod stream;

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
    time::Duration,
};

use entity::{chat_event, enums::ChatEventKind, message};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, prelude::*,
};
use tokio::sync::{Notify, watch};
use tracing::Instrument;
use uuid::Uuid;

use self::fanout::{Fanout, Interest, Subscription};
use crate::{
    error::AppResult,
    service::{
        self,
        actor::Actor,
        chat::filter::{ChatFilter, FilterFacts},
        chat::{self, row::ChatRow},
        events::{self, Position},
        write::OnCommit,
    },
    telemetry::spans,
};

/// Events read in one go.
const BATCH: u64 = 500;
/// How often the reader looks even without a wake-up.
const POLL: Duration = Duration::from_secs(1);
/// How soon it looks again when events wait behind a running
/// transaction (doubling while they still wait, up to [`POLL`]).
const HELD_BACK: Duration = Duration::from_millis(5);

/// One committed event with what subscribers show of it, read once per
/// process and shared.
#[derive(Debug)]
pub struct ChatEvent {
    /// Its place in the outbox (the cursor).
    pub position: Position,
    pub workspace_id: Uuid,
    pub chat_id: Uuid,
    pub kind: ChatEventKind,
    /// When its write recorded it.
    pub written_at: chrono::DateTime<chrono::Utc>,
    /// The chat as it stood when the event was read, with its relations
    /// and newest two messages.
    pub chat: Option<Arc<ChatRow>>,
    /// The posted message, for MESSAGE_POSTED.
    pub message: Option<message::Model>,
    /// What filters read of the chat as the write left it; `None` for an
    /// event recorded before the outbox kept it (then the chat as read
    /// stands in).
    pub after: Option<FilterFacts>,
    /// The same as the chat stood before the write; `None` for a creation.
    pub before: Option<FilterFacts>,
    /// Who made the write; `None` for an event recorded before actors were.
    pub actor: Option<Actor>,
}

impl ChatEvent {
    /// How long ago its write recorded it.
    pub fn age(&self) -> Duration {
        (service::now() - self.written_at)
            .to_std()
            .unwrap_or_default()
    }

    /// Bytes it holds, roughly: what a subscriber's queue counts.
    pub fn size(&self) -> usize {
        const ROW: usize = 1_024;
        let text = |m: &message::Model| m.content.len();
        let recent = self.chat.as_ref().and_then(|row| row.recent.as_ref());
        ROW + self.message.as_ref().map_or(0, text)
            + recent.map_or(0, |r| {
                r.latest.as_ref().map_or(0, text) + r.previous.as_ref().map_or(0, text)
            })
    }
}

/// How a follower with a filter sees an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// As what it is: the chat is in the filter after the write.
    As(ChatEventKind),
    /// The write took the chat out of the filter.
    LeftFilter,
}

/// How a follower with `filter` sees `event`, judged by its chat as the
/// write left it and as it was before (so a replay from a cursor sees
/// what a live follower saw): as its own kind when the chat is in the
/// filter after it, as leaving it when it was in the filter before and is
/// not after, not at all otherwise.
pub fn seen_through(filter: &ChatFilter, event: &ChatEvent) -> Option<Seen> {
    // An event recorded before the outbox kept the facts: the chat as read.
    let row_facts = || event.chat.as_deref().map(FilterFacts::of);
    let after = event.after.clone().or_else(row_facts)?;
    // A removal reaches lists that leave removed chats out: they drop it.
    let removal = event.kind == ChatEventKind::Removed;
    if filter.matches(&after, filter.include_removed || removal) {
        return Some(Seen::As(event.kind));
    }
    let before = event.before.as_ref()?;
    filter
        .matches(before, filter.include_removed)
        .then_some(Seen::LeftFilter)
}

/// What filters read of the chat of `event`, after the write and before it.
fn facts(event: &chat_event::Model) -> (Option<FilterFacts>, Option<FilterFacts>) {
    let (Some(channel_id), Some(owner), Some(created_at), Some(removed)) = (
        event.channel_id,
        event.owner_super_identity_id,
        event.chat_created_at,
        event.removed,
    ) else {
        return (None, None);
    };
    let after = FilterFacts {
        chat_id: event.chat_id,
        channel_id,
        channel_type: event.channel_type,
        owner_super_identity_id: owner,
        owner_is_blocked: event.owner_is_blocked.unwrap_or(false),
        responder_super_identity_id: event.responder_super_identity_id,
        ticket_id: event.ticket_id,
        ticket_status: event.ticket_status,
        created_at,
        last_message_at: event.last_message_at,
        removed,
    };
    let before = event.prev_removed.map(|removed| FilterFacts {
        responder_super_identity_id: event.prev_responder_super_identity_id,
        ticket_id: event.prev_ticket_id,
        ticket_status: event.prev_ticket_status,
        last_message_at: event.prev_last_message_at,
        removed,
        ..after.clone()
    });
    (Some(after), before)
}

/// The process's event bus: wake it after a local commit, subscribe to it
/// for live events.
#[derive(Clone)]
pub struct EventBus(Arc<Inner>);

struct Inner {
    fanout: Fanout,
    /// Events a subscriber's queue holds.
    capacity: usize,
    /// Bytes the events of a subscriber's queue may hold.
    max_bytes: usize,
    wake: Notify,
    /// Set when a local write committed and the other processes are yet
    /// to be told (PostgreSQL).
    announce: Notify,
    /// The reader's connections, once started.
    reader: OnceLock<DatabaseConnection>,
    /// Where the reader has read up to (its own state, what `/metrics`
    /// reads of it, and what the webhook worker waits on).
    read_up_to: watch::Sender<Position>,
}

impl EventBus {
    /// A bus whose subscribers may fall `capacity` events, holding at most
    /// `max_bytes`, behind before they are told to resync.
    pub fn new(capacity: usize, max_bytes: usize) -> Self {
        Self(Arc::new(Inner {
            fanout: Fanout::default(),
            capacity,
            max_bytes,
            wake: Notify::new(),
            announce: Notify::new(),
            reader: OnceLock::new(),
            read_up_to: watch::Sender::new(Position::MIN),
        }))
    }

    /// Live events that `interest` follows, from now on.
    pub fn subscribe(&self, interest: Interest) -> Subscription {
        self.0
            .fanout
            .subscribe(interest, self.0.capacity, self.0.max_bytes)
    }

    /// Live subscriptions in this process (streams attached to the bus).
    pub fn subscriptions(&self) -> usize {
        self.0.fanout.count()
    }

    /// Tells the reader that something was committed (SQLite, or a
    /// NOTIFY from another process).
    pub fn wake(&self) {
        self.0.wake.notify_one();
    }

    /// Starts the reader where nothing can precede what it reads next,
    /// pruning events older than `retention` as it goes; on PostgreSQL,
    /// also the task that tells other processes of local writes.
    pub async fn start(&self, db: DatabaseConnection, retention: Duration) -> AppResult<()> {
        let start = events::start_position(&db).await?;
        self.0.fanout.start_at(start);
        self.0.read_up_to.send_replace(start);
        let _ = self.0.reader.set(db.clone());
        if db.get_database_backend() == DbBackend::Postgres {
            let bus = self.clone();
            let db = db.clone();
            tokio::spawn(async move { bus.announce_forever(db).await });
        }
        let bus = self.clone();
        tokio::spawn(async move { bus.read_forever(db, retention).await });
        Ok(())
    }

    /// Sends a NOTIFY whenever local writes committed since the last one,
    /// in its own statement, outside every write's transaction.
    async fn announce_forever(self, db: DatabaseConnection) {
        loop {
            self.0.announce.notified().await;
            if let Err(error) = service::notify(&db, events::CHANNEL, "").await {
                // The other processes find the events on their next poll.
                tracing::warn!(?error, "cannot notify other processes of chat events");
            }
        }
    }

    /// Committed events the reader has yet to read, and the seconds the
    /// oldest of them has waited: how far this process is behind.
    pub async fn behind(&self) -> AppResult<(u64, f64)> {
        let Some(db) = self.0.reader.get() else {
            return Ok((0, 0.0));
        };
        let read_up_to = *self.0.read_up_to.borrow();
        events::unread(db, read_up_to).await
    }

    /// Where the reader stands, changing as it reads.
    pub fn watch_position(&self) -> watch::Receiver<Position> {
        self.0.read_up_to.subscribe()
    }

    async fn read_forever(self, db: DatabaseConnection, retention: Duration) {
        let mut failures = 0u32;
        let mut next_prune = tokio::time::Instant::now();
        let mut held_back = HELD_BACK;
        loop {
            let wait = match self.read_new(&db).await {
                Ok(false) => {
                    failures = 0;
                    held_back = HELD_BACK;
                    POLL
                }
                Ok(true) => {
                    failures = 0;
                    let wait = held_back;
                    held_back = (held_back * 2).min(POLL);
                    wait
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    let backoff = Duration::from_millis(100 * 2u64.pow(failures.min(5)));
                    tracing::warn!(?error, ?backoff, "cannot read chat events; retrying");
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            if tokio::time::Instant::now() >= next_prune {
                next_prune += Duration::from_secs(60);
                let before =
                    service::now() - chrono::Duration::from_std(retention).unwrap_or_default();
                if let Err(error) = events::prune(&db, before).await {
                    tracing::warn!(?error, "cannot prune chat events");
                }
            }
            let _ = tokio::time::timeout(wait, self.0.wake.notified()).await;
        }
    }

    /// Reads and dispatches every event after where the reader stands,
    /// moving it on; returns whether newer ones wait behind a running
    /// transaction.
    async fn read_new(&self, db: &DatabaseConnection) -> AppResult<bool> {
        loop {
            let read_up_to = *self.0.read_up_to.borrow();
            let batch = events::since(db, None, read_up_to, BATCH).await?;
            let Some(last) = batch.events.last().map(Position::of) else {
                return Ok(batch.held_back);
            };
            // With no subscriber here, the chats and messages would be
            // read for no one (a replica serving only writes and queries).
            if !self.0.fanout.pass_unwatched(last) {
                let parents = batch.events.iter();
                let span = spans::delivery(parents.map(|e| e.trace_parent.as_deref()));
                let events = load(db, batch.events).instrument(span.clone()).await?;
                let _delivering = span.enter();
                for event in events {
                    self.0.fanout.dispatch(Arc::new(event));
                }
            }
            self.0.read_up_to.send_replace(last);
        }
    }
}

/// The events of `batch` with their chats, the chats' newest two messages
/// and the posted messages: two statements for the whole batch.
pub async fn load(
    db: &impl ConnectionTrait,
    batch: Vec<chat_event::Model>,
) -> AppResult<Vec<ChatEvent>> {
    let mut chat_ids: Vec<Uuid> = batch.iter().map(|event| event.chat_id).collect();
    chat_ids.sort_unstable();
    chat_ids.dedup();
    let chats: HashMap<Uuid, Arc<ChatRow>> = chat::row::get_many(db, &chat_ids)
        .await?
        .into_iter()
        .map(|row| (row.chat.id, Arc::new(row)))
        .collect();
    let message_ids: Vec<Uuid> = batch.iter().filter_map(|event| event.message_id).collect();
    let mut messages: HashMap<Uuid, message::Model> = if message_ids.is_empty() {
        HashMap::new()
    } else {
        message::Entity::find()
            .filter(message::Column::Id.is_in(message_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, m))
            .collect()
    };
    Ok(batch
        .into_iter()
        .map(|event| {
            let (after, before) = facts(&event);
            let actor = event
                .actor_kind
                .zip(event.actor_id.clone())
                .map(|(kind, id)| Actor {
                    kind,
                    id,
                    name: event.actor_name.clone(),
                });
            ChatEvent {
                position: Position::of(&event),
                workspace_id: event.workspace_id,
                chat_id: event.chat_id,
                kind: event.kind,
                written_at: event.created_at,
                chat: chats.get(&event.chat_id).cloned(),
                message: event.message_id.and_then(|id| messages.remove(&id)),
                after,
                before,
                actor,
            }
        })
        .collect())
}

/// After a write of this process committed events: wakes the reader, and
/// has the other processes told (one NOTIFY for however many writes commit
/// before it is sent).
impl OnCommit for EventBus {
    fn committed(&self) {
        self.0.wake.notify_one();
        self.0.announce.notify_one();
    }
}
