//! Working a routine's series: its next dates, recording an occurrence done or skipped (and
//! which steps were done), undoing that, and ending the series.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::routine::{series, Routine, RoutineRow, Routines};
use crate::common::zone::{today, user_zone};
use crate::{
    common::{
        extractor::{Access, Auth, Principal},
        resource::Resource,
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{routine_completions as c, routines as t},
    },
    http::{
        json::Json,
        problem::{ApiError, ApiResult, FieldError},
    },
    recurrence,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(occurrences)
        .service(record)
        .service(list)
        .service(undo)
        .service(end_series);
}

async fn routine(conn: &mut Conn, id: Uuid) -> ApiResult<RoutineRow> {
    t::table
        .find(id)
        .select(RoutineRow::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)
}

#[derive(Serialize, ToSchema)]
pub struct RoutineOccurrence {
    #[schema(example = "2026-12-07")]
    pub date: NaiveDate,
    /// When it starts, if the routine has a time of day.
    pub at: Option<DateTime<Utc>>,
    /// `done`, `skipped`, or null when nothing is recorded.
    pub outcome: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RoutineOccurrences {
    pub items: Vec<RoutineOccurrence>,
}

/// The routine's next dates in your time zone, with what is recorded for each.
#[utoipa::path(
    tag = "routines",
    params(("id" = Uuid, Path), recurrence::OccurrenceParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Occurrences", body = RoutineOccurrences),
        (status = 404, description = "No such routine, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/routines/{id}/occurrences")]
pub async fn occurrences(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    params: web::Query<recurrence::OccurrenceParams>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let count = params.count()?;
    let from = params.from;
    let items = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let r = routine(conn, id).await?;
                let zone = user_zone(conn, me.user_id).await?;
                let from = match from {
                    Some(from) => from,
                    None => today(conn, me.user_id, zone, me.at).await?,
                };
                let mut occ = series(&r, zone)
                    .occurrences(from, count, &[])
                    .map_err(|e| ApiError::field("rrule", e))?;
                if let Some(end) = r.ended_on {
                    occ.retain(|o| o.date <= end);
                }
                let dates: Vec<NaiveDate> = occ.iter().map(|o| o.date).collect();
                let recorded: Vec<(NaiveDate, String)> = c::table
                    .filter(c::routine_id.eq(id))
                    .filter(c::occurrence_date.eq_any(&dates))
                    .select((c::occurrence_date, c::outcome))
                    .load(conn)
                    .await?;
                Ok(occ
                    .into_iter()
                    .map(|o| RoutineOccurrence {
                        outcome: recorded
                            .iter()
                            .find(|(d, _)| *d == o.date)
                            .map(|(_, out)| out.clone()),
                        date: o.date,
                        at: o.at,
                    })
                    .collect::<Vec<_>>())
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(RoutineOccurrences { items }))
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeInput {
    Done,
    Skipped,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionInput {
    /// An occurrence date of the routine.
    #[schema(example = "2026-12-07")]
    pub date: NaiveDate,
    pub outcome: OutcomeInput,
    /// Indexes of the steps done (with `done`).
    #[schema(example = json!([0, 2]))]
    pub steps_done: Option<Vec<usize>>,
}

#[derive(Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = c)]
pub struct Completion {
    pub id: Uuid,
    pub routine_id: Uuid,
    #[schema(example = "2026-12-07")]
    pub occurrence_date: NaiveDate,
    /// `done` or `skipped`.
    #[schema(example = "done")]
    pub outcome: String,
    #[schema(value_type = Vec<usize>, example = json!([0, 2]))]
    pub steps_done: serde_json::Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Record an occurrence as done (not in the future) or skipped (also ahead of time). Recording
/// the same date again replaces what was recorded.
#[utoipa::path(
    tag = "routines",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Recorded", body = Completion),
        (status = 404, description = "No such routine, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/routines/{id}/completions")]
pub async fn record(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<CompletionInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let input = body.0;
    let completion = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let r = routine(conn, id).await?;
                let mut errors = Vec::new();
                check_date(conn, me, &r, &input, &mut errors).await?;
                let done_steps = steps_done(&r, input.steps_done, &mut errors);
                if !errors.is_empty() {
                    return Err(ApiError::validation(errors));
                }
                let outcome = if input.outcome == OutcomeInput::Done {
                    "done"
                } else {
                    "skipped"
                };
                let steps_json = serde_json::to_value(&done_steps).map_err(ApiError::internal)?;
                Ok(diesel::insert_into(c::table)
                    .values((
                        c::id.eq(Uuid::now_v7()),
                        c::workspace_id.eq(r.workspace_id),
                        c::created_by.eq(me.user_id),
                        c::routine_id.eq(id),
                        c::occurrence_date.eq(input.date),
                        c::outcome.eq(outcome),
                        c::steps_done.eq(&steps_json),
                    ))
                    .on_conflict((c::workspace_id, c::routine_id, c::occurrence_date))
                    .do_update()
                    .set((
                        c::outcome.eq(outcome),
                        c::steps_done.eq(&steps_json),
                        c::version.eq(c::version + 1),
                        c::updated_at.eq(now),
                    ))
                    .returning(Completion::as_returning())
                    .get_result(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(completion))
}

/// The date must be an occurrence of the routine, and not in the future when it is done.
async fn check_date(
    conn: &mut Conn,
    me: Principal,
    r: &RoutineRow,
    input: &CompletionInput,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    let zone = user_zone(conn, me.user_id).await?;
    let scheduled = series(r, zone).occurs_on(input.date);
    if !scheduled || r.ended_on.is_some_and(|end| input.date > end) {
        errors.push(FieldError {
            field: "date".into(),
            message: "is not an occurrence of this routine".into(),
        });
    }
    if input.outcome == OutcomeInput::Done
        && input.date > today(conn, me.user_id, zone, me.at).await?
    {
        errors.push(FieldError {
            field: "date".into(),
            message: "cannot be done ahead of time (skipping can)".into(),
        });
    }
    Ok(())
}

/// The steps marked done, sorted and once each; each must be one of the routine's steps.
fn steps_done(
    r: &RoutineRow,
    steps_done: Option<Vec<usize>>,
    errors: &mut Vec<FieldError>,
) -> Vec<usize> {
    let steps: usize =
        serde_json::from_value::<Vec<serde_json::Value>>(r.steps.clone()).map_or(0, |s| s.len());
    let mut done_steps = steps_done.unwrap_or_default();
    done_steps.sort_unstable();
    done_steps.dedup();
    if done_steps.iter().any(|n| *n >= steps) {
        errors.push(FieldError {
            field: "steps_done".into(),
            message: format!("must be step indexes below {steps}"),
        });
    }
    done_steps
}

#[derive(Serialize, ToSchema)]
pub struct Completions {
    pub items: Vec<Completion>,
}

/// What was recorded for the routine, newest date first (the last 366 entries).
#[utoipa::path(
    tag = "routines",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Completions", body = Completions),
        (status = 404, description = "No such routine, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/routines/{id}/completions")]
pub async fn list(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let items = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                routine(conn, id).await?;
                Ok(c::table
                    .filter(c::routine_id.eq(id))
                    .order(c::occurrence_date.desc())
                    .limit(recurrence::MAX_COUNT as i64)
                    .select(Completion::as_select())
                    .load(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(Completions { items }))
}

/// Forget what was recorded for one date.
#[utoipa::path(
    tag = "routines",
    params(("id" = Uuid, Path), ("date" = NaiveDate, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Nothing recorded for that date, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/routines/{id}/completions/{date}")]
pub async fn undo(
    state: State,
    auth: Auth,
    path: web::Path<(Uuid, NaiveDate)>,
) -> ApiResult<HttpResponse> {
    let (id, date) = path.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let n = diesel::delete(
                c::table
                    .filter(c::routine_id.eq(id))
                    .filter(c::occurrence_date.eq(date)),
            )
            .execute(conn)
            .await?;
            if n == 0 {
                return Err(ApiError::not_found());
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EndSeries {
    /// The last day of the series (default: today in your time zone).
    pub last_date: Option<NaiveDate>,
}

/// End the series: no occurrences after the last date; history and streaks stay.
#[utoipa::path(
    tag = "routines",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The routine, ended", body = Routine),
        (status = 404, description = "No such routine, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/routines/{id}/end-series")]
pub async fn end_series(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<EndSeries>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let last = body.0.last_date;
    let routine = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let r = routine(conn, id).await?;
                let last = match last {
                    Some(d) => d,
                    None => {
                        let zone = user_zone(conn, me.user_id).await?;
                        today(conn, me.user_id, zone, me.at).await?
                    }
                };
                if last < r.start_date {
                    return Err(ApiError::field(
                        "last_date",
                        "is before the routine's start",
                    ));
                }
                diesel::update(t::table.find(id))
                    .set((
                        t::ended_on.eq(Some(last)),
                        t::version.eq(t::version + 1),
                        t::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                let row = Routines::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                Ok(Routines::output(row))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::etag::etag(routine.version))
        .json(routine))
}
