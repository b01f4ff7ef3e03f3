//! `schema.graphql` is the SDL the gateway exports, and every part of the
//! schema is documented (descriptions become GraphiQL's docs and generated
//! clients' comments).

use serde_json::{Value, json};

use crate::helpers::TestApp;

#[test]
fn schema_file_matches_the_exported_sdl() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let sdl = chat_gateway::graphql::sdl();
    let stored = std::fs::read_to_string(path).unwrap_or_default();
    if stored != sdl && std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &sdl).expect("write schema.graphql");
        // Still a failure: a run that rewrote the file did not check it.
        panic!("schema.graphql was out of date and has been rewritten; review the diff");
    }
    assert!(
        stored == sdl,
        "schema.graphql is out of date; run `UPDATE_SCHEMA=1 cargo test schema_file` and review the diff"
    );
}

const INTROSPECT: &str = "{ __schema { types {
    name description
    fields { name description args { name description } }
    inputFields { name description }
    enumValues { name description }
} } }";

const BUILT_IN: [&str; 5] = ["Boolean", "String", "Int", "Float", "ID"];

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let app = TestApp::spawn().await;
    let w = app.world("Acme").await;
    let data = app.data(&w.key, INTROSPECT, json!({})).await;
    let described = |v: &Value| {
        v["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || BUILT_IN.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        let members = ["fields", "inputFields", "enumValues"]
            .iter()
            .flat_map(|key| ty[key].as_array().cloned().unwrap_or_default());
        for member in members {
            let member_name = format!("{name}.{}", member["name"].as_str().unwrap());
            if !described(&member) {
                missing.push(member_name.clone());
            }
            for arg in member["args"].as_array().cloned().unwrap_or_default() {
                if !described(&arg) {
                    missing.push(format!("{member_name}({})", arg["name"].as_str().unwrap()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
