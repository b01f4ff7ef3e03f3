//! GraphQL over HTTP conformance: graphql-http's own server audits (the
//! reference implementation's test suite for the spec) run against the real
//! server, with the npm packages pinned in `conformance/package-lock.json`.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::helpers::TestApp;

pub const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance");

/// Installs the pinned packages once (`npm ci`), if missing. Tests run
/// in parallel, and `npm ci` starts by deleting `node_modules`: a lock
/// keeps a second install from pulling the packages from under a test
/// that is already using them.
pub fn install_audit() {
    let lock =
        std::fs::File::create(Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-npm.lock"))
            .unwrap();
    lock.lock().unwrap();
    let installed = ["graphql-http", "playwright-core", "graphql-ws", "ws"]
        .iter()
        .all(|package| {
            Path::new(CONFORMANCE)
                .join("node_modules")
                .join(package)
                .exists()
        });
    if installed {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(CONFORMANCE)
        .status()
        .expect("npm runs (Node.js is needed for the conformance audit)");
    assert!(status.success(), "npm ci in conformance/ failed");
}

/// Installs the packages if needed, runs `node script args...` in
/// `conformance/`, and returns the JSON line it printed, its stderr and
/// whether it exited 0.
pub async fn run_node(script: &str, args: Vec<String>) -> (Value, String, bool) {
    tokio::task::spawn_blocking(install_audit).await.unwrap();
    let script = script.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(CONFORMANCE)
            .output()
            .expect("node runs (Node.js is needed)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let printed: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no JSON line ({e}): {stdout}\n{stderr}"));
    (printed, stderr, output.status.success())
}

#[tokio::test]
async fn graphql_http_server_audits_pass_without_errors_or_warnings() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let (counts, stderr, ok) = run_node("audit.mjs", vec![app.url("/graphql"), w.key]).await;
    eprintln!("graphql-http serverAudits: {counts}");
    assert_eq!(counts["error"], 0, "{stderr}");
    assert_eq!(counts["warn"], 0, "{stderr}");
    assert!(counts["ok"].as_u64().unwrap() >= 50, "{counts}");
    assert!(ok, "{stderr}");
}
