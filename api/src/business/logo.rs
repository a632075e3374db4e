//! The business's logo (`/v1/business/profile/logo`), printed on its documents. The upload is
//! the image itself, read as a stream up to [`MAX_BYTES`], recognised by its content (never by
//! its name or declared type): PNG or JPEG, and drawn once to prove it decodes. SVG is refused:
//! a vector file can carry scripts and external references, and no rasteriser is shipped to
//! turn it into pixels, so the answer asks for a PNG export instead.

use actix_web::web::Payload;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::pdf::{self, Logo, LogoKind};
use crate::{
    db::{pool::Conn, schema::app::business_logos as t},
    http::problem::{ApiError, ApiResult, ProblemKind},
};

/// Half a megabyte: a logo printed 160 × 64 points needs far less.
pub const MAX_BYTES: usize = 512 * 1024;

#[derive(Serialize, ToSchema)]
pub struct BusinessLogo {
    pub workspace_id: Uuid,
    /// `image/png` or `image/jpeg`, as recognised from the bytes.
    #[schema(example = "image/png")]
    pub content_type: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub size_bytes: i32,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// The kind of image `bytes` hold, by their signature.
pub fn sniff(bytes: &[u8]) -> Result<LogoKind, ApiError> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG) {
        return Ok(LogoKind::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(LogoKind::Jpeg);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let why = if head.contains("<svg") {
        "SVG logos are not accepted: export it as PNG"
    } else {
        "a logo must be a PNG or JPEG image"
    };
    Err(ApiError::new(ProblemKind::UnsupportedMediaType, why))
}

/// Reads the upload up to [`MAX_BYTES`], refusing more as it arrives.
pub async fn read(mut payload: Payload) -> ApiResult<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(ProblemKind::BadRequest, e.to_string()))?;
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err(ApiError::new(
                ProblemKind::PayloadTooLarge,
                format!("a logo is at most {MAX_BYTES} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn content_type(kind: &LogoKind) -> &'static str {
    match kind {
        LogoKind::Png => "image/png",
        LogoKind::Jpeg => "image/jpeg",
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    workspace_id: Uuid,
    content_type: String,
    sha256: Vec<u8>,
    size_bytes: i32,
    version: i32,
    updated_at: DateTime<Utc>,
}

fn output(r: Row) -> BusinessLogo {
    BusinessLogo {
        workspace_id: r.workspace_id,
        content_type: r.content_type,
        sha256: hex::encode(r.sha256),
        size_bytes: r.size_bytes,
        version: r.version,
        updated_at: r.updated_at,
    }
}

/// Checks and stores the logo, replacing any before it; answers whether it is new.
pub async fn put(
    conn: &mut Conn,
    user: Uuid,
    workspace: Uuid,
    bytes: Vec<u8>,
) -> ApiResult<(bool, BusinessLogo)> {
    let kind = sniff(&bytes)?;
    let kind_name = content_type(&kind);
    pdf::check_logo(Logo {
        kind,
        bytes: bytes.clone(),
    })
    .map_err(|e| ApiError::field("body", e.to_string()))?;
    let size = i32::try_from(bytes.len()).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&bytes).to_vec();
    let replaced = diesel::update(t::table.filter(t::workspace_id.eq(workspace)))
        .set((
            t::content_type.eq(kind_name),
            t::sha256.eq(&digest),
            t::size_bytes.eq(size),
            t::content.eq(&bytes),
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(row) = replaced {
        return Ok((false, output(row)));
    }
    let row = diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
            t::workspace_id.eq(workspace),
            t::created_by.eq(user),
            t::content_type.eq(kind_name),
            t::sha256.eq(digest),
            t::size_bytes.eq(size),
            t::content.eq(bytes),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    Ok((true, output(row)))
}

/// The stored logo's type and bytes.
pub async fn content(conn: &mut Conn, workspace: Uuid) -> ApiResult<Option<(String, Vec<u8>)>> {
    Ok(t::table
        .filter(t::workspace_id.eq(workspace))
        .select((t::content_type, t::content))
        .first(conn)
        .await
        .optional()?)
}

/// The logo as documents print it.
pub async fn for_documents(conn: &mut Conn, workspace: Uuid) -> ApiResult<Option<Logo>> {
    Ok(content(conn, workspace).await?.map(|(kind, bytes)| Logo {
        kind: if kind == "image/png" {
            LogoKind::Png
        } else {
            LogoKind::Jpeg
        },
        bytes,
    }))
}

pub async fn delete(conn: &mut Conn, workspace: Uuid) -> ApiResult<usize> {
    Ok(
        diesel::delete(t::table.filter(t::workspace_id.eq(workspace)))
            .execute(conn)
            .await?,
    )
}
