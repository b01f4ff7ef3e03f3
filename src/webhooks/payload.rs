//! The body of a webhook: `{ "type", "timestamp", "data": { "cursor",
//! "chat", "message", "actor" } }`, the chat and message with the scalar
//! fields their GraphQL types return, named and written as GraphQL writes
//! them (camelCase names, RFC 3339 times, enum values in capitals).

use entity::message;
use sea_orm::ActiveEnum;
use serde_json::{Value, json};

use crate::{events::ChatEvent, service::webhook::kinds::EventType};

/// The body sent for `event`, seen as `seen`, at the sealed `cursor`.
pub fn body(event: &ChatEvent, seen: EventType, cursor: String) -> String {
    let chat = event.chat.as_ref().map(|row| {
        let chat = &row.chat;
        json!({
            "id": chat.id,
            "workspaceId": chat.workspace_id,
            "title": chat.title,
            "createdAt": chat.created_at.to_rfc3339(),
            "updatedAt": chat.updated_at.to_rfc3339(),
            "isRemoved": chat.removed_at.is_some(),
            "removedAt": chat.removed_at.map(|at| at.to_rfc3339()),
            "lastMessageAt": chat.last_message_at.map(|at| at.to_rfc3339()),
            "channelId": chat.channel_id,
            "ownerSuperIdentityId": chat.owner_super_identity_id,
            "responderSuperIdentityId": chat.responder_super_identity_id,
            "ticketId": chat.ticket_id,
        })
    });
    let actor = event
        .actor
        .as_ref()
        .map(|actor| json!({ "kind": upper(&actor.kind), "id": actor.id, "name": actor.name }));
    json!({
        "type": seen.type_name(),
        "timestamp": event.written_at.to_rfc3339(),
        "data": {
            "cursor": cursor,
            "chat": chat,
            "message": event.message.as_ref().map(message_json),
            "actor": actor,
        },
    })
    .to_string()
}

fn message_json(message: &message::Model) -> Value {
    let author = message
        .author_kind
        .zip(message.author_id.as_ref())
        .map(|(kind, id)| json!({ "kind": upper(&kind), "id": id, "name": message.author_name }));
    json!({
        "id": message.id,
        "role": upper(&message.role),
        "content": message.content,
        "createdAt": message.created_at.to_rfc3339(),
        "author": author,
    })
}

/// An enum value as GraphQL writes it: `api_key` is `API_KEY`.
fn upper<E: ActiveEnum<Value = String>>(value: &E) -> String {
    value.to_value().to_uppercase()
}
