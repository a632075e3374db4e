//! `Idempotency-Key` on POST: the same key with the same body answers the stored response for
//! 24 hours; the same key with another body is refused.

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use diesel::{
    data_types::PgInterval,
    sql_types::{Bool, Bytea, Interval, SmallInt, Text},
    QueryableByName,
};
use diesel_async::RunQueryDsl;

use crate::db::pool::Conn;
use crate::http::problem::{ApiError, ApiResult, ProblemKind};

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

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    path: String,
    #[diesel(sql_type = Bytea)]
    request_hash: Vec<u8>,
    #[diesel(sql_type = SmallInt)]
    status: i16,
    #[diesel(sql_type = Bytea)]
    body: Vec<u8>,
}

#[derive(QueryableByName)]
struct Remembered {
    #[diesel(sql_type = Bool)]
    stored: bool,
}

fn ttl() -> PgInterval {
    PgInterval::from_microseconds(TTL_HOURS * 3_600_000_000)
}

/// The stored answer to an earlier request with this key, or `None` for a first request. Keys
/// belong to the transaction's user: the database function reads `app.user_id` itself.
pub async fn replay(conn: &mut Conn, req: &Request<'_>) -> ApiResult<Option<Stored>> {
    let stored: Option<Row> = diesel::sql_query(
        "SELECT path, request_hash, status, body FROM ops.idempotency_replay($1, $2)",
    )
    .bind::<Text, _>(req.key)
    .bind::<Interval, _>(ttl())
    .load(conn)
    .await?
    .into_iter()
    .next();
    let Some(Row {
        path,
        request_hash,
        status,
        body,
    }) = stored
    else {
        return Ok(None);
    };
    if path != req.path || request_hash.as_slice() != req.body_hash {
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
    let row: Remembered =
        diesel::sql_query("SELECT ops.idempotency_remember($1, $2, $3, $4, $5, $6) AS stored")
            .bind::<Text, _>(req.key)
            .bind::<Text, _>(req.path)
            .bind::<Bytea, _>(req.body_hash.as_slice())
            .bind::<SmallInt, _>(status.as_u16() as i16)
            .bind::<Bytea, _>(body)
            .bind::<Interval, _>(ttl())
            .get_result(conn)
            .await?;
    if !row.stored {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "A request with this Idempotency-Key is already being processed",
        ));
    }
    Ok(())
}
