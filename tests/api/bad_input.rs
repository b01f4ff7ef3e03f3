//! Malformed input of every kind: each gets a 4xx or a GraphQL error that
//! says what was wrong, and none changes a row.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::TestApp;

const CREATE: &str = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
const UPDATE: &str =
    "mutation($id: UUID!, $input: UpdateChatInput!) { updateChat(id: $id, input: $input) { id } }";
const REMOVE: &str = "mutation($id: UUID!) { removeChat(id: $id) { chatId } }";
const LIST: &str = "query($page: Int, $size: Int, $order: ChatOrderBy, $filter: ChatFilter) {
    chats(page: $page, pageSize: $size, orderBy: $order, filter: $filter) { totalCount } }";
const CONNECTION: &str = "query($first: Int, $last: Int, $after: String, $before: String) {
    chatsConnection(first: $first, last: $last, after: $after, before: $before) { totalCount } }";

/// Sends `body` raw; the status and the first error's message.
async fn send(app: &TestApp, key: &str, body: String) -> (StatusCode, String) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, message)
}

#[tokio::test]
async fn malformed_input_is_refused_saying_what_was_wrong_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await.id;
    let (channel, owner) = (w.channels[0].id, w.customer.super_identity_id);
    let create = |extra: Value| {
        let mut input = json!({ "channelId": channel, "ownerSuperIdentityId": owner });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "query": CREATE, "variables": { "input": input } })
    };
    let huge = "x".repeat(200_000);
    let ids: Vec<Uuid> = (0..101).map(|_| Uuid::new_v4()).collect();
    let cases: Vec<(Value, &str)> = vec![
        // Bad UUIDs, wrong types, nulls where not allowed, unknown fields.
        // async-graphql names the type and the input object, not the field,
        // when a variable's nested value does not parse.
        (
            create(json!({ "channelId": "not-a-uuid" })),
            "Failed to parse \"UUID\"",
        ),
        (create(json!({ "channelId": 42 })), "\"UUID\", found 42"),
        (create(json!({ "channelId": null })), "input.channelId"),
        (
            json!({ "query": CREATE, "variables": { "input": { "channelId": channel } } }),
            "ownerSuperIdentityId",
        ),
        (create(json!({ "colour": "red" })), "colour"),
        (create(json!({ "title": ["a"] })), "title"),
        // Huge and impossible strings.
        (create(json!({ "title": huge })), "500 characters"),
        (create(json!({ "title": "a\u{0}b" })), "NUL"),
        (
            json!({ "query": UPDATE, "variables": { "id": chat, "input": { "title": "x".repeat(501) } } }),
            "500 characters",
        ),
        (
            json!({ "query": UPDATE, "variables": { "id": "chat-1", "input": {} } }),
            "id",
        ),
        (
            json!({ "query": UPDATE, "variables": { "id": chat, "input": { "ticketId": "nope" } } }),
            "UpdateChatInput",
        ),
        (json!({ "query": REMOVE, "variables": { "id": 7 } }), "id"),
        (json!({ "query": REMOVE, "variables": {} }), "id"),
        (
            json!({ "query": REMOVE, "variables": { "id": Uuid::new_v4() } }),
            "not found",
        ),
        // Page numbers: negative, zero, huge, beyond Int.
        (
            json!({ "query": LIST, "variables": { "page": -1 } }),
            "page",
        ),
        (json!({ "query": LIST, "variables": { "page": 0 } }), "page"),
        (
            json!({ "query": LIST, "variables": { "page": i64::MAX } }),
            "page",
        ),
        (
            json!({ "query": LIST, "variables": { "page": 1e20 } }),
            "page",
        ),
        (
            json!({ "query": LIST, "variables": { "size": 0 } }),
            "pageSize",
        ),
        (
            json!({ "query": LIST, "variables": { "size": 1000 } }),
            "pageSize",
        ),
        // Unknown enum values; too many filter values.
        (
            json!({ "query": LIST, "variables": { "order": "SIDEWAYS" } }),
            "SIDEWAYS",
        ),
        (
            json!({ "query": LIST, "variables": { "filter": { "channelTypes": ["TELEGRAM"] } } }),
            "TELEGRAM",
        ),
        (
            json!({ "query": LIST, "variables": { "filter": { "ids": ids } } }),
            "ids",
        ),
        // Cursors and their counts.
        (
            json!({ "query": CONNECTION, "variables": { "first": -5 } }),
            "first",
        ),
        (
            json!({ "query": CONNECTION, "variables": { "after": "garbage" } }),
            "after",
        ),
        (
            json!({ "query": CONNECTION, "variables": { "first": 1, "last": 1 } }),
            "last",
        ),
        // Documents and variables that do not fit each other.
        (json!({ "query": "query { chat(id: $id) { id } }" }), "$id"),
        (
            json!({ "query": "query($id: UUID!) { chat(id: $id) { id } }", "variables": { "id": 42 } }),
            "id",
        ),
        (json!({ "query": "{ chat(id: \"zzz\") { id } }" }), "UUID"),
        (json!({ "query": "mutation { nope }" }), "nope"),
    ];
    let before = app.snapshot().await;
    for (body, says) in cases {
        let (status, message) = send(&app, &w.key, body.to_string()).await;
        let label = body.to_string().chars().take(160).collect::<String>();
        assert!(
            status == StatusCode::OK || status.is_client_error(),
            "{label}: {status}"
        );
        assert!(
            message.to_lowercase().contains(&says.to_lowercase()),
            "{label}: the error {message:?} does not mention {says:?}"
        );
    }

    // Bodies that are not GraphQL requests at all.
    for (body, says) in [
        ("\"hello\"".to_owned(), "not a GraphQL request"),
        ("{\"query\": 5}".to_owned(), "not a GraphQL request"),
        (
            "{\"query\": \"{ chats { totalCount } }\", \"variables\": [1]}".to_owned(),
            "not a GraphQL request",
        ),
        ("{\"query\": ".to_owned(), "not a GraphQL request"),
        ("{}".to_owned(), "query"),
    ] {
        let (status, message) = send(&app, &w.key, body.clone()).await;
        assert!(
            status.is_client_error() || status == StatusCode::OK,
            "{body}: {status}"
        );
        assert!(
            message.contains(says),
            "{body}: {message:?} does not mention {says:?}"
        );
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&w.key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(b"{\"query\": \"{ \xff }\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "invalid UTF-8");

    assert_eq!(
        app.snapshot().await,
        before,
        "a refused request changed rows"
    );
}
