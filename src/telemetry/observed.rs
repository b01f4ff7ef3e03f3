//! One operation observed from its arrival to its end, whichever
//! transport carried it: its span (named once its document is read), and
//! at its end one observation of its duration and outcome for the metrics
//! and the slow-operation line ([`Telemetry::operation`]).

use std::{sync::Arc, time::Instant};

use futures_util::{Stream, StreamExt};
use opentelemetry::trace::{Status, TraceContextExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{
    Seen, Telemetry, Transport,
    spans::{sample_root, span, traced_under},
};
use crate::graphql::response::Shaped;

/// An operation being timed: observed once, with the outcome it ended
/// with, when it is dropped (a subscription's stream ends or is dropped
/// with it).
pub struct Observed {
    telemetry: Arc<Telemetry>,
    transport: Transport,
    started: Instant,
    pub seen: Seen,
    outcome: &'static str,
    /// The operation's span: its name and type are known once admitted.
    pub span: tracing::Span,
}

impl Observed {
    /// Starts timing an operation that `transport` received.
    pub fn start(telemetry: &Arc<Telemetry>, transport: Transport) -> Self {
        // Within the HTTP request's span, or (a WebSocket's operation) a
        // trace of its own.
        let current = tracing::Span::current();
        let traced = match current.metadata() {
            Some(_) => traced_under(&current),
            None => sample_root(),
        };
        Self {
            telemetry: telemetry.clone(),
            transport,
            started: Instant::now(),
            seen: Seen::default(),
            outcome: "ok",
            span: span!(
                traced,
                "graphql.operation",
                otel.name = "graphql.operation",
                graphql.operation.name = tracing::field::Empty,
                graphql.operation.type = tracing::field::Empty,
                graphql.document.hash = tracing::field::Empty,
                outcome = tracing::field::Empty,
            ),
        }
    }

    /// Notes how a result of the operation went: its first error counts.
    pub fn note(&mut self, outcome: &'static str) {
        if self.outcome == "ok" {
            self.outcome = outcome;
        }
    }

    /// Each of `results` noted, and the operation observed when they end.
    pub fn over(
        mut self,
        results: impl Stream<Item = Shaped> + Send + 'static,
    ) -> impl Stream<Item = Shaped> + Send + 'static {
        results.map(move |shaped| {
            self.note(shaped.outcome);
            shaped
        })
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        let (span, seen) = (&self.span, &self.seen);
        if !span.is_disabled() {
            name(span, seen, self.outcome);
        }
        let elapsed = self.started.elapsed();
        self.telemetry
            .operation(self.transport, &self.seen, self.outcome, elapsed);
    }
}

/// Names the operation's (traced) `span` after what was `seen`, and notes
/// its `outcome`.
fn name(span: &tracing::Span, seen: &Seen, outcome: &str) {
    if seen.ty.is_some() {
        let ty = seen.ty_str();
        // The span has started: its name is the OpenTelemetry span's
        // to change, no longer a field to record.
        let name = match seen.name.as_deref() {
            Some(name) => format!("{ty} {name}"),
            None => ty.to_owned(),
        };
        span.context().span().update_name(name);
        span.record("graphql.operation.type", ty);
    }
    if let Some(name) = seen.name.as_deref() {
        span.record("graphql.operation.name", name);
    }
    if let Some(hash) = seen.hash.as_deref() {
        span.record("graphql.document.hash", hash);
    }
    span.record("outcome", outcome);
    if outcome != "ok" {
        span.set_status(Status::error(outcome.to_owned()));
    }
}
