//! How strongly a session was authenticated, and the rule for sensitive actions: with a second
//! factor enrolled, they need a strong method within [`RECENT`]. Account and credential
//! management alike stand on it.

use chrono::{DateTime, Duration, Utc};
use diesel::{dsl::exists, prelude::*};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    common::extractor::Principal,
    db::{
        pool::Conn,
        schema::auth::{passkeys, sessions, totp_factors},
    },
    http::problem::{ApiError, ApiResult, ProblemKind},
};

/// How long a strong authentication counts as recent for sensitive actions.
pub const RECENT: Duration = Duration::minutes(10);

/// How a session proved who its user is (most recently).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Password,
    Passkey,
    PasswordTotp,
    PasswordPasskey,
    PasswordRecoveryCode,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Passkey => "passkey",
            Self::PasswordTotp => "password_totp",
            Self::PasswordPasskey => "password_passkey",
            Self::PasswordRecoveryCode => "password_recovery_code",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "passkey" => Self::Passkey,
            "password_totp" => Self::PasswordTotp,
            "password_passkey" => Self::PasswordPasskey,
            "password_recovery_code" => Self::PasswordRecoveryCode,
            _ => Self::Password,
        }
    }

    /// A passkey (possession and user verification) or a password with a second factor.
    pub fn is_strong(self) -> bool {
        self != Self::Password
    }
}

/// Whether the transaction's user has a second factor: a confirmed authenticator app or a
/// passkey (the transaction must act as that user).
pub async fn enrolled(conn: &mut Conn, user_id: Uuid) -> ApiResult<bool> {
    let totp = totp_factors::table
        .filter(totp_factors::user_id.eq(user_id))
        .filter(totp_factors::confirmed_at.is_not_null());
    let keys = passkeys::table.filter(passkeys::user_id.eq(user_id));
    let (totp, keys): (bool, bool) = diesel::select((exists(totp), exists(keys)))
        .get_result(conn)
        .await?;
    Ok(totp || keys)
}

/// Refuses a sensitive action of an account with a second factor unless this session
/// authenticated strongly within [`RECENT`]. Accounts without a factor keep their password
/// checks only.
pub async fn require_recent_strong(conn: &mut Conn, me: &Principal) -> ApiResult<()> {
    if !enrolled(conn, me.user_id).await? {
        return Ok(());
    }
    let Some(session_id) = me.session_id else {
        return Err(ApiError::new(
            ProblemKind::InsufficientScope,
            "Access tokens cannot do this; sign in",
        ));
    };
    let (method, at): (String, DateTime<Utc>) = sessions::table
        .find(session_id)
        .select((sessions::auth_method, sessions::authenticated_at))
        .first(conn)
        .await?;
    if AuthMethod::parse(&method).is_strong() && at > me.at - RECENT {
        return Ok(());
    }
    Err(ApiError::new(
        ProblemKind::ReauthenticationRequired,
        "This needs a second factor within the last 10 minutes: confirm with POST /v1/auth/reauthenticate (a code, a recovery code or a passkey), then try again",
    ))
}

/// Records that the session just authenticated by `method`.
pub async fn mark(
    conn: &mut Conn,
    session_id: Uuid,
    method: AuthMethod,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::update(sessions::table.find(session_id))
        .set((
            sessions::auth_method.eq(method.as_str()),
            sessions::authenticated_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}
