//! What a principal may do: a fixed set of scopes, as OAuth 2.0 writes
//! them (`chats:read messages:read`). A token carries its scopes in its
//! scope claim; an API key gets them when it is made (all, by default).
//! Each field of the schema that needs one declares it
//! (`@requiresScopes`), and is refused (FORBIDDEN) without it.

use std::fmt;

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read chats, their channels, responders and tickets, and counts.
    ChatsRead,
    /// Create, change, remove and restore chats.
    ChatsWrite,
    /// Read messages (history, previews, posted messages).
    MessagesRead,
    /// Post messages.
    MessagesWrite,
    /// Read chat owners: names, emails, external ids (personal data).
    DirectoryRead,
    /// Open subscriptions.
    EventsSubscribe,
    /// Register, change and remove webhook endpoints; read, replay and
    /// redeliver their deliveries (which carry chats and messages).
    WebhooksManage,
}

impl Scope {
    /// Every scope, in the order the documentation lists them.
    pub const ALL: [Self; 7] = [
        Self::ChatsRead,
        Self::ChatsWrite,
        Self::MessagesRead,
        Self::MessagesWrite,
        Self::DirectoryRead,
        Self::EventsSubscribe,
        Self::WebhooksManage,
    ];

    /// As tokens and keys spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ChatsRead => "chats:read",
            Self::ChatsWrite => "chats:write",
            Self::MessagesRead => "messages:read",
            Self::MessagesWrite => "messages:write",
            Self::DirectoryRead => "directory:read",
            Self::EventsSubscribe => "events:subscribe",
            Self::WebhooksManage => "webhooks:manage",
        }
    }

    /// The scope spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == text)
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope: what a key made without `--scopes` holds.
    pub const ALL: Self = Self(0b111_1111);

    /// Whether it holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether it holds every scope of `required` (checked for every
    /// scoped field resolved, so it allocates nothing).
    pub fn holds_all(self, required: &[Scope]) -> bool {
        required.iter().all(|scope| self.contains(*scope))
    }

    /// Its scopes, in the documentation's order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }

    /// A token's scope claim (space-separated, as OAuth 2.0 writes it).
    /// A scope this gateway does not know is left out: a token may carry
    /// scopes for other APIs too.
    pub fn from_claim(claim: &str) -> Self {
        claim.split_whitespace().filter_map(Scope::parse).collect()
    }

    /// An API key's scopes as stored (`None` for a key made before keys
    /// had scopes: every scope, so that it kept working).
    pub fn of_key(stored: Option<&str>) -> Self {
        stored.map_or(Self::ALL, Self::from_claim)
    }

    /// A list a person wrote (`chats:read,messages:read`, or separated by
    /// spaces); a scope it does not know is an error naming it.
    pub fn parse_list(text: &str) -> Result<Self, String> {
        let mut scopes = Self::default();
        for word in text
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            let scope = Scope::parse(word).ok_or_else(|| {
                let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown scope {word:?}; the scopes are {}",
                    known.join(", ")
                )
            })?;
            scopes = scopes.with(scope);
        }
        Ok(scopes)
    }

    /// It and `scope`.
    pub fn with(self, scope: Scope) -> Self {
        Self(self.0 | scope.bit())
    }

    /// Space-separated, as stored and as tokens write them.
    pub fn to_claim(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(Self::default(), Self::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_as_written_and_unknown_ones_are_named_or_passed_over() {
        let read = Scopes::parse_list("chats:read, messages:read").unwrap();
        assert!(read.contains(Scope::ChatsRead) && read.contains(Scope::MessagesRead));
        assert!(!read.contains(Scope::ChatsWrite));
        assert_eq!(read.to_claim(), "chats:read messages:read");
        assert!(read.holds_all(&[Scope::ChatsRead, Scope::MessagesRead]));
        assert!(!read.holds_all(&[Scope::ChatsRead, Scope::ChatsWrite]));
        assert_eq!(Scopes::of_key(None), Scopes::ALL);
        assert_eq!(Scopes::of_key(Some("chats:read messages:read")), read);
        let refused = Scopes::parse_list("chats:read,chats:delete").unwrap_err();
        assert!(refused.contains("\"chats:delete\""), "{refused}");
        assert_eq!(
            Scopes::from_claim("openid chats:write profile"),
            Scopes::default().with(Scope::ChatsWrite)
        );
        assert_eq!(Scopes::ALL.iter().count(), 7);
        assert_eq!(Scopes::ALL.to_claim().split(' ').count(), 7);
    }
}
