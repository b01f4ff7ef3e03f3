//! The workspace's directory as a client browses it, to find the ids that
//! `createChat`, `updateChat` and the chat filters take: channels and
//! responders (short lists, whole), tickets and owners (pages, by id).
//! Every read is scoped to the workspace.

use entity::{
    channel,
    enums::{IdentityKind, ResponderKind, TicketStatus},
    external_user, responder, responder_version, super_identity, ticket, user,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, ExprTrait, Func, LikeExpr},
};
use uuid::Uuid;

use super::{keyset::KeysetRequest, lookup};
use crate::error::{AppError, AppResult};

/// Longest `search` accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// One page of a list paged by id.
#[derive(Debug, Clone)]
pub struct IdPage<T> {
    /// In ascending id order.
    pub items: Vec<T>,
    /// Whether an item lies past this page, in the direction it was read.
    pub has_more: bool,
}

/// The workspace's channels, by name.
pub async fn channels(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
) -> AppResult<Vec<channel::Model>> {
    Ok(channel::Entity::find()
        .filter(channel::Column::WorkspaceId.eq(workspace_id))
        .order_by_asc(channel::Column::Name)
        .order_by_asc(channel::Column::Id)
        .all(db)
        .await?)
}

/// The workspace's responders, of `kind` when given, by name.
pub async fn responders(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    kind: Option<ResponderKind>,
) -> AppResult<Vec<responder::Model>> {
    let mut query =
        responder::Entity::find().filter(responder::Column::WorkspaceId.eq(workspace_id));
    if let Some(kind) = kind {
        query = query.filter(responder::Column::Kind.eq(kind));
    }
    Ok(query
        .order_by_asc(responder::Column::Name)
        .order_by_asc(responder::Column::Id)
        .all(db)
        .await?)
}

/// The versions of the responders `responder_ids` (already known to be the
/// workspace's), newest first within each.
pub async fn versions(
    db: &impl ConnectionTrait,
    responder_ids: &[Uuid],
) -> Result<Vec<responder_version::Model>, DbErr> {
    use responder_version::Column as V;
    responder_version::Entity::find()
        .filter(V::ResponderId.is_in(responder_ids.iter().copied()))
        .order_by_asc(V::ResponderId)
        .order_by_desc(V::VersionNumber)
        .all(db)
        .await
}

/// The id condition and order of the page `request` names, on the id
/// column `id` (qualified, as both an entity query and a joined select use it).
fn by_id(id: Expr, request: KeysetRequest) -> (Condition, Order) {
    let mut condition = Condition::all();
    if let Some(from) = request.from {
        condition = condition.add(if request.backward {
            id.lt(from.id)
        } else {
            id.gt(from.id)
        });
    }
    let order = if request.backward {
        Order::Desc
    } else {
        Order::Asc
    };
    (condition, order)
}

/// `rows` read for `request` (one more than its size) as a page in
/// ascending id order.
fn id_page<T>(mut rows: Vec<T>, request: KeysetRequest) -> IdPage<T> {
    let has_more = rows.len() as u64 > request.size;
    rows.truncate(request.size as usize);
    if request.backward {
        rows.reverse();
    }
    IdPage {
        items: rows,
        has_more,
    }
}

/// A page of the workspace's tickets, by id; only those in `statuses`
/// when it is given (an empty list matches none).
pub async fn tickets(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    statuses: Option<&[TicketStatus]>,
    request: KeysetRequest,
) -> AppResult<IdPage<ticket::Model>> {
    let id = Expr::col((ticket::Entity, ticket::Column::Id));
    let (window, order) = by_id(id, request);
    let mut query = ticket::Entity::find()
        .filter(ticket::Column::WorkspaceId.eq(workspace_id))
        .filter(window);
    if let Some(statuses) = statuses {
        query = query.filter(ticket::Column::Status.is_in(statuses.iter().copied()));
    }
    let rows = query
        .order_by(ticket::Column::Id, order)
        .limit(request.size + 1)
        .all(db)
        .await?;
    Ok(id_page(rows, request))
}

/// `text` as a LIKE pattern matching it anywhere, its wildcards escaped.
fn contains(text: &str) -> LikeExpr {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

/// A page of the workspace's owners (platform and external users), by
/// super identity id; with `search`, only those whose name, email or
/// external id contains it, in any case. A blank `search` is no search.
pub async fn owners(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    search: Option<&str>,
    request: KeysetRequest,
) -> AppResult<IdPage<lookup::Owner>> {
    use super_identity::Column as Si;
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    if let Some(text) = search {
        if text.chars().count() > MAX_SEARCH_CHARS {
            return Err(AppError::invalid(
                "search",
                format!("must be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        if text.contains('\0') {
            return Err(AppError::invalid(
                "search",
                "must not contain NUL characters",
            ));
        }
    }
    let (si, u, eu) = (super_identity::Entity, user::Entity, external_user::Entity);
    let mut select = lookup::owner_select(workspace_id);
    select.and_where(
        Expr::col((si, Si::Kind)).is_in([IdentityKind::User, IdentityKind::ExternalUser]),
    );
    let (window, order) = by_id(Expr::col((si, Si::Id)), request);
    select.cond_where(window);
    if let Some(text) = search {
        let matches = |column: Expr| Expr::expr(Func::lower(column)).like(contains(text));
        select.cond_where(
            Condition::any()
                .add(matches(Expr::col((u, user::Column::Name))))
                .add(matches(Expr::col((u, user::Column::Email))))
                .add(matches(Expr::col((eu, external_user::Column::Name))))
                .add(matches(Expr::col((eu, external_user::Column::ExternalId)))),
        );
    }
    select.order_by((si, Si::Id), order).limit(request.size + 1);
    let rows = lookup::read_owners(db, workspace_id, &select).await?;
    Ok(id_page(rows, request))
}
