//! The two ends every transport (HTTP, WebSocket) shares. [`Admission`]
//! runs on a request before the API key is looked up: tokens (before
//! parsing), parsing, the document limits, which operation runs, the
//! variables and arguments against their types (see [`coerce`] and
//! [`walk`]) and the cost. What fails there is a request error and never
//! reaches the database; what passes runs with async-graphql's fast path,
//! since the schema needs no extension. What every response goes through
//! on its way out is [`super::response`].

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use async_graphql::{
    Request, ServerError,
    parser::types::{ExecutableDocument, OperationType},
};

use sha2::{Digest, Sha256};

use super::{
    checker::Checker,
    coerce, limits, operation,
    trusted::{Trusted, TrustedDocuments},
    walk,
};
use crate::{
    config::{Limits, cap},
    error::AppError,
};

/// Everything a request is checked against before it runs.
pub struct Admission {
    limits: Arc<Limits>,
    /// The full validation, and the schema's types.
    checker: Checker,
    /// Documents already parsed and within the document limits, by text:
    /// clients send the same few documents over and over, and parsing
    /// was a tenth of a one-chat request's CPU.
    parsed: Mutex<HashMap<String, Parsed>>,
    /// Documents requests may name by id, parsed and validated at start.
    trusted: TrustedDocuments,
    /// The validation flag of every trusted document: always set.
    validated_at_start: Arc<AtomicBool>,
}

/// A document of the cache, and whether it has passed async-graphql's
/// full validation (see [`Admitted::validated`]).
#[derive(Clone)]
struct Parsed {
    document: ExecutableDocument,
    /// `None` for a document too long to be kept.
    validated: Option<Arc<AtomicBool>>,
    hash: Arc<str>,
}

/// What [`Admission::admit`] found out about a request.
pub struct Admitted {
    /// The type of the operation the request selects.
    pub ty: OperationType,
    /// Its name, cut to [`MAX_NAME_CHARS`]; `None` when anonymous.
    pub name: Option<Arc<str>>,
    /// The SHA-256 of the document's text, in hex (a trusted document's
    /// id), as logs name a document without quoting it.
    pub hash: Arc<str>,
    /// Set once the document passed the full validation; `None` for a
    /// document too long to be kept.
    validated: Option<Arc<AtomicBool>>,
}

impl Admitted {
    /// Whether the document has passed async-graphql's full validation
    /// before. Its rules look at the document, not at the request: what
    /// they check of variable values, [`coerce`] and [`walk`] have checked
    /// already, on every request. So a document is validated in full once
    /// ([`Admission::validate`]), not per request: that was an eighth of
    /// a one-chat request's CPU.
    fn validated(&self) -> bool {
        self.validated
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::Relaxed))
    }
}

/// Longest operation name logs, metrics and spans repeat: a name is the
/// client's text, as long as the document lets it be, and each distinct
/// one becomes a metric series.
const MAX_NAME_CHARS: usize = 128;

/// `name`, cut to [`MAX_NAME_CHARS`].
fn bounded(name: &str) -> Arc<str> {
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((end, _)) => Arc::from(&name[..end]),
        None => Arc::from(name),
    }
}

/// Documents [`Admission`] keeps parsed; past it, it starts over.
const PARSED_DOCUMENTS: usize = 512;
/// Longest document kept parsed: with the count above, the cache stays
/// within a few megabytes whatever clients send.
const PARSED_DOCUMENT_BYTES: usize = 16 * 1024;

impl Admission {
    /// The checks of `limits` against the gateway's schema, with the
    /// `trusted` documents.
    pub fn new(limits: Arc<Limits>, trusted: TrustedDocuments, checker: Checker) -> Self {
        Self {
            limits,
            checker,
            parsed: Mutex::new(HashMap::new()),
            trusted,
            validated_at_start: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The trusted document the request names by `id`, or `None` when it
    /// sent its own text and texts may run. Refused (a whole-request
    /// error, before anything else) for an unknown id, or a text when
    /// only trusted documents run.
    pub fn trusted(&self, id: Option<&str>) -> Result<Option<&Trusted>, AppError> {
        self.trusted.resolve(id)
    }

    /// Checks `request`, whose document is its text or `trusted`, and
    /// keeps the document parsed in it.
    pub fn admit(
        &self,
        request: &mut Request,
        trusted: Option<&Trusted>,
    ) -> Result<Admitted, ServerError> {
        let limits = &self.limits;
        let as_error = |error: AppError| error.to_server_error(None);
        let Parsed {
            document,
            validated,
            hash,
        } = match trusted {
            // Only the parse runs: the text stays out of the request.
            Some(trusted) => Parsed {
                document: trusted.document.clone(),
                validated: Some(self.validated_at_start.clone()),
                hash: trusted.hash.clone(),
            },
            None => self.parse(&request.query)?,
        };
        let operation =
            operation::select(&document, request.operation_name.as_deref()).map_err(as_error)?;
        let name = operation::name(&document, request.operation_name.as_deref()).map(bounded);
        let registry = &self.checker.env().registry;
        let variables = coerce::variables(registry, &operation.node, &request.variables)?;
        let root = match operation.node.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        if let Some(root) = root {
            let selection = &operation.node.selection_set.node;
            let cost = walk::walk(registry, &document.fragments, &variables, root, selection)?;
            if cost > cap(limits.max_complexity) {
                let error = AppError::LimitExceeded {
                    limit: "max-complexity",
                    actual: Some(cost),
                    max: limits.max_complexity,
                };
                return Err(error.to_server_error(None));
            }
        }
        let ty = operation.node.ty;
        request.set_parsed_query(document);
        Ok(Admitted {
            ty,
            name,
            hash,
            validated,
        })
    }

    /// Validates `request`'s document in full unless it passed before,
    /// and notes that it did: only then may it run on the serving schema,
    /// which validates no more than execution needs.
    pub async fn validate(
        &self,
        request: &mut Request,
        admitted: &Admitted,
    ) -> Result<(), Vec<ServerError>> {
        if admitted.validated() {
            return Ok(());
        }
        let document = request.parsed_query().map_err(|error| vec![error])?.clone();
        let mut check = Request::new(String::new()).variables(request.variables.clone());
        if let Some(name) = &request.operation_name {
            check = check.operation_name(name.as_str());
        }
        check.set_parsed_query(document);
        self.checker.validate(check).await?;
        if let Some(flag) = &admitted.validated {
            flag.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Admission {
    /// `query` parsed and within the document limits, from the cache when
    /// it was seen before, with its cache entry's validation flag.
    fn parse(&self, query: &str) -> Result<Parsed, ServerError> {
        if let Some(cached) = self.documents().get(query).cloned() {
            return Ok(cached);
        }
        let document = parse_within_limits(query, &self.limits)?;
        let hash: Arc<str> = hex::encode(Sha256::digest(query.as_bytes())).into();
        if query.len() > PARSED_DOCUMENT_BYTES {
            return Ok(Parsed {
                document,
                validated: None,
                hash,
            });
        }
        let entry = Parsed {
            document,
            validated: Some(Arc::new(AtomicBool::new(false))),
            hash,
        };
        let mut documents = self.documents();
        if documents.len() >= PARSED_DOCUMENTS {
            documents.clear();
        }
        documents.insert(query.to_owned(), entry.clone());
        Ok(entry)
    }

    fn documents(&self) -> std::sync::MutexGuard<'_, HashMap<String, Parsed>> {
        self.parsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A document that does not parse, said in one line a client can show
/// ("Syntax error at 1:8: expected selection set"); the parser's own text
/// draws the line with a caret over several lines.
/// Parses `query`, held to the document limits (tokens before the parse,
/// depth, aliases and the like after): what every document passes, sent
/// as text or trusted at start-up.
pub(super) fn parse_within_limits(
    query: &str,
    limits: &Limits,
) -> Result<ExecutableDocument, ServerError> {
    let as_error = |error: AppError| error.to_server_error(None);
    limits::check_tokens(query, limits.max_tokens).map_err(as_error)?;
    let document = async_graphql::parser::parse_query(query).map_err(syntax_error)?;
    limits::check_document(&document, limits).map_err(as_error)?;
    Ok(document)
}

fn syntax_error(error: async_graphql::parser::Error) -> ServerError {
    use async_graphql::parser::Error;
    let message = match &error {
        Error::Syntax { message, start, .. } => {
            let expected = message
                .lines()
                .rev()
                .find_map(|line| line.trim().strip_prefix("= "))
                .unwrap_or("unexpected input")
                .replace('_', " ");
            format!(
                "Syntax error at {}:{}: {expected}",
                start.line, start.column
            )
        }
        other => other.to_string(),
    };
    let mut server_error = ServerError::from(error);
    server_error.message = message;
    server_error
        .locations
        .retain(|at| at.line > 0 && at.column > 0);
    server_error
}
