//! Attacks on accounts and limits, each replayed over HTTP: who may set a password, what a
//! password change ends, who a lockout locks, which address a limit counts, and what text the
//! database can never be handed.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp, PASSWORD};

const SQUATTER: &str = "squatter-Pass-9931-tulip";
const NEW_PASSWORD: &str = "violet-Harbour-9921-kite";

async fn signin_status(app: &TestApp, email: &str, password: &str) -> u16 {
    app.post(
        "/v1/auth/signin",
        json!({"email": email, "password": password}),
    )
    .await
    .status()
    .as_u16()
}

async fn create_pat(app: &TestApp, access: &str, scope: &str) -> String {
    let res = app
        .client
        .post(app.url("/v1/auth/tokens"))
        .bearer_auth(access)
        .json(&json!({"name": "script", "scope": scope}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_second_signup_cannot_keep_the_squatters_password() {
    let app = TestApp::spawn().await;
    // The attacker registers the victim's address first and never sees the mailbox.
    let res = app
        .post(
            "/v1/auth/signup",
            json!({"email": "victim@example.com", "password": SQUATTER}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let squatters_link = app
        .mail_token("victim@example.com", "Confirm your email")
        .await;
    // The victim signs up with their own password and follows the newest link.
    assert_eq!(
        app.signup("victim@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    let victims_link = app
        .mail_token("victim@example.com", "Confirm your email")
        .await;
    let res = app
        .post("/v1/auth/verify-email", json!({"token": victims_link}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(
        signin_status(&app, "victim@example.com", PASSWORD).await,
        200
    );
    assert_eq!(
        signin_status(&app, "victim@example.com", SQUATTER).await,
        401
    );
    // The older link died with the proof: it can neither verify nor set a password now.
    let res = app
        .post("/v1/auth/verify-email", json!({"token": squatters_link}))
        .await;
    problem(res, 400, "/problems/invalid-token").await;
    assert_eq!(
        signin_status(&app, "victim@example.com", PASSWORD).await,
        200
    );
}

#[tokio::test]
async fn a_resent_link_sets_the_newest_signups_password() {
    let app = TestApp::spawn().await;
    app.post(
        "/v1/auth/signup",
        json!({"email": "victim@example.com", "password": SQUATTER}),
    )
    .await;
    app.signup("victim@example.com").await;
    app.mail_token("victim@example.com", "Confirm your email")
        .await;
    app.mail_token("victim@example.com", "Confirm your email")
        .await;
    // The victim lost the mail and asks again: the resent link carries their password.
    let res = app
        .post(
            "/v1/auth/verify-email/resend",
            json!({"email": "victim@example.com"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let link = app
        .mail_token("victim@example.com", "Confirm your email")
        .await;
    let res = app
        .post("/v1/auth/verify-email", json!({"token": link}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        signin_status(&app, "victim@example.com", PASSWORD).await,
        200
    );
    assert_eq!(
        signin_status(&app, "victim@example.com", SQUATTER).await,
        401
    );
}

#[tokio::test]
async fn a_password_reset_revokes_every_access_token() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let pat = create_pat(&app, &t.access, "write").await;
    assert_eq!(app.get_auth("/v1/me", &pat).await.status(), StatusCode::OK);

    app.post(
        "/v1/auth/password-reset",
        json!({"email": "ada@example.com"}),
    )
    .await;
    let token = app.mail_token("ada@example.com", "Reset").await;
    let res = app
        .post(
            "/v1/auth/password-reset/confirm",
            json!({"token": token, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_auth("/v1/me", &pat).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    problem(
        app.get_auth("/v1/me", &t.access).await,
        401,
        "/problems/unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_password_change_revokes_tokens_unless_asked_to_keep_them() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let pat = create_pat(&app, &t.access, "read").await;
    let change = |current: &'static str, new: &'static str, keep: Option<bool>| {
        let mut body = json!({"current_password": current, "new_password": new});
        if let Some(keep) = keep {
            body["revoke_tokens"] = json!(!keep);
        }
        app.anonymous()
            .request(Method::POST, "/v1/auth/password")
            .bearer_auth(&t.access)
            .json(&body)
            .send()
    };
    let res = change(PASSWORD, NEW_PASSWORD, Some(true)).await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_auth("/v1/me", &pat).await.status(),
        StatusCode::OK,
        "kept on request"
    );
    // The default revokes them.
    let res = change(NEW_PASSWORD, PASSWORD, None).await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        app.get_auth("/v1/me", &pat).await,
        401,
        "/problems/unauthorized",
    )
    .await;
    // This session survives its own change.
    assert_eq!(
        app.get_auth("/v1/me", &t.access).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_password_past_the_lockout() {
    let app = TestApp::spawn_with(&[
        ("MINIME_LOCKOUT_THRESHOLD", "2"),
        ("MINIME_LOCKOUT_BASE_SECONDS", "60"),
    ])
    .await;
    let t = app.user("ada@example.com").await;
    let change = |current: &'static str| {
        app.anonymous()
            .request(Method::POST, "/v1/auth/password")
            .bearer_auth(&t.access)
            .json(&json!({"current_password": current, "new_password": NEW_PASSWORD}))
            .send()
    };
    problem(
        change("guess-Number-0001-one").await.unwrap(),
        422,
        "/problems/validation",
    )
    .await;
    let res = app
        .client
        .delete(app.url("/v1/account"))
        .bearer_auth(&t.access)
        .json(&json!({"password": "guess-Number-0002-two"}))
        .send()
        .await
        .unwrap();
    problem(res, 422, "/problems/validation").await;
    // Two failures through either door lock both doors and sign-in, even for the right password.
    problem(
        change(PASSWORD).await.unwrap(),
        429,
        "/problems/account-locked",
    )
    .await;
    let res = app
        .client
        .delete(app.url("/v1/account"))
        .bearer_auth(&t.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    problem(res, 429, "/problems/account-locked").await;
    assert_eq!(signin_status(&app, "ada@example.com", PASSWORD).await, 429);
}

async fn signin_from(app: &TestApp, forwarded: &str, password: &str) -> Response {
    app.anonymous()
        .request(Method::POST, "/v1/auth/signin")
        .header("x-forwarded-for", forwarded)
        .json(&json!({"email": "ada@example.com", "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stranger_cannot_keep_an_address_locked_from_another_network() {
    let app = TestApp::spawn_with(&[
        ("MINIME_TRUSTED_PROXY_HOPS", "1"),
        ("MINIME_LOCKOUT_THRESHOLD", "3"),
        ("MINIME_LOCKOUT_ADDRESS_CEILING", "8"),
    ])
    .await;
    app.user("ada@example.com").await;
    for _ in 0..3 {
        let res = signin_from(&app, "203.0.113.9", "wrong-Guess-1234-x").await;
        problem(res, 401, "/problems/invalid-credentials").await;
    }
    // The attacker's network is locked, even with the right password...
    problem(
        signin_from(&app, "203.0.113.9", PASSWORD).await,
        429,
        "/problems/account-locked",
    )
    .await;
    // ...while the owner, elsewhere, signs in.
    let res = signin_from(&app, "198.51.100.7", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn guesses_spread_over_many_networks_meet_the_address_ceiling() {
    let app = TestApp::spawn_with(&[
        ("MINIME_TRUSTED_PROXY_HOPS", "1"),
        ("MINIME_LOCKOUT_THRESHOLD", "3"),
        ("MINIME_LOCKOUT_ADDRESS_CEILING", "4"),
    ])
    .await;
    app.user("ada@example.com").await;
    for n in 0..4 {
        let res = signin_from(&app, &format!("203.0.113.{n}"), "wrong-Guess-1234-x").await;
        problem(res, 401, "/problems/invalid-credentials").await;
    }
    // No single network reached its threshold, but the address as a whole did.
    problem(
        signin_from(&app, "198.51.100.7", PASSWORD).await,
        429,
        "/problems/account-locked",
    )
    .await;
}

#[tokio::test]
async fn a_client_cannot_choose_its_rate_limit_key_behind_a_proxy() {
    let app = TestApp::spawn_with(&[
        ("MINIME_TRUSTED_PROXY_HOPS", "1"),
        ("MINIME_RATE_LIMIT_SIGNIN", "3/300"),
    ])
    .await;
    // The client writes a new address each time; the proxy appends the real one.
    for n in 0..3 {
        let res = signin_from(&app, &format!("10.9.9.{n}, 203.0.113.5"), "x").await;
        problem(res, 401, "/problems/invalid-credentials").await;
    }
    problem(
        signin_from(&app, "10.9.9.200, 203.0.113.5", "x").await,
        429,
        "/problems/rate-limited",
    )
    .await;
    // Forwarded is not read unless configured.
    let res = app
        .client
        .post(app.url("/v1/auth/signin"))
        .header("x-forwarded-for", "203.0.113.5")
        .header("forwarded", "for=192.0.2.77")
        .json(&json!({"email": "ada@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    problem(res, 429, "/problems/rate-limited").await;
}

#[tokio::test]
async fn an_ipv6_client_is_limited_per_64_not_per_address() {
    let app = TestApp::spawn_with(&[
        ("MINIME_TRUSTED_PROXY_HOPS", "1"),
        ("MINIME_RATE_LIMIT_SIGNIN", "3/300"),
    ])
    .await;
    for n in 1..=3 {
        let res = signin_from(&app, &format!("2001:db8:aa:bb::{n:x}"), "x").await;
        problem(res, 401, "/problems/invalid-credentials").await;
    }
    problem(
        signin_from(&app, "2001:db8:aa:bb:ffff:1:2:3", "x").await,
        429,
        "/problems/rate-limited",
    )
    .await;
    // The neighbouring /64 is someone else.
    let res = signin_from(&app, "2001:db8:aa:bc::1", "x").await;
    problem(res, 401, "/problems/invalid-credentials").await;
}

#[tokio::test]
async fn an_access_token_cannot_switch_the_ai_consent() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let pat = create_pat(&app, &t.access, "write").await;
    let patch = |credential: &str, path: &str, body: Value| {
        app.anonymous()
            .request(Method::PATCH, path)
            .bearer_auth(credential)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string())
            .send()
    };
    let res = patch(&pat, "/v1/me", json!({"ai_enabled": true}))
        .await
        .unwrap();
    problem(res, 403, "/problems/insufficient-scope").await;
    let res = patch(&pat, "/v1/settings", json!({"ai_enabled": true}))
        .await
        .unwrap();
    problem(res, 403, "/problems/insufficient-scope").await;
    // Nothing changed, and the token still writes everything else.
    let me: Value = app
        .get_auth("/v1/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["ai_enabled"], false);
    let res = patch(&pat, "/v1/settings", json!({"max_block_minutes": 60}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The signed-in session gives consent; the token cannot withdraw it either.
    let res = patch(&t.access, "/v1/me", json!({"ai_enabled": true}))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = patch(&pat, "/v1/settings", json!({"ai_enabled": false}))
        .await
        .unwrap();
    problem(res, 403, "/problems/insufficient-scope").await;
    let res = app
        .client
        .delete(app.url("/v1/settings"))
        .bearer_auth(&pat)
        .send()
        .await
        .unwrap();
    problem(res, 403, "/problems/insufficient-scope").await;
}

#[tokio::test]
async fn invitations_cannot_mail_an_address_in_a_loop() {
    let app = TestApp::spawn_with(&[
        ("MINIME_RATE_LIMIT_INVITES", "4/86400"),
        ("MINIME_RATE_LIMIT_MAIL_PER_ADDRESS", "2/3600"),
    ])
    .await;
    let t = app.user("ada@example.com").await;
    minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "pro")
        .await
        .unwrap();
    let res = app
        .client
        .post(app.url("/v1/workspaces"))
        .bearer_auth(&t.access)
        .json(&json!({"name": "Family"}))
        .send()
        .await
        .unwrap();
    let ws: Value = res.json().await.unwrap();
    let wid = ws["id"].as_str().unwrap();
    let mut mailed = Vec::new();
    for n in 0..5 {
        let res = app
            .client
            .post(app.url(&format!("/v1/workspaces/{wid}/invites")))
            .bearer_auth(&t.access)
            .json(&json!({"email": "target@example.com"}))
            .send()
            .await
            .unwrap();
        if n == 4 {
            // Revoked invitations count: the daily budget is spent.
            problem(res, 429, "/problems/rate-limited").await;
            break;
        }
        assert_eq!(res.status(), StatusCode::CREATED);
        let invite: Value = res.json().await.unwrap();
        mailed.push(invite["mailed"].as_bool().unwrap());
        let res = app
            .client
            .delete(app.url(&format!(
                "/v1/workspaces/{wid}/invites/{}",
                invite["id"].as_str().unwrap()
            )))
            .bearer_auth(&t.access)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(mailed, [true, true, false, false]);
    app.mail_settled().await;
    let mut received = 0;
    while app.find_mail("target@example.com", "invited").is_some() {
        received += 1;
    }
    assert_eq!(received, 2, "the address's mail budget holds");
}

async fn export(app: &TestApp, access: &str) -> Response {
    app.anonymous()
        .request(Method::GET, "/v1/account/export")
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_export_at_a_time_per_account_across_instances() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let me: Value = app
        .get_auth("/v1/me", &t.access)
        .await
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap().to_owned();
    // Another instance holds this account's export lock.
    let other = app.admin().await;
    other
        .execute(
            &format!("SELECT pg_advisory_lock(1701869940, hashtext('{id}'))"),
            &[],
        )
        .await
        .unwrap();
    let res = export(&app, &t.access).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 409, "/problems/conflict").await;
    other
        .execute(
            &format!("SELECT pg_advisory_unlock(1701869940, hashtext('{id}'))"),
            &[],
        )
        .await
        .unwrap();
    let res = export(&app, &t.access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["complete"], true);
}

#[tokio::test]
async fn a_client_that_stops_reading_an_export_gives_its_connection_back() {
    let app = TestApp::spawn_with(&[
        ("MINIME_EXPORT_CONCURRENCY", "1"),
        ("MINIME_EXPORT_IDLE_TIMEOUT_MS", "700"),
    ])
    .await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    // Far more than the socket buffers hold, so a client that reads nothing stalls the stream.
    app.admin()
        .await
        .execute(
            "INSERT INTO app.tasks (id, workspace_id, created_by, title, notes) \
             SELECT gen_random_uuid(), w.id, w.owner_id, 'task ' || n, repeat('x', 19000) \
             FROM app.workspaces w JOIN auth.users u ON u.id = w.owner_id, generate_series(1, 3000) n \
             WHERE u.email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap();
    let stalled = export(&app, &ada.access).await;
    assert_eq!(stalled.status(), StatusCode::OK);
    // The only export slot is taken.
    let res = export(&app, &bob.access).await;
    assert!(res.headers().contains_key("retry-after"));
    problem(res, 503, "/problems/unavailable").await;
    // Past the idle timeout the stalled export is cut off and the slot is free again: polled
    // with a deadline, as a loaded machine may take a while to reach the stall.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let res = loop {
        let res = export(&app, &bob.access).await;
        if res.status() != StatusCode::SERVICE_UNAVAILABLE || std::time::Instant::now() > deadline {
            break res;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["complete"], true);
    // The stalled download ends short of `"complete": true`.
    let text = stalled.text().await.unwrap_or_default();
    assert!(!text.ends_with("\"complete\":true}"));
}

#[tokio::test]
async fn a_nul_character_in_any_text_is_a_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/projects"))
        .bearer_auth(&t.access)
        .header("content-type", "application/json")
        .body(r#"{"title":"Garden","notes":"weeds\u0000"}"#)
        .send()
        .await
        .unwrap();
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "notes");
    let res = app
        .client
        .get(app.url("/v1/tasks?status=todo&q=a%00b"))
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "q");
    // A lone surrogate is not JSON at all.
    let res = app
        .client
        .post(app.url("/v1/projects"))
        .bearer_auth(&t.access)
        .header("content-type", "application/json")
        .body(r#"{"title":"\ud800"}"#)
        .send()
        .await
        .unwrap();
    problem(res, 400, "/problems/malformed-json").await;
    // Nothing was written.
    assert_eq!(app.count("SELECT count(*) FROM app.projects").await, 0);
}

#[tokio::test]
async fn one_mailbox_is_one_account_however_it_is_spelt() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    // Full-width capitals fold (NFKC) to the same address: no second account, no second mail.
    let res = app
        .post(
            "/v1/auth/signup",
            json!({"email": "ＡＤＡ@EXAMPLE.COM", "password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert_eq!(app.count("SELECT count(*) FROM auth.users").await, 1);
    assert_eq!(signin_status(&app, " Ada@Example.com", PASSWORD).await, 200);
    assert_eq!(
        signin_status(&app, "ＡＤＡ@example.com", PASSWORD).await,
        200
    );
}

#[tokio::test]
async fn secure_cookies_carry_host_prefixes() {
    let app = TestApp::spawn_with(&[("MINIME_COOKIE_SECURE", "true")]).await;
    app.user("ada@example.com").await;
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": PASSWORD, "mode": "cookie"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("__Host-minime_access="))
        .expect("a __Host- access cookie");
    assert!(access.contains("Secure") && access.contains("Path=/") && !access.contains("Domain"));
    assert!(cookies.iter().any(|c| c.starts_with("__Host-minime_csrf=")));
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("__Secure-minime_refresh=") && c.contains("Path=/v1/auth")));
    // The prefixed cookie is the one read back; the unprefixed name is not.
    let value = access.split(';').next().unwrap().split_once('=').unwrap().1;
    let res = app
        .client
        .get(app.url("/v1/me"))
        .header("cookie", format!("__Host-minime_access={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .get(app.url("/v1/me"))
        .header("cookie", format!("minime_access={value}"))
        .send()
        .await
        .unwrap();
    problem(res, 401, "/problems/unauthorized").await;
}

/// Tables of the auth server and of operations that the server role still reads and writes
/// directly, each for a reason: everything else in `auth` and `ops` is reachable only through
/// the SECURITY DEFINER functions that guard it.
const DIRECT: &[(&str, &str)] = &[
    (
        "auth.users",
        "profiles; sign-in looks addresses up before anyone is known",
    ),
    (
        "auth.sessions",
        "checked on every request, by an id signed into the access token",
    ),
    (
        "auth.personal_access_tokens",
        "hashed; listed and revoked by their owner",
    ),
    ("auth.signin_failures", "counters keyed by hashes"),
    ("auth.admins", "read only: who may use the admin API"),
    ("ops.rate_limits", "counters keyed by hashes and networks"),
    (
        "auth.push_subscriptions",
        "forced row-level security: each user reaches only their own devices",
    ),
    (
        "auth.totp_factors",
        "forced row-level security: each user reaches only their own app; the secret is sealed",
    ),
    (
        "auth.recovery_codes",
        "forced row-level security: each user reaches only their own code hashes",
    ),
    (
        "auth.passkeys",
        "forced row-level security: each user reaches only their own public keys",
    ),
    (
        "auth.calendar_connections",
        "forced row-level security: each user reaches only their own calendar; the URL is sealed",
    ),
    (
        "auth.calendar_events",
        "forced row-level security: each user reaches only their own events",
    ),
    (
        "auth.gmail_accounts",
        "forced row-level security: each user reaches only their own connection; the token is sealed",
    ),
    (
        "auth.gmail_messages",
        "forced row-level security: each user reaches only their own messages",
    ),
    (
        "auth.gmail_oauth_states",
        "insert only, by their own user; taken back through auth.gmail_take_state",
    ),
];

#[tokio::test]
async fn the_server_role_cannot_read_mailed_links_refresh_tokens_stored_responses_or_mail() {
    let app = TestApp::spawn().await;
    // Something in every guarded table first: a mail, a link, a refresh token, a stored answer,
    // a ceremony's challenge.
    let t = app.user("ada@example.com").await;
    let res = app
        .client
        .post(app.url("/v1/tasks"))
        .bearer_auth(&t.access)
        .header("idempotency-key", "k-1")
        .json(&json!({"title": "Guarded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // A passkey sign-in under way keeps its challenge.
    let res = app.post("/v1/auth/passkey/options", json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let admin = app.admin().await;
    let granted: Vec<String> = admin
        .query(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname IN ('auth', 'ops') AND c.relkind IN ('r', 'p', 'v', 'm') \
               AND (has_table_privilege('minime_app', c.oid, 'SELECT') OR has_table_privilege('minime_app', c.oid, 'INSERT') \
                 OR has_table_privilege('minime_app', c.oid, 'UPDATE') OR has_table_privilege('minime_app', c.oid, 'DELETE') \
                 OR has_table_privilege('minime_app', c.oid, 'TRUNCATE') OR has_table_privilege('minime_app', c.oid, 'REFERENCES') \
                 OR has_table_privilege('minime_app', c.oid, 'TRIGGER')) \
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let allowed: Vec<&str> = DIRECT.iter().map(|(t, _)| *t).collect();
    for table in &granted {
        assert!(
            allowed.contains(&table.as_str()),
            "minime_app has a grant on {table}: reach it through a SECURITY DEFINER function, or list it with its reason"
        );
    }
    let app_db = crate::helpers::connect(&app.app_db_url).await;
    for table in [
        "auth.email_tokens",
        "auth.refresh_tokens",
        "auth.pending_steps",
        "ops.idempotency_keys",
        "ops.outbox",
    ] {
        let count: i64 = admin
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await
            .unwrap()
            .get(0);
        assert!(count > 0, "{table} holds rows for this test to guard");
        let err = app_db
            .query(&format!("SELECT * FROM {table}"), &[])
            .await
            .expect_err(table);
        assert!(
            err.to_string().contains("permission denied")
                || format!("{err:?}").contains("permission denied"),
            "{table}: {err:?}"
        );
    }
    // Every function reaching them runs with a pinned search path.
    let loose: Vec<String> = admin
        .query(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname IN ('auth', 'ops', 'app') AND p.prosecdef \
               AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        loose.is_empty(),
        "SECURITY DEFINER without search_path = pg_catalog, pg_temp: {loose:?}"
    );
}
