//! `ChatPage` and `PageInfo`: numbered pages of chats, as the REST API pages
//! them. The total is counted only when a client selects it.

use async_graphql::{Context, Object, Result, SimpleObject};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::chat::Chat;
use crate::{
    graphql::context::ContextExt,
    service::{
        self,
        chat_filter::{ChatFilter, PageRequest},
        chat_row::ChatRowPage,
    },
};

/// Where a page sits in the list.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct PageInfo {
    /// The page number (1 for the first page).
    page: i64,
    /// The page size asked for; the last page may hold fewer items.
    page_size: i64,
    /// Whether a page follows this one.
    has_next_page: bool,
    /// Whether a page precedes this one.
    has_previous_page: bool,
}

/// One page of chats.
pub struct ChatPage {
    items: Vec<Chat>,
    page: PageRequest,
    has_next_page: bool,
    workspace_id: Uuid,
    filter: ChatFilter,
    /// Shared by `totalCount` and `totalPages`, so selecting both counts once.
    total: OnceCell<u64>,
}

impl ChatPage {
    /// A page read with `filter`, which `totalCount` counts again when asked.
    pub fn new(
        page: ChatRowPage,
        request: PageRequest,
        workspace_id: Uuid,
        filter: ChatFilter,
    ) -> Self {
        Self {
            items: page.rows.into_iter().map(|row| Chat(row.chat)).collect(),
            page: request,
            has_next_page: page.has_next_page,
            workspace_id,
            filter,
            total: OnceCell::new(),
        }
    }

    async fn total(&self, ctx: &Context<'_>) -> Result<u64> {
        let db = &ctx.session()?.db;
        let total = self
            .total
            .get_or_try_init(|| service::chat::count(db, self.workspace_id, &self.filter))
            .await?;
        Ok(*total)
    }
}

/// One page of chats.
#[Object]
impl ChatPage {
    /// The chats of this page, in the requested order.
    async fn items(&self) -> &[Chat] {
        &self.items
    }

    /// Where this page sits in the list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            page: self.page.page as i64,
            page_size: self.page.page_size as i64,
            has_next_page: self.has_next_page,
            has_previous_page: self.page.page > 1,
        }
    }

    /// How many chats match the filter, over all pages. Costs a count; only
    /// computed when selected.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.total(ctx).await? as i64)
    }

    /// How many pages of this size the matching chats fill (0 when none match).
    async fn total_pages(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.total(ctx).await?.div_ceil(self.page.page_size) as i64)
    }
}
