//! Who is calling: the API key of a request, turned into its workspace once,
//! in the handler, before any resolver runs. A missing, malformed, unknown or
//! revoked key is rejected with 401; a present but bad key is never treated
//! as anonymous.

use axum::http::{HeaderMap, header};
use uuid::Uuid;

use crate::{app::AppState, error::AppError, service::api_key};

/// The authenticated caller.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    /// The workspace the API key belongs to.
    pub workspace_id: Uuid,
}

/// The header a key may also come in, for clients that cannot set `Authorization`.
pub const API_KEY_HEADER: &str = "x-api-key";

const MISSING: AppError = AppError::Unauthenticated(
    "An API key is required: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
);

/// The key a request presents: `Authorization: Bearer KEY` or `X-API-Key: KEY`.
fn presented_key(headers: &HeaderMap) -> Result<&str, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| MISSING)?;
        let (scheme, key) = value.split_once(' ').ok_or(MISSING)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(MISSING);
        }
        return Ok(key.trim());
    }
    match headers.get(API_KEY_HEADER) {
        Some(value) => Ok(value.to_str().map_err(|_| MISSING)?.trim()),
        None => Err(MISSING),
    }
}

impl Viewer {
    /// Authenticates the request's key and takes one request from the key's
    /// rate limit.
    pub async fn authenticate(headers: &HeaderMap, state: &AppState) -> Result<Self, AppError> {
        let key = presented_key(headers)?;
        let found = api_key::authenticate(&state.db, key).await?;
        state.rate_limiter.check(found.api_key_id)?;
        Ok(Self {
            workspace_id: found.workspace_id,
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
