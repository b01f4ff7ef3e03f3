//! The inbox filters: time ranges, responder, ticket and blocked owner.
//! The lists, the connection and the counts agree on every one, and a
//! range that cannot hold anything is refused.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{EVERY_WAY, TestApp, World, at, error_code, selected_every_way};

/// Six chats created at minutes 0..6. Chat i: a message at minute 100 + i
/// when i is even; a responder when i % 3 != 0; a ticket when i < 2; owned
/// by the blocked customer when i == 5.
async fn inbox(app: &TestApp, w: &World) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..6i64 {
        let chat = app
            .insert_chat(
                w,
                NewChat {
                    created_at: Some(at(i)),
                    responder_super_identity_id: (i % 3 != 0).then_some(w.agent.super_identity_id),
                    owner_super_identity_id: if i == 5 {
                        w.blocked_customer.super_identity_id
                    } else {
                        w.customer.super_identity_id
                    },
                    ..w.new_chat()
                },
            )
            .await;
        if i % 2 == 0 {
            app.post_message(chat.id, MessageRole::User, "hi", at(100 + i))
                .await;
        }
        if i < 2 {
            app.link_ticket(w, chat.id, w.open_ticket.id).await;
        }
        ids.push(chat.id);
    }
    ids
}

#[tokio::test]
async fn each_filter_selects_the_same_chats_in_lists_connections_and_counts() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other = app.world("Globex").await;
    let ids = inbox(&app, &w).await;
    inbox(&app, &other).await;
    let pick = |which: &[usize]| which.iter().map(|i| ids[*i]).collect::<Vec<_>>();
    let iso = |minutes: i64| at(minutes).to_rfc3339();

    for (filter, expected) in [
        (
            json!({ "createdAt": { "gte": iso(2), "lt": iso(4) } }),
            pick(&[2, 3]),
        ),
        (json!({ "createdAt": { "gte": iso(4) } }), pick(&[4, 5])),
        (json!({ "createdAt": { "lt": iso(1) } }), pick(&[0])),
        (
            json!({ "lastMessageAt": { "gte": iso(102) } }),
            pick(&[2, 4]),
        ),
        // Chats without messages are in no range, even an open one.
        (json!({ "lastMessageAt": {} }), pick(&[0, 2, 4])),
        (json!({ "hasResponder": true }), pick(&[1, 2, 4, 5])),
        (json!({ "hasResponder": false }), pick(&[0, 3])),
        (json!({ "hasTicket": true }), pick(&[0, 1])),
        (json!({ "hasTicket": false }), pick(&[2, 3, 4, 5])),
        (json!({ "ownerIsBlocked": true }), pick(&[5])),
        (json!({ "ownerIsBlocked": false }), pick(&[0, 1, 2, 3, 4])),
        // Null is no condition.
        (
            json!({ "hasTicket": null, "hasResponder": null }),
            pick(&[0, 1, 2, 3, 4, 5]),
        ),
        // Combined with AND, and with the older filters.
        (
            json!({ "hasResponder": true, "hasTicket": false, "createdAt": { "lt": iso(5) },
                    "channelIds": [w.channels[0].id] }),
            pick(&[2, 4]),
        ),
    ] {
        let selected = selected_every_way(&app, &w.key, filter.clone()).await;
        assert_eq!(selected, expected, "{filter}");
    }

    for (filter, field) in [
        (
            json!({ "createdAt": { "gte": iso(4), "lt": iso(4) } }),
            "filter.createdAt.lt",
        ),
        (
            json!({ "lastMessageAt": { "gte": iso(5), "lt": iso(1) } }),
            "filter.lastMessageAt.lt",
        ),
    ] {
        let body = app.gql(&w.key, EVERY_WAY, json!({ "f": filter })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
}
