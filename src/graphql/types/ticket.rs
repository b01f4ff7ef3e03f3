//! `Ticket`: the support ticket a chat may be linked to.

use async_graphql::Object;
use entity::ticket;
use uuid::Uuid;

use super::enums::TicketStatus;

/// A support ticket linked to a chat.
pub struct Ticket(pub ticket::Model);

/// A support ticket linked to a chat.
#[Object]
impl Ticket {
    /// The ticket ID.
    async fn id(&self) -> Uuid {
        self.0.id
    }

    /// The status of the ticket.
    async fn status(&self) -> TicketStatus {
        self.0.status.into()
    }
}
