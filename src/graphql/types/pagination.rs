//! The two ways to page through chats: numbered pages (`ChatPage`, as the
//! REST API pages them) and a Relay connection (`ChatConnection`, keyset
//! cursors for infinite scroll, in the shape of [`super::connection`]).
//! Both count the total only when selected.

use async_graphql::{Context, Object, Result, SimpleObject};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{
    chat::Chat,
    connection::{Edge, Page, PageInfo},
};
use crate::{
    graphql::context::ContextExt,
    service::{
        self,
        chat::filter::{ChatFilter, ChatOrder, PageRequest},
        chat::row::ChatRowPage,
        keyset::KeysetRequest,
    },
};

/// The number of chats a list's filter matches, counted on first use only.
struct LazyCount {
    workspace_id: Uuid,
    filter: ChatFilter,
    /// Shared by every field that needs it, so a request counts at most once.
    total: OnceCell<u64>,
}

impl LazyCount {
    fn new(workspace_id: Uuid, filter: ChatFilter) -> Self {
        Self {
            workspace_id,
            filter,
            total: OnceCell::new(),
        }
    }

    async fn get(&self, ctx: &Context<'_>) -> Result<u64> {
        let db = &ctx.session()?.db;
        let count = || service::chat::count(db, self.workspace_id, &self.filter);
        Ok(*self.total.get_or_try_init(count).await?)
    }
}

/// Where a numbered page sits in the list.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct NumberedPageInfo {
    /// The page number (1 for the first page).
    page: i64,
    /// The page size asked for; the last page may hold fewer items.
    page_size: i64,
    /// Whether a page follows this one.
    has_next_page: bool,
    /// Whether a page precedes this one.
    has_previous_page: bool,
}

/// One numbered page of chats.
pub struct ChatPage {
    items: Vec<Chat>,
    page: PageRequest,
    has_next_page: bool,
    count: LazyCount,
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
            has_next_page: page.has_more,
            count: LazyCount::new(workspace_id, filter),
        }
    }
}

/// One numbered page of chats.
#[Object]
impl ChatPage {
    /// The chats of this page, in the requested order.
    async fn items(&self) -> &[Chat] {
        &self.items
    }

    /// Where this page sits in the list.
    async fn page_info(&self) -> NumberedPageInfo {
        NumberedPageInfo {
            page: self.page.page as i64,
            page_size: self.page.page_size as i64,
            has_next_page: self.has_next_page,
            has_previous_page: self.page.page > 1,
        }
    }

    /// How many chats match the filter, over all pages. Costs a count; only
    /// computed when selected.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.count.get(ctx).await? as i64)
    }

    /// How many pages of this size the matching chats fill (0 when none match).
    async fn total_pages(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.count.get(ctx).await?.div_ceil(self.page.page_size) as i64)
    }
}

/// The tag a chat cursor carries for its order.
pub fn order_tag(order: ChatOrder) -> &'static str {
    match order {
        ChatOrder::CreatedAtDesc => "cd",
        ChatOrder::CreatedAtAsc => "ca",
        ChatOrder::LastActivityDesc => "ld",
        ChatOrder::LastActivityAsc => "la",
    }
}

/// A page of chats read by cursor (a Relay connection).
pub struct ChatConnection {
    page: Page<Chat>,
    count: LazyCount,
}

impl ChatConnection {
    /// The connection page `request` read in `order`.
    pub fn new(
        page: ChatRowPage,
        order: ChatOrder,
        request: KeysetRequest,
        workspace_id: Uuid,
        filter: ChatFilter,
    ) -> Self {
        let items = page.rows.into_iter().map(|row| {
            let position = order.position(&row.chat);
            (Chat(row.chat), position)
        });
        Self {
            page: Page::new(items, order_tag(order), request, page.has_more),
            count: LazyCount::new(workspace_id, filter),
        }
    }
}

/// A page of chats read by cursor (a Relay connection).
#[Object]
impl ChatConnection {
    /// The chats of this page with their cursors, in the requested order.
    async fn edges(&self) -> &[Edge<Chat>] {
        &self.page.edges
    }

    /// The chats of this page, without cursors.
    async fn nodes(&self) -> Vec<&Chat> {
        self.page.nodes()
    }

    /// Where this page sits, and the cursors to move from it.
    async fn page_info(&self) -> &PageInfo {
        &self.page.page_info
    }

    /// How many chats match the filter in all. Costs a count; only computed
    /// when selected.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(self.count.get(ctx).await? as i64)
    }
}
