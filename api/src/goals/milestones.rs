//! Milestones (`/v1/milestones`): dated steps towards a goal.

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
    db::{pool::Conn, schema::app::milestones as t},
    http::problem::{ApiError, ApiResult},
    keyset,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    goal_id: Uuid,
    title: String,
    due_date: Option<NaiveDate>,
    completed_at: Option<DateTime<Utc>>,
    position: i32,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Milestone {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub goal_id: Uuid,
    #[schema(example = "Run 10 km without stopping")]
    pub title: String,
    #[schema(example = "2027-01-31")]
    pub due_date: Option<NaiveDate>,
    pub done: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub position: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneInput {
    pub workspace_id: Option<Uuid>,
    pub goal_id: Uuid,
    #[schema(example = "Run 10 km without stopping")]
    pub title: String,
    #[schema(example = "2027-01-31")]
    pub due_date: Option<NaiveDate>,
    /// Setting it stamps `completed_at`.
    pub done: Option<bool>,
    pub position: Option<i32>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    goal_id: Uuid,
    title: String,
    due_date: Option<NaiveDate>,
    completed_at: Option<DateTime<Utc>>,
    position: i32,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MilestoneFilter {
    pub goal_id: Option<Uuid>,
    pub done: Option<bool>,
}

pub struct Milestones;

impl Resource for Milestones {
    const TABLE: &'static str = "app.milestones";
    type Row = Row;
    type Out = Milestone;
    type Input = MilestoneInput;
    type Values = Values;
    type Filter = MilestoneFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Milestone {
        Milestone {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            goal_id: r.goal_id,
            title: r.title,
            due_date: r.due_date,
            done: r.completed_at.is_some(),
            completed_at: r.completed_at,
            position: r.position,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> MilestoneInput {
        MilestoneInput {
            workspace_id: Some(r.workspace_id),
            goal_id: r.goal_id,
            title: r.title.clone(),
            due_date: r.due_date,
            done: Some(r.completed_at.is_some()),
            position: Some(r.position),
        }
    }

    fn input_workspace(input: &MilestoneInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        i: MilestoneInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let title = fields::title("title", &i.title, 200, &mut errors);
        check_link(
            conn,
            Link::Goal,
            Some(i.goal_id),
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
        let completed_at = i
            .done
            .unwrap_or(false)
            .then(|| kept.flatten().unwrap_or(ctx.at));
        Ok(Values {
            goal_id: i.goal_id,
            title,
            due_date: i.due_date,
            completed_at,
            position: i.position.unwrap_or(0),
        })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<MilestoneFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(goal) = q.filter.goal_id {
            query = query.filter(t::goal_id.eq(goal));
        }
        match q.filter.done {
            Some(true) => query = query.filter(t::completed_at.is_not_null()),
            Some(false) => query = query.filter(t::completed_at.is_null()),
            None => {}
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}
