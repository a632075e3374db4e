//! The options of a decision (`/v1/decision-options`).

use chrono::{DateTime, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{check_link, detach_links, Ctx, Link, ListQuery, Meta, Resource},
    },
    db::{
        pool::Conn,
        schema::app::{decision_options as t, decisions},
    },
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
};

const POINTS_MAX: usize = 20;
const POINT_CHARS: usize = 300;

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    decision_id: Uuid,
    title: String,
    pros: Vec<String>,
    cons: Vec<String>,
    score: Option<i16>,
    position: i32,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionOption {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub decision_id: Uuid,
    #[schema(example = "The 14-inch one")]
    pub title: String,
    #[schema(example = json!(["light", "long battery life"]))]
    pub pros: Vec<String>,
    #[schema(example = json!(["only 16 GB of memory"]))]
    pub cons: Vec<String>,
    /// 0 to 10, your overall rating.
    #[schema(example = 7)]
    pub score: Option<i16>,
    pub position: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionOptionInput {
    /// Default: your personal workspace; must be the decision's. Cannot change later.
    pub workspace_id: Option<Uuid>,
    /// The decision this option belongs to, in the same workspace. Cannot change later.
    pub decision_id: Uuid,
    /// 1 to 200 characters.
    #[schema(example = "The 14-inch one")]
    pub title: String,
    /// Up to 20, each 1 to 300 characters.
    #[schema(example = json!(["light", "long battery life"]), max_items = 20)]
    pub pros: Option<Vec<String>>,
    /// Up to 20, each 1 to 300 characters.
    #[schema(example = json!(["only 16 GB of memory"]), max_items = 20)]
    pub cons: Option<Vec<String>>,
    /// 0 to 10.
    #[schema(example = 7, minimum = 0, maximum = 10)]
    pub score: Option<i32>,
    /// Order among the decision's options, ascending.
    #[schema(example = 0)]
    pub position: Option<i32>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    decision_id: Uuid,
    title: String,
    pros: Vec<String>,
    cons: Vec<String>,
    score: Option<i16>,
    position: i32,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionOptionFilter {
    /// Only the options of this decision.
    pub decision_id: Option<Uuid>,
}

/// Short points: trimmed, each 1 to 300 characters, at most 20; errors name the item.
fn points(field: &str, raw: Option<Vec<String>>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let raw = raw.unwrap_or_default();
    if raw.len() > POINTS_MAX {
        errors.push(FieldError {
            field: field.into(),
            message: format!("at most {POINTS_MAX}"),
        });
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, point)| {
            let point = point.trim().to_owned();
            let n = point.chars().count();
            if n == 0 || n > POINT_CHARS || point.chars().any(char::is_control) {
                errors.push(FieldError {
                    field: format!("{field}.{i}"),
                    message: format!("must be 1 to {POINT_CHARS} printable characters"),
                });
            }
            point
        })
        .collect()
}

pub struct DecisionOptions;

impl Resource for DecisionOptions {
    const TABLE: &'static str = "app.decision_options";
    type Row = Row;
    type Out = DecisionOption;
    type Input = DecisionOptionInput;
    type Values = Values;
    type Filter = DecisionOptionFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> DecisionOption {
        DecisionOption {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            decision_id: r.decision_id,
            title: r.title,
            pros: r.pros,
            cons: r.cons,
            score: r.score,
            position: r.position,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> DecisionOptionInput {
        DecisionOptionInput {
            workspace_id: Some(r.workspace_id),
            decision_id: r.decision_id,
            title: r.title.clone(),
            pros: Some(r.pros.clone()),
            cons: Some(r.cons.clone()),
            score: r.score.map(i32::from),
            position: Some(r.position),
        }
    }

    fn input_workspace(input: &DecisionOptionInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        input: DecisionOptionInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let title = fields::title("title", &input.title, 200, &mut errors);
        let pros = points("pros", input.pros, &mut errors);
        let cons = points("cons", input.cons, &mut errors);
        fields::range("score", input.score.map(i64::from), 0, 10, &mut errors);
        // An option moved to another decision could leave that decision's choice pointing
        // at an option it never had.
        let current: Option<Uuid> = t::table
            .find(ctx.id)
            .select(t::decision_id)
            .first(conn)
            .await
            .optional()?;
        if current.is_some_and(|d| d != input.decision_id) {
            errors.push(FieldError {
                field: "decision_id".into(),
                message: "cannot change; create the option under the other decision".into(),
            });
        } else {
            check_link(
                conn,
                Link::Decision,
                Some(input.decision_id),
                ctx.workspace_id,
                "decision_id",
                &mut errors,
            )
            .await?;
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values {
            decision_id: input.decision_id,
            title,
            pros,
            cons,
            score: input.score.map(|s| s as i16),
            position: input.position.unwrap_or(0),
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
        Ok(diesel::insert_into(t::table)
            .values((
                t::id.eq(ctx.id),
                t::workspace_id.eq(ctx.workspace_id),
                t::created_by.eq(ctx.user_id),
                values,
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?)
    }

    async fn update(conn: &mut Conn, id: Uuid, values: Values) -> ApiResult<Row> {
        Ok(diesel::update(t::table.find(id))
            .set((values, t::version.eq(t::version + 1), t::updated_at.eq(now)))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?)
    }

    /// A decision never reads `decided` with nothing chosen: losing its chosen option
    /// opens it again.
    async fn delete(conn: &mut Conn, workspace_id: Uuid, id: Uuid) -> ApiResult<usize> {
        diesel::update(
            decisions::table
                .filter(decisions::workspace_id.eq(workspace_id))
                .filter(decisions::chosen_option_id.eq(id)),
        )
        .set((
            decisions::status.eq("open"),
            decisions::chosen_option_id.eq(None::<Uuid>),
            decisions::decided_at.eq(None::<DateTime<Utc>>),
            decisions::version.eq(decisions::version + 1),
            decisions::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
        detach_links(conn, Self::TABLE, workspace_id, &[id]).await?;
        Ok(diesel::delete(
            t::table
                .filter(t::workspace_id.eq(workspace_id))
                .filter(t::id.eq(id)),
        )
        .execute(conn)
        .await?)
    }

    async fn list(conn: &mut Conn, q: ListQuery<DecisionOptionFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(decision_id) = q.filter.decision_id {
            query = query.filter(t::decision_id.eq(decision_id));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_name_the_bad_item() {
        let mut errors = Vec::new();
        let kept = points(
            "pros",
            Some(vec![" light ".into(), "".into(), "x".repeat(301)]),
            &mut errors,
        );
        assert_eq!(kept[0], "light");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["pros.1", "pros.2"]);
        points("cons", Some(vec!["a".into(); 21]), &mut errors);
        assert_eq!(errors.last().unwrap().field, "cons");
    }
}
