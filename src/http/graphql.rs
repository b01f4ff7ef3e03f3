//! GraphQL over HTTP (POST and GET `/graphql`), per the GraphQL-over-HTTP
//! spec. A request goes through, in order: content negotiation, reading the
//! body, the document limits, the API key and its rate limit, then
//! execution under the request timeout. What fails before execution never
//! reaches the database, except the key lookup.

use async_graphql::{Response as GraphQLResult, parser::types::OperationType};
use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequestParts, Request, State, ws::WebSocketUpgrade},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    accept::{self, Format},
    request, ws,
};
use crate::{
    auth::Viewer,
    config::cap,
    error::AppError,
    graphiql,
    graphql::response::{self, Shaped},
    net::Peer,
    state::AppState,
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

/// Checks the document, authenticates, executes; every failure from here
/// on is written in the negotiated format. The request timeout covers
/// execution and serialising the response; writing it is bounded by the
/// connection's stalled-write timeout ([`crate::net`]).
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
    incoming: request::Incoming,
    method: Method,
) -> Response {
    let request::Incoming {
        request: mut query,
        document_id,
    } = incoming;
    let trusted = match state.admission.trusted(document_id.as_deref()) {
        Ok(trusted) => trusted,
        Err(error) => return refuse(format, error),
    };
    // Checked before the key is looked up, and which operation runs is
    // decided here: a GET must not run a mutation, however it is named.
    let admitted = match state.admission.admit(&mut query, trusted) {
        Ok(admitted) => admitted,
        Err(error) => {
            let result = GraphQLResult::from_errors(vec![error]);
            return respond(format, response::shape(result, 0, false));
        }
    };
    if method == Method::GET && admitted.ty != OperationType::Query {
        let refusal = AppError::MethodNotAllowed("Only queries may be sent with GET; use POST");
        return refuse(format, refusal);
    }
    let execution = async {
        let viewer = Viewer::from_headers(headers, state).await?;
        let session = state.sessions.open(viewer.workspace_id);
        let execution = session.execution();
        let schema = state.schemas.to_run(&admitted);
        let result = schema.execute(query.data(session)).await;
        admitted.ran(&result);
        let max_bytes = state.limits.max_response_bytes;
        let exhausted = execution.budget.exhausted();
        Ok::<_, AppError>(response::shape(result, max_bytes, exhausted))
    };
    let finished = match state.limits.request_timeout() {
        Some(timeout) => tokio::time::timeout(timeout, execution).await,
        None => Ok(execution.await),
    };
    match finished {
        Ok(Ok(shaped)) => respond(format, shaped),
        Ok(Err(error)) => refuse(format, error),
        Err(_elapsed) => refuse(format, AppError::Timeout),
    }
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
        Shaped::RequestErrors(_) if format == Format::GraphQLResponse => StatusCode::BAD_REQUEST,
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
