//! The HTTP operations of recurring invoices: `/v1/recurring-invoices`.

use actix_web::{
    delete, get,
    http::StatusCode,
    patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use diesel_async::scoped_futures::ScopedFutureExt;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    invoice_routes::{body, create_once, json_list, reply, today},
    recurring::{self, RecurringFilter, RecurringInvoice, RecurringInvoiceInput},
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{resolve_workspace, ListQuery, WorkspaceFilter},
        state::State,
    },
    http::{
        etag,
        json::{self, Json},
        pagination::{Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
};

/// `GET /v1/recurring-invoices`
#[utoipa::path(
    tag = "invoicing", summary = "List recurring invoices",
    params(PageParams, WorkspaceFilter, RecurringFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<RecurringInvoice>)),
)]
#[get("/recurring-invoices")]
pub async fn list_recurring_invoices(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<RecurringFilter>,
) -> ApiResult<HttpResponse> {
    let q = ListQuery {
        workspace_id: workspace.into_inner().workspace_id,
        filter: filter.into_inner(),
        after: page.after,
        fetch: page.fetch(),
    };
    let out = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let rows = recurring::list(conn, q).await?;
                body(&Page::from_rows(rows, &page, recurring::cursor).map(recurring::output))
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `POST /v1/recurring-invoices`
#[utoipa::path(
    tag = "invoicing", summary = "Invoice on a schedule.",
    description = "On each occurrence of the RRULE (at 06:00 in your time zone) the server makes the invoice: a draft, issued (`issue`), or issued and mailed with its PDF (`issue_and_send`). Each occurrence is invoiced once, however often its job is delivered.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = RecurringInvoiceInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; `next_date` is the first occurrence", body = RecurringInvoice),
        (status = 409, description = "The workspace has no business profile", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (an RRULE that does not parse, a start in the past)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/recurring-invoices")]
pub async fn create_recurring_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    input: Json<RecurringInvoiceInput>,
) -> ApiResult<HttpResponse> {
    let Json(input, hash) = input;
    let keys = state.config.secret_keys.clone();
    create_once(&state, &auth, &req, hash, move |conn, me| {
        async move {
            let ws = resolve_workspace(conn, me.user_id, input.workspace_id).await?;
            let today = today(conn, me).await?;
            let values = recurring::validate(conn, keys.as_deref(), ws, today, None, input).await?;
            let row = recurring::insert(conn, ws, me.user_id, values).await?;
            Ok((recurring::version(&row), body(&recurring::output(row))?))
        }
        .scope_boxed()
    })
    .await
}

/// `GET /v1/recurring-invoices/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Get a recurring invoice",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = RecurringInvoice),
        (status = 404, description = "No such schedule, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/recurring-invoices/{id}")]
pub async fn get_recurring_invoice(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let row = recurring::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                Ok((recurring::version(&row), body(&recurring::output(row))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `PATCH /v1/recurring-invoices/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Change or pause a recurring invoice",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = RecurringInvoiceInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `active: false` pauses it"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated; invoices already made stay as they are", body = RecurringInvoice),
        (status = 404, description = "No such schedule, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/recurring-invoices/{id}")]
pub async fn patch_recurring_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    patch: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let schema = json::body_schema(&req);
    let patch = json::patch_object(patch.0)?;
    let keys = state.config.secret_keys.clone();
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current = recurring::lock(conn, id).await?;
                etag::check(expected, recurring::version(&current))?;
                let ws = recurring::workspace(&current);
                let input: RecurringInvoiceInput =
                    json::merge_patch(&recurring::input(&current), &patch, schema.as_deref())?;
                if input.workspace_id.is_some_and(|w| w != ws) {
                    return Err(ApiError::field("workspace_id", "cannot change"));
                }
                let today = today(conn, me).await?;
                let values =
                    recurring::validate(conn, keys.as_deref(), ws, today, Some(&current), input)
                        .await?;
                let row = recurring::update(conn, id, values).await?;
                Ok((recurring::version(&row), body(&recurring::output(row))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `DELETE /v1/recurring-invoices/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Stop a recurring invoice (the invoices it made stay)",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such schedule, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/recurring-invoices/{id}")]
pub async fn delete_recurring_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let current = recurring::lock(conn, id).await?;
            etag::check(expected, recurring::version(&current))?;
            recurring::delete(conn, &current).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_recurring_invoices)
        .service(create_recurring_invoice)
        .service(get_recurring_invoice)
        .service(patch_recurring_invoice)
        .service(delete_recurring_invoice);
}
