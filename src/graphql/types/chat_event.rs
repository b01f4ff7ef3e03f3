//! `ChatEvent`: one change to a chat as a `chatEvents` subscriber sees it,
//! and which kind (if any) a subscriber's filter makes of an event.

use std::sync::Arc;

use async_graphql::{Context, Object};

use super::{actor::Actor, chat::Chat, enums::ChatEventKind, message::Message};
use crate::{
    events::{ChatEvent, Seen, seen_through},
    graphql::{
        context::{ContextExt, or_null},
        scopes::{MESSAGES_READ, all_of, require, requires_scopes},
    },
    service::chat::filter::ChatFilter,
};

/// What a subscriber with `filter` gets of `event` ([`seen_through`]):
/// the event's own kind, LEFT_FILTER, or nothing.
pub fn delivered_as(filter: &ChatFilter, event: &ChatEvent) -> Option<ChatEventKind> {
    Some(match seen_through(filter, event)? {
        Seen::As(kind) => kind.into(),
        Seen::LeftFilter => ChatEventKind::LeftFilter,
    })
}

/// One event as a subscriber sees it.
pub struct ChatEventPayload {
    cursor: String,
    kind: ChatEventKind,
    event: Option<Arc<ChatEvent>>,
}

impl ChatEventPayload {
    /// `event`, delivered as `kind`, at `cursor`.
    pub fn of(event: Arc<ChatEvent>, kind: ChatEventKind, cursor: String) -> Self {
        Self {
            cursor,
            kind,
            event: Some(event),
        }
    }

    /// A resync, to go on from `cursor`.
    pub fn resync(cursor: String) -> Self {
        Self {
            cursor,
            kind: ChatEventKind::ResyncRequired,
            event: None,
        }
    }
}

/// Something that happened to a chat of the workspace.
#[Object(name = "ChatEvent")]
impl ChatEventPayload {
    /// Where this event stands: pass it as `after` to resume after it.
    /// Opaque: it opens only for the workspace it was issued to.
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    /// What happened.
    async fn kind(&self) -> ChatEventKind {
        self.kind
    }

    /// The chat as it stood when the event was delivered; null for
    /// RESYNC_REQUIRED.
    async fn chat(&self, ctx: &Context<'_>) -> Option<Chat> {
        let found = async {
            let Some(row) = self.event.as_ref().and_then(|event| event.chat.as_ref()) else {
                return Ok(None);
            };
            let execution = ctx.execution()?;
            execution
                .loaders
                .prime(std::slice::from_ref(row.as_ref()))
                .await;
            Ok(Some(Chat(row.chat.clone())))
        };
        or_null(ctx, found.await)
    }

    /// Who made the change: an API key or a person. Null for
    /// RESYNC_REQUIRED, and for changes made before actors were kept.
    async fn actor(&self) -> Option<Actor> {
        self.event.as_ref()?.actor.as_ref().map(Actor::from)
    }

    /// The message posted, for MESSAGE_POSTED; null otherwise.
    ///
    /// Needs the scope `messages:read`.
    #[graphql(directive = requires_scopes::apply(all_of(MESSAGES_READ)))]
    async fn message(&self, ctx: &Context<'_>) -> Option<Message> {
        let message = self.event.as_ref()?.message.clone()?;
        let allowed = require(ctx, MESSAGES_READ).map(|()| Some(Message::of(message)));
        or_null(ctx, allowed)
    }
}
