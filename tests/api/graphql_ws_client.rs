//! The stock graphql-ws client (npm `graphql-ws`, pinned in
//! `conformance/`) running the README's subscription snippet as written
//! (`conformance/resume.mjs` takes it from README.md), across what happens
//! to real clients: the gateway restarts (a deploy) while writes go on,
//! and the client reconnects by itself; its token expires, and it
//! reconnects with a fresh one. Nothing may be lost or repeated.

use std::{process::Stdio, time::Duration};

use chrono::Utc;
use entity::enums::MessageRole;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
};

use crate::{
    conformance::{CONFORMANCE, install_audit},
    helpers::{TestApp, attached},
};

const POST: &str = "mutation($chat: UUID!, $text: String!) {
    postMessage(input: { chatId: $chat, role: OPERATOR, content: $text }) { message { id } } }";

/// `node script args...` in `conformance/`, its output read line by line.
async fn node(script: &str, args: &[String]) -> (Child, Lines<BufReader<ChildStdout>>) {
    tokio::task::spawn_blocking(install_audit).await.unwrap();
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(CONFORMANCE)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs (Node.js is needed)");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// The content of the next message posted that the snippet logs, passing
/// over the chat's creation: it was written just before the client came,
/// and reaches it when this process reads it.
async fn message(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    loop {
        let next = line(lines).await;
        let event = &next["chatEvents"];
        assert!(event.is_object(), "{next}");
        if event["kind"] != "CREATED" {
            assert_eq!(event["kind"], "MESSAGE_POSTED", "{next}");
            return event["message"]["content"].clone();
        }
    }
}

async fn line(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a line in time")
        .unwrap()
        .expect("the client runs");
    serde_json::from_str(&line).unwrap()
}

#[tokio::test]
async fn the_readme_pattern_loses_nothing_across_a_gateway_restart() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await.id;
    let ws_url = app.url("/graphql").replacen("http://", "ws://", 1);
    let (_client, mut lines) = node("resume.mjs", &[ws_url, w.key.clone()]).await;
    attached(&app.metrics_url(), 1).await;

    let mut received = Vec::new();
    for text in ["m1", "m2"] {
        app.data(&w.key, POST, json!({ "chat": chat, "text": text }))
            .await;
        received.push(message(&mut lines).await);
    }
    // A deploy: the gateway stops (its sockets close with 1001), writes
    // go on meanwhile, and a new gateway starts on the same address.
    app.shut_down();
    for text in ["m3", "m4"] {
        app.post_message(chat, MessageRole::Operator, text, Utc::now())
            .await;
    }
    let restarted = app.start_again().await;
    attached(&format!("http://{}", restarted.metrics), 1).await;
    app.data(&w.key, POST, json!({ "chat": chat, "text": "m5" }))
        .await;
    while received.len() < 5 {
        received.push(message(&mut lines).await);
    }
    assert_eq!(
        received,
        json!(["m1", "m2", "m3", "m4", "m5"])
            .as_array()
            .unwrap()
            .clone()
    );
    // Nothing more: no repeat, no error.
    let more = tokio::time::timeout(Duration::from_millis(500), lines.next_line()).await;
    assert!(more.is_err(), "more arrived: {more:?}");
}

/// The next line the web-app snippet prints that is not an event of the
/// chat's creation (see [`message`]).
async fn web_app_line(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    loop {
        let next = line(lines).await;
        if next["chatEvents"]["kind"] != "CREATED" {
            return next;
        }
    }
}

#[tokio::test]
async fn the_readme_web_app_snippet_keeps_a_subscription_across_token_expiry() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use jsonwebtoken::Algorithm;

    use crate::idp::{ALL_SCOPES, Idp, SigningKey, claims, trust};

    let key = Arc::new(SigningKey::generate(Algorithm::ES256, "web"));
    let idp = Idp::start(&[&key]).await;
    let jwks = idp.jwks_url();
    let app = TestApp::spawn_with(|config| trust(config, jwks)).await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await.id;

    // The web app's token endpoint: a fresh token, valid 3 s, each call.
    let issued = Arc::new(AtomicUsize::new(0));
    let (signer, count, workspace) = (key.clone(), issued.clone(), w.workspace_id);
    let endpoint = axum::Router::new().route(
        "/token",
        axum::routing::get(move || async move {
            count.fetch_add(1, Ordering::SeqCst);
            signer.sign(&claims(workspace, "browser-user", ALL_SCOPES, 3))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_url = format!("http://{}/token", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, endpoint).await.unwrap() });

    let (_client, mut lines) = node("tokens.mjs", &[app.url("/graphql"), token_url]).await;
    // Apollo Client's query, with its token.
    let first = web_app_line(&mut lines).await;
    assert_eq!(first["chats"]["totalCount"], 1, "{first}");
    assert_eq!(web_app_line(&mut lines).await, json!({ "connected": true }));
    attached(&app.metrics_url(), 1).await;

    let post = |text: &'static str| {
        let (app, key) = (&app, w.key.clone());
        async move {
            app.data(&key, POST, json!({ "chat": chat, "text": text }))
                .await;
        }
    };
    // m1 now; m2 once the token has expired and the gateway closed the
    // socket, while the client is away; m3 once it is back with a fresh
    // token. Later expiries and reconnects may come in between.
    post("m1").await;
    let (mut received, mut closes, mut connects) = (Vec::new(), 0, 0);
    while received.len() < 3 {
        let next = web_app_line(&mut lines).await;
        if next.get("chatEvents").is_some() {
            received.push(next["chatEvents"]["message"]["content"].clone());
        } else if next.get("closed").is_some() {
            assert_eq!(next["closed"], 4403, "{next}");
            let reason = next["reason"].as_str().unwrap();
            assert!(reason.contains("the token has expired"), "{next}");
            closes += 1;
            if closes == 1 {
                post("m2").await;
            }
        } else {
            assert_eq!(next, json!({ "connected": true }), "never an error");
            connects += 1;
            if connects == 1 {
                post("m3").await;
            }
        }
    }
    assert_eq!(received, vec![json!("m1"), json!("m2"), json!("m3")]);
    assert!(closes >= 1 && connects >= 1);
    // One token for Apollo's request, one per connect.
    assert!(issued.load(Ordering::SeqCst) >= 3);
    server.abort();
}
