//! The HTTP operations of captures: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::capture::{Capture, CaptureFilter, CaptureInput, Captures};
use crate::{
    common::{
        extractor::Auth,
        resource::{self, WorkspaceFilter},
        state::State,
    },
    http::{
        json::Json,
        pagination::{Page, PageParams, Paging},
        problem::{ApiResult, Problem},
    },
};

/// `GET /v1/captures`
#[utoipa::path(
    tag = "captures", summary = "List captures",
    params(PageParams, WorkspaceFilter, CaptureFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Capture>)),
)]
#[get("/captures")]
pub async fn list_captures(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<CaptureFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Captures>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/captures`
#[utoipa::path(
    tag = "captures", summary = "Capture something",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = CaptureInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Capture),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/captures")]
pub async fn create_capture(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<CaptureInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Captures>(&state, &auth, &req, body).await
}

/// `GET /v1/captures/{id}`
#[utoipa::path(
    tag = "captures", summary = "Get a capture",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Capture),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/captures/{id}")]
pub async fn get_capture(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Captures>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/captures/{id}`
#[utoipa::path(
    tag = "captures", summary = "Change a capture",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = CaptureInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Capture),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/captures/{id}")]
pub async fn patch_capture(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Captures>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/captures/{id}`
#[utoipa::path(
    tag = "captures", summary = "Delete a capture",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/captures/{id}")]
pub async fn delete_capture(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Captures>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_captures(cfg: &mut ServiceConfig) {
    cfg.service(list_captures)
        .service(create_capture)
        .service(get_capture)
        .service(patch_capture)
        .service(delete_capture);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_captures(cfg);
    cfg.service(super::capture::convert_capture);
}
