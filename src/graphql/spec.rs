//! Where async-graphql departs from the GraphQL spec, put right in one
//! extension every request runs through:
//!
//! - Before execution: the operation is selected, variables are coerced
//!   (a missing or ill-typed one is a request error naming it), every
//!   argument is checked against its type, and the cost is counted against
//!   `--max-complexity` (see [`walk`]).
//! - During execution: a field of nullable type whose resolver fails
//!   becomes `null` in place, with its error ("Handling Field Errors");
//!   async-graphql would otherwise fail its parent. Errors of non-null
//!   fields still travel up to the nearest nullable parent.

use std::sync::{Arc, Mutex};

use async_graphql::{
    Request, Response, ServerError, ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
        NextResolve, ResolveInfo,
    },
    parser::types::{OperationDefinition, OperationType},
    registry::Registry,
};

use super::{
    coerce::{self, Mismatch},
    operation, walk,
};
use crate::error::AppError;

/// Builds the per-request [`Spec`] extension.
pub struct SpecFactory {
    /// Highest cost a document may have; 0: no limit.
    pub max_complexity: usize,
}

impl ExtensionFactory for SpecFactory {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Spec {
            max_complexity: self.max_complexity,
            nulled: Mutex::new(Vec::new()),
        })
    }
}

/// One request's pass through the spec's rules.
struct Spec {
    max_complexity: usize,
    /// Errors of nullable fields that were answered with null.
    nulled: Mutex<Vec<ServerError>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for Spec {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let registry = &ctx.schema_env.registry;
        let name = request.operation_name.clone();
        let variables = std::mem::take(&mut request.variables);
        let document = request.parsed_query()?;
        let operation = operation::select(document, name.as_deref())
            .map_err(|error| error.to_server_error(None))?;
        let effective = coerce_variables(registry, &operation.node, &variables)?;
        let root = match operation.node.ty {
            OperationType::Query => Some(registry.query_type.as_str()),
            OperationType::Mutation => registry.mutation_type.as_deref(),
            OperationType::Subscription => registry.subscription_type.as_deref(),
        };
        if let Some(root) = root {
            let selection = &operation.node.selection_set.node;
            let cost = walk::walk(registry, &document.fragments, &effective, root, selection)?;
            if self.max_complexity > 0 && cost > self.max_complexity {
                let error = AppError::LimitExceeded {
                    limit: "max-complexity",
                    actual: Some(cost),
                    max: self.max_complexity,
                };
                return Err(error.to_server_error(None));
            }
        }
        request.variables = variables;
        next.run(ctx, request).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let nullable = !info.return_type.ends_with('!');
        match next.run(ctx, info).await {
            Err(error) if nullable => {
                self.nulled
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(error);
                Ok(Some(Value::Null))
            }
            other => other,
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let nulled = std::mem::take(&mut *self.nulled.lock().unwrap_or_else(|p| p.into_inner()));
        response.errors.extend(nulled);
        response
    }
}

/// The operation's variables as the spec coerces them: each given value
/// must fit its type, a required one must be given; defaults fill the
/// rest. Fails with the first variable that does not, by name.
fn coerce_variables(
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
                Some(default) => default.node.clone(),
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
        coerce::check(registry, &ty, &value, name).map_err(|Mismatch { path, reason }| {
            let error = AppError::InvalidVariable {
                message: format!("Variable ${name} has an invalid value at {path}: {reason}"),
                field: path,
            };
            error.to_server_error(Some(definition.pos))
        })?;
        effective.insert(name.clone(), value);
    }
    Ok(effective)
}
