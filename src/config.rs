//! One typed configuration for the server. Every field is a documented flag
//! that can also be set through an environment variable; `--help` is the
//! reference. Tests build this struct directly instead of touching the
//! environment.

use std::net::SocketAddr;

use clap::Args;

/// The default database: an SQLite file in the working directory, created
/// when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://chat-gateway.db";

/// Database settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database to use: `sqlite://PATH` (created if missing) or
    /// `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Most connections the pool keeps open to the database.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,

    /// Seconds to wait for a free pooled connection before failing a request.
    #[arg(long, env = "DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5)]
    pub db_acquire_timeout_secs: u64,
}

/// Settings of the `serve` subcommand (the default).
#[derive(Debug, Clone, Args)]
pub struct Config {
    #[command(flatten)]
    pub database: DatabaseConfig,

    /// Address and port to listen on; port 0 picks a free port.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:8000")]
    pub listen: SocketAddr,

    /// Do not create the demo workspace when the database holds no workspace.
    /// The variable takes true/false, 1/0, yes/no, on/off.
    #[arg(long, env = "NO_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_demo: bool,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

impl DatabaseConfig {
    /// Settings for `url` with the defaults for everything else.
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            database_url: url.into(),
            db_max_connections: 10,
            db_acquire_timeout_secs: 5,
        }
    }
}

impl Config {
    /// Server settings for `database_url`, listening on a free loopback port,
    /// without the demo workspace: what tests and embedders start from.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database: DatabaseConfig::for_url(database_url),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            no_demo: true,
            shutdown_grace_secs: 10,
        }
    }
}
