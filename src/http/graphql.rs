//! GraphQL over HTTP (POST and GET `/graphql`), per the GraphQL-over-HTTP
//! spec. A request goes through content negotiation and reading the body,
//! then the pipeline every transport shares ([`crate::pipeline`]):
//! credential, identity, the document's admission, the rate limit, and
//! execution under the request timeout. What fails before execution never
//! reaches the database, except the key lookup.

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequestParts, Request, State, ws::WebSocketUpgrade},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use super::{
    accept::{self, Format},
    request, ws,
};
use crate::{
    auth::credentials,
    config::cap,
    error::AppError,
    graphiql,
    graphql::response::{self, Shaped},
    net::Peer,
    pipeline::{self, Allowed, Refusal},
    state::AppState,
    telemetry::{Transport, observed::Observed},
};

/// `POST /graphql`: runs a query or mutation for the key's workspace.
pub async fn graphql_post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let run = async {
        let format = accept::negotiate(&parts.headers)?;
        accept::require_json_body(&parts.headers)?;
        let query = request::from_body(body, cap(state.limits.max_body_bytes)).await?;
        Ok(run(&state, &parts.headers, format, query, Method::POST).await)
    };
    run.await
        .unwrap_or_else(|error: AppError| error.into_response())
}

/// `GET /graphql`: a WebSocket for subscriptions when it asks to upgrade
/// ([`ws`]), GraphiQL for browsers (`Accept: text/html`); otherwise runs
/// the query in the URL. Mutations are refused: a GET must not change
/// anything (links, prefetchers and caches send GETs freely).
pub async fn graphql_get(State(state): State<AppState>, request: Request<Body>) -> Response {
    if ws::is_upgrade(request.headers()) {
        let (mut parts, _) = request.into_parts();
        let reads = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|peer| peer.0.reads.clone());
        return match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => ws::upgrade(state, parts.headers, upgrade, reads).await,
            Err(rejection) => rejection.into_response(),
        };
    }
    if accepts_html(request.headers()) {
        return graphiql::page().await.into_response();
    }
    // Only the head: a body is not read (nor kept, since it is not `Sync`).
    let (parts, _) = request.into_parts();
    let run = async {
        let format = accept::negotiate(&parts.headers)?;
        let query =
            request::from_query_string(parts.uri.query(), cap(state.limits.max_body_bytes))?;
        Ok(run(&state, &parts.headers, format, query, Method::GET).await)
    };
    run.await
        .unwrap_or_else(|error: AppError| error.into_response())
}

/// Runs the request through the pipeline ([`crate::pipeline`]); every
/// failure from here on is written in the negotiated format. The request
/// timeout covers identity, execution and serialising the response;
/// writing it is bounded by the connection's stalled-write timeout
/// ([`crate::net`]).
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
    incoming: request::Incoming,
    method: Method,
) -> Response {
    let allowed = if method == Method::GET {
        Allowed::QueriesOnly
    } else {
        Allowed::Any
    };
    let mut observed = Observed::start(&state.telemetry, Transport::Http);
    let seen = &mut observed.seen;
    let execution = async {
        let credential = credentials::from_headers(headers);
        let ready = pipeline::prepare(state, credential, incoming, allowed, seen).await?;
        Ok(pipeline::run(state, ready).await)
    };
    let result = pipeline::timed(state, execution.instrument(observed.span.clone())).await;
    observed.note(match &result {
        Ok(shaped) => shaped.outcome,
        Err(refusal) => refusal.outcome(),
    });
    let mut response = match result {
        Ok(shaped) | Err(Refusal::Request(shaped)) => respond(format, shaped),
        Err(Refusal::Whole(error)) => refuse(format, error),
    };
    // For the access line.
    response.extensions_mut().insert(observed.seen.clone());
    response
}

/// A whole-request failure after negotiation, in the negotiated media type.
fn refuse(format: Format, error: AppError) -> Response {
    let mut response = error.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(format.content_type()),
    );
    response
}

/// Writes `shaped` in `format`. A request error (the request did not
/// execute) has no `data` entry and, in `application/graphql-response+json`,
/// HTTP 400.
fn respond(format: Format, shaped: Shaped) -> Response {
    let status = match &shaped {
        Shaped {
            body: response::Body::RequestErrors(_),
            ..
        } if format == Format::GraphQLResponse => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        shaped.into_body(),
    )
        .into_response()
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
