//! Models read from a joined row by position. sea-orm's `FromQueryResult`
//! finds every column by its (prefixed) name: a `format!` and a lookup per
//! column per row, which was a quarter of a 50-chat page's CPU. The joined
//! statements of [`chat::row`](super::chat::row) lay out each table's columns
//! in its entity's order, so a model is the run of columns at an offset.

use entity::{channel, chat, external_user, message, responder, responder_version, ticket, user};
use sea_orm::{DbErr, QueryResult, TryGetError, TryGetable};

/// A model read from consecutive columns of a row.
pub trait Columns: Sized {
    /// Its fields, in the order they are read. They must be the entity's
    /// columns in their order (the test below holds them to it): that is
    /// the order the statements select them in.
    const FIELDS: &'static [&'static str];

    /// The model in the columns from `at` on.
    fn read(row: &QueryResult, at: usize) -> Result<Self, TryGetError>;

    /// The model of a LEFT JOIN from `at` on: `None` when the join found
    /// no row (its first column, the key, is null).
    fn read_joined(row: &QueryResult, at: usize) -> Result<Option<Self>, DbErr> {
        match Self::read(row, at) {
            Ok(model) => Ok(Some(model)),
            Err(TryGetError::Null(_)) => Ok(None),
            Err(TryGetError::DbErr(error)) => Err(error),
        }
    }
}

macro_rules! columns {
    ($($model:path { $($field:ident),* $(,)? })*) => {$(
        impl Columns for $model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn read(row: &QueryResult, at: usize) -> Result<Self, TryGetError> {
                // Column `at + i` for the i-th field.
                let mut index = at..;
                $(let $field = TryGetable::try_get_by_index(row, index.next().expect("a range without end"))?;)*
                Ok(Self { $($field),* })
            }
        }
    )*};
}

columns! {
    chat::Model {
        id, workspace_id, channel_id, owner_super_identity_id, responder_super_identity_id,
        responder_version_id, ticket_id, title, created_at, updated_at, removed_at,
        last_message_at,
    }
    channel::Model { id, workspace_id, name, channel_type }
    user::Model { id, super_identity_id, email, name, picture }
    external_user::Model { id, workspace_id, super_identity_id, external_id, name, is_blocked }
    responder::Model { id, workspace_id, super_identity_id, kind, name, picture }
    responder_version::Model { id, responder_id, version_number }
    ticket::Model { id, workspace_id, status }
    message::Model { id, chat_id, role, content, created_at, author_kind, author_id, author_name }
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, Iterable};

    use super::*;

    /// The entity's columns as field names: `ChannelType` is `channel_type`.
    fn fields<E: EntityTrait>() -> Vec<String> {
        E::Column::iter()
            .map(|column| {
                let mut field = String::new();
                for (i, c) in format!("{column:?}").chars().enumerate() {
                    if c.is_uppercase() && i > 0 {
                        field.push('_');
                    }
                    field.push(c.to_ascii_lowercase());
                }
                field
            })
            .collect()
    }

    #[test]
    fn every_layout_is_its_entitys_columns_in_order() {
        assert_eq!(chat::Model::FIELDS, fields::<chat::Entity>());
        assert_eq!(channel::Model::FIELDS, fields::<channel::Entity>());
        assert_eq!(user::Model::FIELDS, fields::<user::Entity>());
        assert_eq!(
            external_user::Model::FIELDS,
            fields::<external_user::Entity>()
        );
        assert_eq!(responder::Model::FIELDS, fields::<responder::Entity>());
        assert_eq!(
            responder_version::Model::FIELDS,
            fields::<responder_version::Entity>()
        );
        assert_eq!(ticket::Model::FIELDS, fields::<ticket::Entity>());
        assert_eq!(message::Model::FIELDS, fields::<message::Entity>());
    }
}
