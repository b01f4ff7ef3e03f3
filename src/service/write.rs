//! Every write of chats and messages runs the same way: begin (on SQLite
//! taking the write lock at once), claim its idempotency key if it has
//! one, make the change, record its events in the same transaction,
//! commit, and only then tell the process's event reader. So an event
//! exists if and only if its write committed, and nobody is woken for a
//! write that rolled back. A write dropped before [`Write::commit`] (an
//! error, a cancelled request) rolls back with its transaction.

use sea_orm::{ConnectionTrait, QueryResult, Statement, TransactionSession, TransactionTrait};
use uuid::Uuid;

use super::{
    actor::Actor,
    events::{self, NewEvent},
    idempotency::{Claim, IdempotencyKey},
};
use crate::error::AppResult;

/// Told after a write committed its events (the process's event bus).
pub trait OnCommit: Send + Sync {
    fn committed(&self);
}

/// Where writes go, on whose behalf, and whom to tell when they commit.
pub struct Writer<'a, C> {
    pub db: &'a C,
    pub workspace_id: Uuid,
    pub actor: &'a Actor,
    on_commit: Option<&'a dyn OnCommit>,
}

// Not derived: a derive would ask `C: Clone` of the database handle.
impl<C> Clone for Writer<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Writer<'_, C> {}

impl<'a, C> Writer<'a, C>
where
    C: ConnectionTrait + TransactionTrait,
{
    /// Writes of `actor` to `workspace_id` in `db`, telling no one (tools
    /// and fixtures; the reader finds their events on its next poll).
    pub fn new(db: &'a C, workspace_id: Uuid, actor: &'a Actor) -> Self {
        Self {
            db,
            workspace_id,
            actor,
            on_commit: None,
        }
    }

    /// The same writes, telling `on_commit` after each commit.
    pub fn telling(self, on_commit: &'a dyn OnCommit) -> Self {
        Self {
            on_commit: Some(on_commit),
            ..self
        }
    }

    /// Runs `statement`, a whole write and its events in one statement (a
    /// transaction of its own), then tells the reader if it returned a
    /// row, which it must do exactly when it recorded events.
    pub async fn at_once(&self, statement: Statement) -> AppResult<Option<QueryResult>> {
        let row = self.db.query_one_raw(statement).await?;
        if let Some(on_commit) = self.on_commit
            && row.is_some()
        {
            on_commit.committed();
        }
        Ok(row)
    }

    /// Begins a write.
    pub async fn begin(&self) -> AppResult<Write<'a, C::Transaction>> {
        Ok(Write {
            txn: super::begin_write(self.db).await?,
            workspace_id: self.workspace_id,
            actor: self.actor,
            on_commit: self.on_commit,
        })
    }
}

/// One write under way: a transaction that records its events as it
/// commits.
pub struct Write<'a, T> {
    txn: T,
    pub workspace_id: Uuid,
    pub actor: &'a Actor,
    on_commit: Option<&'a dyn OnCommit>,
}

impl<T> Write<'_, T>
where
    T: ConnectionTrait + TransactionSession,
{
    /// The transaction, to read and change rows in.
    pub fn db(&self) -> &T {
        &self.txn
    }

    /// Claims `key`, if given, for `id`, what this write is about to
    /// create; `Claim::Done` names what an earlier request with the same
    /// key and input created (read it, and drop this write).
    pub async fn claim(&self, key: Option<&IdempotencyKey>, id: Uuid) -> AppResult<Claim> {
        match key {
            Some(key) => {
                key.claim(&self.txn, self.workspace_id, super::now(), id)
                    .await
            }
            None => Ok(Claim::New),
        }
    }

    /// Records `events` and commits, then tells the reader.
    pub async fn commit(self, events: &[NewEvent]) -> AppResult<()> {
        events::record(&self.txn, self.workspace_id, self.actor, events).await?;
        self.txn.commit().await?;
        if let Some(on_commit) = self.on_commit
            && !events.is_empty()
        {
            on_commit.committed();
        }
        Ok(())
    }
}
