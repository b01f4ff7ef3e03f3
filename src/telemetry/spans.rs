//! The spans the gateway makes that are not one call's: the HTTP
//! request's (joining the caller's trace from `traceparent`), and the links
//! from an event's delivery back to the write that recorded it (by the
//! `traceparent` the write keeps with its events). Without the exporter
//! ([`super::traces`]) they are plain `tracing` spans and the links are
//! no-ops.

use std::time::Duration;

use axum::http::{Request, Response};
use opentelemetry::{propagation::TextMapPropagator, trace::TraceContextExt};
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span as Traced;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::access::REQUEST_ID;

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
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {}", route(path)),
        otel.kind = "server",
        method = %method,
        path,
        id,
    );
    if request.headers().contains_key("traceparent") {
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
        if parent.span().span_context().is_valid() {
            // Without the exporter's layer there is nothing to join.
            let _ = span.set_parent(parent);
        }
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

/// The W3C `traceparent` of the current span, when it is traced and
/// sampled: what a write records with its events, so that their delivery
/// links back to it.
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

/// Links `span` to each write whose `traceparent` is in `parents`.
pub fn link_writes<'a>(span: &Traced, parents: impl IntoIterator<Item = &'a str>) {
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
    let status = response.status();
    span.set_attribute("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.set_status(opentelemetry::trace::Status::error(
            status.as_str().to_owned(),
        ));
    }
}
