//! sea-orm entities of the chat gateway: one module per table, no business rules.
//!
//! Enumerations are stored as constrained strings (see the migrations), so the
//! same schema runs on SQLite and PostgreSQL.

pub mod api_key;
pub mod channel;
pub mod chat;
pub mod chat_bucket_count;
pub mod chat_event;
pub mod enums;
pub mod external_user;
pub mod idempotency_key;
pub mod message;
pub mod responder;
pub mod responder_version;
pub mod super_identity;
pub mod ticket;
pub mod user;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod workspace;
