//! The server's VAPID key pair (RFC 8292): the private key signs a token for every push, and
//! browsers subscribe with the public key (`applicationServerKey`), so a push service accepts
//! messages for a subscription only from us. The key comes from `MINIME_VAPID_PRIVATE_KEY` or,
//! without it, is made once and kept sealed in `ops.server_secrets`.

use actix_web::{get, HttpResponse};
use base64::{
    engine::{
        general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD},
        DecodePaddingMode,
    },
    Engine,
};
use chrono::{DateTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use utoipa::ToSchema;
use web_push::{SubscriptionInfo, VapidSignature, VapidSignatureBuilder, WebPushError};

use crate::{
    common::{server_secrets, state::State},
    config::Config,
    db::pool::Conn,
    http::problem::{ApiError, ApiResult},
};

/// The name the generated key is kept under.
pub const SECRET_NAME: &str = "vapid.private_key";

/// base64url with or without padding: browsers and key generators differ.
pub const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub struct Vapid {
    /// base64url of the raw scalar, as the signer takes it.
    private: SecretString,
    /// The uncompressed public point (65 bytes).
    pub public: Vec<u8>,
}

impl Vapid {
    /// From the raw 32-byte private scalar.
    pub fn from_scalar(bytes: &[u8]) -> Result<Self, String> {
        let key = (bytes.len() == 32)
            .then(|| p256::SecretKey::from_slice(bytes).ok())
            .flatten()
            .ok_or("not a P-256 private key (32 bytes)")?;
        let public =
            p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key.public_key(), false)
                .as_bytes()
                .to_vec();
        Ok(Self {
            private: SecretString::from(URL_SAFE_NO_PAD.encode(bytes)),
            public,
        })
    }

    /// From base64url of the raw 32-byte private scalar (`MINIME_VAPID_PRIVATE_KEY`).
    pub fn parse(encoded: &str) -> Result<Self, String> {
        let bytes = BASE64URL
            .decode(encoded.trim())
            .map_err(|_| "not base64url".to_owned())?;
        Self::from_scalar(&bytes)
    }

    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.public)
    }

    /// The token for one push to `info`'s push service: `aud` its origin (port included),
    /// `sub` our contact, `exp` from the server's clock.
    pub fn sign(
        &self,
        info: &SubscriptionInfo,
        subject: &str,
        expires: DateTime<Utc>,
    ) -> Result<VapidSignature, WebPushError> {
        let origin = url::Url::parse(&info.endpoint)
            .map_err(|_| WebPushError::InvalidUri)?
            .origin()
            .ascii_serialization();
        let mut builder = VapidSignatureBuilder::from_base64(self.private.expose_secret(), info)?;
        builder.add_claim("sub", subject);
        builder.add_claim("aud", origin);
        builder.add_claim("exp", u64::try_from(expires.timestamp()).unwrap_or(0));
        builder.build()
    }
}

/// The server's VAPID keys: the configured ones, or the ones kept in the database (made the
/// first time they are needed).
pub async fn keys(conn: &mut Conn, config: &Config) -> ApiResult<Vapid> {
    if let Some(configured) = &config.vapid_private_key {
        return Vapid::parse(configured.expose_secret())
            .map_err(|e| ApiError::internal(anyhow::anyhow!("MINIME_VAPID_PRIVATE_KEY: {e}")));
    }
    let ring = config.secret_keys.as_deref().ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "without MINIME_VAPID_PRIVATE_KEY, MINIME_SECRET_KEYS must be set to keep the generated key"
        ))
    })?;
    let scalar = server_secrets::get_or_make(conn, ring, SECRET_NAME, || {
        p256::SecretKey::random(&mut rand::rngs::OsRng)
            .to_bytes()
            .to_vec()
    })
    .await?;
    Vapid::from_scalar(&scalar)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("the kept VAPID key: {e}")))
}

#[derive(Serialize, ToSchema)]
pub struct VapidPublicKey {
    /// The server's P-256 public key, uncompressed, in base64url: pass it to
    /// `PushManager.subscribe({ userVisibleOnly: true, applicationServerKey })`.
    #[schema(
        example = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
    )]
    pub public_key: String,
}

/// `GET /v1/push/vapid-public-key`
#[utoipa::path(
    tag = "push", summary = "The key browsers subscribe with.",
    description = "The server's VAPID public key (RFC 8292) for `PushManager.subscribe`'s \
                   `applicationServerKey`. It is public and the same for every user; it changes only \
                   when the operator changes `MINIME_VAPID_PRIVATE_KEY`, and then every browser must \
                   subscribe again.",
    responses((status = 200, description = "The key", body = VapidPublicKey)),
)]
#[get("/push/vapid-public-key")]
pub async fn public_key(state: State) -> ApiResult<HttpResponse> {
    let config = state.config.clone();
    let vapid = state
        .db
        .tx(move |conn| async move { keys(conn, &config).await }.scope_boxed())
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(VapidPublicKey {
            public_key: vapid.public_key(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_with_or_without_padding_and_bad_ones_are_refused() {
        // RFC 8291 Appendix A's application server key.
        let private = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
        let vapid = Vapid::parse(private).unwrap();
        assert_eq!(
            vapid.public_key(),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        assert_eq!(
            Vapid::parse(&format!("{private}=")).unwrap().public,
            vapid.public
        );
        for bad in [
            "",
            "not base64!",
            "AAAA",
            &URL_SAFE_NO_PAD.encode([0u8; 32]),
        ] {
            assert!(Vapid::parse(bad).is_err(), "{bad}");
        }
    }
}
