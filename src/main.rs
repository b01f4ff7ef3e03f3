//! The `chat-gateway` binary: parse the command line, set up logging, run.

use std::time::Duration;

use chat_gateway::{
    cli::Cli,
    telemetry::{logs, traces},
};
use mimalloc::MiMalloc;

/// glibc's malloc, free and memmove were a quarter of a LIST request's
/// samples; mimalloc's per-thread free lists serve the many small,
/// short-lived allocations of resolving a page for less.
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse_checked();
    let telemetry = cli.serving().map(|config| &config.telemetry);
    let traces = match telemetry.and_then(|t| Some((t.otlp_endpoint.as_deref()?, t))) {
        Some((endpoint, telemetry)) => {
            match traces::start(endpoint, telemetry.otlp_sampling_ratio) {
                Ok(started) => Some(started),
                Err(error) => {
                    eprintln!("error: cannot export traces to {endpoint}: {error:#}");
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
        None => None,
    };
    let (layer, traces) = traces.unzip();
    logs::init(cli.log_format(), layer);
    let result = cli.run().await;
    if let Some(traces) = traces {
        // What the last requests made, before the process goes.
        traces.flush(Duration::from_secs(5)).await;
    }
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line: the context, then the cause, each once.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
