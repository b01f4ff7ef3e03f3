//! The server: state, router, binding and graceful shutdown. `main` and the
//! tests start the gateway the same way, through [`Application::build`].

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{
    Router,
    http::{HeaderName, HeaderValue, Method, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use crate::state::AppState;
use crate::{
    auth::{API_KEY_HEADER, Authenticator, Tokens},
    config::Config,
    db::{self, StatementCounter},
    demo::{self, Demo},
    error::AppError,
    events::EventBus,
    graphiql,
    graphql::{
        self, admit::Admission, checker::Checker, context::Sessions, event_cursor::EventCursors,
        trusted::TrustedDocuments,
    },
    http,
    key_cache::KeyCache,
    listen, net,
    rate_limit::RateLimiter,
    secret,
    service::webhook::target::Targets,
    service::{api_key, idempotency, secrets},
    sockets::Sockets,
    telemetry::{
        Telemetry,
        access::{self, REQUEST_ID},
        metrics::Metrics,
        spans,
    },
    webhooks,
};

/// The HTTP routes over `state`; browsers on `cors_allowed_origins` may
/// call them cross-origin.
pub fn router(state: AppState, cors_allowed_origins: &[HeaderValue]) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    let telemetry = state.telemetry.clone();
    let router = Router::new()
        .route("/", get(|| async { Redirect::temporary("/graphql") }))
        .route("/graphql", get(http::graphql_get).post(http::graphql_post))
        .route(
            &format!("{}/{{file}}", graphiql::ASSETS_PATH),
            get(graphiql::asset),
        )
        .route("/healthz", get(http::healthz))
        .route("/readyz", get(http::readyz))
        .with_state(state)
        // A bug that panics fails its own request with a 500, instead of
        // dropping the connection with no answer.
        .layer(CatchPanicLayer::custom(panic_response))
        // The span names the path only: query strings may carry GraphQL
        // variables, and headers carry API keys; neither belongs in logs.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(spans::request_span)
                .on_response(spans::record_response),
        )
        // Every answer, a panic's too, is counted and logged, with its id.
        .layer(axum::middleware::from_fn_with_state(
            telemetry,
            access::observe,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::map_request(access::plain_request_id));
    if cors_allowed_origins.is_empty() {
        // No CORS headers at all: browsers keep pages of other origins out.
        return router;
    }
    router.layer(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(cors_allowed_origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static(API_KEY_HEADER),
            ])
            // What a browser app may read of a response beyond the
            // CORS-safelisted headers: when to retry (429, 503) and the id
            // to quote to whoever reads the server's logs.
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static(REQUEST_ID)])
            .max_age(Duration::from_secs(600)),
    )
}

/// The routes of the metrics listener.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(http::metrics))
        .with_state(state)
}

/// The answer to a request whose handler panicked: the generic INTERNAL
/// error. The panic message goes to the log only, keys redacted.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    let message = secret::redact(message).into_owned();
    AppError::Internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

/// A migrated database and a bound listener, ready to serve.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    /// The metrics listener, when one was asked for.
    metrics: Option<TcpListener>,
    state: AppState,
    demo: Option<Demo>,
    shutdown_grace: Duration,
    cors_allowed_origins: Vec<HeaderValue>,
    /// Tells WebSockets the server is stopping.
    stop: watch::Sender<bool>,
}

impl Application {
    /// Connects and migrates the database, binds the listener and, unless
    /// disabled, creates the demo workspace when the database has none.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Already checked and normalised by `config::parse_origin`.
        let cors_allowed_origins = config
            .cors_allowed_origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin)
                    .with_context(|| format!("bad --cors-allowed-origins {origin:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        // Migrations get a pool of their own, without the statement timeout
        // (building an index on a large table takes as long as it takes).
        let (migrator, _) = db::connect(&config.database, None, db::Create::IfMissing).await?;
        db::migrate(&migrator)
            .await
            .context("cannot migrate the database")?;
        migrator.close().await.ok();
        let statement_timeout = Some(Duration::from_secs(config.db_statement_timeout_secs))
            .filter(|timeout| !timeout.is_zero());
        let (db, statements) =
            db::connect(&config.database, statement_timeout, db::Create::IfMissing).await?;
        let listen = config.listen_addr();
        if config.listen.is_none() && config.port.is_some() {
            tracing::info!(%listen, "listening on every interface on PORT");
        }
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let local_addr = listener.local_addr()?;
        let metrics = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen for metrics on {addr}"))?,
            ),
            None => None,
        };
        let base_url = base_url(local_addr);
        let demo = if config.no_demo {
            None
        } else {
            demo::create_if_empty(&db, &base_url)
                .await
                .map_err(|e| e.into_anyhow().context("cannot create the demo workspace"))?
        };
        let cursor_key = secrets::key(&db, secrets::EVENT_CURSOR_KEY)
            .await
            .map_err(|e| e.into_anyhow().context("cannot read the event cursor key"))?;
        let events = EventBus::new(
            config.event_buffer as usize,
            config.event_buffer_bytes as usize,
        );
        let retention = Duration::from_secs(config.event_retention_hours * 3_600);
        // The event reader gets a small pool of its own: its reads are no
        // request's, and stay out of the statement counts of requests.
        let reader_config = crate::config::DatabaseConfig {
            db_max_connections: 2,
            ..config.database.clone()
        };
        let (reader_db, _) =
            db::connect(&reader_config, statement_timeout, db::Create::IfMissing).await?;
        events
            .start(reader_db.clone(), retention)
            .await
            .map_err(|e| e.into_anyhow().context("cannot read chat events"))?;
        prune_idempotency_keys(db.clone());
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let keys = Arc::new(KeyCache::new(postgres));
        let open_sockets = Arc::new(Sockets::new(config.max_ws_connections_per_key as usize));
        let listening = postgres.then(|| {
            listen::spawn(
                events.clone(),
                keys.clone(),
                open_sockets.clone(),
                config.database.database_url.clone(),
            )
        });
        sweep_revocations(reader_db.clone(), keys.clone(), open_sockets.clone());
        let (stop, stopping) = watch::channel(false);
        let limits = Arc::new(config.limits);
        let rate_limiter = RateLimiter::new(&limits);
        forget_idle_rate_limits(rate_limiter.clone());
        let checker = Checker::new().await;
        let trusted = match &config.trusted_documents {
            Some(path) => {
                let only = config.only_trusted_documents;
                let trusted = TrustedDocuments::load(path, only, &limits, &checker).await?;
                tracing::info!(documents = trusted.len(), only, "trusted documents loaded");
                trusted
            }
            None => TrustedDocuments::default(),
        };
        let admission = Arc::new(Admission::new(limits.clone(), trusted, checker));
        let settings = &config.telemetry;
        let telemetry = Arc::new(Telemetry::new(
            Metrics::new(
                settings.metrics_max_operations as usize,
                settings.metrics_workspace_label,
                config.metrics_listen.is_some(),
            ),
            Duration::from_millis(settings.slow_operation_ms),
        ));
        let tokens = Tokens::load(&config.jwt, db.clone())
            .await
            .context("cannot set up tokens")?;
        let auth = Arc::new(Authenticator::new(db.clone(), keys.clone(), tokens));
        let sessions = Sessions {
            db: db.clone(),
            events: events.clone(),
            cursors: EventCursors::new(&cursor_key),
            max_response_bytes: limits.max_response_bytes,
            telemetry: telemetry.clone(),
            webhook_targets: Targets {
                allow_http: config.webhooks.webhook_allow_http,
                allow_private: config.webhooks.webhook_allow_private,
            },
        };
        // The webhook worker too: its sends wait on receivers, and must
        // not hold the connections requests or the reader need.
        let webhook_config = crate::config::DatabaseConfig {
            db_max_connections: 4,
            plan_every_time: true,
            ..config.database.clone()
        };
        let (webhook_db, _) =
            db::connect(&webhook_config, statement_timeout, db::Create::IfMissing).await?;
        webhooks::spawn(
            webhook_db.clone(),
            &events,
            &config.webhooks,
            config.event_retention_hours,
            sessions.cursors.clone(),
            telemetry.clone(),
        )
        .context("cannot start the webhook sender")?;
        Ok(Self {
            listener,
            local_addr,
            metrics,
            state: AppState {
                db,
                webhook_db,
                schema: graphql::serving(),
                traced_schema: config
                    .telemetry
                    .otlp_endpoint
                    .is_some()
                    .then(graphql::serving_traced),
                statements,
                telemetry,
                rate_limiter,
                auth,
                limits,
                admission,
                sessions,
                events,
                sockets: Arc::new(Semaphore::new(config.max_ws_connections as usize)),
                max_ws_connections: config.max_ws_connections as usize,
                listening,
                listener_grace: Duration::from_secs(config.telemetry.ready_listener_grace_secs),
                pending_sockets: Arc::new(Semaphore::new(
                    config.max_ws_pending_connections as usize,
                )),
                open_sockets,
                allowed_origins: config.cors_allowed_origins.clone().into(),
                ws_init_timeout_secs: config.ws_init_timeout_secs,
                max_subscriptions_per_connection: config.max_subscriptions_per_connection,
                stopping,
            },
            stop,
            demo,
            shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
            cors_allowed_origins,
        })
    }

    /// The address the server listens on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL to give people: the listening address, with `localhost` in
    /// place of "every interface".
    pub fn base_url(&self) -> String {
        base_url(self.local_addr)
    }

    /// The address metrics are served on, when they are.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The server's connection pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// Counts every SQL statement the server runs.
    pub fn statements(&self) -> StatementCounter {
        self.state.statements.clone()
    }

    /// The demo workspace, when this start created it.
    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// Serves until `stop` completes ([`shutdown_signal`] for SIGTERM or
    /// Ctrl-C), then lets in-flight requests finish for at most the
    /// configured grace period.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let stop_sockets = self.stop;
        if let Some(listener) = self.metrics {
            let metrics = axum::serve(listener, metrics_router(self.state.clone()));
            let mut stopping = self.state.stopping.clone();
            tokio::spawn(async move {
                let stopped = async move {
                    let _ = stopping.wait_for(|stopping| *stopping).await;
                };
                if let Err(error) = metrics.with_graceful_shutdown(stopped).await {
                    tracing::error!(%error, "the metrics listener failed");
                }
            });
        }
        let write_stall = self.state.limits.request_timeout();
        let app = router(self.state, &self.cors_allowed_origins);
        let server = axum::serve(
            net::Accepting::new(self.listener, write_stall),
            app.into_make_service_with_connect_info::<net::Peer>(),
        )
        .with_graceful_shutdown(async move {
            stop.await;
            tracing::info!("shutting down: finishing in-flight requests");
            // WebSockets close with 1001; HTTP requests drain.
            let _ = stop_sockets.send(true);
            let _ = stopping_tx.send(());
        });
        let grace = self.shutdown_grace;
        let deadline = async move {
            match stopping_rx.await {
                Ok(()) => tokio::time::sleep(grace).await,
                // The server ended on its own; nothing to time.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            served = server => served.context("server failed"),
            () = deadline => {
                tracing::warn!(?grace, "in-flight requests did not finish within the grace period");
                Ok(())
            }
        }
    }
}

fn base_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// Listens for Ctrl-C and SIGTERM from the call on (the handlers are in
/// place when it returns, so a signal sent as soon as the server says it
/// is up is never missed); the future resolves at the first.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listening = signal(SignalKind::terminate()).and_then(|terminate| {
            signal(SignalKind::interrupt()).map(|interrupt| (terminate, interrupt))
        });
        async move {
            match listening {
                Ok((mut terminate, mut interrupt)) => {
                    tokio::select! {
                        _ = terminate.recv() => {}
                        _ = interrupt.recv() => {}
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM or Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

/// Forgets idempotency keys past their 24 hours, once a minute (each
/// replica does; deleting what another already deleted is harmless).
/// Every minute, drops the rate-limit buckets of holders idle long enough
/// to be full again.
fn forget_idle_rate_limits(limiter: RateLimiter) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            limiter.forget_idle();
        }
    });
}

fn prune_idempotency_keys(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            let before = crate::service::now() - idempotency::KEPT_FOR;
            if let Err(error) = idempotency::prune(&db, before).await {
                tracing::warn!(?error, "cannot prune idempotency keys");
            }
        }
    });
}

/// How often each process looks for keys revoked lately.
const REVOCATION_SWEEP: Duration = Duration::from_secs(5);

/// Closes the sockets of keys revoked lately and forgets the keys, every
/// few seconds: on SQLite the only way a process hears of a revocation
/// (`api-key revoke` runs in another process), on PostgreSQL the net under
/// a NOTIFY that a lost LISTEN connection missed. The window is wide, so
/// clocks that disagree by minutes do not lose a revocation; acting on one
/// twice is harmless.
fn sweep_revocations(db: DatabaseConnection, keys: Arc<KeyCache>, sockets: Arc<Sockets>) {
    const WINDOW: chrono::Duration = chrono::Duration::minutes(10);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REVOCATION_SWEEP);
        loop {
            every.tick().await;
            match api_key::revoked_since(&db, crate::service::now() - WINDOW).await {
                Ok(prefixes) => {
                    for prefix in prefixes {
                        keys.forget(&prefix);
                        sockets.revoke(&prefix);
                    }
                }
                Err(error) => tracing::warn!(?error, "cannot look for revoked keys"),
            }
        }
    });
}
