//! The directory a client browses for ids: channels, responders with their
//! versions, tickets and owners, each of the caller's workspace only.

use serde_json::{Value, json};

use uuid::Uuid;

use crate::helpers::{TestApp, error_code, uuids};

fn ids(list: &Value, field: &str) -> Vec<String> {
    uuids(list, field).iter().map(Uuid::to_string).collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[tokio::test]
async fn the_directory_lists_the_callers_workspace_and_nothing_else() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let other = app.world("Globex").await;
    let data = app
        .data(
            &w.key,
            "{
                channels { id name type }
                responders { superIdentityId name type versions { id number } }
                squads: responders(type: SQUAD) { name }
                tickets { nodes { id status } pageInfo { hasNextPage } }
                open: tickets(statuses: [OPEN]) { nodes { id } }
                none: tickets(statuses: []) { nodes { id } }
                owners(first: 100) { nodes { superIdentityId name ... on User { email } ... on ExternalUser { externalId isBlocked } } }
            }",
            json!({}),
        )
        .await;

    let channels = &data["channels"];
    let mut expected: Vec<String> = w.channels.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(sorted(ids(channels, "id")), sorted(expected.clone()));
    let names: Vec<&str> = channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut by_name = names.clone();
    by_name.sort();
    assert_eq!(names, by_name, "channels come by name");
    assert!(names.iter().all(|n| n.starts_with("Acme")), "{names:?}");
    assert!(
        channels
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "WHATSAPP")
    );

    let responders = &data["responders"];
    assert_eq!(
        responders
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Agent Ava", "Squad One"]
    );
    assert_eq!(
        responders[0]["superIdentityId"],
        json!(w.agent.super_identity_id)
    );
    assert_eq!(responders[0]["type"], "AGENT");
    let numbers: Vec<i64> = responders[0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1], "newest version first");
    expected = w.agent_versions.iter().map(|v| v.id.to_string()).collect();
    assert_eq!(
        sorted(ids(&responders[0]["versions"], "id")),
        sorted(expected)
    );
    assert_eq!(data["squads"], json!([{ "name": "Squad One" }]));

    assert_eq!(
        ids(&data["tickets"]["nodes"], "id"),
        sorted(vec![
            w.open_ticket.id.to_string(),
            w.closed_ticket.id.to_string()
        ])
    );
    assert_eq!(data["tickets"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        ids(&data["open"]["nodes"], "id"),
        [w.open_ticket.id.to_string()]
    );
    assert_eq!(data["none"]["nodes"], json!([]));

    let owners = &data["owners"]["nodes"];
    let mine = vec![
        w.user.super_identity_id.to_string(),
        w.customer.super_identity_id.to_string(),
        w.blocked_customer.super_identity_id.to_string(),
    ];
    assert_eq!(ids(owners, "superIdentityId"), sorted(mine));
    let user = owners
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["superIdentityId"] == json!(w.user.super_identity_id))
        .unwrap();
    assert_eq!(user["email"], "owner@acme.example");

    // Nothing of the other workspace, whatever is asked.
    let text = data.to_string();
    for id in other.channels.iter().map(|c| c.id).chain([
        other.agent.super_identity_id,
        other.squad.super_identity_id,
        other.open_ticket.id,
        other.closed_ticket.id,
        other.user.super_identity_id,
        other.customer.super_identity_id,
    ]) {
        assert!(!text.contains(&id.to_string()), "{id} of Globex leaked");
    }
    let search = app
        .data(
            &w.key,
            "{ owners(search: \"globex\") { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(search["owners"]["nodes"], json!([]));
}

#[tokio::test]
async fn owners_are_searched_in_any_case_with_wildcards_taken_literally() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let query =
        "query($s: String) { owners(search: $s, first: 100) { nodes { superIdentityId } } }";
    for (search, expected) in [
        // Names, in any case.
        (
            "CUSTOMER",
            vec![
                w.customer.super_identity_id,
                w.blocked_customer.super_identity_id,
            ],
        ),
        // Emails of users, external ids of external users.
        ("@acme.EXAMPLE", vec![w.user.super_identity_id]),
        ("5555-0001", vec![w.customer.super_identity_id]),
        ("@blocked", vec![w.blocked_customer.super_identity_id]),
        // LIKE's wildcards match themselves only.
        ("%", vec![]),
        ("_", vec![]),
        // Blank is no search.
        (
            "  ",
            vec![
                w.user.super_identity_id,
                w.customer.super_identity_id,
                w.blocked_customer.super_identity_id,
            ],
        ),
    ] {
        let data = app.data(&w.key, query, json!({ "s": search })).await;
        let expected = sorted(expected.iter().map(|id| id.to_string()).collect());
        assert_eq!(
            ids(&data["owners"]["nodes"], "superIdentityId"),
            expected,
            "{search:?}"
        );
    }

    let long = "x".repeat(201);
    let body = app.gql(&w.key, query, json!({ "s": long })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "search", "{body}");
}

#[tokio::test]
async fn owners_and_tickets_page_both_ways_by_cursor() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let all = app
        .data(
            &w.key,
            "{ owners(first: 100) { nodes { superIdentityId } } }",
            json!({}),
        )
        .await;
    let all = ids(&all["owners"]["nodes"], "superIdentityId");
    assert_eq!(all.len(), 3);

    let page = "query($after: String, $before: String, $first: Int, $last: Int) {
        owners(first: $first, after: $after, last: $last, before: $before) {
            edges { cursor node { superIdentityId } }
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .data(&w.key, page, json!({ "first": 2, "after": after }))
            .await;
        let owners = &data["owners"];
        for edge in owners["edges"].as_array().unwrap() {
            seen.push(edge["node"]["superIdentityId"].as_str().unwrap().to_owned());
        }
        if owners["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = owners["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen, all,
        "forward pages of 2 cover the list once, in order"
    );

    // Backwards from the end: the last two, in list order.
    let end = app.data(&w.key, page, json!({ "first": 3 })).await;
    let last_cursor = end["owners"]["edges"][2]["cursor"].clone();
    let data = app
        .data(&w.key, page, json!({ "last": 2, "before": last_cursor }))
        .await;
    let back: Vec<String> = data["owners"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["superIdentityId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(back, all[..2]);
    assert_eq!(data["owners"]["pageInfo"]["hasPreviousPage"], false);
    assert_eq!(data["owners"]["pageInfo"]["hasNextPage"], true);

    // A ticket cursor is not an owner cursor.
    let tickets = app
        .data(
            &w.key,
            "{ tickets(first: 1) { pageInfo { endCursor hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(tickets["tickets"]["pageInfo"]["hasNextPage"], true);
    let cursor = tickets["tickets"]["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(&w.key, page, json!({ "first": 1, "after": cursor }))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
    let body = app.gql(&w.key, page, json!({ "first": 0 })).await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
}

/// What graphql-codegen writes for a picker: fragments on the connection
/// and on the `Owner` interface, every argument a variable, and the client
/// leaving out the ones the user did not set.
#[tokio::test]
async fn codegen_documents_with_fragments_and_left_out_variables_run() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let query = "query Picker($search: String, $first: Int, $after: String, $statuses: [TicketStatus!], $type: ResponderType) {
        owners(search: $search, first: $first, after: $after) { ...OwnerPage }
        tickets(statuses: $statuses) { nodes { id status } }
        responders(type: $type) { ...ResponderFields }
    }
    fragment OwnerPage on OwnerConnection {
        nodes { ...OwnerFields }
        pageInfo { hasNextPage endCursor }
    }
    fragment OwnerFields on Owner {
        __typename superIdentityId name
        ... on User { email }
        ... on ExternalUser { externalId isBlocked }
    }
    fragment ResponderFields on Responder { superIdentityId name versions { number } }";
    // Nothing set: every list whole (owners: the first 10).
    let data = app.data(&w.key, query, json!({})).await;
    assert_eq!(data["owners"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(data["owners"]["pageInfo"]["hasNextPage"], false);
    let kinds: Vec<&str> = data["owners"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["__typename"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "User").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(data["tickets"]["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(data["responders"].as_array().unwrap().len(), 2);
    // Some set, the rest still left out.
    let data = app
        .data(
            &w.key,
            query,
            json!({ "search": "blocked", "type": "SQUAD" }),
        )
        .await;
    assert_eq!(
        ids(&data["owners"]["nodes"], "superIdentityId"),
        [w.blocked_customer.super_identity_id.to_string()]
    );
    assert_eq!(data["owners"]["nodes"][0]["isBlocked"], true);
    assert_eq!(data["responders"][0]["name"], "Squad One");
}
