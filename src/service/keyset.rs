//! Keyset (cursor) pagination over chats: a position in an order is the
//! sort key and the id of a chat, and a page is "the next N after" (or "the
//! previous N before") a position, so page 10,000 costs what page 1 costs.
//!
//! NULL keys (chats without messages, in the last-activity order) sort as
//! the smallest value: last when descending, first when ascending, as the
//! list orders have them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use entity::chat;
use sea_orm::{Condition, prelude::*};
use uuid::Uuid;

use super::chat_filter::{ChatOrder, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::{AppError, AppResult};

/// Where a chat stands in an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The sort key (None: a chat without messages, in last-activity order).
    pub key: Option<DateTime<Utc>>,
    /// The tie-breaker.
    pub id: Uuid,
}

impl Position {
    /// `chat`'s position in `order`.
    pub fn of(chat: &chat::Model, order: ChatOrder) -> Self {
        let key = match order.key_column() {
            chat::Column::LastMessageAt => chat.last_message_at,
            _ => Some(chat.created_at),
        };
        Self { key, id: chat.id }
    }

    /// An opaque cursor for this position in `order`.
    pub fn encode(&self, order: ChatOrder) -> String {
        let key = self.key.map(|k| k.to_rfc3339()).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(format!("v1|{}|{key}|{}", order_tag(order), self.id))
    }

    /// The position a cursor names. BAD_USER_INPUT on `field` when it is not
    /// one of ours or was made for another order.
    pub fn decode(cursor: &str, order: ChatOrder, field: &'static str) -> AppResult<Self> {
        let invalid = || {
            AppError::invalid(
                field,
                "is not a cursor of this list; use a cursor this list returned",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split('|');
        let (Some("v1"), Some(tag), Some(key), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        if tag != order_tag(order) {
            return Err(AppError::invalid(
                field,
                "was made for another orderBy; start again without it",
            ));
        }
        let key = match key {
            "" => None,
            key => Some(
                DateTime::parse_from_rfc3339(key)
                    .map_err(|_| invalid())?
                    .with_timezone(&Utc),
            ),
        };
        let id = id.parse().map_err(|_| invalid())?;
        Ok(Self { key, id })
    }
}

/// A validated cursor page request: `first` after a cursor, or `last`
/// before one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeysetRequest {
    /// Read from this position on (exclusive), or from the start of the list.
    pub from: Option<Position>,
    /// How many chats.
    pub size: u64,
    /// Whether the page is read backwards (`last`/`before`).
    pub backward: bool,
}

impl KeysetRequest {
    /// Checks the Relay arguments: `first` (with `after`) or `last` (with
    /// `before`), each 1 to [`MAX_PAGE_SIZE`]; `first: 10` when neither.
    pub fn new(
        order: ChatOrder,
        first: Option<i64>,
        after: Option<&str>,
        last: Option<i64>,
        before: Option<&str>,
    ) -> AppResult<Self> {
        let size = |field: &'static str, n: i64| {
            u64::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    AppError::invalid(
                        field,
                        format!("must be between 1 and {MAX_PAGE_SIZE}, got {n}"),
                    )
                })
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(AppError::invalid(
                "last",
                "cannot be combined with first; page one way at a time",
            )),
            (_, Some(n)) => {
                if after.is_some() {
                    return Err(AppError::invalid(
                        "after",
                        "goes with first; use before with last",
                    ));
                }
                let from = before
                    .map(|c| Position::decode(c, order, "before"))
                    .transpose()?;
                Ok(Self {
                    from,
                    size: size("last", n)?,
                    backward: true,
                })
            }
            (first, None) => {
                if before.is_some() {
                    return Err(AppError::invalid(
                        "before",
                        "goes with last; use after with first",
                    ));
                }
                let from = after
                    .map(|c| Position::decode(c, order, "after"))
                    .transpose()?;
                Ok(Self {
                    from,
                    size: size("first", first.unwrap_or(DEFAULT_PAGE_SIZE as i64))?,
                    backward: false,
                })
            }
        }
    }
}

fn order_tag(order: ChatOrder) -> &'static str {
    match order {
        ChatOrder::CreatedAtDesc => "cd",
        ChatOrder::CreatedAtAsc => "ca",
        ChatOrder::LastActivityDesc => "ld",
        ChatOrder::LastActivityAsc => "la",
    }
}

/// Chats that come after `position` in `order`.
pub fn after(order: ChatOrder, position: Position) -> Condition {
    if order.is_descending() {
        below(order.key_column(), position)
    } else {
        above(order.key_column(), position)
    }
}

/// Chats whose (key, id) is below `position`, NULL keys lowest.
fn below(key: chat::Column, p: Position) -> Condition {
    let id = chat::Column::Id;
    match p.key {
        None => Condition::all().add(key.is_null()).add(id.lt(p.id)),
        Some(at) => Condition::any()
            .add(key.is_null())
            .add(key.lt(at))
            .add(Condition::all().add(key.eq(at)).add(id.lt(p.id))),
    }
}

/// Chats whose (key, id) is above `position`, NULL keys lowest.
fn above(key: chat::Column, p: Position) -> Condition {
    let id = chat::Column::Id;
    match p.key {
        None => Condition::any()
            .add(key.is_not_null())
            .add(Condition::all().add(key.is_null()).add(id.gt(p.id))),
        Some(at) => Condition::any()
            .add(key.gt(at))
            .add(Condition::all().add(key.eq(at)).add(id.gt(p.id))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_order() {
        let position = Position {
            key: Some(Utc::now()),
            id: Uuid::new_v4(),
        };
        let cursor = position.encode(ChatOrder::CreatedAtDesc);
        let decoded = Position::decode(&cursor, ChatOrder::CreatedAtDesc, "after").unwrap();
        assert_eq!(decoded.id, position.id);
        assert_eq!(
            decoded.key.unwrap().timestamp_micros(),
            position.key.unwrap().timestamp_micros()
        );
        assert!(Position::decode(&cursor, ChatOrder::CreatedAtAsc, "after").is_err());
        assert!(Position::decode("not-a-cursor", ChatOrder::CreatedAtDesc, "after").is_err());
        let empty = Position {
            key: None,
            id: Uuid::nil(),
        };
        let cursor = empty.encode(ChatOrder::LastActivityAsc);
        assert_eq!(
            Position::decode(&cursor, ChatOrder::LastActivityAsc, "before").unwrap(),
            empty
        );
    }
}
