//! Filtered subscriptions judge each event by the chat as it was when the
//! event happened (kept with the event), so resuming from a cursor gives
//! what a live subscriber got, and a filtered list hears when a chat
//! leaves it (LEFT_FILTER): a live view stays equal to running its query
//! again.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, World, attached},
    socket::Socket,
};

const EVENTS: &str = "subscription($f: ChatFilter, $after: String) {
    chatEvents(filter: $f, after: $after) { cursor kind chat { id } message { content } } }";
const CREATE: &str = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
const POST: &str = "mutation($chat: UUID!, $text: String!) {
    postMessage(input: { chatId: $chat, role: OPERATOR, content: $text }) { message { id } } }";
const REMOVE: &str = "mutation($id: UUID!) { removeChat(id: $id) { chatId } }";
const ASSIGN: &str = "mutation($ids: [UUID!]!, $to: UUID) {
    assignChats(ids: $ids, responderSuperIdentityId: $to) { id } }";

async fn create(app: &TestApp, w: &World, responder: Option<uuid::Uuid>) -> String {
    let input = json!({
        "channelId": w.channels[0].id,
        "ownerSuperIdentityId": w.customer.super_identity_id,
        "responderSuperIdentityId": responder,
    });
    let data = app.data(&w.key, CREATE, json!({ "input": input })).await;
    data["createChat"]["id"].as_str().unwrap().to_owned()
}

/// (kind, chat id, message content) of an event payload.
fn seen(payload: &Value) -> (String, String, Option<String>) {
    assert!(payload.get("errors").is_none(), "{payload}");
    let event = &payload["data"]["chatEvents"];
    (
        event["kind"].as_str().unwrap().to_owned(),
        event["chat"]["id"].as_str().unwrap().to_owned(),
        event["message"]["content"].as_str().map(str::to_owned),
    )
}

fn cursor(payload: &Value) -> String {
    payload["data"]["chatEvents"]["cursor"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Resumes `filter` from `after` on a new socket; the next `n` events.
async fn replay(
    app: &TestApp,
    key: &str,
    filter: Value,
    after: &str,
    n: usize,
) -> Vec<(String, String, Option<String>)> {
    let mut socket = Socket::ready(app, key).await;
    socket
        .subscribe("r", EVENTS, json!({ "f": filter, "after": after }))
        .await;
    let mut events = Vec::new();
    for _ in 0..n {
        events.push(seen(&socket.next("r").await));
    }
    socket.silent(std::time::Duration::from_millis(200)).await;
    events
}

#[tokio::test]
async fn a_resume_gets_what_a_live_subscriber_got_and_lists_hear_when_a_chat_leaves() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let (r1, r2) = (w.agent.super_identity_id, w.squad.super_identity_id);
    // A socket each, so each one's events arrive in order.
    let assigned_r1 = json!({ "responderSuperIdentityIds": [r1] });
    let mut r1_socket = Socket::ready(&app, &w.key).await;
    r1_socket
        .subscribe("r1", EVENTS, json!({ "f": assigned_r1 }))
        .await;
    let mut socket = Socket::ready(&app, &w.key).await;
    socket.subscribe("live", EVENTS, json!({ "f": {} })).await;
    attached(&app.metrics_url(), 2).await;

    let x = create(&app, &w, Some(r1)).await;
    let z = create(&app, &w, Some(r1)).await;
    socket.next("live").await;
    let start = cursor(&socket.next("live").await);
    for _ in 0..2 {
        r1_socket.next("r1").await;
    }

    // Post M to X, then remove X.
    app.data(&w.key, POST, json!({ "chat": x, "text": "m1" }))
        .await;
    app.data(&w.key, REMOVE, json!({ "id": x })).await;
    // Post to Z (R1's), then reassign Z to R2: it leaves R1's list.
    app.data(&w.key, POST, json!({ "chat": z, "text": "m2" }))
        .await;
    app.data(&w.key, ASSIGN, json!({ "ids": [z], "to": r2 }))
        .await;
    // Back to R1: it enters the list again.
    app.data(&w.key, ASSIGN, json!({ "ids": [z], "to": r1 }))
        .await;

    let posted = |chat: &str, text: &str| {
        (
            "MESSAGE_POSTED".to_owned(),
            chat.to_owned(),
            Some(text.to_owned()),
        )
    };
    let kind = |kind: &str, chat: &str| (kind.to_owned(), chat.to_owned(), None);
    let live_expected = vec![
        posted(&x, "m1"),
        kind("REMOVED", &x),
        posted(&z, "m2"),
        kind("UPDATED", &z),
        kind("UPDATED", &z),
    ];
    let r1_expected = vec![
        posted(&x, "m1"),
        kind("REMOVED", &x),
        posted(&z, "m2"),
        kind("LEFT_FILTER", &z),
        kind("UPDATED", &z),
    ];
    let mut live = Vec::new();
    let mut r1_live = Vec::new();
    for _ in 0..5 {
        live.push(seen(&socket.next("live").await));
        r1_live.push(seen(&r1_socket.next("r1").await));
    }
    assert_eq!(live, live_expected);
    assert_eq!(r1_live, r1_expected);
    // Resuming from before M gives the same events for the same filter.
    assert_eq!(
        replay(&app, &w.key, json!({}), &start, 5).await,
        live_expected
    );
    assert_eq!(
        replay(&app, &w.key, assigned_r1, &start, 5).await,
        r1_expected
    );
    // A chat that was never in the filter is never mentioned to it.
    let r2_only = json!({ "responderSuperIdentityIds": [r2] });
    let r2_expected = vec![kind("UPDATED", &z), kind("LEFT_FILTER", &z)];
    assert_eq!(replay(&app, &w.key, r2_only, &start, 2).await, r2_expected);
}

#[tokio::test]
async fn every_acknowledged_message_reaches_a_list_even_when_its_chat_is_removed_at_once() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut socket = Socket::ready(&app, &w.key).await;
    socket.subscribe("live", EVENTS, json!({ "f": {} })).await;
    attached(&app.metrics_url(), 1).await;
    let rounds = 50;
    for i in 0..rounds {
        let chat = create(&app, &w, None).await;
        app.data(
            &w.key,
            POST,
            json!({ "chat": chat, "text": format!("m{i}") }),
        )
        .await;
        app.data(&w.key, REMOVE, json!({ "id": chat })).await;
    }
    let mut messages = Vec::new();
    for _ in 0..rounds * 3 {
        let (kind, _, message) = seen(&socket.next("live").await);
        if kind == "MESSAGE_POSTED" {
            messages.push(message.unwrap());
        }
    }
    let expected: Vec<String> = (0..rounds).map(|i| format!("m{i}")).collect();
    assert_eq!(messages, expected);
}
