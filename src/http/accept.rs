//! Content negotiation for GraphQL over HTTP: which media type a response
//! is written in (`Accept`), and whether a POST body is one the gateway
//! reads (`Content-Type`).

use std::str::FromStr;

use axum::http::{HeaderMap, header};
use mime::Mime;

use crate::error::AppError;

/// The media type of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/graphql-response+json`: request errors get HTTP 4xx.
    GraphQLResponse,
    /// `application/json`, for clients that predate the above: every
    /// well-formed request gets HTTP 200, as the spec asks.
    Json,
}

impl Format {
    /// The `Content-Type` of responses in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphQLResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// The format the client prefers by `Accept` (highest q, then first
/// listed); JSON when there is no `Accept`, NOT_ACCEPTABLE when nothing
/// listed can be written.
pub fn negotiate(headers: &HeaderMap) -> Result<Format, AppError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(Format::Json);
    };
    let accept = accept.to_str().map_err(|_| AppError::NotAcceptable)?;
    let mut best: Option<(f32, Format)> = None;
    for range in accept
        .split(',')
        .filter_map(|r| Mime::from_str(r.trim()).ok())
    {
        let q = range
            .get_param("q")
            .and_then(|q| q.as_str().parse::<f32>().ok())
            .unwrap_or(1.0);
        let utf8 = range
            .get_param(mime::CHARSET)
            .is_none_or(|charset| charset == mime::UTF_8);
        let format = match (range.type_(), range.subtype().as_str(), range.suffix()) {
            (mime::APPLICATION, "graphql-response", Some(mime::JSON)) => Format::GraphQLResponse,
            (mime::APPLICATION, "json", None) | (mime::APPLICATION | mime::STAR, "*", None) => {
                Format::Json
            }
            _ => continue,
        };
        if q > 0.0 && utf8 && best.is_none_or(|(best_q, _)| q > best_q) {
            best = Some((q, format));
        }
    }
    best.map(|(_, format)| format)
        .ok_or(AppError::NotAcceptable)
}

/// Refuses a POST body that is not JSON in UTF-8. Text, form and multipart
/// bodies are what a cross-site `<form>` or a simple `fetch` can send
/// without a CORS preflight, so reading them would open the API to CSRF.
pub fn require_json_body(headers: &HeaderMap) -> Result<(), AppError> {
    const REFUSED: AppError = AppError::UnsupportedMediaType(
        "POST bodies must be JSON: send `Content-Type: application/json`",
    );
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| Mime::from_str(value).ok())
        .ok_or(REFUSED)?;
    let utf8 = content_type
        .get_param(mime::CHARSET)
        .is_none_or(|charset| charset == mime::UTF_8);
    if content_type.essence_str() == mime::APPLICATION_JSON.essence_str() && utf8 {
        Ok(())
    } else {
        Err(REFUSED)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn accept(value: &'static str) -> Result<Format, AppError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        negotiate(&headers)
    }

    #[test]
    fn accept_picks_the_preferred_format() {
        assert_eq!(negotiate(&HeaderMap::new()).ok(), Some(Format::Json));
        assert_eq!(accept("*/*").ok(), Some(Format::Json));
        assert_eq!(accept("application/json").ok(), Some(Format::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9").ok(),
            Some(Format::GraphQLResponse)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json").ok(),
            Some(Format::Json)
        );
        assert!(accept("text/html").is_err());
        assert!(accept("application/json; charset=latin1").is_err());
        assert!(accept("application/json;q=0").is_err());
    }

    #[test]
    fn only_utf8_json_bodies_are_read() {
        let body = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            require_json_body(&headers).is_ok()
        };
        assert!(body("application/json"));
        assert!(body("application/json; charset=UTF-8"));
        assert!(!body("application/json; charset=utf-16"));
        assert!(!body("text/plain"));
        assert!(!body("application/x-www-form-urlencoded"));
        assert!(!body("multipart/form-data; boundary=x"));
        assert!(require_json_body(&HeaderMap::new()).is_err());
    }
}
