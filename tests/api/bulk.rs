//! removeChats, restoreChats and assignChats: all or nothing, errors that
//! name the offending id, one event per changed chat, one workspace only.

use entity::{chat_event, enums::ChatEventKind};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, World, error_code, uuids};

const REMOVE: &str = "mutation($ids: [UUID!]!) { removeChats(ids: $ids) { id isRemoved } }";
const RESTORE: &str = "mutation($ids: [UUID!]!) { restoreChats(ids: $ids) { id isRemoved } }";
const ASSIGN: &str = "mutation($ids: [UUID!]!, $r: UUID) {
    assignChats(ids: $ids, responderSuperIdentityId: $r) {
        id responderSuperIdentityId responderVersion { number }
    } }";
const LIVE: &str = "query($c: [UUID!]) { chats(filter: { channelIds: $c }, pageSize: 100) { totalCount items { id } } }";

async fn chats(app: &TestApp, w: &World, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(app.insert_chat(w, w.new_chat()).await.id);
    }
    ids
}

async fn events(app: &TestApp, ids: &[Uuid], kind: ChatEventKind) -> usize {
    chat_event::Entity::find()
        .filter(chat_event::Column::ChatId.is_in(ids.iter().copied()))
        .filter(chat_event::Column::Kind.eq(kind))
        .all(&app.db)
        .await
        .unwrap()
        .len()
}

fn returned_ids(list: &Value) -> Vec<Uuid> {
    uuids(list, "id")
}

#[tokio::test]
async fn chats_are_removed_restored_and_assigned_together_with_their_events() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let ids = chats(&app, &w, 3).await;
    let widget = json!([w.channels[0].id]);
    let live = app.data(&w.key, LIVE, json!({ "c": widget })).await;
    assert_eq!(live["chats"]["totalCount"], 3);

    // In the order given, not stored order.
    let order = vec![ids[2], ids[0], ids[1]];
    let data = app.data(&w.key, REMOVE, json!({ "ids": order })).await;
    assert_eq!(returned_ids(&data["removeChats"]), order);
    assert!(
        data["removeChats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["isRemoved"] == true)
    );
    let live = app.data(&w.key, LIVE, json!({ "c": widget })).await;
    // The live-chat counters moved with them.
    assert_eq!(live["chats"]["totalCount"], 0);
    assert_eq!(live["chats"]["items"], json!([]));
    assert_eq!(events(&app, &ids, ChatEventKind::Removed).await, 3);

    let data = app.data(&w.key, RESTORE, json!({ "ids": ids })).await;
    assert!(
        data["restoreChats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["isRemoved"] == false)
    );
    let live = app.data(&w.key, LIVE, json!({ "c": widget })).await;
    assert_eq!(live["chats"]["totalCount"], 3);
    assert_eq!(live["chats"]["items"].as_array().unwrap().len(), 3);

    let data = app
        .data(
            &w.key,
            ASSIGN,
            json!({ "ids": ids, "r": w.squad.super_identity_id }),
        )
        .await;
    for chat in data["assignChats"].as_array().unwrap() {
        assert_eq!(
            chat["responderSuperIdentityId"],
            json!(w.squad.super_identity_id)
        );
        assert_eq!(chat["responderVersion"]["number"], 1);
    }
    let data = app
        .data(&w.key, ASSIGN, json!({ "ids": ids, "r": null }))
        .await;
    for chat in data["assignChats"].as_array().unwrap() {
        assert_eq!(chat["responderSuperIdentityId"], Value::Null);
        assert_eq!(chat["responderVersion"], Value::Null);
    }
    // Restored, assigned, unassigned: an UPDATED event each time, per chat.
    assert_eq!(events(&app, &ids, ChatEventKind::Updated).await, 9);
}

/// All three chats still live and still the agent's.
async fn unchanged(app: &TestApp, w: &World, ids: &[Uuid]) {
    let query = "query($ids: [UUID!]) { chats(filter: { ids: $ids }) { items { id responderSuperIdentityId } } }";
    let data = app.data(&w.key, query, json!({ "ids": ids })).await;
    let items = data["chats"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "all still live: {items:?}");
    let agent = json!(w.agent.super_identity_id);
    assert!(
        items.iter().all(|c| c["responderSuperIdentityId"] == agent),
        "{items:?}"
    );
}

#[tokio::test]
async fn one_bad_id_fails_the_whole_call_naming_it_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other = app.world("Globex").await;
    let ids = chats(&app, &w, 3).await;
    let theirs = chats(&app, &other, 1).await[0];

    let with_theirs = vec![ids[0], ids[1], theirs, ids[2]];
    for (query, variables) in [
        (REMOVE, json!({ "ids": with_theirs })),
        (
            ASSIGN,
            json!({ "ids": with_theirs, "r": w.squad.super_identity_id }),
        ),
    ] {
        let body = app.gql(&w.key, query, variables).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "ids[2]", "{body}");
        unchanged(&app, &w, &ids).await;
    }
    let body = app
        .gql(&other.key, REMOVE, json!({ "ids": [theirs] }))
        .await;
    assert!(body.get("errors").is_none(), "their own chat: {body}");

    for (query, variables, field) in [
        (REMOVE, json!({ "ids": [ids[0], ids[1], ids[0]] }), "ids[2]"),
        (REMOVE, json!({ "ids": [] }), "ids"),
        (REMOVE, json!({ "ids": vec![Uuid::new_v4(); 101] }), "ids"),
        // Restoring a live chat.
        (RESTORE, json!({ "ids": [ids[1]] }), "ids[0]"),
        // The responder must be given, even as null.
        (
            "mutation($ids: [UUID!]!) { assignChats(ids: $ids) { id } }",
            json!({ "ids": ids }),
            "responderSuperIdentityId",
        ),
        // Nor may a declared variable be left out, as Apollo Client does
        // with one set to `undefined`: that must not unassign either.
        (ASSIGN, json!({ "ids": ids }), "responderSuperIdentityId"),
        // Another workspace's responder.
        (
            ASSIGN,
            json!({ "ids": ids, "r": other.squad.super_identity_id }),
            "responderSuperIdentityId",
        ),
    ] {
        let body = app.gql(&w.key, query, variables.clone()).await;
        assert!(
            matches!(error_code(&body), "BAD_USER_INPUT" | "NOT_FOUND"),
            "{variables}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{variables}: {body}"
        );
        unchanged(&app, &w, &ids).await;
    }

    // A removed chat is not there for removeChats.
    app.data(&w.key, REMOVE, json!({ "ids": [ids[0]] })).await;
    let body = app
        .gql(&w.key, REMOVE, json!({ "ids": [ids[1], ids[0]] }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "ids[1]", "{body}");
    assert_eq!(events(&app, &ids, ChatEventKind::Removed).await, 1);
}
