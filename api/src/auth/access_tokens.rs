//! Personal access tokens for scripts: `GET|POST /v1/auth/tokens`, `DELETE /v1/auth/tokens/{id}`.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    common::extractor::{Access, Auth},
    tokens,
};
use crate::{
    common::state::State,
    db::{pool::Conn, schema::auth::personal_access_tokens as pat},
    http::{
        json::Json,
        pagination::{Cursor, Page, PageParams, Paging},
        problem::{ApiError, ApiResult, FieldError},
    },
};

const MAX_TOKENS: i64 = 50;

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// GET requests only.
    Read,
    /// Reads and writes of workspace data (never account or credential management).
    Write,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// 1 to 100 characters.
    #[schema(
        example = "nightly backup script",
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub name: String,
    pub scope: Scope,
    /// Days until the token stops working (1 to 365); omit for no expiry.
    #[schema(example = 90, minimum = 1, maximum = 365)]
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessToken {
    pub id: Uuid,
    #[schema(example = "nightly backup script")]
    pub name: String,
    #[schema(example = "read")]
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token_info: AccessToken,
    /// Shown once: only its hash is stored.
    #[schema(example = "mm_pat_4qGk0X2v9sLr7bN1cT8yHwE3uPzA6jD5fM0oKiVnQ2s")]
    pub token: String,
}

type Row = (
    Uuid,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn to_api((id, name, scope, created_at, expires_at, last_used_at): Row) -> AccessToken {
    AccessToken {
        id,
        name,
        scope,
        created_at,
        expires_at,
        last_used_at,
    }
}

/// The token's name, trimmed, once the request's fields are all valid.
fn checked_name(body: &CreateTokenRequest) -> ApiResult<String> {
    let mut errors = Vec::new();
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError {
            field: "name".into(),
            message: "must be 1 to 100 characters".into(),
        });
    }
    if body
        .expires_in_days
        .is_some_and(|d| !(1..=365).contains(&d))
    {
        errors.push(FieldError {
            field: "expires_in_days".into(),
            message: "must be between 1 and 365".into(),
        });
    }
    if errors.is_empty() {
        Ok(name)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Create a token for scripts. The secret is in this response only.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 403, description = "Tokens cannot create tokens; with a second factor enrolled, a recent one is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/tokens")]
pub async fn create_token(
    state: State,
    auth: Auth,
    body: Json<CreateTokenRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let name = checked_name(&body)?;
    let scope = match body.scope {
        Scope::Read => "read",
        Scope::Write => "write",
    };
    let secret = format!("{}{}", tokens::PAT_PREFIX, tokens::random_token(32));
    let hash = tokens::hash(&secret);
    let expires_at = body
        .expires_in_days
        .map(|d| state.clock.now() + Duration::days(d));
    let created = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                crate::common::assurance::require_recent_strong(conn, &me).await?;
                let active: i64 = pat::table
                    .filter(pat::user_id.eq(me.user_id))
                    .filter(pat::revoked_at.is_null())
                    .count()
                    .get_result(conn)
                    .await?;
                if active >= MAX_TOKENS {
                    return Err(ApiError::field(
                        "name",
                        format!("you already have {MAX_TOKENS} active tokens; revoke one first"),
                    ));
                }
                let row: Row = diesel::insert_into(pat::table)
                    .values((
                        pat::id.eq(Uuid::now_v7()),
                        pat::user_id.eq(me.user_id),
                        pat::name.eq(name),
                        pat::token_hash.eq(hash),
                        pat::scope.eq(scope),
                        pat::expires_at.eq(expires_at),
                    ))
                    .returning((
                        pat::id,
                        pat::name,
                        pat::scope,
                        pat::created_at,
                        pat::expires_at,
                        pat::last_used_at,
                    ))
                    .get_result(conn)
                    .await?;
                Ok(to_api(row))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedToken {
            token_info: created,
            token: secret,
        }))
}

/// Active tokens, newest first (never their secrets).
#[utoipa::path(
    tag = "auth",
    params(PageParams),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Active tokens", body = Page<AccessToken>)),
)]
#[get("/auth/tokens")]
pub async fn list_tokens(state: State, auth: Auth, page: Paging) -> ApiResult<HttpResponse> {
    let page = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let query = pat::table
                    .filter(pat::user_id.eq(me.user_id))
                    .filter(pat::revoked_at.is_null())
                    .into_boxed();
                let rows: Vec<Row> = crate::keyset!(query, pat, page.after, page.fetch())
                    .select((
                        pat::id,
                        pat::name,
                        pat::scope,
                        pat::created_at,
                        pat::expires_at,
                        pat::last_used_at,
                    ))
                    .load(conn)
                    .await?;
                let items = rows.into_iter().map(to_api).collect();
                Ok(Page::from_rows(items, &page, |t: &AccessToken| Cursor {
                    created_at: t.created_at,
                    id: t.id,
                }))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Revoke a token; it stops working at once.
#[utoipa::path(
    tag = "auth",
    params(("id" = Uuid, Path, description = "Token id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such active token of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/auth/tokens/{id}")]
pub async fn revoke_token(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Account, move |conn, me| {
        async move {
            let n = diesel::update(pat::table.find(id))
                .filter(pat::user_id.eq(me.user_id))
                .filter(pat::revoked_at.is_null())
                .set(pat::revoked_at.eq(now))
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

/// Revokes every personal access token of a user.
pub(super) async fn revoke_all(conn: &mut Conn, user_id: Uuid) -> ApiResult<()> {
    diesel::update(pat::table)
        .filter(pat::user_id.eq(user_id))
        .filter(pat::revoked_at.is_null())
        .set(pat::revoked_at.eq(now))
        .execute(conn)
        .await?;
    Ok(())
}
