//! Business operations over the database, one module per aggregate. Plain
//! async functions over `&impl ConnectionTrait` (so they run the same inside a
//! transaction), returning [`AppError`](crate::error::AppError); nothing here
//! knows about GraphQL or HTTP.

pub mod api_key;
pub mod chat;
pub mod chat_filter;
pub mod chat_row;
pub mod directory;
pub mod keyset;
pub mod lookup;
pub mod message;
pub mod workspace;

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision both databases store (microseconds), so
/// a value written and read back compares equal.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
