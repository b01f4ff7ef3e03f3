//! `WebhookEndpoint`, `WebhookDelivery` and their inputs and payloads.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use uuid::Uuid;

use super::{
    connection::{Edge, Page, WebhookDeliveryConnection},
    enums::ChatEventKind,
    inputs::ChatFilterInput,
};
use crate::{
    error::{AppError, AppResult},
    graphql::context::ContextExt,
    service::webhook::{
        delivery::{self, Status},
        endpoint::{EndpointChange, NewEndpoint},
        kinds::{self, EventType},
    },
};

pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// An HTTP endpoint the workspace's chat events are sent to, signed as
/// Standard Webhooks (standardwebhooks.com) describes.
#[Object]
impl WebhookEndpoint {
    /// The endpoint ID.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// What it is for, as its owner wrote it.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The kinds of events it receives.
    async fn event_kinds(&self) -> Vec<ChatEventKind> {
        kinds::load(&self.0.event_kinds)
            .into_iter()
            .map(|kind| match kind {
                EventType::Chat(kind) => kind.into(),
                EventType::LeftFilter => ChatEventKind::LeftFilter,
            })
            .collect()
    }

    /// The chat filter its events match, as the JSON of a `ChatFilter`
    /// input; null: events of every chat.
    async fn filter(&self) -> Option<&str> {
        self.0.filter.as_deref()
    }

    /// Whether events are sent to it. An endpoint the gateway disabled
    /// says why in `disabledReason`; its events wait (within the event
    /// retention) until it is enabled again.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// Why the gateway disabled it (a 410 answer, or a delivery that
    /// failed through the whole retry schedule).
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }

    /// Until when the secret it had before the last rotation still signs
    /// (beside the new one).
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0
            .previous_secret_until
            .filter(|until| *until > crate::service::now())
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Its deliveries, newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many to return: 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Return deliveries after this cursor (an edge's cursor).")] after: Option<
            String,
        >,
        #[graphql(desc = "Only deliveries in this state.")] status: Option<WebhookDeliveryStatus>,
    ) -> Result<WebhookDeliveryConnection> {
        let first = match first {
            None => 20,
            Some(n) if (1..=delivery::MAX_PAGE as i32).contains(&n) => n as u64,
            Some(n) => {
                return Err(AppError::invalid(
                    "first",
                    format!("must be 1 to {}, got {n}", delivery::MAX_PAGE),
                )
                .into());
            }
        };
        let after = after
            .map(|cursor| {
                cursor
                    .parse::<Uuid>()
                    .map_err(|_| AppError::invalid("after", "is not a cursor of this list"))
            })
            .transpose()?;
        let db = &ctx.session()?.db;
        let (page, more) =
            delivery::list(db, self.0.id, first, after, status.map(Status::from)).await?;
        let edges = page
            .into_iter()
            .map(|d| Edge {
                cursor: d.id.to_string(),
                node: WebhookDelivery(d),
            })
            .collect();
        Ok(WebhookDeliveryConnection(Page::forward(
            edges,
            more,
            after.is_some(),
        )))
    }
}

/// Where a delivery stands.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Not yet acknowledged: due now or at `nextAttemptAt`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: the retry schedule ran out, or the endpoint answered 410.
    Failed,
}

impl From<WebhookDeliveryStatus> for Status {
    fn from(status: WebhookDeliveryStatus) -> Self {
        match status {
            WebhookDeliveryStatus::Pending => Self::Pending,
            WebhookDeliveryStatus::Delivered => Self::Delivered,
            WebhookDeliveryStatus::Failed => Self::Failed,
        }
    }
}

pub struct WebhookDelivery(pub webhook_delivery::Model);

/// One chat event sent (or to be sent) to one endpoint.
#[Object]
impl WebhookDelivery {
    /// The `webhook-id` header it is sent with: the same on every attempt,
    /// so a receiver can drop a repeat.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The body's `type`, such as `chat.message_posted`.
    async fn event_type(&self) -> String {
        format!("chat.{}", self.0.event_type)
    }

    /// The chat the event is about.
    async fn chat_id(&self) -> Uuid {
        self.0.chat_id
    }

    /// The body, exactly as sent.
    async fn payload(&self) -> &str {
        &self.0.payload
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        match Status::of(&self.0) {
            Status::Pending => WebhookDeliveryStatus::Pending,
            Status::Delivered => WebhookDeliveryStatus::Delivered,
            Status::Failed => WebhookDeliveryStatus::Failed,
        }
    }

    /// Its attempts, oldest first.
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        delivery::attempts(&self.0)
            .into_iter()
            .map(|a| WebhookAttempt {
                at: a.at,
                http_status: a.status.map(i32::from),
                error: a.error,
                duration_ms: a.duration_ms.min(i32::MAX as u64) as i32,
            })
            .collect()
    }

    /// When it is tried next (pending only).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at
    }

    /// When it was made from its event.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When a 2xx acknowledged it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

/// One attempt to send a delivery.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    /// When it started.
    at: DateTime<Utc>,
    /// The HTTP status the endpoint answered, if it answered.
    http_status: Option<i32>,
    /// Why it failed without an answer (timeout, refused connection, a
    /// refused address), or what was wrong with the answer.
    error: Option<String>,
    /// How long it took, in milliseconds.
    duration_ms: i32,
}

/// An endpoint to register.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to POST events: https (http only where the gateway allows it),
    /// to a public address.
    url: String,
    /// The kinds of events to send: one to five. LEFT_FILTER is sent
    /// when a change takes a chat out of `filter`; RESYNC_REQUIRED is not
    /// a webhook event.
    event_kinds: Vec<ChatEventKind>,
    /// Only events of chats matching this (no `search`); all chats when
    /// left out.
    filter: Option<ChatFilterInput>,
    /// What it is for (up to 500 characters).
    description: Option<String>,
}

impl CreateWebhookEndpointInput {
    pub fn checked(self) -> AppResult<NewEndpoint> {
        Ok(NewEndpoint {
            url: self.url,
            kinds: event_types(self.event_kinds)?,
            filter: self
                .filter
                .map(|f| ChatFilterInput::checked_for_events(Some(f)))
                .transpose()
                .map_err(|e| e.within("input"))?,
            description: self.description,
        })
    }
}

/// Changes to an endpoint: fields left out are kept.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// Where to POST events from now on (checked as when registering).
    url: Option<String>,
    /// The kinds of events to send from now on: one to five.
    event_kinds: Option<Vec<ChatEventKind>>,
    /// Null: events of every chat.
    filter: MaybeUndefined<ChatFilterInput>,
    /// Null clears it.
    description: MaybeUndefined<String>,
    /// Enable or disable it; enabling clears `disabledReason`.
    enabled: Option<bool>,
}

impl UpdateWebhookEndpointInput {
    pub fn checked(self) -> AppResult<EndpointChange> {
        let filter = match self.filter {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(f) => Some(Some(
                ChatFilterInput::checked_for_events(Some(f)).map_err(|e| e.within("input"))?,
            )),
        };
        Ok(EndpointChange {
            url: self.url,
            kinds: self.event_kinds.map(event_types).transpose()?,
            filter,
            description: match self.description {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(d) => Some(Some(d)),
            },
            enabled: self.enabled,
        })
    }
}

fn event_types(kinds: Vec<ChatEventKind>) -> AppResult<Vec<EventType>> {
    kinds
        .into_iter()
        .map(|kind| {
            Ok(match kind {
                ChatEventKind::Created => EventType::Chat(entity::enums::ChatEventKind::Created),
                ChatEventKind::Updated => EventType::Chat(entity::enums::ChatEventKind::Updated),
                ChatEventKind::Removed => EventType::Chat(entity::enums::ChatEventKind::Removed),
                ChatEventKind::MessagePosted => {
                    EventType::Chat(entity::enums::ChatEventKind::MessagePosted)
                }
                ChatEventKind::LeftFilter => EventType::LeftFilter,
                ChatEventKind::ResyncRequired => {
                    return Err(AppError::invalid(
                        "input.eventKinds",
                        "RESYNC_REQUIRED is not sent to webhooks: a webhook endpoint misses \
                         nothing, and can be replayed",
                    ));
                }
            })
        })
        .collect()
}

/// A registered endpoint and its secret.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret, `whsec_` and base64, as Standard Webhooks
    /// libraries take it. Shown only here: keep it now.
    pub secret: String,
}
