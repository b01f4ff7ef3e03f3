//! The live-chat counters without hot rows: every chat of one channel,
//! responder and ticket status counted in one row made that row's lock a
//! queue for every write creating, removing or moving such a chat (each
//! holds it to commit). Each bucket now has up to 16 rows, `shard` taken
//! from a byte of the chat's (random) id, so writers of one bucket
//! mostly lock different rows; readers already sum the rows they select,
//! so they read the same totals. A chat always counts in the same shard,
//! so each row stays the exact count of its chats.
//!
//! SQLite writes one transaction at a time, so nothing queues on a row
//! there: it gains the column, always 0, and keeps its key and triggers.

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NIL: &str = "'00000000-0000-0000-0000-000000000000'::uuid";

/// The counters' shape: with shards (up) or without (down).
#[derive(Clone, Copy)]
struct Shape {
    sharded: bool,
}

impl Shape {
    fn key(self) -> &'static str {
        if self.sharded {
            "workspace_id, channel_id, responder_super_identity_id, ticket_status, shard"
        } else {
            "workspace_id, channel_id, responder_super_identity_id, ticket_status"
        }
    }

    /// The shard column of the chat `c`: the low four bits of its id's
    /// last byte.
    fn shard(self) -> String {
        if self.sharded {
            format!(", {} AS shard", crate::CHAT_SHARD)
        } else {
            String::new()
        }
    }

    /// Adds the deltas `moves` selects (key columns, then the delta) to
    /// the counters, in key order, so two bulk writes never lock two rows
    /// in opposite orders.
    fn upsert(self, moves: &str) -> String {
        let key = self.key();
        format!(
            "INSERT INTO chat_bucket_counts ({key}, live_chats) \
             SELECT {key}, SUM(delta) FROM ({moves}) AS moves \
             GROUP BY {key} HAVING SUM(delta) <> 0 ORDER BY {key} \
             ON CONFLICT ({key}) DO UPDATE \
             SET live_chats = chat_bucket_counts.live_chats + excluded.live_chats"
        )
    }

    /// The bucket (and shard) of each live chat of `rows`, with `delta`.
    fn buckets_of(self, rows: &str, delta: i32) -> String {
        let shard = self.shard();
        format!(
            "SELECT c.workspace_id, c.channel_id, \
             COALESCE(c.responder_super_identity_id, {NIL}) AS responder_super_identity_id, \
             COALESCE(t.status, '') AS ticket_status{shard}, {delta} AS delta \
             FROM {rows} AS c LEFT JOIN tickets AS t ON t.id = c.ticket_id \
             WHERE c.removed_at IS NULL"
        )
    }

    /// The live chats of ticket `id` moving from status `from` to `to`.
    fn ticket_moves(self, id: &str, from: &str, to: &str) -> String {
        let shard = self.shard();
        format!(
            "SELECT c.workspace_id, c.channel_id, \
             COALESCE(c.responder_super_identity_id, {NIL}) AS responder_super_identity_id, \
             s.ticket_status{shard}, s.delta \
             FROM chats AS c, (SELECT {from} AS ticket_status, -1 AS delta \
                              UNION ALL SELECT {to}, 1) AS s \
             WHERE c.ticket_id = {id} AND c.removed_at IS NULL"
        )
    }

    /// The trigger functions, rewritten in place (the triggers stay), and
    /// the counters counted again from the chats.
    fn functions_and_recount(self) -> Vec<String> {
        vec![
            format!(
                "CREATE OR REPLACE FUNCTION chat_bucket_counts_follow() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN \
                 IF TG_OP = 'INSERT' THEN {}; \
                 ELSIF TG_OP = 'DELETE' THEN {}; \
                 ELSE {}; \
                 END IF; RETURN NULL; END $$",
                self.upsert(&self.buckets_of("new_rows", 1)),
                self.upsert(&self.buckets_of("old_rows", -1)),
                self.upsert(&format!(
                    "{} UNION ALL {}",
                    self.buckets_of("old_rows", -1),
                    self.buckets_of("new_rows", 1)
                )),
            ),
            format!(
                "CREATE OR REPLACE FUNCTION chat_bucket_counts_ticket() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN \
                 IF TG_OP = 'DELETE' THEN {}; RETURN OLD; END IF; \
                 {}; RETURN NULL; END $$",
                self.upsert(&self.ticket_moves("OLD.id", "OLD.status", "''")),
                self.upsert(&self.ticket_moves("OLD.id", "OLD.status", "NEW.status")),
            ),
            "DELETE FROM chat_bucket_counts".to_owned(),
            self.upsert(&self.buckets_of("chats", 1)),
        ]
    }
}

/// Writers wait while the counters change shape, so none is counted in
/// the old one.
const LOCK: &str = "LOCK TABLE chats, tickets, chat_bucket_counts IN SHARE ROW EXCLUSIVE MODE";

async fn run(manager: &SchemaManager<'_>, statements: Vec<String>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let add = "ALTER TABLE chat_bucket_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0";
        if manager.get_database_backend() != DbBackend::Postgres {
            // The column, always 0; the key and the triggers stay.
            return run(manager, vec![add.to_owned()]).await;
        }
        let shape = Shape { sharded: true };
        let mut statements = vec![
            LOCK.to_owned(),
            add.to_owned(),
            "ALTER TABLE chat_bucket_counts DROP CONSTRAINT chat_bucket_counts_pkey".to_owned(),
            format!(
                "ALTER TABLE chat_bucket_counts ADD PRIMARY KEY ({})",
                shape.key()
            ),
        ];
        statements.extend(shape.functions_and_recount());
        run(manager, statements).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = "ALTER TABLE chat_bucket_counts DROP COLUMN shard".to_owned();
        if manager.get_database_backend() != DbBackend::Postgres {
            return run(manager, vec![drop]).await;
        }
        let shape = Shape { sharded: false };
        let mut statements = vec![
            LOCK.to_owned(),
            "DELETE FROM chat_bucket_counts".to_owned(),
            "ALTER TABLE chat_bucket_counts DROP CONSTRAINT chat_bucket_counts_pkey".to_owned(),
            drop,
            format!(
                "ALTER TABLE chat_bucket_counts ADD PRIMARY KEY ({})",
                shape.key()
            ),
        ];
        statements.extend(shape.functions_and_recount());
        run(manager, statements).await
    }
}
