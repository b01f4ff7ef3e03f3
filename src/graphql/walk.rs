//! The selected operation walked once with the schema's types before it
//! runs: every argument is checked against its type (see [`coerce`]), a
//! required argument must be given, and the operation's cost is counted
//! for `--max-complexity`. Runs before validation, so it passes over what
//! validation reports (unknown fields, fragment cycles) instead of failing.

use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, ServerError, Value, Variables,
    parser::types::{Field, FragmentDefinition, Selection, SelectionSet},
    registry::{MetaTypeName, Registry},
};
use async_graphql_value::Value as InputValue;

use super::coerce::{self, Mismatch};
use crate::{
    error::AppError,
    graphql::types::message::DEFAULT_PREVIEW_CHARS,
    service::{
        chat::filter::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE},
        message::MAX_CONTENT_CHARS,
    },
};

/// Fields that return a page, and the arguments that size it: what one
/// item costs counts that many times.
const PAGED: &[(&str, &str, &[&str])] = &[
    ("Query", "chats", &["pageSize"]),
    ("Query", "chatsConnection", &["first", "last"]),
    ("Chat", "messages", &["first", "last"]),
    ("Query", "tickets", &["first", "last"]),
    ("Query", "owners", &["first", "last"]),
];

/// Characters of text one cost unit stands for.
const CHARS_PER_UNIT: usize = 1_024;

/// How many characters a text field may return: a fixed most, or the
/// value of an argument (with its default).
enum Text {
    AtMost(usize),
    Argument(&'static str, usize),
}

/// Fields that may return long text, and how long: each costs one more
/// for every [`CHARS_PER_UNIT`] characters it may return, so a page of
/// full messages costs what answering it takes (a message holds up to
/// 32,768 characters), not what a page of ids does.
const TEXT: &[(&str, &str, Text)] = &[
    ("Message", "content", Text::AtMost(MAX_CONTENT_CHARS)),
    (
        "Message",
        "preview",
        Text::Argument("maxChars", DEFAULT_PREVIEW_CHARS),
    ),
];

/// Walks the selection set `root` of type `root_type`; returns its cost, or
/// the first argument that does not fit.
pub fn walk(
    registry: &Registry,
    fragments: &HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &Variables,
    root_type: &str,
    root: &SelectionSet,
) -> Result<usize, ServerError> {
    let mut walker = Walker {
        registry,
        fragments,
        variables,
        memo: HashMap::new(),
    };
    walker.selection_set(root_type, root)
}

struct Walker<'a> {
    registry: &'a Registry,
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    variables: &'a Variables,
    /// Each fragment's cost, walked once; `None` while being walked, so a
    /// cycle (validation's to report) ends.
    memo: HashMap<&'a str, Option<usize>>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, ty: &str, set: &'a SelectionSet) -> Result<usize, ServerError> {
        let mut cost = 0usize;
        for selection in &set.items {
            let more = match &selection.node {
                Selection::Field(field) => self.field(ty, field)?,
                Selection::InlineFragment(fragment) => {
                    let on = fragment.node.type_condition.as_ref();
                    let ty = on.map_or(ty, |on| on.node.on.node.as_str());
                    self.selection_set(ty, &fragment.node.selection_set.node)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node)?
                }
            };
            cost = cost.saturating_add(more);
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a str) -> Result<usize, ServerError> {
        match self.memo.get(name) {
            Some(Some(cost)) => return Ok(*cost),
            Some(None) => return Ok(0),
            None => {}
        }
        let Some(definition) = self.fragments.get(name) else {
            return Ok(0);
        };
        self.memo.insert(name, None);
        let ty = definition.node.type_condition.node.on.node.as_str();
        let cost = self.selection_set(ty, &definition.node.selection_set.node)?;
        self.memo.insert(name, Some(cost));
        Ok(cost)
    }

    fn field(&mut self, parent: &str, field: &'a Positioned<Field>) -> Result<usize, ServerError> {
        let name = field.node.name.node.as_str();
        let Some(meta) = self
            .registry
            .types
            .get(parent)
            .and_then(|ty| ty.field_by_name(name))
        else {
            return Ok(1);
        };
        // The arguments that size this field's page, if it is paged.
        let sizing = PAGED
            .iter()
            .find(|(ty, f, _)| *ty == parent && *f == name)
            .map(|(_, _, args)| *args);
        let text = TEXT
            .iter()
            .find(|(ty, f, _)| *ty == parent && *f == name)
            .map(|(_, _, text)| text);
        let mut chars = match text {
            Some(Text::AtMost(chars) | Text::Argument(_, chars)) => *chars,
            None => 0,
        };
        let mut page_size = None;
        for (arg_name, arg) in &meta.args {
            let written = field.node.get_argument(arg_name);
            let given = written
                .and_then(|value| Some((value.pos, substitute(&value.node, self.variables)?)));
            if let Some(literal) = written {
                coerce::no_quoted_enums(self.registry, &arg.ty, &literal.node, arg_name).map_err(
                    |Mismatch { path, reason }| {
                        AppError::invalid(path, reason).to_server_error(Some(literal.pos))
                    },
                )?;
            }
            let Some((at, value)) = given else {
                // A variable left out is validation's to report (or leaves
                // the argument absent); only an argument never written is
                // missing here.
                if written.is_none() && arg.ty.ends_with('!') && arg.default_value.is_none() {
                    let error = AppError::invalid(
                        arg_name.as_str(),
                        format!("is required ({}), but was not given", arg.ty),
                    );
                    return Err(error.to_server_error(Some(field.pos)));
                }
                continue;
            };
            coerce::check(self.registry, &arg.ty, &value, arg_name).map_err(
                |Mismatch { path, reason }| {
                    AppError::invalid(path, reason).to_server_error(Some(at))
                },
            )?;
            let number = match &value {
                Value::Number(n) => n.as_i64(),
                _ => None,
            };
            if sizing.is_some_and(|args| args.contains(&arg_name.as_str())) {
                page_size = page_size.or(number);
            }
            if let (Some(Text::Argument(sized_by, _)), Some(number)) = (text, number)
                && sized_by == arg_name
            {
                chars = usize::try_from(number).unwrap_or(0);
            }
        }
        let item_type = MetaTypeName::concrete_typename(&meta.ty);
        let children = self.selection_set(item_type, &field.node.selection_set.node)?;
        let times = if sizing.is_some() {
            let size = page_size.unwrap_or(DEFAULT_PAGE_SIZE as i64);
            size.clamp(1, MAX_PAGE_SIZE as i64) as usize
        } else {
            1
        };
        let own = 1 + chars / CHARS_PER_UNIT;
        Ok(children.saturating_mul(times).saturating_add(own))
    }
}

/// An argument's value with the request's variables in it, as the field
/// will receive it: a variable that was not given leaves its place absent
/// (the argument, or the input object's field), and `null` in a list.
pub fn substitute(value: &InputValue, variables: &Variables) -> Option<Value> {
    match value {
        InputValue::Variable(name) => variables.get(name).cloned(),
        InputValue::List(items) => Some(Value::List(
            items
                .iter()
                .map(|item| substitute(item, variables).unwrap_or(Value::Null))
                .collect(),
        )),
        InputValue::Object(fields) => Some(Value::Object(
            fields
                .iter()
                .filter_map(|(name, value)| Some((name.clone(), substitute(value, variables)?)))
                .collect(),
        )),
        other => other.clone().into_const(),
    }
}
