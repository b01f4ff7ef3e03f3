//! One Relay connection shape and one cursor codec for every paged type
//! (chats, messages): an opaque cursor is a keyset position tagged with
//! the order it belongs to, so a cursor of one list or order is refused by
//! another instead of paging it wrongly.

use async_graphql::{Object, OutputType, SimpleObject};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use super::{chat::Chat, message::Message, owner::Owner, ticket::Ticket, webhook::WebhookDelivery};
use crate::{
    error::{AppError, AppResult},
    service::keyset::{KeysetRequest, Position},
};

/// An opaque cursor for `position` in the order tagged `tag`.
pub fn encode(tag: &str, position: Position) -> String {
    let key = position.key.map(|k| k.to_rfc3339()).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("v1|{tag}|{key}|{}", position.id))
}

/// The position a cursor names. BAD_USER_INPUT on `field` when it is not
/// one of ours or was made for another list or order.
pub fn decode(cursor: &str, tag: &str, field: &'static str) -> AppResult<Position> {
    let invalid = || {
        AppError::invalid(
            field,
            "is not a cursor of this list; use a cursor this list returned",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split('|');
    let (Some("v1"), Some(found), Some(key), Some(id), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid());
    };
    if found != tag {
        return Err(AppError::invalid(
            field,
            "was made for another list or orderBy; start again without it",
        ));
    }
    let key = match key {
        "" => None,
        key => Some(
            DateTime::parse_from_rfc3339(key)
                .map_err(|_| invalid())?
                .with_timezone(&Utc),
        ),
    };
    let id = id.parse().map_err(|_| invalid())?;
    Ok(Position { key, id })
}

/// The Relay arguments of a connection field, cursors decoded for the
/// order tagged `tag`.
pub fn request(
    tag: &str,
    first: Option<i64>,
    after: Option<&str>,
    last: Option<i64>,
    before: Option<&str>,
) -> AppResult<KeysetRequest> {
    let after = after.map(|c| decode(c, tag, "after")).transpose()?;
    let before = before.map(|c| decode(c, tag, "before")).transpose()?;
    KeysetRequest::new(first, after, last, before)
}

/// Where a connection's page sits (the Relay `PageInfo`).
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether items follow this page (pass `endCursor` as `after`).
    has_next_page: bool,
    /// Whether items precede this page (pass `startCursor` as `before`).
    has_previous_page: bool,
    /// The cursor of the first item of the page; null when the page is empty.
    start_cursor: Option<String>,
    /// The cursor of the last item of the page; null when the page is empty.
    end_cursor: Option<String>,
}

/// An item and its cursor.
#[derive(SimpleObject)]
#[graphql(concrete(name = "ChatEdge", params(Chat)))]
#[graphql(concrete(name = "MessageEdge", params(Message)))]
#[graphql(concrete(name = "TicketEdge", params(Ticket)))]
#[graphql(concrete(name = "OwnerEdge", params(Owner)))]
#[graphql(concrete(name = "WebhookDeliveryEdge", params(WebhookDelivery)))]
pub struct Edge<N: OutputType> {
    /// An opaque position in the list: pass it as `after` or `before`.
    pub cursor: String,
    /// The item.
    pub node: N,
}

/// A page read by `request`: its edges in list order and where it sits.
pub struct Page<N: OutputType> {
    pub edges: Vec<Edge<N>>,
    pub page_info: PageInfo,
}

impl<N: OutputType> Page<N> {
    /// `items` (in list order, each with its position) as the page
    /// `request` read; `has_more` says whether a row lay past it in the
    /// direction read.
    pub fn new(
        items: impl IntoIterator<Item = (N, Position)>,
        tag: &str,
        request: KeysetRequest,
        has_more: bool,
    ) -> Self {
        let edges: Vec<Edge<N>> = items
            .into_iter()
            .map(|(node, position)| Edge {
                cursor: encode(tag, position),
                node,
            })
            .collect();
        // Past the page in the direction read, we know; behind it, a cursor
        // means the list goes on that way (the item at the cursor, at least).
        let (has_next_page, has_previous_page) = if request.backward {
            (request.from.is_some(), has_more)
        } else {
            (has_more, request.from.is_some())
        };
        let page_info = PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }

    /// `edges`, read forwards with their own cursors: `has_more` says
    /// whether more follow, `after` whether the page began at a cursor.
    pub fn forward(edges: Vec<Edge<N>>, has_more: bool, after: bool) -> Self {
        let page_info = PageInfo {
            has_next_page: has_more,
            has_previous_page: after,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        };
        Self { edges, page_info }
    }

    /// The nodes, without cursors.
    pub fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }
}

/// A plain connection of `$node`s: edges, nodes and page info, no count.
macro_rules! plain_connection {
    ($(#[$doc:meta])* $name:ident of $node:ty, $what:literal) => {
        $(#[$doc])*
        pub struct $name(pub Page<$node>);

        $(#[$doc])*
        #[Object]
        impl $name {
            #[doc = concat!("The ", $what, " of this page with their cursors.")]
            async fn edges(&self) -> &[Edge<$node>] {
                &self.0.edges
            }

            #[doc = concat!("The ", $what, " of this page, without cursors.")]
            async fn nodes(&self) -> Vec<&$node> {
                self.0.nodes()
            }

            /// Where this page sits, and the cursors to move from it.
            async fn page_info(&self) -> &PageInfo {
                &self.0.page_info
            }
        }
    };
}

plain_connection!(
    /// A page of the workspace's tickets, by id (a Relay connection).
    TicketConnection of Ticket, "tickets"
);
plain_connection!(
    /// A page of the workspace's chat owners, platform and external users,
    /// by super identity id (a Relay connection).
    OwnerConnection of Owner, "owners"
);
plain_connection!(
    /// A page of an endpoint's webhook deliveries, newest first (a Relay
    /// connection).
    WebhookDeliveryConnection of WebhookDelivery, "deliveries"
);

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_order() {
        let position = Position {
            key: Some(Utc::now()),
            id: Uuid::new_v4(),
        };
        let cursor = encode("cd", position);
        let decoded = decode(&cursor, "cd", "after").unwrap();
        assert_eq!(decoded.id, position.id);
        assert_eq!(
            decoded.key.unwrap().timestamp_micros(),
            position.key.unwrap().timestamp_micros()
        );
        assert!(decode(&cursor, "ca", "after").is_err());
        assert!(decode("not-a-cursor", "cd", "after").is_err());
        let empty = Position {
            key: None,
            id: Uuid::nil(),
        };
        assert_eq!(decode(&encode("la", empty), "la", "before").unwrap(), empty);
    }
}
