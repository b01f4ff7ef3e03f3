//! One typed configuration for the server. Every field is a documented flag
//! that can also be set through an environment variable; `--help` is the
//! reference. Tests build this struct directly instead of touching the
//! environment.

use std::net::SocketAddr;

use clap::Args;

/// The default database: an SQLite file in the working directory, created
/// when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://chat-gateway.db";

/// Database settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// Database to use: `sqlite://PATH` (created if missing) or
    /// `postgres://USER@HOST:PORT/DB`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL,
          value_parser = parse_database_url)]
    pub database_url: String,

    /// Most connections the pool keeps open to the database (1 to 10,000).
    #[arg(long, global = true, env = "DB_MAX_CONNECTIONS", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub db_max_connections: u32,

    /// Seconds to wait for a free pooled connection before failing a
    /// request (1 to 3,600).
    #[arg(long, global = true, env = "DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub db_acquire_timeout_secs: u64,

    /// PostgreSQL plans each statement of this pool on every execution
    /// instead of once per connection: for a pool whose tables change size
    /// by orders of magnitude while it runs (the webhook queue), where a
    /// plan made when a table was empty would stay a sequential scan.
    #[arg(skip)]
    pub plan_every_time: bool,
}

/// Settings of the `serve` subcommand (the default). Its flags come
/// before `serve` or after it, not with the other subcommands; the
/// database's are every subcommand's (see [`crate::cli`]).
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Given by the command line's global database flags.
    #[arg(skip = DatabaseConfig::for_url(DEFAULT_DATABASE_URL))]
    pub database: DatabaseConfig,

    /// Address and port to listen on, e.g. `127.0.0.1:8000`,
    /// `0.0.0.0:8000` (every interface) or `localhost:8000`; port 0 picks a
    /// free port. Default: 127.0.0.1:8000, or 0.0.0.0:$PORT when the
    /// `PORT` variable is set (as hosting platforms set it).
    #[arg(long, env = "LISTEN_ADDR", value_name = "HOST:PORT", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,

    /// The port a hosting platform assigns: with it and no `--listen`, the
    /// gateway listens on 0.0.0.0:PORT.
    #[arg(long = "port", env = "PORT", hide = true)]
    pub port: Option<u16>,

    /// Address and port to serve Prometheus metrics on (`GET /metrics`),
    /// apart from the public API so that it need not be exposed with it;
    /// port 0 picks a free one. Unset (the default): no metrics served.
    #[arg(long, env = "METRICS_LISTEN", value_name = "HOST:PORT", value_parser = parse_listen)]
    pub metrics_listen: Option<SocketAddr>,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,

    /// Do not create the demo workspace when the database holds no workspace.
    /// The variable takes true/false, 1/0, yes/no, on/off.
    #[arg(long, env = "NO_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_demo: bool,

    /// Seconds PostgreSQL may spend on one statement of a request before
    /// cancelling it (0 to 86,400; 0 means no limit). Migrations and the
    /// admin commands run without it. (SQLite runs in-process:
    /// `--request-timeout-secs` bounds it.)
    #[arg(long, env = "DB_STATEMENT_TIMEOUT_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub db_statement_timeout_secs: u64,

    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C
    /// (0 to 3,600).
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub shutdown_grace_secs: u64,

    /// Origins (e.g. `https://app.example.com`) whose browser pages may call
    /// the API, comma-separated: `http` or `https`, a host and an optional
    /// port, nothing after (a trailing `/` is dropped). Empty (the
    /// default): same-origin only.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_allowed_origins: Vec<String>,

    /// Hours chat events are kept for subscribers resuming from a cursor;
    /// older ones are pruned (a cursor before them gets RESYNC_REQUIRED).
    /// 1 to 8,760.
    #[arg(long, env = "EVENT_RETENTION_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u64).range(1..=24 * 365))]
    pub event_retention_hours: u64,

    /// Events a subscriber may fall behind the process's reader before it
    /// is told RESYNC_REQUIRED (memory stays bounded instead). 16 to
    /// 1,000,000.
    #[arg(long, env = "EVENT_BUFFER", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(16..=1_000_000))]
    pub event_buffer: u64,

    /// Bytes the events a subscriber has fallen behind by may hold (a
    /// message may be 128 KB of text) before it is told RESYNC_REQUIRED.
    /// 65,536 to 1,073,741,824.
    #[arg(long, env = "EVENT_BUFFER_BYTES", default_value_t = 8 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(65_536..=1 << 30))]
    pub event_buffer_bytes: u64,

    /// Seconds a WebSocket has to send `connection_init` (closed with 4408
    /// otherwise), and a message begun to arrive whole (1008). Clients
    /// send at once. 1 to 3,600.
    #[arg(long, env = "WS_INIT_TIMEOUT_SECS", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub ws_init_timeout_secs: u64,

    /// WebSockets this process holds at once that have not yet been
    /// accepted with a key (more: HTTP 503). Their own small budget, so
    /// sockets without a key cannot take the slots of `--max-ws-connections`.
    /// 1 to 1,000,000.
    #[arg(long, env = "MAX_WS_PENDING_CONNECTIONS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_ws_pending_connections: u64,

    /// WebSockets one API key, or one token user, may hold open in this
    /// process (more: the new socket is closed with 1013). 1 to 1,000,000.
    #[arg(long, env = "MAX_WS_CONNECTIONS_PER_KEY", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_ws_connections_per_key: u64,

    /// Subscriptions one WebSocket may run at once (1 to 100,000).
    #[arg(long, env = "MAX_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_subscriptions_per_connection: u64,

    /// WebSocket connections this process accepts at once (more: HTTP
    /// 503). 1 to 1,000,000.
    #[arg(long, env = "MAX_WS_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_ws_connections: u64,

    /// A JSON file of trusted documents: an object from document id to
    /// GraphQL document, as graphql-codegen's client preset writes it
    /// (`persistedDocuments`). Requests may then send `documentId` (or
    /// `extensions.persistedQuery.sha256Hash`) instead of `query`. Every
    /// document is parsed and validated at start-up; one that fails stops
    /// the start, naming its id.
    #[arg(long, env = "TRUSTED_DOCUMENTS", value_name = "FILE")]
    pub trusted_documents: Option<std::path::PathBuf>,

    /// Run trusted documents only: any request that sends a `query` is
    /// refused (HTTP 400, TRUSTED_DOCUMENT_REQUIRED), which closes the API
    /// to arbitrary queries. Needs `--trusted-documents`.
    #[arg(long, env = "ONLY_TRUSTED_DOCUMENTS", requires = "trusted_documents",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub only_trusted_documents: bool,

    #[command(flatten)]
    pub jwt: JwtConfig,

    #[command(flatten)]
    pub limits: Limits,

    #[command(flatten)]
    pub webhooks: WebhookConfig,
}

/// Bearer JWTs from the customer's identity provider (OIDC): with a JWKS
/// or a shared secret, a token works wherever an API key does.
#[derive(Debug, Clone, Args)]
pub struct JwtConfig {
    /// The identity provider's signing keys, a JSON Web Key Set: a URL
    /// (e.g. `https://idp.example.com/.well-known/jwks.json`) or a file.
    /// Tokens signed with RS256, ES256 or EdDSA are verified with them.
    /// Fetched at start (a failure stops the start), then refreshed.
    #[arg(long, env = "JWT_JWKS", value_name = "URL|FILE")]
    pub jwt_jwks: Option<String>,

    /// A file holding a shared secret (at least 32 bytes) that verifies
    /// HS256 tokens: for development; production uses `--jwt-jwks`.
    #[arg(long, env = "JWT_SECRET_FILE", value_name = "FILE")]
    pub jwt_secret_file: Option<std::path::PathBuf>,

    /// The issuer (`iss`) a token must name; unset: any.
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// The audience (`aud`) a token must name; unset: not checked.
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// The claim that names the token's workspace (its id).
    #[arg(long, env = "JWT_WORKSPACE_CLAIM", default_value = JwtConfig::DEFAULT.workspace_claim)]
    pub jwt_workspace_claim: String,

    /// The claim that holds the token's scopes (space-separated, as in
    /// OAuth 2.0, or a list).
    #[arg(long, env = "JWT_SCOPE_CLAIM", default_value = JwtConfig::DEFAULT.scope_claim)]
    pub jwt_scope_claim: String,

    /// Seconds a token's `exp` and `nbf` may be off, for clocks that
    /// disagree (0 to 3,600).
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = JwtConfig::DEFAULT.leeway_secs,
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub jwt_leeway_secs: u64,
}

/// The defaults of [`JwtConfig`]'s flags, in one place for clap and
/// [`Default`].
pub struct JwtDefaults {
    pub workspace_claim: &'static str,
    pub scope_claim: &'static str,
    pub leeway_secs: u64,
}

impl JwtConfig {
    pub const DEFAULT: JwtDefaults = JwtDefaults {
        workspace_claim: "workspace_id",
        scope_claim: "scope",
        leeway_secs: 30,
    };
}

impl Default for JwtConfig {
    /// No tokens: keys only.
    fn default() -> Self {
        Self {
            jwt_jwks: None,
            jwt_secret_file: None,
            jwt_issuer: None,
            jwt_audience: None,
            jwt_workspace_claim: Self::DEFAULT.workspace_claim.to_owned(),
            jwt_scope_claim: Self::DEFAULT.scope_claim.to_owned(),
            jwt_leeway_secs: Self::DEFAULT.leeway_secs,
        }
    }
}

/// What one request may ask for, how long it may run, and how often a key
/// may send one. Every limit is checked before the request's data is read;
/// a request over one is refused with an error naming it. For every one of
/// them, 0 turns the limit off.
#[derive(Debug, Clone, Args)]
pub struct Limits {
    /// Largest request body, in bytes (larger: HTTP 413). Also bounds the
    /// query string of a GET.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = Limits::DEFAULT.max_body_bytes)]
    pub max_body_bytes: usize,

    /// Most lexical tokens in a GraphQL document (checked before parsing).
    #[arg(long, env = "MAX_TOKENS", default_value_t = Limits::DEFAULT.max_tokens)]
    pub max_tokens: usize,

    /// Deepest field nesting. 15 admits the standard introspection query
    /// that GraphiQL and code generators send.
    #[arg(long, env = "MAX_DEPTH", default_value_t = Limits::DEFAULT.max_depth)]
    pub max_depth: usize,

    /// Highest query cost: each field costs 1, and a list costs its page
    /// size times what one item costs. A full 100-chat page asking for
    /// every field costs about 5,200, so two such pages fit in one request.
    #[arg(long, env = "MAX_COMPLEXITY", default_value_t = Limits::DEFAULT.max_complexity)]
    pub max_complexity: usize,

    /// Most aliased fields in a document.
    #[arg(long, env = "MAX_ALIASES", default_value_t = Limits::DEFAULT.max_aliases)]
    pub max_aliases: usize,

    /// Most fields at the root of the operation.
    #[arg(long, env = "MAX_ROOT_FIELDS", default_value_t = Limits::DEFAULT.max_root_fields)]
    pub max_root_fields: usize,

    /// Most directives on one field.
    #[arg(long, env = "MAX_DIRECTIVES", default_value_t = Limits::DEFAULT.max_directives)]
    pub max_directives: usize,

    /// Largest response, in bytes: a result that would be larger is not
    /// sent (LIMIT_EXCEEDED, `data` null); fields that return long text
    /// stop adding to it as soon as it passes the limit. Applies to each
    /// HTTP response and to each WebSocket message.
    #[arg(long, env = "MAX_RESPONSE_BYTES", default_value_t = Limits::DEFAULT.max_response_bytes)]
    pub max_response_bytes: usize,

    /// Seconds a GraphQL request may take, key check included, before the
    /// gateway gives up on it (HTTP 504); also how long a write to a
    /// client may make no progress before the connection is dropped.
    /// 0 to 86,400.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value_t = Limits::DEFAULT.request_timeout_secs,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub request_timeout_secs: u64,

    /// Requests per second each API key, and each token user, may make on
    /// average; 0 turns rate limiting off.
    #[arg(long, env = "RATE_LIMIT_PER_SEC", default_value_t = Limits::DEFAULT.rate_limit_per_sec)]
    pub rate_limit_per_sec: u32,

    /// Requests an API key (or token user) may make in one burst above the
    /// average rate.
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = Limits::DEFAULT.rate_limit_burst)]
    pub rate_limit_burst: u32,
}

/// A browser origin as browsers send it in `Origin`: `scheme://host[:port]`,
/// lower-case, without a trailing slash.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let text = text.trim();
    let expected = "expected an origin such as https://app.example.com";
    let uri: axum::http::Uri = text.parse().map_err(|_| expected.to_owned())?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let scheme = scheme
        .filter(|scheme| scheme == "http" || scheme == "https")
        .ok_or_else(|| format!("{expected} (http or https)"))?;
    let authority = uri.authority().ok_or_else(|| expected.to_owned())?;
    if authority.as_str().contains('@') || uri.query().is_some() || !matches!(uri.path(), "" | "/")
    {
        return Err(format!("{expected}, without user, path or query"));
    }
    Ok(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

/// A `--database-url`, refused with what to write instead when it is not
/// one the gateway can open.
pub fn parse_database_url(text: &str) -> Result<String, String> {
    let expected = "expected sqlite://PATH or postgres://USER@HOST:PORT/DB";
    let url = text.trim();
    let quoted = url.len() >= 2
        && (url.starts_with('"') && url.ends_with('"')
            || url.starts_with('\'') && url.ends_with('\''));
    if quoted {
        return Err(format!(
            "the URL is written in quotes ({url}); remove them (an env file may have kept them)"
        ));
    }
    let lower = url.to_ascii_lowercase();
    if ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
    {
        return Ok(url.to_owned());
    }
    match url.split_once("://") {
        Some((scheme, _)) => Err(format!("{scheme} databases are not supported; {expected}")),
        None => Err(format!(
            "{expected}; for the SQLite file {url}, write sqlite://{url}"
        )),
    }
}

/// A listening address: `IP:PORT`, or `HOST:PORT` with a host name that
/// resolves (`localhost:8000`; an IPv4 address when it has one).
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let text = text.trim();
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let expected = "expected HOST:PORT, e.g. 127.0.0.1:8000, 0.0.0.0:8000 or localhost:8000";
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(expected.to_owned());
    };
    let Ok(port) = port.parse::<u16>() else {
        return Err(format!("{expected} (the port is a number, 0 to 65535)"));
    };
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {host}: {error}; {expected}"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{host} resolves to no address; {expected}"))
}

/// A count limit as configured, where 0 turns it off: what any count is
/// compared against.
pub fn cap(configured: usize) -> usize {
    if configured == 0 {
        usize::MAX
    } else {
        configured
    }
}

impl Limits {
    /// The request timeout; `None` when turned off (0).
    pub fn request_timeout(&self) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(self.request_timeout_secs)).filter(|t| !t.is_zero())
    }

    /// The defaults `--help` shows.
    pub const DEFAULT: Self = Self {
        max_body_bytes: 256 * 1024,
        max_tokens: 5_000,
        max_depth: 15,
        max_complexity: 12_000,
        max_aliases: 30,
        max_root_fields: 10,
        max_directives: 10,
        max_response_bytes: 16 * 1024 * 1024,
        request_timeout_secs: 10,
        rate_limit_per_sec: 100,
        rate_limit_burst: 200,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl DatabaseConfig {
    /// Settings for `url` with the defaults for everything else.
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            database_url: url.into(),
            db_max_connections: 10,
            db_acquire_timeout_secs: 5,
            plan_every_time: false,
        }
    }
}

/// What the gateway tells the people who run it: metrics, traces, slow
/// operations, readiness.
#[derive(Debug, Clone, Args)]
pub struct TelemetryConfig {
    /// Distinct operation names `graphql_operation_duration_seconds` counts
    /// apart; later names are counted as "other" (1 to 100,000).
    #[arg(long, env = "METRICS_MAX_OPERATIONS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub metrics_max_operations: u64,

    /// Label operations with their workspace too: one series per
    /// workspace and operation, so only for a few workspaces.
    #[arg(long, env = "METRICS_WORKSPACE_LABEL",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub metrics_workspace_label: bool,

    /// Milliseconds after which a query or mutation is logged as slow,
    /// with its document's name and hash (1 to 3,600,000).
    #[arg(long, env = "SLOW_OPERATION_MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub slow_operation_ms: u64,

    /// Send traces to this OpenTelemetry collector, over OTLP/HTTP with
    /// protobuf: a base URL such as `http://127.0.0.1:4318`, to whose
    /// `/v1/traces` spans go. Unset (the default): no traces. Also read
    /// from `OTEL_EXPORTER_OTLP_ENDPOINT`.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL",
          value_parser = parse_otlp_endpoint)]
    pub otlp_endpoint: Option<String>,

    /// The share of traces kept when the caller did not decide (0 to 1);
    /// a caller's `traceparent` that says sampled is followed.
    #[arg(long, env = "OTLP_SAMPLING_RATIO", default_value_t = 1.0,
          value_parser = parse_ratio)]
    pub otlp_sampling_ratio: f64,

    /// Seconds the PostgreSQL event listener may stay disconnected before
    /// `/readyz` fails (1 to 3,600).
    #[arg(long, env = "READY_LISTENER_GRACE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub ready_listener_grace_secs: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            metrics_max_operations: 200,
            metrics_workspace_label: false,
            slow_operation_ms: 500,
            otlp_endpoint: None,
            otlp_sampling_ratio: 1.0,
            ready_listener_grace_secs: 30,
        }
    }
}

/// How webhooks are sent.
#[derive(Debug, Clone, Args)]
pub struct WebhookConfig {
    /// The waits before each retry of a failed webhook delivery,
    /// comma-separated (`5s`, `1m`, `10m`, `1h`, `24h`...; 1 to 20 of
    /// them). A delivery still failing after the last one disables its
    /// endpoint.
    #[arg(long, env = "WEBHOOK_RETRY_SCHEDULE", default_value = "5s,1m,10m,1h,6h,24h",
          value_parser = parse_schedule)]
    pub webhook_retry_schedule: Schedule,

    /// Seconds a webhook receiver has to answer before the attempt counts
    /// as failed (1 to 60).
    #[arg(long, env = "WEBHOOK_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub webhook_timeout_secs: u64,

    /// Webhook requests this process has in flight at once, over every
    /// endpoint (1 to 1,000).
    #[arg(long, env = "WEBHOOK_CONCURRENCY", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=1_000))]
    pub webhook_concurrency: u64,

    /// Webhook requests this process has in flight at once to one endpoint
    /// (1 to 100), so a slow one cannot take every slot.
    #[arg(long, env = "WEBHOOK_CONCURRENCY_PER_ENDPOINT", default_value_t = 4,
          value_parser = clap::value_parser!(u64).range(1..=100))]
    pub webhook_concurrency_per_endpoint: u64,

    /// Accept `http://` webhook URLs (by default only https).
    #[arg(long, env = "WEBHOOK_ALLOW_HTTP",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_http: bool,

    /// Send webhooks to loopback, private and link-local addresses too (by
    /// default refused, so that a URL cannot reach into the gateway's own
    /// network). For development and tests.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub webhook_allow_private: bool,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            webhook_retry_schedule: parse_schedule("5s,1m,10m,1h,6h,24h").unwrap_or_default(),
            webhook_timeout_secs: 10,
            webhook_concurrency: 32,
            webhook_concurrency_per_endpoint: 4,
            webhook_allow_http: false,
            webhook_allow_private: false,
        }
    }
}

/// Waits between retries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule(pub Vec<std::time::Duration>);

/// `5s,1m,10m,1h`: durations with a unit of s, m, h or d, comma-separated.
pub fn parse_schedule(text: &str) -> Result<Schedule, String> {
    let waits = text
        .split(',')
        .map(str::trim)
        .map(|part| {
            let split = part
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(part.len());
            let (number, unit) = part.split_at(split);
            let number: u64 = number
                .parse()
                .map_err(|_| format!("{part:?} is not a duration such as 5s, 10m, 1h or 1d"))?;
            let seconds = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3_600,
                "d" => 86_400,
                _ => return Err(format!("{part:?} needs a unit: s, m, h or d (as in 5s)")),
            };
            if number == 0 || number * seconds > 7 * 86_400 {
                return Err(format!("{part:?} must be more than 0 and at most 7d"));
            }
            Ok(std::time::Duration::from_secs(number * seconds))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if waits.len() > 20 {
        return Err("at most 20 retries".into());
    }
    Ok(Schedule(waits))
}

/// An OTLP base URL: `http://` or `https://`, a host, no query.
fn parse_otlp_endpoint(text: &str) -> Result<String, String> {
    let url = text.trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or("expected an http:// or https:// URL, e.g. http://127.0.0.1:4318")?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(
            "expected a base URL with a host and no query, e.g. http://127.0.0.1:4318".into(),
        );
    }
    Ok(url.to_owned())
}

/// A ratio from 0 to 1.
fn parse_ratio(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => Ok(ratio),
        _ => Err("expected a number from 0 to 1, e.g. 0.01".into()),
    }
}

/// Where the gateway listens when `--listen` is not given and `PORT` is
/// not set.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8000);

impl Config {
    /// The address to listen on: `--listen`, else every interface on
    /// `PORT`, else [`DEFAULT_LISTEN`].
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| match self.port {
            Some(port) => SocketAddr::from(([0, 0, 0, 0], port)),
            None => DEFAULT_LISTEN,
        })
    }

    /// Server settings for `database_url`, listening on a free loopback port,
    /// without the demo workspace: what tests and embedders start from.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database: DatabaseConfig::for_url(database_url),
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            port: None,
            metrics_listen: None,
            telemetry: TelemetryConfig::default(),
            no_demo: true,
            db_statement_timeout_secs: 5,
            shutdown_grace_secs: 10,
            cors_allowed_origins: Vec::new(),
            event_retention_hours: 24,
            event_buffer: 4096,
            event_buffer_bytes: 8 * 1024 * 1024,
            ws_init_timeout_secs: 3,
            max_ws_pending_connections: 100,
            max_ws_connections_per_key: 1_000,
            max_subscriptions_per_connection: 100,
            max_ws_connections: 10_000,
            trusted_documents: None,
            only_trusted_documents: false,
            jwt: JwtConfig::default(),
            limits: Limits::default(),
            webhooks: WebhookConfig::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_database_url, parse_listen, parse_origin};

    #[test]
    fn database_urls_name_what_to_write() {
        assert!(parse_database_url("sqlite://chat.db").is_ok());
        assert!(parse_database_url("postgres://u@h:5432/d").is_ok());
        assert!(parse_database_url("postgresql://u@h/d").is_ok());
        let said = |url| parse_database_url(url).unwrap_err();
        assert!(
            said("chat.db").contains("write sqlite://chat.db"),
            "{}",
            said("chat.db")
        );
        assert!(said("mysql://u@h/d").starts_with("mysql databases are not supported"));
        assert!(said("\"sqlite://chat.db\"").contains("remove them"));
        assert!(said("'postgres://u@h/d'").contains("remove them"));
    }

    #[test]
    fn listen_addresses_take_host_names_and_say_what_is_expected() {
        assert_eq!(parse_listen("127.0.0.1:9000").unwrap().port(), 9000);
        let local = parse_listen("localhost:9000").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 9000, "{local}");
        for bad in ["9000", "localhost", "localhost:port", "localhost:70000"] {
            let said = parse_listen(bad).unwrap_err();
            assert!(said.contains("e.g. 127.0.0.1:8000"), "{bad}: {said}");
        }
    }

    #[test]
    fn origins_are_normalised_or_refused() {
        assert_eq!(
            parse_origin("https://App.Example.com/").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            parse_origin(" http://localhost:5173 ").as_deref(),
            Ok("http://localhost:5173")
        );
        for bad in [
            "not a url",
            "app.example.com",
            "ftp://x.example",
            "https://x.example/app",
            "",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
