//! Messages of a chat. Posting one also moves the chat's `last_message_at`,
//! which the last-activity order reads, so the two never disagree.

use chrono::{DateTime, Utc};
use entity::{chat, enums::MessageRole, message};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait, prelude::*,
};
use uuid::Uuid;

use crate::error::AppResult;

/// Appends a message written at `created_at` to chat `chat_id` and moves the
/// chat's last activity forward (never backward) to it.
pub async fn post<C>(
    db: &C,
    chat_id: Uuid,
    role: MessageRole,
    content: &str,
    created_at: DateTime<Utc>,
) -> AppResult<message::Model>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let model = message::ActiveModel {
        id: Set(Uuid::new_v4()),
        chat_id: Set(chat_id),
        role: Set(role),
        content: Set(content.to_owned()),
        created_at: Set(created_at),
    };
    let message = message::Entity::insert(model)
        .exec_with_returning(&txn)
        .await?;
    chat::Entity::update_many()
        .col_expr(chat::Column::LastMessageAt, Expr::value(created_at))
        .filter(chat::Column::Id.eq(chat_id))
        .filter(
            Condition::any()
                .add(chat::Column::LastMessageAt.is_null())
                .add(chat::Column::LastMessageAt.lt(created_at)),
        )
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(message)
}
