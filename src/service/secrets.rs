//! Secrets shared by every gateway process of one database: made once, by
//! whichever process asks first (an insert that loses the race to another
//! process's changes nothing), then read by all.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::error::{AppError, AppResult};

/// The name of the key that seals event cursors.
pub const EVENT_CURSOR_KEY: &str = "event_cursor_key";

/// The 32-byte secret `name`, made from the OS's random source the first
/// time it is asked for.
pub async fn key(db: &impl ConnectionTrait, name: &str) -> AppResult<[u8; 32]> {
    let backend = db.get_database_backend();
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("OS random source failed: {e}")))?;
    let (insert, select) = match backend {
        DbBackend::Postgres => (
            "INSERT INTO server_secrets (name, secret, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
            "SELECT secret FROM server_secrets WHERE name = $1",
        ),
        _ => (
            "INSERT INTO server_secrets (name, secret, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
            "SELECT secret FROM server_secrets WHERE name = ?",
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        insert,
        [name.into(), hex::encode(fresh).into(), super::now().into()],
    ))
    .await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            select,
            [name.into()],
        ))
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("secret {name} was not kept")))?;
    let stored: String = row.try_get("", "secret")?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(stored.trim(), &mut key)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("secret {name} is malformed: {e}")))?;
    Ok(key)
}
