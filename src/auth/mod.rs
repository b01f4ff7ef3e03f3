//! Who is calling: a credential (an API key or a token) turned into a
//! [`Principal`] once, before anything runs, whatever the transport. A
//! missing, malformed, unknown, revoked, expired or foreign credential is
//! refused; a present but bad one is never treated as anonymous.

pub mod credentials;
pub mod jwks;
pub mod principal;
pub mod scopes;
pub mod tokens;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use self::{
    credentials::{API_KEY_HEADER, Credential, MISSING},
    principal::Principal,
    scopes::{Scope, Scopes},
    tokens::Tokens,
};
use crate::{
    error::AppError,
    key_cache::KeyCache,
    secret,
    service::{
        actor::{Actor, ActorKind},
        api_key,
    },
};

/// Turns credentials into principals.
pub struct Authenticator {
    db: DatabaseConnection,
    /// Keys authenticated lately (PostgreSQL only).
    pub keys: Arc<KeyCache>,
    /// Tokens, when the gateway takes them.
    tokens: Option<Tokens>,
}

impl Authenticator {
    /// Authenticates against `db`, keeping keys in `keys`, and tokens with
    /// `tokens`.
    pub fn new(db: DatabaseConnection, keys: Arc<KeyCache>, tokens: Option<Tokens>) -> Self {
        Self { db, keys, tokens }
    }

    /// The principal `credential` authenticates.
    pub async fn identify(&self, credential: &Credential) -> Result<Principal, AppError> {
        match credential {
            Credential::ApiKey(key) => self.key(key).await,
            Credential::Token(token) => match &self.tokens {
                Some(tokens) => tokens.verify(token).await,
                None => Err(AppError::InvalidToken(
                    "this gateway takes no tokens (it was started without --jwt-jwks or \
                     --jwt-secret-file)"
                        .into(),
                )),
            },
        }
    }

    /// An API key's principal, from the process's cache when it can.
    async fn key(&self, key: &str) -> Result<Principal, AppError> {
        let found = match self.keys.get(key) {
            Some(found) => found,
            None => {
                let found = api_key::authenticate(&self.db, key).await?;
                self.keys.put(key, found.clone());
                found
            }
        };
        let scopes = Scopes::of_key(found.scopes.as_deref());
        Ok(Principal {
            workspace_id: found.workspace_id,
            actor: Actor {
                kind: ActorKind::ApiKey,
                id: found.api_key_id.to_string(),
                name: Some(found.name),
            },
            scopes,
            expires_at: None,
            // A key that authenticated has a prefix.
            holder: secret::prefix_of(key).unwrap_or(key).into(),
        })
    }
}
