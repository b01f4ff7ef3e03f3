//! Idempotent creation: a client that retries a `createChat` or
//! `postMessage` with the key it sent the first time gets what the first
//! request created, and nothing is created twice.
//!
//! The key is claimed inside the creating transaction, so it exists if and
//! only if the creation committed: a request that failed leaves no key, and
//! its retry runs again. Two requests racing on one key serialise on the
//! key's row (PostgreSQL waits on the uncommitted insert; SQLite writes one
//! transaction at a time), and the second reads what the first created.

use chrono::{DateTime, Duration, Utc};
use entity::idempotency_key::{self, Column, Entity};
use sea_orm::{
    ConnectionTrait, EntityTrait, QueryFilter,
    prelude::*,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Longest key accepted, in characters.
pub const MAX_KEY_CHARS: usize = 200;
/// How long a key is remembered.
pub const KEPT_FOR: Duration = Duration::hours(24);

/// The argument's name, as errors name it.
const FIELD: &str = "idempotencyKey";

/// A checked key and the fingerprint of what it was sent with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: String,
    fingerprint: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or expired), and now names the id given: create it.
    New,
    /// A request with this key and input already created this.
    Done(Uuid),
}

impl IdempotencyKey {
    /// The key of `operation` with `input`: 1 to [`MAX_KEY_CHARS`]
    /// characters, without NUL.
    pub fn new(key: String, operation: &str, input: &impl Serialize) -> AppResult<Self> {
        let chars = key.chars().count();
        if chars == 0 || chars > MAX_KEY_CHARS {
            return Err(AppError::invalid(
                FIELD,
                format!("must be 1 to {MAX_KEY_CHARS} characters, got {chars}"),
            ));
        }
        if key.contains('\0') {
            return Err(AppError::invalid(
                FIELD,
                "must not contain the NUL character (U+0000)",
            ));
        }
        let input = serde_json::to_vec(input).expect("inputs serialise");
        let mut hash = Sha256::new();
        hash.update(operation.as_bytes());
        hash.update([0]);
        hash.update(&input);
        Ok(Self {
            key,
            fingerprint: hex::encode(hash.finalize()),
        })
    }

    /// Claims the key for `workspace_id` in the transaction `txn`, for what
    /// the request is about to create as `result_id` (the row commits with
    /// the creation, or not at all), or finds what it created before.
    /// BAD_USER_INPUT when it was used with another input (or operation)
    /// within [`KEPT_FOR`].
    pub async fn claim(
        &self,
        txn: &impl ConnectionTrait,
        workspace_id: Uuid,
        now: DateTime<Utc>,
        result_id: Uuid,
    ) -> AppResult<Claim> {
        let row = idempotency_key::ActiveModel {
            workspace_id: sea_orm::ActiveValue::Set(workspace_id),
            key: sea_orm::ActiveValue::Set(self.key.clone()),
            fingerprint: sea_orm::ActiveValue::Set(self.fingerprint.clone()),
            result_id: sea_orm::ActiveValue::Set(result_id),
            created_at: sea_orm::ActiveValue::Set(now),
        };
        // An expired key is taken over as if new; a live one is left as is.
        let take_expired = OnConflict::columns([Column::WorkspaceId, Column::Key])
            .update_columns([Column::Fingerprint, Column::ResultId, Column::CreatedAt])
            .action_and_where(Expr::col((Entity, Column::CreatedAt)).lte(now - KEPT_FOR))
            .to_owned();
        let claimed = Entity::insert(row)
            .on_conflict(take_expired)
            .exec_without_returning(txn)
            .await?;
        if claimed == 1 {
            return Ok(Claim::New);
        }
        let first = Entity::find_by_id((workspace_id, self.key.clone()))
            .one(txn)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("claimed key vanished")))?;
        if first.fingerprint != self.fingerprint {
            return Err(AppError::invalid(
                FIELD,
                "was already used with another input in the last 24 hours: \
                 send a new key for a new request",
            ));
        }
        Ok(Claim::Done(first.result_id))
    }
}

/// Forgets the keys claimed before `before`.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    let deleted = Entity::delete_many()
        .filter(Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: &str, operation: &str, input: &str) -> AppResult<IdempotencyKey> {
        IdempotencyKey::new(key.to_owned(), operation, &input)
    }

    #[test]
    fn the_fingerprint_covers_the_operation_and_the_input() {
        let fp = |op, input| key("k", op, input).unwrap().fingerprint;
        assert_eq!(fp("createChat", "a"), fp("createChat", "a"));
        assert_ne!(fp("createChat", "a"), fp("createChat", "b"));
        assert_ne!(fp("createChat", "a"), fp("postMessage", "a"));
    }

    #[test]
    fn empty_long_or_nul_keys_are_refused() {
        for bad in ["".to_owned(), "k".repeat(201), "a\0b".to_owned()] {
            let error = key(&bad, "createChat", "a").unwrap_err();
            assert!(format!("{error:?}").contains(FIELD), "{error:?}");
        }
        assert!(key(&"k".repeat(200), "createChat", "a").is_ok());
    }
}
