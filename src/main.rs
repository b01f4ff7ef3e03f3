//! The `chat-gateway` binary: parse the command line, set up logging, run.

use chat_gateway::{cli::Cli, telemetry::logs};
use mimalloc::MiMalloc;

/// glibc's malloc, free and memmove were a quarter of a LIST request's
/// samples; mimalloc's per-thread free lists serve the many small,
/// short-lived allocations of resolving a page for less.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse_checked();
    logs::init(cli.log_format(), None);
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line: the context, then the cause, each once.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
