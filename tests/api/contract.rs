//! The GraphQL contract, as the spec and GraphQL over HTTP write it and as
//! typed clients (Apollo Client, urql, graphql-codegen) rely on it: absent
//! is not null, errors null their field in place, fields keep the order
//! they were asked in, and bad variables are request errors naming them.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, World, error_code};

/// What codegen writes for an update form: every field a variable, sent
/// only when the user changed it.
const UPDATE_BY_VARIABLES: &str = "mutation Update($id: UUID!, $title: String, $resp: UUID, $ticket: UUID) {
    updateChat(id: $id, input: { title: $title, responderSuperIdentityId: $resp, ticketId: $ticket }) {
        title responderSuperIdentityId ticketId
    } }";

/// A chat with a title, a responder and a ticket.
async fn full_chat(app: &TestApp, w: &World) -> Uuid {
    let chat = app.insert_chat(w, w.new_chat()).await;
    app.link_ticket(w, chat.id, w.open_ticket.id).await;
    chat.id
}

#[tokio::test]
async fn omitted_variables_inside_an_input_object_keep_their_fields() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let id = full_chat(&app, &w).await;
    let responder = json!(w.agent.super_identity_id);
    let ticket = json!(w.open_ticket.id);

    // Only the title is sent: the responder and the ticket are kept.
    let data = app
        .data(
            &w.key,
            UPDATE_BY_VARIABLES,
            json!({ "id": id, "title": "Renamed" }),
        )
        .await;
    assert_eq!(
        data["updateChat"],
        json!({ "title": "Renamed", "responderSuperIdentityId": responder, "ticketId": ticket })
    );
    // Explicit nulls clear; the omitted title stays.
    let data = app
        .data(
            &w.key,
            UPDATE_BY_VARIABLES,
            json!({ "id": id, "resp": null, "ticket": null }),
        )
        .await;
    assert_eq!(
        data["updateChat"],
        json!({ "title": "Renamed", "responderSuperIdentityId": null, "ticketId": null })
    );
    // Literals: absent keeps, null clears.
    let literal = "mutation($id: UUID!) { updateChat(id: $id, input: { title: null }) {
        title responderSuperIdentityId ticketId } }";
    let data = app.data(&w.key, literal, json!({ "id": id })).await;
    assert_eq!(
        data["updateChat"],
        json!({ "title": null, "responderSuperIdentityId": null, "ticketId": null })
    );
    // The whole input as one variable: absent keys keep.
    let whole =
        "mutation($id: UUID!, $input: UpdateChatInput!) { updateChat(id: $id, input: $input) {
        title ticketId } }";
    let data = app
        .data(
            &w.key,
            whole,
            json!({ "id": id, "input": { "ticketId": w.closed_ticket.id } }),
        )
        .await;
    assert_eq!(
        data["updateChat"],
        json!({ "title": null, "ticketId": w.closed_ticket.id })
    );
    // An omitted variable in an argument position leaves the argument to
    // its default, exactly as if it was not written.
    let list = "query($size: Int, $n: Int) { chats(pageSize: $size) { pageInfo { pageSize }
        items { latestMessage { preview(maxChars: $n) } } } }";
    let data = app.data(&w.key, list, json!({})).await;
    assert_eq!(data["chats"]["pageInfo"]["pageSize"], 10);
}

/// GETs `/graphql` with `params`, without a key unless given.
async fn get(app: &TestApp, params: &[(&str, String)], key: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .header(header::ACCEPT, "application/graphql-response+json");
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn get_refuses_any_document_whose_selected_operation_is_not_a_query() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let before = app.snapshot().await;
    let named = format!(
        "mutation M {{ removeChat(id: \"{}\") {{ chatId }} }}",
        chat.id
    );
    let two = format!("query Q {{ chats {{ totalCount }} }} {named}");
    // Without a key, the credential is refused first (401), as always.
    let keyless = get(&app, &[("query", named.clone())], None).await;
    assert_eq!(keyless.status(), StatusCode::UNAUTHORIZED);
    for (params, key) in [
        (vec![("query", named.clone())], Some(w.key.as_str())),
        (
            vec![("query", two.clone()), ("operationName", "M".to_owned())],
            Some(w.key.as_str()),
        ),
    ] {
        let response = get(&app, &params, key).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{params:?}"
        );
        assert_eq!(response.headers()[header::ALLOW], "POST");
    }
    assert_eq!(app.snapshot().await, before, "a GET changed rows");

    // Several operations and no name: a request error, over GET and POST.
    let response = get(&app, &[("query", two.clone())], Some(&w.key)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "operationName");
    let (_, body) = app.post(Some(&w.key), json!({ "query": two })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "operationName",
        "{body}"
    );
    assert_eq!(app.snapshot().await, before, "an ambiguous document ran");

    // The query of a document that also holds a mutation runs over GET.
    let response = get(
        &app,
        &[("query", two), ("operationName", "Q".to_owned())],
        Some(&w.key),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "data": { "chats": { "totalCount": 1 } } }));
}

#[tokio::test]
async fn introspection_may_not_nest_type_lists_but_the_standard_query_runs() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let wide = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }";
    let body = app.gql(&w.key, wide, json!({})).await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(error_code(&body), "LIMIT_EXCEEDED");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("introspection-list-depth"), "{message}");

    let standard = include_str!("introspection.graphql");
    let data = app.data(&w.key, standard, json!({})).await;
    assert!(data["__schema"]["types"].as_array().unwrap().len() > 20);
}

#[tokio::test]
async fn a_failing_field_nulls_itself_or_its_nearest_nullable_parent() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;

    // `chats` is ChatPage!: one failing alias nulls the whole data.
    let body = app
        .gql(
            &w.key,
            "{ a: chats(pageSize: 5) { totalCount } b: chats(pageSize: 0) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert!(body.as_object().unwrap().contains_key("data"), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["b"]));
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");

    // `chat` is nullable: it fails alone.
    let body = app
        .gql(
            &w.key,
            "query($id: UUID!, $other: UUID!) { a: chat(id: $id) { id } b: chat(id: $other) { id } }",
            json!({ "id": chat.id, "other": Uuid::new_v4() }),
        )
        .await;
    assert_eq!(
        body["data"],
        json!({ "a": { "id": chat.id }, "b": null }),
        "{body}"
    );
    assert_eq!(body["errors"][0]["path"], json!(["b"]));

    // A non-null child that fails (the channel cannot be read; the write
    // itself reads only its id and type) takes its object with it up to the
    // nearest nullable field, never just its key.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("ALTER TABLE channels RENAME COLUMN name TO name_gone")
        .await
        .unwrap();
    let body = app
        .gql(
            &w.key,
            "mutation($id: UUID!) { updateChat(id: $id, input: { title: \"t\" }) { id channel { id } } }",
            json!({ "id": chat.id }),
        )
        .await;
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["updateChat", "channel"]));
    assert_eq!(error_code(&body), "INTERNAL");
}

/// The keys of the first JSON object at `path` in `text`, in the order written.
fn keys_in_order(text: &str, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|name| {
            text.find(&format!("\"{name}\":"))
                .unwrap_or_else(|| panic!("{name} not in {text}"))
        })
        .collect()
}

#[tokio::test]
async fn response_fields_keep_the_order_of_the_selection() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let raw = |body: Value| {
        let request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&w.key)
            .json(&body)
            .send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let is_sorted = |positions: Vec<usize>| positions.windows(2).all(|w| w[0] < w[1]);

    // Fields that resolve late (through loaders) come first in the selection.
    let text = raw(json!({ "query": "{ chats { totalCount items { owner { name } channel { type name } title id } pageInfo { page } } }" })).await;
    let order = keys_in_order(
        &text,
        &[
            "totalCount",
            "items",
            "owner",
            "channel",
            "type",
            "title",
            "pageInfo",
        ],
    );
    assert!(is_sorted(order), "{text}");

    // A field that reads the database, selected before one that does not:
    // completion order would put `__typename` first.
    let text = raw(json!({ "query": "{ chats(pageSize: 1) { totalCount } __typename }" })).await;
    assert!(
        is_sorted(keys_in_order(&text, &["chats", "__typename"])),
        "{text}"
    );

    let text = raw(json!({
        "query": "mutation($id: UUID!) { removeChat(id: $id) { message chatId } }",
        "variables": { "id": chat.id },
    }))
    .await;
    assert!(
        is_sorted(keys_in_order(&text, &["message", "chatId"])),
        "{text}"
    );
}

#[tokio::test]
async fn bad_or_missing_variables_are_request_errors_naming_the_variable() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let query = "query($id: UUID!) { chat(id: $id) { id } }";
    for (variables, says) in [
        (
            json!({}),
            "Variable $id of type UUID! is required, but was not given",
        ),
        (
            json!({ "id": "not-a-uuid" }),
            "expected UUID, found \"not-a-uuid\"",
        ),
        (json!({ "id": null }), "expected UUID!, found null"),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&w.key)
            .header(header::ACCEPT, "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{variables}");
        let body: Value = response.json().await.unwrap();
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "id", "{body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        // Located at the variable's definition, 1-based.
        assert_eq!(
            body["errors"][0]["locations"],
            json!([{ "line": 1, "column": 7 }])
        );
    }
}

#[tokio::test]
async fn error_locations_are_one_based_or_absent_and_syntax_errors_are_one_line() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    for query in [
        format!("{{ {aliases} }}"),
        "{ chats { totalCount }".to_owned(),
        "query { chats(pageSize: 100) { items { id } } } query { x }".to_owned(),
    ] {
        let body = app.gql(&w.key, &query, json!({})).await;
        for error in body["errors"].as_array().unwrap() {
            for location in error["locations"].as_array().into_iter().flatten() {
                assert!(
                    location["line"].as_u64() > Some(0) && location["column"].as_u64() > Some(0),
                    "{body}"
                );
            }
        }
    }
    let body = app.gql(&w.key, "{ chats { totalCount }", json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains('\n'), "{message:?}");
    assert!(
        message.starts_with("Syntax error at 1:23: expected"),
        "{message:?}"
    );
    assert_eq!(
        body["errors"][0]["locations"],
        json!([{ "line": 1, "column": 23 }])
    );
}

#[tokio::test]
async fn argument_literals_that_do_not_fit_name_their_input_field() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let channel = w.channels[0].id;
    let owner = w.customer.super_identity_id;
    let before = app.snapshot().await;
    for (document, field) in [
        (
            format!(
                "mutation {{ createChat(input: {{ channelId: \"nope\", ownerSuperIdentityId: \"{owner}\" }}) {{ id }} }}"
            ),
            "input.channelId",
        ),
        (
            format!("mutation {{ createChat(input: {{ channelId: \"{channel}\" }}) {{ id }} }}"),
            "input.ownerSuperIdentityId",
        ),
        (
            format!(
                "mutation {{ createChat(input: {{ channelId: \"{channel}\", ownerSuperIdentityId: \"{owner}\", colour: 1 }}) {{ id }} }}"
            ),
            "input.colour",
        ),
        (
            "{ chats(filter: { includeRemoved: null }) { totalCount } }".to_owned(),
            "filter.includeRemoved",
        ),
        (
            "{ chats(orderBy: SIDEWAYS) { totalCount } }".to_owned(),
            "orderBy",
        ),
        ("{ chat { id } }".to_owned(), "id"),
    ] {
        let body = app.gql(&w.key, &document, json!({})).await;
        assert!(body.get("data").is_none(), "{document}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{document}: {body}"
        );
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_down_database_is_503_with_retry_after_and_a_missing_key_401_with_bearer() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let (status, _) = app.post(None, json!({ "query": "{ __typename }" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");

    app.db.clone().close().await.unwrap();
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&w.key)
        .json(&json!({ "query": "{ chats { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAVAILABLE");
    assert!(body.get("data").is_none(), "{body}");
}

/// What graphql-codegen's client preset sends: named operations, nested
/// fragments, and variables the caller left out. Checks reach inside the
/// fragments: a bad literal there is still a request error naming its
/// field, and a page spread through fragments still counts its cost.
#[tokio::test]
async fn codegen_documents_with_fragments_are_checked_through_them() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for _ in 0..3 {
        app.insert_chat(&w, w.new_chat()).await;
    }
    let document = "query Inbox($first: Int, $after: String, $order: ChatOrderBy) {
          chatsConnection(first: $first, after: $after, orderBy: $order) { ...InboxPage }
        }
        fragment InboxPage on ChatConnection {
          totalCount edges { cursor node { ...ChatItem } } pageInfo { hasNextPage endCursor }
        }
        fragment ChatItem on Chat {
          id title channel { type } latestMessage { preview(maxChars: 40) }
          messages(first: 2) { nodes { content } }
        }";
    let data = app.data(&w.key, document, json!({})).await;
    assert_eq!(data["chatsConnection"]["totalCount"], 3);
    assert_eq!(
        data["chatsConnection"]["edges"].as_array().unwrap().len(),
        3
    );

    let bad_inside = "query One { ...Q } fragment Q on Query { chat(id: \"nope\") { id } }";
    let body = app.gql(&w.key, bad_inside, json!({})).await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id", "{body}");

    let costly = format!(
        "query Big {{ a: chats(pageSize: 100) {{ ...Items }} b: chats(pageSize: 100) {{ ...Items }} c: chats(pageSize: 100) {{ ...Items }} }}
         fragment Items on ChatPage {{ items {{ {} }} }}",
        crate::helpers::CHAT_FIELDS
    );
    let body = app.gql(&w.key, &costly, json!({})).await;
    assert_eq!(error_code(&body), "LIMIT_EXCEEDED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("max-complexity"),
        "{body}"
    );
}

/// Documents that passed the full validation once run lighter afterwards
/// (`graphql::checker`); what depends on the request is still checked on
/// every request, and a document that failed is never let through.
#[tokio::test]
async fn a_document_that_ran_once_is_still_checked_on_every_request() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let query = "query Chat($id: UUID!, $filter: ChatFilter) {
        chat(id: $id) { id }
        chats(pageSize: 1, filter: $filter) { items { id } }
    }";
    let good = json!({ "id": chat.id, "filter": { "channelIds": [w.channels[0].id] } });
    for _ in 0..2 {
        let data = app.data(&w.key, query, good.clone()).await;
        assert_eq!(data["chat"]["id"], json!(chat.id));
    }
    for (variables, field) in [
        (json!({ "id": "not-a-uuid" }), "id"),
        (json!({ "id": 5 }), "id"),
        (
            json!({ "id": chat.id, "filter": { "channelIds": ["x"] } }),
            "filter.channelIds[0]",
        ),
        (
            json!({ "id": chat.id, "filter": { "noSuchField": true } }),
            "filter.noSuchField",
        ),
    ] {
        let (status, body) = app
            .post(
                Some(&w.key),
                json!({ "query": query, "variables": variables }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("data").is_none(), "{variables}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // Still runs after those, on the same document.
    let data = app.data(&w.key, query, good).await;
    assert_eq!(data["chats"]["items"][0]["id"], json!(chat.id));

    // A document that fails validation fails every time, however often sent.
    for _ in 0..3 {
        let (status, body) = app
            .post(
                Some(&w.key),
                json!({ "query": "{ chats { items { nope } } }" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("data").is_none(), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("nope"), "{message}");
    }
}
