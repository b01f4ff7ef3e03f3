//! The command line. Output meant for scripts is one JSON object on stdout;
//! progress and logs go to stderr.

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use serde_json::json;
use uuid::Uuid;

use crate::{
    app::Application,
    config::{Config, DatabaseConfig},
    db, graphql, seed,
    service::{api_key, workspace},
};

/// A GraphQL gateway over the chats of an AI customer-service platform.
///
/// With no subcommand, serves (same as `serve`). On an empty database it
/// first creates a demo workspace and prints its API key.
#[derive(Debug, Parser)]
#[command(name = "chat-gateway", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    serve: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve GraphQL (`/graphql`), GraphiQL and health checks (the default).
    Serve(Config),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseConfig),
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
        #[command(flatten)]
        database: DatabaseConfig,
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
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// List API keys as JSON: prefix, name, workspace, created, last used,
    /// revoked. Never the secret (it is not stored).
    List {
        /// Only this workspace's keys.
        #[arg(long)]
        workspace: Option<Uuid>,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Revoke an API key: its next request is refused.
    Revoke {
        /// The key's prefix, `cgw_` and 16 hex digits (see `api-key list`).
        #[arg(long)]
        prefix: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

#[derive(Debug, Subcommand)]
enum WorkspaceCommand {
    /// Create a workspace and a first API key; prints both as JSON.
    Create {
        /// The workspace's display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

impl Cli {
    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            None => serve(self.serve).await,
            Some(Command::Serve(config)) => serve(config).await,
            Some(Command::Migrate(database)) => {
                connect(&database).await?;
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
                database,
            })) => {
                let db = connect(&database).await?;
                if !workspace::exists(&db, workspace)
                    .await
                    .map_err(|e| e.into_anyhow())?
                {
                    anyhow::bail!("no workspace has the id {workspace}");
                }
                let key = api_key::create(&db, workspace, &name)
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
                        "apiKey": key.key,
                    })
                );
                Ok(())
            }
            Some(Command::ApiKey(ApiKeyCommand::List {
                workspace,
                database,
            })) => {
                let db = connect(&database).await?;
                let keys = api_key::list(&db, workspace)
                    .await
                    .map_err(|e| e.into_anyhow())?;
                let keys: Vec<_> = keys.iter().map(key_json).collect();
                println!("{}", serde_json::Value::Array(keys));
                Ok(())
            }
            Some(Command::ApiKey(ApiKeyCommand::Revoke { prefix, database })) => {
                let db = connect(&database).await?;
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
                database,
            }) => {
                let db = connect(&database).await?;
                let options = seed::SeedOptions {
                    chats,
                    messages_per_chat_max,
                    random_seed,
                };
                let summary = seed::run(&db, options).await.map_err(|e| e.into_anyhow())?;
                eprintln!(
                    "Seeded {} chats with {} messages in {:.1} s.",
                    summary.chats, summary.messages, summary.seconds
                );
                println!("{}", serde_json::to_string(&summary)?);
                Ok(())
            }
            Some(Command::Workspace(WorkspaceCommand::Create { name, database })) => {
                let db = connect(&database).await?;
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
        "createdAt": key.created_at,
        "lastUsedAt": key.last_used_at,
        "revokedAt": key.revoked_at,
    })
}

/// Connects and migrates, so every command works on a fresh database.
async fn connect(database: &DatabaseConfig) -> anyhow::Result<sea_orm::DatabaseConnection> {
    // Admin work (migrations, seeding millions of rows) may take long.
    let (db, _) = db::connect(database, None)
        .await
        .context("cannot connect to the database")?;
    db::migrate(&db)
        .await
        .context("cannot migrate the database")?;
    Ok(db)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    let url = format!("http://{}/graphql", app.local_addr());
    if let Some(demo) = app.demo() {
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
    tracing::info!(%url, "listening");
    app.run_until_stopped().await
}
