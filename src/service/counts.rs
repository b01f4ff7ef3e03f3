//! Exact counts of live chats per channel, kept by every write in its own
//! transaction ([`adjust`]), so that counting a list filtered by channels
//! (the inbox's tabs) reads one row per channel instead of every matching
//! chat. Other filters still count the chats themselves.

use std::collections::BTreeMap;

use entity::chat_channel_count::{self, Column};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    prelude::*,
    sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query},
};
use uuid::Uuid;

use crate::error::AppResult;

/// Adds `delta` live chats to `channel_id` of `workspace_id`.
pub async fn adjust(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    channel_id: Uuid,
    delta: i64,
) -> Result<(), DbErr> {
    adjust_many(db, workspace_id, &BTreeMap::from([(channel_id, delta)])).await
}

/// Adds each channel's delta of `deltas` to `workspace_id`'s counters, in
/// one statement.
pub async fn adjust_many(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    deltas: &BTreeMap<Uuid, i64>,
) -> Result<(), DbErr> {
    if deltas.is_empty() {
        return Ok(());
    }
    let rows = deltas
        .iter()
        .map(|(channel_id, delta)| chat_channel_count::ActiveModel {
            workspace_id: sea_orm::ActiveValue::Set(workspace_id),
            channel_id: sea_orm::ActiveValue::Set(*channel_id),
            live_chats: sea_orm::ActiveValue::Set(*delta),
        });
    // `excluded` is the row that was to be inserted: its delta is added.
    let upsert = OnConflict::columns([Column::WorkspaceId, Column::ChannelId])
        .value(
            Column::LiveChats,
            Expr::col((chat_channel_count::Entity, Column::LiveChats))
                .add(Expr::cust("excluded.live_chats")),
        )
        .to_owned();
    chat_channel_count::Entity::insert_many(rows)
        .on_conflict(upsert)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Live chats on `channel_ids` of `workspace_id`, from the counters.
pub async fn live_on_channels(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    channel_ids: &[Uuid],
) -> AppResult<u64> {
    let total: Option<i64> = chat_channel_count::Entity::find()
        .select_only()
        // PostgreSQL sums bigints into a numeric: cast back.
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col(Column::LiveChats)),
                Alias::new("bigint"),
            )),
            "total",
        )
        .filter(Column::WorkspaceId.eq(workspace_id))
        .filter(Column::ChannelId.is_in(channel_ids.iter().copied()))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(u64::try_from(total.unwrap_or(0)).unwrap_or(0))
}

/// Recounts `workspace_id`'s counters from its chats (after a bulk load
/// that bypassed the writes).
pub async fn rebuild(db: &impl ConnectionTrait, workspace_id: Uuid) -> Result<(), DbErr> {
    use entity::chat;
    chat_channel_count::Entity::delete_many()
        .filter(Column::WorkspaceId.eq(workspace_id))
        .exec(db)
        .await?;
    let live = Query::select()
        .columns([chat::Column::WorkspaceId, chat::Column::ChannelId])
        .expr(Func::count(Expr::col(chat::Column::Id)))
        .from(chat::Entity)
        .and_where(chat::Column::WorkspaceId.eq(workspace_id))
        .and_where(chat::Column::RemovedAt.is_null())
        .group_by_columns([chat::Column::WorkspaceId, chat::Column::ChannelId])
        .to_owned();
    let insert = Query::insert()
        .into_table(chat_channel_count::Entity)
        .columns([Column::WorkspaceId, Column::ChannelId, Column::LiveChats])
        .select_from(live)
        .map_err(|error| DbErr::Custom(error.to_string()))?
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}
