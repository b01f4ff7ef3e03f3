//! The chat aggregate. Here: read one, count, create, update, soft-remove;
//! beside it, which chats a list asks for and in what order ([`filter`],
//! checked once where a filter is made), chats read with their relations
//! ([`row`]), the badge counts ([`counts`]) and the live-chat counters they
//! read ([`counters`]). Every operation is scoped to the caller's
//! workspace; a chat of another workspace is NOT_FOUND exactly like one
//! that does not exist. Each write is one transaction that records its
//! event in the outbox ([`super::write`]); the counters follow by trigger.

pub mod counters;
pub mod counts;
pub mod filter;
pub mod row;

use chrono::{DateTime, Utc};
use entity::{
    channel, chat,
    enums::{ChatEventKind, IdentityKind},
    responder, responder_version, super_identity, ticket,
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, prelude::*,
};
use uuid::Uuid;

use self::filter::ChatFilter;
use super::{
    events::{NewEvent, Prior},
    idempotency::{Claim, IdempotencyKey},
    write::Writer,
};
use crate::error::{AppError, AppResult};

/// Longest accepted title, in characters.
pub const MAX_TITLE_CHARS: usize = 500;

/// What `create` needs (serialised only to fingerprint an idempotent
/// request).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewChat {
    pub channel_id: Uuid,
    pub owner_super_identity_id: Uuid,
    pub responder_super_identity_id: Option<Uuid>,
    pub title: Option<String>,
    /// When the conversation began; `None` means now. Only imports and the
    /// demo data set it: the GraphQL API always creates chats "now".
    pub created_at: Option<DateTime<Utc>>,
}

/// One field of an update: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// What `update` changes; `Keep` fields are left alone.
#[derive(Debug, Clone, Default)]
pub struct ChatChanges {
    pub title: Patch<String>,
    pub responder_super_identity_id: Patch<Uuid>,
    pub ticket_id: Patch<Uuid>,
}

/// The chat `id` of the workspace, removed or not.
pub async fn get(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
) -> AppResult<chat::Model> {
    chat::Entity::find_by_id(id)
        .filter(chat::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found_at("Chat", "id"))
}

/// How many of the workspace's chats match `filter`: from the live-chat
/// counters when it asks only what they know (channels, responders, ticket
/// statuses), by counting otherwise.
pub async fn count(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
) -> AppResult<u64> {
    if let Some(buckets) = filter.only_buckets() {
        return counters::live(db, workspace_id, &buckets, sea_orm::Condition::all()).await;
    }
    Ok(chat::Entity::find()
        .filter(filter.condition(db.get_database_backend(), workspace_id))
        .count(db)
        .await?)
}

/// Creates a chat: the channel and identities must be the workspace's, the
/// owner a user or external user, the responder an agent or squad, whose
/// latest version the chat pins. One transaction, with its CREATED event.
///
/// With an idempotency `key`, a retry with the same key and input returns
/// the chat the first request created, as it is now, and creates nothing.
pub async fn create<C>(
    writer: Writer<'_, C>,
    new: NewChat,
    key: Option<String>,
) -> AppResult<chat::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let key = key
        .map(|key| IdempotencyKey::new(key, "createChat", &new))
        .transpose()?;
    let write = writer.begin().await?;
    let id = Uuid::new_v4();
    if let Claim::Done(first) = write.claim(key.as_ref(), id).await? {
        return get(write.db(), write.workspace_id, first)
            .await
            .map_err(|_| AppError::not_found("Chat"));
    }
    let chat = insert(write.db(), write.workspace_id, id, new).await?;
    write.commit(&[NewEvent::created(chat.id)]).await?;
    Ok(chat)
}

async fn insert(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
    new: NewChat,
) -> AppResult<chat::Model> {
    let title = validate_title(new.title)?;
    channel::Entity::find_by_id(new.channel_id)
        .filter(channel::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found_at("Channel", "input.channelId"))?;
    let owner = identity_kind(db, workspace_id, new.owner_super_identity_id)
        .await?
        .ok_or_else(|| AppError::not_found_at("Owner", "input.ownerSuperIdentityId"))?;
    if !matches!(owner, IdentityKind::User | IdentityKind::ExternalUser) {
        return Err(AppError::invalid(
            "input.ownerSuperIdentityId",
            "must refer to a user or an external user",
        ));
    }
    let (responder_id, version_id) = match new.responder_super_identity_id {
        Some(id) => {
            let version =
                pin_responder(db, workspace_id, id, "input.responderSuperIdentityId").await?;
            (Some(id), version)
        }
        None => (None, None),
    };
    let now = super::now();
    let created_at = new.created_at.unwrap_or(now);
    let model = chat::ActiveModel {
        id: Set(id),
        workspace_id: Set(workspace_id),
        channel_id: Set(new.channel_id),
        owner_super_identity_id: Set(new.owner_super_identity_id),
        responder_super_identity_id: Set(responder_id),
        responder_version_id: Set(version_id),
        ticket_id: Set(None),
        title: Set(title),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        removed_at: Set(None),
        last_message_at: Set(None),
    };
    Ok(chat::Entity::insert(model).exec_with_returning(db).await?)
}

/// Applies `changes` to a live chat of the workspace and returns it. One
/// transaction, with its UPDATED event.
pub async fn update<C>(
    writer: Writer<'_, C>,
    id: Uuid,
    changes: ChatChanges,
) -> AppResult<chat::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let write = writer.begin().await?;
    let (chat, prior) = apply(write.db(), write.workspace_id, id, changes).await?;
    let event = NewEvent::changed(ChatEventKind::Updated, chat.id, prior);
    write.commit(&[event]).await?;
    Ok(chat)
}

/// Applies `changes`: the chat as it now stands, and as it stood.
async fn apply(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
    changes: ChatChanges,
) -> AppResult<(chat::Model, Prior)> {
    let mut chat = get(db, workspace_id, id).await?;
    if chat.removed_at.is_some() {
        return Err(AppError::not_found_at("Chat", "id"));
    }
    let prior = Prior::of(&chat);
    match changes.title {
        Patch::Keep => {}
        Patch::Clear => chat.title = None,
        Patch::Set(title) => chat.title = validate_title(Some(title))?,
    }
    match changes.responder_super_identity_id {
        Patch::Keep => {}
        Patch::Clear => {
            chat.responder_super_identity_id = None;
            chat.responder_version_id = None;
        }
        Patch::Set(responder) => {
            let field = "input.responderSuperIdentityId";
            chat.responder_version_id = pin_responder(db, workspace_id, responder, field).await?;
            chat.responder_super_identity_id = Some(responder);
        }
    }
    match changes.ticket_id {
        Patch::Keep => {}
        Patch::Clear => chat.ticket_id = None,
        Patch::Set(ticket_id) => {
            ticket::Entity::find_by_id(ticket_id)
                .filter(ticket::Column::WorkspaceId.eq(workspace_id))
                .one(db)
                .await?
                .ok_or_else(|| AppError::not_found_at("Ticket", "input.ticketId"))?;
            chat.ticket_id = Some(ticket_id);
        }
    }
    chat.updated_at = super::now();
    let done = chat::Entity::update_many()
        .col_expr(chat::Column::Title, Expr::value(chat.title.clone()))
        .col_expr(
            chat::Column::ResponderSuperIdentityId,
            Expr::value(chat.responder_super_identity_id),
        )
        .col_expr(
            chat::Column::ResponderVersionId,
            Expr::value(chat.responder_version_id),
        )
        .col_expr(chat::Column::TicketId, Expr::value(chat.ticket_id))
        .col_expr(chat::Column::UpdatedAt, Expr::value(chat.updated_at))
        .filter(live_chat(workspace_id, id))
        .exec(db)
        .await?;
    // Removed by a concurrent request since it was read.
    if done.rows_affected == 0 {
        return Err(AppError::not_found_at("Chat", "id"));
    }
    Ok((chat, prior))
}

/// Soft-removes a live chat of the workspace. One transaction, with its
/// REMOVED event.
pub async fn remove<C>(writer: Writer<'_, C>, id: Uuid) -> AppResult<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let write = writer.begin().await?;
    let now = super::now();
    // A missing, foreign or already removed chat changes no row.
    let removed = chat::Entity::update_many()
        .col_expr(chat::Column::RemovedAt, Expr::value(now))
        .col_expr(chat::Column::UpdatedAt, Expr::value(now))
        .filter(live_chat(write.workspace_id, id))
        .exec_with_returning(write.db())
        .await?;
    let Some(chat) = removed.first() else {
        return Err(AppError::not_found_at("Chat", "id"));
    };
    // It was live; nothing else changed.
    let prior = Prior {
        removed: false,
        ..Prior::of(chat)
    };
    let event = NewEvent::changed(ChatEventKind::Removed, id, prior);
    write.commit(&[event]).await
}

fn live_chat(workspace_id: Uuid, id: Uuid) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(chat::Column::Id.eq(id))
        .add(chat::Column::WorkspaceId.eq(workspace_id))
        .add(chat::Column::RemovedAt.is_null())
}

fn validate_title(title: Option<String>) -> AppResult<Option<String>> {
    match title {
        Some(t) if t.chars().count() > MAX_TITLE_CHARS => Err(AppError::invalid(
            "input.title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        )),
        // PostgreSQL text cannot hold NUL; refuse it on every backend alike.
        Some(t) if t.contains('\0') => Err(AppError::invalid(
            "input.title",
            "must not contain the NUL character (U+0000)",
        )),
        other => Ok(other),
    }
}

async fn identity_kind(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
) -> AppResult<Option<IdentityKind>> {
    Ok(super_identity::Entity::find_by_id(id)
        .filter(super_identity::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .map(|identity| identity.kind))
}

/// Checks that `super_identity_id` is an agent or squad of the workspace and
/// returns its latest version, if it has one.
pub(super) async fn pin_responder(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    super_identity_id: Uuid,
    field: &'static str,
) -> AppResult<Option<Uuid>> {
    let kind = identity_kind(db, workspace_id, super_identity_id)
        .await?
        .ok_or_else(|| AppError::not_found_at("Responder", field))?;
    if !matches!(kind, IdentityKind::Agent | IdentityKind::Squad) {
        return Err(AppError::invalid(
            field,
            "must refer to an agent or a squad",
        ));
    }
    let responder = responder::Entity::find()
        .filter(responder::Column::SuperIdentityId.eq(super_identity_id))
        .filter(responder::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found_at("Responder", field))?;
    let latest = responder_version::Entity::find()
        .filter(responder_version::Column::ResponderId.eq(responder.id))
        .order_by_desc(responder_version::Column::VersionNumber)
        .limit(1)
        .one(db)
        .await?;
    Ok(latest.map(|v| v.id))
}
