//! Workers: each claims one due job at a time, runs its handler and settles the outcome. Any
//! number of workers in any number of processes may run: a job is leased to one of them, and a
//! worker that dies lets its lease lapse, so the job runs again elsewhere.

use std::{collections::HashMap, future::Future, pin::Pin, sync::Arc, time::Duration};

use diesel_async::scoped_futures::{ScopedBoxFuture, ScopedFutureExt};

use super::queue::{self, Claimed, Outcome};
use crate::{
    clock::Clock,
    db::pool::{act_as, Conn, Db},
    http::problem::ApiError,
};

type Run = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> Run + Send + Sync>;

/// What a handler gets: the job and the means to act on it.
#[derive(Clone)]
pub struct JobContext {
    pub job: Claimed,
    pub db: Db,
    pub clock: Clock,
}

impl JobContext {
    /// One transaction, as the job's user when it has one (row-level security applies).
    pub async fn tx<'a, R, F>(&'a self, f: F) -> Result<R, ApiError>
    where
        F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, ApiError>> + Send + 'a,
        R: Send + 'a,
    {
        let user = self.job.user_id;
        self.db
            .tx(move |conn| {
                async move {
                    if let Some(user) = user {
                        act_as(conn, user).await?;
                    }
                    f(conn).await
                }
                .scope_boxed()
            })
            .await
    }
}

/// Handlers by job kind.
#[derive(Default, Clone)]
pub struct Registry(HashMap<&'static str, Handler>);

impl Registry {
    pub fn add<F, Fut>(mut self, kind: &'static str, handler: F) -> Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.0
            .insert(kind, Arc::new(move |ctx| Box::pin(handler(ctx)) as Run));
        self
    }
}

/// Wakes the workers after a commit that queued work, rather than at their next poll.
#[derive(Clone, Default)]
pub struct Wake(Arc<tokio::sync::Notify>);

impl Wake {
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// How long a claimed job is a worker's unless configured (`MINIME_JOB_LEASE_SECONDS`).
pub const LEASE: Duration = Duration::from_secs(120);
const IDLE_POLL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Worker {
    pub db: Db,
    pub clock: Clock,
    pub registry: Arc<Registry>,
    /// Unique per worker: only the lease holder may settle a job.
    pub name: String,
    pub lease: Duration,
}

impl Worker {
    pub fn new(db: Db, clock: Clock, registry: Arc<Registry>) -> Self {
        Self {
            db,
            clock,
            registry,
            name: format!("{}:{}", std::process::id(), uuid::Uuid::now_v7()),
            lease: LEASE,
        }
    }

    /// Claims one due job and runs it; whether there was one.
    pub async fn run_once(&self) -> anyhow::Result<bool> {
        let (name, lease, at) = (self.name.clone(), self.lease, self.clock.now());
        let claimed = self
            .db
            .tx(move |conn| {
                async move { queue::claim(conn, 1, lease, &name, at).await }.scope_boxed()
            })
            .await
            .map_err(|e| anyhow::anyhow!("claiming: {e}"))?;
        let Some(job) = claimed.into_iter().next() else {
            return Ok(false);
        };
        let outcome = self.run(job.clone()).await;
        let (id, name) = (job.id, self.name.clone());
        let settled = self
            .db
            .tx(move |conn| {
                async move { queue::settle(conn, id, &name, outcome).await }.scope_boxed()
            })
            .await
            .map_err(|e| anyhow::anyhow!("settling job {id}: {e}"))?;
        if !settled {
            tracing::warn!(job = id, "jobs: the lease lapsed before the job ended");
        }
        Ok(true)
    }

    async fn run(&self, job: Claimed) -> Outcome {
        let Some(handler) = self.registry.0.get(job.kind.as_str()).cloned() else {
            return Outcome::Dead {
                error: format!("no handler for jobs of kind {}", job.kind),
            };
        };
        let (id, kind, attempts, max) = (job.id, job.kind.clone(), job.attempts, job.max_attempts);
        let ctx = JobContext {
            job,
            db: self.db.clone(),
            clock: self.clock.clone(),
        };
        // Cut off before the lease ends, so that nobody else starts the job while it runs.
        let result = match tokio::time::timeout(self.lease.mul_f64(0.8), handler(ctx)).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!("ran past its time")),
        };
        match result {
            Ok(()) => Outcome::Done,
            Err(error) if attempts >= max => {
                tracing::error!(job = id, %kind, error = %format!("{error:#}"), "jobs: dead after its last attempt");
                Outcome::Dead {
                    error: format!("{error:#}"),
                }
            }
            Err(error) => {
                tracing::warn!(job = id, %kind, attempts, error = %format!("{error:#}"), "jobs: will retry");
                let wait = chrono::Duration::from_std(queue::backoff(attempts))
                    .unwrap_or(chrono::Duration::hours(1));
                Outcome::Retry {
                    error: format!("{error:#}"),
                    at: self.clock.now() + wait,
                }
            }
        }
    }

    /// Runs `count` worker loops until the process ends; `wake` cuts a wait for work short.
    pub fn spawn(self, count: usize, wake: Wake) -> Vec<tokio::task::JoinHandle<()>> {
        (0..count)
            .map(|n| {
                let mut worker = self.clone();
                worker.name = format!("{}/{n}", self.name);
                let wake = wake.clone();
                tokio::spawn(async move {
                    loop {
                        match worker.run_once().await {
                            Ok(true) => continue,
                            Ok(false) => {}
                            Err(error) => tracing::warn!(%error, "jobs: a round failed"),
                        }
                        tokio::select! {
                            _ = wake.0.notified() => {}
                            _ = tokio::time::sleep(IDLE_POLL) => {}
                        }
                    }
                })
            })
            .collect()
    }
}
