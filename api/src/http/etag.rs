//! Row versions on the wire: `ETag: "<version>"`, and `If-Match` checked before a write.

use actix_web::{http::header, HttpRequest};

use super::problem::{ApiError, ProblemKind};

pub fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// `Ok(None)` when the client sent no `If-Match`; `*` matches any version.
pub fn if_match(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("").trim();
    if value == "*" {
        return Ok(None);
    }
    value
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| {
            ApiError::new(
                ProblemKind::BadRequest,
                "If-Match must be an ETag this API issued",
            )
        })
}

pub fn check(expected: Option<i32>, actual: i32) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != actual => Err(ApiError::new(
            ProblemKind::PreconditionFailed,
            format!("If-Match was \"{v}\" but the current version is \"{actual}\""),
        )),
        _ => Ok(()),
    }
}
