//! The HTTP surface: GraphiQL served offline, GraphQL over GET, health checks.

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::{
    helpers::{TestApp, attached, error_code, metric},
    socket::Socket,
};

#[tokio::test]
async fn graphiql_page_loads_nothing_from_outside() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"graphiql\""));
    for external in ["http:", "https:", "//unpkg", "cdn"] {
        assert!(
            !html.contains(external),
            "the page refers to {external}: {html}"
        );
    }
    // Every script and stylesheet the page names is served by the gateway.
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(assets.len(), 6, "{assets:?}");
    for asset in assets {
        let response = app.client.get(app.url(asset)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        let body = response.text().await.unwrap();
        assert!(body.len() > 100, "{asset} is empty");
    }
    let missing = app
        .client
        .get(app.url("/graphiql/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn queries_run_over_get_but_mutations_are_refused() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let get = |query: String| {
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .bearer_auth(&w.key)
            .send()
    };
    let response = get("{ chats { totalCount } }".to_owned()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({ "data": { "chats": { "totalCount": 1 } } })
    );

    let before = app.snapshot().await;
    let mutation = format!(
        "mutation {{ removeChat(id: \"{}\") {{ chatId }} }}",
        chat.id
    );
    let response = get(mutation).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::ALLOW], "POST");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn get_without_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ chats { totalCount } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    app.db.clone().close().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let app = TestApp::spawn().await;
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let metrics = app.metrics_url();
    let served = app.client.get(format!("{metrics}/metrics")).send().await;
    assert_eq!(served.unwrap().status(), StatusCode::OK);
    // The metrics listener serves nothing of the API.
    for path in ["/graphql", "/healthz", "/"] {
        let response = app.client.get(format!("{metrics}{path}")).send().await;
        assert_eq!(response.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Without --metrics-listen, no metrics listener at all.
    let (bare, _) = TestApp::build_with(|config| config.metrics_listen = None).await;
    assert_eq!(bare.metrics_addr(), None);
}

#[tokio::test]
async fn metrics_count_sql_statements() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let base = app.metrics_url();
    let read = || metric(&base, "chat_gateway_sql_statements_total");
    // The key's first use also writes its lastUsedAt; count after it.
    app.data(&w.key, "{ __typename }", json!({})).await;
    let before = read().await;
    app.data(&w.key, "{ chats { items { id } } }", json!({}))
        .await;
    let after = read().await;
    // PostgreSQL keeps authenticated keys in the process; SQLite reads it.
    let key_check = u64::from(!app.is_postgres());
    assert_eq!(
        after,
        before + key_check + 1,
        "a list runs exactly the key check (if any) and the list: {before} -> {after}"
    );
}

#[tokio::test]
async fn metrics_gauge_the_subscriptions_attached() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    assert_eq!(
        metric(&app.metrics_url(), "graphql_subscriptions_active").await,
        0
    );
    let mut socket = Socket::ready(&app, &w.key).await;
    socket
        .subscribe("a", "subscription { chatEvents { cursor } }", json!({}))
        .await;
    socket
        .subscribe("b", "subscription { chatEvents { kind } }", json!({}))
        .await;
    attached(&app.metrics_url(), 2).await;
    // A subscription the client completes detaches; so do a socket's.
    socket.send(json!({ "type": "complete", "id": "a" })).await;
    attached(&app.metrics_url(), 1).await;
    drop(socket);
    attached(&app.metrics_url(), 0).await;
}
