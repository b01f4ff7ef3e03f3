//! The mutation root: create, update and soft-remove chats (one or up to
//! a hundred at once), post messages.
//! Each write commits its events with it, then wakes the process's event
//! reader (the session's writer does both).

use async_graphql::{Context, MaybeUndefined, Object, Result};
use uuid::Uuid;

use super::{
    context::ContextExt,
    scopes::{CHATS_WRITE, MESSAGES_WRITE, all_of, require, requires_scopes},
    types::{
        chat::Chat,
        inputs::{
            CreateChatInput, PostMessageInput, PostMessagePayload, RemoveChatPayload,
            UpdateChatInput,
        },
        message::Message,
    },
};
use crate::{error::AppError, service};

/// Writes to the caller's workspace.
#[derive(Default)]
pub struct MutationRoot;

/// Writes to the caller's workspace.
#[Object]
impl MutationRoot {
    /// Creates a chat. The channel, owner and responder must belong to the
    /// workspace (NOT_FOUND otherwise); the owner must be a user or an
    /// external user and the responder an agent or a squad (BAD_USER_INPUT
    /// otherwise). The responder's latest version is pinned.
    ///
    /// Needs the scope `chats:write`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_WRITE)))]
    async fn create_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat to create.")] input: CreateChatInput,
        #[graphql(
            desc = "Makes a retry safe: within 24 hours, a request with the same key and the same input returns what the first one created, and creates nothing; the same key with another input is BAD_USER_INPUT. 1 to 200 characters of your choosing (a UUID is a good key); keys belong to the workspace, one space for createChat and postMessage."
        )]
        idempotency_key: Option<String>,
    ) -> Result<Chat> {
        require(ctx, CHATS_WRITE)?;
        let session = ctx.session()?;
        let chat = service::chat::create(session.writer(), input.into(), idempotency_key).await?;
        Ok(Chat(chat))
    }

    /// Updates a chat: fields left out of `input` are kept, fields set to null
    /// are cleared. Changing the responder pins its latest version. NOT_FOUND
    /// for a removed chat or one outside the workspace.
    ///
    /// Needs the scope `chats:write`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_WRITE)))]
    async fn update_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
        #[graphql(desc = "The changes; fields left out are kept.")] input: UpdateChatInput,
    ) -> Result<Chat> {
        require(ctx, CHATS_WRITE)?;
        let session = ctx.session()?;
        let chat = service::chat::update(session.writer(), id, input.into()).await?;
        Ok(Chat(chat))
    }

    /// Soft-removes a chat: it disappears from lists (unless asked for) but
    /// can still be read by ID. NOT_FOUND when already removed or outside the
    /// workspace.
    ///
    /// Needs the scope `chats:write`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_WRITE)))]
    async fn remove_chat(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat ID.")] id: Uuid,
    ) -> Result<RemoveChatPayload> {
        require(ctx, CHATS_WRITE)?;
        let session = ctx.session()?;
        service::chat::remove(session.writer(), id).await?;
        Ok(RemoveChatPayload {
            message: "The chat was removed.".to_owned(),
            chat_id: id,
        })
    }

    /// Soft-removes up to 100 live chats of the workspace at once, all or
    /// nothing: an id that is not a live chat of the workspace fails the
    /// whole call with NOT_FOUND naming it (`extensions.field: "ids[3]"`).
    /// Returns the chats, in the order given.
    ///
    /// Needs the scope `chats:write`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_WRITE)))]
    async fn remove_chats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat IDs: 1 to 100, none twice.")] ids: Vec<Uuid>,
    ) -> Result<Vec<Chat>> {
        require(ctx, CHATS_WRITE)?;
        let session = ctx.session()?;
        let chats = service::bulk::remove(session.writer(), &ids).await?;
        Ok(chats.into_iter().map(Chat).collect())
    }

    /// Restores up to 100 removed chats of the workspace (undoes their
    /// soft removal), all or nothing: NOT_FOUND naming an id outside the
    /// workspace, BAD_USER_INPUT naming a chat that is not removed. Returns
    /// the chats, in the order given.
    ///
    /// Needs the scope `chats:write`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_WRITE)))]
    async fn restore_chats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat IDs: 1 to 100, none twice.")] ids: Vec<Uuid>,
    ) -> Result<Vec<Chat>> {
        require(ctx, CHATS_WRITE)?;
        let session = ctx.session()?;
        let chats = service::bulk::restore(session.writer(), &ids).await?;
        Ok(chats.into_iter().map(Chat).collect())
    }

    /// Assigns up to 100 live chats of the workspace to a responder (its
    /// latest version pinned, as `updateChat` does), or unassigns them with
    /// null; all or nothing, NOT_FOUND naming an id that is not a live chat
    /// of the workspace. Returns the chats, in the order given.
    ///
    /// Needs the scope `chats:write`.
    #[graphql(directive = requires_scopes::apply(all_of(CHATS_WRITE)))]
    async fn assign_chats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chat IDs: 1 to 100, none twice.")] ids: Vec<Uuid>,
        #[graphql(
            desc = "The super identity ID of an agent or squad of the workspace, or null to unassign. Must be given: leaving it out is an error, not an unassignment."
        )]
        responder_super_identity_id: MaybeUndefined<Uuid>,
    ) -> Result<Vec<Chat>> {
        require(ctx, CHATS_WRITE)?;
        let session = ctx.session()?;
        let responder = match responder_super_identity_id {
            MaybeUndefined::Undefined => {
                return Err(AppError::invalid(
                    "responderSuperIdentityId",
                    "must be given: a responder's super identity ID, or null to unassign",
                )
                .into());
            }
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(id) => Some(id),
        };
        let chats = service::bulk::assign(session.writer(), &ids, responder).await?;
        Ok(chats.into_iter().map(Chat).collect())
    }

    /// Posts a message to a live chat of the workspace (NOT_FOUND for a
    /// removed or foreign chat) and moves the chat's `lastMessageAt` and
    /// `updatedAt` with it. `content` is 1 to 32,768 characters, without NUL.
    ///
    /// Needs the scope `messages:write`.
    #[graphql(directive = requires_scopes::apply(all_of(MESSAGES_WRITE)))]
    async fn post_message(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message to post.")] input: PostMessageInput,
        #[graphql(
            desc = "Makes a retry safe: within 24 hours, a request with the same key and the same input returns what the first one created, and creates nothing; the same key with another input is BAD_USER_INPUT. 1 to 200 characters of your choosing (a UUID is a good key); keys belong to the workspace, one space for createChat and postMessage."
        )]
        idempotency_key: Option<String>,
    ) -> Result<PostMessagePayload> {
        require(ctx, MESSAGES_WRITE)?;
        let session = ctx.session()?;
        let (message, chat) =
            service::message::post(session.writer(), input.into(), idempotency_key).await?;
        Ok(PostMessagePayload {
            message: Message::of(message),
            chat: Chat(chat),
        })
    }
}
