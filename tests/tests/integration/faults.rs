//! Faults the server must ride out without a restart.

use reqwest::Method;
use std::time::Duration;

use serde_json::json;

use crate::{helpers::two_users, helpers::TestApp};

#[tokio::test]
async fn the_pool_survives_killed_connections() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    for n in 0..8 {
        ada.create("/v1/areas", &json!({"name": format!("Area {n}")}))
            .await;
    }
    let admin = app.admin().await;
    let pids: Vec<i32> = admin
        .query(
            "SELECT pid FROM pg_stat_activity WHERE usename = 'minime_app' AND datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!pids.is_empty(), "the server held connections to kill");
    let list = pids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    admin
        .execute(
            &format!("SELECT pg_terminate_backend(pid) FROM unnest(ARRAY[{list}]) pid"),
            &[],
        )
        .await
        .unwrap();
    // Every killed backend is gone; the server learns of the closed sockets on its own and
    // replaces them: every request succeeds.
    settles(
        &admin,
        &format!("SELECT count(*) FROM pg_stat_activity WHERE pid IN ({list})"),
        |n| n == 0,
    )
    .await;
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
        app.anonymous()
            .request(Method::GET, "/healthz")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_request_dropped_mid_transaction_leaves_no_partial_write_or_open_transaction() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    let task = ada
        .create("/v1/tasks", &json!({"title": "Contended"}))
        .await;
    let id = task["id"].as_str().unwrap().to_owned();

    // Hold the row so that the PATCH waits inside its transaction, then give up on it.
    let mut admin = app.admin().await;
    let lock = admin.transaction().await.unwrap();
    lock.execute(
        &format!("SELECT 1 FROM app.tasks WHERE id = '{id}' FOR UPDATE"),
        &[],
    )
    .await
    .unwrap();
    let (path, body) = (
        format!("/v1/tasks/{id}"),
        json!({"title": "Half", "priority": 1}),
    );
    let pending = tokio::spawn(
        app.anonymous()
            .request(Method::PATCH, &path)
            .bearer_auth(&a.access)
            .json(&body)
            .send(),
    );
    // Proof that the PATCH is inside its transaction, waiting for the row: one of the server's
    // backends waits on a lock. Then the client gives up.
    let watcher = app.admin().await;
    settles(
        &watcher,
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'minime_app' \
         AND datname = current_database() AND wait_event_type = 'Lock'",
        |waiting| waiting > 0,
    )
    .await;
    pending.abort();
    lock.rollback().await.unwrap();
    // Whatever became of the dropped request, none of the server's backends is busy with it.
    settles(
        &watcher,
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'minime_app' \
         AND datname = current_database() AND state <> 'idle'",
        |busy| busy == 0,
    )
    .await;

    // Either all of it happened or none of it did.
    let row = admin
        .query_one(
            &format!("SELECT title, priority, version FROM app.tasks WHERE id = '{id}'"),
            &[],
        )
        .await
        .unwrap();
    let (title, priority, version): (String, i16, i32) = (row.get(0), row.get(1), row.get(2));
    assert!(
        (title.as_str(), priority, version) == ("Contended", 4, 1)
            || (title.as_str(), priority, version) == ("Half", 1, 2),
        "partial write: {title} {priority} {version}"
    );
    // No connection of the server is left inside a transaction, and the pool still serves.
    let open: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'minime_app' AND datname = current_database() \
             AND state LIKE 'idle in transaction%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(open, 0);
    for _ in 0..8 {
        assert_eq!(ada.get(&format!("/v1/tasks/{id}")).await["id"], id.as_str());
    }
}

/// Polls `sql` (a count) until `done` holds, or fails after a deadline: proof by observation,
/// never by a fixed wait.
async fn settles(db: &tokio_postgres::Client, sql: &str, done: impl Fn(i64) -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 = db.query_one(sql, &[]).await.unwrap().get(0);
        if done(n) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {n} after 20 s: {sql}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
