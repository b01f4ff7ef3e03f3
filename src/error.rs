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
use axum::http::StatusCode;
use sea_orm::DbErr;

/// Everything a service or resolver can fail with.
#[derive(Debug)]
pub enum AppError {
    /// The entity does not exist in the caller's workspace (or never did:
    /// the two are indistinguishable on purpose).
    NotFound {
        /// What was looked for, e.g. "Chat".
        entity: &'static str,
        /// The argument or input field that named it, when there was one.
        field: Option<&'static str>,
    },

    /// No API key, or one that is unknown or revoked.
    Unauthenticated(&'static str),

    /// A well-typed argument with a value the operation does not accept.
    Invalid {
        /// The argument or input field, as the client wrote it (e.g. `pageSize`).
        field: String,
        /// What is wrong with it and what is accepted.
        reason: String,
    },

    /// The HTTP method cannot be used for this request (a mutation over GET).
    MethodNotAllowed(&'static str),

    /// A failure the client cannot fix (database down, a bug).
    Internal(anyhow::Error),
}

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
    pub fn not_found_at(entity: &'static str, field: &'static str) -> Self {
        Self::NotFound {
            entity,
            field: Some(field),
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
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Invalid { .. } | Self::MethodNotAllowed(_) => "BAD_USER_INPUT",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status when this error fails the whole request.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to clients.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound { entity, .. } => format!("{entity} not found"),
            Self::Unauthenticated(message) | Self::MethodNotAllowed(message) => {
                (*message).to_owned()
            }
            Self::Invalid { field, reason } => format!("Invalid {field}: {reason}"),
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
            Self::NotFound { field, .. } => *field,
            Self::Invalid { field, .. } => Some(field),
            Self::Unauthenticated(_) | Self::MethodNotAllowed(_) | Self::Internal(_) => None,
        }
    }

    /// The client-facing GraphQL error. Logs internal errors with detail.
    pub fn to_graphql(&self) -> async_graphql::Error {
        if let Self::Internal(source) = self {
            tracing::error!(error = ?source, "internal error");
        }
        let field = self.field().map(str::to_owned);
        let code = self.code();
        async_graphql::Error::new(self.message()).extend_with(|_, ext| {
            ext.set("code", code);
            if let Some(field) = field {
                ext.set("field", field);
            }
        })
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        Self::Internal(err.into())
    }
}

impl From<Arc<DbErr>> for AppError {
    fn from(err: Arc<DbErr>) -> Self {
        Self::Internal(anyhow::anyhow!("{err}"))
    }
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
        (self.status(), axum::Json(body)).into_response()
    }
}
