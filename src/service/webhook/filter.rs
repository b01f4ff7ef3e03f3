//! An endpoint's chat filter as stored: the JSON of its conditions
//! (events carry no message text, so it has no search).

use chrono::{DateTime, Utc};
use entity::enums::{ChannelType, TicketStatus};
use sea_orm::ActiveEnum;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    service::chat::filter::{ChatFilter, FilterSpec, TimeRange},
};

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Stored {
    #[serde(skip_serializing_if = "Option::is_none")]
    ids: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_ids: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_super_identity_ids: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responder_super_identity_ids: Option<Vec<Uuid>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket_statuses: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_message_at: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_responder: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_ticket: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_is_blocked: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    include_removed: bool,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct Range {
    #[serde(skip_serializing_if = "Option::is_none")]
    gte: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lt: Option<DateTime<Utc>>,
}

impl From<TimeRange> for Range {
    fn from(range: TimeRange) -> Self {
        Self {
            gte: range.gte,
            lt: range.lt,
        }
    }
}

impl From<Range> for TimeRange {
    fn from(range: Range) -> Self {
        Self {
            gte: range.gte,
            lt: range.lt,
        }
    }
}

/// `filter` as stored.
pub fn store(filter: &ChatFilter) -> String {
    fn names<E: ActiveEnum<Value = String>>(values: &Option<Vec<E>>) -> Option<Vec<String>> {
        values
            .as_ref()
            .map(|values| values.iter().map(ActiveEnum::to_value).collect())
    }
    let stored = Stored {
        ids: filter.ids.clone(),
        channel_ids: filter.channel_ids.clone(),
        channel_types: names(&filter.channel_types),
        owner_super_identity_ids: filter.owner_super_identity_ids.clone(),
        responder_super_identity_ids: filter.responder_super_identity_ids.clone(),
        ticket_statuses: names(&filter.ticket_statuses),
        created_at: filter.created_at.map(Range::from),
        last_message_at: filter.last_message_at.map(Range::from),
        has_responder: filter.has_responder,
        has_ticket: filter.has_ticket,
        owner_is_blocked: filter.owner_is_blocked,
        include_removed: filter.include_removed,
    };
    serde_json::to_string(&stored).unwrap_or_default()
}

/// The filter stored as `text`.
pub fn load(text: &str) -> AppResult<ChatFilter> {
    fn values<E: ActiveEnum<Value = String>>(
        names: Option<Vec<String>>,
    ) -> AppResult<Option<Vec<E>>> {
        names
            .map(|names| {
                names
                    .into_iter()
                    .map(|name| E::try_from_value(&name).map_err(AppError::from))
                    .collect()
            })
            .transpose()
    }
    let stored: Stored = serde_json::from_str(text).map_err(|e| {
        AppError::Internal(anyhow::anyhow!("a stored webhook filter is malformed: {e}"))
    })?;
    ChatFilter::for_events(FilterSpec {
        ids: stored.ids,
        channel_ids: stored.channel_ids,
        channel_types: values::<ChannelType>(stored.channel_types)?,
        owner_super_identity_ids: stored.owner_super_identity_ids,
        responder_super_identity_ids: stored.responder_super_identity_ids,
        ticket_statuses: values::<TicketStatus>(stored.ticket_statuses)?,
        created_at: stored.created_at.map(TimeRange::from),
        last_message_at: stored.last_message_at.map(TimeRange::from),
        has_responder: stored.has_responder,
        has_ticket: stored.has_ticket,
        owner_is_blocked: stored.owner_is_blocked,
        search: None,
        include_removed: stored.include_removed,
    })
}
