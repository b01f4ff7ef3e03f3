//! GraphQL over HTTP beyond the audit: status codes by media type, bodies
//! that cross-site pages could send, and CORS.

use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn post_accepting(
    app: &TestApp,
    key: &str,
    accept: &str,
    query: &str,
) -> (StatusCode, String, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .header(header::ACCEPT, accept)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.json().await.unwrap())
}

#[tokio::test]
async fn request_errors_are_400_in_graphql_response_json_and_200_in_json() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for query in ["{ chats {", "{ noSuchField }"] {
        let (status, content_type, body) =
            post_accepting(&app, &w.key, GRAPHQL_RESPONSE, query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(content_type.starts_with(GRAPHQL_RESPONSE));
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT");

        let (status, content_type, body) =
            post_accepting(&app, &w.key, "application/json", query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert!(content_type.starts_with("application/json"));
        assert!(body.get("data").is_none(), "{body}");
    }
    // A field error is not a request error: the request executed.
    let missing = format!("{{ chat(id: \"{}\") {{ id }} }}", uuid::Uuid::new_v4());
    let (status, _, body) = post_accepting(&app, &w.key, GRAPHQL_RESPONSE, &missing).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert!(body.get("data").is_some(), "{body}");
}

#[tokio::test]
async fn bodies_a_cross_site_page_could_send_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let before = app.snapshot().await;
    let mutation = format!(
        r#"{{"query": "mutation {{ createChat(input: {{channelId: \"{}\", ownerSuperIdentityId: \"{}\"}}) {{ id }} }}"}}"#,
        w.channels[0].id, w.customer.super_identity_id
    );
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=----x"),
        None,
    ] {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&w.key)
            .body(mutation.clone());
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        let body: Value = response.json().await.unwrap();
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("application/json")
        );
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_accept_header_with_nothing_writable_is_406() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&w.key)
        .header(header::ACCEPT, "text/csv")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url("/graphql"))
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_is_off_by_default_and_allows_only_configured_origins() {
    let closed = TestApp::spawn().await;
    let response = preflight(&closed, "https://app.example.com").await;
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    let open = TestApp::spawn_with(|config| {
        config.cors_allowed_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    let response = preflight(&open, "https://app.example.com").await;
    assert!(response.status().is_success());
    let headers = response.headers();
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://app.example.com"
    );
    let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS]
        .to_str()
        .unwrap();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );

    let response = preflight(&open, "https://evil.example").await;
    assert!(
        response
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    // A browser app may read when to retry and the request's id: the
    // response to an allowed origin exposes both.
    let response = open
        .client
        .post(open.url("/graphql"))
        .header(header::ORIGIN, "https://app.example.com")
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key("x-request-id"));
    let exposed = response.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["retry-after", "x-request-id"] {
        assert!(exposed.split(',').any(|h| h.trim() == name), "{exposed}");
    }
}
