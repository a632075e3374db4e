//! A real server on a loopback port, over its own database cloned from a migrated template.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tokio::sync::OnceCell;
use tokio_postgres::NoTls;

pub const PASSWORD: &str = "tangerine-Orbit-4417-lamp";
pub const JWT_SECRET: &str = "test-secret-for-minime-integration-tests-0123456789";

/// FNV-1a: stable across runs and machines, unlike `DefaultHasher`.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

fn admin_url() -> String {
    std::env::var("MINIME_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .expect("set MINIME_TEST_DATABASE_URL (a superuser login), or run scripts/test")
}

fn with_db(url: &str, db: &str) -> String {
    let mut url = url::Url::parse(url).expect("database URL");
    url.set_path(&format!("/{db}"));
    url.into()
}

fn as_app(url: &str) -> String {
    let mut url = url::Url::parse(url).expect("database URL");
    url.set_username("minime_app").unwrap();
    url.set_password(None).unwrap();
    url.into()
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    tokio::spawn(connection);
    client
}

fn migrations_fingerprint() -> u64 {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| {
            std::fs::read_dir(d.unwrap().path())
                .unwrap()
                .map(|f| f.unwrap().path())
        })
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        all.extend(f.to_string_lossy().bytes());
        all.extend(std::fs::read(f).unwrap());
    }
    fingerprint(&all)
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The migrated template, made once per migration set; test databases of dead processes are
/// dropped on the way.
async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let admin = connect(&admin_url()).await;
            admin
                .execute("SELECT pg_advisory_lock(4242)", &[])
                .await
                .unwrap();
            let name = format!("minime_tpl_{:016x}", migrations_fingerprint());
            let rows = admin
                .query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'minime_t%'",
                    &[],
                )
                .await
                .unwrap();
            let existing: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            for db in &existing {
                let dead = match db
                    .strip_prefix("minime_t_")
                    .and_then(|rest| rest.split('_').next())
                {
                    Some(pid) => !std::path::Path::new(&format!("/proc/{pid}")).exists(),
                    None => db.starts_with("minime_tpl_") && *db != name,
                };
                if dead {
                    let _ = admin
                        .execute(&format!("DROP DATABASE IF EXISTS \"{db}\""), &[])
                        .await;
                }
            }
            if !existing.contains(&name) {
                let building = format!("{name}_building");
                let _ = admin
                    .execute(&format!("DROP DATABASE IF EXISTS \"{building}\""), &[])
                    .await;
                admin
                    .execute(&format!("CREATE DATABASE \"{building}\""), &[])
                    .await
                    .unwrap();
                // The admin id key test servers are configured with; `migrate` stores it.
                let vars: HashMap<String, String> = [
                    ("DATABASE_URL".to_owned(), admin_url()),
                    ("MINIME_JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
                ]
                .into();
                let key = minime_api::config::Config::from_vars(&vars)
                    .unwrap()
                    .admin_id_key;
                minime_api::db::migrate::run(&with_db(&admin_url(), &building), None, Some(key))
                    .await
                    .unwrap();
                admin
                    .execute(
                        &format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
                        &[],
                    )
                    .await
                    .unwrap();
            }
            admin
                .execute("SELECT pg_advisory_unlock(4242)", &[])
                .await
                .unwrap();
            name
        })
        .await
        .clone()
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin_url: String,
    pub app_db_url: String,
    pub mail_dir: tempfile::TempDir,
    /// The file store's folder.
    pub file_dir: tempfile::TempDir,
    /// The server's clock: tests move it forward instead of sleeping.
    pub clock: minime_api::clock::Clock,
    jobs: minime_api::common::jobs::worker::Wake,
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub session_id: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// `overrides` are extra MINIME_* variables for this server.
    pub async fn spawn_with(overrides: &[(&str, &str)]) -> Self {
        let template = template().await;
        let db = format!(
            "minime_t_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin = connect(&admin_url()).await;
        // A template may be briefly busy while another test clones it.
        let mut tries = 0;
        loop {
            match admin
                .execute(
                    &format!("CREATE DATABASE \"{db}\" TEMPLATE \"{template}\""),
                    &[],
                )
                .await
            {
                Ok(_) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("creating {db}: {e}"),
            }
        }
        let admin_url = with_db(&admin_url(), &db);
        // A database ACL is not copied from its template.
        connect(&admin_url)
            .await
            .batch_execute(minime_api::db::migrate::REVOKE_TEMPORARY)
            .await
            .unwrap();
        let mail_dir = tempfile::tempdir().unwrap();
        let file_dir = tempfile::tempdir().unwrap();
        let mut vars: HashMap<String, String> = [
            ("DATABASE_URL", admin_url.as_str()),
            ("MINIME_LISTEN", "127.0.0.1:0"),
            ("MINIME_WORKERS", "1"),
            ("MINIME_DB_POOL_SIZE", "4"),
            ("MINIME_JWT_SECRET", JWT_SECRET),
            ("MINIME_MAIL_DIR", mail_dir.path().to_str().unwrap()),
            ("MINIME_FILE_DIR", file_dir.path().to_str().unwrap()),
            ("MINIME_PASSWORD_HASH_CONCURRENCY", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in overrides {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = minime_api::config::Config::from_vars(&vars).unwrap();
        let running = minime_api::server::start(config).await.unwrap();
        let base = format!("http://{}", running.addr);
        let clock = running.state.clock.clone();
        let jobs = running.state.jobs.clone();
        tokio::spawn(running.server);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            base,
            client,
            app_db_url: as_app(&admin_url),
            admin_url,
            mail_dir,
            file_dir,
            clock,
            jobs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Moves the server's clock forward once no job is held by a worker: a job still running
    /// when the clock jumps past its lease would be claimed, and run, a second time.
    pub async fn advance_when_idle(&self, by: Duration) {
        let admin = self.admin().await;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let held: i64 = admin
                .query_one(
                    "SELECT count(*) FROM ops.jobs WHERE done_at IS NULL AND dead_at IS NULL
                       AND locked_until > $1::text::timestamptz",
                    &[&self.clock.now().to_rfc3339()],
                )
                .await
                .unwrap()
                .get(0);
            if held == 0 || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.clock.advance(by);
    }

    /// Wakes the server's job workers now rather than at their next poll.
    pub fn wake_jobs(&self) {
        self.jobs.wake();
    }

    pub fn signed_in(&self, t: &Tokens) -> Client<'_> {
        self.bearer(&t.access)
    }

    pub fn bearer(&self, token: &str) -> Client<'_> {
        Client {
            app: self,
            token: Some(token.to_owned()),
        }
    }

    pub fn anonymous(&self) -> Client<'_> {
        Client {
            app: self,
            token: None,
        }
    }

    /// An anonymous POST.
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.anonymous()
            .send(Method::POST, path, Some(&body), &[])
            .await
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.bearer(token).send(Method::GET, path, None, &[]).await
    }

    pub async fn admin(&self) -> tokio_postgres::Client {
        connect(&self.admin_url).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.admin().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    /// Waits for the next mail to `to` whose subject contains `subject`, and returns its body.
    pub async fn mail(&self, to: &str, subject: &str) -> String {
        for _ in 0..100 {
            if let Some(body) = self.find_mail(to, subject) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail to {to} about {subject:?}");
    }

    pub fn find_mail(&self, to: &str, subject: &str) -> Option<String> {
        let mut found = None;
        for entry in std::fs::read_dir(self.mail_dir.path()).ok()? {
            let path = entry.ok()?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("eml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).ok()?;
            if text.contains(&format!("To: {to}")) && text.contains(subject) {
                found = Some((path.clone(), text));
            }
        }
        // Consumed, so that the next call waits for a new message.
        found.map(|(path, text)| {
            std::fs::remove_file(path).unwrap();
            text
        })
    }

    /// Waits until the outbox has nothing left to send (every mail sent or given up).
    pub async fn mail_settled(&self) {
        for _ in 0..200 {
            if self
                .count(
                    "SELECT count(*) FROM ops.outbox WHERE sent_at IS NULL AND failed_at IS NULL",
                )
                .await
                == 0
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let queued = self
            .admin()
            .await
            .query(
                "SELECT (to_jsonb(o) - 'body_text')::text FROM ops.outbox o WHERE sent_at IS NULL AND failed_at IS NULL",
                &[],
            )
            .await
            .unwrap();
        panic!(
            "mail still queued: {:?}",
            queued
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
        );
    }

    /// Moves the server's clock forward, and answers tokens for `t`'s session that are live
    /// then (the access token lives 15 minutes).
    pub async fn advance(&self, by: Duration, t: &Tokens) -> Tokens {
        self.clock.advance(by);
        let res = self
            .post("/v1/auth/refresh", json!({"refresh_token": t.refresh}))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "refresh after moving the clock"
        );
        tokens(res.json().await.unwrap())
    }

    pub async fn mail_token(&self, to: &str, subject: &str) -> String {
        token_in(&self.mail(to, subject).await)
    }

    pub async fn signup(&self, email: &str) -> Response {
        self.post(
            "/v1/auth/signup",
            json!({"email": email, "password": PASSWORD}),
        )
        .await
    }

    /// Signs up, verifies through the mailed link and signs in.
    pub async fn user(&self, email: &str) -> Tokens {
        assert_eq!(self.signup(email).await.status(), StatusCode::ACCEPTED);
        let token = self.mail_token(email, "Confirm your email").await;
        let res = self
            .post("/v1/auth/verify-email", json!({"token": token}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        self.signin(email, PASSWORD).await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Tokens {
        let res = self
            .post(
                "/v1/auth/signin",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
        tokens(res.json().await.unwrap())
    }
}

pub fn tokens(body: Value) -> Tokens {
    Tokens {
        access: body["access_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        session_id: body["session_id"].as_str().unwrap().to_owned(),
    }
}

/// Undoes quoted-printable (RFC 2045), which mail uses for lines over 76 characters.
fn unquote(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            joined
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

pub fn token_in(mail: &str) -> String {
    let mail = unquote(mail);
    let start = mail.find("token=").expect("a token= link") + "token=".len();
    mail[start..]
        .split(|c: char| c.is_whitespace() || c == '&')
        .next()
        .unwrap()
        .to_owned()
}

/// Asserts a problem+json answer and returns it.
pub async fn problem(res: Response, status: u16, kind: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let header_id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["type"], kind, "{body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string());
    assert_eq!(
        body["request_id"].as_str(),
        header_id.as_deref(),
        "request_id matches X-Request-Id"
    );
    body
}

/// A new user's today: UTC, after the default day boundary of 03:00.
pub fn user_today() -> chrono::NaiveDate {
    minime_api::planner::day::local_date(
        chrono::Utc::now(),
        chrono_tz::UTC,
        chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
    )
}

/// A new user's calendar date (UTC): what the business module's dates (invoice dates, quote
/// validity, recurring starts) are compared with. Between midnight and the day boundary it is a
/// day after [`user_today`].
pub fn calendar_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

pub async fn two_users(app: &TestApp) -> (Tokens, Tokens) {
    (
        app.user("ada@example.com").await,
        app.user("bob@example.com").await,
    )
}

/// The one way tests speak HTTP to the server: as a signed-in user ([`TestApp::signed_in`]) or
/// as nobody ([`TestApp::anonymous`]).
pub struct Client<'a> {
    pub app: &'a TestApp,
    pub token: Option<String>,
}

impl Client<'_> {
    /// A request to build further (raw bodies, cookies, forms), signed in if this client is.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.app.client.request(method, self.app.url(path));
        match &self.token {
            Some(token) => req.bearer_auth(token),
            None => req,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut req = self.request(method, path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.unwrap()
    }

    /// The status and the JSON answer (null when the answer is not JSON).
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let res = self.send(method, path, body, &[]).await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The status and the answer as it came.
    pub async fn text(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, String) {
        let res = self.send(method, path, body, &[]).await;
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Expects 200 and answers the JSON.
    pub async fn ok(&self, method: Method, path: &str, body: Option<&Value>) -> Value {
        let (status, value) = self.call(method.clone(), path, body).await;
        assert_eq!(status, 200, "{method} {path}: {value}");
        value
    }

    /// Expects any success (200, 201, 204) and answers the JSON, or null.
    pub async fn succeeds(&self, method: Method, path: &str, body: Option<&Value>) -> Value {
        let (status, value) = self.call(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// Expects 201 and answers the created row.
    pub async fn create(&self, path: &str, body: &Value) -> Value {
        let (status, value) = self.call(Method::POST, path, Some(body)).await;
        assert_eq!(status, 201, "POST {path} {body}: {value}");
        value
    }

    /// Expects 200 and answers the JSON.
    pub async fn get(&self, path: &str) -> Value {
        self.ok(Method::GET, path, None).await
    }
}
