//! The cost of a request in SQL statements does not depend on the page size:
//! the to-one relations and the latest and previous messages are joined
//! into the row query.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::json;

use crate::helpers::{CHAT_FIELDS, TestApp, at};

/// Authentication (1), the page with its joined relations and newest two
/// messages (1).
const STATEMENTS_PER_PAGE: u64 = 2;
/// `totalCount` adds one count.
const COUNT: u64 = 1;

#[tokio::test]
async fn a_full_page_costs_the_same_statements_at_any_page_size() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let owners = [
        w.customer.super_identity_id,
        w.user.super_identity_id,
        w.blocked_customer.super_identity_id,
    ];
    let responders = [
        Some(w.agent.super_identity_id),
        Some(w.squad.super_identity_id),
        None,
    ];
    for i in 0..110 {
        let chat = app
            .insert_chat(
                &w,
                NewChat {
                    channel_id: w.channels[i % 5].id,
                    owner_super_identity_id: owners[i % 3],
                    responder_super_identity_id: responders[i % 3],
                    created_at: Some(at(i as i64)),
                    ..w.new_chat()
                },
            )
            .await;
        if i % 2 == 0 {
            app.link_ticket(&w, chat.id, w.open_ticket.id).await;
        }
        for m in 0..(i % 4) as i64 {
            app.post_message(chat.id, MessageRole::User, "hello", at(i as i64 + m))
                .await;
        }
    }
    let query = format!(
        "query($size: Int!) {{ chats(pageSize: $size) {{ totalCount items {{ {CHAT_FIELDS} }} }} }}"
    );
    let without_count =
        format!("query($size: Int!) {{ chats(pageSize: $size) {{ items {{ {CHAT_FIELDS} }} }} }}");
    // Warm up: the first use of a key records when it was last used.
    app.data(&w.key, &query, json!({ "size": 1 })).await;

    let mut costs = Vec::new();
    for (query, size) in [
        (&query, 10),
        (&query, 100),
        (&without_count, 10),
        (&without_count, 100),
    ] {
        let before = app.statements.get();
        let data = app.data(&w.key, query, json!({ "size": size })).await;
        costs.push(app.statements.get() - before);
        let items = data["chats"]["items"].as_array().unwrap();
        assert_eq!(items.len(), size);
        // The relations were really resolved, not skipped.
        assert!(
            items
                .iter()
                .all(|c| c["channel"]["type"].is_string() && c["owner"]["name"].is_string())
        );
        assert!(items.iter().any(|c| c["ticket"]["status"] == "OPEN"));
        assert!(
            items
                .iter()
                .any(|c| c["responderVersion"]["number"].is_number())
        );
        assert!(items.iter().any(|c| c["previousMessage"]["role"] == "USER"));
    }
    // The key is read on SQLite, and kept in the process on PostgreSQL.
    let key_check = u64::from(!app.is_postgres());
    let page = STATEMENTS_PER_PAGE - 1 + key_check;
    let counted = page + COUNT;
    assert_eq!(costs, vec![counted, counted, page, page]);

    // One chat with every field: the same statements.
    let id = data_id(&app, &w.key).await;
    let one = format!("query($id: UUID!) {{ chat(id: $id) {{ {CHAT_FIELDS} }} }}");
    let before = app.statements.get();
    let data = app.data(&w.key, &one, json!({ "id": id })).await;
    assert_eq!(app.statements.get() - before, 1 + key_check);
    assert!(
        data["chat"]["owner"]["name"].is_string() && data["chat"]["channel"]["type"].is_string()
    );
}

async fn data_id(app: &TestApp, key: &str) -> serde_json::Value {
    // The newest chat has a ticket, a responder and messages (see the fixture loop).
    let data = app
        .data(
            key,
            "{ chats(pageSize: 1, orderBy: LAST_ACTIVITY_DESC) { items { id } } }",
            json!({}),
        )
        .await;
    data["chats"]["items"][0]["id"].clone()
}
