//! An HTTP endpoint a workspace sends its chat events to, signed with its
//! secret, from its own position in the event outbox.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// The event kinds it receives, as stored, space-separated.
    pub event_kinds: String,
    /// The chat filter its events must match, as JSON; `None`: every chat.
    pub filter: Option<String>,
    pub enabled: bool,
    /// Why it was disabled, when the gateway disabled it.
    pub disabled_reason: Option<String>,
    /// The signing key, base64 (without the `whsec_` prefix).
    pub secret: String,
    /// The key it had before a rotation, which signs too until
    /// `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// The position of the last event turned into deliveries (or passed).
    pub cursor_tx: i64,
    pub cursor_seq: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
