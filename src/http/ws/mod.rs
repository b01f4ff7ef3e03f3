//! GraphQL over WebSocket, the `graphql-transport-ws` protocol of the
//! graphql-ws library (its PROTOCOL.md), on `GET /graphql` with an upgrade.
//!
//! The key comes in `connection_init`'s payload (`{"Authorization":
//! "Bearer KEY"}` or `{"X-API-Key": KEY}`) or the upgrade request's
//! headers. Close codes follow the protocol: 4400 an invalid message, 4401
//! subscribe before ack, 4403 a bad or missing key, 4408 no
//! `connection_init` in time, 4409 an operation id in use, 4429 a second
//! `connection_init`, 1009 a message over `--max-body-bytes`, 1001 on
//! shutdown. An upgrade without the subprotocol is refused (HTTP 400), as
//! the protocol allows in place of 4406. Each `subscribe` goes through the
//! same document limits as HTTP ([`admit`]) and takes one request from the
//! key's rate limit.

use std::{pin::Pin, time::Duration};

use async_graphql::Response as GraphQLResult;
use axum::{
    extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, Stream, StreamExt, stream::SplitSink};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;
use tokio_stream::StreamMap;

use super::request::{Incoming, Params};
use crate::{
    auth::{self, Viewer},
    config::cap,
    error::AppError,
    graphql::{admit, context::Session},
    state::AppState,
};

/// The subprotocol spoken.
pub const PROTOCOL: &str = "graphql-transport-ws";
/// Bytes each socket buffers for reading (it grows for a larger message).
const SOCKET_BUFFER: usize = 2 * 1024;

/// The upgrade of `GET /graphql` to a GraphQL WebSocket.
pub async fn upgrade(state: AppState, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let Ok(permit) = state.sockets.clone().try_acquire_owned() else {
        let refusal = (
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many WebSocket connections",
        );
        return refusal.into_response();
    };
    let header_key = auth::presented_key(&headers).ok().map(str::to_owned);
    // Small socket buffers: tungstenite's defaults (128 KiB each way) cost
    // more than a subscriber's whole state, thousands of times over.
    let ws = ws
        .protocols([PROTOCOL])
        .max_message_size(cap(state.limits.max_body_bytes))
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
        let connection = Connection {
            state,
            header_key,
            _permit: permit,
        };
        connection.run(socket).await;
    })
}

/// A message from the client.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
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

type Results = Pin<Box<dyn Stream<Item = Option<GraphQLResult>> + Send>>;
type Sink = SplitSink<WebSocket, Message>;

/// Why the server closes a socket.
struct Close(u16, &'static str);

struct Connection {
    state: AppState,
    header_key: Option<String>,
    _permit: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let closed = self.serve(&mut sink, &mut incoming).await;
        if let Err(reason) = closed {
            close(&mut sink, reason).await;
        }
    }

    /// Serves until the client leaves (Ok) or the server closes (Err).
    async fn serve(
        &self,
        sink: &mut Sink,
        incoming: &mut futures_util::stream::SplitStream<WebSocket>,
    ) -> Result<(), Close> {
        let init_timeout = Duration::from_secs(self.state.ws_init_timeout_secs);
        let init_deadline = tokio::time::sleep(init_timeout);
        tokio::pin!(init_deadline);
        let mut stopping = self.state.stopping.clone();
        let mut viewer: Option<Viewer> = None;
        let mut initialised = false;
        let mut operations: StreamMap<String, Results> = StreamMap::new();
        loop {
            tokio::select! {
                () = &mut init_deadline, if !initialised => {
                    return Err(Close(4408, "Connection initialisation timeout"));
                }
                changed = stopping.changed() => {
                    if changed.is_err() || *stopping.borrow() {
                        return Err(Close(1001, "The server is shutting down"));
                    }
                }
                Some((id, result)) = operations.next(), if !operations.is_empty() => {
                    let message = match result {
                        Some(result) => next_or_error(&id, result),
                        None => json!({ "type": "complete", "id": id }),
                    };
                    // An `error` ends the operation: no `complete` follows.
                    if message["type"] == "error" {
                        operations.remove(&id);
                    }
                    send(sink, &message).await?;
                }
                frame = incoming.next() => {
                    let text = match frame {
                        None | Some(Ok(Message::Close(_))) => return Ok(()),
                        Some(Err(error)) => {
                            tracing::debug!(%error, "WebSocket read failed");
                            return Err(Close(1009, "Message too big or unreadable"));
                        }
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            return Err(Close(4400, "Binary messages are not accepted"));
                        }
                        Some(Ok(_)) => continue,
                    };
                    let message: ClientMessage = serde_json::from_str(text.as_str())
                        .map_err(|_| Close(4400, "Invalid message received"))?;
                    match message {
                        ClientMessage::ConnectionInit { payload } => {
                            if initialised {
                                return Err(Close(4429, "Too many initialisation requests"));
                            }
                            initialised = true;
                            viewer = Some(self.authenticate(payload.as_ref()).await?);
                            send(sink, &json!({ "type": "connection_ack" })).await?;
                        }
                        ClientMessage::Ping { payload } => {
                            let mut pong = json!({ "type": "pong" });
                            if let Some(payload) = payload {
                                pong["payload"] = payload;
                            }
                            send(sink, &pong).await?;
                        }
                        ClientMessage::Pong { .. } => {}
                        ClientMessage::Subscribe { id, payload } => {
                            let Some(viewer) = viewer else {
                                return Err(Close(4401, "Unauthorized"));
                            };
                            if operations.contains_key(&id) {
                                return Err(Close(4409, "Subscriber for this id already exists"));
                            }
                            match self.start(viewer, payload, operations.len()) {
                                Ok(results) => {
                                    operations.insert(id, results);
                                }
                                Err(errors) => {
                                    let message = json!({ "type": "error", "id": id, "payload": errors });
                                    send(sink, &message).await?;
                                }
                            }
                        }
                        ClientMessage::Complete { id } => {
                            operations.remove(&id);
                        }
                    }
                }
            }
        }
    }

    /// The workspace of the key in `payload` (or the upgrade's headers).
    async fn authenticate(&self, payload: Option<&Value>) -> Result<Viewer, Close> {
        const FORBIDDEN: Close = Close(4403, "Forbidden");
        let key = payload
            .and_then(key_in_payload)
            .map(|key| key.map(str::to_owned))
            .unwrap_or_else(|| self.header_key.clone().ok_or(auth::MISSING))
            .map_err(|_| FORBIDDEN)?;
        match Viewer::authenticate(&key, &self.state).await {
            Ok(viewer) => Ok(viewer),
            Err(AppError::Unauthenticated(_)) => Err(FORBIDDEN),
            Err(AppError::RateLimited { .. }) => Err(Close(1013, "Rate limited; retry later")),
            Err(error) => {
                tracing::warn!(code = error.code(), "WebSocket initialisation failed");
                Err(Close(4500, "Internal server error"))
            }
        }
    }

    /// Starts one operation: its results, or the request errors that keep
    /// it from running (as the `error` message's payload).
    fn start(
        &self,
        viewer: Viewer,
        payload: Params,
        running: usize,
    ) -> Result<Results, Vec<Value>> {
        let refuse = |error: AppError| vec![server_error_json(&error.to_server_error(None))];
        if running as u64 >= self.state.max_subscriptions_per_connection {
            return Err(refuse(AppError::LimitExceeded {
                limit: "max-subscriptions-per-connection",
                actual: None,
                max: self.state.max_subscriptions_per_connection as usize,
            }));
        }
        self.state
            .rate_limiter
            .check(viewer.api_key_id)
            .map_err(refuse)?;
        // What `subscribe` carries: a GraphQL-over-HTTP request's parameters.
        let Incoming {
            mut request,
            document_id,
        } = payload.into_request().map_err(refuse)?;
        let admission = &self.state.admission;
        let trusted = admission.trusted(document_id.as_deref()).map_err(refuse)?;
        let admitted = admission
            .admit(&mut request, trusted)
            .map_err(|error| vec![server_error_json(&error)])?;
        let session = Session::new(
            self.state.db.clone(),
            self.state.events.clone(),
            viewer.workspace_id,
        );
        // A stream's results are not looked at, so it never notes its
        // document as validated; one validated over HTTP runs lighter here too.
        let schema = self.state.schemas.to_run(&admitted);
        let results = schema.execute_stream(request.data(session));
        // A `None` after the last result says "complete".
        Ok(Box::pin(
            results
                .map(Some)
                .chain(futures_util::stream::once(async { None })),
        ))
    }
}

/// The key a `connection_init` payload carries, if it names one (header
/// names in any case).
fn key_in_payload(payload: &Value) -> Option<Result<&str, AppError>> {
    let object = payload.as_object()?;
    let find = |name: &str| {
        object
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
    };
    if let Some(value) = find("authorization") {
        return Some(auth::bearer(value));
    }
    find(auth::API_KEY_HEADER).map(|key| Ok(key.trim()))
}

/// A result as `next`, or, for a request error (nothing ran), as `error`.
fn next_or_error(id: &str, mut result: GraphQLResult) -> Value {
    admit::label(&mut result);
    if admit::is_request_error(&result) {
        let errors: Vec<Value> = result.errors.iter().map(server_error_json).collect();
        return json!({ "type": "error", "id": id, "payload": errors });
    }
    json!({ "type": "next", "id": id, "payload": result })
}

fn server_error_json(error: &async_graphql::ServerError) -> Value {
    serde_json::to_value(error).unwrap_or(Value::Null)
}

async fn send(sink: &mut Sink, message: &Value) -> Result<(), Close> {
    sink.send(Message::Text(message.to_string().into()))
        .await
        .map_err(|_| Close(1011, "Cannot write to the socket"))
}

async fn close(sink: &mut Sink, Close(code, reason): Close) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}

/// Whether a `GET /graphql` asks to upgrade to a WebSocket.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"))
}
