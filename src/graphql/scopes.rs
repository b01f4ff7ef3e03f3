//! Scopes in the schema. Each field that needs one carries
//! `@requiresScopes(scopes: [[…]])` (the directive Apollo's router reads,
//! so SDL readers and code generators see it: one inner list, every scope
//! of it needed), and its resolver checks the same constant first, so the
//! two cannot disagree. A missing scope is FORBIDDEN with the scopes it
//! needs: a nullable field is null in place, a non-null one nulls its
//! nearest nullable parent, as any failing field does.

use async_graphql::{Context, TypeDirective};

use super::context::ContextExt;
use crate::{
    auth::Scope,
    error::{AppError, AppResult},
    service::chat::filter::ChatFilter,
};

/// Reading chats, their channels, responders, tickets and counts.
pub const CHATS_READ: &[Scope] = &[Scope::ChatsRead];
/// Changing chats.
pub const CHATS_WRITE: &[Scope] = &[Scope::ChatsWrite];
/// Reading messages.
pub const MESSAGES_READ: &[Scope] = &[Scope::MessagesRead];
/// Posting messages.
pub const MESSAGES_WRITE: &[Scope] = &[Scope::MessagesWrite];
/// Reading owners (personal data).
pub const DIRECTORY_READ: &[Scope] = &[Scope::DirectoryRead];
/// Following chats live.
pub const CHAT_EVENTS: &[Scope] = &[Scope::EventsSubscribe, Scope::ChatsRead];
/// Following a chat's messages live.
pub const MESSAGE_EVENTS: &[Scope] = &[Scope::EventsSubscribe, Scope::MessagesRead];
/// Managing webhook endpoints and their deliveries.
pub const WEBHOOKS_MANAGE: &[Scope] = &[Scope::WebhooksManage];

/// The field needs every scope of one of the inner lists.
#[TypeDirective(name = "requiresScopes", location = "FieldDefinition")]
pub fn requires_scopes(scopes: Vec<Vec<String>>) {}

/// The directive's argument for a field that needs all of `scopes`.
pub fn all_of(scopes: &[Scope]) -> Vec<Vec<String>> {
    vec![
        scopes
            .iter()
            .map(|scope| scope.as_str().to_owned())
            .collect(),
    ]
}

/// Checks that the principal holds every scope of `scopes`.
pub fn require(ctx: &Context<'_>, scopes: &[Scope]) -> AppResult<()> {
    let held = ctx.session()?.principal.scopes;
    if held.holds_all(scopes) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            required: scopes.to_vec(),
        })
    }
}

/// Parts of a chat filter look into what other scopes guard, and need
/// those scopes too: a search matches message text, and whether an owner
/// is blocked is directory data. Without them a caller could learn by
/// probing what it may not read.
pub fn require_for_filter(ctx: &Context<'_>, filter: &ChatFilter) -> AppResult<()> {
    if filter.search.is_some() {
        require(ctx, MESSAGES_READ)?;
    }
    if filter.owner_is_blocked.is_some() {
        require(ctx, DIRECTORY_READ)?;
    }
    Ok(())
}
