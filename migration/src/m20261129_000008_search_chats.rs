//! Word search over chat titles and message content.
//!
//! PostgreSQL: `chat_search` holds one row per searchable text, a chat's
//! title or one of its messages, as a `tsvector` of the `simple`
//! configuration (lowercased, never stemmed: a word matches as written, in
//! any language), under a GIN index; triggers keep it. One relation for
//! both kinds of text lets a search be one semi-join, which the planner
//! runs from whichever end is cheaper: for a rare word from the index, for
//! a common one along the newest chats, probing each through the chat
//! index. (A union of two indexed tables, one per kind, cannot be planned
//! either way.) Rows go with their chat or message (foreign keys).
//!
//! SQLite: two FTS5 tables kept by triggers, with the same tokenising rules
//! (`unicode61` folds case and, with `remove_diacritics 0`, keeps accents as
//! PostgreSQL's `simple` does). They are contentless (the text is not stored
//! twice) but keep the chat id as an unindexed column, so a match names its
//! chat without joining through rowids. Each entry's rowid is its source
//! row's, which the delete and update triggers use to find it (VACUUM
//! keeps the rowids of these tables: it copies them with their rowids).

use sea_orm_migration::{prelude::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &[&str] = &[
    "CREATE TABLE chat_search (\
     chat_id uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE, \
     message_id uuid REFERENCES messages (id) ON DELETE CASCADE, \
     words tsvector NOT NULL)",
    "INSERT INTO chat_search (chat_id, message_id, words) \
     SELECT id, NULL, to_tsvector('simple', title) FROM chats WHERE title IS NOT NULL",
    "INSERT INTO chat_search (chat_id, message_id, words) \
     SELECT chat_id, id, to_tsvector('simple', content) FROM messages",
    "CREATE INDEX idx_chat_search_words ON chat_search USING gin (words)",
    // Probes along the newest chats, the title's row on a rename, and the
    // cascade from chats.
    "CREATE INDEX idx_chat_search_chat ON chat_search (chat_id)",
    "CREATE UNIQUE INDEX idx_chat_search_message ON chat_search (message_id)",
    "CREATE FUNCTION chat_search_title() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP = 'UPDATE' THEN \
       DELETE FROM chat_search WHERE chat_id = OLD.id AND message_id IS NULL; \
     END IF; \
     IF NEW.title IS NOT NULL THEN \
       INSERT INTO chat_search (chat_id, message_id, words) \
       VALUES (NEW.id, NULL, to_tsvector('simple', NEW.title)); \
     END IF; \
     RETURN NULL; END $$",
    "CREATE TRIGGER chats_search AFTER INSERT OR UPDATE OF title ON chats \
     FOR EACH ROW EXECUTE FUNCTION chat_search_title()",
    "CREATE FUNCTION chat_search_message() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     IF TG_OP = 'UPDATE' THEN DELETE FROM chat_search WHERE message_id = OLD.id; END IF; \
     INSERT INTO chat_search (chat_id, message_id, words) \
     VALUES (NEW.chat_id, NEW.id, to_tsvector('simple', NEW.content)); \
     RETURN NULL; END $$",
    "CREATE TRIGGER messages_search AFTER INSERT OR UPDATE OF content ON messages \
     FOR EACH ROW EXECUTE FUNCTION chat_search_message()",
];

const POSTGRES_DOWN: &[&str] = &[
    "DROP TRIGGER messages_search ON messages",
    "DROP TRIGGER chats_search ON chats",
    "DROP FUNCTION chat_search_message()",
    "DROP FUNCTION chat_search_title()",
    "DROP TABLE chat_search",
];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE chat_title_search USING fts5(chat_id UNINDEXED, title, \
     content = '', contentless_delete = 1, contentless_unindexed = 1, \
     tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE message_search USING fts5(chat_id UNINDEXED, content, \
     content = '', contentless_delete = 1, contentless_unindexed = 1, \
     tokenize = 'unicode61 remove_diacritics 0')",
    "INSERT INTO chat_title_search (rowid, chat_id, title) \
     SELECT rowid, id, title FROM chats WHERE title IS NOT NULL",
    "INSERT INTO message_search (rowid, chat_id, content) SELECT rowid, chat_id, content FROM messages",
    "CREATE TRIGGER chats_title_search_insert AFTER INSERT ON chats WHEN new.title IS NOT NULL BEGIN \
     INSERT INTO chat_title_search (rowid, chat_id, title) VALUES (new.rowid, new.id, new.title); END",
    "CREATE TRIGGER chats_title_search_update AFTER UPDATE OF title ON chats BEGIN \
     DELETE FROM chat_title_search WHERE rowid = old.rowid; \
     INSERT INTO chat_title_search (rowid, chat_id, title) \
     SELECT new.rowid, new.id, new.title WHERE new.title IS NOT NULL; END",
    "CREATE TRIGGER chats_title_search_delete AFTER DELETE ON chats BEGIN \
     DELETE FROM chat_title_search WHERE rowid = old.rowid; END",
    "CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN \
     INSERT INTO message_search (rowid, chat_id, content) VALUES (new.rowid, new.chat_id, new.content); END",
    "CREATE TRIGGER messages_search_update AFTER UPDATE OF content ON messages BEGIN \
     DELETE FROM message_search WHERE rowid = old.rowid; \
     INSERT INTO message_search (rowid, chat_id, content) VALUES (new.rowid, new.chat_id, new.content); END",
    "CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN \
     DELETE FROM message_search WHERE rowid = old.rowid; END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER messages_search_delete",
    "DROP TRIGGER messages_search_update",
    "DROP TRIGGER messages_search_insert",
    "DROP TRIGGER chats_title_search_delete",
    "DROP TRIGGER chats_title_search_update",
    "DROP TRIGGER chats_title_search_insert",
    "DROP TABLE message_search",
    "DROP TABLE chat_title_search",
];

async fn run(manager: &SchemaManager<'_>, postgres: &[&str], sqlite: &[&str]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DbBackend::Postgres => postgres,
        _ => sqlite,
    };
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too: the tables, their filling and the
    /// triggers appear together, so no row is written between the copy and
    /// the trigger that would have indexed it.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_UP, SQLITE_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_DOWN, SQLITE_DOWN).await
    }
}
