//! The pages behind the mailed links, for people without a web app of their own: opening a link
//! shows a form and uses nothing; posting the form does what the JSON endpoint does.

use base64::Engine as _;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{problem, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "violet-Harbour-9921-kite";

/// Asserts a self-contained HTML page with the headers that keep its token where it is, and
/// returns its text.
async fn html(res: Response, status: u16) -> String {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let headers = res.headers().clone();
    let body = res.text().await.unwrap();
    assert_eq!(
        headers["content-type"], "text/html; charset=utf-8",
        "{body}"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    // The inline style is allowed by its hash, and nothing else is.
    let style = body
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .expect("an inline style");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    for outside in [
        "<script", "<link", "<img", "<iframe", " src=", "http:", "https:", "@import", "url(",
    ] {
        assert!(!body.contains(outside), "{outside} in {body}");
    }
    body
}

async fn get(app: &TestApp, path: &str) -> Response {
    app.anonymous()
        .request(Method::GET, path)
        .send()
        .await
        .unwrap()
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
    app.anonymous()
        .request(Method::POST, path)
        .form(fields)
        .send()
        .await
        .unwrap()
}

fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn opening_the_verification_link_shows_a_form_and_uses_nothing() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("ada@example.com").await.status(), 202);
    let token = app
        .mail_token("ada@example.com", "Confirm your email")
        .await;
    // A mail scanner opens the link before its recipient does.
    for _ in 0..2 {
        let body = html(
            get(&app, &format!("/verify-email?token={token}")).await,
            200,
        )
        .await;
        assert!(body.contains(r#"<form method="post" action="/verify-email">"#));
        assert!(body.contains(&format!(r#"name="token" value="{token}""#)));
    }
    let res = app
        .post("/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(res.status(), 200, "the JSON endpoint still takes the token");
    app.signin("ada@example.com", PASSWORD).await;
}

#[tokio::test]
async fn the_verification_form_confirms_the_address_once() {
    let app = TestApp::spawn().await;
    assert_eq!(app.signup("ada@example.com").await.status(), 202);
    let token = app
        .mail_token("ada@example.com", "Confirm your email")
        .await;
    let body = html(
        post_form(&app, "/verify-email", &[("token", &token)]).await,
        200,
    )
    .await;
    assert!(body.contains("Your email is confirmed"), "{body}");
    app.signin("ada@example.com", PASSWORD).await;

    let body = html(
        post_form(&app, "/verify-email", &[("token", &token)]).await,
        400,
    )
    .await;
    assert!(
        body.contains("This link is invalid, was already used, or has expired"),
        "{body}"
    );
    let res = app
        .post("/v1/auth/verify-email", json!({"token": token}))
        .await;
    problem(res, 400, "/problems/invalid-token").await;
}

#[tokio::test]
async fn the_reset_form_sets_the_password_and_refuses_a_weak_one() {
    let app = TestApp::spawn().await;
    let session = app.user("ada@example.com").await;
    let res = app
        .post(
            "/v1/auth/password-reset",
            json!({"email": "ada@example.com"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let token = app
        .mail_token("ada@example.com", "Reset your minime password")
        .await;

    let body = html(
        get(&app, &format!("/reset-password?token={token}")).await,
        200,
    )
    .await;
    assert!(body.contains(r#"<form method="post" action="/reset-password">"#));
    assert!(body.contains(r#"name="new_password" type="password""#));
    assert!(body.contains(&format!(r#"name="token" value="{token}""#)));

    // A weak password comes back with zxcvbn's feedback, word for word what the JSON endpoint
    // says, and the form again: the token is not used up.
    let weak = "password1234";
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": weak}),
        )
        .await;
    let refusal: Value = problem(res, 422, "/problems/validation").await;
    let message = refusal["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("is too weak: "), "{message}");
    let body = html(
        post_form(
            &app,
            "/reset-password",
            &[("token", &token), ("new_password", weak)],
        )
        .await,
        422,
    )
    .await;
    assert!(
        body.contains(&escaped(&format!("The new password {message}."))),
        "{body}"
    );
    assert!(body.contains(&format!(r#"name="token" value="{token}""#)));

    let body = html(
        post_form(
            &app,
            "/reset-password",
            &[("token", &token), ("new_password", NEW_PASSWORD)],
        )
        .await,
        200,
    )
    .await;
    assert!(body.contains("Your password is changed"), "{body}");
    problem(
        app.get_auth("/v1/me", &session.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    problem(res, 401, "/problems/invalid-credentials").await;
    app.signin("ada@example.com", NEW_PASSWORD).await;

    html(
        post_form(
            &app,
            "/reset-password",
            &[
                ("token", &token),
                ("new_password", "another-Harbour-7731-reed"),
            ],
        )
        .await,
        400,
    )
    .await;
}

#[tokio::test]
async fn unknown_missing_or_misdelivered_tokens_answer_pages() {
    let app = TestApp::spawn().await;
    for path in ["/verify-email", "/reset-password"] {
        let body = html(
            post_form(
                &app,
                path,
                &[("token", "no-such-token"), ("new_password", NEW_PASSWORD)],
            )
            .await,
            400,
        )
        .await;
        assert!(body.contains("This link does not work"), "{body}");
        html(get(&app, path).await, 400).await;
        html(get(&app, &format!("{path}?token=")).await, 400).await;
        html(post_form(&app, path, &[]).await, 400).await;
        // Programs have the JSON endpoints; here a JSON body is the wrong kind.
        let res = app
            .client
            .post(app.url(path))
            .json(&json!({"token": "no-such-token"}))
            .send()
            .await
            .unwrap();
        html(res, 415).await;
        let res = app
            .anonymous()
            .request(Method::DELETE, path)
            .send()
            .await
            .unwrap();
        let allow = res.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
        problem(res, 405, "/problems/method-not-allowed").await;
    }
}

#[tokio::test]
async fn html_in_the_token_is_escaped() {
    let app = TestApp::spawn().await;
    let evil = r#""><script>alert(1)</script><b x='&'>"#;
    let query: String = url::form_urlencoded::byte_serialize(evil.as_bytes()).collect();
    for path in ["/verify-email", "/reset-password"] {
        let body = html(get(&app, &format!("{path}?token={query}")).await, 200).await;
        assert!(body.contains(&escaped(evil)), "{body}");
        assert!(!body.contains("<b x="), "{body}");
    }
    // The reset form comes back with the token when the password is refused before any lookup.
    let body = html(
        post_form(
            &app,
            "/reset-password",
            &[("token", evil), ("new_password", "nul\0in-the-Middle-4471")],
        )
        .await,
        422,
    )
    .await;
    assert!(
        body.contains("must not contain the NUL character"),
        "{body}"
    );
    assert!(body.contains(&escaped(evil)), "{body}");
    assert!(!body.contains("<b x="), "{body}");
}

#[tokio::test]
async fn the_forms_spend_the_same_rate_limit_as_the_json_endpoints() {
    let app = TestApp::spawn_with(&[("MINIME_RATE_LIMIT_TOKEN_CHECK", "2/300")]).await;
    let res = app
        .post("/v1/auth/verify-email", json!({"token": "no-such-token"}))
        .await;
    problem(res, 400, "/problems/invalid-token").await;
    html(
        post_form(
            &app,
            "/reset-password",
            &[("token", "no-such-token"), ("new_password", NEW_PASSWORD)],
        )
        .await,
        400,
    )
    .await;

    let res = post_form(&app, "/verify-email", &[("token", "no-such-token")]).await;
    assert!(res.headers().contains_key("retry-after"));
    let body = html(res, 429).await;
    assert!(body.contains("Too many attempts"), "{body}");
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            json!({"token": "no-such-token", "new_password": NEW_PASSWORD}),
        )
        .await;
    problem(res, 429, "/problems/rate-limited").await;
}
