//! The GraphQL schema. [`schema`] needs no database, so the SDL can be
//! exported (and checked against `schema.graphql`) without one; each request
//! brings its own [`context::Session`].

pub mod context;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};

use self::{mutation::MutationRoot, query::QueryRoot};

/// The gateway's schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema.
pub fn schema() -> AppSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription).finish()
}

/// The schema as SDL: what `chat-gateway schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    schema().sdl()
}
