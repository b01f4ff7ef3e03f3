//! GraphiQL, served entirely from the binary: the page and the React and
//! GraphiQL bundles are embedded at build time, so the explorer works with
//! no internet access (async-graphql's stock page loads them from a CDN).

use axum::{
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Where the assets are served; the page refers to them by this path.
pub const ASSETS_PATH: &str = "/graphiql";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>chat-gateway · GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/graphql-ws.min.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
"#;

/// The embedded files: name, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.css"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql.min.js"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphql-ws.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphql-ws.min.js"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/start.js"),
    ),
];

/// The GraphiQL page.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// One embedded asset by file name, or 404.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
