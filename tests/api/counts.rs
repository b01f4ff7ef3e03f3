//! `chatCounts`: the inbox's badge counts agree with the chats themselves,
//! follow the filter as the lists do, and count one workspace only.

use chat_gateway::service::chat::NewChat;
use entity::{enums::TicketStatus, ticket};
use sea_orm::{EntityTrait, QueryFilter, prelude::*, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World};

const COUNTS: &str = "query($filter: ChatFilter) { chatCounts(filter: $filter) {
    total unassigned withoutTicket
    byChannelType { type count }
    byTicketStatus { status count }
    byResponder { responderSuperIdentityId count responder { name } }
} }";

/// Twelve chats over channels, responders and tickets; chat 0 removed.
async fn inbox(app: &TestApp, w: &World) {
    let responders = [
        Some(w.agent.super_identity_id),
        Some(w.squad.super_identity_id),
        None,
    ];
    for i in 0..12 {
        let chat = app
            .insert_chat(
                w,
                NewChat {
                    // widget, waha, whatsapp, widget, ...
                    channel_id: w.channels[i % 3].id,
                    responder_super_identity_id: responders[i % 3],
                    ..w.new_chat()
                },
            )
            .await;
        let ticket = match i % 4 {
            0 => Some(w.open_ticket.id),
            1 => Some(w.closed_ticket.id),
            _ => None,
        };
        if let Some(ticket) = ticket {
            app.link_ticket(w, chat.id, ticket).await;
        }
        if i == 0 {
            app.remove_chat(w, chat.id).await;
        }
    }
}

fn bucket<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    &list
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b[key] == value)
        .unwrap_or_else(|| panic!("no {key} {value} in {list}"))["count"]
}

#[tokio::test]
async fn counts_agree_with_the_chats_follow_the_filter_and_keep_to_the_workspace() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other = app.world("Globex").await;
    inbox(&app, &w).await;
    inbox(&app, &other).await;

    // Live chats 1..=11: channel i % 3, responder i % 3, ticket by i % 4.
    let counts = &app.data(&w.key, COUNTS, json!({})).await["chatCounts"];
    assert_eq!(counts["total"], 11);
    let types = &counts["byChannelType"];
    assert_eq!(types.as_array().unwrap().len(), 5, "every type: {types}");
    assert_eq!(*bucket(types, "type", "WIDGET"), 3); // 3, 6, 9
    assert_eq!(*bucket(types, "type", "WAHA"), 4); // 1, 4, 7, 10
    assert_eq!(*bucket(types, "type", "WHATSAPP"), 4); // 2, 5, 8, 11
    assert_eq!(*bucket(types, "type", "API"), 0);
    let statuses = &counts["byTicketStatus"];
    assert_eq!(*bucket(statuses, "status", "OPEN"), 2); // 4, 8
    assert_eq!(*bucket(statuses, "status", "CLOSED"), 3); // 1, 5, 9
    assert_eq!(counts["withoutTicket"], 6);
    assert_eq!(counts["unassigned"], 4); // 2, 5, 8, 11
    let responders = counts["byResponder"].as_array().unwrap();
    assert_eq!(responders.len(), 2, "{responders:?}");
    // Most chats first: the squad has 1, 4, 7, 10; the agent 3, 6, 9.
    assert_eq!(
        responders[0]["responderSuperIdentityId"],
        json!(w.squad.super_identity_id)
    );
    assert_eq!(responders[0]["count"], 4);
    assert_eq!(responders[0]["responder"]["name"], "Squad One");
    assert_eq!(responders[1]["count"], 3);

    // The same filter as the lists, and the same total.
    let filter = json!({ "channelTypes": ["WAHA", "WHATSAPP"], "ticketStatuses": ["CLOSED"] });
    let counts = &app.data(&w.key, COUNTS, json!({ "filter": filter })).await["chatCounts"];
    let listed = app
        .data(
            &w.key,
            "query($filter: ChatFilter) { chats(filter: $filter, pageSize: 100) { totalCount items { id } } }",
            json!({ "filter": filter }),
        )
        .await;
    assert_eq!(counts["total"], 2); // 1, 5
    assert_eq!(counts["total"], listed["chats"]["totalCount"]);
    assert_eq!(*bucket(&counts["byChannelType"], "type", "WIDGET"), 0);
    assert_eq!(counts["withoutTicket"], 0);

    // Removed chats only when asked for.
    let all = json!({ "filter": { "includeRemoved": true } });
    let counts = &app.data(&w.key, COUNTS, all).await["chatCounts"];
    assert_eq!(counts["total"], 12);
    assert_eq!(*bucket(&counts["byTicketStatus"], "status", "OPEN"), 3);

    // An empty list matches none, as in the lists.
    let none = json!({ "filter": { "channelIds": [] } });
    let counts = &app.data(&w.key, COUNTS, none).await["chatCounts"];
    assert_eq!(counts["total"], 0);
    assert_eq!(counts["byResponder"], json!([]));

    // Another workspace's ids count nothing here.
    let theirs =
        json!({ "filter": { "responderSuperIdentityIds": [other.squad.super_identity_id] } });
    let counts = &app.data(&w.key, COUNTS, theirs).await["chatCounts"];
    assert_eq!(counts["total"], 0);
    assert_eq!(counts["unassigned"], 0);
}

/// The counters answer a filter of channels, responders and tickets; any
/// other condition counts the chats. After every kind of write (create,
/// update of responder and ticket, remove, bulk assign, remove and
/// restore, and another service changing a ticket's status or deleting
/// it), both give the same numbers.
#[tokio::test]
async fn counters_stay_exact_through_every_write_and_match_counting_the_chats() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    inbox(&app, &w).await;
    let ids = |data: &Value| crate::helpers::uuids(&data["chats"]["items"], "id");
    let list = "{ chats(pageSize: 100, orderBy: CREATED_AT_ASC) { items { id } } }";
    let all = ids(&app.data(&w.key, list, json!({})).await);

    let writes = [
        (
            "mutation($id: UUID!, $r: UUID) { updateChat(id: $id, input: { responderSuperIdentityId: $r, ticketId: null }) { id } }",
            json!({ "id": all[1], "r": w.squad.super_identity_id }),
        ),
        (
            "mutation($id: UUID!, $t: UUID) { updateChat(id: $id, input: { ticketId: $t }) { id } }",
            json!({ "id": all[2], "t": w.open_ticket.id }),
        ),
        (
            "mutation($id: UUID!) { removeChat(id: $id) { chatId } }",
            json!({ "id": all[3] }),
        ),
        (
            "mutation($ids: [UUID!]!, $r: UUID) { assignChats(ids: $ids, responderSuperIdentityId: $r) { id } }",
            json!({ "ids": [all[4], all[5], all[6]], "r": null }),
        ),
        (
            "mutation($ids: [UUID!]!) { removeChats(ids: $ids) { id } }",
            json!({ "ids": [all[7], all[8]] }),
        ),
        (
            "mutation($ids: [UUID!]!) { restoreChats(ids: $ids) { id } }",
            json!({ "ids": [all[8]] }),
        ),
        (
            "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }",
            json!({ "input": { "channelId": w.channels[4].id, "ownerSuperIdentityId": w.customer.super_identity_id } }),
        ),
    ];
    for (mutation, variables) in writes {
        app.data(&w.key, mutation, variables).await;
    }
    // Another service's writes to tickets move their chats too: a status
    // change, and a deletion that unlinks them (the foreign key).
    ticket::Entity::update_many()
        .col_expr(ticket::Column::Status, Expr::value(TicketStatus::Resolved))
        .filter(ticket::Column::Id.eq(w.open_ticket.id))
        .exec(&app.db)
        .await
        .unwrap();
    ticket::Entity::delete_by_id(w.closed_ticket.id)
        .exec(&app.db)
        .await
        .unwrap();

    let every = "query($f: ChatFilter, $g: ChatFilter) {
        counters: chatCounts(filter: $f) { ...all }
        counted: chatCounts(filter: $g) { ...all }
        listed: chats(filter: $f) { totalCount }
        listedCounted: chats(filter: $g) { totalCount }
    }
    fragment all on ChatCounts {
        total unassigned withoutTicket
        byChannelType { type count }
        byTicketStatus { status count }
        byResponder { responderSuperIdentityId count }
    }";
    for filter in [
        json!({}),
        json!({ "channelIds": [w.channels[0].id, w.channels[4].id] }),
        json!({ "channelTypes": ["WIDGET", "API"] }),
        json!({ "hasTicket": false }),
        json!({ "hasResponder": true, "channelIds": [w.channels[1].id] }),
        json!({ "hasResponder": false }),
        json!({ "responderSuperIdentityIds": [w.squad.super_identity_id] }),
        json!({ "ticketStatuses": ["RESOLVED", "CLOSED"], "hasResponder": true }),
        json!({ "channelIds": [] }),
    ] {
        // An open time range matches every chat but is not the counters'.
        let mut counted = filter.clone();
        counted["createdAt"] = json!({});
        let data = app
            .data(&w.key, every, json!({ "f": filter, "g": counted }))
            .await;
        assert_eq!(data["counters"], data["counted"], "{filter}");
        assert_eq!(data["listed"], data["listedCounted"], "{filter}");
    }
    // The live chats listed first, less removeChat, less two removed and
    // one restored, plus the created one.
    let data = app
        .data(&w.key, "{ chatCounts { total } }", json!({}))
        .await;
    assert_eq!(data["chatCounts"]["total"], all.len() - 1 - 2 + 1 + 1);
}
