//! GraphQL over HTTP conformance: graphql-http's own server audits (the
//! reference implementation's test suite for the spec) run against the real
//! server, with the npm packages pinned in `conformance/package-lock.json`.

use std::{path::Path, process::Command};

use serde_json::Value;

use crate::helpers::TestApp;

pub const CONFORMANCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance");

/// Installs the pinned packages once (`npm ci`), if missing.
pub fn install_audit() {
    let installed = ["graphql-http", "playwright-core"].iter().all(|package| {
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

#[tokio::test]
async fn graphql_http_server_audits_pass_without_errors_or_warnings() {
    tokio::task::spawn_blocking(install_audit).await.unwrap();
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let url = app.url("/graphql");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(["audit.mjs", &url, &w.key])
            .current_dir(CONFORMANCE)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let counts: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no counts ({e}): {stdout}\n{stderr}"));
    eprintln!("graphql-http serverAudits: {counts}");
    assert_eq!(counts["error"], 0, "{stderr}");
    assert_eq!(counts["warn"], 0, "{stderr}");
    assert!(counts["ok"].as_u64().unwrap() >= 50, "{counts}");
    assert!(output.status.success(), "{stderr}");
}
