//! Sign-up to sign-out, with the mail leg read from the outbox folder.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, tokens, TestApp, PASSWORD};

#[tokio::test]
async fn signup_verify_signin_me_refresh_signout() {
    let app = TestApp::spawn().await;
    let res = app
        .post("/v1/auth/signup", json!({"email": " Ada@Example.com ", "password": PASSWORD, "display_name": "Ada", "time_zone": "Europe/London"}))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    // Not verified yet: the right password is told so, a wrong one is not.
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    problem(res, 403, "/problems/email-not-verified").await;

    let token = app
        .mail_token("ada@example.com", "Confirm your email")
        .await;
    let res = app
        .post("/v1/auth/verify-email", json!({"token": token}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Single use.
    let res = app
        .post("/v1/auth/verify-email", json!({"token": token}))
        .await;
    problem(res, 400, "/problems/invalid-token").await;

    let t = app.signin("ada@example.com", PASSWORD).await;
    let res = app.get_auth("/v1/me", &t.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["display_name"], "Ada");
    assert_eq!(me["time_zone"], "Europe/London");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["plan"], "free");

    // Sign-up made a personal workspace the user owns.
    let res = app.get_auth("/v1/workspaces", &t.access).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["kind"], "personal");
    assert_eq!(page["items"][0]["role"], "owner");
    assert_eq!(page["next_cursor"], Value::Null);

    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let fresh = tokens(res.json().await.unwrap());
    assert_ne!(fresh.refresh, t.refresh);
    assert_eq!(fresh.session_id, t.session_id);
    assert_eq!(
        app.get_auth("/v1/me", &fresh.access).await.status(),
        StatusCode::OK
    );

    let res = app
        .client
        .post(app.url("/v1/auth/signout"))
        .bearer_auth(&fresh.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // The access token dies with its session, before its expiry.
    problem(
        app.get_auth("/v1/me", &fresh.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": fresh.refresh}))
        .await;
    problem(res, 401, "/problems/unauthorized").await;
}

#[tokio::test]
async fn duplicate_signup_looks_like_a_new_one_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    let users = app.count("SELECT count(*) FROM auth.users").await;

    let first = app.signup("fresh@example.com").await;
    let (s1, b1) = (first.status(), first.text().await.unwrap());
    let again = app
        .post(
            "/v1/auth/signup",
            json!({"email": "ADA@example.com", "password": "another-Strong-pass-8812"}),
        )
        .await;
    let (s2, b2) = (again.status(), again.text().await.unwrap());
    assert_eq!(
        (s1, &b1),
        (s2, &b2),
        "a registered address gets the same answer as a new one"
    );

    assert_eq!(
        app.count("SELECT count(*) FROM auth.users").await,
        users + 1,
        "only fresh@ was added"
    );
    // The owner of the mailbox is told, and the password did not change.
    app.mail("ada@example.com", "Someone tried to sign up")
        .await;
    app.signin("ada@example.com", PASSWORD).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_alike() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    let wrong = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": "not-the-password-1"}),
        )
        .await;
    let a = problem(wrong, 401, "/problems/invalid-credentials").await;
    let unknown = app
        .post(
            "/v1/auth/signin",
            json!({"email": "nobody@example.com", "password": "not-the-password-1"}),
        )
        .await;
    let b = problem(unknown, 401, "/problems/invalid-credentials").await;
    assert_eq!(a["detail"], b["detail"]);
}

#[tokio::test]
async fn replayed_refresh_token_ends_the_whole_family() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    let second = tokens(res.json().await.unwrap());

    // The first token is presented again: someone else has it.
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    problem(res, 401, "/problems/unauthorized").await;
    // Every token of that session is now dead, including the latest ones.
    problem(
        app.get_auth("/v1/me", &second.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": second.refresh}))
        .await;
    problem(res, 401, "/problems/unauthorized").await;
    let reason: String = app
        .admin()
        .await
        .query_one("SELECT revoked_reason FROM auth.sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(reason, "refresh_token_reuse");
}

#[tokio::test]
async fn password_reset_by_mail_revokes_sessions_and_is_single_use() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;

    let res = app
        .post(
            "/v1/auth/password-reset",
            json!({"email": "ada@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let unknown = app
        .post(
            "/v1/auth/password-reset",
            json!({"email": "nobody@example.com"}),
        )
        .await;
    assert_eq!(
        unknown.status(),
        StatusCode::ACCEPTED,
        "same answer for unknown addresses"
    );
    let token = app
        .mail_token("ada@example.com", "Reset your minime password")
        .await;
    assert!(app.find_mail("nobody@example.com", "Reset").is_none());

    // A weak password is refused without using up the token.
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "short"}),
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "new_password");

    let new_password = "violet-Harbour-9921-kite";
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": new_password}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_auth("/v1/me", &t.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;

    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": "another-Harbour-1234"}),
        )
        .await;
    problem(res, 400, "/problems/invalid-token").await;
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    problem(res, 401, "/problems/invalid-credentials").await;
    app.signin("ada@example.com", new_password).await;
}

#[tokio::test]
async fn change_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::spawn().await;
    let here = app.user("ada@example.com").await;
    let elsewhere = app.signin("ada@example.com", PASSWORD).await;

    let res = app
        .client
        .post(app.url("/v1/auth/password"))
        .bearer_auth(&here.access)
        .json(&json!({"current_password": "wrong-password-123", "new_password": "violet-Harbour-9921-kite"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "current_password");

    let res = app
        .client
        .post(app.url("/v1/auth/password"))
        .bearer_auth(&here.access)
        .json(&json!({"current_password": PASSWORD, "new_password": "violet-Harbour-9921-kite"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_auth("/v1/me", &here.access).await.status(),
        StatusCode::OK
    );
    problem(
        app.get_auth("/v1/me", &elsewhere.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    app.signin("ada@example.com", "violet-Harbour-9921-kite")
        .await;
}

#[tokio::test]
async fn sessions_can_be_listed_paged_and_revoked_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let a1 = app.user("ada@example.com").await;
    let a2 = app.signin("ada@example.com", PASSWORD).await;
    let a3 = app.signin("ada@example.com", PASSWORD).await;
    let b = app.user("bob@example.com").await;

    let page: Value = app
        .get_auth("/v1/auth/sessions?limit=2", &a1.access)
        .await
        .json()
        .await
        .unwrap();
    let first: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(first, [a3.session_id.as_str(), a2.session_id.as_str()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let page: Value = app
        .get_auth(
            &format!("/v1/auth/sessions?limit=2&cursor={cursor}"),
            &a1.access,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["id"], a1.session_id.as_str());
    assert_eq!(page["items"][0]["current"], true);
    assert_eq!(page["next_cursor"], Value::Null);

    // Bob cannot end Ada's session: to him it does not exist.
    let res = app
        .client
        .delete(app.url(&format!("/v1/auth/sessions/{}", a2.session_id)))
        .bearer_auth(&b.access)
        .send()
        .await
        .unwrap();
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(
        app.get_auth("/v1/me", &a2.access).await.status(),
        StatusCode::OK
    );

    let res = app
        .client
        .delete(app.url(&format!("/v1/auth/sessions/{}", a2.session_id)))
        .bearer_auth(&a1.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_auth("/v1/me", &a2.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;

    let res = app.get_auth("/v1/auth/sessions?limit=0", &a1.access).await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "limit");
    let res = app
        .get_auth("/v1/auth/sessions?cursor=nonsense", &a1.access)
        .await;
    problem(res, 422, "/problems/validation").await;
}

#[tokio::test]
async fn signout_all_ends_every_session() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let b = app.signin("ada@example.com", PASSWORD).await;
    let res = app
        .client
        .post(app.url("/v1/auth/signout?all=true"))
        .bearer_auth(&a.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_auth("/v1/me", &b.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
}

#[tokio::test]
async fn personal_access_tokens_are_scoped_hashed_and_revocable() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let create = |scope: &'static str| {
        app.anonymous()
            .request(Method::POST, "/v1/auth/tokens")
            .bearer_auth(&t.access)
            .json(
                &json!({"name": format!("{scope} script"), "scope": scope, "expires_in_days": 30}),
            )
            .send()
    };
    let res = create("read").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let read: Value = res.json().await.unwrap();
    let read_secret = read["token"].as_str().unwrap().to_owned();
    assert!(read_secret.starts_with("mm_pat_"));
    let write: Value = create("write").await.unwrap().json().await.unwrap();
    let write_secret = write["token"].as_str().unwrap().to_owned();

    // Only the hash is stored.
    let stored = app.count(&format!("SELECT count(*) FROM auth.personal_access_tokens WHERE token_hash = sha256('{read_secret}'::bytea)")).await;
    assert_eq!(stored, 1);

    assert_eq!(
        app.get_auth("/v1/me", &read_secret).await.status(),
        StatusCode::OK
    );
    let patch = |token: String| {
        app.anonymous()
            .request(Method::PATCH, "/v1/me")
            .bearer_auth(token)
            .json(&json!({"display_name": "Scripted"}))
            .send()
    };
    problem(
        patch(read_secret.clone()).await.unwrap(),
        403,
        "/problems/insufficient-scope",
    )
    .await;
    assert_eq!(
        patch(write_secret.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    // Tokens cannot manage credentials.
    problem(
        app.get_auth("/v1/auth/tokens", &write_secret).await,
        403,
        "/problems/insufficient-scope",
    )
    .await;

    let list: Value = app
        .get_auth("/v1/auth/tokens", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i.get("token").is_none()));
    assert!(list.to_string().find(&read_secret).is_none());

    let id = read["id"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/v1/auth/tokens/{id}")))
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_auth("/v1/me", &read_secret).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    let res = app
        .client
        .delete(app.url(&format!("/v1/auth/tokens/{id}")))
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    problem(res, 404, "/problems/not-found").await;

    let res = app
        .client
        .post(app.url("/v1/auth/tokens"))
        .bearer_auth(&t.access)
        .json(&json!({"name": "", "scope": "admin", "expires_in_days": 0}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "scope");
}

#[tokio::test]
async fn me_is_a_merge_patch_with_if_match() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let patch = |body: Value, if_match: Option<&str>| {
        let mut req = app
            .client
            .patch(app.url("/v1/me"))
            .bearer_auth(&t.access)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(v) = if_match {
            req = req.header("if-match", v);
        }
        req.send()
    };
    let res = patch(
        json!({"display_name": "Ada L.", "time_zone": "America/New_York", "week_start": 7}),
        Some("\"1\""),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let me: Value = res.json().await.unwrap();
    assert_eq!(
        (
            me["display_name"].as_str(),
            me["time_zone"].as_str(),
            me["week_start"].as_i64()
        ),
        (Some("Ada L."), Some("America/New_York"), Some(7))
    );

    // A stale ETag changes nothing.
    let res = patch(json!({"locale": "de-DE"}), Some("\"1\""))
        .await
        .unwrap();
    problem(res, 412, "/problems/precondition-failed").await;
    let res = patch(
        json!({"time_zone": "Mars/Olympus", "week_start": 9, "locale": "de-DE"}),
        None,
    )
    .await
    .unwrap();
    let body = problem(res, 422, "/problems/validation").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["time_zone", "week_start"]);
    let res = patch(json!({"email": "evil@example.com"}), None)
        .await
        .unwrap();
    problem(res, 422, "/problems/validation").await;

    let me: Value = app
        .get_auth("/v1/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["locale"].as_str(), me["version"].as_i64()),
        (Some("en"), Some(2))
    );

    // null removes the display name; absent fields stay.
    let me: Value = patch(json!({"display_name": null}), None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], Value::Null);
    assert_eq!(me["time_zone"], "America/New_York");
}
