//! The HTTP operations of quotes: `/v1/quotes` for the business, and
//! `/v1/public/quotes/{token}` for the client who received the link (no account needed).

use actix_web::{
    delete, get,
    http::StatusCode,
    patch, post,
    web::{Path, Query},
    HttpRequest, HttpResponse,
};
use diesel_async::scoped_futures::ScopedFutureExt;
use sha2::{Digest, Sha256};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    invoice_routes::{body, create_once, json_list, reply},
    quotes::{
        self, AnswerInput, PublicQuote, Quote, QuoteFilter, QuoteInput, SendQuoteInput, SentQuote,
    },
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{resolve_workspace, ListQuery, WorkspaceFilter},
        state::State,
    },
    http::{
        client_ip::client_ip,
        etag,
        json::{self, Json, OptionalJson},
        pagination::{Cursor, Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
};

/// `GET /v1/quotes`
#[utoipa::path(
    tag = "invoicing", summary = "List quotes",
    params(PageParams, WorkspaceFilter, QuoteFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<Quote>)),
)]
#[get("/quotes")]
pub async fn list_quotes(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
    filter: Query<QuoteFilter>,
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
                let rows = quotes::list(conn, q).await?;
                let page = Page::from_rows(rows, &page, |r| Cursor {
                    created_at: r.created_at,
                    id: r.id,
                })
                .map(|r| quotes::output(r, me.at));
                body(&page)
            }
            .scope_boxed()
        })
        .await?;
    Ok(json_list(out))
}

/// `POST /v1/quotes`
#[utoipa::path(
    tag = "invoicing", summary = "Create a draft quote",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe creation: the same key and body answer the first response for 24 h")),
    request_body = QuoteInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created as a draft", body = Quote),
        (status = 409, description = "The workspace has no business profile (`/problems/business-profile-required`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/quotes")]
pub async fn create_quote(
    state: State,
    auth: Auth,
    req: HttpRequest,
    input: Json<QuoteInput>,
) -> ApiResult<HttpResponse> {
    let Json(input, hash) = input;
    let keys = state.config.secret_keys.clone();
    create_once(&state, &auth, &req, hash, move |conn, me| {
        async move {
            let workspace = resolve_workspace(conn, me.user_id, input.workspace_id).await?;
            let values = quotes::validate(conn, keys.as_deref(), workspace, input).await?;
            let row = quotes::insert(conn, workspace, me.user_id, values).await?;
            Ok((row.version, body(&quotes::output(row, me.at))?))
        }
        .scope_boxed()
    })
    .await
}

/// `GET /v1/quotes/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Get a quote",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found; `ETag` carries the version", body = Quote),
        (status = 404, description = "No such quote, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/quotes/{id}")]
pub async fn get_quote(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let row = quotes::find(conn, id)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                Ok((row.version, body(&quotes::output(row, me.at))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `PATCH /v1/quotes/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Change a draft quote",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = QuoteInput, content_type = "application/merge-patch+json", description = "Any subset of the fields; `lines` is replaced whole"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Quote),
        (status = 404, description = "No such quote, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sent already (`/problems/document-issued`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since that ETag", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/quotes/{id}")]
pub async fn patch_quote(
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
                let current = quotes::lock(conn, id).await?;
                etag::check(expected, current.version)?;
                quotes::must_be_draft(&current)?;
                let input: QuoteInput =
                    json::merge_patch(&quotes::input(&current), &patch, schema.as_deref())?;
                if input
                    .workspace_id
                    .is_some_and(|w| w != current.workspace_id)
                {
                    return Err(ApiError::field("workspace_id", "cannot change"));
                }
                let values =
                    quotes::validate(conn, keys.as_deref(), current.workspace_id, input).await?;
                let row = quotes::update_draft(conn, id, values).await?;
                Ok((row.version, body(&quotes::output(row, me.at))?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `DELETE /v1/quotes/{id}`
#[utoipa::path(
    tag = "invoicing", summary = "Delete a draft quote",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such quote, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sent quotes are kept (`/problems/document-issued`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/quotes/{id}")]
pub async fn delete_quote(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let current = quotes::lock(conn, id).await?;
            etag::check(expected, current.version)?;
            quotes::delete_draft(conn, &current).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/quotes/{id}/send`
#[utoipa::path(
    tag = "invoicing", summary = "Send a draft quote: number it and make the client's link.",
    description = "The link (shown once; only its SHA-256 is kept) lets the client see the quote and accept or decline it once, by typing their name, until `valid_until` (or for 30 days). An acceptance makes a draft invoice with the quote's lines. With `mail`, the link is also mailed to the client through the outbox.",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = Option<SendQuoteInput>, description = "Optional: mail the link too"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Sent", body = SentQuote),
        (status = 404, description = "No such quote, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Sent already (`/problems/document-issued`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No lines, valid_until in the past, or no address to mail to", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/quotes/{id}/send")]
pub async fn send_quote(
    state: State,
    auth: Auth,
    req: HttpRequest,
    id: Path<Uuid>,
    input: OptionalJson<SendQuoteInput>,
) -> ApiResult<HttpResponse> {
    let input = input.0;
    let expected = etag::if_match(&req)?;
    let keys = state.config.secret_keys.clone();
    let app_url = state.config.app_url.clone();
    let id = id.into_inner();
    let (version, out) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current = quotes::lock(conn, id).await?;
                etag::check(expected, current.version)?;
                let today = super::invoice_routes::today(conn, me).await?;
                let (row, token) =
                    quotes::send(conn, keys.as_deref(), me.at, today, current).await?;
                let mut link = app_url.join("/quote").map_err(ApiError::internal)?;
                link.set_fragment(Some(&token));
                let link = String::from(link);
                let mailed_to = if input.mail {
                    Some(quotes::mail_link(conn, me.user_id, &row, &link, input.to).await?)
                } else {
                    None
                };
                let version = row.version;
                let sent = SentQuote {
                    quote: quotes::output(row, me.at),
                    link,
                    token,
                    mailed_to,
                };
                Ok((version, body(&sent)?))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, version, out))
}

/// `GET /v1/public/quotes/{token}`
#[utoipa::path(
    tag = "invoicing", summary = "See a quote through its link (no account needed)",
    params(("token" = String, Path, description = "The token of the link the business sent")),
    responses(
        (status = 200, description = "The quote, and its answer once given", body = PublicQuote),
        (status = 404, description = "No such link, or it expired", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/public/quotes/{token}")]
pub async fn public_quote(state: State, token: Path<String>) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let at = state.clock.now();
    let out = state
        .db
        .tx(move |conn| {
            async move {
                let quote = quotes::by_link(conn, &token, at)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                body(&quote)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(out))
}

/// `POST /v1/public/quotes/{token}/answer`
#[utoipa::path(
    tag = "invoicing", summary = "Accept or decline a quote through its link.",
    description = "Once per link: the name typed, the time and a SHA-256 of the request's IP address and user agent are the quote's signature record.",
    params(("token" = String, Path, description = "The token of the link the business sent")),
    request_body = AnswerInput,
    responses(
        (status = 200, description = "Answered", body = PublicQuote),
        (status = 404, description = "No such link, it expired, or it was answered already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No name typed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/public/quotes/{token}/answer")]
pub async fn answer_quote(
    state: State,
    req: HttpRequest,
    token: Path<String>,
    input: Json<AnswerInput>,
) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let at = state.clock.now();
    let agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let ip = client_ip(&req, state.config.proxies);
    let fingerprint = Sha256::digest(format!("{ip}\n{agent}").as_bytes()).to_vec();
    let input = input.0;
    let out = state
        .db
        .tx(move |conn| {
            async move {
                quotes::answer(conn, &token, at, input, fingerprint)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let quote = quotes::by_link(conn, &token, at)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                body(&quote)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .body(out))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_quotes)
        .service(create_quote)
        .service(get_quote)
        .service(patch_quote)
        .service(delete_quote)
        .service(send_quote)
        .service(public_quote)
        .service(answer_quote);
}
