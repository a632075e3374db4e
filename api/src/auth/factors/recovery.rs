//! Recovery codes: ten single-use codes for when the second factor is lost, kept as SHA-256
//! only. `POST /v1/auth/factors/recovery-codes` replaces them.

use actix_web::{post, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use rand::Rng;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::common::assurance;
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{pool::Conn, schema::auth::recovery_codes as codes},
    http::problem::{ApiError, ApiResult, ProblemKind},
    tokens,
};

const COUNT: usize = 10;
/// Without the look-alikes 0/o, 1/l/i: 31 letters and digits, 10 of them (about 50 bits).
const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A code as it is hashed: lowercase, without the dashes and spaces people type.
fn canonical(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn generate() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

/// Replaces the user's codes with ten new ones, returned this once.
pub async fn replace(conn: &mut Conn, user_id: Uuid, at: DateTime<Utc>) -> ApiResult<Vec<String>> {
    diesel::delete(codes::table.filter(codes::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    let fresh = generate();
    let rows: Vec<_> = fresh
        .iter()
        .map(|code| {
            (
                codes::user_id.eq(user_id),
                codes::code_hash.eq(tokens::hash(&canonical(code))),
                codes::created_at.eq(at),
            )
        })
        .collect();
    diesel::insert_into(codes::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(fresh)
}

/// New codes for an account getting its first factor; an account that has unused codes keeps
/// them.
pub async fn issue_if_none(
    conn: &mut Conn,
    user_id: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<Option<Vec<String>>> {
    let unused: i64 = codes::table
        .filter(codes::user_id.eq(user_id))
        .filter(codes::used_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    if unused > 0 {
        return Ok(None);
    }
    replace(conn, user_id, at).await.map(Some)
}

/// Uses up one unused code of the user; false when it is not one.
pub async fn use_code(
    conn: &mut Conn,
    user_id: Uuid,
    code: &str,
    at: DateTime<Utc>,
) -> ApiResult<bool> {
    let n = diesel::update(
        codes::table
            .filter(codes::user_id.eq(user_id))
            .filter(codes::code_hash.eq(tokens::hash(&canonical(code))))
            .filter(codes::used_at.is_null()),
    )
    .set(codes::used_at.eq(at))
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Codes are a fallback for a factor: without one they go too.
pub async fn remove_all(conn: &mut Conn, user_id: Uuid) -> ApiResult<()> {
    diesel::delete(codes::table.filter(codes::user_id.eq(user_id)))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once: keep them somewhere safe.
    #[schema(example = json!(["k7dq2-m2xp9", "w4hzc-8nf3r"]))]
    pub recovery_codes: Vec<String>,
}

/// Replace the recovery codes with ten new ones (the old ones stop working). Needs a second
/// factor, used within the last 10 minutes.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The new codes, shown this once", body = RecoveryCodes),
        (status = 403, description = "A recent second factor is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no second factor to recover", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/factors/recovery-codes")]
pub async fn regenerate(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let codes = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                if !assurance::enrolled(conn, me.user_id).await? {
                    return Err(ApiError::new(
                        ProblemKind::Conflict,
                        "Recovery codes stand in for a second factor; enrol an authenticator app or a passkey first",
                    ));
                }
                assurance::require_recent_strong(conn, &me).await?;
                replace(conn, me.user_id, me.at).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(super::no_store(
        HttpResponse::Ok(),
        &RecoveryCodes {
            recovery_codes: codes,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_distinct_and_read_back_however_typed() {
        let codes = generate();
        assert_eq!(codes.len(), 10);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        let code = &codes[0];
        assert_eq!(code.len(), 11);
        assert_eq!(
            canonical(&code.to_uppercase().replace('-', " ")),
            canonical(code)
        );
    }
}
