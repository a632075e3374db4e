//! A software authenticator speaking WebAuthn's wire format: it answers the server's creation
//! and request options as a platform authenticator would (P-256 keys, "none" attestation, user
//! verified), with a signature counter the test can wind back.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine};
use ciborium::Value as Cbor;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    pub counter: u32,
    pub origin: String,
    rp_id: String,
}

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).unwrap();
    out
}

impl SoftPasskey {
    /// An authenticator for the server's default relying party (`localhost`, origin
    /// `http://localhost:8080`).
    pub fn new() -> Self {
        let mut id = vec![0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id: id,
            user_handle: Vec::new(),
            counter: 0,
            origin: "http://localhost:8080".into(),
            rp_id: "localhost".into(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    fn auth_data(&self, flags: u8, attested: Option<Vec<u8>>) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        if let Some(attested) = attested {
            data.extend(attested);
        }
        data
    }

    /// Answers `navigator.credentials.create` options: `PublicKeyCredential.toJSON()`.
    pub fn create(&mut self, options: &Value) -> Value {
        let user = options["publicKey"]["user"]["id"].as_str().unwrap();
        self.user_handle = B64.decode(user).unwrap();
        let point = self.key.verifying_key().to_encoded_point(false);
        let cose = Cbor::Map(vec![
            (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
            (Cbor::Integer(3.into()), Cbor::Integer((-7).into())),
            (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
            (
                Cbor::Integer((-2).into()),
                Cbor::Bytes(point.x().unwrap().to_vec()),
            ),
            (
                Cbor::Integer((-3).into()),
                Cbor::Bytes(point.y().unwrap().to_vec()),
            ),
        ]);
        let mut attested = vec![0u8; 16];
        attested.extend((self.credential_id.len() as u16).to_be_bytes());
        attested.extend(&self.credential_id);
        attested.extend(cbor(&cose));
        let auth_data = self.auth_data(UP | UV | AT, Some(attested));
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(vec![])),
            (Cbor::Text("authData".into()), Cbor::Bytes(auth_data)),
        ]);
        let client_data = self.client_data("webauthn.create", options);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&cbor(&attestation)),
                "clientDataJSON": b64(&client_data),
            },
            "clientExtensionResults": {},
        })
    }

    /// Answers `navigator.credentials.get` options with the next counter value.
    pub fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.assert(options)
    }

    /// Answers with the counter as it is now (set it back to play a cloned authenticator).
    pub fn assert(&self, options: &Value) -> Value {
        let auth_data = self.auth_data(UP | UV, None);
        let client_data = self.client_data("webauthn.get", options);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "clientExtensionResults": {},
        })
    }
}
