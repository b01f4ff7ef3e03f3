//! Chats read together with their to-one relations (channel, owner,
//! responder, responder version, ticket) and, when asked, its newest two
//! messages, in one joined statement, so a page costs one statement
//! whatever its size; the GraphQL layer primes its DataLoaders with the
//! joined rows.

use entity::{channel, chat, external_user, message, responder, responder_version, ticket, user};
use sea_orm::{
    Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, Iterable, JoinType, QueryFilter,
    QueryResult, QuerySelect, QueryTrait,
    prelude::*,
    sea_query::{Alias, Expr, ExprTrait, IntoIden, SelectStatement},
};

use uuid::Uuid;

use super::filter::{ChatFilter, ChatOrder, PageRequest};
use crate::error::{AppError, AppResult};
use crate::service::{
    columns::Columns,
    keyset::KeysetRequest,
    lookup::Owner,
    search::{self, Search},
};

/// A chat with everything it points at.
#[derive(Debug, Clone)]
pub struct ChatRow {
    pub chat: chat::Model,
    pub channel: Option<channel::Model>,
    pub owner: Option<Owner>,
    pub responder: Option<responder::Model>,
    pub responder_version: Option<responder_version::Model>,
    pub ticket: Option<ticket::Model>,
    /// Its newest two messages, when they were read with it.
    pub recent: Option<RecentMessages>,
}

/// The newest two messages of a chat.
#[derive(Debug, Clone, Default)]
pub struct RecentMessages {
    /// The newest message.
    pub latest: Option<message::Model>,
    /// The message just before it.
    pub previous: Option<message::Model>,
}

/// Whether a read brings each chat's newest two messages along.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Messages {
    Without,
    Recent,
}

/// One page of joined chat rows.
#[derive(Debug, Clone)]
pub struct ChatRowPage {
    pub rows: Vec<ChatRow>,
    /// Whether a row exists past this page, in the direction it was read.
    pub has_more: bool,
}

// Column prefixes of the joined tables; the chat's own columns keep their names.
const CHANNEL: &str = "ch_";
const USER: &str = "u_";
const EXTERNAL_USER: &str = "eu_";
const RESPONDER: &str = "r_";
const VERSION: &str = "rv_";
const TICKET: &str = "t_";
// The newest message and the one before it; also their table aliases.
const LATEST: &str = "lm";
const PREVIOUS: &str = "pm";

/// Adds `table`'s columns, each aliased with `prefix`, and a LEFT JOIN on
/// `table.join_column = chats.chat_column`.
fn join<E: EntityTrait>(
    select: &mut SelectStatement,
    table: E,
    prefix: &str,
    join_column: E::Column,
    chat_column: chat::Column,
) {
    for column in E::Column::iter() {
        select.expr_as(
            Expr::col((table, column)),
            Alias::new(format!("{prefix}{}", column.into_iden())),
        );
    }
    select.left_join(
        table,
        Expr::col((table, join_column)).equals((chat::Entity, chat_column)),
    );
}

/// Adds the chat's `nth` newest message (0 the newest) as `alias`, each
/// column aliased `{alias}_{column}`. The subquery walks
/// `idx_messages_chat_created` for one row per chat, on both backends,
/// where reading them apart cost a second statement per request.
fn join_recent(select: &mut SelectStatement, alias: &str, nth: u32) {
    for column in message::Column::iter() {
        select.expr_as(
            Expr::col((Alias::new(alias), column)),
            Alias::new(format!("{alias}_{}", column.into_iden())),
        );
    }
    let nth_newest = format!(
        r#""{alias}"."id" = (SELECT "m"."id" FROM "messages" AS "m" WHERE "m"."chat_id" = "chats"."id" ORDER BY "m"."created_at" DESC, "m"."id" DESC LIMIT 1 OFFSET {nth})"#
    );
    select.join_as(
        JoinType::LeftJoin,
        message::Entity,
        Alias::new(alias),
        Expr::cust(nth_newest),
    );
}

/// The joined form of a chat query.
fn with_relations(query: Select<chat::Entity>, messages: Messages) -> SelectStatement {
    let mut select = query.into_query();
    use chat::Column as C;
    join(
        &mut select,
        channel::Entity,
        CHANNEL,
        channel::Column::Id,
        C::ChannelId,
    );
    let owner = C::OwnerSuperIdentityId;
    join(
        &mut select,
        user::Entity,
        USER,
        user::Column::SuperIdentityId,
        owner,
    );
    let external = external_user::Column::SuperIdentityId;
    join(
        &mut select,
        external_user::Entity,
        EXTERNAL_USER,
        external,
        owner,
    );
    let responder_si = C::ResponderSuperIdentityId;
    join(
        &mut select,
        responder::Entity,
        RESPONDER,
        responder::Column::SuperIdentityId,
        responder_si,
    );
    let version = responder_version::Column::Id;
    join(
        &mut select,
        responder_version::Entity,
        VERSION,
        version,
        C::ResponderVersionId,
    );
    join(
        &mut select,
        ticket::Entity,
        TICKET,
        ticket::Column::Id,
        C::TicketId,
    );
    if messages == Messages::Recent {
        join_recent(&mut select, LATEST, 0);
        join_recent(&mut select, PREVIOUS, 1);
    }
    select
}

/// The row read by position, in the order [`with_relations`] selects:
/// the chat's columns, then each joined table's, then the two messages'.
fn parse(row: &QueryResult, messages: Messages) -> Result<ChatRow, DbErr> {
    let mut at = 0;
    let chat = chat::Model::read(row, at).map_err(DbErr::from)?;
    at += chat::Model::FIELDS.len();
    let channel = joined(row, &mut at)?;
    let user: Option<user::Model> = joined(row, &mut at)?;
    let external: Option<external_user::Model> = joined(row, &mut at)?;
    let responder = joined(row, &mut at)?;
    let responder_version = joined(row, &mut at)?;
    let ticket = joined(row, &mut at)?;
    let recent = match messages {
        Messages::Without => None,
        Messages::Recent => Some(RecentMessages {
            latest: joined(row, &mut at)?,
            previous: joined(row, &mut at)?,
        }),
    };
    Ok(ChatRow {
        chat,
        channel,
        owner: user.map(Owner::User).or(external.map(Owner::External)),
        responder,
        responder_version,
        ticket,
        recent,
    })
}

/// The joined model at `*at`, and moves `at` past its columns.
fn joined<M: Columns>(row: &QueryResult, at: &mut usize) -> Result<Option<M>, DbErr> {
    let model = M::read_joined(row, *at)?;
    *at += M::FIELDS.len();
    Ok(model)
}

/// Whether `row` has the columns [`parse`] reads, where it reads them:
/// each joined table's key at its offset (checked in debug builds).
fn laid_out(row: &QueryResult, messages: Messages) -> bool {
    let names = row.column_names();
    let mut at = chat::Model::FIELDS.len();
    let mut starts = vec![("id".to_owned(), 0)];
    let mut tables = vec![
        (CHANNEL.to_owned(), channel::Model::FIELDS.len()),
        (USER.to_owned(), user::Model::FIELDS.len()),
        (EXTERNAL_USER.to_owned(), external_user::Model::FIELDS.len()),
        (RESPONDER.to_owned(), responder::Model::FIELDS.len()),
        (VERSION.to_owned(), responder_version::Model::FIELDS.len()),
        (TICKET.to_owned(), ticket::Model::FIELDS.len()),
    ];
    if messages == Messages::Recent {
        tables.push((format!("{LATEST}_"), message::Model::FIELDS.len()));
        tables.push((format!("{PREVIOUS}_"), message::Model::FIELDS.len()));
    }
    for (prefix, width) in tables {
        starts.push((format!("{prefix}id"), at));
        at += width;
    }
    names.len() == at && starts.iter().all(|(name, i)| &names[*i] == name)
}

/// Rows `offset..offset + limit` of `query` with its relations, or all of them.
async fn fetch(
    db: &impl ConnectionTrait,
    query: Select<chat::Entity>,
    messages: Messages,
    window: Option<(u64, u64)>,
) -> Result<Vec<ChatRow>, DbErr> {
    let select = with_relations(query, messages);
    let mut statement = db.get_database_backend().build(&select);
    if let Some((limit, offset)) = window {
        // Written into the SQL, not bound: PostgreSQL plans a prepared
        // statement once (see db.rs), and a generic plan that cannot see the
        // LIMIT assumes a tenth of the table is wanted: at 1M chats it picked
        // a parallel scan that took 45 ms instead of a 1 ms index walk.
        // Both are validated integers.
        statement
            .sql
            .push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    }
    let rows = db.query_all_raw(statement).await?;
    debug_assert!(rows.first().is_none_or(|row| laid_out(row, messages)));
    rows.iter().map(|row| parse(row, messages)).collect()
}

/// The chat `id` of the workspace, removed or not, with its relations.
pub async fn get(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
    messages: Messages,
) -> AppResult<ChatRow> {
    let query = chat::Entity::find_by_id(id).filter(chat::Column::WorkspaceId.eq(workspace_id));
    fetch(db, query, messages, None)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found_at("Chat", "id"))
}

/// The chats among `ids`, of any workspace, with their relations and
/// newest two messages: for the event bus, which reads for every
/// workspace at once (each subscriber then keeps to its own workspace's
/// events).
pub async fn get_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<ChatRow>> {
    let query = chat::Entity::find().filter(chat::Column::Id.is_in(ids.iter().copied()));
    Ok(fetch(db, query, Messages::Recent, None).await?)
}

/// One page of the workspace's chats matching `filter`, in `order`, with
/// their relations.
pub async fn list(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
    order: ChatOrder,
    page: PageRequest,
    messages: Messages,
) -> AppResult<ChatRowPage> {
    let condition = filter.condition_without_search(workspace_id);
    let window = (page.page_size, page.offset());
    read_page(
        db,
        condition,
        filter.search.as_ref(),
        order,
        messages,
        window,
    )
    .await
}

/// The page of the workspace's chats `request` names: keyset pagination,
/// so a page deep into the list costs what the first one does.
pub async fn list_keyset(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    filter: &ChatFilter,
    order: ChatOrder,
    request: KeysetRequest,
    messages: Messages,
) -> AppResult<ChatRowPage> {
    // Backwards pages are read in the reverse order, then turned around.
    let walk = if request.backward {
        order.reversed()
    } else {
        order
    };
    let mut condition = filter.condition_without_search(workspace_id);
    if let Some(from) = request.from {
        condition = condition.add(walk.key_order().after(from));
    }
    let search = filter.search.as_ref();
    let mut page = read_page(db, condition, search, walk, messages, (request.size, 0)).await?;
    if request.backward {
        page.rows.reverse();
    }
    Ok(page)
}

/// Reads `size` rows of the chats `condition` and `search` select, in
/// `order` from `offset` (and one more, to tell whether there are more).
async fn read_page(
    db: &impl ConnectionTrait,
    condition: Condition,
    search: Option<&Search>,
    order: ChatOrder,
    messages: Messages,
    (size, offset): (u64, u64),
) -> AppResult<ChatRowPage> {
    let chats = chat::Entity::find().filter(condition);
    let (query, window) = match search {
        None => (chats, Some((size + 1, offset))),
        Some(search) => {
            let ids = searched_ids(db, chats, search, order, size + 1, offset).await?;
            let by_id = chat::Entity::find().filter(chat::Column::Id.is_in(ids));
            (by_id, None)
        }
    };
    let mut rows = fetch(db, order.apply(query), messages, window).await?;
    let has_more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    Ok(ChatRowPage { rows, has_more })
}

/// The ids of `want` chats of `chats` in `order` that `search` selects,
/// from `offset`, read before their rows.
///
/// On SQLite a walk of the chats in order finds a common word's page
/// ([`search::walk`]). Otherwise the search index does, in a statement of
/// ids alone: on PostgreSQL the search is a literal (see [`search`]), so
/// the statement is planned anew each time, and the chat row's nine-table
/// join both plans slowly and, joined before the search's semi-join,
/// cannot start from the search index.
async fn searched_ids(
    db: &impl ConnectionTrait,
    chats: Select<chat::Entity>,
    search: &Search,
    order: ChatOrder,
    want: u64,
    offset: u64,
) -> AppResult<Vec<Uuid>> {
    let backend = db.get_database_backend();
    if backend == DbBackend::Sqlite {
        let walked = search::walk(db, order.apply(chats.clone()), search, want, offset).await?;
        if let Some(ids) = walked {
            return Ok(ids);
        }
    }
    Ok(order
        .apply(chats.filter(search.condition(backend)))
        .select_only()
        .column(chat::Column::Id)
        .limit(want)
        .offset(offset)
        .into_tuple()
        .all(db)
        .await?)
}
