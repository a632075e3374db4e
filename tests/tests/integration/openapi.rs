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
            // A browser's way back (OAuth callbacks) succeeds with a redirect.
            assert!(
                responses
                    .keys()
                    .any(|s| s.starts_with('2') || s.starts_with('3')),
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
            let summary = op["summary"].as_str().unwrap_or_default();
            assert!(
                !summary.is_empty() && summary.chars().count() < 80 && !summary.contains('\n'),
                "{method} {path}: the summary must be one line under 80 characters: {summary:?}"
            );
            assert!(
                op["description"]
                    .as_str()
                    .is_some_and(|d| !d.trim().is_empty()),
                "{method} {path}: no description"
            );
            for (media_type, media) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                if media_type.ends_with("json") {
                    assert!(
                        media.get("example").is_some() || media.get("examples").is_some(),
                        "{method} {path}: the {media_type} body has no example"
                    );
                }
            }
        }
    }
    assert!(operations >= 17, "{operations} operations");
    let text = doc.to_string();
    assert!(
        text.matches("\"example\"").count() > 20,
        "examples are documented"
    );
}

/// Whether a property schema lists its values (inline, or through a reference or a nullable
/// variant).
fn is_enum(schema: &Value, schemas: &Value) -> bool {
    if schema["enum"].is_array() {
        return true;
    }
    if let Some(r) = schema["$ref"].as_str() {
        let target = &schemas[r.trim_start_matches("#/components/schemas/")];
        return target["enum"].is_array()
            || target["oneOf"].as_array().is_some_and(|v| {
                v.iter()
                    .all(|v| v["enum"].is_array() || v["const"].is_string())
            });
    }
    ["oneOf", "anyOf"].iter().any(|k| {
        schema[k].as_array().is_some_and(|variants| {
            variants
                .iter()
                .filter(|v| v["type"] != "null")
                .all(|v| is_enum(v, schemas))
        })
    })
}

#[test]
fn enumerated_fields_are_enums() {
    let doc: Value = serde_json::to_value(minime_api::openapi::document()).unwrap();
    let schemas = &doc["components"]["schemas"];
    // Fields whose values are a fixed list on the server, wherever they appear.
    let enumerated = [
        "status",
        "energy",
        "kind",
        "source",
        "outcome",
        "plan",
        "scope",
        "mode",
        "role",
        "guidance_level",
        "available_time",
        "default_energy",
    ];
    let mut checked = 0;
    for (name, schema) in schemas.as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let object = property["$ref"].as_str().is_some_and(|r| {
                schemas[r.trim_start_matches("#/components/schemas/")]["properties"].is_object()
            });
            let listed = !object && enumerated.contains(&field.as_str())
                || (name == "Problem" && field == "type");
            // `status` of a problem is its HTTP status code.
            if listed && !(name == "Problem" && field == "status") {
                checked += 1;
                assert!(is_enum(property, schemas), "{name}.{field} is not an enum");
            }
        }
    }
    assert!(checked > 20, "{checked} enumerated fields");
    // Query parameters with a fixed list of values.
    for (path, param) in [
        ("/v1/tasks", "status"),
        ("/v1/captures", "status"),
        ("/v1/reviews", "kind"),
    ] {
        let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
        let p = params.iter().find(|p| p["name"] == param).unwrap();
        assert!(
            is_enum(&p["schema"], schemas),
            "{path}?{param} is not an enum"
        );
    }
}

#[tokio::test]
async fn the_server_serves_the_same_document() {
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
}

/// The value of every `attr="..."` in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// Directive name → its sources.
fn policy(res: &reqwest::Response) -> std::collections::HashMap<String, Vec<String>> {
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{}: no Content-Security-Policy", res.url()))
        .to_str()
        .unwrap();
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

fn assert_same_origin_policy(res: &reqwest::Response) {
    let policy = policy(res);
    assert_eq!(policy["default-src"], ["'none'"], "{}", res.url());
    for directive in ["script-src", "style-src", "font-src", "connect-src"] {
        assert_eq!(policy[directive], ["'self'"], "{} {directive}", res.url());
    }
    // Icons drawn from data: URLs never leave the page; nothing else may load an image.
    assert!(
        policy["img-src"]
            .iter()
            .all(|s| s == "'self'" || s == "data:"),
        "{} img-src {:?}",
        res.url(),
        policy["img-src"]
    );
    assert_eq!(policy["frame-ancestors"], ["'none'"], "{}", res.url());
}

#[tokio::test]
async fn the_docs_page_loads_nothing_from_another_origin() {
    let app = TestApp::spawn().await;
    let page_url = url::Url::parse(&app.url("/docs")).unwrap();
    let docs = app.client.get(page_url.clone()).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert_same_origin_policy(&docs);
    assert_eq!(docs.headers()["x-content-type-options"], "nosniff");
    let html = docs.text().await.unwrap();
    for scheme in ["http://", "https://"] {
        let foreign: Vec<_> = html
            .match_indices(scheme)
            .map(|(at, _)| &html[at..html.len().min(at + 60)])
            .filter(|s| !s.starts_with(&app.base))
            .collect();
        assert!(
            foreign.is_empty(),
            "the page names another origin: {foreign:?}"
        );
    }

    let scripts = attributes(&html, "src");
    let styles = attributes(&html, "href")
        .into_iter()
        .filter(|h| h.ends_with(".css"))
        .collect::<Vec<_>>();
    assert!(!scripts.is_empty() && !styles.is_empty(), "{html}");
    for link in scripts.iter().chain(&styles) {
        let asset = page_url.join(link).unwrap();
        assert_eq!(asset.origin(), page_url.origin(), "{link}");
        let res = app.client.get(asset.clone()).send().await.unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        assert_same_origin_policy(&res);
        let kind = if link.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{asset}: {:?}",
            res.headers()["content-type"]
        );
        let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{asset}: {cache}"
        );
        let etag = res.headers()["etag"].clone();
        assert!(!res.bytes().await.unwrap().is_empty(), "{asset}");

        let again = app
            .client
            .get(asset.clone())
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{asset}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let all_scripts = futures_util::future::join_all(scripts.iter().map(|s| {
        let url = page_url.join(s).unwrap();
        async {
            app.client
                .get(url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    }))
    .await
    .concat();
    assert!(
        all_scripts.contains("SwaggerUIBundle"),
        "the page runs Swagger UI"
    );
    // Swagger UI's one default request to another origin is its validator badge, which it skips
    // for loopback addresses: no browser test here would see it, a real deployment would.
    assert!(
        all_scripts.contains("validatorUrl: null"),
        "the validator badge is off"
    );
    assert!(
        all_scripts.contains("\"openapi.json\""),
        "the page reads the served document"
    );

    // Only the current build's assets are served.
    let stale = page_url.join("docs/0000000000000000/docs.js").unwrap();
    let res = app.client.get(stale).send().await.unwrap();
    assert_eq!(res.status(), 404);
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
