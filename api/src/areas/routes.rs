//! The HTTP operations of areas: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::area::{Area, AreaFilter, AreaInput, Areas};
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

/// `GET /v1/areas`
#[utoipa::path(
    tag = "areas", summary = "List life areas",
    params(PageParams, WorkspaceFilter, AreaFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Area>)),
)]
#[get("/areas")]
pub async fn list_areas(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<AreaFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Areas>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/areas`
#[utoipa::path(
    tag = "areas", summary = "Create a life area",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = AreaInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Area),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/areas")]
pub async fn create_area(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<AreaInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Areas>(&state, &auth, &req, body).await
}

/// `GET /v1/areas/{id}`
#[utoipa::path(
    tag = "areas", summary = "Get a life area",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Area),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/areas/{id}")]
pub async fn get_area(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Areas>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/areas/{id}`
#[utoipa::path(
    tag = "areas", summary = "Change a life area",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = AreaInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Area),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/areas/{id}")]
pub async fn patch_area(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Areas>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/areas/{id}`
#[utoipa::path(
    tag = "areas", summary = "Delete a life area (links to it are cleared)",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/areas/{id}")]
pub async fn delete_area(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Areas>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_areas(cfg: &mut ServiceConfig) {
    cfg.service(list_areas)
        .service(create_area)
        .service(get_area)
        .service(patch_area)
        .service(delete_area);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_areas(cfg);
}
