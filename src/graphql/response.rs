//! What every transport does to a result before writing it, in one place
//! so that a rule about responses holds over HTTP and the WebSocket alike:
//! a code on every error (async-graphql's own carry none), API keys
//! redacted from messages that quote the client's text, request errors told
//! apart from executed results, the size held to `--max-response-bytes`,
//! and the fields written in the order they were selected (the result is
//! serialised straight to text, never through a map that would sort it).

use std::{
    borrow::Cow,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};

use async_graphql::{Response, ServerError};

use crate::{config::cap, error::AppError, secret};

/// A result ready for a transport to frame, and how it went.
#[derive(Debug)]
pub struct Shaped {
    pub body: Body,
    /// `ok`, or the code of its first error (as metrics count it).
    pub outcome: &'static str,
}

/// What a transport writes of a result.
#[derive(Debug)]
pub enum Body {
    /// It executed: `{"data":…,"errors":[…]}` as JSON text.
    Executed(String),
    /// It did not execute (a document, variable or limit refused): the
    /// errors as a JSON array. HTTP answers `{"errors": …}` without
    /// `data`; graphql-ws sends them as an `error` message.
    RequestErrors(String),
}

impl Shaped {
    /// The whole response body as HTTP sends it.
    pub fn into_body(self) -> String {
        match self.body {
            Body::Executed(text) => text,
            Body::RequestErrors(errors) => format!("{{\"errors\":{errors}}}"),
        }
    }
}

/// `ok`, or the code of the first of `errors` (labelled).
fn outcome(errors: &[ServerError]) -> &'static str {
    let Some(first) = errors.first() else {
        return "ok";
    };
    let code = first
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("code"));
    match code {
        Some(async_graphql::Value::String(code)) => AppError::static_code(code),
        _ => "INTERNAL",
    }
}

/// `result` labelled and serialised, within `max_bytes` (0: no limit).
/// `over_budget` says the execution already ran past the limit (see
/// [`ResponseBudget`]): it is refused the same way, without writing what
/// was built.
pub fn shape(mut result: Response, max_bytes: usize, over_budget: bool) -> Shaped {
    label(&mut result.errors);
    let outcome = outcome(&result.errors);
    if is_request_error(&result) {
        let body = Body::RequestErrors(errors_json(&result.errors));
        return Shaped { body, outcome };
    }
    let text = if over_budget {
        None
    } else {
        serde_json::to_string(&result)
            .ok()
            .filter(|text| text.len() <= cap(max_bytes))
    };
    text.map_or_else(
        || too_large(max_bytes),
        |text| Shaped {
            body: Body::Executed(text),
            outcome,
        },
    )
}

/// The answer that replaces a response over `--max-response-bytes`: it
/// ran (a mutation's changes stand), but its result is not sent.
fn too_large(max_bytes: usize) -> Shaped {
    let error = AppError::LimitExceeded {
        limit: "max-response-bytes",
        actual: None,
        max: max_bytes,
    };
    let errors = errors_json(&[error.to_server_error(None)]);
    Shaped {
        body: Body::Executed(format!("{{\"data\":null,\"errors\":{errors}}}")),
        outcome: error.code(),
    }
}

/// A request refused before it ran, shaped as every other.
pub fn refusal(error: &AppError) -> Shaped {
    let mut errors = vec![error.to_server_error(None)];
    label(&mut errors);
    Shaped {
        body: Body::RequestErrors(errors_json(&errors)),
        outcome: error.code(),
    }
}

fn errors_json(errors: &[ServerError]) -> String {
    // A ServerError always serialises; "[]" would only hide a bug.
    serde_json::to_string(errors).unwrap_or_else(|_| "[]".to_owned())
}

/// Errors raised by async-graphql itself (syntax, validation, argument
/// types) carry no code; every one of them is the client's input. Messages
/// that quote the client's text lose any API key in it.
fn label(errors: &mut [ServerError]) {
    for error in errors {
        if let Cow::Owned(redacted) = secret::redact(&error.message) {
            error.message = redacted;
        }
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
}

/// Whether `result` is a request error: nothing ran (no data) and no
/// error is about a field.
pub fn is_request_error(result: &Response) -> bool {
    result.data == async_graphql::Value::Null
        && !result.errors.is_empty()
        && result.errors.iter().all(|error| error.path.is_empty())
}

/// Bytes of text one execution may still produce, spent by the fields
/// that can return much of it (a message's content, a preview), so that a
/// response over `--max-response-bytes` stops growing as soon as it
/// passes the limit, instead of being built whole and refused after.
#[derive(Debug)]
pub struct ResponseBudget {
    left: AtomicUsize,
    refused: AtomicBool,
    max: usize,
}

impl ResponseBudget {
    /// A budget of `max_bytes` (0: no limit).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            left: AtomicUsize::new(cap(max_bytes)),
            refused: AtomicBool::new(false),
            max: max_bytes,
        }
    }

    /// Spends `bytes`; fails once the execution is over its limit.
    pub fn spend(&self, bytes: usize) -> Result<(), AppError> {
        let spent = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            });
        if spent.is_err() {
            self.refused.store(true, Ordering::Relaxed);
            return Err(AppError::LimitExceeded {
                limit: "max-response-bytes",
                actual: None,
                max: self.max,
            });
        }
        Ok(())
    }

    /// Whether something was refused for want of budget.
    pub fn exhausted(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_what_does_not_fit_and_stays_refused() {
        let budget = ResponseBudget::new(10);
        assert!(budget.spend(6).is_ok());
        assert!(budget.spend(4).is_ok());
        assert!(!budget.exhausted());
        assert!(budget.spend(1).is_err());
        assert!(budget.exhausted());
        assert!(budget.spend(0).is_ok());
        let open = ResponseBudget::new(0);
        assert!(open.spend(usize::MAX / 2).is_ok());
        assert!(!open.exhausted());
    }

    #[test]
    fn fields_keep_their_selected_order_and_errors_get_codes() {
        let mut map = async_graphql::indexmap::IndexMap::new();
        map.insert(
            async_graphql::Name::new("zebra"),
            async_graphql::Value::from(1),
        );
        map.insert(
            async_graphql::Name::new("apple"),
            async_graphql::Value::from(2),
        );
        let result = Response::new(async_graphql::Value::Object(map));
        let shaped = shape(result, 0, false);
        assert_eq!(shaped.outcome, "ok");
        let Body::Executed(text) = shaped.body else {
            panic!("executed");
        };
        assert_eq!(text, r#"{"data":{"zebra":1,"apple":2}}"#);
        let syntax = Response::from_errors(vec![ServerError::new("Syntax error", None)]);
        let shaped = shape(syntax, 0, false);
        assert_eq!(shaped.outcome, "BAD_USER_INPUT");
        let Body::RequestErrors(errors) = shaped.body else {
            panic!("a request error");
        };
        assert!(errors.contains(r#""code":"BAD_USER_INPUT""#), "{errors}");
    }
}
