//! One GraphQL WebSocket, from upgrade to close. It waits for
//! `connection_init` (within `--ws-init-timeout-secs`, in the small budget
//! of sockets without a key), then runs operations until the client
//! leaves, the server stops, or the key is revoked. Each `subscribe` goes
//! the way an HTTP request does: the key checked again, the document
//! admitted, one request taken from the key's rate limit, and its results
//! shaped by the same function as HTTP's ([`response::shape`]).

use std::{pin::Pin, sync::Arc, time::Duration};

use async_graphql::parser::types::OperationType;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{
    SinkExt, Stream, StreamExt,
    stream::{SplitSink, SplitStream},
};
use serde_json::Value;
use tokio::{sync::OwnedSemaphorePermit, time::Sleep};
use tokio_stream::StreamMap;

use super::protocol::{self, ClientMessage, Close};
use crate::{
    auth::{self, Viewer},
    error::AppError,
    graphql::response::{self, Shaped},
    http::request::{self, Incoming},
    net::Reads,
    sockets::Held,
    state::AppState,
};

/// How long a closing frame may take to write before the socket is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

type Results = Pin<Box<dyn Stream<Item = Option<Shaped>> + Send>>;
type Sink = SplitSink<WebSocket, Message>;

/// A socket and what it holds.
pub struct Connection {
    state: AppState,
    header_key: Option<String>,
    reads: Option<Arc<Reads>>,
    _permit: OwnedSemaphorePermit,
    /// Its place among sockets without a key, until `connection_init`.
    pending: Option<OwnedSemaphorePermit>,
}

/// An initialised socket: its key (checked again on every `subscribe`),
/// and its place under it.
struct Ready {
    key: String,
    held: Held,
}

impl Connection {
    pub fn new(
        state: AppState,
        header_key: Option<String>,
        reads: Option<Arc<Reads>>,
        permit: OwnedSemaphorePermit,
        pending: OwnedSemaphorePermit,
    ) -> Self {
        Self {
            state,
            header_key,
            reads,
            _permit: permit,
            pending: Some(pending),
        }
    }

    pub async fn run(mut self, socket: WebSocket) {
        let (mut sink, mut incoming) = socket.split();
        let closed = self.serve(&mut sink, &mut incoming).await;
        if let Err(reason) = closed {
            close(&mut sink, reason).await;
        }
    }

    /// Serves until the client leaves (Ok) or the server closes (Err).
    async fn serve(
        &mut self,
        sink: &mut Sink,
        incoming: &mut SplitStream<WebSocket>,
    ) -> Result<(), Close> {
        let init_secs = self.state.ws_init_timeout_secs;
        // Also how long a message may take to arrive whole once its first
        // bytes have: a client sends what it has begun at once.
        let message_timeout = Duration::from_secs(init_secs);
        let init_deadline = tokio::time::sleep(message_timeout);
        tokio::pin!(init_deadline);
        let mut stopping = self.state.stopping.clone();
        let mut ready: Option<Ready> = None;
        let mut operations: StreamMap<String, Results> = StreamMap::new();
        let reads = self.reads.clone();
        let mut seen = reads.as_ref().map_or(0, |reads| reads.bytes());
        let mut incomplete: Option<Pin<Box<Sleep>>> = None;
        loop {
            tokio::select! {
                () = &mut init_deadline, if ready.is_none() => {
                    let reason = format!("Connection initialisation timeout: send connection_init within {init_secs} s");
                    return Err(Close(4408, reason.into()));
                }
                changed = stopping.changed() => {
                    if changed.is_err() || *stopping.borrow() {
                        return Err(Close::SHUTDOWN);
                    }
                }
                () = revoked(&mut ready) => return Err(Close::REVOKED),
                // Bytes arrived: unless they completed a message (the read
                // of the frame below resets this), the rest must follow soon.
                () = arrived(reads.as_deref()) => {
                    let now = reads.as_ref().map_or(0, |reads| reads.bytes());
                    if now != seen && incomplete.is_none() {
                        incomplete = Some(Box::pin(tokio::time::sleep(message_timeout)));
                    }
                }
                () = expired(&mut incomplete) => return Err(Close::INCOMPLETE),
                Some((id, shaped)) = operations.next(), if !operations.is_empty() => {
                    let (message, ends) = match shaped {
                        Some(shaped) => protocol::result(&id, shaped),
                        None => (protocol::complete(&id), true),
                    };
                    if ends {
                        operations.remove(&id);
                    }
                    send(sink, message).await?;
                }
                frame = incoming.next() => {
                    seen = reads.as_ref().map_or(0, |reads| reads.bytes());
                    incomplete = None;
                    let text = match frame {
                        None | Some(Ok(Message::Close(_))) => return Ok(()),
                        Some(Err(error)) => {
                            tracing::debug!(%error, "WebSocket read failed");
                            return Err(Close(1009, "Message too big or unreadable".into()));
                        }
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => {
                            return Err(Close(4400, "Binary messages are not accepted".into()));
                        }
                        Some(Ok(_)) => continue,
                    };
                    let message: ClientMessage =
                        serde_json::from_str(text.as_str()).map_err(|_| Close::INVALID)?;
                    match message {
                        ClientMessage::ConnectionInit { payload } => {
                            if ready.is_some() {
                                return Err(Close(4429, "Too many initialisation requests".into()));
                            }
                            ready = Some(self.initialise(payload.as_ref()).await?);
                            send(sink, protocol::ACK.to_owned()).await?;
                        }
                        ClientMessage::Ping { payload } => send(sink, protocol::pong(payload)).await?,
                        ClientMessage::Pong { .. } => {}
                        ClientMessage::Subscribe { id, payload } => {
                            let Some(ready) = &ready else {
                                return Err(Close::UNAUTHORIZED);
                            };
                            if operations.contains_key(&id) {
                                return Err(Close(4409, "Subscriber for this id already exists".into()));
                            }
                            match self.start(ready, payload, operations.len()).await? {
                                Ok(results) => {
                                    operations.insert(id, results);
                                }
                                Err(refused) => send(sink, protocol::result(&id, refused).0).await?,
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

    /// The key in `payload` (or the upgrade's headers), authenticated and
    /// given a place under its key; the socket leaves the budget of
    /// sockets without a key.
    async fn initialise(&mut self, payload: Option<&Value>) -> Result<Ready, Close> {
        let key = payload
            .and_then(key_in_payload)
            .map(|key| key.map(str::to_owned))
            .unwrap_or_else(|| self.header_key.clone().ok_or(auth::MISSING))
            .map_err(|_| Close::NO_KEY)?;
        let viewer = identify(&key, &self.state).await?;
        let held = self
            .state
            .open_sockets
            .hold(&viewer.credential)
            .ok_or(Close::TOO_MANY_FOR_KEY)?;
        self.pending = None;
        Ok(Ready { key, held })
    }

    /// Starts one operation as an HTTP request runs: the key checked
    /// again, the document admitted, the rate limit, then execution. Its
    /// results, or why it was refused (the socket stays open), or a close
    /// when the key no longer authenticates.
    async fn start(
        &self,
        ready: &Ready,
        payload: request::Params,
        running: usize,
    ) -> Result<Result<Results, Shaped>, Close> {
        let viewer = identify(&ready.key, &self.state).await?;
        Ok(self.admit_and_run(viewer, payload, running))
    }

    fn admit_and_run(
        &self,
        viewer: Viewer,
        payload: request::Params,
        running: usize,
    ) -> Result<Results, Shaped> {
        let state = &self.state;
        let refuse = |error: AppError| response::refusal(&error);
        if running as u64 >= state.max_subscriptions_per_connection {
            return Err(refuse(AppError::LimitExceeded {
                limit: "max-subscriptions-per-connection",
                actual: None,
                max: state.max_subscriptions_per_connection as usize,
            }));
        }
        // What `subscribe` carries: a GraphQL-over-HTTP request's parameters.
        let Incoming {
            mut request,
            document_id,
        } = payload.into_request().map_err(refuse)?;
        let trusted = state
            .admission
            .trusted(document_id.as_deref())
            .map_err(refuse)?;
        let admitted = state
            .admission
            .admit(&mut request, trusted)
            .map_err(|error| {
                response::shape(async_graphql::Response::from_errors(vec![error]), 0, false)
            })?;
        state
            .rate_limiter
            .check(viewer.api_key_id)
            .map_err(refuse)?;
        let max_bytes = state.limits.max_response_bytes;
        let session = state.sessions.open(viewer.workspace_id);
        let executions = session.executions();
        let schema = state.schemas.to_run(&admitted).clone();
        let request = request.data(session);
        if admitted.ty == OperationType::Subscription {
            // A stream's results are not looked at, so it never notes its
            // document as validated; one validated over HTTP runs lighter here too.
            let results = schema.execute_stream(request).map(move |result| {
                let exhausted = executions.current().budget.exhausted();
                Some(response::shape(result, max_bytes, exhausted))
            });
            // A `None` after the last result says "complete".
            return Ok(Box::pin(
                results.chain(futures_util::stream::once(async { None })),
            ));
        }
        // A query or mutation: one result, under the request timeout, as
        // over HTTP.
        let timeout = state.limits.request_timeout();
        let result = async move {
            let run = async {
                let result = schema.execute(request).await;
                admitted.ran(&result);
                let exhausted = executions.current().budget.exhausted();
                response::shape(result, max_bytes, exhausted)
            };
            let shaped = match timeout {
                Some(timeout) => tokio::time::timeout(timeout, run)
                    .await
                    .unwrap_or_else(|_| response::refusal(&AppError::Timeout)),
                None => run.await,
            };
            Some(shaped)
        };
        let results = futures_util::stream::once(result);
        Ok(Box::pin(
            results.chain(futures_util::stream::once(async { None })),
        ))
    }
}

/// `key` authenticated, or the close that says why not.
async fn identify(key: &str, state: &AppState) -> Result<Viewer, Close> {
    match Viewer::identify(key, state).await {
        Ok(viewer) => Ok(viewer),
        Err(AppError::Unauthenticated(_)) => Err(Close::BAD_KEY),
        Err(error) => {
            tracing::warn!(code = error.code(), "WebSocket authentication failed");
            Err(Close::INTERNAL)
        }
    }
}

/// Resolves when the socket's key is revoked; never before it is initialised.
async fn revoked(ready: &mut Option<Ready>) {
    match ready {
        Some(ready) => ready.held.revoked().await,
        None => std::future::pending().await,
    }
}

/// Resolves when bytes arrive on the connection (never, when its reads
/// are not recorded).
async fn arrived(reads: Option<&Reads>) {
    match reads {
        Some(reads) => reads.arrived().await,
        None => std::future::pending().await,
    }
}

/// Resolves when `deadline` passes; never, when there is none.
async fn expired(deadline: &mut Option<Pin<Box<Sleep>>>) {
    match deadline {
        Some(deadline) => deadline.await,
        None => std::future::pending().await,
    }
}

/// The key a `connection_init` payload carries, if it names one: at its
/// top level or inside `headers` (header names in any case).
fn key_in_payload(payload: &Value) -> Option<Result<&str, AppError>> {
    let object = payload.as_object()?;
    let headers = field(object, "headers").and_then(Value::as_object);
    for object in std::iter::once(object).chain(headers) {
        if let Some(value) = field(object, "authorization").and_then(Value::as_str) {
            return Some(auth::bearer(value));
        }
        if let Some(key) = field(object, auth::API_KEY_HEADER).and_then(Value::as_str) {
            return Some(Ok(key.trim()));
        }
    }
    None
}

/// The field of `object` named `name` in any case, as header names are.
fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

async fn send(sink: &mut Sink, message: String) -> Result<(), Close> {
    sink.send(Message::Text(message.into()))
        .await
        .map_err(|_| Close::UNWRITABLE)
}

/// Sends the closing frame, unless the socket cannot take it soon.
async fn close(sink: &mut Sink, Close(code, reason): Close) {
    let frame = CloseFrame {
        code,
        reason: reason.as_ref().into(),
    };
    let closing = async {
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, closing).await;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_key_comes_from_the_payload_or_its_headers() {
        let key =
            |payload: Value| key_in_payload(&payload).map(|found| found.ok().map(str::to_owned));
        let found = |key: &str| Some(Some(key.to_owned()));
        assert_eq!(key(json!({ "Authorization": "Bearer k1" })), found("k1"));
        assert_eq!(key(json!({ "x-api-key": " k2 " })), found("k2"));
        assert_eq!(
            key(json!({ "headers": { "authorization": "Bearer k3" } })),
            found("k3")
        );
        assert_eq!(
            key(json!({ "Headers": { "X-API-Key": "k4" } })),
            found("k4")
        );
        assert_eq!(key(json!({ "Authorization": "Basic k5" })), Some(None));
        assert_eq!(key(json!({ "other": 1 })), None);
        assert_eq!(key(json!("Bearer k6")), None);
    }
}
