//! The HTTP operations of tasks: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::task::{Task, TaskFilter, TaskInput, Tasks};
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

/// `GET /v1/tasks`
#[utoipa::path(
    tag = "tasks", summary = "List tasks",
    params(PageParams, WorkspaceFilter, TaskFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Task>)),
)]
#[get("/tasks")]
pub async fn list_tasks(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<TaskFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Tasks>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/tasks`
#[utoipa::path(
    tag = "tasks", summary = "Create a task",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = TaskInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Task),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/tasks")]
pub async fn create_task(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<TaskInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Tasks>(&state, &auth, &req, body).await
}

/// `GET /v1/tasks/{id}`
#[utoipa::path(
    tag = "tasks", summary = "Get a task",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Task),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/tasks/{id}")]
pub async fn get_task(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Tasks>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/tasks/{id}`
#[utoipa::path(
    tag = "tasks", summary = "Change a task",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = TaskInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Task),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/tasks/{id}")]
pub async fn patch_task(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Tasks>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/tasks/{id}`
#[utoipa::path(
    tag = "tasks", summary = "Delete a task and its steps",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/tasks/{id}")]
pub async fn delete_task(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Tasks>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_tasks(cfg: &mut ServiceConfig) {
    cfg.service(list_tasks)
        .service(create_task)
        .service(get_task)
        .service(patch_task)
        .service(delete_task);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_tasks(cfg);
    super::series::configure(cfg);
}
