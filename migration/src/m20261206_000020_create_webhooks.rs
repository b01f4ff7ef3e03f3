//! Webhooks: endpoints a workspace registers, and the deliveries of chat
//! events to them.
//!
//! An endpoint keeps its own position in the event outbox (`cursor_tx`,
//! `cursor_seq`): whichever process holds its row lock turns the events
//! after it into deliveries and moves it, in one transaction. A delivery
//! is one event for one endpoint, with its type and body fixed when it was
//! made (so a retry sends the same bytes under the same `webhook-id`); `seq`
//! orders an endpoint's deliveries as their events were ordered, which is
//! what holds a chat's later deliveries behind a failing one. Its attempts
//! are a JSON list: a handful per delivery, always read with it.

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
enum WebhookEndpoints {
    Table,
    Id,
    WorkspaceId,
    Url,
    Description,
    EventKinds,
    Filter,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretUntil,
    CursorTx,
    CursorSeq,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Seq,
    Id,
    EndpointId,
    WorkspaceId,
    ChatId,
    EventTx,
    EventSeq,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookEndpoints::Table)
                    .col(uuid(WebhookEndpoints::Id).primary_key())
                    .col(uuid(WebhookEndpoints::WorkspaceId))
                    .col(string_len(WebhookEndpoints::Url, 2048))
                    .col(string_len_null(WebhookEndpoints::Description, 500))
                    .col(string_len(WebhookEndpoints::EventKinds, 200))
                    .col(text_null(WebhookEndpoints::Filter))
                    .col(boolean(WebhookEndpoints::Enabled))
                    .col(string_len_null(WebhookEndpoints::DisabledReason, 500))
                    .col(string_len(WebhookEndpoints::Secret, 64))
                    .col(string_len_null(WebhookEndpoints::PreviousSecret, 64))
                    .col(timestamp_with_time_zone_null(
                        WebhookEndpoints::PreviousSecretUntil,
                    ))
                    .col(big_integer(WebhookEndpoints::CursorTx))
                    .col(big_integer(WebhookEndpoints::CursorSeq))
                    .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                    .foreign_key(&mut fk(
                        WebhookEndpoints::Table,
                        WebhookEndpoints::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_endpoints_workspace")
                    .table(WebhookEndpoints::Table)
                    .col(WebhookEndpoints::WorkspaceId)
                    .col(WebhookEndpoints::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(big_pk_auto(WebhookDeliveries::Seq))
                    .col(uuid_uniq(WebhookDeliveries::Id))
                    .col(uuid(WebhookDeliveries::EndpointId))
                    .col(uuid(WebhookDeliveries::WorkspaceId))
                    .col(uuid(WebhookDeliveries::ChatId))
                    .col(big_integer(WebhookDeliveries::EventTx))
                    .col(big_integer(WebhookDeliveries::EventSeq))
                    .col(string_len(WebhookDeliveries::EventType, 32))
                    .col(text(WebhookDeliveries::Payload))
                    .col(string_len(WebhookDeliveries::Status, 16))
                    .col(text(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::NextAttemptAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::ClaimedUntil,
                    ))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        WebhookDeliveries::DeliveredAt,
                    ))
                    .check(one_of(
                        "webhook_deliveries_status_check",
                        WebhookDeliveries::Status,
                        &["pending", "delivered", "failed"],
                    ))
                    .foreign_key(&mut fk(
                        WebhookDeliveries::Table,
                        WebhookDeliveries::EndpointId,
                        WebhookEndpoints::Table,
                        WebhookEndpoints::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        // Pending deliveries only (settled ones pile up until pruned): an
        // endpoint's in order, and what waits behind an earlier one of its
        // chat. Partial indexes are written the same on both backends.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_webhook_deliveries_pending ON webhook_deliveries \
             (endpoint_id, seq) WHERE status = 'pending'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_webhook_deliveries_pending_chat ON webhook_deliveries \
             (endpoint_id, chat_id, seq) WHERE status = 'pending'",
        )
        .await?;
        // An endpoint's deliveries, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_endpoint")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::EndpointId)
                    .col(WebhookDeliveries::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned())
            .await
    }
}
