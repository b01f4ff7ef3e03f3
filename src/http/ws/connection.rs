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
use tracing::Instrument;

use super::protocol::{self, ClientMessage, Close};
use crate::{
    auth::{Credential, MISSING, credentials},
    error::AppError,
    graphql::response::{self, Shaped},
    http::request,
    net::Reads,
    pipeline::{self, Allowed, Refusal},
    sockets::Held,
    state::AppState,
    telemetry::{Transport, observed::Observed},
};

/// How long a closing frame may take to write before the socket is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

type Results = Pin<Box<dyn Stream<Item = Option<Shaped>> + Send>>;
type Sink = SplitSink<WebSocket, Message>;

/// A socket and what it holds.
pub struct Connection {
    state: AppState,
    /// The credential of the upgrade request's headers, if any.
    header_credential: Option<Credential>,
    reads: Option<Arc<Reads>>,
    _permit: OwnedSemaphorePermit,
    /// Its place among sockets without a key, until `connection_init`.
    pending: Option<OwnedSemaphorePermit>,
}

/// An initialised socket: its credential (checked again on every
/// `subscribe`), its place under its holder, and when it expires.
struct Ready {
    credential: Credential,
    held: Held,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Connection {
    pub fn new(
        state: AppState,
        header_credential: Option<Credential>,
        reads: Option<Arc<Reads>>,
        permit: OwnedSemaphorePermit,
        pending: OwnedSemaphorePermit,
    ) -> Self {
        Self {
            state,
            header_credential,
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
            let expires_at = ready.as_ref().and_then(|ready| ready.expires_at);
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
                () = expiry(expires_at) => return Err(Close::EXPIRED),
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

    /// The credential in `payload` (or the upgrade's headers),
    /// authenticated and given a place under its holder; the socket
    /// leaves the budget of sockets without a key.
    async fn initialise(&mut self, payload: Option<&Value>) -> Result<Ready, Close> {
        let credential = payload
            .and_then(credentials::from_payload)
            .unwrap_or_else(|| self.header_credential.clone().ok_or(MISSING))
            .map_err(|_| Close::NO_KEY)?;
        let principal = match self.state.auth.identify(&credential).await {
            Ok(principal) => principal,
            Err(error) => return Err(refused(&error)),
        };
        let held = self
            .state
            .open_sockets
            .hold(&principal.holder)
            .ok_or(Close::TOO_MANY_FOR_KEY)?;
        self.pending = None;
        Ok(Ready {
            credential,
            held,
            expires_at: principal.expires_at,
        })
    }

    /// Starts one operation through the pipeline an HTTP request takes
    /// ([`pipeline`]): the credential checked again, the document
    /// admitted, the rate limit, then execution. Its results, or why it
    /// was refused (the socket stays open), or a close when the
    /// credential no longer authenticates.
    async fn start(
        &self,
        ready: &Ready,
        payload: request::Params,
        running: usize,
    ) -> Result<Result<Results, Shaped>, Close> {
        let state = &self.state;
        if running as u64 >= state.max_subscriptions_per_connection {
            return Ok(Err(response::refusal(&AppError::LimitExceeded {
                limit: "max-subscriptions-per-connection",
                actual: None,
                max: state.max_subscriptions_per_connection as usize,
            })));
        }
        // What `subscribe` carries: a GraphQL-over-HTTP request's parameters.
        let incoming = match payload.into_request() {
            Ok(incoming) => incoming,
            Err(error) => return Ok(Err(response::refusal(&error))),
        };
        let credential = Ok(ready.credential.clone());
        let mut observed = Observed::start(&state.telemetry, Transport::Ws);
        let seen = &mut observed.seen;
        let span = observed.span.clone();
        let prepare = pipeline::prepare(state, credential, incoming, Allowed::Any, seen);
        let prepared = match prepare.instrument(span.clone()).await {
            Ok(prepared) => prepared,
            Err(refusal) => {
                observed.note(refusal.outcome());
                return match refusal {
                    Refusal::Whole(
                        error @ (AppError::Unauthenticated(_) | AppError::InvalidToken(_)),
                    ) => Err(refused(&error)),
                    refusal => Ok(Err(refusal.into_shaped())),
                };
            }
        };
        // A `None` after the last result says "complete".
        let complete = || futures_util::stream::once(async { None });
        if prepared.operation() == OperationType::Subscription {
            let results = span.in_scope(|| pipeline::stream(state, prepared));
            let results = observed.over(results).map(Some);
            return Ok(Ok(Box::pin(results.chain(complete()))));
        }
        // A query or mutation: one result, under the request timeout, as
        // over HTTP.
        let state = state.clone();
        let result = async move {
            let run = async { Ok(pipeline::run(&state, prepared).await) };
            let shaped = pipeline::timed(&state, run)
                .instrument(span)
                .await
                .unwrap_or_else(Refusal::into_shaped);
            observed.note(shaped.outcome);
            Some(shaped)
        };
        let results = futures_util::stream::once(result);
        Ok(Ok(Box::pin(results.chain(complete()))))
    }
}

/// The close for a credential that does not authenticate, or could not
/// be checked.
fn refused(error: &AppError) -> Close {
    match error {
        AppError::Unauthenticated(_) => Close::BAD_KEY,
        AppError::InvalidToken(_) => Close::forbidden(&error.message()),
        AppError::Timeout | AppError::Unavailable => Close::TRY_AGAIN,
        other => {
            tracing::warn!(code = other.code(), "WebSocket authentication failed");
            Close::INTERNAL
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

/// Resolves when the socket's token expires; never for a key, or before
/// it is initialised.
async fn expiry(at: Option<chrono::DateTime<chrono::Utc>>) {
    match at.and_then(|at| (at - chrono::Utc::now()).to_std().ok()) {
        Some(left) => tokio::time::sleep(left).await,
        None if at.is_some() => {}
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
