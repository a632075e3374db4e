//! CORS: credentials for the listed browser origins only; any other origin is refused, and
//! without a list no CORS headers are sent at all.

use reqwest::{Method, StatusCode};

use crate::helpers::TestApp;

const SPA: &str = "http://localhost:5173";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.anonymous()
        .request(Method::OPTIONS, "/v1/tasks")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-csrf-token",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn listed_origins_only() {
    let app = TestApp::spawn_with(&[(
        "MINIME_CORS_ORIGINS",
        "http://localhost:5173, https://app.example",
    )])
    .await;
    let res = preflight(&app, SPA).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["access-control-allow-origin"], SPA);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let allowed = res.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("x-csrf-token") && allowed.contains("content-type"),
        "{allowed}"
    );

    let res = preflight(&app, "https://evil.example").await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert!(res.status().is_client_error());
    let res = app
        .client
        .get(app.url("/v1/subscription-plans"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    // A simple request needs no preflight; without the header the browser withholds the answer.
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // Same request from the listed origin: allowed, and the SPA may read ETag and X-Request-Id.
    let res = app
        .client
        .get(app.url("/v1/subscription-plans"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("x-request-id"),
        "{exposed}"
    );
}

#[tokio::test]
async fn no_list_no_cors() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/v1/subscription-plans"))
        .header("origin", SPA)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// A browser may send every method the API documents: a method missing from the CORS list
/// fails in browsers only, where no other test looks.
#[tokio::test]
async fn every_documented_method_passes_the_preflight() {
    let app = TestApp::spawn_with(&[("MINIME_CORS_ORIGINS", SPA)]).await;
    let doc: serde_json::Value = app.anonymous().get("/openapi.json").await;
    let mut methods = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                methods.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (method, path) in methods {
        if !seen.insert(method.clone()) {
            continue;
        }
        let res = app
            .anonymous()
            .request(Method::OPTIONS, &path)
            .header("origin", SPA)
            .header("access-control-request-method", &method)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{method} {path}");
        assert_eq!(
            res.headers()["access-control-allow-origin"],
            SPA,
            "{method} {path}"
        );
    }
    assert!(seen.contains("PUT"), "{seen:?}");
}
