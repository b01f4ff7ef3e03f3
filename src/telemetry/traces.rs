//! Traces, when `--otlp-endpoint` is given: the traced `tracing` spans
//! (requests, operations, root fields, batched loads, deliveries; see
//! [`super::spans`], which also makes the SQL statements' spans) become
//! OpenTelemetry spans, exported over OTLP/HTTP (protobuf) to
//! `<endpoint>/v1/traces`.
//!
//! A request that carries a W3C `traceparent` continues the caller's
//! trace; otherwise a new one is sampled at `--otlp-sampling-ratio`.
//! Export never holds up a request: finished spans go into a bounded
//! queue that one task empties in batches; when the collector is slow or
//! gone and the queue is full, spans are dropped and counted
//! (`otel_spans_dropped_total`).

use std::time::Duration;

use opentelemetry::{Context, trace::TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    trace::{Sampler, SdkTracerProvider, Span, SpanData, SpanExporter, SpanProcessor},
};
use tokio::sync::{mpsc, oneshot};
use tracing_subscriber::{Layer, filter::filter_fn};

use super::{logs::Extra, metrics::SPANS_DROPPED, spans};

/// Finished spans waiting for export; more are dropped.
const QUEUE: usize = 8_192;
/// Spans sent in one export.
const BATCH: usize = 512;
/// Longest a finished span waits for its batch to fill.
const LINGER: Duration = Duration::from_millis(500);
/// Longest one export may take (a collector that does not answer).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// The service name when `OTEL_SERVICE_NAME` does not give one.
pub const SERVICE_NAME: &str = "chat-gateway";

/// The running exporter: flush it before the process exits.
pub struct Tracing {
    flush: mpsc::Sender<oneshot::Sender<()>>,
    // Kept for as long as spans are made.
    _provider: SdkTracerProvider,
}

impl Tracing {
    /// Sends what is queued, waiting at most `within`.
    pub async fn flush(&self, within: Duration) {
        let (done, flushed) = oneshot::channel();
        if self.flush.send(done).await.is_ok() {
            let _ = tokio::time::timeout(within, flushed).await;
        }
    }
}

/// Starts exporting to `endpoint` (a base URL), sampling new traces at
/// `ratio`; returns the layer that turns spans into OpenTelemetry's.
/// Must run within the Tokio runtime.
pub fn start(endpoint: &str, ratio: f64) -> anyhow::Result<(Extra, Tracing)> {
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    // OTEL_SERVICE_NAME (and OTEL_RESOURCE_ATTRIBUTES) as the
    // specification says; our name otherwise.
    let resource = match std::env::var("OTEL_SERVICE_NAME") {
        Ok(name) if !name.is_empty() => Resource::builder().build(),
        _ => Resource::builder().with_service_name(SERVICE_NAME).build(),
    };
    // The exporter sends it with each batch (the SDK's own processors
    // pass it on; ours owns the exporter).
    exporter.set_resource(&resource);
    let (queue, queued) = mpsc::channel(QUEUE);
    let (flush, flushes) = mpsc::channel(1);
    tokio::spawn(export(exporter, queued, flushes));
    let provider = SdkTracerProvider::builder()
        .with_span_processor(Bounded { queue })
        // Decided before a span is made (spans::sample_root): whatever
        // reaches the SDK is kept.
        .with_sampler(Sampler::AlwaysOn)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer(SERVICE_NAME);
    // For the statements' spans, made on the SDK directly.
    opentelemetry::global::set_tracer_provider(provider.clone());
    spans::sample_at(ratio);
    // Traced spans only (log lines stay log lines; sampling is decided
    // where a trace starts, see `spans`). SQL statements are made by
    // `spans::statement`, straight on the SDK.
    let ours = filter_fn(|meta| meta.is_span() && meta.target() == spans::TRACED);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_filter(ours)
        .boxed();
    let tracing = Tracing {
        flush,
        _provider: provider,
    };
    Ok((layer, tracing))
}

/// Hands finished spans to the export task without waiting.
#[derive(Debug)]
struct Bounded {
    queue: mpsc::Sender<SpanData>,
}

impl SpanProcessor for Bounded {
    fn on_start(&self, _: &mut Span, _: &Context) {}

    fn on_end(&self, span: SpanData) {
        if !span.span_context.is_sampled() {
            return;
        }
        if self.queue.try_send(span).is_err() {
            SPANS_DROPPED.inc();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Sends the queued spans in batches: when [`BATCH`] are waiting, or the
/// oldest has waited [`LINGER`], or a flush is asked for.
async fn export(
    exporter: opentelemetry_otlp::SpanExporter,
    mut queued: mpsc::Receiver<SpanData>,
    mut flushes: mpsc::Receiver<oneshot::Sender<()>>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let mut flushed = None;
        tokio::select! {
            span = queued.recv() => match span {
                Some(span) => batch.push(span),
                None => return,
            },
            done = flushes.recv() => flushed = done,
        }
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while flushed.is_none() && batch.len() < BATCH {
            tokio::select! {
                span = queued.recv() => match span {
                    Some(span) => batch.push(span),
                    None => break,
                },
                done = flushes.recv() => flushed = done,
                () = &mut linger => break,
            }
        }
        if flushed.is_some() {
            while let Ok(span) = queued.try_recv() {
                batch.push(span);
            }
        }
        for chunk in std::mem::take(&mut batch).chunks(BATCH) {
            if let Err(error) = exporter.export(chunk.to_vec()).await {
                // Said once per failed batch, at debug: a collector that
                // is down would otherwise fill the logs.
                tracing::debug!(%error, spans = chunk.len(), "cannot export spans");
                SPANS_DROPPED.inc_by(chunk.len() as u64);
            }
        }
        if let Some(done) = flushed {
            let _ = done.send(());
        }
    }
}
