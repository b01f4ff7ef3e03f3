//! What each API key may do: its scopes, space-separated as OAuth 2.0
//! writes them. Null (every key made before scopes) means every scope, so
//! existing keys keep working as they did.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Scopes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(ApiKeys::Table)
            .add_column(string_len_null(ApiKeys::Scopes, 200))
            .to_owned();
        manager.alter_table(alter).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let alter = Table::alter()
            .table(ApiKeys::Table)
            .drop_column(ApiKeys::Scopes)
            .to_owned();
        manager.alter_table(alter).await
    }
}
