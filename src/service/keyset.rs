//! Keyset (cursor) pagination over any table ordered by a timestamp and
//! an id: a position is the sort key and the id of a row, and a page is
//! "the next N after" (or "the previous N before") a position, so page
//! 10,000 costs what page 1 costs. Chats and messages both page this way.
//!
//! NULL keys (chats without messages, in the last-activity order) sort as
//! the smallest value: last when descending, first when ascending, as the
//! list orders have them.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use super::chat::filter::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::{AppError, AppResult};

/// Where a row stands in an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// The sort key (None: a chat without messages, in last-activity order).
    pub key: Option<DateTime<Utc>>,
    /// The tie-breaker.
    pub id: Uuid,
}

/// A validated cursor page request: `first` after a position, or `last`
/// before one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeysetRequest {
    /// Read from this position on (exclusive), or from the start of the list.
    pub from: Option<Position>,
    /// How many rows.
    pub size: u64,
    /// Whether the page is read backwards (`last`/`before`).
    pub backward: bool,
}

impl KeysetRequest {
    /// Checks the Relay arguments: `first` (with `after`) or `last` (with
    /// `before`), each 1 to [`MAX_PAGE_SIZE`]; `first: 10` when neither.
    pub fn new(
        first: Option<i64>,
        after: Option<Position>,
        last: Option<i64>,
        before: Option<Position>,
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
                Ok(Self {
                    from: before,
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
                Ok(Self {
                    from: after,
                    size: size("first", first.unwrap_or(DEFAULT_PAGE_SIZE as i64))?,
                    backward: false,
                })
            }
        }
    }
}

/// How a table is ordered for keyset paging: by `key`, then `id`, both in
/// the same direction.
#[derive(Debug, Clone, Copy)]
pub struct KeyOrder<C> {
    /// The timestamp column.
    pub key: C,
    /// The id column, the tie-breaker.
    pub id: C,
    /// Largest first.
    pub descending: bool,
    /// Whether `key` may be NULL (NULL sorts lowest); a NOT NULL key gets
    /// simpler conditions the planner matches to an index.
    pub nullable: bool,
}

impl<C: ColumnTrait> KeyOrder<C> {
    /// Rows that come after `position` in this order.
    pub fn after(&self, position: Position) -> Condition {
        if self.descending {
            self.below(position)
        } else {
            self.above(position)
        }
    }

    /// Rows whose (key, id) is below `p`, NULL keys lowest.
    fn below(&self, p: Position) -> Condition {
        let (key, id) = (self.key, self.id);
        match p.key {
            None => Condition::all().add(key.is_null()).add(id.lt(p.id)),
            Some(at) => {
                let mut lower = Condition::any();
                if self.nullable {
                    lower = lower.add(key.is_null());
                }
                lower
                    .add(key.lt(at))
                    .add(Condition::all().add(key.eq(at)).add(id.lt(p.id)))
            }
        }
    }

    /// Rows whose (key, id) is above `p`, NULL keys lowest.
    fn above(&self, p: Position) -> Condition {
        above(self.key, self.id, p)
    }
}

/// Rows whose (key, id) is above `p`, NULL keys lowest.
fn above<C: ColumnTrait>(key: C, id: C, p: Position) -> Condition {
    match p.key {
        None => Condition::any()
            .add(key.is_not_null())
            .add(Condition::all().add(key.is_null()).add(id.gt(p.id))),
        Some(at) => Condition::any()
            .add(key.gt(at))
            .add(Condition::all().add(key.eq(at)).add(id.gt(p.id))),
    }
}
