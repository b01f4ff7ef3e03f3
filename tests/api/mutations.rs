//! `createChat`, `updateChat`, `removeChat`: their effects, every error
//! path, and that a refused mutation changes nothing.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, World, error_code};

const CREATE: &str = "mutation($input: CreateChatInput!) {
    createChat(input: $input) {
        id title isRemoved channel { type } owner { superIdentityId }
        responderSuperIdentityId responderVersion { number } ticket { id }
    }
}";

const UPDATE: &str = "mutation($id: UUID!, $input: UpdateChatInput!) {
    updateChat(id: $id, input: $input) {
        id title responderSuperIdentityId responder { name } responderVersion { id number } ticket { id status }
    }
}";

const REMOVE: &str = "mutation($id: UUID!) { removeChat(id: $id) { message chatId } }";

fn create_input(w: &World) -> Value {
    json!({
        "channelId": w.channels[1].id,
        "ownerSuperIdentityId": w.customer.super_identity_id,
        "responderSuperIdentityId": w.agent.super_identity_id,
        "title": "New conversation",
    })
}

/// Sends `query` and asserts it failed with `code` on `field`, changing nothing.
async fn assert_refused(
    app: &TestApp,
    w: &World,
    query: &str,
    vars: Value,
    code: &str,
    field: &str,
) {
    let before = app.snapshot().await;
    let body = app.gql(&w.key, query, vars.clone()).await;
    assert_eq!(body["data"], json!(null), "{vars}: {body}");
    assert_eq!(error_code(&body), code, "{vars}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], field,
        "{vars}: {body}"
    );
    assert_eq!(
        app.snapshot().await,
        before,
        "a refused mutation changed the database: {vars}"
    );
}

#[tokio::test]
async fn create_chat_pins_the_latest_responder_version_and_lists_it() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let data = app
        .data(&w.key, CREATE, json!({ "input": create_input(&w) }))
        .await;
    let created = &data["createChat"];
    assert_eq!(created["title"], "New conversation");
    assert_eq!(created["isRemoved"], false);
    assert_eq!(created["channel"], json!({ "type": "WAHA" }));
    assert_eq!(
        created["owner"],
        json!({ "superIdentityId": w.customer.super_identity_id })
    );
    assert_eq!(
        created["responderSuperIdentityId"],
        json!(w.agent.super_identity_id)
    );
    assert_eq!(created["responderVersion"], json!({ "number": 3 }));
    assert_eq!(created["ticket"], json!(null));
    let listed = app
        .data(&w.key, "{ chats { items { id } totalCount } }", json!({}))
        .await;
    assert_eq!(
        listed["chats"],
        json!({ "items": [{ "id": created["id"] }], "totalCount": 1 })
    );
}

#[tokio::test]
async fn create_chat_needs_only_channel_and_owner() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let input =
        json!({ "channelId": w.channels[4].id, "ownerSuperIdentityId": w.user.super_identity_id });
    let data = app.data(&w.key, CREATE, json!({ "input": input })).await;
    let created = &data["createChat"];
    assert_eq!(created["title"], json!(null));
    assert_eq!(created["responderSuperIdentityId"], json!(null));
    assert_eq!(created["responderVersion"], json!(null));
}

#[tokio::test]
async fn create_chat_refuses_unknown_or_wrong_kinds_of_references() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let with = |key: &str, value: Value| {
        let mut input = create_input(&w);
        input[key] = value;
        json!({ "input": input })
    };
    let cases = [
        (
            with("channelId", json!(Uuid::new_v4())),
            "NOT_FOUND",
            "input.channelId",
        ),
        (
            with("ownerSuperIdentityId", json!(Uuid::new_v4())),
            "NOT_FOUND",
            "input.ownerSuperIdentityId",
        ),
        (
            with("responderSuperIdentityId", json!(Uuid::new_v4())),
            "NOT_FOUND",
            "input.responderSuperIdentityId",
        ),
        (
            with("ownerSuperIdentityId", json!(w.agent.super_identity_id)),
            "BAD_USER_INPUT",
            "input.ownerSuperIdentityId",
        ),
        (
            with("responderSuperIdentityId", json!(w.user.super_identity_id)),
            "BAD_USER_INPUT",
            "input.responderSuperIdentityId",
        ),
        (
            with("title", json!("x".repeat(501))),
            "BAD_USER_INPUT",
            "input.title",
        ),
    ];
    for (vars, code, field) in cases {
        assert_refused(&app, &w, CREATE, vars, code, field).await;
    }
}

#[tokio::test]
async fn create_chat_with_ill_typed_input_is_bad_input_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let before = app.snapshot().await;
    for input in [
        json!({ "channelId": "nope", "ownerSuperIdentityId": w.user.super_identity_id }),
        json!({ "ownerSuperIdentityId": w.user.super_identity_id }),
        json!({ "channelId": null, "ownerSuperIdentityId": w.user.super_identity_id }),
        json!({ "channelId": w.channels[0].id, "ownerSuperIdentityId": w.user.super_identity_id, "title": 42 }),
    ] {
        let body = app.gql(&w.key, CREATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
    }
    assert_eq!(app.snapshot().await, before);
}

async fn created(app: &TestApp, w: &World) -> Uuid {
    let data = app
        .data(&w.key, CREATE, json!({ "input": create_input(w) }))
        .await;
    data["createChat"]["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn update_chat_keeps_absent_fields_clears_nulls_and_sets_values() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let id = created(&app, &w).await;

    let data = app
        .data(
            &w.key,
            UPDATE,
            json!({ "id": id, "input": { "ticketId": w.open_ticket.id } }),
        )
        .await;
    let chat = &data["updateChat"];
    assert_eq!(chat["title"], "New conversation", "absent title is kept");
    assert_eq!(
        chat["responder"],
        json!({ "name": "Agent Ava" }),
        "absent responder is kept"
    );
    assert_eq!(
        chat["ticket"],
        json!({ "id": w.open_ticket.id, "status": "OPEN" })
    );

    let input =
        json!({ "title": "Renamed", "responderSuperIdentityId": w.squad.super_identity_id });
    let data = app
        .data(&w.key, UPDATE, json!({ "id": id, "input": input }))
        .await;
    let chat = &data["updateChat"];
    assert_eq!(chat["title"], "Renamed");
    assert_eq!(chat["responder"], json!({ "name": "Squad One" }));
    assert_eq!(
        chat["responderVersion"]["number"], 1,
        "the new responder's latest version is pinned"
    );
    assert_eq!(
        chat["ticket"]["id"],
        json!(w.open_ticket.id),
        "absent ticket is kept"
    );

    let input = json!({ "title": null, "responderSuperIdentityId": null, "ticketId": null });
    let data = app
        .data(&w.key, UPDATE, json!({ "id": id, "input": input }))
        .await;
    assert_eq!(
        data["updateChat"],
        json!({
            "id": id, "title": null, "responderSuperIdentityId": null, "responder": null,
            "responderVersion": null, "ticket": null,
        })
    );

    // What the mutation returned is what is stored.
    let read = app
        .data(
            &w.key,
            "query($id: UUID!) { chat(id: $id) { title responder { name } ticket { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        read["chat"],
        json!({ "title": null, "responder": null, "ticket": null })
    );
}

#[tokio::test]
async fn update_chat_refuses_bad_references_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let id = created(&app, &w).await;
    let cases = [
        (
            json!({ "id": Uuid::new_v4(), "input": { "title": "x" } }),
            "NOT_FOUND",
            "id",
        ),
        (
            json!({ "id": id, "input": { "ticketId": Uuid::new_v4() } }),
            "NOT_FOUND",
            "input.ticketId",
        ),
        (
            json!({ "id": id, "input": { "title": "ok", "responderSuperIdentityId": Uuid::new_v4() } }),
            "NOT_FOUND",
            "input.responderSuperIdentityId",
        ),
        (
            json!({ "id": id, "input": { "responderSuperIdentityId": w.customer.super_identity_id } }),
            "BAD_USER_INPUT",
            "input.responderSuperIdentityId",
        ),
        (
            json!({ "id": id, "input": { "title": "y".repeat(501), "ticketId": w.open_ticket.id } }),
            "BAD_USER_INPUT",
            "input.title",
        ),
    ];
    for (vars, code, field) in cases {
        assert_refused(&app, &w, UPDATE, vars, code, field).await;
    }
}

#[tokio::test]
async fn remove_chat_hides_it_from_lists_and_cannot_be_repeated() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let id = created(&app, &w).await;
    let data = app.data(&w.key, REMOVE, json!({ "id": id })).await;
    assert_eq!(
        data["removeChat"],
        json!({ "message": "The chat was removed.", "chatId": id })
    );

    let live = app
        .data(&w.key, "{ chats { totalCount } }", json!({}))
        .await;
    assert_eq!(live["chats"]["totalCount"], 0);
    let all = app
        .data(
            &w.key,
            "{ chats(filter: { includeRemoved: true }) { items { id isRemoved } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all["chats"]["items"],
        json!([{ "id": id, "isRemoved": true }])
    );

    assert_refused(&app, &w, REMOVE, json!({ "id": id }), "NOT_FOUND", "id").await;
    assert_refused(
        &app,
        &w,
        UPDATE,
        json!({ "id": id, "input": { "title": "x" } }),
        "NOT_FOUND",
        "id",
    )
    .await;
    assert_refused(
        &app,
        &w,
        REMOVE,
        json!({ "id": Uuid::new_v4() }),
        "NOT_FOUND",
        "id",
    )
    .await;
}
