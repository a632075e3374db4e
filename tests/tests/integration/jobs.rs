//! The job queue: each job runs once however many workers claim, a failing job backs off and
//! dies after its last attempt, a dead job is listed and run again, a lapsed lease passes the
//! job on; and the daily cleanup removes exactly what has expired.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use diesel_async::scoped_futures::ScopedFutureExt;
use minime_api::{
    clock::Clock,
    common::jobs::{
        queue::{self, NewJob, Outcome},
        worker::{Registry, Worker},
    },
    db::pool::Db,
};

use crate::helpers::TestApp;

/// A server whose own workers are off, so that only the test's workers claim jobs.
async fn quiet_app() -> (TestApp, Db) {
    let app = TestApp::spawn_with(&[("MINIME_JOB_WORKERS", "0")]).await;
    let db = Db::connect(&app.app_db_url, 6, Duration::from_secs(5)).unwrap();
    (app, db)
}

async fn enqueue(db: &Db, job: NewJob) -> i64 {
    db.tx(move |conn| async move { queue::enqueue(conn, job).await }.scope_boxed())
        .await
        .unwrap()
        .expect("queued")
}

fn worker(db: &Db, clock: &Clock, registry: Registry) -> Worker {
    Worker::new(db.clone(), clock.clone(), Arc::new(registry))
}

#[tokio::test]
async fn concurrent_workers_run_each_job_once() {
    let (app, db) = quiet_app().await;
    let runs: Arc<Mutex<HashMap<i64, usize>>> = Arc::default();
    let seen = runs.clone();
    let registry = Registry::default().add("test.count", move |ctx| {
        let seen = seen.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            *seen.lock().unwrap().entry(ctx.job.id).or_default() += 1;
            Ok(())
        }
    });
    let clock = Clock::system();
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(enqueue(&db, NewJob::new("test.count", clock.now())).await);
    }
    // Two keyed jobs with one key are one job.
    let mut keyed = NewJob::new("test.count", clock.now());
    keyed.unique_key = Some("once".into());
    ids.push(enqueue(&db, keyed).await);
    let mut again = NewJob::new("test.count", clock.now());
    again.unique_key = Some("once".into());
    let second = db
        .tx(move |conn| async move { queue::enqueue(conn, again).await }.scope_boxed())
        .await
        .unwrap();
    assert_eq!(second, None);

    let workers: Vec<_> = (0..4)
        .map(|_| {
            let w = worker(&db, &clock, registry.clone());
            tokio::spawn(async move { while w.run_once().await.unwrap() {} })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), ids.len());
    assert!(runs.values().all(|n| *n == 1), "{runs:?}");
    assert_eq!(
        app.count("SELECT count(*) FROM ops.jobs WHERE done_at IS NOT NULL")
            .await,
        ids.len() as i64
    );
}

#[tokio::test]
async fn a_failing_job_backs_off_dies_and_runs_again_when_retried() {
    let (app, db) = quiet_app().await;
    let registry = Registry::default().add("test.fail", |_| async {
        Err(anyhow::anyhow!("the far side is down"))
    });
    let clock = Clock::system();
    let mut job = NewJob::new("test.fail", clock.now());
    job.max_attempts = 2;
    let id = enqueue(&db, job).await;
    let w = worker(&db, &clock, registry);

    assert!(w.run_once().await.unwrap());
    let wait: f64 = app
        .count(&format!(
            "SELECT extract(epoch FROM run_at - now())::bigint FROM ops.jobs WHERE id = {id} AND attempts = 1 AND last_error = 'the far side is down'"
        ))
        .await as f64;
    // The second attempt waits 20 s, give or take a quarter.
    assert!((13.0..=26.0).contains(&wait), "waits {wait} s");
    assert!(!w.run_once().await.unwrap(), "not due yet");

    clock.advance(Duration::from_secs(30));
    assert!(w.run_once().await.unwrap());
    let dead = minime_api::admin::cli::list_jobs(&app.admin_url, true)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].starts_with(&format!("{id}\ttest.fail\t2 attempt(s)")),
        "{dead:?}"
    );
    assert!(!w.run_once().await.unwrap(), "a dead job is not claimed");

    minime_api::admin::cli::retry_job(&app.admin_url, id)
        .await
        .unwrap();
    assert!(minime_api::admin::cli::list_jobs(&app.admin_url, true)
        .await
        .unwrap()
        .is_empty());
    assert!(w.run_once().await.unwrap(), "runs again");
    assert!(minime_api::admin::cli::retry_job(&app.admin_url, 999_999)
        .await
        .is_err());
}

#[tokio::test]
async fn a_lapsed_lease_passes_the_job_on_and_the_first_worker_cannot_settle_it() {
    let (app, db) = quiet_app().await;
    let clock = Clock::system();
    let id = enqueue(&db, NewJob::new("test.slow", clock.now())).await;
    let at = clock.now();
    // A worker claims the job and stalls past its lease.
    let first = db
        .tx(move |conn| {
            async move { queue::claim(conn, 5, Duration::from_secs(60), "stalled", at).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    let at = clock.now();
    let meanwhile = db
        .tx(move |conn| {
            async move { queue::claim(conn, 5, Duration::from_secs(60), "other", at).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    assert!(meanwhile.is_empty(), "leased");

    clock.advance(Duration::from_secs(61));
    let ran: Arc<Mutex<Vec<i64>>> = Arc::default();
    let seen = ran.clone();
    let registry = Registry::default().add("test.slow", move |ctx| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(ctx.job.id);
            Ok(())
        }
    });
    assert!(worker(&db, &clock, registry).run_once().await.unwrap());
    assert_eq!(*ran.lock().unwrap(), [id]);
    let settled = db
        .tx(move |conn| {
            async move { queue::settle(conn, id, "stalled", Outcome::Done).await }.scope_boxed()
        })
        .await
        .unwrap();
    assert!(!settled, "the stalled worker no longer holds the job");
    assert_eq!(
        app.count(&format!(
            "SELECT attempts::bigint FROM ops.jobs WHERE id = {id} AND done_at IS NOT NULL"
        ))
        .await,
        2
    );
}

#[tokio::test]
async fn the_cleanup_removes_what_expired_and_keeps_the_rest() {
    // The server's own workers run the job (and deliver Ada's verification mail).
    let app = TestApp::spawn().await;
    let db = Db::connect(&app.app_db_url, 2, Duration::from_secs(5)).unwrap();
    let ada = app.user("ada@example.com").await;
    let admin = app.admin().await;
    let me: String = admin
        .query_one(
            "SELECT id::text FROM auth.users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let ws: String = admin
        .query_one(
            &format!("SELECT id::text FROM app.workspaces WHERE owner_id = '{me}'"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!(
            "INSERT INTO ops.rate_limits (key, window_start, hits) VALUES
               ('old', now() - interval '2 days', 1), ('new', now(), 1);
             INSERT INTO ops.idempotency_keys (user_id, key, method, path, request_hash, status, body) VALUES
               ('{me}', 'old', 'POST', '/v1/tasks', '\\x00', 201, '\\x00'),
               ('{me}', 'new', 'POST', '/v1/tasks', '\\x00', 201, '\\x00');
             UPDATE ops.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old';
             INSERT INTO app.ai_previews (id, workspace_id, created_by, feature, provider, sent, proposal, expires_at)
             SELECT gen_random_uuid(), '{ws}', '{me}', 'smart-add', 'offline', '{{}}', '{{}}', e
             FROM unnest(ARRAY[now() - interval '2 days', now() + interval '10 minutes']) e;
             INSERT INTO auth.sessions (id, user_id, mode, expires_at)
             VALUES (gen_random_uuid(), '{me}', 'token', now() - interval '8 days');"
        ))
        .await
        .unwrap();
    let before = |table: &str| format!("SELECT count(*) FROM {table}");
    let sessions = app.count(&before("auth.sessions")).await;

    let id = enqueue(
        &db,
        NewJob::new(minime_api::retention::CLEANUP, Clock::system().now()),
    )
    .await;
    app.wake_jobs();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while app
        .count(&format!(
            "SELECT count(*) FROM ops.jobs WHERE id = {id} AND done_at IS NOT NULL"
        ))
        .await
        == 0
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the cleanup did not run"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    assert_eq!(
        app.count("SELECT count(*) FROM ops.rate_limits WHERE key IN ('old', 'new')")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM ops.idempotency_keys").await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM app.ai_previews").await, 1);
    assert_eq!(app.count(&before("auth.sessions")).await, sessions - 1);
    // Ada's live session is kept, and tomorrow's cleanup is planted once.
    assert_eq!(app.get_auth("/v1/me", &ada.access).await.status(), 200);
    assert_eq!(
        app.count("SELECT count(*) FROM ops.jobs WHERE kind = 'retention.cleanup' AND done_at IS NULL AND run_at > now()").await,
        1
    );
}

/// Two servers on one database, each with its own job workers and mail directory: every
/// verification mail is taken once and written once, by one of them.
#[tokio::test]
async fn two_servers_on_one_database_send_each_mail_once() {
    let unlimited = [
        ("MINIME_RATE_LIMIT_SIGNUP", "1000/60"),
        ("MINIME_RATE_LIMIT_MAIL_PER_IP", "1000/60"),
        ("MINIME_JOB_WORKERS", "2"),
    ];
    let app = TestApp::spawn_with(&unlimited).await;
    let other_mail = tempfile::tempdir().unwrap();
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", app.admin_url.as_str()),
        ("MINIME_LISTEN", "127.0.0.1:0"),
        ("MINIME_WORKERS", "1"),
        ("MINIME_DB_POOL_SIZE", "4"),
        ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
        ("MINIME_MAIL_DIR", other_mail.path().to_str().unwrap()),
    ]
    .into_iter()
    .chain(unlimited)
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.insert("MINIME_PASSWORD_HASH_CONCURRENCY".into(), "2".into());
    let second = minime_api::server::start(minime_api::config::Config::from_vars(&vars).unwrap())
        .await
        .unwrap();
    tokio::spawn(second.server);

    const MAILS: usize = 10;
    for n in 0..MAILS {
        let res = app.signup(&format!("person{n}@example.com")).await;
        assert_eq!(res.status(), 202);
    }
    app.mail_settled().await;
    let written = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    == Some("eml")
            })
            .count()
    };
    assert_eq!(
        written(app.mail_dir.path()) + written(other_mail.path()),
        MAILS
    );
    assert_eq!(
        app.count("SELECT count(*) FROM ops.outbox WHERE attempts = 1 AND sent_at IS NOT NULL")
            .await,
        MAILS as i64
    );
    assert_eq!(
        app.count("SELECT count(*) FROM ops.jobs WHERE kind = 'mail.send' AND attempts = 1 AND done_at IS NOT NULL")
            .await,
        MAILS as i64
    );
}
