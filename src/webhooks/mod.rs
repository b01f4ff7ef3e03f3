//! The process's webhook worker. Two steps, on every event the reader
//! reads and at least once a second:
//!
//! 1. For each enabled endpoint whose row it can lock, turn the events
//!    after the endpoint's position into deliveries (those its kinds and
//!    filter take), and move the position, in one transaction.
//! 2. Claim due deliveries and send them, each in its own task, within
//!    bounds: in flight at once per endpoint and over all.
//!
//! Every replica runs the same worker against the same tables; the row
//! locks and claims (`FOR UPDATE SKIP LOCKED` on PostgreSQL) share the
//! work without a leader, and nothing of it is held in memory across
//! steps: a process that dies leaves its claims to run out, and another
//! sends them.

mod payload;
mod send;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use entity::webhook_endpoint;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, prelude::*};
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use crate::{
    config::WebhookConfig,
    error::AppResult,
    events::{self, EventBus, Seen},
    graphql::event_cursor::EventCursors,
    service::{
        self,
        events::{Position, since},
        webhook::{
            delivery::{self, Attempt, NewDelivery, Outcome},
            filter,
            kinds::{self, EventType},
            target::Targets,
        },
    },
    telemetry::Telemetry,
};

pub use send::Sender;

/// Events one endpoint takes per transaction.
const BATCH: u64 = 200;
/// How often the worker looks even without a new event (retries come due).
const POLL: Duration = Duration::from_secs(1);
/// How long a sent attempt waits for the database to record it (doubling
/// waits from 100 ms up to this).
const SETTLE_PATIENCE: Duration = Duration::from_secs(30);
/// Deliveries claimed ahead per send slot (see `Worker::send_due`).
const QUEUED_PER_SLOT: usize = 4;
/// How often settled deliveries past the retention are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The worker's settings and what it shares with its tasks.
struct Worker {
    db: DatabaseConnection,
    sender: Sender,
    cursors: EventCursors,
    telemetry: Arc<Telemetry>,
    schedule: Vec<Duration>,
    /// How long a claim holds: the queued rounds of the longest attempt,
    /// and a margin.
    hold: Duration,
    /// Sends in flight at once to one endpoint, and over all.
    per_endpoint: usize,
    overall: usize,
    slots: Arc<Semaphore>,
    /// The endpoints with deliveries claimed and not yet settled.
    lanes: Mutex<HashMap<Uuid, Lane>>,
    /// Told when a delivery is settled (a slot is free again).
    settled: Notify,
    /// Claim rounds so far (where the next one starts).
    rounds: AtomicUsize,
}

/// Starts the worker: it wakes when `bus` reads events, and keeps settled
/// deliveries as long as events (`retention_hours`).
pub fn spawn(
    db: DatabaseConnection,
    bus: &EventBus,
    config: &WebhookConfig,
    retention_hours: u64,
    cursors: EventCursors,
    telemetry: Arc<Telemetry>,
) -> anyhow::Result<()> {
    let targets = Targets {
        allow_http: config.webhook_allow_http,
        allow_private: config.webhook_allow_private,
    };
    let sender = Sender::new(targets, Duration::from_secs(config.webhook_timeout_secs))?;
    let worker = Arc::new(Worker {
        db,
        sender,
        cursors,
        telemetry,
        schedule: config.webhook_retry_schedule.0.clone(),
        hold: Duration::from_secs(config.webhook_timeout_secs) * (QUEUED_PER_SLOT as u32 + 1)
            + Duration::from_secs(30),
        per_endpoint: config.webhook_concurrency_per_endpoint as usize,
        overall: config.webhook_concurrency as usize,
        slots: Arc::new(Semaphore::new(config.webhook_concurrency as usize)),
        lanes: Mutex::new(HashMap::new()),
        settled: Notify::new(),
        rounds: AtomicUsize::new(0),
    });
    let mut read = bus.watch_position();
    let retention = chrono::Duration::hours(retention_hours as i64);
    let mut next_prune = tokio::time::Instant::now();
    tokio::spawn(async move {
        // A settled delivery frees a slot, not an event to read.
        let mut events_moved = true;
        // The poll is a deadline that settled deliveries do not move: a
        // sleep started anew on each wake never ran out while another
        // endpoint drained, and an endpoint enabled or replayed meanwhile
        // waited for the drain to end.
        let mut next_poll = tokio::time::Instant::now();
        loop {
            if events_moved {
                next_poll = tokio::time::Instant::now() + POLL;
            }
            if tokio::time::Instant::now() >= next_prune {
                next_prune += PRUNE_EVERY;
                let before = service::now() - retention;
                if let Err(error) = delivery::prune(&worker.db, before).await {
                    tracing::warn!(?error, "cannot prune webhook deliveries");
                }
            }
            if events_moved && let Err(error) = worker.enqueue_all().await {
                tracing::warn!(?error, "cannot turn chat events into webhook deliveries");
            }
            if let Err(error) = worker.clone().send_due().await {
                tracing::warn!(?error, "cannot claim webhook deliveries");
            }
            events_moved = tokio::select! {
                _ = read.changed() => true,
                _ = worker.settled.notified() => false,
                _ = tokio::time::sleep_until(next_poll) => true,
            };
        }
    });
    Ok(())
}

impl Worker {
    /// Step 1 for every enabled endpoint.
    async fn enqueue_all(&self) -> AppResult<()> {
        let Some(newest) = service::events::newest(&self.db).await? else {
            return Ok(());
        };
        use sea_orm::sea_query::ExprTrait;
        // Only endpoints with events to read take a write transaction (on
        // SQLite, the database's one writer lock).
        let behind: Vec<Uuid> = webhook_endpoint::Entity::find()
            .select_only()
            .column(webhook_endpoint::Column::Id)
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .filter(
                Expr::tuple([
                    Expr::col(webhook_endpoint::Column::CursorTx),
                    Expr::col(webhook_endpoint::Column::CursorSeq),
                ])
                .lt(Expr::tuple([Expr::val(newest.tx), Expr::val(newest.seq)])),
            )
            .into_tuple()
            .all(&self.db)
            .await?;
        for id in behind {
            while self.enqueue(id).await? {}
        }
        Ok(())
    }

    /// Turns a batch of the endpoint's events into deliveries; returns
    /// whether a full batch was read (more may follow).
    async fn enqueue(&self, id: Uuid) -> AppResult<bool> {
        let txn = service::begin_write(&self.db).await?;
        let Some(endpoint) = delivery::lock_endpoint(&txn, id).await? else {
            return Ok(false);
        };
        let from = Position {
            tx: endpoint.cursor_tx,
            seq: endpoint.cursor_seq,
        };
        let batch = since(&txn, Some(endpoint.workspace_id), from, BATCH).await?;
        let Some(last) = batch.events.last().map(Position::of) else {
            // None of its workspace's: it may pass every event it was woken
            // for, so that it is not behind the newest (and locked again)
            // on every other workspace's event. PostgreSQL: to just before
            // the oldest running transaction, whose events and any later
            // ones come after that. SQLite: to the newest event, which this
            // transaction's write lock keeps the newest.
            let passed = if batch.frontier == i64::MAX {
                service::events::newest(&txn).await?
            } else {
                Some(Position {
                    tx: batch.frontier - 1,
                    seq: i64::MAX,
                })
            };
            if let Some(passed) = passed.filter(|passed| *passed > from) {
                delivery::add(&txn, &endpoint, Vec::new(), passed).await?;
                txn.commit().await?;
            }
            return Ok(false);
        };
        let full = batch.events.len() as u64 == BATCH;
        let chat_filter = endpoint.filter.as_deref().map(filter::load).transpose()?;
        let takes = kinds::load(&endpoint.event_kinds);
        let loaded = events::load(&txn, batch.events).await?;
        let deliveries = loaded
            .iter()
            .filter_map(|event| {
                let seen = match &chat_filter {
                    Some(chat_filter) => match events::seen_through(chat_filter, event)? {
                        Seen::As(kind) => EventType::Chat(kind),
                        Seen::LeftFilter => EventType::LeftFilter,
                    },
                    None => EventType::Chat(event.kind),
                };
                takes.contains(&seen).then(|| NewDelivery {
                    chat_id: event.chat_id,
                    position: event.position,
                    event_type: seen,
                    payload: payload::body(
                        event,
                        seen,
                        self.cursors.seal(event.workspace_id, event.position),
                    ),
                })
            })
            .collect();
        delivery::add(&txn, &endpoint, deliveries, last).await?;
        txn.commit().await?;
        Ok(full)
    }

    /// Step 2: claims what is due and sends it. A claim takes up to
    /// [`QUEUED_PER_SLOT`] times as many deliveries as may be in flight
    /// (per endpoint, and over all), so one read of an endpoint's chat
    /// heads serves several rounds of sends; each send then waits for its
    /// endpoint's slot and an overall one. A claim holds for that many
    /// rounds of the longest attempt, and a margin (`hold`).
    async fn send_due(self: Arc<Self>) -> AppResult<()> {
        let per_endpoint = self.per_endpoint * QUEUED_PER_SLOT;
        let overall = self.overall * QUEUED_PER_SLOT;
        let busy: Vec<Uuid> = self
            .lanes()
            .iter()
            .filter(|(_, lane)| lane.claimed >= per_endpoint)
            .map(|(id, _)| *id)
            .collect();
        // Each round starts one endpoint further along: the first ones
        // take the overall bound's share first, and with more busy
        // endpoints than it holds, a fixed order would leave the last
        // ones waiting for as long as the first ones have work.
        let mut endpoints = delivery::sending_endpoints(&self.db, &busy).await?;
        if !endpoints.is_empty() {
            let first = self.rounds.fetch_add(1, Ordering::Relaxed) % endpoints.len();
            endpoints.rotate_left(first);
        }
        for endpoint in endpoints {
            let endpoint_id = endpoint.id;
            let (held, total) = {
                let lanes = self.lanes();
                let held = lanes.get(&endpoint_id).map_or(0, |lane| lane.claimed);
                (held, lanes.values().map(|lane| lane.claimed).sum::<usize>())
            };
            let limit = per_endpoint
                .saturating_sub(held)
                .min(overall.saturating_sub(total));
            if limit == 0 {
                continue;
            }
            let claimed = delivery::claim(&self.db, endpoint_id, limit as u64, self.hold).await?;
            if claimed.is_empty() {
                continue;
            }
            let endpoint = Arc::new(endpoint);
            let lane = self.take_lane(endpoint_id, claimed.len());
            for claimed in claimed {
                let worker = self.clone();
                let endpoint = endpoint.clone();
                let lane = lane.clone();
                tokio::spawn(async move {
                    // Its endpoint's slot first, so one endpoint's queue
                    // never holds the overall slots while it waits.
                    if let (Ok(_lane), Ok(_slot)) = (
                        lane.acquire_owned().await,
                        worker.slots.clone().acquire_owned().await,
                    ) {
                        worker.deliver(&endpoint, &claimed).await;
                    }
                    worker.leave_lane(endpoint_id);
                    worker.settled.notify_one();
                });
            }
        }
        Ok(())
    }

    /// Counts `n` more deliveries claimed for `endpoint_id`; returns the
    /// slots its sends take turns in.
    fn take_lane(&self, endpoint_id: Uuid, n: usize) -> Arc<Semaphore> {
        let mut lanes = self.lanes();
        let lane = lanes.entry(endpoint_id).or_insert_with(|| Lane {
            slots: Arc::new(Semaphore::new(self.per_endpoint)),
            claimed: 0,
        });
        lane.claimed += n;
        lane.slots.clone()
    }

    /// One of `endpoint_id`'s claimed deliveries is settled. The lane goes
    /// with its last one (under the same lock as `take_lane`, so no send
    /// is left holding slots another lane of its endpoint does not know):
    /// endpoints come and go, and the map keeps only those being sent to.
    fn leave_lane(&self, endpoint_id: Uuid) {
        let mut lanes = self.lanes();
        if let Some(lane) = lanes.get_mut(&endpoint_id) {
            lane.claimed = lane.claimed.saturating_sub(1);
            if lane.claimed == 0 {
                lanes.remove(&endpoint_id);
            }
        }
    }

    async fn deliver(
        &self,
        endpoint: &webhook_endpoint::Model,
        claimed: &entity::webhook_delivery::Model,
    ) {
        let (attempt, outcome) = self.sender.send(endpoint, claimed).await;
        self.count(&attempt, outcome, claimed);
        // A database that went away meanwhile (a restart) is retried for a
        // while: an attempt not recorded is sent again once its claim runs
        // out, which a receiver that acknowledged it sees as a repeat.
        let mut wait = Duration::from_millis(100);
        loop {
            match delivery::settle(&self.db, claimed, attempt.clone(), outcome, &self.schedule)
                .await
            {
                Ok(Some(reason)) => {
                    tracing::warn!(endpoint = %endpoint.id, %reason, "webhook endpoint disabled");
                }
                Ok(None) => {}
                Err(error) if wait < SETTLE_PATIENCE => {
                    tracing::warn!(?error, ?wait, "cannot record a webhook attempt; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    continue;
                }
                // Its claim runs out, and it is sent again: at least once.
                Err(error) => tracing::warn!(?error, "cannot record a webhook attempt"),
            }
            return;
        }
    }

    /// Counts the attempt in the metrics.
    fn count(
        &self,
        attempt: &Attempt,
        outcome: Outcome,
        claimed: &entity::webhook_delivery::Model,
    ) {
        let (label, lag) = match (outcome, attempt.status) {
            (Outcome::Acknowledged, _) => (
                "acknowledged",
                (service::now() - claimed.created_at).to_std().ok(),
            ),
            (Outcome::Gone, _) => ("gone", None),
            (Outcome::Failed, Some(_)) => ("http_error", None),
            (Outcome::Failed, None) => ("no_answer", None),
        };
        let took = Duration::from_millis(attempt.duration_ms);
        self.telemetry.metrics.webhook_attempt(label, took, lag);
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Lane>> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One endpoint's sends: the slots they take turns in, and how many
/// claimed deliveries (queued or in flight) are not settled yet.
struct Lane {
    slots: Arc<Semaphore>,
    claimed: usize,
}
