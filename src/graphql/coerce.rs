//! Input values checked against the schema's types before execution, as the
//! spec's CoerceVariableValues and "Values of Correct Type" ask: a variable
//! or argument literal that does not fit its type fails the whole request
//! (no `data`), naming the variable or input field in `extensions.field`.
//!
//! async-graphql checks literals only partly at validation (its UUID and
//! DateTime scalars accept any string there) and variables only when a
//! field reads them, as a field error; this module is where both are
//! checked once, completely.

use async_graphql::{
    ServerError, Value, Variables,
    parser::types::OperationDefinition,
    registry::{MetaType, MetaTypeName, Registry},
};
use async_graphql_value::Value as InputValue;
use chrono::DateTime;
use uuid::Uuid;

use crate::error::AppError;

/// Why a value does not fit its type, and where in the value.
#[derive(Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The path from the variable or argument, e.g. `input.channelId` or `ids[2]`.
    pub path: String,
    /// What was expected.
    pub reason: String,
}

fn mismatch(path: &str, reason: impl Into<String>) -> Mismatch {
    Mismatch {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Checks `value` against the type `ty` (as the registry writes it, e.g.
/// `[UUID!]!`); `path` names the value in errors.
pub fn check(registry: &Registry, ty: &str, value: &Value, path: &str) -> Result<(), Mismatch> {
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => match value {
            Value::Null => Err(mismatch(path, format!("expected {inner}!, found null"))),
            _ => check(registry, inner, value, path),
        },
        MetaTypeName::List(inner) => match value {
            Value::Null => Ok(()),
            Value::List(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| check(registry, inner, item, &format!("{path}[{i}]"))),
            // A single value stands for a list of one (input coercion).
            _ => check(registry, inner, value, path),
        },
        MetaTypeName::Named(_) if *value == Value::Null => Ok(()),
        MetaTypeName::Named(name) => match registry.types.get(name) {
            Some(MetaType::Scalar { is_valid, .. }) => {
                let valid = scalar_fits(name, value)
                    .unwrap_or_else(|| is_valid.as_ref().is_none_or(|valid| valid(value)));
                if !valid {
                    return Err(mismatch(path, format!("expected {name}, found {value}")));
                }
                if name == "DateTime" && !instant_in_range(value) {
                    return Err(mismatch(
                        path,
                        format!(
                            "expected an instant from {FIRST_INSTANT} to {LAST_INSTANT} (in UTC), found {value}"
                        ),
                    ));
                }
                Ok(())
            }
            Some(MetaType::Enum { enum_values, .. }) => match value {
                Value::Enum(item) if enum_values.contains_key(item.as_str()) => Ok(()),
                Value::String(item) if enum_values.contains_key(item.as_str()) => Ok(()),
                _ => {
                    let allowed: Vec<&str> = enum_values.keys().map(String::as_str).collect();
                    Err(mismatch(
                        path,
                        format!("expected one of {}, found {value}", allowed.join(", ")),
                    ))
                }
            },
            Some(MetaType::InputObject { input_fields, .. }) => {
                let Value::Object(fields) = value else {
                    return Err(mismatch(path, format!("expected {name}, found {value}")));
                };
                if let Some(unknown) = fields
                    .keys()
                    .find(|key| !input_fields.contains_key(key.as_str()))
                {
                    return Err(mismatch(
                        &format!("{path}.{unknown}"),
                        format!("{name} has no field {unknown}"),
                    ));
                }
                for field in input_fields.values() {
                    let field_path = format!("{path}.{}", field.name);
                    match fields.get(field.name.as_str()) {
                        Some(value) => check(registry, &field.ty, value, &field_path)?,
                        None if field.ty.ends_with('!') && field.default_value.is_none() => {
                            return Err(mismatch(
                                &field_path,
                                format!("is required ({}), but was not given", field.ty),
                            ));
                        }
                        None => {}
                    }
                }
                Ok(())
            }
            // Output types and unknown names are validation's to report.
            _ => Ok(()),
        },
    }
}

/// The first and last instants the gateway stores. SQLite keeps instants
/// as RFC 3339 text in UTC and compares them as text, which orders them
/// only while the year has four digits: `9999-12-31T23:59:59-23:59` is in
/// the year 10000 in UTC. Both backends refuse what lies outside, so they
/// agree on every range.
const FIRST_INSTANT: &str = "0000-01-01T00:00:00Z";
const LAST_INSTANT: &str = "9999-12-31T23:59:59.999999Z";

/// Whether a DateTime value, taken to UTC, has a four-digit year.
fn instant_in_range(value: &Value) -> bool {
    let Value::String(text) = value else {
        return true;
    };
    DateTime::parse_from_rfc3339(text)
        .is_ok_and(|at| (0..=9999).contains(&chrono::Datelike::year(&at.to_utc())))
}

/// Refuses a quoted string where an enum belongs in a document's literal
/// (`orderBy: "CREATED_AT_ASC"`): the spec's literal enum values are
/// names, and graphql-js refuses a string. A JSON variable has no other
/// way to spell one, so [`check`] accepts strings; this runs on literals
/// only, before their variables are put in (a variable is already checked).
pub fn no_quoted_enums(
    registry: &Registry,
    ty: &str,
    value: &InputValue,
    path: &str,
) -> Result<(), Mismatch> {
    match (MetaTypeName::create(ty), value) {
        (MetaTypeName::NonNull(inner), _) => no_quoted_enums(registry, inner, value, path),
        (MetaTypeName::List(inner), InputValue::List(items)) => {
            items.iter().enumerate().try_for_each(|(i, item)| {
                no_quoted_enums(registry, inner, item, &format!("{path}[{i}]"))
            })
        }
        (MetaTypeName::List(inner), _) => no_quoted_enums(registry, inner, value, path),
        (MetaTypeName::Named(name), _) => match (registry.types.get(name), value) {
            (Some(MetaType::Enum { .. }), InputValue::String(text)) => Err(mismatch(
                path,
                format!(
                    "expected a value of the enum {name}, written without quotes (e.g. {text} rather than \"{text}\")"
                ),
            )),
            (Some(MetaType::InputObject { input_fields, .. }), InputValue::Object(fields)) => {
                fields.iter().try_for_each(|(field, value)| {
                    let Some(meta) = input_fields.get(field.as_str()) else {
                        return Ok(());
                    };
                    no_quoted_enums(registry, &meta.ty, value, &format!("{path}.{field}"))
                })
            }
            _ => Ok(()),
        },
    }
}

/// Whether `value` fits one of the scalars this schema uses; `None` for a
/// scalar this module does not know.
fn scalar_fits(name: &str, value: &Value) -> Option<bool> {
    Some(match (name, value) {
        ("Int", Value::Number(n)) => n.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        ("Float", Value::Number(_)) => true,
        ("String", Value::String(_)) => true,
        ("ID", Value::String(_)) => true,
        ("ID", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("Boolean", Value::Boolean(_)) => true,
        ("UUID", Value::String(text)) => Uuid::parse_str(text).is_ok(),
        ("DateTime", Value::String(text)) => DateTime::parse_from_rfc3339(text).is_ok(),
        ("Int" | "Float" | "String" | "ID" | "Boolean" | "UUID" | "DateTime", _) => false,
        _ => return None,
    })
}

/// The operation's variables as the spec coerces them: each given value
/// must fit its type, a required one must be given; defaults fill the
/// rest. Fails with the first variable that does not, by name.
pub fn variables(
    registry: &Registry,
    operation: &OperationDefinition,
    given: &Variables,
) -> Result<Variables, ServerError> {
    let mut effective = Variables::default();
    for definition in &operation.variable_definitions {
        let name = &definition.node.name.node;
        let ty = definition.node.var_type.node.to_string();
        let value = match given.get(name) {
            Some(value) => value.clone(),
            None => match &definition.node.default_value {
                Some(default) => {
                    let literal = default.node.clone().into_value();
                    no_quoted_enums(registry, &ty, &literal, name)
                        .map_err(|mismatch| invalid_variable(name, mismatch, definition.pos))?;
                    default.node.clone()
                }
                None if !definition.node.var_type.node.nullable => {
                    let error = AppError::InvalidVariable {
                        field: name.to_string(),
                        message: format!(
                            "Variable ${name} of type {ty} is required, but was not given"
                        ),
                    };
                    return Err(error.to_server_error(Some(definition.pos)));
                }
                None => continue,
            },
        };
        check(registry, &ty, &value, name)
            .map_err(|mismatch| invalid_variable(name, mismatch, definition.pos))?;
        effective.insert(name.clone(), value);
    }
    Ok(effective)
}

fn invalid_variable(
    name: &str,
    Mismatch { path, reason }: Mismatch,
    at: async_graphql::Pos,
) -> ServerError {
    let error = AppError::InvalidVariable {
        message: format!("Variable ${name} has an invalid value at {path}: {reason}"),
        field: path,
    };
    error.to_server_error(Some(at))
}
