//! Workspaces: the tenants every other row belongs to.

use entity::workspace;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use super::api_key::{self, NewApiKey};
use crate::error::{AppError, AppResult};

/// Creates a workspace named `name` with a first API key called `key_name`.
pub async fn create<C>(
    db: &C,
    name: &str,
    key_name: &str,
) -> AppResult<(workspace::Model, NewApiKey)>
where
    C: ConnectionTrait + TransactionTrait,
{
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    let txn = super::begin_write(db).await?;
    let workspace = workspace::Entity::insert(workspace::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name.to_owned()),
        created_at: Set(super::now()),
    })
    .exec_with_returning(&txn)
    .await?;
    let key = api_key::create(&txn, workspace.id, key_name, None).await?;
    txn.commit().await?;
    Ok((workspace, key))
}

/// Whether `id` names a workspace.
pub async fn exists(db: &impl ConnectionTrait, id: Uuid) -> AppResult<bool> {
    Ok(workspace::Entity::find_by_id(id).one(db).await?.is_some())
}

/// Whether the database holds any workspace at all.
pub async fn any(db: &impl ConnectionTrait) -> AppResult<bool> {
    Ok(workspace::Entity::find().count(db).await? > 0)
}
