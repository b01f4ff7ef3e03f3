//! A chat's message history (a Relay connection with keyset cursors, one
//! statement for every chat of a page) and posting messages.

use entity::enums::MessageRole;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, at, error_code};

const HISTORY: &str = "query($id: UUID!, $first: Int, $after: String, $last: Int, $before: String, $order: MessageOrderBy) {
    chat(id: $id) { messages(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
        totalCount
        edges { cursor node { content } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } } }";

fn contents(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn history_pages_both_ways_in_both_orders_without_repeats_or_gaps() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    // 23 messages, two of them at the same instant (the id breaks the tie).
    for i in 0..23i64 {
        let minute = if i == 11 { 10 } else { i };
        app.post_message(chat.id, MessageRole::User, &format!("m{i:02}"), at(minute))
            .await;
    }
    let page = |vars: Value| {
        let vars = {
            let mut all = json!({ "id": chat.id });
            all.as_object_mut()
                .unwrap()
                .extend(vars.as_object().unwrap().clone());
            all
        };
        let (app, key) = (&app, &w.key);
        async move { app.data(key, HISTORY, vars).await["chat"]["messages"].clone() }
    };
    for order in ["CREATED_AT_DESC", "CREATED_AT_ASC"] {
        // Forwards, 5 at a time.
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let connection = page(json!({ "first": 5, "after": after, "order": order })).await;
            assert_eq!(connection["totalCount"], 23);
            seen.extend(contents(&connection));
            if connection["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen.len(), 23, "{order}: {seen:?}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 23, "{order}: repeats in {seen:?}");
        let times: Vec<&str> = seen.iter().map(String::as_str).collect();
        if order == "CREATED_AT_DESC" {
            assert_eq!(times.first(), Some(&"m22"));
        } else {
            assert_eq!(times.first(), Some(&"m00"));
        }
        // Backwards from the end gives the same list.
        let mut back = Vec::new();
        let mut before = Value::Null;
        loop {
            let connection = page(json!({ "last": 4, "before": before, "order": order })).await;
            let mut chunk = contents(&connection);
            chunk.extend(back);
            back = chunk;
            if connection["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = connection["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(back, seen, "{order}");
    }
    // A cursor of one order is refused by the other.
    let desc = page(json!({ "first": 1 })).await;
    let body = app
        .gql(
            &w.key,
            HISTORY,
            json!({ "id": chat.id, "first": 1, "after": desc["pageInfo"]["endCursor"], "order": "CREATED_AT_ASC" }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn messages_of_every_chat_of_a_page_cost_one_statement() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for i in 0..30 {
        let chat = app.insert_chat(&w, w.new_chat()).await;
        for m in 0..3 {
            app.post_message(
                chat.id,
                MessageRole::User,
                &format!("c{i} m{m}"),
                at(i * 10 + m),
            )
            .await;
        }
    }
    // Warm the key (its first use writes lastUsedAt).
    app.data(&w.key, "{ __typename }", json!({})).await;
    let statements = |size: u32| {
        let query = format!(
            "{{ chats(pageSize: {size}) {{ items {{ id messages(first: 2) {{ totalCount nodes {{ content }} }} }} }} }}"
        );
        let app = &app;
        let key = w.key.clone();
        async move {
            let before = app.statements.get();
            let data = app.data(&key, &query, json!({})).await;
            let items = data["chats"]["items"].as_array().unwrap().clone();
            assert_eq!(items.len(), size as usize);
            for item in &items {
                assert_eq!(item["messages"]["totalCount"], 3, "{item}");
                assert_eq!(item["messages"]["nodes"].as_array().unwrap().len(), 2);
            }
            app.statements.get() - before
        }
    };
    let few = statements(2).await;
    let many = statements(30).await;
    // The key (read on SQLite, cached on PostgreSQL), the list, the pages
    // of messages, their counts.
    assert_eq!(few, 3 + u64::from(!app.is_postgres()));
    assert_eq!(many, few, "statements grew with the page size");
}

#[tokio::test]
async fn post_message_moves_the_chat_and_refuses_bad_input_changing_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other = app.world("Other").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let foreign = app.insert_chat(&other, other.new_chat()).await;
    let post = "mutation($input: PostMessageInput!) { postMessage(input: $input) {
        message { id role content createdAt } chat { id lastMessageAt updatedAt latestMessage { content } } } }";
    let data = app
        .data(
            &w.key,
            post,
            json!({ "input": { "chatId": chat.id, "role": "OPERATOR", "content": "Hi there" } }),
        )
        .await;
    let payload = &data["postMessage"];
    assert_eq!(payload["message"]["content"], "Hi there");
    assert_eq!(payload["message"]["role"], "OPERATOR");
    assert_eq!(
        payload["chat"]["lastMessageAt"],
        payload["message"]["createdAt"]
    );
    assert_eq!(
        payload["chat"]["updatedAt"],
        payload["message"]["createdAt"]
    );
    assert_eq!(payload["chat"]["latestMessage"]["content"], "Hi there");

    app.insert_chat(&w, w.new_chat()).await;
    let removed = app.insert_chat(&w, w.new_chat()).await;
    app.remove_chat(&w, removed.id).await;
    let before = app.snapshot().await;
    for (chat_id, content, code, field) in [
        (chat.id, "".to_owned(), "BAD_USER_INPUT", "input.content"),
        (
            chat.id,
            "x".repeat(32_769),
            "BAD_USER_INPUT",
            "input.content",
        ),
        (
            chat.id,
            "a\u{0}b".to_owned(),
            "BAD_USER_INPUT",
            "input.content",
        ),
        (removed.id, "hi".to_owned(), "NOT_FOUND", "input.chatId"),
        (foreign.id, "hi".to_owned(), "NOT_FOUND", "input.chatId"),
        (Uuid::new_v4(), "hi".to_owned(), "NOT_FOUND", "input.chatId"),
    ] {
        let body = app
            .gql(
                &w.key,
                post,
                json!({ "input": { "chatId": chat_id, "role": "USER", "content": content } }),
            )
            .await;
        assert_eq!(error_code(&body), code, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(app.snapshot().await, before);
    // 32,768 characters is the most, and it is accepted.
    app.data(
        &w.key,
        post,
        json!({ "input": { "chatId": chat.id, "role": "USER", "content": "y".repeat(32_768) } }),
    )
    .await;
}
