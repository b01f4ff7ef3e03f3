//! A search page found, on SQLite, by reading the chats in the page's
//! order and checking each one's title and messages in the process.
//!
//! FTS5 answers "which texts hold these words" with all of them: for a
//! word in half the messages, every one is read and its chat looked up
//! before the newest 50 chats can be picked (2.5 s of CPU at 100,000
//! chats). Nor can it be asked cheaply about one chat: a prefix query
//! merges the word's whole list of texts on every call (about 6 ms). A
//! common word's page, though, is among the first chats in the page's
//! order, so reading those and checking their texts here ends as soon as
//! the page is full. A walk that finds too little for its budget is a
//! rare word's, which the index answers well, so it gives up and leaves
//! the page to the index.

use entity::chat;
use sea_orm::{ConnectionTrait, QuerySelect, Select, sea_query::Expr};
use uuid::Uuid;

use super::Search;
use crate::error::{AppError, AppResult};

/// The contents of the chat's messages (over the index on `chat_id`).
const MESSAGES_AS_JSON: &str = r#"(SELECT json_group_array("content") FROM "messages"
    WHERE "messages"."chat_id" = "chats"."id")"#;

/// Most chats read at a time.
const BATCH: u64 = 100;
/// The most chats a walk reads, as projected from what it has found: a
/// batch costs a few milliseconds, the index's answer to a rare word tens.
const BUDGET: u64 = 2_000;

/// The ids of `want` chats of `chats` (filtered and in the page's order)
/// that `search` selects, after skipping `offset` of them; fewer when
/// there are no more. `None` when the walk gives up: the search is rare
/// among these chats, or one of its words is one FTS5 must judge.
pub async fn walk(
    db: &impl ConnectionTrait,
    chats: Select<chat::Entity>,
    search: &Search,
    want: u64,
    offset: u64,
) -> AppResult<Option<Vec<Uuid>>> {
    let Some(matcher) = search.matcher() else {
        return Ok(None);
    };
    let needed = offset + want;
    let mut found: Vec<Uuid> = Vec::new();
    let mut walked = 0;
    // The first read is about what a common word's page takes, so that a
    // rare word, given up on after it, costs little (a page is 10 chats
    // by default).
    let mut size = (needed + needed / 4 + 4).min(BATCH);
    loop {
        // Each chat with its messages' texts as a JSON array: one row per
        // chat, not one per message, crosses from SQLite's thread.
        let batch: Vec<(Uuid, Option<String>, String)> = chats
            .clone()
            .select_only()
            .column(chat::Column::Id)
            .column(chat::Column::Title)
            .column_as(Expr::cust(MESSAGES_AS_JSON), "texts")
            .limit(size)
            .offset(walked)
            .into_tuple()
            .all(db)
            .await?;
        for (id, title, texts) in &batch {
            let texts: Vec<String> =
                serde_json::from_str(texts).map_err(|error| AppError::Internal(error.into()))?;
            let in_title = title.as_deref().is_some_and(|title| matcher.matches(title));
            if in_title || texts.iter().any(|text| matcher.matches(text)) {
                found.push(*id);
                if found.len() as u64 == needed {
                    return Ok(Some(found.split_off(offset as usize)));
                }
            }
        }
        walked += batch.len() as u64;
        if (batch.len() as u64) < size {
            // Every chat was read.
            return Ok(Some(found.into_iter().skip(offset as usize).collect()));
        }
        // At the rate found so far, the page needs more than the budget.
        if needed * walked > BUDGET * found.len() as u64 {
            return Ok(None);
        }
        size = BATCH;
    }
}
