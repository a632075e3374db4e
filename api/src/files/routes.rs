//! `/v1/files`: upload, list, read, rename, delete and download stored files.

use actix_web::{
    delete, get,
    http::header::{self, ContentDisposition, DispositionParam, DispositionType, ExtendedValue},
    patch, post,
    web::{Path, Payload, Query},
    HttpRequest, HttpResponse,
};
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    model::{FileFilter, FileInput, Files, Purpose, StoredFile},
    upload,
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{self, resolve_workspace, Resource, WorkspaceFilter},
        state::State,
    },
    http::{
        json::Json,
        pagination::{Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The workspace to keep it in (default: your personal one).
    pub workspace_id: Option<Uuid>,
    /// What the file is for; it decides which kinds are accepted.
    pub purpose: Purpose,
    /// The file's name, for showing and for downloads; its ending must agree with the content.
    pub name: Option<String>,
}

/// `POST /v1/files`
#[utoipa::path(
    tag = "files", summary = "Upload a file.",
    description = "The body is the file itself. It is recognised by its content, never by its name or `Content-Type`: a receipt or document must be a PDF, PNG, JPEG, WebP or HEIC; a bank statement CSV, OFX or CAMT.053 XML. A name whose ending disagrees with the content, or a `Content-Type` that does, is refused. At most `MINIME_FILE_MAX_BYTES` (10 MiB by default).",
    params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Stored", body = StoredFile),
        (status = 413, description = "Larger than the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a kind this purpose accepts, or its name or declared type disagrees with its content", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/files")]
pub async fn upload_file(
    state: State,
    auth: Auth,
    req: HttpRequest,
    params: Query<UploadParams>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let UploadParams {
        workspace_id,
        purpose,
        name,
    } = params.into_inner();
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = upload::read(payload, state.config.file_max_bytes).await?;
    let stored = upload::store(
        &state.files,
        &bytes,
        purpose,
        name.as_deref(),
        declared.as_deref(),
    )
    .await?;
    let key = stored.values.store_key.clone();
    let written = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, workspace_id).await?;
                upload::insert(conn, me.user_id, ws, me.at, stored.values).await
            }
            .scope_boxed()
        })
        .await;
    match written {
        Ok(row) => Ok(HttpResponse::Created()
            .insert_header((header::ETAG, format!("\"{}\"", row.version)))
            .json(Files::output(row))),
        Err(e) => {
            upload::abandon(&state.files, &key).await;
            Err(e)
        }
    }
}

/// `GET /v1/files`
#[utoipa::path(
    tag = "files", summary = "List files",
    params(PageParams, WorkspaceFilter, FileFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<StoredFile>)),
)]
#[get("/files")]
pub async fn list_files(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<FileFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Files>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `GET /v1/files/{id}`
#[utoipa::path(
    tag = "files", summary = "Get a file's description",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = StoredFile),
        (status = 404, description = "No such file, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/files/{id}")]
pub async fn get_file(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Files>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/files/{id}`
#[utoipa::path(
    tag = "files", summary = "Rename a file",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = FileInput, content_type = "application/merge-patch+json"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Renamed", body = StoredFile),
        (status = 404, description = "No such file, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/files/{id}")]
pub async fn patch_file(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Files>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/files/{id}`
#[utoipa::path(
    tag = "files", summary = "Delete a file.",
    description = "The row goes at once and the store forgets the bytes right after (a queued job, retried until it succeeds). An expense whose receipt this was keeps its figures and loses the link.",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such file, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/files/{id}")]
pub async fn delete_file(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let res = resource::delete::<Files>(&state, &auth, &req, id.into_inner()).await?;
    state.jobs.wake();
    Ok(res)
}

/// `GET /v1/files/{id}/content`
#[utoipa::path(
    tag = "files", summary = "Download a file.",
    description = "Always as an attachment, with the stored type, `X-Content-Type-Options: nosniff` and a sandboxing `Content-Security-Policy`, so a browser never runs it in this origin. The bytes are checked against their SHA-256 before they are sent.",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such file, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/files/{id}/content")]
pub async fn download_file(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move { Files::find(conn, id).await?.ok_or_else(ApiError::not_found) }
                .scope_boxed()
        })
        .await?;
    let bytes = state
        .files
        .get(&row.store_key)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("file {id}: missing from the store")))?;
    if Sha256::digest(&bytes).as_slice() != row.sha256.as_slice() {
        return Err(ApiError::internal(anyhow::anyhow!(
            "file {id}: the stored bytes do not match their checksum"
        )));
    }
    Ok(HttpResponse::Ok()
        .content_type(row.content_type.as_str())
        .insert_header(attachment(&row.name))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::ETAG, format!("\"{}\"", hex::encode(&row.sha256))))
        .body(bytes))
}

/// `attachment` with an ASCII `filename` (quotes, backslashes and non-ASCII replaced) and the
/// exact name as RFC 5987 `filename*`, so no name can break out of the header.
pub fn attachment(name: &str) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_file)
        .service(list_files)
        .service(get_file)
        .service(patch_file)
        .service(delete_file)
        .service(download_file);
}
