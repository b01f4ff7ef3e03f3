//! Who makes a write: an API key (its id and name) or a person signed in
//! with a token (its subject, and its `name` claim when it has one). Every
//! write records its actor with its events, and a posted message with
//! itself.

pub use entity::enums::ActorKind;

/// The author of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    /// The key's id, or the token's subject.
    pub id: String,
    /// The key's name, or the token's `name` claim.
    pub name: Option<String>,
}

impl Actor {
    /// What imports, the demo and fixtures write as: the gateway itself.
    pub fn system() -> Self {
        Self {
            kind: ActorKind::ApiKey,
            id: "system".to_owned(),
            name: Some("chat-gateway".to_owned()),
        }
    }
}
