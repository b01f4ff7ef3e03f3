//! Workspace API keys: creation, authentication, listing and revocation.
//!
//! A key reads `cgw_<16 hex prefix>_<64 hex secret>`: 320 random bits from the
//! OS. The prefix is not secret; it finds the row. Only the SHA-256 of the
//! whole key is stored, and it is compared in constant time. SHA-256 (not a
//! slow password hash) is enough because keys are random, not chosen by
//! people.

use chrono::Duration;
use entity::api_key;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, prelude::*,
};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    secret::{self, KEY_TAG, PREFIX_BYTES, SECRET_BYTES},
};

/// `last_used_at` is refreshed at most this often, so authenticating does not
/// cost a write on every request.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// A freshly created key: the secret is shown once and never stored.
pub struct NewApiKey {
    /// The stored row (prefix, hash, name, dates).
    pub model: api_key::Model,
    /// The whole key to hand to the client.
    pub key: String,
}

fn random_hex(bytes: usize) -> AppResult<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("OS random source failed: {e}")))?;
    Ok(hex::encode(buf))
}

/// Creates a key named `name` for `workspace_id`, holding `scopes`
/// (space-separated; `None`: every scope).
pub async fn create(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    name: &str,
    scopes: Option<&str>,
) -> AppResult<NewApiKey> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "must be 1 to 200 characters"));
    }
    let prefix = format!("{KEY_TAG}{}", random_hex(PREFIX_BYTES)?);
    let key = format!("{prefix}_{}", random_hex(SECRET_BYTES)?);
    let model = api_key::ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(workspace_id),
        name: Set(name.to_owned()),
        prefix: Set(prefix),
        secret_hash: Set(secret::hash(&key)),
        created_at: Set(super::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        scopes: Set(scopes.map(str::to_owned)),
    };
    let model = api_key::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    Ok(NewApiKey { model, key })
}

/// The PostgreSQL channel a revocation is announced on (payload: the
/// key's prefix), so every process forgets the key at once.
pub const REVOKED_CHANNEL: &str = "api_key_revoked";

/// A key that authenticated.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The key's own id.
    pub api_key_id: Uuid,
    /// The workspace the key belongs to.
    pub workspace_id: Uuid,
    /// Its name, as writes record their actor.
    pub name: String,
    /// Its scopes, space-separated; `None`: every scope.
    pub scopes: Option<String>,
}

/// Whom `key` authenticates, or UNAUTHENTICATED when the key is malformed,
/// unknown or revoked (the three look the same to the caller).
pub async fn authenticate(db: &impl ConnectionTrait, key: &str) -> AppResult<Authenticated> {
    const REJECTED: AppError = AppError::Unauthenticated("Invalid or revoked API key");
    let prefix = secret::prefix_of(key).ok_or(REJECTED)?;
    let row = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(db)
        .await?
        .ok_or(REJECTED)?;
    let matches: bool = secret::hash(key)
        .as_bytes()
        .ct_eq(row.secret_hash.as_bytes())
        .into();
    if !matches || row.revoked_at.is_some() {
        return Err(REJECTED);
    }
    let now = super::now();
    if row
        .last_used_at
        .is_none_or(|used| now - used >= LAST_USED_RESOLUTION)
    {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(now))
            .filter(api_key::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    Ok(Authenticated {
        api_key_id: row.id,
        workspace_id: row.workspace_id,
        name: row.name,
        scopes: row.scopes,
    })
}

/// Every key, of one workspace or of all, oldest first. Secrets are not
/// stored, so none can be listed.
pub async fn list(
    db: &impl ConnectionTrait,
    workspace_id: Option<Uuid>,
) -> AppResult<Vec<api_key::Model>> {
    let mut query = api_key::Entity::find();
    if let Some(workspace_id) = workspace_id {
        query = query.filter(api_key::Column::WorkspaceId.eq(workspace_id));
    }
    Ok(query
        .order_by_asc(api_key::Column::CreatedAt)
        .order_by_asc(api_key::Column::Prefix)
        .all(db)
        .await?)
}

/// The prefixes of the keys revoked at or after `since` (by the clock of
/// the process that revoked them).
pub async fn revoked_since(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<String>> {
    Ok(api_key::Entity::find()
        .select_only()
        .column(api_key::Column::Prefix)
        .filter(api_key::Column::RevokedAt.gte(since))
        .into_tuple()
        .all(db)
        .await?)
}

/// Revokes the key with `prefix` (the `cgw_...` part before the secret);
/// the next request with it is refused. Revoking a revoked key keeps its
/// first revocation time. NOT_FOUND when no key has the prefix.
pub async fn revoke(db: &impl ConnectionTrait, prefix: &str) -> AppResult<api_key::Model> {
    let row = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix.trim()))
        .one(db)
        .await?
        .ok_or(AppError::not_found_at("API key", "prefix"))?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut active: api_key::ActiveModel = row.into();
    active.revoked_at = Set(Some(super::now()));
    let revoked = active.update(db).await?;
    super::notify(db, REVOKED_CHANNEL, &revoked.prefix).await?;
    Ok(revoked)
}
