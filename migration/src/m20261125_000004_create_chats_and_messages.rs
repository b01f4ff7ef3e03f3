//! Chats and their messages, with the indexes the list and loader queries use.

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
}

#[derive(DeriveIden)]
enum SuperIdentities {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ResponderVersions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tickets {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Chats {
    Table,
    Id,
    WorkspaceId,
    ChannelId,
    OwnerSuperIdentityId,
    ResponderSuperIdentityId,
    ResponderVersionId,
    TicketId,
    Title,
    CreatedAt,
    UpdatedAt,
    RemovedAt,
    LastMessageAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ChatId,
    Role,
    Content,
    CreatedAt,
}

/// An optional reference: deleting the target unlinks the chat instead of
/// deleting it.
fn optional_fk<C: IntoIden, T: IntoTableRef, I: IntoIden>(
    col: C,
    to_table: T,
    to_id: I,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(Chats::Table, col)
        .to(to_table, to_id)
        .on_delete(ForeignKeyAction::SetNull)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Chats::Table)
                    .col(pk_uuid(Chats::Id))
                    .col(uuid(Chats::WorkspaceId))
                    .col(uuid(Chats::ChannelId))
                    .col(uuid(Chats::OwnerSuperIdentityId))
                    .col(uuid_null(Chats::ResponderSuperIdentityId))
                    .col(uuid_null(Chats::ResponderVersionId))
                    .col(uuid_null(Chats::TicketId))
                    .col(string_len_null(Chats::Title, 500))
                    .col(timestamp_with_time_zone(Chats::CreatedAt))
                    .col(timestamp_with_time_zone(Chats::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Chats::RemovedAt))
                    .col(timestamp_with_time_zone_null(Chats::LastMessageAt))
                    .foreign_key(&mut fk(
                        Chats::Table,
                        Chats::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .foreign_key(&mut fk(
                        Chats::Table,
                        Chats::ChannelId,
                        Channels::Table,
                        Channels::Id,
                    ))
                    .foreign_key(&mut fk(
                        Chats::Table,
                        Chats::OwnerSuperIdentityId,
                        SuperIdentities::Table,
                        SuperIdentities::Id,
                    ))
                    .foreign_key(&mut optional_fk(
                        Chats::ResponderSuperIdentityId,
                        SuperIdentities::Table,
                        SuperIdentities::Id,
                    ))
                    .foreign_key(&mut optional_fk(
                        Chats::ResponderVersionId,
                        ResponderVersions::Table,
                        ResponderVersions::Id,
                    ))
                    .foreign_key(&mut optional_fk(
                        Chats::TicketId,
                        Tickets::Table,
                        Tickets::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::ChatId))
                    .col(string_len(Messages::Role, 16))
                    .col(text(Messages::Content))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .check(one_of(
                        "messages_role_check",
                        Messages::Role,
                        &["user", "assistant", "operator", "system"],
                    ))
                    .foreign_key(&mut fk(
                        Messages::Table,
                        Messages::ChatId,
                        Chats::Table,
                        Chats::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for index in [
            // The default list order: newest first, id breaks ties.
            Index::create()
                .name("idx_chats_workspace_created")
                .table(Chats::Table)
                .col(Chats::WorkspaceId)
                .col((Chats::CreatedAt, IndexOrder::Desc))
                .col(Chats::Id)
                .to_owned(),
            // Ordering by last activity (inboxes).
            Index::create()
                .name("idx_chats_workspace_last_message")
                .table(Chats::Table)
                .col(Chats::WorkspaceId)
                .col((Chats::LastMessageAt, IndexOrder::Desc))
                .col(Chats::Id)
                .to_owned(),
            Index::create()
                .name("idx_chats_channel")
                .table(Chats::Table)
                .col(Chats::ChannelId)
                .to_owned(),
            Index::create()
                .name("idx_chats_owner")
                .table(Chats::Table)
                .col(Chats::OwnerSuperIdentityId)
                .to_owned(),
            Index::create()
                .name("idx_chats_responder")
                .table(Chats::Table)
                .col(Chats::ResponderSuperIdentityId)
                .to_owned(),
            Index::create()
                .name("idx_chats_ticket")
                .table(Chats::Table)
                .col(Chats::TicketId)
                .to_owned(),
            // Latest and previous message per chat.
            Index::create()
                .name("idx_messages_chat_created")
                .table(Messages::Table)
                .col(Messages::ChatId)
                .col((Messages::CreatedAt, IndexOrder::Desc))
                .col(Messages::Id)
                .to_owned(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Chats::Table).to_owned())
            .await
    }
}
