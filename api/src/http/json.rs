//! A JSON body extractor whose errors name the offending field (via serde_path_to_error)
//! and render as problem+json.

use std::{future::Future, pin::Pin};

use actix_web::{dev::Payload, error::PayloadError, http::header, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;
use sha2::Digest;

use super::problem::{ApiError, FieldError, ProblemKind};

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
    parse_as(bytes, None)
}

/// Parses a body; when fields cannot be read, every one of them is named (not only the first),
/// each with what it must be, taken from `schema` (the operation's documented body) when given.
pub fn parse_as<T: DeserializeOwned>(bytes: &[u8], schema: Option<&Value>) -> Result<T, ApiError> {
    refuse_nul(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let first = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            de.end().map_err(|err| {
                ApiError::new(ProblemKind::MalformedJson, strip_position(&err.to_string()))
            })?;
            return Ok(value);
        }
        Err(err) => err,
    };
    if first.inner().classify() != serde_json::error::Category::Data {
        return Err(ApiError::new(
            ProblemKind::MalformedJson,
            strip_position(&first.into_inner().to_string()),
        ));
    }
    let mut errors = Vec::new();
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        collect::<T>(value, schema, &mut errors);
    }
    if errors.is_empty() {
        errors.push(field_error(&first, schema));
    }
    Err(ApiError::validation(errors))
}

/// Reads `value` again and again, each time naming the field that stops it and taking that
/// field out, until it reads or a field cannot be taken out.
fn collect<T: DeserializeOwned>(
    mut value: Value,
    schema: Option<&Value>,
    errors: &mut Vec<FieldError>,
) {
    for _ in 0..64 {
        let Err(err) = serde_path_to_error::deserialize::<_, T>(&value) else {
            return;
        };
        let error = field_error(&err, schema);
        if errors.iter().any(|e: &FieldError| e.field == error.field) {
            return;
        }
        errors.push(error);
        let mut keys: Vec<String> = err
            .path()
            .iter()
            .map_while(|segment| match segment {
                Segment::Map { key } => Some(Some(key.clone())),
                Segment::Seq { .. } => Some(None),
                _ => None,
            })
            .flatten()
            .collect();
        if let Some(name) = unknown_field(&err.inner().to_string()) {
            if keys.last().map(String::as_str) != Some(name) {
                keys.push(name.to_owned());
            }
        }
        // The innermost object key on the path: an item of a list goes with its list.
        let Some(last) = keys.pop() else { return };
        let parent = keys
            .iter()
            .try_fold(&mut value, |v, k| v.get_mut(k.as_str()));
        let removed = parent
            .and_then(Value::as_object_mut)
            .and_then(|object| object.remove(&last));
        if removed.is_none() {
            return;
        }
    }
}

fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// The field a deserialization error is about, and what it must be.
fn field_error(
    err: &serde_path_to_error::Error<serde_json::Error>,
    schema: Option<&Value>,
) -> FieldError {
    let message = strip_position(&err.inner().to_string());
    let path = err.path().to_string();
    let prefix = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    if let Some(name) = missing_field(&message) {
        return FieldError {
            field: format!("{prefix}{name}"),
            message: "is required".into(),
        };
    }
    if let Some(name) = unknown_field(&message) {
        let known = message
            .split_once("expected one of ")
            .map(|(_, list)| list.replace('`', ""));
        let field = match err.path().iter().next_back() {
            Some(Segment::Map { key }) if key == name => path.clone(),
            _ => format!("{prefix}{name}"),
        };
        return FieldError {
            field,
            message: match known {
                Some(list) => format!("is not a field of this body (it takes {list})"),
                None => "is not a field of this body".into(),
            },
        };
    }
    let field = if path == "." { "body".to_owned() } else { path };
    let at = schema.and_then(|s| schema_at(s, err.path()));
    FieldError {
        field,
        message: at.and_then(must_be).unwrap_or(message),
    }
}

/// The schema of the value at `path` inside `schema`.
fn schema_at<'a>(schema: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    path.iter().try_fold(schema, |s, segment| {
        let s = non_null(s);
        match segment {
            Segment::Map { key } => s["properties"]
                .get(key.as_str())
                .or_else(|| s.get("additionalProperties").filter(|a| a.is_object())),
            Segment::Seq { .. } => s.get("items"),
            _ => None,
        }
    })
}

/// The variant of `oneOf`/`anyOf` that is not `null`, when there is one.
fn non_null(schema: &Value) -> &Value {
    ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema[k].as_array())
        .and_then(|variants| variants.iter().find(|v| v["type"] != "null"))
        .unwrap_or(schema)
}

/// What a value must be, in words, from its schema.
pub fn must_be(schema: &Value) -> Option<String> {
    let schema = non_null(schema);
    let kind = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(t) => t
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ => "",
    };
    if let Some(values) = schema["enum"].as_array() {
        let words: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        return Some(format!("must be one of {}", words.join(", ")));
    }
    let sentence = match (kind, schema["format"].as_str().unwrap_or("")) {
        ("string", "date") => "must be a real date like 2026-12-01".to_owned(),
        ("string", "date-time") => {
            "must be a date and time with an offset like 2026-12-01T09:00:00Z".to_owned()
        }
        ("string", "uuid") => "must be a UUID like 01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11".to_owned(),
        ("string", _)
            if schema["pattern"]
                .as_str()
                .is_some_and(|p| p.starts_with("^([01][0-9]|2[0-3])")) =>
        {
            "must be a time of day like 17:30".to_owned()
        }
        ("string", _) => "must be a string".to_owned(),
        ("integer", _) => match (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
            (Some(min), Some(max)) => format!("must be an integer from {min} to {max}"),
            (Some(min), None) => format!("must be an integer of at least {min}"),
            (None, Some(max)) => format!("must be an integer of at most {max}"),
            (None, None) => match schema["format"].as_str() {
                Some("int32") => "must be an integer from -2147483648 to 2147483647".to_owned(),
                _ => "must be an integer".to_owned(),
            },
        },
        ("number", _) => "must be a number".to_owned(),
        ("boolean", _) => "must be true or false".to_owned(),
        ("array", _) => "must be a list".to_owned(),
        ("object", _) => "must be an object".to_owned(),
        _ => return None,
    };
    Some(sentence)
}

/// A query string the operation's parameters cannot be read from: 422 naming each parameter
/// that cannot be read, with what it must be.
pub fn query_error(err: &actix_web::error::QueryPayloadError, req: &HttpRequest) -> ApiError {
    let params = req
        .app_data::<web::Data<super::route_table::RouteTable>>()
        .and_then(|routes| routes.operation(req.path(), req.method()))
        .map(|op| op.params.as_slice())
        .unwrap_or_default();
    let mut errors: Vec<FieldError> = Vec::new();
    for (name, value) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
        let Some((_, schema)) = params.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        if !fits(schema, &value) && !errors.iter().any(|e| e.field == name) {
            errors.push(FieldError {
                field: name.into_owned(),
                message: must_be(schema).unwrap_or_else(|| "cannot be read".into()),
            });
        }
    }
    if errors.is_empty() {
        let message = match err {
            actix_web::error::QueryPayloadError::Deserialize(inner) => inner.to_string(),
            other => other.to_string(),
        };
        errors.push(FieldError {
            field: "query".into(),
            message,
        });
    }
    ApiError::validation(errors)
}

/// Whether a query parameter's text is a value of its schema.
fn fits(schema: &Value, text: &str) -> bool {
    let schema = non_null(schema);
    if let Some(values) = schema["enum"].as_array() {
        return values.iter().any(|v| v.as_str() == Some(text));
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(t) => t
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ => "",
    };
    match (kind, schema["format"].as_str().unwrap_or("")) {
        ("integer", _) => text.parse::<i64>().is_ok_and(|n| {
            schema["minimum"].as_i64().is_none_or(|min| n >= min)
                && schema["maximum"].as_i64().is_none_or(|max| n <= max)
        }),
        ("boolean", _) => text == "true" || text == "false",
        ("string", "uuid") => uuid::Uuid::parse_str(text).is_ok(),
        ("string", "date") => text.parse::<chrono::NaiveDate>().is_ok(),
        ("string", "date-time") => text.parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
        _ => true,
    }
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
        let schema = body_schema(req);
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
            parse_as(&bytes, schema.as_deref()).map(|value| Json(value, hash))
        })
    }
}

/// The documented body schema of the operation `req` reaches.
pub fn body_schema(req: &HttpRequest) -> Option<std::sync::Arc<Value>> {
    req.app_data::<web::Data<super::route_table::RouteTable>>()?
        .operation(req.path(), req.method())?
        .body
        .clone()
}

/// RFC 7396: `patch` merged into `current`, then read back and checked against the request
/// body's schema exactly like a create.
pub fn merge_patch<T: serde::Serialize + DeserializeOwned>(
    current: &T,
    patch: &Value,
    schema: Option<&Value>,
) -> Result<T, ApiError> {
    let mut merged = serde_json::to_value(current).map_err(ApiError::internal)?;
    json_patch::merge(&mut merged, patch);
    parse_as(
        &serde_json::to_vec(&merged).map_err(ApiError::internal)?,
        schema,
    )
}

/// A merge patch's body, which must be an object.
pub fn patch_object(body: Value) -> Result<Value, ApiError> {
    if body.is_object() {
        Ok(body)
    } else {
        Err(ApiError::field(
            "body",
            "a merge patch must be a JSON object",
        ))
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

/// Extractor settings whose failures answer problem+json.
pub fn configure_extractors(cfg: &mut actix_web::web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(actix_web::web::PayloadConfig::new(max_body_bytes))
        .app_data(
            actix_web::web::QueryConfig::default()
                .error_handler(|err, req| query_error(&err, req).into()),
        )
        .app_data(
            actix_web::web::PathConfig::default()
                .error_handler(|_, _| ApiError::not_found().into()),
        );
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
