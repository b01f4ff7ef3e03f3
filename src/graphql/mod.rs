//! The GraphQL schema. [`schema`] needs no database, so the SDL can be
//! exported (and checked against `schema.graphql`) without one; each request
//! brings its own [`context::Session`].

pub mod admit;
pub mod checker;
pub mod coerce;
pub mod context;
pub mod directory;
pub mod event_cursor;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod operation;
pub mod query;
pub mod response;
pub mod scopes;
pub mod spans;
pub mod subscription;
pub mod trusted;
pub mod types;
pub mod walk;
pub mod webhooks;

use async_graphql::{MergedObject, Schema, SchemaBuilder, ValidationMode};
use chrono::{DateTime, Utc};

use self::{
    mutation::MutationRoot,
    query::QueryRoot,
    subscription::SubscriptionRoot,
    webhooks::{WebhookMutation, WebhookQuery},
};

/// Reads of the caller's workspace: chats and directory, then webhooks.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct Query(QueryRoot, WebhookQuery);

/// Writes to the caller's workspace: chats and messages, then webhooks.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct Mutation(MutationRoot, WebhookMutation);

/// What the `DateTime` scalar says of itself (async-graphql's says nothing).
const DATE_TIME: &str = "An instant in time, as RFC 3339 text in UTC, to the microsecond, \
e.g. `2026-01-31T09:30:00.123456+00:00` (the fraction is left out when it is zero). \
Inputs accept any RFC 3339 offset and are converted to UTC.";

/// The gateway's schema.
pub type AppSchema = Schema<Query, Mutation, SubscriptionRoot>;

/// The schema as it serves requests: no extension, so fields resolve on
/// async-graphql's fast path, and only the validation execution needs,
/// since every document was validated in full before it gets here
/// ([`checker::Checker`], through [`admit::Admission::validate`]).
pub fn serving() -> AppSchema {
    builder().validation_mode(ValidationMode::Fast).finish()
}

/// The serving schema with a span per root field (traces are on).
pub fn serving_traced() -> AppSchema {
    builder()
        .validation_mode(ValidationMode::Fast)
        .extension(spans::RootFieldSpans)
        .finish()
}

/// The schema's builder, with its descriptions.
pub fn builder() -> SchemaBuilder<Query, Mutation, SubscriptionRoot> {
    Schema::build(Query::default(), Mutation::default(), SubscriptionRoot)
        .override_output_type_description::<DateTime<Utc>>(DATE_TIME)
        .override_input_type_description::<DateTime<Utc>>(DATE_TIME)
}

/// The schema as SDL: what `chat-gateway schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    builder().finish().sdl()
}
