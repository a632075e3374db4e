//! The HTTP operations of rules: each handler names its URL and hands the request to the
//! shared resource life cycle (`common/resource.rs`) with this capability's types.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use diesel_async::scoped_futures::ScopedFutureExt;

use super::{
    rule::{Rule, RuleFilter, RuleInput, Rules},
    runs::{self, RuleRun},
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{self, Resource, WorkspaceFilter},
        state::State,
    },
    http::{
        json::Json,
        pagination::{Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
};

/// `GET /v1/rules`
#[utoipa::path(
    tag = "rules", summary = "List automation rules",
    params(PageParams, WorkspaceFilter, RuleFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Rule>)),
)]
#[get("/rules")]
pub async fn list_rules(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<RuleFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Rules>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/rules`
#[utoipa::path(
    tag = "rules", summary = "Create an automation rule",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = RuleInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Rule),
        (status = 403, description = "A read-only token, or the plan does not allow it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/rules")]
pub async fn create_rule(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<RuleInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Rules>(&state, &auth, &req, body).await
}

/// `GET /v1/rules/{id}`
#[utoipa::path(
    tag = "rules", summary = "Get an automation rule",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Rule),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/rules/{id}")]
pub async fn get_rule(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Rules>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/rules/{id}`
#[utoipa::path(
    tag = "rules", summary = "Change an automation rule",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = RuleInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Rule),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/rules/{id}")]
pub async fn patch_rule(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Rules>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/rules/{id}`
#[utoipa::path(
    tag = "rules", summary = "Delete an automation rule",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/rules/{id}")]
pub async fn delete_rule(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Rules>(&state, &auth, &req, id.into_inner()).await
}

/// `GET /v1/rules/{id}/runs`: each time the rule's trigger fired for it (kept for 90 days).
#[utoipa::path(
    tag = "rules", summary = "List a rule's runs",
    params(("id" = Uuid, Path), PageParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "A page, newest first", body = Page<RuleRun>),
        (status = 404, description = "No such rule, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/rules/{id}/runs")]
pub async fn list_rule_runs(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
    page: Paging,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let rule = Rules::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let workspace_id = Rules::meta(&rule).workspace_id;
                let rows = runs::list(conn, workspace_id, id, page.after, page.fetch()).await?;
                let page = Page::from_rows(rows, &page, runs::Row::cursor).map(RuleRun::from);
                serde_json::to_vec(&page).map_err(ApiError::internal)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

pub fn register_rules(cfg: &mut ServiceConfig) {
    cfg.service(list_rules)
        .service(create_rule)
        .service(get_rule)
        .service(patch_rule)
        .service(delete_rule)
        .service(list_rule_runs);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register_rules(cfg);
}
