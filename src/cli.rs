//! The command line. Output meant for scripts is one JSON object on stdout;
//! progress and logs go to stderr.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use serde_json::json;
use uuid::Uuid;

use crate::{
    app::Application,
    auth::Scopes,
    config::{Config, DatabaseConfig},
    db::{self, Create},
    graphql, seed,
    service::{api_key, workspace},
    telemetry::logs::{self, LogFormat},
};

/// A GraphQL gateway over the chats of an AI customer-service platform.
///
/// With no subcommand, serves (same as `serve`). On an empty database it
/// first creates a demo workspace and prints its API key.
#[derive(Debug, Parser)]
// The database flags are every command's, before or after it
// (`chat-gateway --database-url X migrate` means what `chat-gateway migrate
// --database-url X` does). The server's come without a command, or after
// `serve`; each command's --help lists only what it takes.
#[command(name = "chat-gateway", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    database: DatabaseConfig,

    /// How log lines are written on stderr: `text`, or `json` (one object
    /// per line). Default: text on a terminal, JSON otherwise. `RUST_LOG`
    /// picks what is logged.
    #[arg(long, global = true, env = "LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,

    #[command(flatten)]
    config: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve GraphQL (`/graphql`), GraphiQL and health checks (the default).
    Serve(Box<Config>),
    /// Apply pending database migrations and exit (creates an SQLite file
    /// that does not exist).
    Migrate,
    /// Print the GraphQL schema (SDL); `schema.graphql` is exactly this output.
    Schema,
    /// Manage API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Fill a new workspace with synthetic chats (and a second, small one);
    /// prints the workspace, its API key, counts and seconds as JSON.
    Seed {
        /// Chats to create in the main workspace.
        #[arg(long)]
        chats: u64,
        /// Each chat gets 1 to this many messages (at most 100).
        #[arg(long, default_value_t = 20)]
        messages_per_chat_max: u32,
        /// Seed of the generator: the same seed gives the same data.
        #[arg(long, default_value_t = 42)]
        random_seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Create an API key for a workspace; prints it once as JSON.
    Create {
        /// The workspace the key authenticates.
        #[arg(long)]
        workspace: Uuid,
        /// A name to recognise the key by (e.g. the app that uses it).
        #[arg(long)]
        name: String,
        /// What the key may do, comma-separated: chats:read, chats:write,
        /// messages:read, messages:write, directory:read, events:subscribe.
        /// Default: all of them.
        #[arg(long, value_parser = parse_scopes)]
        scopes: Option<Scopes>,
    },
    /// List API keys as JSON: prefix, name, workspace, created, last used,
    /// revoked. Never the secret (it is not stored).
    List {
        /// Only this workspace's keys.
        #[arg(long)]
        workspace: Option<Uuid>,
    },
    /// Revoke an API key: its next request is refused.
    Revoke {
        /// The key's prefix, `cgw_` and 16 hex digits (see `api-key list`).
        #[arg(long)]
        prefix: String,
    },
}

#[derive(Debug, Subcommand)]
enum WorkspaceCommand {
    /// Create a workspace and a first API key; prints both as JSON.
    Create {
        /// The workspace's display name.
        #[arg(long)]
        name: String,
    },
}

impl Cli {
    /// The command line, parsed; exits with a usage error as clap does, also
    /// for a server flag written before a command (`--listen X migrate`),
    /// which that command would otherwise ignore without a word.
    pub fn parse_checked() -> Self {
        use clap::{CommandFactory, FromArgMatches, error::ErrorKind, parser::ValueSource};
        let mut command = Self::command();
        let matches = command.clone().get_matches();
        if let Some(sub) = matches.subcommand_name() {
            let misplaced = command.get_arguments().find(|arg| {
                !arg.is_global_set()
                    && matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            });
            if let Some(arg) = misplaced {
                let flag = arg.get_long().unwrap_or(arg.get_id().as_str());
                let hint = if sub == "serve" {
                    format!("write it after `serve` (chat-gateway serve --{flag} ...)")
                } else {
                    format!("`{sub}` does not take it")
                };
                command
                    .error(
                        ErrorKind::ArgumentConflict,
                        format!("--{flag} is a flag of `serve`: {hint}"),
                    )
                    .exit();
            }
        }
        Self::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
    }

    /// How log lines are to be written, when the command line says.
    pub fn log_format(&self) -> Option<LogFormat> {
        self.log_format
    }

    /// The server's settings, when the command serves.
    pub fn serving(&self) -> Option<&Config> {
        match &self.command {
            None => Some(&self.config),
            Some(Command::Serve(config)) => Some(config),
            Some(_) => None,
        }
    }

    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        let database = &self.database;
        let json = logs::resolved(self.log_format) == LogFormat::Json;
        match self.command {
            None => {
                let config = Config {
                    database: self.database,
                    ..self.config
                };
                serve(config, json).await
            }
            Some(Command::Serve(config)) => {
                let config = Config {
                    database: self.database,
                    ..*config
                };
                serve(config, json).await
            }
            Some(Command::Migrate) => {
                connect(database, Create::IfMissing).await?;
                eprintln!("migrations applied");
                Ok(())
            }
            Some(Command::Schema) => {
                print!("{}", graphql::sdl());
                Ok(())
            }
            Some(Command::ApiKey(ApiKeyCommand::Create {
                workspace,
                name,
                scopes,
            })) => {
                let db = connect(database, Create::Never).await?;
                if !workspace::exists(&db, workspace)
                    .await
                    .map_err(|e| e.into_anyhow())?
                {
                    anyhow::bail!("no workspace has the id {workspace}");
                }
                let scopes = scopes.map(Scopes::to_claim);
                let key = api_key::create(&db, workspace, &name, scopes.as_deref())
                    .await
                    .map_err(|e| e.into_anyhow())?;
                eprintln!("API key created; it is shown only this once.");
                println!(
                    "{}",
                    json!({
                        "id": key.model.id,
                        "workspaceId": workspace,
                        "name": key.model.name,
                        "prefix": key.model.prefix,
                        "scopes": scopes_json(&key.model),
                        "apiKey": key.key,
                    })
                );
                Ok(())
            }
            Some(Command::ApiKey(ApiKeyCommand::List { workspace })) => {
                let db = connect(database, Create::Never).await?;
                let keys = api_key::list(&db, workspace)
                    .await
                    .map_err(|e| e.into_anyhow())?;
                let keys: Vec<_> = keys.iter().map(key_json).collect();
                println!("{}", serde_json::Value::Array(keys));
                Ok(())
            }
            Some(Command::ApiKey(ApiKeyCommand::Revoke { prefix })) => {
                let db = connect(database, Create::Never).await?;
                let key = api_key::revoke(&db, &prefix)
                    .await
                    .map_err(|e| e.into_anyhow())?;
                eprintln!("API key {} revoked.", key.prefix);
                println!("{}", key_json(&key));
                Ok(())
            }
            Some(Command::Seed {
                chats,
                messages_per_chat_max,
                random_seed,
            }) => {
                let db = connect(database, Create::IfMissing).await?;
                let options = seed::SeedOptions {
                    chats,
                    messages_per_chat_max,
                    random_seed,
                };
                // Ctrl-C or SIGTERM: stop after the chunk being written.
                let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let flag = stop.clone();
                tokio::spawn(async move {
                    crate::app::shutdown_signal().await;
                    eprintln!("\nStopping after the chunk being written...");
                    flag.store(true, std::sync::atomic::Ordering::Relaxed);
                });
                let summary = seed::run(&db, options, &stop)
                    .await
                    .map_err(|e| e.into_anyhow())?;
                println!("{}", serde_json::to_string(&summary)?);
                if summary.interrupted {
                    eprintln!(
                        "Interrupted: workspace {} holds the {} chats written so far.",
                        summary.workspace_id, summary.chats
                    );
                    // As a shell reports a process ended by Ctrl-C.
                    std::process::exit(130);
                }
                eprintln!(
                    "Seeded {} chats with {} messages in {:.1} s.",
                    summary.chats, summary.messages, summary.seconds
                );
                Ok(())
            }
            Some(Command::Workspace(WorkspaceCommand::Create { name })) => {
                let db = connect(database, Create::IfMissing).await?;
                let (workspace, key) = workspace::create(&db, &name, "first key")
                    .await
                    .map_err(|e| e.into_anyhow())?;
                eprintln!("Workspace created; its API key is shown only this once.");
                println!(
                    "{}",
                    json!({ "workspaceId": workspace.id, "apiKey": key.key })
                );
                Ok(())
            }
        }
    }
}

/// What the CLI shows of a key: everything but its hash.
fn key_json(key: &entity::api_key::Model) -> serde_json::Value {
    json!({
        "id": key.id,
        "workspaceId": key.workspace_id,
        "name": key.name,
        "prefix": key.prefix,
        // Written as the API writes its DateTime scalar.
        "createdAt": key.created_at.to_rfc3339(),
        "lastUsedAt": key.last_used_at.map(|at| at.to_rfc3339()),
        "revokedAt": key.revoked_at.map(|at| at.to_rfc3339()),
        "scopes": scopes_json(key),
    })
}

/// A key's scopes as a JSON list (every scope for a key made before
/// scopes were kept).
fn scopes_json(key: &entity::api_key::Model) -> serde_json::Value {
    Scopes::of_key(key.scopes.as_deref())
        .iter()
        .map(|scope| scope.as_str())
        .collect()
}

/// `--scopes`: at least one, each known.
fn parse_scopes(text: &str) -> Result<Scopes, String> {
    let scopes = Scopes::parse_list(text)?;
    if scopes == Scopes::default() {
        return Err("name at least one scope".to_owned());
    }
    Ok(scopes)
}

/// Connects and migrates. Commands that only read or change keys use
/// `Create::Never`: a mistyped SQLite path is an error, not a new file.
async fn connect(
    database: &DatabaseConfig,
    create: Create,
) -> anyhow::Result<sea_orm::DatabaseConnection> {
    // Admin work (migrations, seeding millions of rows) may take long.
    let (db, _) = db::connect(database, None, create).await?;
    db::migrate(&db)
        .await
        .context("cannot migrate the database")?;
    Ok(db)
}

/// Serves `config`. With `json` logs, stderr holds log lines only: the
/// welcome is one of them, and the demo key is on stdout alone.
async fn serve(config: Config, json: bool) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    // Before anything says the server is up: a SIGTERM sent on seeing
    // that must find its handler in place.
    let stop = crate::app::shutdown_signal();
    let url = format!("{}/graphql", app.base_url());
    match app.demo() {
        Some(demo) if json => {
            tracing::info!(
                workspace_id = %demo.workspace_id,
                graphiql = demo.graphiql_url,
                "created a demo workspace; its API key is on stdout, shown only this once"
            );
            println!("{}", serde_json::to_string(demo)?);
        }
        None if json => {
            let me = invocation();
            tracing::info!(
                graphiql = url,
                make_a_key = format!("{me} api-key create --workspace <id> --name me"),
                "keys are shown once, when created; `{me} api-key list` shows each key's workspace id"
            );
        }
        Some(demo) => {
            eprintln!(
                "\nCreated a demo workspace ({}).\n\
                 \n  GraphiQL:  {}\n  API key:   {}\n\
                 \nOpen {}#apiKey={} to explore with the key filled in,\n\
                 or send it as `Authorization: Bearer <key>` (or `X-API-Key: <key>`).\n\
                 The key is shown only this once.\n",
                demo.workspace_id, demo.graphiql_url, demo.api_key, demo.graphiql_url, demo.api_key,
            );
            println!("{}", serde_json::to_string(demo)?);
        }
        None => {
            let me = invocation();
            eprintln!(
                "\nGraphiQL: {url}\n\
                 Keys are shown once, when created. To make another:\n  \
                 {me} api-key create --workspace <id> --name me\n\
                 (`{me} api-key list` shows each key's workspace id).\n"
            );
        }
    }
    tracing::info!(%url, "listening");
    app.run_until(stop).await
}

/// How this binary was started, so that a command it suggests can be
/// pasted as it is: `cargo run --release --` under `cargo run` (which sets
/// `CARGO`), else the name it was called by.
fn invocation() -> String {
    if std::env::var_os("CARGO").is_some() {
        let cargo = if cfg!(debug_assertions) {
            "cargo run --"
        } else {
            "cargo run --release --"
        };
        return cargo.to_owned();
    }
    std::env::args()
        .next()
        .unwrap_or_else(|| "chat-gateway".to_owned())
}
