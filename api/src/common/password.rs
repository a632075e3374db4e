//! argon2id hashing on a bounded blocking pool, and the password policy.

use std::sync::Arc;

use argon2::{
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString},
    Algorithm, Argon2, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::http::problem::ApiError;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 256;

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid params"),
    )
}

/// Hashes run on tokio's blocking pool, at most `concurrency` at once, so a flood of
/// sign-ins neither blocks the async workers nor exhausts memory.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the email is unknown, so timing does not reveal accounts.
    dummy_hash: Arc<String>,
}

impl Hasher {
    pub fn new(concurrency: usize) -> Self {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let dummy = argon2()
            .hash_password(b"minime-dummy-password", &salt)
            .expect("hash")
            .to_string();
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: Arc::new(dummy),
        }
    }

    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let _permit = self.permits.acquire().await.map_err(ApiError::internal)?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(ApiError::internal)
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        self.blocking(move || {
            let salt = SaltString::generate(&mut rand::rngs::OsRng);
            argon2()
                .hash_password(password.expose_secret().as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2: {e}")))
    }

    /// `None` as the stored hash verifies against the dummy and always fails.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let ok = self
            .blocking(move || {
                PasswordHash::new(&stored)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.expose_secret().as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(known && ok)
    }
}

/// Length bounds plus zxcvbn's estimate, with the user's own email and name as known words.
pub fn check_strength(field: &str, password: &str, user_inputs: &[&str]) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(ApiError::field(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    if chars > MAX_LENGTH {
        return Err(ApiError::field(
            field,
            format!("must be at most {MAX_LENGTH} characters"),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if (estimate.score() as u8) < 3 {
        let hint = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "it is easy to guess".to_owned());
        return Err(ApiError::field(
            field,
            format!("is too weak: {hint}; add more unusual words or characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_weak_and_accepts_strong() {
        assert!(check_strength("password", "short", &[]).is_err());
        assert!(check_strength("password", "password1234", &[]).is_err());
        assert!(check_strength("password", "ada@example.com1", &["ada@example.com"]).is_err());
        assert!(check_strength("password", "tangerine-Orbit-4417-lamp", &[]).is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let hasher = Hasher::new(2);
        let hash = hasher
            .hash(SecretString::from("tangerine-Orbit-4417-lamp"))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher
            .verify(
                SecretString::from("tangerine-Orbit-4417-lamp"),
                Some(hash.clone())
            )
            .await
            .unwrap());
        assert!(!hasher
            .verify(SecretString::from("wrong-password-here"), Some(hash))
            .await
            .unwrap());
        assert!(!hasher
            .verify(SecretString::from("minime-dummy-password"), None)
            .await
            .unwrap());
    }
}
