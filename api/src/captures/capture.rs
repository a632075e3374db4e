use actix_web::{http::StatusCode, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth},
        fields,
        resource::{Ctx, ListQuery, Meta, Resource},
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{capture_items as t, projects, tasks},
    },
    http::{
        etag,
        json::Json,
        problem::{ApiError, ApiResult, FieldError, ProblemKind},
    },
    keyset,
};

pub const SOURCES: &[&str] = &["manual", "voice", "email", "share", "api"];
/// What a client may set; `converted` is reached only through the convert route.
pub const SETTABLE: &[&str] = &["inbox", "archived"];
const TASK_TITLE_MAX: usize = 500;
const PROJECT_TITLE_MAX: usize = 200;

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    text: String,
    source: String,
    status: String,
    converted_task_id: Option<Uuid>,
    converted_project_id: Option<Uuid>,
    converted_at: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Capture {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Call the plumber about the kitchen tap")]
    pub text: String,
    /// `manual`, `voice`, `email`, `share` or `api`.
    #[schema(example = "voice")]
    pub source: String,
    /// `inbox`, `archived`, or `converted` once turned into a task or project.
    #[schema(example = "inbox")]
    pub status: String,
    /// The task this capture became, if any.
    pub converted_task_id: Option<Uuid>,
    /// The project this capture became, if any.
    pub converted_project_id: Option<Uuid>,
    pub converted_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureInput {
    /// Default: your personal workspace. Cannot change later.
    pub workspace_id: Option<Uuid>,
    /// 1 to 5000 characters; line breaks are kept.
    #[schema(example = "Call the plumber about the kitchen tap")]
    pub text: String,
    /// `manual` (default), `voice`, `email`, `share` or `api`.
    #[schema(example = "voice")]
    pub source: Option<String>,
    /// `inbox` (default) or `archived`. A converted capture stays converted.
    #[schema(example = "inbox")]
    pub status: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t)]
pub struct Values {
    text: String,
    source: String,
    status: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaptureFilter {
    /// Only captures in this state: `inbox`, `archived` or `converted`.
    pub status: Option<String>,
}

/// Trimmed, 1 to `max` characters; unlike titles, line breaks and tabs are allowed.
fn body_text(field: &str, raw: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = raw.trim().to_owned();
    let n = value.chars().count();
    if n == 0
        || n > max
        || value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be 1 to {max} characters (line breaks allowed)"),
        });
    }
    value
}

/// A one-line title from free text: whitespace runs (line breaks included) become one space,
/// then the text is cut to `max` characters (and a space left at the cut is dropped).
fn title_from(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = line.chars().take(max).collect();
    cut.trim_end().to_owned()
}

pub struct Captures;

impl Resource for Captures {
    const TABLE: &'static str = "app.capture_items";
    type Row = Row;
    type Out = Capture;
    type Input = CaptureInput;
    type Values = Values;
    type Filter = CaptureFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Capture {
        Capture {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            text: r.text,
            source: r.source,
            status: r.status,
            converted_task_id: r.converted_task_id,
            converted_project_id: r.converted_project_id,
            converted_at: r.converted_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> CaptureInput {
        CaptureInput {
            workspace_id: Some(r.workspace_id),
            text: r.text.clone(),
            source: Some(r.source.clone()),
            status: Some(r.status.clone()),
        }
    }

    fn input_workspace(input: &CaptureInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        input: CaptureInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let text = body_text("text", &input.text, 5000, &mut errors);
        let source = fields::one_of("source", input.source, SOURCES, "manual", &mut errors);
        // On a patch the row exists; a new row's id finds nothing.
        let current: Option<String> = t::table
            .find(ctx.id)
            .select(t::status)
            .first(conn)
            .await
            .optional()?;
        let was_converted = current.as_deref() == Some("converted");
        let status = input.status.unwrap_or_else(|| "inbox".into());
        if was_converted && status != "converted" {
            errors.push(FieldError {
                field: "status".into(),
                message: "a converted capture stays converted; delete it instead".into(),
            });
        } else if !was_converted && !SETTABLE.contains(&status.as_str()) {
            errors.push(FieldError {
                field: "status".into(),
                message: if status == "converted" {
                    "becomes converted only through POST /v1/captures/{id}/convert".into()
                } else {
                    format!("must be one of {}", SETTABLE.join(", "))
                },
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values {
            text,
            source,
            status,
        })
    }

    crate::row_queries!(t, Row, Values);

    /// Something landed in the inbox: rules on `capture_created` run for it.
    async fn written(conn: &mut Conn, before: Option<&Row>, after: &Row) -> ApiResult<()> {
        if before.is_none() {
            crate::rules::events::record(
                conn,
                after.workspace_id,
                crate::rules::events::CAPTURE_CREATED,
                after.id,
            )
            .await?;
        }
        Ok(())
    }

    async fn list(conn: &mut Conn, q: ListQuery<CaptureFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(status) = q.filter.status {
            query = query.filter(t::status.eq(status));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConvertTarget {
    Task,
    Project,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertRequest {
    /// What the capture becomes.
    #[schema(example = "task")]
    pub to: ConvertTarget,
    /// The new row's title (tasks: 1 to 500 characters, projects: 1 to 200). Default: the
    /// capture's text on one line, cut to that length.
    #[schema(example = "Call the plumber")]
    pub title: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Conversion {
    /// The capture, now `converted`.
    pub capture: Capture,
    /// The task made from it (when converted to a task).
    pub task_id: Option<Uuid>,
    /// The project made from it (when converted to a project).
    pub project_id: Option<Uuid>,
}

/// Turn a capture into a task or a project, atomically: the new row and the capture's
/// `converted` state are written together. Converting again returns the first result
/// (200) and creates nothing. The new row's notes keep the full capture text when the title
/// differs from it.
#[utoipa::path(
    tag = "captures",
    params(("id" = Uuid, Path, description = "Capture id")),
    request_body = ConvertRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Converted; `ETag` carries the capture's version", body = Conversion),
        (status = 200, description = "Already converted to that kind: the earlier result", body = Conversion),
        (status = 403, description = "A read-only token", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such capture, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already converted to the other kind (`/problems/conflict`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid `title` (`/problems/validation`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/captures/{id}/convert")]
pub async fn convert_capture(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<ConvertRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let ConvertRequest { to, title } = body.0;
    let (status, row) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                // Locked, so that two concurrent conversions make one row, not two.
                let capture: Row = t::table
                    .find(id)
                    .select(Row::as_select())
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or_else(ApiError::not_found)?;
                if capture.status == "converted" {
                    return already_converted(capture, to).map(|row| (StatusCode::OK, row));
                }
                let title = converted_title(title, &capture.text, to)?;
                let notes = (title != capture.text).then(|| capture.text.clone());
                let made = NewRow {
                    id: Uuid::now_v7(),
                    workspace_id: capture.workspace_id,
                    created_by: me.user_id,
                    title,
                    notes,
                };
                let (task_id, project_id) = made.insert(conn, to).await?;
                let row = diesel::update(t::table.find(id))
                    .set((
                        t::status.eq("converted"),
                        t::converted_task_id.eq(task_id),
                        t::converted_project_id.eq(project_id),
                        t::converted_at.eq(now),
                        t::version.eq(t::version + 1),
                        t::updated_at.eq(now),
                    ))
                    .returning(Row::as_returning())
                    .get_result(conn)
                    .await?;
                Ok((StatusCode::CREATED, row))
            }
            .scope_boxed()
        })
        .await?;
    let version = row.version;
    let conversion = Conversion {
        task_id: row.converted_task_id,
        project_id: row.converted_project_id,
        capture: Captures::output(row),
    };
    Ok(HttpResponse::build(status)
        .insert_header(etag::etag(version))
        .json(conversion))
}

/// Converting again to the same kind answers the capture as it is; to the other kind, a conflict.
fn already_converted(capture: Row, to: ConvertTarget) -> ApiResult<Row> {
    let earlier = if capture.converted_project_id.is_some() {
        ConvertTarget::Project
    } else {
        ConvertTarget::Task
    };
    if earlier != to {
        let kind = match earlier {
            ConvertTarget::Task => "a task",
            ConvertTarget::Project => "a project",
        };
        return Err(ApiError::new(
            ProblemKind::Conflict,
            format!("this capture was already converted to {kind}"),
        ));
    }
    Ok(capture)
}

/// The title asked for, checked like the new row's own; else one taken from the capture's text.
fn converted_title(title: Option<String>, text: &str, to: ConvertTarget) -> ApiResult<String> {
    let max = match to {
        ConvertTarget::Task => TASK_TITLE_MAX,
        ConvertTarget::Project => PROJECT_TITLE_MAX,
    };
    let Some(raw) = title else {
        return Ok(title_from(text, max));
    };
    let mut errors = Vec::new();
    let title = fields::title("title", &raw, max, &mut errors);
    if errors.is_empty() {
        Ok(title)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The task or project a capture becomes.
struct NewRow {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    title: String,
    notes: Option<String>,
}

impl NewRow {
    /// Inserts the row; answers (task id, project id), one of them set.
    async fn insert(
        self,
        conn: &mut Conn,
        to: ConvertTarget,
    ) -> ApiResult<(Option<Uuid>, Option<Uuid>)> {
        match to {
            ConvertTarget::Task => {
                diesel::insert_into(tasks::table)
                    .values((
                        tasks::id.eq(self.id),
                        tasks::workspace_id.eq(self.workspace_id),
                        tasks::created_by.eq(self.created_by),
                        tasks::title.eq(&self.title),
                        tasks::notes.eq(&self.notes),
                    ))
                    .execute(conn)
                    .await?;
                Ok((Some(self.id), None))
            }
            ConvertTarget::Project => {
                diesel::insert_into(projects::table)
                    .values((
                        projects::id.eq(self.id),
                        projects::workspace_id.eq(self.workspace_id),
                        projects::created_by.eq(self.created_by),
                        projects::title.eq(&self.title),
                        projects::notes.eq(&self.notes),
                    ))
                    .execute(conn)
                    .await?;
                Ok((None, Some(self.id)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_text_on_one_line() {
        assert_eq!(
            title_from("  Buy\n milk\tand  eggs ", 500),
            "Buy milk and eggs"
        );
        assert_eq!(title_from(&"é".repeat(600), 500).chars().count(), 500);
    }

    #[test]
    fn capture_text_keeps_line_breaks() {
        let mut errors = Vec::new();
        assert_eq!(body_text("text", " a\nb ", 10, &mut errors), "a\nb");
        assert!(errors.is_empty());
        body_text("text", "a\u{7}", 10, &mut errors);
        body_text("text", "   ", 10, &mut errors);
        assert_eq!(errors.len(), 2);
    }
}
