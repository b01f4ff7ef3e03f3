//! What the people who run the gateway see of it: Prometheus metrics on
//! their own listener ([`metrics`]), one access line per HTTP request and
//! a line per slow operation ([`access`]), logs as text or JSON
//! ([`logs`]), and traces ([`spans`] the gateway makes, exported by
//! [`traces`]). Each operation is observed once, by the pipeline both
//! transports share, so a rule (what is counted, what is never logged)
//! holds over HTTP and the WebSocket alike.

pub mod access;
pub mod logs;
pub mod metrics;
pub mod observed;
pub mod spans;
pub mod traces;

use std::{sync::Arc, time::Duration};

use async_graphql::parser::types::OperationType;
use uuid::Uuid;

use self::metrics::Metrics;

/// What carried an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Ws,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Ws => "ws",
        }
    }
}

/// What the pipeline learned of an operation on its way: as much as it
/// got to before it ran or was refused. Never the document's text, its
/// variables or the credential.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub ty: Option<OperationType>,
    pub name: Option<Arc<str>>,
    /// The SHA-256 of the document's text.
    pub hash: Option<Arc<str>>,
    /// Who asked: an API key's public prefix, or a token's subject.
    pub principal: Option<Arc<str>>,
    pub workspace: Option<Uuid>,
}

impl Seen {
    /// The operation's type as logs write it; `""` when refused before
    /// its document was read.
    pub fn ty_str(&self) -> &'static str {
        self.ty.map_or("", operation_type)
    }
}

/// An operation type as logs, metrics and spans write it.
pub fn operation_type(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

/// The instance's metrics and what it logs of operations.
pub struct Telemetry {
    pub metrics: Metrics,
    /// Operations that take longer get a line of their own.
    slow: Duration,
}

impl Telemetry {
    pub fn new(metrics: Metrics, slow: Duration) -> Self {
        Self { metrics, slow }
    }

    /// An operation done (a subscription: ended) with `outcome` after
    /// `elapsed`.
    pub fn operation(&self, transport: Transport, seen: &Seen, outcome: &str, elapsed: Duration) {
        self.metrics.operation(
            transport,
            seen.ty,
            seen.name.as_deref(),
            seen.workspace,
            outcome,
            elapsed,
        );
        // A subscription lives as long as its client wants: not slow.
        if elapsed >= self.slow && seen.ty != Some(OperationType::Subscription) {
            tracing::warn!(
                target: "chat_gateway::slow",
                transport = transport.as_str(),
                operation_type = seen.ty_str(),
                operation_name = seen.name.as_deref().unwrap_or_default(),
                document_hash = seen.hash.as_deref().unwrap_or_default(),
                principal = seen.principal.as_deref().unwrap_or_default(),
                outcome,
                duration_ms = elapsed.as_secs_f64() * 1e3,
                "slow operation",
            );
        }
    }
}
