//! Owners and responders: super identities and the users, external users,
//! responders (agents and squads) and responder versions behind them.

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
enum SuperIdentities {
    Table,
    Id,
    WorkspaceId,
    Kind,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    SuperIdentityId,
    Email,
    Name,
    Picture,
}

#[derive(DeriveIden)]
enum ExternalUsers {
    Table,
    Id,
    WorkspaceId,
    SuperIdentityId,
    ExternalId,
    Name,
    IsBlocked,
}

#[derive(DeriveIden)]
enum Responders {
    Table,
    Id,
    WorkspaceId,
    SuperIdentityId,
    Kind,
    Name,
    Picture,
}

#[derive(DeriveIden)]
enum ResponderVersions {
    Table,
    Id,
    ResponderId,
    VersionNumber,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SuperIdentities::Table)
                    .col(pk_uuid(SuperIdentities::Id))
                    .col(uuid(SuperIdentities::WorkspaceId))
                    .col(string_len(SuperIdentities::Kind, 16))
                    .check(one_of(
                        "super_identities_kind_check",
                        SuperIdentities::Kind,
                        &["user", "external_user", "agent", "squad"],
                    ))
                    .foreign_key(&mut fk(
                        SuperIdentities::Table,
                        SuperIdentities::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(uuid_uniq(Users::SuperIdentityId))
                    .col(string_len(Users::Email, 320))
                    .col(string_len(Users::Name, 200))
                    .col(string_len_null(Users::Picture, 2048))
                    .foreign_key(&mut fk(
                        Users::Table,
                        Users::SuperIdentityId,
                        SuperIdentities::Table,
                        SuperIdentities::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExternalUsers::Table)
                    .col(pk_uuid(ExternalUsers::Id))
                    .col(uuid(ExternalUsers::WorkspaceId))
                    .col(uuid_uniq(ExternalUsers::SuperIdentityId))
                    .col(string_len(ExternalUsers::ExternalId, 200))
                    .col(string_len(ExternalUsers::Name, 200))
                    .col(boolean(ExternalUsers::IsBlocked).default(false))
                    .foreign_key(&mut fk(
                        ExternalUsers::Table,
                        ExternalUsers::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .foreign_key(&mut fk(
                        ExternalUsers::Table,
                        ExternalUsers::SuperIdentityId,
                        SuperIdentities::Table,
                        SuperIdentities::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Responders::Table)
                    .col(pk_uuid(Responders::Id))
                    .col(uuid(Responders::WorkspaceId))
                    .col(uuid_uniq(Responders::SuperIdentityId))
                    .col(string_len(Responders::Kind, 16))
                    .col(string_len(Responders::Name, 200))
                    .col(string_len_null(Responders::Picture, 2048))
                    .check(one_of(
                        "responders_kind_check",
                        Responders::Kind,
                        &["agent", "squad"],
                    ))
                    .foreign_key(&mut fk(
                        Responders::Table,
                        Responders::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .foreign_key(&mut fk(
                        Responders::Table,
                        Responders::SuperIdentityId,
                        SuperIdentities::Table,
                        SuperIdentities::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ResponderVersions::Table)
                    .col(pk_uuid(ResponderVersions::Id))
                    .col(uuid(ResponderVersions::ResponderId))
                    .col(integer(ResponderVersions::VersionNumber))
                    .foreign_key(&mut fk(
                        ResponderVersions::Table,
                        ResponderVersions::ResponderId,
                        Responders::Table,
                        Responders::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        for index in [
            Index::create()
                .name("idx_super_identities_workspace")
                .table(SuperIdentities::Table)
                .col(SuperIdentities::WorkspaceId)
                .to_owned(),
            Index::create()
                .name("idx_external_users_workspace_external_id")
                .table(ExternalUsers::Table)
                .col(ExternalUsers::WorkspaceId)
                .col(ExternalUsers::ExternalId)
                .to_owned(),
            Index::create()
                .name("idx_responders_workspace")
                .table(Responders::Table)
                .col(Responders::WorkspaceId)
                .to_owned(),
            // Pinning "the latest version" reads the highest number per responder.
            Index::create()
                .name("idx_responder_versions_responder_number")
                .table(ResponderVersions::Table)
                .col(ResponderVersions::ResponderId)
                .col(ResponderVersions::VersionNumber)
                .unique()
                .to_owned(),
        ] {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ResponderVersions::Table.into_iden(),
            Responders::Table.into_iden(),
            ExternalUsers::Table.into_iden(),
            Users::Table.into_iden(),
            SuperIdentities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
