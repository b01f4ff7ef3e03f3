//! Actions on many chats at once: remove, restore, assign. Each is all or
//! nothing, in one transaction of a fixed number of statements whatever the
//! number of ids (read the chats, change them, record the events; the
//! live-chat counters follow by trigger), and each changed chat gets its
//! event.

use std::collections::HashMap;

use entity::{chat, enums::ChatEventKind};
use sea_orm::{
    ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait, prelude::*, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    chat::pin_responder,
    events::{NewEvent, Prior},
    write::Writer,
};
use crate::error::{AppError, AppResult};

/// Most ids one bulk action takes.
pub const MAX_BULK_IDS: usize = 100;

/// What a bulk action requires of each chat before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Live,
    Removed,
}

/// Checks the list itself: 1 to [`MAX_BULK_IDS`] ids, none twice.
fn check(ids: &[Uuid]) -> AppResult<()> {
    if ids.is_empty() {
        return Err(AppError::invalid("ids", "must name at least one chat"));
    }
    if ids.len() > MAX_BULK_IDS {
        return Err(AppError::invalid(
            "ids",
            format!("must name at most {MAX_BULK_IDS} chats, got {}", ids.len()),
        ));
    }
    let mut seen = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(first) = seen.insert(*id, i) {
            return Err(AppError::invalid(
                format!("ids[{i}]"),
                format!("repeats ids[{first}]"),
            ));
        }
    }
    Ok(())
}

/// The chats `ids` of the workspace, in the order given, each as `needs`
/// says: NOT_FOUND on `ids[i]` for the first that is not the workspace's,
/// BAD_USER_INPUT for one in the wrong state.
async fn read(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    ids: &[Uuid],
    needs: Needs,
) -> AppResult<Vec<chat::Model>> {
    check(ids)?;
    let mut found: HashMap<Uuid, chat::Model> = chat::Entity::find()
        .filter(chat::Column::WorkspaceId.eq(workspace_id))
        .filter(chat::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|chat| (chat.id, chat))
        .collect();
    let mut chats = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let chat = found
            .remove(id)
            .ok_or_else(|| AppError::not_found_at("Chat", format!("ids[{i}]")))?;
        match (needs, chat.removed_at.is_some()) {
            // As removeChat and updateChat: a removed chat is not there.
            (Needs::Live, true) => {
                return Err(AppError::not_found_at("Chat", format!("ids[{i}]")));
            }
            (Needs::Removed, false) => {
                return Err(AppError::invalid(format!("ids[{i}]"), "is not removed"));
            }
            _ => chats.push(chat),
        }
    }
    Ok(chats)
}

/// Whether the update changed every chat read. One that another request
/// removed or restored since it was read (as removeChat answers a
/// concurrent removal) fails the call; the transaction rolls back, so
/// nothing changed.
fn all_changed(rows_affected: u64, chats: &[chat::Model]) -> AppResult<()> {
    if rows_affected == chats.len() as u64 {
        Ok(())
    } else {
        Err(AppError::not_found_at("Chat", "ids"))
    }
}

/// Sets `removed_at` (and `updated_at`) on `chats`, as of now.
async fn set_removed(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    chats: &mut [chat::Model],
    removed: bool,
) -> AppResult<()> {
    let now = super::now();
    let removed_at = removed.then_some(now);
    let done = chat::Entity::update_many()
        .col_expr(chat::Column::RemovedAt, Expr::value(removed_at))
        .col_expr(chat::Column::UpdatedAt, Expr::value(now))
        .filter(chat::Column::WorkspaceId.eq(workspace_id))
        .filter(chat::Column::Id.is_in(chats.iter().map(|chat| chat.id)))
        .filter(if removed {
            chat::Column::RemovedAt.is_null()
        } else {
            chat::Column::RemovedAt.is_not_null()
        })
        .exec(db)
        .await?;
    all_changed(done.rows_affected, chats)?;
    for chat in chats.iter_mut() {
        chat.removed_at = removed_at;
        chat.updated_at = now;
    }
    Ok(())
}

/// Soft-removes the live chats `ids` of the workspace; returns them.
pub async fn remove<C>(writer: Writer<'_, C>, ids: &[Uuid]) -> AppResult<Vec<chat::Model>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let write = writer.begin().await?;
    let mut chats = read(write.db(), write.workspace_id, ids, Needs::Live).await?;
    let priors = priors(&chats);
    set_removed(write.db(), write.workspace_id, &mut chats, true).await?;
    write
        .commit(&events(&chats, &priors, ChatEventKind::Removed))
        .await?;
    Ok(chats)
}

/// Restores the removed chats `ids` of the workspace; returns them.
pub async fn restore<C>(writer: Writer<'_, C>, ids: &[Uuid]) -> AppResult<Vec<chat::Model>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let write = writer.begin().await?;
    let mut chats = read(write.db(), write.workspace_id, ids, Needs::Removed).await?;
    let priors = priors(&chats);
    set_removed(write.db(), write.workspace_id, &mut chats, false).await?;
    write
        .commit(&events(&chats, &priors, ChatEventKind::Updated))
        .await?;
    Ok(chats)
}

/// Assigns the live chats `ids` of the workspace to `responder` (its
/// latest version pinned, as `updateChat` does), or unassigns them with
/// `None`; returns them.
pub async fn assign<C>(
    writer: Writer<'_, C>,
    ids: &[Uuid],
    responder: Option<Uuid>,
) -> AppResult<Vec<chat::Model>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let write = writer.begin().await?;
    let (txn, workspace_id) = (write.db(), write.workspace_id);
    let mut chats = read(txn, workspace_id, ids, Needs::Live).await?;
    let priors = priors(&chats);
    let version = match responder {
        Some(responder) => {
            pin_responder(txn, workspace_id, responder, "responderSuperIdentityId").await?
        }
        None => None,
    };
    let now = super::now();
    let done = chat::Entity::update_many()
        .col_expr(
            chat::Column::ResponderSuperIdentityId,
            Expr::value(responder),
        )
        .col_expr(chat::Column::ResponderVersionId, Expr::value(version))
        .col_expr(chat::Column::UpdatedAt, Expr::value(now))
        .filter(chat::Column::WorkspaceId.eq(workspace_id))
        .filter(chat::Column::Id.is_in(ids.iter().copied()))
        .filter(chat::Column::RemovedAt.is_null())
        .exec(txn)
        .await?;
    all_changed(done.rows_affected, &chats)?;
    for chat in &mut chats {
        chat.responder_super_identity_id = responder;
        chat.responder_version_id = version;
        chat.updated_at = now;
    }
    write
        .commit(&events(&chats, &priors, ChatEventKind::Updated))
        .await?;
    Ok(chats)
}

/// The chats as read, before the action changes them.
fn priors(chats: &[chat::Model]) -> Vec<Prior> {
    chats.iter().map(Prior::of).collect()
}

/// One `kind` event per chat (recorded in one statement).
fn events(chats: &[chat::Model], priors: &[Prior], kind: ChatEventKind) -> Vec<NewEvent> {
    chats
        .iter()
        .zip(priors)
        .map(|(chat, prior)| NewEvent::changed(kind, chat.id, *prior))
        .collect()
}
