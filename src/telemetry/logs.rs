//! The process's `tracing` subscriber: log lines on stderr as text or
//! JSON (`--log-format`), filtered by `RUST_LOG`; the waits for pooled
//! connections that sqlx reports, into [`super::metrics::POOL_ACQUIRE`];
//! and, when asked for, the trace exporter's layer.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing::{Event, Level, Subscriber, field::Field};
use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    filter::Targets,
    layer::{Context, SubscriberExt},
    util::SubscriberInitExt,
};

use super::metrics::POOL_ACQUIRE;

/// What is logged without `RUST_LOG`: the gateway's own news, not each
/// migration the migrator applies, nor sea-orm's own chatter.
const DEFAULT_LOG: &str = "info,sea_orm_migration=warn,sea_orm=warn";

/// The target sqlx reports each connection acquisition on.
const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line, the event's fields at the top level.
    Json,
}

/// A layer the subscriber also runs (the trace exporter's).
pub type Extra = Box<dyn Layer<Registry> + Send + Sync>;

/// `format`, or text on a terminal and JSON otherwise (a log collector
/// reads the lines).
pub fn resolved(format: Option<LogFormat>) -> LogFormat {
    format.unwrap_or(if std::io::stderr().is_terminal() {
        LogFormat::Text
    } else {
        LogFormat::Json
    })
}

/// Installs the subscriber, writing lines in `format` (see [`resolved`]).
pub fn init(format: Option<LogFormat>, extra: Option<Extra>) {
    let terminal = std::io::stderr().is_terminal();
    let format = resolved(format);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let lines = match format {
        // Colour codes only for a terminal, not in files and collectors.
        LogFormat::Text => lines.with_ansi(terminal).with_filter(filter).boxed(),
        LogFormat::Json => lines.json().flatten_event(true).with_filter(filter).boxed(),
    };
    let acquires =
        AcquireTimes.with_filter(Targets::new().with_target(ACQUIRE_TARGET, Level::TRACE));
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(extra)
        .with(lines)
        .with(acquires)
        .try_init();
}

/// Observes sqlx's `acquired_after_secs` on each acquisition.
struct AcquireTimes;

impl<S: Subscriber> Layer<S> for AcquireTimes {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        struct Seconds(Option<f64>);
        impl tracing::field::Visit for Seconds {
            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut seconds = Seconds(None);
        event.record(&mut seconds);
        if let Some(seconds) = seconds.0 {
            POOL_ACQUIRE.observe(seconds);
        }
    }
}
