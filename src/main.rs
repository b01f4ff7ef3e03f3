//! The `chat-gateway` binary: parse the command line, set up logging, run.

use std::io::IsTerminal;

use mimalloc::MiMalloc;
use tracing_subscriber::EnvFilter;

/// glibc's malloc, free and memmove were a quarter of a LIST request's
/// samples; mimalloc's per-thread free lists serve the many small,
/// short-lived allocations of resolving a page for less.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// What is logged without `RUST_LOG`: the gateway's own news, not each
/// migration the migrator applies.
const DEFAULT_LOG: &str = "info,sea_orm_migration=warn";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not in files and log collectors.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match chat_gateway::cli::Cli::parse_checked().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line: the context, then the cause, each once.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
