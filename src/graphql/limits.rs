//! Limits on the shape of a GraphQL document, checked before the API key is
//! looked up or any resolver runs: tokens and nesting (before parsing, so a
//! huge or deeply nested document is not parsed at all), then aliases, root fields, depth,
//! directives per field and how deep introspection nests on the parsed
//! document. Cost (`--max-complexity`) needs the schema's types, so it is
//! counted with them, in [`super::walk`].
//!
//! Fragments are measured once each and their results reused, so a
//! document of fragments spreading fragments cannot make the check itself
//! exponential.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};

use crate::{
    config::{Limits, cap},
    error::AppError,
};

/// How deep `[`, `{` and `(` may nest in a document, and objects and
/// lists in a request's variables. The parser recurses once per level, and
/// about 1,500 levels of `[` (3 KB of text) overflow a worker's stack and
/// abort the process, so this is fixed, not a flag: far above any real
/// document (the standard introspection query nests 13), far below the stack.
pub const MAX_NESTING: usize = 64;

/// Fails when `query` has more than `max` lexical tokens, or nests deeper
/// than [`MAX_NESTING`]. Counts as the GraphQL lexer would split it:
/// punctuators, names, numbers and strings (a string, block strings
/// included, is one token); whitespace, commas and comments are not tokens.
pub fn check_tokens(query: &str, max: usize) -> Result<(), AppError> {
    let scan = scan(query);
    if scan.nesting > MAX_NESTING {
        return Err(nesting_exceeded(scan.nesting));
    }
    if scan.tokens > cap(max) {
        return Err(AppError::LimitExceeded {
            limit: "max-tokens",
            actual: Some(scan.tokens),
            max,
        });
    }
    Ok(())
}

/// The error for a document or a value nested `depth` deep.
pub fn nesting_exceeded(depth: usize) -> AppError {
    AppError::LimitExceeded {
        limit: "max-nesting",
        actual: Some(depth),
        max: MAX_NESTING,
    }
}

/// What the scan before parsing counts.
#[derive(Debug, PartialEq, Eq)]
struct Scan {
    tokens: usize,
    /// The deepest nesting of brackets, braces and parentheses.
    nesting: usize,
}

fn scan(query: &str) -> Scan {
    let bytes = query.as_bytes();
    let mut tokens = 0;
    let (mut depth, mut nesting) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                tokens += 1;
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
            }
            b'"' => {
                tokens += 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                tokens += 1;
                i += 3;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                tokens += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == b'-' => {
                tokens += 1;
                i += 1;
                while i < bytes.len() && is_number_byte(bytes[i]) {
                    i += 1;
                }
            }
            c => {
                match c {
                    b'[' | b'{' | b'(' => {
                        depth += 1;
                        nesting = nesting.max(depth);
                    }
                    // An unbalanced closer is the parser's to report.
                    b']' | b'}' | b')' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                tokens += 1;
                i += 1;
            }
        }
    }
    Scan { tokens, nesting }
}

/// What may follow a number's first character: digits, the point, the
/// exponent and its sign.
fn is_number_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
}

/// Checks the parsed document against the aliases, root-fields, depth and
/// directives limits.
pub fn check_document(document: &ExecutableDocument, limits: &Limits) -> Result<(), AppError> {
    let mut measure = Measure {
        fragments: &document.fragments,
        memo: HashMap::new(),
    };
    let exceeded = |limit, actual, max| {
        Err(AppError::LimitExceeded {
            limit,
            actual: Some(actual),
            max,
        })
    };

    // Aliases and directives are written text: count each definition once.
    let mut aliases = 0;
    let operations = operations(document);
    let fragments = document.fragments.values().map(|f| &f.node.selection_set);
    for selection_set in operations.iter().copied().chain(fragments) {
        aliases += written_aliases(selection_set, limits.max_directives)?;
    }
    if aliases > cap(limits.max_aliases) {
        return exceeded("max-aliases", aliases, limits.max_aliases);
    }

    for selection_set in operations {
        let shape = measure.selection_set(selection_set);
        if shape.root_fields > cap(limits.max_root_fields) {
            return exceeded("max-root-fields", shape.root_fields, limits.max_root_fields);
        }
        if shape.depth > cap(limits.max_depth) {
            return exceeded("max-depth", shape.depth, limits.max_depth);
        }
        if shape.type_lists > MAX_INTROSPECTION_LISTS {
            let max = MAX_INTROSPECTION_LISTS;
            return exceeded("introspection-list-depth", shape.type_lists, max);
        }
        if shape.of_types > MAX_OF_TYPE {
            return exceeded("introspection-oftype-depth", shape.of_types, MAX_OF_TYPE);
        }
    }
    Ok(())
}

fn operations(document: &ExecutableDocument) -> Vec<&Positioned<SelectionSet>> {
    match &document.operations {
        DocumentOperations::Single(operation) => vec![&operation.node.selection_set],
        DocumentOperations::Multiple(operations) => operations
            .values()
            .map(|operation| &operation.node.selection_set)
            .collect(),
    }
}

/// Aliases written in `selection_set` (all levels, without entering
/// fragment spreads); fails on a field with too many directives.
fn written_aliases(
    selection_set: &Positioned<SelectionSet>,
    max_directives: usize,
) -> Result<usize, AppError> {
    let mut aliases = 0;
    for selection in &selection_set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                let directives = field.node.directives.len();
                if directives > cap(max_directives) {
                    return Err(AppError::LimitExceeded {
                        limit: "max-directives",
                        actual: Some(directives),
                        max: max_directives,
                    });
                }
                aliases += usize::from(field.node.alias.is_some());
                aliases += written_aliases(&field.node.selection_set, max_directives)?;
            }
            Selection::InlineFragment(fragment) => {
                aliases += written_aliases(&fragment.node.selection_set, max_directives)?;
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(aliases)
}

/// Introspection lists (`fields`, `inputFields`, `interfaces`,
/// `possibleTypes`) one path may nest: the standard introspection query
/// nests none in another, and each level multiplies the answer by the
/// schema's size (graphql-js and Apollo Router refuse 3 as well).
pub const MAX_INTROSPECTION_LISTS: usize = 2;
/// `ofType` links one path may chain: the standard introspection query
/// (graphql-js 16) chains 9, which covers `[[T!]!]!` several times over.
pub const MAX_OF_TYPE: usize = 10;

/// How many fields a selection set puts at its own level (through
/// fragments), how deep it goes, and how deep its introspection lists and
/// `ofType` chains go.
#[derive(Clone, Copy, Default)]
struct Shape {
    root_fields: usize,
    depth: usize,
    type_lists: usize,
    of_types: usize,
}

/// What a field named `name` adds to the introspection depths. Counted by
/// name wherever they appear: no type of this schema has fields so named.
fn introspection_step(name: &str) -> (usize, usize) {
    match name {
        "fields" | "inputFields" | "interfaces" | "possibleTypes" => (1, 0),
        "ofType" => (0, 1),
        _ => (0, 0),
    }
}

struct Measure<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Each fragment's shape; `None` while it is being measured, so a cycle
    /// (which validation rejects anyway) ends instead of recursing forever.
    memo: HashMap<&'a str, Option<Shape>>,
}

impl<'a> Measure<'a> {
    fn selection_set(&mut self, selection_set: &'a Positioned<SelectionSet>) -> Shape {
        let mut shape = Shape::default();
        for selection in &selection_set.node.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let below = self.selection_set(&field.node.selection_set);
                    let (list, of_type) = introspection_step(&field.node.name.node);
                    Shape {
                        root_fields: 1,
                        depth: below.depth + 1,
                        type_lists: below.type_lists + list,
                        of_types: below.of_types + of_type,
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set)
                }
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            };
            shape.root_fields = shape.root_fields.saturating_add(inner.root_fields);
            shape.depth = shape.depth.max(inner.depth);
            shape.type_lists = shape.type_lists.max(inner.type_lists);
            shape.of_types = shape.of_types.max(inner.of_types);
        }
        shape
    }

    fn fragment(&mut self, name: &'a str) -> Shape {
        match self.memo.get(name) {
            Some(Some(shape)) => return *shape,
            Some(None) => return Shape::default(),
            None => {}
        }
        let Some(definition) = self.fragments.get(name) else {
            return Shape::default();
        };
        self.memo.insert(name, None);
        let shape = self.selection_set(&definition.node.selection_set);
        self.memo.insert(name, Some(shape));
        shape
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn tokens_are_counted_as_the_lexer_splits_them() {
        let tokens = |query| scan(query).tokens;
        assert_eq!(tokens("{ a }"), 3);
        assert_eq!(tokens("query Q($x: Int = -1.5e3) { a(x: $x) }"), 19);
        assert_eq!(tokens("{ a(s: \"x, y { z }\") } # { b c d }"), 8);
        assert_eq!(tokens("{ a(s: \"\"\"many \\\"\"\" words\"\"\") ...F }"), 10);
    }

    #[test]
    fn nesting_counts_brackets_braces_and_parentheses_outside_strings() {
        let nesting = |query| scan(query).nesting;
        assert_eq!(nesting("{ a }"), 1);
        assert_eq!(nesting("{ a(x: [[1]], y: {z: [2]}) { b } }"), 4);
        assert_eq!(nesting("{ a(s: \"[[[[{{{{\") } # [[[[[["), 2);
        assert_eq!(nesting("{ a(s: \"\"\"((((\"\"\") }"), 2);
        // Unbalanced closers never go below zero or hide a later nesting.
        assert_eq!(nesting("}}}} { [[ ]] }"), 3);
        let bomb = format!(
            "{{ __typename(x: {}{}) }}",
            "[".repeat(1530),
            "]".repeat(1530)
        );
        assert_eq!(nesting(&bomb), 1532);
        assert!(matches!(
            check_tokens(&bomb, 0),
            Err(AppError::LimitExceeded {
                limit: "max-nesting",
                ..
            })
        ));
    }

    fn check(query: &str, limits: &Limits) -> Option<&'static str> {
        let document = parse_query(query).unwrap();
        match check_document(&document, limits) {
            Ok(()) => None,
            Err(AppError::LimitExceeded { limit, .. }) => Some(limit),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn fragments_count_where_they_are_spread() {
        let limits = Limits {
            max_root_fields: 2,
            max_depth: 3,
            ..Limits::DEFAULT
        };
        assert_eq!(check("{ a b }", &limits), None);
        assert_eq!(
            check("{ a ...F } fragment F on Query { b c }", &limits),
            Some("max-root-fields")
        );
        assert_eq!(check("{ a { b { c } } }", &limits), None);
        assert_eq!(
            check("{ a { ...F } } fragment F on A { b { c { d } } }", &limits),
            Some("max-depth")
        );
        // Introspection lists may not nest three deep, whatever the depth limit.
        let open = Limits {
            max_depth: 0,
            ..Limits::DEFAULT
        };
        assert_eq!(
            check(
                "{ __schema { types { fields { type { fields { name } } } } } }",
                &open
            ),
            None
        );
        assert_eq!(
            check(
                "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
                &open
            ),
            Some("introspection-list-depth")
        );
        assert_eq!(
            check(
                "{ __type(name: \"Chat\") { ...T } } fragment T on __Type { fields { type { ...U } } } fragment U on __Type { interfaces { possibleTypes { name } } }",
                &open
            ),
            Some("introspection-list-depth")
        );
        // A cycle is left to validation, not looped on.
        assert_eq!(
            check("{ ...F } fragment F on Query { ...F }", &limits),
            None
        );
    }

    #[test]
    fn aliases_and_directives_are_counted_where_written() {
        let limits = Limits {
            max_aliases: 2,
            max_directives: 2,
            ..Limits::DEFAULT
        };
        assert_eq!(check("{ x: a y: b }", &limits), None);
        assert_eq!(
            check("{ x: a ...F } fragment F on Q { y: b z: c }", &limits),
            Some("max-aliases")
        );
        assert_eq!(
            check("{ a @skip(if: false) @include(if: true) }", &limits),
            None
        );
        assert_eq!(
            check(
                "{ a @skip(if: false) @skip(if: false) @skip(if: false) }",
                &limits
            ),
            Some("max-directives")
        );
    }
}
