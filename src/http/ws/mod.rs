//! GraphQL over WebSocket, the `graphql-transport-ws` protocol of the
//! graphql-ws library (its PROTOCOL.md), on `GET /graphql` with an upgrade.
//!
//! The key comes in `connection_init`'s payload (`{"Authorization":
//! "Bearer KEY"}`, `{"X-API-Key": KEY}`, or either inside `headers`, as
//! Apollo's and Hasura's documentation write it) or the upgrade request's
//! headers. Close codes follow the protocol: 4400 an invalid message, 4401
//! subscribe before ack, 4403 a bad or missing key (or one revoked while
//! the socket is open), 4408 no `connection_init` in time, 4409 an
//! operation id in use, 4429 a second `connection_init`, 1009 a message
//! over `--max-body-bytes`, 1008 a message not completed in time, 1013 too
//! many sockets for one key or user, or a database too busy to check the
//! credential (both worth a retry), 1001 on shutdown. Every close says in its
//! reason what to do.
//!
//! An upgrade is refused (HTTP) without the subprotocol (400, as the
//! protocol allows in place of 4406), from a browser page of an origin
//! that may not call the API (403), and when the process holds as many
//! sockets, or sockets without a key, as it may (503).

mod connection;
pub mod protocol;

use std::sync::Arc;

use axum::{
    extract::ws::WebSocketUpgrade,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use self::connection::Connection;
use crate::{auth::credentials, config::cap, net::Reads, state::AppState};

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// Bytes each socket buffers for reading (it grows for a larger message).
const SOCKET_BUFFER: usize = 2 * 1024;

/// The upgrade of `GET /graphql` to a GraphQL WebSocket; `reads` are the
/// connection's, when the listener records them.
pub async fn upgrade(
    state: AppState,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
    reads: Option<Arc<Reads>>,
) -> Response {
    if !origin_allowed(&headers, &state.allowed_origins) {
        let refusal = (
            StatusCode::FORBIDDEN,
            "This page's origin may not open a WebSocket here: add it to --cors-allowed-origins",
        );
        return refusal.into_response();
    }
    let Ok(permit) = state.sockets.clone().try_acquire_owned() else {
        let refusal = (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many WebSocket connections",
        );
        return refusal.into_response();
    };
    let Ok(pending) = state.pending_sockets.clone().try_acquire_owned() else {
        let refusal = (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many WebSocket connections awaiting connection_init",
        );
        return refusal.into_response();
    };
    let header_credential = credentials::from_headers(&headers).ok();
    let max_message = cap(state.limits.max_body_bytes);
    // Small socket buffers: tungstenite's defaults (128 KiB each way) cost
    // more than a subscriber's whole state, thousands of times over. A
    // frame, like a message, may be no larger than a request body: it is
    // buffered whole before it is looked at.
    let ws = ws
        .protocols([PROTOCOL])
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .read_buffer_size(SOCKET_BUFFER)
        // Each message is written out at once: subscribers send little.
        .write_buffer_size(0);
    // A client that asked for another subprotocol would fail the handshake
    // anyway (it must get one it offered): refuse it plainly instead.
    if ws.selected_protocol().is_none() {
        let refusal = (
            StatusCode::BAD_REQUEST,
            "Unsupported WebSocket subprotocol: use graphql-transport-ws",
        );
        return refusal.into_response();
    }
    ws.on_upgrade(move |socket| async move {
        let connection = Connection::new(state, header_credential, reads, permit, pending);
        connection.run(socket).await;
    })
}

/// Whether a browser page's `Origin` may open a socket: one of
/// `allowed`, or the gateway's own (its `Host`). Browsers do not hold
/// WebSockets to the same-origin policy, so this check is what does.
/// Clients that are not browsers send no `Origin`.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if allowed.contains(&origin) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_ascii_lowercase);
    let authority = origin.split_once("://").map(|(_, authority)| authority);
    host.is_some() && authority == host.as_deref()
}

/// Whether a `GET /graphql` asks to upgrade to a WebSocket.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
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
    fn origins_are_the_gateways_own_or_allowed() {
        let allowed = ["https://app.example.com".to_owned()];
        let host = ("host", "gw.example.com:8000");
        assert!(
            origin_allowed(&headers(&[host]), &allowed),
            "no Origin: not a browser"
        );
        assert!(origin_allowed(
            &headers(&[host, ("origin", "https://App.Example.com")]),
            &allowed
        ));
        assert!(origin_allowed(
            &headers(&[host, ("origin", "http://gw.example.com:8000")]),
            &[]
        ));
        assert!(!origin_allowed(
            &headers(&[host, ("origin", "https://evil.example")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[host, ("origin", "null")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("origin", "https://gw.example.com:8000")]),
            &[]
        ));
    }
}
