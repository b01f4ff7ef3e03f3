//! Inbox badge counts: how many of the workspace's chats that match a
//! filter fall in each bucket. Each bucket group is one grouped statement,
//! read only when asked for; the filter means what it means for the lists.
//! When it asks only what the live-chat counters know (channels,
//! responders, ticket statuses), the counters answer every group.

use entity::{
    channel, chat, chat_bucket_count,
    enums::{ChannelType, TicketStatus},
    ticket,
};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, TryGetable,
    sea_query::{Asterisk, Expr, ExprTrait, Func, SelectStatement},
};
use uuid::Uuid;

use super::{counters, filter::ChatFilter};
use crate::error::AppResult;

/// A count of chats for one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket<K> {
    pub key: K,
    pub count: u64,
}

/// Counts the rows `select` (grouped, bucket key first, then `count(*)`)
/// returns, as buckets.
async fn buckets<K: TryGetable>(
    db: &impl ConnectionTrait,
    select: &SelectStatement,
) -> AppResult<Vec<Bucket<K>>> {
    let rows = db.query_all(select).await?;
    rows.iter()
        .map(|row| {
            let key: K = row.try_get_by_index(0)?;
            let count: i64 = row.try_get_by_index(1)?;
            Ok(Bucket {
                key,
                count: u64::try_from(count).unwrap_or(0),
            })
        })
        .collect()
}

/// The chats of `workspace_id` matching `filter`, as a statement to add a
/// grouping to.
fn matching(
    backend: DbBackend,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<SelectStatement> {
    let mut select = SelectStatement::new();
    select
        .from(chat::Entity)
        .cond_where(filter.condition(backend, workspace_id));
    Ok(select)
}

/// `COUNT(*)`: unlike a count of `chats.id`, it needs no column outside
/// the index a grouping reads, so the scan can be index-only.
fn count_all() -> Expr {
    Func::count(Expr::col(Asterisk)).into()
}

/// Matching chats per value of `key`, a column of `table` joined on
/// `table.id = chats.via`: one bucket per value of `all`, zero included.
async fn by_joined<T, K>(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
    (table, id, key): (T, T::Column, T::Column),
    via: chat::Column,
    all: impl Iterator<Item = K>,
) -> AppResult<Vec<Bucket<K>>>
where
    T: EntityTrait,
    K: TryGetable + PartialEq + Copy,
{
    let mut select = matching(db.get_database_backend(), workspace_id, filter)?;
    select
        .expr(Expr::col((table, key)))
        .expr(count_all())
        .inner_join(table, Expr::col((table, id)).equals((chat::Entity, via)))
        .group_by_col((table, key));
    let found = buckets::<K>(db, &select).await?;
    Ok(every(found, all))
}

/// Matching chats per channel type; every type, zero included, in the
/// order of [`ChannelType`].
pub async fn by_channel_type(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<Vec<Bucket<ChannelType>>> {
    use channel::Column as C;
    let all = <ChannelType as Iterable>::iter();
    if let Some(buckets) = filter.only_buckets() {
        let key = Expr::col((channel::Entity, C::ChannelType));
        let found =
            counters::live_by(db, workspace_id, &buckets, sea_orm::Condition::all(), key).await?;
        return Ok(every(from_counters(found), all));
    }
    let channels = (channel::Entity, C::Id, C::ChannelType);
    by_joined(
        db,
        workspace_id,
        filter,
        channels,
        chat::Column::ChannelId,
        all,
    )
    .await
}

/// Matching chats per status of their ticket; every status, zero included.
/// Chats without a ticket are in none (see [`without_ticket`]).
pub async fn by_ticket_status(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<Vec<Bucket<TicketStatus>>> {
    use ticket::Column as T;
    let all = <TicketStatus as Iterable>::iter();
    if let Some(buckets) = filter.only_buckets() {
        let key = Expr::col((
            chat_bucket_count::Entity,
            chat_bucket_count::Column::TicketStatus,
        ));
        let linked = counters::with_ticket(true);
        let found = counters::live_by::<String>(db, workspace_id, &buckets, linked, key).await?;
        let found = found
            .into_iter()
            .map(|(status, count)| Ok((TicketStatus::try_from_value(&status)?, count)))
            .collect::<Result<Vec<_>, DbErr>>()?;
        return Ok(every(from_counters(found), all));
    }
    let tickets = (ticket::Entity, T::Id, T::Status);
    by_joined(
        db,
        workspace_id,
        filter,
        tickets,
        chat::Column::TicketId,
        all,
    )
    .await
}

/// Matching chats per responder (super identity id), most chats first;
/// only responders with chats. Unassigned chats are in none (see
/// [`unassigned`]).
pub async fn by_responder(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<Vec<Bucket<Uuid>>> {
    let mut found = if let Some(buckets) = filter.only_buckets() {
        let key = Expr::col((
            chat_bucket_count::Entity,
            chat_bucket_count::Column::ResponderSuperIdentityId,
        ));
        let assigned = counters::with_responder(true);
        from_counters(counters::live_by(db, workspace_id, &buckets, assigned, key).await?)
    } else {
        let mut select = matching(db.get_database_backend(), workspace_id, filter)?;
        let responder = Expr::col((chat::Entity, chat::Column::ResponderSuperIdentityId));
        select
            .expr(responder.clone())
            .expr(count_all())
            .and_where(responder.is_not_null())
            .group_by_col((chat::Entity, chat::Column::ResponderSuperIdentityId));
        buckets::<Uuid>(db, &select).await?
    };
    found.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    Ok(found)
}

/// Matching chats whose `column` is null.
async fn count_null(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
    column: chat::Column,
) -> AppResult<u64> {
    let mut select = matching(db.get_database_backend(), workspace_id, filter)?;
    select
        .expr(count_all())
        .and_where(Expr::col((chat::Entity, column)).is_null());
    let row = db.query_one(&select).await?;
    let count: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Matching chats without a responder.
pub async fn unassigned(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<u64> {
    if let Some(buckets) = filter.only_buckets() {
        return counters::live(db, workspace_id, &buckets, counters::with_responder(false)).await;
    }
    count_null(
        db,
        workspace_id,
        filter,
        chat::Column::ResponderSuperIdentityId,
    )
    .await
}

/// Matching chats without a ticket.
pub async fn without_ticket(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<u64> {
    if let Some(buckets) = filter.only_buckets() {
        return counters::live(db, workspace_id, &buckets, counters::with_ticket(false)).await;
    }
    count_null(db, workspace_id, filter, chat::Column::TicketId).await
}

/// Counts from the counters, as buckets.
fn from_counters<K>(found: Vec<(K, u64)>) -> Vec<Bucket<K>> {
    found
        .into_iter()
        .map(|(key, count)| Bucket { key, count })
        .collect()
}

/// One bucket per key of `all`, in its order, with the counts `found`.
fn every<K: PartialEq + Copy>(
    found: Vec<Bucket<K>>,
    all: impl Iterator<Item = K>,
) -> Vec<Bucket<K>> {
    all.map(|key| Bucket {
        key,
        count: found
            .iter()
            .find(|bucket| bucket.key == key)
            .map_or(0, |bucket| bucket.count),
    })
    .collect()
}
