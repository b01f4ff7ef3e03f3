//! What a resolver may know about its request: the database, the caller's
//! workspace, and what belongs to one execution only (DataLoaders and the
//! response's byte budget). This is the only place that reads `ctx.data`,
//! so a missing piece is one internal error, never a panic.

use std::sync::Arc;

use arc_swap::ArcSwap;
use async_graphql::Context;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{event_cursor::EventCursors, loaders::Loaders, response::ResponseBudget};
use crate::{
    auth::Principal,
    error::{AppError, AppResult},
    events::EventBus,
    service::{webhook::target::Targets, write::Writer},
    telemetry::Telemetry,
};

/// Everything a request carries into the schema, built once per request
/// (or per subscription) by the transport after the API key was checked.
pub struct Session {
    /// The connection pool.
    pub db: DatabaseConnection,
    /// The process's chat events: woken after a write, subscribed to by
    /// subscriptions.
    pub events: EventBus,
    /// Who is calling: its workspace, its scopes, and the actor its writes
    /// record.
    pub principal: Principal,
    /// Seals and opens event cursors.
    pub cursors: EventCursors,
    /// Where deliveries are counted.
    pub telemetry: Arc<Telemetry>,
    /// Where webhook endpoints may point.
    pub webhook_targets: Targets,
    /// The current execution: the request's, or a subscription's current
    /// event's (see [`Executions`]).
    execution: Executions,
}

/// What one execution owns: a request's, or one event's of a subscription.
/// Nothing cached here may outlive it, or a later event would be resolved
/// with what an earlier one read.
pub struct Execution {
    /// Loaders of this execution only, so no cached row crosses requests,
    /// events or workspaces.
    pub loaders: Loaders,
    /// What the response may still grow by.
    pub budget: ResponseBudget,
}

/// A session's current execution, which a subscription replaces before it
/// resolves each event. Events of one subscription resolve one after the
/// other (async-graphql maps its stream with `then`), so an event never
/// sees another's execution.
#[derive(Clone)]
pub struct Executions {
    current: Arc<ArcSwap<Execution>>,
    db: DatabaseConnection,
    workspace_id: Uuid,
    max_response_bytes: usize,
}

impl Executions {
    fn new(db: &DatabaseConnection, workspace_id: Uuid, max_response_bytes: usize) -> Self {
        let first = Execution::new(db, workspace_id, max_response_bytes);
        Self {
            current: Arc::new(ArcSwap::from_pointee(first)),
            db: db.clone(),
            workspace_id,
            max_response_bytes,
        }
    }

    /// Starts a new execution with fresh loaders and a whole budget.
    pub fn begin(&self) {
        let next = Execution::new(&self.db, self.workspace_id, self.max_response_bytes);
        self.current.store(Arc::new(next));
    }

    /// The current execution.
    pub fn current(&self) -> Arc<Execution> {
        self.current.load_full()
    }
}

impl Execution {
    fn new(db: &DatabaseConnection, workspace_id: Uuid, max_response_bytes: usize) -> Self {
        Self {
            loaders: Loaders::new(db, workspace_id),
            budget: ResponseBudget::new(max_response_bytes),
        }
    }
}

/// What every session of the process is made of: each transport opens a
/// session from this for the workspace it authenticated.
#[derive(Clone)]
pub struct Sessions {
    pub db: DatabaseConnection,
    pub events: EventBus,
    pub cursors: EventCursors,
    /// What a response may hold (0: no limit).
    pub max_response_bytes: usize,
    pub telemetry: Arc<Telemetry>,
    pub webhook_targets: Targets,
}

impl Sessions {
    /// A session of `principal`, with a fresh execution.
    pub fn open(&self, principal: Principal) -> Session {
        let workspace_id = principal.workspace_id;
        let execution = Executions::new(&self.db, workspace_id, self.max_response_bytes);
        Session {
            db: self.db.clone(),
            events: self.events.clone(),
            principal,
            cursors: self.cursors.clone(),
            telemetry: self.telemetry.clone(),
            webhook_targets: self.webhook_targets,
            execution,
        }
    }
}

impl Session {
    /// The principal's workspace: every read and write is scoped to it.
    pub fn workspace_id(&self) -> Uuid {
        self.principal.workspace_id
    }

    /// Writes to the principal's workspace, as its actor, waking the
    /// process's event reader as each commits.
    pub fn writer(&self) -> Writer<'_, DatabaseConnection> {
        Writer::new(&self.db, self.workspace_id(), &self.principal.actor).telling(&self.events)
    }

    /// The current execution.
    pub fn execution(&self) -> Arc<Execution> {
        self.execution.current()
    }

    /// A handle that starts new executions (for a subscription's events).
    pub fn executions(&self) -> Executions {
        self.execution.clone()
    }
}

/// Access to the request's [`Session`] from a resolver.
pub trait ContextExt {
    /// The session, or an internal error if the handler did not provide one.
    fn session(&self) -> AppResult<&Session>;

    /// The current execution of the session.
    fn execution(&self) -> AppResult<Arc<Execution>> {
        Ok(self.session()?.execution())
    }
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
