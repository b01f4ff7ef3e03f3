//! `Responder` and `ResponderVersion`: the AI agent or squad answering a chat.

use async_graphql::{Context, Object, Result};
use entity::{responder, responder_version};
use uuid::Uuid;

use super::enums::ResponderType;
use crate::graphql::{context::ContextExt, loaders::load};

/// The AI agent or squad assigned to a chat.
pub struct Responder(pub responder::Model);

/// The AI agent or squad assigned to a chat.
#[Object]
impl Responder {
    /// The responder ID (of the agent or squad).
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The super identity ID of the responder, as stored on the chat.
    async fn super_identity_id(&self) -> Uuid {
        self.0.super_identity_id
    }

    /// Whether the responder is an agent or a squad.
    #[graphql(name = "type")]
    async fn responder_type(&self) -> ResponderType {
        self.0.kind.into()
    }

    /// The display name of the responder.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The picture (URL) of the responder, if it has one.
    async fn picture(&self) -> Option<&str> {
        self.0.picture.as_deref()
    }

    /// Its versions, newest first: the first is what a chat assigned to it
    /// now is pinned to.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<ResponderVersion>> {
        let versions = load(&ctx.execution()?.loaders.versions, self.0.id).await?;
        Ok(versions
            .unwrap_or_default()
            .into_iter()
            .map(ResponderVersion)
            .collect())
    }
}

/// The version of a responder a chat is pinned to.
pub struct ResponderVersion(pub responder_version::Model);

/// The version of a responder a chat is pinned to.
#[Object]
impl ResponderVersion {
    /// The version ID of the responder for this chat.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The version number (1 for the first version).
    async fn number(&self) -> i32 {
        self.0.version_number
    }
}
