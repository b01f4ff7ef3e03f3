//! The spans the gateway makes, and whether each is traced.
//!
//! Sampling is decided once, where a trace starts here: the HTTP request
//! (the caller's `traceparent` decides, else `--otlp-sampling-ratio`), an
//! operation on a WebSocket, a batch of events delivered. Spans made below
//! one inherit its decision through their target ([`TRACED`] or
//! [`UNTRACED`]), and the exporter's layer sees only traced spans (and
//! the SQL statements within them): an unsampled request costs what it
//! costs without traces, instead of building spans nobody will export.
//! Without the exporter ([`super::traces`]) nothing is traced.

use std::{
    sync::OnceLock,
    time::{Duration, SystemTime},
};

use axum::http::{Request, Response};
use opentelemetry::{
    KeyValue,
    propagation::TextMapPropagator,
    trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _},
};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use sea_orm::DbBackend;
use tracing::Span as Traced;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::access::REQUEST_ID;

/// The target of spans that are traced.
pub const TRACED: &str = "chat_gateway::traced";
/// The target of spans that are not (a decision not to sample, or no
/// exporter).
pub const UNTRACED: &str = "chat_gateway::untraced";

/// `--otlp-sampling-ratio`, once the exporter runs (it is the process's).
static RATIO: OnceLock<f64> = OnceLock::new();

/// Traces new roots at `ratio` from now on.
pub(super) fn sample_at(ratio: f64) {
    let _ = RATIO.set(ratio);
}

/// Whether a trace that starts here is sampled.
pub fn sample_root() -> bool {
    RATIO
        .get()
        .is_some_and(|ratio| rand::random::<f64>() < *ratio)
}

/// Whether spans made under `parent` are traced: when it is.
pub fn traced_under(parent: &Traced) -> bool {
    parent
        .metadata()
        .is_some_and(|meta| meta.target() == TRACED)
}

/// An `info` span when `$traced`; otherwise none at all: below the
/// request's span (which logs keep for its id), an untraced span would
/// only cost its fields' formatting for log lines that never show it.
macro_rules! span {
    ($traced:expr, $($span:tt)+) => {
        if $traced {
            tracing::info_span!(target: "chat_gateway::traced", $($span)+)
        } else {
            tracing::Span::none()
        }
    };
}
pub(crate) use span;

/// The span of one HTTP request (the server span of its trace): named by
/// method and path (never the query string, which may carry variables),
/// a child of the caller's span when `traceparent` names one.
pub fn request_span<B>(request: &Request<B>) -> Traced {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (method, path) = (request.method(), request.uri().path());
    let parent = request
        .headers()
        .contains_key("traceparent")
        .then(|| TraceContextPropagator::new().extract(&HeaderExtractor(request.headers())))
        .filter(|parent| parent.span().span_context().is_valid());
    let traced = RATIO.get().is_some()
        && match &parent {
            Some(parent) => parent.span().span_context().is_sampled(),
            None => sample_root(),
        };
    if !traced {
        // What log lines within the request show of it.
        return tracing::info_span!(target: "chat_gateway::untraced", "request", method = %method, path, id);
    }
    let span = tracing::info_span!(
        target: "chat_gateway::traced",
        "request",
        otel.name = %format_args!("{method} {}", route(path)),
        otel.kind = "server",
        method = %method,
        path,
        id,
    );
    if let Some(parent) = parent {
        let _ = span.set_parent(parent);
    }
    span.set_attribute("http.request.method", method.to_string());
    span.set_attribute("url.path", path.to_owned());
    span
}

/// The route `path` took, as span names give it: a path of the gateway's,
/// or none (span names stay few whatever paths clients try).
fn route(path: &str) -> &str {
    match path {
        "/" | "/graphql" | "/healthz" | "/readyz" => path,
        _ if path.starts_with("/graphiql/") => "/graphiql/{file}",
        _ => "(unknown)",
    }
}

/// The W3C `traceparent` of the current span, when it is traced: what a
/// write records with its events, so that their delivery is traced too
/// and links back to it.
pub fn current_traceparent() -> Option<String> {
    let context = Traced::current().context();
    let span = context.span();
    let span = span.span_context();
    if !span.is_valid() || !span.is_sampled() {
        return None;
    }
    Some(format!(
        "00-{}-{}-{:02x}",
        span.trace_id(),
        span.span_id(),
        span.trace_flags().to_u8()
    ))
}

/// The span of a batch of events delivered to this process's
/// subscribers, given the `traceparent` each event's write kept: traced
/// when one of those writes was (linked to each), or as a new trace.
pub fn delivery<'a>(parents: impl Iterator<Item = Option<&'a str>> + Clone) -> Traced {
    let mut written = parents.clone().flatten().peekable();
    let traced = written.peek().is_some() || sample_root();
    let span = span!(
        traced,
        "chat_events.deliver",
        otel.name = "deliver chat events",
        events = parents.count(),
    );
    if traced {
        link_writes(&span, written);
    }
    span
}

/// A span for one SQL statement that took `elapsed` and has just
/// returned, when the span it ran in is traced: a child of it, with
/// `db.system` and `db.statement` (the text; values are bound apart).
/// Made after the fact from the statement's own timing, so an untraced
/// statement costs one look at the current span.
pub fn statement(backend: DbBackend, sql: &str, elapsed: Duration, failed: bool) {
    let current = Traced::current();
    if !traced_under(&current) {
        return;
    }
    let tracer = opentelemetry::global::tracer(super::traces::SERVICE_NAME);
    let end = SystemTime::now();
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or("SQL")
        .to_ascii_uppercase();
    let system = match backend {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    let mut span = tracer
        .span_builder(operation.clone())
        .with_kind(SpanKind::Client)
        .with_start_time(end.checked_sub(elapsed).unwrap_or(end))
        .with_attributes([
            KeyValue::new("db.system", system),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("db.statement", sql.to_owned()),
        ])
        .start_with_context(&tracer, &current.context());
    if failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}

/// Links `span` to each write whose `traceparent` is in `parents`.
fn link_writes<'a>(span: &Traced, parents: impl IntoIterator<Item = &'a str>) {
    let mut linked = std::collections::HashSet::new();
    for parent in parents {
        if !linked.insert(parent) {
            continue;
        }
        let carrier =
            std::collections::HashMap::from([("traceparent".to_owned(), parent.to_owned())]);
        let context = TraceContextPropagator::new().extract(&carrier);
        let write = context.span().span_context().clone();
        if write.is_valid() {
            span.add_link(write);
        }
    }
}

/// Notes the response's status on the request's span.
pub fn record_response<B>(response: &Response<B>, _: Duration, span: &Traced) {
    if !traced_under(span) {
        return;
    }
    let status = response.status();
    span.set_attribute("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.set_status(opentelemetry::trace::Status::error(
            status.as_str().to_owned(),
        ));
    }
}
