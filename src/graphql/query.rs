//! The query root: read one chat, list chats, browse the directory
//! ([`directory`](super::directory)).

use async_graphql::{Context, Lookahead, Object, Result};
use uuid::Uuid;

use super::{
    context::{ContextExt, or_null},
    directory::{self, Relay},
    scopes::{CHATS_READ, DIRECTORY_READ, all_of, require, require_for_filter, requires_scopes},
    types::{
        channel::Channel,
        chat::Chat,
        connection::{self, OwnerConnection, TicketConnection},
        counts::ChatCounts,
        enums::{ChatOrderBy, ResponderType, TicketStatus},
        inputs::ChatFilterInput,
        pagination::{self, ChatConnection, ChatPage},
        responder::Responder,
    },
};
use crate::{
    error::AppResult,
    service::{
        chat::filter::{ChatOrder, DEFAULT_PAGE_SIZE, PageRequest},
        chat::{self, row::Messages},
    },
};

/// Reads of the caller's workspace.
#[derive(Default)]
pub struct QueryRoot;

/// Reads of the caller's workspace.
#[Object]
impl QueryRoot {
    /// Retrieves a chat of the workspace, removed or not. NOT_FOUND when no
    /// chat of the workspace has this ID.
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
    ) -> Option<Chat> {
        // Nullable, so a failure leaves the rest of the response standing;
        // a missing chat is an error (NOT_FOUND), never a silent null.
        let read = async {
            require(ctx, CHATS_READ)?;
            read_chat(ctx, id).await.map(Some)
        };
        or_null(ctx, read.await)
    }

    /// Retrieves the workspace's chats, one numbered page at a time. Removed
    /// chats are left out unless `filter.includeRemoved` is true.
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn chats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which chats to list; all live chats when omitted.")] filter: Option<
            ChatFilterInput,
        >,
        #[graphql(
            default_with = "Some(1)",
            desc = "The page number, from 1; null means 1."
        )]
        page: Option<i64>,
        #[graphql(
            default_with = "Some(DEFAULT_PAGE_SIZE as i64)",
            desc = "The page size, 1 to 100; null means 10."
        )]
        page_size: Option<i64>,
        #[graphql(
            default_with = "Some(ChatOrderBy::CreatedAtDesc)",
            desc = "The order of the list; null means the default, newest first."
        )]
        order_by: Option<ChatOrderBy>,
    ) -> Result<ChatPage> {
        // Nullable with defaults, so a client may forward an unset variable.
        require(ctx, CHATS_READ)?;
        let session = ctx.session()?;
        let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE as i64);
        let request = PageRequest::new(page.unwrap_or(1), page_size)?;
        let order_by = order_by.unwrap_or_default();
        let filter = ChatFilterInput::checked(filter)?;
        require_for_filter(ctx, &filter)?;
        let messages = messages_for(&[ctx.look_ahead().field("items")]);
        let page = chat::row::list(
            &session.db,
            session.workspace_id(),
            &filter,
            order_by.into(),
            request,
            messages,
        )
        .await?;
        session.execution().loaders.prime(&page.rows).await;
        Ok(ChatPage::new(page, request, session.workspace_id(), filter))
    }

    /// Retrieves the workspace's chats by cursor, for infinite scroll: the
    /// first `first` after `after`, or the last `last` before `before`.
    /// Cursors are keyset positions, so a page deep into the list costs what
    /// the first one does. Removed chats are left out unless
    /// `filter.includeRemoved` is true.
    // Each argument is one of the field's GraphQL arguments (Relay's four,
    // plus filter and order), so their number is the schema's, not a smell.
    #[allow(clippy::too_many_arguments)]
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn chats_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which chats to list; all live chats when omitted.")] filter: Option<
            ChatFilterInput,
        >,
        #[graphql(
            default_with = "Some(ChatOrderBy::CreatedAtDesc)",
            desc = "The order of the list; null means the default, newest first."
        )]
        order_by: Option<ChatOrderBy>,
        #[graphql(
            desc = "How many chats after `after` (1 to 100; 10 when neither first nor last is given)."
        )]
        first: Option<i64>,
        #[graphql(desc = "A cursor this list returned; the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(desc = "How many chats before `before` (1 to 100).")] last: Option<i64>,
        #[graphql(desc = "A cursor this list returned; the page ends before it.")] before: Option<
            String,
        >,
    ) -> Result<ChatConnection> {
        require(ctx, CHATS_READ)?;
        let session = ctx.session()?;
        let order: ChatOrder = order_by.unwrap_or_default().into();
        let tag = pagination::order_tag(order);
        let request = connection::request(tag, first, after.as_deref(), last, before.as_deref())?;
        let filter = ChatFilterInput::checked(filter)?;
        require_for_filter(ctx, &filter)?;
        let ws = session.workspace_id();
        let chats = ctx.look_ahead();
        let messages = messages_for(&[chats.field("edges").field("node"), chats.field("nodes")]);
        let page =
            chat::row::list_keyset(&session.db, ws, &filter, order, request, messages).await?;
        session.execution().loaders.prime(&page.rows).await;
        Ok(ChatConnection::new(page, order, request, ws, filter))
    }

    /// Inbox badge counts: how many of the workspace's chats that match
    /// `filter` fall in each bucket. Each field selected costs one
    /// statement; the filter means what it means for `chats`.
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn chat_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which chats to count; all live chats when omitted.")] filter: Option<
            ChatFilterInput,
        >,
    ) -> Result<ChatCounts> {
        require(ctx, CHATS_READ)?;
        let filter = ChatFilterInput::checked(filter)?;
        require_for_filter(ctx, &filter)?;
        Ok(ChatCounts { filter })
    }

    /// The workspace's channels, by name: the ids `createChat` and
    /// `filter.channelIds` take.
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn channels(&self, ctx: &Context<'_>) -> Result<Vec<Channel>> {
        require(ctx, CHATS_READ)?;
        directory::channels(ctx).await
    }

    /// The workspace's responders (AI agents and squads), by name, with
    /// their versions: the super identity ids `createChat`, `updateChat` and
    /// `filter.responderSuperIdentityIds` take.
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn responders(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type", desc = "Only agents or only squads; both when omitted.")]
        responder_type: Option<ResponderType>,
    ) -> Result<Vec<Responder>> {
        require(ctx, CHATS_READ)?;
        directory::responders(ctx, responder_type).await
    }

    /// The workspace's tickets, by id (a Relay connection): the ids
    /// `updateChat` links a chat to.
    ///
    /// Needs the scope `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_READ)))]
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only tickets in one of these statuses; all when omitted. An empty list matches none, as in `ChatFilter`."
        )]
        statuses: Option<Vec<TicketStatus>>,
        #[graphql(
            desc = "How many tickets after `after` (1 to 100; 10 when neither first nor last is given)."
        )]
        first: Option<i64>,
        #[graphql(desc = "A cursor this list returned; the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(desc = "How many tickets before `before` (1 to 100).")] last: Option<i64>,
        #[graphql(desc = "A cursor this list returned; the page ends before it.")] before: Option<
            String,
        >,
    ) -> Result<TicketConnection> {
        require(ctx, CHATS_READ)?;
        let relay = Relay {
            first,
            after,
            last,
            before,
        };
        directory::tickets(ctx, statuses, relay).await
    }

    /// The workspace's chat owners, platform users and external users, by
    /// super identity id (a Relay connection): the ids `createChat` and
    /// `filter.ownerSuperIdentityIds` take.
    ///
    /// Needs the scope `directory:read`.
    #[graphql(directive = requires_scopes::apply(all_of(DIRECTORY_READ)))]
    async fn owners(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only owners whose name, email (users) or external id (external users) contains this text, in any case; up to 200 characters. Omitted or blank: all owners."
        )]
        search: Option<String>,
        #[graphql(
            desc = "How many owners after `after` (1 to 100; 10 when neither first nor last is given)."
        )]
        first: Option<i64>,
        #[graphql(desc = "A cursor this list returned; the page starts after it.")] after: Option<
            String,
        >,
        #[graphql(desc = "How many owners before `before` (1 to 100).")] last: Option<i64>,
        #[graphql(desc = "A cursor this list returned; the page ends before it.")] before: Option<
            String,
        >,
    ) -> Result<OwnerConnection> {
        require(ctx, DIRECTORY_READ)?;
        let relay = Relay {
            first,
            after,
            last,
            before,
        };
        directory::owners(ctx, search, relay).await
    }
}

/// The chat `id`, its relations primed in the request's loaders.
async fn read_chat(ctx: &Context<'_>, id: Uuid) -> AppResult<Chat> {
    let session = ctx.session()?;
    let messages = messages_for(&[ctx.look_ahead()]);
    let row = chat::row::get(&session.db, session.workspace_id(), id, messages).await?;
    session
        .execution()
        .loaders
        .prime(std::slice::from_ref(&row))
        .await;
    Ok(Chat(row.chat))
}

/// Whether to read the chats' newest two messages with them: when any of
/// the selections on a chat asks for its latest or previous message.
fn messages_for(chats: &[Lookahead<'_>]) -> Messages {
    let asks = |chat: &Lookahead<'_>| {
        chat.field("latestMessage").exists() || chat.field("previousMessage").exists()
    };
    if chats.iter().any(asks) {
        Messages::Recent
    } else {
        Messages::Without
    }
}
