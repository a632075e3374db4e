//! `POST /v1/auth/password-reset`, `/password-reset/confirm` and `POST /v1/auth/password`.

use actix_web::{post, HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    access_tokens, mailed_tokens, mails, sessions,
    signup::{accepted, mail_allowed, mailbox_proven, open_mail_request, Accepted, EmailRequest},
};
use crate::common::{
    extractor::{Access, Auth},
    limits, password,
};
use crate::{
    common::{outbox, state::State},
    db::{pool::Conn, schema::auth::users},
    http::{
        client_ip::client_ip,
        json::Json,
        problem::{ApiError, ApiResult},
    },
};

/// Ask for a reset link. The answer is the same whether or not the address has an account.
#[utoipa::path(
    tag = "auth",
    request_body = EmailRequest,
    responses(
        (status = 202, description = "Accepted", body = Accepted),
        (status = 429, description = "Too many mails requested from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/password-reset")]
pub async fn request_reset(
    state: State,
    req: HttpRequest,
    body: Json<EmailRequest>,
) -> ApiResult<HttpResponse> {
    let at = state.clock.now();
    let email = open_mail_request(&state, &req, &body.email).await?;
    let st = state.clone();
    state
        .db
        .tx(move |conn| {
            async move {
                let user: Option<Uuid> = users::table
                    .filter(users::email.eq(&email))
                    .select(users::id)
                    .first(conn)
                    .await
                    .optional()?;
                if let Some(id) = user {
                    if mail_allowed(conn, &st, &email).await? {
                        let token = mailed_tokens::issue(
                            conn,
                            at,
                            id,
                            "password_reset",
                            Duration::hours(1),
                            None,
                        )
                        .await?;
                        outbox::queue::enqueue(
                            conn,
                            mails::password_reset(&st.config.app_url, id, &email, &token),
                        )
                        .await?;
                    }
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await?;
    state.jobs.wake();
    Ok(accepted())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmRequest {
    #[schema(example = "Jx2m0f6R3tVd8o1sZkq9bW4yP7cN5aLhE0uGiTrQ2nY")]
    pub token: String,
    #[schema(example = "violet-Harbour-9921-kite")]
    pub new_password: String,
}

async fn set_password(conn: &mut Conn, user_id: Uuid, hash: &str) -> ApiResult<()> {
    diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Set a new password with the mailed token (single use, one hour). Every session and every
/// personal access token ends, and other mailed links stop working.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Password changed; all sessions and access tokens ended"),
        (status = 400, description = "Unknown, used or expired token (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/password-reset/confirm")]
pub async fn confirm_reset(
    state: State,
    req: HttpRequest,
    body: Json<ResetConfirmRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    use_reset_token(&state, &req, body.token, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What following a reset link does, for the JSON endpoint and the page's form alike. A weak
/// password is refused before the token is used, so the link still works for a second try.
pub(super) async fn use_reset_token(
    state: &State,
    req: &HttpRequest,
    token: String,
    new_password: String,
) -> ApiResult<()> {
    let at = state.clock.now();
    let ip = client_ip(req, state.config.proxies);
    limits::enforce(
        &state.db,
        state.clock.now(),
        format!("token:ip:{}", ip.key()),
        state.config.rate_limits.token_check,
    )
    .await?;
    // Read the account first (without using the token) to judge the password against it.
    let lookup = token.clone();
    let email: String = state
        .db
        .tx(move |conn| {
            async move {
                let user_id = mailed_tokens::owner(conn, at, &lookup, "password_reset").await?;
                Ok(users::table
                    .find(user_id)
                    .select(users::email)
                    .first(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    password::check_strength("new_password", &new_password, &[&email])?;
    let hash = state.hasher.hash(SecretString::from(new_password)).await?;
    state
        .db
        .tx(move |conn| {
            async move {
                let (user_id, _) =
                    mailed_tokens::consume(conn, at, &token, "password_reset").await?;
                set_password(conn, user_id, &hash).await?;
                // Whoever holds the mailbox owns the account: the address is verified too.
                diesel::update(users::table.find(user_id))
                    .filter(users::email_verified_at.is_null())
                    .set(users::email_verified_at.eq(now))
                    .execute(conn)
                    .await?;
                mailbox_proven(conn, user_id, "password_reset").await?;
                limits::forget_failures(conn, &email).await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(example = "tangerine-Orbit-4417-lamp")]
    pub current_password: String,
    #[schema(example = "violet-Harbour-9921-kite")]
    pub new_password: String,
    /// Also revoke every personal access token (default true): a script that should keep
    /// working after the change needs a new token.
    #[serde(default)]
    #[schema(default = true, example = true)]
    pub revoke_tokens: Option<bool>,
}

/// Change the password; every other session ends, this one stays. Wrong current passwords
/// count toward the same lockout as sign-in.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Password changed"),
        (status = 403, description = "Access tokens cannot change the password; with a second factor enrolled, a recent one is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password, or a weak new one", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Locked after failed attempts (`/problems/account-locked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/password")]
pub async fn change_password(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let (user_id, email, stored) = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                crate::common::assurance::require_recent_strong(conn, &me).await?;
                let (email, hash): (String, String) = users::table
                    .find(me.user_id)
                    .select((users::email, users::password_hash))
                    .first(conn)
                    .await?;
                Ok((me.user_id, email, hash))
            }
            .scope_boxed()
        })
        .await?;
    let attempt = limits::Attempt::new(&email, &client_ip(&req, state.config.proxies));
    if !limits::verify_password(
        &state,
        attempt,
        SecretString::from(body.current_password),
        stored,
    )
    .await?
    {
        return Err(ApiError::field(
            "current_password",
            "is not the current password",
        ));
    }
    password::check_strength("new_password", &body.new_password, &[&email])?;
    let hash = state
        .hasher
        .hash(SecretString::from(body.new_password))
        .await?;
    let revoke_tokens = body.revoke_tokens.unwrap_or(true);
    auth.tx(&state.db, Access::Account, move |conn, me| {
        async move {
            set_password(conn, user_id, &hash).await?;
            sessions::revoke_all(conn, user_id, me.session_id, "password_changed").await?;
            if revoke_tokens {
                access_tokens::revoke_all(conn, user_id).await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
