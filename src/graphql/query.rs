//! The query root: read one chat, list chats.

use async_graphql::{Context, Object, Result};
use uuid::Uuid;

use super::{
    context::ContextExt,
    types::{chat::Chat, enums::ChatOrderBy, inputs::ChatFilterInput, pagination::ChatPage},
};
use crate::service::{
    self,
    chat_filter::{ChatFilter, PageRequest},
};

/// Reads of the caller's workspace.
#[derive(Default)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Retrieves a chat of the workspace, removed or not. NOT_FOUND when no
    /// chat of the workspace has this ID.
    async fn chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
    ) -> Result<Chat> {
        let session = ctx.session()?;
        Ok(Chat(
            service::chat::get(&session.db, session.workspace_id, id).await?,
        ))
    }

    /// Retrieves the workspace's chats, one numbered page at a time. Removed
    /// chats are left out unless `filter.includeRemoved` is true.
    async fn chats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which chats to list; all live chats when omitted.")] filter: Option<
            ChatFilterInput,
        >,
        #[graphql(default = 1, desc = "The page number, from 1.")] page: i64,
        #[graphql(default = 10, desc = "The page size, 1 to 100.")] page_size: i64,
        #[graphql(default, desc = "The order of the list; newest first by default.")]
        order_by: ChatOrderBy,
    ) -> Result<ChatPage> {
        let session = ctx.session()?;
        let request = PageRequest::new(page, page_size)?;
        let filter = ChatFilter::from(filter.unwrap_or_default());
        let items = service::chat::list(
            &session.db,
            session.workspace_id,
            &filter,
            order_by.into(),
            request,
        )
        .await?;
        Ok(ChatPage::new(items, request, session.workspace_id, filter))
    }
}
