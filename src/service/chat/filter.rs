//! Which chats a list asks for, in what order, and which page: checked
//! once, where a [`ChatFilter`] is made, so the list, the count and the
//! event stream share the same conditions and none checks them again.

use chrono::{DateTime, Utc};
use entity::{
    channel, chat,
    enums::{ChannelType, TicketStatus},
    external_user, ticket,
};
use sea_orm::{
    Condition, DbBackend, QueryOrder, Select,
    prelude::*,
    sea_query::{NullOrdering, Order, Query, SelectStatement},
};
use uuid::Uuid;

use super::{counters::BucketFilter, row::ChatRow};
use crate::error::{AppError, AppResult};
use crate::service::{
    keyset::{KeyOrder, Position},
    lookup::Owner,
    search::Search,
};

/// Most values any one filter list may hold.
pub const MAX_FILTER_VALUES: usize = 100;
/// The page size when a client asks for none.
pub const DEFAULT_PAGE_SIZE: u64 = 10;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;
/// Highest page number accepted; far past any real inbox, it keeps offsets
/// well inside the databases' integer range.
pub const MAX_PAGE: u64 = 1_000_000;

/// Conditions on a chat list as asked, unchecked: what [`ChatFilter::new`]
/// takes. `None` means "no condition"; an empty list matches no chat.
#[derive(Debug, Clone, Default)]
pub struct FilterSpec {
    pub ids: Option<Vec<Uuid>>,
    pub channel_ids: Option<Vec<Uuid>>,
    pub channel_types: Option<Vec<ChannelType>>,
    pub owner_super_identity_ids: Option<Vec<Uuid>>,
    pub responder_super_identity_ids: Option<Vec<Uuid>>,
    pub ticket_statuses: Option<Vec<TicketStatus>>,
    /// Chats created within this range.
    pub created_at: Option<TimeRange>,
    /// Chats whose last message falls within this range (never a chat
    /// without messages).
    pub last_message_at: Option<TimeRange>,
    /// Chats with (true) or without (false) a responder.
    pub has_responder: Option<bool>,
    /// Chats with (true) or without (false) a ticket.
    pub has_ticket: Option<bool>,
    /// Chats whose owner is (true) or is not (false) a blocked external
    /// user; platform users are never blocked.
    pub owner_is_blocked: Option<bool>,
    /// Chats with every word of this in their title or in one message.
    pub search: Option<Search>,
    /// Soft-removed chats are left out unless this is set.
    pub include_removed: bool,
}

/// Conditions on a chat list, checked: only [`ChatFilter::new`] (and
/// [`ChatFilter::for_events`]) make one, so whoever takes one may rely on
/// its bounds. Reads as its [`FilterSpec`]. The default asks nothing.
#[derive(Debug, Clone, Default)]
pub struct ChatFilter(FilterSpec);

impl std::ops::Deref for ChatFilter {
    type Target = FilterSpec;

    fn deref(&self) -> &FilterSpec {
        &self.0
    }
}

/// Instants from `gte` (included) to `lt` (excluded); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub gte: Option<DateTime<Utc>>,
    pub lt: Option<DateTime<Utc>>,
}

impl TimeRange {
    fn check(&self, field: &str) -> AppResult<()> {
        match (self.gte, self.lt) {
            (Some(gte), Some(lt)) if gte >= lt => Err(AppError::invalid(
                format!("{field}.lt"),
                "must be later than gte; the range would be empty",
            )),
            _ => Ok(()),
        }
    }

    fn condition(&self, column: chat::Column) -> Condition {
        let mut cond = Condition::all().add(column.is_not_null());
        if let Some(gte) = self.gte {
            cond = cond.add(column.gte(gte));
        }
        if let Some(lt) = self.lt {
            cond = cond.add(column.lt(lt));
        }
        cond
    }

    fn contains(&self, at: Option<DateTime<Utc>>) -> bool {
        at.is_some_and(|at| {
            self.gte.is_none_or(|gte| at >= gte) && self.lt.is_none_or(|lt| at < lt)
        })
    }
}

/// The order of a chat list. Every order ends on the id, so rows with equal
/// timestamps keep one stable order and pages never repeat or skip a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChatOrder {
    /// Newest first.
    #[default]
    CreatedAtDesc,
    /// Oldest first.
    CreatedAtAsc,
    /// Most recent message first; chats without messages last.
    LastActivityDesc,
    /// Least recent message first; chats without messages first.
    LastActivityAsc,
}

/// A validated page request (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub page_size: u64,
}

impl PageRequest {
    /// Checks `page >= 1` and `1 <= page_size <= MAX_PAGE_SIZE`.
    pub fn new(page: i64, page_size: i64) -> AppResult<Self> {
        let page = u64::try_from(page)
            .ok()
            .filter(|p| (1..=MAX_PAGE).contains(p))
            .ok_or_else(|| {
                AppError::invalid(
                    "page",
                    format!("must be between 1 and {MAX_PAGE}, got {page}"),
                )
            })?;
        let page_size = u64::try_from(page_size)
            .ok()
            .filter(|s| (1..=MAX_PAGE_SIZE).contains(s))
            .ok_or_else(|| {
                AppError::invalid(
                    "pageSize",
                    format!("must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"),
                )
            })?;
        Ok(Self { page, page_size })
    }

    /// Rows before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.page_size
    }
}

fn check_len<T>(field: &str, values: &Option<Vec<T>>) -> AppResult<()> {
    match values {
        Some(v) if v.len() > MAX_FILTER_VALUES => Err(AppError::invalid(
            field,
            format!("at most {MAX_FILTER_VALUES} values, got {}", v.len()),
        )),
        _ => Ok(()),
    }
}

impl ChatFilter {
    /// Checks `spec`: lists of at most [`MAX_FILTER_VALUES`], ranges that
    /// are not empty, a search of words. An error names the field within
    /// the filter (`channelIds`, `createdAt.lt`); the caller says where the
    /// filter was ([`AppError::within`]).
    pub fn new(spec: FilterSpec) -> AppResult<Self> {
        check_len("ids", &spec.ids)?;
        check_len("channelIds", &spec.channel_ids)?;
        check_len("channelTypes", &spec.channel_types)?;
        check_len("ownerSuperIdentityIds", &spec.owner_super_identity_ids)?;
        check_len(
            "responderSuperIdentityIds",
            &spec.responder_super_identity_ids,
        )?;
        check_len("ticketStatuses", &spec.ticket_statuses)?;
        if let Some(range) = &spec.created_at {
            range.check("createdAt")?;
        }
        if let Some(range) = &spec.last_message_at {
            range.check("lastMessageAt")?;
        }
        if let Some(search) = &spec.search {
            search.check("search")?;
        }
        Ok(Self(spec))
    }

    /// [`Self::new`] for an event stream, which also refuses a search: an
    /// event carries its chat and newest messages, not every message a
    /// search would look at.
    pub fn for_events(spec: FilterSpec) -> AppResult<Self> {
        if spec.search.is_some() {
            return Err(AppError::invalid(
                "search",
                "is not available on chatEvents: filter the chats query instead",
            ));
        }
        Self::new(spec)
    }

    /// The SQL condition for chats of `workspace_id` matching this filter
    /// (search is spelled per backend).
    pub fn condition(&self, backend: DbBackend, workspace_id: Uuid) -> Condition {
        let cond = self.condition_without_search(workspace_id);
        match &self.search {
            Some(search) => cond.add(search.condition(backend)),
            None => cond,
        }
    }

    /// The SQL condition for everything in this filter but its search.
    pub fn condition_without_search(&self, workspace_id: Uuid) -> Condition {
        let mut cond = Condition::all().add(chat::Column::WorkspaceId.eq(workspace_id));
        if !self.include_removed {
            cond = cond.add(chat::Column::RemovedAt.is_null());
        }
        if let Some(ids) = &self.ids {
            cond = cond.add(chat::Column::Id.is_in(ids.clone()));
        }
        if let Some(ids) = &self.channel_ids {
            cond = cond.add(chat::Column::ChannelId.is_in(ids.clone()));
        }
        if let Some(ids) = &self.owner_super_identity_ids {
            cond = cond.add(chat::Column::OwnerSuperIdentityId.is_in(ids.clone()));
        }
        if let Some(ids) = &self.responder_super_identity_ids {
            cond = cond.add(chat::Column::ResponderSuperIdentityId.is_in(ids.clone()));
        }
        if let Some(types) = &self.channel_types {
            let channels = channels_of_types(workspace_id, types);
            cond = cond.add(chat::Column::ChannelId.in_subquery(channels));
        }
        if let Some(statuses) = &self.ticket_statuses {
            let tickets = Query::select()
                .column(ticket::Column::Id)
                .from(ticket::Entity)
                .and_where(ticket::Column::WorkspaceId.eq(workspace_id))
                .and_where(ticket::Column::Status.is_in(statuses.iter().copied()))
                .to_owned();
            cond = cond.add(chat::Column::TicketId.in_subquery(tickets));
        }
        if let Some(range) = &self.created_at {
            cond = cond.add(range.condition(chat::Column::CreatedAt));
        }
        if let Some(range) = &self.last_message_at {
            cond = cond.add(range.condition(chat::Column::LastMessageAt));
        }
        if let Some(has) = self.has_responder {
            let column = chat::Column::ResponderSuperIdentityId;
            cond = cond.add(if has {
                column.is_not_null()
            } else {
                column.is_null()
            });
        }
        if let Some(has) = self.has_ticket {
            let column = chat::Column::TicketId;
            cond = cond.add(if has {
                column.is_not_null()
            } else {
                column.is_null()
            });
        }
        if let Some(blocked) = self.owner_is_blocked {
            let blocked_owners = Query::select()
                .column(external_user::Column::SuperIdentityId)
                .from(external_user::Entity)
                .and_where(external_user::Column::WorkspaceId.eq(workspace_id))
                .and_where(external_user::Column::IsBlocked.eq(true))
                .to_owned();
            let owner = chat::Column::OwnerSuperIdentityId;
            cond = cond.add(if blocked {
                owner.in_subquery(blocked_owners)
            } else {
                owner.not_in_subquery(blocked_owners)
            });
        }
        cond
    }
}

/// The ids of `workspace_id`'s channels of one of `types`: what a filter
/// of channel types keeps, of the chats and of the counters alike.
pub fn channels_of_types(workspace_id: Uuid, types: &[ChannelType]) -> SelectStatement {
    Query::select()
        .column(channel::Column::Id)
        .from(channel::Entity)
        .and_where(channel::Column::WorkspaceId.eq(workspace_id))
        .and_where(channel::Column::ChannelType.is_in(types.iter().copied()))
        .to_owned()
}

impl ChatFilter {
    /// The filter as conditions on the live-chat counters' buckets, when
    /// it asks nothing else (so the counters answer its counts).
    pub fn only_buckets(&self) -> Option<BucketFilter<'_>> {
        let FilterSpec {
            ids: None,
            channel_ids,
            channel_types,
            owner_super_identity_ids: None,
            responder_super_identity_ids,
            ticket_statuses,
            created_at: None,
            last_message_at: None,
            has_responder,
            has_ticket,
            owner_is_blocked: None,
            search: None,
            include_removed: false,
        } = &self.0
        else {
            return None;
        };
        Some(BucketFilter {
            channel_ids: channel_ids.as_deref(),
            channel_types: channel_types.as_deref(),
            responders: responder_super_identity_ids.as_deref(),
            has_responder: *has_responder,
            ticket_statuses: ticket_statuses.as_deref(),
            has_ticket: *has_ticket,
        })
    }

    /// Whether a chat with these `facts` matches, as [`Self::condition`]
    /// would in SQL (for events, which keep the facts of their chat), with
    /// `include_removed` in place of the filter's own. A search needs
    /// every message: callers refuse it first, and nothing matches one here.
    pub fn matches(&self, facts: &FilterFacts, include_removed: bool) -> bool {
        fn within<T: PartialEq>(values: &Option<Vec<T>>, value: Option<T>) -> bool {
            match values {
                None => true,
                Some(values) => value.is_some_and(|value| values.contains(&value)),
            }
        }
        self.search.is_none()
            && (include_removed || !facts.removed)
            && within(&self.ids, Some(facts.chat_id))
            && within(&self.channel_ids, Some(facts.channel_id))
            && within(&self.channel_types, facts.channel_type)
            && within(
                &self.owner_super_identity_ids,
                Some(facts.owner_super_identity_id),
            )
            && within(
                &self.responder_super_identity_ids,
                facts.responder_super_identity_id,
            )
            && within(&self.ticket_statuses, facts.ticket_status)
            && self
                .created_at
                .is_none_or(|range| range.contains(Some(facts.created_at)))
            && self
                .last_message_at
                .is_none_or(|range| range.contains(facts.last_message_at))
            && self
                .has_responder
                .is_none_or(|has| has == facts.responder_super_identity_id.is_some())
            && self
                .has_ticket
                .is_none_or(|has| has == facts.ticket_id.is_some())
            && self
                .owner_is_blocked
                .is_none_or(|blocked| blocked == facts.owner_is_blocked)
    }
}

/// What a [`ChatFilter`] reads of one chat. Each chat event keeps these
/// as of its write ([`crate::service::events`]), so a subscriber is judged against
/// the chat as it was when the event happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterFacts {
    pub chat_id: Uuid,
    pub channel_id: Uuid,
    pub channel_type: Option<ChannelType>,
    pub owner_super_identity_id: Uuid,
    /// Platform users are never blocked.
    pub owner_is_blocked: bool,
    pub responder_super_identity_id: Option<Uuid>,
    pub ticket_id: Option<Uuid>,
    pub ticket_status: Option<TicketStatus>,
    pub created_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub removed: bool,
}

impl FilterFacts {
    /// The facts of a chat as `row` shows it now.
    pub fn of(row: &ChatRow) -> Self {
        let chat = &row.chat;
        Self {
            chat_id: chat.id,
            channel_id: chat.channel_id,
            channel_type: row.channel.as_ref().map(|c| c.channel_type),
            owner_super_identity_id: chat.owner_super_identity_id,
            owner_is_blocked: matches!(&row.owner, Some(Owner::External(e)) if e.is_blocked),
            responder_super_identity_id: chat.responder_super_identity_id,
            ticket_id: chat.ticket_id,
            ticket_status: row.ticket.as_ref().map(|t| t.status),
            created_at: chat.created_at,
            last_message_at: chat.last_message_at,
            removed: chat.removed_at.is_some(),
        }
    }
}

impl ChatOrder {
    /// The same order, backwards (for paging backwards from a cursor).
    pub fn reversed(self) -> Self {
        match self {
            Self::CreatedAtDesc => Self::CreatedAtAsc,
            Self::CreatedAtAsc => Self::CreatedAtDesc,
            Self::LastActivityDesc => Self::LastActivityAsc,
            Self::LastActivityAsc => Self::LastActivityDesc,
        }
    }

    /// Whether the list runs from the largest key down.
    pub fn is_descending(self) -> bool {
        matches!(self, Self::CreatedAtDesc | Self::LastActivityDesc)
    }

    /// The timestamp the list is sorted by (the id breaks ties).
    pub fn key_column(self) -> chat::Column {
        match self {
            Self::CreatedAtDesc | Self::CreatedAtAsc => chat::Column::CreatedAt,
            Self::LastActivityDesc | Self::LastActivityAsc => chat::Column::LastMessageAt,
        }
    }

    /// This order for keyset paging.
    pub fn key_order(self) -> KeyOrder<chat::Column> {
        KeyOrder {
            key: self.key_column(),
            id: chat::Column::Id,
            descending: self.is_descending(),
            nullable: matches!(self, Self::LastActivityDesc | Self::LastActivityAsc),
        }
    }

    /// Where `chat` stands in this order.
    pub fn position(self, chat: &chat::Model) -> Position {
        let key = match self.key_column() {
            chat::Column::LastMessageAt => chat.last_message_at,
            _ => Some(chat.created_at),
        };
        Position { key, id: chat.id }
    }

    /// Applies this order, id last, to a chat query.
    pub fn apply(self, query: Select<chat::Entity>) -> Select<chat::Entity> {
        use chat::Column::{CreatedAt, Id, LastMessageAt};
        match self {
            Self::CreatedAtDesc => query.order_by_desc(CreatedAt).order_by_desc(Id),
            Self::CreatedAtAsc => query.order_by_asc(CreatedAt).order_by_asc(Id),
            // Spelled out because the databases disagree on where NULLs sort.
            Self::LastActivityDesc => query
                .order_by_with_nulls(LastMessageAt, Order::Desc, NullOrdering::Last)
                .order_by_desc(Id),
            Self::LastActivityAsc => query
                .order_by_with_nulls(LastMessageAt, Order::Asc, NullOrdering::First)
                .order_by_asc(Id),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use entity::external_user;

    use super::*;

    /// What `chatEvents` applies in memory agrees with the SQL conditions
    /// (which the API tests check against the lists).
    #[test]
    fn new_filters_match_in_memory_as_in_sql() {
        let t = |m: u32| Utc.with_ymd_and_hms(2026, 1, 1, 12, m, 0).unwrap();
        let chat = chat::Model {
            id: Uuid::new_v4(),
            workspace_id: Uuid::new_v4(),
            channel_id: Uuid::new_v4(),
            owner_super_identity_id: Uuid::new_v4(),
            responder_super_identity_id: None,
            responder_version_id: None,
            ticket_id: Some(Uuid::new_v4()),
            title: None,
            created_at: t(10),
            updated_at: t(10),
            removed_at: None,
            last_message_at: None,
        };
        let blocked = external_user::Model {
            id: Uuid::new_v4(),
            workspace_id: chat.workspace_id,
            super_identity_id: chat.owner_super_identity_id,
            external_id: "@x".to_owned(),
            name: "X".to_owned(),
            is_blocked: true,
        };
        let row = ChatRow {
            chat,
            channel: None,
            owner: Some(Owner::External(blocked)),
            responder: None,
            responder_version: None,
            ticket: None,
            recent: None,
        };
        let range = |gte: Option<u32>, lt: Option<u32>| TimeRange {
            gte: gte.map(t),
            lt: lt.map(t),
        };
        let facts = FilterFacts::of(&row);
        let matches = |spec: FilterSpec| ChatFilter::new(spec).unwrap().matches(&facts, false);
        let created = |r: TimeRange| FilterSpec {
            created_at: Some(r),
            ..Default::default()
        };
        assert!(matches(created(range(Some(10), Some(11)))));
        assert!(!matches(created(range(Some(11), None))));
        assert!(!matches(created(range(None, Some(10)))));
        let last = FilterSpec {
            last_message_at: Some(range(None, None)),
            ..Default::default()
        };
        assert!(!matches(last), "no messages: in no range");
        let flags = |has_responder, has_ticket, owner_is_blocked| FilterSpec {
            has_responder,
            has_ticket,
            owner_is_blocked,
            ..Default::default()
        };
        assert!(matches(flags(Some(false), Some(true), Some(true))));
        assert!(!matches(flags(Some(true), None, None)));
        assert!(!matches(flags(None, Some(false), None)));
        assert!(!matches(flags(None, None, Some(false))));
        assert!(matches(flags(None, None, None)));
    }

    #[test]
    fn page_bounds_name_the_argument() {
        assert_eq!(PageRequest::new(1, 100).unwrap().offset(), 0);
        assert_eq!(PageRequest::new(3, 10).unwrap().offset(), 20);
        let field = |r: AppResult<PageRequest>| match r {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(field(PageRequest::new(0, 10)), "page");
        assert_eq!(field(PageRequest::new(-5, 10)), "page");
        assert_eq!(field(PageRequest::new(1, 0)), "pageSize");
        assert_eq!(field(PageRequest::new(1, 101)), "pageSize");
    }

    #[test]
    fn a_subscription_filter_refuses_a_search_and_the_counters_take_none() {
        let search = FilterSpec {
            search: Search::new("refund".to_owned()),
            ..FilterSpec::default()
        };
        let refused = ChatFilter::for_events(search.clone()).unwrap_err();
        match refused {
            AppError::Invalid { field, .. } => assert_eq!(field, "search"),
            other => panic!("expected Invalid, got {other:?}"),
        }
        let search = ChatFilter::new(search).unwrap();
        assert!(search.only_buckets().is_none());
        assert!(ChatFilter::for_events(FilterSpec::default()).is_ok());
        assert!(ChatFilter::default().only_buckets().is_some());
    }
}
