//! Trusted documents (`--trusted-documents`, `--only-trusted-documents`):
//! a manifest as graphql-codegen's client preset writes it; requests name
//! a document by `documentId` (with or without `sha256:`) or by Apollo's
//! persisted-query hash, over POST, GET and WebSocket; unknown ids and,
//! when only trusted documents run, any text are refused before anything
//! runs; a manifest that does not validate stops the start naming the id.

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    conformance::run_node,
    helpers::{TestApp, World, attached, error_code},
    socket::Socket,
};

const LIST: &str =
    "query Inbox($size: Int) { chats(pageSize: $size) { totalCount items { id title } } }";
const CREATE: &str =
    "mutation Create($input: CreateChatInput!) { createChat(input: $input) { id } }";
const FOLLOW: &str = "subscription Follow { chatEvents { kind chat { id } } }";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Writes a manifest of `documents` (id = SHA-256 of the text, as the
/// client preset makes them) into `dir`.
fn manifest(dir: &tempfile::TempDir, documents: &[&str]) -> std::path::PathBuf {
    let manifest: serde_json::Map<String, Value> = documents
        .iter()
        .map(|text| (sha256(text), json!(text)))
        .collect();
    let path = dir.path().join("persisted-documents.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    path
}

async fn spawn(only: bool) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(&dir, &[LIST, CREATE, FOLLOW]);
    let app = TestApp::spawn_with(|config| {
        config.trusted_documents = Some(path);
        config.only_trusted_documents = only;
    })
    .await;
    (app, dir)
}

fn new_chat(w: &World) -> Value {
    json!({ "channelId": w.channels[0].id, "ownerSuperIdentityId": w.customer.super_identity_id })
}

/// POSTs `body` asking for the GraphQL response media type.
async fn post(app: &TestApp, w: &World, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&w.key)
        .header(header::ACCEPT, GRAPHQL_RESPONSE)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn get(app: &TestApp, w: &World, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .bearer_auth(&w.key)
        .header(header::ACCEPT, GRAPHQL_RESPONSE)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn total(app: &TestApp, w: &World) -> Value {
    let (status, body) = post(app, w, json!({ "documentId": sha256(LIST) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["chats"]["totalCount"].clone()
}

#[tokio::test]
async fn trusted_documents_run_by_id_over_post_get_and_websocket() {
    let (app, _dir) = spawn(false).await;
    let w = app.world("Acme").await;
    let list = sha256(LIST);

    let create = json!({ "documentId": sha256(CREATE), "variables": { "input": new_chat(&w) } });
    let (status, created) = post(&app, &w, create).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert!(created["data"]["createChat"]["id"].is_string(), "{created}");

    // The same document however it is named: bare, prefixed, Apollo's hash.
    for body in [
        json!({ "documentId": list, "variables": { "size": 5 } }),
        json!({ "documentId": format!("sha256:{list}"), "operationName": "Inbox" }),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": list } } }),
    ] {
        let (status, body) = post(&app, &w, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["chats"]["totalCount"], 1, "{body}");
    }
    let (status, body) = get(
        &app,
        &w,
        &[("documentId", &list), ("variables", r#"{"size":1}"#)],
    )
    .await;
    assert_eq!(
        (status, &body["data"]["chats"]["totalCount"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );
    // Apollo's link with useGETForHashedQueries: the hash in `extensions`
    // of a GET, with the operation name and variables as JSON text.
    let apq = json!({ "persistedQuery": { "version": 1, "sha256Hash": list } }).to_string();
    let params = [
        ("operationName", "Inbox"),
        ("variables", r#"{"size":2}"#),
        ("extensions", &apq),
    ];
    let (status, body) = get(&app, &w, &params).await;
    assert_eq!(
        (status, &body["data"]["chats"]["totalCount"]),
        (StatusCode::OK, &json!(1)),
        "{body}"
    );
    // A GET still runs queries only, named by id or not.
    let variables = json!({ "input": new_chat(&w) }).to_string();
    let create_id = sha256(CREATE);
    let mutation = [
        ("documentId", create_id.as_str()),
        ("variables", &variables),
    ];
    let (status, body) = get(&app, &w, &mutation).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");

    // Variables are checked on every request, as for a text.
    let (status, body) = post(
        &app,
        &w,
        json!({ "documentId": list, "variables": { "size": "ten" } }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_USER_INPUT"),
        "{body}"
    );

    // An unknown id: refused with the code Apollo's persisted-query link
    // retries on; its retry with the text then runs (texts may run here).
    let unknown = sha256("{ __typename }");
    let apq = json!({ "persistedQuery": { "version": 1, "sha256Hash": unknown } });
    let (status, body) = post(&app, &w, json!({ "extensions": apq })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert!(body.get("data").is_none(), "{body}");
    let (status, body) = post(
        &app,
        &w,
        json!({ "query": "{ __typename }", "extensions": apq }),
    )
    .await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (StatusCode::OK, &json!("Query")),
        "{body}"
    );
    // Text and id at once is ambiguous.
    let (status, body) = post(&app, &w, json!({ "query": LIST, "documentId": list })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        "{body}"
    );

    // graphql-ws: a subscription by id.
    let mut socket = Socket::ready(&app, &w.key).await;
    socket
        .send(
            json!({ "type": "subscribe", "id": "1", "payload": { "documentId": sha256(FOLLOW) } }),
        )
        .await;
    // graphql-ws with a persisted-query link sends the hash in extensions.
    let hashed = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(FOLLOW) } });
    socket
        .send(json!({ "type": "subscribe", "id": "2", "payload": { "extensions": hashed } }))
        .await;
    attached(&app.metrics_url(), 2).await;
    let create = json!({ "documentId": sha256(CREATE), "variables": { "input": new_chat(&w) } });
    post(&app, &w, create).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let message = socket.recv().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["data"]["chatEvents"]["kind"], "CREATED",
            "{message}"
        );
        ids.push(message["id"].as_str().unwrap().to_owned());
    }
    ids.sort();
    assert_eq!(ids, ["1", "2"]);
    assert_eq!(total(&app, &w).await, 2);
}

#[tokio::test]
async fn only_trusted_documents_refuses_every_text_before_it_runs() {
    let (app, _dir) = spawn(true).await;
    let w = app.world("Acme").await;
    let create_text = json!({ "query": CREATE, "variables": { "input": new_chat(&w) } });
    let unknown_hash = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256("{ chats { totalCount } }") } });
    for body in [
        create_text.clone(),
        // Even a trusted document's own text: only ids run.
        json!({ "query": LIST }),
        // Apollo's retry with the text after PERSISTED_QUERY_NOT_FOUND.
        json!({ "query": "{ chats { totalCount } }", "extensions": unknown_hash }),
    ] {
        let (status, refused) = post(&app, &w, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert_eq!(
            error_code(&refused),
            "TRUSTED_DOCUMENT_REQUIRED",
            "{refused}"
        );
    }
    // Without a key, the credential is refused first, and nothing is parsed.
    let (status, refused) = app.post(None, create_text).await;
    assert_eq!(
        (status, error_code(&refused)),
        (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED")
    );
    let (status, body) = get(&app, &w, &[("query", "{ chats { totalCount } }")]).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "TRUSTED_DOCUMENT_REQUIRED"),
        "{body}"
    );
    assert_eq!(total(&app, &w).await, 0);

    let mut socket = Socket::ready(&app, &w.key).await;
    socket.subscribe("1", FOLLOW, json!({})).await;
    let message = socket.recv().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(
        message["payload"][0]["extensions"]["code"], "TRUSTED_DOCUMENT_REQUIRED",
        "{message}"
    );

    let create = json!({ "documentId": sha256(CREATE), "variables": { "input": new_chat(&w) } });
    let (status, created) = post(&app, &w, create).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(total(&app, &w).await, 1);
}

#[test]
fn a_manifest_that_does_not_validate_stops_the_start_naming_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "query Bad { chats { items { noSuchField } } }";
    let path = manifest(&dir, &[LIST, bad]);
    let db = format!("sqlite://{}", dir.path().join("gateway.db").display());
    for (args, says) in [
        (
            vec![
                "--trusted-documents",
                path.to_str().unwrap(),
                "--database-url",
                &db,
            ],
            format!("trusted document {} in", sha256(bad)),
        ),
        (
            vec![
                "--trusted-documents",
                "/nonexistent/manifest.json",
                "--database-url",
                &db,
            ],
            "cannot read the trusted documents /nonexistent/manifest.json".to_owned(),
        ),
        (
            vec!["--only-trusted-documents", "--database-url", &db],
            "--trusted-documents".to_owned(),
        ),
    ] {
        // Under `timeout`: a start that wrongly succeeds must not hang the test.
        let output = std::process::Command::new("timeout")
            .args(["20", env!("CARGO_BIN_EXE_chat-gateway")])
            .args(&args)
            .args(["--listen", "127.0.0.1:0", "--no-demo"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} started: {stderr}");
        assert!(stderr.contains(&says), "{args:?}: {stderr}");
    }
}

/// The README's recipe end to end: graphql-codegen with its config writes
/// the manifest; the gateway runs only those documents; Apollo Client's
/// cache normalises a result fetched by hash (it needs `__typename`, which
/// only the recipe's document transform puts in a hashed document), and
/// the stock graphql-ws client runs a subscription by id.
#[tokio::test]
async fn the_readme_recipe_serves_apollo_and_graphql_ws_by_id_only() {
    let out = tempfile::tempdir_in(crate::conformance::CONFORMANCE).unwrap();
    let (generated, stderr, ok) =
        run_node("codegen.mjs", vec![out.path().display().to_string()]).await;
    assert!(ok, "{stderr}");
    assert_eq!(
        generated["uuidTyped"], true,
        "UUID is not typed: {generated}"
    );
    let manifest = generated["manifest"].as_str().unwrap().to_owned();
    let app = TestApp::spawn_with(|config| {
        config.trusted_documents = Some(manifest.clone().into());
        config.only_trusted_documents = true;
    })
    .await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let args = vec![
        app.url("/graphql"),
        w.key.clone(),
        manifest,
        app.metrics_url(),
        w.channels[0].id.to_string(),
        w.customer.super_identity_id.to_string(),
    ];
    let (findings, stderr, _) = run_node("apollo.mjs", args).await;
    assert_eq!(findings["error"], Value::Null, "{findings}\n{stderr}");
    assert_eq!(findings["warnings"], json!([]), "{findings}");
    let items = &findings["inbox"]["chats"]["items"];
    assert_eq!(items[0]["id"], chat.id.to_string(), "{findings}");
    assert_eq!(items[0]["__typename"], "Chat", "{findings}");
    let normalised = findings["normalised"].as_array().unwrap();
    assert!(
        normalised.contains(&json!(format!("Chat:{}", chat.id))),
        "the cache did not normalise the chat: {findings}"
    );
    let created = findings["created"]["data"]["createChat"]["id"]
        .as_str()
        .unwrap();
    let event = &findings["event"]["data"]["chatEvents"];
    assert_eq!(event["kind"], "CREATED", "{findings}");
    assert_eq!(event["chat"]["id"], created);
}
