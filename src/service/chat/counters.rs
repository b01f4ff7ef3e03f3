//! Exact counts of live chats per bucket (channel, responder, status of
//! the linked ticket), kept by triggers in every writing transaction (see
//! the `create_chat_bucket_counts` migration), so that counting a list
//! filtered by channels (the inbox's tabs) and the badge counts read a few
//! hundred rows instead of every matching chat. Other filters still count
//! the chats themselves.

use entity::{
    channel,
    chat_bucket_count::{self, Column},
    enums::{ChannelType, TicketStatus},
};
use sea_orm::{
    ActiveEnum, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    prelude::*,
    sea_query::{Alias, Expr, ExprTrait, Func, Query},
};
use uuid::Uuid;

use super::filter::channels_of_types;
use crate::error::AppResult;

/// A filter of live chats the counters can answer: conditions on the
/// bucket alone. `None` is no condition; an empty list matches none.
#[derive(Debug, Clone, Copy)]
pub struct BucketFilter<'a> {
    pub channel_ids: Option<&'a [Uuid]>,
    pub channel_types: Option<&'a [ChannelType]>,
    pub responders: Option<&'a [Uuid]>,
    pub has_responder: Option<bool>,
    pub ticket_statuses: Option<&'a [TicketStatus]>,
    pub has_ticket: Option<bool>,
}

/// How the counters write "no ticket".
const NO_TICKET: &str = "";

impl BucketFilter<'_> {
    /// The counter rows of `workspace_id` this filter keeps.
    fn condition(&self, workspace_id: Uuid) -> Condition {
        let none = Uuid::nil();
        let mut cond = Condition::all().add(Column::WorkspaceId.eq(workspace_id));
        if let Some(ids) = self.channel_ids {
            cond = cond.add(Column::ChannelId.is_in(ids.iter().copied()));
        }
        if let Some(types) = self.channel_types {
            let channels = channels_of_types(workspace_id, types);
            cond = cond.add(Column::ChannelId.in_subquery(channels));
        }
        if let Some(ids) = self.responders {
            let ids = ids.iter().copied().filter(|id| *id != none);
            cond = cond.add(Column::ResponderSuperIdentityId.is_in(ids));
        }
        if let Some(has) = self.has_responder {
            cond = cond.add(with_responder(has));
        }
        if let Some(statuses) = self.ticket_statuses {
            let statuses = statuses.iter().map(|status| status.to_value());
            cond = cond.add(Column::TicketStatus.is_in(statuses));
        }
        if let Some(has) = self.has_ticket {
            cond = cond.add(with_ticket(has));
        }
        cond
    }
}

/// The buckets of chats with (true) or without (false) a responder.
pub fn with_responder(has: bool) -> Condition {
    let responder = Column::ResponderSuperIdentityId;
    let none = Uuid::nil();
    Condition::all().add(if has {
        responder.ne(none)
    } else {
        responder.eq(none)
    })
}

/// The buckets of chats with (true) or without (false) a ticket.
pub fn with_ticket(has: bool) -> Condition {
    let status = Column::TicketStatus;
    Condition::all().add(if has {
        status.ne(NO_TICKET)
    } else {
        status.eq(NO_TICKET)
    })
}

/// Live chats of `workspace_id` that `filter` keeps and are `also` (say,
/// [`with_ticket`]), from the counters.
pub async fn live(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &BucketFilter<'_>,
    also: Condition,
) -> AppResult<u64> {
    let total: Option<i64> = chat_bucket_count::Entity::find()
        .select_only()
        .column_as(sum(), "total")
        .filter(filter.condition(workspace_id).add(also))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(u64::try_from(total.unwrap_or(0)).unwrap_or(0))
}

/// Live chats of `workspace_id` that `filter` keeps and are `also`, per
/// value of `key` (an expression over the counters joined to their
/// channel), from the counters; only keys with chats.
pub async fn live_by<K: sea_orm::TryGetable>(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &BucketFilter<'_>,
    also: Condition,
    key: Expr,
) -> AppResult<Vec<(K, u64)>> {
    let select = Query::select()
        .expr(key.clone())
        .expr(sum())
        .from(chat_bucket_count::Entity)
        .inner_join(
            channel::Entity,
            Expr::col((channel::Entity, channel::Column::Id))
                .equals((chat_bucket_count::Entity, Column::ChannelId)),
        )
        .cond_where(filter.condition(workspace_id).add(also))
        .add_group_by([key])
        .and_having(sum().gt(0))
        .to_owned();
    let rows = db.query_all(&select).await?;
    rows.iter()
        .map(|row| {
            let key: K = row.try_get_by_index(0)?;
            let count: i64 = row.try_get_by_index(1)?;
            Ok((key, u64::try_from(count).unwrap_or(0)))
        })
        .collect()
}

/// `SUM(live_chats)`, as a bigint (PostgreSQL sums bigints into a numeric).
fn sum() -> Expr {
    Expr::expr(Func::cast_as(
        Func::sum(Expr::col((chat_bucket_count::Entity, Column::LiveChats))),
        Alias::new("bigint"),
    ))
}
