//! Secrets at rest (provider tokens, push keys): AES-256-GCM under a key ring. A sealed secret
//! is `kid length | kid | 12-byte nonce | ciphertext and tag`, and its associated data names the
//! table, column and row it belongs to, so a ciphertext copied to another row or column does not
//! open. The first key of the ring seals; every key opens, so keys can be rotated: add a new key
//! in front, re-seal ([`KeyRing::reseal`]), then drop the old one.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};

const NONCE_LEN: usize = 12;

/// Where a secret lives: bound into its ciphertext.
#[derive(Clone, Copy, Debug)]
pub struct Place<'a> {
    pub table: &'a str,
    pub column: &'a str,
    pub row: &'a str,
}

impl Place<'_> {
    fn aad(&self) -> Vec<u8> {
        [self.table, self.column, self.row].join("\0").into_bytes()
    }
}

struct Key {
    kid: String,
    cipher: Aes256Gcm,
}

pub struct KeyRing(Vec<Key>);

/// Names the keys, never shows them.
impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("KeyRing")
            .field(&self.0.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("MINIME_SECRET_KEYS: {0}")]
    Config(String),
    #[error("the secret does not open with any key of the ring, or not at this place")]
    Unreadable,
}

impl KeyRing {
    /// `kid:base64key,…` (32-byte keys, standard base64), the sealing key first.
    pub fn parse(spec: &SecretBox<str>) -> Result<Self, SecretError> {
        let mut keys = Vec::new();
        for entry in spec
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (kid, key) = entry
                .split_once(':')
                .ok_or_else(|| SecretError::Config("each key is kid:base64key".into()))?;
            if kid.is_empty()
                || kid.len() > 32
                || !kid
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(SecretError::Config(format!(
                    "key id {kid:?} must be 1 to 32 letters, digits, - or _"
                )));
            }
            if keys.iter().any(|k: &Key| k.kid == kid) {
                return Err(SecretError::Config(format!("key id {kid} appears twice")));
            }
            let bytes = STANDARD
                .decode(key)
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| {
                    SecretError::Config(format!("key {kid} must be 32 bytes in base64"))
                })?;
            keys.push(Key {
                kid: kid.to_owned(),
                cipher: Aes256Gcm::new_from_slice(&bytes)
                    .map_err(|_| SecretError::Config(format!("key {kid} is not a key")))?,
            });
        }
        if keys.is_empty() {
            return Err(SecretError::Config("no key".into()));
        }
        Ok(Self(keys))
    }

    /// A new random key in the ring's notation, for `MINIME_SECRET_KEYS`.
    pub fn generate(kid: &str) -> String {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        format!("{kid}:{}", STANDARD.encode(key))
    }

    pub fn sealing_kid(&self) -> &str {
        &self.0[0].kid
    }

    pub fn seal(&self, place: Place<'_>, plaintext: &[u8]) -> Vec<u8> {
        let key = &self.0[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = place.aad();
        let sealed = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("AES-GCM sealing cannot fail for these sizes");
        let mut out = Vec::with_capacity(1 + key.kid.len() + NONCE_LEN + sealed.len());
        out.push(key.kid.len() as u8);
        out.extend_from_slice(key.kid.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, place: Place<'_>, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        let (kid, nonce, body) = split(sealed).ok_or(SecretError::Unreadable)?;
        let key = self
            .0
            .iter()
            .find(|k| k.kid.as_bytes() == kid)
            .ok_or(SecretError::Unreadable)?;
        let aad = place.aad();
        key.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Unreadable)
    }

    /// The secret sealed under the sealing key, or `None` when it is already.
    pub fn reseal(&self, place: Place<'_>, sealed: &[u8]) -> Result<Option<Vec<u8>>, SecretError> {
        let (kid, _, _) = split(sealed).ok_or(SecretError::Unreadable)?;
        if kid == self.sealing_kid().as_bytes() {
            return Ok(None);
        }
        let plaintext = self.open(place, sealed)?;
        Ok(Some(self.seal(place, &plaintext)))
    }
}

fn split(sealed: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let kid_len = usize::from(*sealed.first()?);
    let rest = sealed.get(1..)?;
    if rest.len() < kid_len + NONCE_LEN + 16 {
        return None;
    }
    let (kid, rest) = rest.split_at(kid_len);
    let (nonce, body) = rest.split_at(NONCE_LEN);
    Some((kid, nonce, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(spec: &str) -> KeyRing {
        KeyRing::parse(&SecretBox::from(spec.to_owned().into_boxed_str())).unwrap()
    }

    const HERE: Place<'static> = Place {
        table: "app.push_subscriptions",
        column: "auth_secret",
        row: "0193a0c2-0000-7000-8000-000000000001",
    };

    #[test]
    fn a_secret_opens_only_where_it_was_sealed() {
        let keys = ring(&KeyRing::generate("k1"));
        let sealed = keys.seal(HERE, b"p256dh and auth");
        assert_eq!(keys.open(HERE, &sealed).unwrap(), b"p256dh and auth");
        for elsewhere in [
            Place {
                row: "0193a0c2-0000-7000-8000-000000000002",
                ..HERE
            },
            Place {
                column: "p256dh",
                ..HERE
            },
            Place {
                table: "app.integrations",
                ..HERE
            },
        ] {
            assert!(keys.open(elsewhere, &sealed).is_err(), "{elsewhere:?}");
        }
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(keys.open(HERE, &tampered).is_err());
        assert!(keys.open(HERE, &sealed[..10]).is_err());
        // Sealing twice gives two ciphertexts (fresh nonces).
        assert_ne!(keys.seal(HERE, b"x"), keys.seal(HERE, b"x"));
    }

    #[test]
    fn rotation_keeps_every_secret_readable() {
        let (old, new) = (KeyRing::generate("old"), KeyRing::generate("new"));
        let before = ring(&old);
        let secrets: Vec<Vec<u8>> = (0..5)
            .map(|n| before.seal(HERE, format!("secret {n}").as_bytes()))
            .collect();
        let rotated = ring(&format!("{new},{old}"));
        let mut resealed = Vec::new();
        for s in &secrets {
            let again = rotated
                .reseal(HERE, s)
                .unwrap()
                .expect("sealed under the old key");
            assert!(rotated.reseal(HERE, &again).unwrap().is_none(), "done once");
            resealed.push(again);
        }
        // Once everything is resealed, the old key can leave the ring.
        let new_only = ring(&new);
        for (n, s) in resealed.iter().enumerate() {
            assert_eq!(
                new_only.open(HERE, s).unwrap(),
                format!("secret {n}").as_bytes()
            );
        }
        assert!(before.open(HERE, &resealed[0]).is_err());
    }

    #[test]
    fn bad_rings_are_refused() {
        for spec in [
            "",
            "nokey",
            "k1:short",
            "k1:@@@",
            &format!("{},{}", KeyRing::generate("a"), KeyRing::generate("a")),
        ] {
            assert!(
                KeyRing::parse(&SecretBox::from(spec.to_owned().into_boxed_str())).is_err(),
                "{spec}"
            );
        }
    }
}
