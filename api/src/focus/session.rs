use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::{dsl::now, prelude::*, result::DatabaseErrorKind};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth},
        fields,
        resource::{check_link, detach_links, Ctx, Link, ListQuery, Meta, Resource},
        state::State,
    },
    db::{pool::Conn, schema::app::focus_sessions as t},
    http::{
        etag,
        problem::{ApiError, ApiResult, FieldError, ProblemKind},
    },
    keyset,
};

/// Clocks disagree a little; more than this ahead of ours is a mistake.
const CLOCK_SLACK: TimeDelta = TimeDelta::minutes(1);

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    task_id: Option<Uuid>,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    planned_minutes: Option<i32>,
    note: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct FocusSession {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    /// The task worked on, if any.
    pub task_id: Option<Uuid>,
    #[schema(example = "2026-11-26T09:00:00Z")]
    pub started_at: DateTime<Utc>,
    /// `null` while the session runs.
    #[schema(example = "2026-11-26T09:47:30Z")]
    pub ended_at: Option<DateTime<Utc>>,
    /// 1 to 1440.
    #[schema(example = 50, minimum = 1, maximum = 1440)]
    pub planned_minutes: Option<i32>,
    #[schema(example = "Drafted the intro")]
    pub note: Option<String>,
    /// Whole minutes from start to end; `null` while running.
    #[schema(example = 47)]
    pub actual_minutes: Option<i64>,
    /// `true` until the session is stopped.
    #[schema(example = false)]
    pub running: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FocusSessionInput {
    /// Default: your personal workspace. Cannot change later.
    pub workspace_id: Option<Uuid>,
    /// A task in the same workspace.
    pub task_id: Option<Uuid>,
    /// Default: now. At most a minute in the future.
    #[schema(example = "2026-11-26T09:00:00Z")]
    pub started_at: Option<DateTime<Utc>>,
    /// Leave out to start a running session (one per user); otherwise not before
    /// `started_at`, for recording a past session.
    #[schema(example = "2026-11-26T09:47:30Z")]
    pub ended_at: Option<DateTime<Utc>>,
    /// 1 to 1440.
    #[schema(example = 50)]
    pub planned_minutes: Option<i32>,
    /// Up to 5000 characters.
    #[schema(example = "Drafted the intro")]
    pub note: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    task_id: Option<Uuid>,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    planned_minutes: Option<i32>,
    note: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FocusFilter {
    /// `true` lists the running session only, `false` stopped ones only.
    pub running: Option<bool>,
    /// Only sessions on this task.
    pub task_id: Option<Uuid>,
}

/// Whole minutes, rounded down; reviews add these up.
pub(crate) fn actual_minutes(
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
) -> Option<i64> {
    ended_at.map(|end| (end - started_at).num_minutes())
}

/// The partial unique index allows one session with no end per user; a second one is a
/// conflict the client can resolve, not a server failure.
fn one_running(error: diesel::result::Error) -> ApiError {
    match &error {
        diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name() == Some("focus_sessions_one_running") =>
        {
            ApiError::new(
                ProblemKind::Conflict,
                "a focus session is already running; stop it first",
            )
        }
        _ => error.into(),
    }
}

fn already_stopped() -> ApiError {
    ApiError::new(
        ProblemKind::Conflict,
        "this focus session has already stopped",
    )
}

pub struct FocusSessions;

impl Resource for FocusSessions {
    const TABLE: &'static str = "app.focus_sessions";
    type Row = Row;
    type Out = FocusSession;
    type Input = FocusSessionInput;
    type Values = Values;
    type Filter = FocusFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> FocusSession {
        FocusSession {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            task_id: r.task_id,
            started_at: r.started_at,
            ended_at: r.ended_at,
            planned_minutes: r.planned_minutes,
            note: r.note,
            actual_minutes: actual_minutes(r.started_at, r.ended_at),
            running: r.ended_at.is_none(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> FocusSessionInput {
        FocusSessionInput {
            workspace_id: Some(r.workspace_id),
            task_id: r.task_id,
            started_at: Some(r.started_at),
            ended_at: r.ended_at,
            planned_minutes: r.planned_minutes,
            note: r.note.clone(),
        }
    }

    fn input_workspace(input: &FocusSessionInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        input: FocusSessionInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let clock = ctx.at;
        let started_at = input.started_at.unwrap_or(clock);
        let latest = clock + CLOCK_SLACK;
        if started_at > latest {
            errors.push(FieldError {
                field: "started_at".into(),
                message: "cannot be in the future".into(),
            });
        }
        if let Some(end) = input.ended_at {
            if end < started_at {
                errors.push(FieldError {
                    field: "ended_at".into(),
                    message: "cannot be before started_at".into(),
                });
            } else if end > latest {
                errors.push(FieldError {
                    field: "ended_at".into(),
                    message: "cannot be in the future".into(),
                });
            }
        }
        fields::range(
            "planned_minutes",
            input.planned_minutes.map(i64::from),
            1,
            1440,
            &mut errors,
        );
        let note = fields::text("note", input.note, 5000, &mut errors);
        check_link(
            conn,
            Link::Task,
            input.task_id,
            ctx.workspace_id,
            "task_id",
            &mut errors,
        )
        .await?;
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values {
            task_id: input.task_id,
            started_at,
            ended_at: input.ended_at,
            planned_minutes: input.planned_minutes,
            note,
        })
    }

    async fn find(conn: &mut Conn, id: Uuid) -> ApiResult<Option<Row>> {
        Ok(t::table
            .find(id)
            .select(Row::as_select())
            .first(conn)
            .await
            .optional()?)
    }

    async fn insert(conn: &mut Conn, ctx: Ctx, values: Values) -> ApiResult<Row> {
        diesel::insert_into(t::table)
            .values((
                t::id.eq(ctx.id),
                t::workspace_id.eq(ctx.workspace_id),
                t::created_by.eq(ctx.user_id),
                values,
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await
            .map_err(one_running)
    }

    async fn update(conn: &mut Conn, id: Uuid, values: Values) -> ApiResult<Row> {
        diesel::update(t::table.find(id))
            .set((values, t::version.eq(t::version + 1), t::updated_at.eq(now)))
            .returning(Row::as_returning())
            .get_result(conn)
            .await
            .map_err(one_running)
    }

    async fn delete(conn: &mut Conn, workspace_id: Uuid, id: Uuid) -> ApiResult<usize> {
        detach_links(conn, Self::TABLE, workspace_id, &[id]).await?;
        Ok(diesel::delete(
            t::table
                .filter(t::workspace_id.eq(workspace_id))
                .filter(t::id.eq(id)),
        )
        .execute(conn)
        .await?)
    }

    async fn list(conn: &mut Conn, q: ListQuery<FocusFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        match q.filter.running {
            Some(true) => query = query.filter(t::ended_at.is_null()),
            Some(false) => query = query.filter(t::ended_at.is_not_null()),
            None => {}
        }
        if let Some(task_id) = q.filter.task_id {
            query = query.filter(t::task_id.eq(task_id));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

/// Stop a running session now.
#[utoipa::path(
    tag = "focus",
    params(
        ("id" = Uuid, Path, description = "Focus session id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you last saw"),
    ),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Stopped; `ETag` carries the version", body = FocusSession),
        (status = 403, description = "A read-only token", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already stopped (`/problems/conflict`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/focus-sessions/{id}/stop")]
pub async fn stop_focus_session(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    let row = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current = FocusSessions::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                etag::check(expected, current.version)?;
                if current.ended_at.is_some() {
                    return Err(already_stopped());
                }
                // A start recorded slightly ahead of our clock must not end before it began.
                let ended_at = me.at.max(current.started_at);
                // A concurrent stop may have won since the read.
                diesel::update(t::table.find(id))
                    .filter(t::ended_at.is_null())
                    .set((
                        t::ended_at.eq(ended_at),
                        t::version.eq(t::version + 1),
                        t::updated_at.eq(now),
                    ))
                    .returning(Row::as_returning())
                    .get_result(conn)
                    .await
                    .optional()?
                    .ok_or_else(already_stopped)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag::etag(row.version))
        .json(FocusSessions::output(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_whole_and_absent_while_running() {
        let start = DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z")
            .unwrap()
            .to_utc();
        let end = start + TimeDelta::seconds(47 * 60 + 59);
        assert_eq!(actual_minutes(start, Some(end)), Some(47));
        assert_eq!(actual_minutes(start, None), None);
    }
}
