//! Each chat event keeps the W3C `traceparent` of the write that recorded
//! it, when that write was traced: the span that delivers the event to
//! subscribers links to the writing request's trace, whichever replica
//! reads it. Null when traces are off.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatEvents {
    Table,
    TraceParent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // "00-" + 32 + "-" + 16 + "-" + 2 characters.
        let alter = Table::alter()
            .table(ChatEvents::Table)
            .add_column(string_len_null(ChatEvents::TraceParent, 55))
            .to_owned();
        manager.alter_table(alter).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(ChatEvents::Table)
            .drop_column(ChatEvents::TraceParent)
            .to_owned();
        manager.alter_table(alter).await
    }
}
