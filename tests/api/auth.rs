//! Every GraphQL request needs a workspace API key; anything else is a 401
//! with `extensions.code = UNAUTHENTICATED`, over real HTTP.

use chat_gateway::service::api_key;
use chrono::Utc;
use entity::api_key as api_key_row;
use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, EntityTrait, QueryFilter, prelude::*};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

const QUERY: &str = "{ chats { items { id } } }";

async fn send(app: &TestApp, header: Option<(&str, &str)>) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": QUERY }));
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn assert_unauthenticated((status, body): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(body.get("data").is_none(), "no data on a 401: {body}");
}

#[tokio::test]
async fn request_without_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    assert_unauthenticated(send(&app, None).await);
}

#[tokio::test]
async fn unknown_malformed_or_non_bearer_keys_are_unauthorized() {
    let app = TestApp::spawn().await;
    let world = app.world("Acme").await;
    // Same prefix, wrong secret.
    let (prefix, _) = world.key.rsplit_once('_').unwrap();
    let forged = format!("{prefix}_{}", "0".repeat(64));
    for header in [
        ("authorization", format!("Bearer {forged}")),
        ("authorization", "Bearer not-a-key".to_owned()),
        ("authorization", format!("Basic {}", world.key)),
        ("authorization", "Bearer".to_owned()),
        ("x-api-key", forged.clone()),
        ("x-api-key", String::new()),
    ] {
        assert_unauthenticated(send(&app, Some((header.0, &header.1))).await);
    }
}

#[tokio::test]
async fn bearer_and_x_api_key_headers_both_authenticate() {
    let app = TestApp::spawn().await;
    let world = app.world("Acme").await;
    for header in [
        ("authorization", format!("Bearer {}", world.key)),
        ("x-api-key", world.key.clone()),
    ] {
        let (status, body) = send(&app, Some((header.0, &header.1))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({ "data": { "chats": { "items": [] } } }));
    }
}

#[tokio::test]
async fn revoked_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    let world = app.world("Acme").await;
    let prefix = world.key.rsplit_once('_').unwrap().0.to_owned();
    api_key_row::Entity::update_many()
        .set(api_key_row::ActiveModel {
            revoked_at: Set(Some(Utc::now())),
            ..Default::default()
        })
        .filter(api_key_row::Column::Prefix.eq(prefix))
        .exec(&app.db)
        .await
        .unwrap();
    assert_unauthenticated(
        send(
            &app,
            Some(("authorization", &format!("Bearer {}", world.key))),
        )
        .await,
    );
}

/// PostgreSQL only (keys are cached there): a key one replica has cached
/// is refused there once another process revokes it, and stays refused.
/// The replica hears of the revocation by NOTIFY, which arrives after the
/// revoking transaction commits, so a request sent in that gap may still
/// pass: the test waits for the first refusal (the bound only keeps a
/// broken eviction from hanging the suite; it is not a speed check).
#[tokio::test]
#[ignore = "PostgreSQL only: TEST_DATABASE_URL=... cargo test -- --include-ignored"]
async fn a_revoked_key_is_refused_by_every_replica_once_notified() {
    let app = TestApp::spawn().await;
    assert!(app.is_postgres(), "needs PostgreSQL: set TEST_DATABASE_URL");
    let world = app.world("Acme").await;
    let replica = app.replica().await;
    let ask = || {
        app.client
            .post(format!("http://{}/graphql", replica.addr))
            .bearer_auth(&world.key)
            .json(&serde_json::json!({ "query": "{ __typename }" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(ask().await.unwrap().status(), StatusCode::OK);
    }
    // The key is cached on the replica; revoke it through another process.
    let prefix = world.key.rsplit_once('_').unwrap().0;
    chat_gateway::service::api_key::revoke(&app.db, prefix)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    // Well inside the cache's 30 s lifetime, after which the key would be
    // looked up again and refused without any eviction.
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ask().await.unwrap().status() != StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < patience,
            "the replica never forgot the revoked key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Forgotten for good: the cache does not bring it back.
    for _ in 0..3 {
        assert_eq!(ask().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn keys_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let world = app.world("Acme").await;
    let key = api_key::create(&app.db, world.workspace_id, "second", None)
        .await
        .map_err(|e| e.into_anyhow())
        .unwrap();
    assert!(key.key.len() >= 32 + 16, "at least 128 random bits");
    for row in api_key_row::Entity::find().all(&app.db).await.unwrap() {
        assert!(!row.secret_hash.contains(&key.key) && !key.key.contains(&row.secret_hash));
        assert_ne!(row.secret_hash, world.key);
    }
    let (status, _) = send(&app, Some(("x-api-key", &key.key))).await;
    assert_eq!(status, StatusCode::OK);
}
