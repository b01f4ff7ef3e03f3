//! Channels chats arrive on, and the tickets a chat may be linked to.

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
enum Channels {
    Table,
    Id,
    WorkspaceId,
    Name,
    Type,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
    WorkspaceId,
    Status,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .col(pk_uuid(Channels::Id))
                    .col(uuid(Channels::WorkspaceId))
                    .col(string_len(Channels::Name, 200))
                    .col(string_len(Channels::Type, 16))
                    .check(one_of(
                        "channels_type_check",
                        Channels::Type,
                        &["widget", "waha", "whatsapp", "instagram", "api"],
                    ))
                    .foreign_key(&mut fk(
                        Channels::Table,
                        Channels::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tickets::Table)
                    .col(pk_uuid(Tickets::Id))
                    .col(uuid(Tickets::WorkspaceId))
                    .col(string_len(Tickets::Status, 16))
                    .check(one_of(
                        "tickets_status_check",
                        Tickets::Status,
                        &["open", "pending", "resolved", "closed"],
                    ))
                    .foreign_key(&mut fk(
                        Tickets::Table,
                        Tickets::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for index in [
            Index::create()
                .name("idx_channels_workspace")
                .table(Channels::Table)
                .col(Channels::WorkspaceId)
                .to_owned(),
            Index::create()
                .name("idx_tickets_workspace")
                .table(Tickets::Table)
                .col(Tickets::WorkspaceId)
                .to_owned(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Tickets::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Channels::Table).to_owned())
            .await
    }
}
