//! A database failure reaches clients as INTERNAL with a generic message:
//! never SQL text, table or constraint names.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn database_errors_are_internal_and_leak_no_sql() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    app.db
        .execute_unprepared("ALTER TABLE messages RENAME TO messages_gone")
        .await
        .unwrap();

    let query = "query($id: UUID!) { chat(id: $id) { id latestMessage { content } } }";
    let body = app.gql(&w.key, query, json!({ "id": chat.id })).await;
    assert_eq!(error_code(&body), "INTERNAL", "{body}");
    assert_eq!(body["errors"][0]["message"], "Internal server error");
    assert!(body["data"]["chat"].is_null(), "{body}");
    let text = body.to_string().to_lowercase();
    for leak in [
        "select",
        "messages",
        "no such table",
        "relation",
        "sql",
        "chat_id",
    ] {
        assert!(!text.contains(leak), "response leaks {leak:?}: {body}");
    }
}
