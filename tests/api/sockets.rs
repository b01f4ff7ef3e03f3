//! What a WebSocket may hold and how it ends: a revoked key closes its
//! open sockets (on every replica), sockets without a key have their own
//! small budget, one key cannot take every socket, frames and unfinished
//! messages are bounded, a client that stops reading is let go, browser
//! pages of other origins are refused, and every close says what to do.
//! Errors and field order are the same as over HTTP.

use std::time::Duration;

use chat_gateway::service::api_key;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    helpers::{TestApp, attached},
    socket::Socket,
};

const EVENTS: &str = "subscription { chatEvents { kind chat { id } message { content } } }";
const CREATE: &str = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";

fn prefix(key: &str) -> &str {
    chat_gateway::secret::prefix_of(key).unwrap()
}

fn refused_status(outcome: Result<Socket, tokio_tungstenite::tungstenite::Error>) -> u16 {
    match outcome {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

#[tokio::test]
async fn revoking_a_key_closes_its_open_sockets_on_every_replica_and_spares_the_others() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other_key = api_key::create(&app.db, w.workspace_id, "other", None)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap()
        .key;
    // On PostgreSQL the revoked key's socket is on another replica: the
    // revocation reaches it by NOTIFY; on SQLite, by the periodic look.
    let replica = if app.is_postgres() {
        Some(app.replica().await)
    } else {
        None
    };
    let (url, metrics) = match &replica {
        Some(replica) => (
            format!("http://{}/graphql", replica.addr),
            format!("http://{}", replica.metrics),
        ),
        None => (app.url("/graphql"), app.metrics_url()),
    };
    let mut doomed = Socket::ready_at(&url, &w.key).await;
    doomed.subscribe("1", EVENTS, json!({})).await;
    let mut spared = Socket::ready_at(&url, &other_key).await;
    spared.subscribe("1", EVENTS, json!({})).await;
    attached(&metrics, 2).await;

    api_key::revoke(&app.db, prefix(&w.key))
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let (code, reason) = doomed.closed_with_reason().await;
    assert_eq!(
        (code, reason.as_str()),
        (4403, "Forbidden: the API key was revoked")
    );
    attached(&metrics, 1).await;

    // The other key's socket still gets events.
    let input = json!({
        "channelId": w.channels[0].id,
        "ownerSuperIdentityId": w.customer.super_identity_id,
    });
    app.data(&other_key, CREATE, json!({ "input": input }))
        .await;
    let event = spared.next("1").await;
    assert_eq!(event["data"]["chatEvents"]["kind"], "CREATED", "{event}");
}

#[tokio::test]
async fn a_key_revoked_without_a_notification_still_closes_its_sockets() {
    // As when a NOTIFY is lost: the revocation is written behind the
    // gateway's back, and the periodic look at revoked keys finds it.
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut socket = Socket::ready(&app, &w.key).await;
    socket.subscribe("1", EVENTS, json!({})).await;
    attached(&app.metrics_url(), 1).await;
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => "UPDATE api_keys SET revoked_at = now() WHERE prefix = $1",
        _ => {
            "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') WHERE prefix = ?"
        }
    };
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [prefix(&w.key).into()],
        ))
        .await
        .unwrap();
    assert_eq!(socket.closed_with().await, 4403);
}

#[tokio::test]
async fn a_mutation_sent_on_a_socket_after_its_key_was_revoked_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut socket = Socket::ready(&app, &w.key).await;
    let before = app.snapshot().await;
    api_key::revoke(&app.db, prefix(&w.key))
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    if app.is_postgres() {
        // PostgreSQL keeps keys for a moment; the NOTIFY that evicts this
        // one also closes its sockets. Past it, nothing runs.
        while app
            .post(Some(&w.key), json!({ "query": "{ __typename }" }))
            .await
            .0
            != 401
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let input = json!({
        "channelId": w.channels[0].id,
        "ownerSuperIdentityId": w.customer.super_identity_id,
    });
    // The socket may already be closed; then the send itself fails.
    let _ = socket
        .0
        .send(tokio_tungstenite::tungstenite::Message::Text(
            json!({ "type": "subscribe", "id": "m", "payload": { "query": CREATE, "variables": { "input": input } } })
                .to_string()
                .into(),
        ))
        .await;
    assert_eq!(socket.closed_with().await, 4403);
    assert_eq!(app.snapshot().await, before, "the mutation ran");
}

#[tokio::test]
async fn sockets_without_a_key_have_a_budget_of_their_own() {
    let app = TestApp::spawn_with(|config| {
        config.max_ws_pending_connections = 2;
        config.ws_init_timeout_secs = 60;
    })
    .await;
    let w = app.world("Acme").await;
    let url = app.url("/graphql");
    let mut first = Socket::open(&app, "graphql-transport-ws").await;
    let _second = Socket::open(&app, "graphql-transport-ws").await;
    assert_eq!(
        refused_status(Socket::try_open_at(&url, "graphql-transport-ws").await),
        503
    );
    // One is accepted with its key: it leaves the budget, another may wait.
    first
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", w.key) } }))
        .await;
    assert_eq!(first.recv().await, json!({ "type": "connection_ack" }));
    let _third = Socket::open(&app, "graphql-transport-ws").await;
}

#[tokio::test]
async fn a_socket_without_connection_init_is_closed_saying_what_to_send() {
    let app = TestApp::spawn_with(|config| config.ws_init_timeout_secs = 1).await;
    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    let (code, reason) = socket.closed_with_reason().await;
    assert_eq!(code, 4408);
    assert!(reason.contains("connection_init within 1 s"), "{reason}");
}

#[tokio::test]
async fn one_key_holds_at_most_its_share_of_sockets() {
    let app = TestApp::spawn_with(|config| config.max_ws_connections_per_key = 2).await;
    let a = app.world("Alpha").await;
    let b = app.world("Beta").await;
    let first = Socket::ready(&app, &a.key).await;
    let _second = Socket::ready(&app, &a.key).await;
    let mut third = Socket::open(&app, "graphql-transport-ws").await;
    third
        .send(json!({ "type": "connection_init", "payload": { "X-API-Key": a.key } }))
        .await;
    let (code, reason) = third.closed_with_reason().await;
    assert_eq!(code, 1013);
    assert!(reason.contains("max-ws-connections-per-key"), "{reason}");
    // Another key is not affected, and a place frees when a socket closes.
    let _other = Socket::ready(&app, &b.key).await;
    drop(first);
    let mut accepted = false;
    for _ in 0..100 {
        let mut socket = Socket::open(&app, "graphql-transport-ws").await;
        socket
            .send(json!({ "type": "connection_init", "payload": { "X-API-Key": a.key } }))
            .await;
        if socket.recv_or_close().await.is_ok() {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted, "no place freed for the key");
}

#[tokio::test]
async fn close_reasons_name_the_fix_and_headers_shaped_params_authenticate() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket.send(json!({ "type": "connection_init" })).await;
    let (code, reason) = socket.closed_with_reason().await;
    assert_eq!(code, 4403);
    assert!(
        reason.contains("Authorization") && reason.contains("connection_init"),
        "{reason}"
    );

    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket
        .send(
            json!({ "type": "connection_init", "payload": { "Authorization": "Bearer cgw_nope" } }),
        )
        .await;
    let (code, reason) = socket.closed_with_reason().await;
    assert_eq!(code, 4403);
    assert!(reason.contains("unknown, malformed or revoked"), "{reason}");

    // `connectionParams: { headers: { Authorization } }`, as Apollo's and
    // Hasura's documentation write it.
    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket
        .send(json!({ "type": "connection_init", "payload": { "headers": { "Authorization": format!("Bearer {}", w.key) } } }))
        .await;
    assert_eq!(socket.recv().await, json!({ "type": "connection_ack" }));
}

#[tokio::test]
async fn browser_pages_of_other_origins_cannot_open_a_socket() {
    let open = TestApp::spawn_with(|config| {
        config.cors_allowed_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let closed = TestApp::spawn().await;
    let protocol = ("sec-websocket-protocol", "graphql-transport-ws");
    for app in [&open, &closed] {
        let url = app.url("/graphql");
        let evil = [protocol, ("origin", "https://evil.example")];
        assert_eq!(
            refused_status(Socket::try_open_with(&url, &evil).await),
            403
        );
        // The gateway's own pages (GraphiQL), and clients that are not
        // browsers (no Origin), may.
        let own = format!("http://{}", app.addr);
        assert!(
            Socket::try_open_with(&url, &[protocol, ("origin", &own)])
                .await
                .is_ok()
        );
        assert!(Socket::try_open_with(&url, &[protocol]).await.is_ok());
    }
    let url = open.url("/graphql");
    let app_origin = [protocol, ("origin", "https://app.example.com")];
    assert!(Socket::try_open_with(&url, &app_origin).await.is_ok());
    let url = closed.url("/graphql");
    assert_eq!(
        refused_status(Socket::try_open_with(&url, &app_origin).await),
        403
    );
}

/// A raw connection upgraded to the WebSocket protocol, for frames no
/// client library would send.
async fn raw_socket(app: &TestApp) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /graphql HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
        app.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

/// The head of a masked text frame of `len` bytes (mask all zero).
fn frame_head(len: u64) -> Vec<u8> {
    let mut head = vec![0x81];
    match len {
        0..=125 => head.push(0x80 | len as u8),
        126..=0xffff => {
            head.push(0x80 | 126);
            head.extend((len as u16).to_be_bytes());
        }
        _ => {
            head.push(0x80 | 127);
            head.extend(len.to_be_bytes());
        }
    }
    head.extend([0, 0, 0, 0]);
    head
}

/// The next frame the server sends on a raw connection (short ones
/// only): its opcode byte and payload.
async fn raw_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let read = async {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).await?;
        assert!(head[1] < 126, "a long frame: {head:?}");
        let mut payload = vec![0u8; usize::from(head[1])];
        stream.read_exact(&mut payload).await?;
        Ok::<_, std::io::Error>((head[0], payload))
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("a frame in time")
        .expect("a frame")
}

/// The close code the server sends on a raw connection.
async fn raw_close_code(stream: &mut TcpStream) -> u16 {
    let (opcode, payload) = raw_frame(stream).await;
    assert_eq!(opcode, 0x88, "not a close frame: {payload:?}");
    u16::from_be_bytes([payload[0], payload[1]])
}

#[tokio::test]
async fn frames_are_bounded_and_an_unfinished_message_is_timed_out() {
    let app = TestApp::spawn_with(|config| {
        config.ws_init_timeout_secs = 1;
        config.limits.max_body_bytes = 4_096;
    })
    .await;
    // A frame announcing 16 MiB is refused from its head, not buffered.
    let mut stream = raw_socket(&app).await;
    stream.write_all(&frame_head(16 << 20)).await.unwrap();
    assert_eq!(raw_close_code(&mut stream).await, 1009);

    // A message begun and never finished is dropped, after as long as
    // connection_init may take.
    let w = app.world("Acme").await;
    let mut stream = raw_socket(&app).await;
    let init = json!({ "type": "connection_init", "payload": { "X-API-Key": w.key } }).to_string();
    let mut frame = frame_head(init.len() as u64);
    frame.extend(init.as_bytes());
    stream.write_all(&frame).await.unwrap();
    let (opcode, ack) = raw_frame(&mut stream).await;
    assert_eq!(
        (opcode, ack.as_slice()),
        (0x81, &br#"{"type":"connection_ack"}"#[..])
    );
    let subscribe =
        json!({ "type": "subscribe", "id": "1", "payload": { "query": "{ __typename }" } })
            .to_string();
    let mut begun = frame_head(subscribe.len() as u64);
    begun.extend(&subscribe.as_bytes()[..10]);
    stream.write_all(&begun).await.unwrap();
    assert_eq!(raw_close_code(&mut stream).await, 1008);
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_disconnected() {
    let app = TestApp::spawn_with(|config| config.limits.request_timeout_secs = 1).await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    // A client with a small receive buffer that subscribes, then never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            app.url("/graphql").replacen("http://", "ws://", 1),
        )
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut client, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    use tokio_tungstenite::tungstenite::Message;
    let init = json!({ "type": "connection_init", "payload": { "X-API-Key": w.key } });
    client
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    client.next().await.unwrap().unwrap();
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": EVENTS } });
    client
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    attached(&app.metrics_url(), 1).await;
    let text = "x".repeat(32_000);
    let post = "mutation($chat: UUID!, $text: String!) {
        postMessage(input: { chatId: $chat, role: OPERATOR, content: $text }) { message { id } } }";
    for _ in 0..150 {
        app.data(&w.key, post, json!({ "chat": chat.id, "text": text }))
            .await;
    }
    // Its writes stall; after the timeout the server lets it go.
    attached(&app.metrics_url(), 0).await;
    drop(client);
}

#[tokio::test]
async fn errors_and_field_order_are_the_same_over_http_and_the_socket() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;
    let mut socket = Socket::ready(&app, &w.key).await;
    let key = w.key.as_str();
    let cases = [
        // Fields out of alphabetical order come back as selected.
        (
            "{ chats(pageSize: 1) { totalCount items { title id } } __typename }",
            json!({}),
        ),
        ("{ chats { ", json!({})),
        (&*format!("{{ {key} }}"), json!({})),
        (
            "query($id: UUID!) { chat(id: $id) { id } }",
            json!({ "id": key }),
        ),
        ("{ chat(id: \"x\") { id } }", json!({})),
    ];
    for (i, (query, variables)) in cases.iter().enumerate() {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let http = response.text().await.unwrap();
        let id = i.to_string();
        socket.subscribe(&id, query, variables.clone()).await;
        let ws = socket.recv_text().await;
        assert!(
            !http.contains(key) && !ws.contains(key),
            "a key was echoed: {http} / {ws}"
        );
        let parsed: Value = serde_json::from_str(&ws).unwrap();
        if parsed["type"] == "next" {
            let payload = ws
                .strip_prefix(&format!(r#"{{"type":"next","id":"{id}","payload":"#))
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{ws}"));
            assert_eq!(payload, http, "{query}");
            assert_eq!(socket.recv().await["type"], "complete");
        } else {
            assert_eq!(parsed["type"], "error", "{ws}");
            let http: Value = serde_json::from_str(&http).unwrap();
            assert_eq!(parsed["payload"], http["errors"], "{query}");
            assert!(
                parsed["payload"][0]["extensions"]["code"].is_string(),
                "{ws}"
            );
        }
    }
}

/// A key that cannot be checked at `connection_init` because the database
/// is busy (another writer holds the keys: SQLite's busy timeout, or
/// PostgreSQL's statement timeout, passes) closes the socket with 1013,
/// which graphql-ws clients retry, not 4500, after which they give up for
/// good. Once the writer is done, the same key connects.
#[tokio::test]
async fn a_key_the_database_is_too_busy_to_check_is_told_to_come_back() {
    let app = TestApp::spawn_with(|config| config.db_statement_timeout_secs = 1).await;
    let w = app.world("Acme").await;
    let (_holder, lock) = app.hold_lock("api_keys", "name").await;
    let mut socket = Socket::open(&app, "graphql-transport-ws").await;
    socket
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", w.key) } }))
        .await;
    let (code, reason) = socket.closed_with_reason().await;
    lock.rollback().await.unwrap();
    assert_eq!(code, 1013, "{reason}");
    assert!(reason.contains("connect again"), "{reason}");
    Socket::ready(&app, &w.key).await;
}
