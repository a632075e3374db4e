//! Opening a session: who may have one, the tokens or cookies a sign-in answers with, and the
//! first refresh token of the session's family. Every way of signing in (password, password
//! and a second factor, passkey) ends here.

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::Utc;
use diesel::{
    prelude::*,
    sql_types::{Bytea, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::common::assurance::AuthMethod;
use crate::{
    common::{cookies, state::State},
    db::{pool::Conn, schema::auth::sessions},
    http::{
        client_ip::client_ip,
        problem::{ApiError, ApiResult, ProblemKind},
    },
    tokens,
};

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    /// Tokens in the response body, for scripts and native clients.
    #[default]
    Token,
    /// HttpOnly cookies plus a CSRF token, for browsers.
    Cookie,
}

impl SessionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Cookie => "cookie",
        }
    }
}

/// OAuth 2 token response. In cookie mode the tokens travel only in HttpOnly cookies (a
/// script could otherwise read them), and `csrf_token` is what to echo in `X-CSRF-Token`.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "d3Vt8eW0wq1Yc9Qm2x7Lk5rA4sHn6bJf0pZ1yTgC3uE")]
    pub refresh_token: Option<String>,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    pub session_id: Uuid,
}

pub(in crate::auth) struct Issued {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub refresh_token: String,
    pub mode: SessionMode,
}

pub(in crate::auth) fn respond(
    state: &State,
    mut builder: HttpResponseBuilder,
    issued: Issued,
) -> HttpResponse {
    let access = state
        .jwt
        .issue(state.clock.now(), issued.user_id, issued.session_id);
    let expires_in = state.jwt.ttl().as_secs();
    builder.insert_header(("Cache-Control", "no-store"));
    match issued.mode {
        SessionMode::Token => builder.json(TokenResponse {
            access_token: Some(access),
            refresh_token: Some(issued.refresh_token),
            token_type: "Bearer",
            expires_in,
            csrf_token: None,
            session_id: issued.session_id,
        }),
        SessionMode::Cookie => {
            let csrf = state.csrf.token(issued.session_id);
            for cookie in
                cookies::session(&state.config, access, issued.refresh_token, csrf.clone())
            {
                builder.cookie(cookie);
            }
            builder.json(TokenResponse {
                access_token: None,
                refresh_token: None,
                token_type: "cookie",
                expires_in,
                csrf_token: Some(csrf),
                session_id: issued.session_id,
            })
        }
    }
}

/// Refresh tokens live in a table the server role cannot read; these calls go through the
/// database functions that guard it (`auth.*_refresh_token`).
pub(in crate::auth) async fn new_refresh_token(
    conn: &mut Conn,
    session_id: Uuid,
) -> ApiResult<String> {
    let token = tokens::random_token(32);
    diesel::sql_query("SELECT auth.issue_refresh_token($1, $2)")
        .bind::<Bytea, _>(tokens::hash(&token))
        .bind::<SqlUuid, _>(session_id)
        .execute(conn)
        .await?;
    Ok(token)
}

pub(in crate::auth) fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect())
}

/// An account locked by an administrator, or not verified yet, gets no session.
pub(in crate::auth) fn may_sign_in(verified: bool, locked: bool) -> ApiResult<()> {
    if locked {
        return Err(ApiError::new(
            ProblemKind::AccountSuspended,
            "An administrator locked this account; write to the operator of this server",
        ));
    }
    if !verified {
        return Err(ApiError::new(
            ProblemKind::EmailNotVerified,
            "Open the link in the verification mail first, or ask for a new one at /v1/auth/verify-email/resend",
        ));
    }
    Ok(())
}

/// A session about to begin, with the first refresh token of its family.
pub(in crate::auth) struct NewSession {
    user_id: Uuid,
    pub mode: SessionMode,
    method: AuthMethod,
    agent: Option<String>,
    ip: String,
    at: chrono::DateTime<Utc>,
    expires_at: chrono::DateTime<Utc>,
}

impl NewSession {
    pub fn new(
        state: &State,
        req: &HttpRequest,
        user_id: Uuid,
        mode: SessionMode,
        method: AuthMethod,
    ) -> Self {
        let at = state.clock.now();
        Self {
            user_id,
            mode,
            method,
            agent: user_agent(req),
            ip: client_ip(req, state.config.proxies).to_string(),
            at,
            expires_at: at
                + chrono::Duration::from_std(state.config.session_ttl)
                    .unwrap_or(chrono::Duration::days(30)),
        }
    }

    /// The same session, in the mode its sign-in asked for.
    pub fn with_mode(self, mode: SessionMode) -> Self {
        Self { mode, ..self }
    }

    /// The same session, of the user a passkey named.
    pub fn for_user(self, user_id: Uuid) -> Self {
        Self { user_id, ..self }
    }

    pub async fn open(self, conn: &mut Conn) -> ApiResult<Issued> {
        let session_id = Uuid::now_v7();
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(session_id),
                sessions::user_id.eq(self.user_id),
                sessions::mode.eq(self.mode.as_str()),
                sessions::user_agent.eq(self.agent),
                sessions::ip.eq(self.ip),
                sessions::expires_at.eq(self.expires_at),
                sessions::auth_method.eq(self.method.as_str()),
                sessions::authenticated_at.eq(self.at),
            ))
            .execute(conn)
            .await?;
        let refresh_token = new_refresh_token(conn, session_id).await?;
        Ok(Issued {
            user_id: self.user_id,
            session_id,
            refresh_token,
            mode: self.mode,
        })
    }
}
