//! Tenant isolation: workspace B's key can neither read, list, count,
//! update nor remove workspace A's chats, nor use A's rows in its inputs,
//! and cannot tell A's rows from ids that do not exist.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, World, error_code};

/// The error part of a response, with the id-specific parts left in.
fn error_of(body: &Value) -> Value {
    json!({ "data": body["data"], "code": error_code(body), "message": body["errors"][0]["message"], "field": body["errors"][0]["extensions"]["field"] })
}

async fn two_workspaces(app: &TestApp) -> (World, World, Uuid) {
    let a = app.world("Alpha").await;
    let b = app.world("Beta").await;
    let chat = app.insert_chat(&a, a.new_chat()).await.id;
    app.insert_chat(&b, b.new_chat()).await;
    (a, b, chat)
}

#[tokio::test]
async fn another_workspace_cannot_read_or_list_a_chat() {
    let app = TestApp::spawn().await;
    let (a, b, a_chat) = two_workspaces(&app).await;
    let read = "query($id: UUID!) { chat(id: $id) { id } }";
    let foreign = app.gql(&b.key, read, json!({ "id": a_chat })).await;
    let missing = app.gql(&b.key, read, json!({ "id": Uuid::new_v4() })).await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    assert_eq!(
        error_of(&foreign),
        error_of(&missing),
        "indistinguishable from a missing id"
    );

    let by_ids =
        "query($f: ChatFilter) { chats(filter: $f) { items { id workspaceId } totalCount } }";
    for filter in [
        json!({ "ids": [a_chat] }),
        json!({ "channelIds": [a.channels[0].id] }),
        json!({ "ownerSuperIdentityIds": [a.customer.super_identity_id] }),
        json!({ "responderSuperIdentityIds": [a.agent.super_identity_id] }),
        json!({ "ids": [a_chat], "includeRemoved": true }),
    ] {
        let data = app.data(&b.key, by_ids, json!({ "f": filter })).await;
        assert_eq!(
            data["chats"],
            json!({ "items": [], "totalCount": 0 }),
            "filter {filter}"
        );
    }
    let by_cursor = "query($f: ChatFilter) { chatsConnection(filter: $f, first: 100) { nodes { id } totalCount } }";
    let data = app
        .data(
            &b.key,
            by_cursor,
            json!({ "f": { "ids": [a_chat], "includeRemoved": true } }),
        )
        .await;
    assert_eq!(
        data["chatsConnection"],
        json!({ "nodes": [], "totalCount": 0 })
    );
    // A cursor is a position, not a row: A's cursor in B's list pages B's chats.
    let a_page = app
        .data(
            &a.key,
            "{ chatsConnection(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    let a_cursor = &a_page["chatsConnection"]["edges"][0]["cursor"];
    assert!(a_cursor.is_string(), "{a_page}");
    let after = "query($after: String, $before: String) {
        next: chatsConnection(after: $after) { nodes { workspaceId } }
        previous: chatsConnection(before: $before, last: 100) { nodes { workspaceId } } }";
    let data = app
        .data(
            &b.key,
            after,
            json!({ "after": a_cursor, "before": a_cursor }),
        )
        .await;
    // B's one chat lies on one side of that position or the other: the two
    // pages together hold exactly it, and nothing of A's.
    let nodes: Vec<&Value> = ["next", "previous"]
        .iter()
        .flat_map(|list| data[list]["nodes"].as_array().unwrap())
        .collect();
    assert_eq!(nodes, [&json!({ "workspaceId": b.workspace_id })], "{data}");

    let all = app.data(&b.key, by_ids, json!({})).await;
    let items = all["chats"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["workspaceId"], json!(b.workspace_id));
}

#[tokio::test]
async fn another_workspace_cannot_update_or_remove_a_chat() {
    let app = TestApp::spawn().await;
    let (a, b, a_chat) = two_workspaces(&app).await;
    let before = app.snapshot().await;
    let update = "mutation($id: UUID!) { updateChat(id: $id, input: { title: \"pwned\" }) { id } }";
    let remove = "mutation($id: UUID!) { removeChat(id: $id) { chatId } }";
    for query in [update, remove] {
        let foreign = app.gql(&b.key, query, json!({ "id": a_chat })).await;
        let missing = app
            .gql(&b.key, query, json!({ "id": Uuid::new_v4() }))
            .await;
        assert_eq!(error_code(&foreign), "NOT_FOUND");
        assert_eq!(error_of(&foreign), error_of(&missing));
    }
    assert_eq!(app.snapshot().await, before);
    let title = app
        .data(
            &a.key,
            "query($id: UUID!) { chat(id: $id) { title isRemoved } }",
            json!({ "id": a_chat }),
        )
        .await;
    assert_eq!(
        title["chat"],
        json!({ "title": "Where is my order?", "isRemoved": false })
    );
}

#[tokio::test]
async fn another_workspace_cannot_use_a_workspaces_rows_in_its_inputs() {
    let app = TestApp::spawn().await;
    let (a, b, _) = two_workspaces(&app).await;
    let b_chat = app.insert_chat(&b, b.new_chat()).await.id;
    let before = app.snapshot().await;
    let create = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
    let input = |channel: Uuid, owner: Uuid, responder: Uuid| json!({ "input": { "channelId": channel, "ownerSuperIdentityId": owner, "responderSuperIdentityId": responder } });
    let (bc, bo, br) = (
        b.channels[0].id,
        b.customer.super_identity_id,
        b.agent.super_identity_id,
    );
    for (vars, field) in [
        (input(a.channels[0].id, bo, br), "input.channelId"),
        (
            input(bc, a.customer.super_identity_id, br),
            "input.ownerSuperIdentityId",
        ),
        (
            input(bc, bo, a.agent.super_identity_id),
            "input.responderSuperIdentityId",
        ),
    ] {
        let body = app.gql(&b.key, create, vars).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    let update = "mutation($id: UUID!, $input: UpdateChatInput!) { updateChat(id: $id, input: $input) { id } }";
    for (input, field) in [
        (json!({ "ticketId": a.open_ticket.id }), "input.ticketId"),
        (
            json!({ "responderSuperIdentityId": a.squad.super_identity_id }),
            "input.responderSuperIdentityId",
        ),
    ] {
        let body = app
            .gql(&b.key, update, json!({ "id": b_chat, "input": input }))
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn concurrent_requests_of_two_workspaces_never_cross() {
    let app = TestApp::spawn().await;
    let (a, b, _) = two_workspaces(&app).await;
    let query = "{ chats(pageSize: 100) { items { workspaceId channel { id } owner { superIdentityId } } } }";
    let requests = (0..20).map(|i| {
        let world = if i % 2 == 0 { &a } else { &b };
        let app = &app;
        async move { (world, app.data(&world.key, query, json!({})).await) }
    });
    for (world, data) in futures_util::future::join_all(requests).await {
        let items = data["chats"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["workspaceId"], json!(world.workspace_id));
        assert_eq!(items[0]["channel"]["id"], json!(world.channels[0].id));
        assert_eq!(
            items[0]["owner"]["superIdentityId"],
            json!(world.customer.super_identity_id)
        );
    }
}
