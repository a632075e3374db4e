//! `GET /v1/auth/factors`: what protects the account, without a secret.

use actix_web::{get, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::common::assurance::{self, AuthMethod, RECENT};
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::schema::auth::{passkeys, recovery_codes, sessions, totp_factors},
    http::problem::{ApiError, ApiResult},
};

#[derive(Serialize, ToSchema)]
pub struct TotpStatus {
    pub created_at: DateTime<Utc>,
    /// `null` until a first code confirmed it; until then sign-in does not ask for codes.
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct Factors {
    /// True when password sign-ins ask for a second factor.
    pub enrolled: bool,
    pub totp: Option<TotpStatus>,
    pub passkeys: i64,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
    /// How this session authenticated, and until when sensitive actions need no confirming
    /// (`null`: they need it now, when a factor is enrolled).
    pub session_method: Option<AuthMethod>,
    pub recent_until: Option<DateTime<Utc>>,
}

/// The account's second factors and this session's assurance.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Factors", body = Factors)),
)]
#[get("/auth/factors")]
pub async fn list_factors(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let factors = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                let totp: Option<(DateTime<Utc>, Option<DateTime<Utc>>)> = totp_factors::table
                    .find(me.user_id)
                    .select((totp_factors::created_at, totp_factors::confirmed_at))
                    .first(conn)
                    .await
                    .optional()?;
                let passkeys: i64 = passkeys::table
                    .filter(passkeys::user_id.eq(me.user_id))
                    .count()
                    .get_result(conn)
                    .await?;
                let recovery_codes_left: i64 = recovery_codes::table
                    .filter(recovery_codes::user_id.eq(me.user_id))
                    .filter(recovery_codes::used_at.is_null())
                    .count()
                    .get_result(conn)
                    .await?;
                let session: Option<(String, DateTime<Utc>)> = match me.session_id {
                    Some(id) => sessions::table
                        .find(id)
                        .select((sessions::auth_method, sessions::authenticated_at))
                        .first(conn)
                        .await
                        .optional()?,
                    None => None,
                };
                let method = session.as_ref().map(|(m, _)| AuthMethod::parse(m));
                let recent_until = session
                    .filter(|(m, _)| AuthMethod::parse(m).is_strong())
                    .map(|(_, at)| at + RECENT)
                    .filter(|until| *until > me.at);
                Ok::<_, ApiError>(Factors {
                    enrolled: assurance::enrolled(conn, me.user_id).await?,
                    totp: totp.map(|(created_at, confirmed_at)| TotpStatus {
                        created_at,
                        confirmed_at,
                    }),
                    passkeys,
                    recovery_codes_left,
                    session_method: method,
                    recent_until,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(factors))
}
