//! How many live (not removed) chats of a workspace fall in one bucket: a
//! channel, a responder (the nil UUID for none) and the status of the
//! linked ticket (empty for none), in shards summed on read. Kept by
//! triggers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "chat_bucket_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub workspace_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub channel_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub responder_super_identity_id: Uuid,
    /// The linked ticket's status; empty for none.
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_status: String,
    /// Which of the bucket's rows (PostgreSQL: 0 to 15, from the chat's
    /// id, so writers of one bucket lock different rows; SQLite: 0).
    #[sea_orm(primary_key, auto_increment = false)]
    pub shard: i16,
    pub live_chats: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
