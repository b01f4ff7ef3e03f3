//! The binary itself: the README's run command serves a demo whose printed
//! key works, the admin commands print JSON for scripts, and SIGTERM stops
//! the server cleanly.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_chat-gateway");

/// Runs the binary with `args` on `database_url`; its stdout as JSON.
pub fn run_json(database_url: &str, args: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?} failed: {stderr}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stderr}"))
}

#[test]
fn schema_command_prints_the_checked_in_sdl() {
    let output = Command::new(BIN).arg("schema").output().unwrap();
    assert!(output.status.success());
    let stored =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    // Not assert_eq: a diff of two whole schemas is unreadable; the drift test names the fix.
    assert!(
        String::from_utf8(output.stdout).unwrap() == stored,
        "`chat-gateway schema` differs from schema.graphql"
    );
}

#[tokio::test]
async fn workspace_and_api_key_commands_print_keys_that_authenticate() {
    let app = TestApp::spawn().await;
    let url = app.database_url();
    let created = tokio::task::spawn_blocking({
        let url = url.clone();
        move || run_json(&url, &["workspace", "create", "--name", "Scripted"])
    })
    .await
    .unwrap();
    let workspace = created["workspaceId"].as_str().unwrap().to_owned();
    let first = created["apiKey"].as_str().unwrap().to_owned();
    let second = tokio::task::spawn_blocking({
        let url = url.clone();
        let workspace = workspace.clone();
        move || {
            run_json(
                &url,
                &[
                    "api-key",
                    "create",
                    "--workspace",
                    &workspace,
                    "--name",
                    "ci",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(second["workspaceId"], json!(workspace));
    assert_eq!(second["name"], "ci");
    let key = second["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with(second["prefix"].as_str().unwrap()));
    for key in [first, key] {
        let data = app.data(&key, "{ chats { totalCount } }", json!({})).await;
        assert_eq!(data, json!({ "chats": { "totalCount": 0 } }));
    }
}

#[tokio::test]
async fn api_key_for_an_unknown_workspace_fails_and_prints_nothing() {
    let app = TestApp::spawn().await;
    let url = app.database_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args([
                "api-key",
                "create",
                "--workspace",
                &uuid::Uuid::new_v4().to_string(),
                "--name",
                "x",
            ])
            .env("DATABASE_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no workspace has the id"));
}

#[tokio::test]
async fn default_command_serves_the_demo_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, demo) = serve_demo(dir.path(), &[]).await;
    assert!(
        dir.path().join("chat-gateway.db").exists(),
        "the default SQLite file is created"
    );

    let url = demo["graphiqlUrl"].as_str().unwrap();
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(demo["apiKey"].as_str().unwrap())
        .json(&json!({ "query": "{ chats { totalCount items { channel { type } owner { name } } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["chats"]["totalCount"], 49,
        "50 demo chats, one removed: {body}"
    );

    sigterm(&child);
    let mut child = child;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

/// Starts the binary on a fresh SQLite file with `args`; its demo line
/// (address, key) and the child.
async fn serve_demo(dir: &std::path::Path, args: &[&str]) -> (std::process::Child, Value) {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let demo = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    (child, demo)
}

/// A POST whose body is only half sent: in flight until the rest follows.
fn half_sent_request(demo: &Value) -> (std::net::TcpStream, Vec<u8>) {
    use std::io::Write;
    let url = demo["graphiqlUrl"].as_str().unwrap();
    let addr = url.trim_start_matches("http://").split('/').next().unwrap();
    let body = json!({ "query": "{ chats { totalCount } }" }).to_string();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        demo["apiKey"].as_str().unwrap(),
        body.len()
    )
    .unwrap();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    stream.write_all(first).unwrap();
    (stream, rest.to_vec())
}

fn sigterm(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

#[tokio::test]
async fn sigterm_stops_accepting_finishes_in_flight_requests_and_exits_0() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let (mut child, demo) = serve_demo(dir.path(), &["--shutdown-grace-secs", "30"]).await;
    let (mut stream, rest) = half_sent_request(&demo);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sigterm(&child);

    // The listener closes once the signal is handled: new connections are
    // refused from then on (the bound is a hang guard, not a speed check).
    let url = demo["graphiqlUrl"].as_str().unwrap().to_owned();
    let health = url.replace("/graphql", "/healthz");
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while reqwest::Client::new().get(&health).send().await.is_ok() {
        assert!(
            std::time::Instant::now() < patience,
            "new connections were still accepted 30 s after SIGTERM"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let response = tokio::task::spawn_blocking(move || {
        stream.write_all(&rest).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"totalCount\":49"), "{response}");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn sigterm_gives_up_on_a_stuck_request_after_the_grace_period_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, demo) = serve_demo(dir.path(), &["--shutdown-grace-secs", "1"]).await;
    // Never finished: only the deadline ends it.
    let (_stream, _rest) = half_sent_request(&demo);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sigterm(&child);
    let waited = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::task::spawn_blocking(move || child.wait()),
    )
    .await
    .expect("the process exits after its grace period, not never");
    let status = waited.unwrap().unwrap();
    assert!(status.success(), "exit status: {status}");
}

/// Runs the binary with `args` (no DATABASE_URL from the environment).
fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs")
}

#[test]
fn bad_flags_and_unreachable_databases_fail_with_one_line_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", dir.path().join("typo.db").display());
    for (args, says) in [
        (
            vec!["--db-max-connections", "0", "migrate"],
            "invalid value '0' for '--db-max-connections",
        ),
        (vec!["--max-body-bytes=-1"], "--max-body-bytes"),
        (
            vec!["--cors-allowed-origins", "not a url"],
            "expected an origin such as https://app.example.com",
        ),
        (
            vec![
                "--database-url",
                "postgres://postgres@127.0.0.1:1/x",
                "--db-acquire-timeout-secs",
                "1",
                "migrate",
            ],
            "error: cannot connect to PostgreSQL at 127.0.0.1:1: connection refused",
        ),
        // Admin commands never create a database: a mistyped path is an error.
        (
            vec!["api-key", "list", "--database-url", &missing],
            "error: cannot open SQLite file",
        ),
        // URLs that are not one: each says what to write.
        (
            vec!["--database-url", "chat.db", "migrate"],
            "for the SQLite file chat.db, write sqlite://chat.db",
        ),
        (
            vec!["--database-url", "mysql://u@localhost/chats", "migrate"],
            "mysql databases are not supported",
        ),
        (
            vec!["--database-url", "\"sqlite://chat.db\"", "migrate"],
            "remove them",
        ),
        // A directory that cannot be written (as root too: /sys).
        (
            vec!["--database-url", "sqlite:///sys/chat.db", "migrate"],
            "error: cannot open SQLite file /sys/chat.db: cannot create files in /sys: permission denied",
        ),
        (
            vec!["--listen", "localhost"],
            "expected HOST:PORT, e.g. 127.0.0.1:8000, 0.0.0.0:8000 or localhost:8000",
        ),
        // A server flag before another command would be ignored: refused.
        (
            vec!["--listen", "127.0.0.1:0", "migrate"],
            "--listen is a flag of `serve`",
        ),
    ] {
        let output = run(&args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.contains(says), "{args:?}: {stderr}");
        if first.starts_with("error: cannot") {
            assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        }
    }
    assert!(
        !dir.path().join("typo.db").exists(),
        "api-key list created a database"
    );
}

#[tokio::test]
async fn global_flags_work_before_or_after_the_subcommand() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let url = app.database_url();
    let (before, after) = tokio::task::spawn_blocking(move || {
        let before = run(&["--database-url", &url, "api-key", "list"]);
        let after = run(&["api-key", "list", "--database-url", &url]);
        (before, after)
    })
    .await
    .unwrap();
    for output in [before, after] {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let keys: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(keys[0]["workspaceId"], json!(w.workspace_id));
        // Timestamps as the API writes them (RFC 3339, +00:00).
        assert!(
            keys[0]["createdAt"].as_str().unwrap().ends_with("+00:00"),
            "{keys}"
        );
    }
}

/// What a second start on `dir`'s database tells on stderr, up to its
/// "listening" line, run with `CARGO` set (as `cargo run` does) or not.
async fn second_start(dir: &std::path::Path, under_cargo: bool) -> String {
    let mut command = Command::new(BIN);
    command
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("CARGO")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if under_cargo {
        // And in text, as on a terminal (the other start logs JSON).
        command
            .env("CARGO", "/usr/bin/cargo")
            .args(["--log-format", "text"]);
    }
    let mut second = command.spawn().unwrap();
    let stderr = second.stderr.take().unwrap();
    let told = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let done = line.contains("listening");
            seen.push(line);
            if done {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    sigterm(&second);
    let output = tokio::task::spawn_blocking(move || second.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.stdout.is_empty(), "a second start printed a key");
    told.join("\n")
}

#[tokio::test]
async fn a_second_start_prints_no_key_and_says_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let (first, demo) = serve_demo(dir.path(), &[]).await;
    assert!(demo["apiKey"].as_str().unwrap().starts_with("cgw_"));
    sigterm(&first);
    let mut first = first;
    tokio::task::spawn_blocking(move || first.wait())
        .await
        .unwrap()
        .unwrap();

    // Under `cargo run`, the command to paste is cargo's.
    let text = second_start(dir.path(), true).await;
    assert!(
        text.contains("cargo run -- api-key create --workspace"),
        "{text}"
    );
    // Otherwise, the binary as it was called.
    let text = second_start(dir.path(), false).await;
    assert!(
        text.contains(&format!("{BIN} api-key create --workspace")),
        "{text}"
    );
    assert!(
        !text.to_lowercase().contains("migration"),
        "migration chatter: {text}"
    );
    // The banner comes before the log line.
    assert!(
        text.find("api-key create") < text.find("listening"),
        "{text}"
    );
}

#[test]
fn each_command_lists_only_its_flags_and_help_shows_ranges() {
    let help = |args: &[&str]| {
        let output = run(args);
        assert!(output.status.success(), "{args:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let migrate = help(&["migrate", "--help"]);
    assert!(migrate.contains("--database-url"), "{migrate}");
    assert!(
        !migrate.contains("--listen") && !migrate.contains("--max-tokens"),
        "{migrate}"
    );
    let serve = help(&["serve", "--help"]);
    assert!(
        serve.contains("--listen") && serve.contains("--max-tokens"),
        "{serve}"
    );
    assert!(serve.contains("(1 to 10,000)"), "{serve}");
}

#[tokio::test]
async fn the_port_variable_is_heeded_and_localhost_is_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (args, env_port) in [
        (vec!["--no-demo", "--log-format", "text"], Some(port)),
        (
            vec![
                "--no-demo",
                "--listen",
                "localhost:0",
                "--log-format",
                "text",
            ],
            None,
        ),
    ] {
        let mut command = Command::new(BIN);
        command
            .args(&args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("LISTEN_ADDR")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match env_port {
            Some(port) => command.env("PORT", port.to_string()),
            None => command.env_remove("PORT"),
        };
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let url = tokio::task::spawn_blocking(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .find_map(|line| {
                    let (_, url) = line.split_once("listening url=")?;
                    Some(url.trim().to_owned())
                })
        })
        .await
        .unwrap()
        .expect("a listening line");
        if let Some(port) = env_port {
            assert_eq!(url, format!("http://localhost:{port}/graphql"));
        }
        let health = url.replace("/graphql", "/healthz");
        let status = reqwest::get(&health).await.unwrap().status();
        sigterm(&child);
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{args:?}");
    }
}

/// PostgreSQL only: a command on a migrated database prints no server
/// notices (the migrator's CREATE TABLE IF NOT EXISTS made four).
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=... cargo test -- --include-ignored"]
async fn postgres_commands_print_no_notices() {
    let app = TestApp::spawn().await;
    assert!(app.is_postgres(), "needs PostgreSQL: set TEST_DATABASE_URL");
    let url = app.database_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["api-key", "list"])
            .env("DATABASE_URL", url)
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.trim().is_empty(), "{stderr}");
}

#[tokio::test]
async fn api_keys_are_made_with_scopes_and_list_shows_them() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let url = app.database_url();
    let workspace = w.workspace_id.to_string();
    let (made, listed, refused) = tokio::task::spawn_blocking(move || {
        let made = run_json(
            &url,
            &[
                "api-key",
                "create",
                "--workspace",
                &workspace,
                "--name",
                "reader",
                "--scopes",
                "chats:read,messages:read",
            ],
        );
        let listed = run_json(&url, &["api-key", "list", "--workspace", &workspace]);
        let refused = Command::new(BIN)
            .args([
                "api-key",
                "create",
                "--workspace",
                &workspace,
                "--name",
                "x",
                "--scopes",
                "chats:read,chats:delete",
            ])
            .env("DATABASE_URL", &url)
            .output()
            .unwrap();
        (made, listed, refused)
    })
    .await
    .unwrap();
    assert_eq!(made["scopes"], json!(["chats:read", "messages:read"]));
    let all = json!([
        "chats:read",
        "chats:write",
        "messages:read",
        "messages:write",
        "directory:read",
        "events:subscribe",
        "webhooks:manage"
    ]);
    let by_name = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["name"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_name("reader")["scopes"], made["scopes"]);
    // Keys made without --scopes (and before scopes existed) hold them all.
    assert_eq!(by_name("test")["scopes"], all);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("unknown scope \"chats:delete\""),
        "{stderr}"
    );
    // The reader reads, and is refused a write.
    let key = made["apiKey"].as_str().unwrap();
    app.data(key, "{ chats { totalCount } }", json!({})).await;
    let body = app
        .gql(
            key,
            "mutation($id: UUID!) { removeChat(id: $id) { chatId } }",
            json!({ "id": uuid::Uuid::new_v4() }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
}
