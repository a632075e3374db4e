//! The HTTP operations of routines: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::routine::{Routine, RoutineFilter, RoutineInput, Routines};
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

/// `GET /v1/routines`
#[utoipa::path(
    tag = "routines", summary = "List routines with their streaks",
    params(PageParams, WorkspaceFilter, RoutineFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Routine>)),
)]
#[get("/routines")]
pub async fn list_routines(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<RoutineFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Routines>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/routines`
#[utoipa::path(
    tag = "routines", summary = "Create a routine",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = RoutineInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Routine),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/routines")]
pub async fn create_routine(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<RoutineInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Routines>(&state, &auth, &req, body).await
}

/// `GET /v1/routines/{id}`
#[utoipa::path(
    tag = "routines", summary = "Get a routine",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Routine),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/routines/{id}")]
pub async fn get_routine(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Routines>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/routines/{id}`
#[utoipa::path(
    tag = "routines", summary = "Change a routine",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = RoutineInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Routine),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/routines/{id}")]
pub async fn patch_routine(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Routines>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/routines/{id}`
#[utoipa::path(
    tag = "routines", summary = "Delete a routine and its history",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/routines/{id}")]
pub async fn delete_routine(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Routines>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_routines(cfg: &mut ServiceConfig) {
    cfg.service(list_routines)
        .service(create_routine)
        .service(get_routine)
        .service(patch_routine)
        .service(delete_routine);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_routines(cfg);
    super::completions::configure(cfg);
}
