use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::streak::{Outcome, Streak};
use crate::{
    common::{
        fields,
        resource::{check_link, Ctx, Link, ListQuery, Meta, Resource},
        zone::{today, user_zone},
    },
    db::{
        pool::Conn,
        schema::app::{routine_completions as c, routines as t},
    },
    http::problem::{ApiError, ApiResult, FieldError},
    keyset, recurrence,
};

const MAX_STEPS: usize = 30;

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct RoutineRow {
    pub(super) id: Uuid,
    pub(super) workspace_id: Uuid,
    pub(super) created_by: Uuid,
    pub(super) title: String,
    pub(super) rrule: String,
    pub(super) start_date: NaiveDate,
    pub(super) time_of_day: Option<NaiveTime>,
    pub(super) duration_minutes: Option<i32>,
    pub(super) steps: serde_json::Value,
    pub(super) reset_steps: bool,
    pub(super) area_id: Option<Uuid>,
    pub(super) ended_on: Option<NaiveDate>,
    pub(super) version: i32,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
}

pub struct Row {
    routine: RoutineRow,
    streak: Streak,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoutineStep {
    #[schema(example = "Fill the water bottle")]
    pub title: String,
}

#[derive(Serialize, ToSchema)]
pub struct Routine {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Morning run")]
    pub title: String,
    /// RRULE in the user's time zone, from `start_date`.
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO,WE,FR")]
    pub rrule: String,
    pub start_date: NaiveDate,
    #[schema(value_type = Option<String>, example = "07:00:00")]
    pub time_of_day: Option<NaiveTime>,
    #[schema(example = 30)]
    pub duration_minutes: Option<i32>,
    pub steps: Vec<RoutineStep>,
    /// Whether each occurrence starts with every step open again.
    pub reset_steps: bool,
    pub area_id: Option<Uuid>,
    /// Last day of the series, once ended.
    pub ended_on: Option<NaiveDate>,
    pub streak: Streak,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutineInput {
    pub workspace_id: Option<Uuid>,
    #[schema(example = "Morning run")]
    pub title: String,
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO,WE,FR")]
    pub rrule: String,
    /// Default: today in your time zone.
    pub start_date: Option<NaiveDate>,
    /// `HH:MM` (seconds optional).
    #[schema(value_type = Option<String>, example = "07:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub time_of_day: Option<NaiveTime>,
    /// 1 to 1440.
    #[schema(example = 30, minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<i32>,
    /// Up to 30.
    #[schema(max_items = 30)]
    pub steps: Option<Vec<RoutineStep>>,
    pub reset_steps: Option<bool>,
    pub area_id: Option<Uuid>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    title: String,
    rrule: String,
    start_date: NaiveDate,
    time_of_day: Option<NaiveTime>,
    duration_minutes: Option<i32>,
    steps: serde_json::Value,
    reset_steps: bool,
    area_id: Option<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoutineFilter {
    pub area_id: Option<Uuid>,
    /// `true`: only routines whose series has ended; `false`: only running ones.
    pub ended: Option<bool>,
}

pub struct Routines;

pub(super) fn series(r: &RoutineRow, zone: chrono_tz::Tz) -> recurrence::Series<'_> {
    recurrence::Series {
        rule: &r.rrule,
        start: r.start_date,
        time: r.time_of_day,
        zone,
    }
}

/// Streaks of these routines as of today in the caller's zone, with one completions query.
async fn with_streaks(conn: &mut Conn, routines: Vec<RoutineRow>) -> ApiResult<Vec<Row>> {
    let ids: Vec<Uuid> = routines.iter().map(|r| r.id).collect();
    let Some(owner) = routines.iter().map(|r| r.created_by).next() else {
        return Ok(Vec::new());
    };
    let (me, at) = crate::db::pool::acting(conn).await?;
    let me = me.unwrap_or(owner);
    let zone = user_zone(conn, me).await?;
    let today = today(conn, me, zone, at).await?;
    let window = today - chrono::Duration::days(366);
    let recorded: Vec<(Uuid, NaiveDate, String)> = c::table
        .filter(c::routine_id.eq_any(&ids))
        .filter(c::occurrence_date.ge(window))
        .select((c::routine_id, c::occurrence_date, c::outcome))
        .load(conn)
        .await?;
    let mut by_routine: HashMap<Uuid, HashMap<NaiveDate, Outcome>> = HashMap::new();
    for (id, date, outcome) in recorded {
        let outcome = if outcome == "done" {
            Outcome::Done
        } else {
            Outcome::Skipped
        };
        by_routine.entry(id).or_default().insert(date, outcome);
    }
    Ok(routines
        .into_iter()
        .map(|routine| {
            let end = routine.ended_on.map_or(today, |e| e.min(today));
            let from = routine.start_date.max(window);
            let dates: Vec<NaiveDate> = series(&routine, zone)
                .occurrences(from, recurrence::MAX_COUNT, &[])
                .unwrap_or_default()
                .into_iter()
                .map(|o| o.date)
                .take_while(|d| *d <= end)
                .collect();
            let empty = HashMap::new();
            let streak = super::streak::compute(
                &dates,
                by_routine.get(&routine.id).unwrap_or(&empty),
                today,
            );
            Row { routine, streak }
        })
        .collect())
}

async fn one(conn: &mut Conn, routine: RoutineRow) -> ApiResult<Row> {
    Ok(with_streaks(conn, vec![routine]).await?.remove(0))
}

impl Resource for Routines {
    const TABLE: &'static str = "app.routines";
    type Row = Row;
    type Out = Routine;
    type Input = RoutineInput;
    type Values = Values;
    type Filter = RoutineFilter;

    fn meta(row: &Row) -> Meta {
        let r = &row.routine;
        Meta {
            id: r.id,
            workspace_id: r.workspace_id,
            version: r.version,
            created_at: r.created_at,
        }
    }

    fn output(row: Row) -> Routine {
        let r = row.routine;
        Routine {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            title: r.title,
            rrule: r.rrule,
            start_date: r.start_date,
            time_of_day: r.time_of_day,
            duration_minutes: r.duration_minutes,
            steps: serde_json::from_value(r.steps).unwrap_or_default(),
            reset_steps: r.reset_steps,
            area_id: r.area_id,
            ended_on: r.ended_on,
            streak: row.streak,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(row: &Row) -> RoutineInput {
        let r = &row.routine;
        RoutineInput {
            workspace_id: Some(r.workspace_id),
            title: r.title.clone(),
            rrule: r.rrule.clone(),
            start_date: Some(r.start_date),
            time_of_day: r.time_of_day,
            duration_minutes: r.duration_minutes,
            steps: serde_json::from_value(r.steps.clone()).ok(),
            reset_steps: Some(r.reset_steps),
            area_id: r.area_id,
        }
    }

    fn input_workspace(input: &RoutineInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        i: RoutineInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let title = fields::title("title", &i.title, 200, &mut errors);
        let rrule = i.rrule.trim().to_ascii_uppercase();
        if let Err(message) = recurrence::validate(&rrule) {
            errors.push(FieldError {
                field: "rrule".into(),
                message,
            });
        }
        fields::range(
            "duration_minutes",
            i.duration_minutes.map(Into::into),
            1,
            1440,
            &mut errors,
        );
        let steps = i.steps.unwrap_or_default();
        if steps.len() > MAX_STEPS {
            errors.push(FieldError {
                field: "steps".into(),
                message: format!("at most {MAX_STEPS}"),
            });
        }
        let steps: Vec<RoutineStep> = steps
            .into_iter()
            .enumerate()
            .map(|(n, s)| RoutineStep {
                title: fields::title(&format!("steps.{n}.title"), &s.title, 200, &mut errors),
            })
            .collect();
        check_link(
            conn,
            Link::Area,
            i.area_id,
            ctx.workspace_id,
            "area_id",
            &mut errors,
        )
        .await?;
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let start_date = match i.start_date {
            Some(d) => d,
            None => {
                let zone = user_zone(conn, ctx.user_id).await?;
                today(conn, ctx.user_id, zone, ctx.at).await?
            }
        };
        Ok(Values {
            title,
            rrule,
            start_date,
            time_of_day: i.time_of_day,
            duration_minutes: i.duration_minutes,
            steps: serde_json::to_value(steps).map_err(ApiError::internal)?,
            reset_steps: i.reset_steps.unwrap_or(true),
            area_id: i.area_id,
        })
    }

    crate::row_queries!(t, RoutineRow, Values, wrap: one => Row);

    async fn list(conn: &mut Conn, q: ListQuery<RoutineFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(RoutineRow::as_select()).into_boxed();
        if let Some(area) = q.filter.area_id {
            query = query.filter(t::area_id.eq(area));
        }
        match q.filter.ended {
            Some(true) => query = query.filter(t::ended_on.is_not_null()),
            Some(false) => query = query.filter(t::ended_on.is_null()),
            None => {}
        }
        let routines = keyset!(query, t, q).load(conn).await?;
        with_streaks(conn, routines).await
    }
}
