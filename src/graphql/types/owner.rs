//! `Owner`: who a chat belongs to, a platform `User` or an `ExternalUser`.

use async_graphql::{Interface, Object};
use entity::{external_user, user};
use uuid::Uuid;

use crate::service::lookup;

/// A platform user who owns a chat.
pub struct User(pub user::Model);

/// A platform user who owns a chat.
#[Object]
impl User {
    /// The user ID.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The super identity ID of the user (what the chat's owner field holds).
    async fn super_identity_id(&self) -> Uuid {
        self.0.super_identity_id
    }

    /// The display name of the user.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The email of the chat owner when the owner is a platform user.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// The picture (URL) of the user, if any.
    async fn picture(&self) -> Option<&str> {
        self.0.picture.as_deref()
    }
}

/// An end customer who owns a chat, known on a channel by an external id.
pub struct ExternalUser(pub external_user::Model);

/// An end customer who owns a chat, known on a channel by an external id.
#[Object]
impl ExternalUser {
    /// The external user ID that owns the chat.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The super identity ID of the external user (what the chat's owner field holds).
    async fn super_identity_id(&self) -> Uuid {
        self.0.super_identity_id
    }

    /// The display name of the external user.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The identifier of the chat owner on its channel (a phone number, a handle, ...).
    async fn external_id(&self) -> &str {
        &self.0.external_id
    }

    /// Whether the external chat owner is blocked.
    async fn is_blocked(&self) -> bool {
        self.0.is_blocked
    }
}

/// The owner of a chat: a platform user or an external user. Both have a
/// name and a super identity; select `... on User` or `... on ExternalUser`
/// for the rest.
#[derive(Interface)]
#[graphql(
    field(
        name = "super_identity_id",
        ty = "Uuid",
        desc = "The super identity ID of the chat owner."
    ),
    field(
        name = "name",
        ty = "&str",
        desc = "The display name of the chat owner, resolved from external users or users."
    )
)]
pub enum Owner {
    User(User),
    ExternalUser(ExternalUser),
}

impl From<lookup::Owner> for Owner {
    fn from(owner: lookup::Owner) -> Self {
        match owner {
            lookup::Owner::User(u) => Self::User(User(u)),
            lookup::Owner::External(e) => Self::ExternalUser(ExternalUser(e)),
        }
    }
}
