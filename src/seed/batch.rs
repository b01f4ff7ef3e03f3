//! Rows of one table on their way into the database, and the two ways they
//! get there: COPY on PostgreSQL (its fastest bulk path), multi-row INSERTs
//! inside the caller's transaction on SQLite.

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, TransactionTrait,
    sea_query::{Alias, Query, SimpleExpr, Value},
};
use uuid::Uuid;

/// One value of a seeded row.
#[derive(Debug, Clone)]
pub enum Cell {
    Uuid(Uuid),
    Text(String),
    Int(i32),
    Bool(bool),
    Time(DateTime<Utc>),
    Null,
}

/// Rows for one table, all with the same columns.
#[derive(Debug)]
pub struct Batch {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

impl Batch {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Self {
            table,
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.table);
        self.rows.push(row);
    }
}

/// SQLite allows 32766 bound values per statement.
const SQLITE_MAX_VALUES: usize = 32_000;

/// Writes `batches` in order, in one transaction. PostgreSQL: one COPY
/// each, as a bulk load (the search and counter triggers skip its rows:
/// the seed derives them once loaded, [`super::derive`]); SQLite:
/// multi-row INSERTs (its commit is what costs).
pub async fn write_all(db: &DatabaseConnection, batches: &[Batch]) -> Result<(), DbErr> {
    let batches = batches.iter().filter(|b| !b.rows.is_empty());
    if db.get_database_backend() == DbBackend::Postgres {
        let sqlx_err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("bulk load: {e}"));
        let pool = db.get_postgres_connection_pool();
        let mut txn = pool.begin().await.map_err(sqlx_err)?;
        sea_orm::sqlx::query("SET LOCAL chat_gateway.bulk_load = 'on'")
            .execute(&mut *txn)
            .await
            .map_err(sqlx_err)?;
        for batch in batches {
            copy(&mut txn, batch).await?;
        }
        return txn.commit().await.map_err(sqlx_err);
    }
    let txn = db.begin().await?;
    for batch in batches {
        insert(&txn, batch).await?;
    }
    txn.commit().await
}

async fn copy(conn: &mut sea_orm::sqlx::PgConnection, batch: &Batch) -> Result<(), DbErr> {
    let statement = format!(
        "COPY {} ({}) FROM STDIN",
        batch.table,
        batch.columns.join(", ")
    );
    let mut text = String::with_capacity(batch.rows.len() * 64);
    for row in &batch.rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                text.push('\t');
            }
            copy_text(&mut text, cell);
        }
        text.push('\n');
    }
    let sqlx_err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("COPY {}: {e}", batch.table));
    let mut copy = conn.copy_in_raw(&statement).await.map_err(sqlx_err)?;
    copy.send(text.into_bytes()).await.map_err(sqlx_err)?;
    copy.finish().await.map_err(sqlx_err)?;
    Ok(())
}

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_text(out: &mut String, cell: &Cell) {
    match cell {
        Cell::Uuid(id) => out.push_str(&id.to_string()),
        Cell::Int(n) => out.push_str(&n.to_string()),
        Cell::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Cell::Time(t) => out.push_str(&t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()),
        Cell::Null => out.push_str("\\N"),
        Cell::Text(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

async fn insert(db: &impl ConnectionTrait, batch: &Batch) -> Result<(), DbErr> {
    let rows_per_statement = (SQLITE_MAX_VALUES / batch.columns.len()).max(1);
    for rows in batch.rows.chunks(rows_per_statement) {
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(batch.table))
            .columns(batch.columns.iter().map(|c| Alias::new(*c)));
        for row in rows {
            insert
                .values(row.iter().map(|cell| SimpleExpr::Value(value(cell))))
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

/// The same value sea-orm binds for the entity's column type.
fn value(cell: &Cell) -> Value {
    match cell {
        Cell::Uuid(id) => Value::Uuid(Some(*id)),
        Cell::Text(s) => Value::String(Some(s.clone())),
        Cell::Int(n) => Value::Int(Some(*n)),
        Cell::Bool(b) => Value::Bool(Some(*b)),
        Cell::Time(t) => Value::ChronoDateTimeUtc(Some(*t)),
        Cell::Null => Value::String(None),
    }
}
