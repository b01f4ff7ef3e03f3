//! Webhooks: a workspace's HTTP endpoints, and the deliveries of its chat
//! events to them (made, claimed and settled here; sent by
//! [`crate::webhooks`]).

pub mod backlog;
pub mod delivery;
pub mod endpoint;
pub mod filter;
pub mod kinds;
pub mod sign;
pub mod target;
