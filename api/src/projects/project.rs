use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{check_link, Ctx, Link, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::projects as t},
    http::problem::{ApiError, ApiResult},
    keyset,
};

pub const STATUSES: &[&str] = &["planned", "active", "on_hold", "completed", "archived"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    title: String,
    notes: Option<String>,
    status: String,
    area_id: Option<Uuid>,
    goal_id: Option<Uuid>,
    target_date: Option<NaiveDate>,
    completed_at: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Project {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Move flat")]
    pub title: String,
    pub notes: Option<String>,
    /// `planned`, `active`, `on_hold`, `completed` or `archived`.
    #[schema(example = "active")]
    pub status: String,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    #[schema(example = "2027-02-28")]
    pub target_date: Option<NaiveDate>,
    /// Stamped when the status becomes `completed`.
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    pub workspace_id: Option<Uuid>,
    #[schema(example = "Move flat")]
    pub title: String,
    pub notes: Option<String>,
    #[schema(example = "active")]
    pub status: Option<String>,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    #[schema(example = "2027-02-28")]
    pub target_date: Option<NaiveDate>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    title: String,
    notes: Option<String>,
    status: String,
    area_id: Option<Uuid>,
    goal_id: Option<Uuid>,
    target_date: Option<NaiveDate>,
    completed_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    pub status: Option<String>,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
}

pub struct Projects;

impl Resource for Projects {
    const TABLE: &'static str = "app.projects";
    type Row = Row;
    type Out = Project;
    type Input = ProjectInput;
    type Values = Values;
    type Filter = ProjectFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Project {
        Project {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            title: r.title,
            notes: r.notes,
            status: r.status,
            area_id: r.area_id,
            goal_id: r.goal_id,
            target_date: r.target_date,
            completed_at: r.completed_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> ProjectInput {
        ProjectInput {
            workspace_id: Some(r.workspace_id),
            title: r.title.clone(),
            notes: r.notes.clone(),
            status: Some(r.status.clone()),
            area_id: r.area_id,
            goal_id: r.goal_id,
            target_date: r.target_date,
        }
    }

    fn input_workspace(input: &ProjectInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        i: ProjectInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let title = fields::title("title", &i.title, 200, &mut errors);
        let notes = fields::text("notes", i.notes, 20_000, &mut errors);
        let status = fields::one_of("status", i.status, STATUSES, "active", &mut errors);
        check_link(
            conn,
            Link::Area,
            i.area_id,
            ctx.workspace_id,
            "area_id",
            &mut errors,
        )
        .await?;
        check_link(
            conn,
            Link::Goal,
            i.goal_id,
            ctx.workspace_id,
            "goal_id",
            &mut errors,
        )
        .await?;
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let kept: Option<Option<DateTime<Utc>>> = t::table
            .find(ctx.id)
            .select(t::completed_at)
            .first(conn)
            .await
            .optional()?;
        let completed_at = (status == "completed").then(|| kept.flatten().unwrap_or(ctx.at));
        Ok(Values {
            title,
            notes,
            status,
            area_id: i.area_id,
            goal_id: i.goal_id,
            target_date: i.target_date,
            completed_at,
        })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<ProjectFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(status) = q.filter.status.clone() {
            query = query.filter(t::status.eq(status));
        }
        if let Some(area) = q.filter.area_id {
            query = query.filter(t::area_id.eq(area));
        }
        if let Some(goal) = q.filter.goal_id {
            query = query.filter(t::goal_id.eq(goal));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}
