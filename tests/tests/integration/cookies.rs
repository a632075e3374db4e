//! Browser mode: HttpOnly cookies, and a CSRF header on every unsafe request.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp, PASSWORD};

#[tokio::test]
async fn cookie_sessions_need_csrf_on_unsafe_methods() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();

    let res = browser
        .post(app.url("/v1/auth/signin"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD, "mode": "cookie"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set_cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let access = set_cookies
        .iter()
        .find(|c| c.starts_with("minime_access="))
        .unwrap();
    assert!(access.contains("HttpOnly") && access.contains("SameSite=Lax"));
    let refresh = set_cookies
        .iter()
        .find(|c| c.starts_with("minime_refresh="))
        .unwrap();
    assert!(refresh.contains("HttpOnly") && refresh.contains("Path=/v1/auth"));
    let body: Value = res.json().await.unwrap();
    assert!(
        body.get("access_token").is_none() && body.get("refresh_token").is_none(),
        "tokens stay out of reach of scripts"
    );
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();

    assert_eq!(
        browser
            .get(app.url("/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let res = browser
        .patch(app.url("/v1/me"))
        .json(&json!({"display_name": "Forged"}))
        .send()
        .await
        .unwrap();
    problem(res, 403, "/problems/csrf").await;
    let res = browser
        .patch(app.url("/v1/me"))
        .header("x-csrf-token", "wrong")
        .json(&json!({"display_name": "Forged"}))
        .send()
        .await
        .unwrap();
    problem(res, 403, "/problems/csrf").await;
    let me: Value = browser
        .get(app.url("/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["display_name"],
        Value::Null,
        "refused requests changed nothing"
    );

    let res = browser
        .patch(app.url("/v1/me"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"display_name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Refresh by cookie also needs the header.
    let res = browser
        .post(app.url("/v1/auth/refresh"))
        .send()
        .await
        .unwrap();
    problem(res, 403, "/problems/csrf").await;
    let res = browser
        .post(app.url("/v1/auth/refresh"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let res = browser
        .post(app.url("/v1/auth/signout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cleared.len(), 3);
    problem(
        browser.get(app.url("/v1/me")).send().await.unwrap(),
        401,
        "/problems/unauthorized",
    )
    .await;
}
