//! Helpers shared by migrations. Changing what one of these emits would change
//! applied migrations, so add new helpers instead of editing these.

use sea_orm_migration::prelude::*;

/// A named CHECK constraint that keeps a string column to a fixed set of
/// values: the portable form of an enum (SQLite has no enum types).
pub fn one_of<C: IntoColumnRef>(name: &str, col: C, values: &[&str]) -> (String, Expr) {
    (
        name.to_owned(),
        Expr::col(col).is_in(values.iter().map(|v| (*v).to_owned())),
    )
}

/// A foreign key `from_table.from_col -> to_table.id`.
pub fn fk<F: IntoTableRef, C: IntoIden, T: IntoTableRef, I: IntoIden>(
    from_table: F,
    from_col: C,
    to_table: T,
    to_id: I,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_id)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}
