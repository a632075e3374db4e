//! The routines that fall on one local date, with what was recorded for it: Today lists them,
//! the daily plan places the open ones.

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    db::{
        pool::Conn,
        schema::app::{routine_completions as rc, routines as r},
    },
    http::problem::ApiResult,
    recurrence::Series,
};

pub struct DueRoutine {
    pub id: Uuid,
    pub title: String,
    pub time_of_day: Option<NaiveTime>,
    pub duration_minutes: Option<i32>,
    /// `done` or `skipped` once recorded for that date.
    pub outcome: Option<String>,
}

type Cols = (
    Uuid,
    String,
    String,
    NaiveDate,
    Option<NaiveTime>,
    Option<i32>,
);

/// The workspace's routines with an occurrence on `date` in `zone`, in id order.
pub async fn on(
    conn: &mut Conn,
    workspace_id: Uuid,
    date: NaiveDate,
    zone: chrono_tz::Tz,
) -> ApiResult<Vec<DueRoutine>> {
    let rows: Vec<Cols> = r::table
        .filter(r::workspace_id.eq(workspace_id))
        .filter(r::start_date.le(date))
        .filter(r::ended_on.is_null().or(r::ended_on.ge(date)))
        .order(r::id.asc())
        .select((
            r::id,
            r::title,
            r::rrule,
            r::start_date,
            r::time_of_day,
            r::duration_minutes,
        ))
        .load(conn)
        .await?;
    let outcomes: Vec<(Uuid, String)> = rc::table
        .filter(rc::workspace_id.eq(workspace_id))
        .filter(rc::occurrence_date.eq(date))
        .select((rc::routine_id, rc::outcome))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, rule, start, time, _)| {
            Series {
                rule,
                start: *start,
                time: *time,
                zone,
            }
            .occurs_on(date)
        })
        .map(
            |(id, title, _, _, time_of_day, duration_minutes)| DueRoutine {
                outcome: outcomes
                    .iter()
                    .find(|(r, _)| *r == id)
                    .map(|(_, o)| o.clone()),
                id,
                title,
                time_of_day,
                duration_minutes,
            },
        )
        .collect())
}
