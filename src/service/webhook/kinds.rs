//! What an endpoint can receive: a chat event's kind, or LEFT_FILTER for a
//! change that took a chat out of its filter (as a filtered subscription
//! gets it). Sent as the type `chat.` + the kind in lower case.

use entity::enums::ChatEventKind;
use sea_orm::ActiveEnum;

/// An event type an endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Chat(ChatEventKind),
    LeftFilter,
}

impl EventType {
    /// How many there are: the chat event kinds, and LEFT_FILTER.
    pub fn count() -> usize {
        <ChatEventKind as sea_orm::Iterable>::iter().count() + 1
    }

    /// As stored and as the body's `type` ends: `message_posted`.
    pub fn as_str(self) -> String {
        match self {
            Self::Chat(kind) => kind.to_value(),
            Self::LeftFilter => "left_filter".to_owned(),
        }
    }

    /// The body's `type`: `chat.message_posted`.
    pub fn type_name(self) -> String {
        format!("chat.{}", self.as_str())
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "left_filter" => Some(Self::LeftFilter),
            other => ChatEventKind::try_from_value(&other.to_owned())
                .ok()
                .map(Self::Chat),
        }
    }
}

/// The stored list `text` (space-separated).
pub fn load(text: &str) -> Vec<EventType> {
    text.split_whitespace()
        .filter_map(EventType::parse)
        .collect()
}

/// `kinds` as stored, without repeats.
pub fn store(kinds: &[EventType]) -> String {
    let mut seen = std::collections::HashSet::new();
    let names: Vec<String> = kinds
        .iter()
        .filter(|kind| seen.insert(**kind))
        .map(|kind| kind.as_str())
        .collect();
    names.join(" ")
}
