//! Who did what: every write records its actor, shown to subscribers as
//! `ChatEvent.actor` and on a message as `Message.author`.

use chat_gateway::service::api_key;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, attached},
    socket::Socket,
};

const CREATE: &str = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
const POST: &str = "mutation($chat: UUID!) {
    postMessage(input: { chatId: $chat, role: OPERATOR, content: \"hello\" }) {
        message { id author { kind id name } } } }";

#[tokio::test]
async fn every_write_records_its_actor_for_events_and_messages() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let agent_key = api_key::create(&app.db, w.workspace_id, "Support desk", None)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let actor = json!({ "kind": "API_KEY", "id": agent_key.model.id, "name": "Support desk" });
    let mut socket = Socket::ready(&app, &w.key).await;
    socket
        .subscribe(
            "1",
            "subscription { chatEvents { kind actor { kind id name } message { author { kind id name } } } }",
            json!({}),
        )
        .await;
    attached(&app.metrics_url(), 1).await;
    let input = json!({ "channelId": w.channels[0].id, "ownerSuperIdentityId": w.customer.super_identity_id });
    let chat = app
        .data(&agent_key.key, CREATE, json!({ "input": input }))
        .await["createChat"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = socket.next("1").await;
    assert_eq!(created["data"]["chatEvents"]["actor"], actor, "{created}");
    let posted = app
        .data(&agent_key.key, POST, json!({ "chat": chat }))
        .await;
    assert_eq!(posted["postMessage"]["message"]["author"], actor);
    let event = socket.next("1").await;
    assert_eq!(event["data"]["chatEvents"]["actor"], actor);
    assert_eq!(event["data"]["chatEvents"]["message"]["author"], actor);
    // Another key's write names that key.
    let remove = "mutation($id: UUID!) { removeChat(id: $id) { chatId } }";
    app.data(&w.key, remove, json!({ "id": chat })).await;
    let removed = socket.next("1").await;
    assert_eq!(removed["data"]["chatEvents"]["actor"]["name"], "test");

    // A message written before authors were kept has none.
    let history = "query($id: UUID!) { chat(id: $id) { messages { nodes { author { id } } } } }";
    app.db
        .execute_unprepared(
            "UPDATE messages SET author_kind = NULL, author_id = NULL, author_name = NULL",
        )
        .await
        .unwrap();
    let data = app.data(&w.key, history, json!({ "id": chat })).await;
    assert_eq!(data["chat"]["messages"]["nodes"][0]["author"], Value::Null);
}
