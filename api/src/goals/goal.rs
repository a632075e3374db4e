use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::progress::Progress;

use crate::{
    common::{
        fields,
        resource::{check_link, Ctx, Link, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::goals as t},
    http::problem::{ApiError, ApiResult},
    keyset,
};

pub const STATUSES: &[&str] = &["active", "paused", "achieved", "abandoned"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct GoalRow {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    title: String,
    why: Option<String>,
    target_date: Option<NaiveDate>,
    status: String,
    area_id: Option<Uuid>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub struct Row {
    goal: GoalRow,
    progress: Progress,
}

#[derive(Serialize, ToSchema)]
pub struct Goal {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Run a half marathon")]
    pub title: String,
    /// Why it matters: the reason to come back to.
    #[schema(example = "To feel strong at 40")]
    pub why: Option<String>,
    #[schema(example = "2027-04-30")]
    pub target_date: Option<NaiveDate>,
    /// `active`, `paused`, `achieved` or `abandoned`.
    #[schema(example = "active")]
    pub status: String,
    pub area_id: Option<Uuid>,
    pub progress: Progress,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalInput {
    pub workspace_id: Option<Uuid>,
    #[schema(example = "Run a half marathon")]
    pub title: String,
    #[schema(example = "To feel strong at 40")]
    pub why: Option<String>,
    #[schema(example = "2027-04-30")]
    pub target_date: Option<NaiveDate>,
    #[schema(example = "active")]
    pub status: Option<String>,
    pub area_id: Option<Uuid>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    title: String,
    why: Option<String>,
    target_date: Option<NaiveDate>,
    status: String,
    area_id: Option<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GoalFilter {
    pub status: Option<String>,
    pub area_id: Option<Uuid>,
}

pub struct Goals;

async fn with_progress(conn: &mut Conn, goals: Vec<GoalRow>) -> ApiResult<Vec<Row>> {
    let ids: Vec<Uuid> = goals.iter().map(|g| g.id).collect();
    let progress = super::progress::of(conn, &ids).await?;
    Ok(goals
        .into_iter()
        .map(|goal| Row {
            progress: progress.get(&goal.id).copied().unwrap_or_default(),
            goal,
        })
        .collect())
}

async fn one(conn: &mut Conn, goal: GoalRow) -> ApiResult<Row> {
    Ok(with_progress(conn, vec![goal]).await?.remove(0))
}

impl Resource for Goals {
    const TABLE: &'static str = "app.goals";
    type Row = Row;
    type Out = Goal;
    type Input = GoalInput;
    type Values = Values;
    type Filter = GoalFilter;

    fn meta(row: &Row) -> Meta {
        let g = &row.goal;
        Meta {
            id: g.id,
            workspace_id: g.workspace_id,
            version: g.version,
            created_at: g.created_at,
        }
    }

    fn output(row: Row) -> Goal {
        let g = row.goal;
        Goal {
            id: g.id,
            workspace_id: g.workspace_id,
            created_by: g.created_by,
            title: g.title,
            why: g.why,
            target_date: g.target_date,
            status: g.status,
            area_id: g.area_id,
            progress: row.progress,
            version: g.version,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }

    fn input(row: &Row) -> GoalInput {
        let g = &row.goal;
        GoalInput {
            workspace_id: Some(g.workspace_id),
            title: g.title.clone(),
            why: g.why.clone(),
            target_date: g.target_date,
            status: Some(g.status.clone()),
            area_id: g.area_id,
        }
    }

    fn input_workspace(input: &GoalInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        i: GoalInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let title = fields::title("title", &i.title, 200, &mut errors);
        let why = fields::text("why", i.why, 5000, &mut errors);
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
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values {
            title,
            why,
            target_date: i.target_date,
            status,
            area_id: i.area_id,
        })
    }

    crate::row_queries!(t, GoalRow, Values, wrap: one => Row);

    async fn list(conn: &mut Conn, q: ListQuery<GoalFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(GoalRow::as_select()).into_boxed();
        if let Some(status) = q.filter.status.clone() {
            query = query.filter(t::status.eq(status));
        }
        if let Some(area) = q.filter.area_id {
            query = query.filter(t::area_id.eq(area));
        }
        let goals = keyset!(query, t, q).load(conn).await?;
        with_progress(conn, goals).await
    }
}
