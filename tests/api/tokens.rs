//! Bearer JWTs from the customer's identity provider, verified against
//! its JWKS (served on loopback by the test, with keys made by OpenSSL)
//! or a shared secret: a token works wherever a key does, over HTTP and
//! the WebSocket; a bad one is refused saying which check failed and
//! changes nothing; its workspace, scopes and subject bound what it does.

use std::time::Duration;

use chat_gateway::app::Application;
use chat_gateway::config::Config;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, attached, error_code},
    idp::{ALL_SCOPES, Idp, SigningKey, claims, sign_hs256, trust},
    socket::Socket,
};

const CREATE: &str = "mutation($input: CreateChatInput!) { createChat(input: $input) { id } }";
const POST: &str = "mutation($chat: UUID!) {
    postMessage(input: { chatId: $chat, role: OPERATOR, content: \"hello\" }) {
        message { id author { kind id name } } } }";

/// A gateway trusting `idp`, with no leeway (so expiry is exact).
async fn gateway(idp: &Idp) -> TestApp {
    let url = idp.jwks_url();
    TestApp::spawn_with(|config| trust(config, url)).await
}

/// POSTs `query` with `token`: the status, the `WWW-Authenticate` header
/// and the body.
/// A SQLite database of its own in `dir`, for a gateway that is not
/// meant to start.
fn scratch_database(dir: &tempfile::TempDir) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("gateway.db").display()
    )
}

async fn post(
    app: &TestApp,
    token: &str,
    query: &str,
    variables: Value,
) -> (StatusCode, String, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, response.json().await.unwrap())
}

#[tokio::test]
async fn a_token_signed_with_each_algorithm_works_like_a_key_on_both_transports() {
    let keys = [
        SigningKey::generate(Algorithm::RS256, "rsa"),
        SigningKey::generate(Algorithm::ES256, "ec"),
        SigningKey::generate(Algorithm::EdDSA, "ed"),
    ];
    let idp = Idp::start(&keys.iter().collect::<Vec<_>>()).await;
    let app = gateway(&idp).await;
    let w = app.world("Acme").await;
    for key in &keys {
        let sub = format!("agent-{}", key.kid);
        let token = key.sign(&claims(w.workspace_id, &sub, ALL_SCOPES, 300));
        let actor = json!({ "kind": "USER", "id": sub, "name": format!("User {sub}") });

        let mut socket = Socket::ready(&app, &token).await;
        socket
            .subscribe(
                "1",
                "subscription { chatEvents { kind actor { kind id name } } }",
                json!({}),
            )
            .await;
        attached(&app.metrics_url(), 1).await;
        let input = json!({ "channelId": w.channels[0].id, "ownerSuperIdentityId": w.customer.super_identity_id });
        let chat = app.data(&token, CREATE, json!({ "input": input })).await["createChat"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let created = socket.next("1").await;
        assert_eq!(
            created["data"]["chatEvents"]["kind"], "CREATED",
            "{created}"
        );
        assert_eq!(created["data"]["chatEvents"]["actor"], actor, "{}", key.kid);
        let posted = app.data(&token, POST, json!({ "chat": chat })).await;
        assert_eq!(posted["postMessage"]["message"]["author"], actor);
        // Read to the post's event before the socket goes: a live
        // subscription attached next may still be handed an event the
        // bus had not read yet, and the next round expects its CREATED.
        let event = socket.next("1").await;
        assert_eq!(
            event["data"]["chatEvents"]["kind"], "MESSAGE_POSTED",
            "{event}"
        );

        // A query over the socket answers as over HTTP.
        socket
            .subscribe(
                "2",
                "query($id: UUID!) { chat(id: $id) { id } }",
                json!({ "id": chat }),
            )
            .await;
        let mut payload = socket.recv().await;
        while payload["id"] != "2" {
            payload = socket.recv().await;
        }
        assert_eq!(payload["payload"]["data"]["chat"]["id"], chat.as_str());
        drop(socket);
        attached(&app.metrics_url(), 0).await;
    }
    // Verified tokens are kept: the JWKS was fetched once, at start.
    assert_eq!(idp.fetches(), 1);
}

#[tokio::test]
async fn hs256_tokens_verify_with_the_shared_secret_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret = b"a development secret of 32+ bytes!!";
    let path = dir.path().join("secret");
    std::fs::write(&path, secret).unwrap();
    let app = TestApp::spawn_with(|config| {
        config.jwt.jwt_secret_file = Some(path.clone());
        config.jwt.jwt_leeway_secs = 0;
    })
    .await;
    let w = app.world("Acme").await;
    let token = sign_hs256(secret, &claims(w.workspace_id, "dev", ALL_SCOPES, 300));
    let data = app
        .data(&token, "{ chats { totalCount } }", json!({}))
        .await;
    assert_eq!(data["chats"]["totalCount"], 0);
    // Another secret's token does not verify.
    let forged = sign_hs256(
        b"another secret, also 32 bytes long",
        &claims(w.workspace_id, "dev", ALL_SCOPES, 300),
    );
    let (status, challenge, body) =
        post(&app, &forged, "{ chats { totalCount } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        challenge.contains("signature does not verify"),
        "{challenge}"
    );

    // A short secret stops the start, saying why.
    std::fs::write(&path, b"short").unwrap();
    let mut config = Config::for_database(scratch_database(&dir));
    config.jwt.jwt_secret_file = Some(path.clone());
    let error = Application::build(config).await.err().expect("refused");
    assert!(
        format!("{error:#}").contains("needs at least 32"),
        "{error:#}"
    );
}

/// `token` is refused over HTTP (401, `invalid_token` naming `why`) and
/// over the socket (4403 naming `why`).
async fn refused_everywhere(app: &TestApp, token: &str, why: &str, case: &str) {
    let before = app.snapshot().await;
    let input = json!({ "channelId": Value::Null });
    let (status, challenge, body) = post(app, token, CREATE, json!({ "input": input })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {body}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{case}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(why), "{case}: {message}");
    assert!(
        challenge.starts_with("Bearer error=\"invalid_token\"") && challenge.contains(why),
        "{case}: {challenge}"
    );
    assert!(body.get("data").is_none(), "{case}");
    assert!(!message.contains(token), "{case}: the token is quoted");

    let mut socket = Socket::open(app, "graphql-transport-ws").await;
    socket
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } }))
        .await;
    let (code, reason) = socket.closed_with_reason().await;
    assert_eq!(code, 4403, "{case}");
    assert!(reason.contains(why), "{case}: {reason}");
    assert_eq!(app.snapshot().await, before, "{case} changed something");
}

#[tokio::test]
async fn every_bad_token_is_refused_saying_which_check_failed() {
    let key = SigningKey::generate(Algorithm::RS256, "current");
    let stranger = SigningKey::generate(Algorithm::RS256, "current");
    let idp = Idp::start(&[&key]).await;
    let app = gateway(&idp).await;
    let w = app.world("Acme").await;
    let good = claims(w.workspace_id, "alice", ALL_SCOPES, 300);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good.clone();
        change(&mut claims);
        claims
    };
    let now = chrono::Utc::now().timestamp();
    let b64 = |value: &Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };

    let expired = key.sign(&with(&|c| c["exp"] = json!(now - 10)));
    refused_everywhere(&app, &expired, "the token has expired", "expired").await;
    let early = key.sign(&with(&|c| c["nbf"] = json!(now + 600)));
    refused_everywhere(&app, &early, "not valid yet", "nbf in the future").await;
    let issuer = key.sign(&with(&|c| c["iss"] = json!("https://evil.test")));
    refused_everywhere(&app, &issuer, "issuer (iss)", "wrong issuer").await;
    let audience = key.sign(&with(&|c| c["aud"] = json!("another-api")));
    refused_everywhere(&app, &audience, "audience (aud)", "wrong audience").await;
    let no_exp = key.sign(&with(&|c| {
        c.as_object_mut()
            .unwrap()
            .remove("exp")
            .map(drop)
            .unwrap_or(())
    }));
    refused_everywhere(&app, &no_exp, "no expiry (exp)", "no expiry").await;
    let no_workspace = key.sign(&with(&|c| {
        c.as_object_mut()
            .unwrap()
            .remove("workspace_id")
            .map(drop)
            .unwrap_or(())
    }));
    refused_everywhere(
        &app,
        &no_workspace,
        "names no workspace",
        "no workspace claim",
    )
    .await;
    let unknown_workspace = key.sign(&with(&|c| c["workspace_id"] = json!(uuid::Uuid::new_v4())));
    refused_everywhere(
        &app,
        &unknown_workspace,
        "workspace does not exist",
        "unknown workspace",
    )
    .await;

    // `alg: none`, unsigned.
    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT" })),
        b64(&good)
    );
    refused_everywhere(
        &app,
        &none,
        "algorithm is not one this gateway accepts",
        "alg none",
    )
    .await;
    // Algorithm confusion: HS256 "signed" with the RSA public key (which
    // anyone can read off the JWKS) as the secret.
    let confused = sign_hs256(&key.public_pem, &good);
    refused_everywhere(
        &app,
        &confused,
        "HS256 tokens are not accepted",
        "HS256 with the public key",
    )
    .await;
    // The header's algorithm is not the key's.
    let mut parts: Vec<String> = key.sign(&good).split('.').map(str::to_owned).collect();
    parts[0] = b64(&json!({ "alg": "ES256", "kid": "current" }));
    refused_everywhere(
        &app,
        &parts.join("."),
        "not the one its key signs with",
        "alg swapped",
    )
    .await;
    // A signed token whose payload was changed after signing: another
    // workspace, more scopes.
    let mut parts: Vec<String> = key
        .sign(&with(&|c| c["scope"] = json!("chats:read")))
        .split('.')
        .map(str::to_owned)
        .collect();
    parts[1] = b64(&good);
    refused_everywhere(
        &app,
        &parts.join("."),
        "signature does not verify",
        "tampered payload",
    )
    .await;
    // Same kid, another key (a forger's).
    let forged = stranger.sign(&good);
    refused_everywhere(
        &app,
        &forged,
        "signature does not verify",
        "forged with the same kid",
    )
    .await;
    // A kid the provider never published.
    let unknown = SigningKey::generate(Algorithm::ES256, "unknown").sign(&good);
    refused_everywhere(&app, &unknown, "kid", "unknown kid").await;
    refused_everywhere(&app, "abc.def.ghi", "not a well-formed JWT", "garbage").await;

    // The good token, for contrast.
    let token = key.sign(&good);
    let data = app
        .data(&token, "{ chats { totalCount } }", json!({}))
        .await;
    assert_eq!(data["chats"]["totalCount"], 0);
}

#[tokio::test]
async fn a_token_reaches_its_own_workspace_only() {
    let key = SigningKey::generate(Algorithm::ES256, "k");
    let idp = Idp::start(&[&key]).await;
    let app = gateway(&idp).await;
    let a = app.world("Acme").await;
    let b = app.world("Globex").await;
    let a_chat = app.insert_chat(&a, a.new_chat()).await.id.to_string();
    let b_chat = app.insert_chat(&b, b.new_chat()).await.id.to_string();
    let b_token = key.sign(&claims(b.workspace_id, "bob", ALL_SCOPES, 300));
    let before = app.snapshot().await;

    let chat = "query($id: UUID!) { chat(id: $id) { id } }";
    let body = app.gql(&b_token, chat, json!({ "id": a_chat })).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let update = "mutation($id: UUID!) { updateChat(id: $id, input: { title: \"mine\" }) { id } }";
    let body = app.gql(&b_token, update, json!({ "id": a_chat })).await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(app.snapshot().await, before);
    let list = app
        .data(&b_token, "{ chats { items { id } } }", json!({}))
        .await;
    assert_eq!(list["chats"]["items"], json!([{ "id": b_chat }]));
}

#[tokio::test]
async fn a_tokens_scopes_bound_what_it_may_do() {
    let key = SigningKey::generate(Algorithm::EdDSA, "k");
    let idp = Idp::start(&[&key]).await;
    let app = gateway(&idp).await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await.id.to_string();
    // Scopes as a list, as some providers write them.
    let mut read_only = claims(w.workspace_id, "auditor", "", 300);
    read_only["scope"] = json!(["chats:read", "messages:read"]);
    let read_only = key.sign(&read_only);
    let before = app.snapshot().await;
    let mut mutations = 0;
    for (field, query, variables, path) in crate::scopes::cases(&w, &chat) {
        if !field.starts_with("Mutation.") {
            continue;
        }
        mutations += 1;
        let body = app.gql(&read_only, &query, variables.clone()).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{field}: {body}");
        assert_eq!(error["path"], path, "{field}");
        let mut socket = Socket::ready(&app, &read_only).await;
        socket.subscribe("1", &query, variables).await;
        let payload = socket.next("1").await;
        assert_eq!(
            payload["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{field}"
        );
    }
    assert!(mutations >= 7);
    assert_eq!(
        app.snapshot().await,
        before,
        "a read-only token changed something"
    );
    // Reading works; who owns the chat needs directory:read.
    let read = "query($id: UUID!) { chat(id: $id) { id } }";
    let data = app.data(&read_only, read, json!({ "id": chat })).await;
    assert_eq!(data["chat"]["id"], chat.as_str());
    let owner = "query($id: UUID!) { chat(id: $id) { id owner { name } } }";
    let body = app.gql(&read_only, owner, json!({ "id": chat })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    assert_eq!(body["errors"][0]["path"], json!(["chat", "owner"]));
    assert_eq!(
        body["errors"][0]["extensions"]["requiredScopes"],
        json!(["directory:read"])
    );
    // No scope claim at all: nothing.
    let mut bare = claims(w.workspace_id, "nobody", "", 300);
    bare.as_object_mut().unwrap().remove("scope");
    let body = app
        .gql(&key.sign(&bare), "{ chats { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn keys_rotate_without_a_restart_and_made_up_kids_cannot_hammer_the_provider() {
    let old = SigningKey::generate(Algorithm::RS256, "2026-01");
    let new = SigningKey::generate(Algorithm::RS256, "2026-02");
    let idp = Idp::start(&[&old]).await;
    let app = gateway(&idp).await;
    let w = app.world("Acme").await;
    assert_eq!(idp.fetches(), 1);
    let query = "{ chats { totalCount } }";

    // A token under a key not yet published: one fetch, then refused.
    let early = new.sign(&claims(w.workspace_id, "early", ALL_SCOPES, 300));
    let (status, _, _) = post(&app, &early, query, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(idp.fetches(), 2);
    // Made-up kids right after: no fetch at all.
    for n in 0..3 {
        let made_up = SigningKey::generate(Algorithm::ES256, &format!("made-up-{n}"));
        let token = made_up.sign(&claims(w.workspace_id, "mallory", ALL_SCOPES, 300));
        let (status, _, _) = post(&app, &token, query, json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(idp.fetches(), 2, "made-up kids fetched the JWKS");

    // The provider rotates: both keys served. Tokens under the new key
    // verify as soon as the gateway may look again, without a restart;
    // the old key's keep working.
    idp.publish(&[&old, &new]);
    let token = new.sign(&claims(w.workspace_id, "rotated", ALL_SCOPES, 300));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = post(&app, &token, query, json!({})).await;
        if status == StatusCode::OK {
            assert_eq!(body["data"]["chats"]["totalCount"], 0);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new key was never fetched"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(idp.fetches(), 3);
    let old_token = old.sign(&claims(w.workspace_id, "old", ALL_SCOPES, 300));
    app.data(&old_token, query, json!({})).await;

    // The provider goes down: keys held keep verifying new tokens.
    idp.go_down();
    let later = old.sign(&claims(w.workspace_id, "later", ALL_SCOPES, 300));
    app.data(&later, query, json!({})).await;
    let ws = Socket::ready(&app, &later).await;
    drop(ws);
}

#[tokio::test]
async fn the_gateway_does_not_start_without_its_jwks() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks.json", closed.local_addr().unwrap());
    drop(closed);
    let mut config = Config::for_database(scratch_database(&dir));
    trust(&mut config, url.clone());
    let error = Application::build(config).await.err().expect("refused");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!("cannot fetch the JWKS at {url}")),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");

    // A JWKS without a signing key the gateway can use.
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#).unwrap();
    let mut config = Config::for_database(scratch_database(&dir));
    trust(&mut config, path.display().to_string());
    let error = Application::build(config).await.err().expect("refused");
    assert!(
        format!("{error:#}").contains("holds no RS256, ES256 or EdDSA signing key"),
        "{error:#}"
    );
}

#[tokio::test]
async fn a_jwks_file_works_like_a_url() {
    let key = SigningKey::generate(Algorithm::ES256, "file");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, json!({ "keys": [key.jwk()] }).to_string()).unwrap();
    let app = TestApp::spawn_with(|config| trust(config, path.display().to_string())).await;
    let w = app.world("Acme").await;
    let token = key.sign(&claims(w.workspace_id, "filed", ALL_SCOPES, 300));
    app.data(&token, "{ chats { totalCount } }", json!({}))
        .await;
}

#[tokio::test]
async fn a_socket_is_closed_when_its_token_expires_and_the_token_is_refused_after() {
    let key = SigningKey::generate(Algorithm::ES256, "k");
    let idp = Idp::start(&[&key]).await;
    let app = gateway(&idp).await;
    let w = app.world("Acme").await;
    let token = key.sign(&claims(w.workspace_id, "brief", ALL_SCOPES, 3));
    // Verified (and kept) before it expires.
    app.data(&token, "{ chats { totalCount } }", json!({}))
        .await;
    let mut socket = Socket::ready(&app, &token).await;
    socket
        .subscribe("1", "subscription { chatEvents { kind } }", json!({}))
        .await;
    let (code, reason) = socket.closed_with_reason().await;
    assert_eq!(
        (code, reason.as_str()),
        (
            4403,
            "Forbidden: the token has expired; connect again with a fresh one"
        )
    );
    // Kept no longer than it was valid.
    let (status, challenge, _) = post(&app, &token, "{ chats { totalCount } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("the token has expired"), "{challenge}");
}

#[tokio::test]
async fn rate_limits_and_socket_caps_hold_per_token_subject() {
    let key = SigningKey::generate(Algorithm::ES256, "k");
    let idp = Idp::start(&[&key]).await;
    let url = idp.jwks_url();
    let app = TestApp::spawn_with(|config| {
        trust(config, url);
        config.limits.rate_limit_per_sec = 1;
        config.limits.rate_limit_burst = 3;
        config.max_ws_connections_per_key = 1;
    })
    .await;
    let w = app.world("Acme").await;
    let query = "{ chats { totalCount } }";
    // Two tokens of one subject (as after a refresh) share a budget.
    let first = key.sign(&claims(w.workspace_id, "alice", ALL_SCOPES, 300));
    let mut refreshed = claims(w.workspace_id, "alice", ALL_SCOPES, 301);
    refreshed["jti"] = json!("refreshed");
    let refreshed = key.sign(&refreshed);
    assert_ne!(first, refreshed);
    for token in [&first, &refreshed, &first] {
        app.data(token, query, json!({})).await;
    }
    let (status, _, body) = post(&app, &refreshed, query, json!({})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Another subject of the same workspace has its own.
    let bob = key.sign(&claims(w.workspace_id, "bob", ALL_SCOPES, 300));
    app.data(&bob, query, json!({})).await;

    // One socket per subject: the second of alice's is refused, bob's is not.
    let mut alice = Socket::ready(&app, &first).await;
    let mut again = Socket::open(&app, "graphql-transport-ws").await;
    again
        .send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {refreshed}") } }))
        .await;
    assert_eq!(again.closed_with().await, 1013);
    let mut bob_socket = Socket::ready(&app, &bob).await;

    // The socket spends the same budget as HTTP: alice's operations are
    // refused there too, and the socket stays open; bob's run. (A budget
    // of its own would pass three of four; a second may refill one.)
    let mut refused = 0;
    for i in 0..4 {
        let id = format!("r{i}");
        alice.subscribe(&id, query, json!({})).await;
        let reply = alice.recv().await;
        if reply["type"] == "error" {
            assert_eq!(
                reply["payload"][0]["extensions"]["code"], "RATE_LIMITED",
                "{reply}"
            );
            refused += 1;
        } else {
            assert_eq!(reply["type"], "next", "{reply}");
            assert_eq!(alice.recv().await["type"], "complete");
        }
    }
    assert!(
        refused >= 3,
        "alice's spent budget held on her socket: {refused} of 4 refused"
    );
    bob_socket.subscribe("b", query, json!({})).await;
    let answer = bob_socket.next("b").await;
    assert!(
        answer["data"]["chats"]["totalCount"].is_number(),
        "{answer}"
    );
}

#[tokio::test]
async fn a_gateway_without_token_settings_refuses_tokens_saying_so() {
    let key = SigningKey::generate(Algorithm::ES256, "k");
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let token = key.sign(&claims(w.workspace_id, "alice", ALL_SCOPES, 300));
    refused_everywhere(&app, &token, "takes no tokens", "no token settings").await;
}
