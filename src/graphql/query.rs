//! The query root: read one chat, list chats.

use async_graphql::{Context, Lookahead, Object, Result};
use uuid::Uuid;

use super::{
    context::ContextExt,
    types::{chat::Chat, enums::ChatOrderBy, inputs::ChatFilterInput, pagination::ChatPage},
};
use crate::service::{
    chat_filter::{ChatFilter, PageRequest},
    chat_row,
};

/// Reads of the caller's workspace.
#[derive(Default)]
pub struct QueryRoot;

/// Reads of the caller's workspace.
#[Object(name = "Query")]
impl QueryRoot {
    /// Retrieves a chat of the workspace, removed or not. NOT_FOUND when no
    /// chat of the workspace has this ID.
    async fn chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
    ) -> Result<Option<Chat>> {
        let session = ctx.session()?;
        let row = chat_row::get(&session.db, session.workspace_id, id).await?;
        session.loaders.prime(std::slice::from_ref(&row)).await;
        if selects_messages(&ctx.look_ahead()) {
            let loaders = &session.loaders;
            loaders
                .prime_recent_messages(&session.db, &[row.chat.id])
                .await?;
        }
        // Nullable, so a failure leaves the rest of the response standing;
        // a missing chat is an error (NOT_FOUND), never a silent null.
        Ok(Some(Chat(row.chat)))
    }

    /// Retrieves the workspace's chats, one numbered page at a time. Removed
    /// chats are left out unless `filter.includeRemoved` is true.
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
            default_with = "Some(10)",
            desc = "The page size, 1 to 100; null means 10."
        )]
        page_size: Option<i64>,
        #[graphql(
            default,
            desc = "The order of the list; newest first when omitted or null."
        )]
        order_by: Option<ChatOrderBy>,
    ) -> Result<ChatPage> {
        // Nullable with defaults, so a client may forward an unset variable.
        let session = ctx.session()?;
        let request = PageRequest::new(page.unwrap_or(1), page_size.unwrap_or(10))?;
        let order_by = order_by.unwrap_or_default();
        let filter = ChatFilter::from(filter.unwrap_or_default());
        let page = chat_row::list(
            &session.db,
            session.workspace_id,
            &filter,
            order_by.into(),
            request,
        )
        .await?;
        session.loaders.prime(&page.rows).await;
        if selects_messages(&ctx.look_ahead().field("items")) {
            let ids: Vec<Uuid> = page.rows.iter().map(|row| row.chat.id).collect();
            session
                .loaders
                .prime_recent_messages(&session.db, &ids)
                .await?;
        }
        Ok(ChatPage::new(page, request, session.workspace_id, filter))
    }
}

/// Whether the selection on a chat asks for its latest or previous message.
fn selects_messages(chat: &Lookahead<'_>) -> bool {
    chat.field("latestMessage").exists() || chat.field("previousMessage").exists()
}
