//! A small request must not make a large response, or hold much memory:
//! long text costs what it can return, pages read only the text they
//! show, a response over `--max-response-bytes` is refused on every
//! transport, and a client that stops reading a response is let go.

use std::time::Duration;

use chrono::Utc;
use entity::enums::MessageRole;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    helpers::{TestApp, error_code},
    socket::Socket,
};

/// 99 bytes that returned 193 MB over chats of 32 KB messages.
const AMPLIFIER: &str =
    "{ chatsConnection(first: 59) { nodes { messages(first: 100) { nodes { content } } } } }";

#[tokio::test]
async fn long_text_costs_what_it_can_return() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;
    app.statements.start_recording();
    let body = app.gql(&w.key, AMPLIFIER, json!({})).await;
    assert!(
        app.statements
            .take_recorded()
            .iter()
            .all(|s| !s.sql.contains("messages"))
    );
    assert_eq!(error_code(&body), "LIMIT_EXCEEDED", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("max-complexity"), "{message}");
    // Long previews cost by their length too; short ones stay cheap.
    let previews = |chars: u32| {
        format!(
            "{{ chatsConnection(first: 50) {{ nodes {{ messages(first: 100) {{ nodes {{ preview(maxChars: {chars}) }} }} }} }} }}"
        )
    };
    let body = app.gql(&w.key, &previews(10_000), json!({})).await;
    assert_eq!(error_code(&body), "LIMIT_EXCEEDED", "{body}");
    let one_chat =
        "{ chatsConnection(first: 1) { nodes { messages(first: 100) { nodes { content } } } } }";
    app.data(&w.key, one_chat, json!({})).await;
}

/// A chat with `n` messages of `chars` characters each.
async fn chat_with_long_messages(
    app: &TestApp,
    key_world: &crate::helpers::World,
    n: usize,
    chars: usize,
) -> String {
    let chat = app.insert_chat(key_world, key_world.new_chat()).await;
    for i in 0..n {
        let text = format!("{i} {}", "é".repeat(chars - 2 - i.to_string().len()));
        let at = Utc::now() + chrono::Duration::seconds(i as i64);
        app.post_message(chat.id, MessageRole::User, &text, at)
            .await;
    }
    chat.id.to_string()
}

#[tokio::test]
async fn a_response_over_max_response_bytes_is_refused_on_both_transports() {
    let app = TestApp::spawn_with(|config| config.limits.max_response_bytes = 200_000).await;
    let w = app.world("Acme").await;
    let chat = chat_with_long_messages(&app, &w, 10, 30_000).await;
    let query =
        "query($id: UUID!) { chat(id: $id) { id messages(first: 10) { nodes { content } } } }";
    let variables = json!({ "id": chat });
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&w.key)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.len() < 1_000, "{} bytes sent", text.len());
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(error_code(&body), "LIMIT_EXCEEDED");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("max-response-bytes"), "{message}");

    let mut socket = Socket::ready(&app, &w.key).await;
    socket.subscribe("big", query, variables.clone()).await;
    assert_eq!(socket.next("big").await, body);

    // What fits is sent whole.
    let small = "query($id: UUID!) { chat(id: $id) { messages(first: 3) { nodes { preview(maxChars: 20) } } } }";
    let data = app.data(&w.key, small, variables).await;
    assert_eq!(
        data["chat"]["messages"]["nodes"].as_array().unwrap().len(),
        3
    );
}

#[tokio::test]
async fn message_pages_read_only_the_text_they_show() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let long = format!("{}!", "é".repeat(300));
    for (i, text) in ["short", long.as_str(), "ça va"].iter().enumerate() {
        let at = Utc::now() + chrono::Duration::seconds(i as i64);
        app.post_message(chat.id, MessageRole::User, text, at).await;
    }
    /// The page with `selection`, and the statement that read it.
    async fn read(app: &TestApp, key: &str, chat: uuid::Uuid, selection: &str) -> (Value, String) {
        let query = format!(
            "query($id: UUID!) {{ chat(id: $id) {{ messages(first: 3, orderBy: CREATED_AT_ASC) {{ {selection} }} }} }}"
        );
        app.statements.start_recording();
        let data = app.data(key, &query, json!({ "id": chat })).await;
        let sql: Vec<String> = app
            .statements
            .take_recorded()
            .into_iter()
            .map(|s| s.sql)
            .filter(|sql| sql.contains("page0"))
            .collect();
        assert_eq!(sql.len(), 1, "{sql:?}");
        (data["chat"]["messages"].clone(), sql[0].clone())
    }
    let read = |selection| read(&app, &w.key, chat.id, selection);
    // Without content or a preview, the text is not read at all.
    let (_, sql) = read("nodes { id role createdAt }").await;
    assert!(!sql.contains("\"messages\".\"content\""), "{sql}");
    assert!(!sql.to_lowercase().contains("substr"), "{sql}");
    let (previews, sql) =
        read("nodes { preview(maxChars: 10) } edges { node { short: preview(maxChars: 4) } }")
            .await;
    assert!(
        sql.to_lowercase()
            .contains("substr(\"messages\".\"content\""),
        "{sql}"
    );
    let (whole, sql) = read("nodes { content preview(maxChars: 10) }").await;
    assert!(sql.contains("\"messages\".\"content\""), "{sql}");
    assert!(!sql.to_lowercase().contains("substr"), "{sql}");
    // A preview from the first characters is the preview of the whole text.
    for (i, node) in whole["nodes"].as_array().unwrap().iter().enumerate() {
        assert_eq!(previews["nodes"][i]["preview"], node["preview"], "{node}");
    }
    assert_eq!(
        previews["nodes"][1]["preview"],
        format!("{}…", "é".repeat(9))
    );
    assert_eq!(
        previews["edges"][2]["node"]["short"],
        "ça …".trim_end().replace(' ', "")
    );
    assert_eq!(whole["nodes"][1]["content"], long);
}

#[tokio::test]
async fn an_http_client_that_stops_reading_is_let_go() {
    let app = TestApp::spawn_with(|config| config.limits.request_timeout_secs = 1).await;
    let w = app.world("Acme").await;
    let chat = chat_with_long_messages(&app, &w, 100, 30_000).await;
    // About 6 MB of response, to a client whose receive buffer is small.
    let query =
        format!("{{ chat(id: \"{chat}\") {{ messages(first: 100) {{ nodes {{ content }} }} }} }}");
    let body = json!({ "query": query }).to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(app.addr).await.unwrap();
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        app.addr,
        w.key,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Not reading for longer than the timeout, then reading everything:
    // the server has given up on the write and closed the connection.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received)).await;
    let head_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let head = String::from_utf8_lossy(&received[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("a content-length")
        .trim()
        .parse()
        .unwrap();
    assert!(length > 5_000_000, "{length}");
    assert!(received.len() - head_end < length, "the whole body arrived");
}
