//! Portable schema migrations: every migration runs unchanged on SQLite and
//! PostgreSQL. One change per file, each with `down()`; an applied migration is
//! never edited. No seed data lives here (see `chat-gateway seed`/the demo).

pub use sea_orm_migration::prelude::*;

mod checks;

/// The counter shard of the chat aliased `c` (PostgreSQL): the low four
/// bits of its id's last byte. The counter triggers use it, and so must
/// whatever counts chats in bulk (the seed), or a chat would count in two
/// shards.
pub const CHAT_SHARD: &str = "(get_byte(uuid_send(c.id), 15) & 15)::smallint";
mod m20261125_000001_create_workspaces_and_api_keys;
mod m20261125_000002_create_identities;
mod m20261125_000003_create_channels_and_tickets;
mod m20261125_000004_create_chats_and_messages;
mod m20261126_000005_index_orders_and_live_counts;
mod m20261128_000006_create_chat_events;
mod m20261128_000007_create_chat_channel_counts;
mod m20261129_000008_search_chats;
mod m20261129_000009_create_idempotency_keys;
mod m20261129_000010_index_live_chats_by_responder_and_ticket;
mod m20261129_000011_create_chat_bucket_counts;
mod m20261206_000012_chat_event_facts;
mod m20261206_000013_create_server_secrets;
mod m20261206_000014_api_key_scopes;
mod m20261206_000015_actors;
mod m20261206_000016_event_positions;
mod m20261206_000017_shard_chat_bucket_counts;
mod m20261206_000018_bulk_load;
mod m20261206_000019_event_trace_parent;
mod m20261206_000020_create_webhooks;

/// The gateway's migrator, run at start-up and by `chat-gateway migrate`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_create_workspaces_and_api_keys::Migration),
            Box::new(m20261125_000002_create_identities::Migration),
            Box::new(m20261125_000003_create_channels_and_tickets::Migration),
            Box::new(m20261125_000004_create_chats_and_messages::Migration),
            Box::new(m20261126_000005_index_orders_and_live_counts::Migration),
            Box::new(m20261128_000006_create_chat_events::Migration),
            Box::new(m20261128_000007_create_chat_channel_counts::Migration),
            Box::new(m20261129_000008_search_chats::Migration),
            Box::new(m20261129_000009_create_idempotency_keys::Migration),
            Box::new(m20261129_000010_index_live_chats_by_responder_and_ticket::Migration),
            Box::new(m20261129_000011_create_chat_bucket_counts::Migration),
            Box::new(m20261206_000012_chat_event_facts::Migration),
            Box::new(m20261206_000013_create_server_secrets::Migration),
            Box::new(m20261206_000014_api_key_scopes::Migration),
            Box::new(m20261206_000015_actors::Migration),
            Box::new(m20261206_000016_event_positions::Migration),
            Box::new(m20261206_000017_shard_chat_bucket_counts::Migration),
            Box::new(m20261206_000018_bulk_load::Migration),
            Box::new(m20261206_000019_event_trace_parent::Migration),
            Box::new(m20261206_000020_create_webhooks::Migration),
        ]
    }
}
