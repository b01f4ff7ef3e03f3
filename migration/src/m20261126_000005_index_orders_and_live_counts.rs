//! Indexes whose column directions match the queries exactly, and (on
//! PostgreSQL) a partial index for counting live chats.
//!
//! The first indexes ended in `id ASC` while every order breaks ties with
//! `id` in the same direction as the timestamp, so PostgreSQL had to sort
//! within equal timestamps; the last-activity order sorts NULLs last
//! (descending), which an index must spell out on PostgreSQL (SQLite sorts
//! NULLs that way by itself). Counting live chats of a workspace, optionally
//! by channel, is then an index-only scan over a partial index. The builder
//! has neither NULLS ordering nor partial indexes, so those two are SQL.
//!
//! In one transaction on SQLite too: otherwise each statement may run on
//! another pooled connection, whose stale schema still holds the index just
//! dropped, and re-creating it fails with "already exists".

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Chats {
    Table,
    Id,
    WorkspaceId,
    CreatedAt,
    LastMessageAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ChatId,
    CreatedAt,
}

const CREATED: &str = "idx_chats_workspace_created";
const LAST_MESSAGE: &str = "idx_chats_workspace_last_message";
const MESSAGES: &str = "idx_messages_chat_created";
const LIVE: &str = "idx_chats_live_workspace_channel";

fn drop(name: &str, table: impl IntoTableRef) -> IndexDropStatement {
    Index::drop().name(name).table(table).to_owned()
}

/// `(first, time DESC, id <id_order>)` on `table`.
fn by_time<T: IntoIden>(
    name: &str,
    table: T,
    first: T,
    time: T,
    id: T,
    id_order: IndexOrder,
) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(table)
        .col(first)
        .col((time, IndexOrder::Desc))
        .col((id, id_order))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let desc = || IndexOrder::Desc;
        manager.drop_index(drop(CREATED, Chats::Table)).await?;
        manager
            .create_index(by_time(
                CREATED,
                Chats::Table,
                Chats::WorkspaceId,
                Chats::CreatedAt,
                Chats::Id,
                desc(),
            ))
            .await?;
        manager.drop_index(drop(MESSAGES, Messages::Table)).await?;
        manager
            .create_index(by_time(
                MESSAGES,
                Messages::Table,
                Messages::ChatId,
                Messages::CreatedAt,
                Messages::Id,
                desc(),
            ))
            .await?;
        manager.drop_index(drop(LAST_MESSAGE, Chats::Table)).await?;
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE INDEX {LIVE} ON chats (workspace_id, channel_id) WHERE removed_at IS NULL"
        ))
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(&format!(
                "CREATE INDEX {LAST_MESSAGE} ON chats (workspace_id, last_message_at DESC NULLS LAST, id DESC)"
            ))
            .await?;
        } else {
            let index = by_time(
                LAST_MESSAGE,
                Chats::Table,
                Chats::WorkspaceId,
                Chats::LastMessageAt,
                Chats::Id,
                desc(),
            );
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let asc = || IndexOrder::Asc;
        manager.drop_index(drop(LIVE, Chats::Table)).await?;
        for (name, table, first, time, id) in [
            (
                CREATED,
                Chats::Table.into_iden(),
                Chats::WorkspaceId.into_iden(),
                Chats::CreatedAt.into_iden(),
                Chats::Id.into_iden(),
            ),
            (
                LAST_MESSAGE,
                Chats::Table.into_iden(),
                Chats::WorkspaceId.into_iden(),
                Chats::LastMessageAt.into_iden(),
                Chats::Id.into_iden(),
            ),
            (
                MESSAGES,
                Messages::Table.into_iden(),
                Messages::ChatId.into_iden(),
                Messages::CreatedAt.into_iden(),
                Messages::Id.into_iden(),
            ),
        ] {
            manager.drop_index(drop(name, table.clone())).await?;
            manager
                .create_index(by_time(name, table, first, time, id, asc()))
                .await?;
        }
        Ok(())
    }
}
