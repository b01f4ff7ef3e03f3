//! What the people who run the gateway see: the metrics listener, counted
//! exactly per label after known requests over HTTP and the WebSocket, and
//! checked by Prometheus's own `promtool`.

use std::{collections::BTreeMap, time::Duration};

use serde_json::json;

use crate::{
    helpers::{TestApp, attached},
    socket::Socket,
};

/// The metrics text of `app`'s listener.
pub async fn scrape(app: &TestApp) -> String {
    reqwest::get(format!("{}/metrics", app.metrics_url()))
        .await
        .expect("metrics answered")
        .text()
        .await
        .expect("metrics text")
}

/// Every sample of `name` in `text`, by its labels (`a="x",b="y"`,
/// sorted by label name).
pub fn samples(text: &str, name: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((metric, labels)) => (metric, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let mut labels: Vec<&str> = labels.split(',').filter(|l| !l.is_empty()).collect();
            labels.sort_unstable();
            Some((labels.join(","), value.parse().expect("a number")))
        })
        .collect()
}

/// The count of operations of `ty`, `name`, `outcome` over `transport`.
fn operations(text: &str, ty: &str, name: &str, outcome: &str, transport: &str) -> f64 {
    let labels = format!(
        "operation_name=\"{name}\",operation_type=\"{ty}\",outcome=\"{outcome}\",transport=\"{transport}\""
    );
    samples(text, "graphql_operation_duration_seconds_count")
        .get(&labels)
        .copied()
        .unwrap_or(0.0)
}

#[tokio::test]
async fn operations_are_counted_by_type_name_outcome_and_transport_over_both_transports() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let named = "query Inbox { chats { totalCount } }";
    for _ in 0..3 {
        app.data(&w.key, named, json!({})).await;
    }
    // Anonymous, refused by validation.
    app.post(Some(&w.key), json!({"query": "{ chats { nope } }"}))
        .await;
    // No credential: refused before its document is read.
    app.post(None, json!({"query": named})).await;
    let mutation = "mutation Open($input: CreateChatInput!) { createChat(input: $input) { id } }";
    let input = json!({"input": {"channelId": w.channels[0].id, "ownerSuperIdentityId": w.customer.super_identity_id}});
    app.post(Some(&w.key), json!({"query": mutation, "variables": input}))
        .await;

    let mut socket = Socket::ready(&app, &w.key).await;
    socket.subscribe("q", named, json!({})).await;
    socket.next("q").await;
    socket
        .subscribe(
            "s",
            "subscription Live { chatEvents { cursor } }",
            json!({}),
        )
        .await;
    attached(&app.metrics_url(), 1).await;
    socket.send(json!({"type": "complete", "id": "s"})).await;
    attached(&app.metrics_url(), 0).await;
    socket
        .subscribe("bad", "subscription { chatEvents { nope } }", json!({}))
        .await;
    // After the query's `complete`: its `error`.
    while socket.recv().await["id"] != "bad" {}

    // A subscription is counted once it ended: poll until it is.
    let patience = std::time::Instant::now() + Duration::from_secs(30);
    let text = loop {
        let text = scrape(&app).await;
        if operations(&text, "subscription", "Live", "ok", "ws") > 0.0 {
            break text;
        }
        assert!(std::time::Instant::now() < patience, "{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for (ty, name, outcome, transport, count) in [
        ("query", "Inbox", "ok", "http", 3.0),
        ("query", "", "BAD_USER_INPUT", "http", 1.0),
        ("unknown", "", "UNAUTHENTICATED", "http", 1.0),
        ("mutation", "Open", "ok", "http", 1.0),
        ("query", "Inbox", "ok", "ws", 1.0),
        ("subscription", "Live", "ok", "ws", 1.0),
        ("subscription", "", "BAD_USER_INPUT", "ws", 1.0),
    ] {
        assert_eq!(
            operations(&text, ty, name, outcome, transport),
            count,
            "{ty} {name:?} {outcome} over {transport}:\n{text}"
        );
    }
    let all: f64 = samples(&text, "graphql_operation_duration_seconds_count")
        .values()
        .sum();
    assert_eq!(all, 9.0, "nothing else was counted:\n{text}");
    // The mutation got its error-free `ok` although it created a chat;
    // the WebSocket is one HTTP request (the upgrade, 101), still open.
    let statuses = samples(&text, "http_requests_total");
    assert_eq!(statuses.get("status=\"200\""), Some(&5.0), "{text}");
    assert_eq!(statuses.get("status=\"401\""), Some(&1.0), "{text}");
    assert_eq!(samples(&text, "ws_connections_active")[""], 1.0);
}

#[tokio::test]
async fn the_metrics_pass_promtool_and_read_the_pool_reader_and_deliveries() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let mut socket = Socket::ready(&app, &w.key).await;
    socket
        .subscribe("s", "subscription { chatEvents { cursor } }", json!({}))
        .await;
    attached(&app.metrics_url(), 1).await;
    let mutation = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
    let input = json!({"input": {"channelId": w.channels[0].id, "ownerSuperIdentityId": w.customer.super_identity_id}});
    app.data(&w.key, mutation, input).await;
    socket.next("s").await;
    let text = scrape(&app).await;

    let delivered = samples(&text, "chat_events_delivery_lag_seconds_count");
    assert_eq!(delivered[""], 1.0, "{text}");
    assert_eq!(samples(&text, "graphql_subscriptions_active")[""], 1.0);
    // The event was read: the reader is not behind.
    assert_eq!(samples(&text, "chat_events_reader_behind_events")[""], 0.0);
    let pool = samples(&text, "db_pool_connections");
    assert!(
        pool["state=\"idle\""] + pool["state=\"in_use\""] >= 1.0,
        "{text}"
    );
    for present in [
        "db_pool_acquire_duration_seconds_count",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "rate_limit_refusals_total",
        "otel_spans_dropped_total",
    ] {
        assert!(text.contains(present), "no {present} in\n{text}");
    }

    let mut promtool = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian package `prometheus`; .ci/run installs it)");
    use tokio::io::AsyncWriteExt;
    let mut stdin = promtool.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let checked = promtool.wait_with_output().await.unwrap();
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn the_readmes_alert_rules_pass_promtool_and_name_only_metrics_the_gateway_exports() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("```yaml\ngroups:").expect("the alert rules") + 8;
    let rules = &readme[start..start + readme[start..].find("```\n").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.yml");
    std::fs::write(&path, rules).unwrap();
    let checked = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .expect("promtool runs (Debian package `prometheus`; .ci/run installs it)");
    assert!(
        checked.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    // A labelled family shows once it has a series.
    app.data(&w.key, "{ chats { totalCount } }", json!({}))
        .await;
    let text = scrape(&app).await;
    // Each series a rule reads is one the gateway exports, so a renamed
    // metric breaks this test rather than an alert that silently never
    // fires. A rule's words, label matchers and ranges left out, are
    // PromQL's functions and keywords or series names.
    const PROMQL: &[&str] = &[
        "sum",
        "rate",
        "max",
        "min",
        "avg",
        "histogram_quantile",
        "increase",
        "by",
        "without",
        "or",
        "and",
        "unless",
        "le",
        "on",
        "ignoring",
        "bool",
        "up",
    ];
    let mut read = 0;
    for expr in rules.split("expr:").skip(1) {
        let expr = &expr[..expr.find("for:").unwrap_or(expr.len())];
        let mut words = String::new();
        let mut depth = 0;
        for c in expr.chars() {
            match c {
                '{' | '[' => depth += 1,
                '}' | ']' => depth -= 1,
                _ if depth == 0 => words.push(c),
                _ => {}
            }
            if depth > 0 {
                words.push(' ');
            }
        }
        for name in words.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            if PROMQL.contains(&name) {
                continue;
            }
            let family = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix))
                .unwrap_or(name);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "an alert reads {name}, which the gateway does not export"
            );
            read += 1;
        }
    }
    assert!(read >= 8, "only {read} series read by the rules");
}

#[tokio::test]
async fn operation_names_past_the_bound_are_counted_as_other_and_refusals_by_the_rate_limit() {
    let app = TestApp::spawn_with(|config| {
        config.telemetry.metrics_max_operations = 2;
        // One a second after a burst of four: the fifth request, made
        // within that second, is refused.
        config.limits.rate_limit_per_sec = 1;
        config.limits.rate_limit_burst = 4;
    })
    .await;
    let w = app.world("Acme").await;
    for name in ["A", "B", "C", "D"] {
        let query = format!("query {name} {{ __typename }}");
        app.post(Some(&w.key), json!({"query": query})).await;
    }
    // The bucket is empty now.
    app.post(Some(&w.key), json!({"query": "query A { __typename }"}))
        .await;
    let text = scrape(&app).await;
    assert_eq!(operations(&text, "query", "A", "ok", "http"), 1.0, "{text}");
    assert_eq!(operations(&text, "query", "B", "ok", "http"), 1.0, "{text}");
    assert_eq!(
        operations(&text, "query", "other", "ok", "http"),
        2.0,
        "{text}"
    );
    assert_eq!(
        operations(&text, "query", "A", "RATE_LIMITED", "http"),
        1.0,
        "{text}"
    );
    assert_eq!(
        samples(&text, "rate_limit_refusals_total")["transport=\"http\""],
        1.0
    );
    assert!(
        !text.contains("workspace="),
        "no workspace label by default"
    );
}

#[tokio::test]
async fn a_workspace_label_only_when_asked_for() {
    let app = TestApp::spawn_with(|config| config.telemetry.metrics_workspace_label = true).await;
    let w = app.world("Acme").await;
    app.data(&w.key, "query Q { __typename }", json!({})).await;
    let text = scrape(&app).await;
    let labels = format!(
        "operation_name=\"Q\",operation_type=\"query\",outcome=\"ok\",transport=\"http\",workspace=\"{}\"",
        w.workspace_id
    );
    let counts = samples(&text, "graphql_operation_duration_seconds_count");
    assert_eq!(counts.get(&labels), Some(&1.0), "{text}");
}

/// Polls `/readyz` until it answers `status`; returns the body.
async fn readiness(app: &TestApp, status: reqwest::StatusCode) -> String {
    let patience = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = app.client.get(app.url("/readyz")).send().await.unwrap();
        let now = response.status();
        let body = response.text().await.unwrap();
        if now == status {
            return body;
        }
        assert!(
            std::time::Instant::now() < patience,
            "/readyz still {now}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The LISTEN connection is dropped and cannot come back (the database
/// takes no new connections; the pool keeps its own): past the grace
/// `/readyz` says so, and it is ready again once the listener is back.
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=... cargo test -- --include-ignored"]
async fn readiness_fails_while_the_event_listener_stays_disconnected() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_with(|config| config.telemetry.ready_listener_grace_secs = 1).await;
    assert!(app.is_postgres());
    readiness(&app, reqwest::StatusCode::OK).await;
    // A database cannot close itself to connections: the admin does it.
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap();
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
    let url = app.database_url();
    let name = url.rsplit('/').next().unwrap();
    let allow = |on: bool| format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {on}");
    admin.execute_unprepared(&allow(false)).await.unwrap();
    app.db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .await
        .unwrap();
    let why = readiness(&app, reqwest::StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        why.contains("event listener has been disconnected"),
        "{why}"
    );
    admin.execute_unprepared(&allow(true)).await.unwrap();
    assert_eq!(readiness(&app, reqwest::StatusCode::OK).await, "ready");
}

/// A request id is taken from the request when it is plain and short, and
/// made otherwise; either way the response carries the one logged.
#[tokio::test]
async fn a_plain_request_id_is_kept_and_any_other_replaced() {
    let app = TestApp::spawn().await;
    let id = |sent: Option<&str>| {
        let mut request = app.client.get(app.url("/healthz"));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        async move {
            let response = request.send().await.unwrap();
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(id(Some("client-42.a:b_c")).await, "client-42.a:b_c");
    for replaced in [
        None,
        Some("x".repeat(129).as_str()),
        Some("a b"),
        Some("<script>"),
    ] {
        let made = id(replaced).await;
        assert_eq!(made.len(), 36, "{replaced:?} -> {made}");
        assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    }
}

/// An operation name is the client's text: metrics, logs and spans repeat
/// it cut to 128 characters, however long the document made it.
#[tokio::test]
async fn a_long_operation_name_is_cut_before_it_is_counted() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let name = "N".repeat(10_000);
    app.data(&w.key, &format!("query {name} {{ __typename }}"), json!({}))
        .await;
    let text = scrape(&app).await;
    assert!(!text.contains(&name), "the whole name is in the metrics");
    assert_eq!(operations(&text, "query", &name[..128], "ok", "http"), 1.0);
}
