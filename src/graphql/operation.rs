//! Which operation of a document a request runs (the spec's GetOperation):
//! the one `operationName` names, or the only one. [`super::admit`] asks
//! before anything runs (and GET refuses what is not a query).

use async_graphql::{
    Positioned,
    parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition},
};

use crate::error::AppError;

/// The operation `name` selects in `document`; BAD_USER_INPUT on
/// `operationName` when there is none to run, or no single one.
pub fn select<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Result<&'a Positioned<OperationDefinition>, AppError> {
    let unknown = |name: &str| {
        AppError::invalid(
            "operationName",
            format!("the document has no operation named {name:?}"),
        )
    };
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Ok(operation),
        (DocumentOperations::Single(_), Some(name)) => Err(unknown(name)),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).ok_or_else(|| unknown(name))
        }
        (DocumentOperations::Multiple(operations), None) => {
            let mut all = operations.values();
            match (all.next(), all.next()) {
                (Some(only), None) => Ok(only),
                _ => Err(AppError::invalid(
                    "operationName",
                    "the document has several operations; name the one to run",
                )),
            }
        }
    }
}

/// The name of the operation `name` selects in `document` (which
/// [`select`] found): the name asked for, or the only operation's. The
/// parser keeps a name only for named operations, so an anonymous one has
/// none.
pub fn name<'a>(document: &'a ExecutableDocument, name: Option<&'a str>) -> Option<&'a str> {
    match (&document.operations, name) {
        (_, Some(name)) => Some(name),
        (DocumentOperations::Multiple(operations), None) => {
            operations.keys().next().map(|name| name.as_str())
        }
        (DocumentOperations::Single(_), None) => None,
    }
}
