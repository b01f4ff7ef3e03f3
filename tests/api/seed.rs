//! `seed`: bulk data of the promised shape, readable through the API, and
//! kept apart from the second workspace.

use chat_gateway::seed::{self, SeedOptions};
use entity::{channel, chat, enums::ChannelType, message};
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
    let summary = seed::run(&app.db, options, &Default::default())
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

    // The words and counters the seed derives in bulk (PostgreSQL) or its
    // triggers derive row by row (SQLite) are what the chats hold.
    let mut by_type = std::collections::BTreeMap::<String, u64>::new();
    let channels = channel::Entity::find()
        .filter(channel::Column::WorkspaceId.eq(summary.workspace_id))
        .all(&app.db)
        .await
        .unwrap();
    for channel in channels {
        let live = chat::Entity::find()
            .filter(chat::Column::ChannelId.eq(channel.id))
            .filter(chat::Column::RemovedAt.is_null())
            .count(&app.db)
            .await
            .unwrap();
        let name = sea_orm::ActiveEnum::to_value(&channel.channel_type).to_uppercase();
        *by_type.entry(name).or_default() += live;
    }
    let counts = &app
        .data(
            &summary.api_key,
            "{ chatCounts { total byChannelType { type count } } }",
            json!({}),
        )
        .await["chatCounts"];
    assert_eq!(counts["total"], json!(600 - removed));
    let counted: std::collections::BTreeMap<String, u64> = counts["byChannelType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["type"].as_str().unwrap().to_owned(),
                b["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counted, by_type);
    let found = &app
        .data(
            &summary.api_key,
            "{ chats(filter: { search: \"refund\" }) { totalCount } }",
            json!({}),
        )
        .await["chats"]["totalCount"];
    assert!(
        found.as_u64().unwrap() > 0,
        "messages are searchable: {found}"
    );
    let titled = &app
        .data(
            &summary.api_key,
            "{ chats(filter: { search: \"conversation\" }) { totalCount } }",
            json!({}),
        )
        .await["chats"]["totalCount"];
    assert!(
        titled.as_u64().unwrap() > 0,
        "titles are searchable: {titled}"
    );
}

/// `chat-gateway seed` as a person runs it: the workspace and its key come
/// first, progress follows (as lines, stderr being no terminal here), and
/// Ctrl-C stops it cleanly: what was written is whole, reported, and its
/// exit is 130.
#[tokio::test]
async fn seed_tells_its_workspace_first_and_stops_cleanly_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let app = TestApp::spawn().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chat-gateway"))
        .args(["seed", "--chats", "40000"])
        .env("DATABASE_URL", app.database_url())
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let pid = child.id().to_string();
    let seen = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
        let first = lines.next().unwrap_or_default();
        // Interrupt once some chats are in.
        let progress = lines
            .find(|line| line.contains(" chats, "))
            .unwrap_or_default();
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        let rest: Vec<String> = lines.collect();
        (first, progress, rest)
    })
    .await
    .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let (first, progress, rest) = seen;
    assert!(first.starts_with("Seeding workspace "), "{first}");
    assert!(first.contains("cgw_"), "{first}");
    assert!(progress.starts_with("seed: "), "{progress}");
    assert_eq!(output.status.code(), Some(130), "{rest:?}");
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["interrupted"], true);
    let workspace: uuid::Uuid = summary["workspaceId"].as_str().unwrap().parse().unwrap();
    assert!(first.contains(&workspace.to_string()), "{first}");
    let seeded = summary["chats"].as_u64().unwrap();
    assert!(seeded > 0 && seeded < 40_000, "{seeded}");
    // What was written is whole: every chat it reports, each with messages.
    let chats = chat::Entity::find()
        .filter(chat::Column::WorkspaceId.eq(workspace))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(chats, seeded);
    let key = summary["apiKey"].as_str().unwrap();
    let data = app.data(key, "{ chats { totalCount } }", json!({})).await;
    assert!(data["chats"]["totalCount"].as_u64().unwrap() > 0);
    assert!(
        rest.iter().any(|line| line.contains("Interrupted")),
        "{rest:?}"
    );
}
