//! `/v1/expenses`: business expenses through the shared resource life cycle.

use actix_web::{
    delete, get, patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::expenses::{Expense, ExpenseFilter, ExpenseInput, Expenses};
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

/// `GET /v1/expenses`
#[utoipa::path(
    tag = "business", summary = "List expenses",
    params(PageParams, WorkspaceFilter, ExpenseFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Expense>)),
)]
#[get("/expenses")]
pub async fn list_expenses(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<ExpenseFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Expenses>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/expenses`
#[utoipa::path(
    tag = "business", summary = "Record an expense",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = ExpenseInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Expense),
        (status = 422, description = "A field is out of range, or the receipt is not a receipt file of the workspace", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/expenses")]
pub async fn create_expense(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ExpenseInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Expenses>(&state, &auth, &req, body).await
}

/// `GET /v1/expenses/{id}`
#[utoipa::path(
    tag = "business", summary = "Get an expense",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Expense),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/expenses/{id}")]
pub async fn get_expense(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Expenses>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/expenses/{id}`
#[utoipa::path(
    tag = "business", summary = "Change an expense",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = ExpenseInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Expense),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/expenses/{id}")]
pub async fn patch_expense(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Expenses>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/expenses/{id}`
#[utoipa::path(
    tag = "business", summary = "Delete an expense and its receipt",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted, with its receipt file"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/expenses/{id}")]
pub async fn delete_expense(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let res = resource::delete::<Expenses>(&state, &auth, &req, id.into_inner()).await?;
    // The receipt's removal from the store is queued: run it now.
    state.jobs.wake();
    Ok(res)
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_expenses)
        .service(create_expense)
        .service(get_expense)
        .service(patch_expense)
        .service(delete_expense);
}
