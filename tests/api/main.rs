//! Integration tests: the real gateway over HTTP on a real database (SQLite
//! by default, PostgreSQL with `TEST_DATABASE_URL`), one database per test.

mod amplification;
mod auth;
mod bad_input;
mod browser;
mod bulk;
mod chat_query;
mod chats_list;
mod cli;
mod conformance;
mod connection;
mod contract;
mod counts;
mod demo;
mod directory;
mod errors;
mod filters;
mod helpers;
mod http;
mod idempotency;
mod isolation;
mod limits;
mod messages;
mod mutations;
mod nesting;
mod over_http;
mod plans;
mod schema;
mod search;
mod secrets;
mod seed;
mod socket;
mod sockets;
mod statements;
mod subscriptions;
mod trusted;
