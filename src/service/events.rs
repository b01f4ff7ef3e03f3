//! The chat event outbox: a write records its events inside its own
//! transaction ([`record`]), so an event exists if and only if its write
//! committed; readers page through them by [`Position`] ([`since`]).
//!
//! Insertion order is not commit order: a transaction that took seq 5 may
//! commit after the one that took seq 6, and a reader that went past 6
//! would then skip 5. Writers are not serialised to prevent it (a lock
//! held to commit queued every write of every workspace). Instead each
//! event carries the id of its transaction (`tx`), positions are `(tx,
//! seq)`, and a reader only goes as far as the oldest transaction still
//! running (its snapshot's `xmin`, as PgQ does): every transaction below
//! it has ended, so no event can appear behind what was read. An event
//! therefore waits, at most, for the transactions older than its own.
//! SQLite has a single writer, so `seq` is commit order there (`tx` 0).

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

/// An event's place in the outbox: its transaction, then its seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub tx: i64,
    pub seq: i64,
}

impl Position {
    /// Before every event.
    pub const MIN: Self = Self {
        tx: i64::MIN,
        seq: i64::MIN,
    };

    /// Where `event` stands.
    pub fn of(event: &chat_event::Model) -> Self {
        Self {
            tx: event.tx,
            seq: event.seq,
        }
    }
}

/// Events read after a position, in order.
pub struct Batch {
    /// Those no running transaction can precede any more.
    pub events: Vec<chat_event::Model>,
    /// Whether newer events exist that wait for an older transaction to
    /// end: read again soon.
    pub held_back: bool,
    /// The oldest transaction running when it was read (`i64::MAX` on
    /// SQLite): every event yet to be written or read has a `tx` at
    /// least this.
    pub frontier: i64,
}

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
/// transaction `txn`, each with what filters read of its chat: as the
/// write left it (read here, in the same statement) and as it was before
/// ([`Prior`]). Nothing is locked or notified here: readers learn of it
/// after commit ([`super::write::Write::commit`]).
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
    txn.execute_raw(insert(backend, workspace_id, actor, super::now(), events))
        .await?;
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
    let mut binds = Binds::new(backend);
    let head = head(&mut binds, actor, now, &PRIOR_GIVEN);
    let rows: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let prior = event.prior.as_ref();
            let row = [
                binds.bind((i as i32).into()),
                binds.bind(event.chat_id.into()),
                binds.bind(sea_orm::ActiveEnum::to_value(&event.kind).into()),
                binds.bind(event.message_id.into()),
                binds.bind(prior.and_then(|p| p.responder_super_identity_id).into()),
                binds.bind(prior.and_then(|p| p.ticket_id).into()),
                binds.bind(prior.and_then(|p| p.last_message_at).into()),
                binds.bind(prior.map(|p| p.removed).into()),
            ];
            format!("({})", row.join(", "))
        })
        .collect();
    let tail = tail("chats", &PRIOR_GIVEN, binds.bind(workspace_id.into()));
    let sql = format!("{head}(VALUES {}) AS v {tail}", rows.join(", "));
    Statement::from_sql_and_values(backend, sql, binds.values)
}

/// The INSERT of one event as part of a larger PostgreSQL statement that
/// makes the write: `changed` names the statement's `WITH` query that
/// returns the chat's row as the write left it (every column of `chats`,
/// and the prior `last_message_at` as `prior_last_message_at`), whose
/// responder, ticket and removal the write did not change. Binds its
/// values after those already in `binds`.
pub(super) fn insert_one_changed(
    binds: &mut Binds,
    changed: &str,
    workspace_id: Uuid,
    actor: &Actor,
    now: DateTime<Utc>,
    kind: ChatEventKind,
    message_id: Uuid,
) -> String {
    let head = head(binds, actor, now, &PRIOR_UNCHANGED);
    let source = format!(
        "(SELECT 0 AS column1, id AS column2, {kind} AS column3, {message}::uuid AS column4 \
         FROM {changed}) AS v",
        kind = binds.bind(sea_orm::ActiveEnum::to_value(&kind).into()),
        message = binds.bind(message_id.into()),
    );
    let tail = tail(changed, &PRIOR_UNCHANGED, binds.bind(workspace_id.into()));
    format!("{head}{source} {tail}")
}

/// Bind parameters in the order a statement names them.
pub(super) struct Binds {
    backend: DbBackend,
    pub values: Vec<sea_orm::Value>,
}

impl Binds {
    pub fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `value`; returns its placeholder.
    pub fn bind(&mut self, value: sea_orm::Value) -> String {
        self.values.push(value);
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}

/// Where an event's "before" columns come from: the responder, the
/// ticket, `last_message_at` and removal the chat had before the write.
struct PriorColumns {
    responder: &'static str,
    ticket: &'static str,
    last_message_at: &'static str,
    removed: &'static str,
}

/// Given by the write, in the VALUES list.
const PRIOR_GIVEN: PriorColumns = PriorColumns {
    responder: "v.column5",
    ticket: "v.column6",
    last_message_at: "v.column7",
    removed: "v.column8",
};

/// A post: only `last_message_at` moved, and the statement read its prior
/// value.
const PRIOR_UNCHANGED: PriorColumns = PriorColumns {
    responder: "c.responder_super_identity_id",
    ticket: "c.ticket_id",
    last_message_at: "c.prior_last_message_at",
    removed: "FALSE",
};

/// `INSERT ... SELECT ... FROM `, up to the events' source `v`.
fn head(binds: &mut Binds, actor: &Actor, now: DateTime<Utc>, prior: &PriorColumns) -> String {
    format!(
        "INSERT INTO chat_events (workspace_id, chat_id, kind, message_id, created_at, \
         channel_id, channel_type, owner_super_identity_id, owner_is_blocked, chat_created_at, \
         responder_super_identity_id, ticket_id, ticket_status, last_message_at, removed, \
         prev_responder_super_identity_id, prev_ticket_id, prev_ticket_status, \
         prev_last_message_at, prev_removed, actor_kind, actor_id, actor_name, tx, \
         trace_parent) \
         SELECT c.workspace_id, c.id, v.column3, v.column4, {now}, \
         c.channel_id, ch.type, c.owner_super_identity_id, COALESCE(eu.is_blocked, FALSE), \
         c.created_at, c.responder_super_identity_id, c.ticket_id, t.status, \
         c.last_message_at, c.removed_at IS NOT NULL, \
         {responder}, {ticket}, pt.status, {last_message_at}, {removed}, \
         {kind}, {id}, {name}, {tx}, {trace} FROM ",
        responder = prior.responder,
        ticket = prior.ticket,
        last_message_at = prior.last_message_at,
        removed = prior.removed,
        tx = match binds.backend {
            DbBackend::Postgres => "pg_current_xact_id()::text::bigint",
            _ => "0",
        },
        now = binds.bind(now.into()),
        kind = binds.bind(sea_orm::ActiveEnum::to_value(&actor.kind).into()),
        id = binds.bind(actor.id.clone().into()),
        name = binds.bind(actor.name.clone().into()),
        trace = binds.bind(crate::telemetry::spans::current_traceparent().into()),
    )
}

/// The joins after the events' source `v`: its chat (from `chats`, the
/// table or a `WITH` query), channel, tickets and owner.
fn tail(chats: &str, prior: &PriorColumns, workspace: String) -> String {
    format!(
        "JOIN {chats} c ON c.id = v.column2 \
         JOIN channels ch ON ch.id = c.channel_id \
         LEFT JOIN tickets t ON t.id = c.ticket_id \
         LEFT JOIN tickets pt ON pt.id = {ticket} \
         LEFT JOIN external_users eu ON eu.super_identity_id = c.owner_super_identity_id \
         WHERE c.workspace_id = {workspace} ORDER BY v.column1",
        ticket = prior.ticket,
    )
}

/// Up to `limit` events after `after`, of every workspace or of one, in
/// order, as far as no running transaction can precede them.
pub async fn since(
    db: &impl ConnectionTrait,
    workspace_id: Option<Uuid>,
    after: Position,
    limit: u64,
) -> AppResult<Batch> {
    let frontier = frontier(db).await?;
    let mut query = chat_event::Entity::find().filter(after_position(after));
    if let Some(workspace_id) = workspace_id {
        query = query.filter(chat_event::Column::WorkspaceId.eq(workspace_id));
    }
    let mut events = query
        .order_by_asc(chat_event::Column::Tx)
        .order_by_asc(chat_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    // Read past the frontier too (the same statement), to know whether
    // anything waits behind it.
    let settled = events.partition_point(|event| event.tx < frontier);
    let held_back = settled < events.len();
    events.truncate(settled);
    Ok(Batch {
        events,
        held_back,
        frontier,
    })
}

/// Events strictly after `after`: a row comparison, which both backends
/// answer from the (tx, seq) indexes.
fn after_position(after: Position) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::tuple([
        Expr::col(chat_event::Column::Tx),
        Expr::col(chat_event::Column::Seq),
    ])
    .gt(Expr::tuple([Expr::val(after.tx), Expr::val(after.seq)]))
}

/// The oldest transaction still running: every event of an older one
/// that will ever exist exists now. Unbounded on SQLite (one writer,
/// which commits before it wakes anyone).
async fn frontier(db: &impl ConnectionTrait) -> AppResult<i64> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(i64::MAX);
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin",
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("no snapshot".into()))?;
    Ok(row.try_get("", "xmin")?)
}

/// Where a reader that starts now begins: after every event no running
/// transaction can precede (events of transactions that committed while
/// an older one runs may come again, as new: a duplicate rather than a
/// gap).
pub async fn start_position(db: &impl ConnectionTrait) -> AppResult<Position> {
    let frontier = frontier(db).await?;
    let newest = newest(db).await?.unwrap_or(Position::MIN);
    if frontier == i64::MAX {
        return Ok(newest);
    }
    let before_running = Position {
        tx: frontier - 1,
        seq: i64::MAX,
    };
    Ok(newest.min(before_running))
}

/// Most events [`unread`] counts: past it, "at least this many".
const UNREAD_COUNTED: u64 = 1_000_000;

/// Events after `after` (up to [`UNREAD_COUNTED`]), and the seconds since
/// the oldest of them was written (0 when there is none).
pub async fn unread(db: &impl ConnectionTrait, after: Position) -> AppResult<(u64, f64)> {
    use sea_orm::PaginatorTrait;
    let oldest = chat_event::Entity::find()
        .filter(after_position(after))
        .order_by_asc(chat_event::Column::Tx)
        .order_by_asc(chat_event::Column::Seq)
        .one(db)
        .await?;
    let Some(oldest) = oldest else {
        return Ok((0, 0.0));
    };
    let count = chat_event::Entity::find()
        .filter(after_position(after))
        .limit(UNREAD_COUNTED)
        .count(db)
        .await?;
    let waited = (super::now() - oldest.created_at)
        .to_std()
        .unwrap_or_default();
    Ok((count, waited.as_secs_f64()))
}

/// The newest event's position, if any.
pub async fn newest(db: &impl ConnectionTrait) -> AppResult<Option<Position>> {
    let newest = chat_event::Entity::find()
        .order_by_desc(chat_event::Column::Tx)
        .order_by_desc(chat_event::Column::Seq)
        .one(db)
        .await?;
    Ok(newest.as_ref().map(Position::of))
}

/// The oldest event's position still kept, if any.
pub async fn oldest(db: &impl ConnectionTrait) -> AppResult<Option<Position>> {
    let oldest = chat_event::Entity::find()
        .order_by_asc(chat_event::Column::Tx)
        .order_by_asc(chat_event::Column::Seq)
        .one(db)
        .await?;
    Ok(oldest.as_ref().map(Position::of))
}

/// Whether the event at `at` is still kept.
pub async fn kept(db: &impl ConnectionTrait, at: Position) -> AppResult<bool> {
    let found = chat_event::Entity::find()
        .filter(chat_event::Column::Tx.eq(at.tx))
        .filter(chat_event::Column::Seq.eq(at.seq))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Deletes the events recorded before `before`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    let done = chat_event::Entity::delete_many()
        .filter(chat_event::Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
