//! Each chat event keeps what chat filters read, as of the event: the
//! chat's state right after its write, and (when the write changed an
//! existing chat) right before it. A subscriber resuming from a cursor is
//! then judged against the chat as it was when the event happened, not as
//! it is when the event is read (a chat removed since would otherwise lose
//! its earlier events to a filter without removed chats), and a filtered
//! subscriber learns when a chat leaves its filter. Events written before
//! this migration have neither (the columns are null).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatEvents {
    Table,
    ChannelId,
    ChannelType,
    OwnerSuperIdentityId,
    OwnerIsBlocked,
    ChatCreatedAt,
    ResponderSuperIdentityId,
    TicketId,
    TicketStatus,
    LastMessageAt,
    Removed,
    PrevResponderSuperIdentityId,
    PrevTicketId,
    PrevTicketStatus,
    PrevLastMessageAt,
    PrevRemoved,
}

/// The columns added, each nullable (earlier events have none).
fn columns() -> Vec<ColumnDef> {
    use ChatEvents as E;
    vec![
        uuid_null(E::ChannelId),
        string_len_null(E::ChannelType, 16),
        uuid_null(E::OwnerSuperIdentityId),
        boolean_null(E::OwnerIsBlocked),
        timestamp_with_time_zone_null(E::ChatCreatedAt),
        uuid_null(E::ResponderSuperIdentityId),
        uuid_null(E::TicketId),
        string_len_null(E::TicketStatus, 16),
        timestamp_with_time_zone_null(E::LastMessageAt),
        boolean_null(E::Removed),
        uuid_null(E::PrevResponderSuperIdentityId),
        uuid_null(E::PrevTicketId),
        string_len_null(E::PrevTicketStatus, 16),
        timestamp_with_time_zone_null(E::PrevLastMessageAt),
        boolean_null(E::PrevRemoved),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too: each statement might otherwise
    /// run on another pooled connection.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    // SQLite adds one column per ALTER TABLE.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in columns() {
            let alter = Table::alter()
                .table(ChatEvents::Table)
                .add_column(&mut column)
                .to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in columns().into_iter().rev() {
            let alter = Table::alter()
                .table(ChatEvents::Table)
                .drop_column(column.get_column_name())
                .to_owned();
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
