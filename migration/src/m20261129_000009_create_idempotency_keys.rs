//! Idempotency keys of `createChat` and `postMessage`: one row per key a
//! workspace used, with a fingerprint of the input and what it created.
//! Kept 24 hours, then pruned by age.

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
enum IdempotencyKeys {
    Table,
    WorkspaceId,
    Key,
    Fingerprint,
    ResultId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::WorkspaceId))
                    .col(string_len(IdempotencyKeys::Key, 200))
                    .col(string_len(IdempotencyKeys::Fingerprint, 64))
                    .col(uuid(IdempotencyKeys::ResultId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::WorkspaceId)
                            .col(IdempotencyKeys::Key),
                    )
                    .foreign_key(&mut fk(
                        IdempotencyKeys::Table,
                        IdempotencyKeys::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // Pruning by age.
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_keys_created")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
