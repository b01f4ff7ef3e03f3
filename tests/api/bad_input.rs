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

/// What a refusal looks like: the HTTP status (under
/// `application/graphql-response+json`), the code, the field named, and a
/// piece of the message.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    field: Option<&'static str>,
    says: &'static str,
}

/// A request error: the document or its variables do not fit the schema.
fn request_error(field: Option<&'static str>, says: &'static str) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code: "BAD_USER_INPUT",
        field,
        says,
    }
}

/// A field error: the values fit their types but not the operation.
fn field_error(code: &'static str, field: &'static str, says: &'static str) -> Refusal {
    Refusal {
        status: StatusCode::OK,
        code,
        field: Some(field),
        says,
    }
}

/// Sends `body` raw; the status and the body.
async fn send(app: &TestApp, key: &str, body: String) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/graphql-response+json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn message(body: &Value) -> String {
    body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
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
    let cases: Vec<(Value, Refusal)> = vec![
        // Bad UUIDs, wrong types, nulls where not allowed, unknown fields:
        // request errors naming the variable's field.
        (
            create(json!({ "channelId": "not-a-uuid" })),
            request_error(Some("input.channelId"), "expected UUID"),
        ),
        (
            create(json!({ "channelId": 42 })),
            request_error(Some("input.channelId"), "found 42"),
        ),
        (
            create(json!({ "channelId": null })),
            request_error(Some("input.channelId"), "found null"),
        ),
        (
            json!({ "query": CREATE, "variables": { "input": { "channelId": channel } } }),
            request_error(Some("input.ownerSuperIdentityId"), "not given"),
        ),
        (
            create(json!({ "colour": "red" })),
            request_error(Some("input.colour"), "no field colour"),
        ),
        (
            create(json!({ "title": ["a"] })),
            request_error(Some("input.title"), "expected String"),
        ),
        // Huge and impossible strings fit the type, not the operation.
        (
            create(json!({ "title": huge })),
            field_error("BAD_USER_INPUT", "input.title", "500 characters"),
        ),
        (
            create(json!({ "title": "a\u{0}b" })),
            field_error("BAD_USER_INPUT", "input.title", "NUL"),
        ),
        (
            json!({ "query": UPDATE, "variables": { "id": chat, "input": { "title": "x".repeat(501) } } }),
            field_error("BAD_USER_INPUT", "input.title", "500 characters"),
        ),
        (
            json!({ "query": UPDATE, "variables": { "id": "chat-1", "input": {} } }),
            request_error(Some("id"), "Variable $id"),
        ),
        (
            json!({ "query": UPDATE, "variables": { "id": chat, "input": { "ticketId": "nope" } } }),
            request_error(Some("input.ticketId"), "expected UUID"),
        ),
        (
            json!({ "query": REMOVE, "variables": { "id": 7 } }),
            request_error(Some("id"), "expected UUID"),
        ),
        (
            json!({ "query": REMOVE, "variables": {} }),
            request_error(Some("id"), "Variable $id of type UUID! is required"),
        ),
        (
            json!({ "query": REMOVE, "variables": { "id": Uuid::new_v4() } }),
            field_error("NOT_FOUND", "id", "not found"),
        ),
        // Page numbers: negative, zero, huge, beyond Int.
        (
            json!({ "query": LIST, "variables": { "page": -1 } }),
            field_error("BAD_USER_INPUT", "page", "between 1 and"),
        ),
        (
            json!({ "query": LIST, "variables": { "page": 0 } }),
            field_error("BAD_USER_INPUT", "page", "between 1 and"),
        ),
        (
            json!({ "query": LIST, "variables": { "page": i64::MAX } }),
            request_error(Some("page"), "expected Int"),
        ),
        (
            json!({ "query": LIST, "variables": { "page": 1e20 } }),
            request_error(Some("page"), "expected Int"),
        ),
        (
            json!({ "query": LIST, "variables": { "size": 0 } }),
            field_error("BAD_USER_INPUT", "pageSize", "between 1 and 100"),
        ),
        (
            json!({ "query": LIST, "variables": { "size": 1000 } }),
            field_error("BAD_USER_INPUT", "pageSize", "between 1 and 100"),
        ),
        // Unknown enum values; too many filter values.
        (
            json!({ "query": LIST, "variables": { "order": "SIDEWAYS" } }),
            request_error(Some("order"), "SIDEWAYS"),
        ),
        (
            json!({ "query": LIST, "variables": { "filter": { "channelTypes": ["TELEGRAM"] } } }),
            request_error(Some("filter.channelTypes[0]"), "TELEGRAM"),
        ),
        (
            json!({ "query": LIST, "variables": { "filter": { "ids": ids } } }),
            field_error("BAD_USER_INPUT", "filter.ids", "at most 100"),
        ),
        // Cursors and their counts.
        (
            json!({ "query": CONNECTION, "variables": { "first": -5 } }),
            field_error("BAD_USER_INPUT", "first", "between 1 and 100"),
        ),
        (
            json!({ "query": CONNECTION, "variables": { "after": "garbage" } }),
            field_error("BAD_USER_INPUT", "after", "not a cursor"),
        ),
        (
            json!({ "query": CONNECTION, "variables": { "first": 1, "last": 1 } }),
            field_error("BAD_USER_INPUT", "last", "cannot be combined"),
        ),
        // Documents and variables that do not fit each other.
        (
            json!({ "query": "query { chat(id: $id) { id } }" }),
            request_error(None, "$id"),
        ),
        (
            json!({ "query": "query($id: UUID!) { chat(id: $id) { id } }", "variables": { "id": 42 } }),
            request_error(Some("id"), "expected UUID, found 42"),
        ),
        (
            json!({ "query": "{ chat(id: \"zzz\") { id } }" }),
            request_error(Some("id"), "expected UUID"),
        ),
        (
            json!({ "query": "mutation { nope }" }),
            request_error(None, "nope"),
        ),
        // An enum value in quotes is a string, not an enum value (in a
        // variable's JSON, a string is how an enum value is spelled).
        (
            json!({ "query": "{ chats(orderBy: \"CREATED_AT_ASC\") { totalCount } }" }),
            request_error(Some("orderBy"), "without quotes"),
        ),
        (
            json!({ "query": "{ chats(filter: { channelTypes: [WIDGET, \"WAHA\"] }) { totalCount } }" }),
            request_error(Some("filter.channelTypes[1]"), "without quotes"),
        ),
        (
            json!({ "query": "query($o: ChatOrderBy = \"CREATED_AT_ASC\") { chats(orderBy: $o) { totalCount } }" }),
            request_error(Some("o"), "without quotes"),
        ),
        // Instants whose year in UTC has no four digits.
        (
            json!({ "query": "{ chats(filter: { createdAt: { lt: \"9999-12-31T23:59:59-23:59\" } }) { totalCount } }" }),
            request_error(
                Some("filter.createdAt.lt"),
                "from 0000-01-01T00:00:00Z to 9999-12-31",
            ),
        ),
        (
            json!({ "query": LIST, "variables": { "filter": { "lastMessageAt": { "gte": "0000-01-01T00:00:00+00:01" } } } }),
            request_error(
                Some("filter.lastMessageAt.gte"),
                "from 0000-01-01T00:00:00Z",
            ),
        ),
    ];
    let before = app.snapshot().await;
    for (body, expected) in cases {
        let (status, response) = send(&app, &w.key, body.to_string()).await;
        let label = body.to_string().chars().take(160).collect::<String>();
        assert_eq!(status, expected.status, "{label}: {response}");
        assert_eq!(
            response["errors"][0]["extensions"]["code"], expected.code,
            "{label}: {response}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["field"].as_str(),
            expected.field,
            "{label}: {response}"
        );
        assert!(
            message(&response).contains(expected.says),
            "{label}: {response} does not say {:?}",
            expected.says
        );
        // A request error has no data; a field error has its field null.
        assert_eq!(
            response.get("data").is_some(),
            expected.status == StatusCode::OK,
            "{label}: {response}"
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
        let (status, response) = send(&app, &w.key, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
        assert!(
            message(&response).contains(says),
            "{body}: {response} does not mention {says:?}"
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

#[tokio::test]
async fn enum_values_and_instants_are_held_to_their_spelling_on_every_transport() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;
    let mut socket = crate::socket::Socket::ready(&app, &w.key).await;
    let quoted = "{ chats(orderBy: \"CREATED_AT_ASC\") { totalCount } }";
    socket.subscribe("q", quoted, json!({})).await;
    let refused = socket.recv().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["field"], "orderBy");
    // The same values spelled as the spec has them run, over both.
    let bounds = json!({ "gte": "0000-01-01T00:00:00Z", "lt": "9999-12-31T23:59:59.999999Z" });
    let cases = [
        (
            "{ chats(orderBy: CREATED_AT_ASC) { totalCount } }",
            json!({}),
        ),
        (
            LIST,
            json!({ "order": "CREATED_AT_ASC", "filter": { "channelTypes": ["WIDGET"] } }),
        ),
        (LIST, json!({ "filter": { "createdAt": bounds } })),
        (
            LIST,
            json!({ "filter": { "createdAt": { "lt": "9999-12-31T23:59:59+00:00" } } }),
        ),
    ];
    for (i, (query, variables)) in cases.into_iter().enumerate() {
        let data = app.data(&w.key, query, variables.clone()).await;
        assert_eq!(data["chats"]["totalCount"], 1, "{query} {variables}");
        let id = i.to_string();
        socket.subscribe(&id, query, variables).await;
        assert_eq!(socket.next(&id).await["data"], data);
        assert_eq!(socket.recv().await["type"], "complete");
    }
}
