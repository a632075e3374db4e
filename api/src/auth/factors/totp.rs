//! Authenticator apps (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of skew either
//! side): `POST /v1/auth/factors/totp`, `/totp/confirm`, `DELETE /v1/auth/factors/totp`.

use actix_web::{delete, post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Builder, Totp};
use utoipa::ToSchema;
use uuid::Uuid;

use super::recovery;
use crate::common::assurance;
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{
        pool::Conn,
        schema::auth::{totp_factors, users},
    },
    http::{
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
    secrets::{KeyRing, Place},
    tokens,
};

const STEP: u64 = 30;
const ISSUER: &str = "minime";

fn place(user_id: &str) -> Place<'_> {
    Place {
        table: "auth.totp_factors",
        column: "secret",
        row: user_id,
    }
}

fn keys(state: &State) -> ApiResult<&KeyRing> {
    state.config.secret_keys.as_deref().ok_or_else(|| {
        ApiError::new(
            ProblemKind::IntegrationNotConfigured,
            "this server keeps no secrets (MINIME_SECRET_KEYS is not set), so it cannot keep an authenticator app's secret",
        )
    })
}

fn generator(secret: Vec<u8>, account: &str) -> ApiResult<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP)
        .with_skew(1)
        .with_secret(secret)
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("TOTP: {e}")))
}

/// The time step a code belongs to, if it is one of the three around `unix` and later than
/// `last_step` (a code, once accepted, never works again, nor do earlier ones).
pub fn accepted_step(totp: &Totp, code: &str, unix: u64, last_step: Option<i64>) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix / STEP;
    let mut found = None;
    // Every candidate is compared, in constant time, so timing tells nothing of which matched.
    for step in now.saturating_sub(1)..=now + 1 {
        let expected = totp.generate(step * STEP).to_string();
        let fresh = last_step.is_none_or(|last| i64::try_from(step).is_ok_and(|s| s > last));
        if tokens::constant_time_eq(expected.as_bytes(), code.as_bytes())
            && fresh
            && found.is_none()
        {
            found = Some(step);
        }
    }
    found
}

fn unix(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp()).unwrap_or(0)
}

/// Checks a code of the user's confirmed authenticator app and uses it up; the transaction
/// must act as the user.
pub async fn use_code(
    conn: &mut Conn,
    keys: &KeyRing,
    user_id: Uuid,
    code: &str,
    at: DateTime<Utc>,
) -> ApiResult<bool> {
    let found: Option<(Vec<u8>, Option<i64>)> = totp_factors::table
        .find(user_id)
        .filter(totp_factors::confirmed_at.is_not_null())
        .select((totp_factors::secret, totp_factors::last_step))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((sealed, last_step)) = found else {
        return Ok(false);
    };
    let id = user_id.to_string();
    let secret = keys.open(place(&id), &sealed).map_err(ApiError::internal)?;
    let Some(step) = accepted_step(&generator(secret, "")?, code, unix(at), last_step) else {
        return Ok(false);
    };
    diesel::update(totp_factors::table.find(user_id))
        .set(totp_factors::last_step.eq(step as i64))
        .execute(conn)
        .await?;
    Ok(true)
}

/// A new authenticator app's secret: scan the QR code or type the secret, then confirm with a
/// first code.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing into the app.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    #[schema(
        example = "otpauth://totp/minime:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=minime"
    )]
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG image.
    pub qr_svg: String,
}

/// The QR code of `text` as an SVG image with a quiet zone of four modules.
fn qr_svg(text: &str) -> ApiResult<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("QR code: {e:?}")))?;
    let size = qr.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    let side = size + 8;
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

/// Start enrolling an authenticator app. Replaces an enrolment not yet confirmed; an account
/// with a confirmed app removes it first.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The secret, its URI and QR code", body = TotpEnrolment),
        (status = 403, description = "Access tokens cannot do this; with a factor enrolled, a recent second factor is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An authenticator app is already confirmed, or this server keeps no secrets (`/problems/integration-not-configured`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/factors/totp")]
pub async fn enrol_totp(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let keys = keys(&state)?;
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let enrolment = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                assurance::require_recent_strong(conn, &me).await?;
                let confirmed: Option<Option<DateTime<Utc>>> = totp_factors::table
                    .find(me.user_id)
                    .select(totp_factors::confirmed_at)
                    .first(conn)
                    .await
                    .optional()?;
                if matches!(confirmed, Some(Some(_))) {
                    return Err(ApiError::new(
                        ProblemKind::Conflict,
                        "An authenticator app is already confirmed; remove it first (DELETE /v1/auth/factors/totp)",
                    ));
                }
                let email: String = users::table
                    .find(me.user_id)
                    .select(users::email)
                    .first(conn)
                    .await?;
                let totp = generator(secret.clone(), &email)?;
                let uri = totp
                    .to_url()
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("otpauth URI: {e}")))?;
                let id = me.user_id.to_string();
                let sealed = keys.seal(place(&id), &secret);
                diesel::insert_into(totp_factors::table)
                    .values((
                        totp_factors::user_id.eq(me.user_id),
                        totp_factors::secret.eq(&sealed),
                        totp_factors::created_at.eq(me.at),
                    ))
                    .on_conflict(totp_factors::user_id)
                    .do_update()
                    .set((
                        totp_factors::secret.eq(&sealed),
                        totp_factors::created_at.eq(me.at),
                        totp_factors::last_step.eq(None::<i64>),
                    ))
                    .execute(conn)
                    .await?;
                Ok(TotpEnrolment {
                    secret: totp.secret().to_base32(),
                    qr_svg: qr_svg(&uri)?,
                    otpauth_uri: uri,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(super::no_store(HttpResponse::Created(), &enrolment))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotp {
    /// The code the app shows now.
    #[schema(example = "492039")]
    pub code: String,
}

/// What confirming a factor gives: the recovery codes, shown this once, when the account had
/// none.
#[derive(Serialize, ToSchema)]
pub struct FactorConfirmed {
    #[schema(example = json!(["k7dq-m2xp-9t", "w4hz-c8nf-3r"]))]
    pub recovery_codes: Option<Vec<String>>,
}

/// Confirm the authenticator app with its current code. From now on password sign-ins ask for
/// a code; every other session ends; this one counts as strongly authenticated.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Confirmed; recovery codes when the account had none", body = FactorConfirmed),
        (status = 404, description = "No enrolment to confirm", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "This server keeps no secrets (`/problems/integration-not-configured`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not the app's current one", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many codes from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/factors/totp/confirm")]
pub async fn confirm_totp(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ConfirmTotp>,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let keys = keys(&state)?;
    let code = body.0.code;
    let confirmed = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                let found: Option<(Vec<u8>, Option<DateTime<Utc>>)> = totp_factors::table
                    .find(me.user_id)
                    .select((totp_factors::secret, totp_factors::confirmed_at))
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
                let Some((sealed, None)) = found else {
                    return Err(ApiError::not_found());
                };
                let id = me.user_id.to_string();
                let secret = keys.open(place(&id), &sealed).map_err(ApiError::internal)?;
                let Some(step) = accepted_step(&generator(secret, "")?, &code, unix(me.at), None)
                else {
                    return Err(ApiError::field("code", "is not the app's current code"));
                };
                diesel::update(totp_factors::table.find(me.user_id))
                    .set((
                        totp_factors::confirmed_at.eq(me.at),
                        totp_factors::last_step.eq(step as i64),
                    ))
                    .execute(conn)
                    .await?;
                let recovery_codes = recovery::issue_if_none(conn, me.user_id, me.at).await?;
                super::strengthen(conn, &me, assurance::AuthMethod::PasswordTotp).await?;
                super::end_other_sessions(conn, &me).await?;
                Ok(FactorConfirmed { recovery_codes })
            }
            .scope_boxed()
        })
        .await?;
    Ok(super::no_store(HttpResponse::Ok(), &confirmed))
}

/// Remove the authenticator app. Needs a recent second factor; every other session ends.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "A recent second factor is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No authenticator app", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/auth/factors/totp")]
pub async fn remove_totp(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    auth.tx(&state.db, Access::Account, |conn, me| {
        async move {
            assurance::require_recent_strong(conn, &me).await?;
            let n = diesel::delete(totp_factors::table.find(me.user_id))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(ApiError::not_found());
            }
            super::factor_removed(conn, &me).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(diesel::QueryableByName)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Bytea)]
    sealed: Vec<u8>,
}

#[derive(diesel::QueryableByName)]
struct Swapped {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    done: bool,
}

/// `minime secrets rotate`: every authenticator app's secret sealed anew under the ring's first
/// key, each swapped only if it is still what was read.
pub async fn reseal_all(conn: &mut Conn, keys: &KeyRing) -> ApiResult<usize> {
    use diesel::sql_types::{Bytea, Text};
    let all: Vec<Sealed> = diesel::sql_query("SELECT key, sealed FROM auth.totp_sealed()")
        .load(conn)
        .await?;
    let mut resealed = 0;
    for secret in all {
        let fresh = keys
            .reseal(place(&secret.key), &secret.sealed)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("TOTP secret {}: {e}", secret.key)))?;
        let Some(fresh) = fresh else { continue };
        let swapped: Swapped = diesel::sql_query("SELECT auth.totp_reseal($1, $2, $3) AS done")
            .bind::<Text, _>(&secret.key)
            .bind::<Bytea, _>(&secret.sealed)
            .bind::<Bytea, _>(fresh)
            .get_result(conn)
            .await?;
        resealed += usize::from(swapped.done);
    }
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 6238 appendix B, SHA-1, truncated to 6 digits.
    #[test]
    fn rfc_6238_vectors() {
        let totp = generator(b"12345678901234567890".to_vec(), "").unwrap();
        for (t, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(totp.generate(t).to_string(), code, "at {t}");
        }
    }

    proptest! {
        #[test]
        fn a_code_works_one_step_either_side_and_once(unix in 100u64..4_000_000_000, off in -3i64..=3) {
            let totp = generator(b"12345678901234567890".to_vec(), "").unwrap();
            let step = unix / STEP;
            let code = totp.generate(step * STEP).to_string();
            let at = (unix as i64 + off * STEP as i64) as u64;
            let accepted = accepted_step(&totp, &code, at, None);
            if off.abs() <= 1 {
                prop_assert_eq!(accepted, Some(step));
                prop_assert_eq!(accepted_step(&totp, &code, at, Some(step as i64)), None);
            } else {
                prop_assert_ne!(accepted, Some(step));
            }
        }
    }
}
