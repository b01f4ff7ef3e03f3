//! Live chats per bucket of a workspace: channel, responder (the nil UUID
//! for none) and the status of the linked ticket ('' for none). The
//! inbox's badges (`chatCounts`) then sum a few hundred rows instead of
//! counting up to every live chat. It refines the per-channel counts,
//! which it replaces, and is filled from the chats already there.
//!
//! Triggers keep it, in the writing transaction: on chats (insert, update,
//! delete, however they happen: the gateway's writes, a foreign key
//! setting a responder to null, a cascade from a deleted owner), and on
//! tickets, whose status moves their live chats between buckets (and whose
//! deletion moves them to "no ticket" before the foreign key unlinks them).
//! On PostgreSQL the chats' triggers run once per statement over its
//! transition tables and update the buckets in key order, so two bulk
//! writes never lock two buckets in opposite orders.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::checks::fk;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workspaces {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChatBucketCounts {
    Table,
    WorkspaceId,
    ChannelId,
    ResponderSuperIdentityId,
    TicketStatus,
    LiveChats,
}

const COLUMNS: &str =
    "workspace_id, channel_id, responder_super_identity_id, ticket_status, live_chats";
const KEY: &str = "workspace_id, channel_id, responder_super_identity_id, ticket_status";

/// How the nil UUID (no responder) is written: PostgreSQL has a uuid type,
/// SQLite stores UUIDs as 16-byte blobs.
fn nil(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "'00000000-0000-0000-0000-000000000000'::uuid",
        _ => "zeroblob(16)",
    }
}

/// Adds the deltas `moves` selects (key columns, then the delta) to the
/// counters, in key order. (No alias on the target: SQLite refuses one
/// inside a trigger. `WHERE true` keeps SQLite from reading ON CONFLICT as
/// a join's.)
fn upsert(moves: &str) -> String {
    format!(
        "INSERT INTO chat_bucket_counts ({COLUMNS}) \
         SELECT {KEY}, SUM(delta) FROM ({moves}) AS moves WHERE true \
         GROUP BY {KEY} HAVING SUM(delta) <> 0 ORDER BY {KEY} \
         ON CONFLICT ({KEY}) DO UPDATE \
         SET live_chats = chat_bucket_counts.live_chats + excluded.live_chats"
    )
}

/// The bucket of each live chat of `rows` (a table of chats, aliased `c`),
/// with `delta`.
fn buckets_of(backend: DbBackend, rows: &str, delta: i32) -> String {
    let nil = nil(backend);
    format!(
        "SELECT c.workspace_id, c.channel_id, \
         COALESCE(c.responder_super_identity_id, {nil}) AS responder_super_identity_id, \
         COALESCE(t.status, '') AS ticket_status, {delta} AS delta \
         FROM {rows} AS c LEFT JOIN tickets AS t ON t.id = c.ticket_id \
         WHERE c.removed_at IS NULL"
    )
}

/// The live chats of ticket `id` moving from status `from` to `to`.
fn ticket_moves(backend: DbBackend, id: &str, from: &str, to: &str) -> String {
    let nil = nil(backend);
    format!(
        "SELECT c.workspace_id, c.channel_id, \
         COALESCE(c.responder_super_identity_id, {nil}) AS responder_super_identity_id, \
         s.ticket_status, s.delta \
         FROM chats AS c, (SELECT {from} AS ticket_status, -1 AS delta \
                          UNION ALL SELECT {to}, 1) AS s \
         WHERE c.ticket_id = {id} AND c.removed_at IS NULL"
    )
}

fn postgres_up() -> Vec<String> {
    let pg = DbBackend::Postgres;
    let follow = format!(
        "CREATE FUNCTION chat_bucket_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF TG_OP = 'INSERT' THEN {}; \
         ELSIF TG_OP = 'DELETE' THEN {}; \
         ELSE {}; \
         END IF; RETURN NULL; END $$",
        upsert(&buckets_of(pg, "new_rows", 1)),
        upsert(&buckets_of(pg, "old_rows", -1)),
        upsert(&format!(
            "{} UNION ALL {}",
            buckets_of(pg, "old_rows", -1),
            buckets_of(pg, "new_rows", 1)
        )),
    );
    let ticket = format!(
        "CREATE FUNCTION chat_bucket_counts_ticket() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF TG_OP = 'DELETE' THEN {}; RETURN OLD; END IF; \
         {}; RETURN NULL; END $$",
        upsert(&ticket_moves(pg, "OLD.id", "OLD.status", "''")),
        upsert(&ticket_moves(pg, "OLD.id", "OLD.status", "NEW.status")),
    );
    vec![
        follow,
        "CREATE TRIGGER chats_counts_insert AFTER INSERT ON chats \
         REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION chat_bucket_counts_follow()"
            .to_owned(),
        "CREATE TRIGGER chats_counts_update AFTER UPDATE ON chats \
         REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION chat_bucket_counts_follow()"
            .to_owned(),
        "CREATE TRIGGER chats_counts_delete AFTER DELETE ON chats \
         REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT \
         EXECUTE FUNCTION chat_bucket_counts_follow()"
            .to_owned(),
        ticket,
        "CREATE TRIGGER tickets_counts_status AFTER UPDATE OF status ON tickets FOR EACH ROW \
         WHEN (OLD.status IS DISTINCT FROM NEW.status) \
         EXECUTE FUNCTION chat_bucket_counts_ticket()"
            .to_owned(),
        "CREATE TRIGGER tickets_counts_delete BEFORE DELETE ON tickets FOR EACH ROW \
         EXECUTE FUNCTION chat_bucket_counts_ticket()"
            .to_owned(),
    ]
}

fn sqlite_up() -> Vec<String> {
    let lite = DbBackend::Sqlite;
    // A row trigger sees its row as NEW or OLD: one row, aliased as a table.
    let row = |which: &str| {
        let columns = [
            "workspace_id",
            "channel_id",
            "responder_super_identity_id",
            "ticket_id",
            "removed_at",
        ]
        .map(|column| format!("{which}.{column} AS {column}"));
        format!("(SELECT {})", columns.join(", "))
    };
    let (new_row, old_row) = (&row("NEW"), &row("OLD"));
    vec![
        format!(
            "CREATE TRIGGER chats_counts_insert AFTER INSERT ON chats BEGIN {}; END",
            upsert(&buckets_of(lite, new_row, 1))
        ),
        format!(
            "CREATE TRIGGER chats_counts_update AFTER UPDATE OF \
             channel_id, responder_super_identity_id, ticket_id, removed_at ON chats BEGIN {}; END",
            upsert(&format!(
                "{} UNION ALL {}",
                buckets_of(lite, old_row, -1),
                buckets_of(lite, new_row, 1)
            ))
        ),
        format!(
            "CREATE TRIGGER chats_counts_delete AFTER DELETE ON chats BEGIN {}; END",
            upsert(&buckets_of(lite, old_row, -1))
        ),
        format!(
            "CREATE TRIGGER tickets_counts_status AFTER UPDATE OF status ON tickets \
             WHEN OLD.status <> NEW.status BEGIN {}; END",
            upsert(&ticket_moves(lite, "OLD.id", "OLD.status", "NEW.status"))
        ),
        format!(
            "CREATE TRIGGER tickets_counts_delete BEFORE DELETE ON tickets BEGIN {}; END",
            upsert(&ticket_moves(lite, "OLD.id", "OLD.status", "''"))
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(ChatBucketCounts::Table)
                    .col(uuid(ChatBucketCounts::WorkspaceId))
                    .col(uuid(ChatBucketCounts::ChannelId))
                    .col(uuid(ChatBucketCounts::ResponderSuperIdentityId))
                    .col(string_len(ChatBucketCounts::TicketStatus, 16))
                    .col(big_integer(ChatBucketCounts::LiveChats))
                    .primary_key(
                        Index::create()
                            .col(ChatBucketCounts::WorkspaceId)
                            .col(ChatBucketCounts::ChannelId)
                            .col(ChatBucketCounts::ResponderSuperIdentityId)
                            .col(ChatBucketCounts::TicketStatus),
                    )
                    .foreign_key(&mut fk(
                        ChatBucketCounts::Table,
                        ChatBucketCounts::WorkspaceId,
                        Workspaces::Table,
                        Workspaces::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&upsert(&buckets_of(backend, "chats", 1)))
            .await?;
        let triggers = match backend {
            DbBackend::Postgres => postgres_up(),
            _ => sqlite_up(),
        };
        for trigger in triggers {
            db.execute_unprepared(&trigger).await?;
        }
        db.execute_unprepared("DROP TABLE chat_channel_counts")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let drops: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP TRIGGER tickets_counts_delete ON tickets",
                "DROP TRIGGER tickets_counts_status ON tickets",
                "DROP TRIGGER chats_counts_delete ON chats",
                "DROP TRIGGER chats_counts_update ON chats",
                "DROP TRIGGER chats_counts_insert ON chats",
                "DROP FUNCTION chat_bucket_counts_ticket()",
                "DROP FUNCTION chat_bucket_counts_follow()",
            ],
            _ => &[
                "DROP TRIGGER tickets_counts_delete",
                "DROP TRIGGER tickets_counts_status",
                "DROP TRIGGER chats_counts_delete",
                "DROP TRIGGER chats_counts_update",
                "DROP TRIGGER chats_counts_insert",
            ],
        };
        for drop in drops {
            db.execute_unprepared(drop).await?;
        }
        db.execute_unprepared(
            "CREATE TABLE chat_channel_counts (workspace_id uuid NOT NULL, \
             channel_id uuid NOT NULL, live_chats bigint NOT NULL, \
             PRIMARY KEY (workspace_id, channel_id), \
             FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE)",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO chat_channel_counts (workspace_id, channel_id, live_chats) \
             SELECT workspace_id, channel_id, SUM(live_chats) FROM chat_bucket_counts \
             GROUP BY workspace_id, channel_id",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(ChatBucketCounts::Table).to_owned())
            .await
    }
}
