//! `chat(id)`: one chat with every field of the REST rich row.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{CHAT_FIELDS, TestApp, at, error_code};

fn query() -> String {
    format!("query($id: UUID!) {{ chat(id: $id) {{ {CHAT_FIELDS} }} }}")
}

#[tokio::test]
async fn chat_returns_every_field_of_the_rich_row() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let chat = app.link_ticket(&w, chat.id, w.open_ticket.id).await;
    app.post_message(chat.id, MessageRole::User, "Hello, my order is late", at(1))
        .await;
    app.post_message(
        chat.id,
        MessageRole::Assistant,
        "Sorry! Let me check that for you.",
        at(2),
    )
    .await;
    app.post_message(chat.id, MessageRole::User, "Thanks", at(3))
        .await;
    let body = app.gql(&w.key, &query(), json!({ "id": chat.id })).await;
    let latest = body["data"]["chat"]["latestMessage"]["id"].clone();
    let previous = body["data"]["chat"]["previousMessage"]["id"].clone();
    assert_eq!(
        body,
        json!({ "data": { "chat": {
            "id": chat.id,
            "title": "Where is my order?",
            "createdAt": chat.created_at.to_rfc3339(),
            "updatedAt": chat.updated_at.to_rfc3339(),
            "isRemoved": false,
            "removedAt": null,
            "lastMessageAt": at(3).to_rfc3339(),
            "workspaceId": w.workspace_id,
            "channelId": w.channels[0].id,
            "channel": { "id": w.channels[0].id, "name": "Acme Widget", "type": "WIDGET" },
            "ownerSuperIdentityId": w.customer.super_identity_id,
            "owner": {
                "__typename": "ExternalUser",
                "name": "Customer One",
                "superIdentityId": w.customer.super_identity_id,
                "id": w.customer.id,
                "externalId": "+55 11 5555-0001",
                "isBlocked": false,
            },
            "responderSuperIdentityId": w.agent.super_identity_id,
            "responder": {
                "id": w.agent.id,
                "superIdentityId": w.agent.super_identity_id,
                "type": "AGENT",
                "name": "Agent Ava",
                "picture": "https://img.example/ava.png",
            },
            "responderVersion": { "id": w.agent_versions[2].id, "number": 3 },
            "ticketId": w.open_ticket.id,
            "ticket": { "id": w.open_ticket.id, "status": "OPEN" },
            "latestMessage": {
                "id": latest,
                "preview": "Thanks",
                "createdAt": at(3).to_rfc3339(),
                "role": "USER",
                "content": "Thanks",
            },
            "previousMessage": {
                "id": previous,
                "preview": "Sorry! Let me check that for you.",
                "createdAt": at(2).to_rfc3339(),
                "role": "ASSISTANT",
                "content": "Sorry! Let me check that for you.",
            },
        } } })
    );
}

#[tokio::test]
async fn chat_owned_by_a_platform_user_without_responder_or_messages() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app
        .insert_chat(
            &w,
            NewChat {
                owner_super_identity_id: w.user.super_identity_id,
                responder_super_identity_id: None,
                title: None,
                ..w.new_chat()
            },
        )
        .await;
    let data = app.data(&w.key, &query(), json!({ "id": chat.id })).await;
    let chat = &data["chat"];
    assert_eq!(
        chat["owner"],
        json!({
            "__typename": "User",
            "name": "Platform Owner",
            "superIdentityId": w.user.super_identity_id,
            "id": w.user.id,
            "email": "owner@acme.example",
            "picture": null,
        })
    );
    for field in [
        "title",
        "responder",
        "responderSuperIdentityId",
        "responderVersion",
        "ticket",
        "ticketId",
        "latestMessage",
        "previousMessage",
        "lastMessageAt",
    ] {
        assert_eq!(chat[field], json!(null), "{field} should be null");
    }
}

#[tokio::test]
async fn unknown_chat_is_not_found() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let body = app
        .gql(&w.key, &query(), json!({ "id": Uuid::new_v4() }))
        .await;
    // `chat` is nullable: it fails alone, in place, with its error.
    assert_eq!(body["data"], json!({ "chat": null }));
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "Chat not found");
    assert_eq!(body["errors"][0]["extensions"]["field"], "id");
    assert_eq!(body["errors"][0]["path"], json!(["chat"]));
}

#[tokio::test]
async fn removed_chat_is_still_readable_by_id() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    app.remove_chat(&w, chat.id).await;
    let data = app
        .data(
            &w.key,
            "query($id: UUID!) { chat(id: $id) { isRemoved removedAt } }",
            json!({ "id": chat.id }),
        )
        .await;
    assert_eq!(data["chat"]["isRemoved"], true);
    assert!(data["chat"]["removedAt"].is_string());
}

#[tokio::test]
async fn preview_is_cut_on_a_character_boundary_and_its_length_is_checked() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    app.post_message(chat.id, MessageRole::User, &"olá 😀 ".repeat(40), at(1))
        .await;
    let query =
        "query($id: UUID!, $n: Int!) { chat(id: $id) { latestMessage { preview(maxChars: $n) } } }";
    let data = app
        .data(&w.key, query, json!({ "id": chat.id, "n": 5 }))
        .await;
    // Five characters, the ellipsis one of them (and the space before it trimmed).
    assert_eq!(data["chat"]["latestMessage"]["preview"], "olá…");
    let default = app
        .data(
            &w.key,
            "query($id: UUID!) { chat(id: $id) { latestMessage { preview } } }",
            json!({ "id": chat.id }),
        )
        .await;
    // 100 characters by default: 99 of the content, then the ellipsis.
    let preview = default["chat"]["latestMessage"]["preview"]
        .as_str()
        .unwrap();
    assert_eq!(preview.chars().count(), 100);
    assert!(preview.ends_with("á…"), "{preview}");
    for bad in [0, -1, 10_001] {
        let body = app
            .gql(&w.key, query, json!({ "id": chat.id, "n": bad }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "maxChars");
    }
}
