//! One message of a chat.

use sea_orm::entity::prelude::*;

use crate::enums::{ActorKind, MessageRole};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub chat_id: Uuid,
    pub role: MessageRole,
    pub content: String,
    pub created_at: DateTimeUtc,
    /// Who posted it; `None` for messages written before authors were kept.
    pub author_kind: Option<ActorKind>,
    pub author_id: Option<String>,
    pub author_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
