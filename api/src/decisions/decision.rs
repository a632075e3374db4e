use actix_web::{post, web, HttpRequest, HttpResponse};
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
        schema::app::{decision_options, decisions as t},
    },
    http::{
        etag,
        json::Json,
        problem::{ApiError, ApiResult},
    },
    keyset,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    title: String,
    context: Option<String>,
    status: String,
    chosen_option_id: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Decision {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Which laptop to buy")]
    pub title: String,
    #[schema(example = "The old one dies daily; budget 1500 EUR.")]
    pub context: Option<String>,
    /// `open` or `decided`; changes only through `/decide` and `/reopen`.
    #[schema(example = "decided")]
    pub status: String,
    /// The option chosen, while `decided`.
    pub chosen_option_id: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `status`, `chosen_option_id` and `decided_at` are not fields here: they change only
/// through `/decide` and `/reopen`, and a body that names them is refused.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// Default: your personal workspace. Cannot change later.
    pub workspace_id: Option<Uuid>,
    /// 1 to 200 characters.
    #[schema(example = "Which laptop to buy")]
    pub title: String,
    /// Up to 20000 characters.
    #[schema(example = "The old one dies daily; budget 1500 EUR.")]
    pub context: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    title: String,
    context: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DecisionFilter {
    /// Only `open` or only `decided` decisions.
    pub status: Option<String>,
}

pub struct Decisions;

impl Resource for Decisions {
    const TABLE: &'static str = "app.decisions";
    type Row = Row;
    type Out = Decision;
    type Input = DecisionInput;
    type Values = Values;
    type Filter = DecisionFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Decision {
        Decision {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            title: r.title,
            context: r.context,
            status: r.status,
            chosen_option_id: r.chosen_option_id,
            decided_at: r.decided_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> DecisionInput {
        DecisionInput {
            workspace_id: Some(r.workspace_id),
            title: r.title.clone(),
            context: r.context.clone(),
        }
    }

    fn input_workspace(input: &DecisionInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        _: &mut Conn,
        _: Ctx,
        _: Option<&Row>,
        input: DecisionInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let title = fields::title("title", &input.title, 200, &mut errors);
        let context = fields::text("context", input.context, 20000, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values { title, context })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<DecisionFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(status) = q.filter.status {
            query = query.filter(t::status.eq(status));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// One of this decision's options.
    pub option_id: Uuid,
}

fn reply(row: Row) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag::etag(row.version))
        .json(Decisions::output(row))
}

/// Record the chosen option. Deciding again with another option changes the choice.
#[utoipa::path(
    tag = "decisions",
    params(
        ("id" = Uuid, Path, description = "Decision id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you last saw"),
    ),
    request_body = DecideRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Decided; `ETag` carries the version", body = Decision),
        (status = 403, description = "A read-only token", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`option_id` is not an option of this decision (`/problems/validation`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/decisions/{id}/decide")]
pub async fn decide(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<DecideRequest>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    let option_id = body.0.option_id;
    let row = auth
        .tx(&state.db, Access::Write, move |conn, _| {
            async move {
                let current = Decisions::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                etag::check(expected, current.version)?;
                let belongs: i64 = decision_options::table
                    .filter(decision_options::id.eq(option_id))
                    .filter(decision_options::decision_id.eq(id))
                    .count()
                    .get_result(conn)
                    .await?;
                if belongs == 0 {
                    return Err(ApiError::field(
                        "option_id",
                        "is not an option of this decision",
                    ));
                }
                if current.status == "decided" && current.chosen_option_id == Some(option_id) {
                    return Ok(current);
                }
                Ok(diesel::update(t::table.find(id))
                    .set((
                        t::status.eq("decided"),
                        t::chosen_option_id.eq(option_id),
                        t::decided_at.eq(now),
                        t::version.eq(t::version + 1),
                        t::updated_at.eq(now),
                    ))
                    .returning(Row::as_returning())
                    .get_result(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(row))
}

/// Undo a decision: back to `open`, no option chosen. An open decision is returned as is.
#[utoipa::path(
    tag = "decisions",
    params(
        ("id" = Uuid, Path, description = "Decision id"),
        ("If-Match" = Option<String>, Header, description = "The ETag you last saw"),
    ),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Open again; `ETag` carries the version", body = Decision),
        (status = 403, description = "A read-only token", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such decision, or not yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/decisions/{id}/reopen")]
pub async fn reopen(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    let row = auth
        .tx(&state.db, Access::Write, move |conn, _| {
            async move {
                let current = Decisions::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                etag::check(expected, current.version)?;
                if current.status == "open" {
                    return Ok(current);
                }
                Ok(diesel::update(t::table.find(id))
                    .set((
                        t::status.eq("open"),
                        t::chosen_option_id.eq(None::<Uuid>),
                        t::decided_at.eq(None::<DateTime<Utc>>),
                        t::version.eq(t::version + 1),
                        t::updated_at.eq(now),
                    ))
                    .returning(Row::as_returning())
                    .get_result(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(row))
}
