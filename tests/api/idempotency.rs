//! `idempotencyKey` on createChat and postMessage: a retry returns what the
//! first request created and creates nothing, even when the retries race;
//! the same key with another input is refused; keys are per workspace,
//! left by no failed request, and forgotten after 24 hours.

use entity::idempotency_key;
use futures_util::future::join_all;
use sea_orm::{EntityTrait, sea_query::Expr};
use serde_json::{Value, json};

use crate::helpers::{TestApp, World, error_code};

const CREATE: &str = "mutation($input: CreateChatInput!, $key: String) {
    createChat(input: $input, idempotencyKey: $key) { id title }
}";

const POST: &str = "mutation($input: PostMessageInput!, $key: String) {
    postMessage(input: $input, idempotencyKey: $key) { message { id content } chat { id } }
}";

const TOTALS: &str =
    "{ chats(filter: { includeRemoved: true }) { totalCount } chatCounts { total } }";

fn new_chat(w: &World, title: &str) -> Value {
    json!({
        "channelId": w.channels[0].id,
        "ownerSuperIdentityId": w.customer.super_identity_id,
        "title": title,
    })
}

async fn totals(app: &TestApp, w: &World) -> (u64, u64) {
    let data = app.data(&w.key, TOTALS, json!({})).await;
    (
        data["chats"]["totalCount"].as_u64().unwrap(),
        data["chatCounts"]["total"].as_u64().unwrap(),
    )
}

async fn create(app: &TestApp, w: &World, title: &str, key: Option<&str>) -> Value {
    let variables = json!({ "input": new_chat(w, title), "key": key });
    app.gql(&w.key, CREATE, variables).await
}

#[tokio::test]
async fn a_retried_create_returns_the_first_chat_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let first = create(&app, &w, "Lost parcel", Some("order-7-create")).await;
    let id = &first["data"]["createChat"]["id"];
    assert!(id.is_string(), "{first}");
    let again = create(&app, &w, "Lost parcel", Some("order-7-create")).await;
    assert_eq!(again, first);
    assert_eq!(totals(&app, &w).await, (1, 1));

    // Another input under the same key: refused, nothing created.
    let other = create(&app, &w, "Something else", Some("order-7-create")).await;
    assert_eq!(error_code(&other), "BAD_USER_INPUT", "{other}");
    assert_eq!(other["errors"][0]["extensions"]["field"], "idempotencyKey");
    assert!(other["data"].is_null(), "{other}");
    assert_eq!(totals(&app, &w).await, (1, 1));

    // Without a key every request creates: null, or the variable left out
    // (as Apollo Client leaves out an undefined one).
    create(&app, &w, "Lost parcel", None).await;
    let omitted = json!({ "input": new_chat(&w, "Lost parcel") });
    let created = app.data(&w.key, CREATE, omitted).await;
    assert_ne!(created["createChat"]["id"], *id);
    assert_eq!(totals(&app, &w).await, (3, 3));

    // Keys are the workspace's: another one creates its own chat.
    let globex = app.world("Globex").await;
    let theirs = create(&app, &globex, "Lost parcel", Some("order-7-create")).await;
    assert_ne!(theirs["data"]["createChat"]["id"], *id, "{theirs}");
    assert_eq!(totals(&app, &globex).await, (1, 1));
}

#[tokio::test]
async fn retries_racing_on_one_key_create_one_chat() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let bodies = join_all((0..8).map(|_| create(&app, &w, "Race", Some("race")))).await;
    let ids: Vec<_> = bodies
        .iter()
        .map(|body| body["data"]["createChat"]["id"].clone())
        .collect();
    assert!(ids[0].is_string(), "{bodies:?}");
    assert!(ids.iter().all(|id| *id == ids[0]), "{bodies:?}");
    assert_eq!(totals(&app, &w).await, (1, 1));
}

#[tokio::test]
async fn a_failed_request_leaves_no_key_and_keys_expire_after_a_day() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let unknown_channel = json!({
        "input": { "channelId": uuid::Uuid::new_v4(), "ownerSuperIdentityId": w.customer.super_identity_id },
        "key": "k",
    });
    let failed = app.gql(&w.key, CREATE, unknown_channel).await;
    assert_eq!(error_code(&failed), "NOT_FOUND", "{failed}");
    // The key was not taken: it serves a new input.
    let created = create(&app, &w, "Second try", Some("k")).await;
    let first_id = created["data"]["createChat"]["id"].clone();
    assert!(first_id.is_string(), "{created}");

    // A day and more later, the key is new again.
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::CreatedAt,
            Expr::value(chat_gateway::service::now() - chrono::Duration::hours(25)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let later = create(&app, &w, "Another day", Some("k")).await;
    assert_eq!(
        later["data"]["createChat"]["title"], "Another day",
        "{later}"
    );
    assert_ne!(later["data"]["createChat"]["id"], first_id);
    assert_eq!(totals(&app, &w).await, (2, 2));

    for bad in ["", &"k".repeat(201)] {
        let body = create(&app, &w, "Bad key", Some(bad)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "idempotencyKey");
    }
    assert_eq!(totals(&app, &w).await, (2, 2));
}

#[tokio::test]
async fn a_retried_post_returns_the_first_message_and_posts_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let chat = app.insert_chat(&w, w.new_chat()).await;
    let input = json!({ "chatId": chat.id, "role": "USER", "content": "Where is it?" });
    let post = |input: Value, key: &'static str| {
        app.gql(&w.key, POST, json!({ "input": input, "key": key }))
    };
    let first = post(input.clone(), "m-1").await;
    assert!(
        first["data"]["postMessage"]["message"]["id"].is_string(),
        "{first}"
    );
    assert_eq!(post(input.clone(), "m-1").await, first);
    let count = "query($id: UUID!) { chat(id: $id) { messages { totalCount } } }";
    let messages = app.data(&w.key, count, json!({ "id": chat.id })).await;
    assert_eq!(messages["chat"]["messages"]["totalCount"], 1);

    // One key space for both mutations: a createChat key is not a post's.
    create(&app, &w, "Keyed", Some("shared")).await;
    let reused = post(input.clone(), "shared").await;
    assert_eq!(error_code(&reused), "BAD_USER_INPUT", "{reused}");
    let changed = post(
        json!({ "chatId": chat.id, "role": "USER", "content": "Hello?" }),
        "m-1",
    )
    .await;
    assert_eq!(error_code(&changed), "BAD_USER_INPUT", "{changed}");
    let messages = app.data(&w.key, count, json!({ "id": chat.id })).await;
    assert_eq!(messages["chat"]["messages"]["totalCount"], 1);
}
