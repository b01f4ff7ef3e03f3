//! Who gets which event: subscribers register what they follow (a
//! workspace, or some of its chats), and the reader hands each event only
//! to those, in order, through a bounded queue each. An event costs
//! its followers, not every socket of the process.
//!
//! A queue is bounded twice: in events, and in the bytes those events
//! hold (a message may be 128 KB of text, so a count alone let one slow
//! subscriber pin hundreds of megabytes). A subscriber whose queue is full
//! is marked lagged and gets nothing more until it has emptied its queue
//! and taken its resync; the resync's position is taken under the same
//! lock the dispatch holds, so every event after it is delivered and every
//! one up to it is covered.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use tokio::sync::mpsc;
use uuid::Uuid;

use super::ChatEvent;
use crate::service::events::Position;

/// What a subscriber follows.
#[derive(Debug, Clone)]
pub struct Interest {
    /// Its workspace: no other workspace's event ever reaches it.
    pub workspace_id: Uuid,
    /// Only these chats of it, or all of them.
    pub chats: Option<Vec<Uuid>>,
}

#[derive(Clone)]
struct Handle {
    queue: mpsc::Sender<Arc<ChatEvent>>,
    lagged: Arc<AtomicBool>,
    /// Bytes its queued events hold, against `max_bytes`.
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// Every registered subscriber, indexed by what it follows.
#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Subscribers registered now.
    count: usize,
    /// The position dispatched up to.
    dispatched: Position,
    by_workspace: HashMap<Uuid, HashMap<u64, Handle>>,
    by_chat: HashMap<(Uuid, Uuid), HashMap<u64, Handle>>,
}

/// The process's subscribers.
#[derive(Clone, Default)]
pub struct Fanout(Arc<Mutex<Registry>>);

impl Fanout {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts counting events as dispatched from `position` on.
    pub fn start_at(&self, position: Position) {
        self.registry().dispatched = position;
    }

    /// Registers a subscriber with a queue of `capacity` events holding at
    /// most `max_bytes`; events after the returned subscription's `start`
    /// reach it.
    pub fn subscribe(&self, interest: Interest, capacity: usize, max_bytes: usize) -> Subscription {
        let (queue, receiver) = mpsc::channel(capacity.max(1));
        let lagged = Arc::new(AtomicBool::new(false));
        let queued = Arc::new(AtomicUsize::new(0));
        let handle = Handle {
            queue,
            lagged: lagged.clone(),
            queued: queued.clone(),
            max_bytes,
        };
        let mut registry = self.registry();
        let id = registry.next_id;
        registry.next_id += 1;
        registry.count += 1;
        match &interest.chats {
            None => {
                registry
                    .by_workspace
                    .entry(interest.workspace_id)
                    .or_default()
                    .insert(id, handle);
            }
            Some(chats) => {
                for chat in chats {
                    registry
                        .by_chat
                        .entry((interest.workspace_id, *chat))
                        .or_default()
                        .insert(id, handle.clone());
                }
            }
        }
        let start = registry.dispatched;
        drop(registry);
        Subscription {
            id,
            interest,
            receiver,
            lagged,
            queued,
            start,
            fanout: self.clone(),
        }
    }

    /// Hands `event` to everyone who follows its workspace or its chat.
    pub fn dispatch(&self, event: Arc<ChatEvent>) {
        let mut registry = self.registry();
        let workspace = registry.by_workspace.get(&event.workspace_id);
        let chat = registry.by_chat.get(&(event.workspace_id, event.chat_id));
        let size = event.size();
        for handle in workspace.into_iter().chain(chat).flat_map(HashMap::values) {
            if handle.lagged.load(Ordering::Acquire) {
                continue;
            }
            // Always room for one event, however large, in an empty queue.
            let queued = handle.queued.load(Ordering::Acquire);
            if queued > 0 && queued + size > handle.max_bytes {
                handle.lagged.store(true, Ordering::Release);
                continue;
            }
            // Counted before it is sent: the subscriber may take it (and
            // uncount it) at once.
            handle.queued.fetch_add(size, Ordering::AcqRel);
            if let Err(refused) = handle.queue.try_send(event.clone()) {
                handle.queued.fetch_sub(size, Ordering::AcqRel);
                // Closed: the subscriber is going, and unregisters itself.
                if let mpsc::error::TrySendError::Full(_) = refused {
                    handle.lagged.store(true, Ordering::Release);
                }
            }
        }
        registry.dispatched = event.position;
    }

    /// Passes over the events up to `position` without dispatching them,
    /// when no subscriber is registered to want them: the reader then reads
    /// no rows for nobody. Checked and recorded under one lock, so a
    /// subscriber registering next starts after them and expects none of
    /// them. False (nothing changed) when someone is registered.
    pub fn pass_unwatched(&self, position: Position) -> bool {
        let mut registry = self.registry();
        if registry.count > 0 {
            return false;
        }
        registry.dispatched = position;
        true
    }

    /// How many subscribers are registered: each gets every event it
    /// follows dispatched from now on.
    pub fn count(&self) -> usize {
        self.registry().count
    }

    fn unsubscribe(&self, id: u64, interest: &Interest) {
        let mut registry = self.registry();
        registry.count -= 1;
        match &interest.chats {
            None => {
                if let Some(handles) = registry.by_workspace.get_mut(&interest.workspace_id) {
                    handles.remove(&id);
                    if handles.is_empty() {
                        registry.by_workspace.remove(&interest.workspace_id);
                    }
                }
            }
            Some(chats) => {
                for chat in chats {
                    let key = (interest.workspace_id, *chat);
                    if let Some(handles) = registry.by_chat.get_mut(&key) {
                        handles.remove(&id);
                        if handles.is_empty() {
                            registry.by_chat.remove(&key);
                        }
                    }
                }
            }
        }
    }

    /// Clears `lagged` and returns the position up to which the resync
    /// covers.
    fn resync(&self, lagged: &AtomicBool) -> Position {
        let registry = self.registry();
        lagged.store(false, Ordering::Release);
        registry.dispatched
    }
}

/// One subscriber's queue; leaves the registry when dropped.
pub struct Subscription {
    id: u64,
    interest: Interest,
    receiver: mpsc::Receiver<Arc<ChatEvent>>,
    lagged: Arc<AtomicBool>,
    queued: Arc<AtomicUsize>,
    /// Events after this position are queued for it.
    pub start: Position,
    fanout: Fanout,
}

/// What a subscription receives next.
pub enum Received {
    Event(Arc<ChatEvent>),
    /// Its queue overflowed: everything up to this position was skipped.
    Lagged(Position),
}

impl Subscription {
    /// The next event, or the resync after an overflow (once the events
    /// queued before it are out); `None` when the bus is gone.
    pub async fn next(&mut self) -> Option<Received> {
        match self.receiver.try_recv() {
            Ok(event) => return Some(self.taken(event)),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        if self.lagged.load(Ordering::Acquire) {
            return Some(Received::Lagged(self.fanout.resync(&self.lagged)));
        }
        let event = self.receiver.recv().await?;
        Some(self.taken(event))
    }

    /// `event`, out of the queue: its bytes no longer count.
    fn taken(&self, event: Arc<ChatEvent>) -> Received {
        self.queued.fetch_sub(event.size(), Ordering::AcqRel);
        Received::Event(event)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.fanout.unsubscribe(self.id, &self.interest);
    }
}

#[cfg(test)]
mod tests {
    use entity::enums::ChatEventKind;

    use super::*;

    fn event(seq: i64, workspace_id: Uuid, chat_id: Uuid) -> Arc<ChatEvent> {
        Arc::new(ChatEvent {
            position: Position { tx: 0, seq },
            workspace_id,
            chat_id,
            kind: ChatEventKind::Updated,
            written_at: chrono::Utc::now(),
            chat: None,
            message: None,
            after: None,
            before: None,
            actor: None,
        })
    }

    async fn seq(subscription: &mut Subscription) -> Result<i64, i64> {
        match subscription.next().await {
            Some(Received::Event(event)) => Ok(event.position.seq),
            Some(Received::Lagged(position)) => Err(position.seq),
            None => panic!("the bus is gone"),
        }
    }

    #[tokio::test]
    async fn events_reach_their_followers_only_and_an_overflow_resyncs() {
        let fanout = Fanout::default();
        let (ws, other_ws) = (Uuid::new_v4(), Uuid::new_v4());
        let (chat, other_chat) = (Uuid::new_v4(), Uuid::new_v4());
        let interest = |workspace_id, chats| Interest {
            workspace_id,
            chats,
        };
        let mut all = fanout.subscribe(interest(ws, None), 2, usize::MAX);
        let mut one = fanout.subscribe(interest(ws, Some(vec![chat])), 10, usize::MAX);
        // Naming another workspace's chat follows nothing of it.
        let mut spy = fanout.subscribe(interest(other_ws, Some(vec![chat])), 10, usize::MAX);

        fanout.dispatch(event(1, ws, chat));
        fanout.dispatch(event(2, ws, other_chat));
        fanout.dispatch(event(3, ws, chat));
        fanout.dispatch(event(4, ws, chat));
        assert_eq!(seq(&mut one).await, Ok(1));
        assert_eq!(seq(&mut one).await, Ok(3));
        assert_eq!(seq(&mut one).await, Ok(4));
        // `all` holds 2: it gets those, then a resync covering the rest.
        assert_eq!(seq(&mut all).await, Ok(1));
        assert_eq!(seq(&mut all).await, Ok(2));
        assert_eq!(seq(&mut all).await, Err(4));
        fanout.dispatch(event(5, ws, other_chat));
        assert_eq!(seq(&mut all).await, Ok(5));
        let quiet = tokio::time::timeout(std::time::Duration::from_millis(50), spy.next());
        assert!(quiet.await.is_err(), "another workspace's event arrived");
        assert_eq!(fanout.count(), 3);
        drop(one);
        assert!(!fanout.registry().by_chat.contains_key(&(ws, chat)));
        assert_eq!(fanout.count(), 2);
    }

    #[tokio::test]
    async fn a_queue_is_bounded_by_the_bytes_its_events_hold() {
        let fanout = Fanout::default();
        let ws = Uuid::new_v4();
        let interest = Interest {
            workspace_id: ws,
            chats: None,
        };
        let size = event(1, ws, Uuid::new_v4()).size();
        // Room for two events' bytes, and a thousand events' count.
        let mut small = fanout.subscribe(interest, 1_000, 2 * size);
        for seq in 1..=5 {
            fanout.dispatch(event(seq, ws, Uuid::new_v4()));
        }
        assert_eq!(seq(&mut small).await, Ok(1));
        assert_eq!(seq(&mut small).await, Ok(2));
        assert_eq!(
            seq(&mut small).await,
            Err(5),
            "a resync past what did not fit"
        );
        // Taken events no longer count: the queue takes more again.
        fanout.dispatch(event(6, ws, Uuid::new_v4()));
        fanout.dispatch(event(7, ws, Uuid::new_v4()));
        assert_eq!(seq(&mut small).await, Ok(6));
        assert_eq!(seq(&mut small).await, Ok(7));
    }
}
