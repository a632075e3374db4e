//! One proof of a second factor — a code of the authenticator app, a recovery code or a passkey
//! assertion — checked for the sign-in step and for re-authentication alike.

use chrono::{DateTime, Utc};
use uuid::Uuid;
use webauthn_rs::prelude::PublicKeyCredential;

use super::{
    recovery, totp,
    webauthn::{self, Ceremony, Checked},
};
use crate::common::assurance::AuthMethod;
use crate::{
    common::{limits, state::State},
    db::pool::Conn,
    http::{
        client_ip::ClientIp,
        problem::{ApiError, ApiResult, FieldError, ProblemKind},
    },
};

pub enum Proof {
    Code(String),
    RecoveryCode(String),
    Passkey(Box<PublicKeyCredential>),
}

impl Proof {
    /// Exactly one of the three fields of a request.
    pub fn one(
        code: Option<String>,
        recovery_code: Option<String>,
        passkey: Option<serde_json::Value>,
    ) -> ApiResult<Self> {
        match (code, recovery_code, passkey) {
            (Some(code), None, None) => Ok(Self::Code(code)),
            (None, Some(code), None) => Ok(Self::RecoveryCode(code)),
            (None, None, Some(answer)) => Ok(Self::Passkey(Box::new(webauthn::answer(
                "passkey", answer,
            )?))),
            _ => Err(ApiError::validation(
                ["code", "recovery_code", "passkey"]
                    .into_iter()
                    .map(|field| FieldError {
                        field: field.into(),
                        message: "send exactly one of code, recovery_code and passkey".into(),
                    })
                    .collect(),
            )),
        }
    }

    /// The method a password sign-in completed with this proof counts as.
    pub fn after_password(&self) -> AuthMethod {
        match self {
            Self::Code(_) => AuthMethod::PasswordTotp,
            Self::RecoveryCode(_) => AuthMethod::PasswordRecoveryCode,
            Self::Passkey(_) => AuthMethod::PasswordPasskey,
        }
    }
}

pub enum Verdict {
    Proven,
    /// A wrong code: counts toward the lockout.
    Wrong,
    /// A passkey assertion that failed its checks.
    Refused(Checked),
}

/// Checks the proof of the transaction's user, using it up when it holds; `ceremony` is the
/// pending passkey challenge, if one was asked for.
pub async fn check(
    conn: &mut Conn,
    state: &State,
    user_id: Uuid,
    proof: &Proof,
    ceremony: Option<Ceremony>,
    at: DateTime<Utc>,
) -> ApiResult<Verdict> {
    let held = match proof {
        Proof::Code(code) => match state.config.secret_keys.as_deref() {
            Some(keys) => totp::use_code(conn, keys, user_id, code, at).await?,
            None => false,
        },
        Proof::RecoveryCode(code) => recovery::use_code(conn, user_id, code, at).await?,
        Proof::Passkey(answer) => {
            let Some(ceremony) = ceremony else {
                return Ok(Verdict::Refused(Checked::Refused(
                    "ask for passkey options first".into(),
                )));
            };
            return Ok(
                match webauthn::check(conn, &state.webauthn, user_id, answer, ceremony, at).await? {
                    Checked::Accepted => Verdict::Proven,
                    other => Verdict::Refused(other),
                },
            );
        }
    };
    Ok(if held {
        Verdict::Proven
    } else {
        Verdict::Wrong
    })
}

/// A wrong code of `email`'s account from `ip`: counted toward the sign-in lockout like a wrong
/// password, and the answer to give.
pub async fn wrong_code(state: &State, email: &str, ip: &ClientIp) -> ApiError {
    let attempt = limits::Attempt::new(email, ip);
    let counted = limits::record_failure(
        &state.db,
        state.clock.now(),
        attempt,
        state.config.lockout.clone(),
    )
    .await;
    match counted {
        Ok(()) => ApiError::new(
            ProblemKind::InvalidCode,
            "The code is wrong or was used already",
        ),
        Err(e) => e,
    }
}
