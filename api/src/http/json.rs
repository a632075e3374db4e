//! A JSON body extractor whose errors name the offending field (via serde_path_to_error)
//! and render as problem+json.

use std::{future::Future, pin::Pin};

use actix_web::{dev::Payload, error::PayloadError, http::header, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use sha2::Digest;

use super::problem::{ApiError, ProblemKind};

/// The parsed body and the SHA-256 of its bytes (what an Idempotency-Key is bound to).
pub struct Json<T>(pub T, pub [u8; 32]);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// `application/json` and every `application/*+json` (e.g. merge-patch+json).
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether the JSON text holds a `\u0000` escape (raw control characters are not valid JSON,
/// so this is the only way a NUL can arrive). A backslash run of odd length escapes the `u`.
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut backslashes = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\\' {
            backslashes += 1;
            continue;
        }
        if b == b'u' && backslashes % 2 == 1 && bytes.get(i + 1..i + 5) == Some(b"0000") {
            return true;
        }
        backslashes = 0;
    }
    false
}

/// The path of the first string (or key) holding a NUL, as `a.b[2]`.
fn nul_path(value: &serde_json::Value, path: &mut String) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().enumerate().any(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = nul_path(v, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&k.replace('\0', "\\u0000"));
            let found = k.contains('\0') || nul_path(v, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

/// Text with a NUL can be stored nowhere (PostgreSQL refuses it in `text`), so it is refused
/// here, once for every body, naming the field.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    if !has_nul_escape(bytes) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        // Malformed anyway: the parser below says how.
        return Ok(());
    };
    let mut path = String::new();
    if nul_path(&value, &mut path) {
        let field = if path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        return Err(ApiError::field(
            &field,
            "must not contain the NUL character (U+0000)",
        ));
    }
    Ok(())
}

pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = strip_position(&inner.to_string());
                let field = if path == "." {
                    missing_field(&message).unwrap_or("body").to_owned()
                } else {
                    path
                };
                ApiError::field(&field, message)
            }
            _ => ApiError::new(
                ProblemKind::MalformedJson,
                strip_position(&inner.to_string()),
            ),
        }
    })?;
    de.end().map_err(|err| {
        ApiError::new(ProblemKind::MalformedJson, strip_position(&err.to_string()))
    })?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned()
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !json {
                return Err(ApiError::new(
                    ProblemKind::UnsupportedMediaType,
                    "Send the body with Content-Type: application/json",
                ));
            }
            let bytes = bytes
                .await
                .map_err(|err| match err.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => payload_too_large(),
                    _ => match err.as_response_error().status_code().as_u16() {
                        413 => payload_too_large(),
                        _ => ApiError::new(
                            ProblemKind::BadRequest,
                            "The request body could not be read",
                        ),
                    },
                })?;
            let hash = sha2::Sha256::digest(&bytes).into();
            parse(&bytes).map(|value| Json(value, hash))
        })
    }
}

/// A body that may be left out: no bytes at all give `T::default()`; anything else must be JSON
/// and is read exactly like [`Json`].
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0")
            || (!req.headers().contains_key(header::CONTENT_LENGTH)
                && !req.headers().contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Box::pin(async { Ok(OptionalJson(T::default())) });
        }
        let json = Json::<T>::from_request(req, payload);
        Box::pin(async move { json.await.map(|Json(value, _)| OptionalJson(value)) })
    }
}

fn payload_too_large() -> ApiError {
    ApiError::new(
        ProblemKind::PayloadTooLarge,
        "The body exceeds the limit documented at MINIME_MAX_BODY_BYTES",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        nested: Option<Nested>,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Nested {
        n: u8,
    }

    #[test]
    fn names_the_field() {
        let err = parse::<Body>(br#"{"email": 3}"#).unwrap_err();
        assert_eq!(err.kind, ProblemKind::Validation);
        assert_eq!(err.errors[0].field, "email");
        let err = parse::<Body>(br#"{"email": "a", "nested": {"n": 300}}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "nested.n");
        let err = parse::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "email");
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert_eq!(
            parse::<Body>(br#"{"email": "#).unwrap_err().kind,
            ProblemKind::MalformedJson
        );
        assert_eq!(
            parse::<Body>(br#"{"email": "a"} x"#).unwrap_err().kind,
            ProblemKind::MalformedJson
        );
    }
    #[test]
    fn a_nul_anywhere_is_refused_with_its_field() {
        let err = parse::<serde_json::Value>(br#"{"notes":"a\u0000b"}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "notes");
        let err = parse::<serde_json::Value>(br#"{"a":{"b":["x","\u0000"]}}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "a.b[1]");
        let err = parse::<serde_json::Value>(br#"{"\u0000k":1}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "\\u0000k");
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_just_text() {
        let v: serde_json::Value = parse(br#"{"notes":"C:\\u0000"}"#).unwrap();
        assert_eq!(v["notes"], "C:\\u0000");
    }

    #[test]
    fn lone_surrogates_are_malformed_json() {
        let err = parse::<serde_json::Value>(br#"{"t":"\ud800"}"#).unwrap_err();
        assert_eq!(err.kind, ProblemKind::MalformedJson);
    }
}
