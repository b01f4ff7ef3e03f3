//! The gateway's one error enum, and its single mapping to what clients see:
//! a GraphQL `extensions.code` and, where the whole request fails, an HTTP
//! status. Internal errors are logged with their detail and reach the client
//! only as a generic message, so no SQL text or constraint name ever leaks.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql turns
//! any `Display` value into a GraphQL error with that text, so a stray `?` on
//! a database error would leak SQL. Without `Display`, the only way from an
//! `AppError` to a client is [`AppError::to_graphql`].

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use axum::http::{HeaderValue, StatusCode, header};
use sea_orm::DbErr;

/// Everything a service or resolver can fail with.
#[derive(Debug)]
pub enum AppError {
    /// The entity does not exist in the caller's workspace (or never did:
    /// the two are indistinguishable on purpose).
    NotFound {
        /// What was looked for, e.g. "Chat".
        entity: &'static str,
        /// The argument or input field that named it, when there was one
        /// (`ids[3]` for an item of a list).
        field: Option<std::borrow::Cow<'static, str>>,
    },

    /// No API key, or one that is unknown or revoked.
    Unauthenticated(&'static str),

    /// A token that does not verify; says which check failed (RFC 6750's
    /// `invalid_token`).
    InvalidToken(std::borrow::Cow<'static, str>),

    /// The principal lacks a scope the field needs.
    Forbidden {
        /// Every scope the field needs.
        required: Vec<crate::auth::Scope>,
    },

    /// A well-typed argument with a value the operation does not accept.
    Invalid {
        /// The argument or input field, as the client wrote it (e.g. `pageSize`).
        field: String,
        /// What is wrong with it and what is accepted.
        reason: String,
    },

    /// A variable of the request is missing or does not fit its type.
    InvalidVariable {
        /// The variable, or the path inside its value (e.g. `input.title`).
        field: String,
        /// The whole sentence, naming the variable.
        message: String,
    },

    /// The HTTP method cannot be used for this request (a mutation over GET).
    MethodNotAllowed(&'static str),

    /// The HTTP request is not a GraphQL-over-HTTP request: unreadable
    /// body, bad JSON, wrong parameter types, a batch.
    Malformed(String),

    /// The body's media type is not one the gateway reads (only JSON: form
    /// and text bodies are what cross-site forms can send without a CORS
    /// preflight).
    UnsupportedMediaType(&'static str),

    /// The client accepts no media type the gateway writes.
    NotAcceptable,

    /// The request names a trusted document (`documentId`) that is not
    /// one of `--trusted-documents`.
    UnknownDocument(String),

    /// The request sent a document's text, and only trusted documents run
    /// (`--only-trusted-documents`).
    TrustedDocumentRequired,

    /// The body is larger than `--max-body-bytes`.
    PayloadTooLarge {
        /// The configured maximum, in bytes.
        max: usize,
    },

    /// The document asks for more than a configured limit allows.
    LimitExceeded {
        /// The limit's name, as in its flag (e.g. `max-aliases`).
        limit: &'static str,
        /// What the document asks for, when it was counted to the end.
        actual: Option<usize>,
        /// The configured maximum.
        max: usize,
    },

    /// The API key made more requests than its rate allows.
    RateLimited {
        /// Whole seconds until the next request would be let through.
        retry_after_secs: u64,
    },

    /// The request ran past `--request-timeout-secs` or the database
    /// cancelled a statement that ran past its own timeout.
    Timeout,

    /// The database cannot be reached or has no free connection.
    Unavailable,

    /// A subscription lost events (its cursor is older than the retention,
    /// or it fell behind): the client should refetch and resubscribe.
    ResyncRequired,

    /// A failure the client cannot fix: a bug, or a database error that is
    /// not one of the above.
    Internal(anyhow::Error),
}

/// What `Retry-After` tells a client when the database is unavailable.
pub const UNAVAILABLE_RETRY_SECS: u64 = 5;

/// Shorthand for results of the gateway.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// NOT_FOUND for `entity` named by no particular field.
    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound {
            entity,
            field: None,
        }
    }

    /// NOT_FOUND for `entity` named by the argument or input field `field`.
    pub fn not_found_at(
        entity: &'static str,
        field: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Self {
        Self::NotFound {
            entity,
            field: Some(field.into()),
        }
    }

    /// The same error about a field of the value `parent` (a service
    /// names fields within what it was given; the GraphQL edge knows which
    /// argument that was): `channelIds` within `filter` is
    /// `filter.channelIds`. Errors about no field are unchanged.
    pub fn within(self, parent: &str) -> Self {
        match self {
            Self::NotFound {
                entity,
                field: Some(field),
            } => Self::NotFound {
                entity,
                field: Some(format!("{parent}.{field}").into()),
            },
            Self::Invalid { field, reason } => Self::Invalid {
                field: format!("{parent}.{field}"),
                reason,
            },
            other => other,
        }
    }

    /// BAD_USER_INPUT for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Unauthenticated(_) | Self::InvalidToken(_) => "UNAUTHENTICATED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::Invalid { .. } | Self::InvalidVariable { .. } | Self::MethodNotAllowed(_) => {
                "BAD_USER_INPUT"
            }
            Self::Malformed(_) | Self::UnsupportedMediaType(_) | Self::NotAcceptable => {
                "BAD_REQUEST"
            }
            // Apollo Client's persisted-query link retries with the text
            // on exactly this code.
            Self::UnknownDocument(_) => "PERSISTED_QUERY_NOT_FOUND",
            Self::TrustedDocumentRequired => "TRUSTED_DOCUMENT_REQUIRED",
            Self::PayloadTooLarge { .. } | Self::LimitExceeded { .. } => "LIMIT_EXCEEDED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Timeout => "TIMEOUT",
            Self::Unavailable => "UNAVAILABLE",
            Self::ResyncRequired => "RESYNC_REQUIRED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// `code` as one of the codes errors carry (see [`Self::code`]), so
    /// that what a metric labels with stays within a known set; `INTERNAL`
    /// for any other.
    pub fn static_code(code: &str) -> &'static str {
        const CODES: &[&str] = &[
            "NOT_FOUND",
            "UNAUTHENTICATED",
            "FORBIDDEN",
            "BAD_USER_INPUT",
            "BAD_REQUEST",
            "PERSISTED_QUERY_NOT_FOUND",
            "TRUSTED_DOCUMENT_REQUIRED",
            "LIMIT_EXCEEDED",
            "RATE_LIMITED",
            "TIMEOUT",
            "UNAVAILABLE",
            "RESYNC_REQUIRED",
        ];
        CODES
            .iter()
            .find(|known| **known == code)
            .copied()
            .unwrap_or("INTERNAL")
    }

    /// The HTTP status when this error fails the whole request.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Unauthenticated(_) | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Invalid { .. } | Self::InvalidVariable { .. } => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Malformed(_)
            | Self::LimitExceeded { .. }
            | Self::UnknownDocument(_)
            | Self::TrustedDocumentRequired => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::ResyncRequired => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to clients.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound { entity, .. } => format!("{entity} not found"),
            Self::Unauthenticated(message)
            | Self::MethodNotAllowed(message)
            | Self::UnsupportedMediaType(message) => (*message).to_owned(),
            Self::Invalid { field, reason } => format!("Invalid {field}: {reason}"),
            Self::InvalidToken(why) => format!("Invalid token: {why}"),
            Self::Forbidden { required } => {
                let names: Vec<&str> = required.iter().map(|scope| scope.as_str()).collect();
                format!(
                    "Forbidden: this needs the scope{} {}, which this credential does not hold",
                    if names.len() > 1 { "s" } else { "" },
                    names.join(" and ")
                )
            }
            Self::InvalidVariable { message, .. } => message.clone(),
            // The reason may quote the client's body, keys included.
            Self::Malformed(reason) => {
                format!("Malformed request: {}", crate::secret::redact(reason))
            }
            // The id is the client's text, which may quote a key.
            Self::UnknownDocument(id) => format!(
                "No trusted document has the id {:?}; send the document as `query`, \
                 or add it to the trusted documents",
                crate::secret::redact(id)
            ),
            Self::TrustedDocumentRequired => "This server runs trusted documents only: send \
                 the `documentId` of one instead of `query`"
                .to_owned(),
            Self::NotAcceptable => "The Accept header allows no media type this server \
                 writes; accept application/graphql-response+json or application/json"
                .to_owned(),
            Self::PayloadTooLarge { max } => {
                format!("The request body is larger than the limit of {max} bytes (max-body-bytes)")
            }
            Self::LimitExceeded {
                limit: "max-nesting",
                actual,
                max,
            } => format!(
                "The request nests {} deep (brackets, braces and parentheses in the \
                 document; objects and lists in the variables): at most {max} levels are \
                 allowed (max-nesting)",
                actual.map_or_else(|| "too".to_owned(), |depth| format!("{depth} levels")),
            ),
            Self::LimitExceeded {
                limit,
                actual: Some(actual),
                max,
            } => format!("The query exceeds {limit}: it has {actual}, at most {max} are allowed"),
            Self::LimitExceeded {
                limit,
                actual: None,
                max,
            } => format!("The query exceeds {limit}: at most {max} are allowed"),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many requests for this API key or user; retry in {retry_after_secs} s")
            }
            Self::Timeout => "The request took too long and was cancelled".to_owned(),
            Self::Unavailable => "The database is unavailable; retry shortly".to_owned(),
            Self::ResyncRequired => "Events were lost to this subscription; refetch what it \
                 shows and subscribe again"
                .to_owned(),
            Self::Internal(_) => "Internal server error".to_owned(),
        }
    }

    /// For the command line, where the operator may see internal detail.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Self::Internal(source) => source,
            other => anyhow::anyhow!(other.message()),
        }
    }

    /// The field the error is about, if any.
    fn field(&self) -> Option<&str> {
        match self {
            Self::NotFound { field, .. } => field.as_deref(),
            Self::Invalid { field, .. } | Self::InvalidVariable { field, .. } => Some(field),
            _ => None,
        }
    }

    /// A request error (one that is about no field of the response), with
    /// a location in the document only when it has one: the spec's
    /// locations are 1-based, so none is better than a made-up `0:0`.
    pub fn to_server_error(&self, at: Option<async_graphql::Pos>) -> async_graphql::ServerError {
        let error = self.to_graphql();
        let mut server_error = async_graphql::ServerError::new(error.message, at);
        server_error.extensions = error.extensions;
        server_error
    }

    /// The client-facing GraphQL error. Logs internal errors with detail.
    pub fn to_graphql(&self) -> async_graphql::Error {
        if let Self::Internal(source) = self {
            tracing::error!(error = ?source, "internal error");
        }
        let field = self.field().map(str::to_owned);
        let code = self.code();
        let required: Option<Vec<&str>> = match self {
            Self::Forbidden { required } => Some(required.iter().map(|s| s.as_str()).collect()),
            _ => None,
        };
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(required) = required {
                ext.set("requiredScopes", required);
            }
        })
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        classify(&err).unwrap_or_else(|| Self::Internal(err.into()))
    }
}

impl From<Arc<DbErr>> for AppError {
    fn from(err: Arc<DbErr>) -> Self {
        classify(&err).unwrap_or_else(|| Self::Internal(anyhow::anyhow!("{err}")))
    }
}

/// Database failures the client should see as such (retry later) rather
/// than as a bug: the database is down or saturated, or cancelled a slow
/// statement.
fn classify(err: &DbErr) -> Option<AppError> {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return Some(unavailable(err)),
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return None,
    };
    match sqlx.as_ref() {
        Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Io(_) | Sqlx::Tls(_) => {
            Some(unavailable(err))
        }
        // SQLITE_BUSY or SQLITE_LOCKED (any extended code): another writer
        // held the file past the busy timeout; a retry will likely pass.
        Sqlx::Database(db)
            if db
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .and_then(sea_orm::sqlx::error::DatabaseError::code)
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6)) =>
        {
            Some(unavailable(err))
        }
        Sqlx::Database(db) => match db.code().as_deref() {
            // query_canceled: statement_timeout fired.
            Some("57014") => {
                tracing::warn!(error = %err, "statement cancelled by the database");
                Some(AppError::Timeout)
            }
            // Connection exceptions, and the server shutting down.
            Some(code) if code.starts_with("08") || code.starts_with("57P") => {
                Some(unavailable(err))
            }
            _ => None,
        },
        _ => None,
    }
}

fn unavailable(err: &DbErr) -> AppError {
    tracing::warn!(error = %err, "database unavailable");
    AppError::Unavailable
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        err.to_graphql()
    }
}

/// A whole request failed before GraphQL ran (no or bad API key, a refused
/// method): the status of the error, with a GraphQL-shaped body so clients
/// read every failure the same way.
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let error = self.to_graphql();
        let body = serde_json::json!({
            "errors": [{
                "message": error.message,
                "extensions": error.extensions,
            }]
        });
        let mut response = (self.status(), axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            Self::MethodNotAllowed(_) => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            Self::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            // RFC 9110: a 401 names the scheme that would authenticate.
            Self::Unauthenticated(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            // RFC 6750: and for a token that does not verify, why.
            Self::InvalidToken(why) => {
                let why: String = why.chars().filter(|c| *c != '"' && *c != '\\').collect();
                let challenge =
                    format!("Bearer error=\"invalid_token\", error_description=\"{why}\"");
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            // The database is down or saturated: worth retrying soon.
            Self::Unavailable => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_SECS),
                );
            }
            _ => {}
        }
        response
    }
}
