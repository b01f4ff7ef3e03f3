//! The schema's second instance, which runs nothing: it validates
//! documents in full (async-graphql's strict mode) and lends its type
//! registry to the checks of [`super::admit`]. The instance that serves
//! requests validates only what execution needs and carries no extension
//! (async-graphql's fast path); every document reaches it only after
//! passing here once. Two instances, not one: async-graphql sets the
//! validation mode per instance and keeps its validation rules to itself,
//! so a full check and a light run cannot share one.

use std::sync::{Arc, OnceLock};

use async_graphql::{
    Request, Response, SchemaEnv, ServerError, ServerResult, ValidationMode,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest},
};

use super::AppSchema;

/// Validates documents against the schema.
pub struct Checker {
    schema: AppSchema,
    env: SchemaEnv,
}

impl Checker {
    /// Builds the checking instance and reads its registry.
    pub async fn new() -> Self {
        let inspect = Inspect::default();
        let schema = super::builder()
            .validation_mode(ValidationMode::Strict)
            .extension(inspect.clone())
            .finish();
        schema.execute("{ __typename }").await;
        let env = inspect
            .0
            .get()
            .cloned()
            .expect("the inspecting extension ran");
        Self { schema, env }
    }

    /// The schema's types, as async-graphql keeps them.
    pub fn env(&self) -> &SchemaEnv {
        &self.env
    }

    /// Validates `request`'s document (with its operation name and
    /// variables) in full; runs none of it.
    pub async fn validate(&self, request: Request) -> Result<(), Vec<ServerError>> {
        let response = self.schema.execute(request).await;
        if response.errors.is_empty() {
            Ok(())
        } else {
            Err(response.errors)
        }
    }
}

/// Keeps the schema's environment of the first request, and stops every
/// request after validation.
#[derive(Clone, Default)]
struct Inspect(Arc<OnceLock<SchemaEnv>>);

impl ExtensionFactory for Inspect {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Inspect {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.0.get_or_init(|| ctx.schema_env.clone());
        next.run(ctx, request).await
    }

    /// Reached only when the document validated: nothing runs.
    async fn execute(
        &self,
        _ctx: &ExtensionContext<'_>,
        _operation_name: Option<&str>,
        _next: NextExecute<'_>,
    ) -> Response {
        Response::new(async_graphql::Value::Null)
    }
}
