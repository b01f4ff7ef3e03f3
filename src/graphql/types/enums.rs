//! The GraphQL enumerations, each mirroring a stored enumeration one to one.

use async_graphql::Enum;
use entity::enums;

use crate::service::{chat::filter::ChatOrder, message::MessageOrder};

/// Maps a GraphQL enum to and from its stored twin, variant by variant, so a
/// new stored value fails to compile until the schema has it too.
macro_rules! mirror {
    ($graphql:ident <=> $stored:path { $($variant:ident),+ $(,)? }) => {
        impl From<$stored> for $graphql {
            fn from(value: $stored) -> Self {
                use $stored as S;
                match value { $(S::$variant => Self::$variant),+ }
            }
        }

        impl From<$graphql> for $stored {
            fn from(value: $graphql) -> Self {
                use $stored as S;
                match value { $($graphql::$variant => S::$variant),+ }
            }
        }
    };
}

/// The transport a chat arrives on.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelType {
    /// The web chat widget embedded in a site.
    Widget,
    /// WhatsApp through a WAHA (WhatsApp HTTP API) instance.
    Waha,
    /// The official WhatsApp Business platform.
    Whatsapp,
    /// Instagram direct messages.
    Instagram,
    /// Chats created by the workspace's own code through the API.
    Api,
}
mirror!(ChannelType <=> enums::ChannelType { Widget, Waha, Whatsapp, Instagram, Api });

/// Where a support ticket stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketStatus {
    /// Waiting for the team.
    Open,
    /// Waiting for the customer or a third party.
    Pending,
    /// Solved, may still be reopened.
    Resolved,
    /// Finished for good.
    Closed,
}
mirror!(TicketStatus <=> enums::TicketStatus { Open, Pending, Resolved, Closed });

/// Who wrote a message.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRole {
    /// The chat owner (the customer or platform user).
    User,
    /// The AI responder.
    Assistant,
    /// A human operator of the workspace.
    Operator,
    /// The platform itself (notices, hand-offs).
    System,
}
mirror!(MessageRole <=> enums::MessageRole { User, Assistant, Operator, System });

/// The kind of responder assigned to a chat.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponderType {
    /// A single AI agent.
    Agent,
    /// A squad of AI agents.
    Squad,
}
mirror!(ResponderType <=> enums::ResponderKind { Agent, Squad });

/// The order of a chat list. Every order breaks ties by chat id, so pages
/// never repeat or skip a chat.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChatOrderBy {
    /// Newest chats first (the default).
    #[default]
    CreatedAtDesc,
    /// Oldest chats first.
    CreatedAtAsc,
    /// Most recent message first; chats without messages last.
    LastActivityDesc,
    /// Least recent message first; chats without messages first.
    LastActivityAsc,
}
mirror!(ChatOrderBy <=> ChatOrder { CreatedAtDesc, CreatedAtAsc, LastActivityDesc, LastActivityAsc });

/// The order of a chat's messages. Ties break by message id.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MessageOrderBy {
    /// Newest messages first (the default).
    #[default]
    CreatedAtDesc,
    /// Oldest messages first.
    CreatedAtAsc,
}
mirror!(MessageOrderBy <=> MessageOrder { CreatedAtDesc, CreatedAtAsc });

/// What happened to a chat.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatEventKind {
    /// The chat was created.
    Created,
    /// The chat's title, responder or ticket changed (or it was restored).
    Updated,
    /// The chat was soft-removed (sent even to a subscription whose filter
    /// leaves removed chats out, so a list can drop it).
    Removed,
    /// A message was posted to the chat (see `message`).
    MessagePosted,
    /// A change (reassignment, a new ticket, a message that moved its last
    /// activity, ...) took the chat out of this subscription's filter: drop
    /// it from a list that shows the filter. Only filtered subscriptions
    /// get it, in place of the change's own kind.
    LeftFilter,
    /// Events were lost to this subscriber (its cursor is older than the
    /// retention, or it fell behind): refetch what it shows, then go on
    /// from this event's cursor.
    ResyncRequired,
}

impl From<enums::ChatEventKind> for ChatEventKind {
    fn from(kind: enums::ChatEventKind) -> Self {
        use enums::ChatEventKind as K;
        match kind {
            K::Created => Self::Created,
            K::Updated => Self::Updated,
            K::Removed => Self::Removed,
            K::MessagePosted => Self::MessagePosted,
        }
    }
}
