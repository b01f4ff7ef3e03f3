//! chat-gateway: a GraphQL gateway over the chat model of an AI
//! customer-service platform (chats on channels, owners, responders,
//! messages, tickets), on SQLite or PostgreSQL.

/// HTTP server: router, state, binding and graceful shutdown.
pub mod app;
/// Who is calling: credentials (API keys, tokens) into principals, scopes.
pub mod auth;
/// The command line: serve, migrate, schema, workspace and API key admin.
pub mod cli;
/// The typed configuration of the server, read from flags and environment.
pub mod config;
/// Database connection (pool, SQLite pragmas, statement metrics) and migrations.
pub mod db;
/// The demo workspace created on first start of an empty database.
pub mod demo;
/// The one error enum of the gateway and its single mapping to GraphQL.
pub mod error;
/// Live chat events: the outbox read once per process, fanned out to subscribers.
pub mod events;
/// The embedded, offline GraphiQL page and its assets.
pub mod graphiql;
/// The GraphQL schema: types, roots, loaders, per-request context.
pub mod graphql;
/// HTTP handlers: GraphQL over HTTP (POST and GET), GraphiQL, health checks.
pub mod http;
/// Authenticated API keys kept briefly in the process (PostgreSQL).
pub mod key_cache;
/// The process's LISTEN connection: event wake-ups, key revocations.
pub mod listen;
/// Accepted connections: TCP_NODELAY, stalled writes, reads noticed.
pub mod net;
/// One request's way through the gateway, whatever carried it.
pub mod pipeline;
/// Per-principal rate limiting.
pub mod rate_limit;
/// The API key format, its hash, and redaction of keys from text.
pub mod secret;
/// Bulk synthetic data at scale (`chat-gateway seed`).
pub mod seed;
/// Business operations over the database, free of GraphQL.
pub mod service;
/// Authenticated WebSockets by holder (key or token user): a cap each,
/// revocation that closes them.
pub mod sockets;
/// What every handler and transport shares.
pub mod state;

pub mod telemetry;
/// Sending chat events to webhook endpoints.
pub mod webhooks;
