//! `POST /v1/auth/signup`, `POST /v1/auth/verify-email`, `POST /v1/auth/verify-email/resend`.
//! Answers never depend on whether the address already has an account.

use actix_web::{post, HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{access_tokens, mailed_tokens, mails, sessions};
use crate::common::{email, limits, password};
use crate::{
    account::profile,
    common::{outbox, state::State},
    db::{pool::Conn, schema::auth::users},
    http::{
        client_ip::client_ip,
        json::Json,
        problem::{ApiError, ApiResult},
    },
    workspaces,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// At least 10 characters and hard to guess.
    #[schema(example = "tangerine-Orbit-4417-lamp")]
    pub password: String,
    #[schema(example = "Ada")]
    pub display_name: Option<String>,
    /// IANA time zone; default UTC.
    #[schema(example = "Europe/London")]
    pub time_zone: Option<String>,
    #[schema(example = "en-GB")]
    pub locale: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    #[schema(example = "accepted")]
    pub status: &'static str,
    #[schema(example = "If the address can receive mail, a message is on its way.")]
    pub detail: &'static str,
}

const ACCEPTED: Accepted = Accepted {
    status: "accepted",
    detail: "If the address can receive mail, a message is on its way.",
};

pub(super) fn accepted() -> HttpResponse {
    HttpResponse::Accepted().json(ACCEPTED)
}

const VERIFY_TTL_HOURS: i64 = 24;

/// The mailbox was proven (a verification or reset link was followed): whatever was set up
/// before by someone who only claimed the address ends here — other mailed links, every
/// session and every personal access token.
pub(super) async fn mailbox_proven(conn: &mut Conn, user_id: Uuid, reason: &str) -> ApiResult<()> {
    mailed_tokens::end_all(conn, user_id).await?;
    sessions::revoke_all(conn, user_id, None, reason).await?;
    access_tokens::revoke_all(conn, user_id).await
}

/// The opening of every request that mails an address it names (resend, password reset): the
/// address normalised, and the client's per-IP mail budget spent whatever the outcome.
pub(super) async fn open_mail_request(
    state: &State,
    req: &HttpRequest,
    raw_email: &str,
) -> ApiResult<String> {
    let email = email::normalize("email", raw_email)?;
    let ip = client_ip(req, state.config.proxies);
    limits::enforce(
        &state.db,
        state.clock.now(),
        format!("mail:ip:{}", ip.key()),
        state.config.rate_limits.mail_per_ip,
    )
    .await?;
    Ok(email)
}

pub(super) async fn mail_allowed(conn: &mut Conn, state: &State, address: &str) -> ApiResult<bool> {
    limits::mail_allowed(
        conn,
        state.clock.now(),
        state.config.rate_limits.mail_per_address,
        address,
    )
    .await
}

/// Create an account. The answer is the same whether or not the address is registered;
/// the mailbox learns which case it was.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 202, description = "Accepted; a verification mail is on its way", body = Accepted),
        (status = 429, description = "Too many sign-ups from this address", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/signup")]
pub async fn signup(
    state: State,
    req: HttpRequest,
    body: Json<SignupRequest>,
) -> ApiResult<HttpResponse> {
    let SignupRequest {
        email,
        password,
        display_name,
        time_zone,
        locale,
    } = body.0;
    let email = email::normalize("email", &email)?;
    let mut errors = Vec::new();
    let inputs: Vec<&str> = [Some(email.as_str()), display_name.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if let Err(e) = password::check_strength("password", &password, &inputs) {
        errors.extend(e.errors);
    }
    let prefs = profile::Preferences::validate(display_name, time_zone, locale, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let ip = client_ip(&req, state.config.proxies);
    limits::enforce(
        &state.db,
        state.clock.now(),
        format!("signup:ip:{}", ip.key()),
        state.config.rate_limits.signup,
    )
    .await?;

    // Hash before looking the address up, so both paths take the same time.
    let hash = state.hasher.hash(SecretString::from(password)).await?;
    let st = state.clone();
    state
        .db
        .tx(move |conn| {
            async move {
                let mail = register(conn, &st, &email, &hash, &prefs).await?;
                if mail_allowed(conn, &st, &email).await? {
                    outbox::queue::enqueue(conn, mail).await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await?;
    state.jobs.wake();
    Ok(accepted())
}

/// Makes the account, or gives an unverified one the new password, and answers the mail the
/// address is to get: a verification link, or a note that it is registered already.
async fn register(
    conn: &mut Conn,
    st: &State,
    email: &str,
    hash: &str,
    prefs: &profile::Preferences,
) -> ApiResult<outbox::queue::Mail> {
    let existing: Option<(Uuid, bool)> = users::table
        .filter(users::email.eq(email))
        .select((users::id, users::email_verified_at.is_not_null()))
        .first(conn)
        .await
        .optional()?;
    let user_id = match existing {
        None => {
            let user_id = Uuid::now_v7();
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(user_id),
                    users::email.eq(email),
                    users::password_hash.eq(hash),
                    users::display_name.eq(&prefs.display_name),
                    users::time_zone.eq(&prefs.time_zone),
                    users::locale.eq(&prefs.locale),
                ))
                .execute(conn)
                .await?;
            workspaces::workspace::create_personal(conn, user_id).await?;
            user_id
        }
        Some((id, false)) => {
            // Nobody has proven this mailbox yet: the newest sign-up's password is the one a
            // resent link will set, and its own link sets it too.
            diesel::update(users::table.find(id))
                .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
                .execute(conn)
                .await?;
            id
        }
        Some((id, true)) => return Ok(mails::already_registered(&st.config.app_url, id, email)),
    };
    let token = mailed_tokens::issue(
        conn,
        st.clock.now(),
        user_id,
        "verify_email",
        Duration::hours(VERIFY_TTL_HOURS),
        Some(hash),
    )
    .await?;
    Ok(mails::verify_email(
        &st.config.app_url,
        user_id,
        email,
        &token,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The `token=` value from the mailed link.
    #[schema(example = "Jx2m0f6R3tVd8o1sZkq9bW4yP7cN5aLhE0uGiTrQ2nY")]
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "verified")]
    pub status: &'static str,
}

/// Confirm the address with the token from the verification mail. The link also sets the
/// password of the sign-up that sent it, so whoever proves the mailbox chooses the password:
/// an account someone else registered first with this address keeps nothing of theirs.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The address is verified", body = Status),
        (status = 400, description = "Unknown, used or expired token (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: State,
    req: HttpRequest,
    body: Json<TokenRequest>,
) -> ApiResult<HttpResponse> {
    use_verification_token(&state, &req, body.0.token).await?;
    Ok(HttpResponse::Ok().json(Status { status: "verified" }))
}

/// What following a verification link does, for the JSON endpoint and the page's form alike.
pub(super) async fn use_verification_token(
    state: &State,
    req: &HttpRequest,
    token: String,
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
    state
        .db
        .tx(move |conn| {
            async move {
                let (user_id, password_hash) =
                    mailed_tokens::consume(conn, at, &token, "verify_email").await?;
                let verified = match password_hash {
                    Some(hash) => {
                        diesel::update(users::table.find(user_id))
                            .filter(users::email_verified_at.is_null())
                            .set((
                                users::email_verified_at.eq(now),
                                users::password_hash.eq(hash),
                                users::updated_at.eq(now),
                            ))
                            .execute(conn)
                            .await?
                    }
                    None => {
                        diesel::update(users::table.find(user_id))
                            .filter(users::email_verified_at.is_null())
                            .set(users::email_verified_at.eq(now))
                            .execute(conn)
                            .await?
                    }
                };
                if verified > 0 {
                    mailbox_proven(conn, user_id, "email_verified").await?;
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
}

/// Send the verification mail again (only if the address has an unverified account).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 202, description = "Accepted", body = Accepted),
        (status = 429, description = "Too many mails requested from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/verify-email/resend")]
pub async fn resend_verification(
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
                let unverified: Option<(Uuid, String)> = users::table
                    .filter(users::email.eq(&email))
                    .filter(users::email_verified_at.is_null())
                    .select((users::id, users::password_hash))
                    .first(conn)
                    .await
                    .optional()?;
                if let Some((id, hash)) = unverified {
                    if mail_allowed(conn, &st, &email).await? {
                        let token = mailed_tokens::issue(
                            conn,
                            at,
                            id,
                            "verify_email",
                            Duration::hours(VERIFY_TTL_HOURS),
                            Some(&hash),
                        )
                        .await?;
                        outbox::queue::enqueue(
                            conn,
                            mails::verify_email(&st.config.app_url, id, &email, &token),
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
