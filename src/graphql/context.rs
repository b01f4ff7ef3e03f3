//! What a resolver may know about its request: the database, the caller's
//! workspace and the request's DataLoaders. This is the only place that reads
//! `ctx.data`, so a missing piece is one internal error, never a panic.

use async_graphql::Context;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::loaders::Loaders;
use crate::{
    error::{AppError, AppResult},
    events::EventBus,
};

/// Everything a request carries into the schema, built once per request
/// (or per subscription) by the transport after the API key was checked.
pub struct Session {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The process's chat events: woken after a write, subscribed to by
    /// subscriptions.
    pub events: EventBus,
    /// The workspace the API key belongs to; every read and write is scoped to it.
    pub workspace_id: Uuid,
    /// Loaders of this request only, so no cached row crosses requests or workspaces.
    pub loaders: Loaders,
}

impl Session {
    /// A session of `workspace_id` with fresh loaders.
    pub fn new(db: DatabaseConnection, events: EventBus, workspace_id: Uuid) -> Self {
        let loaders = Loaders::new(&db, workspace_id);
        Self {
            db,
            events,
            workspace_id,
            loaders,
        }
    }
}

/// Access to the request's [`Session`] from a resolver.
pub trait ContextExt {
    /// The session, or an internal error if the handler did not provide one.
    fn session(&self) -> AppResult<&Session>;
}

impl ContextExt for Context<'_> {
    fn session(&self) -> AppResult<&Session> {
        self.data_opt::<Session>()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("request has no session")))
    }
}

/// A nullable field's outcome as the spec has it ("Handling Field
/// Errors"): a failure is `null` in place, its error (with its path) in
/// the response, and the parent stands. async-graphql would fail the
/// parent instead, so every nullable field that can fail goes through here.
pub fn or_null<T>(ctx: &Context<'_>, result: AppResult<Option<T>>) -> Option<T> {
    result.unwrap_or_else(|error| {
        let error = error.to_graphql().into_server_error(ctx.item.pos);
        ctx.add_error(ctx.set_error_path(error));
        None
    })
}
