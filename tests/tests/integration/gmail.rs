//! Gmail (Max): the whole connection against a loopback Google written from RFC 6749, RFC 7636,
//! RFC 7009 and the Gmail API's reference alone. The fake checks what Google would: the client
//! id and secret, the redirect URI, the grant types, PKCE S256 (the verifier hashes to the
//! challenge of the consent URL), the Bearer token on every Gmail call and `format=metadata`;
//! anything else is recorded as a violation, and every test expects none.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{problem, TestApp, Tokens};

const CLIENT_ID: &str = "1234-minime.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-fake-client-secret";
const REDIRECT: &str = "http://127.0.0.1:9/v1/integrations/gmail/callback";
const WEB_APP: &str = "https://app.minime.example";
const GMAIL_READONLY: &str = "https://www.googleapis.com/auth/gmail.readonly";
/// Messages in the fake INBOX: more than a sync keeps.
const INBOX: usize = 35;

#[derive(Default)]
struct State {
    /// Codes handed out at consent: their PKCE challenge, and whether one was exchanged.
    codes: HashMap<String, (String, bool)>,
    /// Live refresh tokens and the mailbox each reads.
    refresh: HashMap<String, String>,
    /// Live access tokens and their refresh token.
    access: HashMap<String, String>,
    /// Every token ever issued, to look for in a database dump.
    issued: Vec<String>,
    revoked: Vec<String>,
    /// Refresh tokens the user withdrew at Google (answered `invalid_grant`).
    withdrawn: HashSet<String>,
    fail_revoke: bool,
    /// The scope a consent grants, when not the one asked for (a box left unticked).
    granted: Option<String>,
    exchanges: usize,
    violations: Vec<String>,
    next: usize,
}

impl State {
    fn token(&mut self, prefix: &str) -> String {
        self.next += 1;
        let token = format!("{prefix}-{}-{}", self.next, uuid::Uuid::now_v7().simple());
        self.issued.push(token.clone());
        token
    }
}

#[derive(Clone)]
struct FakeGoogle {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn token_answer(access: &str, refresh: Option<&str>, scope: &str) -> HttpResponse {
    let mut body = json!({
        "access_token": access, "expires_in": 3599, "token_type": "Bearer", "scope": scope
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = json!(refresh);
    }
    HttpResponse::Ok().json(body)
}

fn oauth_error(error: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": error}))
}

async fn token(
    state: web::Data<Arc<Mutex<State>>>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let f = form.into_inner();
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        s.violations.push(format!("token: wrong client {f:?}"));
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    match field("grant_type").as_str() {
        "authorization_code" => {
            s.exchanges += 1;
            if field("redirect_uri") != REDIRECT {
                s.violations
                    .push(format!("token: redirect_uri {}", field("redirect_uri")));
                return oauth_error("redirect_uri_mismatch");
            }
            let Some((challenge, used)) = s.codes.get(&field("code")).cloned() else {
                return oauth_error("invalid_grant");
            };
            let verifier = field("code_verifier");
            if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
                s.violations
                    .push("token: the verifier does not hash to the challenge".into());
                return oauth_error("invalid_grant");
            }
            if used {
                s.violations.push("token: a code exchanged twice".into());
                return oauth_error("invalid_grant");
            }
            s.codes.get_mut(&field("code")).unwrap().1 = true;
            let refresh = s.token("1//rt");
            let access = s.token("ya29.at");
            s.refresh.insert(refresh.clone(), "ada@gmail.com".into());
            s.access.insert(access.clone(), refresh.clone());
            let scope = s.granted.clone().unwrap_or(GMAIL_READONLY.into());
            token_answer(&access, Some(&refresh), &scope)
        }
        "refresh_token" => {
            let refresh = field("refresh_token");
            if s.withdrawn.contains(&refresh) || !s.refresh.contains_key(&refresh) {
                return oauth_error("invalid_grant");
            }
            let access = s.token("ya29.at");
            s.access.insert(access.clone(), refresh);
            token_answer(&access, None, GMAIL_READONLY)
        }
        other => {
            s.violations.push(format!("token: grant_type {other:?}"));
            oauth_error("unsupported_grant_type")
        }
    }
}

async fn revoke(
    state: web::Data<Arc<Mutex<State>>>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let mut s = state.lock().unwrap();
    if s.fail_revoke {
        return HttpResponse::ServiceUnavailable().finish();
    }
    let token = form.get("token").cloned().unwrap_or_default();
    if s.refresh.remove(&token).is_none() {
        return oauth_error("invalid_token");
    }
    s.access.retain(|_, r| *r != token);
    s.revoked.push(token);
    HttpResponse::Ok().finish()
}

/// The mailbox a Gmail call may read (`None`: Google would answer 401).
fn bearer(s: &mut State, req: &HttpRequest) -> Option<String> {
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let live = header
        .strip_prefix("Bearer ")
        .and_then(|t| s.access.get(t))
        .and_then(|r| s.refresh.get(r))
        .cloned();
    if live.is_none() {
        s.violations
            .push(format!("gmail: {} without a live Bearer token", req.path()));
    }
    live
}

async fn gmail(state: web::Data<Arc<Mutex<State>>>, req: HttpRequest) -> HttpResponse {
    let mut s = state.lock().unwrap();
    let Some(address) = bearer(&mut s, &req) else {
        return HttpResponse::Unauthorized().json(json!({"error": {"code": 401}}));
    };
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let has = |k: &str, v: &str| query.iter().any(|(a, b)| a == k && b == v);
    let path = req.path().trim_start_matches("/gmail/v1/users/me/");
    match path {
        "profile" => HttpResponse::Ok().json(json!({
            "emailAddress": address, "messagesTotal": INBOX, "threadsTotal": INBOX, "historyId": "1"
        })),
        "messages" => {
            if !has("labelIds", "INBOX") || !has("maxResults", "30") {
                s.violations.push(format!("gmail: list {query:?}"));
            }
            let max: usize = query
                .iter()
                .find(|(k, _)| k == "maxResults")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(100);
            let messages: Vec<Value> = (1..=INBOX.min(max))
                .map(|i| json!({"id": format!("m{i:02}"), "threadId": format!("t{i:02}")}))
                .collect();
            HttpResponse::Ok().json(json!({"messages": messages, "resultSizeEstimate": INBOX}))
        }
        id => {
            let id = id.trim_start_matches("messages/");
            if !has("format", "metadata")
                || !["Subject", "From", "Date"]
                    .iter()
                    .all(|h| has("metadataHeaders", h))
            {
                s.violations.push(format!("gmail: get {id} {query:?}"));
            }
            let n: i64 = id.trim_start_matches('m').parse().unwrap_or(0);
            // m01 is the newest, a minute apart.
            let at = 1_796_112_000_000i64 - n * 60_000;
            HttpResponse::Ok().json(json!({
                "id": id, "threadId": format!("t{n:02}"), "labelIds": ["INBOX"],
                "snippet": format!("Note {n} &amp; Grace&#39;s reply"),
                "internalDate": at.to_string(),
                "payload": {"headers": [
                    {"name": "From", "value": format!("Grace <grace{n}@example.com>")},
                    {"name": "Subject", "value": format!("Subject {n}")},
                    {"name": "Date", "value": "Tue, 1 Dec 2026 08:00:00 +0000"}
                ]}
            }))
        }
    }
}

impl FakeGoogle {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .route("/token", web::post().to(token))
                .route("/revoke", web::post().to(revoke))
                .route("/gmail/v1/users/me/{rest:.*}", web::get().to(gmail))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        tokio::spawn(server.run());
        Self { addr, state }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The server's variables pointing at this Google.
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MINIME_GOOGLE_CLIENT_ID", CLIENT_ID.into()),
            ("MINIME_GOOGLE_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("MINIME_GOOGLE_AUTH_URL", self.url("/o/oauth2/v2/auth")),
            ("MINIME_GOOGLE_TOKEN_URL", self.url("/token")),
            ("MINIME_GOOGLE_REVOKE_URL", self.url("/revoke")),
            ("MINIME_GMAIL_API_URL", self.url("/gmail/v1")),
            ("MINIME_GOOGLE_REDIRECT_URL", REDIRECT.into()),
            ("MINIME_APP_URL", WEB_APP.into()),
            ("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true".into()),
        ]
    }

    /// What Google's consent page does when the user agrees: checks the consent URL and
    /// answers the code and state the browser is sent back with.
    fn consent(&self, consent_url: &str) -> (String, String) {
        let url = url::Url::parse(consent_url).unwrap();
        assert_eq!(
            url.as_str().split('?').next().unwrap(),
            self.url("/o/oauth2/v2/auth")
        );
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        for (k, v) in [
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("scope", GMAIL_READONLY),
            ("access_type", "offline"),
            ("prompt", "consent"),
            ("code_challenge_method", "S256"),
        ] {
            assert_eq!(
                q.get(k).map(String::as_str),
                Some(v),
                "{k} in {consent_url}"
            );
        }
        assert!(!q.contains_key("client_secret"));
        let challenge = q["code_challenge"].clone();
        assert_eq!(URL_SAFE_NO_PAD.decode(&challenge).unwrap().len(), 32);
        let code = format!("4/code-{}", uuid::Uuid::now_v7().simple());
        self.state
            .lock()
            .unwrap()
            .codes
            .insert(code.clone(), (challenge, false));
        (code, q["state"].clone())
    }

    fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }

    fn live_refresh_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().refresh.keys().cloned().collect()
    }

    fn withdraw_all(&self) {
        let mut s = self.state.lock().unwrap();
        let all: Vec<String> = s.refresh.keys().cloned().collect();
        s.withdrawn.extend(all);
    }

    fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }
}

async fn spawn(google: &FakeGoogle, extra: &[(&str, &str)]) -> TestApp {
    let vars = google.vars();
    let mut all: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    TestApp::spawn_with(&all).await
}

async fn max_user(app: &TestApp, email: &str) -> Tokens {
    let t = app.user(email).await;
    minime_api::admin::cli::set_plan(&app.admin_url, email, "max")
        .await
        .unwrap();
    t
}

fn callback_path(code: &str, state: &str) -> String {
    format!(
        "/v1/integrations/gmail/callback?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", code)
            .append_pair("state", state)
            .append_pair("scope", "https://www.googleapis.com/auth/gmail.readonly")
            .finish()
    )
}

/// Where the callback sends the browser.
async fn callback(app: &TestApp, path: &str) -> String {
    let res = app.anonymous().send(Method::GET, path, None, &[]).await;
    assert_eq!(res.status().as_u16(), 303, "{path}");
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn connected() -> String {
    format!("{WEB_APP}/settings/integrations?gmail=connected")
}

fn failed(reason: &str) -> String {
    format!("{WEB_APP}/settings/integrations?gmail=error&reason={reason}")
}

/// Consent given for `t`: the mailbox is connected.
async fn connect(app: &TestApp, google: &FakeGoogle, t: &Tokens) -> (String, String) {
    let consent = app
        .signed_in(t)
        .ok(Method::POST, "/v1/integrations/gmail/authorize", None)
        .await;
    let (code, state) = google.consent(consent["url"].as_str().unwrap());
    assert_eq!(
        callback(app, &callback_path(&code, &state)).await,
        connected()
    );
    (code, state)
}

/// The test database as `pg_dump` writes it (as the superuser: every row).
async fn dump(app: &TestApp) -> String {
    let url = app.admin_url.clone();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("/usr/lib/postgresql/15/bin/pg_dump")
            .arg("--data-only")
            .arg(&url)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn connect_sync_list_and_disconnect() {
    let google = FakeGoogle::start().await;
    let app = spawn(&google, &[]).await;
    let a = max_user(&app, "ada@example.com").await;
    let b = max_user(&app, "bob@example.com").await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let nothing = ada.get("/v1/integrations/gmail").await;
    assert_eq!(nothing["connected"], false);
    assert_eq!(nothing["message_count"], 0);

    let (code, state) = connect(&app, &google, &a).await;
    let status = ada.get("/v1/integrations/gmail").await;
    assert_eq!(status["connected"], true);
    assert_eq!(status["address"], "ada@gmail.com");
    assert_eq!(status["last_sync_at"], Value::Null);
    assert!(status.get("refresh_token").is_none());

    // The state was good once.
    assert_eq!(
        callback(&app, &callback_path(&code, &state)).await,
        failed("invalid_state")
    );
    assert_eq!(google.state.lock().unwrap().exchanges, 1);

    let synced = ada
        .ok(Method::POST, "/v1/integrations/gmail/sync", None)
        .await;
    assert_eq!(synced["connected"], true);
    assert_eq!(synced["message_count"], 30);
    assert!(synced["last_sync_at"].is_string());
    let page = ada.get("/v1/email/messages").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 30);
    assert_eq!(items[0]["gmail_id"], "m01");
    assert_eq!(items[0]["sender"], "Grace <grace1@example.com>");
    assert_eq!(items[0]["subject"], "Subject 1");
    assert_eq!(items[0]["snippet"], "Note 1 & Grace's reply");
    assert_eq!(items[0]["received_at"], "2026-12-01T07:59:00Z");
    assert_eq!(items[29]["gmail_id"], "m30");
    assert!(items
        .windows(2)
        .all(|w| w[0]["received_at"].as_str() > w[1]["received_at"].as_str()));
    // A second sync replaces, it does not add.
    let again = ada
        .ok(Method::POST, "/v1/integrations/gmail/sync", None)
        .await;
    assert_eq!(again["message_count"], 30);

    // Bob sees none of it, and cannot touch Ada's connection.
    assert_eq!(bob.get("/v1/integrations/gmail").await["connected"], false);
    assert_eq!(bob.get("/v1/email/messages").await["items"], json!([]));
    let res = bob
        .send(Method::POST, "/v1/integrations/gmail/sync", None, &[])
        .await;
    problem(res, 409, "/problems/integration-disconnected").await;
    let res = bob
        .send(Method::DELETE, "/v1/integrations/gmail", None, &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
    let app_db = crate::helpers::connect(&app.app_db_url).await;
    let unscoped: i64 = app_db
        .query_one(
            "SELECT (SELECT count(*) FROM auth.gmail_messages) + (SELECT count(*) FROM auth.gmail_accounts)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(unscoped, 0, "the server role sees rows without a user set");

    // No token in clear in a dump of the database; the rows are there.
    let text = dump(&app).await;
    assert!(text.contains("ada@gmail.com") && text.contains("Subject 1"));
    let issued = google.issued();
    assert!(issued.len() >= 3);
    for token in &issued {
        assert!(!text.contains(token.as_str()), "the dump holds {token}");
    }

    let refresh = google.live_refresh_tokens();
    let gone = ada.ok(Method::DELETE, "/v1/integrations/gmail", None).await;
    assert_eq!(gone, json!({"revoked": true}));
    assert_eq!(google.state.lock().unwrap().revoked, refresh);
    assert_eq!(
        app.count("SELECT (SELECT count(*) FROM auth.gmail_accounts) + (SELECT count(*) FROM auth.gmail_messages)")
            .await,
        0
    );
    assert_eq!(ada.get("/v1/integrations/gmail").await["connected"], false);
    assert_eq!(ada.get("/v1/email/messages").await["items"], json!([]));
    assert_eq!(google.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn unknown_expired_refused_and_replayed_states_connect_nothing() {
    let google = FakeGoogle::start().await;
    let app = spawn(&google, &[]).await;
    let a = max_user(&app, "ada@example.com").await;
    let ada = app.signed_in(&a);

    for path in [
        "/v1/integrations/gmail/callback",
        "/v1/integrations/gmail/callback?code=4/x&state=",
        "/v1/integrations/gmail/callback?code=4/x&state=never-issued",
    ] {
        assert_eq!(
            callback(&app, path).await,
            failed("invalid_state"),
            "{path}"
        );
    }

    // Refused at Google: the state is spent all the same.
    let consent = ada
        .ok(Method::POST, "/v1/integrations/gmail/authorize", None)
        .await;
    let (_, state) = google.consent(consent["url"].as_str().unwrap());
    let denied = format!("/v1/integrations/gmail/callback?error=access_denied&state={state}");
    assert_eq!(callback(&app, &denied).await, failed("denied"));
    assert_eq!(callback(&app, &denied).await, failed("invalid_state"));

    // Consent given without reading mail: nothing is connected and the grant goes back.
    google.state.lock().unwrap().granted = Some("openid".into());
    let consent = ada
        .ok(Method::POST, "/v1/integrations/gmail/authorize", None)
        .await;
    let (code, unticked) = google.consent(consent["url"].as_str().unwrap());
    assert_eq!(
        callback(&app, &callback_path(&code, &unticked)).await,
        failed("denied")
    );
    assert_eq!(google.state.lock().unwrap().exchanges, 1);
    assert_eq!(google.state.lock().unwrap().revoked.len(), 1);
    assert!(google.live_refresh_tokens().is_empty());
    assert_eq!(ada.get("/v1/integrations/gmail").await["connected"], false);

    // Ten minutes to come back.
    let consent = ada
        .ok(Method::POST, "/v1/integrations/gmail/authorize", None)
        .await;
    let (code, state) = google.consent(consent["url"].as_str().unwrap());
    app.advance_when_idle(Duration::from_secs(10 * 60 + 1))
        .await;
    assert_eq!(
        callback(&app, &callback_path(&code, &state)).await,
        failed("invalid_state")
    );
    assert_eq!(google.state.lock().unwrap().exchanges, 1);
    assert_eq!(ada.get("/v1/integrations/gmail").await["connected"], false);

    // States are kept as hashes only, and the daily cleanup removes the expired ones.
    let admin = app.admin().await;
    let kept: i64 = admin
        .query_one(
            "SELECT count(*) FROM auth.gmail_oauth_states WHERE state_hash = sha256(convert_to($1, 'UTF8'))",
            &[&state],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 1);
    let text = dump(&app).await;
    assert!(!text.contains(&state));
    admin
        .query(
            "SELECT * FROM ops.cleanup($1::text::timestamptz)",
            &[&app.clock.now().to_rfc3339()],
        )
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT count(*) FROM auth.gmail_oauth_states")
            .await,
        0
    );
    assert_eq!(google.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn only_max_connects_and_a_downgrade_disconnects_at_the_next_sync() {
    let google = FakeGoogle::start().await;
    let app = spawn(&google, &[]).await;
    let p = app.user("pat@example.com").await;
    minime_api::admin::cli::set_plan(&app.admin_url, "pat@example.com", "pro")
        .await
        .unwrap();
    let res = app
        .signed_in(&p)
        .send(Method::POST, "/v1/integrations/gmail/authorize", None, &[])
        .await;
    problem(res, 403, "/problems/plan-required").await;

    let a = max_user(&app, "ada@example.com").await;
    let ada = app.signed_in(&a);
    connect(&app, &google, &a).await;
    ada.ok(Method::POST, "/v1/integrations/gmail/sync", None)
        .await;
    let refresh = google.live_refresh_tokens();
    minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "pro")
        .await
        .unwrap();
    let res = ada
        .send(Method::POST, "/v1/integrations/gmail/sync", None, &[])
        .await;
    problem(res, 403, "/problems/plan-required").await;
    assert_eq!(
        app.count("SELECT (SELECT count(*) FROM auth.gmail_accounts) + (SELECT count(*) FROM auth.gmail_messages)")
            .await,
        0
    );
    assert_eq!(google.state.lock().unwrap().revoked, refresh);
    assert_eq!(google.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn without_a_google_client_the_integration_says_so_with_a_4xx() {
    let app = TestApp::spawn().await;
    let a = max_user(&app, "ada@example.com").await;
    let ada = app.signed_in(&a);
    for (method, path) in [
        (Method::POST, "/v1/integrations/gmail/authorize"),
        (Method::POST, "/v1/integrations/gmail/sync"),
        (
            Method::GET,
            "/v1/integrations/gmail/callback?code=c&state=s",
        ),
    ] {
        let res = ada.send(method, path, None, &[]).await;
        problem(res, 409, "/problems/integration-not-configured").await;
    }
    assert_eq!(ada.get("/v1/integrations/gmail").await["connected"], false);
    assert_eq!(ada.get("/v1/email/messages").await["items"], json!([]));
}

#[tokio::test]
async fn a_failed_revoke_still_deletes_ours_and_says_so() {
    let google = FakeGoogle::start().await;
    let app = spawn(&google, &[]).await;
    let a = max_user(&app, "ada@example.com").await;
    let ada = app.signed_in(&a);
    connect(&app, &google, &a).await;
    ada.ok(Method::POST, "/v1/integrations/gmail/sync", None)
        .await;
    google.state.lock().unwrap().fail_revoke = true;
    let gone = ada.ok(Method::DELETE, "/v1/integrations/gmail", None).await;
    assert_eq!(gone, json!({"revoked": false}));
    assert_eq!(
        app.count("SELECT (SELECT count(*) FROM auth.gmail_accounts) + (SELECT count(*) FROM auth.gmail_messages)")
            .await,
        0
    );
    assert_eq!(google.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn access_withdrawn_at_google_disconnects_and_asks_to_reconnect() {
    let google = FakeGoogle::start().await;
    let app = spawn(&google, &[]).await;
    let a = max_user(&app, "ada@example.com").await;
    let ada = app.signed_in(&a);
    connect(&app, &google, &a).await;
    ada.ok(Method::POST, "/v1/integrations/gmail/sync", None)
        .await;
    google.withdraw_all();
    let res = ada
        .send(Method::POST, "/v1/integrations/gmail/sync", None, &[])
        .await;
    let body = problem(res, 409, "/problems/integration-disconnected").await;
    assert!(body["detail"].as_str().unwrap().contains("again"), "{body}");
    let status = ada.get("/v1/integrations/gmail").await;
    assert_eq!(status["connected"], false);
    assert_eq!(status["message_count"], 0);
    assert!(status["last_error"]
        .as_str()
        .unwrap()
        .contains("invalid_grant"));
    assert_eq!(
        app.count("SELECT count(*) FROM auth.gmail_accounts WHERE refresh_token IS NOT NULL")
            .await,
        0
    );
    // Syncing again asks the same without asking Google; reconnecting works.
    let res = ada
        .send(Method::POST, "/v1/integrations/gmail/sync", None, &[])
        .await;
    problem(res, 409, "/problems/integration-disconnected").await;
    connect(&app, &google, &a).await;
    let synced = ada
        .ok(Method::POST, "/v1/integrations/gmail/sync", None)
        .await;
    assert_eq!(synced["connected"], true);
    assert_eq!(synced["last_error"], Value::Null);
    assert_eq!(google.violations(), Vec::<String>::new());
}

/// `minime secrets rotate` reseals refresh tokens and pending verifiers too, and a server that
/// knows only the new key still syncs.
#[tokio::test]
async fn rotation_reseals_gmail_tokens_and_verifiers() {
    use minime_api::secrets::KeyRing;
    let google = FakeGoogle::start().await;
    let (old, new) = (KeyRing::generate("old"), KeyRing::generate("new"));
    let app = spawn(&google, &[("MINIME_SECRET_KEYS", old.as_str())]).await;
    let a = max_user(&app, "ada@example.com").await;
    connect(&app, &google, &a).await;
    // A consent under way.
    app.signed_in(&a)
        .ok(Method::POST, "/v1/integrations/gmail/authorize", None)
        .await;
    let kids = "SELECT string_agg(convert_from(substring(s from 2 for get_byte(s, 0)), 'UTF8'), ',' ORDER BY 1) FROM ( \
                SELECT refresh_token AS s FROM auth.gmail_accounts \
                UNION ALL SELECT verifier FROM auth.gmail_oauth_states WHERE used_at IS NULL) x";
    let admin = app.admin().await;
    assert_eq!(
        admin
            .query_one(kids, &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "old,old"
    );
    let mut vars: HashMap<String, String> = google
        .vars()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    for (k, v) in [
        ("DATABASE_URL", app.admin_url.as_str()),
        ("MINIME_LISTEN", "127.0.0.1:0"),
        ("MINIME_WORKERS", "1"),
        ("MINIME_JOB_WORKERS", "0"),
        ("MINIME_DB_POOL_SIZE", "2"),
        ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
    ] {
        vars.insert(k.to_owned(), v.to_owned());
    }
    vars.insert("MINIME_SECRET_KEYS".into(), format!("{new},{old}"));
    let both = minime_api::config::Config::from_vars(&vars).unwrap();
    let first = minime_api::admin::cli::rotate_secrets(&both).await.unwrap();
    assert!(first >= 2, "{first}");
    assert_eq!(
        admin
            .query_one(kids, &[])
            .await
            .unwrap()
            .get::<_, String>(0),
        "new,new"
    );
    assert_eq!(
        minime_api::admin::cli::rotate_secrets(&both).await.unwrap(),
        0
    );

    vars.insert("MINIME_SECRET_KEYS".into(), new.to_string());
    let only_new = minime_api::config::Config::from_vars(&vars).unwrap();
    let server = minime_api::server::start(only_new).await.unwrap();
    let base = format!("http://{}", server.addr);
    tokio::spawn(server.server);
    let res = app
        .client
        .post(format!("{base}/v1/integrations/gmail/sync"))
        .bearer_auth(&a.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let synced: Value = res.json().await.unwrap();
    assert_eq!(synced["message_count"], 30);
    assert_eq!(google.violations(), Vec::<String>::new());
}
