//! The HTTP operations of invoicing: `/v1/invoices` (drafts, issue, void, validate, PDF,
//! payments), `/v1/credit-notes` and `/v1/documents`.

use actix_web::{
    delete, get,
    http::{header, StatusCode},
    patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use chrono::NaiveDate;
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    clients,
    credit_notes::{self, CreditNote, CreditNoteFilter, CreditNoteInput},
    documents::{self, Document, DocumentFilter},
    invoices::{self, Invoice, InvoiceFilter, InvoiceInput, IssueInput, VoidInput},
    mailing::{self, DocumentEmail, SendInput},
    payments::{self, Payment, PaymentInput},
    profile, validate,
};
use crate::{
    common::{
        extractor::{Access, Auth, Principal},
        idempotency,
        resource::{resolve_workspace, ListQuery, WorkspaceFilter},
        state::State,
        zone,
    },
    db::pool::Conn,
    http::{
        etag,
        json::{self, Json, OptionalJson},
        pagination::{Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
};

/// The caller's calendar date in their time zone: what "today", "overdue" and default dates
/// mean.
pub(super) async fn today(conn: &mut Conn, me: Principal) -> ApiResult<NaiveDate> {
    let zone = zone::user_zone(conn, me.user_id).await?;
    Ok(me.at.with_timezone(&zone).date_naive())
}

pub(super) fn body<T: Serialize>(value: &T) -> ApiResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(ApiError::internal)
}

pub(super) fn reply(status: StatusCode, version: i32, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag::etag(version))
        .content_type("application/json")
        .body(body)
}

pub(super) fn json_list(body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

fn pdf(file_name: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes)
}

/// A POST that creates: `Idempotency-Key` replays the first answer for 24 hours. `create` runs
/// in the request's transaction and answers the new row's version and body.
pub(super) async fn create_once<F>(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    hash: [u8; 32],
    create: F,
) -> ApiResult<HttpResponse>
where
    F: for<'r> FnOnce(
            &'r mut Conn,
            Principal,
        ) -> diesel_async::scoped_futures::ScopedBoxFuture<
            'static,
            'r,
            ApiResult<(i32, Vec<u8>)>,
        > + Send
        + 'static,
{
    let key = idempotency::key(req)?;
    let path = req.path().to_owned();
    let outcome = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let request = key.as_deref().map(|key| idempotency::Request {
                    key,
                    path: &path,
                    body_hash: &hash,
                });
                if let Some(request) = &request {
                    if let Some(stored) = idempotency::replay(conn, request).await? {
                        return Ok(Err(stored));
                    }
                }
                let (version, body) = create(conn, me).await?;
                if let Some(request) = &request {
                    idempotency::remember(conn, request, StatusCode::CREATED, &body).await?;
                }
                Ok(Ok((version, body)))
            }
            .scope_boxed()
        })
        .await?;
    Ok(match outcome {
        Ok((version, body)) => reply(StatusCode::CREATED, version, body),
        Err(replayed) => replayed.response(),
    })
}

/// `GET /v1/invoices`
#[utoipa::path(
    tag = "invoicing", summary = "List invoices",
    params(PageParams, WorkspaceFilter, InvoiceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Invoice>)),
)]
#[get("/invoices")]
pub async fn list_invoices(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<InvoiceFilter>,
) -> ApiResult<HttpResponse> {
    let q = ListQuery {
        workspace_id: workspace.into_inner().workspace_id,
        filter: filter.into_inner(),
        after: page.after,
        fetch: page.fetch(),
    };
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let today = today(conn, me).await?;
                let rows = invoices::list(conn, today, q).await?;
                let page = Page::from_rows(rows, &page, |r| crate::http::pagination::Cursor {
                    created_at: r.created_at,
                    id: r.id,
                })
                .map(|r| invoices::output(r, today));
                body(&page)
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `POST /v1/invoices`
#[utoipa::path(
    tag = "invoicing", summary = "Create a draft invoice",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = InvoiceInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created as a draft; `ETag` carries the version", body = Invoice),
        (status = 409, description = "The workspace has no business profile (`/problems/business-profile-required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, e.g. a line without a VAT rate for a VAT-registered business", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices")]
pub async fn create_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    input: Json<InvoiceInput>,
) -> ApiResult<HttpResponse> {
    let Json(input, hash) = input;
    let keys = state.config.secret_keys.clone();
    create_once(&state, &auth, &req, hash, move |conn, me| {
        async move {
            let workspace = resolve_workspace(conn, me.user_id, input.workspace_id).await?;
            let values = invoices::validate(conn, keys.as_deref(), workspace, input).await?;
            let row = invoices::insert(conn, Uuid::now_v7(), workspace, me.user_id, values).await?;
            let today = today(conn, me).await?;
            Ok((row.version, body(&invoices::output(row, today))?))
        }
        .scope_boxed()
    })
    .await
}

/// `GET /v1/invoices/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Get an invoice",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Invoice),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/invoices/{id}")]
pub async fn get_invoice(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let row = invoices::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let today = today(conn, me).await?;
                Ok((row.version, body(&invoices::output(row, today))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `PATCH /v1/invoices/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Change a draft invoice",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = InvoiceInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `null` clears a field; `lines` is replaced whole"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Invoice),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is issued and cannot change (`/problems/document-issued`): credit it instead", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/invoices/{id}")]
pub async fn patch_invoice(
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
                let current = invoices::lock(conn, id).await?;
                etag::check(expected, current.version)?;
                invoices::must_be_draft(&current)?;
                let input: InvoiceInput =
                    json::merge_patch(&invoices::input(&current), &patch, schema.as_deref())?;
                if input
                    .workspace_id
                    .is_some_and(|w| w != current.workspace_id)
                {
                    return Err(ApiError::field("workspace_id", "cannot change"));
                }
                let values =
                    invoices::validate(conn, keys.as_deref(), current.workspace_id, input).await?;
                let row = invoices::update_draft(conn, id, values).await?;
                let today = today(conn, me).await?;
                Ok((row.version, body(&invoices::output(row, today))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `DELETE /v1/invoices/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Delete a draft invoice (an issued one is voided instead)",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Issued invoices are kept (`/problems/document-issued`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/invoices/{id}")]
pub async fn delete_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let current = invoices::lock(conn, id).await?;
            etag::check(expected, current.version)?;
            invoices::delete_draft(conn, &current).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/invoices/{id}/issue`
#[utoipa::path(
    tag = "invoicing", summary = "Issue a draft: number it, date it, keep its PDF.",
    description = "Takes the next number of the business's gap-free sequence (concurrent issues wait for each other; none shares or skips a number), sets the invoice date, the tax point (VAT Act 1994 s6: the supply date, or the invoice date when issued within 14 days after it or before it) and the due date, copies the business and the client into the invoice, and keeps its PDF (`GET /v1/documents`). From then on the invoice never changes.",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = Option<IssueInput>, description = "Optional; an empty body takes today and the payment terms"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Issued", body = Invoice),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Issued already (`/problems/document-issued`), no business profile, or the VAT registration changed since the draft was priced", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No lines, or dates out of range", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices/{id}/issue")]
pub async fn issue_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    input: OptionalJson<IssueInput>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let keys = state.config.secret_keys.clone();
    let id = id.into_inner();
    let input = input.0;
    let (version, out) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current = invoices::lock(conn, id).await?;
                etag::check(expected, current.version)?;
                let today = today(conn, me).await?;
                let row =
                    invoices::issue(conn, keys.as_deref(), me.at, today, current, input).await?;
                documents::keep_invoice(conn, keys.as_deref(), me.user_id, &row).await?;
                Ok((row.version, body(&invoices::output(row, today))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `POST /v1/invoices/{id}/void`
#[utoipa::path(
    tag = "invoicing", summary = "Void an issued invoice with nothing paid or credited",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = Option<VoidInput>, description = "Optional reason"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Void; it keeps its number and record", body = Invoice),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A draft, void already, or money recorded against it", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices/{id}/void")]
pub async fn void_invoice(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    input: OptionalJson<VoidInput>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    let input = input.0;
    let (version, out) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current = invoices::lock(conn, id).await?;
                etag::check(expected, current.version)?;
                let row = invoices::void(conn, me.at, current, input).await?;
                let today = today(conn, me).await?;
                Ok((row.version, body(&invoices::output(row, today))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `POST /v1/invoices/{id}/validate`
#[utoipa::path(
    tag = "invoicing", summary = "Check an invoice against HMRC's rules for VAT invoices.",
    description = "Answers, for each rule of VAT Notice 700/21 §4 and the VAT Regulations 1995 (SI 1995/2518) regs 13, 14 and 16A, whether the invoice meets it, with the citation. A draft is checked as it would be issued today. Writes nothing.",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Every rule, met or broken", body = validate::Validation),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices/{id}/validate")]
pub async fn validate_invoice(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let keys = state.config.secret_keys.clone();
    let id = id.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let row = invoices::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let today = today(conn, me).await?;
                let facts = super::checks::facts(conn, keys.as_deref(), &row, today).await?;
                body(&validate::validate(&facts, today))
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `GET /v1/invoices/{id}/pdf`
#[utoipa::path(
    tag = "invoicing", summary = "Download an invoice as PDF.",
    description = "An issued invoice answers the PDF kept when it was issued, byte for byte; a draft answers a fresh PDF marked DRAFT, which is not kept.",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A draft of a workspace with no business profile", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/invoices/{id}/pdf")]
pub async fn invoice_pdf(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let keys = state.config.secret_keys.clone();
    let id = id.into_inner();
    let (name, bytes) = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let row = invoices::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                if row.status != "draft" {
                    return documents::content_of(conn, Some(id), None, None)
                        .await?
                        .ok_or_else(ApiError::not_found);
                }
                let issuer = profile::issuer(conn, keys.as_deref(), row.workspace_id)
                    .await?
                    .ok_or_else(invoices::profile_required)?;
                let customer = clients::customer(conn, row.workspace_id, row.client_id)
                    .await?
                    .map(|c| c.party)
                    .unwrap_or_default();
                let logo = super::logo::for_documents(conn, row.workspace_id).await?;
                let bytes = documents::invoice_pdf(
                    &row,
                    &issuer.party,
                    &customer,
                    issuer.bank.as_ref(),
                    logo,
                )?;
                Ok(("DRAFT.pdf".to_owned(), bytes))
            }
            .scope_boxed()
        })
        .await?;
    Ok(pdf(&name, bytes))
}

/// `GET /v1/invoices/{id}/payments`
#[utoipa::path(
    tag = "invoicing", summary = "List an invoice's payments",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Every payment, oldest first", body = Vec<Payment>),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/invoices/{id}/payments")]
pub async fn list_payments(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                invoices::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let rows = payments::list(conn, id).await?;
                body(&rows.into_iter().map(payments::output).collect::<Vec<_>>())
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `POST /v1/invoices/{id}/payments`
#[utoipa::path(
    tag = "invoicing", summary = "Record a payment",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe: the same key and body answer the first response for 24 h")),
    request_body = PaymentInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Recorded; the invoice's balance and status follow", body = Payment),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is a draft or void", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than the balance (an overpayment), or not positive", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices/{id}/payments")]
pub async fn record_payment(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    input: Json<PaymentInput>,
) -> ApiResult<HttpResponse> {
    let Json(input, hash) = input;
    let id = id.into_inner();
    create_once(&state, &auth, &req, hash, move |conn, me| {
        async move {
            let today = today(conn, me).await?;
            let row = payments::record(conn, me.user_id, today, Uuid::now_v7(), id, input).await?;
            let out = payments::output(row);
            Ok((out.version, body(&out)?))
        }
        .scope_boxed()
    })
    .await
}

/// `DELETE /v1/invoices/{id}/payments/{payment_id}`
#[utoipa::path(
    tag = "invoicing", summary = "Delete a payment recorded by mistake",
    params(("id" = Uuid, Path), ("payment_id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted; the invoice's balance and status follow"),
        (status = 404, description = "No such payment, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A Stripe payment: refund it in Stripe", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/invoices/{id}/payments/{payment_id}")]
pub async fn delete_payment(
    state: State,
    auth: Auth,
    ids: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, payment) = ids.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move { payments::delete(conn, id, payment).await }.scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /v1/credit-notes`
#[utoipa::path(
    tag = "invoicing", summary = "List credit notes",
    params(PageParams, WorkspaceFilter, CreditNoteFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<CreditNote>)),
)]
#[get("/credit-notes")]
pub async fn list_credit_notes(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<CreditNoteFilter>,
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
                let rows = credit_notes::list(conn, q).await?;
                let page = Page::from_rows(rows, &page, |r| crate::http::pagination::Cursor {
                    created_at: r.created_at,
                    id: r.id,
                })
                .map(credit_notes::output);
                body(&page)
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `POST /v1/credit-notes`
#[utoipa::path(
    tag = "invoicing", summary = "Issue a credit note against an invoice.",
    description = "Numbered from its own gap-free sequence and kept as a PDF. Its lines use the invoice's own VAT rates; its total is never more than what is left to credit. The invoice's balance goes down by its total.",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = CreditNoteInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Issued", body = CreditNote),
        (status = 409, description = "The invoice is a draft or void", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than is left to credit, a rate the invoice did not use, or no such invoice", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/credit-notes")]
pub async fn create_credit_note(
    state: State,
    auth: Auth,
    req: HttpRequest,
    input: Json<CreditNoteInput>,
) -> ApiResult<HttpResponse> {
    let Json(input, hash) = input;
    let keys = state.config.secret_keys.clone();
    create_once(&state, &auth, &req, hash, move |conn, me| {
        async move {
            let today = today(conn, me).await?;
            let row = credit_notes::create(
                conn,
                keys.as_deref(),
                me.user_id,
                today,
                Uuid::now_v7(),
                input,
            )
            .await?;
            documents::keep_credit_note(conn, me.user_id, &row).await?;
            Ok((row.version, body(&credit_notes::output(row))?))
        }
        .scope_boxed()
    })
    .await
}

/// `GET /v1/credit-notes/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Get a credit note",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = CreditNote),
        (status = 404, description = "No such credit note, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/credit-notes/{id}")]
pub async fn get_credit_note(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let row = credit_notes::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                Ok((row.version, body(&credit_notes::output(row))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `GET /v1/credit-notes/{id}/pdf`
#[utoipa::path(
    tag = "invoicing", summary = "Download a credit note as PDF",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The PDF kept when it was issued", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such credit note, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/credit-notes/{id}/pdf")]
pub async fn credit_note_pdf(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (name, bytes) = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                documents::content_of(conn, None, Some(id), None)
                    .await?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(pdf(&name, bytes))
}

/// `GET /v1/documents`
#[utoipa::path(
    tag = "invoicing", summary = "List generated documents",
    params(PageParams, WorkspaceFilter, DocumentFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Document>)),
)]
#[get("/documents")]
pub async fn list_documents(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<DocumentFilter>,
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
                let rows = documents::list(conn, q).await?;
                let page = Page::from_rows(rows, &page, |r| {
                    let m = documents::meta(r);
                    crate::http::pagination::Cursor {
                        created_at: m.created_at,
                        id: m.id,
                    }
                })
                .map(documents::output);
                body(&page)
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `GET /v1/documents/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Get a generated document's description",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = Document),
        (status = 404, description = "No such document, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/{id}")]
pub async fn get_document(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let row = documents::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let out = documents::output(row);
                Ok((out.version, body(&out)?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `GET /v1/documents/{id}/content`
#[utoipa::path(
    tag = "invoicing", summary = "Download a generated document",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The bytes as generated; their SHA-256 is the document's `sha256`", content_type = "application/pdf", body = Vec<u8>),
        (status = 404, description = "No such document, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/{id}/content")]
pub async fn document_content(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (name, bytes) = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                documents::content_of(conn, None, None, Some(id))
                    .await?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(pdf(&name, bytes))
}

/// `POST /v1/invoices/{id}/send`
#[utoipa::path(
    tag = "invoicing", summary = "Mail an issued invoice to the client, its PDF attached.",
    description = "Queued in the outbox with the business's template (`email_templates` of the profile; placeholders `{number}`, `{business}`, `{client}`, `{total}`, `{balance}`, `{due_date}`); its progress is in `GET /v1/documents/{id}/emails`.",
    params(("id" = Uuid, Path)),
    request_body(content = Option<SendInput>, description = "Optional: another address, subject or body"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 202, description = "Queued", body = DocumentEmail),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A draft or void invoice", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No address to send to, or an invalid one", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices/{id}/send")]
pub async fn send_invoice(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
    input: OptionalJson<SendInput>,
) -> ApiResult<HttpResponse> {
    let keys = state.config.secret_keys.clone();
    let id = id.into_inner();
    let input = input.0;
    let out = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let row =
                    mailing::send_invoice(conn, keys.as_deref(), me.user_id, id, input).await?;
                body(&mailing::output(row))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Accepted()
        .content_type("application/json")
        .body(out))
}

/// `POST /v1/credit-notes/{id}/send`
#[utoipa::path(
    tag = "invoicing", summary = "Mail a credit note to the client, its PDF attached",
    params(("id" = Uuid, Path)),
    request_body(content = Option<SendInput>, description = "Optional: another address, subject or body"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 202, description = "Queued", body = DocumentEmail),
        (status = 404, description = "No such credit note, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No address to send to, or an invalid one", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/credit-notes/{id}/send")]
pub async fn send_credit_note(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
    input: OptionalJson<SendInput>,
) -> ApiResult<HttpResponse> {
    let keys = state.config.secret_keys.clone();
    let id = id.into_inner();
    let input = input.0;
    let out = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let row =
                    mailing::send_credit_note(conn, keys.as_deref(), me.user_id, id, input).await?;
                body(&mailing::output(row))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Accepted()
        .content_type("application/json")
        .body(out))
}

/// `GET /v1/documents/{id}/emails`
#[utoipa::path(
    tag = "invoicing", summary = "The email log of a document",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Every mail that carried it, oldest first", body = Vec<DocumentEmail>),
        (status = 404, description = "No such document, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/{id}/emails")]
pub async fn document_emails(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                documents::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let rows = mailing::log(conn, id).await?;
                body(&rows.into_iter().map(mailing::output).collect::<Vec<_>>())
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_invoices)
        .service(create_invoice)
        .service(get_invoice)
        .service(patch_invoice)
        .service(delete_invoice)
        .service(issue_invoice)
        .service(void_invoice)
        .service(validate_invoice)
        .service(invoice_pdf)
        .service(list_payments)
        .service(record_payment)
        .service(delete_payment)
        .service(list_credit_notes)
        .service(create_credit_note)
        .service(get_credit_note)
        .service(credit_note_pdf)
        .service(list_documents)
        .service(get_document)
        .service(document_content)
        .service(send_invoice)
        .service(send_credit_note)
        .service(document_emails);
}
