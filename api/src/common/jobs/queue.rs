//! Enqueueing, claiming and settling jobs, through the database functions that guard
//! `ops.jobs` (`ops.job_*`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{
    BigInt, Integer, Interval, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use rand::Rng;
use uuid::Uuid;

use crate::{db::pool::Conn, http::problem::ApiResult};

/// A job to queue: `kind` names its handler; with a `unique_key` it is queued once however often
/// it is asked for (a schedule planted by every process, say).
pub struct NewJob {
    pub kind: &'static str,
    pub payload: serde_json::Value,
    /// The user the job acts as: it runs under that user's row-level security.
    pub user_id: Option<Uuid>,
    pub unique_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn new(kind: &'static str, run_at: DateTime<Utc>) -> Self {
        Self {
            kind,
            payload: serde_json::json!({}),
            user_id: None,
            unique_key: None,
            run_at,
            max_attempts: 8,
        }
    }
}

#[derive(QueryableByName)]
struct Queued {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
}

/// Queues `job` in the caller's transaction: it exists only if that transaction commits. The
/// job's id, or `None` when its unique key is taken already.
pub async fn enqueue(conn: &mut Conn, job: NewJob) -> ApiResult<Option<i64>> {
    let row: Queued = diesel::sql_query("SELECT ops.job_enqueue($1, $2, $3, $4, $5, $6) AS id")
        .bind::<Text, _>(job.kind)
        .bind::<Jsonb, _>(job.payload)
        .bind::<Nullable<SqlUuid>, _>(job.user_id)
        .bind::<Nullable<Text>, _>(job.unique_key)
        .bind::<Timestamptz, _>(job.run_at)
        .bind::<Integer, _>(job.max_attempts)
        .get_result(conn)
        .await?;
    Ok(row.id)
}

/// A job leased to one worker.
#[derive(QueryableByName, Debug, Clone)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    /// Counting this one.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
}

/// Up to `limit` due jobs, leased to `worker` for `lease`.
pub async fn claim(
    conn: &mut Conn,
    limit: i32,
    lease: Duration,
    worker: &str,
    at: DateTime<Utc>,
) -> ApiResult<Vec<Claimed>> {
    let lease = diesel::data_types::PgInterval::from_microseconds(
        i64::try_from(lease.as_micros()).unwrap_or(i64::MAX),
    );
    Ok(diesel::sql_query(
        "SELECT id, kind, payload, user_id, attempts, max_attempts FROM ops.job_claim($1, $2, $3, $4)",
    )
    .bind::<Integer, _>(limit)
    .bind::<Interval, _>(lease)
    .bind::<Text, _>(worker)
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await?)
}

/// How a run ended.
pub enum Outcome {
    Done,
    Retry { error: String, at: DateTime<Utc> },
    Dead { error: String },
}

#[derive(QueryableByName)]
struct Settled {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    settled: bool,
}

/// Records the outcome; false when `worker` no longer held the lease (the job went to another).
pub async fn settle(conn: &mut Conn, id: i64, worker: &str, outcome: Outcome) -> ApiResult<bool> {
    let (name, error, next) = match outcome {
        Outcome::Done => ("done", None, None),
        Outcome::Retry { error, at } => ("retry", Some(error), Some(at)),
        Outcome::Dead { error } => ("dead", Some(error), None),
    };
    let row: Settled = diesel::sql_query("SELECT ops.job_settle($1, $2, $3, $4, $5) AS settled")
        .bind::<BigInt, _>(id)
        .bind::<Text, _>(worker)
        .bind::<Text, _>(name)
        .bind::<Nullable<Text>, _>(error)
        .bind::<Nullable<Timestamptz>, _>(next)
        .get_result(conn)
        .await?;
    Ok(row.settled)
}

/// The wait before attempt `attempts + 1`: doubling from 10 seconds up to an hour, with ±25 %
/// jitter so that jobs failing together do not retry together.
pub fn backoff(attempts: i32) -> Duration {
    let base = 10u64.saturating_mul(1 << attempts.clamp(0, 20)).min(3600);
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    Duration::from_secs_f64(base as f64 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for attempts in 0..30 {
            let base = 10f64 * 2f64.powi(attempts.min(20)).min(360.0);
            let base = base.min(3600.0);
            let wait = backoff(attempts).as_secs_f64();
            assert!(
                wait >= base * 0.75 && wait <= base * 1.25,
                "{attempts}: {wait}"
            );
        }
    }
}
