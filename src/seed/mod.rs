//! `chat-gateway seed`: bulk synthetic data at scale, on either backend.
//!
//! The data streams chunk by chunk from a deterministic generator
//! ([`generate`]) into the database ([`batch`]): COPY on PostgreSQL,
//! multi-row INSERTs in one transaction per chunk on SQLite. Memory holds
//! one chunk at a time, whatever the number of chats.

mod batch;
mod generate;

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use serde::Serialize;
use uuid::Uuid;

use self::{batch::Batch, generate::Shape};
use crate::{
    error::{AppError, AppResult},
    service::workspace,
};

/// Most messages a chat may get; keeps message ids and chunk sizes bounded.
pub const MAX_MESSAGES_PER_CHAT: u32 = 100;
/// Chats in the second, small workspace that isolation checks use.
const SECOND_WORKSPACE_CHATS: u64 = 100;
const CHAT_CHUNK: u64 = 2_000;
const OWNER_CHUNK: u64 = 20_000;

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub chats: u64,
    pub messages_per_chat_max: u32,
    pub random_seed: u64,
}

/// What was seeded; printed as JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedSummary {
    pub workspace_id: Uuid,
    pub api_key: String,
    pub second_workspace_id: Uuid,
    pub chats: u64,
    pub messages: u64,
    pub owners: u64,
    pub tickets: u64,
    pub seconds: f64,
}

#[derive(Default)]
struct Counts {
    chats: u64,
    messages: u64,
    owners: u64,
    tickets: u64,
}

/// Seeds a workspace of `options.chats` chats, and a second, small one.
pub async fn run(db: &DatabaseConnection, options: SeedOptions) -> AppResult<SeedSummary> {
    if options.messages_per_chat_max == 0 || options.messages_per_chat_max > MAX_MESSAGES_PER_CHAT {
        return Err(AppError::invalid(
            "messages-per-chat-max",
            format!("must be between 1 and {MAX_MESSAGES_PER_CHAT}"),
        ));
    }
    let started = Instant::now();
    let progress = ProgressBar::new(options.chats + SECOND_WORKSPACE_CHATS);
    progress.set_style(
        ProgressStyle::with_template(
            "{spinner} seeding [{bar:40}] {pos}/{len} chats ({per_sec}, eta {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let (main, key) = workspace::create(db, "Seeded inbox", "seed").await?;
    let counts = seed_workspace(db, main.id, options.chats, options, &progress).await?;
    let (second, _) = workspace::create(db, "Second seeded inbox", "seed").await?;
    seed_workspace(db, second.id, SECOND_WORKSPACE_CHATS, options, &progress).await?;
    progress.finish_and_clear();
    refresh_statistics(db).await?;
    Ok(SeedSummary {
        workspace_id: main.id,
        api_key: key.key,
        second_workspace_id: second.id,
        chats: counts.chats,
        messages: counts.messages,
        owners: counts.owners,
        tickets: counts.tickets,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn seed_workspace(
    db: &DatabaseConnection,
    workspace_id: Uuid,
    chats: u64,
    options: SeedOptions,
    progress: &ProgressBar,
) -> AppResult<Counts> {
    let shape = Shape {
        workspace_id,
        chats,
        messages_per_chat_max: options.messages_per_chat_max,
        seed: options.random_seed,
    };
    let mut counts = Counts::default();
    write_all(db, &shape.directory(), &mut counts).await?;
    for start in (0..shape.owners()).step_by(OWNER_CHUNK as usize) {
        let end = (start + OWNER_CHUNK).min(shape.owners());
        write_all(db, &shape.owners_chunk(start..end), &mut counts).await?;
    }
    for start in (0..chats).step_by(CHAT_CHUNK as usize) {
        let end = (start + CHAT_CHUNK).min(chats);
        write_all(db, &shape.chats_chunk(start..end), &mut counts).await?;
        progress.inc(end - start);
    }
    Ok(counts)
}

/// Bulk loads leave the planner's statistics stale, and on PostgreSQL the
/// visibility map empty (so no index-only scans until autovacuum passes):
/// refresh both now, so the data set is queried as it would be in service.
async fn refresh_statistics(db: &DatabaseConnection) -> Result<(), DbErr> {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await.map(|_| ())
}

/// Writes `batches` and counts what they held.
async fn write_all(
    db: &DatabaseConnection,
    batches: &[Batch],
    counts: &mut Counts,
) -> Result<(), DbErr> {
    batch::write_all(db, batches).await?;
    for batch in batches {
        let rows = batch.rows.len() as u64;
        match batch.table {
            "chats" => counts.chats += rows,
            "messages" => counts.messages += rows,
            "tickets" => counts.tickets += rows,
            "users" | "external_users" => counts.owners += rows,
            _ => {}
        }
    }
    Ok(())
}
