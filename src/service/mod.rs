//! Business operations over the database, one module per aggregate. Plain
//! async functions over `&impl ConnectionTrait` (so they run the same inside a
//! transaction), returning [`AppError`](crate::error::AppError); nothing here
//! knows about GraphQL or HTTP.

pub mod actor;
pub mod api_key;
pub mod browse;
pub mod bulk;
pub mod chat;
pub mod columns;
pub mod directory;
pub mod events;
pub mod idempotency;
pub mod keyset;
pub mod lookup;
pub mod message;
pub mod search;
pub mod secrets;
pub mod webhook;
pub mod workspace;
pub mod write;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

/// The current time at the precision both databases store (microseconds), so
/// a value written and read back compares equal.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at once (`BEGIN IMMEDIATE`): a deferred transaction that reads first
/// and writes later fails with SQLITE_BUSY, without waiting, when another
/// writer committed in between. Elsewhere it is a plain `BEGIN`.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Sends `payload` on the PostgreSQL channel `channel` (delivered to every
/// listening process when the surrounding transaction commits, or at once
/// outside one). Elsewhere nothing listens, and nothing is sent.
pub async fn notify(db: &impl ConnectionTrait, channel: &str, payload: &str) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}
