//! `filter.search`: every word in the title or in one message, as a word
//! prefix in any case, on both backends' indexes (kept by triggers on
//! SQLite, so titles changed and messages posted through the API are
//! found); lists, connections and counts agree; another workspace's chats
//! never match; bad searches are refused naming the field.

use chat_gateway::service::chat::NewChat;
use entity::enums::MessageRole;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{EVERY_WAY, TestApp, World, at, error_code, selected_every_way, uuids};

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

/// 150 chats, newest first in `ids`: each says hello; every fifth asks
/// for a refund; one, deep in the list, mentions a zebra.
async fn long_inbox(app: &TestApp, w: &World) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..150_i64 {
        let chat = app
            .insert_chat(
                w,
                NewChat {
                    created_at: Some(at(i)),
                    ..w.new_chat()
                },
            )
            .await;
        let mut texts = vec![format!("hello number {i}")];
        if i % 5 == 0 {
            texts.push("refund please".to_owned());
        }
        if i == 7 {
            texts.push("a zebra crossing".to_owned());
        }
        for text in texts {
            app.post_message(chat.id, MessageRole::User, &text, at(200 + i))
                .await;
        }
        ids.push(chat.id);
    }
    ids.reverse();
    ids
}

/// Every chat `search` selects, newest first, read as numbered pages of
/// `size` and as a connection in pages of `size`, after checking the two
/// agree with each other and with `totalCount`.
async fn paged(app: &TestApp, w: &World, search: &str, size: usize) -> Vec<Uuid> {
    let numbered = "query($f: ChatFilter, $page: Int, $size: Int) {
        chats(filter: $f, page: $page, pageSize: $size) { totalCount items { id } }
    }";
    let connection = "query($f: ChatFilter, $after: String, $size: Int) {
        chatsConnection(filter: $f, first: $size, after: $after) {
            totalCount nodes { id } pageInfo { hasNextPage endCursor }
        }
    }";
    let filter = json!({ "search": search });
    let (mut by_page, mut total) = (Vec::new(), None);
    for page in 1.. {
        let vars = json!({ "f": filter, "page": page, "size": size });
        let data = app.data(&w.key, numbered, vars).await;
        let items = uuids(&data["chats"]["items"], "id");
        total = data["chats"]["totalCount"].as_u64();
        by_page.extend(items.iter().copied());
        if items.len() < size {
            break;
        }
    }
    let (mut by_cursor, mut after) = (Vec::new(), None::<String>);
    loop {
        let vars = json!({ "f": filter, "after": after, "size": size });
        let data = app.data(&w.key, connection, vars).await;
        let connection = &data["chatsConnection"];
        by_cursor.extend(uuids(&connection["nodes"], "id"));
        assert_eq!(connection["totalCount"].as_u64(), total);
        if connection["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(
        by_page, by_cursor,
        "{search}: numbered pages and the connection"
    );
    assert_eq!(Some(by_page.len() as u64), total, "{search}: totalCount");
    by_page
}

/// On SQLite a page is found by reading the newest chats and checking
/// their texts, or, when that finds too little, by the index: a common
/// word, a word in some chats and a word in one, deep in a long inbox,
/// page the same on both backends and agree with the counts.
#[tokio::test]
async fn pages_deep_in_a_long_inbox_are_found_for_common_and_rare_words() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let ids = long_inbox(&app, &w).await;
    assert_eq!(paged(&app, &w, "hello", 40).await, ids);
    let every_fifth: Vec<Uuid> = ids.iter().copied().skip(4).step_by(5).collect();
    assert_eq!(paged(&app, &w, "refund", 7).await, every_fifth);
    assert_eq!(paged(&app, &w, "zebra", 10).await, [ids[142]]);
    // "14" is the start of 14 and of 140 to 149.
    let fourteen: Vec<Uuid> = ids[..10].iter().chain([&ids[135]]).copied().collect();
    assert_eq!(paged(&app, &w, "hello 14", 5).await, fourteen);
    assert!(paged(&app, &w, "nothing", 10).await.is_empty());
}
