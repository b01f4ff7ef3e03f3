//! `chatsConnection`: keyset cursors walk every chat exactly once, forwards
//! and backwards, in every order, and refuse what is not theirs.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, at, error_code};

const CONNECTION: &str = "query($first: Int, $after: String, $last: Int, $before: String, $orderBy: ChatOrderBy, $filter: ChatFilter) {
    chatsConnection(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy, filter: $filter) {
        edges { cursor node { id } }
        nodes { id }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        totalCount
    }
}";

/// Nine chats: equal creation times, some without messages (NULL activity).
async fn inbox(app: &TestApp, w: &World) {
    for (i, minute) in [1, 1, 1, 2, 3, 3, 4, 5, 5].into_iter().enumerate() {
        let chat = app
            .insert_chat(
                w,
                NewChat {
                    created_at: Some(at(minute)),
                    ..w.new_chat()
                },
            )
            .await;
        if i % 3 != 0 {
            app.post_message(chat.id, MessageRole::User, "hi", at(10 + (i as i64 % 4)))
                .await;
        }
    }
}

fn ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(app: &TestApp, w: &World, vars: Value) -> Value {
    app.data(&w.key, CONNECTION, vars).await["chatsConnection"].clone()
}

#[tokio::test]
async fn cursors_walk_every_chat_once_both_ways_in_every_order() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    inbox(&app, &w).await;
    for order in [
        "CREATED_AT_DESC",
        "CREATED_AT_ASC",
        "LAST_ACTIVITY_DESC",
        "LAST_ACTIVITY_ASC",
    ] {
        let list = app
            .data(
                &w.key,
                "query($o: ChatOrderBy) { chats(pageSize: 100, orderBy: $o) { items { id } } }",
                json!({ "o": order }),
            )
            .await;
        let expected: Vec<String> = list["chats"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(expected.len(), 9);

        let (mut forward, mut after, mut pages) = (Vec::new(), Value::Null, 0);
        loop {
            let p = page(
                &app,
                &w,
                json!({ "first": 2, "after": after, "orderBy": order }),
            )
            .await;
            forward.extend(ids(&p));
            assert_eq!(p["totalCount"], 9);
            assert_eq!(p["pageInfo"]["hasPreviousPage"], pages > 0, "{order}");
            assert_eq!(p["nodes"].as_array().unwrap().len(), ids(&p).len());
            pages += 1;
            if p["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = p["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(forward, expected, "forward walk in {order}");
        assert_eq!(pages, 5);

        let (mut backward, mut before) = (Vec::new(), Value::Null);
        loop {
            let p = page(
                &app,
                &w,
                json!({ "last": 2, "before": before, "orderBy": order }),
            )
            .await;
            let mut chunk = ids(&p);
            chunk.extend(backward);
            backward = chunk;
            if p["pageInfo"]["hasPreviousPage"] == false {
                break;
            }
            before = p["pageInfo"]["startCursor"].clone();
        }
        assert_eq!(backward, expected, "backward walk in {order}");
    }
}

#[tokio::test]
async fn an_empty_connection_has_no_cursors() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let p = page(&app, &w, json!({})).await;
    assert_eq!(
        p,
        json!({
            "edges": [], "nodes": [], "totalCount": 0,
            "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null },
        })
    );
}

#[tokio::test]
async fn bad_paging_arguments_are_bad_input_naming_the_argument() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    inbox(&app, &w).await;
    let cursor = page(&app, &w, json!({ "first": 1 })).await["pageInfo"]["endCursor"].clone();
    let cases = [
        (json!({ "first": 0 }), "first"),
        (json!({ "first": 101 }), "first"),
        (json!({ "last": -1 }), "last"),
        (json!({ "first": 2, "last": 2 }), "last"),
        (json!({ "first": 2, "before": cursor }), "before"),
        (json!({ "last": 2, "after": cursor }), "after"),
        (json!({ "after": "garbage" }), "after"),
        (json!({ "last": 1, "before": "djF8Y2R8fDEyMw" }), "before"),
        (
            json!({ "after": cursor, "orderBy": "CREATED_AT_ASC" }),
            "after",
        ),
    ];
    for (vars, field) in cases {
        let body = app.gql(&w.key, CONNECTION, vars.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{vars}: {body}"
        );
    }
}

#[tokio::test]
async fn a_cursor_from_another_workspace_reveals_nothing() {
    let app = TestApp::spawn().await;
    let a = app.world("Alpha").await;
    let b = app.world("Beta").await;
    inbox(&app, &a).await;
    inbox(&app, &b).await;
    let b_all = ids(&page(&app, &b, json!({ "first": 100 })).await);
    let a_all = ids(&page(&app, &a, json!({ "first": 100 })).await);
    let cursor = page(&app, &a, json!({ "first": 1 })).await["pageInfo"]["endCursor"].clone();
    // A cursor is a position: in B's list it pages B's chats after that
    // instant, and never names A's.
    let p = page(&app, &b, json!({ "first": 100, "after": cursor })).await;
    let got = ids(&p);
    assert!(!got.is_empty(), "{p}");
    assert!(
        got.iter().all(|id| b_all.contains(id)),
        "{got:?} vs {b_all:?}"
    );
    assert!(got.iter().all(|id| !a_all.contains(id)), "{got:?}");
    assert_eq!(p["totalCount"], b_all.len());
}
