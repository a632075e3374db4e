//! `GET /v1/auth/sessions`, `DELETE /v1/auth/sessions/{id}`.

use actix_web::{delete, get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::common::extractor::{Access, Auth};
use crate::{
    common::state::State,
    db::{pool::Conn, schema::auth::sessions},
    http::{
        pagination::{Cursor, Page, PageParams, Paging},
        problem::{ApiError, ApiResult},
    },
};

#[derive(Serialize, ToSchema)]
pub struct Session {
    pub id: Uuid,
    #[schema(example = "cookie")]
    pub mode: String,
    #[schema(example = "Mozilla/5.0 (X11; Linux x86_64)")]
    pub user_agent: Option<String>,
    #[schema(example = "203.0.113.7")]
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// How the session last proved who you are, and when.
    pub auth_method: crate::common::assurance::AuthMethod,
    pub authenticated_at: DateTime<Utc>,
    /// True for the session making this request.
    pub current: bool,
}

#[derive(Queryable)]
struct SessionRow {
    id: Uuid,
    mode: String,
    user_agent: Option<String>,
    ip: Option<String>,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    auth_method: String,
    authenticated_at: DateTime<Utc>,
}

/// The account's active sessions, newest first.
#[utoipa::path(
    tag = "auth",
    params(PageParams),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Active sessions", body = Page<Session>)),
)]
#[get("/auth/sessions")]
pub async fn list_sessions(state: State, auth: Auth, page: Paging) -> ApiResult<HttpResponse> {
    let page = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let query = sessions::table
                    .filter(sessions::user_id.eq(me.user_id))
                    .filter(sessions::revoked_at.is_null())
                    .filter(sessions::expires_at.gt(me.at))
                    .into_boxed();
                let rows: Vec<SessionRow> =
                    crate::keyset!(query, sessions, page.after, page.fetch())
                        .select((
                            sessions::id,
                            sessions::mode,
                            sessions::user_agent,
                            sessions::ip,
                            sessions::created_at,
                            sessions::last_used_at,
                            sessions::expires_at,
                            sessions::auth_method,
                            sessions::authenticated_at,
                        ))
                        .load(conn)
                        .await?;
                let items = rows
                    .into_iter()
                    .map(
                        |SessionRow {
                             id,
                             mode,
                             user_agent,
                             ip,
                             created_at,
                             last_used_at,
                             expires_at,
                             auth_method,
                             authenticated_at,
                         }| {
                            Session {
                                current: Some(id) == me.session_id,
                                id,
                                mode,
                                user_agent,
                                ip,
                                created_at,
                                last_used_at,
                                expires_at,
                                auth_method: crate::common::assurance::AuthMethod::parse(
                                    &auth_method,
                                ),
                                authenticated_at,
                            }
                        },
                    )
                    .collect();
                Ok(Page::from_rows(items, &page, |s: &Session| Cursor {
                    created_at: s.created_at,
                    id: s.id,
                }))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// End one session (signs that device out).
#[utoipa::path(
    tag = "auth",
    params(("id" = Uuid, Path, description = "Session id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Session ended"),
        (status = 404, description = "No such active session of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/auth/sessions/{id}")]
pub async fn revoke_session(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Account, move |conn, me| {
        async move {
            let n = diesel::update(sessions::table.find(id))
                .filter(sessions::user_id.eq(me.user_id))
                .filter(sessions::revoked_at.is_null())
                .set((
                    sessions::revoked_at.eq(now),
                    sessions::revoked_reason.eq("revoked_by_user"),
                ))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(ApiError::not_found());
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every live session of a user but `keep` (the caller's own, when it stays).
pub(super) async fn revoke_all(
    conn: &mut Conn,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> ApiResult<()> {
    let mut query = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep));
    }
    query
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
