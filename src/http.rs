//! The HTTP face of the gateway: GraphQL over POST and GET, GraphiQL for
//! browsers, and the health checks. Handlers authenticate, build the
//! request's session and hand over to the schema; no SQL lives here.

use async_graphql::{
    Request as GraphQLQuery, Response as GraphQLResult,
    parser::types::{DocumentOperations, OperationType},
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse, rejection::GraphQLRejection};
use axum::{
    extract::{FromRequest, FromRequestParts, Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{app::AppState, auth::Viewer, error::AppError, graphiql, graphql::context::Session};

/// `POST /graphql`: runs a query or mutation for the key's workspace.
pub async fn graphql_post(
    State(state): State<AppState>,
    viewer: Viewer,
    request: GraphQLRequest,
) -> Response {
    execute(&state, viewer, request.into_inner()).await
}

/// `GET /graphql`: GraphiQL for browsers (`Accept: text/html`); otherwise
/// runs the query in the URL. Mutations are refused: a GET must not change
/// anything (links, prefetchers and caches send GETs freely).
pub async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    if accepts_html(request.headers()) {
        return graphiql::page().await.into_response();
    }
    let (mut parts, body) = request.into_parts();
    let viewer = match Viewer::from_request_parts(&mut parts, &state).await {
        Ok(viewer) => viewer,
        Err(rejection) => return rejection,
    };
    let request = Request::from_parts(parts, body);
    let query = match GraphQLRequest::<GraphQLRejection>::from_request(request, &state).await {
        Ok(query) => query.into_inner(),
        Err(rejection) => return rejection.into_response(),
    };
    if operation_type(&query).is_some_and(|ty| ty != OperationType::Query) {
        let refusal = AppError::MethodNotAllowed("Only queries may be sent with GET; use POST");
        return ([(header::ALLOW, "POST")], refusal).into_response();
    }
    execute(&state, viewer, query).await
}

async fn execute(state: &AppState, viewer: Viewer, query: GraphQLQuery) -> Response {
    let session = Session::new(state.db.clone(), viewer.workspace_id);
    let mut result = state.schema.execute(query.data(session)).await;
    label_request_errors(&mut result);
    GraphQLResponse::from(result).into_response()
}

/// Errors raised by async-graphql itself (syntax, validation, argument
/// types) carry no code; every one of them is the client's input.
fn label_request_errors(result: &mut GraphQLResult) {
    for error in &mut result.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// The type of the operation the request would run, when it can be told
/// before execution (a request that does not parse fails there instead).
fn operation_type(query: &GraphQLQuery) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&query.query).ok()?;
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

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// `GET /metrics`: counters in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let body = format!(
        "# HELP chat_gateway_sql_statements_total SQL statements run since start.\n\
         # TYPE chat_gateway_sql_statements_total counter\n\
         chat_gateway_sql_statements_total {}\n",
        state.statements.get()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
