//! One request's way through the gateway, whatever carried it, in one
//! order: credentials → identity → trusted document and admission (the
//! document's limits, parse, operation, variables, cost) → rate limit
//! (per principal) → the full validation of a document not seen before
//! (the costliest check, so after the rate limit) → execution (scopes
//! checked per field) → a shaped result. HTTP runs it per request; the
//! WebSocket per `subscribe`, with the socket's credential.

use async_graphql::{Request, parser::types::OperationType};
use futures_util::{Stream, StreamExt};

use crate::{
    auth::{Credential, Principal},
    error::AppError,
    graphql::{
        admit::Admitted,
        response::{self, Shaped},
    },
    http::request::Incoming,
    state::AppState,
    telemetry::Seen,
};

/// A request that passed every check before execution.
pub struct Ready {
    pub principal: Principal,
    request: Request,
    admitted: Admitted,
}

/// Why a request does not run.
#[derive(Debug)]
pub enum Refusal {
    /// The whole request is refused (no or a bad credential, an unknown
    /// trusted document, a wrong method, the rate limit): HTTP answers
    /// with the error's status.
    Whole(AppError),
    /// The document or its variables do not fit (request errors, shaped).
    Request(Shaped),
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        Self::Whole(error)
    }
}

impl Refusal {
    /// Its error code, as metrics count it.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Whole(error) => error.code(),
            Self::Request(shaped) => shaped.outcome,
        }
    }

    /// As a transport without statuses writes it (the WebSocket): request
    /// errors, shaped as every other.
    pub fn into_shaped(self) -> Shaped {
        match self {
            Self::Whole(error) => response::refusal(&error),
            Self::Request(shaped) => shaped,
        }
    }
}

/// Which operations a transport may run: GET runs queries only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    Any,
    QueriesOnly,
}

impl Ready {
    /// The operation's type.
    pub fn operation(&self) -> OperationType {
        self.admitted.ty
    }
}

/// Every step before execution, in order; what it learns of the
/// operation on the way goes into `seen`, even when it is refused.
pub async fn prepare(
    state: &AppState,
    credential: Result<Credential, AppError>,
    incoming: Incoming,
    allowed: Allowed,
    seen: &mut Seen,
) -> Result<Ready, Refusal> {
    let principal = state.auth.identify(&credential?).await?;
    seen.principal = Some(principal.holder.clone());
    seen.workspace = Some(principal.workspace_id);
    let Incoming {
        mut request,
        document_id,
    } = incoming;
    let trusted = state.admission.trusted(document_id.as_deref())?;
    let refused = |errors: Vec<async_graphql::ServerError>| {
        let result = async_graphql::Response::from_errors(errors);
        Refusal::Request(response::shape(result, 0, false))
    };
    let admitted = state
        .admission
        .admit(&mut request, trusted)
        .map_err(|error| refused(vec![error]))?;
    seen.ty = Some(admitted.ty);
    seen.name = admitted.name.clone();
    seen.hash = Some(admitted.hash.clone());
    // Decided here: a GET must not run a mutation, however it is named.
    if allowed == Allowed::QueriesOnly && admitted.ty != OperationType::Query {
        let refusal = AppError::MethodNotAllowed("Only queries may be sent with GET; use POST");
        return Err(refusal.into());
    }
    state.rate_limiter.check(&principal.holder)?;
    state
        .admission
        .validate(&mut request, &admitted)
        .await
        .map_err(refused)?;
    Ok(Ready {
        principal,
        request,
        admitted,
    })
}

/// `work` within `--request-timeout-secs`: refused with TIMEOUT when it
/// takes longer (both transports bound a query or mutation so).
pub async fn timed<T>(
    state: &AppState,
    work: impl Future<Output = Result<T, Refusal>>,
) -> Result<T, Refusal> {
    match state.limits.request_timeout() {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .unwrap_or(Err(Refusal::Whole(AppError::Timeout))),
        None => work.await,
    }
}

/// Runs a query or mutation: its one result, shaped.
pub async fn run(state: &AppState, ready: Ready) -> Shaped {
    let Ready {
        principal, request, ..
    } = ready;
    let session = state.sessions.open(principal);
    let execution = session.execution();
    let result = state.schema().execute(request.data(session)).await;
    let exhausted = execution.budget.exhausted();
    response::shape(result, state.limits.max_response_bytes, exhausted)
}

/// Runs a subscription: each of its results, shaped.
pub fn stream(state: &AppState, ready: Ready) -> impl Stream<Item = Shaped> + Send + 'static {
    let Ready {
        principal, request, ..
    } = ready;
    let session = state.sessions.open(principal);
    let executions = session.executions();
    let max_bytes = state.limits.max_response_bytes;
    state
        .schema()
        .execute_stream(request.data(session))
        .map(move |result| {
            let exhausted = executions.current().budget.exhausted();
            response::shape(result, max_bytes, exhausted)
        })
}
