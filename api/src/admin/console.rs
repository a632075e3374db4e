use std::collections::BTreeMap;

use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz},
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{pool::Conn, schema::auth::admins},
    http::{
        json::Json,
        problem::{ApiError, ApiResult},
    },
    subscriptions::PLANS,
};

const MAX_PAGE: i64 = 200;

fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string())
}

/// Runs `f` as `minime_admin` if the caller is an administrator signed in with a session.
async fn as_admin<R, F>(state: &State, auth: &Auth, f: F) -> ApiResult<R>
where
    F: for<'r> FnOnce(
            &'r mut Conn,
        )
            -> diesel_async::scoped_futures::ScopedBoxFuture<'static, 'r, ApiResult<R>>
        + Send
        + 'static,
    R: Send + 'static,
{
    auth.tx(&state.db, Access::Read, move |conn, me| {
        async move {
            let admin = me.session_id.is_some()
                && diesel::select(diesel::dsl::exists(admins::table.find(me.user_id)))
                    .get_result::<bool>(conn)
                    .await?;
            if !admin {
                return Err(ApiError::not_found());
            }
            conn.batch_execute("SET LOCAL ROLE minime_admin").await?;
            f(conn).await
        }
        .scope_boxed()
    })
    .await
}

/// Logs a look at the data; the database accepts only the actions listed in `ops.admin_log`.
async fn log(conn: &mut Conn, action: &str, request_id: Option<String>) -> ApiResult<()> {
    diesel::sql_query("SELECT ops.admin_log($1, $2)")
        .bind::<Text, _>(action)
        .bind::<Nullable<Text>, _>(request_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct DayCount {
    pub date: NaiveDate,
    pub count: i64,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct OutboxHealth {
    /// Mails waiting to be delivered.
    pub pending: i64,
    /// Mails given up on.
    pub failed: i64,
    pub oldest_pending_seconds: i64,
}

/// Counts only: no row of anybody's.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct AdminStats {
    pub users: i64,
    pub locked_users: i64,
    #[schema(example = json!({"free": 120, "pro": 14, "max": 2}))]
    pub users_by_plan: BTreeMap<String, i64>,
    /// The last 30 days (UTC), days without sign-ups left out.
    pub signups_per_day: Vec<DayCount>,
    /// Distinct users with a session started or used that day (last 30 days, UTC).
    pub active_users_per_day: Vec<DayCount>,
    /// Rows per workspace table.
    pub entities: BTreeMap<String, i64>,
    /// Connected integrations, what they cache and how many fail to be read.
    #[schema(example = json!({"calendar_connections": 9, "calendar_events": 212, "calendar_failing": 1, "gmail_accounts": 2, "gmail_messages": 60}))]
    pub integrations: BTreeMap<String, i64>,
    /// Second factors: how many accounts use an authenticator app, how many passkeys there are
    /// and how many were refused as possibly cloned.
    #[schema(example = json!({"totp_users": 12, "passkeys": 30, "passkey_users": 21, "passkeys_possibly_cloned": 0}))]
    pub factors: BTreeMap<String, i64>,
    /// The mail queue.
    pub outbox: OutboxHealth,
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Jsonb)]
    value: serde_json::Value,
}

/// Statistics: users by plan, sign-ups and active users per day, rows per table, mail queue.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Statistics", body = AdminStats),
        (status = 404, description = "Not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/stats")]
pub async fn stats(state: State, auth: Auth, req: HttpRequest) -> ApiResult<HttpResponse> {
    let rid = request_id(&req);
    let stats = as_admin(&state, &auth, move |conn| {
        async move {
            log(conn, "view_stats", rid).await?;
            let row: JsonRow = diesel::sql_query("SELECT ops.admin_stats() AS value")
                .get_result(conn)
                .await?;
            serde_json::from_value::<AdminStats>(row.value).map_err(ApiError::internal)
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Ok().json(stats))
}

/// An account as administrators see it: a keyed hash instead of any identifier.
#[derive(Serialize, ToSchema, QueryableByName)]
pub struct AdminUser {
    /// HMAC-SHA-256 of the user id under the server's admin key (first 24 hex digits).
    #[diesel(sql_type = Text)]
    #[schema(example = "2a939fc63dc11349f6141a24")]
    #[serde(rename = "ref")]
    pub user_ref: String,
    #[diesel(sql_type = Text)]
    pub plan: String,
    #[diesel(sql_type = Bool)]
    pub locked: bool,
    #[diesel(sql_type = Bool)]
    pub admin: bool,
    /// When the account was made, to the month.
    #[diesel(sql_type = Text)]
    #[schema(example = "2026-11")]
    pub created_month: String,
}

#[derive(Serialize, ToSchema)]
pub struct AdminUsers {
    pub items: Vec<AdminUser>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// From `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

fn limit(page: &Page) -> ApiResult<i64> {
    let limit = page.limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 200"));
    }
    Ok(limit)
}

/// Accounts by hashed id, with plan, lock, role and the month they were made.
#[utoipa::path(
    tag = "admin",
    params(Page),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "A page of accounts in hash order", body = AdminUsers),
        (status = 404, description = "Not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/users")]
pub async fn users(
    state: State,
    auth: Auth,
    req: HttpRequest,
    page: web::Query<Page>,
) -> ApiResult<HttpResponse> {
    let limit = limit(&page)?;
    let cursor = page.into_inner().cursor;
    let rid = request_id(&req);
    let mut items: Vec<AdminUser> = as_admin(&state, &auth, move |conn| {
        async move {
            log(conn, "list_users", rid).await?;
            Ok(diesel::sql_query(
                "SELECT ref AS user_ref, plan, locked, admin, created_month FROM ops.admin_users($1, $2)",
            )
            .bind::<Nullable<Text>, _>(cursor)
            .bind::<Integer, _>(limit as i32 + 1)
            .load(conn)
            .await?)
        }
        .scope_boxed()
    })
    .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.user_ref.clone())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(AdminUsers { items, next_cursor }))
}

#[derive(QueryableByName)]
struct Acted {
    #[diesel(sql_type = Bool)]
    found: bool,
}

async fn act(
    state: State,
    auth: Auth,
    req: HttpRequest,
    target: String,
    action: &'static str,
    arg: Option<String>,
) -> ApiResult<HttpResponse> {
    let rid = request_id(&req);
    let acted = as_admin(&state, &auth, move |conn| {
        async move {
            let row: Acted = diesel::sql_query("SELECT ops.admin_act($1, $2, $3, $4) AS found")
                .bind::<Text, _>(target)
                .bind::<Text, _>(action)
                .bind::<Nullable<Text>, _>(arg)
                .bind::<Nullable<Text>, _>(rid)
                .get_result(conn)
                .await?;
            Ok(row.found)
        }
        .scope_boxed()
    })
    .await?;
    if acted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::not_found())
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPlan {
    /// `free`, `pro` or `max`.
    #[schema(example = "pro")]
    pub plan: String,
}

/// Set an account's plan.
#[utoipa::path(
    tag = "admin",
    params(("user_ref" = String, Path, description = "The account's hashed id")),
    request_body = SetPlan,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Done, and logged"),
        (status = 404, description = "No such account, or not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/users/{user_ref}/plan")]
pub async fn set_user_plan(
    state: State,
    auth: Auth,
    req: HttpRequest,
    target: web::Path<String>,
    body: Json<SetPlan>,
) -> ApiResult<HttpResponse> {
    let plan = body.0.plan;
    if !PLANS.contains(&plan.as_str()) {
        return Err(ApiError::field("plan", "must be free, pro or max"));
    }
    act(
        state,
        auth,
        req,
        target.into_inner(),
        "set_plan",
        Some(plan),
    )
    .await
}

/// Lock an account: it cannot sign in, its sessions end and its access tokens are revoked.
#[utoipa::path(
    tag = "admin",
    params(("user_ref" = String, Path, description = "The account's hashed id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Done, and logged"),
        (status = 404, description = "No such account, or not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/users/{user_ref}/lock")]
pub async fn lock(
    state: State,
    auth: Auth,
    req: HttpRequest,
    target: web::Path<String>,
) -> ApiResult<HttpResponse> {
    act(state, auth, req, target.into_inner(), "lock", None).await
}

/// Unlock an account.
#[utoipa::path(
    tag = "admin",
    params(("user_ref" = String, Path, description = "The account's hashed id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Done, and logged"),
        (status = 404, description = "No such account, or not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/users/{user_ref}/unlock")]
pub async fn unlock(
    state: State,
    auth: Auth,
    req: HttpRequest,
    target: web::Path<String>,
) -> ApiResult<HttpResponse> {
    act(state, auth, req, target.into_inner(), "unlock", None).await
}

/// End every session of an account.
#[utoipa::path(
    tag = "admin",
    params(("user_ref" = String, Path, description = "The account's hashed id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Done, and logged"),
        (status = 404, description = "No such account, or not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/admin/users/{user_ref}/sign-out")]
pub async fn sign_out(
    state: State,
    auth: Auth,
    req: HttpRequest,
    target: web::Path<String>,
) -> ApiResult<HttpResponse> {
    act(state, auth, req, target.into_inner(), "sign_out", None).await
}

/// One administrative action: who (hashed), what, on whom (hashed), when, in which request.
#[derive(Serialize, ToSchema, QueryableByName)]
pub struct AuditEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    #[schema(example = "lock")]
    pub action: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub target: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub detail: serde_json::Value,
    #[diesel(sql_type = Nullable<Text>)]
    pub request_id: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditLog {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The audit log, newest first. It can be read, never changed.
#[utoipa::path(
    tag = "admin",
    params(Page),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditLog),
        (status = 404, description = "Not an administrator", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/admin/audit")]
pub async fn audit(state: State, auth: Auth, page: web::Query<Page>) -> ApiResult<HttpResponse> {
    let limit = limit(&page)?;
    let before: i64 = match page.cursor.as_deref() {
        None => i64::MAX,
        Some(c) => c
            .parse()
            .map_err(|_| ApiError::field("cursor", "is not a cursor from this list"))?,
    };
    let mut items: Vec<AuditEntry> = as_admin(&state, &auth, move |conn| {
        async move {
            Ok(diesel::sql_query(
                "SELECT id, actor, action, target, detail, request_id, created_at FROM ops.admin_audit \
                 WHERE id < $1 ORDER BY id DESC LIMIT $2",
            )
            .bind::<BigInt, _>(before)
            .bind::<BigInt, _>(limit + 1)
            .load(conn)
            .await?)
        }
        .scope_boxed()
    })
    .await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| e.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(AuditLog { items, next_cursor }))
}
