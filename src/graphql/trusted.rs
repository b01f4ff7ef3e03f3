//! Trusted documents (`--trusted-documents FILE`): the documents a
//! deployment's own clients send, known by id. A request may send an id
//! (`documentId`, as the GraphQL-over-HTTP trusted documents convention
//! has it, or Apollo's `extensions.persistedQuery.sha256Hash`) instead of
//! the text; with `--only-trusted-documents` it must.
//!
//! The file is the manifest graphql-codegen's client preset writes with
//! `persistedDocuments: true`: a JSON object from id (the document's
//! SHA-256) to document. Every document is parsed, held to the document
//! limits and validated against the schema once, at start-up, so a
//! request by id skips all three.

use std::{collections::HashMap, path::Path};

use anyhow::{Context as _, bail};
use async_graphql::{
    Request,
    parser::types::{DocumentOperations, ExecutableDocument},
};

use super::{admit::parse_within_limits, checker::Checker};
use crate::{config::Limits, error::AppError};

/// The prefix the trusted documents convention puts before a SHA-256 id.
const SHA256_PREFIX: &str = "sha256:";

/// The trusted documents, and whether only they may run.
#[derive(Default)]
pub struct TrustedDocuments {
    /// By id, without the `sha256:` prefix.
    by_id: HashMap<String, Trusted>,
    only: bool,
}

/// A trusted document, parsed and checked.
#[derive(Clone)]
pub struct Trusted {
    pub document: ExecutableDocument,
    /// Its id (the SHA-256 of its text), as logs name it.
    pub hash: std::sync::Arc<str>,
}

impl TrustedDocuments {
    /// Reads, parses and validates the manifest at `path`.
    pub async fn load(
        path: &Path,
        only: bool,
        limits: &Limits,
        checker: &Checker,
    ) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the trusted documents {}", path.display()))?;
        let manifest: HashMap<String, String> = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a JSON object from document id to document",
                path.display()
            )
        })?;
        let mut by_id = HashMap::with_capacity(manifest.len());
        for (id, text) in manifest {
            let document = check(checker, &text, limits).await.with_context(|| {
                format!(
                    "trusted document {id} in {} does not run here",
                    path.display()
                )
            })?;
            let hash = bare(&id).into();
            by_id.insert(bare(&id).to_owned(), Trusted { document, hash });
        }
        Ok(Self { by_id, only })
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The document a request runs: the trusted one `id` names, or, with no
    /// id, the request's own text when that is allowed (`None`).
    pub fn resolve(&self, id: Option<&str>) -> Result<Option<&Trusted>, AppError> {
        match id {
            Some(id) => self
                .by_id
                .get(bare(id))
                .map(Some)
                .ok_or_else(|| AppError::UnknownDocument(id.chars().take(80).collect())),
            None if self.only => Err(AppError::TrustedDocumentRequired),
            None => Ok(None),
        }
    }
}

/// `id` without the `sha256:` prefix the convention allows.
fn bare(id: &str) -> &str {
    id.strip_prefix(SHA256_PREFIX).unwrap_or(id)
}

/// Parses `text`, holds it to the document limits and validates it in
/// full, without running it.
async fn check(
    checker: &Checker,
    text: &str,
    limits: &Limits,
) -> anyhow::Result<ExecutableDocument> {
    let document =
        parse_within_limits(text, limits).map_err(|error| anyhow::anyhow!(error.message))?;
    // Several operations: validation needs one named (the rules cover
    // the whole document whichever it is).
    let name = match &document.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => operations.keys().next().cloned(),
    };
    let mut request = Request::new(text);
    if let Some(name) = name {
        request = request.operation_name(name.as_str());
    }
    if let Err(errors) = checker.validate(request).await {
        bail!("{}", errors[0].message);
    }
    Ok(document)
}
