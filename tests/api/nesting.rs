//! Deeply nested input: the parser recurses once per level of `[`, `{` and
//! `(`, so a few kilobytes nested a thousand deep would overflow a
//! worker's stack and abort the whole process. Without a credential
//! nothing is parsed at all; with one, every transport refuses them
//! before parsing, and the process keeps serving.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_code},
    socket::Socket,
};

/// `open` repeated `depth` times around `inner`, then `close` as often.
fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// Documents that overflowed the stack, each within the default
/// `--max-tokens` (5,000).
fn document_bombs() -> Vec<(&'static str, String)> {
    vec![
        (
            "a list literal",
            format!("{{ __typename(x: {}) }}", nested("[", "", "]", 1530)),
        ),
        (
            "an object literal",
            format!("{{ __typename(x: {}) }}", nested("{a:", "1", "}", 1245)),
        ),
        (
            "a variable's default value",
            format!(
                "query($v: [Int] = {}) {{ __typename }}",
                nested("[", "", "]", 1530)
            ),
        ),
        ("selections", nested("{ a ", "", "}", 1600)),
    ]
}

/// A JSON value nested `depth` levels of lists deep.
fn deep_json(depth: usize) -> Value {
    (1..depth).fold(json!([]), |value, _| json!([value]))
}

fn assert_nesting_refused(body: &Value) {
    assert_eq!(error_code(body), "LIMIT_EXCEEDED", "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("max-nesting"), "{message}");
    assert!(body.get("data").is_none(), "{body}");
}

async fn still_serves(app: &TestApp, key: &str) {
    let data = app.data(key, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "Query");
}

#[tokio::test]
async fn nesting_bombs_are_refused_over_post_and_get() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for (_, query) in document_bombs() {
        // Without a key: refused for that, never parsed.
        let (status, body) = app.post(None, json!({ "query": query })).await;
        assert_eq!(
            (status.as_u16(), error_code(&body)),
            (401, "UNAUTHENTICATED")
        );
        let (_, body) = app.post(Some(&w.key), json!({ "query": query })).await;
        assert_nesting_refused(&body);
        let response = app
            .client
            .get(app.url("/graphql"))
            .bearer_auth(&w.key)
            .query(&[("query", &query)])
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_nesting_refused(&body);
        still_serves(&app, &w.key).await;
    }

    // Variables: deeper than the bound, and deeper than serde_json's own
    // recursion limit (128), which stops before any recursion of ours.
    for depth in [65, 100, 127, 128, 129, 500] {
        let body = json!({
            "query": "query($v: [Int]) { __typename }",
            "variables": { "v": deep_json(depth) },
        })
        .to_string();
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&w.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "depth {depth}");
        assert_nesting_refused(&response.json().await.unwrap());
        let variables = json!({ "v": deep_json(depth) }).to_string();
        let response = app
            .client
            .get(app.url("/graphql"))
            .bearer_auth(&w.key)
            .query(&[("query", "query($v: [Int]) { __typename }")])
            .query(&[("variables", variables)])
            .send()
            .await
            .unwrap();
        assert_nesting_refused(&response.json().await.unwrap());
    }
    // Within the bound, the value is checked against its type as usual.
    let shallow =
        json!({ "query": "query($v: [Int]) { __typename }", "variables": { "v": deep_json(60) } });
    let (_, body) = app.post(Some(&w.key), shallow).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    still_serves(&app, &w.key).await;
}

#[tokio::test]
async fn nesting_bombs_are_refused_over_a_websocket() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut socket = Socket::ready(&app, &w.key).await;
    for (i, (what, query)) in document_bombs().into_iter().enumerate() {
        let id = i.to_string();
        socket.subscribe(&id, &query, json!({})).await;
        let refused = socket.recv().await;
        assert_eq!(refused["type"], "error", "{what}: {refused}");
        assert_eq!(refused["id"], id.as_str());
        assert_nesting_refused(&json!({ "errors": refused["payload"] }));
    }
    socket
        .subscribe(
            "vars",
            "query($v: [Int]) { __typename }",
            json!({ "v": deep_json(100) }),
        )
        .await;
    let refused = socket.recv().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_nesting_refused(&json!({ "errors": refused["payload"] }));
    // The socket still runs operations, and the process still serves.
    socket.subscribe("ok", "{ __typename }", json!({})).await;
    assert_eq!(socket.next("ok").await["data"]["__typename"], "Query");
    // A message deeper than JSON is read at all cannot name its operation:
    // it closes the socket as an invalid message.
    socket
        .subscribe(
            "deep",
            "query($v: [Int]) { __typename }",
            json!({ "v": deep_json(500) }),
        )
        .await;
    assert_eq!(socket.closed_with().await, 4400);
    still_serves(&app, &w.key).await;
}
