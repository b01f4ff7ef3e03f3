//! Batched reads behind the GraphQL DataLoaders: each function answers a
//! whole batch of keys with one statement, scoped to the workspace, so a page
//! of N chats costs the same number of statements whatever N is.

use entity::{
    channel, enums::IdentityKind, external_user, message, responder, responder_version,
    super_identity, ticket, user,
};
use sea_orm::{
    ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    prelude::*,
    sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement},
};
use uuid::Uuid;

/// The owner of a chat: a platform user or an external user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A platform user.
    User(user::Model),
    /// An end customer on a channel.
    External(external_user::Model),
}

impl Owner {
    /// The super identity the chat points at.
    pub fn super_identity_id(&self) -> Uuid {
        match self {
            Self::User(u) => u.super_identity_id,
            Self::External(e) => e.super_identity_id,
        }
    }
}

/// The channels among `ids`.
pub async fn channels(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<channel::Model>, DbErr> {
    channel::Entity::find()
        .filter(channel::Column::WorkspaceId.eq(workspace_id))
        .filter(channel::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The tickets among `ids`.
pub async fn tickets(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<ticket::Model>, DbErr> {
    ticket::Entity::find()
        .filter(ticket::Column::WorkspaceId.eq(workspace_id))
        .filter(ticket::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The responders whose super identities are among `super_identity_ids`.
pub async fn responders(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    super_identity_ids: &[Uuid],
) -> Result<Vec<responder::Model>, DbErr> {
    responder::Entity::find()
        .filter(responder::Column::WorkspaceId.eq(workspace_id))
        .filter(responder::Column::SuperIdentityId.is_in(super_identity_ids.iter().copied()))
        .all(db)
        .await
}

/// The responder versions among `ids` whose responder is the workspace's.
pub async fn responder_versions(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<responder_version::Model>, DbErr> {
    let workspace_responders = Query::select()
        .column(responder::Column::Id)
        .from(responder::Entity)
        .and_where(responder::Column::WorkspaceId.eq(workspace_id))
        .to_owned();
    responder_version::Entity::find()
        .filter(responder_version::Column::Id.is_in(ids.iter().copied()))
        .filter(responder_version::Column::ResponderId.in_subquery(workspace_responders))
        .all(db)
        .await
}

/// A super identity joined with the user or external user behind it.
#[derive(Debug, FromQueryResult)]
struct OwnerRow {
    super_identity_id: Uuid,
    kind: IdentityKind,
    user_id: Option<Uuid>,
    user_email: Option<String>,
    user_name: Option<String>,
    user_picture: Option<String>,
    external_user_id: Option<Uuid>,
    external_id: Option<String>,
    external_name: Option<String>,
    external_is_blocked: Option<bool>,
}

impl OwnerRow {
    fn into_owner(self, workspace_id: Uuid) -> Option<Owner> {
        match self.kind {
            IdentityKind::User => Some(Owner::User(user::Model {
                id: self.user_id?,
                super_identity_id: self.super_identity_id,
                email: self.user_email?,
                name: self.user_name?,
                picture: self.user_picture,
            })),
            IdentityKind::ExternalUser => Some(Owner::External(external_user::Model {
                id: self.external_user_id?,
                workspace_id,
                super_identity_id: self.super_identity_id,
                external_id: self.external_id?,
                name: self.external_name?,
                is_blocked: self.external_is_blocked?,
            })),
            IdentityKind::Agent | IdentityKind::Squad => None,
        }
    }
}

/// The owners (users or external users) whose super identities are among
/// `super_identity_ids`, in one statement.
pub async fn owners(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    super_identity_ids: &[Uuid],
) -> Result<Vec<Owner>, DbErr> {
    let mut select = owner_select(workspace_id);
    select.and_where(
        Expr::col((super_identity::Entity, super_identity::Column::Id))
            .is_in(super_identity_ids.iter().copied()),
    );
    read_owners(db, workspace_id, &select).await
}

/// The owners `select` (built on [`owner_select`]) finds.
pub async fn read_owners(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    select: &SelectStatement,
) -> Result<Vec<Owner>, DbErr> {
    let rows = OwnerRow::find_by_statement(db.get_database_backend().build(select))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.into_owner(workspace_id))
        .collect())
}

/// The workspace's super identities joined with the user or external
/// user behind each, as [`read_owners`] reads them.
pub fn owner_select(workspace_id: Uuid) -> SelectStatement {
    use super_identity::Column as Si;
    let (si, u, eu) = (super_identity::Entity, user::Entity, external_user::Entity);
    let mut select = Query::select();
    select
        .expr_as(Expr::col((si, Si::Id)), Alias::new("super_identity_id"))
        .expr_as(Expr::col((si, Si::Kind)), Alias::new("kind"))
        .expr_as(Expr::col((u, user::Column::Id)), Alias::new("user_id"))
        .expr_as(
            Expr::col((u, user::Column::Email)),
            Alias::new("user_email"),
        )
        .expr_as(Expr::col((u, user::Column::Name)), Alias::new("user_name"))
        .expr_as(
            Expr::col((u, user::Column::Picture)),
            Alias::new("user_picture"),
        )
        .expr_as(
            Expr::col((eu, external_user::Column::Id)),
            Alias::new("external_user_id"),
        )
        .expr_as(
            Expr::col((eu, external_user::Column::ExternalId)),
            Alias::new("external_id"),
        )
        .expr_as(
            Expr::col((eu, external_user::Column::Name)),
            Alias::new("external_name"),
        )
        .expr_as(
            Expr::col((eu, external_user::Column::IsBlocked)),
            Alias::new("external_is_blocked"),
        );
    select
        .from(si)
        .left_join(
            u,
            Expr::col((u, user::Column::SuperIdentityId)).equals((si, Si::Id)),
        )
        .left_join(
            eu,
            Expr::col((eu, external_user::Column::SuperIdentityId)).equals((si, Si::Id)),
        )
        .and_where(Expr::col((si, Si::WorkspaceId)).eq(workspace_id));
    select
}

/// The newest two messages of each chat among `chat_ids` (newest first per
/// chat), in one window-function statement. The chats must already be known
/// to belong to the caller's workspace.
pub async fn recent_messages(
    db: &impl ConnectionTrait,
    chat_ids: &[Uuid],
) -> Result<Vec<message::Model>, DbErr> {
    use message::Column as M;
    let rank = Alias::new("rank");
    let ranked = Query::select()
        .columns([M::Id, M::ChatId, M::Role, M::Content, M::CreatedAt])
        .expr_as(
            Expr::cust(
                "ROW_NUMBER() OVER (PARTITION BY chat_id ORDER BY created_at DESC, id DESC)",
            ),
            rank.clone(),
        )
        .from(message::Entity)
        .and_where(M::ChatId.is_in(chat_ids.iter().copied()))
        .to_owned();
    let recent = Alias::new("recent");
    let select = Query::select()
        .columns([M::Id, M::ChatId, M::Role, M::Content, M::CreatedAt])
        .from_subquery(ranked, recent)
        .and_where(Expr::col(rank.clone()).lte(2))
        .order_by(M::ChatId, sea_orm::Order::Asc)
        .order_by(rank, sea_orm::Order::Asc)
        .to_owned();
    message::Model::find_by_statement(db.get_database_backend().build(&select))
        .all(db)
        .await
}
