//! Confirming it is you before a sensitive action: `POST /v1/auth/reauthenticate` (and its
//! passkey options, `POST /v1/auth/reauthenticate/passkey-options`).

use actix_web::{post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    passkeys::PasskeyOptions,
    proof::{self, Proof, Verdict},
    steps::{self, Kind, NewStep},
    webauthn::{self, request_options, to_state, Ceremony, Checked},
};
use crate::common::assurance::{self, AuthMethod, RECENT};
use crate::{
    auth::issue::SessionMode,
    common::{
        extractor::{Access, Auth},
        limits,
        state::State,
    },
    db::schema::auth::users,
    http::{
        client_ip::client_ip,
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
};

/// Passkey options to confirm it is you.
///
/// The answer goes to `POST /v1/auth/reauthenticate` with this token.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Request options and their token", body = PasskeyOptions),
        (status = 409, description = "The account has no passkey", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many challenges from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/reauthenticate/passkey-options")]
pub async fn reauthentication_options(
    state: State,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let relying_party = state.webauthn.clone();
    let options = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let keys = webauthn::usable(conn, me.user_id).await?;
                if keys.is_empty() {
                    return Err(ApiError::new(
                        ProblemKind::Conflict,
                        "This account has no passkey; confirm with a code or a recovery code",
                    ));
                }
                let (options, ceremony) = relying_party
                    .start_passkey_authentication(&keys)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("WebAuthn: {e}")))?;
                let token = NewStep {
                    kind: Kind::PasskeyReauthentication,
                    user_id: Some(me.user_id),
                    session_id: me.session_id,
                    state: Some(to_state(&Ceremony::Account(ceremony))?),
                    mode: SessionMode::Token,
                }
                .keep(conn, me.at)
                .await?;
                Ok(PasskeyOptions {
                    token,
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
pub struct ReauthenticateRequest {
    /// A code of the authenticator app.
    #[schema(example = "492039")]
    pub code: Option<String>,
    /// One of the recovery codes (works once).
    pub recovery_code: Option<String>,
    /// The browser's answer to the passkey options (`PublicKeyCredential.toJSON()`).
    #[schema(value_type = Option<Object>)]
    pub passkey: Option<serde_json::Value>,
    /// The token of the passkey options, with `passkey`.
    pub token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Reauthenticated {
    pub auth_method: AuthMethod,
    pub authenticated_at: DateTime<Utc>,
    /// Until when sensitive actions are allowed without confirming again (10 minutes).
    pub recent_until: DateTime<Utc>,
}

enum Outcome {
    Done(AuthMethod),
    Wrong(String),
    Refused(Checked),
}

/// Confirm it is you with a second factor, for sensitive actions.
///
/// Send exactly one of `code`, `recovery_code` and `passkey`: for the next 10 minutes this
/// session may delete the account, change the password, create access tokens, export, and add
/// or remove factors. Wrong codes count toward the sign-in lockout.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Confirmed", body = Reauthenticated),
        (status = 400, description = "The passkey options' token is unknown, used or expired (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "A wrong or used code (`/problems/invalid-code`), or a refused passkey (`/problems/passkey-refused`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not exactly one of code, recovery_code and passkey", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited, or locked after failed attempts (`/problems/account-locked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/reauthenticate")]
pub async fn reauthenticate(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ReauthenticateRequest>,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let body = body.0;
    let token = body.token;
    let proof = Proof::one(body.code, body.recovery_code, body.passkey)?;
    let ip = client_ip(&req, state.config.proxies);
    let st = state.clone();
    let (outcome, at) = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let session_id = me.session_id.ok_or_else(|| {
                    ApiError::new(ProblemKind::InsufficientScope, "Sign in to confirm")
                })?;
                let email: String = users::table
                    .find(me.user_id)
                    .select(users::email)
                    .first(conn)
                    .await?;
                let attempt = limits::Attempt::new(&email, &ip);
                limits::check_lockout(conn, me.at, &attempt).await?;
                let ceremony = match (&proof, token) {
                    (Proof::Passkey(_), Some(token)) => {
                        let step =
                            steps::peek(conn, &token, Kind::PasskeyReauthentication, me.at).await?;
                        if step.user_id != Some(me.user_id) || step.session_id != me.session_id {
                            return Err(ApiError::new(
                                ProblemKind::InvalidToken,
                                "These passkey options belong to another session",
                            ));
                        }
                        steps::take(conn, &token, Kind::PasskeyReauthentication, me.at).await?;
                        Some(step.ceremony::<Ceremony>()?)
                    }
                    _ => None,
                };
                let method = match &proof {
                    Proof::Passkey(_) => AuthMethod::Passkey,
                    other => other.after_password(),
                };
                let outcome =
                    match proof::check(conn, &st, me.user_id, &proof, ceremony, me.at).await? {
                        Verdict::Proven => {
                            assurance::mark(conn, session_id, method, me.at).await?;
                            Outcome::Done(method)
                        }
                        Verdict::Wrong => Outcome::Wrong(email),
                        Verdict::Refused(checked) => Outcome::Refused(checked),
                    };
                Ok((outcome, me.at))
            }
            .scope_boxed()
        })
        .await?;
    match outcome {
        Outcome::Done(auth_method) => Ok(HttpResponse::Ok().json(Reauthenticated {
            auth_method,
            authenticated_at: at,
            recent_until: at + RECENT,
        })),
        Outcome::Wrong(email) => {
            Err(proof::wrong_code(&state, &email, &client_ip(&req, state.config.proxies)).await)
        }
        Outcome::Refused(checked) => Err(checked.refusal()),
    }
}
