//! One event of the chat outbox: a committed write to a chat, in `seq` order.

use sea_orm::entity::prelude::*;

use crate::enums::ChatEventKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub workspace_id: Uuid,
    pub chat_id: Uuid,
    pub kind: ChatEventKind,
    pub message_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
