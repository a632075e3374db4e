//! The HTTP operations of projects: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::project::{Project, ProjectFilter, ProjectInput, Projects};
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

/// `GET /v1/projects`
#[utoipa::path(
    tag = "projects", summary = "List projects",
    params(PageParams, WorkspaceFilter, ProjectFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Project>)),
)]
#[get("/projects")]
pub async fn list_projects(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<ProjectFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Projects>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/projects`
#[utoipa::path(
    tag = "projects", summary = "Create a project",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = ProjectInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Project),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects")]
pub async fn create_project(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ProjectInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Projects>(&state, &auth, &req, body).await
}

/// `GET /v1/projects/{id}`
#[utoipa::path(
    tag = "projects", summary = "Get a project",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Project),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}")]
pub async fn get_project(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Projects>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/projects/{id}`
#[utoipa::path(
    tag = "projects", summary = "Change a project",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = ProjectInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Project),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/projects/{id}")]
pub async fn patch_project(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Projects>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/projects/{id}`
#[utoipa::path(
    tag = "projects", summary = "Delete a project (its tasks stay, unlinked)",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/projects/{id}")]
pub async fn delete_project(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Projects>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_projects(cfg: &mut ServiceConfig) {
    cfg.service(list_projects)
        .service(create_project)
        .service(get_project)
        .service(patch_project)
        .service(delete_project);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_projects(cfg);
}
