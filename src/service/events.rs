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
use entity::{chat, chat_event, enums::ChatEventKind};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    prelude::*,
};
use uuid::Uuid;

use super::actor::Actor;
use crate::error::AppResult;

/// The PostgreSQL channel the gateway's processes listen on.
pub const CHANNEL: &str = "chat_events";
/// The advisory lock key that orders writers (an arbitrary constant).
const ORDER_LOCK: i64 = 0x0063_6776_6576;

/// What of a chat a write can change and a filter reads, as it stood
/// before the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    pub responder_super_identity_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub removed: bool,
}

impl Prior {
    /// `chat` as read before the write changes it.
    pub fn of(chat: &chat::Model) -> Self {
        Self {
            responder_super_identity_id: chat.responder_super_identity_id,
            ticket_id: chat.ticket_id,
            last_message_at: chat.last_message_at,
            removed: chat.removed_at.is_some(),
        }
    }
}

/// An event a write produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent {
    pub chat_id: Uuid,
    pub kind: ChatEventKind,
    pub message_id: Option<Uuid>,
    /// The chat before the write; `None` for a chat the write created.
    pub prior: Option<Prior>,
}

impl NewEvent {
    /// The creation of the chat `chat_id`.
    pub fn created(chat_id: Uuid) -> Self {
        Self {
            chat_id,
            kind: ChatEventKind::Created,
            message_id: None,
            prior: None,
        }
    }

    /// A change of `kind` to the chat `chat_id`, which stood as `prior`
    /// before the write.
    pub fn changed(kind: ChatEventKind, chat_id: Uuid, prior: Prior) -> Self {
        Self {
            chat_id,
            kind,
            message_id: None,
            prior: Some(prior),
        }
    }
}

/// Records `events` of `workspace_id`, made by `actor`, in the
/// transaction `txn` (call it last, just before commit: on PostgreSQL it
/// holds the ordering lock), each with what filters read of its chat: as
/// the write left it (read here, in the same statement) and as it was
/// before ([`Prior`]).
pub async fn record(
    txn: &impl ConnectionTrait,
    workspace_id: Uuid,
    actor: &Actor,
    events: &[NewEvent],
) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ORDER_LOCK.into()],
        ))
        .await?;
    }
    txn.execute_raw(insert(backend, workspace_id, actor, super::now(), events))
        .await?;
    super::notify(txn, CHANNEL, "").await?;
    Ok(())
}

/// One INSERT of every event: each joined with its chat as the write left
/// it, and with the ticket it had before. A VALUES list carries what the
/// write knows of each (its columns are `column1`, `column2`... on both
/// backends); its first column keeps the events in the order given.
fn insert(
    backend: DbBackend,
    workspace_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
    events: &[NewEvent],
) -> Statement {
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut bind = |value: sea_orm::Value| {
        values.push(value);
        match backend {
            DbBackend::Postgres => format!("${}", values.len()),
            _ => "?".to_owned(),
        }
    };
    let head = format!(
        "INSERT INTO chat_events (workspace_id, chat_id, kind, message_id, created_at, \
         channel_id, channel_type, owner_super_identity_id, owner_is_blocked, chat_created_at, \
         responder_super_identity_id, ticket_id, ticket_status, last_message_at, removed, \
         prev_responder_super_identity_id, prev_ticket_id, prev_ticket_status, \
         prev_last_message_at, prev_removed, actor_kind, actor_id, actor_name) \
         SELECT c.workspace_id, c.id, v.column3, v.column4, {now}, \
         c.channel_id, ch.type, c.owner_super_identity_id, COALESCE(eu.is_blocked, FALSE), \
         c.created_at, c.responder_super_identity_id, c.ticket_id, t.status, \
         c.last_message_at, c.removed_at IS NOT NULL, \
         v.column5, v.column6, pt.status, v.column7, v.column8, \
         {kind}, {id}, {name} FROM (VALUES ",
        now = bind(now.into()),
        kind = bind(sea_orm::ActiveEnum::to_value(&actor.kind).into()),
        id = bind(actor.id.clone().into()),
        name = bind(actor.name.clone().into()),
    );
    let rows: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let prior = event.prior.as_ref();
            let row = [
                bind((i as i32).into()),
                bind(event.chat_id.into()),
                bind(sea_orm::ActiveEnum::to_value(&event.kind).into()),
                bind(event.message_id.into()),
                bind(prior.and_then(|p| p.responder_super_identity_id).into()),
                bind(prior.and_then(|p| p.ticket_id).into()),
                bind(prior.and_then(|p| p.last_message_at).into()),
                bind(prior.map(|p| p.removed).into()),
            ];
            format!("({})", row.join(", "))
        })
        .collect();
    let tail = format!(
        ") AS v \
         JOIN chats c ON c.id = v.column2 \
         JOIN channels ch ON ch.id = c.channel_id \
         LEFT JOIN tickets t ON t.id = c.ticket_id \
         LEFT JOIN tickets pt ON pt.id = v.column6 \
         LEFT JOIN external_users eu ON eu.super_identity_id = c.owner_super_identity_id \
         WHERE c.workspace_id = {} ORDER BY v.column1",
        bind(workspace_id.into()),
    );
    let sql = format!("{head}{}{tail}", rows.join(", "));
    Statement::from_sql_and_values(backend, sql, values)
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
