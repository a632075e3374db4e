//! A push service on loopback, written from RFC 8030, 8188, 8291 and 8292 alone (not from the
//! code that sends): it makes each subscription's key pair and auth secret, checks the VAPID
//! token of every push (ES256 under the `k` key, `aud` its own origin, `exp` within a day, `sub`
//! a contact), decrypts the `aes128gcm` body with the subscription's private key, and records
//! what it got. It can be told to answer a status instead, once or always.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use aes_gcm::{aead::Aead, Aes128Gcm, KeyInit, Nonce};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hkdf::Hkdf;
use p256::{
    ecdsa::{signature::Verifier, Signature, VerifyingKey},
    elliptic_curve::sec1::ToEncodedPoint,
    PublicKey, SecretKey,
};
use serde_json::{json, Value};
use sha2::Sha256;

/// One push as the service received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub token: String,
    pub plaintext: Vec<u8>,
    pub ttl: Option<String>,
    pub urgency: Option<String>,
    pub topic: Option<String>,
    pub claims: Value,
    /// The VAPID public key (`k`), base64url.
    pub vapid_key: String,
}

struct Subscription {
    private: SecretKey,
    auth: [u8; 16],
}

#[derive(Default)]
struct State {
    subscriptions: HashMap<String, Subscription>,
    /// Statuses to answer instead of accepting, per subscription, each once, in order.
    answers: HashMap<String, VecDeque<u16>>,
    received: Vec<Received>,
    /// Every request per subscription, accepted or not.
    attempts: HashMap<String, usize>,
    /// Pushes refused because they broke the protocol: a test expects none.
    violations: Vec<String>,
    /// The time the service judges VAPID expiry by: the server's, in tests that move it.
    clock: minime_api::clock::Clock,
}

#[derive(Clone)]
pub struct PushService {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl PushService {
    pub async fn start() -> Self {
        Self::start_at(minime_api::clock::Clock::system()).await
    }

    /// A service whose time is `clock` (a push service and the server agree on the time).
    pub async fn start_at(clock: minime_api::clock::Clock) -> Self {
        let state = Arc::new(Mutex::new(State {
            clock,
            ..State::default()
        }));
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(shared.clone()))
                .app_data(web::PayloadConfig::new(1 << 20))
                .route("/push/{token}", web::post().to(push))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        tokio::spawn(server.run());
        Self { addr, state }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new subscription, as a browser's `PushSubscription.toJSON()`.
    pub fn subscribe(&self) -> Value {
        let private = SecretKey::random(&mut rand_core());
        let public = private.public_key().to_encoded_point(false);
        let mut auth = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand_core(), &mut auth);
        let token = uuid::Uuid::now_v7().simple().to_string();
        let endpoint = format!("{}/push/{token}", self.origin());
        self.state
            .lock()
            .unwrap()
            .subscriptions
            .insert(token, Subscription { private, auth });
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(auth),
            }
        })
    }

    /// Answers `statuses` in turn to the next pushes for `subscription`, then accepts again.
    pub fn answer(&self, subscription: &Value, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .answers
            .insert(token_of(subscription), statuses.iter().copied().collect());
    }

    pub fn received(&self, subscription: &Value) -> Vec<Received> {
        let token = token_of(subscription);
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| r.token == token)
            .cloned()
            .collect()
    }

    pub fn attempts(&self, subscription: &Value) -> usize {
        let token = token_of(subscription);
        self.state
            .lock()
            .unwrap()
            .attempts
            .get(&token)
            .copied()
            .unwrap_or(0)
    }

    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }
}

fn rand_core() -> rand::rngs::OsRng {
    rand::rngs::OsRng
}

fn token_of(subscription: &Value) -> String {
    subscription["endpoint"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn push(
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let token = token.into_inner();
    let mut state = state.lock().unwrap();
    *state.attempts.entry(token.clone()).or_default() += 1;
    if let Some(answers) = state.answers.get_mut(&token) {
        if let Some(status) = answers.pop_front() {
            return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .insert_header(("Retry-After", "1"))
                .body("{\"reason\": \"told to\"}");
        }
    }
    let origin = format!("http://{}", req.connection_info().host());
    let checked = match state.subscriptions.get(&token) {
        None => Err("no such subscription".to_owned()),
        Some(sub) => check(&req, &origin, sub, &body, state.clock.now().timestamp()),
    };
    match checked {
        Ok((claims, vapid_key, plaintext)) => {
            state.received.push(Received {
                token,
                plaintext,
                ttl: header(&req, "ttl"),
                urgency: header(&req, "urgency"),
                topic: header(&req, "topic"),
                claims,
                vapid_key,
            });
            HttpResponse::Created().finish()
        }
        Err(violation) => {
            state.violations.push(violation.clone());
            HttpResponse::BadRequest().body(violation)
        }
    }
}

/// The push's VAPID claims and key and its decrypted payload, or what is wrong with it.
fn check(
    req: &HttpRequest,
    origin: &str,
    sub: &Subscription,
    body: &[u8],
    now: i64,
) -> Result<(Value, String, Vec<u8>), String> {
    if header(req, "content-encoding").as_deref() != Some("aes128gcm") {
        return Err("Content-Encoding must be aes128gcm".into());
    }
    if header(req, "ttl")
        .and_then(|t| t.parse::<u64>().ok())
        .is_none()
    {
        return Err("a TTL header is required (RFC 8030 §5.2)".into());
    }
    let authorization = header(req, "authorization").ok_or("no Authorization")?;
    let (claims, key) = verify_vapid(&authorization, origin, now)?;
    let plaintext = decrypt(&sub.private, &sub.auth, body)?;
    Ok((claims, key, plaintext))
}

/// RFC 8292: `vapid t=<JWT>, k=<key>`, the JWT signed with ES256 by `k`.
pub fn verify_vapid(
    authorization: &str,
    origin: &str,
    now: i64,
) -> Result<(Value, String), String> {
    let params = authorization
        .strip_prefix("vapid ")
        .ok_or("not the vapid scheme")?;
    let mut t = None;
    let mut k = None;
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.trim().to_owned()),
            Some(("k", v)) => k = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    let (t, k) = (t.ok_or("no t=")?, k.ok_or("no k=")?);
    let key = URL_SAFE_NO_PAD
        .decode(&k)
        .map_err(|_| "k is not base64url")?;
    let key = VerifyingKey::from_sec1_bytes(&key).map_err(|_| "k is not a P-256 key")?;
    let parts: Vec<&str> = t.split('.').collect();
    let [head, claims, signature] = parts[..] else {
        return Err("t is not a JWT".into());
    };
    let decode_json = |s: &str| -> Result<Value, String> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())
    };
    if decode_json(head)?["alg"] != "ES256" {
        return Err("the JWT is not ES256".into());
    }
    let signature = Signature::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "bad signature encoding")?,
    )
    .map_err(|_| "the signature is not 64 bytes")?;
    key.verify(format!("{head}.{claims}").as_bytes(), &signature)
        .map_err(|_| "the JWT's signature does not verify with k")?;
    let claims = decode_json(claims)?;
    if claims["aud"] != origin {
        return Err(format!("aud {} is not {origin}", claims["aud"]));
    }
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp {exp} is not within a day of {now}"));
    }
    let sub = claims["sub"].as_str().ok_or("no sub")?;
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("sub {sub} is not a mailto: or https: contact"));
    }
    Ok((claims, k))
}

/// RFC 8291 §3.4 on an RFC 8188 `aes128gcm` body (header: salt, record size, key id = the
/// sender's ephemeral public key).
pub fn decrypt(private: &SecretKey, auth: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("the body is shorter than its header".into());
    }
    let salt = &body[..16];
    let rs = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
    let id_len = usize::from(body[20]);
    let sender_key = body.get(21..21 + id_len).ok_or("cut in the key id")?;
    let records = &body[21 + id_len..];
    let sender = PublicKey::from_sec1_bytes(sender_key).map_err(|_| "the key id is no key")?;
    let ours = private.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(private.to_nonzero_scalar(), sender.as_affine());

    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ours.as_bytes());
    key_info.extend_from_slice(sender_key);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .unwrap();
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .unwrap();
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .unwrap();
    let cipher = Aes128Gcm::new_from_slice(&cek).unwrap();

    if rs < 18 || records.is_empty() {
        return Err(format!("record size {rs} or no records"));
    }
    let chunks: Vec<&[u8]> = records.chunks(rs).collect();
    let mut plaintext = Vec::new();
    for (seq, record) in chunks.iter().enumerate() {
        let mut iv = nonce;
        for (i, b) in (seq as u64).to_be_bytes().iter().enumerate() {
            iv[4 + i] ^= b;
        }
        let mut padded = cipher
            .decrypt(Nonce::from_slice(&iv), *record)
            .map_err(|_| format!("record {seq} does not decrypt"))?;
        while padded.last() == Some(&0) {
            padded.pop();
        }
        let last = seq + 1 == chunks.len();
        match (padded.pop(), last) {
            (Some(2), true) | (Some(1), false) => plaintext.extend(padded),
            _ => return Err(format!("record {seq} has the wrong delimiter")),
        }
    }
    Ok(plaintext)
}

/// RFC 8291 Appendix A, exactly: the fake decrypts the standard's own example.
#[test]
fn decrypts_the_rfc_8291_example() {
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
    let ua_private =
        SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")).unwrap();
    assert_eq!(
        ua_private.public_key().to_encoded_point(false).as_bytes(),
        b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
    );
    let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
    let body = b64("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");
    assert_eq!(&body[..16], b64("DGv6ra1nlYgDCS1FRnbzlw"));
    assert_eq!(
        decrypt(&ua_private, &auth, &body).unwrap(),
        b"When I grow up, I want to be a watermelon"
    );
    // A changed byte or another auth secret does not decrypt.
    let mut tampered = body.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(decrypt(&ua_private, &auth, &tampered).is_err());
    assert!(decrypt(&ua_private, &[0u8; 16], &body).is_err());
}
