//! Messages of a chat: post one, and page through a chat's history.
//! Posting also moves the chat's `last_message_at` (which the last-activity
//! order reads) and `updated_at`, in the same transaction as the message
//! and its MESSAGE_POSTED event, so the three never disagree.

use chrono::{DateTime, Utc};
use entity::{
    chat,
    enums::{ChatEventKind, MessageRole},
    message,
};
use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement, TransactionTrait,
    prelude::*,
    sea_query::{Alias, Asterisk, Func, Query, SelectStatement, SimpleExpr, UnionType},
};
use uuid::Uuid;

use super::{
    events::{self, Binds, NewEvent, Prior},
    idempotency::{Claim, IdempotencyKey},
    keyset::{KeyOrder, KeysetRequest, Position},
    write::Writer,
};
use crate::error::{AppError, AppResult};

/// Longest message accepted, in characters.
pub const MAX_CONTENT_CHARS: usize = 32_768;

/// A message to post (serialised only to fingerprint an idempotent
/// request).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewMessage {
    pub chat_id: Uuid,
    #[serde(serialize_with = "stored")]
    pub role: MessageRole,
    pub content: String,
    /// When it was written; `None` means now. Only imports, the demo and
    /// fixtures set it: the API always posts "now".
    pub created_at: Option<DateTime<Utc>>,
}

/// Posts a message to a live chat of the workspace; returns it and the
/// chat as it now stands. NOT_FOUND for a removed or foreign chat.
///
/// With an idempotency `key`, a retry with the same key and input returns
/// the message the first request posted (and its chat as it is now), and
/// posts nothing.
pub async fn post<C>(
    writer: Writer<'_, C>,
    new: NewMessage,
    key: Option<String>,
) -> AppResult<(message::Model, chat::Model)>
where
    C: ConnectionTrait + TransactionTrait,
{
    validate_content(&new.content)?;
    if key.is_none() && writer.db.get_database_backend() == DbBackend::Postgres {
        return post_at_once(writer, new).await;
    }
    let key = key
        .map(|key| IdempotencyKey::new(key, "postMessage", &new))
        .transpose()?;
    let write = writer.begin().await?;
    let (workspace_id, actor) = (write.workspace_id, write.actor);
    let txn = write.db();
    let id = Uuid::new_v4();
    if let Claim::Done(first) = write.claim(key.as_ref(), id).await? {
        return posted(txn, workspace_id, first).await;
    }
    let now = super::now();
    let created_at = new.created_at.unwrap_or(now);
    let (chat, prior) = move_forward(txn, workspace_id, new.chat_id, created_at)
        .await?
        .ok_or_else(|| AppError::not_found_at("Chat", "input.chatId"))?;
    let message = message::Entity::insert(message::ActiveModel {
        id: Set(id),
        chat_id: Set(chat.id),
        role: Set(new.role),
        content: Set(new.content),
        created_at: Set(created_at),
        author_kind: Set(Some(actor.kind)),
        author_id: Set(Some(actor.id.clone())),
        author_name: Set(actor.name.clone()),
    })
    .exec_with_returning(txn)
    .await?;
    let event = NewEvent {
        message_id: Some(message.id),
        ..NewEvent::changed(ChatEventKind::MessagePosted, chat.id, prior)
    };
    write.commit(&[event]).await?;
    Ok((message, chat))
}

/// A post without an idempotency key on PostgreSQL: moving the chat,
/// inserting the message and recording its event in one statement, one
/// round trip where a transaction takes five (begin, three statements,
/// commit). Being one statement, it commits or fails whole, as the
/// transaction would.
async fn post_at_once<C>(
    writer: Writer<'_, C>,
    new: NewMessage,
) -> AppResult<(message::Model, chat::Model)>
where
    C: ConnectionTrait + TransactionTrait,
{
    let actor = writer.actor;
    let mut binds = Binds::new(DbBackend::Postgres);
    let id = Uuid::new_v4();
    let now = super::now();
    let at = binds.bind(new.created_at.unwrap_or(now).into());
    let moved = moved(
        &binds.bind(new.chat_id.into()),
        &binds.bind(writer.workspace_id.into()),
        &at,
    );
    let posted = format!(
        "INSERT INTO messages (id, chat_id, role, content, created_at, author_kind, \
         author_id, author_name) \
         SELECT {id}, id, {role}, {content}, {at}, {kind}, {actor_id}, {actor_name} FROM moved \
         RETURNING *",
        id = binds.bind(id.into()),
        role = binds.bind(sea_orm::ActiveEnum::to_value(&new.role).into()),
        content = binds.bind(new.content.into()),
        kind = binds.bind(sea_orm::ActiveEnum::to_value(&actor.kind).into()),
        actor_id = binds.bind(actor.id.clone().into()),
        actor_name = binds.bind(actor.name.clone().into()),
    );
    let recorded = events::insert_one_changed(
        &mut binds,
        "moved",
        writer.workspace_id,
        actor,
        now,
        ChatEventKind::MessagePosted,
        id,
    );
    let returned = [
        "id",
        "chat_id",
        "role",
        "content",
        "created_at",
        "author_kind",
        "author_id",
        "author_name",
    ]
    .map(|column| format!("posted.{column} AS {MESSAGE}{column}"))
    .join(", ");
    let sql = format!(
        "WITH {moved}, posted AS ({posted}), recorded AS ({recorded}) \
         SELECT moved.*, {returned} FROM moved, posted"
    );
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, binds.values);
    let row = writer
        .at_once(statement)
        .await?
        .ok_or_else(|| AppError::not_found_at("Chat", "input.chatId"))?;
    Ok((
        message::Model::from_query_result(&row, MESSAGE)?,
        chat::Model::from_query_result(&row, "")?,
    ))
}

/// The prefix of the message's columns in [`post_at_once`]'s row.
const MESSAGE: &str = "message_";

/// `prior AS (...), moved AS (...)`: lock the live chat `chat` of
/// `workspace`, read its `last_message_at`, and move it and `updated_at`
/// forward to `at`; `moved` returns the row as it now stands, with the
/// prior time as `prior_last_message_at`. The arguments are placeholders.
///
/// `prior` locks the newest version of the row (waiting for a concurrent
/// post to commit, then reading what it wrote); the UPDATE then changes
/// that version, whose lock this one holds.
fn moved(chat: &str, workspace: &str, at: &str) -> String {
    format!(
        "prior AS (SELECT id, last_message_at FROM chats \
         WHERE id = {chat} AND workspace_id = {workspace} AND removed_at IS NULL FOR UPDATE), \
         moved AS (UPDATE chats SET last_message_at = GREATEST(chats.last_message_at, {at}), \
         updated_at = GREATEST(chats.updated_at, {at}) \
         FROM prior WHERE chats.id = prior.id \
         RETURNING chats.*, prior.last_message_at AS prior_last_message_at)"
    )
}

/// Moves the live chat `chat_id`'s `last_message_at` and `updated_at`
/// forward to `at` (never back: an imported older message leaves them),
/// holding its row to commit so concurrent posts to one chat move them in
/// turn; returns it as it now stands and as it stood. `None` when it is
/// not a live chat of the workspace.
///
/// PostgreSQL: one statement (lock, read the prior time, update), a round
/// trip fewer on every post. SQLite cannot return what an UPDATE read
/// from another table, and has one writer and no network: a read, then
/// the update.
async fn move_forward(
    txn: &impl ConnectionTrait,
    workspace_id: Uuid,
    chat_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<Option<(chat::Model, Prior)>> {
    if txn.get_database_backend() == DbBackend::Postgres {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("WITH {} SELECT * FROM moved", moved("$1", "$2", "$3")),
            [chat_id.into(), workspace_id.into(), at.into()],
        );
        let Some(row) = txn.query_one_raw(statement).await? else {
            return Ok(None);
        };
        let chat = chat::Model::from_query_result(&row, "")?;
        let prior = Prior {
            last_message_at: row.try_get("", "prior_last_message_at")?,
            ..Prior::of(&chat)
        };
        return Ok(Some((chat, prior)));
    }
    let Some(mut chat) = chat::Entity::find_by_id(chat_id)
        .filter(chat::Column::WorkspaceId.eq(workspace_id))
        .filter(chat::Column::RemovedAt.is_null())
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let prior = Prior::of(&chat);
    chat.last_message_at = chat.last_message_at.max(Some(at));
    chat.updated_at = chat.updated_at.max(at);
    chat::Entity::update_many()
        .col_expr(
            chat::Column::LastMessageAt,
            Expr::value(chat.last_message_at),
        )
        .col_expr(chat::Column::UpdatedAt, Expr::value(chat.updated_at))
        .filter(chat::Column::Id.eq(chat.id))
        .exec(txn)
        .await?;
    Ok(Some((chat, prior)))
}

/// The message `id` of the workspace, and its chat as it is now.
async fn posted(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
) -> AppResult<(message::Model, chat::Model)> {
    let message = message::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Message"))?;
    let chat = super::chat::get(db, workspace_id, message.chat_id)
        .await
        .map_err(|_| AppError::not_found("Message"))?;
    Ok((message, chat))
}

/// A role as the database stores it: a stable spelling for fingerprints.
fn stored<S: serde::Serializer>(role: &MessageRole, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_str(&sea_orm::ActiveEnum::to_value(role))
}

fn validate_content(content: &str) -> AppResult<()> {
    let chars = content.chars().count();
    if chars == 0 || chars > MAX_CONTENT_CHARS {
        return Err(AppError::invalid(
            "input.content",
            format!("must be 1 to {MAX_CONTENT_CHARS} characters, got {chars}"),
        ));
    }
    // PostgreSQL text cannot hold NUL; refuse it on every backend alike.
    if content.contains('\0') {
        return Err(AppError::invalid(
            "input.content",
            "must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

/// The order of a chat's messages; the id breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageOrder {
    /// Newest first.
    #[default]
    CreatedAtDesc,
    /// Oldest first.
    CreatedAtAsc,
}

impl MessageOrder {
    fn key_order(self, backward: bool) -> KeyOrder<message::Column> {
        KeyOrder {
            key: message::Column::CreatedAt,
            id: message::Column::Id,
            descending: (self == Self::CreatedAtDesc) != backward,
            nullable: false,
        }
    }

    /// Where `message` stands in this order.
    pub fn position(self, message: &message::Model) -> Position {
        Position {
            key: Some(message.created_at),
            id: message.id,
        }
    }
}

/// How much of each message's text a page reads: a message holds up to
/// 32,768 characters, and a page of ids or of short previews should not
/// bring them all into memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageText {
    /// The whole content.
    Whole,
    /// Its first characters only (what a preview needs).
    Prefix(u32),
    /// None: the content reads as empty.
    Omitted,
}

/// One page of one chat's messages.
#[derive(Debug, Clone, Default)]
pub struct MessagePage {
    /// The messages, in the order asked for.
    pub messages: Vec<message::Model>,
    /// Whether a message lies past the page in the direction read.
    pub has_more: bool,
}

/// The page `request` names of each chat among `chat_ids`, in `order`,
/// with as much of each text as `text` says, in one statement: a branch
/// per chat, each an index walk from its cursor, so a page deep in a long
/// chat costs what the first one does. The chats must already be known to
/// be the caller's.
pub async fn pages(
    db: &impl ConnectionTrait,
    chat_ids: &[Uuid],
    order: MessageOrder,
    request: KeysetRequest,
    text: MessageText,
) -> Result<HashMap<Uuid, MessagePage>, DbErr> {
    use message::Column as M;
    let walk = order.key_order(request.backward);
    let content: SimpleExpr = match text {
        MessageText::Whole => Expr::col((message::Entity, M::Content)),
        // Characters, not bytes, on both backends.
        MessageText::Prefix(chars) => Func::cust(Alias::new("SUBSTR"))
            .arg(Expr::col((message::Entity, M::Content)))
            .arg(1)
            .arg(i32::try_from(chars).unwrap_or(i32::MAX))
            .into(),
        MessageText::Omitted => Expr::value(""),
    };
    let mut union: Option<SelectStatement> = None;
    for (i, chat_id) in chat_ids.iter().enumerate() {
        let mut query = message::Entity::find()
            .select_only()
            .columns([M::Id, M::ChatId, M::Role, M::CreatedAt])
            .columns([M::AuthorKind, M::AuthorId, M::AuthorName])
            .column_as(content.clone(), "content")
            .filter(M::ChatId.eq(*chat_id));
        if let Some(from) = request.from {
            query = query.filter(walk.after(from));
        }
        let query = if walk.descending {
            query.order_by_desc(M::CreatedAt).order_by_desc(M::Id)
        } else {
            query.order_by_asc(M::CreatedAt).order_by_asc(M::Id)
        };
        let branch = query.limit(request.size + 1).into_query();
        // Each branch in a subquery of its own: SQLite allows ORDER BY and
        // LIMIT only on a whole compound select otherwise.
        let wrapped = Query::select()
            .column(Asterisk)
            .from_subquery(branch, Alias::new(format!("page{i}")))
            .to_owned();
        union = Some(match union {
            None => wrapped,
            Some(mut all) => {
                all.union(UnionType::All, wrapped);
                all
            }
        });
    }
    let Some(union) = union else {
        return Ok(HashMap::new());
    };
    let rows = message::Model::find_by_statement(db.get_database_backend().build(&union))
        .all(db)
        .await?;
    let mut pages: HashMap<Uuid, MessagePage> = chat_ids
        .iter()
        .map(|id| (*id, MessagePage::default()))
        .collect();
    for row in rows {
        pages.entry(row.chat_id).or_default().messages.push(row);
    }
    for page in pages.values_mut() {
        page.messages.sort_by(|a, b| {
            let ordered = (a.created_at, a.id).cmp(&(b.created_at, b.id));
            if walk.descending {
                ordered.reverse()
            } else {
                ordered
            }
        });
        page.has_more = page.messages.len() as u64 > request.size;
        page.messages.truncate(request.size as usize);
        if request.backward {
            page.messages.reverse();
        }
    }
    Ok(pages)
}

/// How many messages each chat among `chat_ids` has, in one statement.
pub async fn counts(
    db: &impl ConnectionTrait,
    chat_ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>, DbErr> {
    #[derive(Debug, FromQueryResult)]
    struct Count {
        chat_id: Uuid,
        count: i64,
    }
    let counts = message::Entity::find()
        .select_only()
        .column(message::Column::ChatId)
        .column_as(message::Column::Id.count(), "count")
        .filter(message::Column::ChatId.is_in(chat_ids.iter().copied()))
        .group_by(message::Column::ChatId)
        .into_model::<Count>()
        .all(db)
        .await?;
    let mut all: HashMap<Uuid, u64> = chat_ids.iter().map(|id| (*id, 0)).collect();
    for count in counts {
        all.insert(count.chat_id, count.count.max(0) as u64);
    }
    Ok(all)
}
