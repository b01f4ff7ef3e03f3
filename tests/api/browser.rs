//! The embedded GraphiQL used as a person uses it, in headless Chromium
//! (`conformance/graphiql.mjs`, with playwright-core and Debian's
//! `chromium`): the page loads nothing from outside loopback, runs the
//! prepared query with the key from the link, shows the result, receives a
//! subscription's event through its vendored graphql-ws client, keeps
//! the key out of localStorage across a reload, and shows why a refused key
//! was refused instead of retrying.

use serde_json::Value;

use crate::{conformance::run_node, helpers::TestApp};

#[tokio::test]
async fn graphiql_runs_the_prepared_query_offline_and_never_stores_the_key() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;
    let args = vec![
        app.url(""),
        w.key.clone(),
        w.channels[0].id.to_string(),
        w.customer.super_identity_id.to_string(),
        app.metrics_url(),
    ];
    let (findings, stderr, _) = run_node("graphiql.mjs", args).await;
    assert_eq!(findings["error"], Value::Null, "{findings}\n{stderr}");
    assert_eq!(
        findings["external"],
        serde_json::json!([]),
        "requests left loopback"
    );
    let address = findings["addressBar"].as_str().unwrap();
    assert!(
        !address.contains(&w.key),
        "the key stayed in the address bar: {address}"
    );
    let result = findings["result"].as_str().unwrap();
    assert!(result.contains("\"totalCount\": 1"), "{result}");
    assert!(result.contains("Where is my order?"), "{result}");
    assert!(
        !findings["storage"].as_array().unwrap().is_empty(),
        "GraphiQL stored nothing: {findings}"
    );
    assert_eq!(
        findings["keyStored"], false,
        "the key is in localStorage: {findings}"
    );
    assert_eq!(
        findings["subscription"],
        serde_json::json!({ "data": { "chatEvents": { "kind": "CREATED", "chat": { "title": "From the browser" } } } }),
        "{findings}"
    );
    let typed = findings["editorSubscription"].as_str().unwrap();
    assert!(typed.contains("CREATED"), "{typed}");
    // A refused key: the reason shows, and the socket is not retried.
    let refused = findings["refusedResult"].as_str().unwrap();
    assert!(
        refused.contains("unknown, malformed or revoked"),
        "{refused}"
    );
    assert_eq!(findings["refusedSockets"], 1, "{findings}");
}
