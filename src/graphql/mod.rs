//! The GraphQL schema. [`schema`] needs no database, so the SDL can be
//! exported (and checked against `schema.graphql`) without one; each request
//! brings its own [`context::Session`].

pub mod coerce;
pub mod context;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod operation;
pub mod query;
pub mod spec;
pub mod types;
pub mod walk;

use async_graphql::{EmptySubscription, Schema};

use self::{mutation::MutationRoot, query::QueryRoot};
use crate::config::Limits;

/// The gateway's schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema. Every request goes through [`spec::SpecFactory`],
/// which refuses documents that cost more than `limits.max_complexity`
/// (the other limits are checked before the key is, by [`limits`]).
pub fn schema(limits: &Limits) -> AppSchema {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .extension(spec::SpecFactory {
            max_complexity: limits.max_complexity,
        })
        .finish()
}

/// The schema as SDL: what `chat-gateway schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    schema(&Limits::DEFAULT).sdl()
}
