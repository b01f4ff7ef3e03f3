//! Reading a GraphQL request off the wire: a JSON body (POST) or URL
//! parameters (GET), both bounded by `--max-body-bytes`. Anything that is
//! not one well-formed GraphQL-over-HTTP request is MALFORMED (HTTP 400)
//! with what was wrong.

use std::collections::HashMap;

use async_graphql::{Request, Variables};
use axum::body::Body;
use serde::{Deserialize, de::DeserializeOwned};

use crate::error::AppError;

/// Reads a POST body of at most `max` bytes as one GraphQL request.
pub async fn from_body(body: Body, max: usize) -> Result<Request, AppError> {
    let bytes = axum::body::to_bytes(body, max).await.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            AppError::PayloadTooLarge { max }
        } else {
            AppError::Malformed("the request body could not be read".to_owned())
        }
    })?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(AppError::Malformed(
            "batched requests are not accepted; send one operation per request".to_owned(),
        ));
    }
    let params: Params = serde_json::from_slice(&bytes).map_err(|error| {
        AppError::Malformed(format!("the body is not a GraphQL request: {error}"))
    })?;
    params.into_request()
}

/// Reads the URL parameters of a GET (`query`, `operationName`, and
/// `variables` and `extensions` as JSON text).
pub fn from_query_string(query: Option<&str>, max: usize) -> Result<Request, AppError> {
    let query = query.unwrap_or_default();
    if query.len() > max {
        return Err(AppError::PayloadTooLarge { max });
    }
    let params: UrlParams = serde_urlencoded::from_str(query)
        .map_err(|error| AppError::Malformed(format!("bad URL parameters: {error}")))?;
    let params = Params {
        query: params.query,
        operation_name: params.operation_name,
        variables: json_object("variables", params.variables)?,
        _extensions: json_object("extensions", params.extensions)?,
    };
    params.into_request()
}

/// A URL parameter that must hold a JSON object, typed in one step.
fn json_object<T: DeserializeOwned>(
    name: &str,
    text: Option<String>,
) -> Result<Option<T>, AppError> {
    text.map(|text| {
        serde_json::from_str(&text).map_err(|error| {
            AppError::Malformed(format!("`{name}` must be a JSON object: {error}"))
        })
    })
    .transpose()
}

/// The parameters of a GraphQL-over-HTTP request, typed as the spec says.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    /// Accepted (the spec reserves it) when it is an object, and ignored:
    /// the gateway implements no extension.
    #[serde(rename = "extensions")]
    _extensions: Option<HashMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UrlParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

impl Params {
    fn into_request(self) -> Result<Request, AppError> {
        let query = self
            .query
            .filter(|query| !query.trim().is_empty())
            .ok_or_else(|| AppError::Malformed("`query` is required".to_owned()))?;
        let mut request = Request::new(query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(Variables::from_json(serde_json::Value::Object(variables)));
        }
        Ok(request)
    }
}
