//! `chats(filter, page, pageSize, orderBy)`: filters, orders, pages and
//! their boundaries, and argument validation.

use std::collections::BTreeSet;

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, World, at, error_code};

const LIST: &str = "query($filter: ChatFilter, $page: Int, $pageSize: Int, $orderBy: ChatOrderBy) {
    chats(filter: $filter, page: $page, pageSize: $pageSize, orderBy: $orderBy) {
        items { id }
        pageInfo { page pageSize hasNextPage hasPreviousPage }
        totalCount totalPages
    }
}";

async fn list(app: &TestApp, w: &World, args: Value) -> Value {
    app.data(&w.key, LIST, args).await["chats"].clone()
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Four chats that differ in every filtered column; the fourth is removed.
struct Inbox {
    widget: Uuid,
    whatsapp: Uuid,
    instagram: Uuid,
    removed: Uuid,
}

async fn inbox(app: &TestApp, w: &World) -> Inbox {
    let widget = app
        .insert_chat(
            w,
            NewChat {
                created_at: Some(at(1)),
                ..w.new_chat()
            },
        )
        .await
        .id;
    app.link_ticket(w, widget, w.open_ticket.id).await;
    let whatsapp = NewChat {
        channel_id: w.channels[2].id,
        owner_super_identity_id: w.user.super_identity_id,
        responder_super_identity_id: Some(w.squad.super_identity_id),
        created_at: Some(at(2)),
        ..w.new_chat()
    };
    let whatsapp = app.insert_chat(w, whatsapp).await.id;
    app.link_ticket(w, whatsapp, w.closed_ticket.id).await;
    let instagram = NewChat {
        channel_id: w.channels[3].id,
        owner_super_identity_id: w.blocked_customer.super_identity_id,
        responder_super_identity_id: None,
        created_at: Some(at(3)),
        ..w.new_chat()
    };
    let instagram = app.insert_chat(w, instagram).await.id;
    let removed = app
        .insert_chat(
            w,
            NewChat {
                created_at: Some(at(4)),
                ..w.new_chat()
            },
        )
        .await
        .id;
    app.remove_chat(w, removed).await;
    Inbox {
        widget,
        whatsapp,
        instagram,
        removed,
    }
}

#[tokio::test]
async fn default_list_is_the_first_ten_live_chats_newest_first() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let inbox = inbox(&app, &w).await;
    let page = list(&app, &w, json!({})).await;
    assert_eq!(
        ids(&page),
        vec![inbox.instagram, inbox.whatsapp, inbox.widget]
    );
    assert_eq!(
        page["pageInfo"],
        json!({ "page": 1, "pageSize": 10, "hasNextPage": false, "hasPreviousPage": false })
    );
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["totalPages"], 1);
}

#[tokio::test]
async fn every_filter_narrows_the_list_and_the_count() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let i = inbox(&app, &w).await;
    let cases = [
        (
            json!({ "ids": [i.widget, i.instagram, i.removed] }),
            vec![i.instagram, i.widget],
        ),
        (
            json!({ "channelIds": [w.channels[2].id, w.channels[3].id] }),
            vec![i.instagram, i.whatsapp],
        ),
        (json!({ "channelTypes": ["WIDGET"] }), vec![i.widget]),
        (
            json!({ "channelTypes": ["INSTAGRAM", "WHATSAPP"] }),
            vec![i.instagram, i.whatsapp],
        ),
        (json!({ "channelTypes": ["API"] }), vec![]),
        (
            json!({ "ownerSuperIdentityIds": [w.user.super_identity_id] }),
            vec![i.whatsapp],
        ),
        (
            json!({ "responderSuperIdentityIds": [w.agent.super_identity_id] }),
            vec![i.widget],
        ),
        (
            json!({ "ticketStatuses": ["OPEN", "PENDING"] }),
            vec![i.widget],
        ),
        (json!({ "ticketStatuses": ["CLOSED"] }), vec![i.whatsapp]),
        (
            json!({ "includeRemoved": true }),
            vec![i.removed, i.instagram, i.whatsapp, i.widget],
        ),
        (
            json!({ "includeRemoved": true, "ids": [i.removed] }),
            vec![i.removed],
        ),
        (
            json!({ "channelTypes": ["WIDGET"], "ticketStatuses": ["CLOSED"] }),
            vec![],
        ),
        (json!({ "ids": [] }), vec![]),
    ];
    for (filter, expected) in cases {
        let page = list(&app, &w, json!({ "filter": filter })).await;
        assert_eq!(ids(&page), expected, "filter {filter}");
        assert_eq!(
            page["totalCount"],
            expected.len(),
            "count for filter {filter}"
        );
    }
}

#[tokio::test]
async fn pages_of_chats_with_equal_timestamps_never_repeat_or_skip() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut all = BTreeSet::new();
    for minute in [5, 5, 5, 5, 7, 7, 7] {
        all.insert(
            app.insert_chat(
                &w,
                NewChat {
                    created_at: Some(at(minute)),
                    ..w.new_chat()
                },
            )
            .await
            .id,
        );
    }
    for order in [
        "CREATED_AT_DESC",
        "CREATED_AT_ASC",
        "LAST_ACTIVITY_DESC",
        "LAST_ACTIVITY_ASC",
    ] {
        let mut seen = Vec::new();
        for page in 1..=4 {
            let result = list(
                &app,
                &w,
                json!({ "page": page, "pageSize": 2, "orderBy": order }),
            )
            .await;
            assert_eq!(
                result["pageInfo"]["hasNextPage"],
                page < 4,
                "{order} page {page}"
            );
            assert_eq!(result["pageInfo"]["hasPreviousPage"], page > 1);
            assert_eq!(result["totalPages"], 4);
            seen.extend(ids(&result));
        }
        assert_eq!(seen.len(), 7, "{order}");
        assert_eq!(
            seen.iter().copied().collect::<BTreeSet<_>>(),
            all,
            "{order}"
        );
    }
}

#[tokio::test]
async fn orders_by_creation_and_by_last_activity() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let old_busy = app
        .insert_chat(
            &w,
            NewChat {
                created_at: Some(at(1)),
                ..w.new_chat()
            },
        )
        .await
        .id;
    let new_quiet = app
        .insert_chat(
            &w,
            NewChat {
                created_at: Some(at(2)),
                ..w.new_chat()
            },
        )
        .await
        .id;
    let silent = app
        .insert_chat(
            &w,
            NewChat {
                created_at: Some(at(3)),
                ..w.new_chat()
            },
        )
        .await
        .id;
    app.post_message(old_busy, MessageRole::User, "first", at(10))
        .await;
    app.post_message(new_quiet, MessageRole::User, "second", at(5))
        .await;
    app.post_message(old_busy, MessageRole::Assistant, "reply", at(20))
        .await;
    let order = |order: &'static str| {
        let app = &app;
        let w = &w;
        async move { ids(&list(app, w, json!({ "orderBy": order })).await) }
    };
    assert_eq!(
        order("CREATED_AT_DESC").await,
        vec![silent, new_quiet, old_busy]
    );
    assert_eq!(
        order("CREATED_AT_ASC").await,
        vec![old_busy, new_quiet, silent]
    );
    assert_eq!(
        order("LAST_ACTIVITY_DESC").await,
        vec![old_busy, new_quiet, silent]
    );
    assert_eq!(
        order("LAST_ACTIVITY_ASC").await,
        vec![silent, new_quiet, old_busy]
    );
}

#[tokio::test]
async fn a_page_past_the_end_is_empty_and_says_so() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for minute in 0..3 {
        app.insert_chat(
            &w,
            NewChat {
                created_at: Some(at(minute)),
                ..w.new_chat()
            },
        )
        .await;
    }
    let exact = list(&app, &w, json!({ "page": 1, "pageSize": 3 })).await;
    assert_eq!(ids(&exact).len(), 3);
    assert_eq!(exact["pageInfo"]["hasNextPage"], false);
    let past = list(&app, &w, json!({ "page": 5, "pageSize": 3 })).await;
    assert_eq!(ids(&past), Vec::<Uuid>::new());
    assert_eq!(
        past["pageInfo"],
        json!({ "page": 5, "pageSize": 3, "hasNextPage": false, "hasPreviousPage": true })
    );
    assert_eq!(past["totalCount"], 3);
    let empty = list(&app, &w, json!({ "filter": { "ids": [] } })).await;
    assert_eq!(empty["totalPages"], 0);
}

#[tokio::test]
async fn out_of_range_arguments_are_bad_input_naming_the_argument() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let too_many: Vec<Uuid> = (0..101).map(|_| Uuid::new_v4()).collect();
    let cases = [
        (json!({ "page": 0 }), "page"),
        (json!({ "page": -3 }), "page"),
        (json!({ "page": 1_000_001 }), "page"),
        (json!({ "pageSize": 0 }), "pageSize"),
        (json!({ "pageSize": 101 }), "pageSize"),
        (json!({ "filter": { "ids": too_many } }), "filter.ids"),
        (
            json!({ "filter": { "channelIds": too_many } }),
            "filter.channelIds",
        ),
        (
            json!({ "filter": { "ownerSuperIdentityIds": too_many } }),
            "filter.ownerSuperIdentityIds",
        ),
    ];
    for (args, field) in cases {
        let body = app.gql(&w.key, LIST, args.clone()).await;
        assert_eq!(body["data"], json!(null), "{args}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{args}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], field,
            "{args}: {body}"
        );
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(field),
            "{body}"
        );
    }
}

#[tokio::test]
async fn ill_typed_arguments_are_bad_input() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for args in [
        json!({ "filter": { "ids": ["not-a-uuid"] } }),
        json!({ "filter": { "channelTypes": ["TELEGRAM"] } }),
        json!({ "page": "two" }),
        json!({ "orderBy": "SIDEWAYS" }),
    ] {
        let body = app.gql(&w.key, LIST, args.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{args}: {body}");
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    }
}

/// Counting by channels reads the live-chat counters; the same filter
/// with an open time range (which matches every chat, but is not the
/// counters') counts the chats themselves. After concurrent creates and
/// removals through the API, the two agree.
#[tokio::test]
async fn channel_counters_agree_with_the_chats_after_concurrent_writes() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let inputs = (0..24)
        .map(|i| {
            serde_json::json!({
                "channelId": w.channels[i % 3].id,
                "ownerSuperIdentityId": w.customer.super_identity_id,
            })
        })
        .collect();
    let ids = app.create_chats_concurrently(&w.key, inputs).await;
    for id in ids.iter().step_by(5) {
        app.data(
            &w.key,
            "mutation($id: UUID!) { removeChat(id: $id) { chatId } }",
            serde_json::json!({ "id": id }),
        )
        .await;
    }
    let count = |filter: serde_json::Value| {
        let (app, key) = (&app, &w.key);
        async move {
            let data = app
                .data(
                    key,
                    "query($f: ChatFilter) { chats(filter: $f) { totalCount } }",
                    serde_json::json!({ "f": filter }),
                )
                .await;
            data["chats"]["totalCount"].as_i64().unwrap()
        }
    };
    let mut total = 0;
    for (channel, channel_type) in w.channels.iter().zip(["WIDGET", "WAHA", "WHATSAPP"]) {
        let by_counter = count(serde_json::json!({ "channelIds": [channel.id] })).await;
        let by_rows =
            count(serde_json::json!({ "channelTypes": [channel_type], "createdAt": {} })).await;
        assert_eq!(by_counter, by_rows, "{channel_type}");
        total += by_counter;
    }
    assert_eq!(total, 24 - 5, "24 created, 5 removed");
    let two = serde_json::json!({ "channelIds": [w.channels[0].id, w.channels[1].id] });
    let widget_and_waha =
        serde_json::json!({ "channelTypes": ["WIDGET", "WAHA"], "createdAt": {} });
    assert_eq!(count(two).await, count(widget_and_waha).await);
}
