//! One DataLoader per access path. Each answers a batch of keys with one
//! statement from [`service::lookup`], scoped to the request's workspace.
//! Loaders are built per request (see [`Session`](super::context::Session)).

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    dataloader::{DataLoader, HashMapCache, Loader},
    runtime::{TokioSpawner, TokioTimer},
};
use entity::{channel, responder, responder_version, ticket};
use sea_orm::{DatabaseConnection, DbErr};
use tracing::Instrument;

use crate::telemetry::spans::{span, traced_under};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    service::{
        browse,
        chat::row::{ChatRow, RecentMessages},
        keyset::KeysetRequest,
        lookup::{self, Owner},
        message::{self, MessageOrder, MessagePage, MessageText},
    },
};

/// What every loader needs: the pool and the workspace to scope to.
#[derive(Clone)]
pub struct Scope {
    db: DatabaseConnection,
    workspace_id: Uuid,
    /// The span current when the loaders were made (the operation's): a
    /// batch runs in a task of its own, so its span names its parent.
    parent: tracing::Span,
}

impl Scope {
    /// The span of one batched load, `name`d, under the operation's span.
    fn span(&self, name: &'static str) -> tracing::Span {
        let traced = traced_under(&self.parent);
        span!(traced, parent: &self.parent, "graphql.load", otel.name = name)
    }
}

macro_rules! loader {
    ($(#[$doc:meta])* $name:ident, $value:ty, $fetch:path, $key:expr) => {
        $(#[$doc])*
        pub struct $name(Scope);

        impl Loader<Uuid> for $name {
            type Value = $value;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, $value>, Arc<DbErr>> {
                let span = self.0.span(concat!("load ", stringify!($name)));
                let rows = $fetch(&self.0.db, self.0.workspace_id, keys).instrument(span).await?;
                Ok(rows.into_iter().map(|row| ($key(&row), row)).collect())
            }
        }
    };
}

loader!(
    /// Channels by id.
    ChannelLoader, channel::Model, lookup::channels, |c: &channel::Model| c.id
);
loader!(
    /// Tickets by id.
    TicketLoader, ticket::Model, lookup::tickets, |t: &ticket::Model| t.id
);
loader!(
    /// Responders by super identity id.
    ResponderLoader,
    responder::Model,
    lookup::responders,
    |r: &responder::Model| r.super_identity_id
);
loader!(
    /// Responder versions by id.
    ResponderVersionLoader,
    responder_version::Model,
    lookup::responder_versions,
    |v: &responder_version::Model| v.id
);
loader!(
    /// Owners (users or external users) by super identity id.
    OwnerLoader, Owner, lookup::owners, Owner::super_identity_id
);

/// The newest two messages by chat id. Chat ids reach it only from chats
/// already read within the workspace.
pub struct RecentMessagesLoader(Scope);

impl Loader<Uuid> for RecentMessagesLoader {
    type Value = RecentMessages;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, RecentMessages>, Arc<DbErr>> {
        let span = self.0.span("load RecentMessagesLoader");
        let messages = lookup::recent_messages(&self.0.db, keys)
            .instrument(span)
            .await?;
        Ok(group_recent(keys, messages))
    }
}

/// Each chat of `chat_ids` with its newest two `messages` (given newest
/// first within each chat); chats without messages get an empty entry.
fn group_recent(
    chat_ids: &[Uuid],
    messages: Vec<entity::message::Model>,
) -> HashMap<Uuid, RecentMessages> {
    let mut recent: HashMap<Uuid, RecentMessages> = chat_ids
        .iter()
        .map(|id| (*id, RecentMessages::default()))
        .collect();
    for message in messages {
        let entry = recent.entry(message.chat_id).or_default();
        if entry.latest.is_none() {
            entry.latest = Some(message);
        } else {
            entry.previous = Some(message);
        }
    }
    recent
}

/// One `messages` page of one chat: chats asked with the same arguments
/// are read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessagesKey {
    pub chat_id: Uuid,
    pub order: MessageOrder,
    pub request: KeysetRequest,
    /// How much of each message's text the selection needs.
    pub text: MessageText,
}

/// Pages of messages: one statement per distinct arguments, for all the
/// chats that asked. Chat ids reach it only from chats already read within
/// the workspace.
pub struct MessagePageLoader(Scope);

impl Loader<MessagesKey> for MessagePageLoader {
    type Value = MessagePage;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[MessagesKey],
    ) -> Result<HashMap<MessagesKey, MessagePage>, Arc<DbErr>> {
        type Group = (MessageOrder, KeysetRequest, MessageText);
        let mut groups: HashMap<Group, Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.order, key.request, key.text))
                .or_default()
                .push(key.chat_id);
        }
        let mut pages = HashMap::new();
        for ((order, request, text), chat_ids) in groups {
            let span = self.0.span("load MessagePageLoader");
            let found = message::pages(&self.0.db, &chat_ids, order, request, text)
                .instrument(span)
                .await?;
            pages.extend(found.into_iter().map(|(chat_id, page)| {
                let key = MessagesKey {
                    chat_id,
                    order,
                    request,
                    text,
                };
                (key, page)
            }));
        }
        Ok(pages)
    }
}

/// The versions of each responder by responder id, newest first.
/// Responder ids reach it only from responders already read within the
/// workspace.
pub struct VersionsLoader(Scope);

impl Loader<Uuid> for VersionsLoader {
    type Value = Vec<responder_version::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<responder_version::Model>>, Arc<DbErr>> {
        let mut versions: HashMap<Uuid, Vec<_>> = HashMap::new();
        let span = self.0.span("load VersionsLoader");
        for version in browse::versions(&self.0.db, keys).instrument(span).await? {
            versions
                .entry(version.responder_id)
                .or_default()
                .push(version);
        }
        Ok(versions)
    }
}

/// Message counts by chat id, one grouped statement per batch.
pub struct MessageCountLoader(Scope);

impl Loader<Uuid> for MessageCountLoader {
    type Value = u64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, u64>, Arc<DbErr>> {
        let span = self.0.span("load MessageCountLoader");
        Ok(message::counts(&self.0.db, keys).instrument(span).await?)
    }
}

/// A loader that keeps what it loaded (or was fed) for the rest of the request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// The loaders of one request.
pub struct Loaders {
    pub channel: Cached<ChannelLoader>,
    pub owner: Cached<OwnerLoader>,
    pub responder: Cached<ResponderLoader>,
    pub responder_version: Cached<ResponderVersionLoader>,
    pub ticket: Cached<TicketLoader>,
    pub recent_messages: Cached<RecentMessagesLoader>,
    pub message_pages: Cached<MessagePageLoader>,
    pub message_counts: Cached<MessageCountLoader>,
    pub versions: Cached<VersionsLoader>,
}

fn cached<K, T>(loader: T) -> Cached<T>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Loader<K>,
{
    DataLoader::with_cache(
        loader,
        TokioSpawner::current(),
        TokioTimer::default(),
        HashMapCache::default(),
    )
}

impl Loaders {
    /// Fresh, empty loaders for one request of `workspace_id`.
    pub fn new(db: &DatabaseConnection, workspace_id: Uuid) -> Self {
        let scope = Scope {
            db: db.clone(),
            workspace_id,
            parent: tracing::Span::current(),
        };
        Self {
            channel: cached(ChannelLoader(scope.clone())),
            owner: cached(OwnerLoader(scope.clone())),
            responder: cached(ResponderLoader(scope.clone())),
            responder_version: cached(ResponderVersionLoader(scope.clone())),
            ticket: cached(TicketLoader(scope.clone())),
            recent_messages: cached(RecentMessagesLoader(scope.clone())),
            message_pages: cached(MessagePageLoader(scope.clone())),
            message_counts: cached(MessageCountLoader(scope.clone())),
            versions: cached(VersionsLoader(scope)),
        }
    }

    /// Feeds the relations (and messages) read along with `rows`, so
    /// resolving them costs no further statement. Whatever a row lacks is
    /// still loaded on demand.
    pub async fn prime(&self, rows: &[ChatRow]) {
        let mut channels = Vec::new();
        let mut owners = Vec::new();
        let mut responders = Vec::new();
        let mut versions = Vec::new();
        let mut tickets = Vec::new();
        let mut recent = Vec::new();
        for row in rows {
            recent.extend(row.recent.clone().map(|r| (row.chat.id, r)));
            channels.extend(row.channel.clone().map(|c| (c.id, c)));
            owners.extend(row.owner.clone().map(|o| (o.super_identity_id(), o)));
            responders.extend(row.responder.clone().map(|r| (r.super_identity_id, r)));
            versions.extend(row.responder_version.clone().map(|v| (v.id, v)));
            tickets.extend(row.ticket.clone().map(|t| (t.id, t)));
        }
        self.channel.feed_many(channels).await;
        self.owner.feed_many(owners).await;
        self.responder.feed_many(responders).await;
        self.responder_version.feed_many(versions).await;
        self.ticket.feed_many(tickets).await;
        self.recent_messages.feed_many(recent).await;
    }
}

/// `load_one` with the database error turned into the gateway's error, so
/// resolvers cannot leak its text by accident.
pub async fn load<K, T>(loader: &Cached<T>, key: K) -> AppResult<Option<T::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Loader<K, Error = Arc<DbErr>>,
{
    loader.load_one(key).await.map_err(AppError::from)
}
