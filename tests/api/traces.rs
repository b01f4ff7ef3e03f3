//! Traces: the gateway binary exports to an OTLP/HTTP receiver on
//! loopback inside the test, which decodes each protobuf batch. A request
//! that sends `traceparent` gets spans in that trace, named and with the
//! attributes the README documents, and never a variable's value or a
//! key; a write's delivery to subscribers links to the write's trace; an
//! unsampled trace is not exported.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, extract::State, routing};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{AnyValue, KeyValue, any_value::Value as Any},
    trace::v1::Span,
};
use prost::Message;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, World, metric},
    socket::Socket,
};

const BIN: &str = env!("CARGO_BIN_EXE_chat-gateway");

/// What the receiver was sent: each span with its resource's service name.
type Received = Arc<Mutex<Vec<(String, Span)>>>;

/// An OTLP/HTTP traces endpoint on loopback; returns its base URL.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    async fn traces(State(received): State<Received>, body: Bytes) -> &'static [u8] {
        let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf request");
        let mut received = received.lock().unwrap();
        for resource in request.resource_spans {
            let attributes = resource.resource.map(|r| r.attributes).unwrap_or_default();
            let service = text(&attributes, "service.name").unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    received.push((service.clone(), span));
                }
            }
        }
        // An empty ExportTraceServiceResponse.
        b""
    }
    let app = Router::new()
        .route("/v1/traces", routing::post(traces))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn text(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|a| a.key == key).and_then(|a| {
        match a.value.as_ref()?.value.as_ref()? {
            Any::StringValue(text) => Some(text.clone()),
            Any::IntValue(n) => Some(n.to_string()),
            other => Some(format!("{other:?}")),
        }
    })
}

/// Every attribute value of `span`, as text.
fn values(span: &Span) -> Vec<String> {
    span.attributes
        .iter()
        .filter_map(|a| match a.value.as_ref() {
            Some(AnyValue { value: Some(value) }) => Some(format!("{value:?}")),
            _ => None,
        })
        .collect()
}

/// The gateway binary on `app`'s database, exporting to `endpoint`.
struct Gateway {
    child: Child,
    url: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(app: &TestApp, endpoint: &str, ratio: &str) -> Gateway {
    serve_with(app, endpoint, ratio, &[])
}

fn serve_with(app: &TestApp, endpoint: &str, ratio: &str, more: &[&str]) -> Gateway {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-demo",
            "--log-format",
            "json",
        ])
        .args(["--otlp-endpoint", endpoint, "--otlp-sampling-ratio", ratio])
        .args(more)
        .env("DATABASE_URL", app.database_url())
        .env("OTEL_SERVICE_NAME", "gateway-under-test")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    // Held from here, so that a failed start is killed too.
    let mut gateway = Gateway {
        child,
        url: String::new(),
    };
    for line in stderr.lines() {
        let line: Value = serde_json::from_str(&line.unwrap()).expect("JSON log lines");
        if line["message"] == "listening" {
            gateway.url = line["url"].as_str().expect("a listening url").to_owned();
            return gateway;
        }
    }
    panic!("no listening line");
}

/// Waits until `received` holds spans that `done` is satisfied with.
async fn spans_until(received: &Received, done: impl Fn(&[(String, Span)]) -> bool) {
    let patience = Instant::now() + Duration::from_secs(30);
    loop {
        if done(&received.lock().unwrap()) {
            return;
        }
        assert!(Instant::now() < patience, "spans never came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER: &str = "00f067aa0ba902b7";
const MARKER: &str = "variable-value-never-exported";

async fn post(gateway: &Gateway, key: &str, traceparent: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(&gateway.url)
        .bearer_auth(key)
        .json(&body);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    request.send().await.unwrap().json().await.unwrap()
}

fn create(w: &World) -> Value {
    json!({
        "query": "mutation Open($input: CreateChatInput!) { createChat(input: $input) { id } }",
        "variables": {"input": {
            "channelId": w.channels[0].id,
            "ownerSuperIdentityId": w.customer.super_identity_id,
            "title": MARKER,
        }},
    })
}

#[tokio::test]
async fn a_callers_trace_is_continued_with_operation_field_and_statement_spans() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let (endpoint, received) = receiver().await;
    let gateway = serve(&app, &endpoint, "1.0");

    // A subscriber, so that the write's event is delivered.
    let mut socket = Socket::ready_at(&gateway.url, &w.key).await;
    socket
        .subscribe("s", "subscription { chatEvents { cursor } }", json!({}))
        .await;
    // Until it is attached: a write's event then reaches it.
    let mut written = None;
    for attempt in 0.. {
        let traceparent = format!("00-{TRACE}-{CALLER}-01");
        let created = post(&gateway, &w.key, Some(&traceparent), create(&w)).await;
        written.get_or_insert(created["data"]["createChat"]["id"].clone());
        let delivered = tokio::time::timeout(Duration::from_millis(500), socket.next("s")).await;
        if delivered.is_ok() {
            break;
        }
        assert!(attempt < 40, "the subscription never attached");
    }
    // An operation over the socket is a trace of its own, spans alike.
    socket
        .subscribe("q", "query OverSocket { chats { totalCount } }", json!({}))
        .await;
    socket.next("q").await;
    let query = json!({
        "query": "query Inbox($search: String) { chats(filter: { search: $search }) { totalCount items { id owner { __typename } } } }",
        "variables": {"search": MARKER},
    });
    let traceparent = format!("00-{TRACE}-{CALLER}-01");
    let listed = post(&gateway, &w.key, Some(&traceparent), query).await;
    assert!(
        listed["data"]["chats"]["totalCount"].is_number(),
        "{listed}"
    );

    let names_in_trace = |spans: &[(String, Span)]| -> Vec<String> {
        spans
            .iter()
            .filter(|(_, span)| hex::encode(&span.trace_id) == TRACE)
            .map(|(_, span)| span.name.clone())
            .collect()
    };
    spans_until(&received, |spans| {
        let names = names_in_trace(spans);
        names.iter().any(|n| n == "query Inbox")
            && names.iter().any(|n| n == "mutation Open")
            && spans.iter().any(|(_, s)| s.name == "query OverSocket")
            && spans.iter().any(|(_, s)| s.name == "deliver chat events")
    })
    .await;
    // What a batch or two later brings too.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let spans = received.lock().unwrap().clone();
    let in_trace: Vec<&Span> = spans
        .iter()
        .filter(|(_, span)| hex::encode(&span.trace_id) == TRACE)
        .map(|(_, span)| span)
        .collect();
    assert!(
        spans
            .iter()
            .all(|(service, _)| service == "gateway-under-test"),
        "OTEL_SERVICE_NAME is the service's name"
    );
    let named = |name: &str| -> Vec<&Span> {
        in_trace
            .iter()
            .copied()
            .filter(|span| span.name == name)
            .collect()
    };

    // The server span of each request is a child of the caller's span.
    let requests = named("POST /graphql");
    assert!(requests.len() >= 2, "{:?}", names_in_trace(&spans));
    for request in &requests {
        assert_eq!(hex::encode(&request.parent_span_id), CALLER);
        assert_eq!(request.kind, 2, "a server span");
        assert_eq!(
            text(&request.attributes, "http.request.method").as_deref(),
            Some("POST")
        );
        assert_eq!(
            text(&request.attributes, "url.path").as_deref(),
            Some("/graphql")
        );
        assert_eq!(
            text(&request.attributes, "http.response.status_code").as_deref(),
            Some("200")
        );
    }
    // The operation under its request, with its name and type.
    let operation = named("query Inbox");
    let [operation] = operation.as_slice() else {
        panic!("one operation span: {:?}", names_in_trace(&spans));
    };
    assert!(
        requests
            .iter()
            .any(|r| r.span_id == operation.parent_span_id)
    );
    let attribute = |span: &Span, key| text(&span.attributes, key);
    assert_eq!(
        attribute(operation, "graphql.operation.name").as_deref(),
        Some("Inbox")
    );
    assert_eq!(
        attribute(operation, "graphql.operation.type").as_deref(),
        Some("query")
    );
    // Its root field, and the statements below it.
    let field = named("Query.chats");
    let [field] = field.as_slice() else {
        panic!("one root field span: {:?}", names_in_trace(&spans));
    };
    assert_eq!(field.parent_span_id, operation.span_id);
    let statements: Vec<&Span> = in_trace
        .iter()
        .copied()
        .filter(|span| attribute(span, "db.statement").is_some())
        .collect();
    let system = if app.is_postgres() {
        "postgresql"
    } else {
        "sqlite"
    };
    assert!(
        statements.iter().any(|s| s.parent_span_id == field.span_id
            && attribute(s, "db.system").as_deref() == Some(system)),
        "no statement under Query.chats: {:?}",
        names_in_trace(&spans)
    );
    // The owners come from a batched load, in the same trace.
    assert!(
        in_trace.iter().any(|s| s.name == "load OwnerLoader") || statements.len() >= 2,
        "{:?}",
        names_in_trace(&spans)
    );
    // Never a variable's value, nor the key, in any span of any trace.
    let secret = w.key.rsplit('_').next().unwrap();
    for (_, span) in &spans {
        for value in values(span) {
            assert!(
                !value.contains(MARKER),
                "{} carries a variable: {value}",
                span.name
            );
            assert!(!value.contains(secret), "{} carries the key", span.name);
        }
    }
    // Over the socket: the operation, its root field and its statement.
    let socket_op = spans
        .iter()
        .map(|(_, span)| span)
        .find(|span| span.name == "query OverSocket")
        .unwrap();
    assert_eq!(
        attribute(socket_op, "graphql.operation.name").as_deref(),
        Some("OverSocket")
    );
    let below: Vec<&Span> = spans
        .iter()
        .map(|(_, span)| span)
        .filter(|span| span.trace_id == socket_op.trace_id && span.span_id != socket_op.span_id)
        .collect();
    assert!(below.iter().any(|s| s.name == "Query.chats"), "{below:?}");
    assert!(below.iter().any(|s| attribute(s, "db.statement").is_some()));
    // The delivery of the write's event links to the write's trace.
    let writes: Vec<&Span> = named("mutation Open");
    assert!(!writes.is_empty());
    let deliveries: Vec<&Span> = spans
        .iter()
        .map(|(_, span)| span)
        .filter(|span| span.name == "deliver chat events")
        .collect();
    assert!(
        deliveries.iter().any(|d| d
            .links
            .iter()
            .any(|link| hex::encode(&link.trace_id) == TRACE
                && writes
                    .iter()
                    .any(|w| in_trace_below(&spans, &link.span_id, &w.span_id)))),
        "no delivery links to the write"
    );
    drop(gateway);
}

/// Whether `span_id` is `ancestor` or a span below it in `spans`.
fn in_trace_below(spans: &[(String, Span)], span_id: &[u8], ancestor: &[u8]) -> bool {
    let mut current = span_id.to_vec();
    for _ in 0..32 {
        if current == ancestor {
            return true;
        }
        match spans.iter().find(|(_, s)| s.span_id == current) {
            Some((_, span)) => current = span.parent_span_id.clone(),
            None => return false,
        }
    }
    false
}

#[tokio::test]
async fn only_sampled_traces_are_exported() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let (endpoint, received) = receiver().await;
    // New traces are never sampled; a caller that sampled is followed.
    let gateway = serve(&app, &endpoint, "0");
    let query = json!({"query": "query Untraced { chats { totalCount } }"});
    post(&gateway, &w.key, None, query).await;
    let unsampled = format!("00-{TRACE}-{CALLER}-00");
    let query = json!({"query": "query NotSampled { chats { totalCount } }"});
    post(&gateway, &w.key, Some(&unsampled), query).await;
    let sampled = format!("00-{TRACE}-{CALLER}-01");
    let query = json!({"query": "query Sampled { chats { totalCount } }"});
    post(&gateway, &w.key, Some(&sampled), query).await;
    spans_until(&received, |spans| {
        spans.iter().any(|(_, s)| s.name == "query Sampled")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let spans = received.lock().unwrap().clone();
    assert!(
        spans
            .iter()
            .all(|(_, span)| hex::encode(&span.trace_id) == TRACE),
        "a span of an unsampled trace was exported"
    );
    assert!(
        !spans
            .iter()
            .any(|(_, s)| s.name.contains("Untraced") || s.name.contains("NotSampled"))
    );
    drop(gateway);
}

/// A port nothing listens on (bound, then let go).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_collector_that_is_gone_holds_up_no_request_and_its_spans_are_counted_as_dropped() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let collector = format!("http://127.0.0.1:{}", closed_port());
    let metrics = format!("127.0.0.1:{}", closed_port());
    let gateway = serve_with(&app, &collector, "1.0", &["--metrics-listen", &metrics]);
    let traceparent = format!("00-{TRACE}-{CALLER}-01");
    for _ in 0..20 {
        let query = json!({"query": "query Traced { chats { totalCount } }"});
        let answered = post(&gateway, &w.key, Some(&traceparent), query).await;
        assert!(
            answered["data"]["chats"]["totalCount"].is_number(),
            "{answered}"
        );
    }
    let base = format!("http://{metrics}");
    let dropped = || metric(&base, "otel_spans_dropped_total");
    // Each request made at least its request, operation, field and
    // statement spans; every batch failed.
    let patience = Instant::now() + Duration::from_secs(30);
    while dropped().await < 80 {
        assert!(
            Instant::now() < patience,
            "the spans were not counted as dropped"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(gateway);
}
