//! The badge counts (`chatCounts`) group live chats by responder and by
//! ticket, and count those without either: with one narrow partial index
//! each, of the workspace and that column, every such count is an
//! index-only scan of two ids per chat instead of a read of each live
//! chat's row. (Channels have theirs since the live counts' migration.)

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE INDEX idx_chats_live_responder ON chats (workspace_id, responder_super_identity_id) \
     WHERE removed_at IS NULL",
    "CREATE INDEX idx_chats_live_ticket ON chats (workspace_id, ticket_id) \
     WHERE removed_at IS NULL",
];

const DOWN: &[&str] = &[
    "DROP INDEX idx_chats_live_ticket",
    "DROP INDEX idx_chats_live_responder",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: each statement might otherwise
    /// run on another pooled connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in UP {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for statement in DOWN {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }
        Ok(())
    }
}
