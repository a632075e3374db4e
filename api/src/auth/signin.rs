//! `POST /v1/auth/signin`, `/refresh` and `/signout`: sessions and their refresh-token families.

use actix_web::{post, web, HttpRequest, HttpResponse};
use diesel::{
    dsl::now,
    prelude::*,
    sql_types::{Bool, Bytea, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    factors,
    issue::{
        may_sign_in, new_refresh_token, respond, Issued, NewSession, SessionMode, TokenResponse,
    },
};
use crate::common::assurance::AuthMethod;
use crate::{
    common::state::State,
    db::{
        pool::Conn,
        schema::auth::{sessions, users},
    },
    http::{
        client_ip::client_ip,
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
};
use crate::{
    common::{
        cookies, email,
        extractor::{Access, Auth},
        limits,
    },
    tokens,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigninRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "tangerine-Orbit-4417-lamp")]
    pub password: String,
    #[serde(default)]
    pub mode: SessionMode,
}

#[derive(QueryableByName)]
struct FoundRefresh {
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = Bool)]
    used: bool,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    mode: String,
    #[diesel(sql_type = Bool)]
    live: bool,
}

/// Sign in with email and password. Unknown addresses and wrong passwords get the same
/// answer in the same time; repeated failures lock the address out for a growing time. An
/// account with a second factor gets a challenge step instead of tokens: answer it at
/// `POST /v1/auth/signin/mfa` within 5 minutes.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 202, description = "The password is right and a second factor is needed", body = MfaChallenge),
        (status = 401, description = "Wrong email or password (`/problems/invalid-credentials`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The address is not verified yet (`/problems/email-not-verified`), or an administrator locked the account (`/problems/account-suspended`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited, or locked after failed attempts (`/problems/account-locked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/signin")]
pub async fn signin(
    state: State,
    req: HttpRequest,
    body: Json<SigninRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let ip = client_ip(&req, state.config.proxies);
    limits::enforce(
        &state.db,
        state.clock.now(),
        format!("signin:ip:{}", ip.key()),
        state.config.rate_limits.signin,
    )
    .await?;
    // A malformed address cannot have an account: answer as for a wrong password.
    let email =
        email::normalize("email", &body.email).unwrap_or_else(|_| body.email.trim().to_lowercase());
    let attempt = limits::Attempt::new(&email, &ip);
    let user_id = check_password(&state, email, &attempt, body.password).await?;
    let session = NewSession::new(&state, &req, user_id, body.mode, AuthMethod::Password);
    let at = state.clock.now();
    let outcome = state
        .db
        .tx_as(user_id, move |conn| {
            async move {
                if crate::common::assurance::enrolled(conn, user_id).await? {
                    let token = factors::steps::NewStep {
                        kind: factors::steps::Kind::Mfa,
                        user_id: Some(user_id),
                        session_id: None,
                        state: None,
                        mode: session.mode,
                    }
                    .keep(conn, at)
                    .await?;
                    return Ok(Err(token));
                }
                limits::clear_failures(conn, &attempt).await?;
                session.open(conn).await.map(Ok)
            }
            .scope_boxed()
        })
        .await?;
    match outcome {
        Ok(issued) => Ok(respond(&state, HttpResponse::Ok(), issued)),
        Err(mfa_token) => Ok(HttpResponse::Accepted()
            .insert_header(("Cache-Control", "no-store"))
            .json(MfaChallenge {
                mfa_required: true,
                mfa_token,
                expires_in: factors::steps::LIFETIME.num_seconds() as u64,
            })),
    }
}

/// The password was right; a second factor finishes the sign-in.
#[derive(Serialize, ToSchema)]
pub struct MfaChallenge {
    #[schema(example = true)]
    pub mfa_required: bool,
    /// Send it to `POST /v1/auth/signin/mfa` with a code, a recovery code or a passkey's answer
    /// (options from `POST /v1/auth/signin/mfa/passkey-options`). Single use.
    #[schema(example = "Jq3n0Vb6cT9yHwE3uPzA6jD5fM0oKiVnQ2s4qGk0X2v")]
    pub mfa_token: String,
    /// Seconds the step stays open.
    #[schema(example = 300)]
    pub expires_in: u64,
}

/// The user whose password this is, if the account may sign in. A wrong password counts
/// towards the lockout; unknown addresses take the same time to answer.
pub(in crate::auth) async fn check_password(
    state: &State,
    email: String,
    attempt: &limits::Attempt,
    password: String,
) -> ApiResult<Uuid> {
    let lookup_attempt = attempt.clone();
    let at = state.clock.now();
    let user: Option<(Uuid, String, bool, bool)> = state
        .db
        .tx(move |conn| {
            async move {
                limits::check_lockout(conn, at, &lookup_attempt).await?;
                Ok(users::table
                    .filter(users::email.eq(&email))
                    .select((
                        users::id,
                        users::password_hash,
                        users::email_verified_at.is_not_null(),
                        users::locked_at.is_not_null(),
                    ))
                    .first(conn)
                    .await
                    .optional()?)
            }
            .scope_boxed()
        })
        .await?;
    let stored = user.as_ref().map(|(_, hash, _, _)| hash.clone());
    if !state
        .hasher
        .verify(SecretString::from(password), stored)
        .await?
    {
        limits::record_failure(
            &state.db,
            state.clock.now(),
            attempt.clone(),
            state.config.lockout.clone(),
        )
        .await?;
        return Err(ApiError::new(
            ProblemKind::InvalidCredentials,
            "The email or password is wrong",
        ));
    }
    let (user_id, _, verified, locked) = user.expect("verified passwords belong to users");
    // Only after the password: the lock is not revealed to someone guessing.
    may_sign_in(verified, locked)?;
    Ok(user_id)
}
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Omit in cookie mode: the `minime_refresh` cookie is used (with `X-CSRF-Token`).
    pub refresh_token: Option<String>,
}

enum RefreshOutcome {
    Rotated(Issued),
    Reused,
    Ended,
}

/// Trade a refresh token for a new access token and a new refresh token. Each refresh token
/// works once: presenting a used one again ends the whole session (it was probably stolen).
#[utoipa::path(
    tag = "auth",
    request_body(content = RefreshRequest, description = "May be empty in cookie mode"),
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, reused or ended refresh token", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Cookie mode without a valid `X-CSRF-Token`", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many refreshes from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/refresh")]
pub async fn refresh(state: State, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    let body: RefreshRequest = if body.is_empty() {
        RefreshRequest::default()
    } else {
        crate::http::json::parse(&body)?
    };
    let ip = client_ip(&req, state.config.proxies);
    limits::enforce(
        &state.db,
        state.clock.now(),
        format!("refresh:ip:{}", ip.key()),
        state.config.rate_limits.refresh,
    )
    .await?;
    let (presented, cookie_mode) = match body.refresh_token {
        Some(token) => (token, false),
        None => {
            let cookie = req
                .cookie(cookies::name(&state.config, cookies::REFRESH))
                .ok_or_else(|| {
                    ApiError::unauthorized("Send refresh_token, or the minime_refresh cookie")
                })?;
            (cookie.value().to_owned(), true)
        }
    };
    let hash = tokens::hash(&presented);
    // Cookie refreshes prove they come from the page that holds the session's CSRF token.
    let csrf = cookie_mode.then(|| {
        req.headers()
            .get(crate::common::csrf::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    });
    let st = state.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            async move { rotate(conn, &st, &hash, csrf.as_deref()).await }.scope_boxed()
        })
        .await?;
    match outcome {
        RefreshOutcome::Rotated(issued) => Ok(respond(&state, HttpResponse::Ok(), issued)),
        RefreshOutcome::Reused => {
            tracing::warn!("refresh token reused: session revoked");
            Err(ApiError::unauthorized(
                "This refresh token was already used; the session has been ended for safety",
            ))
        }
        RefreshOutcome::Ended => Err(ApiError::unauthorized(
            "This refresh token is unknown or its session has ended",
        )),
    }
}

/// Uses the refresh token of `hash` and issues the next one of its family; a token used before
/// ends its session. `csrf` is the header of a cookie refresh, checked against the session.
async fn rotate(
    conn: &mut Conn,
    state: &State,
    hash: &[u8],
    csrf: Option<&str>,
) -> ApiResult<RefreshOutcome> {
    let token: Option<FoundRefresh> = diesel::sql_query(
        "SELECT session_id, used, user_id, mode, live FROM auth.find_refresh_token($1, $2)",
    )
    .bind::<Bytea, _>(hash)
    .bind::<Timestamptz, _>(state.clock.now())
    .load(conn)
    .await?
    .into_iter()
    .next();
    let Some(FoundRefresh {
        session_id,
        used,
        user_id,
        mode,
        live,
    }) = token
    else {
        return Ok(RefreshOutcome::Ended);
    };
    if csrf.is_some_and(|csrf| !state.csrf.verify(session_id, csrf)) {
        return Err(ApiError::new(
            ProblemKind::Csrf,
            "Cookie refreshes need the X-CSRF-Token header",
        ));
    }
    if !live {
        return Ok(RefreshOutcome::Ended);
    }
    if used {
        diesel::update(sessions::table.find(session_id))
            .set((
                sessions::revoked_at.eq(now),
                sessions::revoked_reason.eq("refresh_token_reuse"),
            ))
            .execute(conn)
            .await?;
        return Ok(RefreshOutcome::Reused);
    }
    diesel::sql_query("SELECT auth.use_refresh_token($1)")
        .bind::<Bytea, _>(hash)
        .execute(conn)
        .await?;
    diesel::update(sessions::table.find(session_id))
        .set(sessions::last_used_at.eq(now))
        .execute(conn)
        .await?;
    let refresh_token = new_refresh_token(conn, session_id).await?;
    let mode = if mode == "cookie" {
        SessionMode::Cookie
    } else {
        SessionMode::Token
    };
    Ok(RefreshOutcome::Rotated(Issued {
        user_id,
        session_id,
        refresh_token,
        mode,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct SignoutParams {
    /// `true` ends every session of the account, not just this one.
    #[serde(default)]
    pub all: bool,
}

/// End this session (or, with `?all=true`, every session). Clears the cookies.
#[utoipa::path(
    tag = "auth",
    params(SignoutParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, description = "Access tokens cannot sign out, or CSRF failed", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/signout")]
pub async fn signout(
    state: State,
    auth: Auth,
    params: web::Query<SignoutParams>,
) -> ApiResult<HttpResponse> {
    let all = params.all;
    auth.tx(&state.db, Access::Account, move |conn, me| {
        async move {
            let mut query = diesel::update(sessions::table)
                .filter(sessions::user_id.eq(me.user_id))
                .filter(sessions::revoked_at.is_null())
                .into_boxed();
            if !all {
                query = query.filter(sessions::id.nullable().eq(me.session_id));
            }
            query
                .set((
                    sessions::revoked_at.eq(now),
                    sessions::revoked_reason.eq("signout"),
                ))
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    let mut response = HttpResponse::NoContent();
    for cookie in cookies::cleared(&state.config) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}
