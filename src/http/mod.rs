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
use crate::{service::webhook::backlog, state::AppState, telemetry::metrics::Snapshot};

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers and (PostgreSQL) the event
/// listener has not been down longer than `--ready-listener-grace-secs`;
/// the body says which is wrong.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let unready = |why: String| {
        tracing::warn!(why, "not ready");
        (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
    };
    if let Err(error) = state.db.ping().await {
        tracing::warn!(%error, "readiness check failed");
        return unready("not ready: the database is unreachable".to_owned());
    }
    let down_for = state.listening.as_ref().and_then(|l| l.down_for());
    match down_for {
        Some(down) if down > state.listener_grace => unready(format!(
            "not ready: the PostgreSQL event listener has been disconnected for {}s \
             (other replicas' events reach subscribers here only by polling)",
            down.as_secs()
        )),
        _ => "ready".into_response(),
    }
}

/// `GET /metrics` (on the metrics listener): the instance's metrics in
/// the Prometheus text format, with the pool, the sockets and the event
/// reader read now.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let (pool_size, pool_idle) = crate::db::pool_usage(&state.db);
    let snapshot = Snapshot {
        pool_size,
        pool_idle,
        subscriptions: state.events.subscriptions(),
        ws_connections: state
            .max_ws_connections
            .saturating_sub(state.sockets.available_permits()),
        statements: state.statements.get(),
        reader_behind: match state.events.behind().await {
            Ok(behind) => Some(behind),
            Err(error) => {
                tracing::warn!(?error, "cannot tell how far the event reader is behind");
                None
            }
        },
        webhooks: match backlog::read(&state.webhook_db).await {
            Ok(backlog) => Some(backlog),
            Err(error) => {
                tracing::warn!(?error, "cannot tell how the webhooks stand");
                None
            }
        },
    };
    let body = state.telemetry.metrics.render(&snapshot);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
