//! Who is calling, decided once per request (or per socket) from its
//! credential: a plain value the pipeline, the resolvers and the services
//! read. An API key and a token both become one.

use std::sync::Arc;

use chrono::{DateTime, Utc};
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
    /// Who holds its sockets and its rate limit: an API key's prefix
    /// (which a revocation names to close them), or a token subject of the
    /// workspace. Each holder has a bucket of requests and may have
    /// `--max-ws-connections-per-key` sockets.
    pub holder: Arc<str>,
}
