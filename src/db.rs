//! Connecting to the database and migrating it.
//!
//! SQLite gets WAL (readers do not block the writer), a busy timeout (writers
//! wait instead of failing) and enforced foreign keys. Every statement run
//! through the pool is counted, so tests and benchmarks can see how many
//! statements a request costs.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, Statement,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::{config::DatabaseConfig, telemetry::spans};

/// How many SQL statements a connection pool has run, and, while asked to,
/// which ones (tests read the plans of the statements a request really ran).
#[derive(Debug, Clone, Default)]
pub struct StatementCounter {
    count: Arc<AtomicU64>,
    recording: Arc<AtomicBool>,
    recorded: Arc<Mutex<Vec<Statement>>>,
}

impl StatementCounter {
    /// Statements run so far.
    pub fn get(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Starts keeping every statement run from now on, with its values.
    pub fn start_recording(&self) {
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops recording and returns what was recorded.
    pub fn take_recorded(&self) -> Vec<Statement> {
        self.recording.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.recorded.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn observe(&self, statement: &Statement) {
        self.count.fetch_add(1, Ordering::Relaxed);
        if self.recording.load(Ordering::Relaxed) {
            let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
            recorded.push(statement.clone());
        }
    }
}

/// Whether connecting may create a missing SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Serving and migrating start from nothing.
    IfMissing,
    /// Admin commands on keys: a missing file is a mistyped path.
    Never,
}

/// Opens a pool to the configured database. Does not migrate. On
/// PostgreSQL, `statement_timeout` (if any) cancels each statement that
/// runs longer. A failure reads as one line a person can act on.
pub async fn connect(
    config: &DatabaseConfig,
    statement_timeout: Option<Duration>,
    create: Create,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    match open(config, statement_timeout, create).await {
        Ok(opened) => Ok(opened),
        Err(error) => {
            let url = &config.database_url;
            // The pool reports only that it timed out; one direct attempt
            // says why (refused, unknown host, bad password).
            let direct = match &error {
                DbErr::ConnectionAcquire(_) | DbErr::Conn(_) if url.starts_with("postgres") => {
                    use sea_orm::sqlx::{Connection, postgres::PgConnection};
                    PgConnection::connect(url).await.err()
                }
                _ => None,
            };
            Err(anyhow::anyhow!(describe(
                url,
                create,
                &error,
                direct.as_ref()
            )))
        }
    }
}

async fn open(
    config: &DatabaseConfig,
    statement_timeout: Option<Duration>,
    create: Create,
) -> Result<(DatabaseConnection, StatementCounter), DbErr> {
    // PostgreSQL reads 0 as no limit.
    let statement_timeout_ms = statement_timeout.map_or(0, |t| t.as_millis()).to_string();
    let plan_cache_mode = if config.plan_every_time {
        "force_custom_plan"
    } else {
        "force_generic_plan"
    };
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(config.db_acquire_timeout_secs))
        .connect_timeout(Duration::from_secs(config.db_acquire_timeout_secs))
        // sqlx pings a connection on every acquire by default: with one
        // acquire per statement that doubled the round trips of a request.
        // Only a connection idle long enough to have been dropped (a
        // restarted server, a proxy) is pinged; it also pings on release.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        // Statements are logged by the metric callback below, without values.
        .sqlx_logging(false)
        // sqlx reports each acquisition's wait as a trace event, which
        // becomes `db_pool_acquire_duration_seconds`
        // (crate::telemetry::logs).
        .map_sqlx_postgres_pool_opts(|pool| pool.acquire_time_level(log::LevelFilter::Trace))
        .map_sqlx_sqlite_pool_opts(|pool| pool.acquire_time_level(log::LevelFilter::Trace))
        .map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(create == Create::IfMissing)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL is durable across application crashes in WAL mode;
                // only an OS crash or power loss may lose the latest commits.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        })
        // Every statement is prepared with bind parameters, LIMIT and OFFSET
        // included. With an unknown LIMIT, PostgreSQL's generic plan looks
        // costlier than a custom one, so by default it re-plans every
        // execution, and planning the chat row's seven-table join costs
        // ~30 ms against ~1 ms to run it. The generic plans of these
        // statements are the same index walks, so plan once per connection
        // (but see `plan_every_time`).
        .map_sqlx_postgres_opts(move |opts| {
            opts.options([
                ("plan_cache_mode", plan_cache_mode),
                // A slow or stuck statement is cancelled server-side
                // (SQLSTATE 57014, reported as TIMEOUT) instead of holding
                // its connection past the request's own deadline.
                ("statement_timeout", statement_timeout_ms.as_str()),
                // Warnings and errors only: the migrator's CREATE TABLE IF
                // NOT EXISTS would print a notice on every command.
                ("client_min_messages", "warning"),
            ])
        });
    let mut db = Database::connect(options).await?;
    let counter = StatementCounter::default();
    let observer = counter.clone();
    let backend = db.get_database_backend();
    db.set_metric_callback(move |info| {
        observer.observe(info.statement);
        // Called as the statement returns, in its caller's span.
        spans::statement(backend, &info.statement.sql, info.elapsed, info.failed);
        tracing::trace!(
            target: "chat_gateway::sql",
            elapsed_us = info.elapsed.as_micros() as u64,
            failed = info.failed,
            sql = %info.statement.sql,
        );
    });
    Ok((db, counter))
}

/// Why connecting to `url` failed, in one line: where, and the cause a
/// person can act on ("connection refused", "no database named x",
/// "permission denied"), without the driver's repeated cause chain.
fn describe(
    url: &str,
    create: Create,
    error: &DbErr,
    direct: Option<&sea_orm::sqlx::Error>,
) -> String {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    let sqlx = direct.or(match error {
        DbErr::Conn(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            Some(e.as_ref())
        }
        _ => None,
    });
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or(path);
        let reported = || sqlx.map_or_else(|| error.to_string(), |e| e.to_string());
        let cause = sqlite_cause(std::path::Path::new(path), create).unwrap_or_else(reported);
        return format!("cannot open SQLite file {path}: {cause}");
    }
    let place = url
        .split_once('@')
        .map_or(url, |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default();
    let cause = match sqlx {
        Some(Sqlx::Io(io)) => io_cause(io),
        Some(Sqlx::Database(db)) if db.code().as_deref() == Some("3D000") => {
            let name = url.rsplit('/').next().unwrap_or_default();
            let name = name.split('?').next().unwrap_or(name);
            return format!("cannot connect to PostgreSQL at {place}: no database named {name}");
        }
        Some(Sqlx::Database(db)) => db.message().to_owned(),
        Some(Sqlx::PoolTimedOut) => "no answer within --db-acquire-timeout-secs".to_owned(),
        Some(other) => other.to_string(),
        None => error.to_string(),
    };
    format!("cannot connect to PostgreSQL at {place}: {cause}")
}

/// Why SQLite cannot open `file`, as the OS says it (SQLite says only
/// "unable to open database file"); `None` when the OS sees no reason.
fn sqlite_cause(file: &std::path::Path, create: Create) -> Option<String> {
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    match std::fs::metadata(file) {
        Ok(_) => {
            if let Err(io) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(file)
            {
                return Some(io_cause(&io));
            }
            unwritable(dir)
        }
        Err(io) if io.kind() == std::io::ErrorKind::NotFound => {
            if !dir.is_dir() {
                Some(format!("the directory {} does not exist", dir.display()))
            } else if create == Create::Never {
                Some("no such file (this command does not create a database)".to_owned())
            } else {
                unwritable(dir)
            }
        }
        Err(io) => Some(io_cause(&io)),
    }
}

/// Why no file can be made in `dir` (where SQLite makes the database and
/// its -wal and -shm files), found by making one and removing it.
fn unwritable(dir: &std::path::Path) -> Option<String> {
    let probe = dir.join(format!(".chat-gateway-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(io) => Some(format!(
            "cannot create files in {}: {}",
            dir.display(),
            io_cause(&io)
        )),
    }
}

/// An I/O error as a short lower-case cause, without "(os error N)".
fn io_cause(io: &std::io::Error) -> String {
    let text = io.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    text.to_lowercase()
}

/// The pool's open connections, and how many of them are idle.
pub fn pool_usage(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
