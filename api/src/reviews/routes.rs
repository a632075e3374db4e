//! The HTTP operations of reviews: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::review::{Review, ReviewFilter, ReviewInput, Reviews};
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

/// `GET /v1/reviews`
#[utoipa::path(
    tag = "reviews", summary = "List reviews",
    params(PageParams, WorkspaceFilter, ReviewFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Review>)),
)]
#[get("/reviews")]
pub async fn list_reviews(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<ReviewFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Reviews>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/reviews`
#[utoipa::path(
    tag = "reviews", summary = "Write a review (its stats are computed now)",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = ReviewInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Review),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/reviews")]
pub async fn create_review(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ReviewInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Reviews>(&state, &auth, &req, body).await
}

/// `GET /v1/reviews/{id}`
#[utoipa::path(
    tag = "reviews", summary = "Get a review",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Review),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reviews/{id}")]
pub async fn get_review(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Reviews>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/reviews/{id}`
#[utoipa::path(
    tag = "reviews", summary = "Change a review (its stats are computed again)",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = ReviewInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Review),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/reviews/{id}")]
pub async fn patch_review(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Reviews>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/reviews/{id}`
#[utoipa::path(
    tag = "reviews", summary = "Delete a review",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/reviews/{id}")]
pub async fn delete_review(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Reviews>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_reviews(cfg: &mut ServiceConfig) {
    cfg.service(list_reviews)
        .service(create_review)
        .service(get_review)
        .service(patch_review)
        .service(delete_review);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_reviews(cfg);
}
