//! Limits: what one request may ask for. Every refusal names its limit and
//! happens before any chat is read (the recorded statements prove it).

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::{CHAT_FIELDS, TestApp, error_code},
    socket::Socket,
};

/// The standard introspection query of graphql-js (`getIntrospectionQuery`),
/// as GraphiQL and code generators send it.
const INTROSPECTION: &str = include_str!("introspection.graphql");

/// Runs `query` and returns the error's code, message and the SQL run.
async fn refused(app: &TestApp, key: &str, query: &str) -> (String, String, Vec<String>) {
    app.statements.start_recording();
    let body = app.gql(key, query, json!({})).await;
    let sql: Vec<String> = app
        .statements
        .take_recorded()
        .into_iter()
        .map(|statement| statement.sql)
        .collect();
    assert!(
        body.get("data").is_none(),
        "a request error has no data: {body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap().to_owned();
    (error_code(&body).to_owned(), message, sql)
}

fn reads_chats(sql: &[String]) -> bool {
    sql.iter().any(|statement| statement.contains("\"chats\""))
}

#[tokio::test]
async fn documents_over_a_limit_are_refused_naming_it_before_any_sql() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;

    let aliases: String = (0..31)
        .map(|i| format!("a{i}: chats {{ totalCount }} "))
        .collect();
    let root_fields: String = (0..11).map(|_| "__typename ").collect();
    let directives = "@include(if: true) ".repeat(11);
    let deep = format!(
        "{{ __type(name: \"Chat\") {{ fields {{ type {}name{} }} }} }}",
        "{ ofType ".repeat(13),
        " }".repeat(13)
    );
    let tokens = format!("{{ {} }}", "__typename ".repeat(5_000));
    for (query, limit) in [
        (format!("{{ {aliases} }}"), "max-aliases"),
        (format!("{{ {root_fields} }}"), "max-root-fields"),
        (
            format!("{{ chats {{ totalCount {directives} }} }}"),
            "max-directives",
        ),
        (deep, "max-depth"),
        (tokens, "max-tokens"),
    ] {
        let (code, message, sql) = refused(&app, &w.key, &query).await;
        assert_eq!(code, "LIMIT_EXCEEDED", "{limit}: {message}");
        assert!(message.contains(limit), "{limit} not named in {message:?}");
        // The key is looked up first (SQLite reads it; PostgreSQL keeps it).
        assert!(
            sql.iter().all(|statement| statement.contains("api_keys")),
            "{limit}: SQL beyond the key ran before the refusal: {sql:?}"
        );
    }

    // Cost needs the schema's types, so it is checked after the key lookup,
    // still before any chat is read.
    let costly: String = (0..3)
        .map(|i| format!("p{i}: chats(pageSize: 100) {{ items {{ {CHAT_FIELDS} }} }} "))
        .collect();
    let (code, message, sql) = refused(&app, &w.key, &format!("{{ {costly} }}")).await;
    assert_eq!(code, "LIMIT_EXCEEDED", "{message}");
    assert!(message.contains("max-complexity"), "{message}");
    assert!(!reads_chats(&sql), "chats were read: {sql:?}");
}

#[tokio::test]
async fn the_largest_page_and_introspection_fit_the_default_limits() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;
    let full_page =
        format!("{{ chats(pageSize: 100) {{ totalCount items {{ {CHAT_FIELDS} }} }} }}");
    let data = app.data(&w.key, &full_page, json!({})).await;
    assert_eq!(data["chats"]["totalCount"], 1);

    let data = app.data(&w.key, INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"].as_array().unwrap();
    assert!(
        types.iter().any(|t| t["name"] == "Chat"),
        "Chat is introspected"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_on_every_path() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let padding = " ".repeat(300 * 1024);
    let json_body = format!("{{\"query\": \"{{ __typename }}\"{padding}}}");
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("application/json", None),
        ("application/json", Some("chunked")),
        ("multipart/form-data; boundary=x", None),
    ];
    for (content_type, encoding) in cases {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&w.key)
            .header(header::CONTENT_TYPE, content_type);
        request = match encoding {
            // A stream has no Content-Length: the limit applies while reading.
            Some(_) => request.body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                json_body
                    .clone()
                    .into_bytes()
                    .chunks(16 * 1024)
                    .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
                    .collect::<Vec<_>>(),
            ))),
            None => request.body(json_body.clone()),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        if content_type.starts_with("multipart") {
            // Refused for its type before its size is read.
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
            continue;
        }
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{content_type} {encoding:?}: {body}"
        );
        assert_eq!(error_code(&body), "LIMIT_EXCEEDED");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("262144 bytes")
        );
    }
}

#[tokio::test]
async fn the_body_limit_bounds_a_get_query_string_too() {
    let app = TestApp::spawn_with(|config| config.limits.max_body_bytes = 1024).await;
    let w = app.world("Acme").await;
    let long_get = format!("/graphql?query={{{}__typename}}", "%20".repeat(1024));
    let response = app
        .client
        .get(app.url(&long_get))
        .bearer_auth(&w.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn batches_are_refused() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let batch = json!([{ "query": "{ __typename }" }, { "query": "{ __typename }" }]);
    let (status, body) = app.post(Some(&w.key), batch).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "BAD_REQUEST");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batched")
    );
}

#[tokio::test]
async fn each_key_has_its_own_rate_limit_and_429_says_when_to_retry() {
    let app = TestApp::spawn_with(|config| {
        config.limits.rate_limit_per_sec = 1;
        config.limits.rate_limit_burst = 3;
    })
    .await;
    let a = app.world("Alpha").await;
    let b = app.world("Beta").await;
    let query = json!({ "query": "{ __typename }" });
    for _ in 0..3 {
        assert_eq!(
            app.post(Some(&a.key), query.clone()).await.0,
            StatusCode::OK
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&a.key)
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1).contains(&retry_after), "Retry-After: {retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // Another key's bucket is untouched.
    assert_eq!(app.post(Some(&b.key), query).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_request_over_the_timeout_is_504() {
    let app = TestApp::spawn_with(|config| config.limits.request_timeout_secs = 1).await;
    let w = app.world("Acme").await;
    let before = app.snapshot().await;
    // A socket ready before the writer comes (its key is then known).
    let mut socket = Socket::ready(&app, &w.key).await;
    // The write waits for the lock (SQLite's busy timeout is 5 s), so the
    // request's own 1 s deadline answers first.
    let (_holder, lock) = app.hold_chats_lock().await;
    let create = json!({
        "query": "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }",
        "variables": { "input": {
            "channelId": w.channels[0].id,
            "ownerSuperIdentityId": w.customer.super_identity_id,
        } },
    });
    let (status, body) = app.post(Some(&w.key), create.clone()).await;
    // The same over a WebSocket: an `error` with the same code, the socket
    // left open.
    socket
        .subscribe(
            "1",
            create["query"].as_str().unwrap(),
            create["variables"].clone(),
        )
        .await;
    let over_socket = socket.recv().await;
    lock.rollback().await.unwrap();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{body}");
    assert_eq!(error_code(&body), "TIMEOUT");
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(over_socket["type"], "error", "{over_socket}");
    assert_eq!(over_socket["payload"][0]["extensions"]["code"], "TIMEOUT");
    socket.subscribe("2", "{ __typename }", json!({})).await;
    assert_eq!(socket.next("2").await["data"]["__typename"], "Query");
    assert_eq!(
        app.snapshot().await,
        before,
        "the cancelled writes changed rows"
    );
}

/// A write stuck behind another writer fails as something to retry, never
/// INTERNAL: on PostgreSQL `statement_timeout` cancels it (TIMEOUT); on
/// SQLite the busy timeout passes (UNAVAILABLE).
#[tokio::test]
async fn a_statement_stuck_behind_another_writer_fails_retryably() {
    let app = TestApp::spawn_with(|config| {
        config.db_statement_timeout_secs = 1;
        config.limits.request_timeout_secs = 60;
    })
    .await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    // The key's first use writes its lastUsedAt; with that done, the key
    // check only reads, and the lock stops the mutation alone.
    app.data(&w.key, "{ __typename }", json!({})).await;
    let (_holder, lock) = app.hold_chats_lock().await;
    // `gql` asserts HTTP 200: a field error, not the request timeout (504).
    let body = app
        .gql(
            &w.key,
            "mutation($id: UUID!) { updateChat(id: $id, input: { title: \"x\" }) { id } }",
            json!({ "id": chat.id }),
        )
        .await;
    lock.rollback().await.unwrap();
    let expected = if app.is_postgres() {
        "TIMEOUT"
    } else {
        "UNAVAILABLE"
    };
    assert_eq!(error_code(&body), expected, "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["updateChat"]), "{body}");
    let text = body.to_string().to_lowercase();
    for leak in ["canceling statement", "locked", "busy"] {
        assert!(!text.contains(leak), "database text {leak:?}: {body}");
    }
}
