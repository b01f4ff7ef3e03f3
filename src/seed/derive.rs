//! What triggers derive row by row, derived for a whole seeded workspace
//! at once (PostgreSQL): the seed loads with `chat_gateway.bulk_load` on,
//! which those triggers skip (migration `bulk_load`), then runs these, one
//! statement each, as a restore builds its indexes after the data. They
//! write what the triggers would have: the words of every title and
//! message (`search_chats`), and the live chats per bucket and shard
//! (`shard_chat_bucket_counts`); `seed`'s test checks both against the
//! API.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use uuid::Uuid;

/// The search rows of a workspace's titles and messages, then its
/// counters (in the shards the counter triggers use).
fn statements() -> [String; 3] {
    [
        "INSERT INTO chat_search (chat_id, message_id, words) \
         SELECT id, NULL, to_tsvector('simple', title) FROM chats \
         WHERE workspace_id = $1 AND title IS NOT NULL"
            .to_owned(),
        "INSERT INTO chat_search (chat_id, message_id, words) \
         SELECT m.chat_id, m.id, to_tsvector('simple', m.content) \
         FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.workspace_id = $1"
            .to_owned(),
        format!(
            "INSERT INTO chat_bucket_counts (workspace_id, channel_id, \
             responder_super_identity_id, ticket_status, shard, live_chats) \
             SELECT c.workspace_id, c.channel_id, \
             COALESCE(c.responder_super_identity_id, '00000000-0000-0000-0000-000000000000'::uuid), \
             COALESCE(t.status, ''), {}, count(*) \
             FROM chats c LEFT JOIN tickets t ON t.id = c.ticket_id \
             WHERE c.workspace_id = $1 AND c.removed_at IS NULL GROUP BY 1, 2, 3, 4, 5",
            migration::CHAT_SHARD
        ),
    ]
}

/// Indexes the words and counts the live chats of `workspace_id`, whose
/// rows were loaded without either, in one transaction. Each statement
/// covers the whole workspace and may run for minutes: the pool's
/// `statement_timeout`, meant for requests, is lifted for it.
pub async fn workspace(db: &DatabaseConnection, workspace_id: Uuid) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    txn.execute_unprepared("SET LOCAL statement_timeout = 0")
        .await?;
    for sql in statements() {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [workspace_id.into()],
        ))
        .await?;
    }
    txn.commit().await
}
