//! Events ordered without a lock: each carries the id of the transaction
//! that wrote it (`tx`, PostgreSQL's `pg_current_xact_id()`; 0 on SQLite,
//! whose single writer commits in `seq` order, and on every event written
//! before), and readers go by `(tx, seq)`, only past transactions that
//! every snapshot now sees as finished. Events from before keep their
//! order: they are all `tx = 0`, ahead of every new one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatEvents {
    Table,
    Tx,
    Seq,
    WorkspaceId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(ChatEvents::Table)
            .add_column(big_integer(ChatEvents::Tx).default(0))
            .to_owned();
        manager.alter_table(alter).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_chat_events_workspace_seq")
                    .table(ChatEvents::Table)
                    .to_owned(),
            )
            .await?;
        for index in [
            // The process's reader reads every workspace's events in order.
            Index::create()
                .name("idx_chat_events_position")
                .table(ChatEvents::Table)
                .col(ChatEvents::Tx)
                .col(ChatEvents::Seq)
                .to_owned(),
            // A subscriber resuming from a cursor reads its workspace's.
            Index::create()
                .name("idx_chat_events_workspace_position")
                .table(ChatEvents::Table)
                .col(ChatEvents::WorkspaceId)
                .col(ChatEvents::Tx)
                .col(ChatEvents::Seq)
                .to_owned(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "idx_chat_events_position",
            "idx_chat_events_workspace_position",
        ] {
            let drop = Index::drop().name(name).table(ChatEvents::Table).to_owned();
            manager.drop_index(drop).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_events_workspace_seq")
                    .table(ChatEvents::Table)
                    .col(ChatEvents::WorkspaceId)
                    .col(ChatEvents::Seq)
                    .to_owned(),
            )
            .await?;
        let alter = Table::alter()
            .table(ChatEvents::Table)
            .drop_column(ChatEvents::Tx)
            .to_owned();
        manager.alter_table(alter).await
    }
}
