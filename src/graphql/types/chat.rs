//! `Chat`: the rich chat row of the REST API, with its relations resolved
//! through the request's DataLoaders.

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};
use entity::chat;
use uuid::Uuid;

use super::{
    channel::Channel,
    connection,
    enums::MessageOrderBy,
    message::{self, DEFAULT_PREVIEW_CHARS, MAX_PREVIEW_CHARS, Message, MessageConnection},
    owner::Owner,
    responder::{Responder, ResponderVersion},
    ticket::Ticket,
};
use crate::{
    error::AppError,
    graphql::{
        context::{ContextExt, or_null},
        loaders::{MessagesKey, load},
        scopes::{DIRECTORY_READ, MESSAGES_READ, all_of, require, requires_scopes},
    },
    service::message::{MessageOrder, MessageText},
};

/// A conversation on a channel between an owner (a platform user or an
/// external customer) and a responder (an AI agent or squad).
pub struct Chat(pub chat::Model);

/// A row the chat points at is missing: a broken invariant, not the caller's fault.
fn dangling(what: &str, id: Uuid) -> AppError {
    AppError::Internal(anyhow::anyhow!("chat refers to a missing {what} {id}"))
}

/// A conversation on a channel between an owner (a platform user or an
/// external customer) and a responder (an AI agent or squad).
#[Object]
impl Chat {
    /// The chat ID.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The workspace ID associated with the chat.
    async fn workspace_id(&self) -> Uuid {
        self.0.workspace_id
    }

    /// The title of the chat.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    /// When the chat was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the chat was last changed (created, updated or removed).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Whether the chat has been soft removed.
    async fn is_removed(&self) -> bool {
        self.0.removed_at.is_some()
    }

    /// When the chat was soft removed, if it was.
    async fn removed_at(&self) -> Option<DateTime<Utc>> {
        self.0.removed_at
    }

    /// When the newest message of the chat was created; null without messages.
    async fn last_message_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_message_at
    }

    /// The channel ID associated with the chat.
    async fn channel_id(&self) -> Uuid {
        self.0.channel_id
    }

    /// The channel the chat arrived on.
    async fn channel(&self, ctx: &Context<'_>) -> Result<Channel> {
        let id = self.0.channel_id;
        let channel = load(&ctx.execution()?.loaders.channel, id).await?;
        Ok(Channel(channel.ok_or_else(|| dangling("channel", id))?))
    }

    /// The super identity ID of the chat owner. Can refer to a user's or an
    /// external user's `superIdentityId`.
    async fn owner_super_identity_id(&self) -> Uuid {
        self.0.owner_super_identity_id
    }

    /// The chat owner: a platform user or an external user.
    ///
    /// Needs the scope `directory:read`.
    #[graphql(directive = requires_scopes::apply(all_of(DIRECTORY_READ)))]
    async fn owner(&self, ctx: &Context<'_>) -> Result<Owner> {
        require(ctx, DIRECTORY_READ)?;
        let id = self.0.owner_super_identity_id;
        let owner = load(&ctx.execution()?.loaders.owner, id).await?;
        Ok(owner.ok_or_else(|| dangling("owner", id))?.into())
    }

    /// The super identity ID of the current chat responder. Can refer to an
    /// agent's or a squad's `superIdentityId`.
    async fn responder_super_identity_id(&self) -> Option<Uuid> {
        self.0.responder_super_identity_id
    }

    /// The AI agent or squad currently assigned to the chat, if any.
    async fn responder(&self, ctx: &Context<'_>) -> Option<Responder> {
        let found = async {
            let Some(id) = self.0.responder_super_identity_id else {
                return Ok(None);
            };
            let responder = load(&ctx.execution()?.loaders.responder, id).await?;
            Ok(Some(Responder(
                responder.ok_or_else(|| dangling("responder", id))?,
            )))
        };
        or_null(ctx, found.await)
    }

    /// The version of the responder pinned to this chat, if any.
    async fn responder_version(&self, ctx: &Context<'_>) -> Option<ResponderVersion> {
        let found = async {
            let Some(id) = self.0.responder_version_id else {
                return Ok(None);
            };
            let version = load(&ctx.execution()?.loaders.responder_version, id).await?;
            let version = version.ok_or_else(|| dangling("responder version", id))?;
            Ok(Some(ResponderVersion(version)))
        };
        or_null(ctx, found.await)
    }

    /// The ticket ID currently linked to the chat, when one exists.
    async fn ticket_id(&self) -> Option<Uuid> {
        self.0.ticket_id
    }

    /// The ticket currently linked to the chat, when one exists.
    async fn ticket(&self, ctx: &Context<'_>) -> Option<Ticket> {
        let found = async {
            let Some(id) = self.0.ticket_id else {
                return Ok(None);
            };
            let ticket = load(&ctx.execution()?.loaders.ticket, id).await?;
            Ok(Some(Ticket(ticket.ok_or_else(|| dangling("ticket", id))?)))
        };
        or_null(ctx, found.await)
    }

    /// The latest message in the chat, if it has any.
    ///
    /// Needs the scope `messages:read`.
    #[graphql(directive = requires_scopes::apply(all_of(MESSAGES_READ)))]
    async fn latest_message(&self, ctx: &Context<'_>) -> Option<Message> {
        let recent = async {
            require(ctx, MESSAGES_READ)?;
            load(&ctx.execution()?.loaders.recent_messages, self.0.id).await
        };
        or_null(ctx, recent.await)
            .and_then(|r| r.latest)
            .map(Message::of)
    }

    /// The chat's messages, newest first unless `orderBy` says otherwise:
    /// the first `first` after `after`, or the last `last` before
    /// `before`. Cursors are keyset positions, so a page deep in a long
    /// chat costs what the first one does; the same field on every chat of
    /// a list costs one statement for all of them.
    ///
    /// Needs the scope `messages:read`.
    #[graphql(directive = requires_scopes::apply(all_of(MESSAGES_READ)))]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many messages after `after` (1 to 100; 10 when neither first nor last is given)."
        )]
        first: Option<i64>,
        #[graphql(desc = "A cursor this connection returned; the page starts after it.")]
        after: Option<String>,
        #[graphql(desc = "How many messages before `before` (1 to 100).")] last: Option<i64>,
        #[graphql(desc = "A cursor this connection returned; the page ends before it.")]
        before: Option<String>,
        #[graphql(
            default_with = "Some(MessageOrderBy::CreatedAtDesc)",
            desc = "The order of the messages; null means the default, newest first."
        )]
        order_by: Option<MessageOrderBy>,
    ) -> Result<MessageConnection> {
        require(ctx, MESSAGES_READ)?;
        let order: MessageOrder = order_by.unwrap_or_default().into();
        let tag = message::order_tag(order);
        let request = connection::request(tag, first, after.as_deref(), last, before.as_deref())?;
        let key = MessagesKey {
            chat_id: self.0.id,
            order,
            request,
            text: text_needed(&ctx.look_ahead()),
        };
        let page = load(&ctx.execution()?.loaders.message_pages, key).await?;
        Ok(MessageConnection::new(
            self.0.id,
            page.unwrap_or_default(),
            order,
            request,
        ))
    }

    /// The message immediately before the latest one, if there is one.
    ///
    /// Needs the scope `messages:read`.
    #[graphql(directive = requires_scopes::apply(all_of(MESSAGES_READ)))]
    async fn previous_message(&self, ctx: &Context<'_>) -> Option<Message> {
        let recent = async {
            require(ctx, MESSAGES_READ)?;
            load(&ctx.execution()?.loaders.recent_messages, self.0.id).await
        };
        or_null(ctx, recent.await)
            .and_then(|r| r.previous)
            .map(Message::of)
    }
}

/// How much of each message's text a `messages` selection reads: all of
/// it for `content`, enough for the longest `preview`, else none.
fn text_needed(connection: &async_graphql::Lookahead<'_>) -> MessageText {
    let nodes = [
        connection.field("nodes"),
        connection.field("edges").field("node"),
    ];
    if nodes.iter().any(|node| node.field("content").exists()) {
        return MessageText::Whole;
    }
    let longest = nodes
        .iter()
        .flat_map(|node| node.field("preview").selection_fields())
        .map(|preview| {
            let asked = preview.arguments().ok().and_then(|arguments| {
                arguments
                    .into_iter()
                    .find(|(name, _)| name.as_str() == "maxChars")
                    .and_then(|(_, value)| match value {
                        async_graphql::Value::Number(n) => n.as_i64(),
                        _ => None,
                    })
            });
            asked.map_or(DEFAULT_PREVIEW_CHARS as i64, |n| {
                n.clamp(1, MAX_PREVIEW_CHARS.into())
            })
        })
        .max();
    // One more than shown tells a preview whether it was cut.
    longest.map_or(MessageText::Omitted, |chars| {
        MessageText::Prefix(chars as u32 + 1)
    })
}
