//! Bulk loads without per-row derivations: a PostgreSQL session that sets
//! `chat_gateway.bulk_load` to `on` inserts chats and messages without
//! the triggers that index their words and count live chats (a trigger
//! call, a tsvector and an index insertion per row, and a counter upsert
//! per statement). It then derives both in bulk, a statement each for a
//! whole workspace, as a restore builds indexes after loading its data:
//! `chat-gateway seed` does, which is what a million chats took most of
//! their time in. Every other session is unaffected: the setting is its
//! own, and unset it reads as NULL.
//!
//! SQLite's triggers cannot read a session setting, and stay as they are.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// True unless this session bulk-loads.
const UNLESS_BULK: &str = "current_setting('chat_gateway.bulk_load', true) IS DISTINCT FROM 'on'";

/// The insert triggers, as they are: name, event, table, the rest.
const TRIGGERS: [(&str, &str, &str, &str); 3] = [
    (
        "chats_search",
        "AFTER INSERT OR UPDATE OF title",
        "chats",
        "FOR EACH ROW",
    ),
    (
        "messages_search",
        "AFTER INSERT OR UPDATE OF content",
        "messages",
        "FOR EACH ROW",
    ),
    (
        "chats_counts_insert",
        "AFTER INSERT",
        "chats",
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    ),
];

/// The trigger functions each calls.
fn function(name: &str) -> &'static str {
    match name {
        "chats_search" => "chat_search_title()",
        "messages_search" => "chat_search_message()",
        _ => "chat_bucket_counts_follow()",
    }
}

async fn recreate(manager: &SchemaManager<'_>, when: Option<&str>) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for (name, event, table, rest) in TRIGGERS {
        let when = when
            .map(|when| format!("WHEN ({when}) "))
            .unwrap_or_default();
        db.execute_unprepared(&format!("DROP TRIGGER {name} ON {table}"))
            .await?;
        db.execute_unprepared(&format!(
            "CREATE TRIGGER {name} {event} ON {table} {rest} {when}EXECUTE FUNCTION {}",
            function(name)
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, Some(UNLESS_BULK)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, None).await
    }
}
