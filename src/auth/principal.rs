//! Who is calling, decided once per request (or per socket) from its
//! credential: a plain value the pipeline, the resolvers and the services
//! read. An API key and a token both become one.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::scopes::Scopes;
use crate::service::actor::Actor;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The workspace every read and write is scoped to.
    pub workspace_id: Uuid,
    /// Who it is, as writes record it.
    pub actor: Actor,
    /// What it may do.
    pub scopes: Scopes,
    /// When it stops being valid (a token's `exp`, leeway included).
    pub expires_at: Option<DateTime<Utc>>,
    /// Whose sockets it holds: an API key's prefix (which a revocation
    /// names to close them), or a token subject of the workspace. Each
    /// holder may have `--max-ws-connections-per-key` of them.
    pub holder: Arc<str>,
}

impl Principal {
    /// What rate limits count by: each key, and each token subject of a
    /// workspace, has a bucket of its own.
    pub fn limit_key(&self) -> Uuid {
        let mut hash = Sha256::new();
        hash.update(self.workspace_id.as_bytes());
        hash.update([self.actor.kind as u8]);
        hash.update(self.actor.id.as_bytes());
        let digest = hash.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Uuid::from_bytes(bytes)
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}
