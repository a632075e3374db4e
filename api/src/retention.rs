//! Data that expires: a daily cleanup job removes what has outlived its use (the horizons are in
//! README, "What expires"). Each run plants the next day's, and every process plants today's at
//! start; the unique key per day makes that one job however many processes run.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use diesel::{
    sql_types::{BigInt, Text, Timestamptz},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};

use crate::{
    common::jobs::{
        queue::{self, NewJob},
        worker::JobContext,
    },
    db::pool::Conn,
    http::problem::ApiResult,
};

pub const CLEANUP: &str = "retention.cleanup";

/// The cleanup runs at this time of day (UTC), when few people use the service.
fn daily_at() -> NaiveTime {
    NaiveTime::from_hms_opt(3, 30, 0).unwrap_or_default()
}

/// The first cleanup at or after `at`.
fn next_run(at: DateTime<Utc>) -> DateTime<Utc> {
    let today = at.date_naive().and_time(daily_at()).and_utc();
    if today >= at {
        today
    } else {
        today + Duration::days(1)
    }
}

/// Queues the next cleanup after `at`, once.
pub async fn plant(conn: &mut Conn, at: DateTime<Utc>) -> ApiResult<()> {
    let run_at = next_run(at);
    let mut job = NewJob::new(CLEANUP, run_at);
    job.unique_key = Some(format!("{CLEANUP}:{}", run_at.date_naive()));
    queue::enqueue(conn, job).await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Removed {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = BigInt)]
    removed: i64,
}

/// The job: removes expired rows as of now, then plants tomorrow's run. A server that was down
/// for days runs one cleanup when it is back, not one per missed day.
pub async fn cleanup(ctx: JobContext) -> anyhow::Result<()> {
    let at = ctx.clock.now();
    let removed: Vec<Removed> = ctx
        .tx(move |conn| {
            async move {
                let removed = diesel::sql_query("SELECT tbl, removed FROM ops.cleanup($1)")
                    .bind::<Timestamptz, _>(at)
                    .load(conn)
                    .await?;
                plant(conn, at + Duration::minutes(1)).await?;
                Ok(removed)
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("cleanup: {e}"))?;
    for Removed { tbl, removed } in removed.into_iter().filter(|r| r.removed > 0) {
        tracing::info!(table = %tbl, removed, "retention: expired rows removed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_run_is_the_coming_half_past_three() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            next_run(at("2026-12-01T01:00:00Z")),
            at("2026-12-01T03:30:00Z")
        );
        assert_eq!(
            next_run(at("2026-12-01T03:30:00Z")),
            at("2026-12-01T03:30:00Z")
        );
        assert_eq!(
            next_run(at("2026-12-01T03:31:00Z")),
            at("2026-12-02T03:30:00Z")
        );
    }
}
