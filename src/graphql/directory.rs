//! The directory fields of the query root: what a client lists to find the
//! ids `createChat`, `updateChat` and the chat filters take.

use async_graphql::{Context, Result};

use super::{
    context::ContextExt,
    types::{
        channel::Channel,
        connection::{self, OwnerConnection, Page, TicketConnection},
        enums::{ResponderType, TicketStatus},
        owner::Owner,
        responder::Responder,
        ticket::Ticket,
    },
};
use crate::service::{
    browse::{self, IdPage},
    keyset::{KeysetRequest, Position},
};

/// Cursor tags of the two paged lists.
const TICKETS: &str = "tk";
const OWNERS: &str = "ow";

/// The Relay arguments of a directory connection.
pub struct Relay {
    pub first: Option<i64>,
    pub after: Option<String>,
    pub last: Option<i64>,
    pub before: Option<String>,
}

impl Relay {
    fn request(&self, tag: &str) -> Result<KeysetRequest> {
        Ok(connection::request(
            tag,
            self.first,
            self.after.as_deref(),
            self.last,
            self.before.as_deref(),
        )?)
    }
}

/// `page` as a connection page, each item at its id.
fn page<T, N: async_graphql::OutputType>(
    page: IdPage<T>,
    tag: &str,
    request: KeysetRequest,
    id: impl Fn(&T) -> uuid::Uuid,
    node: impl Fn(T) -> N,
) -> Page<N> {
    let items = page.items.into_iter().map(|item| {
        let position = Position {
            key: None,
            id: id(&item),
        };
        (node(item), position)
    });
    Page::new(items, tag, request, page.has_more)
}

/// `Query.channels`.
pub async fn channels(ctx: &Context<'_>) -> Result<Vec<Channel>> {
    let session = ctx.session()?;
    let channels = browse::channels(&session.db, session.workspace_id()).await?;
    Ok(channels.into_iter().map(Channel).collect())
}

/// `Query.responders`.
pub async fn responders(
    ctx: &Context<'_>,
    responder_type: Option<ResponderType>,
) -> Result<Vec<Responder>> {
    let session = ctx.session()?;
    let kind = responder_type.map(Into::into);
    let responders = browse::responders(&session.db, session.workspace_id(), kind).await?;
    Ok(responders.into_iter().map(Responder).collect())
}

/// `Query.tickets`.
pub async fn tickets(
    ctx: &Context<'_>,
    statuses: Option<Vec<TicketStatus>>,
    relay: Relay,
) -> Result<TicketConnection> {
    let session = ctx.session()?;
    let request = relay.request(TICKETS)?;
    let statuses: Option<Vec<_>> = statuses.map(|s| s.into_iter().map(Into::into).collect());
    let found = browse::tickets(
        &session.db,
        session.workspace_id(),
        statuses.as_deref(),
        request,
    )
    .await?;
    Ok(TicketConnection(page(
        found,
        TICKETS,
        request,
        |t| t.id,
        Ticket,
    )))
}

/// `Query.owners`.
pub async fn owners(
    ctx: &Context<'_>,
    search: Option<String>,
    relay: Relay,
) -> Result<OwnerConnection> {
    let session = ctx.session()?;
    let request = relay.request(OWNERS)?;
    let found = browse::owners(
        &session.db,
        session.workspace_id(),
        search.as_deref(),
        request,
    )
    .await?;
    let owners = page(
        found,
        OWNERS,
        request,
        |o| o.super_identity_id(),
        Owner::from,
    );
    Ok(OwnerConnection(owners))
}
