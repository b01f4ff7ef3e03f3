//! GraphQL object, input and enum types: one file per type, each a thin
//! wrapper over an entity or a service value.

pub mod actor;
pub mod channel;
pub mod chat;
pub mod chat_event;
pub mod connection;
pub mod counts;
pub mod enums;
pub mod inputs;
pub mod message;
pub mod owner;
pub mod pagination;
pub mod responder;
pub mod ticket;
pub mod webhook;
