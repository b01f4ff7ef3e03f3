//! `seed`: bulk data of the promised shape, readable through the API, and
//! kept apart from the second workspace.

use chat_gateway::seed::{self, SeedOptions};
use entity::{chat, enums::ChannelType, message};
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter, prelude::*};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn seed_writes_the_promised_shape_and_the_key_reads_it() {
    let app = TestApp::spawn().await;
    let options = SeedOptions {
        chats: 600,
        messages_per_chat_max: 20,
        random_seed: 1,
    };
    let summary = seed::run(&app.db, options)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    assert_eq!(summary.chats, 600);
    assert_eq!(summary.owners, 120, "about one owner per five chats");

    let in_main = chat::Column::WorkspaceId.eq(summary.workspace_id);
    let chats = chat::Entity::find()
        .filter(in_main.clone())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(chats, 600);
    let all_messages = message::Entity::find().count(&app.db).await.unwrap();
    assert!(
        all_messages > summary.messages,
        "the second workspace has messages too"
    );
    assert!(
        (600 * 5..=600 * 16).contains(&summary.messages),
        "{}",
        summary.messages
    );
    let removed = chat::Entity::find()
        .filter(in_main.clone())
        .filter(chat::Column::RemovedAt.is_not_null())
        .count(&app.db)
        .await
        .unwrap();
    assert!(
        (5..=60).contains(&removed),
        "about 5% removed, got {removed}"
    );
    assert!(
        (100..=260).contains(&summary.tickets),
        "about 30% with a ticket, got {}",
        summary.tickets
    );

    let data = app
        .data(
            &summary.api_key,
            "{ chats(pageSize: 100) { totalCount items { workspaceId channel { type } owner { __typename } latestMessage { role } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["chats"]["totalCount"], json!(600 - removed));
    let items = data["chats"]["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|c| c["workspaceId"] == json!(summary.workspace_id))
    );
    assert!(
        items.iter().all(|c| c["latestMessage"]["role"].is_string()),
        "every chat has messages"
    );
    let owners: std::collections::BTreeSet<_> = items
        .iter()
        .map(|c| c["owner"]["__typename"].to_string())
        .collect();
    assert_eq!(owners.len(), 2, "users and external users");
    let types: std::collections::BTreeSet<_> = items
        .iter()
        .map(|c| c["channel"]["type"].to_string())
        .collect();
    assert_eq!(
        types.len(),
        [
            ChannelType::Widget,
            ChannelType::Waha,
            ChannelType::Whatsapp,
            ChannelType::Instagram,
            ChannelType::Api
        ]
        .len()
    );
}
