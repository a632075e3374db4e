//! The HTTP operations of the business module: the profile (one per workspace, `?workspace_id=`
//! picks it, the personal workspace by default), and clients and their jobs through the shared
//! resource life cycle (`common/resource.rs`).

use actix_web::{
    delete, get,
    http::StatusCode,
    patch, post, put,
    web::{Path, Payload, Query},
    HttpRequest, HttpResponse,
};
use diesel_async::scoped_futures::ScopedFutureExt;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::clients::{Client, ClientFilter, ClientInput, Clients};
use super::jobs::{BusinessJob, BusinessJobFilter, BusinessJobInput, BusinessJobs};
use super::logo::{self, BusinessLogo};
use super::profile::{self, BusinessProfile, BusinessProfileInput};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{self, resolve_workspace, WorkspaceFilter},
        state::State,
    },
    http::{
        json::Json,
        pagination::{Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
};

/// `GET /v1/business/profile`
#[utoipa::path(
    tag = "business", summary = "Get the business profile",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version. Bank details are masked", body = BusinessProfile),
        (status = 404, description = "The workspace has no business profile yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business/profile")]
pub async fn get_business_profile(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    profile::get(&state, &auth, workspace.into_inner().workspace_id).await
}

/// `PUT /v1/business/profile`
#[utoipa::path(
    tag = "business", summary = "Create or replace the business profile",
    params(WorkspaceFilter, ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body = BusinessProfileInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Replaced", body = BusinessProfile),
        (status = 201, description = "Created; `ETag` carries the version", body = BusinessProfile),
        (status = 409, description = "Bank details sent, but this server keeps no secrets; or another request created the profile at the same time (read again and retry)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/business/profile")]
pub async fn put_business_profile(
    state: State,
    auth: Auth,
    req: HttpRequest,
    workspace: Query<WorkspaceFilter>,
    body: Json<BusinessProfileInput>,
) -> ApiResult<HttpResponse> {
    profile::put(
        &state,
        &auth,
        &req,
        workspace.into_inner().workspace_id,
        body,
    )
    .await
}

/// `PATCH /v1/business/profile`
#[utoipa::path(
    tag = "business", summary = "Change the business profile",
    params(WorkspaceFilter, ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = BusinessProfileInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field; `bank_details` is replaced whole"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = BusinessProfile),
        (status = 404, description = "The workspace has no business profile yet", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Bank details sent, but this server keeps no secrets", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/business/profile")]
pub async fn patch_business_profile(
    state: State,
    auth: Auth,
    req: HttpRequest,
    workspace: Query<WorkspaceFilter>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    profile::patch(
        &state,
        &auth,
        &req,
        workspace.into_inner().workspace_id,
        body,
    )
    .await
}

/// `GET /v1/clients`
#[utoipa::path(
    tag = "business", summary = "List clients",
    params(PageParams, WorkspaceFilter, ClientFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Client>)),
)]
#[get("/clients")]
pub async fn list_clients(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<ClientFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<Clients>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/clients`
#[utoipa::path(
    tag = "business", summary = "Create a client",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = ClientInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = Client),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/clients")]
pub async fn create_client(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<ClientInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<Clients>(&state, &auth, &req, body).await
}

/// `GET /v1/clients/{id}`
#[utoipa::path(
    tag = "business", summary = "Get a client",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Client),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/clients/{id}")]
pub async fn get_client(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<Clients>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/clients/{id}`
#[utoipa::path(
    tag = "business", summary = "Change a client",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = ClientInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Client),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/clients/{id}")]
pub async fn patch_client(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<Clients>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/clients/{id}`
#[utoipa::path(
    tag = "business", summary = "Delete a client and its jobs (archive it to keep them)",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/clients/{id}")]
pub async fn delete_client(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<Clients>(&state, &auth, &req, id.into_inner()).await
}

/// `GET /v1/business-jobs`
#[utoipa::path(
    tag = "business", summary = "List jobs",
    params(PageParams, WorkspaceFilter, BusinessJobFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<BusinessJob>)),
)]
#[get("/business-jobs")]
pub async fn list_business_jobs(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<BusinessJobFilter>,
) -> ApiResult<HttpResponse> {
    resource::list::<BusinessJobs>(
        &state,
        &auth,
        page,
        workspace.into_inner(),
        filter.into_inner(),
    )
    .await
}

/// `POST /v1/business-jobs`
#[utoipa::path(
    tag = "business", summary = "Create a job",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = BusinessJobInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `ETag` carries the version", body = BusinessJob),
        (status = 403, description = "A read-only token", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/business-jobs")]
pub async fn create_business_job(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<BusinessJobInput>,
) -> ApiResult<HttpResponse> {
    resource::create::<BusinessJobs>(&state, &auth, &req, body).await
}

/// `GET /v1/business-jobs/{id}`
#[utoipa::path(
    tag = "business", summary = "Get a job",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = BusinessJob),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business-jobs/{id}")]
pub async fn get_business_job(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    resource::get::<BusinessJobs>(&state, &auth, id.into_inner()).await
}

/// `PATCH /v1/business-jobs/{id}`
#[utoipa::path(
    tag = "business", summary = "Change a job",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = BusinessJobInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = BusinessJob),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/business-jobs/{id}")]
pub async fn patch_business_job(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    resource::patch::<BusinessJobs>(&state, &auth, &req, id.into_inner(), body).await
}

/// `DELETE /v1/business-jobs/{id}`
#[utoipa::path(
    tag = "business", summary = "Delete a job",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such row, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/business-jobs/{id}")]
pub async fn delete_business_job(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    resource::delete::<BusinessJobs>(&state, &auth, &req, id.into_inner()).await
}

/// `PUT /v1/business/profile/logo`
#[utoipa::path(
    tag = "business", summary = "Upload the logo documents print.",
    description = "The body is the image itself, at most 512 KiB: PNG or JPEG, recognised by its content whatever the declared type. SVG is refused (415): export it as PNG. Documents issued from now on print it; issued ones keep theirs.",
    params(WorkspaceFilter),
    request_body(content = Vec<u8>, content_type = "image/png", description = "The PNG or JPEG image"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Replaced", body = BusinessLogo),
        (status = 201, description = "Stored", body = BusinessLogo),
        (status = 413, description = "Over 512 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a PNG or JPEG image (SVG included)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A PNG or JPEG that does not decode", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/business/profile/logo")]
pub async fn put_business_logo(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    let bytes = logo::read(payload).await?;
    let (created, out) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                logo::put(conn, me.user_id, ws, bytes).await
            }
            .scope_boxed()
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(out))
}

/// `GET /v1/business/profile/logo`
#[utoipa::path(
    tag = "business", summary = "Download the logo",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The image", content_type = "image/png", body = Vec<u8>),
        (status = 404, description = "No logo", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business/profile/logo")]
pub async fn get_business_logo(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    let (kind, bytes) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                logo::content(conn, ws)
                    .await?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(kind)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes))
}

/// `DELETE /v1/business/profile/logo`
#[utoipa::path(
    tag = "business", summary = "Remove the logo",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No logo", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/business/profile/logo")]
pub async fn delete_business_logo(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let ws = resolve_workspace(conn, me.user_id, requested).await?;
            match logo::delete(conn, ws).await? {
                0 => Err(ApiError::not_found()),
                _ => Ok(()),
            }
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn register_profile(cfg: &mut ServiceConfig) {
    cfg.service(get_business_profile)
        .service(put_business_profile)
        .service(patch_business_profile)
        .service(put_business_logo)
        .service(get_business_logo)
        .service(delete_business_logo);
}

pub fn register_clients(cfg: &mut ServiceConfig) {
    cfg.service(list_clients)
        .service(create_client)
        .service(get_client)
        .service(patch_client)
        .service(delete_client);
}

pub fn register_business_jobs(cfg: &mut ServiceConfig) {
    cfg.service(list_business_jobs)
        .service(create_business_job)
        .service(get_business_job)
        .service(patch_business_job)
        .service(delete_business_job);
}

/// Registers every route of this capability.
pub fn configure(cfg: &mut ServiceConfig) {
    register_profile(cfg);
    register_clients(cfg);
    register_business_jobs(cfg);
    super::invoice_routes::configure(cfg);
    super::stripe_routes::configure(cfg);
    super::quote_routes::configure(cfg);
    super::recurring_routes::configure(cfg);
    super::expense_routes::configure(cfg);
    super::report_routes::configure(cfg);
    super::bank_routes::configure(cfg);
}
