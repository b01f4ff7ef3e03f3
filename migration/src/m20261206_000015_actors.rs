//! Who made each change: every chat event records its write's actor, and
//! every message its author (an API key, by id and name, or a token's
//! subject and name). Null on what was written before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatEvents {
    Table,
    ActorKind,
    ActorId,
    ActorName,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    AuthorKind,
    AuthorId,
    AuthorName,
}

/// Each table with its three columns: kind, id, name.
fn columns() -> Vec<(DynIden, [ColumnDef; 3])> {
    vec![
        (
            ChatEvents::Table.into_iden(),
            [
                string_len_null(ChatEvents::ActorKind, 16),
                string_len_null(ChatEvents::ActorId, 255),
                string_len_null(ChatEvents::ActorName, 255),
            ],
        ),
        (
            Messages::Table.into_iden(),
            [
                string_len_null(Messages::AuthorKind, 16),
                string_len_null(Messages::AuthorId, 255),
                string_len_null(Messages::AuthorName, 255),
            ],
        ),
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
        for (table, columns) in columns() {
            for mut column in columns {
                let alter = Table::alter()
                    .table(table.clone())
                    .add_column(&mut column)
                    .to_owned();
                manager.alter_table(alter).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in columns() {
            for column in columns {
                let alter = Table::alter()
                    .table(table.clone())
                    .drop_column(Alias::new(column.get_column_name()))
                    .to_owned();
                manager.alter_table(alter).await?;
            }
        }
        Ok(())
    }
}
