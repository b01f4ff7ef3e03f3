//! The cost of a page in SQL statements does not depend on its size: every
//! relation comes from a batched DataLoader.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::json;

use crate::helpers::{CHAT_FIELDS, TestApp, at};

/// Authentication (1), the page (1), channels, owners, responders,
/// responder versions, tickets and recent messages (1 each), the count (1).
const STATEMENTS_PER_PAGE: u64 = 9;

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
            let changes = chat_gateway::service::chat::ChatChanges {
                ticket_id: chat_gateway::service::chat::Patch::Set(w.open_ticket.id),
                ..Default::default()
            };
            chat_gateway::service::chat::update(&app.db, w.workspace_id, chat.id, changes)
                .await
                .map_err(|e| e.into_anyhow())
                .unwrap();
        }
        for m in 0..(i % 4) as i64 {
            app.post_message(chat.id, MessageRole::User, "hello", at(i as i64 + m))
                .await;
        }
    }
    let query = format!(
        "query($size: Int!) {{ chats(pageSize: $size) {{ totalCount items {{ {CHAT_FIELDS} }} }} }}"
    );
    // Warm up: the first use of a key records when it was last used.
    app.data(&w.key, &query, json!({ "size": 1 })).await;

    let mut costs = Vec::new();
    for size in [10, 100] {
        let before = app.statements.get();
        let data = app.data(&w.key, &query, json!({ "size": size })).await;
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
    assert_eq!(costs, vec![STATEMENTS_PER_PAGE, STATEMENTS_PER_PAGE]);
}
