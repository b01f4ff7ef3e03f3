//! Reading a GraphQL request off the wire: a JSON body (POST) or URL
//! parameters (GET), both bounded by `--max-body-bytes`. Anything that is
//! not one well-formed GraphQL-over-HTTP request is MALFORMED (HTTP 400)
//! with what was wrong. A request carries its document as text (`query`)
//! or names a trusted one ([`Incoming::document_id`]).

use std::collections::HashMap;

use async_graphql::{Request, Variables};
use axum::body::Body;
use serde::{Deserialize, de::DeserializeOwned};

use crate::{
    error::AppError,
    graphql::limits::{MAX_NESTING, nesting_exceeded},
};

/// A request as read: when it names a trusted document, its `query` is
/// empty until the document is looked up.
pub struct Incoming {
    pub request: Request,
    /// `documentId`, or `extensions.persistedQuery.sha256Hash` sent
    /// without a `query`.
    pub document_id: Option<String>,
}

/// Reads a POST body of at most `max` bytes as one GraphQL request.
pub async fn from_body(body: Body, max: usize) -> Result<Incoming, AppError> {
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
    let params: Params = serde_json::from_slice(&bytes)
        .map_err(|error| json_error(error, "the body is not a GraphQL request"))?;
    params.into_request()
}

/// Reads the URL parameters of a GET (`query`, `operationName`, and
/// `variables` and `extensions` as JSON text, `documentId`).
pub fn from_query_string(query: Option<&str>, max: usize) -> Result<Incoming, AppError> {
    let query = query.unwrap_or_default();
    if query.len() > max {
        return Err(AppError::PayloadTooLarge { max });
    }
    let params: UrlParams = serde_urlencoded::from_str(query)
        .map_err(|error| AppError::Malformed(format!("bad URL parameters: {error}")))?;
    let params = Params {
        query: params.query,
        document_id: params.document_id,
        operation_name: params.operation_name,
        variables: json_object("variables", params.variables)?,
        extensions: json_object("extensions", params.extensions)?,
    };
    params.into_request()
}

/// A URL parameter that must hold a JSON object, typed in one step.
fn json_object<T: DeserializeOwned>(
    name: &str,
    text: Option<String>,
) -> Result<Option<T>, AppError> {
    text.map(|text| {
        serde_json::from_str(&text)
            .map_err(|error| json_error(error, &format!("`{name}` must be a JSON object")))
    })
    .transpose()
}

/// A JSON text that did not read as `what`. serde_json stops at 128
/// levels of nesting, before any recursion of ours could: that is the
/// nesting limit, refused as such.
pub fn json_error(error: serde_json::Error, what: &str) -> AppError {
    if error.to_string().starts_with("recursion limit exceeded") {
        return AppError::LimitExceeded {
            limit: "max-nesting",
            actual: None,
            max: MAX_NESTING,
        };
    }
    AppError::Malformed(format!("{what}: {error}"))
}

/// How deep objects and lists nest in `value` (a scalar is 0), without
/// recursion.
fn nesting(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
            serde_json::Value::Array(items) => Box::new(items.iter()),
            serde_json::Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        deepest = deepest.max(depth + 1);
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    deepest
}

/// The parameters of a GraphQL-over-HTTP request, typed as the spec says.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    query: Option<String>,
    document_id: Option<String>,
    operation_name: Option<String>,
    variables: Option<serde_json::Map<String, serde_json::Value>>,
    extensions: Option<Extensions>,
}

/// A request's `extensions`: an object (the spec reserves it), of which
/// only Apollo's `persistedQuery` means anything here.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Extensions {
    persisted_query: Option<PersistedQuery>,
    #[serde(flatten)]
    _others: HashMap<String, serde_json::Value>,
}

/// `{ "version": 1, "sha256Hash": "…" }`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersistedQuery {
    sha256_hash: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UrlParams {
    query: Option<String>,
    document_id: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

impl Params {
    /// The request, with its document as text or as a trusted id.
    ///
    /// A persisted-query hash sent with the text is Apollo's retry after
    /// PERSISTED_QUERY_NOT_FOUND: the text runs (when texts may). A
    /// `documentId` with a text is ambiguous and refused.
    pub fn into_request(self) -> Result<Incoming, AppError> {
        let query = self.query.filter(|query| !query.trim().is_empty());
        let hash = self
            .extensions
            .and_then(|extensions| extensions.persisted_query)
            .map(|persisted| persisted.sha256_hash);
        let (text, document_id) = match (query, self.document_id, hash) {
            (Some(_), Some(_), _) => {
                return Err(AppError::Malformed(
                    "send either `query` or `documentId`, not both".to_owned(),
                ));
            }
            (Some(query), None, _) => (query, None),
            (None, Some(id), _) | (None, None, Some(id)) => (String::new(), Some(id)),
            (None, None, None) => {
                return Err(AppError::Malformed(
                    "`query` (or the `documentId` of a trusted document) is required".to_owned(),
                ));
            }
        };
        let mut request = Request::new(text);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            let variables = serde_json::Value::Object(variables);
            // The variables object itself is one level, as `{` is in a document.
            let depth = nesting(&variables);
            if depth > MAX_NESTING {
                return Err(nesting_exceeded(depth));
            }
            request = request.variables(Variables::from_json(variables));
        }
        Ok(Incoming {
            request,
            document_id,
        })
    }
}
