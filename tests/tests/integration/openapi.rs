//! The committed OpenAPI document is the contract: it must equal what the code generates.

use serde_json::Value;

use crate::helpers::TestApp;

fn committed() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .unwrap_or_default()
}

#[test]
fn committed_document_is_current() {
    let generated = minime_api::openapi::document().to_pretty_json().unwrap() + "\n";
    assert!(
        committed() == generated,
        "openapi/openapi.json is stale: run `cargo run -p minime-api -- openapi --out openapi/openapi.json`"
    );
}

#[test]
fn every_operation_documents_its_errors_and_examples() {
    let doc: Value = serde_json::to_value(minime_api::openapi::document()).unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success response"
            );
            assert!(responses.contains_key("500"), "{method} {path}: no 500");
            // Anything a client can get wrong (credentials, parameters, a body) has its 4xx documented.
            let problems = responses.iter().filter(|(s, _)| s.starts_with('4')).count();
            let can_fail = op.get("security").is_some()
                || op.get("parameters").is_some()
                || op.get("requestBody").is_some();
            if can_fail {
                assert!(problems > 0, "{method} {path}: no 4xx problem documented");
            }
            for (status, r) in responses
                .iter()
                .filter(|(s, _)| s.starts_with('4') || s.starts_with('5'))
            {
                assert!(
                    r["content"]["application/problem+json"].is_object(),
                    "{method} {path} {status}: not problem+json"
                );
            }
            assert!(op["tags"].is_array(), "{method} {path}: untagged");
        }
    }
    assert!(operations >= 17, "{operations} operations");
    let text = doc.to_string();
    assert!(
        text.matches("\"example\"").count() > 20,
        "examples are documented"
    );
}

#[tokio::test]
async fn the_server_serves_the_same_document_and_docs() {
    let app = TestApp::spawn().await;
    let served: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served,
        serde_json::to_value(minime_api::openapi::document()).unwrap()
    );
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(
        docs.text()
            .await
            .unwrap()
            .contains(r#"data-url="/openapi.json""#),
        "the docs page reads the served document"
    );
}

#[test]
fn operation_ids_are_unique() {
    let doc: Value = serde_json::to_value(minime_api::openapi::document()).unwrap();
    let mut seen = std::collections::HashSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                assert!(seen.insert(id.to_owned()), "operationId {id} is used twice");
            }
        }
    }
    assert!(seen.len() > 100);
}
