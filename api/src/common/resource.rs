//! The life cycle that every workspace resource shares: create (with Idempotency-Key), get,
//! list (keyset pages, `?workspace_id=`), PATCH as JSON merge patch validated like a create,
//! and delete; ETag/If-Match throughout. Each resource supplies its types and queries.

use std::future::Future;

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth},
        idempotency,
        state::State,
    },
    db::{pool::Conn, schema::app},
    http::{
        etag,
        json::{self, Json},
        pagination::{Cursor, Page, Paging},
        problem::{ApiError, ApiResult, FieldError},
    },
};

/// What every row has, whatever its resource.
pub struct Meta {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

impl Meta {
    fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// Who writes which row where.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub id: Uuid,
    /// The request's instant on the server's clock.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspaceFilter {
    /// Only rows of this workspace (default: every workspace you belong to).
    pub workspace_id: Option<Uuid>,
}

pub struct ListQuery<F> {
    pub workspace_id: Option<Uuid>,
    pub filter: F,
    pub after: Option<Cursor>,
    /// Rows to fetch: the page size plus one, to learn whether more follow.
    pub fetch: i64,
}

pub trait Resource: Send + Sync + 'static {
    /// The table, schema-qualified (`app.tasks`).
    const TABLE: &'static str;
    type Row: Send + Sync + 'static;
    type Out: Serialize + Send + 'static;
    /// The writable fields: a create body, and the shape a merge patch is applied to.
    type Input: DeserializeOwned + Serialize + Send + 'static;
    type Values: Send + 'static;
    type Filter: DeserializeOwned + Send + 'static;

    fn meta(row: &Self::Row) -> Meta;
    fn output(row: Self::Row) -> Self::Out;
    /// The row's current state as input, for merge patches.
    fn input(row: &Self::Row) -> Self::Input;
    fn input_workspace(input: &Self::Input) -> Option<Uuid>;

    /// Checks every field (all errors at once) and every link; fills defaults. `current` is the
    /// stored row when the write changes one (a patch), `None` for a new row.
    fn validate<'a>(
        conn: &'a mut Conn,
        ctx: Ctx,
        current: Option<&'a Self::Row>,
        input: Self::Input,
    ) -> impl Future<Output = ApiResult<Self::Values>> + Send + 'a;
    fn find<'a>(
        conn: &'a mut Conn,
        id: Uuid,
    ) -> impl Future<Output = ApiResult<Option<Self::Row>>> + Send + 'a;
    fn insert<'a>(
        conn: &'a mut Conn,
        ctx: Ctx,
        values: Self::Values,
    ) -> impl Future<Output = ApiResult<Self::Row>> + Send + 'a;
    fn update<'a>(
        conn: &'a mut Conn,
        id: Uuid,
        values: Self::Values,
    ) -> impl Future<Output = ApiResult<Self::Row>> + Send + 'a;
    /// Deletes the row after detaching the rows that link to it ([`detach_links`]).
    fn delete<'a>(
        conn: &'a mut Conn,
        workspace_id: Uuid,
        id: Uuid,
    ) -> impl Future<Output = ApiResult<usize>> + Send + 'a;
    fn list<'a>(
        conn: &'a mut Conn,
        query: ListQuery<Self::Filter>,
    ) -> impl Future<Output = ApiResult<Vec<Self::Row>>> + Send + 'a;

    /// Runs in the transaction of a create (`before` is `None`) or a patch through this life
    /// cycle, after the write: what the change means elsewhere, such as an event automation
    /// rules wait for. Writes made by other paths (a rule's own actions) do not pass here.
    fn written<'a>(
        _conn: &'a mut Conn,
        _before: Option<&'a Self::Row>,
        _after: &'a Self::Row,
    ) -> impl Future<Output = ApiResult<()>> + Send + 'a {
        async { Ok(()) }
    }
}

/// The workspace a new row goes to: the one asked for if the caller belongs to it, otherwise
/// the caller's personal workspace.
pub async fn resolve_workspace(
    conn: &mut Conn,
    user_id: Uuid,
    requested: Option<Uuid>,
) -> ApiResult<Uuid> {
    use app::workspaces as w;
    match requested {
        // RLS shows only workspaces the caller belongs to.
        Some(id) => w::table
            .filter(w::id.eq(id))
            .select(w::id)
            .first(conn)
            .await
            .optional()?
            .ok_or_else(|| ApiError::field("workspace_id", "is not a workspace you belong to")),
        None => Ok(w::table
            .filter(w::owner_id.eq(user_id))
            .filter(w::kind.eq("personal"))
            .select(w::id)
            .first(conn)
            .await?),
    }
}

/// Rows one may link to.
#[derive(Clone, Copy, Debug)]
pub enum Link {
    Area,
    Goal,
    Project,
    Task,
    Decision,
}

/// Links to the rows `ids` of `table` (and to the owned rows that go with them by cascade) that
/// would refuse their deletion are set to NULL, as the caller (row-level security applies).
/// Called in the transaction of the delete, just before it; answers how many rows changed.
pub async fn detach_links(
    conn: &mut Conn,
    table: &str,
    workspace_id: Uuid,
    ids: &[Uuid],
) -> ApiResult<i64> {
    #[derive(QueryableByName)]
    struct Detached {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let row: Detached = diesel::sql_query("SELECT app.detach_links($1::regclass, $2, $3) AS n")
        .bind::<diesel::sql_types::Text, _>(table)
        .bind::<diesel::sql_types::Uuid, _>(workspace_id)
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
        .get_result(conn)
        .await?;
    Ok(row.n)
}

/// A link must name a row the caller can see in the same workspace; otherwise a field error.
pub async fn check_link(
    conn: &mut Conn,
    link: Link,
    id: Option<Uuid>,
    workspace_id: Uuid,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    let Some(id) = id else { return Ok(()) };
    macro_rules! exists {
        ($t:ident) => {
            app::$t::table
                .filter(app::$t::id.eq(id))
                .filter(app::$t::workspace_id.eq(workspace_id))
                .count()
                .get_result::<i64>(conn)
                .await?
        };
    }
    let found = match link {
        Link::Area => exists!(life_areas),
        Link::Goal => exists!(goals),
        Link::Project => exists!(projects),
        Link::Task => exists!(tasks),
        Link::Decision => exists!(decisions),
    };
    if found == 0 {
        errors.push(FieldError {
            field: field.to_owned(),
            message: "does not name a row in the same workspace".into(),
        });
    }
    Ok(())
}

fn respond<R: Resource>(status: StatusCode, row: R::Row) -> ApiResult<(StatusCode, i32, Vec<u8>)> {
    let version = R::meta(&row).version;
    let body = serde_json::to_vec(&R::output(row)).map_err(ApiError::internal)?;
    Ok((status, version, body))
}

fn reply((status, version, body): (StatusCode, i32, Vec<u8>)) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag::etag(version))
        .content_type("application/json")
        .body(body)
}

pub async fn create<R: Resource>(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    body: Json<R::Input>,
) -> ApiResult<HttpResponse> {
    let key = idempotency::key(req)?;
    let path = req.path().to_owned();
    let Json(input, hash) = body;
    let outcome = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let request = key.as_deref().map(|key| idempotency::Request {
                    key,
                    path: &path,
                    body_hash: &hash,
                });
                if let Some(request) = &request {
                    if let Some(stored) = idempotency::replay(conn, request).await? {
                        return Ok(Err(stored));
                    }
                }
                let workspace_id =
                    resolve_workspace(conn, me.user_id, R::input_workspace(&input)).await?;
                let ctx = Ctx {
                    user_id: me.user_id,
                    workspace_id,
                    id: Uuid::now_v7(),
                    at: me.at,
                };
                let values = R::validate(conn, ctx, None, input).await?;
                let row = R::insert(conn, ctx, values).await?;
                R::written(conn, None, &row).await?;
                let created = respond::<R>(StatusCode::CREATED, row)?;
                if let Some(request) = &request {
                    idempotency::remember(conn, request, StatusCode::CREATED, &created.2).await?;
                }
                Ok(Ok(created))
            }
            .scope_boxed()
        })
        .await?;
    Ok(match outcome {
        Ok(created) => reply(created),
        Err(replayed) => replayed.response(),
    })
}

pub async fn get<R: Resource>(state: &State, auth: &Auth, id: Uuid) -> ApiResult<HttpResponse> {
    let found = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                respond::<R>(
                    StatusCode::OK,
                    R::find(conn, id).await?.ok_or_else(ApiError::not_found)?,
                )
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(found))
}

pub async fn list<R: Resource>(
    state: &State,
    auth: &Auth,
    page: Paging,
    workspace: WorkspaceFilter,
    filter: R::Filter,
) -> ApiResult<HttpResponse> {
    let query = ListQuery {
        workspace_id: workspace.workspace_id,
        filter,
        after: page.after,
        fetch: page.fetch(),
    };
    let body = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let rows = R::list(conn, query).await?;
                let page = Page::from_rows(rows, &page, |row| R::meta(row).cursor()).map(R::output);
                serde_json::to_vec(&page).map_err(ApiError::internal)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// RFC 7396: the patch is merged into the row's current fields, and the result is validated
/// exactly like a create.
pub async fn patch<R: Resource>(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    id: Uuid,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(req)?;
    let schema = json::body_schema(req);
    let patch = json::patch_object(body.0)?;
    let updated = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current = R::find(conn, id).await?.ok_or_else(ApiError::not_found)?;
                let meta = R::meta(&current);
                etag::check(expected, meta.version)?;
                let input = json::merge_patch(&R::input(&current), &patch, schema.as_deref())?;
                if R::input_workspace(&input).is_some_and(|ws| ws != meta.workspace_id) {
                    return Err(ApiError::field(
                        "workspace_id",
                        "cannot change; create the row in the other workspace instead",
                    ));
                }
                let ctx = Ctx {
                    user_id: me.user_id,
                    workspace_id: meta.workspace_id,
                    id,
                    at: me.at,
                };
                let values = R::validate(conn, ctx, Some(&current), input).await?;
                let row = R::update(conn, id, values).await?;
                R::written(conn, Some(&current), &row).await?;
                respond::<R>(StatusCode::OK, row)
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(updated))
}

pub async fn delete<R: Resource>(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    id: Uuid,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(req)?;
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let current = R::find(conn, id).await?.ok_or_else(ApiError::not_found)?;
            let meta = R::meta(&current);
            etag::check(expected, meta.version)?;
            R::delete(conn, meta.workspace_id, id).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A row read as it is stored, for [`row_queries!`] on resources without derived data.
pub async fn as_stored<Row>(_conn: &mut Conn, row: Row) -> ApiResult<Row> {
    Ok(row)
}

/// `find`, `insert`, `update` (bumping `version`) and `delete` of a resource whose row struct maps
/// its table one to one, used inside each `impl Resource`. A macro because each diesel table is a
/// type of its own whose columns (`t::id`, `t::version`) a trait's default method cannot name.
#[macro_export]
macro_rules! row_queries {
    // Rows that carry derived data: `$wrap(conn, row)` turns the table's row into the resource's.
    ($t:ident, $row:ty, $values:ty, wrap: $wrap:path => $out:ty) => {
        async fn find(
            conn: &mut $crate::db::pool::Conn,
            id: uuid::Uuid,
        ) -> $crate::http::problem::ApiResult<Option<$out>> {
            match $t::table
                .find(id)
                .select(<$row>::as_select())
                .first(conn)
                .await
                .optional()?
            {
                Some(row) => Ok(Some($wrap(conn, row).await?)),
                None => Ok(None),
            }
        }

        async fn insert(
            conn: &mut $crate::db::pool::Conn,
            ctx: $crate::common::resource::Ctx,
            values: $values,
        ) -> $crate::http::problem::ApiResult<$out> {
            let row = diesel::insert_into($t::table)
                .values((
                    $t::id.eq(ctx.id),
                    $t::workspace_id.eq(ctx.workspace_id),
                    $t::created_by.eq(ctx.user_id),
                    values,
                ))
                .returning(<$row>::as_returning())
                .get_result(conn)
                .await?;
            $wrap(conn, row).await
        }

        async fn update(
            conn: &mut $crate::db::pool::Conn,
            id: uuid::Uuid,
            values: $values,
        ) -> $crate::http::problem::ApiResult<$out> {
            let row = diesel::update($t::table.find(id))
                .set((
                    values,
                    $t::version.eq($t::version + 1),
                    $t::updated_at.eq(diesel::dsl::now),
                ))
                .returning(<$row>::as_returning())
                .get_result(conn)
                .await?;
            $wrap(conn, row).await
        }

        async fn delete(
            conn: &mut $crate::db::pool::Conn,
            workspace_id: uuid::Uuid,
            id: uuid::Uuid,
        ) -> $crate::http::problem::ApiResult<usize> {
            $crate::common::resource::detach_links(conn, Self::TABLE, workspace_id, &[id]).await?;
            Ok(diesel::delete(
                $t::table
                    .filter($t::workspace_id.eq(workspace_id))
                    .filter($t::id.eq(id)),
            )
            .execute(conn)
            .await?)
        }
    };
    ($t:ident, $row:ty, $values:ty) => {
        $crate::row_queries!($t, $row, $values, wrap: $crate::common::resource::as_stored => $row);
    };
}

/// Keyset page over `(created_at desc, id desc)` for a boxed query of table `$t`, after
/// `$after` (an `Option<Cursor>`), fetching `$fetch` rows; with a [`ListQuery`] it also keeps to
/// the asked-for workspace. A macro because the columns belong to each table's own type, which a
/// generic function could only name through a wall of diesel bounds.
#[macro_export]
macro_rules! keyset {
    ($query:expr, $t:path, $list:expr) => {{
        use $t as t;
        let mut query = $query;
        if let Some(ws) = $list.workspace_id {
            query = query.filter(t::workspace_id.eq(ws));
        }
        $crate::keyset!(query, $t, $list.after, $list.fetch)
    }};
    ($query:expr, $t:path, $after:expr, $fetch:expr) => {{
        use $t as t;
        let mut query = $query;
        if let Some(c) = $after {
            query = query.filter(
                t::created_at
                    .lt(c.created_at)
                    .or(t::created_at.eq(c.created_at).and(t::id.lt(c.id))),
            );
        }
        query
            .order((t::created_at.desc(), t::id.desc()))
            .limit($fetch)
    }};
}
