//! Where a credential comes from, whatever the transport: an HTTP
//! request's headers (`Authorization: Bearer …` or `X-API-Key: …`), or a
//! WebSocket's `connection_init` payload (the same names, at its top level
//! or inside `headers`, in any case). A credential is an API key (`cgw_…`)
//! or a JWT (three dot-separated parts), told apart by its form.

use axum::http::{HeaderMap, header};
use serde_json::Value;

use crate::error::AppError;

/// The header a key may also come in, for clients that cannot set `Authorization`.
pub const API_KEY_HEADER: &str = "x-api-key";

/// No credential where one was looked for.
pub const MISSING: AppError = AppError::Unauthenticated(
    "An API key or a token is required: send `Authorization: Bearer <key or token>` \
     (or `X-API-Key: <key>`)",
);

/// What a client presented to say who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A workspace API key, `cgw_…`.
    ApiKey(String),
    /// A JSON Web Token from the identity provider.
    Token(String),
}

impl Credential {
    /// `text` as a key or a token, by its form; anything else is no
    /// credential this gateway reads.
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let text = text.trim();
        if text.starts_with(crate::secret::KEY_TAG) {
            return Ok(Self::ApiKey(text.to_owned()));
        }
        let parts: Vec<&str> = text.split('.').collect();
        let base64url = |part: &&str| {
            part.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.len() == 3
            && parts[..2].iter().all(|p| !p.is_empty())
            && parts.iter().all(base64url)
        {
            return Ok(Self::Token(text.to_owned()));
        }
        Err(AppError::Unauthenticated(
            "The credential is neither an API key (cgw_…) nor a JWT (three dot-separated parts)",
        ))
    }
}

/// The credential an HTTP request presents: `Authorization: Bearer X` or
/// `X-API-Key: KEY`.
pub fn from_headers(headers: &HeaderMap) -> Result<Credential, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        return Credential::parse(bearer(value.to_str().map_err(|_| MISSING)?)?);
    }
    match headers.get(API_KEY_HEADER) {
        Some(value) => Credential::parse(value.to_str().map_err(|_| MISSING)?),
        None => Err(MISSING),
    }
}

/// The credential in an `Authorization` value (`Bearer X`).
pub fn bearer(value: &str) -> Result<&str, AppError> {
    let (scheme, credential) = value.split_once(' ').ok_or(MISSING)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(MISSING);
    }
    Ok(credential.trim())
}

/// The credential a `connection_init` payload carries, if it names one:
/// at its top level or inside `headers` (header names in any case), as
/// Apollo's and Hasura's documentation write it.
pub fn from_payload(payload: &Value) -> Option<Result<Credential, AppError>> {
    let object = payload.as_object()?;
    let headers = field(object, "headers").and_then(Value::as_object);
    for object in std::iter::once(object).chain(headers) {
        if let Some(value) = field(object, "authorization").and_then(Value::as_str) {
            return Some(bearer(value).and_then(Credential::parse));
        }
        if let Some(key) = field(object, API_KEY_HEADER).and_then(Value::as_str) {
            return Some(Credential::parse(key));
        }
    }
    None
}

/// The field of `object` named `name` in any case, as header names are.
fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    const KEY: &str = "cgw_0123456789abcdef_0123";
    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_credential_comes_from_bearer_or_x_api_key_and_is_told_by_its_form() {
        let key = Some(Credential::ApiKey(KEY.to_owned()));
        let read = |pairs: &[(&'static str, &'static str)]| from_headers(&headers(pairs)).ok();
        assert_eq!(
            read(&[("authorization", "Bearer cgw_0123456789abcdef_0123")]),
            key
        );
        assert_eq!(
            read(&[("authorization", "bearer cgw_0123456789abcdef_0123")]),
            key
        );
        assert_eq!(read(&[("x-api-key", "cgw_0123456789abcdef_0123")]), key);
        let token = read(&[(
            "authorization",
            "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        )]);
        assert_eq!(token, Some(Credential::Token(JWT.to_owned())));
        assert!(from_headers(&headers(&[("authorization", "Basic abc")])).is_err());
        assert!(from_headers(&headers(&[("authorization", "Bearer abc")])).is_err());
        assert!(from_headers(&headers(&[("authorization", "Bearer a.b.c.d")])).is_err());
        assert!(from_headers(&headers(&[])).is_err());
        // An unsigned token (`alg: none`) has an empty third part: its form
        // passes, its verification will not.
        assert!(matches!(
            Credential::parse("eyJ.eyJ."),
            Ok(Credential::Token(_))
        ));
        assert!(Credential::parse(".eyJ.sig").is_err());
    }

    #[test]
    fn the_payload_names_it_at_its_top_level_or_inside_headers() {
        let found = |payload: Value| from_payload(&payload).map(|found| found.ok());
        let key = Some(Some(Credential::ApiKey(KEY.to_owned())));
        assert_eq!(
            found(json!({ "Authorization": format!("Bearer {KEY}") })),
            key
        );
        assert_eq!(found(json!({ "x-api-key": format!(" {KEY} ") })), key);
        assert_eq!(
            found(json!({ "headers": { "authorization": format!("Bearer {KEY}") } })),
            key
        );
        assert_eq!(found(json!({ "Headers": { "X-API-Key": KEY } })), key);
        assert_eq!(
            found(json!({ "Authorization": format!("Bearer {JWT}") })),
            Some(Some(Credential::Token(JWT.to_owned())))
        );
        assert_eq!(found(json!({ "Authorization": "Basic k5" })), Some(None));
        assert_eq!(found(json!({ "other": 1 })), None);
        assert_eq!(found(json!("Bearer k6")), None);
    }
}
