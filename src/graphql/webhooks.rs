//! The webhook fields of the query and mutation roots: a workspace's
//! endpoints and their deliveries. Every field needs `webhooks:manage`.

use async_graphql::{Context, Object, Result};
use uuid::Uuid;

use super::{
    context::ContextExt,
    event_cursor::Opened,
    scopes::{WEBHOOKS_MANAGE, all_of, require, requires_scopes},
    types::webhook::{
        CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDelivery, WebhookEndpoint,
        WebhookSecretPayload,
    },
};
use crate::{
    error::AppError,
    service::webhook::{delivery, endpoint},
};

/// Webhook reads.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The workspace's webhook endpoints, oldest first.
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let endpoints = endpoint::list(&session.db, session.workspace_id()).await?;
        Ok(endpoints.into_iter().map(WebhookEndpoint).collect())
    }

    /// A webhook endpoint of the workspace; NOT_FOUND otherwise.
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint ID.")] id: Uuid,
    ) -> Result<WebhookEndpoint> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        Ok(WebhookEndpoint(
            endpoint::get(&session.db, session.workspace_id(), id).await?,
        ))
    }
}

/// Webhook writes.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for the workspace's chat events from now on.
    /// Returns its signing secret, which is shown only here. The URL must
    /// be https and reach a public address (BAD_USER_INPUT naming
    /// `input.url` otherwise); a workspace has at most 25 endpoints.
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to register.")] input: CreateWebhookEndpointInput,
    ) -> Result<WebhookSecretPayload> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let (endpoint, secret) = endpoint::create(
            &session.db,
            session.workspace_id(),
            session.webhook_targets,
            input.checked()?,
        )
        .await?;
        Ok(WebhookSecretPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Changes an endpoint; fields left out are kept. `enabled: true`
    /// sends again what waited while it was disabled (within the event
    /// retention).
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint ID.")] id: Uuid,
        #[graphql(desc = "The changes.")] input: UpdateWebhookEndpointInput,
    ) -> Result<WebhookEndpoint> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let endpoint = endpoint::update(
            &session.db,
            session.workspace_id(),
            session.webhook_targets,
            id,
            input.checked()?,
        )
        .await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// Removes an endpoint and its deliveries. Returns it as it was.
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn remove_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint ID.")] id: Uuid,
    ) -> Result<WebhookEndpoint> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let endpoint = endpoint::remove(&session.db, session.workspace_id(), id).await?;
        Ok(WebhookEndpoint(endpoint))
    }

    /// Gives an endpoint a new signing secret, returned only here. The old
    /// one keeps signing beside it for `previousSecretHours` (each request
    /// carries both signatures), so receivers can switch without losing a
    /// delivery; 0 retires it at once, for a secret that leaked.
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint ID.")] id: Uuid,
        #[graphql(
            desc = "Hours the old secret keeps signing beside the new one: 0 to 24.",
            default = 24
        )]
        previous_secret_hours: i32,
    ) -> Result<WebhookSecretPayload> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let (endpoint, secret) = endpoint::rotate_secret(
            &session.db,
            session.workspace_id(),
            id,
            previous_secret_hours,
            "previousSecretHours",
        )
        .await?;
        Ok(WebhookSecretPayload {
            endpoint: WebhookEndpoint(endpoint),
            secret,
        })
    }

    /// Sends a delivery again, under the same `webhook-id`, now (or when
    /// its endpoint is enabled again).
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery ID (its `webhook-id`).")] delivery_id: Uuid,
    ) -> Result<WebhookDelivery> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let delivery =
            delivery::redeliver(&session.db, session.workspace_id(), delivery_id).await?;
        Ok(WebhookDelivery(delivery))
    }

    /// Sends an endpoint every event after `after` again (those its kinds
    /// and filter take), as new deliveries: to recover what a receiver
    /// lost. `after` is an event cursor (a body's `data.cursor`, or a
    /// `chatEvents` cursor) still within the event retention.
    ///
    /// Needs the scope `webhooks:manage`.
    #[graphql(directive = requires_scopes::apply(all_of(WEBHOOKS_MANAGE)))]
    async fn replay_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint ID.")] id: Uuid,
        #[graphql(desc = "An event cursor: events after it are sent again.")] after: String,
    ) -> Result<WebhookEndpoint> {
        require(ctx, WEBHOOKS_MANAGE)?;
        let session = ctx.session()?;
        let workspace_id = session.workspace_id();
        let position = match session.cursors.open(workspace_id, &after, "after")? {
            Opened::Position(position) => position,
            Opened::Outdated => {
                return Err(AppError::invalid(
                    "after",
                    "is a cursor of an older format; use a cursor this gateway issued lately",
                )
                .into());
            }
        };
        let endpoint = endpoint::replay(&session.db, workspace_id, id, position, "after").await?;
        Ok(WebhookEndpoint(endpoint))
    }
}
