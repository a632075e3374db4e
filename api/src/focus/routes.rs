//! The HTTP operations of focus: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::session::{FocusFilter, FocusSession, FocusSessionInput, FocusSessions};
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

/// `GET /v1/focus-sessions`
#[utoipa::path(
    tag = "focus", summary = "List focus sessions",
    params(PageParams, WorkspaceFilter, FocusFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<FocusSession>)),
)]
#[get("/focus-sessions")]
pub async fn list_focus_sessions(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<FocusFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<FocusSessions>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/focus-sessions`
#[utoipa::path(
    tag = "focus", summary = "Start a focus session, or record a past one",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = FocusSessionInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = FocusSession),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A focus session is already running; stop it first", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/focus-sessions")]
pub async fn create_focus_session(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<FocusSessionInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<FocusSessions>(&state, &auth, &req, body).await
}

/// `GET /v1/focus-sessions/{id}`
#[utoipa::path(
    tag = "focus", summary = "Get a focus session",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = FocusSession),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/focus-sessions/{id}")]
pub async fn get_focus_session(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::get::<FocusSessions>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/focus-sessions/{id}`
#[utoipa::path(
    tag = "focus", summary = "Change a focus session",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = FocusSessionInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = FocusSession),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Resuming it (`ended_at: null`) while another session runs; stop that one first", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/focus-sessions/{id}")]
pub async fn patch_focus_session(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<FocusSessions>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/focus-sessions/{id}`
#[utoipa::path(
    tag = "focus", summary = "Delete a focus session",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/focus-sessions/{id}")]
pub async fn delete_focus_session(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<FocusSessions>(&state, &auth, &req, id.into_inner()).await
}

pub fn register_focus_sessions(cfg: &mut ServiceConfig) {
    cfg.service(list_focus_sessions)
        .service(create_focus_session)
        .service(get_focus_session)
        .service(patch_focus_session)
        .service(delete_focus_session);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_focus_sessions(cfg);
    cfg.service(super::session::stop_focus_session);
}
