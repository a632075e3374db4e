//! Answering a plan line: accepting schedules the task on the plan's date; rejecting moves it to
//! another date (the next day unless told otherwise). A task split into several blocks is
//! answered as a whole: every line of it in that plan takes the answer.

use actix_web::{post, web, HttpResponse};
use chrono::NaiveDate;
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::plan::{stored, DayPlan};
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{day_plan_items as i, day_plans as p, tasks as t},
    },
    http::{
        json::OptionalJson,
        problem::{ApiError, ApiResult},
    },
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(accept).service(reject);
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Reject {
    /// The task's new scheduled date; default the day after the plan's date, `null` to unschedule.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date, example = "2026-11-30")]
    pub reschedule_to: Option<Option<NaiveDate>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<NaiveDate>>, D::Error> {
    Option::<NaiveDate>::deserialize(d).map(Some)
}

enum Answer {
    Accept,
    Reject(Option<Option<NaiveDate>>),
}

async fn answer(conn: &mut Conn, user_id: Uuid, id: Uuid, answer: Answer) -> ApiResult<DayPlan> {
    type Line = (Uuid, Option<Uuid>, Option<Uuid>, NaiveDate, Uuid);
    let line: Option<Line> = i::table
        .inner_join(p::table)
        .filter(i::id.eq(id))
        .select((
            i::plan_id,
            i::task_id,
            i::routine_id,
            p::plan_date,
            p::workspace_id,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let (plan_id, task, routine, date, workspace_id) = line.ok_or_else(ApiError::not_found)?;
    let (new_status, schedule) = match answer {
        Answer::Accept => ("accepted", Some(date)),
        Answer::Reject(to) => ("rejected", to.unwrap_or(date.succ_opt())),
    };
    // Every line of the same task (or routine) in this plan takes the answer.
    let same_item = i::plan_id.eq(plan_id).and(
        i::task_id
            .eq(task)
            .and(i::task_id.is_not_null())
            .or(i::routine_id.eq(routine).and(i::routine_id.is_not_null())),
    );
    diesel::update(i::table.filter(same_item))
        .set((
            i::status.eq(new_status),
            i::version.eq(i::version + 1),
            i::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    if let Some(task) = task {
        diesel::update(t::table.find(task))
            .set((
                t::scheduled_date.eq(schedule),
                t::version.eq(t::version + 1),
                t::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
    }
    stored(conn, user_id, workspace_id, date)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Accept a line of a plan: its task is scheduled on the plan's date and the block is kept
/// when the plan is computed again. Answers the whole plan.
#[utoipa::path(
    tag = "plans",
    params(("id" = Uuid, Path, description = "The plan line's id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The plan with the line accepted", body = DayPlan),
        (status = 404, description = "No such line, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/plan-items/{id}/accept")]
pub async fn accept(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let plan = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            answer(conn, me.user_id, id, Answer::Accept).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}

/// Reject a line of a plan: its task moves to another date (the next day by default) and the
/// item is not proposed again for this date. Answers the whole plan.
#[utoipa::path(
    tag = "plans",
    params(("id" = Uuid, Path, description = "The plan line's id")),
    request_body(content = Option<Reject>, description = "Optional; `{}` moves the task to the next day"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The plan with the line rejected", body = DayPlan),
        (status = 404, description = "No such line, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/plan-items/{id}/reject")]
pub async fn reject(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: OptionalJson<Reject>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let to = body.0.reschedule_to;
    let plan = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            answer(conn, me.user_id, id, Answer::Reject(to)).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}
