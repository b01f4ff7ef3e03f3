//! With traces on (`--otlp-endpoint`), a span per root field: each of
//! them reaches the database, and the statements it runs are its
//! children. Nested fields get none (they read what their parent or a
//! batched load read; each batch has its own span, see [`super::loaders`]),
//! so a page of a hundred chats is not a thousand spans. Without traces
//! the schema has no extension at all.

use std::sync::Arc;

use async_graphql::{
    ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};
use tracing::Instrument;

use crate::telemetry::spans::{span, traced_under};

/// The extension that makes root fields' spans.
pub struct RootFieldSpans;

impl ExtensionFactory for RootFieldSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RootFieldSpans)
    }
}

#[async_trait::async_trait]
impl Extension for RootFieldSpans {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let span = span!(
            traced_under(&tracing::Span::current()),
            "graphql.resolve",
            otel.name = %format_args!("{}.{}", info.parent_type, info.name),
            graphql.field.name = info.name,
            graphql.field.parent_type = info.parent_type,
        );
        next.run(ctx, info).instrument(span).await
    }
}
