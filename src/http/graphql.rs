//! GraphQL over HTTP (POST and GET `/graphql`), per the GraphQL-over-HTTP
//! spec. A request goes through, in order: content negotiation, reading the
//! body, the document limits, the API key and its rate limit, then
//! execution under the request timeout. What fails before execution never
//! reaches the database, except the key lookup.

use std::borrow::Cow;

use async_graphql::{
    Request as GraphQLRequest, Response as GraphQLResult, ServerError,
    parser::types::{ExecutableDocument, OperationType},
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
    config::cap,
    error::AppError,
    graphiql,
    graphql::{context::Session, limits, operation},
    service::api_key,
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
        let query =
            request::from_query_string(parts.uri.query(), cap(state.limits.max_body_bytes))?;
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
    // Which operation runs is decided here, before the key is looked up:
    // a GET must not run a mutation, however the document names it.
    let ty = match operation::select(&document, query.operation_name.as_deref()) {
        Ok(operation) => operation.node.ty,
        Err(error) => {
            let errors = vec![error.to_server_error(None)];
            return respond(format, GraphQLResult::from_errors(errors));
        }
    };
    if method == Method::GET && ty != OperationType::Query {
        let refusal = AppError::MethodNotAllowed("Only queries may be sent with GET; use POST");
        return refuse(format, refusal);
    }
    query.set_parsed_query(document);
    let execution = async {
        let viewer = Viewer::authenticate(headers, state).await?;
        let session = Session::new(state.db.clone(), viewer.workspace_id);
        Ok::<_, AppError>(state.schema.execute(query.data(session)).await)
    };
    let finished = match state.limits.request_timeout() {
        Some(timeout) => tokio::time::timeout(timeout, execution).await,
        None => Ok(execution.await),
    };
    match finished {
        Ok(Ok(result)) => respond(format, result),
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
    let as_errors = |error: AppError| vec![error.to_server_error(None)];
    limits::check_tokens(query, state.limits.max_tokens).map_err(as_errors)?;
    let document =
        async_graphql::parser::parse_query(query).map_err(|error| vec![syntax_error(error)])?;
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

/// A document that does not parse, said in one line a client can show
/// ("Syntax error at 1:8: expected selection set"); the parser's own text
/// draws the line with a caret over several lines.
fn syntax_error(error: async_graphql::parser::Error) -> ServerError {
    use async_graphql::parser::Error;
    let message = match &error {
        Error::Syntax { message, start, .. } => {
            let expected = message
                .lines()
                .rev()
                .find_map(|line| line.trim().strip_prefix("= "))
                .unwrap_or("unexpected input")
                .replace('_', " ");
            format!(
                "Syntax error at {}:{}: {expected}",
                start.line, start.column
            )
        }
        other => other.to_string(),
    };
    let mut server_error = ServerError::from(error);
    server_error.message = message;
    server_error
        .locations
        .retain(|at| at.line > 0 && at.column > 0);
    server_error
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

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}
