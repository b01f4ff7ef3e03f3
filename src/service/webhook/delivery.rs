//! Deliveries: made from events by whichever process holds an endpoint's
//! row ([`lock_endpoint`], [`add`]), claimed when due by whichever process
//! gets there first ([`claim`]), and settled by the one that sent them
//! ([`settle`]).
//!
//! Order per chat: a delivery is due only when no earlier delivery of its
//! chat to its endpoint is still pending (it is its chat's head), so a
//! failing one holds back its chat's later events and no other chat's.
//!
//! A claim lasts as long as its claimant says sending may take: a process
//! that dies while sending leaves its claims to expire, and another
//! process sends them again (at least once).

use chrono::{DateTime, Duration, Utc};
use entity::{
    webhook_delivery::{ActiveModel, Column, Entity, Model},
    webhook_endpoint,
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement, prelude::*,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    service::{
        self,
        events::{Binds, Position},
        webhook::kinds::EventType,
    },
};

/// Most deliveries one page of [`list`] holds.
pub const MAX_PAGE: u64 = 100;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not yet acknowledged: due now or at its next attempt.
    Pending,
    /// A 2xx acknowledged it.
    Delivered,
    /// Given up: the retry schedule ran out, or the endpoint answered 410.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn of(model: &Model) -> Self {
        match model.status.as_str() {
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One attempt to send a delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// Why no status came back (timeout, refused connection, ...), or what
    /// was wrong with the one that did.
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// The attempts of `delivery`, oldest first.
pub fn attempts(delivery: &Model) -> Vec<Attempt> {
    serde_json::from_str(&delivery.attempts).unwrap_or_default()
}

/// A delivery to add: one event for one endpoint.
pub struct NewDelivery {
    pub chat_id: Uuid,
    pub position: Position,
    pub event_type: EventType,
    /// The body, exactly as it will be sent.
    pub payload: String,
}

/// The endpoint `id`, locked for this transaction so that one process at
/// a time turns its events into deliveries; `None` when it is gone,
/// disabled, or another process holds it now (PostgreSQL; SQLite has one
/// writer).
pub async fn lock_endpoint(
    txn: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<webhook_endpoint::Model>> {
    let mut query =
        webhook_endpoint::Entity::find_by_id(id).filter(webhook_endpoint::Column::Enabled.eq(true));
    if txn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    Ok(query.one(txn).await?)
}

/// Adds `deliveries` to `endpoint`, due now, and moves its position to
/// `read_up_to` (in the transaction that locked it).
pub async fn add(
    txn: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    deliveries: Vec<NewDelivery>,
    read_up_to: Position,
) -> AppResult<()> {
    let now = service::now();
    if !deliveries.is_empty() {
        let rows = deliveries.into_iter().map(|new| ActiveModel {
            id: Set(Uuid::new_v4()),
            endpoint_id: Set(endpoint.id),
            workspace_id: Set(endpoint.workspace_id),
            chat_id: Set(new.chat_id),
            event_tx: Set(new.position.tx),
            event_seq: Set(new.position.seq),
            event_type: Set(new.event_type.as_str()),
            payload: Set(new.payload),
            status: Set(Status::Pending.as_str().to_owned()),
            attempts: Set("[]".to_owned()),
            next_attempt_at: Set(Some(now)),
            claimed_until: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
            ..Default::default()
        });
        Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    webhook_endpoint::Entity::update_many()
        .col_expr(
            webhook_endpoint::Column::CursorTx,
            Expr::value(read_up_to.tx),
        )
        .col_expr(
            webhook_endpoint::Column::CursorSeq,
            Expr::value(read_up_to.seq),
        )
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The enabled endpoints, other than `busy`, in a stable order (the
/// worker rotates it). Each then claims what it has due: a plan that does
/// not depend on how many deliveries wait, which a probe of the
/// deliveries here did, with statistics gone stale.
pub async fn sending_endpoints(
    db: &impl ConnectionTrait,
    busy: &[Uuid],
) -> AppResult<Vec<webhook_endpoint::Model>> {
    Ok(webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .filter(webhook_endpoint::Column::Id.is_not_in(busy.iter().copied()))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await?)
}

/// Claims up to `limit` deliveries of `endpoint_id` that are due: first
/// of their chat among the endpoint's pending ones (a chat's head), their
/// time come, and claimed by no one (or by a process whose claim ran out).
///
/// Only heads are candidates, so a head another process holds locked
/// (skipped on PostgreSQL) holds back its chat this round rather than
/// letting the chat's next delivery through; and finding them takes one
/// probe of the pending index per chat on PostgreSQL, however long the
/// backlog behind them is ([`heads`]).
pub async fn claim(
    db: &impl ConnectionTrait,
    endpoint_id: Uuid,
    limit: u64,
    hold: std::time::Duration,
) -> AppResult<Vec<Model>> {
    let backend = db.get_database_backend();
    let now = service::now();
    let heads = heads(db, endpoint_id).await?;
    if heads.is_empty() {
        return Ok(Vec::new());
    }
    // The heads are the database's own integers: written out, they give
    // the planner a list of primary keys, whatever its statistics say.
    // Due (`next_attempt_at <= now`) implies pending: a delivery leaves
    // pending with its next attempt cleared. Its status is not tested,
    // since with stale statistics `status = 'pending'` drew the planner
    // into AND-ing the whole pending index with the primary keys: 15 ms
    // for 178,000 pending, where the keys alone take 0.1 ms.
    let heads: Vec<String> = heads.iter().map(i64::to_string).collect();
    let lock = match backend {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    // Placeholders in the order they appear, as SQLite binds them.
    let mut binds = Binds::new(backend);
    let sql = format!(
        "UPDATE webhook_deliveries SET claimed_until = {until} WHERE seq IN ( \
         SELECT seq FROM webhook_deliveries WHERE seq IN ({heads}) \
         AND next_attempt_at <= {now_a} \
         AND (claimed_until IS NULL OR claimed_until < {now_b}) \
         ORDER BY seq LIMIT {limit} {lock}) \
         RETURNING *",
        until = binds.bind((now + Duration::from_std(hold).unwrap_or(Duration::minutes(5))).into()),
        heads = heads.join(", "),
        now_a = binds.bind(now.into()),
        now_b = binds.bind(now.into()),
        limit = binds.bind((limit as i64).into()),
    );
    let values = binds.values;
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut claimed = rows
        .iter()
        .map(|row| Model::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|d| d.seq);
    Ok(claimed)
}

/// The first pending delivery of each chat of `endpoint_id` (its seq).
/// PostgreSQL: one index probe per chat (a loose index scan), where a
/// GROUP BY reads the whole backlog; SQLite (one process, small) groups.
async fn heads(db: &impl ConnectionTrait, endpoint_id: Uuid) -> AppResult<Vec<i64>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "WITH RECURSIVE heads AS ( \
               (SELECT chat_id, seq FROM webhook_deliveries \
                WHERE endpoint_id = $1 AND status = 'pending' \
                ORDER BY chat_id, seq LIMIT 1) \
               UNION ALL \
               SELECT next.chat_id, next.seq FROM heads CROSS JOIN LATERAL ( \
                 SELECT chat_id, seq FROM webhook_deliveries \
                 WHERE endpoint_id = $1 AND status = 'pending' \
                 AND chat_id > heads.chat_id ORDER BY chat_id, seq LIMIT 1) next) \
             SELECT seq FROM heads"
        }
        _ => {
            "SELECT MIN(seq) AS seq FROM webhook_deliveries \
             WHERE endpoint_id = ? AND status = 'pending' GROUP BY chat_id"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [endpoint_id.into()],
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<i64>("", "seq"))
        .collect::<Result<_, _>>()?)
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// A 2xx.
    Acknowledged,
    /// 410 Gone: the receiver asks for no more.
    Gone,
    /// Anything else: try again on the schedule.
    Failed,
}

/// Records `attempt` of `delivery` and what follows from it, given the
/// retry `schedule` (the wait before each retry). Returns why the
/// endpoint was disabled, if this disabled it.
pub async fn settle(
    db: &impl ConnectionTrait,
    delivery: &Model,
    attempt: Attempt,
    outcome: Outcome,
    schedule: &[std::time::Duration],
) -> AppResult<Option<String>> {
    let now = service::now();
    let mut all = attempts(delivery);
    let described = describe(&attempt);
    all.push(attempt);
    let tried = all.len();
    let mut change = Entity::update_many()
        .col_expr(
            Column::Attempts,
            Expr::value(serde_json::to_string(&all).unwrap_or_else(|_| "[]".into())),
        )
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    let mut disabled = None;
    let (status, next) = match outcome {
        Outcome::Acknowledged => {
            change = change.col_expr(Column::DeliveredAt, Expr::value(Some(now)));
            (Status::Delivered, None)
        }
        Outcome::Gone => {
            disabled = Some(format!(
                "answered 410 Gone to delivery {} at {now}",
                delivery.id
            ));
            (Status::Failed, None)
        }
        Outcome::Failed => match retry_wait(schedule, tried) {
            Some(wait) => (Status::Pending, Some(now + wait)),
            None => {
                disabled = Some(format!(
                    "delivery {} failed {tried} times, through the whole retry schedule; \
                     the last attempt: {described}",
                    delivery.id
                ));
                (Status::Failed, None)
            }
        },
    };
    change
        .col_expr(Column::Status, Expr::value(status.as_str()))
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .filter(Column::Seq.eq(delivery.seq))
        .exec(db)
        .await?;
    if let Some(reason) = &disabled {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
            .col_expr(
                webhook_endpoint::Column::DisabledReason,
                Expr::value(reason.clone()),
            )
            .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_endpoint::Column::Id.eq(delivery.endpoint_id))
            .exec(db)
            .await?;
    }
    Ok(disabled)
}

/// The wait before the next attempt after `tried` attempts: the
/// schedule's `tried`-th entry; `None` when it has run out.
fn retry_wait(schedule: &[std::time::Duration], tried: usize) -> Option<Duration> {
    let wait = schedule.get(tried.checked_sub(1)?)?;
    Duration::from_std(*wait).ok()
}

fn describe(attempt: &Attempt) -> String {
    match (attempt.status, &attempt.error) {
        (_, Some(error)) => error.clone(),
        (Some(status), None) => format!("HTTP {status}"),
        (None, None) => "no answer".to_owned(),
    }
}

/// Deletes the deliveries no longer pending made before `before`; returns
/// how many.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> AppResult<u64> {
    let done = Entity::delete_many()
        .filter(Column::Status.ne(Status::Pending.as_str()))
        .filter(Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// A page of `endpoint_id`'s deliveries, newest first, after the delivery
/// `after` (its id), of `status` if given; and whether more follow.
pub async fn list(
    db: &impl ConnectionTrait,
    endpoint_id: Uuid,
    first: u64,
    after: Option<Uuid>,
    status: Option<Status>,
) -> AppResult<(Vec<Model>, bool)> {
    let mut query = Entity::find().filter(Column::EndpointId.eq(endpoint_id));
    if let Some(after) = after {
        let from = Entity::find()
            .filter(Column::EndpointId.eq(endpoint_id))
            .filter(Column::Id.eq(after))
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::invalid("after", "is not a cursor of this endpoint's deliveries")
            })?;
        query = query.filter(Column::Seq.lt(from.seq));
    }
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status.as_str()));
    }
    let mut page = query
        .order_by_desc(Column::Seq)
        .limit(first + 1)
        .all(db)
        .await?;
    let more = page.len() as u64 > first;
    page.truncate(first as usize);
    Ok((page, more))
}

/// The workspace's delivery `id`; NOT_FOUND otherwise.
pub async fn get(db: &impl ConnectionTrait, workspace_id: Uuid, id: Uuid) -> AppResult<Model> {
    Entity::find()
        .filter(Column::Id.eq(id))
        .filter(Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found_at("WebhookDelivery", "deliveryId"))
}

/// Sends the workspace's delivery `id` again, under the same
/// `webhook-id`: pending and due now (when its endpoint is enabled).
pub async fn redeliver(
    db: &impl ConnectionTrait,
    workspace_id: Uuid,
    id: Uuid,
) -> AppResult<Model> {
    let delivery = get(db, workspace_id, id).await?;
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(Status::Pending.as_str()))
        .col_expr(Column::NextAttemptAt, Expr::value(Some(service::now())))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Seq.eq(delivery.seq))
        .exec(db)
        .await?;
    get(db, workspace_id, id).await
}
