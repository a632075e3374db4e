//! The morning recap: at the chosen local time, across a DST change, once a day, never for a
//! day that passed while no job ran, and once however often the time is changed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{TestApp, PASSWORD},
    push_service::PushService,
};

/// Waits until `sql` (one bigint) answers `want`, waking the workers as it goes.
async fn until(app: &TestApp, sql: &str, want: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        app.wake_jobs();
        let got = app.count(sql).await;
        if got == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{sql}: {got}, wanted {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Moves the server's clock to `to` (forward only), once no job is running.
async fn move_to(app: &TestApp, to: &str) {
    let to: DateTime<Utc> = to.parse().unwrap();
    let by = to - app.clock.now();
    app.advance_when_idle(by.to_std().expect("the clock only moves forward"))
        .await;
}

/// Waits until the device has received `want` pushes and the deliveries are settled: a job
/// still held when the test moves the clock a day on would see its lease lapse and run again.
async fn received(app: &TestApp, service: &PushService, device: &serde_json::Value, want: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while service.received(device).len() != want {
        assert!(
            std::time::Instant::now() < deadline,
            "{} pushes, wanted {want}; refused: {:?}",
            service.received(device).len(),
            service.violations()
        );
        app.wake_jobs();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until(
        app,
        "SELECT count(*) FROM ops.jobs WHERE kind IN ('push.notify', 'push.deliver')
           AND done_at IS NULL AND dead_at IS NULL",
        0,
    )
    .await;
}

/// The recap job waiting for `user` at `at`, planted once.
fn waiting(user: &str, at: &str) -> String {
    format!(
        "SELECT count(*) FROM ops.jobs WHERE kind = 'recap.send' AND user_id = '{user}'
           AND done_at IS NULL AND run_at = '{at}'"
    )
}

#[tokio::test]
async fn the_recap_comes_at_the_local_time_across_dst_once_a_day_and_skips_missed_days() {
    let app = TestApp::spawn_with(&[("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true")]).await;
    let service = PushService::start_at(app.clock.clone()).await;
    let t = app.user("early@example.com").await;
    let ada = app.signed_in(&t);
    let id = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let phone = service.subscribe();
    ada.create("/v1/push/subscriptions", &phone).await;
    ada.ok(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/London"})),
    )
    .await;
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({"morning_recap": true, "morning_recap_at": "07:30:00"})),
    )
    .await;
    // Storing the settings plants the next recap.
    until(
        &app,
        &format!(
            "SELECT count(*) FROM ops.jobs WHERE kind = 'recap.send' AND user_id = '{id}'
               AND (run_at AT TIME ZONE 'Europe/London')::time = '07:30' AND run_at > now()"
        ),
        1,
    )
    .await;

    // Months pass with no job running: the recap that was due is skipped, not sent late, and
    // the next one waits for its own morning (GMT: 07:30 UTC).
    move_to(&app, "2027-03-27T07:00:00Z").await;
    until(&app, &waiting(&id, "2027-03-27T07:30:00Z"), 1).await;
    assert_eq!(service.attempts(&phone), 0);

    move_to(&app, "2027-03-27T07:30:01Z").await;
    received(&app, &service, &phone, 1).await;
    // The clocks go forward overnight: Sunday's 07:30 is 06:30 UTC.
    until(&app, &waiting(&id, "2027-03-28T06:30:00Z"), 1).await;
    let recap: serde_json::Value =
        serde_json::from_slice(&service.received(&phone)[0].plaintext).unwrap();
    assert_eq!(
        recap,
        json!({"title": "Nothing planned today", "body": "Your day is open.", "url": "/today"})
    );
    assert_eq!(
        service.received(&phone)[0].topic.as_deref(),
        Some("morning-recap")
    );

    move_to(&app, "2027-03-28T06:29:00Z").await;
    app.wake_jobs();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(service.attempts(&phone), 1, "no recap before its time");
    move_to(&app, "2027-03-28T06:30:01Z").await;
    received(&app, &service, &phone, 2).await;

    // Moving the time later on a day that had its recap plants that time, which sends nothing.
    let t = app.signin("early@example.com", PASSWORD).await;
    app.signed_in(&t)
        .ok(
            Method::PATCH,
            "/v1/settings",
            Some(&json!({"morning_recap_at": "08:00:00"})),
        )
        .await;
    until(&app, &waiting(&id, "2027-03-28T07:00:00Z"), 1).await;
    move_to(&app, "2027-03-28T07:00:01Z").await;
    until(&app, &waiting(&id, "2027-03-29T07:00:00Z"), 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(service.attempts(&phone), 2, "one recap a day");

    // Turned off: the waiting job ends without a recap or a successor.
    let t = app.signin("early@example.com", PASSWORD).await;
    app.signed_in(&t)
        .ok(
            Method::PATCH,
            "/v1/settings",
            Some(&json!({"morning_recap": false})),
        )
        .await;
    move_to(&app, "2027-03-29T07:00:01Z").await;
    until(
        &app,
        &format!("SELECT count(*) FROM ops.jobs WHERE kind = 'recap.send' AND user_id = '{id}' AND done_at IS NULL"),
        0,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(service.attempts(&phone), 2);
}

#[tokio::test]
async fn every_process_plants_the_next_recap_once() {
    let app = TestApp::spawn().await;
    let t = app.user("planted@example.com").await;
    let ada = app.signed_in(&t);
    let id = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({"morning_recap": true})),
    )
    .await;
    // The job is lost (say it went dead and was removed); a process starting plants it again,
    // and more processes starting plant nothing more.
    app.admin()
        .await
        .execute("DELETE FROM ops.jobs WHERE kind = 'recap.send'", &[])
        .await
        .unwrap();
    let db = minime_api::db::pool::Db::connect(&app.app_db_url, 2, Duration::from_secs(5)).unwrap();
    for _ in 0..3 {
        minime_api::recap::plant_all(&db, app.clock.now())
            .await
            .unwrap();
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM ops.jobs WHERE kind = 'recap.send' AND user_id = '{id}'"
        ))
        .await,
        1
    );
}
