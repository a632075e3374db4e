//! The HTTP mail provider against a loopback fake that speaks a Resend-style mail API.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::{TestApp, PASSWORD};

/// The Authorization header and JSON body of one request.
type Received = (Option<String>, Value);

#[derive(Clone, Default)]
struct Fake {
    received: Arc<Mutex<Vec<Received>>>,
    status: u16,
}

async fn emails(fake: web::Data<Fake>, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    let auth = req
        .headers()
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    fake.received
        .lock()
        .unwrap()
        .push((auth, body.into_inner()));
    HttpResponse::build(actix_web::http::StatusCode::from_u16(fake.status).unwrap())
        .json(json!({"id": "fake-1"}))
}

async fn start_fake(status: u16) -> (Fake, String) {
    let fake = Fake {
        status,
        ..Fake::default()
    };
    let data = web::Data::new(fake.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/emails", web::post().to(emails))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (fake, format!("http://{addr}/"))
}

async fn wait_for(app: &TestApp, sql: &str) {
    for _ in 0..100 {
        if app.count(sql).await > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never true: {sql}");
}

#[tokio::test]
async fn delivers_through_the_mail_api_and_purges_the_body() {
    let (fake, url) = start_fake(200).await;
    let app = TestApp::spawn_with(&[
        ("MINIME_MAIL_PROVIDER", "http"),
        ("MINIME_MAIL_API_URL", &url),
        ("MINIME_MAIL_API_KEY", "re_test_key"),
    ])
    .await;
    let res = app
        .post(
            "/v1/auth/signup",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 202);
    wait_for(
        &app,
        "SELECT count(*) FROM ops.outbox WHERE sent_at IS NOT NULL",
    )
    .await;

    let received = fake.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (auth, body) = &received[0];
    assert_eq!(auth.as_deref(), Some("Bearer re_test_key"));
    assert_eq!(body["to"], json!(["ada@example.com"]));
    assert_eq!(body["subject"], "Confirm your email for minime");
    assert!(body["from"].as_str().unwrap().contains('@'));
    assert!(body["text"]
        .as_str()
        .unwrap()
        .contains("/verify-email?token="));
    // Once delivered, the token-bearing body is gone from the database.
    assert_eq!(
        app.count("SELECT count(*) FROM ops.outbox WHERE body_text IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn rejected_mail_is_not_retried_and_server_errors_are() {
    let (_fake, url) = start_fake(422).await;
    let app = TestApp::spawn_with(&[
        ("MINIME_MAIL_PROVIDER", "http"),
        ("MINIME_MAIL_API_URL", &url),
        ("MINIME_MAIL_API_KEY", "k"),
    ])
    .await;
    app.post(
        "/v1/auth/signup",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    wait_for(
        &app,
        "SELECT count(*) FROM ops.outbox WHERE failed_at IS NOT NULL AND last_error LIKE '%422%'",
    )
    .await;

    let (fake, url) = start_fake(503).await;
    let app = TestApp::spawn_with(&[
        ("MINIME_MAIL_PROVIDER", "http"),
        ("MINIME_MAIL_API_URL", &url),
        ("MINIME_MAIL_API_KEY", "k"),
    ])
    .await;
    app.post(
        "/v1/auth/signup",
        json!({"email": "ada@example.com", "password": PASSWORD}),
    )
    .await;
    wait_for(&app, "SELECT count(*) FROM ops.outbox WHERE failed_at IS NULL AND attempts = 1 AND next_attempt_at > now() AND last_error LIKE '%503%'").await;
    assert_eq!(
        fake.received.lock().unwrap().len(),
        1,
        "one attempt, the next one backed off"
    );
}
