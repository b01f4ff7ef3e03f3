//! What every handler and transport shares. A leaf: it names the pieces,
//! and builds none of them, so HTTP, WebSocket and auth code can all use
//! it without importing each other.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::{Semaphore, watch};

use crate::{
    auth::Authenticator,
    config::Limits,
    db::StatementCounter,
    events::EventBus,
    graphql::{AppSchema, admit::Admission, context::Sessions},
    listen::Listening,
    rate_limit::RateLimiter,
    sockets::Sockets,
    telemetry::Telemetry,
};

/// What every handler and transport shares.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The webhook worker's own pool, which `/metrics` also reads the
    /// webhooks with (not counted as requests' statements).
    pub webhook_db: DatabaseConnection,
    /// The GraphQL schema that runs requests (documents are validated in
    /// full by [`Admission`] first).
    pub schema: AppSchema,
    /// The same with a span per root field, for traced operations (with
    /// an exporter only: an extension costs every field of every request).
    pub traced_schema: Option<AppSchema>,
    /// Counts the SQL statements run, for `/metrics`.
    pub statements: StatementCounter,
    /// Metrics, and what is logged of operations.
    pub telemetry: Arc<Telemetry>,
    /// What one request may ask for.
    pub limits: Arc<Limits>,
    /// The checks a request's document passes before it runs.
    pub admission: Arc<Admission>,
    /// Requests left per principal (key, or token user).
    pub rate_limiter: RateLimiter,
    /// Turns credentials into principals (and keeps keys lately
    /// authenticated).
    pub auth: Arc<Authenticator>,
    /// The process's chat events.
    pub events: EventBus,
    /// What a request's or a subscription's session is made of.
    pub sessions: Sessions,
    /// WebSocket connections this process may still accept.
    pub sockets: Arc<Semaphore>,
    /// ... of how many (`--max-ws-connections`).
    pub max_ws_connections: usize,
    /// The PostgreSQL LISTEN connection's health (none on SQLite).
    pub listening: Option<Arc<Listening>>,
    /// How long it may be down before the process is not ready.
    pub listener_grace: std::time::Duration,
    /// WebSockets without a key this process may still accept.
    pub pending_sockets: Arc<Semaphore>,
    /// Authenticated WebSockets by holder (key or token user): the cap
    /// per holder, revocation.
    pub open_sockets: Arc<Sockets>,
    /// Seconds a WebSocket has to send `connection_init`.
    pub ws_init_timeout_secs: u64,
    /// Operations one WebSocket may run at once.
    pub max_subscriptions_per_connection: u64,
    /// Origins whose pages may call the API (`--cors-allowed-origins`),
    /// normalised: WebSocket upgrades from other origins are refused.
    pub allowed_origins: Arc<[String]>,
    /// Flips to true when the server starts shutting down: sockets close
    /// with 1001.
    pub stopping: watch::Receiver<bool>,
}

impl AppState {
    /// The schema to run an operation on: with root-field spans when the
    /// current span (the operation's) is traced.
    pub fn schema(&self) -> &AppSchema {
        match &self.traced_schema {
            Some(traced) if crate::telemetry::spans::traced_under(&tracing::Span::current()) => {
                traced
            }
            _ => &self.schema,
        }
    }
}
