//! `chat-gateway seed`: bulk synthetic data at scale, on either backend.
//!
//! The data streams chunk by chunk from a deterministic generator
//! ([`generate`]) into the database ([`batch`]): COPY on PostgreSQL,
//! multi-row INSERTs in one transaction per chunk on SQLite. Memory holds
//! one chunk at a time, whatever the number of chats. On PostgreSQL the
//! chunks load without the per-row search and counter triggers, and each
//! workspace's words and counters are derived at its end in a statement
//! each ([`derive`]), as a restore builds indexes after its data.
//!
//! Progress goes to stderr: the workspace and its key first (so an
//! interrupted run leaves nothing unknown behind), then a bar on a
//! terminal or a line per tenth elsewhere. A stop request (Ctrl-C) is
//! heeded between chunks: what was written stays whole and is reported.

mod batch;
mod derive;
mod generate;

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Instant,
};

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
    /// Stopped early (Ctrl-C): the counts are what was written.
    pub interrupted: bool,
}

#[derive(Default)]
struct Counts {
    chats: u64,
    messages: u64,
    owners: u64,
    tickets: u64,
}

/// Seeds a workspace of `options.chats` chats, and a second, small one;
/// stops between two chunks once `stop` is set.
pub async fn run(
    db: &DatabaseConnection,
    options: SeedOptions,
    stop: &AtomicBool,
) -> AppResult<SeedSummary> {
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
            "{spinner} seeding [{bar:40}] {pos}/{len} chats ({per_sec}, eta {eta}) {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    let (main, key) = workspace::create(db, "Seeded inbox", "seed").await?;
    eprintln!(
        "Seeding workspace {} with {} chats; its API key: {}",
        main.id, options.chats, key.key
    );
    let report = Report::new(&progress, options.chats + SECOND_WORKSPACE_CHATS);
    let counts = seed_workspace(db, main.id, options.chats, options, &report, stop).await?;
    let (second, _) = workspace::create(db, "Second seeded inbox", "seed").await?;
    if !stop.load(Ordering::Relaxed) {
        seed_workspace(
            db,
            second.id,
            SECOND_WORKSPACE_CHATS,
            options,
            &report,
            stop,
        )
        .await?;
    }
    progress.finish_and_clear();
    let interrupted = stop.load(Ordering::Relaxed);
    if !interrupted {
        report.phase("refreshing the planner's statistics");
        refresh_statistics(db).await?;
    }
    Ok(SeedSummary {
        workspace_id: main.id,
        api_key: key.key,
        second_workspace_id: second.id,
        chats: counts.chats,
        messages: counts.messages,
        owners: counts.owners,
        tickets: counts.tickets,
        seconds: started.elapsed().as_secs_f64(),
        interrupted,
    })
}

/// Progress: the bar on a terminal, a line per tenth of the chats
/// otherwise (a log or a pipe shows no bar).
struct Report<'a> {
    bar: &'a ProgressBar,
    total: u64,
    started: Instant,
}

impl<'a> Report<'a> {
    fn new(bar: &'a ProgressBar, total: u64) -> Self {
        Self {
            bar,
            total,
            started: Instant::now(),
        }
    }

    fn phase(&self, what: &str) {
        if self.bar.is_hidden() {
            eprintln!("seed: {what}");
        } else {
            self.bar.set_message(what.to_owned());
        }
    }

    fn chats(&self, done: u64) {
        let before = self.bar.position();
        self.bar.inc(done);
        let tenth = (self.total / 10).max(1);
        if self.bar.is_hidden() && (before / tenth != self.bar.position() / tenth) {
            eprintln!(
                "seed: {}/{} chats, {:.0} s",
                self.bar.position(),
                self.total,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

async fn seed_workspace(
    db: &DatabaseConnection,
    workspace_id: Uuid,
    chats: u64,
    options: SeedOptions,
    report: &Report<'_>,
    stop: &AtomicBool,
) -> AppResult<Counts> {
    let shape = Shape {
        workspace_id,
        chats,
        messages_per_chat_max: options.messages_per_chat_max,
        seed: options.random_seed,
    };
    let mut counts = Counts::default();
    report.phase("channels, responders and owners");
    write_all(db, &shape.directory(), &mut counts).await?;
    for start in (0..shape.owners()).step_by(OWNER_CHUNK as usize) {
        let end = (start + OWNER_CHUNK).min(shape.owners());
        write_all(db, &shape.owners_chunk(start..end), &mut counts).await?;
    }
    report.phase("chats and messages");
    for start in (0..chats).step_by(CHAT_CHUNK as usize) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let end = (start + CHAT_CHUNK).min(chats);
        write_all(db, &shape.chats_chunk(start..end), &mut counts).await?;
        report.chats(end - start);
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // Interrupted or not: what was written is searched and counted.
        report.phase("indexing words and counting chats");
        derive::workspace(db, workspace_id).await?;
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
