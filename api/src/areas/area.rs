use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::resource::{Ctx, ListQuery, Meta, Resource},
    db::{pool::Conn, schema::app::life_areas as t},
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    name: String,
    color: String,
    position: i32,
    archived: bool,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Area {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Health")]
    pub name: String,
    /// `#rrggbb`
    #[schema(example = "#22c55e")]
    pub color: String,
    pub position: i32,
    pub archived: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaInput {
    /// Default: your personal workspace. Cannot change later.
    pub workspace_id: Option<Uuid>,
    #[schema(example = "Health")]
    pub name: String,
    /// `#rrggbb`, default `#6366f1`.
    #[schema(example = "#22c55e")]
    pub color: Option<String>,
    /// Order among areas, ascending.
    #[schema(example = 0)]
    pub position: Option<i32>,
    pub archived: Option<bool>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t)]
pub struct Values {
    name: String,
    color: String,
    position: i32,
    archived: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaFilter {
    /// `true` lists archived areas only, `false` active ones only.
    pub archived: Option<bool>,
}

pub struct Areas;

impl Resource for Areas {
    const TABLE: &'static str = "app.life_areas";
    type Row = Row;
    type Out = Area;
    type Input = AreaInput;
    type Values = Values;
    type Filter = AreaFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Area {
        Area {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            name: r.name,
            color: r.color,
            position: r.position,
            archived: r.archived,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> AreaInput {
        AreaInput {
            workspace_id: Some(r.workspace_id),
            name: r.name.clone(),
            color: Some(r.color.clone()),
            position: Some(r.position),
            archived: Some(r.archived),
        }
    }

    fn input_workspace(input: &AreaInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        _: &mut Conn,
        _: Ctx,
        _: Option<&Row>,
        input: AreaInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let name = crate::common::fields::title("name", &input.name, 100, &mut errors);
        let color = input
            .color
            .unwrap_or_else(|| "#6366f1".into())
            .to_lowercase();
        if !(color.len() == 7
            && color.starts_with('#')
            && color[1..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            errors.push(FieldError {
                field: "color".into(),
                message: "must be a colour such as #22c55e".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values {
            name,
            color,
            position: input.position.unwrap_or(0),
            archived: input.archived.unwrap_or(false),
        })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<AreaFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(archived) = q.filter.archived {
            query = query.filter(t::archived.eq(archived));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}
