//! The second step of a password sign-in: `POST /v1/auth/signin/mfa` (and the passkey options
//! for it, `POST /v1/auth/signin/mfa/passkey-options`).

use actix_web::{post, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    proof::{self, Proof, Verdict},
    steps::{self, Kind},
    webauthn::{self, request_options, to_state, Ceremony, Checked},
};
use crate::{
    auth::issue::{respond, NewSession},
    common::{limits, state::State},
    db::{pool::act_as, schema::auth::users},
    http::{
        client_ip::client_ip,
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaOptionsRequest {
    pub mfa_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct MfaPasskeyOptions {
    /// `{"publicKey": …}` for `navigator.credentials.get`, listing the account's passkeys.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Passkey options for the second step of a password sign-in.
///
/// The answer goes to `POST /v1/auth/signin/mfa` as `passkey`, with the same `mfa_token`.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Request options", body = MfaPasskeyOptions),
        (status = 400, description = "The step is unknown, used or expired (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has no passkey", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many challenges from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/signin/mfa/passkey-options")]
pub async fn mfa_passkey_options(
    state: State,
    req: HttpRequest,
    body: Json<MfaOptionsRequest>,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let token = body.0.mfa_token;
    let relying_party = state.webauthn.clone();
    let at = state.clock.now();
    let options = state
        .db
        .tx(move |conn| {
            async move {
                let step = steps::peek(conn, &token, Kind::Mfa, at).await?;
                let user_id = step.user_id.ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("an mfa step without user"))
                })?;
                act_as(conn, user_id).await?;
                let keys = webauthn::usable(conn, user_id).await?;
                if keys.is_empty() {
                    return Err(ApiError::new(
                        ProblemKind::Conflict,
                        "This account has no passkey; answer with a code or a recovery code",
                    ));
                }
                let (options, ceremony) = relying_party
                    .start_passkey_authentication(&keys)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("WebAuthn: {e}")))?;
                steps::challenge(
                    conn,
                    &token,
                    Kind::Mfa,
                    to_state(&Ceremony::Account(ceremony))?,
                    at,
                )
                .await?;
                Ok(MfaPasskeyOptions {
                    options: request_options(options)?,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(super::no_store(HttpResponse::Ok(), &options))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaRequest {
    /// From the sign-in's `202` answer.
    pub mfa_token: String,
    /// A code of the authenticator app.
    #[schema(example = "492039")]
    pub code: Option<String>,
    /// One of the recovery codes (works once).
    #[schema(example = "k7dq2-m2xp9")]
    pub recovery_code: Option<String>,
    /// The browser's answer to the passkey options (`PublicKeyCredential.toJSON()`).
    #[schema(value_type = Option<Object>)]
    pub passkey: Option<serde_json::Value>,
}

enum Outcome {
    Signed(crate::auth::issue::Issued),
    Wrong(String),
    Refused(Checked),
}

/// Finish a password sign-in with a second factor.
///
/// Send exactly one of `code`, `recovery_code` and `passkey`. Wrong codes count toward the same
/// lockout as wrong passwords; five end the step.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Signed in", body = crate::auth::issue::TokenResponse),
        (status = 400, description = "The step is unknown, used or expired (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "A wrong or used code (`/problems/invalid-code`), or a refused passkey (`/problems/passkey-refused`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of code, recovery_code and passkey", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited, or locked after failed attempts (`/problems/account-locked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/signin/mfa")]
pub async fn complete_mfa(
    state: State,
    req: HttpRequest,
    body: Json<MfaRequest>,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let body = body.0;
    let proof = Proof::one(body.code, body.recovery_code, body.passkey)?;
    let token = body.mfa_token;
    let ip = client_ip(&req, state.config.proxies);
    let session = NewSession::new(
        &state,
        &req,
        uuid::Uuid::nil(),
        Default::default(),
        proof.after_password(),
    );
    let st = state.clone();
    let at = state.clock.now();
    let outcome = state
        .db
        .tx(move |conn| {
            async move {
                let step = steps::peek(conn, &token, Kind::Mfa, at).await?;
                let user_id = step.user_id.ok_or_else(|| {
                    ApiError::internal(anyhow::anyhow!("an mfa step without user"))
                })?;
                act_as(conn, user_id).await?;
                let email: String = users::table
                    .find(user_id)
                    .select(users::email)
                    .first(conn)
                    .await?;
                let attempt = limits::Attempt::new(&email, &ip);
                limits::check_lockout(conn, at, &attempt).await?;
                let ceremony = match &proof {
                    Proof::Passkey(_) => step.ceremony::<Ceremony>().ok(),
                    _ => None,
                };
                match proof::check(conn, &st, user_id, &proof, ceremony, at).await? {
                    Verdict::Proven => {
                        steps::take(conn, &token, Kind::Mfa, at).await?;
                        limits::clear_failures(conn, &attempt).await?;
                        let session = session.for_user(user_id).with_mode(step.mode());
                        Ok(Outcome::Signed(session.open(conn).await?))
                    }
                    Verdict::Wrong => {
                        steps::fail(conn, &token).await?;
                        Ok(Outcome::Wrong(email))
                    }
                    Verdict::Refused(checked) => {
                        steps::fail(conn, &token).await?;
                        Ok(Outcome::Refused(checked))
                    }
                }
            }
            .scope_boxed()
        })
        .await?;
    match outcome {
        Outcome::Signed(issued) => Ok(respond(&state, HttpResponse::Ok(), issued)),
        Outcome::Wrong(email) => {
            Err(proof::wrong_code(&state, &email, &client_ip(&req, state.config.proxies)).await)
        }
        Outcome::Refused(checked) => Err(checked.refusal()),
    }
}
