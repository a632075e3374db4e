//! Signing in with a passkey alone: `POST /v1/auth/passkey/options`, `/passkey/signin`.

use actix_web::{post, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Deserialize;
use utoipa::ToSchema;
use webauthn_rs::prelude::PublicKeyCredential;

use super::{
    passkeys::PasskeyOptions,
    steps::{self, Kind, NewStep},
    webauthn::{self, request_options, to_state, Ceremony, Checked},
};
use crate::common::assurance::AuthMethod;
use crate::{
    auth::issue::{may_sign_in, respond, NewSession, SessionMode},
    common::{email, state::State},
    db::{pool::act_as, schema::auth::users},
    http::{
        json::Json,
        problem::{ApiError, ApiResult},
    },
};

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PasskeyOptionsRequest {
    /// Ask for this account's passkeys; omit to let the authenticator offer the passkeys it
    /// holds for this site (usernameless).
    #[schema(example = "ada@example.com")]
    pub email: Option<String>,
}

/// Options for `navigator.credentials.get` to sign in with a passkey. With an email the
/// options list that account's passkeys (an address without passkeys gets the usernameless
/// options, so the answer's `allowCredentials` shows whether the address has passkeys).
#[utoipa::path(
    tag = "auth",
    request_body(content = PasskeyOptionsRequest, description = "May be empty"),
    responses(
        (status = 200, description = "Request options and their token", body = PasskeyOptions),
        (status = 429, description = "Too many challenges from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/passkey/options")]
pub async fn passkey_options(
    state: State,
    req: HttpRequest,
    body: actix_web::web::Bytes,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let body: PasskeyOptionsRequest = if body.is_empty() {
        PasskeyOptionsRequest::default()
    } else {
        crate::http::json::parse(&body)?
    };
    let address = body
        .email
        .as_deref()
        .and_then(|e| email::normalize("email", e).ok());
    let relying_party = state.webauthn.clone();
    let at = state.clock.now();
    let options = state
        .db
        .tx(move |conn| {
            async move {
                let user_id: Option<uuid::Uuid> = match address {
                    Some(address) => users::table
                        .filter(users::email.eq(address))
                        .select(users::id)
                        .first(conn)
                        .await
                        .optional()?,
                    None => None,
                };
                let keys = match user_id {
                    Some(user_id) => {
                        act_as(conn, user_id).await?;
                        webauthn::usable(conn, user_id).await?
                    }
                    None => Vec::new(),
                };
                let webauthn_error = |e: webauthn_rs::prelude::WebauthnError| {
                    ApiError::internal(anyhow::anyhow!("WebAuthn: {e}"))
                };
                let (options, ceremony, user_id) = if keys.is_empty() {
                    let (options, state) = relying_party
                        .start_discoverable_authentication()
                        .map_err(webauthn_error)?;
                    (options, Ceremony::Discoverable(state), None)
                } else {
                    let (options, state) = relying_party
                        .start_passkey_authentication(&keys)
                        .map_err(webauthn_error)?;
                    (options, Ceremony::Account(state), user_id)
                };
                let token = NewStep {
                    kind: Kind::PasskeySignin,
                    user_id,
                    session_id: None,
                    state: Some(to_state(&ceremony)?),
                    mode: SessionMode::Token,
                }
                .keep(conn, at)
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
pub struct PasskeySigninRequest {
    /// The token of the options.
    pub token: String,
    /// The browser's answer (`PublicKeyCredential.toJSON()` of `navigator.credentials.get`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    #[serde(default)]
    pub mode: SessionMode,
}

/// Sign in with a passkey: the session counts as strongly authenticated. A passkey whose
/// signature counter went backwards is marked as possibly cloned and refused from then on.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Signed in", body = crate::auth::issue::TokenResponse),
        (status = 400, description = "The options' token is unknown, used or expired (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "The passkey's answer was refused (`/problems/passkey-refused`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The address is not verified yet, or the account is locked", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/passkey/signin")]
pub async fn passkey_signin(
    state: State,
    req: HttpRequest,
    body: Json<PasskeySigninRequest>,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let body = body.0;
    let answer: PublicKeyCredential = webauthn::answer("credential", body.credential)?;
    let session = NewSession::new(
        &state,
        &req,
        uuid::Uuid::nil(),
        body.mode,
        AuthMethod::Passkey,
    );
    let st = state.clone();
    let at = state.clock.now();
    let outcome = state
        .db
        .tx(move |conn| {
            async move {
                let step = steps::peek(conn, &body.token, Kind::PasskeySignin, at).await?;
                steps::take(conn, &body.token, Kind::PasskeySignin, at).await?;
                let ceremony: Ceremony = step.ceremony()?;
                let user_id = match (&ceremony, step.user_id) {
                    (Ceremony::Account(_), Some(user_id)) => user_id,
                    _ => match st.webauthn.identify_discoverable_authentication(&answer) {
                        Ok((user_id, _)) => user_id,
                        Err(e) => return Ok(Err(Checked::Refused(e.to_string()))),
                    },
                };
                act_as(conn, user_id).await?;
                let checked =
                    webauthn::check(conn, &st.webauthn, user_id, &answer, ceremony, at).await?;
                if !matches!(checked, Checked::Accepted) {
                    return Ok(Err(checked));
                }
                let (verified, locked): (bool, bool) = users::table
                    .find(user_id)
                    .select((
                        users::email_verified_at.is_not_null(),
                        users::locked_at.is_not_null(),
                    ))
                    .first(conn)
                    .await?;
                may_sign_in(verified, locked)?;
                session.for_user(user_id).open(conn).await.map(Ok)
            }
            .scope_boxed()
        })
        .await?;
    match outcome {
        Ok(issued) => Ok(respond(&state, HttpResponse::Ok(), issued)),
        Err(checked) => Err(checked.refusal()),
    }
}
