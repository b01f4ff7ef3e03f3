//! On PostgreSQL, with enough chats for the planner to care, every statement
//! a request really runs on the hot paths is answered through indexes: no
//! sequential scan of chats or messages. The statements are recorded from
//! the gateway itself, values included, and explained on the same database.

use chat_gateway::seed::{self, SeedOptions};
use entity::{channel, chat};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement, prelude::*,
};
use serde_json::{Value, json};

use crate::helpers::{CHAT_FIELDS, TestApp};

/// Chats seeded for the test: the planner picks sequential scans on small
/// tables, so the data must be large enough for indexes to win.
fn seeded_chats() -> u64 {
    std::env::var("PLAN_TEST_CHATS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

/// Every bucket of `chatCounts`.
const COUNTS: &str = "total unassigned withoutTicket byChannelType { type count } \
    byTicketStatus { status count } byResponder { responderSuperIdentityId count }";

/// Every scan node of a JSON plan, as (node type, relation).
fn scans(plan: &Value, out: &mut Vec<(String, String)>) {
    if let Some(node) = plan["Node Type"].as_str() {
        let relation = plan["Relation Name"].as_str().unwrap_or_default();
        out.push((node.to_owned(), relation.to_owned()));
    }
    for child in plan["Plans"].as_array().into_iter().flatten() {
        scans(child, out);
    }
}

async fn explain(app: &TestApp, statement: &Statement) -> Vec<(String, String)> {
    let explained = Statement {
        sql: format!("EXPLAIN (FORMAT JSON) {}", statement.sql),
        ..statement.clone()
    };
    let row = app
        .db
        .query_one_raw(explained)
        .await
        .unwrap()
        .expect("a plan");
    let plan: Value = row.try_get_by_index(0).unwrap();
    let mut found = Vec::new();
    scans(&plan[0]["Plan"], &mut found);
    found
}

/// PostgreSQL's plans only: ignored by default, so a SQLite run says so;
/// `.ci/run` runs it with `--include-ignored` on PostgreSQL.
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=... cargo test -- --include-ignored"]
async fn hot_paths_use_indexes_on_a_large_inbox() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.db.get_database_backend(),
        DbBackend::Postgres,
        "plans are checked on PostgreSQL only: set TEST_DATABASE_URL"
    );
    let options = SeedOptions {
        chats: seeded_chats(),
        messages_per_chat_max: 20,
        random_seed: 3,
    };
    let seeded = seed::run(&app.db, options, &Default::default())
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    let key = seeded.api_key.as_str();
    let ws = seeded.workspace_id;
    let channels = channel::Entity::find()
        .filter(channel::Column::WorkspaceId.eq(ws))
        .all(&app.db)
        .await
        .unwrap();
    let some_chat = chat::Entity::find()
        .filter(chat::Column::WorkspaceId.eq(ws))
        .filter(chat::Column::ResponderSuperIdentityId.is_not_null())
        .order_by_asc(chat::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    let list = |args: &str, extra: &str| {
        format!("{{ chats({args}) {{ {extra} items {{ {CHAT_FIELDS} }} }} }}")
    };
    let operations = [
        ("list newest", list("pageSize: 50", "")),
        (
            "list by two channels, page 3, with count",
            list(
                &format!(
                    "pageSize: 10, page: 3, filter: {{ channelIds: [\"{}\", \"{}\"] }}",
                    channels[0].id, channels[1].id
                ),
                "totalCount",
            ),
        ),
        (
            "list by channel type",
            list("filter: { channelTypes: [WHATSAPP] }", ""),
        ),
        (
            "list by owner",
            list(
                &format!(
                    "filter: {{ ownerSuperIdentityIds: [\"{}\"] }}",
                    some_chat.owner_super_identity_id
                ),
                "",
            ),
        ),
        (
            "list by responder",
            list(
                &format!(
                    "filter: {{ responderSuperIdentityIds: [\"{}\"] }}",
                    some_chat.responder_super_identity_id.unwrap()
                ),
                "",
            ),
        ),
        (
            "list by ticket status",
            list("filter: { ticketStatuses: [PENDING] }", ""),
        ),
        (
            "list by last activity",
            list("pageSize: 50, orderBy: LAST_ACTIVITY_DESC", ""),
        ),
        ("count", "{ chats { totalCount } }".to_owned()),
        // Counting a word in most chats reads most chats: no count here.
        (
            "search, a common word",
            list("pageSize: 50, filter: { search: \"refund\" }", ""),
        ),
        (
            "search, a rare word (one title), with count",
            list(
                "pageSize: 50, filter: { search: \"conversation 1234\" }",
                "totalCount",
            ),
        ),
        (
            "search within a channel",
            list(
                &format!(
                    "filter: {{ search: \"order\", channelIds: [\"{}\"] }}",
                    channels[0].id
                ),
                "",
            ),
        ),
        (
            "created in a range, with count",
            list(
                "filter: { createdAt: { gte: \"2025-06-01T00:00:00Z\", lt: \"2025-06-08T00:00:00Z\" } }",
                "totalCount",
            ),
        ),
        (
            "last message in a range, newest activity first",
            list(
                "orderBy: LAST_ACTIVITY_DESC, filter: { lastMessageAt: { gte: \"2025-06-01T00:00:00Z\" } }",
                "",
            ),
        ),
        (
            "flags with a channel, with count",
            list(
                &format!(
                    "filter: {{ hasResponder: false, hasTicket: true, ownerIsBlocked: false, channelIds: [\"{}\"] }}",
                    channels[0].id
                ),
                "totalCount",
            ),
        ),
        ("unassigned", list("filter: { hasResponder: false }", "")),
        ("without a ticket", list("filter: { hasTicket: false }", "")),
        (
            "blocked owners",
            list("filter: { ownerIsBlocked: true }", ""),
        ),
        (
            "every badge count",
            format!("{{ chatCounts {{ {COUNTS} }} }}"),
        ),
        (
            "every badge count of one channel",
            format!(
                "{{ chatCounts(filter: {{ channelIds: [\"{}\"] }}) {{ {COUNTS} }} }}",
                channels[0].id
            ),
        ),
        (
            "every badge count of a rare search",
            format!("{{ chatCounts(filter: {{ search: \"conversation 1234\" }}) {{ {COUNTS} }} }}"),
        ),
        (
            "connection page after a cursor",
            format!(
                "{{ chatsConnection(first: 50, after: \"{}\", orderBy: LAST_ACTIVITY_DESC) {{ edges {{ node {{ {CHAT_FIELDS} }} }} }} }}",
                chat_gateway::graphql::types::connection::encode(
                    "ld",
                    chat_gateway::service::chat::filter::ChatOrder::LastActivityDesc
                        .position(&some_chat)
                )
            ),
        ),
        (
            "one chat",
            format!("{{ chat(id: \"{}\") {{ {CHAT_FIELDS} }} }}", some_chat.id),
        ),
        (
            "a page of messages on every chat of a page, deep in one",
            format!(
                "{{ chats(pageSize: 20) {{ items {{ messages(first: 5, after: \"{}\") {{ totalCount nodes {{ id content }} }} }} }} }}",
                chat_gateway::graphql::types::connection::encode(
                    "md",
                    chat_gateway::service::keyset::Position {
                        key: Some(some_chat.created_at),
                        id: uuid::Uuid::nil(),
                    }
                )
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (name, query) in operations {
        app.statements.start_recording();
        app.data(key, &query, json!({})).await;
        let statements = app.statements.take_recorded();
        assert!(!statements.is_empty(), "{name} ran no statement");
        for statement in statements {
            for (node, relation) in explain(&app, &statement).await {
                if node == "Seq Scan"
                    && ["chats", "messages", "chat_search"].contains(&relation.as_str())
                {
                    failures.push(format!(
                        "{name}: sequential scan of {relation} in\n  {}",
                        statement.sql
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
