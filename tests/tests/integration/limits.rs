//! Rate limits and the sign-in lockout trip, say when to come back, and recover.

use reqwest::Method;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{problem, TestApp, PASSWORD};

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn signin_rate_limit_trips_and_recovers() {
    let app = TestApp::spawn_with(&[("MINIME_RATE_LIMIT_SIGNIN", "3/4")]).await;
    // Windows are fixed (aligned to multiples of their length): start right after a boundary so
    // that all four attempts fall into one window.
    let now = app.clock.now();
    let into_window =
        (now.timestamp() % 4) as u64 * 1000 + u64::from(now.timestamp_subsec_millis());
    app.clock
        .advance(Duration::from_millis(4000 - into_window + 50));
    app.user("ada@example.com").await; // one sign-in spent
    for _ in 0..2 {
        let res = app
            .post(
                "/v1/auth/signin",
                json!({"email": "ada@example.com", "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    let wait = retry_after(&res);
    assert!((1..=4).contains(&wait), "Retry-After {wait}");
    problem(res, 429, "/problems/rate-limited").await;
    app.clock
        .advance(Duration::from_secs(wait) + Duration::from_millis(200));
    app.signin("ada@example.com", PASSWORD).await;
}

#[tokio::test]
async fn failed_signins_lock_the_address_with_growing_waits() {
    let app = TestApp::spawn_with(&[
        ("MINIME_LOCKOUT_THRESHOLD", "3"),
        ("MINIME_LOCKOUT_BASE_SECONDS", "1"),
    ])
    .await;
    app.user("ada@example.com").await;
    let attempt = |password: &'static str| {
        app.post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": password}),
        )
    };
    for _ in 0..3 {
        problem(
            attempt("wrong-password-1").await,
            401,
            "/problems/invalid-credentials",
        )
        .await;
    }
    // Locked: even the right password is not checked.
    let res = attempt(PASSWORD).await;
    assert_eq!(retry_after(&res), 1);
    problem(res, 429, "/problems/account-locked").await;
    app.clock.advance(Duration::from_millis(1300));

    // One more failure doubles the lock.
    problem(
        attempt("wrong-password-1").await,
        401,
        "/problems/invalid-credentials",
    )
    .await;
    let res = attempt(PASSWORD).await;
    assert_eq!(retry_after(&res), 2);
    problem(res, 429, "/problems/account-locked").await;
    app.clock.advance(Duration::from_millis(2300));

    app.signin("ada@example.com", PASSWORD).await;
    // Success clears the count.
    assert_eq!(
        app.count("SELECT count(*) FROM auth.signin_failures").await,
        0
    );
}

#[tokio::test]
async fn unknown_addresses_lock_out_too_so_lockouts_reveal_nothing() {
    let app = TestApp::spawn_with(&[("MINIME_LOCKOUT_THRESHOLD", "2")]).await;
    for _ in 0..2 {
        let res = app
            .post(
                "/v1/auth/signin",
                json!({"email": "ghost@example.com", "password": "whatever-1234"}),
            )
            .await;
        problem(res, 401, "/problems/invalid-credentials").await;
    }
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ghost@example.com", "password": "whatever-1234"}),
        )
        .await;
    problem(res, 429, "/problems/account-locked").await;
}

#[tokio::test]
async fn mail_requests_are_limited_per_client_and_per_address() {
    let app = TestApp::spawn_with(&[
        ("MINIME_RATE_LIMIT_MAIL_PER_IP", "3/3600"),
        ("MINIME_RATE_LIMIT_MAIL_PER_ADDRESS", "1/3600"),
    ])
    .await;
    app.user("ada@example.com").await;
    for _ in 0..3 {
        let res = app
            .post(
                "/v1/auth/password-reset",
                json!({"email": "ada@example.com"}),
            )
            .await;
        assert_eq!(res.status(), 202);
    }
    // The verification mail spent the address's budget of one: the resets were accepted
    // (the answer reveals nothing) but no mail was queued.
    let sent = app
        .count("SELECT count(*) FROM ops.outbox WHERE kind = 'password_reset'")
        .await;
    assert_eq!(sent, 0);
    let res = app
        .post(
            "/v1/auth/password-reset",
            json!({"email": "ada@example.com"}),
        )
        .await;
    assert!(retry_after(&res) > 0);
    problem(res, 429, "/problems/rate-limited").await;
    let res = app
        .post(
            "/v1/auth/signup",
            json!({"email": "new@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 202, "sign-ups have their own budget");
}

#[tokio::test]
async fn writes_per_user_are_limited_and_refused_writes_write_nothing() {
    let app = TestApp::spawn_with(&[("MINIME_RATE_LIMIT_WRITES", "3/3600")]).await;
    let t = app.user("ada@example.com").await;
    let create = || {
        app.anonymous()
            .request(Method::POST, "/v1/areas")
            .bearer_auth(&t.access)
            .json(&json!({"name": "Home"}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(create().await.unwrap().status(), 201);
    }
    let res = create().await.unwrap();
    assert!(retry_after(&res) > 0);
    problem(res, 429, "/problems/rate-limited").await;
    assert_eq!(app.count("SELECT count(*) FROM app.life_areas").await, 3);
    // Reading is not limited.
    assert_eq!(app.get_auth("/v1/areas", &t.access).await.status(), 200);
}

/// Expiry is judged on the server's clock: moving it forward ends access tokens, mailed links
/// and sessions without waiting for them.
#[tokio::test]
async fn tokens_links_and_sessions_end_on_the_servers_clock() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.com").await;
    assert_eq!(app.get_auth("/v1/me", &ada.access).await.status(), 200);
    assert_eq!(app.signup("bob@example.com").await.status(), 202);
    let link = app.mail_token("bob@example.com", "Confirm").await;

    // Past the access token's 15 minutes: refused, and a refresh gives a working one.
    app.clock.advance(Duration::from_secs(16 * 60));
    problem(
        app.get_auth("/v1/me", &ada.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": ada.refresh}))
        .await;
    assert_eq!(res.status(), 200);
    let ada = crate::helpers::tokens(res.json().await.unwrap());
    assert_eq!(app.get_auth("/v1/me", &ada.access).await.status(), 200);

    // Past the verification link's 24 hours.
    app.clock.advance(Duration::from_secs(24 * 3600));
    problem(
        app.post("/v1/auth/verify-email", json!({"token": link}))
            .await,
        400,
        "/problems/invalid-token",
    )
    .await;

    // Past the session's 30 days: the refresh token no longer opens it.
    app.clock.advance(Duration::from_secs(31 * 86_400));
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": ada.refresh}))
        .await;
    problem(res, 401, "/problems/unauthorized").await;
}
