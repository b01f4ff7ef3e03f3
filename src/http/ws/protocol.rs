//! The messages of `graphql-transport-ws` (the graphql-ws library's
//! PROTOCOL.md) both ways, and the reasons a server closes. Outgoing
//! messages are written as text around an already shaped result
//! ([`Shaped`]), so a result keeps its fields in selected order and its
//! errors as every transport shapes them.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use crate::{
    graphql::response::{Body, Shaped},
    http::request::Params,
};

/// A message from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: Params,
    },
    Complete {
        id: String,
    },
}

/// Why the server closes a socket: the code, and a reason that says what
/// to do about it (at most 123 bytes, the protocol's bound).
#[derive(Debug)]
pub struct Close(pub u16, pub Cow<'static, str>);

impl Close {
    pub const NO_KEY: Self = Self(
        4403,
        Cow::Borrowed(
            "Forbidden: send {\"Authorization\": \"Bearer <API key or token>\"} in connection_init's payload",
        ),
    );
    pub const BAD_KEY: Self = Self(
        4403,
        Cow::Borrowed("Forbidden: the API key is unknown, malformed or revoked"),
    );
    pub const REVOKED: Self = Self(4403, Cow::Borrowed("Forbidden: the API key was revoked"));
    pub const EXPIRED: Self = Self(
        4403,
        Cow::Borrowed("Forbidden: the token has expired; connect again with a fresh one"),
    );
    pub const INVALID: Self = Self(4400, Cow::Borrowed("Invalid message received"));
    pub const UNAUTHORIZED: Self = Self(
        4401,
        Cow::Borrowed("Unauthorized: send connection_init first"),
    );
    pub const SHUTDOWN: Self = Self(1001, Cow::Borrowed("The server is shutting down"));
    pub const TOO_MANY_FOR_KEY: Self = Self(
        1013,
        Cow::Borrowed("Too many WebSockets for this API key or user (max-ws-connections-per-key)"),
    );
    /// 1013 ("try again later"), which graphql-ws clients retry; a 4500
    /// would make them give up for good over a passing outage.
    pub const TRY_AGAIN: Self = Self(
        1013,
        Cow::Borrowed("The database is busy or unreachable: connect again shortly"),
    );
    pub const INCOMPLETE: Self = Self(1008, Cow::Borrowed("A message was not completed in time"));
    pub const UNWRITABLE: Self = Self(1011, Cow::Borrowed("Cannot write to the socket"));
    pub const INTERNAL: Self = Self(4500, Cow::Borrowed("Internal server error"));

    /// 4403 with `why`, cut to fit the frame.
    pub fn forbidden(why: &str) -> Self {
        let mut reason = format!("Forbidden: {why}");
        if reason.len() > 123 {
            let mut end = 120;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
            reason.push_str("...");
        }
        Self(4403, Cow::Owned(reason))
    }
}

/// `connection_ack`.
pub const ACK: &str = r#"{"type":"connection_ack"}"#;

/// A result for operation `id`: `next`, or `error` for a request error
/// (nothing ran; an `error` ends the operation, no `complete` follows).
pub fn result(id: &str, shaped: Shaped) -> (String, bool) {
    let id = quoted(id);
    match shaped.body {
        Body::Executed(payload) => (
            format!(r#"{{"type":"next","id":{id},"payload":{payload}}}"#),
            false,
        ),
        Body::RequestErrors(errors) => (
            format!(r#"{{"type":"error","id":{id},"payload":{errors}}}"#),
            true,
        ),
    }
}

/// `complete` for operation `id`.
pub fn complete(id: &str) -> String {
    format!(r#"{{"type":"complete","id":{}}}"#, quoted(id))
}

/// `pong`, echoing the ping's payload.
pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(payload) => format!(r#"{{"type":"pong","payload":{payload}}}"#),
        None => r#"{"type":"pong"}"#.to_owned(),
    }
}

fn quoted(id: &str) -> String {
    Value::from(id).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_close_frame() {
        for close in [
            Close::NO_KEY,
            Close::BAD_KEY,
            Close::REVOKED,
            Close::EXPIRED,
            Close::INVALID,
            Close::UNAUTHORIZED,
            Close::SHUTDOWN,
            Close::TOO_MANY_FOR_KEY,
            Close::TRY_AGAIN,
            Close::INCOMPLETE,
            Close::UNWRITABLE,
            Close::INTERNAL,
            Close::forbidden(&"é".repeat(200)),
        ] {
            assert!(close.1.len() <= 123, "{close:?}");
        }
    }

    fn shaped(body: Body) -> Shaped {
        Shaped {
            body,
            outcome: "ok",
        }
    }

    #[test]
    fn messages_are_json_with_the_id_escaped() {
        let (next, ends) = result(
            "a\"b",
            shaped(Body::Executed(r#"{"data":{"z":1,"a":2}}"#.into())),
        );
        assert!(!ends);
        assert_eq!(
            next,
            r#"{"type":"next","id":"a\"b","payload":{"data":{"z":1,"a":2}}}"#
        );
        let parsed: Value = serde_json::from_str(&next).unwrap();
        assert_eq!(parsed["id"], "a\"b");
        let (error, ends) = result("1", shaped(Body::RequestErrors("[]".into())));
        assert!(ends);
        assert_eq!(error, r#"{"type":"error","id":"1","payload":[]}"#);
        assert_eq!(complete("1"), r#"{"type":"complete","id":"1"}"#);
        assert_eq!(
            pong(Some(serde_json::json!({"x": 1}))),
            r#"{"type":"pong","payload":{"x":1}}"#
        );
    }
}
