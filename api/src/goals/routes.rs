//! The HTTP operations of goals: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::goal::{Goal, GoalFilter, GoalInput, Goals};
use super::milestones::{Milestone, MilestoneFilter, MilestoneInput, Milestones};
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

/// `GET /v1/milestones`
#[utoipa::path(
    tag = "goals", summary = "List milestones",
    params(PageParams, WorkspaceFilter, MilestoneFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Milestone>)),
)]
#[get("/milestones")]
pub async fn list_milestones(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<MilestoneFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Milestones>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/milestones`
#[utoipa::path(
    tag = "goals", summary = "Create a milestone",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = MilestoneInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Milestone),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/milestones")]
pub async fn create_milestone(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<MilestoneInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Milestones>(&state, &auth, &req, body).await
}

/// `GET /v1/milestones/{id}`
#[utoipa::path(
    tag = "goals", summary = "Get a milestone",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Milestone),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/milestones/{id}")]
pub async fn get_milestone(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Milestones>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/milestones/{id}`
#[utoipa::path(
    tag = "goals", summary = "Change a milestone",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = MilestoneInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Milestone),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/milestones/{id}")]
pub async fn patch_milestone(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Milestones>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/milestones/{id}`
#[utoipa::path(
    tag = "goals", summary = "Delete a milestone",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/milestones/{id}")]
pub async fn delete_milestone(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Milestones>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_milestones(cfg: &mut ServiceConfig) {
    cfg.service(list_milestones)
        .service(create_milestone)
        .service(get_milestone)
        .service(patch_milestone)
        .service(delete_milestone);
}

/// `GET /v1/goals`
#[utoipa::path(
    tag = "goals", summary = "List goals with their progress",
    params(PageParams, WorkspaceFilter, GoalFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Goal>)),
)]
#[get("/goals")]
pub async fn list_goals(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<GoalFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Goals>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/goals`
#[utoipa::path(
    tag = "goals", summary = "Create a goal",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = GoalInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Goal),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/goals")]
pub async fn create_goal(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<GoalInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Goals>(&state, &auth, &req, body).await
}

/// `GET /v1/goals/{id}`
#[utoipa::path(
    tag = "goals", summary = "Get a goal",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Goal),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/goals/{id}")]
pub async fn get_goal(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Goals>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/goals/{id}`
#[utoipa::path(
    tag = "goals", summary = "Change a goal",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = GoalInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Goal),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/goals/{id}")]
pub async fn patch_goal(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Goals>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/goals/{id}`
#[utoipa::path(
    tag = "goals", summary = "Delete a goal and its milestones",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/goals/{id}")]
pub async fn delete_goal(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Goals>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_goals(cfg: &mut ServiceConfig) {
    cfg.service(list_goals)
        .service(create_goal)
        .service(get_goal)
        .service(patch_goal)
        .service(delete_goal);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_goals(cfg);
    register_milestones(cfg);
}
