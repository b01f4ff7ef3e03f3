//! Webhooks over real HTTP: receivers on loopback, signatures checked by
//! the reference Standard Webhooks library (npm `standardwebhooks`, run
//! from `conformance/`), both backends.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use chat_gateway::{
    config::{Config, Schedule},
    service::api_key,
};
use serde_json::{Value, json};

use crate::{
    conformance::CONFORMANCE,
    helpers::{TestApp, World, error_code, metric, metric_as},
};

/// What a receiver answers.
#[derive(Clone)]
enum Reply {
    Status(u16),
    /// This status, after a while.
    Slow(u16, Duration),
    Hang,
    /// 307 to this address.
    Redirect(SocketAddr),
}

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }

    fn chat_id(&self) -> String {
        self.json()["data"]["chat"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap().to_owned()
    }
}

type Script = Arc<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

/// An HTTP server on loopback that records what it gets and answers as
/// its script says (given the request and how many times its
/// `webhook-id` came before).
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script: Script = Arc::new(script);
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state((got.clone(), script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, got }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds of what it got (or fails after a minute).
    async fn until(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.got();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("waited a minute for {what}; got {:#?}", self.got());
    }
}

async fn receive(
    State((got, script)): State<(Arc<Mutex<Vec<Received>>>, Script)>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let received = Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: String::from_utf8(body.to_vec()).unwrap(),
    };
    let before = {
        let mut got = got.lock().unwrap();
        let before = got.iter().filter(|r| r.id() == received.id()).count();
        got.push(received.clone());
        before
    };
    match script(&received, before) {
        Reply::Status(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Reply::Slow(status, after) => {
            tokio::time::sleep(after).await;
            StatusCode::from_u16(status).unwrap().into_response()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            StatusCode::OK.into_response()
        }
        Reply::Redirect(to) => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", format!("http://{to}/hook"))],
        )
            .into_response(),
    }
}

/// A gateway that may send to loopback over http, retrying after 1 s.
async fn gateway(retries: usize) -> TestApp {
    gateway_with(|c| {
        c.webhooks.webhook_retry_schedule = Schedule(vec![Duration::from_secs(1); retries]);
        c.webhooks.webhook_timeout_secs = 2;
    })
    .await
}

/// A gateway that may send to loopback over http, with more settings.
async fn gateway_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(|c| {
        c.webhooks.webhook_allow_http = true;
        c.webhooks.webhook_allow_private = true;
        configure(c);
    })
    .await
}

const CREATE_ENDPOINT: &str = "mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url enabled eventKinds } } }";

const DELIVERIES: &str = "query($id: UUID!) { webhookEndpoint(id: $id) {
  enabled disabledReason
  deliveries(first: 100) { edges { cursor node {
    id eventType chatId status nextAttemptAt deliveredAt
    attempts { at httpStatus error durationMs } } } } } }";

/// Registers `url` for `kinds` as `key`; returns the endpoint id and secret.
async fn register(
    app: &TestApp,
    key: &str,
    url: &str,
    kinds: Value,
    filter: Value,
) -> (String, String) {
    let data = app
        .data(
            key,
            CREATE_ENDPOINT,
            json!({ "input": { "url": url, "eventKinds": kinds, "filter": filter } }),
        )
        .await;
    let created = &data["createWebhookEndpoint"];
    (
        created["endpoint"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

async fn create_chat(app: &TestApp, w: &World, title: &str) -> String {
    let data = app
        .data(
            &w.key,
            "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }",
            json!({ "input": {
                "channelId": w.channels[0].id,
                "ownerSuperIdentityId": w.customer.super_identity_id,
                "title": title,
            } }),
        )
        .await;
    data["createChat"]["id"].as_str().unwrap().to_owned()
}

async fn post_message(app: &TestApp, w: &World, chat: &str, content: &str) {
    app.data(
        &w.key,
        "mutation($id: UUID!, $content: String!) {
           postMessage(input: { chatId: $id, role: USER, content: $content }) { message { id } } }",
        json!({ "id": chat, "content": content }),
    )
    .await;
}

/// Verifies each request with the reference library; its verdicts, in order.
async fn verify(secret: &str, requests: &[(HashMap<String, String>, String)]) -> Vec<Value> {
    crate::conformance::install_audit();
    let input: String = requests
        .iter()
        .map(|(headers, body)| {
            json!({ "secret": secret, "headers": headers, "body": body }).to_string() + "\n"
        })
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new("node")
            .arg("webhook-verify.mjs")
            .current_dir(CONFORMANCE)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node runs (Node.js is needed)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn every_event_kind_reaches_a_matching_endpoint_signed_as_the_reference_library_verifies() {
    let app = gateway(2).await;
    let w = app.world("Acme").await;
    let receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let kinds = json!(["CREATED", "UPDATED", "REMOVED", "MESSAGE_POSTED"]);
    let (endpoint, secret) = register(&app, &w.key, &receiver.url(), kinds, Value::Null).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    // One that takes only posted messages gets only those.
    let posts = Receiver::start(|_, _| Reply::Status(204)).await;
    register(
        &app,
        &w.key,
        &posts.url(),
        json!(["MESSAGE_POSTED"]),
        Value::Null,
    )
    .await;

    let chat = create_chat(&app, &w, "First").await;
    app.data(
        &w.key,
        "mutation($id: UUID!) { updateChat(id: $id, input: { title: \"Renamed\" }) { id } }",
        json!({ "id": chat }),
    )
    .await;
    post_message(&app, &w, &chat, "Where is my order? ✓").await;
    app.data(
        &w.key,
        "mutation($id: UUID!) { removeChat(id: $id) { chatId } }",
        json!({ "id": chat }),
    )
    .await;

    let got = receiver.until("four events", |got| got.len() >= 4).await;
    let types: Vec<String> = got.iter().map(Received::kind).collect();
    assert_eq!(
        types,
        [
            "chat.created",
            "chat.updated",
            "chat.message_posted",
            "chat.removed"
        ]
    );
    let posted = got[2].json();
    assert_eq!(posted["data"]["chat"]["id"], chat.as_str());
    assert_eq!(posted["data"]["chat"]["title"], "Renamed");
    assert_eq!(posted["data"]["message"]["content"], "Where is my order? ✓");
    assert_eq!(posted["data"]["message"]["role"], "USER");
    assert_eq!(posted["data"]["actor"]["kind"], "API_KEY");
    assert!(
        posted["data"]["cursor"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(posted["timestamp"].as_str().is_some());
    assert_eq!(got[3].json()["data"]["chat"]["isRemoved"], true);
    let only_posts = posts
        .until("the posted message", |got| !got.is_empty())
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(posts.got().len(), 1, "{only_posts:?}");
    assert_eq!(only_posts[0].kind(), "chat.message_posted");

    // The reference library verifies every one; one changed byte fails.
    let mut requests: Vec<(HashMap<String, String>, String)> = got
        .iter()
        .map(|r| (r.headers.clone(), r.body.clone()))
        .collect();
    let mut tampered = requests[2].clone();
    tampered.1 = tampered.1.replacen("order", "ordex", 1);
    requests.push(tampered);
    let verdicts = verify(&secret, &requests).await;
    for verdict in &verdicts[..4] {
        assert_eq!(verdict["ok"], true, "{verdict}");
    }
    assert_eq!(verdicts[4]["ok"], false, "{}", verdicts[4]);
    assert_eq!(verdicts[2]["payload"]["type"], "chat.message_posted");

    // The API shows each delivery, acknowledged on its first attempt.
    let data = app
        .data(&w.key, DELIVERIES, json!({ "id": endpoint }))
        .await;
    let edges = data["webhookEndpoint"]["deliveries"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 4);
    for edge in edges {
        let node = &edge["node"];
        assert_eq!(node["status"], "DELIVERED", "{node}");
        assert_eq!(node["attempts"].as_array().unwrap().len(), 1);
        assert_eq!(node["attempts"][0]["httpStatus"], 200);
        assert!(got.iter().any(|r| r.id() == node["id"].as_str().unwrap()));
    }
    assert_eq!(
        edges[0]["node"]["eventType"], "chat.removed",
        "newest first"
    );

    // A rotation signs with both secrets for a while.
    let rotated = app
        .data(
            &w.key,
            "mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret endpoint { previousSecretExpiresAt } } }",
            json!({ "id": endpoint }),
        )
        .await;
    let new_secret = rotated["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    create_chat(&app, &w, "After the rotation").await;
    let got = receiver
        .until("the fifth event", |got| got.len() >= 5)
        .await;
    let last = (got[4].headers.clone(), got[4].body.clone());
    assert_eq!(got[4].headers["webhook-signature"].split(' ').count(), 2);
    for secret in [&secret, &new_secret] {
        let verdict = &verify(secret, std::slice::from_ref(&last)).await[0];
        assert_eq!(verdict["ok"], true, "{verdict}");
    }

    // A leaked secret is retired at once with no overlap; hours out of
    // range are refused and change nothing.
    let rotate = "mutation($id: UUID!, $hours: Int!) {
      rotateWebhookSecret(id: $id, previousSecretHours: $hours) { secret endpoint { previousSecretExpiresAt } } }";
    for hours in [-1, 25] {
        let body = app
            .gql(&w.key, rotate, json!({ "id": endpoint, "hours": hours }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            "previousSecretHours"
        );
    }
    let rotated = app
        .data(&w.key, rotate, json!({ "id": endpoint, "hours": 0 }))
        .await;
    assert_eq!(
        rotated["rotateWebhookSecret"]["endpoint"]["previousSecretExpiresAt"],
        Value::Null
    );
    let newest = rotated["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    create_chat(&app, &w, "After the second rotation").await;
    let got = receiver
        .until("the sixth event", |got| got.len() >= 6)
        .await;
    let last = (got[5].headers.clone(), got[5].body.clone());
    assert_eq!(got[5].headers["webhook-signature"].split(' ').count(), 1);
    let verdict = &verify(&newest, std::slice::from_ref(&last)).await[0];
    assert_eq!(verdict["ok"], true, "{verdict}");
    for retired in [&secret, &new_secret] {
        let verdict = &verify(retired, std::slice::from_ref(&last)).await[0];
        assert_eq!(verdict["ok"], false, "a retired secret still verifies");
    }
}

#[tokio::test]
async fn a_failing_delivery_is_retried_under_one_id_and_holds_back_only_its_own_chat() {
    let app = gateway(3).await;
    let w = app.world("Acme").await;
    // Chat "Slow"'s first event fails twice, then is acknowledged.
    let receiver = Receiver::start(|received, before| {
        let slow = received.json()["data"]["chat"]["title"] == "Slow";
        if slow && received.kind() == "chat.created" && before < 2 {
            Reply::Status(500)
        } else {
            Reply::Status(200)
        }
    })
    .await;
    let kinds = json!(["CREATED", "MESSAGE_POSTED"]);
    let (endpoint, _) = register(&app, &w.key, &receiver.url(), kinds, Value::Null).await;
    let slow = create_chat(&app, &w, "Slow").await;
    post_message(&app, &w, &slow, "one").await;
    post_message(&app, &w, &slow, "two").await;
    let fast = create_chat(&app, &w, "Fast").await;
    post_message(&app, &w, &fast, "three").await;

    // The other chat's events flow while the slow chat's first one fails.
    let got = receiver
        .until("the fast chat's events", |got| {
            got.iter().filter(|r| r.chat_id() == fast).count() == 2
        })
        .await;
    let slow_seen: Vec<&Received> = got.iter().filter(|r| r.chat_id() == slow).collect();
    assert!(
        slow_seen.iter().all(|r| r.kind() == "chat.created"),
        "a later event of the slow chat went out before its first: {slow_seen:#?}"
    );
    let got = receiver
        .until("the slow chat's events", |got| {
            got.iter().filter(|r| r.chat_id() == slow).count() == 5
        })
        .await;
    let slow_seen: Vec<&Received> = got.iter().filter(|r| r.chat_id() == slow).collect();
    let first = slow_seen[0].id();
    assert!(
        slow_seen[..3]
            .iter()
            .all(|r| r.id() == first && r.kind() == "chat.created")
    );
    let contents: Vec<Value> = slow_seen[3..]
        .iter()
        .map(|r| r.json()["data"]["message"]["content"].clone())
        .collect();
    assert_eq!(
        contents,
        [json!("one"), json!("two")],
        "in order, after the first"
    );

    let data = app
        .data(&w.key, DELIVERIES, json!({ "id": endpoint }))
        .await;
    let edges = data["webhookEndpoint"]["deliveries"]["edges"]
        .as_array()
        .unwrap();
    let retried = edges
        .iter()
        .map(|e| &e["node"])
        .find(|node| node["id"] == first)
        .unwrap();
    let statuses: Vec<&Value> = retried["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["httpStatus"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(200)]);
    assert_eq!(retried["status"], "DELIVERED");
    assert_eq!(data["webhookEndpoint"]["enabled"], true);

    // The metrics count each attempt, each acknowledged delivery's lag, and
    // nothing left pending.
    metrics_reach(
        &app,
        &[
            (r#"webhook_attempts_total{outcome="acknowledged"}"#, 5),
            (r#"webhook_attempts_total{outcome="http_error"}"#, 2),
            (r#"webhook_attempts_total{outcome="no_answer"}"#, 0),
            ("webhook_attempt_duration_seconds_count", 7),
            ("webhook_delivery_lag_seconds_count", 5),
            ("webhook_deliveries_pending", 0),
            (r#"webhook_endpoints{state="enabled"}"#, 1),
        ],
    )
    .await;
}

#[tokio::test]
async fn the_metrics_show_deliveries_waiting_for_a_retry_and_how_long() {
    let app = gateway_with(|c| {
        c.webhooks.webhook_retry_schedule = Schedule(vec![Duration::from_secs(600)]);
    })
    .await;
    let w = app.world("Acme").await;
    let receiver = Receiver::start(|_, _| Reply::Status(503)).await;
    register(
        &app,
        &w.key,
        &receiver.url(),
        json!(["CREATED"]),
        Value::Null,
    )
    .await;
    create_chat(&app, &w, "One").await;
    create_chat(&app, &w, "Two").await;
    // Both fail once and wait ten minutes for their retry.
    metrics_reach(
        &app,
        &[
            (r#"webhook_attempts_total{outcome="http_error"}"#, 2),
            ("webhook_deliveries_pending", 2),
        ],
    )
    .await;
    let waited: f64 = metric_as(
        &app.metrics_url(),
        "webhook_deliveries_oldest_pending_seconds",
    )
    .await;
    assert!(waited > 0.0 && waited < 600.0, "{waited}");
}

/// With more busy endpoints than the overall bound holds, each still gets
/// its turn: claims start one endpoint further along every round, so the
/// first in order cannot take every slot that frees while it has work.
#[tokio::test]
async fn busy_endpoints_beyond_the_overall_bound_take_turns() {
    // One send at a time over all, four claimed ahead: room for one
    // endpoint's claims only.
    let app = gateway_with(|c| {
        c.webhooks.webhook_concurrency = 1;
        c.webhooks.webhook_concurrency_per_endpoint = 1;
    })
    .await;
    let w = app.world("Acme").await;
    let arrivals: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let mut receivers = Vec::new();
    let mut endpoints = Vec::new();
    for name in ["a", "b"] {
        let arrivals = arrivals.clone();
        let receiver = Receiver::start(move |_, _| {
            arrivals.lock().unwrap().push(name);
            Reply::Slow(200, Duration::from_millis(100))
        })
        .await;
        let (id, _) = register(
            &app,
            &w.key,
            &receiver.url(),
            json!(["CREATED"]),
            Value::Null,
        )
        .await;
        receivers.push(receiver);
        endpoints.push(id);
    }
    // Every delivery waits before the first is claimed: both endpoints
    // are disabled while the chats are made, then enabled together.
    let enable = |enabled: bool| {
        format!(
            "mutation($a: UUID!, $b: UUID!) {{
               a: updateWebhookEndpoint(id: $a, input: {{ enabled: {enabled} }}) {{ id }}
               b: updateWebhookEndpoint(id: $b, input: {{ enabled: {enabled} }}) {{ id }} }}"
        )
    };
    let ids = json!({ "a": endpoints[0], "b": endpoints[1] });
    app.data(&w.key, &enable(false), ids.clone()).await;
    for n in 0..12 {
        create_chat(&app, &w, &format!("Chat {n}")).await;
    }
    app.data(&w.key, &enable(true), ids).await;
    // One more event wakes the worker with both enabled (its poll may have
    // come between the two updates and taken the first alone).
    create_chat(&app, &w, "Chat 12").await;
    for receiver in &receivers {
        receiver.until("all thirteen", |got| got.len() == 13).await;
    }
    // In a fixed order the other would wait until the first had claimed
    // all its thirteen; taking turns, it waits for the four the
    // first claimed at once, and a round or two more.
    let arrivals = arrivals.lock().unwrap().clone();
    let first = arrivals[0];
    let turn = arrivals.iter().position(|name| *name != first).unwrap();
    assert!(
        turn <= 6,
        "{first} had {turn} deliveries before the other got one: {arrivals:?}"
    );
}

/// An endpoint enabled while another drains its backlog is read at the
/// next poll, not when the drain ends: each settled delivery wakes the
/// worker, and the poll must still come due.
#[tokio::test]
async fn an_endpoint_enabled_during_another_ones_drain_is_not_kept_waiting() {
    let app = gateway_with(|c| c.webhooks.webhook_concurrency_per_endpoint = 1).await;
    let w = app.world("Acme").await;
    let arrivals: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let log = arrivals.clone();
    let busy = Receiver::start(move |_, _| {
        log.lock().unwrap().push("busy");
        Reply::Slow(200, Duration::from_millis(100))
    })
    .await;
    let log = arrivals.clone();
    let late = Receiver::start(move |_, _| {
        log.lock().unwrap().push("late");
        Reply::Status(200)
    })
    .await;
    let kinds = json!(["CREATED"]);
    register(&app, &w.key, &busy.url(), kinds.clone(), Value::Null).await;
    let (late_id, _) = register(&app, &w.key, &late.url(), kinds, Value::Null).await;
    let toggle = "mutation($id: UUID!, $on: Boolean!) {
      updateWebhookEndpoint(id: $id, input: { enabled: $on }) { id } }";
    app.data(&w.key, toggle, json!({ "id": late_id, "on": false }))
        .await;
    // Forty deliveries, one at a time: four seconds of settling.
    for n in 0..40 {
        create_chat(&app, &w, &format!("Chat {n}")).await;
    }
    busy.until("the drain under way", |got| !got.is_empty())
        .await;
    app.data(&w.key, toggle, json!({ "id": late_id, "on": true }))
        .await;
    late.until("the late endpoint's first", |got| !got.is_empty())
        .await;
    let arrivals = arrivals.lock().unwrap().clone();
    let before = arrivals.iter().filter(|name| **name == "busy").count();
    assert!(
        before < 40,
        "the late endpoint waited for the whole drain: {arrivals:?}"
    );
}

/// Webhook management as a web app does it (conformance/webhooks.mjs):
/// Apollo Client registers, lists, pages deliveries, disables (the cached
/// list follows the mutation's result) and meets a refused URL under both
/// error policies; graphql-ws rotates the secret over the socket.
#[tokio::test]
async fn apollo_client_and_graphql_ws_manage_endpoints_as_a_web_app_does() {
    let app = gateway(1).await;
    let w = app.world("Acme").await;
    let receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let args = vec![
        app.url("/graphql"),
        w.key.clone(),
        receiver.url(),
        w.channels[0].id.to_string(),
        w.customer.super_identity_id.to_string(),
    ];
    let (findings, stderr, _) = crate::conformance::run_node("webhooks.mjs", args).await;
    assert_eq!(findings["error"], Value::Null, "{findings}\n{stderr}");
    assert_eq!(findings["warnings"], json!([]), "{findings}");
    assert_eq!(findings["secretPrefix"], "whsec_");
    let endpoint = &findings["endpoint"];
    assert_eq!(findings["listed"], json!([endpoint]), "{findings}");
    assert_eq!(endpoint["__typename"], "WebhookEndpoint");

    // Newest first, one a page, each acknowledged once.
    let chats = &findings["chats"];
    let pages = findings["pages"].as_array().unwrap();
    for (page, chat, more) in [(&pages[0], &chats[1], true), (&pages[1], &chats[0], false)] {
        let node = &page["edges"][0]["node"];
        assert_eq!(node["chatId"], *chat, "{page}");
        assert_eq!(node["eventType"], "chat.created");
        assert_eq!(
            node["attempts"],
            json!([{ "httpStatus": 200, "__typename": "WebhookAttempt" }])
        );
        assert_eq!(page["pageInfo"]["hasNextPage"], more, "{page}");
    }

    assert_eq!(
        findings["cachedAfterDisable"][0]["enabled"], false,
        "the cached list did not follow the mutation: {findings}"
    );
    let refused = &findings["refusedAll"];
    assert_eq!(refused["data"], Value::Null, "{refused}");
    assert_eq!(
        refused["errors"],
        json!([{ "code": "BAD_USER_INPUT", "field": "input.url", "path": ["createWebhookEndpoint"] }])
    );
    assert_eq!(findings["refusedThrew"], "CombinedGraphQLErrors");
    assert_eq!(findings["afterRefusals"], 1, "a refused URL was registered");

    // The socket refuses what HTTP refuses, the same way.
    let refused = &findings["rotateRefused"];
    assert_eq!(refused["data"], Value::Null, "{refused}");
    assert_eq!(error_code(refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "previousSecretHours"
    );
    let rotated = &findings["rotated"]["data"]["rotateWebhookSecret"];
    assert!(
        rotated["secret"].as_str().unwrap().starts_with("whsec_"),
        "{findings}"
    );
    assert_eq!(rotated["endpoint"]["id"], endpoint["id"]);
    assert_eq!(rotated["endpoint"]["previousSecretExpiresAt"], Value::Null);
}

/// Waits until each metric of the gateway reads its value; fails naming
/// those that do not after a while (a bound against hanging, not a speed
/// check: attempts are counted when their answer arrives, a moment after
/// the receiver saw them).
async fn metrics_reach(app: &TestApp, expected: &[(&str, u64)]) {
    let read = || async {
        let mut now = Vec::new();
        for (name, _) in expected {
            now.push((*name, metric(&app.metrics_url(), name).await));
        }
        now
    };
    for _ in 0..300 {
        if read().await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(read().await, expected);
}

#[tokio::test]
async fn a_receiver_that_hangs_is_retried_and_one_that_answers_410_is_disabled_at_once() {
    let app = gateway(1).await;
    let w = app.world("Acme").await;
    let hangs = Receiver::start(|_, _| Reply::Hang).await;
    let gone = Receiver::start(|_, _| Reply::Status(410)).await;
    let healthy = Receiver::start(|_, _| Reply::Status(200)).await;
    // A redirect is not followed: to the healthy receiver, it would arrive
    // there twice.
    let to = healthy.addr;
    let redirects = Receiver::start(move |_, _| Reply::Redirect(to)).await;
    let kinds = json!(["CREATED"]);
    let (redirecting, _) =
        register(&app, &w.key, &redirects.url(), kinds.clone(), Value::Null).await;
    let (hanging, _) = register(&app, &w.key, &hangs.url(), kinds.clone(), Value::Null).await;
    let (gone_id, _) = register(&app, &w.key, &gone.url(), kinds.clone(), Value::Null).await;
    register(&app, &w.key, &healthy.url(), kinds, Value::Null).await;
    create_chat(&app, &w, "One").await;

    // A slow endpoint holds up no other.
    healthy
        .until("the healthy endpoint's event", |got| got.len() == 1)
        .await;
    gone.until("the 410", |got| got.len() == 1).await;
    hangs.until("both attempts", |got| got.len() == 2).await;
    let state = |id: String| {
        let app = &app;
        let key = w.key.clone();
        async move {
            for _ in 0..100 {
                let data = app.data(&key, DELIVERIES, json!({ "id": id })).await;
                if data["webhookEndpoint"]["enabled"] == false {
                    return data["webhookEndpoint"].clone();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("endpoint {id} stayed enabled");
        }
    };
    let gone_state = state(gone_id).await;
    let reason = gone_state["disabledReason"].as_str().unwrap();
    assert!(reason.contains("410"), "{reason}");
    let delivery = &gone_state["deliveries"]["edges"][0]["node"];
    assert_eq!(delivery["status"], "FAILED");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);

    // The hanging one: two attempts that timed out, then disabled.
    let hung = state(hanging).await;
    let attempts = hung["deliveries"]["edges"][0]["node"]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 2, "{hung}");
    for attempt in &attempts {
        assert_eq!(attempt["httpStatus"], Value::Null);
        assert_eq!(attempt["error"], "no answer within 2 s", "{attempt}");
    }
    let reason = hung["disabledReason"].as_str().unwrap();
    assert!(reason.contains("whole retry schedule"), "{reason}");
    // Disabled, it gets nothing new.
    create_chat(&app, &w, "Two").await;
    healthy
        .until("the second event", |got| got.len() == 2)
        .await;
    assert_eq!(gone.got().len(), 1);
    let redirected = state(redirecting).await;
    // Its oldest delivery (newest first): chat One's.
    let edges = redirected["deliveries"]["edges"].as_array().unwrap();
    let attempts = edges.last().unwrap()["node"]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 2, "{redirected}");
    for attempt in &attempts {
        assert_eq!(attempt["httpStatus"], 307);
        assert_eq!(attempt["error"], "redirects are not followed");
    }
    assert_eq!(healthy.got().len(), 2, "a redirect was followed");
    metrics_reach(
        &app,
        &[
            (r#"webhook_attempts_total{outcome="acknowledged"}"#, 2),
            (r#"webhook_attempts_total{outcome="gone"}"#, 1),
            (r#"webhook_attempts_total{outcome="http_error"}"#, 2),
            (r#"webhook_attempts_total{outcome="no_answer"}"#, 2),
            ("webhook_deliveries_pending", 0),
            (r#"webhook_endpoints{state="enabled"}"#, 1),
            (r#"webhook_endpoints{state="disabled"}"#, 3),
        ],
    )
    .await;
}

#[tokio::test]
async fn internal_addresses_are_refused_when_registered_and_when_connecting() {
    let app = TestApp::spawn_with(|c| c.webhooks.webhook_allow_http = true).await;
    let w = app.world("Acme").await;
    let receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let port = receiver.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.8/hook".to_owned(),
        "ftp://example.com/hook".to_owned(),
        "http://user:pass@example.com/hook".to_owned(),
    ] {
        let before = app.snapshot().await;
        let body = app
            .gql(
                &w.key,
                CREATE_ENDPOINT,
                json!({ "input": { "url": url, "eventKinds": ["CREATED"] } }),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "input.url",
            "{body}"
        );
        assert_eq!(app.snapshot().await, before);
    }
    let refused = app
        .gql(
            &w.key,
            CREATE_ENDPOINT,
            json!({ "input": { "url": format!("http://localhost:{port}/hook"), "eventKinds": ["CREATED"] } }),
        )
        .await;
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("127.0.0.1") || message.contains("::1"),
        "{message}"
    );

    // Without --webhook-allow-http, only https.
    let strict = TestApp::spawn().await;
    let w2 = strict.world("Strict").await;
    let body = strict
        .gql(
            &w2.key,
            CREATE_ENDPOINT,
            json!({ "input": { "url": "http://example.com/hook", "eventKinds": ["CREATED"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("https")
    );

    // A name that resolved elsewhere when registered and to loopback now
    // (DNS rebinding): the sender's resolver refuses it at connect time.
    use entity::webhook_endpoint;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let now = chrono::Utc::now();
    let newest = chat_gateway::service::events::start_position(&app.db)
        .await
        .unwrap();
    let rebound = webhook_endpoint::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        workspace_id: Set(w.workspace_id),
        url: Set(format!("http://localhost:{port}/hook")),
        description: Set(None),
        event_kinds: Set("created".into()),
        filter: Set(None),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        cursor_tx: Set(newest.tx),
        cursor_seq: Set(newest.seq),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    create_chat(&app, &w, "Rebound").await;
    let mut seen = Value::Null;
    for _ in 0..100 {
        let data = app
            .data(&w.key, DELIVERIES, json!({ "id": rebound.id }))
            .await;
        seen = data["webhookEndpoint"]["deliveries"]["edges"][0]["node"]["attempts"][0].clone();
        if !seen.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let error = seen["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no attempt: {seen}"));
    assert!(error.contains("--webhook-allow-private"), "{error}");
    assert!(receiver.got().is_empty(), "the request reached loopback");
}

#[tokio::test]
async fn another_workspace_never_sees_manages_or_receives_this_ones_webhooks() {
    let app = gateway(1).await;
    let acme = app.world("Acme").await;
    let other = app.world("Other").await;
    let acme_receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let other_receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let kinds = json!(["CREATED", "MESSAGE_POSTED"]);
    let (acme_endpoint, _) = register(
        &app,
        &acme.key,
        &acme_receiver.url(),
        kinds.clone(),
        Value::Null,
    )
    .await;
    register(&app, &other.key, &other_receiver.url(), kinds, Value::Null).await;
    let chat = create_chat(&app, &acme, "Acme's").await;
    post_message(&app, &acme, &chat, "private").await;
    let got = acme_receiver
        .until("Acme's events", |got| got.len() == 2)
        .await;
    let delivery = got[0].id().to_owned();

    let listed = app
        .data(&other.key, "{ webhookEndpoints { id url } }", json!({}))
        .await;
    assert_eq!(listed["webhookEndpoints"].as_array().unwrap().len(), 1);
    assert_ne!(listed["webhookEndpoints"][0]["id"], acme_endpoint.as_str());
    for (query, variables) in [
        (
            "query($id: UUID!) { webhookEndpoint(id: $id) { id } }",
            json!({ "id": acme_endpoint }),
        ),
        (
            "mutation($id: UUID!) { updateWebhookEndpoint(id: $id, input: { enabled: false }) { id } }",
            json!({ "id": acme_endpoint }),
        ),
        (
            "mutation($id: UUID!) { removeWebhookEndpoint(id: $id) { id } }",
            json!({ "id": acme_endpoint }),
        ),
        (
            "mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }",
            json!({ "id": acme_endpoint }),
        ),
        (
            "mutation($id: UUID!) { redeliverWebhook(deliveryId: $id) { id } }",
            json!({ "id": delivery }),
        ),
    ] {
        let before = app.snapshot().await;
        let body = app.gql(&other.key, query, variables).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{query}: {body}");
        assert_eq!(app.snapshot().await, before);
    }
    // A cursor of Acme's opens for Acme only.
    let cursor = got[0].json()["data"]["cursor"].as_str().unwrap().to_owned();
    let other_endpoint = listed["webhookEndpoints"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app
        .gql(
            &other.key,
            "mutation($id: UUID!, $after: String!) { replayWebhookEndpoint(id: $id, after: $after) { id } }",
            json!({ "id": other_endpoint, "after": cursor }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        other_receiver.got().is_empty(),
        "{:?}",
        other_receiver.got()
    );
    // Its endpoint passed our events without a delivery; its own still come.
    let theirs = create_chat(&app, &other, "Other's").await;
    let got = other_receiver
        .until("the other workspace's own event", |got| !got.is_empty())
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].chat_id(), theirs);

    // Managing webhooks needs its own scope.
    let scoped = api_key::create(
        &app.db,
        acme.workspace_id,
        "reader",
        Some("chats:read chats:write"),
    )
    .await
    .map_err(|e| e.into_anyhow())
    .unwrap()
    .key;
    let body = app
        .gql(&scoped, "{ webhookEndpoints { id } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn a_replay_sends_again_every_event_after_a_cursor_as_new_deliveries() {
    let app = gateway(1).await;
    let w = app.world("Acme").await;
    let receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let (endpoint, _) = register(
        &app,
        &w.key,
        &receiver.url(),
        json!(["CREATED"]),
        Value::Null,
    )
    .await;
    for title in ["a", "b", "c"] {
        create_chat(&app, &w, title).await;
    }
    let got = receiver.until("three events", |got| got.len() == 3).await;
    let after = got[0].json()["data"]["cursor"].as_str().unwrap().to_owned();
    app.data(
        &w.key,
        "mutation($id: UUID!, $after: String!) { replayWebhookEndpoint(id: $id, after: $after) { id } }",
        json!({ "id": endpoint, "after": after }),
    )
    .await;
    let got = receiver.until("the replay", |got| got.len() == 5).await;
    let titles: Vec<Value> = got
        .iter()
        .map(|r| r.json()["data"]["chat"]["title"].clone())
        .collect();
    assert_eq!(
        titles,
        [json!("a"), json!("b"), json!("c"), json!("b"), json!("c")]
    );
    assert_ne!(got[3].id(), got[1].id(), "a replay is a new delivery");

    // A redelivery keeps its webhook-id.
    let first = got[0].id().to_owned();
    app.data(
        &w.key,
        "mutation($id: UUID!) { redeliverWebhook(deliveryId: $id) { status } }",
        json!({ "id": first }),
    )
    .await;
    let got = receiver.until("the redelivery", |got| got.len() == 6).await;
    assert_eq!(got[5].id(), first);
}

/// Creates a chat titled `title` through the gateway at `addr`, retrying
/// with one idempotency key until it answers (through a database
/// restart, a retry must not create it twice).
async fn create_through(addr: SocketAddr, w: &World, title: &str) {
    let client = reqwest::Client::new();
    let body = json!({
        "query": "mutation($input: CreateChatInput!, $key: String) {
                    createChat(input: $input, idempotencyKey: $key) { id } }",
        "variables": { "key": title, "input": {
            "channelId": w.channels[0].id,
            "ownerSuperIdentityId": w.customer.super_identity_id,
            "title": title,
        } },
    });
    for _ in 0..300 {
        let sent = client
            .post(format!("http://{addr}/graphql"))
            .bearer_auth(&w.key)
            .json(&body)
            .send()
            .await;
        if let Ok(response) = sent
            && let Ok(answer) = response.json::<Value>().await
            && answer["data"]["createChat"]["id"].is_string()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("could not create {title}");
}

#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=... cargo test -- --include-ignored"]
async fn two_replicas_share_deliveries_through_a_database_outage_under_one_id_per_event() {
    fn allow(c: &mut chat_gateway::config::Config) {
        c.webhooks.webhook_allow_http = true;
        c.webhooks.webhook_allow_private = true;
        c.webhooks.webhook_retry_schedule = Schedule(vec![Duration::from_secs(1); 10]);
        c.webhooks.webhook_timeout_secs = 2;
    }
    let app = TestApp::spawn_with(allow).await;
    assert!(app.is_postgres(), "needs PostgreSQL: set TEST_DATABASE_URL");
    let replica = app.replica_with(allow).await;
    let w = app.world("Acme").await;
    // Every tenth chat's first attempt fails, so deliveries are due again
    // while the database goes away.
    let receiver = Receiver::start(|received, before| {
        let title = received.json()["data"]["chat"]["title"]
            .as_str()
            .unwrap()
            .to_owned();
        if before == 0 && title.ends_with('0') {
            Reply::Status(503)
        } else {
            Reply::Status(200)
        }
    })
    .await;
    register(
        &app,
        &w.key,
        &receiver.url(),
        json!(["CREATED"]),
        Value::Null,
    )
    .await;
    let gateways = [app.addr, replica.addr];
    for i in 0..20 {
        create_through(gateways[i % 2], &w, &format!("chat {i}")).await;
    }
    // As a restart does: every connection of the database is cut, the
    // gateways' pools, listeners and webhook workers alike, and for three
    // seconds none can be made (the admin's connection does it: a database
    // cannot close itself to connections). Half the writes go meanwhile.
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(std::env::var("TEST_DATABASE_URL").unwrap())
        .await
        .unwrap();
    let url = app.database_url();
    let name = url.rsplit('/').next().unwrap();
    let allow = |on: bool| format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {on}");
    admin.execute_unprepared(&allow(false)).await.unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let writes = async {
        for i in 20..40 {
            create_through(gateways[i % 2], &w, &format!("chat {i}")).await;
        }
    };
    let outage = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        admin.execute_unprepared(&allow(true)).await.unwrap();
    };
    tokio::join!(writes, outage);
    let titles = |got: &[Received]| -> HashMap<String, Vec<String>> {
        let mut ids: HashMap<String, Vec<String>> = HashMap::new();
        for r in got {
            let title = r.json()["data"]["chat"]["title"]
                .as_str()
                .unwrap()
                .to_owned();
            ids.entry(title).or_default().push(r.id().to_owned());
        }
        ids
    };
    receiver
        .until("every chat's event, acknowledged", |got| {
            let ids = titles(got);
            (0..40).all(|i| {
                let title = format!("chat {i}");
                let needed = if title.ends_with('0') { 2 } else { 1 };
                ids.get(&title).is_some_and(|ids| ids.len() >= needed)
            })
        })
        .await;
    // Let anything sent twice arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ids = titles(&receiver.got());
    assert_eq!(ids.len(), 40, "{ids:?}");
    for (title, sent) in &ids {
        let distinct: std::collections::HashSet<&String> = sent.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{title} went out under several ids: {sent:?}"
        );
        let failed_first = usize::from(title.ends_with('0'));
        assert!(
            sent.len() > failed_first,
            "{title} was never acknowledged: {sent:?}"
        );
    }
    let repeats: usize = ids
        .iter()
        .map(|(title, sent)| sent.len() - 1 - usize::from(title.ends_with('0')))
        .sum();
    eprintln!("acknowledged deliveries sent again: {repeats}");
}

#[tokio::test]
async fn a_filtered_endpoint_gets_its_chats_events_and_left_filter_when_one_leaves_it() {
    let app = gateway(1).await;
    let w = app.world("Acme").await;
    let receiver = Receiver::start(|_, _| Reply::Status(200)).await;
    let filter = json!({ "responderSuperIdentityIds": [w.agent.super_identity_id] });
    let kinds = json!(["CREATED", "UPDATED", "LEFT_FILTER"]);
    let (endpoint, _) = register(&app, &w.key, &receiver.url(), kinds, filter).await;
    let create = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
    let mut chats = Vec::new();
    for (title, responder) in [
        ("Agent's", w.agent.super_identity_id),
        ("Squad's", w.squad.super_identity_id),
    ] {
        let data = app
            .data(
                &w.key,
                create,
                json!({ "input": {
                    "channelId": w.channels[0].id,
                    "ownerSuperIdentityId": w.customer.super_identity_id,
                    "responderSuperIdentityId": responder,
                    "title": title,
                } }),
            )
            .await;
        chats.push(data["createChat"]["id"].as_str().unwrap().to_owned());
    }
    let update = "mutation($id: UUID!, $input: UpdateChatInput!) { updateChat(id: $id, input: $input) { id } }";
    for chat in &chats {
        app.data(
            &w.key,
            update,
            json!({ "id": chat, "input": { "title": "Renamed" } }),
        )
        .await;
    }
    app.data(
        &w.key,
        update,
        json!({ "id": chats[0], "input": { "responderSuperIdentityId": w.squad.super_identity_id } }),
    )
    .await;
    receiver.until("three events", |got| got.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = receiver.got();
    let seen: Vec<(String, String)> = got.iter().map(|r| (r.chat_id(), r.kind())).collect();
    assert_eq!(
        seen,
        [
            (chats[0].clone(), "chat.created".to_owned()),
            (chats[0].clone(), "chat.updated".to_owned()),
            (chats[0].clone(), "chat.left_filter".to_owned()),
        ],
        "the squad's chat is never in the filter"
    );
    // The API lists each delivery under the type it was sent as.
    let listed = app
        .data(&w.key, DELIVERIES, json!({ "id": endpoint }))
        .await;
    let types: Vec<&str> = listed["webhookEndpoint"]["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["chat.left_filter", "chat.updated", "chat.created"],
        "newest first"
    );
    let stored = app
        .data(
            &w.key,
            "{ webhookEndpoints { filter eventKinds } }",
            json!({}),
        )
        .await;
    let filter: Value =
        serde_json::from_str(stored["webhookEndpoints"][0]["filter"].as_str().unwrap()).unwrap();
    assert_eq!(
        filter["responderSuperIdentityIds"][0],
        w.agent.super_identity_id.to_string()
    );
    assert_eq!(
        stored["webhookEndpoints"][0]["eventKinds"],
        json!(["CREATED", "UPDATED", "LEFT_FILTER"])
    );
    // A search cannot filter events, RESYNC_REQUIRED is no webhook event,
    // and a list longer than the five kinds repeats itself. None is kept.
    for (input, field) in [
        (
            json!({ "url": receiver.url(), "eventKinds": ["CREATED"], "filter": { "search": "refund" } }),
            "input.filter.search",
        ),
        (
            json!({ "url": receiver.url(), "eventKinds": ["RESYNC_REQUIRED"] }),
            "input.eventKinds",
        ),
        (
            json!({ "url": receiver.url(), "eventKinds": [] }),
            "input.eventKinds",
        ),
        (
            json!({ "url": receiver.url(), "eventKinds": vec!["CREATED"; 6] }),
            "input.eventKinds",
        ),
    ] {
        let body = app
            .gql(&w.key, CREATE_ENDPOINT, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let listed = app
        .data(&w.key, "{ webhookEndpoints { id } }", json!({}))
        .await;
    assert_eq!(listed["webhookEndpoints"].as_array().unwrap().len(), 1);
}

/// The ```LANG block of the README's "### Webhooks" section.
fn readme_block(lang: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme.find("\n### Webhooks\n").expect("a Webhooks section")..];
    let start = section.find(&format!("```{lang}\n")).expect("the block") + lang.len() + 4;
    section[start..start + section[start..].find("```\n").unwrap()].to_owned()
}

/// A Python with the reference `standardwebhooks` package, made once in
/// target/.
fn python_with_standardwebhooks() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("webhook-python");
    let python = venv.join("bin/python");
    let lock = std::fs::File::create(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("webhook-python.lock"),
    )
    .unwrap();
    lock.lock().unwrap();
    if !venv.join("ready").exists() {
        let made = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 runs (Python is needed)");
        assert!(made.success(), "python3 -m venv failed");
        let installed = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "standardwebhooks==1.3.0"])
            .status()
            .unwrap();
        assert!(installed.success(), "pip install standardwebhooks failed");
        std::fs::write(venv.join("ready"), "").unwrap();
    }
    python
}

/// A process that prints one JSON line per verified delivery.
struct Snippet {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    port: u16,
}

impl Snippet {
    async fn start(mut command: tokio::process::Command, secret: &str, port: u16) -> Self {
        use tokio::io::AsyncBufReadExt;
        let mut child = command
            .env("WEBHOOK_SECRET", secret)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the snippet starts");
        let lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self { child, lines, port };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the snippet never listened on {port}");
    }

    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("a verified delivery within a minute")
            .unwrap()
            .expect("the snippet is still running");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_readmes_node_and_python_receivers_verify_real_deliveries() {
    let app = gateway(3).await;
    let w = app.world("Acme").await;
    let register = readme_block("graphql");
    let python = tokio::task::spawn_blocking(python_with_standardwebhooks)
        .await
        .unwrap();
    tokio::task::spawn_blocking(crate::conformance::install_audit)
        .await
        .unwrap();
    let mut receivers = Vec::new();
    for lang in ["js", "python"] {
        let port = free_port();
        // The README's registration, pointed at this receiver.
        let mutation = register.replace(
            "https://crm.example.com/hooks/chat-gateway",
            &format!("http://127.0.0.1:{port}/"),
        );
        let data = app.data(&w.key, &mutation, json!({})).await;
        let secret = data["createWebhookEndpoint"]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        let command = if lang == "js" {
            let mut node = tokio::process::Command::new("node");
            node.arg("webhook-receiver.mjs").current_dir(CONFORMANCE);
            node
        } else {
            let script = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("webhook-receiver-{port}.py"));
            std::fs::write(&script, readme_block("python")).unwrap();
            let mut py = tokio::process::Command::new(&python);
            py.arg(script);
            py
        };
        receivers.push(Snippet::start(command, &secret, port).await);
    }
    // The README's filter takes WhatsApp chats only.
    let whatsapp = w
        .channels
        .iter()
        .find(|c| c.channel_type == entity::enums::ChannelType::Whatsapp)
        .unwrap();
    for channel in [w.channels[0].id, whatsapp.id] {
        let data = app
            .data(
                &w.key,
                "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }",
                json!({ "input": { "channelId": channel, "ownerSuperIdentityId": w.customer.super_identity_id } }),
            )
            .await;
        let chat = data["createChat"]["id"].as_str().unwrap().to_owned();
        post_message(&app, &w, &chat, "Hi, my parcel has not arrived").await;
    }
    for receiver in &mut receivers {
        let created = receiver.next().await;
        assert_eq!(created["type"], "chat.created", "{created}");
        assert!(created["id"].as_str().is_some_and(|id| !id.is_empty()));
        let posted = receiver.next().await;
        assert_eq!(posted["type"], "chat.message_posted", "{posted}");
        // A forged request is refused.
        let forged = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/", receiver.port))
            .header("webhook-id", "msg_forged")
            .header(
                "webhook-timestamp",
                chrono::Utc::now().timestamp().to_string(),
            )
            .header("webhook-signature", "v1,Zm9yZ2Vk")
            .body(r#"{"type":"chat.created"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    }
    for receiver in &mut receivers {
        let _ = receiver.child.kill().await;
    }
}
