//! Double-submit CSRF for cookie sessions: the token is an HMAC of the session id, sent in
//! a readable cookie and echoed in `X-CSRF-Token` on unsafe methods.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

pub const HEADER: &str = "x-csrf-token";

#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl CsrfKey {
    /// Derived from the JWT secret so that one secret configures the deployment.
    pub fn derive(secret: &SecretString) -> Self {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("any key length");
        mac.update(b"minime csrf v1");
        Self(mac.finalize().into_bytes().to_vec())
    }

    fn mac(&self, session_id: Uuid) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("any key length");
        mac.update(session_id.as_bytes());
        mac
    }

    pub fn token(&self, session_id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(session_id).finalize().into_bytes())
    }

    /// Constant-time comparison (hmac's `verify_slice`).
    pub fn verify(&self, session_id: Uuid, presented: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(presented)
            .is_ok_and(|bytes| self.mac(session_id).verify_slice(&bytes).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_bind_to_the_session() {
        let key = CsrfKey::derive(&SecretString::from("secret-secret-secret-secret-secret"));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(key.verify(a, &key.token(a)));
        assert!(!key.verify(b, &key.token(a)));
        assert!(!key.verify(a, "garbage"));
    }
}
