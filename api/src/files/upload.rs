//! An upload: the request body read as a stream up to the configured limit, recognised by its
//! content, checksummed, put in the store under a fresh random key, then described by a row in
//! the caller's transaction. The object is written before the row, so a row never names a
//! missing object; if the row is not written, the object is removed again.

use actix_web::web::Payload;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    kind::{self, Kind},
    model::{Files, Purpose, Row, Values},
};
use crate::{
    common::{
        files::{self, FileStore},
        resource::{Ctx, Resource},
    },
    db::pool::Conn,
    http::problem::{ApiError, ApiResult, ProblemKind},
};

/// Reads the body, refusing more than `max` bytes as they arrive.
pub async fn read(mut payload: Payload, max: usize) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.to_string()))?;
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::new(
                ProblemKind::PayloadTooLarge,
                format!("a file is at most {max} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(ApiError::field("body", "the file is empty"));
    }
    Ok(bytes)
}

/// A checked upload, stored and ready to be described by a row.
pub struct Stored {
    pub values: Values,
    pub kind: Kind,
}

/// Checks `bytes` against what `purpose` allows and puts them in the store.
pub async fn store(
    store: &FileStore,
    bytes: &[u8],
    purpose: Purpose,
    name: Option<&str>,
    declared: Option<&str>,
) -> ApiResult<Stored> {
    let allowed = match purpose {
        Purpose::BankStatement => kind::STATEMENTS,
        Purpose::Receipt | Purpose::Document => kind::DOCUMENTS,
    };
    let kind = kind::check(bytes, allowed, name, declared)?;
    let key = files::new_key();
    store.put(&key, bytes).await.map_err(ApiError::internal)?;
    Ok(Stored {
        values: Values {
            store_key: key,
            purpose: purpose.as_str().into(),
            name: kind::display_name(name, kind),
            content_type: kind.content_type().into(),
            sha256: Sha256::digest(bytes).to_vec(),
            size_bytes: i64::try_from(bytes.len()).map_err(ApiError::internal)?,
        },
        kind,
    })
}

/// The row for a stored upload, in the caller's transaction.
pub async fn insert(
    conn: &mut Conn,
    user_id: Uuid,
    workspace_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    values: Values,
) -> ApiResult<Row> {
    let ctx = Ctx {
        user_id,
        workspace_id,
        id: Uuid::now_v7(),
        at,
    };
    Files::insert(conn, ctx, values).await
}

/// Removes an object whose row was never written.
pub async fn abandon(store: &FileStore, key: &str) {
    if let Err(error) = store.delete(key).await {
        tracing::warn!(%error, "files: an orphaned upload could not be removed");
    }
}
