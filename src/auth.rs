//! Who is calling: an API key turned into its workspace once, before any
//! resolver runs, whatever the transport (HTTP headers, or a WebSocket's
//! `connection_init` payload). A missing, malformed, unknown or revoked key
//! is rejected; a present but bad key is never treated as anonymous.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use uuid::Uuid;

use crate::{error::AppError, secret, service::api_key, state::AppState};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The workspace the API key belongs to.
    pub workspace_id: Uuid,
    /// The key itself (what rate limits count by).
    pub api_key_id: Uuid,
    /// What revokes it: the key's prefix (see [`crate::sockets`]).
    pub credential: Arc<str>,
}

/// The header a key may also come in, for clients that cannot set `Authorization`.
pub const API_KEY_HEADER: &str = "x-api-key";

/// No key where one was looked for.
pub const MISSING: AppError = AppError::Unauthenticated(
    "An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
);

/// The key a request presents: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
pub fn presented_key(headers: &HeaderMap) -> Result<&str, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return bearer(value.to_str().map_err(|_| MISSING)?);
    }
    match headers.get(API_KEY_HEADER) {
        Some(value) => Ok(value.to_str().map_err(|_| MISSING)?.trim()),
        None => Err(MISSING),
    }
}

/// The key in an `Authorization` value (`Bearer KEY`).
pub fn bearer(value: &str) -> Result<&str, AppError> {
    let (scheme, key) = value.split_once(' ').ok_or(MISSING)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(MISSING);
    }
    Ok(key.trim())
}

impl Viewer {
    /// Authenticates the key of an HTTP request's headers and takes one
    /// request from its rate limit.
    pub async fn from_headers(headers: &HeaderMap, state: &AppState) -> Result<Self, AppError> {
        let viewer = Self::identify(presented_key(headers)?, state).await?;
        state.rate_limiter.check(viewer.api_key_id)?;
        Ok(viewer)
    }

    /// Authenticates `key`, from the process's cache when it can.
    pub async fn identify(key: &str, state: &AppState) -> Result<Self, AppError> {
        let found = match state.keys.get(key) {
            Some(found) => found,
            None => {
                let found = api_key::authenticate(&state.db, key).await?;
                state.keys.put(key, found);
                found
            }
        };
        // A key that authenticated has a prefix.
        let credential = secret::prefix_of(key).unwrap_or_default().into();
        Ok(Self {
            workspace_id: found.workspace_id,
            api_key_id: found.api_key_id,
            credential,
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn key_comes_from_bearer_or_x_api_key() {
        assert_eq!(
            presented_key(&headers(&[("authorization", "Bearer abc")])).ok(),
            Some("abc")
        );
        assert_eq!(
            presented_key(&headers(&[("authorization", "bearer abc")])).ok(),
            Some("abc")
        );
        assert_eq!(
            presented_key(&headers(&[("x-api-key", "abc")])).ok(),
            Some("abc")
        );
        assert!(presented_key(&headers(&[("authorization", "Basic abc")])).is_err());
        assert!(presented_key(&headers(&[])).is_err());
    }
}
