//! Input objects of the chat operations, and their conversion to what the
//! chat service takes.

use async_graphql::{InputObject, MaybeUndefined, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    chat::Chat,
    enums::{ChannelType, MessageRole, TicketStatus},
    message::Message,
};
use crate::{
    error::AppResult,
    service::{
        chat::{
            ChatChanges, NewChat, Patch,
            filter::{ChatFilter, FilterSpec, MAX_FILTER_VALUES, TimeRange},
        },
        message::{MAX_CONTENT_CHARS, NewMessage},
        search::{MAX_SEARCH_CHARS, MAX_SEARCH_WORDS, Search},
    },
};

/// Which chats to list. Conditions combine with AND; a list matches any of
/// its values, and each list holds at most 100 values.
#[derive(InputObject, Debug, Default)]
#[graphql(name = "ChatFilter")]
pub struct ChatFilterInput {
    /// Only these chats.
    ids: Option<Vec<Uuid>>,
    /// Only chats on these channels.
    channel_ids: Option<Vec<Uuid>>,
    /// Only chats on channels of these types.
    channel_types: Option<Vec<ChannelType>>,
    /// Only chats owned by these super identities (users or external users).
    owner_super_identity_ids: Option<Vec<Uuid>>,
    /// Only chats answered by these super identities (agents or squads).
    responder_super_identity_ids: Option<Vec<Uuid>>,
    /// Only chats linked to a ticket with one of these statuses.
    ticket_statuses: Option<Vec<TicketStatus>>,
    /// Only chats created within this range.
    created_at: Option<DateTimeRange>,
    /// Only chats whose last message was posted within this range (a chat
    /// without messages never is).
    last_message_at: Option<DateTimeRange>,
    /// Only chats with (true) or without (false) a responder; null or
    /// omitted: either.
    has_responder: Option<bool>,
    /// Only chats with (true) or without (false) a ticket; null or
    /// omitted: either.
    has_ticket: Option<bool>,
    /// Only chats whose owner is (true) or is not (false) a blocked
    /// external user (platform users are never blocked); null or omitted:
    /// either. Needs the scope `directory:read`.
    owner_is_blocked: Option<bool>,
    /// Only chats whose title, or one of whose messages, holds every word
    /// of this (words are runs of letters and digits, each matched as the
    /// start of a word, in any case: "refund ord" finds "Refunded order").
    /// At most 200 characters and 10 words; blank or null: no search. Not
    /// available on `chatEvents`. Needs the scope `messages:read`.
    search: Option<String>,
    /// Include soft-removed chats too.
    #[graphql(default = false)]
    include_removed: bool,
}

/// A range of instants: from `gte` (included) to `lt` (excluded). Either
/// end may be left out; `gte` must be earlier than `lt`.
#[derive(InputObject, Debug, Default, Clone, Copy)]
pub struct DateTimeRange {
    /// From this instant on (included).
    gte: Option<DateTime<Utc>>,
    /// Before this instant (excluded).
    lt: Option<DateTime<Utc>>,
}

impl From<DateTimeRange> for TimeRange {
    fn from(range: DateTimeRange) -> Self {
        Self {
            gte: range.gte,
            lt: range.lt,
        }
    }
}

impl ChatFilterInput {
    /// The checked filter of a list or a count; errors name the
    /// `filter` argument's fields.
    pub fn checked(input: Option<Self>) -> AppResult<ChatFilter> {
        ChatFilter::new(input.unwrap_or_default().into()).map_err(|e| e.within("filter"))
    }

    /// The checked filter of an event stream (no search).
    pub fn checked_for_events(input: Option<Self>) -> AppResult<ChatFilter> {
        ChatFilter::for_events(input.unwrap_or_default().into()).map_err(|e| e.within("filter"))
    }
}

impl From<ChatFilterInput> for FilterSpec {
    fn from(input: ChatFilterInput) -> Self {
        fn map<T: Into<U>, U>(values: Option<Vec<T>>) -> Option<Vec<U>> {
            values.map(|v| v.into_iter().map(Into::into).collect())
        }
        Self {
            ids: input.ids,
            channel_ids: input.channel_ids,
            channel_types: map(input.channel_types),
            owner_super_identity_ids: input.owner_super_identity_ids,
            responder_super_identity_ids: input.responder_super_identity_ids,
            ticket_statuses: map(input.ticket_statuses),
            created_at: input.created_at.map(Into::into),
            last_message_at: input.last_message_at.map(Into::into),
            has_responder: input.has_responder,
            has_ticket: input.has_ticket,
            owner_is_blocked: input.owner_is_blocked,
            search: input.search.and_then(Search::new),
            include_removed: input.include_removed,
        }
    }
}

/// Keeps the documented cap in the schema text in step with the code.
const _: () = assert!(MAX_FILTER_VALUES == 100);
const _: () = assert!(MAX_SEARCH_CHARS == 200 && MAX_SEARCH_WORDS == 10);

/// A new chat.
#[derive(InputObject, Debug)]
pub struct CreateChatInput {
    /// The channel the chat arrives on.
    channel_id: Uuid,
    /// The super identity ID of the chat owner: a user's or an external
    /// user's `superIdentityId`.
    owner_super_identity_id: Uuid,
    /// The super identity ID of the responder: an agent's or a squad's
    /// `superIdentityId`. Its latest version is pinned to the chat.
    responder_super_identity_id: Option<Uuid>,
    /// The title of the chat, at most 500 characters.
    title: Option<String>,
}

impl From<CreateChatInput> for NewChat {
    fn from(input: CreateChatInput) -> Self {
        Self {
            channel_id: input.channel_id,
            owner_super_identity_id: input.owner_super_identity_id,
            responder_super_identity_id: input.responder_super_identity_id,
            title: input.title,
            created_at: None,
        }
    }
}

/// Changes to a chat: a field left out is kept, a field set to null is cleared.
#[derive(InputObject, Debug, Default)]
pub struct UpdateChatInput {
    /// The new title (at most 500 characters), or null to clear it.
    title: MaybeUndefined<String>,
    /// The new responder (an agent's or squad's `superIdentityId`; its latest
    /// version is pinned), or null to unassign it.
    responder_super_identity_id: MaybeUndefined<Uuid>,
    /// The ticket to link, or null to unlink the current one.
    ticket_id: MaybeUndefined<Uuid>,
}

fn patch<T>(value: MaybeUndefined<T>) -> Patch<T> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v),
    }
}

impl From<UpdateChatInput> for ChatChanges {
    fn from(input: UpdateChatInput) -> Self {
        Self {
            title: patch(input.title),
            responder_super_identity_id: patch(input.responder_super_identity_id),
            ticket_id: patch(input.ticket_id),
        }
    }
}

/// The result of removing a chat.
#[derive(SimpleObject, Debug)]
pub struct RemoveChatPayload {
    /// An informative message for a call that has no effective result to be returned.
    pub message: String,
    /// The ID of the removed chat.
    pub chat_id: Uuid,
}

/// A message to post to a chat.
#[derive(InputObject, Debug)]
pub struct PostMessageInput {
    /// The chat to post to: a live chat of the workspace.
    chat_id: Uuid,
    /// Who wrote it.
    role: MessageRole,
    /// The text: 1 to 32,768 characters, without NUL.
    content: String,
}

impl From<PostMessageInput> for NewMessage {
    fn from(input: PostMessageInput) -> Self {
        Self {
            chat_id: input.chat_id,
            role: input.role.into(),
            content: input.content,
            created_at: None,
        }
    }
}

/// The result of posting a message.
#[derive(SimpleObject)]
pub struct PostMessagePayload {
    /// The message, as stored.
    pub message: Message,
    /// The chat, with its `lastMessageAt` and `updatedAt` moved.
    pub chat: Chat,
}

/// Keeps the documented limit in the schema text in step with the code.
const _: () = assert!(MAX_CONTENT_CHARS == 32_768);
