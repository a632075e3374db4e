//! Working a task's series: preview occurrences, complete or skip the current one, end the
//! series. Completing a one-off task simply marks it done.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::task::{Row, Task, Tasks};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::Resource,
        state::State,
        zone::user_zone,
    },
    db::{pool::Conn, schema::app::tasks as t},
    http::{
        etag,
        problem::{ApiError, ApiResult, ProblemKind},
    },
    recurrence::{self, Series},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(occurrences)
        .service(complete)
        .service(skip)
        .service(end_series);
}

/// The series of a recurring task, in its fixed zone or else the user's.
fn series(row: &Row, user_zone: chrono_tz::Tz) -> Option<Series<'_>> {
    let zone = row
        .due_time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(user_zone);
    Some(Series {
        rule: row.recurrence.as_deref()?,
        start: row.recurrence_start?,
        time: row.due_time,
        zone,
    })
}

fn not_recurring() -> ApiError {
    ApiError::new(ProblemKind::Conflict, "This task does not repeat")
}

#[derive(Serialize, ToSchema)]
pub struct OccurrenceOut {
    #[schema(example = "2026-12-07")]
    pub date: NaiveDate,
    /// The instant, when the task has a due time.
    pub at: Option<chrono::DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct Occurrences {
    pub items: Vec<OccurrenceOut>,
}

/// Preview the next dates of a recurring task.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path), recurrence::OccurrenceParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The next occurrences", body = Occurrences),
        (status = 404, description = "No such task, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task does not repeat", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/tasks/{id}/occurrences")]
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
                let row = Tasks::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let zone = user_zone(conn, me.user_id).await?;
                let series = series(&row, zone).ok_or_else(not_recurring)?;
                let from = from.or(row.due_date).unwrap_or(series.start);
                series
                    .occurrences(from, count, &[])
                    .map_err(|e| ApiError::field("recurrence", e))
            }
            .scope_boxed()
        })
        .await?;
    let items = items
        .into_iter()
        .map(|o| OccurrenceOut {
            date: o.date,
            at: o.at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Occurrences { items }))
}

enum Step {
    Complete,
    Skip,
    End,
}

/// Reopens the steps of a task that moves on to its next occurrence.
async fn reset_steps(conn: &mut Conn, parent: Uuid) -> ApiResult<()> {
    diesel::update(t::table)
        .filter(t::parent_id.eq(parent))
        .filter(t::status.eq("done"))
        .set((
            t::status.eq("todo"),
            t::completed_at.eq(None::<chrono::DateTime<Utc>>),
            t::version.eq(t::version + 1),
            t::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// What a step makes of a task.
enum Next {
    /// The series ends; the task stays as it is, once.
    Once,
    /// A one-off task, or a series with no occurrence left: done.
    Done,
    /// Open again, due on the series' next date.
    Due(NaiveDate),
}

fn next_state(step: &Step, row: &Row, zone: chrono_tz::Tz) -> ApiResult<Next> {
    let series = match (step, series(row, zone)) {
        (Step::End, Some(_)) => return Ok(Next::Once),
        (Step::End | Step::Skip, None) => return Err(not_recurring()),
        (Step::Complete, None) => return Ok(Next::Done),
        (_, Some(series)) => series,
    };
    let current = row.due_date.unwrap_or(series.start);
    let next = series
        .next_after(current, &[])
        .map_err(|e| ApiError::field("recurrence", e))?;
    Ok(next.map_or(Next::Done, |occurrence| Next::Due(occurrence.date)))
}

async fn advance(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    id: Uuid,
    step: Step,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(req)?;
    let task: Task = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let row = t::table
                    .find(id)
                    .select(Row::as_select())
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let row = row.ok_or_else(ApiError::not_found)?;
                etag::check(expected, row.version)?;
                let zone = user_zone(conn, me.user_id).await?;
                // Completing is an event whether the task is then done or, being recurring,
                // open again on its next date.
                if matches!(step, Step::Complete) && row.status != "done" {
                    crate::rules::events::record(
                        conn,
                        row.workspace_id,
                        crate::rules::events::TASK_COMPLETED,
                        id,
                    )
                    .await?;
                }
                let updated = match next_state(&step, &row, zone)? {
                    Next::Once => {
                        diesel::update(t::table.find(id))
                            .set((
                                t::recurrence.eq(None::<String>),
                                t::version.eq(t::version + 1),
                                t::updated_at.eq(now),
                            ))
                            .returning(Row::as_returning())
                            .get_result(conn)
                            .await?
                    }
                    Next::Done => {
                        diesel::update(t::table.find(id))
                            .set((
                                t::status.eq("done"),
                                t::completed_at.eq(Some(me.at)),
                                t::version.eq(t::version + 1),
                                t::updated_at.eq(now),
                            ))
                            .returning(Row::as_returning())
                            .get_result(conn)
                            .await?
                    }
                    Next::Due(date) => {
                        if row.reset_steps {
                            reset_steps(conn, id).await?;
                        }
                        diesel::update(t::table.find(id))
                            .set((
                                t::due_date.eq(Some(date)),
                                t::status.eq("todo"),
                                t::completed_at.eq(None::<chrono::DateTime<Utc>>),
                                t::version.eq(t::version + 1),
                                t::updated_at.eq(now),
                            ))
                            .returning(Row::as_returning())
                            .get_result(conn)
                            .await?
                    }
                };
                Ok(Tasks::output(updated))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag::etag(task.version))
        .json(task))
}

/// Complete the task; a recurring one moves on to its next occurrence (reopening its steps
/// if the series says so) and is done only when the series has no dates left.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The task after completion", body = Task),
        (status = 404, description = "No such task, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/tasks/{id}/complete")]
pub async fn complete(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    advance(&state, &auth, &req, id.into_inner(), Step::Complete).await
}

/// Skip the current occurrence of a recurring task.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The task at its next occurrence", body = Task),
        (status = 404, description = "No such task, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task does not repeat", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/tasks/{id}/skip")]
pub async fn skip(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    advance(&state, &auth, &req, id.into_inner(), Step::Skip).await
}

/// End the series: the current occurrence stays as a one-off task.
#[utoipa::path(
    tag = "tasks",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The task, no longer repeating", body = Task),
        (status = 404, description = "No such task, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task does not repeat", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/tasks/{id}/end-series")]
pub async fn end_series(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    advance(&state, &auth, &req, id.into_inner(), Step::End).await
}
