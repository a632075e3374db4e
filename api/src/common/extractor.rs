//! Who is calling: a bearer JWT, a personal access token, or the session cookie (+ CSRF).
//! Parsing needs no database; the credential is checked inside the request's transaction,
//! in the same statement that sets `app.user_id`.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{
    scoped_futures::{ScopedBoxFuture, ScopedFutureExt},
    RunQueryDsl,
};
use uuid::Uuid;

use super::{cookies, csrf};
use crate::tokens;
use crate::{
    common::state::State,
    db::{
        self as db,
        pool::{set_config, text, Conn, Db},
        schema::auth::{personal_access_tokens as pat, sessions},
    },
    http::problem::{ApiError, ApiResult, ProblemKind},
};

enum Credential {
    Session { user_id: Uuid, session_id: Uuid },
    AccessToken { hash: Vec<u8> },
}

#[derive(Queryable)]
struct PatRow {
    id: Uuid,
    user_id: Uuid,
    scope: String,
    last_used: Option<DateTime<Utc>>,
    _user_set: String,
    _at_set: String,
}

pub struct Auth {
    credential: Credential,
    write_limit: crate::config::Limit,
    /// The request's time, from the server's clock.
    at: chrono::DateTime<chrono::Utc>,
}

/// What an operation needs from the credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    /// Managing credentials and the account: a signed-in session, never a token.
    Account,
}

#[derive(Clone, Copy, Debug)]
pub struct Principal {
    pub user_id: Uuid,
    /// `None` for personal access tokens.
    pub session_id: Option<Uuid>,
    /// The request's instant on the server's clock: every "now" of the request is this one.
    pub at: DateTime<Utc>,
}

fn is_safe(method: &actix_web::http::Method) -> bool {
    matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS")
}

fn parse(req: &HttpRequest) -> ApiResult<Auth> {
    let state = req
        .app_data::<State>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no state")))?;
    let write_limit = state.config.rate_limits.writes_per_user;
    let at = state.clock.now();
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::unauthorized("Use Authorization: Bearer <token>"))?
            .trim();
        if token.starts_with(tokens::PAT_PREFIX) {
            return Ok(Auth {
                credential: Credential::AccessToken {
                    hash: tokens::hash(token),
                },
                write_limit,
                at,
            });
        }
        let claims = state
            .jwt
            .verify(token, at)
            .ok_or_else(|| ApiError::unauthorized("The access token is invalid or expired"))?;
        return Ok(Auth {
            credential: Credential::Session {
                user_id: claims.sub,
                session_id: claims.sid,
            },
            write_limit,
            at,
        });
    }
    if let Some(cookie) = req.cookie(cookies::name(&state.config, cookies::ACCESS)) {
        let claims = state
            .jwt
            .verify(cookie.value(), at)
            .ok_or_else(|| ApiError::unauthorized("The session cookie is invalid or expired"))?;
        if !is_safe(req.method()) {
            let presented = req
                .headers()
                .get(csrf::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !state.csrf.verify(claims.sid, presented) {
                return Err(ApiError::new(
                    ProblemKind::Csrf,
                    "Cookie requests that change data need the X-CSRF-Token header (the minime_csrf cookie's value)",
                ));
            }
        }
        return Ok(Auth {
            credential: Credential::Session {
                user_id: claims.sub,
                session_id: claims.sid,
            },
            write_limit,
            at,
        });
    }
    Err(ApiError::unauthorized(
        "Sign in, or send Authorization: Bearer <token>",
    ))
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req))
    }
}

/// Consent to the AI features is an account decision: a personal access token, however
/// scoped, cannot give or withdraw it.
pub fn consent_needs_session(me: &Principal) -> ApiResult<()> {
    match me.session_id {
        Some(_) => Ok(()),
        None => Err(ApiError::new(
            ProblemKind::InsufficientScope,
            "Access tokens cannot change the AI consent (ai_enabled); sign in",
        )),
    }
}

impl Auth {
    /// Runs `f` in one transaction as the caller: the first statement checks the credential
    /// and sets `app.user_id`, so RLS scopes every later statement to the caller's rows.
    pub async fn tx<'a, R, F>(&'a self, db: &Db, access: Access, f: F) -> ApiResult<R>
    where
        F: for<'r> FnOnce(&'r mut Conn, Principal) -> ScopedBoxFuture<'a, 'r, ApiResult<R>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        db.tx(move |conn| {
            async move {
                let principal = self.authenticate(conn, access).await?;
                if access != Access::Read {
                    // Counted in the request's transaction: a write that fails is not counted.
                    let key = format!("writes:user:{}", principal.user_id);
                    if let Err(retry) =
                        super::limits::hit(conn, self.at, &key, self.write_limit).await?
                    {
                        return Err(ApiError::too_many(ProblemKind::RateLimited, retry));
                    }
                }
                f(conn, principal).await
            }
            .scope_boxed()
        })
        .await
    }

    /// Like [`Auth::tx`] for reads, in one snapshot (REPEATABLE READ) so that they agree.
    pub async fn snapshot_tx<'a, R, F>(&'a self, db: &Db, access: Access, f: F) -> ApiResult<R>
    where
        F: for<'r> FnOnce(&'r mut Conn, Principal) -> ScopedBoxFuture<'a, 'r, ApiResult<R>>
            + Send
            + 'a,
        R: Send + 'a,
    {
        db.snapshot_tx(move |conn| {
            async move {
                let principal = self.authenticate(conn, access).await?;
                f(conn, principal).await
            }
            .scope_boxed()
        })
        .await
    }

    async fn authenticate(&self, conn: &mut Conn, access: Access) -> ApiResult<Principal> {
        match &self.credential {
            Credential::Session {
                user_id,
                session_id,
            } => self.open_session(conn, *user_id, *session_id).await,
            Credential::AccessToken { hash } => self.use_token(conn, hash, access).await,
        }
    }

    /// The session is live: the transaction acts as its user from here on.
    async fn open_session(
        &self,
        conn: &mut Conn,
        user_id: Uuid,
        session_id: Uuid,
    ) -> ApiResult<Principal> {
        let found = sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(self.at))
            .select((
                set_config("app.user_id", user_id.to_string(), true),
                set_config(db::pool::AT_SETTING, self.at.to_rfc3339(), true),
            ))
            .first::<(String, String)>(conn)
            .await
            .optional()?;
        found.ok_or_else(|| ApiError::unauthorized("This session has ended; sign in again"))?;
        Ok(Principal {
            user_id,
            session_id: Some(session_id),
            at: self.at,
        })
    }

    /// The personal access token is live and its scope allows `access`.
    async fn use_token(
        &self,
        conn: &mut Conn,
        hash: &[u8],
        access: Access,
    ) -> ApiResult<Principal> {
        let found: Option<PatRow> = pat::table
            .filter(pat::token_hash.eq(hash))
            .filter(pat::revoked_at.is_null())
            .filter(pat::expires_at.is_null().or(pat::expires_at.gt(self.at)))
            .select((
                pat::id,
                pat::user_id,
                pat::scope,
                pat::last_used_at,
                set_config("app.user_id", text(pat::user_id), true),
                set_config(db::pool::AT_SETTING, self.at.to_rfc3339(), true),
            ))
            .first(conn)
            .await
            .optional()?;
        let PatRow {
            id,
            user_id,
            scope,
            last_used,
            ..
        } = found.ok_or_else(|| {
            ApiError::unauthorized("The access token is invalid, revoked or expired")
        })?;
        match (access, scope.as_str()) {
            (Access::Account, _) => {
                return Err(ApiError::new(
                    ProblemKind::InsufficientScope,
                    "Access tokens cannot manage the account; sign in",
                ))
            }
            (Access::Write, "read") => {
                return Err(ApiError::new(
                    ProblemKind::InsufficientScope,
                    "This token has the read scope only",
                ))
            }
            _ => {}
        }
        // Coarse on purpose: one write per token per five minutes at most.
        if last_used.is_none_or(|t| self.at - t > Duration::minutes(5)) {
            diesel::update(pat::table.find(id))
                .set(pat::last_used_at.eq(self.at))
                .execute(conn)
                .await?;
        }
        Ok(Principal {
            user_id,
            session_id: None,
            at: self.at,
        })
    }
}
