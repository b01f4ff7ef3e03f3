//! The HTTP face of the gateway: GraphQL over POST and GET (in
//! [`graphql`]), GraphiQL for browsers, the health checks and metrics. No
//! SQL lives here.

pub mod accept;
pub mod graphql;
pub mod request;
pub mod ws;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

pub use self::graphql::{graphql_get, graphql_post};
use crate::state::AppState;

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
         chat_gateway_sql_statements_total {}\n\
         # HELP chat_gateway_subscriptions Subscriptions attached to this process's event bus.\n\
         # TYPE chat_gateway_subscriptions gauge\n\
         chat_gateway_subscriptions {}\n",
        state.statements.get(),
        state.events.subscriptions()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
