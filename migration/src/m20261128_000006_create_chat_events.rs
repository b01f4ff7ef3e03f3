//! The transactional outbox of chat events: every chat write inserts its
//! events here in its own transaction, so an event exists if and only if
//! its write committed. `seq` orders them; writers take one advisory lock
//! just before inserting (see the gateway's `service::events`), so on
//! PostgreSQL `seq` order is commit order too. Pruned after the retention.

use sea_orm_migration::{prelude::*, schema::*};

use crate::checks::{fk, one_of};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChatEvents {
    Table,
    Seq,
    WorkspaceId,
    ChatId,
    Kind,
    MessageId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatEvents::Table)
                    .col(big_pk_auto(ChatEvents::Seq))
                    .col(uuid(ChatEvents::WorkspaceId))
                    .col(uuid(ChatEvents::ChatId))
                    .col(string_len(ChatEvents::Kind, 16))
                    .col(uuid_null(ChatEvents::MessageId))
                    .col(timestamp_with_time_zone(ChatEvents::CreatedAt))
                    .check(one_of(
                        "chat_events_kind_check",
                        ChatEvents::Kind,
                        &["created", "updated", "removed", "message_posted"],
                    ))
                    .foreign_key(&mut fk(
                        ChatEvents::Table,
                        ChatEvents::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for index in [
            // A subscriber resuming from a cursor reads its workspace's events.
            Index::create()
                .name("idx_chat_events_workspace_seq")
                .table(ChatEvents::Table)
                .col(ChatEvents::WorkspaceId)
                .col(ChatEvents::Seq)
                .to_owned(),
            // Pruning by age.
            Index::create()
                .name("idx_chat_events_created")
                .table(ChatEvents::Table)
                .col(ChatEvents::CreatedAt)
                .to_owned(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChatEvents::Table).to_owned())
            .await
    }
}
