//! The subscription root: live chat events and a chat's new messages, over
//! the WebSocket transport. Each event is read once per process by the bus
//! (with its chat, relations and newest messages); a subscriber only keeps
//! its workspace's events, applies its filter and primes its loaders with
//! what the bus read, so resolving an event's chat costs no statement.

use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::{
    context::{ContextExt, Session},
    event_cursor::Opened,
    scopes::{CHAT_EVENTS, MESSAGE_EVENTS, all_of, require, require_for_filter, requires_scopes},
    types::{
        chat_event::{ChatEventPayload, delivered_as},
        inputs::ChatFilterInput,
        message::Message,
    },
};
use crate::{
    error::{AppError, AppResult},
    events::{
        fanout::Interest,
        stream::{Delivery, Start, followed_events},
    },
    service,
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
    ///
    /// Needs the scopes `events:subscribe` and `chats:read`.
    #[graphql(directive = requires_scopes::apply(all_of(CHAT_EVENTS)))]
    async fn chat_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which chats to follow; all live chats when omitted.")] filter: Option<
            ChatFilterInput,
        >,
        #[graphql(desc = "The cursor of the last event seen; events after it are replayed first.")]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<ChatEventPayload>> + use<>> {
        require(ctx, CHAT_EVENTS)?;
        let session = ctx.session()?;
        let filter = ChatFilterInput::checked_for_events(filter)?;
        require_for_filter(ctx, &filter)?;
        let start = start(session, after.as_deref())?;
        // A filter on ids follows those chats only: their events alone
        // reach this subscriber.
        let interest = Interest {
            workspace_id: session.workspace_id(),
            chats: filter.ids.clone(),
        };
        let deliveries =
            followed_events(session.events.clone(), session.db.clone(), interest, start);
        let executions = session.executions();
        let (cursors, workspace_id) = (session.cursors.clone(), session.workspace_id());
        let telemetry = session.telemetry.clone();
        Ok(deliveries.filter_map(move |delivery| {
            let payload = match delivery {
                // The events could not be read (the database is down): an
                // error, not an event, so no cursor points past what was lost.
                Err(error) => Some(Err(error.into())),
                Ok(Delivery::Resync { position }) => {
                    let cursor = cursors.seal(workspace_id, position);
                    Some(Ok(ChatEventPayload::resync(cursor)))
                }
                Ok(Delivery::Event(event)) => delivered_as(&filter, &event).map(|kind| {
                    telemetry.metrics.delivered(event.age());
                    let cursor = cursors.seal(workspace_id, event.position);
                    Ok(ChatEventPayload::of(event, kind, cursor))
                }),
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
    /// after `after`: a message's `eventCursor`, or the cursor of a
    /// `chatEvents` event). NOT_FOUND for a chat that is not the workspace's.
    ///
    /// Needs the scopes `events:subscribe` and `messages:read`.
    #[graphql(directive = requires_scopes::apply(all_of(MESSAGE_EVENTS)))]
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat to follow.")] chat_id: Uuid,
        #[graphql(
            desc = "The cursor of the last event seen; messages after it are replayed first."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Message>> + use<>> {
        require(ctx, MESSAGE_EVENTS)?;
        let session = ctx.session()?;
        service::chat::get(&session.db, session.workspace_id(), chat_id)
            .await
            .map_err(|error| match error {
                AppError::NotFound { entity, .. } => AppError::not_found_at(entity, "chatId"),
                other => other,
            })?;
        let start = start(session, after.as_deref())?;
        let interest = Interest {
            workspace_id: session.workspace_id(),
            chats: Some(vec![chat_id]),
        };
        let deliveries =
            followed_events(session.events.clone(), session.db.clone(), interest, start);
        let executions = session.executions();
        let (cursors, workspace_id) = (session.cursors.clone(), session.workspace_id());
        let telemetry = session.telemetry.clone();
        Ok(deliveries.filter_map(move |delivery| {
            let item = match delivery {
                Err(error) => Some(Err(error.into())),
                Ok(Delivery::Resync { .. }) => Some(Err(AppError::ResyncRequired.into())),
                Ok(Delivery::Event(event)) => event
                    .message
                    .as_ref()
                    .filter(|message| message.chat_id == chat_id)
                    .map(|message| {
                        telemetry.metrics.delivered(event.age());
                        let cursor = cursors.seal(workspace_id, event.position);
                        Ok(Message::added(message.clone(), cursor))
                    }),
            };
            if item.is_some() {
                executions.begin();
            }
            std::future::ready(item)
        }))
    }
}

/// Where a subscription with `after` starts: after the event its cursor
/// names, with a resync for a cursor of the format before sealing, or now.
fn start(session: &Session, after: Option<&str>) -> AppResult<Start> {
    let Some(after) = after else {
        return Ok(Start::Now);
    };
    Ok(
        match session
            .cursors
            .open(session.workspace_id(), after, "after")?
        {
            Opened::Position(position) => Start::After(position),
            Opened::Outdated => Start::Resync,
        },
    )
}
