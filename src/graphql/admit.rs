//! The two ends every transport (HTTP, WebSocket) shares. [`admit`] runs
//! on a request before the API key is looked up: tokens (before parsing),
//! parsing, the document limits, and which operation runs; what fails
//! there is a request error and never reaches the database. [`label`] runs
//! on every response: codes on library errors, keys redacted.

use std::borrow::Cow;

use async_graphql::{Request, Response, ServerError, parser::types::OperationType};

use super::{limits, operation};
use crate::{config::Limits, error::AppError, secret};

/// Parses `request`'s document within `limits` and keeps it parsed in the
/// request; returns the type of the operation it selects.
pub fn admit(request: &mut Request, limits: &Limits) -> Result<OperationType, ServerError> {
    let as_error = |error: AppError| error.to_server_error(None);
    limits::check_tokens(&request.query, limits.max_tokens).map_err(as_error)?;
    let document = async_graphql::parser::parse_query(&request.query).map_err(syntax_error)?;
    limits::check_document(&document, limits).map_err(as_error)?;
    let ty = operation::select(&document, request.operation_name.as_deref())
        .map_err(as_error)?
        .node
        .ty;
    request.set_parsed_query(document);
    Ok(ty)
}

/// A document that does not parse, said in one line a client can show
/// ("Syntax error at 1:8: expected selection set"); the parser's own text
/// draws the line with a caret over several lines.
fn syntax_error(error: async_graphql::parser::Error) -> ServerError {
    use async_graphql::parser::Error;
    let message = match &error {
        Error::Syntax { message, start, .. } => {
            let expected = message
                .lines()
                .rev()
                .find_map(|line| line.trim().strip_prefix("= "))
                .unwrap_or("unexpected input")
                .replace('_', " ");
            format!(
                "Syntax error at {}:{}: {expected}",
                start.line, start.column
            )
        }
        other => other.to_string(),
    };
    let mut server_error = ServerError::from(error);
    server_error.message = message;
    server_error
        .locations
        .retain(|at| at.line > 0 && at.column > 0);
    server_error
}

/// Errors raised by async-graphql itself (syntax, validation, argument
/// types) carry no code; every one of them is the client's input. Messages
/// that quote the client's text lose any API key in it.
pub fn label(result: &mut Response) {
    for error in &mut result.errors {
        if let Cow::Owned(redacted) = secret::redact(&error.message) {
            error.message = redacted;
        }
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}
