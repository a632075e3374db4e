//! Short-lived access tokens: HS256 only, with issuer, audience and expiry checked.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const ISSUER: &str = "minime";
const AUDIENCE: &str = "minime-api";
const LEEWAY_SECONDS: i64 = 5;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// The session this token belongs to; revoking it ends the token at once.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl Keys {
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked against the server's clock in `verify`, not the wall clock.
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, at: DateTime<Utc>, user_id: Uuid, session_id: Uuid) -> String {
        let now = at.timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding cannot fail")
    }

    /// The claims of a token this server signed that has not expired at `at` (five seconds of
    /// leeway for clocks a little apart).
    pub fn verify(&self, token: &str, at: DateTime<Utc>) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
            .filter(|claims| claims.exp + LEEWAY_SECONDS >= at.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    fn keys() -> Keys {
        Keys::new(
            &SecretString::from("a-test-secret-of-enough-length-123456"),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn round_trip_and_tamper() {
        let keys = keys();
        let at = Utc::now();
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys.issue(at, user, session);
        let claims = keys.verify(&token, at).unwrap();
        assert_eq!((claims.sub, claims.sid), (user, session));

        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let forged = serde_json::json!({"sub": Uuid::now_v7(), "sid": session, "iss": ISSUER, "aud": AUDIENCE, "iat": 0, "exp": claims.exp});
        parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
        assert!(keys.verify(&parts.join("."), at).is_none());

        let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(keys
            .verify(&format!("{none_header}.{}.", parts[1]), at)
            .is_none());

        let other = Keys::new(
            &SecretString::from("another-secret-of-enough-length-12345"),
            Duration::from_secs(60),
        );
        assert!(other.verify(&token, at).is_none());
    }

    #[test]
    fn a_token_ends_on_the_servers_clock() {
        let keys = keys();
        let at = Utc::now();
        let token = keys.issue(at, Uuid::now_v7(), Uuid::now_v7());
        assert!(keys
            .verify(&token, at + chrono::Duration::seconds(64))
            .is_some());
        assert!(keys
            .verify(&token, at + chrono::Duration::seconds(66))
            .is_none());
    }
}
