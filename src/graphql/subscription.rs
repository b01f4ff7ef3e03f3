//! The subscription root: live chat events and a chat's new messages, over
//! the WebSocket transport. Each event is read once per process by the bus
//! (with its chat, relations and newest messages); a subscriber only keeps
//! its workspace's events, applies its filter and primes its loaders with
//! what the bus read, so resolving an event's chat costs no statement.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, Subscription};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::enums;
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    context::{ContextExt, or_null},
    types::{chat::Chat, enums::ChatEventKind, inputs::ChatFilterInput, message::Message},
};
use crate::{
    error::{AppError, AppResult},
    events::{
        ChatEvent,
        fanout::Interest,
        stream::{Delivery, followed_events},
    },
    service::{
        self,
        chat_filter::{ChatFilter, FilterFacts},
    },
};

/// Live updates of the caller's workspace.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Live updates of the caller's workspace.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Every change to the workspace's chats that match `filter`, as it
    /// commits: created, updated, removed (sent even when the filter leaves
    /// removed chats out, so a list can drop the chat), and messages
    /// posted. Each event is judged by the chat as its write left it, so a
    /// resume gets what a live subscription got; a change that takes a chat
    /// out of the filter arrives as LEFT_FILTER. Pass the `cursor` of the
    /// last event seen as `after` to resume without missing any (within the
    /// event retention).
    async fn chat_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which chats to follow; all live chats when omitted.")] filter: Option<
            ChatFilterInput,
        >,
        #[graphql(desc = "The cursor of the last event seen; events after it are replayed first.")]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<ChatEventPayload>> + use<>> {
        let session = ctx.session()?;
        let filter = ChatFilter::from(filter.unwrap_or_default());
        filter.validate_for_events()?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        // A filter on ids follows those chats only: their events alone
        // reach this subscriber.
        let interest = Interest {
            workspace_id: session.workspace_id,
            chats: filter.ids.clone(),
        };
        let deliveries =
            followed_events(session.events.clone(), session.db.clone(), interest, after);
        let executions = session.executions();
        Ok(deliveries.filter_map(move |delivery| {
            let payload = match delivery {
                // The events could not be read (the database is down): an
                // error, not an event, so no cursor points past what was lost.
                Err(error) => Some(Err(error.into())),
                Ok(Delivery::Resync { seq }) => Some(Ok(ChatEventPayload::resync(seq))),
                Ok(Delivery::Event(event)) => {
                    delivered_as(&filter, &event).map(|kind| Ok(ChatEventPayload::of(event, kind)))
                }
            };
            // Each event resolves as an execution of its own: nothing
            // an earlier event's fields loaded may answer for this one.
            if payload.is_some() {
                executions.begin();
            }
            std::future::ready(payload)
        }))
    }

    /// The messages posted to one chat of the workspace from now on (or
    /// after `after`, the cursor of an event). NOT_FOUND for a chat that is
    /// not the workspace's.
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat to follow.")] chat_id: Uuid,
        #[graphql(
            desc = "The cursor of the last event seen; messages after it are replayed first."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        let session = ctx.session()?;
        service::chat::get(&session.db, session.workspace_id, chat_id)
            .await
            .map_err(|error| match error {
                AppError::NotFound { entity, .. } => AppError::not_found_at(entity, "chatId"),
                other => other,
            })?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let interest = Interest {
            workspace_id: session.workspace_id,
            chats: Some(vec![chat_id]),
        };
        let deliveries =
            followed_events(session.events.clone(), session.db.clone(), interest, after);
        let executions = session.executions();
        Ok(deliveries.filter_map(move |delivery| {
            let item = match delivery {
                Err(error) => Some(Err(error.into())),
                Ok(Delivery::Resync { .. }) => Some(Err(AppError::ResyncRequired.into())),
                Ok(Delivery::Event(event)) => event
                    .message
                    .as_ref()
                    .filter(|message| message.chat_id == chat_id)
                    .map(|message| Ok(Message(message.clone()))),
            };
            if item.is_some() {
                executions.begin();
            }
            std::future::ready(item)
        }))
    }
}

/// What a subscriber with `filter` gets of `event`, judged by its chat as
/// the write left it and as it was before (so a replay from a cursor gets
/// what a live subscriber got): the event's own kind when the chat is in
/// the filter after it, LEFT_FILTER when it was in the filter before and
/// is not after, nothing otherwise.
fn delivered_as(filter: &ChatFilter, event: &ChatEvent) -> Option<ChatEventKind> {
    let row_facts = || event.chat.as_deref().map(FilterFacts::of);
    let after = event.after.clone().or_else(row_facts)?;
    // A removal reaches lists that leave removed chats out: they drop it.
    let removal = event.kind == enums::ChatEventKind::Removed;
    if filter.matches(&after, filter.include_removed || removal) {
        return Some(event.kind.into());
    }
    let before = event.before.as_ref()?;
    filter
        .matches(before, filter.include_removed)
        .then_some(ChatEventKind::LeftFilter)
}

/// The opaque cursor of an event.
fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("e1|{seq}"))
}

fn decode_cursor(cursor: &str) -> AppResult<i64> {
    let invalid =
        || AppError::invalid("after", "is not an event cursor; use one an event returned");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let seq = text.strip_prefix("e1|").ok_or_else(invalid)?;
    seq.parse::<i64>()
        .ok()
        .filter(|seq| *seq >= 0)
        .ok_or_else(invalid)
}

/// One event as a subscriber sees it.
pub struct ChatEventPayload {
    cursor: String,
    kind: ChatEventKind,
    event: Option<Arc<ChatEvent>>,
}

impl ChatEventPayload {
    fn of(event: Arc<ChatEvent>, kind: ChatEventKind) -> Self {
        Self {
            cursor: encode_cursor(event.seq),
            kind,
            event: Some(event),
        }
    }

    fn resync(seq: i64) -> Self {
        Self {
            cursor: encode_cursor(seq),
            kind: ChatEventKind::ResyncRequired,
            event: None,
        }
    }
}

/// Something that happened to a chat of the workspace.
#[Object(name = "ChatEvent")]
impl ChatEventPayload {
    /// Where this event stands: pass it as `after` to resume after it.
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

    /// The message posted, for MESSAGE_POSTED; null otherwise.
    async fn message(&self) -> Option<Message> {
        let message = self.event.as_ref()?.message.clone()?;
        Some(Message(message))
    }
}
