//! GraphQL over HTTP (POST and GET `/graphql`), per the GraphQL-over-HTTP
//! spec. A request goes through, in order: content negotiation, reading the
//! body, the document limits, the API key and its rate limit, then
//! execution under the request timeout. What fails before execution never
//! reaches the database, except the key lookup.

use std::{borrow::Cow, time::Duration};

use async_graphql::{
    Request as GraphQLRequest, Response as GraphQLResult, ServerError,
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};
use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    accept::{self, Format},
    request,
};
use crate::{
    app::AppState,
    auth::Viewer,
    error::AppError,
    graphiql,
    graphql::{context::Session, limits},
    service::api_key,
};

/// `POST /graphql`: runs a query or mutation for the key's workspace.
pub async fn graphql_post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let run = async {
        let format = accept::negotiate(&parts.headers)?;
        accept::require_json_body(&parts.headers)?;
        let query = request::from_body(body, state.limits.max_body_bytes).await?;
        Ok(run(&state, &parts.headers, format, query, Method::POST).await)
    };
    run.await
        .unwrap_or_else(|error: AppError| error.into_response())
}

/// `GET /graphql`: GraphiQL for browsers (`Accept: text/html`); otherwise
/// runs the query in the URL. Mutations are refused: a GET must not change
/// anything (links, prefetchers and caches send GETs freely).
pub async fn graphql_get(State(state): State<AppState>, request: Request<Body>) -> Response {
    if accepts_html(request.headers()) {
        return graphiql::page().await.into_response();
    }
    // Only the head: a body is not read (nor kept, since it is not `Sync`).
    let (parts, _) = request.into_parts();
    let run = async {
        let format = accept::negotiate(&parts.headers)?;
        let query = request::from_query_string(parts.uri.query(), state.limits.max_body_bytes)?;
        Ok(run(&state, &parts.headers, format, query, Method::GET).await)
    };
    run.await
        .unwrap_or_else(|error: AppError| error.into_response())
}

/// Checks the document, authenticates, executes; every failure from here
/// on is written in the negotiated format.
async fn run(
    state: &AppState,
    headers: &HeaderMap,
    format: Format,
    mut query: GraphQLRequest,
    method: Method,
) -> Response {
    let document = match parse_within_limits(&query.query, state) {
        Ok(document) => document,
        Err(errors) => return respond(format, GraphQLResult::from_errors(errors)),
    };
    if method == Method::GET
        && operation_type(&document, &query).is_some_and(|ty| ty != OperationType::Query)
    {
        let refusal = AppError::MethodNotAllowed("Only queries may be sent with GET; use POST");
        return refuse(format, refusal);
    }
    query.set_parsed_query(document);
    let timeout = Duration::from_secs(state.limits.request_timeout_secs);
    let execution = async {
        let viewer = Viewer::authenticate(headers, state).await?;
        let session = Session::new(state.db.clone(), viewer.workspace_id);
        Ok::<_, AppError>(state.schema.execute(query.data(session)).await)
    };
    match tokio::time::timeout(timeout, execution).await {
        Ok(Ok(mut result)) => {
            name_complexity_limit(&mut result, state.limits.max_complexity);
            respond(format, result)
        }
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

/// Tokens, then parsing, then the document's shape. Failures are request
/// errors, written like validation errors.
fn parse_within_limits(
    query: &str,
    state: &AppState,
) -> Result<ExecutableDocument, Vec<ServerError>> {
    let as_errors =
        |error: AppError| vec![error.to_graphql().into_server_error(Default::default())];
    limits::check_tokens(query, state.limits.max_tokens).map_err(as_errors)?;
    let document = async_graphql::parser::parse_query(query)
        .map_err(|error| vec![ServerError::from(error)])?;
    limits::check_document(&document, &state.limits).map_err(as_errors)?;
    Ok(document)
}

/// Writes `result` in `format`. A request error (the request did not
/// execute: no data, no error on a field path) gets no `data` entry and,
/// in `application/graphql-response+json`, HTTP 400.
fn respond(format: Format, mut result: GraphQLResult) -> Response {
    let request_error = result.data == async_graphql::Value::Null
        && !result.errors.is_empty()
        && result.errors.iter().all(|error| error.path.is_empty());
    label_codes(&mut result);
    // Serialized straight to text: this runs on every response.
    let body = if request_error {
        serde_json::to_string(&RequestErrors {
            errors: &result.errors,
        })
    } else {
        serde_json::to_string(&result)
    };
    let body = match body {
        Ok(body) => body,
        Err(error) => return AppError::Internal(error.into()).into_response(),
    };
    let status = if request_error && format == Format::GraphQLResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        body,
    )
        .into_response()
}

/// A response to a request that did not execute: errors, no `data` entry.
#[derive(serde::Serialize)]
struct RequestErrors<'a> {
    errors: &'a [ServerError],
}

/// async-graphql's own complexity error does not name the limit.
fn name_complexity_limit(result: &mut GraphQLResult, max_complexity: usize) {
    for error in &mut result.errors {
        if error.path.is_empty() && error.message == "Query is too complex." {
            let named = AppError::LimitExceeded {
                limit: "max-complexity",
                actual: None,
                max: max_complexity,
            };
            *error = named.to_graphql().into_server_error(Default::default());
        }
    }
}

/// Errors raised by async-graphql itself (syntax, validation, argument
/// types) carry no code; every one of them is the client's input. Messages
/// that quote the client's text lose any API key in it.
fn label_codes(result: &mut GraphQLResult) {
    for error in &mut result.errors {
        if let Cow::Owned(redacted) = api_key::redact(&error.message) {
            error.message = redacted;
        }
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// The type of the operation the request would run, when it can be told
/// before execution (an unknown operation name fails there instead).
fn operation_type(document: &ExecutableDocument, query: &GraphQLRequest) -> Option<OperationType> {
    match &document.operations {
        DocumentOperations::Single(operation) => Some(operation.node.ty),
        DocumentOperations::Multiple(operations) => {
            let name = query.operation_name.as_deref()?;
            operations.get(name).map(|operation| operation.node.ty)
        }
    }
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
