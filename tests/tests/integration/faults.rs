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
