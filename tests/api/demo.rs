//! The demo workspace a first start creates: its key works and its data
//! covers every shape the schema has.

use std::collections::BTreeSet;

use chat_gateway::demo;
use serde_json::{Value, json};

use crate::helpers::{CHAT_FIELDS, TestApp};

fn distinct(items: &[Value], path: &[&str]) -> BTreeSet<String> {
    items
        .iter()
        .map(|item| path.iter().fold(item, |v, key| &v[*key]).to_string())
        .collect()
}

#[tokio::test]
async fn first_start_creates_a_demo_workspace_whose_key_answers_every_field() {
    let (app, serve) = TestApp::build_with(|config| config.no_demo = false).await;
    let demo = app
        .demo()
        .cloned()
        .expect("an empty database gets the demo");
    let printed = serde_json::to_value(&demo).unwrap();
    assert_eq!(printed["workspaceId"], json!(demo.workspace_id));
    assert_eq!(
        printed["graphiqlUrl"],
        json!(format!("http://{}/graphql", app.local_addr()))
    );
    let app = serve(app);

    let query = format!(
        "{{ chats(pageSize: 100, filter: {{ includeRemoved: true }}) {{ totalCount items {{ {CHAT_FIELDS} }} }} }}"
    );
    let data = app.data(&demo.api_key, &query, json!({})).await;
    let items = data["chats"]["items"].as_array().unwrap().clone();
    assert_eq!(data["chats"]["totalCount"], demo::DEMO_CHATS);
    assert_eq!(items.iter().filter(|c| c["isRemoved"] == true).count(), 1);
    assert_eq!(
        distinct(&items, &["channel", "type"]).len(),
        5,
        "every channel type"
    );
    assert_eq!(
        distinct(&items, &["owner", "__typename"]).len(),
        2,
        "users and external users"
    );
    assert!(
        distinct(&items, &["responder", "type"]).is_superset(&BTreeSet::from([
            "\"AGENT\"".to_owned(),
            "\"SQUAD\"".to_owned(),
            "null".to_owned()
        ]))
    );
    assert!(
        distinct(&items, &["ticket", "status"]).len() >= 4,
        "tickets of several statuses"
    );
    assert!(
        items
            .iter()
            .all(|c| c["latestMessage"]["preview"].is_string())
    );
    assert!(
        items
            .iter()
            .any(|c| c["previousMessage"]["role"].is_string())
    );

    // A restart on the same database does not create a second demo.
    let again = demo::create_if_empty(&app.db, "http://localhost")
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    assert!(again.is_none());
}
