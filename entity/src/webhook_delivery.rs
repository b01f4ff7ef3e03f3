//! One chat event to send to one webhook endpoint: its body, fixed when it
//! was made, and its attempts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Its endpoint's deliveries in the order of their events.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The `webhook-id` it is sent with, the same on every attempt.
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub workspace_id: Uuid,
    pub chat_id: Uuid,
    /// The event's position in the outbox.
    pub event_tx: i64,
    pub event_seq: i64,
    /// What the endpoint receives it as: the event's kind, or
    /// `left_filter` (the body's `type` without its `chat.`).
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// A JSON list of its attempts.
    pub attempts: String,
    /// When it is next tried; `None` once it is no longer pending.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// Until when a process that claimed it is sending it.
    pub claimed_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
