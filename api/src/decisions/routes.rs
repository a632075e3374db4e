//! The HTTP operations of decisions: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::decision::{Decision, DecisionFilter, DecisionInput, Decisions};
use super::options::{DecisionOption, DecisionOptionFilter, DecisionOptionInput, DecisionOptions};
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

/// `GET /v1/decision-options`
#[utoipa::path(
    tag = "decisions", summary = "List decision options",
    params(PageParams, WorkspaceFilter, DecisionOptionFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<DecisionOption>)),
)]
#[get("/decision-options")]
pub async fn list_decision_options(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<DecisionOptionFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<DecisionOptions>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/decision-options`
#[utoipa::path(
    tag = "decisions", summary = "Add an option to a decision",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = DecisionOptionInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = DecisionOption),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/decision-options")]
pub async fn create_decision_option(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<DecisionOptionInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<DecisionOptions>(&state, &auth, &req, body).await
}

/// `GET /v1/decision-options/{id}`
#[utoipa::path(
    tag = "decisions", summary = "Get a decision option",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = DecisionOption),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/decision-options/{id}")]
pub async fn get_decision_option(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::get::<DecisionOptions>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/decision-options/{id}`
#[utoipa::path(
    tag = "decisions", summary = "Change a decision option",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = DecisionOptionInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = DecisionOption),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/decision-options/{id}")]
pub async fn patch_decision_option(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<DecisionOptions>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/decision-options/{id}`
#[utoipa::path(
    tag = "decisions", summary = "Delete a decision option; a decision that had chosen it is open again",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/decision-options/{id}")]
pub async fn delete_decision_option(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<DecisionOptions>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_decision_options(cfg: &mut ServiceConfig) {
    cfg.service(list_decision_options)
        .service(create_decision_option)
        .service(get_decision_option)
        .service(patch_decision_option)
        .service(delete_decision_option);
}

/// `GET /v1/decisions`
#[utoipa::path(
    tag = "decisions", summary = "List decisions",
    params(PageParams, WorkspaceFilter, DecisionFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Decision>)),
)]
#[get("/decisions")]
pub async fn list_decisions(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<DecisionFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Decisions>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/decisions`
#[utoipa::path(
    tag = "decisions", summary = "Open a decision",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = DecisionInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Decision),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/decisions")]
pub async fn create_decision(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<DecisionInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Decisions>(&state, &auth, &req, body).await
}

/// `GET /v1/decisions/{id}`
#[utoipa::path(
    tag = "decisions", summary = "Get a decision",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Decision),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/decisions/{id}")]
pub async fn get_decision(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Decisions>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/decisions/{id}`
#[utoipa::path(
    tag = "decisions", summary = "Change a decision's title or context",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = DecisionInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Decision),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/decisions/{id}")]
pub async fn patch_decision(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Decisions>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/decisions/{id}`
#[utoipa::path(
    tag = "decisions", summary = "Delete a decision and its options",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/decisions/{id}")]
pub async fn delete_decision(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Decisions>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_decisions(cfg: &mut ServiceConfig) {
    cfg.service(list_decisions)
        .service(create_decision)
        .service(get_decision)
        .service(patch_decision)
        .service(delete_decision);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_decisions(cfg);
    cfg.service(super::decision::decide)
        .service(super::decision::reopen);
    register_decision_options(cfg);
}
