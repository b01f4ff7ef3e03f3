//! The workspace's directory: channels, owners (platform and external users),
//! responders with their versions, and tickets. The public API does not
//! create these yet; the demo data and the tests do, through here, so every
//! row is shaped the same way wherever it comes from.

use entity::{
    channel,
    enums::{ChannelType, IdentityKind, ResponderKind, TicketStatus},
    external_user, responder, responder_version, super_identity, ticket, user,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::error::AppResult;

async fn create_identity(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    kind: IdentityKind,
) -> AppResult<Uuid> {
    let id = Uuid::new_v4();
    super_identity::Entity::insert(super_identity::ActiveModel {
        id: Set(id),
        workspace_id: Set(workspace_id),
        kind: Set(kind),
    })
    .exec_without_returning(db)
    .await?;
    Ok(id)
}

/// Creates a channel of `channel_type` named `name`.
pub async fn create_channel(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    name: &str,
    channel_type: ChannelType,
) -> AppResult<channel::Model> {
    let model = channel::ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(workspace_id),
        name: Set(name.to_owned()),
        channel_type: Set(channel_type),
    };
    Ok(channel::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// Creates a platform user, with its super identity in `workspace_id`.
pub async fn create_user(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    email: &str,
    name: &str,
) -> AppResult<user::Model> {
    let super_identity_id = create_identity(db, workspace_id, IdentityKind::User).await?;
    let model = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        super_identity_id: Set(super_identity_id),
        email: Set(email.to_owned()),
        name: Set(name.to_owned()),
        picture: Set(None),
    };
    Ok(user::Entity::insert(model).exec_with_returning(db).await?)
}

/// Creates an external user (an end customer known by `external_id` on a
/// channel), with its super identity.
pub async fn create_external_user(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    external_id: &str,
    name: &str,
    is_blocked: bool,
) -> AppResult<external_user::Model> {
    let super_identity_id = create_identity(db, workspace_id, IdentityKind::ExternalUser).await?;
    let model = external_user::ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(workspace_id),
        super_identity_id: Set(super_identity_id),
        external_id: Set(external_id.to_owned()),
        name: Set(name.to_owned()),
        is_blocked: Set(is_blocked),
    };
    Ok(external_user::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

/// Creates an agent or squad with versions `1..=versions`; returns it and its
/// versions, oldest first.
pub async fn create_responder(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    kind: ResponderKind,
    name: &str,
    picture: Option<&str>,
    versions: i32,
) -> AppResult<(responder::Model, Vec<responder_version::Model>)> {
    let identity_kind = match kind {
        ResponderKind::Agent => IdentityKind::Agent,
        ResponderKind::Squad => IdentityKind::Squad,
    };
    let super_identity_id = create_identity(db, workspace_id, identity_kind).await?;
    let model = responder::ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(workspace_id),
        super_identity_id: Set(super_identity_id),
        kind: Set(kind),
        name: Set(name.to_owned()),
        picture: Set(picture.map(str::to_owned)),
    };
    let responder = responder::Entity::insert(model)
        .exec_with_returning(db)
        .await?;
    let mut created = Vec::new();
    for number in 1..=versions {
        let version = responder_version::ActiveModel {
            id: Set(Uuid::new_v4()),
            responder_id: Set(responder.id),
            version_number: Set(number),
        };
        created.push(
            responder_version::Entity::insert(version)
                .exec_with_returning(db)
                .await?,
        );
    }
    Ok((responder, created))
}

/// Creates a ticket with `status`.
pub async fn create_ticket(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    status: TicketStatus,
) -> AppResult<ticket::Model> {
    let model = ticket::ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(workspace_id),
        status: Set(status),
    };
    Ok(ticket::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}
