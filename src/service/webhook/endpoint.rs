//! A workspace's webhook endpoints: register, change, remove, rotate the
//! secret, replay from a position.

use chrono::Duration;
use entity::webhook_endpoint::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, prelude::*,
};
use uuid::Uuid;

use super::{filter, kinds, kinds::EventType, sign, target::Targets};
use crate::{
    error::{AppError, AppResult},
    service::{self, chat::filter::ChatFilter, events},
};

/// Most endpoints one workspace may register (each multiplies its
/// events' deliveries).
pub const MAX_ENDPOINTS: u64 = 25;
/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// How long a rotated-out secret still signs, at most (and by default).
pub const ROTATION_OVERLAP_HOURS: i32 = 24;

/// An endpoint to register.
pub struct NewEndpoint {
    pub url: String,
    pub kinds: Vec<EventType>,
    pub filter: Option<ChatFilter>,
    pub description: Option<String>,
}

/// Changes to an endpoint; `None` keeps a field.
#[derive(Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub kinds: Option<Vec<EventType>>,
    /// `Some(None)` clears the filter.
    pub filter: Option<Option<ChatFilter>>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

/// Registers an endpoint for the workspace's events from now on; returns
/// it and its secret (shown only here).
pub async fn create(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    targets: Targets,
    new: NewEndpoint,
) -> AppResult<(Model, String)> {
    let url = targets.check("input.url", &new.url).await?;
    check_kinds("input.eventKinds", &new.kinds)?;
    check_description("input.description", new.description.as_deref())?;
    let registered = Entity::find()
        .filter(Column::WorkspaceId.eq(workspace_id))
        .count(db)
        .await?;
    if registered >= MAX_ENDPOINTS {
        return Err(AppError::invalid(
            "input",
            format!("a workspace has at most {MAX_ENDPOINTS} webhook endpoints; remove one first"),
        ));
    }
    let start = events::start_position(db).await?;
    let key = sign::new_key()?;
    let now = service::now();
    let endpoint = ActiveModel {
        id: Set(Uuid::new_v4()),
        workspace_id: Set(workspace_id),
        url: Set(url.to_string()),
        description: Set(new.description),
        event_kinds: Set(kinds::store(&new.kinds)),
        filter: Set(new.filter.as_ref().map(filter::store)),
        enabled: Set(true),
        disabled_reason: Set(None),
        secret: Set(key.clone()),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        cursor_tx: Set(start.tx),
        cursor_seq: Set(start.seq),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((endpoint, sign::secret(&key)))
}

/// The workspace's endpoints, oldest first.
pub async fn list(db: &impl ConnectionTrait, workspace_id: Uuid) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::WorkspaceId.eq(workspace_id))
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// The workspace's endpoint `id`; NOT_FOUND otherwise.
pub async fn get(db: &impl ConnectionTrait, workspace_id: Uuid, id: Uuid) -> AppResult<Model> {
    Entity::find_by_id(id)
        .filter(Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found_at("WebhookEndpoint", "id"))
}

/// Changes the workspace's endpoint `id`. Enabling it again clears why it
/// was disabled; its deliveries that wait go out again.
pub async fn update(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    targets: Targets,
    id: Uuid,
    change: EndpointChange,
) -> AppResult<Model> {
    let url = match &change.url {
        Some(url) => Some(targets.check("input.url", url).await?),
        None => None,
    };
    if let Some(kinds) = &change.kinds {
        check_kinds("input.eventKinds", kinds)?;
    }
    if let Some(description) = &change.description {
        check_description("input.description", description.as_deref())?;
    }
    let mut endpoint = get(db, workspace_id, id).await?.into_active_model();
    if let Some(url) = url {
        endpoint.url = Set(url.to_string());
    }
    if let Some(kinds) = change.kinds {
        endpoint.event_kinds = Set(kinds::store(&kinds));
    }
    if let Some(filter) = change.filter {
        endpoint.filter = Set(filter.as_ref().map(filter::store));
    }
    if let Some(description) = change.description {
        endpoint.description = Set(description);
    }
    if let Some(enabled) = change.enabled {
        endpoint.enabled = Set(enabled);
        endpoint.disabled_reason = Set(None);
    }
    endpoint.updated_at = Set(service::now());
    Ok(endpoint.update(db).await?)
}

/// Removes the workspace's endpoint `id` with its deliveries.
pub async fn remove(db: &impl ConnectionTrait, workspace_id: Uuid, id: Uuid) -> AppResult<Model> {
    let endpoint = get(db, workspace_id, id).await?;
    entity::webhook_delivery::Entity::delete_many()
        .filter(entity::webhook_delivery::Column::EndpointId.eq(id))
        .exec(db)
        .await?;
    Entity::delete_by_id(id).exec(db).await?;
    Ok(endpoint)
}

/// Gives the endpoint a new secret; the old one keeps signing beside it
/// for `overlap_hours` (0 to [`ROTATION_OVERLAP_HOURS`]; BAD_USER_INPUT
/// naming `field` otherwise). Returns the endpoint and the new secret.
pub async fn rotate_secret(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
    overlap_hours: i32,
    field: &str,
) -> AppResult<(Model, String)> {
    if !(0..=ROTATION_OVERLAP_HOURS).contains(&overlap_hours) {
        return Err(AppError::invalid(
            field,
            format!("must be 0 to {ROTATION_OVERLAP_HOURS}, got {overlap_hours}"),
        ));
    }
    let endpoint = get(db, workspace_id, id).await?;
    let key = sign::new_key()?;
    let now = service::now();
    let mut active = endpoint.clone().into_active_model();
    // No overlap: the old secret (a leaked one) signs nothing from now on.
    let (previous, until) = match overlap_hours {
        0 => (None, None),
        hours => (
            Some(endpoint.secret),
            Some(now + Duration::hours(i64::from(hours))),
        ),
    };
    active.previous_secret = Set(previous);
    active.previous_secret_until = Set(until);
    active.secret = Set(key.clone());
    active.updated_at = Set(now);
    Ok((active.update(db).await?, sign::secret(&key)))
}

/// Sends again every event after `after` (an event still kept): the
/// endpoint's position goes back there, and its events become new
/// deliveries. BAD_USER_INPUT naming `field` when the event is no longer
/// kept.
pub async fn replay(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
    after: events::Position,
    field: &str,
) -> AppResult<Model> {
    let endpoint = get(db, workspace_id, id).await?;
    if !events::kept(db, after).await? {
        return Err(AppError::invalid(
            field,
            "names an event older than the retention (--event-retention-hours): \
             its successors can no longer be replayed",
        ));
    }
    let mut active = endpoint.into_active_model();
    active.cursor_tx = Set(after.tx);
    active.cursor_seq = Set(after.seq);
    active.updated_at = Set(service::now());
    Ok(active.update(db).await?)
}

/// The keys that sign for `endpoint` now: its own, and the one it had
/// before a rotation while that still signs.
pub fn signing_keys(endpoint: &Model) -> Vec<&str> {
    let mut keys = vec![endpoint.secret.as_str()];
    if let (Some(previous), Some(until)) =
        (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > service::now()
    {
        keys.push(previous);
    }
    keys
}

fn check_kinds(field: &str, kinds: &[EventType]) -> AppResult<()> {
    if kinds.is_empty() {
        return Err(AppError::invalid(
            field,
            "must name at least one event kind",
        ));
    }
    // A longer list repeats itself.
    let most = EventType::count();
    if kinds.len() > most {
        return Err(AppError::invalid(
            field,
            format!(
                "lists {} kinds; an endpoint takes at most {most}, each once",
                kinds.len()
            ),
        ));
    }
    Ok(())
}

fn check_description(field: &str, description: Option<&str>) -> AppResult<()> {
    let chars = description.map_or(0, |d| d.chars().count());
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters, got {chars}"),
        ));
    }
    Ok(())
}
