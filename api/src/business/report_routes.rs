//! The business's tax figures: its VAT settings (`/v1/business/vat-settings`), the Flat Rate
//! Scheme's sectors, the VAT return of a period, the profit and loss, and the quarterly income
//! tax update. Computed on request from the issued documents and expenses; nothing is stored.

use actix_web::{get, put, web::Query, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    flat_rate::{self, Sector},
    profit::{self, IncomeTaxUpdate, ProfitAndLoss, ProfitParams, UpdateParams},
    vat::{self, VatReturnParams, VatSettings, VatSettingsInput},
    vat_return::VatReturn,
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{resolve_workspace, WorkspaceFilter},
        state::State,
    },
    http::{
        json::Json,
        problem::{ApiResult, Problem},
    },
};

/// `GET /v1/business/vat-settings`
#[utoipa::path(
    tag = "business", summary = "Get the VAT settings",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The saved settings; the standard scheme on the accrual basis (`version` 0) until some are saved", body = VatSettings)),
)]
#[get("/business/vat-settings")]
pub async fn get_vat_settings(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                vat::get(conn, ws).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `PUT /v1/business/vat-settings`
#[utoipa::path(
    tag = "business", summary = "Save the VAT settings",
    request_body = VatSettingsInput,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Saved", body = VatSettings),
        (status = 422, description = "The Flat Rate Scheme without a registration date or with neither (or both) a sector and a percentage, or an unknown sector", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/business/vat-settings")]
pub async fn put_vat_settings(
    state: State,
    auth: Auth,
    body: Json<VatSettingsInput>,
) -> ApiResult<HttpResponse> {
    let Json(input, _) = body;
    let out = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, input.workspace_id).await?;
                vat::put(conn, me.user_id, ws, input).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /v1/business/flat-rate-sectors`
#[utoipa::path(
    tag = "business", summary = "List the Flat Rate Scheme's sectors and their percentages",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "HMRC's table (VAT Notice 733), alphabetical", body = Vec<Sector>)),
)]
#[get("/business/flat-rate-sectors")]
pub async fn list_flat_rate_sectors(_auth: Auth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flat_rate::sectors()))
}

/// `GET /v1/business/vat-return`
#[utoipa::path(
    tag = "business", summary = "Compute the VAT return of a period.",
    description = "Boxes 1 to 5 in pence, boxes 6 to 9 in whole pounds (pence dropped), from the issued invoices and credit notes (a credit note counts in the period it is issued in) and the expenses, on the saved scheme and basis. `submission` is the body HMRC's MTD VAT API takes. Nothing is sent to HMRC.",
    params(VatReturnParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The return", body = VatReturn),
        (status = 422, description = "The period ends before it starts or is longer than a year, or the period key is not one", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business/vat-return")]
pub async fn get_vat_return(
    state: State,
    auth: Auth,
    params: Query<VatReturnParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, params.workspace_id).await?;
                vat::compute(conn, ws, params).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /v1/business/profit-and-loss`
#[utoipa::path(
    tag = "business", summary = "Profit and loss, month by month.",
    description = "Income ex VAT and expenses by category, on the cash basis (the default) or the accrual basis. Reclaimable VAT is not a cost; VAT that cannot be reclaimed is. Entertainment and depreciation are shown as disallowable and do not reduce the profit.",
    params(ProfitParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The report", body = ProfitAndLoss),
        (status = 422, description = "The range ends before it starts or is longer than three years", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business/profit-and-loss")]
pub async fn get_profit_and_loss(
    state: State,
    auth: Auth,
    params: Query<ProfitParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, params.workspace_id).await?;
                profit::profit_and_loss(conn, ws, params).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /v1/business/income-tax-update`
#[utoipa::path(
    tag = "business", summary = "The quarterly update for MTD for Income Tax.",
    description = "The self-employment period summary HMRC asks for each quarter: period dates, turnover and other income, expenses by category (or consolidated), and the disallowable part. Nothing is sent to HMRC.",
    params(UpdateParams),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The update's body", body = IncomeTaxUpdate),
        (status = 422, description = "The period ends before it starts or is longer than a year", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business/income-tax-update")]
pub async fn get_income_tax_update(
    state: State,
    auth: Auth,
    params: Query<UpdateParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, params.workspace_id).await?;
                profit::income_tax_update(conn, ws, params).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_vat_settings)
        .service(put_vat_settings)
        .service(list_flat_rate_sectors)
        .service(get_vat_return)
        .service(get_profit_and_loss)
        .service(get_income_tax_update);
}
