//! Second factors over HTTP: authenticator apps with the settable clock, recovery codes, passkeys
//! against a software authenticator, the sign-in challenge step and recent re-authentication
//! before sensitive actions.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::{problem, tokens, TestApp, Tokens, PASSWORD},
    soft_passkey::SoftPasskey,
};

/// A server whose factor rate limit stays out of these tests' way (one test below keeps it).
async fn generous() -> TestApp {
    TestApp::spawn_with(&[("MINIME_RATE_LIMIT_FACTORS", "1000/60")]).await
}

/// The app's code for the step holding `unix`.
fn code(secret: &str, unix: i64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).unwrap().to_vec();
    totp_rs::Builder::new()
        .with_secret(bytes)
        .build()
        .unwrap()
        .generate(unix as u64)
        .to_string()
}

/// Enrols and confirms an authenticator app; answers its secret and the recovery codes.
async fn with_totp(app: &TestApp, t: &Tokens) -> (String, Vec<String>) {
    let me = app.signed_in(t);
    let enrolment = me.create("/v1/auth/factors/totp", &json!({})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/minime:ada%40example.com?"));
    assert!(enrolment["qr_svg"].as_str().unwrap().starts_with("<svg"));
    let (status, _) = me
        .call(
            Method::POST,
            "/v1/auth/factors/totp/confirm",
            Some(&json!({"code": "000000"})),
        )
        .await;
    assert_eq!(status, 422, "a wrong first code does not confirm");
    let now = app.clock.now().timestamp();
    let confirmed = me
        .ok(
            Method::POST,
            "/v1/auth/factors/totp/confirm",
            Some(&json!({"code": code(&secret, now)})),
        )
        .await;
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// A password sign-in of an account with a factor: the challenge step's token.
async fn mfa_token(app: &TestApp, email: &str) -> String {
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true);
    assert!(body.get("access_token").is_none());
    body["mfa_token"].as_str().unwrap().to_owned()
}

async fn answer(app: &TestApp, token: &str, proof: Value) -> reqwest::Response {
    let mut body = proof;
    body["mfa_token"] = json!(token);
    app.post("/v1/auth/signin/mfa", body).await
}

#[tokio::test]
async fn totp_codes_work_once_within_a_step_either_side() {
    let app = generous().await;
    let t = app.user("ada@example.com").await;
    let (secret, recovery) = with_totp(&app, &t).await;

    // The code just used to confirm is spent; the next step's is not.
    let now = app.clock.now().timestamp();
    let token = mfa_token(&app, "ada@example.com").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now)})).await;
    problem(res, 401, "/problems/invalid-code").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now + 30)})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let signed: Value = res.json().await.unwrap();
    let session = app.signed_in(&tokens(signed));
    let sessions = session.get("/v1/auth/sessions").await;
    let current = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["auth_method"], "password_totp");
    // The step is used up with its sign-in.
    let res = answer(&app, &token, json!({"code": code(&secret, now + 60)})).await;
    problem(res, 400, "/problems/invalid-token").await;

    // Three steps on: one step behind and one ahead are accepted, two away are not.
    app.clock.advance(Duration::from_secs(120));
    let now = app.clock.now().timestamp();
    let token = mfa_token(&app, "ada@example.com").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now - 60)})).await;
    problem(res, 401, "/problems/invalid-code").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now + 60)})).await;
    problem(res, 401, "/problems/invalid-code").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now - 30)})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = mfa_token(&app, "ada@example.com").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now + 30)})).await;
    assert_eq!(res.status(), StatusCode::OK);
    // An earlier step than the last accepted never works again.
    let token = mfa_token(&app, "ada@example.com").await;
    let res = answer(&app, &token, json!({"code": code(&secret, now)})).await;
    problem(res, 401, "/problems/invalid-code").await;

    // A recovery code works once, however it is typed.
    let typed = recovery[3].to_uppercase().replace('-', " ");
    let res = answer(&app, &token, json!({"recovery_code": typed})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = mfa_token(&app, "ada@example.com").await;
    let res = answer(&app, &token, json!({"recovery_code": recovery[3]})).await;
    problem(res, 401, "/problems/invalid-code").await;
    let res = answer(
        &app,
        &token,
        json!({"code": "123456", "recovery_code": recovery[4]}),
    )
    .await;
    problem(res, 422, "/problems/validation").await;

    // Wrong codes count toward the sign-in lockout like wrong passwords (the reused recovery code
    // was the first).
    let token = mfa_token(&app, "ada@example.com").await;
    for _ in 0..4 {
        let res = answer(&app, &token, json!({"code": "000001"})).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = answer(&app, &token, json!({"recovery_code": recovery[5]})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    problem(res, 429, "/problems/account-locked").await;
}

#[tokio::test]
async fn sensitive_actions_need_a_recent_second_factor() {
    let app = generous().await;
    let t = app.user("ada@example.com").await;
    let other = app.signin("ada@example.com", PASSWORD).await;
    let (secret, _) = with_totp(&app, &t).await;
    // Enrolling ended the other session.
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": other.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // The confirming session counts as strong for 10 minutes.
    let me = app.signed_in(&t);
    let factors = me.get("/v1/auth/factors").await;
    assert_eq!(factors["enrolled"], true);
    assert_eq!(factors["recovery_codes_left"], 10);
    assert_eq!(factors["session_method"], "password_totp");
    me.create(
        "/v1/auth/tokens",
        &json!({"name": "script", "scope": "read"}),
    )
    .await;

    let t = app.advance(Duration::from_secs(11 * 60), &t).await;
    let me = app.signed_in(&t);
    let refused = [
        (
            Method::DELETE,
            "/v1/account",
            Some(json!({"password": PASSWORD})),
        ),
        (
            Method::POST,
            "/v1/auth/password",
            Some(json!({"current_password": PASSWORD, "new_password": "violet-Harbour-9921-kite"})),
        ),
        (
            Method::POST,
            "/v1/auth/tokens",
            Some(json!({"name": "script", "scope": "read"})),
        ),
        (Method::GET, "/v1/account/export", None),
        (Method::DELETE, "/v1/auth/factors/totp", None),
        (Method::POST, "/v1/auth/factors/recovery-codes", None),
        (Method::POST, "/v1/auth/passkeys/registration", None),
    ];
    for (method, path, body) in &refused {
        let res = me.send(method.clone(), path, body.as_ref(), &[]).await;
        problem(res, 403, "/problems/reauthentication-required").await;
    }
    let (status, _) = me.call(Method::GET, "/v1/me", None).await;
    assert_eq!(status, 200, "everything else goes on");

    // A wrong code does not confirm; the right one does, for 10 minutes.
    let (status, _) = me
        .call(
            Method::POST,
            "/v1/auth/reauthenticate",
            Some(&json!({"code": "000000"})),
        )
        .await;
    assert_eq!(status, 401);
    let now = app.clock.now().timestamp();
    let done = me
        .ok(
            Method::POST,
            "/v1/auth/reauthenticate",
            Some(&json!({"code": code(&secret, now)})),
        )
        .await;
    assert_eq!(done["auth_method"], "password_totp");
    me.create(
        "/v1/auth/tokens",
        &json!({"name": "script", "scope": "read"}),
    )
    .await;
    let res = me.send(Method::GET, "/v1/account/export", None, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let export: Value = res.json().await.unwrap();
    assert_eq!(
        export["sections"]["totp_factor"].as_array().unwrap().len(),
        1
    );
    assert!(export["sections"]["totp_factor"][0].get("secret").is_none());
    let codes = me
        .ok(Method::POST, "/v1/auth/factors/recovery-codes", None)
        .await;
    assert_eq!(codes["recovery_codes"].as_array().unwrap().len(), 10);

    // Removing the last factor takes the recovery codes with it; password sign-in gives tokens.
    let (status, _) = me.call(Method::DELETE, "/v1/auth/factors/totp", None).await;
    assert_eq!(status, 204);
    let factors = me.get("/v1/auth/factors").await;
    assert_eq!(factors["enrolled"], false);
    assert_eq!(factors["recovery_codes_left"], 0);
    app.signin("ada@example.com", PASSWORD).await;
}

#[tokio::test]
async fn passkeys_register_sign_in_and_a_cloned_one_is_refused() {
    let app = generous().await;
    let t = app.user("ada@example.com").await;
    let me = app.signed_in(&t);
    let mut key = SoftPasskey::new();

    let options = me
        .ok(Method::POST, "/v1/auth/passkeys/registration", None)
        .await;
    assert_eq!(
        options["options"]["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    let credential = key.create(&options["options"]);
    let body = json!({"token": options["token"], "name": "Soft key", "credential": credential});
    let registered = me.create("/v1/auth/passkeys", &body).await;
    assert_eq!(registered["passkey"]["name"], "Soft key");
    assert_eq!(
        registered["recovery_codes"].as_array().unwrap().len(),
        10,
        "the first factor brings recovery codes"
    );
    let (status, again) = me
        .call(Method::POST, "/v1/auth/passkeys", Some(&body))
        .await;
    assert_eq!(status, 400, "a registration is used once: {again}");
    let list = me.get("/v1/auth/passkeys").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();

    // Usernameless: the authenticator names the account.
    let options = app.post("/v1/auth/passkey/options", json!({})).await;
    let options: Value = options.json().await.unwrap();
    assert!(options["options"]["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert!(options["options"].get("mediation").is_none());
    let answer_ = key.get(&options["options"]);
    let res = app
        .post(
            "/v1/auth/passkey/signin",
            json!({"token": options["token"], "credential": answer_}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let by_passkey = tokens(res.json().await.unwrap());
    let session = app.signed_in(&by_passkey);
    assert_eq!(
        session.get("/v1/auth/factors").await["session_method"],
        "passkey"
    );
    // The same options and answer do not sign in twice.
    let res = app
        .post(
            "/v1/auth/passkey/signin",
            json!({"token": options["token"], "credential": answer_}),
        )
        .await;
    problem(res, 400, "/problems/invalid-token").await;

    // By email: the options list the account's passkeys.
    let options: Value = app
        .post(
            "/v1/auth/passkey/options",
            json!({"email": "Ada@Example.com"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        options["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let res = app
        .post(
            "/v1/auth/passkey/signin",
            json!({"token": options["token"], "credential": key.get(&options["options"]), "mode": "token"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // As the second factor of a password sign-in.
    let token = mfa_token(&app, "ada@example.com").await;
    let options: Value = app
        .post(
            "/v1/auth/signin/mfa/passkey-options",
            json!({"mfa_token": token}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = answer(
        &app,
        &token,
        json!({"passkey": key.get(&options["options"])}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Another origin's answer is refused.
    let options: Value = app
        .post("/v1/auth/passkey/options", json!({}))
        .await
        .json()
        .await
        .unwrap();
    key.origin = "http://localhost:9999".into();
    let res = app
        .post(
            "/v1/auth/passkey/signin",
            json!({"token": options["token"], "credential": key.get(&options["options"])}),
        )
        .await;
    problem(res, 401, "/problems/passkey-refused").await;
    key.origin = "http://localhost:8080".into();

    // A counter going backwards: a copy of the key. Refused, marked, and refused from then on.
    let options: Value = app
        .post("/v1/auth/passkey/options", json!({}))
        .await
        .json()
        .await
        .unwrap();
    key.counter = 1;
    let res = app
        .post(
            "/v1/auth/passkey/signin",
            json!({"token": options["token"], "credential": key.assert(&options["options"])}),
        )
        .await;
    let refused = problem(res, 401, "/problems/passkey-refused").await;
    assert!(refused["detail"].as_str().unwrap().contains("copied"));
    let list = session.get("/v1/auth/passkeys").await;
    assert!(list["items"][0]["possibly_cloned_at"].is_string());
    key.counter = 100;
    let options: Value = app
        .post("/v1/auth/passkey/options", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .post(
            "/v1/auth/passkey/signin",
            json!({"token": options["token"], "credential": key.get(&options["options"])}),
        )
        .await;
    problem(res, 401, "/problems/passkey-refused").await;

    // Renamed, then removed by the passkey session (strong and recent).
    let renamed = session
        .ok(
            Method::PATCH,
            &format!("/v1/auth/passkeys/{id}"),
            Some(&json!({"name": "Old key"})),
        )
        .await;
    assert_eq!(renamed["name"], "Old key");
    let (status, _) = session
        .call(Method::DELETE, &format!("/v1/auth/passkeys/{id}"), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        session.get("/v1/auth/passkeys").await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.signin("ada@example.com", PASSWORD).await;
}

#[tokio::test]
async fn challenges_are_rate_limited_per_client() {
    let app = TestApp::spawn().await;
    for _ in 0..15 {
        let res = app.post("/v1/auth/passkey/options", json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app.post("/v1/auth/passkey/options", json!({})).await;
    problem(res, 429, "/problems/rate-limited").await;
}

#[tokio::test]
async fn the_apps_secret_is_sealed_and_moves_to_a_new_key() {
    use minime_api::secrets::KeyRing;
    let (old, new) = (KeyRing::generate("old"), KeyRing::generate("new"));
    let app = TestApp::spawn_with(&[
        ("MINIME_SECRET_KEYS", old.as_str()),
        ("MINIME_RATE_LIMIT_FACTORS", "1000/60"),
    ])
    .await;
    let t = app.user("ada@example.com").await;
    let (secret, _) = with_totp(&app, &t).await;
    let raw = totp_rs::Secret::try_from_base32(&secret).unwrap().to_vec();
    let sealed: Vec<u8> = app
        .admin()
        .await
        .query_one("SELECT secret FROM auth.totp_factors", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        !sealed.windows(raw.len()).any(|w| w == raw.as_slice()),
        "the secret is stored in clear"
    );

    let vars = |ring: &str| -> std::collections::HashMap<String, String> {
        [
            ("DATABASE_URL", app.admin_url.as_str()),
            ("MINIME_LISTEN", "127.0.0.1:0"),
            ("MINIME_WORKERS", "1"),
            ("MINIME_JOB_WORKERS", "0"),
            ("MINIME_DB_POOL_SIZE", "2"),
            ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
            ("MINIME_SECRET_KEYS", ring),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    let both = minime_api::config::Config::from_vars(&vars(&format!("{new},{old}"))).unwrap();
    assert!(minime_api::admin::cli::rotate_secrets(&both).await.unwrap() >= 1);
    assert_eq!(
        minime_api::admin::cli::rotate_secrets(&both).await.unwrap(),
        0,
        "a second run has nothing left to do"
    );

    // A server that knows only the new key still checks the app's codes.
    let only_new = minime_api::config::Config::from_vars(&vars(&new)).unwrap();
    let server = minime_api::server::start(only_new).await.unwrap();
    let base = format!("http://{}", server.addr);
    tokio::spawn(server.server);
    let http = reqwest::Client::new();
    let step: Value = http
        .post(format!("{base}/v1/auth/signin"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = app.clock.now().timestamp();
    let res = http
        .post(format!("{base}/v1/auth/signin/mfa"))
        .json(&json!({"mfa_token": step["mfa_token"], "code": code(&secret, now + 30)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
