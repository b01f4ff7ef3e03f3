//! Live chats per channel, kept exact by every write in its own
//! transaction, so counting a list filtered by channels reads a few rows
//! instead of every matching chat. Filled from the chats already there.

use sea_orm_migration::{prelude::*, schema::*};

use crate::checks::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChatChannelCounts {
    Table,
    WorkspaceId,
    ChannelId,
    LiveChats,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatChannelCounts::Table)
                    .col(uuid(ChatChannelCounts::WorkspaceId))
                    .col(uuid(ChatChannelCounts::ChannelId))
                    .col(big_integer(ChatChannelCounts::LiveChats))
                    .primary_key(
                        Index::create()
                            .col(ChatChannelCounts::WorkspaceId)
                            .col(ChatChannelCounts::ChannelId),
                    )
                    .foreign_key(&mut fk(
                        ChatChannelCounts::Table,
                        ChatChannelCounts::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO chat_channel_counts (workspace_id, channel_id, live_chats) \
                 SELECT workspace_id, channel_id, COUNT(*) FROM chats \
                 WHERE removed_at IS NULL GROUP BY workspace_id, channel_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChatChannelCounts::Table).to_owned())
            .await
    }
}
