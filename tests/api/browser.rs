//! The embedded GraphiQL used as a person uses it, in headless Chromium
//! (`conformance/graphiql.mjs`, with playwright-core and Debian's
//! `chromium`): the page loads nothing from outside loopback, runs the
//! prepared query with the key from the link, shows the result, receives a
//! subscription's event through its vendored graphql-ws client, keeps
//! the key out of localStorage across a reload, and shows why a refused key
//! was refused instead of retrying; a token in the link (`#token=`) works
//! the same way.

use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::{
    conformance::run_node,
    helpers::TestApp,
    idp::{ALL_SCOPES, Idp, SigningKey, claims, trust},
};

#[tokio::test]
async fn graphiql_runs_the_prepared_query_offline_and_never_stores_the_key() {
    let key = SigningKey::generate(Algorithm::ES256, "browser");
    let idp = Idp::start(&[&key]).await;
    let jwks = idp.jwks_url();
    let app = TestApp::spawn_with(|config| trust(config, jwks)).await;
    let w = app.world("Acme").await;
    app.insert_chat(&w, w.new_chat()).await;
    let token = key.sign(&claims(w.workspace_id, "browser-user", ALL_SCOPES, 600));
    let args = vec![
        app.url(""),
        w.key.clone(),
        w.channels[0].id.to_string(),
        w.customer.super_identity_id.to_string(),
        app.metrics_url(),
        token.clone(),
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
    // The token: used, wiped from the address bar, never stored.
    let address = findings["tokenAddressBar"].as_str().unwrap();
    assert!(!address.contains(&token), "{address}");
    // The fixture's chat and the two the page made.
    let result = findings["tokenResult"].as_str().unwrap();
    assert!(result.contains("\"totalCount\": 3"), "{result}");
    assert_eq!(findings["tokenStored"], false, "{findings}");
}
