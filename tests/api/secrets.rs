//! Secrets: an API key never shows up in the gateway's logs (at the most
//! verbose level), its error responses or GraphiQL; keys are listed without
//! secrets; a revoked key is refused on its very next request.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
};

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{cli::run_json, helpers::TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_chat-gateway");

#[tokio::test]
async fn keys_stay_out_of_logs_and_responses_and_revocation_is_immediate() {
    // The test app provides the database; the binary under test serves it.
    let app = TestApp::spawn().await;
    let url = app.database_url();
    let w = app.world("Acme").await;
    let other = run_json(
        &url,
        &[
            "api-key",
            "create",
            "--workspace",
            &w.workspace_id.to_string(),
            "--name",
            "ci",
        ],
    );
    let other_key = other["apiKey"].as_str().unwrap().to_owned();
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-demo",
            "--log-format",
            "json",
            // Every operation is slow: its line must hold no key either.
            "--slow-operation-ms",
            "1",
        ])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The address is in the "listening" log line.
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    // A failed assertion must not leave the server running past the suite.
    let _stop = Stop(server.id());
    let mut logs = String::new();
    let addr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "server exited: {logs}"
        );
        logs.push_str(&line);
        let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        if event["message"] == "listening" {
            let url = event["url"].as_str().unwrap();
            break url["http://".len()..].split('/').next().unwrap().to_owned();
        }
    };
    let graphql = format!("http://{addr}/graphql");
    let client = reqwest::Client::new();
    let wrong_secret = format!("{}_{}", &w.key[..20], "0".repeat(64));
    let mut bodies = Vec::new();
    for (key, query) in [
        (w.key.as_str(), "{ chats { totalCount } }".to_owned()),
        (
            w.key.as_str(),
            format!(
                "{{ chats(filter: {{ ids: [\"{}\"] }}) {{ totalCount }} }}",
                w.key
            ),
        ),
        (w.key.as_str(), format!("{{ chats {} }}", w.key)),
        (wrong_secret.as_str(), "{ __typename }".to_owned()),
        (other_key.as_str(), "{ __typename }".to_owned()),
    ] {
        let response = client
            .post(&graphql)
            .header("x-api-key", key)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        bodies.push(response.text().await.unwrap());
    }
    let html = client
        .get(&graphql)
        .header(header::ACCEPT, "text/html")
        .bearer_auth(&w.key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Listed without secrets; the key just used has a last-used time.
    let listed = run_json(
        &url,
        &[
            "api-key",
            "list",
            "--workspace",
            &w.workspace_id.to_string(),
        ],
    );
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|k| k["lastUsedAt"].is_string() && k["revokedAt"].is_null()),
        "{listed:?}"
    );
    let prefix = other["prefix"].as_str().unwrap();
    assert!(listed.iter().any(|k| k["prefix"] == prefix));

    // Revoked from the CLI while the server runs: refused as soon as the
    // server hears of it. On PostgreSQL that is its NOTIFY, delivered on
    // commit (a gap of milliseconds, documented in key_cache.rs, that a
    // loaded CI machine once lost to the next request): allowed 2 s here.
    let revoked = run_json(&url, &["api-key", "revoke", "--prefix", prefix]);
    assert!(revoked["revokedAt"].is_string());
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(2);
    // Requests accepted in that gap (each an access line of 200).
    let mut late = 0;
    let response = loop {
        let response = client
            .post(&graphql)
            .bearer_auth(&other_key)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        if response.status() != StatusCode::OK || std::time::Instant::now() > patience {
            break response;
        }
        late += 1;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    bodies.push(response.text().await.unwrap());

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    stderr.read_to_string(&mut logs).unwrap();
    assert!(server.wait().unwrap().success());

    // One JSON object per line; one access line per request, naming
    // who asked by the key's public prefix.
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["target"] == "chat_gateway::access")
        .collect();
    assert_eq!(access.len(), 7 + late, "{access:#?}");
    assert!(access.iter().all(|line| line["path"] == "/graphql"
        && line["request_id"].as_str().is_some_and(|id| id.len() == 36)
        && line["duration_ms"].is_number()));
    let statuses: Vec<u64> = access
        .iter()
        .map(|l| l["status"].as_u64().unwrap())
        .collect();
    let mut expected = vec![200; 3 + late];
    expected.extend([401, 200, 200, 401]);
    assert_eq!(statuses, expected);
    assert_eq!(access[0]["principal"], w.key[..20]);
    assert_eq!(access[0]["operation_type"], "query");
    // Slow operations name their document by its hash, never its text.
    let slow: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["target"] == "chat_gateway::slow")
        .collect();
    let hashed = |line: &&serde_json::Value| line["document_hash"].as_str().unwrap().len() == 64;
    assert!(
        slow.iter().any(hashed),
        "no slow-operation line with a hash"
    );
    for line in slow {
        // Empty for a document refused before it was read.
        let hash = line["document_hash"].as_str().unwrap();
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
        assert!(line["duration_ms"].as_f64().unwrap() >= 1.0, "{line}");
        assert_eq!(line["level"], "WARN");
    }
    for key in [&w.key, &other_key, &wrong_secret] {
        let secret = key.rsplit('_').next().unwrap();
        assert!(!logs.contains(secret), "a key's secret is in the logs");
        assert!(!html.contains(secret), "a key's secret is in GraphiQL");
        for body in &bodies {
            assert!(
                !body.contains(secret),
                "a key's secret is in a response: {body}"
            );
        }
    }
    for row in listed {
        let text = row.to_string();
        assert!(
            !text.contains(other_key.rsplit('_').next().unwrap())
                && row.get("secretHash").is_none()
        );
    }
}

/// Kills the process when dropped by a failing test (a passing one has
/// stopped it and checked how it exited).
struct Stop(u32);

impl Drop for Stop {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}
