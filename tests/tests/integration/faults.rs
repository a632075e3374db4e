//! Faults the server must ride out without a restart.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::TestApp,
    resources::{client, two_users},
};

#[tokio::test]
async fn the_pool_survives_killed_connections() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = client(&app, &a);
    for n in 0..8 {
        ada.create("/v1/areas", &json!({"name": format!("Area {n}")}))
            .await;
    }
    let admin = app.admin().await;
    let killed: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE usename = 'minime_app' AND datname = current_database()) t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(killed > 0, "the server held connections to kill");
    // The server learns of the closed sockets and replaces them: every request succeeds.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 0..20 {
        let res = ada
            .send(reqwest::Method::GET, "/v1/areas?limit=1", None, &[])
            .await;
        assert_eq!(res.status(), 200, "request {n} after the kill");
    }
    ada.create("/v1/areas", &json!({"name": "After"})).await;
}

#[tokio::test]
async fn a_slow_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(&[("MINIME_CLIENT_REQUEST_TIMEOUT_MS", "1000")]).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Half a request head, then nothing.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept a stalled connection open");
    assert!(started.elapsed() < Duration::from_secs(3));
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // The server still serves others.
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
