//! One line per HTTP request, at `info` on the `chat_gateway::access`
//! target, and the count of responses by status. The line names the
//! request (method, path without the query string, which may carry
//! variables), its status, duration and id, and what the pipeline saw of
//! the operation (type, name, principal): never a key, a token or a
//! variable.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use super::{Seen, Telemetry};

/// The header a request's id travels in (taken from the request, or made).
pub const REQUEST_ID: &str = "x-request-id";

/// Longest request id taken from a client.
const MAX_REQUEST_ID: usize = 128;

/// Drops a request id the client sent that is longer than
/// [`MAX_REQUEST_ID`] or not plain (letters, digits, `-`, `_`, `.`, `:`),
/// so that one is made in its place: what logs and responses repeat stays
/// short and harmless.
pub async fn plain_request_id(mut request: Request) -> Request {
    let plain = request.headers().get(REQUEST_ID).is_none_or(|id| {
        id.len() <= MAX_REQUEST_ID
            && id
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    });
    if !plain {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// Observes `request` on its way through `next`.
pub async fn observe(
    State(telemetry): State<Arc<Telemetry>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let status = response.status();
    telemetry.metrics.http_response(status);
    let seen = response.extensions().get::<Seen>();
    tracing::info!(
        target: "chat_gateway::access",
        method = %method,
        path,
        status = status.as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
        request_id = id,
        operation_type = seen.map_or("", Seen::ty_str),
        operation_name = seen.and_then(|seen| seen.name.as_deref()).unwrap_or_default(),
        principal = seen.and_then(|seen| seen.principal.as_deref()).unwrap_or_default(),
        "request",
    );
    response
}
