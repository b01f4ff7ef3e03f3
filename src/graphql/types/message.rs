//! `Message`: one message of a chat, with a preview for list views, and
//! `MessageConnection`: a chat's history, a page at a time.

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entity::message;
use uuid::Uuid;

use super::{
    actor::Actor,
    connection::{Edge, Page, PageInfo},
    enums::MessageRole,
};
use crate::{
    error::AppError,
    graphql::{context::ContextExt, loaders::load},
    service::{
        keyset::KeysetRequest,
        message::{MessageOrder, MessagePage},
    },
};

/// Longest preview a client may ask for, in characters.
pub const MAX_PREVIEW_CHARS: i32 = 10_000;
/// The preview's length when the client names none.
pub const DEFAULT_PREVIEW_CHARS: usize = 100;

/// A message of a chat.
pub struct Message {
    model: message::Model,
    /// Where `messageAdded` delivered it from, to resume after it.
    event_cursor: Option<String>,
}

impl Message {
    /// `model` as read.
    pub fn of(model: message::Model) -> Self {
        Self {
            model,
            event_cursor: None,
        }
    }

    /// `model` as `messageAdded` delivers it, at the event `cursor`.
    pub fn added(model: message::Model, cursor: String) -> Self {
        Self {
            model,
            event_cursor: Some(cursor),
        }
    }
}

/// `content` in at most `max_chars` characters (at least 1): when it is
/// longer, its start and an ellipsis, which counts as one of them. Cuts on
/// a character boundary, never inside a multi-byte character.
pub fn preview(content: &str, max_chars: usize) -> String {
    if content.char_indices().nth(max_chars).is_none() {
        return content.to_owned();
    }
    let keep = max_chars.saturating_sub(1);
    let end = content
        .char_indices()
        .nth(keep)
        .map_or(content.len(), |(end, _)| end);
    format!("{}…", content[..end].trim_end())
}

/// A message of a chat.
#[Object]
impl Message {
    /// The message ID.
    async fn id(&self) -> Uuid {
        self.model.id
    }

    /// Who wrote the message.
    async fn role(&self) -> MessageRole {
        self.model.role.into()
    }

    /// The full text of the message.
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        ctx.execution()?.budget.spend(self.model.content.len())?;
        Ok(&self.model.content)
    }

    /// The content preview: at most `maxChars` characters, the "…" that
    /// ends a cut preview included.
    async fn preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100, desc = "Most characters to keep, 1 to 10000.")] max_chars: i32,
    ) -> async_graphql::Result<String> {
        if !(1..=MAX_PREVIEW_CHARS).contains(&max_chars) {
            return Err(AppError::invalid(
                "maxChars",
                format!("must be between 1 and {MAX_PREVIEW_CHARS}, got {max_chars}"),
            )
            .into());
        }
        let preview = preview(&self.model.content, max_chars as usize);
        ctx.execution()?.budget.spend(preview.len())?;
        Ok(preview)
    }

    /// When the message was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// Who posted it: an API key or a person. Null for messages the
    /// platform wrote before authors were kept.
    async fn author(&self) -> Option<Actor> {
        let m = &self.model;
        Actor::stored(
            m.author_kind,
            m.author_id.as_deref(),
            m.author_name.as_deref(),
        )
    }

    /// In `messageAdded`, the cursor of the event that posted this message:
    /// pass it as that subscription's `after` to resume after it. Null
    /// elsewhere.
    async fn event_cursor(&self) -> Option<&str> {
        self.event_cursor.as_deref()
    }
}

/// The tag a message cursor carries for its order.
pub fn order_tag(order: MessageOrder) -> &'static str {
    match order {
        MessageOrder::CreatedAtDesc => "md",
        MessageOrder::CreatedAtAsc => "ma",
    }
}

/// A page of one chat's messages (a Relay connection).
pub struct MessageConnection {
    chat_id: Uuid,
    page: Page<Message>,
}

impl MessageConnection {
    /// The connection page `request` read of `chat_id`'s messages.
    pub fn new(
        chat_id: Uuid,
        page: MessagePage,
        order: MessageOrder,
        request: KeysetRequest,
    ) -> Self {
        let items = page.messages.into_iter().map(|message| {
            let position = order.position(&message);
            (Message::of(message), position)
        });
        Self {
            chat_id,
            page: Page::new(items, order_tag(order), request, page.has_more),
        }
    }
}

/// A page of one chat's messages (a Relay connection).
#[Object]
impl MessageConnection {
    /// The messages of this page with their cursors, in the requested order.
    async fn edges(&self) -> &[Edge<Message>] {
        &self.page.edges
    }

    /// The messages of this page, without cursors.
    async fn nodes(&self) -> Vec<&Message> {
        self.page.nodes()
    }

    /// Where this page sits, and the cursors to move from it.
    async fn page_info(&self) -> &PageInfo {
        &self.page.page_info
    }

    /// How many messages the chat has in all. Costs a count (one for all
    /// the chats of a page); only computed when selected.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let count = load(&ctx.execution()?.loaders.message_counts, self.chat_id).await?;
        Ok(count.unwrap_or(0) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::preview;

    #[test]
    fn preview_cuts_on_character_boundaries() {
        assert_eq!(preview("hello", 5), "hello");
        assert_eq!(preview("hello world", 6), "hello…");
        assert_eq!(preview("olá, tudo bem?", 4), "olá…");
        assert_eq!(preview("😀😀😀", 2), "😀…");
        assert_eq!(preview("😀😀😀", 1), "…");
        assert_eq!(preview("", 3), "");
        for n in 1..12 {
            assert!(preview("hello world, again", n).chars().count() <= n);
        }
    }
}
