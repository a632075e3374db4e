//! The morning recap: for users who opted in (settings `morning_recap`, `morning_recap_at`), one
//! push at that local time summarising today's plan. Each user has one job waiting for their
//! next recap, planted after the settings or the time zone change (`settings.changed`), by every process at start and by the
//! previous recap; its unique key (user, date, time) makes planting idempotent, and the push's
//! own key (user, date) makes it at most one a day whatever the number of processes or changes
//! of the time. A recap whose day has passed (the server was down) is skipped, not sent late.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use diesel::{sql_types::Uuid as SqlUuid, QueryableByName};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl as _};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    account::preferences::{load_settings, Settings},
    common::{
        extractor::Principal,
        jobs::{
            queue::{self, NewJob},
            worker::JobContext,
        },
        zone::user_zone,
    },
    db::pool::{act_as, Conn, Db},
    http::problem::ApiResult,
    planner::day::local_date,
    push::sender::{notify, Notification, Urgency},
    recurrence::place,
};

pub const SEND: &str = "recap.send";

/// The job's payload: the local date and time it was planted for.
#[derive(Serialize, Deserialize)]
struct Planned {
    date: NaiveDate,
    at: NaiveTime,
}

/// The recap's local time: the one chosen, but never before the day begins, so that it
/// summarises the new day rather than the one ending.
fn local_time(settings: &Settings) -> NaiveTime {
    settings.morning_recap_at.max(settings.day_starts_at)
}

/// The first recap strictly after `after`: its local date and instant (a time that a DST change
/// skips is read with the offset before the gap, so it lands as far past the gap; a repeated
/// one is taken the first time).
pub fn next(settings: &Settings, zone: Tz, after: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
    let time = local_time(settings);
    let mut date = local_date(after, zone, settings.day_starts_at);
    loop {
        let instant = place(date, time, zone);
        if instant > after {
            return (date, instant);
        }
        date += Duration::days(1);
    }
}

/// Queues the user's next recap after `after` when they opted in; nothing otherwise.
async fn plant_next(conn: &mut Conn, user: Uuid, after: DateTime<Utc>) -> ApiResult<()> {
    let (settings, _) = load_settings(conn, user).await?;
    if !settings.morning_recap {
        return Ok(());
    }
    let zone = user_zone(conn, user).await?;
    let (date, run_at) = next(&settings, zone, after);
    let at = local_time(&settings);
    let mut job = NewJob::new(SEND, run_at);
    job.user_id = Some(user);
    job.unique_key = Some(format!("{SEND}:{user}:{date}:{at}"));
    job.payload = serde_json::json!(Planned { date, at });
    queue::enqueue(conn, job).await?;
    Ok(())
}

/// The job that follows a change of the user's settings or time zone: their next recap.
pub async fn replan(ctx: JobContext) -> anyhow::Result<()> {
    let Some(user) = ctx.job.user_id else {
        anyhow::bail!("a settings change without a user");
    };
    let at = ctx.clock.now();
    ctx.tx(move |conn| plant_next(conn, user, at).scope_boxed())
        .await
        .map_err(|e| anyhow::anyhow!("planting the recap: {e}"))
}

#[derive(QueryableByName)]
struct OptedIn {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

/// At start: every opted-in user's next recap, in case a chain was broken (a job gone dead).
pub async fn plant_all(db: &Db, at: DateTime<Utc>) -> ApiResult<()> {
    let users: Vec<OptedIn> = db
        .tx(|conn| {
            async move {
                Ok(
                    diesel::sql_query("SELECT user_id FROM ops.morning_recap_users()")
                        .load(conn)
                        .await?,
                )
            }
            .scope_boxed()
        })
        .await?;
    for OptedIn { user_id } in users {
        db.tx(move |conn| {
            async move {
                act_as(conn, user_id).await?;
                plant_next(conn, user_id, at).await
            }
            .scope_boxed()
        })
        .await?;
    }
    Ok(())
}

/// What the recap says: today's planned blocks, the first of them, and what is overdue.
async fn message(conn: &mut Conn, user: Uuid, at: DateTime<Utc>) -> ApiResult<(String, String)> {
    let me = Principal {
        user_id: user,
        session_id: None,
        at,
    };
    let c = crate::today::context(conn, me, None).await?;
    let plan = crate::today::plan_of_today(conn, user, &c).await?;
    let (overdue, _) = crate::today::tasks_due(conn, c.workspace_id, c.date, true).await?;
    let title = match plan.blocks.len() {
        0 => "Nothing planned today".to_owned(),
        1 => "1 block planned today".to_owned(),
        n => format!("{n} blocks planned today"),
    };
    let mut body = match <[_]>::first(&plan.blocks) {
        Some(first) => match first.start {
            Some(start) => format!(
                "First: {} at {}.",
                first.title,
                start.with_timezone(&c.zone).format("%H:%M")
            ),
            None => format!("First: {}.", first.title),
        },
        None => "Your day is open.".to_owned(),
    };
    match overdue {
        0 => {}
        1 => body.push_str(" 1 task is overdue."),
        n => body.push_str(&format!(" {n} tasks are overdue.")),
    }
    Ok((title, body))
}

/// The job: sends the recap when it is still its day and still the chosen time, then plants
/// the next one.
pub async fn send(ctx: JobContext) -> anyhow::Result<()> {
    let Some(user) = ctx.job.user_id else {
        anyhow::bail!("a recap job without a user");
    };
    let planned: Planned = serde_json::from_value(ctx.job.payload.clone())?;
    let now = ctx.clock.now();
    ctx.tx(move |conn| {
        async move {
            let (settings, _) = load_settings(conn, user).await?;
            // Turned off, or moved to another time (whose own job is waiting): nothing to do.
            if !settings.morning_recap || local_time(&settings) != planned.at {
                return Ok(());
            }
            let zone = user_zone(conn, user).await?;
            if local_date(now, zone, settings.day_starts_at) == planned.date {
                let (title, body) = message(conn, user, now).await?;
                let recap = Notification {
                    title,
                    body,
                    url: Some("/today".into()),
                    topic: Some("morning-recap".into()),
                    urgency: Some(Urgency::Normal),
                    // Stale once the day is over.
                    ttl: Some(12 * 3600),
                };
                let once = format!("recap:{user}:{}", planned.date);
                notify(conn, user, recap, Some(once)).await?;
            } else {
                tracing::info!(%user, date = %planned.date, "recap: its day has passed, skipped");
            }
            plant_next(conn, user, now.max(place(planned.date, planned.at, zone))).await
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| anyhow::anyhow!("recap: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(at: &str, day_starts: &str) -> Settings {
        Settings {
            morning_recap: true,
            morning_recap_at: at.parse().unwrap(),
            day_starts_at: day_starts.parse().unwrap(),
            ..Settings::default()
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_recap_follows_the_local_clock_across_a_dst_change() {
        let london: Tz = "Europe/London".parse().unwrap();
        let s = settings("07:30:00", "03:00:00");
        // GMT on the Saturday, BST from Sunday 28 March 2027.
        let (date, at) = next(&s, london, utc("2027-03-27T00:00:00Z"));
        assert_eq!(
            (date.to_string(), at),
            ("2027-03-27".into(), utc("2027-03-27T07:30:00Z"))
        );
        let (date, at) = next(&s, london, at);
        assert_eq!(
            (date.to_string(), at),
            ("2027-03-28".into(), utc("2027-03-28T06:30:00Z"))
        );
    }

    #[test]
    fn a_time_the_clocks_skip_is_read_with_the_offset_before_the_gap() {
        let london: Tz = "Europe/London".parse().unwrap();
        let s = settings("01:30:00", "00:00:00");
        let (_, at) = next(&s, london, utc("2027-03-28T00:00:00Z"));
        // 01:30 GMT, which the clocks show as 02:30 BST.
        assert_eq!(at, utc("2027-03-28T01:30:00Z"));
    }

    #[test]
    fn a_recap_before_the_day_begins_waits_for_it() {
        let s = settings("02:00:00", "04:00:00");
        let (date, at) = next(&s, chrono_tz::UTC, utc("2026-12-01T01:00:00Z"));
        // At 01:00 it is still 30 November until 04:00; that day's recap time has passed.
        assert_eq!(
            (date.to_string(), at),
            ("2026-12-01".into(), utc("2026-12-01T04:00:00Z"))
        );
    }
}
