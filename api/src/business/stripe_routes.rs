//! The HTTP operations of card payments through Stripe: `/v1/business/stripe`,
//! `POST /v1/invoices/{id}/checkout` and the webhook Stripe calls,
//! `POST /v1/webhooks/stripe/{workspace_id}/{endpoint_id}`.

use actix_web::{
    delete, get,
    http::StatusCode,
    post, put,
    web::{Bytes, Path, Query},
    HttpRequest, HttpResponse,
};
use diesel_async::scoped_futures::ScopedFutureExt;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    stripe,
    stripe_account::{self, Checkout, CheckoutInput, StripeAccount, StripeAccountInput},
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{resolve_workspace, WorkspaceFilter},
        state::State,
    },
    http::{
        etag,
        json::Json,
        problem::{ApiError, ApiResult, Problem, ProblemKind},
    },
};

/// What a webhook delivery became.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WebhookReceipt {
    pub received: bool,
    /// `recorded` (a payment), `duplicate` (an event handled before), `ignored` (nothing to
    /// record), `unknown_invoice` or `invoice_not_payable`.
    #[schema(example = "recorded")]
    pub outcome: String,
}

/// `GET /v1/business/stripe`
#[utoipa::path(
    tag = "invoicing", summary = "Get the Stripe connection",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Connected; the key and secret are never shown", body = StripeAccount),
        (status = 404, description = "Not connected", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business/stripe")]
pub async fn get_stripe(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    let config = state.config.clone();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                let row = stripe_account::find(conn, ws)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                Ok(stripe_account::output(&config, row))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag::etag(out.version))
        .json(out))
}

/// `PUT /v1/business/stripe`
#[utoipa::path(
    tag = "invoicing", summary = "Connect the business's own Stripe account.",
    description = "Paste a restricted key (write access to Checkout Sessions) and the signing secret of a webhook endpoint pointed at the `webhook_url` answered, listening to `checkout.session.completed` and `checkout.session.async_payment_succeeded`. Both are sealed at rest. Pasting a new signing secret keeps the previous one valid for 24 hours, as Stripe signs with both while a secret is rolled.",
    params(WorkspaceFilter),
    request_body = StripeAccountInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Replaced", body = StripeAccount),
        (status = 201, description = "Connected", body = StripeAccount),
        (status = 409, description = "This server keeps no secrets (`/problems/integration-not-configured`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a Stripe key or signing secret", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/business/stripe")]
pub async fn put_stripe(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
    body: Json<StripeAccountInput>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    let config = state.config.clone();
    let input = body.0;
    let (created, out) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                let (created, row) =
                    stripe_account::put(conn, &config, me.user_id, me.at, ws, input).await?;
                Ok((created, stripe_account::output(&config, row)))
            }
            .scope_boxed()
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(HttpResponse::build(status)
        .insert_header(etag::etag(out.version))
        .json(out))
}

/// `DELETE /v1/business/stripe`
#[utoipa::path(
    tag = "invoicing", summary = "Disconnect Stripe (its key and secrets are deleted)",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "Not connected", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/business/stripe")]
pub async fn delete_stripe(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let ws = resolve_workspace(conn, me.user_id, requested).await?;
            match stripe_account::delete(conn, ws).await? {
                0 => Err(ApiError::not_found()),
                _ => Ok(()),
            }
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/invoices/{id}/checkout`
#[utoipa::path(
    tag = "invoicing", summary = "Pay this invoice: open a Stripe Checkout Session for its balance.",
    description = "Creates a Checkout Session in the business's own Stripe account for what is owed (amount in pence, `client_reference_id` = the invoice id) with an `Idempotency-Key` per invoice and balance, so asking again gives the same session. The payment is recorded when Stripe's webhook says it was made.",
    params(("id" = Uuid, Path)),
    request_body = CheckoutInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Send the payer to `url`", body = Checkout),
        (status = 404, description = "No such invoice, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A draft or void invoice, nothing left to pay, or no Stripe account (`/problems/integration-not-configured`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Stripe refused or failed (`/problems/integration-provider`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invoices/{id}/checkout")]
pub async fn checkout_invoice(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
    body: Json<CheckoutInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let input = body.0;
    let config = state.config.clone();
    let plan = auth
        .tx(&state.db, Access::Write, move |conn, _| {
            async move { stripe_account::plan_checkout(conn, &config, id, input).await }
                .scope_boxed()
        })
        .await?;
    // Outside the transaction: no connection is held while Stripe answers.
    let checkout = stripe_account::create_checkout(&state.config, plan).await?;
    Ok(HttpResponse::Created().json(checkout))
}

/// `POST /v1/webhooks/stripe/{workspace_id}/{endpoint_id}`
#[utoipa::path(
    tag = "invoicing", summary = "Stripe's webhook (called by Stripe, not by you).",
    description = "Verifies `Stripe-Signature` over the raw body (HMAC-SHA256 of `t.body` with the endpoint's signing secret, any `v1` matching, at most 300 s old), handles each event id once, and records a payment on `checkout.session.completed` with `payment_status` `paid` and on `checkout.session.async_payment_succeeded`.",
    params(("workspace_id" = Uuid, Path), ("endpoint_id" = Uuid, Path),
           ("Stripe-Signature" = String, Header, description = "`t=…,v1=…`")),
    request_body(content = String, content_type = "application/json", description = "A Stripe event, as Stripe sends it; verified over its raw bytes"),
    responses(
        (status = 200, description = "Handled (or handled before); `outcome` says what became of it", body = WebhookReceipt),
        (status = 400, description = "No valid signature (`/problems/bad-request`): Stripe retries", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/webhooks/stripe/{workspace_id}/{endpoint_id}")]
pub async fn stripe_webhook(
    state: State,
    req: HttpRequest,
    ids: Path<(Uuid, Uuid)>,
    body: Bytes,
) -> ApiResult<HttpResponse> {
    let (workspace, endpoint) = ids.into_inner();
    let header = req
        .headers()
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let at = state.clock.now();
    let config = state.config.clone();
    let outcome = state
        .db
        .tx(move |conn| {
            async move {
                let secrets =
                    stripe_account::webhook_secrets(conn, &config, workspace, endpoint, at).await?;
                if secrets.is_empty() {
                    return Err(ApiError::not_found());
                }
                let secrets: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
                stripe::verify_signature(
                    &header,
                    &body,
                    &secrets,
                    at.timestamp(),
                    stripe_account::SIGNATURE_TOLERANCE_SECS,
                )
                .map_err(|e| ApiError::new(ProblemKind::BadRequest, e.to_string()))?;
                let event = stripe::parse_event(&body)
                    .map_err(|e| ApiError::new(ProblemKind::BadRequest, e.to_string()))?;
                stripe_account::record(conn, workspace, endpoint, &event).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(WebhookReceipt {
        received: true,
        outcome,
    }))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_stripe)
        .service(put_stripe)
        .service(delete_stripe)
        .service(checkout_invoice)
        .service(stripe_webhook);
}
