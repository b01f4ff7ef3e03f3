//! Sends one delivery: a POST of its body, signed, to its endpoint, with
//! no redirects followed, no proxy, a timeout, and a resolver that refuses
//! internal addresses on every connection (see
//! [`crate::service::webhook::target`]).

use std::{error::Error, net::SocketAddr, sync::Arc, time::Duration};

use entity::{webhook_delivery, webhook_endpoint};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::service::{
    self,
    webhook::{
        delivery::{Attempt, Outcome},
        endpoint, sign,
        target::Targets,
    },
};

/// Longest error text kept with an attempt.
const MAX_ERROR_CHARS: usize = 300;

/// Sends deliveries.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    targets: Targets,
    timeout: Duration,
}

impl Sender {
    pub fn new(targets: Targets, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout)
            .dns_resolver(Arc::new(CheckedResolver(targets)))
            .user_agent(concat!(
                "chat-gateway/",
                env!("CARGO_PKG_VERSION"),
                " (webhooks)"
            ))
            .build()?;
        Ok(Self {
            client,
            targets,
            timeout,
        })
    }

    /// One attempt at `delivery` to `endpoint`.
    pub async fn send(
        &self,
        endpoint: &webhook_endpoint::Model,
        delivery: &webhook_delivery::Model,
    ) -> (Attempt, Outcome) {
        let at = service::now();
        let started = std::time::Instant::now();
        let result = self.post(endpoint, delivery).await;
        let attempt = |status: Option<u16>, error: Option<String>| Attempt {
            at,
            status,
            error,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        match result {
            Ok(status) if status.is_success() => {
                (attempt(Some(status.as_u16()), None), Outcome::Acknowledged)
            }
            Ok(reqwest::StatusCode::GONE) => (attempt(Some(410), None), Outcome::Gone),
            Ok(status) if status.is_redirection() => (
                attempt(
                    Some(status.as_u16()),
                    Some("redirects are not followed".into()),
                ),
                Outcome::Failed,
            ),
            Ok(status) => (attempt(Some(status.as_u16()), None), Outcome::Failed),
            Err(error) => (attempt(None, Some(error)), Outcome::Failed),
        }
    }

    async fn post(
        &self,
        endpoint: &webhook_endpoint::Model,
        delivery: &webhook_delivery::Model,
    ) -> Result<reqwest::StatusCode, String> {
        let url = reqwest::Url::parse(&endpoint.url).map_err(|e| format!("bad URL: {e}"))?;
        // A literal address never reaches the resolver: check it here.
        if let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = url.host() {
            let ip = url
                .socket_addrs(|| None)
                .map_err(|e| format!("bad URL: {e}"))?;
            self.targets.allowed_addresses(ip)?;
        }
        let id = delivery.id.to_string();
        let timestamp = service::now().timestamp();
        let body = delivery.payload.as_bytes();
        let signature = sign::signature(endpoint::signing_keys(endpoint), &id, timestamp, body)
            .map_err(|e| format!("cannot sign: {:#}", e.into_anyhow()))?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        Ok(response.status())
    }

    fn describe(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            return format!("no answer within {} s", self.timeout.as_secs());
        }
        // The chain says what went wrong (the resolver's refusal, a
        // refused connection, a TLS failure).
        let mut text = String::from(if error.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        });
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text.chars().take(MAX_ERROR_CHARS).collect()
    }
}

/// Resolves names as the system does, then refuses internal addresses.
struct CheckedResolver(Targets);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let targets = self.0;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed = targets.allowed_addresses(found).map_err(
                |reason| -> Box<dyn Error + Send + Sync> {
                    format!("{} {reason}", name.as_str()).into()
                },
            )?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
