//! `ChatCounts`: inbox badge counts over the chats a filter matches. Each
//! field is one statement, run only when selected.

use async_graphql::{Context, Object, Result, SimpleObject};
use uuid::Uuid;

use super::{
    enums::{ChannelType, TicketStatus},
    responder::Responder,
};
use crate::{
    graphql::{context::ContextExt, loaders::load},
    service::chat::{self, filter::ChatFilter},
};

/// How many of the workspace's chats that match a filter fall in each
/// bucket. Removed chats are left out unless `filter.includeRemoved` is true.
pub struct ChatCounts {
    pub filter: ChatFilter,
}

/// Chats of one channel type.
#[derive(SimpleObject)]
pub struct ChannelTypeCount {
    /// The channel type.
    #[graphql(name = "type")]
    channel_type: ChannelType,
    /// How many matching chats arrived on a channel of this type.
    count: i64,
}

/// Chats whose ticket has one status.
#[derive(SimpleObject)]
pub struct TicketStatusCount {
    /// The ticket status.
    status: TicketStatus,
    /// How many matching chats have a ticket in this status.
    count: i64,
}

/// Chats assigned to one responder.
pub struct ResponderCount {
    responder_super_identity_id: Uuid,
    count: i64,
}

/// Chats assigned to one responder.
#[Object]
impl ResponderCount {
    /// The super identity ID of the responder.
    async fn responder_super_identity_id(&self) -> Uuid {
        self.responder_super_identity_id
    }

    /// The responder (agent or squad).
    async fn responder(&self, ctx: &Context<'_>) -> Result<Option<Responder>> {
        let found = load(
            &ctx.execution()?.loaders.responder,
            self.responder_super_identity_id,
        )
        .await?;
        Ok(found.map(Responder))
    }

    /// How many matching chats it is assigned to.
    async fn count(&self) -> i64 {
        self.count
    }
}

fn signed(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

/// How many of the workspace's chats that match a filter fall in each
/// bucket. Removed chats are left out unless `filter.includeRemoved` is true.
#[Object]
impl ChatCounts {
    /// How many chats match.
    async fn total(&self, ctx: &Context<'_>) -> Result<i64> {
        let session = ctx.session()?;
        let count = chat::count(&session.db, session.workspace_id(), &self.filter).await?;
        Ok(signed(count))
    }

    /// Matching chats per channel type: every type, zero included.
    async fn by_channel_type(&self, ctx: &Context<'_>) -> Result<Vec<ChannelTypeCount>> {
        let session = ctx.session()?;
        let buckets =
            chat::counts::by_channel_type(&session.db, session.workspace_id(), &self.filter)
                .await?;
        Ok(buckets
            .into_iter()
            .map(|b| ChannelTypeCount {
                channel_type: b.key.into(),
                count: signed(b.count),
            })
            .collect())
    }

    /// Matching chats per status of their ticket: every status, zero
    /// included. Chats without a ticket are in `withoutTicket`.
    async fn by_ticket_status(&self, ctx: &Context<'_>) -> Result<Vec<TicketStatusCount>> {
        let session = ctx.session()?;
        let buckets =
            chat::counts::by_ticket_status(&session.db, session.workspace_id(), &self.filter)
                .await?;
        Ok(buckets
            .into_iter()
            .map(|b| TicketStatusCount {
                status: b.key.into(),
                count: signed(b.count),
            })
            .collect())
    }

    /// Matching chats per responder, most chats first: only responders
    /// with matching chats. Chats without one are in `unassigned`.
    async fn by_responder(&self, ctx: &Context<'_>) -> Result<Vec<ResponderCount>> {
        let session = ctx.session()?;
        let buckets =
            chat::counts::by_responder(&session.db, session.workspace_id(), &self.filter).await?;
        Ok(buckets
            .into_iter()
            .map(|b| ResponderCount {
                responder_super_identity_id: b.key,
                count: signed(b.count),
            })
            .collect())
    }

    /// Matching chats without a responder.
    async fn unassigned(&self, ctx: &Context<'_>) -> Result<i64> {
        let session = ctx.session()?;
        let count =
            chat::counts::unassigned(&session.db, session.workspace_id(), &self.filter).await?;
        Ok(signed(count))
    }

    /// Matching chats without a ticket.
    async fn without_ticket(&self, ctx: &Context<'_>) -> Result<i64> {
        let session = ctx.session()?;
        let count =
            chat::counts::without_ticket(&session.db, session.workspace_id(), &self.filter).await?;
        Ok(signed(count))
    }
}
