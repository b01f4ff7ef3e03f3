//! `Actor`: who made a change, an API key or a person signed in with a
//! token.

use async_graphql::{Enum, SimpleObject};
use entity::enums;

use crate::service::actor;

/// What kind of principal made a change.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// An API key of the workspace (a server, an integration).
    ApiKey,
    /// A person, signed in with a token from the identity provider.
    User,
}

impl From<enums::ActorKind> for ActorKind {
    fn from(kind: enums::ActorKind) -> Self {
        match kind {
            enums::ActorKind::ApiKey => Self::ApiKey,
            enums::ActorKind::User => Self::User,
        }
    }
}

/// Who made a change.
#[derive(SimpleObject, Clone, Debug)]
pub struct Actor {
    /// An API key or a person.
    pub kind: ActorKind,
    /// The API key's ID, or the token's subject (`sub`).
    pub id: String,
    /// The API key's name, or the token's `name` claim when it has one.
    pub name: Option<String>,
}

impl Actor {
    /// The actor stored as `kind`, `id` and `name`, when there is one.
    pub fn stored(
        kind: Option<enums::ActorKind>,
        id: Option<&str>,
        name: Option<&str>,
    ) -> Option<Self> {
        Some(Self {
            kind: kind?.into(),
            id: id?.to_owned(),
            name: name.map(str::to_owned),
        })
    }
}

impl From<&actor::Actor> for Actor {
    fn from(actor: &actor::Actor) -> Self {
        Self {
            kind: actor.kind.into(),
            id: actor.id.clone(),
            name: actor.name.clone(),
        }
    }
}
