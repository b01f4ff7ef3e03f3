//! Least privilege: every field that declares `@requiresScopes` in
//! `schema.graphql` is refused (FORBIDDEN, the scopes it needs in
//! `extensions.requiredScopes`) to a principal without them, over HTTP and
//! the WebSocket alike, and a refused mutation changes nothing. The table
//! here and the schema's directives must name the same fields.

use std::collections::BTreeMap;

use chat_gateway::{auth::Scopes, service::api_key};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, World},
    socket::Socket,
};

/// `Type.field` → the scopes its `@requiresScopes` names, from the SDL.
fn declared() -> BTreeMap<String, Vec<String>> {
    let sdl = include_str!("../../schema.graphql");
    let mut found = BTreeMap::new();
    let (mut ty, mut field) = (String::new(), String::new());
    for line in sdl.lines() {
        if let Some(rest) = line.strip_prefix("type ") {
            ty = rest.split([' ', '{']).next().unwrap_or_default().to_owned();
        } else if let Some(rest) = line.strip_prefix('\t') {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
            if !name.is_empty() && rest[name.len()..].starts_with([':', '(']) {
                field = name;
            }
        }
        if line.starts_with("directive ") {
            continue;
        }
        if let Some((_, scopes)) = line.split_once("@requiresScopes(scopes: [[") {
            let scopes = scopes.split("]]").next().unwrap_or_default();
            let scopes = scopes
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned());
            found.insert(format!("{ty}.{field}"), scopes.collect());
        }
    }
    found
}

/// A key of `w` holding every scope but `without`.
async fn key_without(app: &TestApp, w: &World, without: &[&str]) -> String {
    let scopes: Scopes = Scopes::ALL
        .iter()
        .filter(|scope| !without.contains(&scope.as_str()))
        .collect();
    let claim = scopes.to_claim();
    api_key::create(&app.db, w.workspace_id, "scoped", Some(claim.as_str()))
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap()
        .key
}

/// Each scoped field, a request that reaches it, and where its error is.
pub fn cases(w: &World, chat: &str) -> Vec<(&'static str, String, Value, Value)> {
    let create = json!({ "input": { "channelId": w.channels[0].id, "ownerSuperIdentityId": w.customer.super_identity_id } });
    vec![
        ("Query.chat", "query($id: UUID!) { chat(id: $id) { id } }".into(), json!({ "id": chat }), json!(["chat"])),
        ("Query.chats", "{ chats { totalCount } }".into(), json!({}), json!(["chats"])),
        ("Query.chatsConnection", "{ chatsConnection { totalCount } }".into(), json!({}), json!(["chatsConnection"])),
        ("Query.chatCounts", "{ chatCounts { total } }".into(), json!({}), json!(["chatCounts"])),
        ("Query.channels", "{ channels { id } }".into(), json!({}), json!(["channels"])),
        ("Query.responders", "{ responders { id } }".into(), json!({}), json!(["responders"])),
        ("Query.tickets", "{ tickets { nodes { id } } }".into(), json!({}), json!(["tickets"])),
        ("Query.owners", "{ owners { nodes { name } } }".into(), json!({}), json!(["owners"])),
        ("Chat.owner", "query($id: UUID!) { chat(id: $id) { id owner { ... on User { email } } } }".into(), json!({ "id": chat }), json!(["chat", "owner"])),
        ("Chat.messages", "query($id: UUID!) { chat(id: $id) { messages { totalCount } } }".into(), json!({ "id": chat }), json!(["chat", "messages"])),
        ("Chat.latestMessage", "query($id: UUID!) { chat(id: $id) { id latestMessage { content } } }".into(), json!({ "id": chat }), json!(["chat", "latestMessage"])),
        ("Chat.previousMessage", "query($id: UUID!) { chat(id: $id) { id previousMessage { content } } }".into(), json!({ "id": chat }), json!(["chat", "previousMessage"])),
        ("Mutation.createChat", "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }".into(), create, json!(["createChat"])),
        ("Mutation.updateChat", "mutation($id: UUID!) { updateChat(id: $id, input: { title: \"x\" }) { id } }".into(), json!({ "id": chat }), json!(["updateChat"])),
        ("Mutation.removeChat", "mutation($id: UUID!) { removeChat(id: $id) { chatId } }".into(), json!({ "id": chat }), json!(["removeChat"])),
        ("Mutation.removeChats", "mutation($id: UUID!) { removeChats(ids: [$id]) { id } }".into(), json!({ "id": chat }), json!(["removeChats"])),
        ("Mutation.restoreChats", "mutation($id: UUID!) { restoreChats(ids: [$id]) { id } }".into(), json!({ "id": chat }), json!(["restoreChats"])),
        ("Mutation.assignChats", "mutation($id: UUID!) { assignChats(ids: [$id], responderSuperIdentityId: null) { id } }".into(), json!({ "id": chat }), json!(["assignChats"])),
        ("Mutation.postMessage", "mutation($id: UUID!) { postMessage(input: { chatId: $id, role: OPERATOR, content: \"x\" }) { message { id } } }".into(), json!({ "id": chat }), json!(["postMessage"])),
        ("Query.webhookEndpoints", "{ webhookEndpoints { id } }".into(), json!({}), json!(["webhookEndpoints"])),
        ("Query.webhookEndpoint", "query($id: UUID!) { webhookEndpoint(id: $id) { id } }".into(), json!({ "id": chat }), json!(["webhookEndpoint"])),
        ("Mutation.createWebhookEndpoint", "mutation { createWebhookEndpoint(input: { url: \"https://example.com/hook\", eventKinds: [CREATED] }) { secret } }".into(), json!({}), json!(["createWebhookEndpoint"])),
        ("Mutation.updateWebhookEndpoint", "mutation($id: UUID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id } }".into(), json!({ "id": chat }), json!(["updateWebhookEndpoint"])),
        ("Mutation.removeWebhookEndpoint", "mutation($id: UUID!) { removeWebhookEndpoint(id: $id) { id } }".into(), json!({ "id": chat }), json!(["removeWebhookEndpoint"])),
        ("Mutation.rotateWebhookSecret", "mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }".into(), json!({ "id": chat }), json!(["rotateWebhookSecret"])),
        ("Mutation.redeliverWebhook", "mutation($id: UUID!) { redeliverWebhook(deliveryId: $id) { id } }".into(), json!({ "id": chat }), json!(["redeliverWebhook"])),
        ("Mutation.replayWebhookEndpoint", "mutation($id: UUID!) { replayWebhookEndpoint(id: $id, after: \"x\") { id } }".into(), json!({ "id": chat }), json!(["replayWebhookEndpoint"])),
        ("Subscription.chatEvents", "subscription { chatEvents { kind } }".into(), json!({}), json!(["chatEvents"])),
        ("Subscription.messageAdded", "subscription($id: UUID!) { messageAdded(chatId: $id) { id } }".into(), json!({ "id": chat }), json!(["messageAdded"])),
    ]
}

fn forbidden<'a>(body: &'a Value, path: &Value) -> &'a Value {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {body}"));
    errors
        .iter()
        .find(|error| error["extensions"]["code"] == "FORBIDDEN" && &error["path"] == path)
        .unwrap_or_else(|| panic!("no FORBIDDEN at {path}: {body}"))
}

#[tokio::test]
async fn every_scoped_field_is_refused_without_its_scopes_on_every_transport() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await.id.to_string();
    let declared = declared();
    let cases = cases(&w, &chat);
    let tested: Vec<&str> = cases.iter().map(|case| case.0).collect();
    let mut declared_fields: Vec<&str> = declared.keys().map(String::as_str).collect();
    // ChatEvent.message: in the subscription test below.
    declared_fields.retain(|field| *field != "ChatEvent.message");
    let mut sorted = tested.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted, declared_fields,
        "the table and schema.graphql disagree"
    );
    for (field, query, variables, path) in cases {
        let required = &declared[field];
        let without: Vec<&str> = required.iter().map(String::as_str).collect();
        let key = key_without(&app, &w, &without).await;
        let before = app.snapshot().await;
        let subscription = field.starts_with("Subscription.");
        if !subscription {
            let body = app.gql(&key, &query, variables.clone()).await;
            let error = forbidden(&body, &path);
            assert_eq!(
                error["extensions"]["requiredScopes"],
                json!(required),
                "{field}"
            );
            assert_eq!(app.snapshot().await, before, "{field} changed something");
        }
        // The same over the socket.
        let mut socket = Socket::ready(&app, &key).await;
        socket.subscribe("1", &query, variables.clone()).await;
        let payload = socket.next("1").await;
        let error = forbidden(&payload, &path);
        assert_eq!(
            error["extensions"]["requiredScopes"],
            json!(required),
            "{field}"
        );
        assert_eq!(app.snapshot().await, before, "{field} changed something");
        // With every scope, the same request is not refused for one.
        let full = key_without(&app, &w, &[]).await;
        if !subscription {
            let body = app.gql(&full, &query, variables).await;
            let refused = body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["extensions"]["code"] == "FORBIDDEN");
            assert!(!refused, "{field}: {body}");
        }
    }
}

#[tokio::test]
async fn a_subscriber_without_messages_read_gets_events_without_their_messages() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await.id.to_string();
    let key = key_without(&app, &w, &["messages:read"]).await;
    let mut socket = Socket::ready(&app, &key).await;
    socket
        .subscribe(
            "1",
            "subscription { chatEvents { kind chat { id } message { content } } }",
            json!({}),
        )
        .await;
    crate::helpers::attached(&app.metrics_url(), 1).await;
    let post = "mutation($id: UUID!) { postMessage(input: { chatId: $id, role: OPERATOR, content: \"hi\" }) { message { id } } }";
    app.data(&w.key, post, json!({ "id": chat })).await;
    let mut payload = socket.next("1").await;
    while payload["data"]["chatEvents"]["kind"] == "CREATED" {
        payload = socket.next("1").await;
    }
    assert_eq!(
        payload["data"]["chatEvents"]["kind"], "MESSAGE_POSTED",
        "{payload}"
    );
    assert_eq!(payload["data"]["chatEvents"]["message"], Value::Null);
    let error = forbidden(&payload, &json!(["chatEvents", "message"]));
    assert_eq!(
        error["extensions"]["requiredScopes"],
        json!(["messages:read"])
    );
}

#[tokio::test]
async fn filters_that_look_into_guarded_data_need_its_scope() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let no_messages = key_without(&app, &w, &["messages:read"]).await;
    let no_directory = key_without(&app, &w, &["directory:read"]).await;
    let search = json!({ "filter": { "search": "refund" } });
    let blocked = json!({ "filter": { "ownerIsBlocked": true } });
    for field in ["chats", "chatsConnection", "chatCounts"] {
        let selection = if field == "chatCounts" {
            "total"
        } else {
            "totalCount"
        };
        let query =
            format!("query($filter: ChatFilter) {{ {field}(filter: $filter) {{ {selection} }} }}");
        for (key, variables, scope) in [
            (&no_messages, &search, "messages:read"),
            (&no_directory, &blocked, "directory:read"),
        ] {
            let body = app.gql(key, &query, variables.clone()).await;
            let error = forbidden(&body, &json!([field]));
            assert_eq!(
                error["extensions"]["requiredScopes"],
                json!([scope]),
                "{field}"
            );
            // With the scope, the same filter runs.
            app.data(&w.key, &query, variables.clone()).await;
        }
    }
    // The same for a subscription's filter, over the socket.
    let mut socket = Socket::ready(&app, &no_directory).await;
    socket
        .subscribe(
            "1",
            "subscription($filter: ChatFilter) { chatEvents(filter: $filter) { kind } }",
            blocked,
        )
        .await;
    let payload = socket.next("1").await;
    let error = forbidden(&payload, &json!(["chatEvents"]));
    assert_eq!(
        error["extensions"]["requiredScopes"],
        json!(["directory:read"])
    );
}
