//! What time causes rather than a write: tasks that became overdue, routine occurrences that
//! ended undone, and schedules. Every few minutes the detector looks at the enabled rules of those
//! triggers and plans one `rules.run` job per rule and event with a unique key, so each event is
//! planned once however often the detector runs; the run itself records it once more per rule
//! (`app.rule_runs`), which outlives the job.
//!
//! Each rule is looked at as its owner, in the owner's time zone and day: a task is overdue once
//! its due date is before the owner's today, a routine's occurrence is missed once its day is
//! over with nothing recorded for it. Only what happened since the rule was made counts, within
//! the last week. A schedule's run is planned at its instant (a time that does not exist that day
//! is read with the offset before the gap, one that happens twice runs at the first), once per
//! local date; a day that passed while the server was down is skipped, not caught up.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{Jsonb, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use uuid::Uuid;

use super::{
    events::{self, Event},
    rule::Trigger,
    runner::{Planned, RUN},
    schedule::next_fire,
};
use crate::{
    common::{
        jobs::{
            queue::{self, NewJob},
            worker::JobContext,
        },
        zone,
    },
    db::{
        pool::{act_as, Conn, Db},
        schema::app::tasks as t,
    },
    http::problem::ApiResult,
};

pub const DETECT: &str = "rules.detect";
/// How often the detector runs.
const EVERY_SECONDS: i64 = 300;
/// How far back it looks for overdue tasks and missed routines.
const LOOKBACK_DAYS: i64 = 7;

/// The detector's next slot after `at`.
fn next_slot(at: DateTime<Utc>) -> DateTime<Utc> {
    let slot = (at.timestamp().div_euclid(EVERY_SECONDS) + 1) * EVERY_SECONDS;
    DateTime::from_timestamp(slot, 0).unwrap_or(at)
}

/// Queues the detector's next run after `at`, once however many processes ask.
pub async fn plant(conn: &mut Conn, at: DateTime<Utc>) -> ApiResult<()> {
    let run_at = next_slot(at);
    let mut job = NewJob::new(DETECT, run_at);
    job.unique_key = Some(format!("{DETECT}:{}", run_at.timestamp()));
    queue::enqueue(conn, job).await?;
    Ok(())
}

#[derive(QueryableByName)]
struct Watched {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    workspace_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    created_by: Uuid,
    #[diesel(sql_type = Jsonb)]
    trigger: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// The job: plants its next run, then plans what each watched rule has to do now.
pub async fn detect(ctx: JobContext) -> anyhow::Result<()> {
    let at = ctx.clock.now();
    let watched: Vec<Watched> = ctx
        .tx(move |conn| {
            async move {
                plant(conn, at).await?;
                Ok(diesel::sql_query(
                    "SELECT id, workspace_id, created_by, trigger, created_at FROM ops.rules_watched()",
                )
                .load(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading the watched rules: {e}"))?;
    for rule in watched {
        // One rule's trouble (its owner gone, say) does not hold up the others.
        if let Err(error) = watch(&ctx.db, rule, at).await {
            tracing::warn!(%error, "rules: the detector skipped a rule");
        }
    }
    Ok(())
}

async fn watch(db: &Db, rule: Watched, at: DateTime<Utc>) -> anyhow::Result<()> {
    let trigger: Trigger = serde_json::from_value(rule.trigger.clone())?;
    db.tx(move |conn| {
        async move {
            act_as(conn, rule.created_by).await?;
            let zone = zone::user_zone(conn, rule.created_by).await?;
            let today = zone::today(conn, rule.created_by, zone, at).await?;
            // Events of days that ended before the rule was made are not its business.
            let made = zone::today(conn, rule.created_by, zone, rule.created_at).await?;
            let first = made.max(today - Duration::days(LOOKBACK_DAYS));
            let mut plans = Vec::new();
            match &trigger {
                Trigger::TaskOverdue {} => {
                    let overdue: Vec<(Uuid, Option<NaiveDate>)> = t::table
                        .filter(t::workspace_id.eq(rule.workspace_id))
                        .filter(t::status.eq_any(["todo", "in_progress"]))
                        .filter(t::due_date.ge(first))
                        .filter(t::due_date.lt(today))
                        // What a rule made never starts a rule.
                        .filter(t::made_by_rule.eq(false))
                        .select((t::id, t::due_date))
                        .load(conn)
                        .await?;
                    for (task, due) in overdue {
                        let due = due.unwrap_or(today);
                        plans.push((
                            events::TASK_OVERDUE,
                            Some(task),
                            format!("task_overdue:{task}:{due}"),
                            None,
                        ));
                    }
                }
                Trigger::RoutineMissed {} => {
                    let mut date = first;
                    while date < today {
                        for r in
                            crate::routines::due::on(conn, rule.workspace_id, date, zone).await?
                        {
                            if r.outcome.is_none() {
                                plans.push((
                                    events::ROUTINE_MISSED,
                                    Some(r.id),
                                    format!("routine_missed:{}:{date}", r.id),
                                    None,
                                ));
                            }
                        }
                        date += Duration::days(1);
                    }
                }
                Trigger::Schedule { at: time, days } => {
                    // A run planned just before its time is still planned when the detector
                    // comes a little late.
                    let after = at - Duration::seconds(EVERY_SECONDS);
                    if let Some((date, instant)) = next_fire(time, days, zone, after) {
                        plans.push((
                            events::SCHEDULE,
                            None,
                            format!("schedule:{date}"),
                            Some((date, instant, time.clone())),
                        ));
                    }
                }
                _ => {}
            }
            for (trigger, subject_id, event, schedule) in plans {
                let planned = Planned {
                    rule_id: rule.id,
                    event: event.clone(),
                    about: Event {
                        workspace_id: rule.workspace_id,
                        trigger: trigger.into(),
                        subject_id,
                    },
                    date: schedule.as_ref().map(|s| s.0),
                    at: schedule.as_ref().map(|s| s.1),
                };
                let mut job = NewJob::new(RUN, schedule.as_ref().map_or(at, |s| s.1));
                job.user_id = Some(rule.created_by);
                // The time is in the key, so that a schedule moved to another time is planned
                // again; the run itself still happens once per date.
                let time = schedule.as_ref().map(|s| s.2.as_str()).unwrap_or_default();
                job.unique_key = Some(format!("{RUN}:{}:{event}:{time}", rule.id));
                job.payload = serde_json::to_value(&planned)
                    .map_err(crate::http::problem::ApiError::internal)?;
                queue::enqueue(conn, job).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| anyhow::anyhow!("rule {}: {e}", rule.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_detector_runs_every_five_minutes() {
        assert_eq!(
            next_slot(utc("2026-12-01T10:02:10Z")),
            utc("2026-12-01T10:05:00Z")
        );
        assert_eq!(
            next_slot(utc("2026-12-01T10:05:00Z")),
            utc("2026-12-01T10:10:00Z")
        );
    }
}
