//! `Idempotency-Key` on POST: the same key with the same body answers the stored response for
//! 24 hours; the same key with another body is refused.

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::{ApiError, ApiResult, ProblemKind};
use crate::db::{schema::ops::idempotency_keys as keys, Conn};

pub const HEADER: &str = "idempotency-key";
pub const TTL_HOURS: i64 = 24;

/// The key a client sent, if any: 1 to 255 visible ASCII characters.
pub fn key(req: &HttpRequest) -> ApiResult<Option<String>> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or("").trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            ProblemKind::BadRequest,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

pub struct Request<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub path: &'a str,
    pub body_hash: &'a [u8; 32],
}

/// An answer given before.
pub struct Stored {
    status: StatusCode,
    body: Vec<u8>,
}

impl Stored {
    pub fn response(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type("application/json")
            .insert_header(("Idempotent-Replayed", "true"))
            .body(self.body)
    }
}

/// The stored answer to an earlier request with this key, or `None` for a first request.
pub async fn replay(conn: &mut Conn, req: &Request<'_>) -> ApiResult<Option<Stored>> {
    let stored: Option<(String, Vec<u8>, i16, Vec<u8>)> = keys::table
        .find((req.user_id, req.key))
        .filter(keys::created_at.gt(chrono::Utc::now() - chrono::Duration::hours(TTL_HOURS)))
        .select((keys::path, keys::request_hash, keys::status, keys::body))
        .first(conn)
        .await
        .optional()?;
    let Some((path, hash, status, body)) = stored else {
        return Ok(None);
    };
    if path != req.path || hash.as_slice() != req.body_hash {
        return Err(ApiError::new(
            ProblemKind::IdempotencyKeyReused,
            "This Idempotency-Key was used for a different request; use a new key",
        ));
    }
    let status = StatusCode::from_u16(status as u16).map_err(ApiError::internal)?;
    Ok(Some(Stored { status, body }))
}

/// Stores the answer in the same transaction as the write it describes. Two requests racing
/// with one key: the later one fails here and its write rolls back.
pub async fn remember(
    conn: &mut Conn,
    req: &Request<'_>,
    status: StatusCode,
    body: &[u8],
) -> ApiResult<()> {
    diesel::delete(keys::table.find((req.user_id, req.key)))
        .filter(keys::created_at.le(chrono::Utc::now() - chrono::Duration::hours(TTL_HOURS)))
        .execute(conn)
        .await?;
    let inserted = diesel::insert_into(keys::table)
        .values((
            keys::user_id.eq(req.user_id),
            keys::key.eq(req.key),
            keys::method.eq("POST"),
            keys::path.eq(req.path),
            keys::request_hash.eq(req.body_hash.as_slice()),
            keys::status.eq(status.as_u16() as i16),
            keys::body.eq(body),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 0 {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "A request with this Idempotency-Key is already being processed",
        ));
    }
    Ok(())
}
