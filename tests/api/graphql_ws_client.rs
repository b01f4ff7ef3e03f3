//! The stock graphql-ws client (npm `graphql-ws`, pinned in
//! `conformance/`) running the README's subscription snippet as written
//! (`conformance/resume.mjs` takes it from README.md), across what happens
//! to real clients: the gateway restarts (a deploy) while writes go on,
//! and the client reconnects by itself. Nothing may be lost or repeated.

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
