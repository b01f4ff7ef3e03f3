//! A graphql-transport-ws client over a real socket, for the tests: what
//! the graphql-ws library sends, message by message.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::TestApp;

/// How long a test waits for a message it expects.
const WAIT: Duration = Duration::from_secs(10);

pub struct Socket(pub WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Socket {
    /// Opens `/graphql` asking for `protocol`.
    pub async fn open(app: &TestApp, protocol: &str) -> Self {
        Self::open_at(&app.url("/graphql"), protocol).await
    }

    /// Opens the gateway at `http_url` asking for `protocol`.
    pub async fn open_at(http_url: &str, protocol: &str) -> Self {
        Self::try_open_at(http_url, protocol)
            .await
            .expect("the upgrade succeeds")
    }

    /// The upgrade's outcome, refusals included.
    pub async fn try_open_at(
        http_url: &str,
        protocol: &str,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        Self::try_open_with(http_url, &[("sec-websocket-protocol", protocol)]).await
    }

    /// The upgrade's outcome with these request headers.
    pub async fn try_open_with(
        http_url: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let url = http_url.replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).unwrap());
        }
        let (socket, _) = connect_async(request).await?;
        Ok(Self(socket))
    }

    /// Opens, initialises with `key` and waits for the ack.
    pub async fn ready(app: &TestApp, key: &str) -> Self {
        Self::ready_at(&app.url("/graphql"), key).await
    }

    /// Like [`Self::ready`] on the gateway at `http_url`.
    pub async fn ready_at(http_url: &str, key: &str) -> Self {
        let mut socket = Self::open_at(http_url, "graphql-transport-ws").await;
        socket
            .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } }))
            .await;
        assert_eq!(socket.recv().await, json!({ "type": "connection_ack" }));
        socket
    }

    pub async fn send(&mut self, message: Value) {
        self.0
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// Subscribes `id` to `query` with `variables`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "type": "subscribe",
            "id": id,
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The next text message, as JSON; fails on a close or a timeout.
    pub async fn recv(&mut self) -> Value {
        serde_json::from_str(&self.recv_text().await).unwrap()
    }

    /// The next text message as the server wrote it.
    pub async fn recv_text(&mut self) -> String {
        loop {
            let frame = tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("a message in time")
                .expect("the socket is open")
                .expect("a readable frame");
            match frame {
                Message::Text(text) => return text.as_str().to_owned(),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The payload of the next `next` message for `id`.
    pub async fn next(&mut self, id: &str) -> Value {
        let message = self.recv().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id, "{message}");
        message["payload"].clone()
    }

    /// Nothing arrives within `within`.
    pub async fn silent(&mut self, within: Duration) {
        if let Ok(frame) = tokio::time::timeout(within, self.0.next()).await {
            panic!("expected silence, got {frame:?}");
        }
    }

    /// The next text message as JSON, or the close code if the server
    /// closes first.
    pub async fn recv_or_close(&mut self) -> Result<Value, u16> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("a message or a close in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Ok(serde_json::from_str(text.as_str()).unwrap());
                }
                Some(Ok(Message::Close(Some(frame)))) => return Err(frame.code.into()),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return Err(1005),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The close code the server ends with.
    pub async fn closed_with(&mut self) -> u16 {
        self.closed_with_reason().await.0
    }

    /// The close code and reason the server ends with; messages before
    /// it are skipped.
    pub async fn closed_with_reason(&mut self) -> (u16, String) {
        loop {
            let frame = tokio::time::timeout(WAIT, self.0.next())
                .await
                .expect("a close in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.as_str().to_owned());
                }
                Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
                Some(Ok(_)) => continue,
                Some(Err(error)) => panic!("no close frame: {error}"),
            }
        }
    }
}
