//! The WebAuthn relying party (webauthn-rs) and the checks every passkey assertion goes through:
//! the signature over this server's challenge and origin, user verification, the signature
//! counter and the backup flags.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential, Webauthn,
    WebauthnBuilder, WebauthnError,
};

use crate::{
    config::Passkeys,
    db::{pool::Conn, schema::auth::passkeys},
    http::problem::{ApiError, ApiResult, ProblemKind},
};

/// The relying party of this server's configuration.
pub fn relying_party(config: &Passkeys) -> anyhow::Result<Webauthn> {
    let (first, rest) = config
        .origins
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("MINIME_WEBAUTHN_ORIGINS names no origin"))?;
    let mut builder = WebauthnBuilder::new(&config.rp_id, first).map_err(|e| {
        anyhow::anyhow!(
            "MINIME_WEBAUTHN_RP_ID {} does not fit the origin {first}: {e}",
            config.rp_id
        )
    })?;
    for origin in rest {
        builder = builder.append_allowed_origin(origin);
    }
    builder
        .rp_name(&config.rp_name)
        .build()
        .map_err(|e| anyhow::anyhow!("the WebAuthn relying party: {e}"))
}

/// The server's half of an authentication ceremony, kept with its step.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ceremony {
    /// The account is known: only its passkeys are allowed.
    Account(PasskeyAuthentication),
    /// The authenticator names the account (a discoverable credential).
    Discoverable(DiscoverableAuthentication),
}

/// What became of an assertion.
pub enum Checked {
    Accepted,
    /// The counter went backwards, now or before: the passkey is refused from now on.
    Cloned,
    Refused(String),
}

impl Checked {
    /// The error a refused assertion answers.
    pub fn refusal(self) -> ApiError {
        match self {
            Self::Accepted => ApiError::internal(anyhow::anyhow!("an accepted passkey refused")),
            Self::Cloned => ApiError::new(
                ProblemKind::PasskeyRefused,
                "This passkey's signature counter went backwards, so it may have been copied; it is refused from now on. Remove it and register a new one",
            ),
            Self::Refused(why) => ApiError::new(
                ProblemKind::PasskeyRefused,
                format!("The passkey's answer was refused: {why}"),
            ),
        }
    }
}

#[derive(Queryable)]
struct Row {
    id: Uuid,
    credential: serde_json::Value,
    possibly_cloned_at: Option<DateTime<Utc>>,
}

/// Checks an assertion of `user_id`'s passkey against the ceremony; the transaction must act
/// as that user. A counter that went backwards marks the passkey in this transaction, so the
/// caller commits before refusing.
pub async fn check(
    conn: &mut Conn,
    relying_party: &Webauthn,
    user_id: Uuid,
    answer: &PublicKeyCredential,
    ceremony: Ceremony,
    at: DateTime<Utc>,
) -> ApiResult<Checked> {
    let credential_id: &[u8] = answer.get_credential_id();
    let row: Option<Row> = passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .filter(passkeys::credential_id.eq(credential_id))
        .select((
            passkeys::id,
            passkeys::credential,
            passkeys::possibly_cloned_at,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row else {
        return Ok(Checked::Refused(
            "it is not a passkey of this account".into(),
        ));
    };
    if row.possibly_cloned_at.is_some() {
        return Ok(Checked::Cloned);
    }
    let mut passkey: Passkey =
        serde_json::from_value(row.credential).map_err(ApiError::internal)?;
    let outcome = match ceremony {
        Ceremony::Account(state) => relying_party.finish_passkey_authentication(answer, &state),
        Ceremony::Discoverable(state) => {
            relying_party.finish_discoverable_authentication_v2(answer, state, &passkey)
        }
    };
    let result = match outcome {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            diesel::update(passkeys::table.find(row.id))
                .set(passkeys::possibly_cloned_at.eq(at))
                .execute(conn)
                .await?;
            tracing::warn!(passkey = %row.id, "passkey counter went backwards: marked as possibly cloned");
            return Ok(Checked::Cloned);
        }
        Err(e) => return Ok(Checked::Refused(e.to_string())),
    };
    passkey.update_credential(&result);
    diesel::update(passkeys::table.find(row.id))
        .set((
            passkeys::credential.eq(serde_json::to_value(&passkey).map_err(ApiError::internal)?),
            passkeys::sign_count.eq(i64::from(result.counter())),
            passkeys::backup_eligible.eq(result.backup_eligible()),
            passkeys::backup_state.eq(result.backup_state()),
            passkeys::last_used_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(Checked::Accepted)
}

/// The user's passkeys that may still sign in (none marked as possibly cloned).
pub async fn usable(conn: &mut Conn, user_id: Uuid) -> ApiResult<Vec<Passkey>> {
    let stored: Vec<serde_json::Value> = passkeys::table
        .filter(passkeys::user_id.eq(user_id))
        .filter(passkeys::possibly_cloned_at.is_null())
        .select(passkeys::credential)
        .load(conn)
        .await?;
    stored
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(ApiError::internal))
        .collect()
}

/// Options as the browser's `navigator.credentials.get` takes them, as a modal request (the
/// library marks discoverable requests as conditional, for autofill).
pub fn request_options(
    mut options: webauthn_rs::prelude::RequestChallengeResponse,
) -> ApiResult<serde_json::Value> {
    options.mediation = None;
    serde_json::to_value(options).map_err(ApiError::internal)
}

pub fn to_state<T: Serialize>(state: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(state).map_err(ApiError::internal)
}

/// A credential in the request body, read as webauthn-rs reads it.
pub fn answer<T: serde::de::DeserializeOwned>(
    field: &str,
    value: serde_json::Value,
) -> ApiResult<T> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::field(field, format!("is not a WebAuthn credential: {e}")))
}
