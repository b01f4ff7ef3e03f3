//! One DataLoader per access path. Each answers a batch of keys with one
//! statement from [`service::lookup`], scoped to the request's workspace.
//! Loaders are built per request (see [`Session`](super::context::Session)).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{channel, message, responder, responder_version, ticket};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    service::lookup::{self, Owner},
};

/// The newest two messages of a chat.
#[derive(Debug, Clone, Default)]
pub struct RecentMessages {
    /// The newest message.
    pub latest: Option<message::Model>,
    /// The message just before it.
    pub previous: Option<message::Model>,
}

/// What every loader needs: the pool and the workspace to scope to.
#[derive(Clone)]
pub struct Scope {
    db: DatabaseConnection,
    workspace_id: Uuid,
}

macro_rules! loader {
    ($(#[$doc:meta])* $name:ident, $value:ty, $fetch:path, $key:expr) => {
        $(#[$doc])*
        pub struct $name(Scope);

        impl Loader<Uuid> for $name {
            type Value = $value;
            type Error = Arc<DbErr>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, $value>, Arc<DbErr>> {
                let rows = $fetch(&self.0.db, self.0.workspace_id, keys).await?;
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
        // Rows arrive newest first within each chat.
        let mut recent: HashMap<Uuid, RecentMessages> = HashMap::new();
        for message in lookup::recent_messages(&self.0.db, keys).await? {
            let entry = recent.entry(message.chat_id).or_default();
            if entry.latest.is_none() {
                entry.latest = Some(message);
            } else {
                entry.previous = Some(message);
            }
        }
        Ok(recent)
    }
}

/// The loaders of one request.
pub struct Loaders {
    pub channel: DataLoader<ChannelLoader>,
    pub owner: DataLoader<OwnerLoader>,
    pub responder: DataLoader<ResponderLoader>,
    pub responder_version: DataLoader<ResponderVersionLoader>,
    pub ticket: DataLoader<TicketLoader>,
    pub recent_messages: DataLoader<RecentMessagesLoader>,
}

impl Loaders {
    /// Fresh, empty loaders for one request of `workspace_id`.
    pub fn new(db: &DatabaseConnection, workspace_id: Uuid) -> Self {
        let scope = Scope {
            db: db.clone(),
            workspace_id,
        };
        Self {
            channel: DataLoader::new(ChannelLoader(scope.clone()), tokio::spawn),
            owner: DataLoader::new(OwnerLoader(scope.clone()), tokio::spawn),
            responder: DataLoader::new(ResponderLoader(scope.clone()), tokio::spawn),
            responder_version: DataLoader::new(ResponderVersionLoader(scope.clone()), tokio::spawn),
            ticket: DataLoader::new(TicketLoader(scope.clone()), tokio::spawn),
            recent_messages: DataLoader::new(RecentMessagesLoader(scope), tokio::spawn),
        }
    }
}

/// `load_one` with the database error turned into the gateway's error, so
/// resolvers cannot leak its text by accident.
pub async fn load<T>(loader: &DataLoader<T>, key: Uuid) -> AppResult<Option<T::Value>>
where
    T: Loader<Uuid, Error = Arc<DbErr>>,
{
    loader.load_one(key).await.map_err(AppError::from)
}
