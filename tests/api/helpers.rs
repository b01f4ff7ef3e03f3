//! The test harness: a real gateway over HTTP on a fresh database per test.
//!
//! SQLite by default (a temporary file); with `TEST_DATABASE_URL` pointing
//! at a PostgreSQL server (any database on it, e.g. `postgres://postgres@127.0.0.1:5432/postgres`),
//! each test creates its own database there and drops it when done.

use std::net::SocketAddr;

use chat_gateway::{
    app::Application,
    config::Config,
    db::StatementCounter,
    service::{
        self,
        chat::NewChat,
        directory,
        message::{self, NewMessage},
        write::Writer,
    },
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use entity::{
    channel, chat,
    enums::{ChannelType, MessageRole, ResponderKind, TicketStatus},
    external_user, responder, responder_version, ticket, user,
};
use reqwest::StatusCode;
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    PaginatorTrait, TransactionTrait,
};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Every field of a chat, as the REST rich row has them.
pub const CHAT_FIELDS: &str = "
    id title createdAt updatedAt isRemoved removedAt lastMessageAt workspaceId
    channelId channel { id name type }
    ownerSuperIdentityId
    owner {
        __typename name superIdentityId
        ... on User { id email picture }
        ... on ExternalUser { id externalId isBlocked }
    }
    responderSuperIdentityId
    responder { id superIdentityId type name picture }
    responderVersion { id number }
    ticketId ticket { id status }
    latestMessage { id preview createdAt role content }
    previousMessage { id preview createdAt role content }
";

/// A database made for one test and removed after it.
enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    async fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("cgw_test_{}", Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .expect("a database URL has a path")
                    .0;
                let url = format!("{base}/{name}");
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (Self::Sqlite(dir), url)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside any async context we could borrow: use a thread of our own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let admin = Database::connect(&admin_url).await?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await?;
                    admin.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test database {}", self.name());
            }
        }
    }
}

impl TestDatabase {
    fn name(&self) -> &str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres { name, .. } => name,
        }
    }
}

/// A running gateway on its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    /// Where its metrics are served (a listener of their own).
    pub metrics: SocketAddr,
    /// The gateway's own pool, for fixtures and for looking behind the API.
    pub db: DatabaseConnection,
    pub statements: StatementCounter,
    pub client: reqwest::Client,
    database_url: String,
    server: JoinHandle<()>,
    /// Starts the graceful shutdown, as SIGTERM does.
    stop: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    // Last, so the server and pool are gone before the database is dropped.
    _database: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// A gateway without demo data.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A gateway whose configuration `configure` adjusts first.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let (app, serve) = Self::build_with(configure).await;
        serve(app)
    }

    /// Builds the application with `configure`; the returned function
    /// serves it (so a test can look at the application first).
    pub async fn build_with(
        configure: impl FnOnce(&mut Config),
    ) -> (Application, impl FnOnce(Application) -> Self) {
        let (database, url) = TestDatabase::create().await;
        let mut config = Config::for_database(url.clone());
        config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        configure(&mut config);
        let app = Application::build(config)
            .await
            .expect("the gateway starts");
        (app, move |app| Self::serve(app, database, url))
    }

    fn serve(app: Application, database: TestDatabase, database_url: String) -> Self {
        let addr = app.local_addr();
        let metrics = app.metrics_addr().expect("tests serve metrics");
        let db = app.db().clone();
        let statements = app.statements();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let signal = async move {
                // A dropped sender is not a stop: serve until the test ends.
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            app.run_until(signal).await.expect("server runs");
        });
        Self {
            addr,
            metrics,
            db,
            statements,
            client: reqwest::Client::new(),
            database_url,
            server,
            stop: std::sync::Mutex::new(Some(stop)),
            _database: database,
        }
    }

    /// Starts the server's graceful shutdown, as SIGTERM would.
    pub fn shut_down(&self) {
        if let Some(stop) = self.stop.lock().unwrap().take() {
            let _ = stop.send(());
        }
    }

    /// A second gateway process on this test's database (a replica behind
    /// the same load balancer); it stops when dropped.
    pub async fn replica(&self) -> Replica {
        self.replica_with(|_| {}).await
    }

    /// [`Self::replica`], its configuration adjusted by `configure`.
    pub async fn replica_with(&self, configure: impl FnOnce(&mut Config)) -> Replica {
        let mut config = Config::for_database(self.database_url());
        config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        configure(&mut config);
        let app = Application::build(config)
            .await
            .expect("the replica starts");
        Self::serve_replica(app)
    }

    /// After [`Self::shut_down`], a new gateway on the same database and
    /// address, as a deploy brings one up: it starts once the old one has
    /// let the address go.
    pub async fn start_again(&self) -> Replica {
        let patience = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let mut config = Config::for_database(self.database_url());
            config.listen = Some(self.addr);
            config.metrics_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
            match Application::build(config).await {
                Ok(app) => return Self::serve_replica(app),
                Err(error) => {
                    assert!(std::time::Instant::now() < patience, "{error:#}");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn serve_replica(app: Application) -> Replica {
        let addr = app.local_addr();
        let metrics = app.metrics_addr().expect("tests serve metrics");
        let server = tokio::spawn(async move {
            app.run_until(std::future::pending())
                .await
                .expect("replica runs");
        });
        Replica {
            addr,
            metrics,
            server,
        }
    }

    /// The URL of this test's database, for running the binary against it.
    pub fn database_url(&self) -> String {
        self.database_url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The base URL of its metrics listener.
    pub fn metrics_url(&self) -> String {
        format!("http://{}", self.metrics)
    }

    /// POSTs a GraphQL request with `key` as a bearer token (or no key).
    pub async fn post(&self, key: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self.client.post(self.url("/graphql")).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Runs `query` with `variables` as `key`; the whole JSON response.
    pub async fn gql(&self, key: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post(Some(key), json!({ "query": query, "variables": variables }))
            .await;
        assert_eq!(status, StatusCode::OK, "unexpected status, body: {body}");
        body
    }

    /// Runs `query` and returns its `data`, failing on any error.
    pub async fn data(&self, key: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(key, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Takes the write lock on `chats` from a connection of its own, as
    /// another writer would (SQLite: a write transaction; PostgreSQL: an
    /// exclusive table lock), until the returned transaction ends.
    pub async fn hold_chats_lock(&self) -> (DatabaseConnection, DatabaseTransaction) {
        self.hold_lock("chats", "title").await
    }

    /// The same on `table` (one of whose columns is `column`): on
    /// PostgreSQL even its reads wait.
    pub async fn hold_lock(
        &self,
        table: &str,
        column: &str,
    ) -> (DatabaseConnection, DatabaseTransaction) {
        let holder = Database::connect(self.database_url()).await.unwrap();
        let lock = holder.begin().await.unwrap();
        let statement = match holder.get_database_backend() {
            DbBackend::Postgres => format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
            _ => format!("UPDATE {table} SET {column} = {column} WHERE 1 = 0"),
        };
        lock.execute_unprepared(&statement).await.unwrap();
        (holder, lock)
    }

    /// Whether this test runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Postgres
    }

    /// Sends every `createChat` input at once, as concurrent clients would;
    /// the ids created, in the order of `inputs`.
    pub async fn create_chats_concurrently(&self, key: &str, inputs: Vec<Value>) -> Vec<String> {
        const CREATE: &str =
            "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
        let writers: Vec<_> = inputs
            .into_iter()
            .map(|input| {
                let request = self
                    .client
                    .post(self.url("/graphql"))
                    .bearer_auth(key)
                    .json(&json!({ "query": CREATE, "variables": { "input": input } }));
                tokio::spawn(async move {
                    let body: Value = request.send().await.unwrap().json().await.unwrap();
                    body["data"]["createChat"]["id"]
                        .as_str()
                        .unwrap_or_else(|| panic!("not created: {body}"))
                        .to_owned()
                })
            })
            .collect();
        let mut ids = Vec::new();
        for writer in writers {
            ids.push(writer.await.unwrap());
        }
        ids
    }

    /// A workspace with a channel of every type, owners, responders and tickets.
    pub async fn world(&self, name: &str) -> World {
        World::create(&self.db, name).await
    }

    /// Inserts a chat directly (not through the API under test).
    pub async fn insert_chat(&self, world: &World, new: NewChat) -> chat::Model {
        let system = chat_gateway::service::actor::Actor::system();
        service::chat::create(
            Writer::new(&self.db, world.workspace_id, &system),
            new,
            None,
        )
        .await
        .map_err(|e| e.into_anyhow())
        .expect("fixture chat")
    }

    /// Links `ticket` to a chat directly (not through the API under test),
    /// and returns the chat as it now is.
    pub async fn link_ticket(&self, world: &World, chat_id: Uuid, ticket: Uuid) -> chat::Model {
        let changes = service::chat::ChatChanges {
            ticket_id: service::chat::Patch::Set(ticket),
            ..Default::default()
        };
        let system = chat_gateway::service::actor::Actor::system();
        service::chat::update(
            Writer::new(&self.db, world.workspace_id, &system),
            chat_id,
            changes,
        )
        .await
        .map_err(|e| e.into_anyhow())
        .expect("fixture ticket link")
    }

    /// Removes a chat directly (not through the API under test).
    pub async fn remove_chat(&self, world: &World, chat_id: Uuid) {
        let system = chat_gateway::service::actor::Actor::system();
        service::chat::remove(Writer::new(&self.db, world.workspace_id, &system), chat_id)
            .await
            .map_err(|e| e.into_anyhow())
            .expect("fixture removal");
    }

    /// Appends a message written at `at` to a chat (of any workspace).
    pub async fn post_message(
        &self,
        chat_id: Uuid,
        role: MessageRole,
        text: &str,
        at: DateTime<Utc>,
    ) {
        let chat = chat::Entity::find_by_id(chat_id)
            .one(&self.db)
            .await
            .unwrap()
            .expect("the chat exists");
        let new = NewMessage {
            chat_id,
            role,
            content: text.to_owned(),
            created_at: Some(at),
        };
        let system = chat_gateway::service::actor::Actor::system();
        message::post(Writer::new(&self.db, chat.workspace_id, &system), new, None)
            .await
            .map_err(|e| e.into_anyhow())
            .expect("fixture message");
    }

    /// Row counts of every table a chat operation could touch, plus every chat row.
    pub async fn snapshot(&self) -> Snapshot {
        Snapshot {
            chats: chat::Entity::find().all(&self.db).await.expect("chats"),
            messages: entity::message::Entity::find()
                .count(&self.db)
                .await
                .expect("messages"),
            tickets: ticket::Entity::find()
                .count(&self.db)
                .await
                .expect("tickets"),
            channels: channel::Entity::find()
                .count(&self.db)
                .await
                .expect("channels"),
        }
    }
}

/// A second gateway on a test's database.
pub struct Replica {
    pub addr: SocketAddr,
    pub metrics: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The state of the chat tables, to show a failed operation changed nothing.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub chats: Vec<chat::Model>,
    pub messages: u64,
    pub tickets: u64,
    pub channels: u64,
}

/// A workspace and its directory.
pub struct World {
    pub workspace_id: Uuid,
    pub key: String,
    /// One per type, in the order widget, waha, whatsapp, instagram, api.
    pub channels: Vec<channel::Model>,
    pub user: user::Model,
    pub customer: external_user::Model,
    pub blocked_customer: external_user::Model,
    pub agent: responder::Model,
    pub agent_versions: Vec<responder_version::Model>,
    pub squad: responder::Model,
    pub open_ticket: ticket::Model,
    pub closed_ticket: ticket::Model,
}

pub const CHANNEL_TYPES: [ChannelType; 5] = [
    ChannelType::Widget,
    ChannelType::Waha,
    ChannelType::Whatsapp,
    ChannelType::Instagram,
    ChannelType::Api,
];

impl World {
    async fn create(db: &DatabaseConnection, name: &str) -> Self {
        let anyhow = |e: chat_gateway::error::AppError| e.into_anyhow();
        let (workspace, key) = service::workspace::create(db, name, "test")
            .await
            .map_err(anyhow)
            .unwrap();
        let ws = workspace.id;
        let mut channels = Vec::new();
        for channel_type in CHANNEL_TYPES {
            let name = format!("{name} {channel_type:?}");
            channels.push(
                directory::create_channel(db, ws, &name, channel_type)
                    .await
                    .map_err(anyhow)
                    .unwrap(),
            );
        }
        let email = format!("owner@{}.example", name.to_lowercase());
        let user = directory::create_user(db, ws, &email, "Platform Owner")
            .await
            .map_err(anyhow)
            .unwrap();
        let customer =
            directory::create_external_user(db, ws, "+55 11 5555-0001", "Customer One", false)
                .await
                .map_err(anyhow)
                .unwrap();
        let blocked_customer =
            directory::create_external_user(db, ws, "@blocked", "Blocked Customer", true)
                .await
                .map_err(anyhow)
                .unwrap();
        let (agent, agent_versions) = directory::create_responder(
            db,
            ws,
            ResponderKind::Agent,
            "Agent Ava",
            Some("https://img.example/ava.png"),
            3,
        )
        .await
        .map_err(anyhow)
        .unwrap();
        let (squad, _) =
            directory::create_responder(db, ws, ResponderKind::Squad, "Squad One", None, 1)
                .await
                .map_err(anyhow)
                .unwrap();
        let open_ticket = directory::create_ticket(db, ws, TicketStatus::Open)
            .await
            .map_err(anyhow)
            .unwrap();
        let closed_ticket = directory::create_ticket(db, ws, TicketStatus::Closed)
            .await
            .map_err(anyhow)
            .unwrap();
        Self {
            workspace_id: ws,
            key: key.key,
            channels,
            user,
            customer,
            blocked_customer,
            agent,
            agent_versions,
            squad,
            open_ticket,
            closed_ticket,
        }
    }

    /// A new chat on the widget channel owned by the customer, answered by the agent.
    pub fn new_chat(&self) -> NewChat {
        NewChat {
            channel_id: self.channels[0].id,
            owner_super_identity_id: self.customer.super_identity_id,
            responder_super_identity_id: Some(self.agent.super_identity_id),
            title: Some("Where is my order?".to_owned()),
            created_at: None,
        }
    }
}

/// A fixed instant `minutes` after a base time, for ordered fixtures.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap() + Duration::minutes(minutes)
}

/// The UUIDs in `field` of each object of the JSON array `list`.
pub fn uuids(list: &Value, field: &str) -> Vec<Uuid> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .expect("a UUID")
                .parse()
                .expect("a UUID")
        })
        .collect()
}

/// The value of `name` on the `/metrics` of the metrics listener at
/// `base` (`http://host:port`).
pub async fn metric(base: &str, name: &str) -> u64 {
    metric_as(base, name).await
}

/// The value of the series `name` (with its labels), read as a `T`: a
/// gauge of seconds is an `f64`.
pub async fn metric_as<T: std::str::FromStr>(base: &str, name: &str) -> T {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics answered")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number of that type"))
}

/// Waits until the gateway whose metrics are at `base` has exactly `n` subscriptions
/// attached to its event bus. A subscription attaches a while after its
/// `subscribe` message (and detaches a while after it ends); only writes
/// after it attached reach it live. The bound only keeps a wrong count
/// from hanging the suite: it is not a speed check.
pub async fn attached(base: &str, n: u64) {
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = metric(base, "graphql_subscriptions_active").await;
        if now == n {
            return;
        }
        assert!(
            std::time::Instant::now() < patience,
            "{now} subscriptions attached, waiting for {n}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// One filter three ways: a numbered page, a connection and the counts,
/// all in creation order. `$f` is the filter.
pub const EVERY_WAY: &str = "query($f: ChatFilter) {
    chats(filter: $f, pageSize: 100, orderBy: CREATED_AT_ASC) { totalCount items { id } }
    chatsConnection(filter: $f, first: 100, orderBy: CREATED_AT_ASC) { totalCount nodes { id } }
    chatCounts(filter: $f) { total }
}";

/// The chats `filter` selects, oldest first, after checking that the
/// list, the connection and every count agree on them.
pub async fn selected_every_way(app: &TestApp, key: &str, filter: Value) -> Vec<Uuid> {
    let data = app.data(key, EVERY_WAY, json!({ "f": filter })).await;
    let ids = uuids(&data["chats"]["items"], "id");
    assert_eq!(
        uuids(&data["chatsConnection"]["nodes"], "id"),
        ids,
        "{filter}"
    );
    for count in [
        &data["chats"]["totalCount"],
        &data["chatsConnection"]["totalCount"],
        &data["chatCounts"]["total"],
    ] {
        assert_eq!(count, ids.len(), "{filter}");
    }
    ids
}
