//! Background jobs across real processes of the `minime` binary: a worker killed mid-job (its
//! process, not a simulation) loses its lease and the job runs elsewhere; two `minime serve`
//! processes on one database run every job exactly once. Mail delivery is the job, counted at a
//! loopback mail API.

use std::{
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn admin_url() -> String {
    std::env::var("MINIME_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(url: &str, db: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_path(db);
    url.to_string()
}

/// A migrated database of its own.
async fn database() -> String {
    let name = format!(
        "minime_p_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let (admin, conn) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    // The roles are the cluster's: migrations (here and in the other tests) take turns.
    admin
        .execute("SELECT pg_advisory_lock(4242)", &[])
        .await
        .unwrap();
    // Databases of earlier runs whose process is gone.
    for row in admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'minime\\_p\\_%'",
            &[],
        )
        .await
        .unwrap()
    {
        let db: String = row.get(0);
        let pid = db.split('_').nth(2).unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = admin
                .execute(&format!("DROP DATABASE IF EXISTS \"{db}\""), &[])
                .await;
        }
    }
    admin
        .execute(&format!("CREATE DATABASE \"{name}\""), &[])
        .await
        .unwrap();
    let url = with_db(&admin_url(), &name);
    minime_api::db::migrate::run(&url, None, None)
        .await
        .unwrap();
    admin
        .execute("SELECT pg_advisory_unlock(4242)", &[])
        .await
        .unwrap();
    url
}

async fn count(url: &str, sql: &str) -> i64 {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client.query_one(sql, &[]).await.unwrap().get(0)
}

/// A Resend-style mail API: records every request; while `hold` is set it never answers.
#[derive(Clone, Default)]
struct MailApi {
    received: Arc<Mutex<Vec<Value>>>,
    hold: Arc<std::sync::atomic::AtomicBool>,
}

async fn emails(api: web::Data<MailApi>, body: web::Json<Value>) -> HttpResponse {
    api.received.lock().unwrap().push(body.into_inner());
    if api.hold.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    HttpResponse::Ok().json(json!({"id": "sent"}))
}

fn start_mail_api(api: &MailApi) -> String {
    let data = web::Data::new(api.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/emails", web::post().to(emails))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    format!("http://{addr}/")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `minime` process that is killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn minime(command: &str, db: &str, mail_api: &str, vars: &[(&str, &str)]) -> Process {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minime"));
    cmd.arg(command)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db)
        .env("MINIME_JWT_SECRET", "process-test-secret-0123456789abcdef")
        .env("MINIME_MAIL_PROVIDER", "http")
        .env("MINIME_MAIL_API_URL", mail_api)
        .env("MINIME_MAIL_API_KEY", "test-key")
        .env("MINIME_WORKERS", "1")
        .env("MINIME_DB_POOL_SIZE", "4")
        .env("MINIME_PASSWORD_HASH_CONCURRENCY", "1")
        .env("MINIME_RATE_LIMIT_SIGNUP", "1000/60")
        .env("MINIME_RATE_LIMIT_MAIL_PER_IP", "1000/60")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    Process(cmd.spawn().expect("starting minime"))
}

/// `minime serve` on a free port, once it answers.
async fn serve(db: &str, mail_api: &str, vars: &[(&str, &str)]) -> (Process, String) {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut all = vec![("MINIME_LISTEN", listen.as_str())];
    all.extend_from_slice(vars);
    let process = minime("serve", db, mail_api, &all);
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "minime serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (process, base)
}

async fn signup(base: &str, email: &str) {
    let res = reqwest::Client::new()
        .post(format!("{base}/v1/auth/signup"))
        .json(&json!({"email": email, "password": "tangerine-Orbit-4417-lamp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{:?}", res.text().await);
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await {
        assert!(Instant::now() < deadline, "waited too long for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_killed_worker_loses_its_lease_and_the_job_runs_elsewhere() {
    let db = database().await;
    let api = MailApi::default();
    api.hold.store(true, Ordering::SeqCst);
    let mail_api = start_mail_api(&api);
    let (_server, base) = serve(&db, &mail_api, &[("MINIME_JOB_WORKERS", "0")]).await;
    signup(&base, "killed@example.com").await;

    let lease = [
        ("MINIME_JOB_WORKERS", "1"),
        ("MINIME_JOB_LEASE_SECONDS", "3"),
    ];
    let first = minime("worker", &db, &mail_api, &lease);
    until("the first worker to send", async || {
        !api.received.lock().unwrap().is_empty()
    })
    .await;
    // Killed while the mail API holds its request: the job is leased to a dead process.
    drop(first);
    api.hold.store(false, Ordering::SeqCst);
    let claimed_at = Instant::now();
    let _second = minime("worker", &db, &mail_api, &lease);
    until("the second worker to deliver", async || {
        count(
            &db,
            "SELECT count(*) FROM ops.jobs WHERE kind = 'mail.send' AND done_at IS NOT NULL",
        )
        .await
            == 1
    })
    .await;
    assert!(
        claimed_at.elapsed() >= Duration::from_secs(2),
        "the job ran again before the dead worker's lease lapsed"
    );
    assert_eq!(
        count(
            &db,
            "SELECT attempts::bigint FROM ops.jobs WHERE kind = 'mail.send'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM ops.outbox WHERE sent_at IS NOT NULL"
        )
        .await,
        1
    );
    let received = api.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "one held request, one delivery");
    assert_eq!(received[0]["to"], received[1]["to"]);
}

#[tokio::test]
async fn two_serve_processes_run_every_job_exactly_once() {
    let db = database().await;
    let api = MailApi::default();
    let mail_api = start_mail_api(&api);
    let workers = [("MINIME_JOB_WORKERS", "2")];
    let (_a, base_a) = serve(&db, &mail_api, &workers).await;
    let (_b, base_b) = serve(&db, &mail_api, &workers).await;

    const MAILS: usize = 24;
    for n in 0..MAILS {
        let base = if n % 2 == 0 { &base_a } else { &base_b };
        signup(base, &format!("person{n}@example.com")).await;
    }
    until("every mail to be delivered", async || {
        count(
            &db,
            "SELECT count(*) FROM ops.outbox WHERE sent_at IS NOT NULL",
        )
        .await
            == MAILS as i64
    })
    .await;
    // Give a second delivery, were there one, time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut to: Vec<String> = api
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|m| m["to"].to_string())
        .collect();
    assert_eq!(to.len(), MAILS, "each mail is delivered once");
    to.sort();
    to.dedup();
    assert_eq!(to.len(), MAILS);
    assert_eq!(
        count(&db, "SELECT count(*) FROM ops.jobs WHERE kind = 'mail.send' AND attempts = 1 AND done_at IS NOT NULL").await,
        MAILS as i64
    );
    // Both processes planted the daily cleanup; it exists once.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM ops.jobs WHERE kind = 'retention.cleanup'"
        )
        .await,
        1
    );
}
