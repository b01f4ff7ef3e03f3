//! `filter.search`: every word in the title or in one message, as a word
//! prefix in any case, on both backends' indexes (kept by triggers on
//! SQLite, so titles changed and messages posted through the API are
//! found); lists, connections and counts agree; another workspace's chats
//! never match; bad searches are refused naming the field.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{EVERY_WAY, TestApp, World, at, error_code, selected_every_way};

/// Four chats, created in order; 0 and 1 on the first channel, 2 and 3 on
/// the second.
async fn inbox(app: &TestApp, w: &World) -> Vec<Uuid> {
    let chats: [(Option<&str>, &[&str]); 4] = [
        (Some("Refund request"), &["hello"]),
        (None, &["My order 42 never arrived", "Olá, obrigado"]),
        (Some("Where is my order?"), &["问题 with the invoice"]),
        (Some("Misc"), &["REFUNDED already, thanks"]),
    ];
    let mut ids = Vec::new();
    for (i, (title, messages)) in chats.into_iter().enumerate() {
        let chat = app
            .insert_chat(
                w,
                NewChat {
                    channel_id: w.channels[i / 2].id,
                    title: title.map(str::to_owned),
                    created_at: Some(at(i as i64)),
                    ..w.new_chat()
                },
            )
            .await;
        for (m, text) in messages.iter().enumerate() {
            app.post_message(chat.id, MessageRole::User, text, at(10 + m as i64))
                .await;
        }
        ids.push(chat.id);
    }
    ids
}

async fn found(app: &TestApp, w: &World, filter: serde_json::Value) -> Vec<Uuid> {
    selected_every_way(app, &w.key, filter).await
}

#[tokio::test]
async fn search_finds_every_word_in_a_title_or_one_message() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other = app.world("Globex").await;
    let ids = inbox(&app, &w).await;
    inbox(&app, &other).await;
    let pick = |which: &[usize]| which.iter().map(|i| ids[*i]).collect::<Vec<_>>();

    for (search, expected) in [
        // Any case, as the start of a word.
        ("refund", pick(&[0, 3])),
        ("REFUND", pick(&[0, 3])),
        ("ord", pick(&[1, 2])),
        // Every word, in one text.
        ("order 42", pick(&[1])),
        ("never  arrived, order!", pick(&[1])),
        ("invoice 问题", pick(&[2])),
        // A title and another message do not add up.
        ("order invoice", pick(&[])),
        ("refund hello", pick(&[])),
        // Accents count, as written.
        ("olá", pick(&[1])),
        ("ola", pick(&[])),
        // Query syntax is only words.
        (r#""refund" OR hello"#, pick(&[])),
        ("refund*", pick(&[0, 3])),
        ("' OR 1=1 --", pick(&[])),
        // Blank is no search.
        ("   ", pick(&[0, 1, 2, 3])),
    ] {
        assert_eq!(
            found(&app, &w, json!({ "search": search })).await,
            expected,
            "{search}"
        );
    }

    // Combined with the other filters by AND.
    let second_channel = json!({ "search": "order", "channelIds": [w.channels[1].id] });
    assert_eq!(found(&app, &w, second_channel).await, pick(&[2]));
    let with_range = json!({ "search": "refund", "createdAt": { "lt": at(1).to_rfc3339() } });
    assert_eq!(found(&app, &w, with_range).await, pick(&[0]));
}

#[tokio::test]
async fn titles_changed_and_messages_posted_through_the_api_are_found_at_once() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let ids = inbox(&app, &w).await;

    let rename = "mutation($id: UUID!, $title: String) {
        updateChat(id: $id, input: { title: $title }) { id }
    }";
    app.data(
        &w.key,
        rename,
        json!({ "id": ids[0], "title": "Password reset" }),
    )
    .await;
    assert_eq!(
        found(&app, &w, json!({ "search": "refund" })).await,
        [ids[3]]
    );
    assert_eq!(
        found(&app, &w, json!({ "search": "password" })).await,
        [ids[0]]
    );
    app.data(&w.key, rename, json!({ "id": ids[2], "title": null }))
        .await;
    assert!(
        found(&app, &w, json!({ "search": "where" }))
            .await
            .is_empty()
    );

    let post = "mutation($chat: UUID!) {
        postMessage(input: { chatId: $chat, role: OPERATOR, content: \"Tracking number 7781 sent\" }) { message { id } }
    }";
    app.data(&w.key, post, json!({ "chat": ids[3] })).await;
    assert_eq!(
        found(&app, &w, json!({ "search": "tracking 778" })).await,
        [ids[3]]
    );
}

#[tokio::test]
async fn a_search_without_words_or_too_long_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    for search in ["!!! ...".to_owned(), "word ".repeat(11), "a".repeat(201)] {
        let body = app
            .gql(&w.key, EVERY_WAY, json!({ "f": { "search": search } }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"], "filter.search",
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
}
