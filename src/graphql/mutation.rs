//! The mutation root: create, update and soft-remove chats, post messages.
//! Each write commits its events with it, then wakes the process's event
//! reader.

use async_graphql::{Context, Object, Result};
use uuid::Uuid;

use super::{
    context::ContextExt,
    types::{
        chat::Chat,
        inputs::{
            CreateChatInput, PostMessageInput, PostMessagePayload, RemoveChatPayload,
            UpdateChatInput,
        },
        message::Message,
    },
};
use crate::service;

/// Writes to the caller's workspace.
#[derive(Default)]
pub struct MutationRoot;

/// Writes to the caller's workspace.
#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates a chat. The channel, owner and responder must belong to the
    /// workspace (NOT_FOUND otherwise); the owner must be a user or an
    /// external user and the responder an agent or a squad (BAD_USER_INPUT
    /// otherwise). The responder's latest version is pinned.
    async fn create_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat to create.")] input: CreateChatInput,
    ) -> Result<Chat> {
        let session = ctx.session()?;
        let chat = service::chat::create(&session.db, session.workspace_id, input.into()).await?;
        session.events.wake();
        Ok(Chat(chat))
    }

    /// Updates a chat: fields left out of `input` are kept, fields set to null
    /// are cleared. Changing the responder pins its latest version. NOT_FOUND
    /// for a removed chat or one outside the workspace.
    async fn update_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
        #[graphql(desc = "The changes; fields left out are kept.")] input: UpdateChatInput,
    ) -> Result<Chat> {
        let session = ctx.session()?;
        let chat =
            service::chat::update(&session.db, session.workspace_id, id, input.into()).await?;
        session.events.wake();
        Ok(Chat(chat))
    }

    /// Soft-removes a chat: it disappears from lists (unless asked for) but
    /// can still be read by ID. NOT_FOUND when already removed or outside the
    /// workspace.
    async fn remove_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
    ) -> Result<RemoveChatPayload> {
        let session = ctx.session()?;
        service::chat::remove(&session.db, session.workspace_id, id).await?;
        session.events.wake();
        Ok(RemoveChatPayload {
            message: "The chat was removed.".to_owned(),
            chat_id: id,
        })
    }

    /// Posts a message to a live chat of the workspace (NOT_FOUND for a
    /// removed or foreign chat) and moves the chat's `lastMessageAt` and
    /// `updatedAt` with it. `content` is 1 to 32,768 characters, without NUL.
    async fn post_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message to post.")] input: PostMessageInput,
    ) -> Result<PostMessagePayload> {
        let session = ctx.session()?;
        let (message, chat) =
            service::message::post(&session.db, session.workspace_id, input.into()).await?;
        session.events.wake();
        Ok(PostMessagePayload {
            message: Message(message),
            chat: Chat(chat),
        })
    }
}
