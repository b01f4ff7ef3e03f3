//! How the webhooks stand, database-wide, for the metrics: deliveries
//! waiting and how long the oldest has waited, and endpoints enabled or
//! disabled. Read when scraped, so the figures are the same whichever
//! replica answers.

use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
    sea_query::{Expr, Func, SimpleExpr},
};

use super::delivery::Status;
use crate::{error::AppResult, service};

/// What the metrics show of the webhooks.
#[derive(Debug, Default, Clone, Copy)]
pub struct Backlog {
    /// Deliveries not yet acknowledged nor given up.
    pub pending: u64,
    /// Seconds since the oldest of them was made.
    pub oldest_pending_seconds: f64,
    pub endpoints_enabled: u64,
    pub endpoints_disabled: u64,
}

#[derive(FromQueryResult)]
struct Pending {
    pending: i64,
    oldest: Option<DateTime<Utc>>,
}

#[derive(FromQueryResult)]
struct Endpoints {
    enabled: bool,
    endpoints: i64,
}

/// Reads it: two statements, over the pending deliveries (a partial
/// index holds them) and the endpoints.
pub async fn read(db: &impl ConnectionTrait) -> AppResult<Backlog> {
    let pending = webhook_delivery::Entity::find()
        .select_only()
        .column_as(webhook_delivery::Column::Seq.count(), "pending")
        .column_as(
            SimpleExpr::from(Func::min(Expr::col(webhook_delivery::Column::CreatedAt))),
            "oldest",
        )
        .filter(webhook_delivery::Column::Status.eq(Status::Pending.as_str()))
        .into_model::<Pending>()
        .one(db)
        .await?;
    let endpoints = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Enabled)
        .column_as(webhook_endpoint::Column::Id.count(), "endpoints")
        .group_by(webhook_endpoint::Column::Enabled)
        .into_model::<Endpoints>()
        .all(db)
        .await?;
    let mut backlog = Backlog::default();
    if let Some(pending) = pending {
        backlog.pending = pending.pending.max(0) as u64;
        backlog.oldest_pending_seconds = pending.oldest.map_or(0.0, |oldest| {
            (service::now() - oldest)
                .to_std()
                .unwrap_or_default()
                .as_secs_f64()
        });
    }
    for row in endpoints {
        let n = row.endpoints.max(0) as u64;
        if row.enabled {
            backlog.endpoints_enabled = n;
        } else {
            backlog.endpoints_disabled = n;
        }
    }
    Ok(backlog)
}
