//! One event of the chat outbox: a committed write to a chat, in `(tx,
//! seq)` order (its transaction's id, then its place in the table), with what chat filters read of the chat right after the write
//! and, when it changed an existing chat, right before it (all null on
//! events written before these were kept).

use sea_orm::entity::prelude::*;

use crate::enums::{ActorKind, ChannelType, ChatEventKind, TicketStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The id of the transaction that wrote it (PostgreSQL; 0 on SQLite
    /// and on events written before it was kept).
    pub tx: i64,
    pub workspace_id: Uuid,
    pub chat_id: Uuid,
    pub kind: ChatEventKind,
    pub message_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub channel_id: Option<Uuid>,
    pub channel_type: Option<ChannelType>,
    pub owner_super_identity_id: Option<Uuid>,
    pub owner_is_blocked: Option<bool>,
    pub chat_created_at: Option<DateTimeUtc>,
    pub responder_super_identity_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    pub ticket_status: Option<TicketStatus>,
    pub last_message_at: Option<DateTimeUtc>,
    pub removed: Option<bool>,
    pub prev_responder_super_identity_id: Option<Uuid>,
    pub prev_ticket_id: Option<Uuid>,
    pub prev_ticket_status: Option<TicketStatus>,
    pub prev_last_message_at: Option<DateTimeUtc>,
    pub prev_removed: Option<bool>,
    pub actor_kind: Option<ActorKind>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    /// The W3C `traceparent` of the traced write that recorded it.
    pub trace_parent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
