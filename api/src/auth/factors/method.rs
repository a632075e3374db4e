//! How a session was authenticated: the method every session records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
