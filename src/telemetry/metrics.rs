//! The Prometheus metrics of one gateway instance, served on the metrics
//! listener (`--metrics-listen`) in the text format.
//!
//! Each instance keeps its own registry (the `prometheus` crate's, not a
//! process-global recorder), so that two gateways in one process (the
//! tests) count apart. What is a state rather than an event (the pool,
//! sockets, subscriptions, how far the event reader is behind) is read when
//! scraped, so it is never stale.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use async_graphql::parser::types::OperationType;
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use uuid::Uuid;

use super::{Transport, operation_type};
use crate::service::webhook::backlog::Backlog;

/// Operation durations' buckets, in seconds: a one-chat read takes about a
/// millisecond, the request timeout is tens of seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Waits for a pooled connection, in seconds: none while the pool has one
/// idle, up to `--db-acquire-timeout-secs` when it is exhausted.
const ACQUIRE_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];
/// From a webhook delivery's making to its acknowledgement, in seconds:
/// tens of milliseconds when the receiver is up, through the retry
/// schedule (a day and more) when it is not.
const WEBHOOK_LAG_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
    21600.0, 86400.0,
];
/// What a webhook attempt can come to (`webhook_attempts_total`'s
/// `outcome`).
pub const WEBHOOK_OUTCOMES: [&str; 4] = ["acknowledged", "gone", "http_error", "no_answer"];

/// The name an operation is counted under past `--metrics-max-operations`
/// distinct names.
pub const OTHER: &str = "other";

/// How long requests waited for a pooled connection, whichever instance's
/// pool. sqlx reports each acquisition as a `tracing` event, which one
/// subscriber per process hears ([`super::logs`]), so this histogram is the
/// process's, registered in each instance's registry.
pub static POOL_ACQUIRE: LazyLock<Histogram> = LazyLock::new(|| {
    let opts = HistogramOpts::new(
        "db_pool_acquire_duration_seconds",
        "Time a statement or transaction waited for a pooled database connection.",
    )
    .buckets(ACQUIRE_BUCKETS.to_vec());
    Histogram::with_opts(opts).expect("a valid histogram")
});

/// Trace spans dropped: the export queue was full, or the collector did
/// not take them. The process's, as the exporter is ([`super::traces`]).
pub static SPANS_DROPPED: LazyLock<IntCounter> = LazyLock::new(|| {
    IntCounter::new(
        "otel_spans_dropped_total",
        "Trace spans dropped because the export queue was full or the collector refused them.",
    )
    .expect("a valid counter")
});

/// What the metrics listener reads when scraped.
pub struct Snapshot {
    pub pool_size: u32,
    pub pool_idle: usize,
    pub subscriptions: usize,
    pub ws_connections: usize,
    pub statements: u64,
    /// Events committed that the process's reader has not read yet, and
    /// how many seconds the newest is ahead of the last one read.
    pub reader_behind: Option<(u64, f64)>,
    /// The webhooks, database-wide.
    pub webhooks: Option<Backlog>,
}

/// One instance's metrics.
pub struct Metrics {
    registry: Registry,
    operations: HistogramVec,
    http_requests: IntCounterVec,
    rate_limited: IntCounterVec,
    delivery_lag: Histogram,
    pool_connections: IntGaugeVec,
    subscriptions: IntGauge,
    ws_connections: IntGauge,
    statements: IntCounter,
    reader_behind_events: IntGauge,
    reader_behind_seconds: prometheus::Gauge,
    webhook_attempts: IntCounterVec,
    webhook_attempt_duration: Histogram,
    webhook_lag: Histogram,
    webhook_pending: IntGauge,
    webhook_oldest_pending: prometheus::Gauge,
    webhook_endpoints: IntGaugeVec,
    names: OperationNames,
    workspace_label: bool,
    /// Whether anything is recorded: without a metrics listener nobody
    /// would read it.
    recording: bool,
}

impl Metrics {
    /// Metrics that count at most `max_operations` operation names, with
    /// a workspace label on operations when `workspace_label`; none are
    /// recorded unless `recording`.
    pub fn new(max_operations: usize, workspace_label: bool, recording: bool) -> Self {
        let registry = Registry::new();
        let mut labels = vec!["operation_type", "operation_name", "outcome", "transport"];
        if workspace_label {
            labels.push("workspace");
        }
        let operations = HistogramVec::new(
            HistogramOpts::new(
                "graphql_operation_duration_seconds",
                "GraphQL operations by type, name (the document's; \"\" when anonymous, \
                 \"other\" past --metrics-max-operations names), outcome (ok or the error \
                 code) and transport; a subscription is observed when it ends.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &labels,
        )
        .expect("a valid histogram");
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered, by status."),
            &["status"],
        )
        .expect("a valid counter");
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limit_refusals_total",
                "Operations refused by the rate limit (RATE_LIMITED), by transport.",
            ),
            &["transport"],
        )
        .expect("a valid counter");
        let delivery_lag = Histogram::with_opts(
            HistogramOpts::new(
                "chat_events_delivery_lag_seconds",
                "From a chat event's write to its delivery to a subscription.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
        )
        .expect("a valid histogram");
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Connections of the request pool, by state (idle, in_use).",
            ),
            &["state"],
        )
        .expect("a valid gauge");
        let subscriptions = IntGauge::new(
            "graphql_subscriptions_active",
            "Subscriptions attached to this process's event bus.",
        )
        .expect("a valid gauge");
        let ws_connections = IntGauge::new(
            "ws_connections_active",
            "WebSocket connections this process holds open.",
        )
        .expect("a valid gauge");
        let statements = IntCounter::new(
            "chat_gateway_sql_statements_total",
            "SQL statements requests ran since start.",
        )
        .expect("a valid counter");
        let reader_behind_events = IntGauge::new(
            "chat_events_reader_behind_events",
            "Committed chat events this process's reader has yet to read.",
        )
        .expect("a valid gauge");
        let reader_behind_seconds = prometheus::Gauge::new(
            "chat_events_reader_behind_seconds",
            "How long the oldest chat event this process's reader has yet to read has waited.",
        )
        .expect("a valid gauge");
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook requests this process made, by outcome: acknowledged (2xx), gone \
                 (410), http_error (another status) or no_answer (a timeout, a refused \
                 address, no connection).",
            ),
            &["outcome"],
        )
        .expect("a valid counter");
        let webhook_attempt_duration = Histogram::with_opts(
            HistogramOpts::new(
                "webhook_attempt_duration_seconds",
                "How long each webhook request this process made took, whatever its outcome.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
        )
        .expect("a valid histogram");
        let webhook_lag = Histogram::with_opts(
            HistogramOpts::new(
                "webhook_delivery_lag_seconds",
                "From a webhook delivery's making (its event read from the outbox) to its \
                 acknowledgement, retries included, for the deliveries this process sent.",
            )
            .buckets(WEBHOOK_LAG_BUCKETS.to_vec()),
        )
        .expect("a valid histogram");
        let webhook_pending = IntGauge::new(
            "webhook_deliveries_pending",
            "Webhook deliveries neither acknowledged nor given up, database-wide (every \
             replica reports the same).",
        )
        .expect("a valid gauge");
        let webhook_oldest_pending = prometheus::Gauge::new(
            "webhook_deliveries_oldest_pending_seconds",
            "How long the oldest pending webhook delivery has waited, database-wide.",
        )
        .expect("a valid gauge");
        let webhook_endpoints = IntGaugeVec::new(
            Opts::new(
                "webhook_endpoints",
                "Webhook endpoints by state (enabled, disabled), database-wide.",
            ),
            &["state"],
        )
        .expect("a valid gauge");
        for collector in [
            Box::new(operations.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_requests.clone()),
            Box::new(rate_limited.clone()),
            Box::new(delivery_lag.clone()),
            Box::new(SPANS_DROPPED.clone()),
            Box::new(pool_connections.clone()),
            Box::new(subscriptions.clone()),
            Box::new(ws_connections.clone()),
            Box::new(statements.clone()),
            Box::new(reader_behind_events.clone()),
            Box::new(reader_behind_seconds.clone()),
            Box::new(webhook_attempts.clone()),
            Box::new(webhook_attempt_duration.clone()),
            Box::new(webhook_lag.clone()),
            Box::new(webhook_pending.clone()),
            Box::new(webhook_oldest_pending.clone()),
            Box::new(webhook_endpoints.clone()),
            Box::new(POOL_ACQUIRE.clone()),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            registry
                .register(collector)
                .expect("metric names are distinct");
        }
        // Zero from the start, so that a rate over them is defined.
        for transport in [Transport::Http, Transport::Ws] {
            rate_limited.with_label_values(&[transport.as_str()]);
        }
        for outcome in WEBHOOK_OUTCOMES {
            webhook_attempts.with_label_values(&[outcome]);
        }
        Self {
            registry,
            operations,
            http_requests,
            rate_limited,
            delivery_lag,
            pool_connections,
            subscriptions,
            ws_connections,
            statements,
            reader_behind_events,
            reader_behind_seconds,
            webhook_attempts,
            webhook_attempt_duration,
            webhook_lag,
            webhook_pending,
            webhook_oldest_pending,
            webhook_endpoints,
            names: OperationNames::new(max_operations),
            workspace_label,
            recording,
        }
    }

    /// One operation done: its type (`None` when it was refused before its
    /// document was read), its name, its outcome and how long it took.
    pub fn operation(
        &self,
        transport: Transport,
        ty: Option<OperationType>,
        name: Option<&str>,
        workspace: Option<Uuid>,
        outcome: &str,
        elapsed: Duration,
    ) {
        if !self.recording {
            return;
        }
        // Refused before its document was read.
        let ty = ty.map_or("unknown", operation_type);
        let name = self.names.label(name.unwrap_or_default());
        let workspace = workspace.map(|id| id.to_string()).unwrap_or_default();
        let mut labels = vec![ty, name.as_ref(), outcome, transport.as_str()];
        if self.workspace_label {
            labels.push(&workspace);
        }
        self.operations
            .with_label_values(&labels)
            .observe(elapsed.as_secs_f64());
        if outcome == "RATE_LIMITED" {
            self.rate_limited
                .with_label_values(&[transport.as_str()])
                .inc();
        }
    }

    /// One HTTP response sent.
    pub fn http_response(&self, status: axum::http::StatusCode) {
        if !self.recording {
            return;
        }
        self.http_requests
            .with_label_values(&[status.as_str()])
            .inc();
    }

    /// One chat event handed to a subscription `lag` after its write.
    pub fn delivered(&self, lag: Duration) {
        if !self.recording {
            return;
        }
        self.delivery_lag.observe(lag.as_secs_f64());
    }

    /// One webhook request made: its outcome (one of [`WEBHOOK_OUTCOMES`])
    /// and how long it took; `lag` when it acknowledged a delivery.
    pub fn webhook_attempt(&self, outcome: &str, took: Duration, lag: Option<Duration>) {
        if !self.recording {
            return;
        }
        self.webhook_attempts.with_label_values(&[outcome]).inc();
        self.webhook_attempt_duration.observe(took.as_secs_f64());
        if let Some(lag) = lag {
            self.webhook_lag.observe(lag.as_secs_f64());
        }
    }

    /// The metrics in the Prometheus text format, with `now` read in.
    pub fn render(&self, now: &Snapshot) -> String {
        let in_use = (now.pool_size as usize).saturating_sub(now.pool_idle);
        self.pool_connections
            .with_label_values(&["idle"])
            .set(now.pool_idle as i64);
        self.pool_connections
            .with_label_values(&["in_use"])
            .set(in_use as i64);
        self.subscriptions.set(now.subscriptions as i64);
        self.ws_connections.set(now.ws_connections as i64);
        let counted = self.statements.get();
        self.statements
            .inc_by(now.statements.saturating_sub(counted));
        let (events, seconds) = now.reader_behind.unwrap_or_default();
        self.reader_behind_events.set(events as i64);
        self.reader_behind_seconds.set(seconds);
        let webhooks = now.webhooks.unwrap_or_default();
        self.webhook_pending.set(webhooks.pending as i64);
        self.webhook_oldest_pending
            .set(webhooks.oldest_pending_seconds);
        self.webhook_endpoints
            .with_label_values(&["enabled"])
            .set(webhooks.endpoints_enabled as i64);
        self.webhook_endpoints
            .with_label_values(&["disabled"])
            .set(webhooks.endpoints_disabled as i64);
        let mut text = Vec::new();
        // Encoding into memory fails only on a metric the registry refused.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut text);
        String::from_utf8(text).unwrap_or_default()
    }
}

/// The operation names counted apart: the first `max` distinct names seen;
/// the others are counted as [`OTHER`], so a client that names each
/// request anew cannot grow the metrics without bound.
struct OperationNames {
    max: usize,
    seen: Mutex<HashSet<Arc<str>>>,
}

impl OperationNames {
    fn new(max: usize) -> Self {
        Self {
            max,
            seen: Mutex::new(HashSet::new()),
        }
    }

    fn label(&self, name: &str) -> Arc<str> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = seen.get(name) {
            return known.clone();
        }
        if seen.len() >= self.max {
            return Arc::from(OTHER);
        }
        let name: Arc<str> = Arc::from(name);
        seen.insert(name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_past_the_bound_are_counted_as_other() {
        let names = OperationNames::new(2);
        assert_eq!(&*names.label("A"), "A");
        assert_eq!(&*names.label(""), "");
        assert_eq!(&*names.label("B"), OTHER);
        assert_eq!(&*names.label("A"), "A");
    }
}
