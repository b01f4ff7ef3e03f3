//! The chat event outbox: a write records its events inside its own
//! transaction ([`record`]), so an event exists if and only if its write
//! committed; readers page through them by `seq` ([`since`]).
//!
//! Sequence order is not commit order by itself: a transaction that took
//! seq 5 may commit after the one that took seq 6, and a reader that saw 6
//! would then skip 5. So on PostgreSQL every writer takes one advisory
//! lock right before inserting its events and holds it to commit: seqs are
//! handed out in commit order, and a reader that sees seq N has every
//! committed event below N. The same transaction sends `pg_notify`, which
//! PostgreSQL delivers to every listening process on commit. SQLite has a
//! single writer, so its order is commit order already.

use chrono::{DateTime, Utc};
use entity::{chat_event, enums::ChatEventKind};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    prelude::*,
};
use uuid::Uuid;

use crate::error::AppResult;

/// The PostgreSQL channel the gateway's processes listen on.
pub const CHANNEL: &str = "chat_events";
/// The advisory lock key that orders writers (an arbitrary constant).
const ORDER_LOCK: i64 = 0x0063_6776_6576;

/// An event a write produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent {
    pub chat_id: Uuid,
    pub kind: ChatEventKind,
    pub message_id: Option<Uuid>,
}

impl NewEvent {
    /// An event about the chat itself (created, updated, removed).
    pub fn chat(chat_id: Uuid, kind: ChatEventKind) -> Self {
        Self {
            chat_id,
            kind,
            message_id: None,
        }
    }
}

/// Records `events` of `workspace_id` in the transaction `txn` (call it
/// last, just before commit: on PostgreSQL it holds the ordering lock).
pub async fn record(
    txn: &impl ConnectionTrait,
    workspace_id: Uuid,
    events: &[NewEvent],
) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let postgres = txn.get_database_backend() == DbBackend::Postgres;
    if postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK.into()],
        ))
        .await?;
    }
    let now = super::now();
    let rows = events.iter().map(|event| chat_event::ActiveModel {
        seq: NotSet,
        workspace_id: Set(workspace_id),
        chat_id: Set(event.chat_id),
        kind: Set(event.kind),
        message_id: Set(event.message_id),
        created_at: Set(now),
    });
    chat_event::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    super::notify(txn, CHANNEL, "").await?;
    Ok(())
}

/// Up to `limit` events after `seq`, of every workspace or of one, oldest
/// first.
pub async fn since(
    db: &impl ConnectionTrait,
    workspace_id: Option<Uuid>,
    seq: i64,
    limit: u64,
) -> AppResult<Vec<chat_event::Model>> {
    let mut query = chat_event::Entity::find().filter(chat_event::Column::Seq.gt(seq));
    if let Some(workspace_id) = workspace_id {
        query = query.filter(chat_event::Column::WorkspaceId.eq(workspace_id));
    }
    Ok(query
        .order_by_asc(chat_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// The newest seq recorded (0 when there is none): where a process that
/// starts now begins reading.
pub async fn latest_seq(db: &impl ConnectionTrait) -> AppResult<i64> {
    let newest = chat_event::Entity::find()
        .order_by_desc(chat_event::Column::Seq)
        .one(db)
        .await?;
    Ok(newest.map_or(0, |event| event.seq))
}

/// The oldest seq still kept, if any: a cursor before it cannot be replayed.
pub async fn oldest_seq(db: &impl ConnectionTrait) -> AppResult<Option<i64>> {
    let oldest = chat_event::Entity::find()
        .order_by_asc(chat_event::Column::Seq)
        .one(db)
        .await?;
    Ok(oldest.map(|event| event.seq))
}

/// Deletes the events recorded before `before`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    let done = chat_event::Entity::delete_many()
        .filter(chat_event::Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
