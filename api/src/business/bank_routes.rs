//! `/v1/bank-statements` (import, list, read, delete; CSV presets and saved layouts) and
//! `/v1/bank-transactions` (the lines, and matching them to invoices and expenses).

use actix_web::{
    delete, get,
    http::header,
    post, put,
    web::{Path, Payload, Query},
    HttpRequest, HttpResponse,
};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::{
    bank::{
        self, BankStatement, BankTransaction, ImportParams, StatementRow, TransactionRow,
        TransactionStatus,
    },
    bank_matching::{self, MatchConfirmation, MatchParams, MatchPreview, MatchResult},
    statements::{self, CsvMapping, Preset, StatementFormat},
};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::{resolve_workspace, WorkspaceFilter},
        state::State,
    },
    db::schema::app::{bank_csv_mappings as maps, bank_statements as st, bank_transactions as tx},
    files::{kind::Kind, model::Purpose, upload},
    http::{
        json::Json,
        pagination::{Cursor, Page, PageParams, Paging},
        problem::{ApiError, ApiResult, Problem},
    },
    keyset,
};

/// `GET /v1/bank-statements/presets`
#[utoipa::path(
    tag = "business", summary = "List the CSV layouts of common UK banks",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Each bank's export layout, with its header line", body = Vec<Preset>)),
)]
#[get("/bank-statements/presets")]
pub async fn list_bank_presets(_auth: Auth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(statements::presets()))
}

/// A saved CSV layout.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SavedMapping {
    #[schema(example = "my-credit-union")]
    pub name: String,
    pub mapping: CsvMapping,
}

/// `GET /v1/bank-statements/mappings`
#[utoipa::path(
    tag = "business", summary = "List saved CSV layouts",
    params(WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "By name", body = Vec<SavedMapping>)),
)]
#[get("/bank-statements/mappings")]
pub async fn list_bank_mappings(
    state: State,
    auth: Auth,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let requested = workspace.into_inner().workspace_id;
    let rows = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                let rows: Vec<(String, serde_json::Value)> = maps::table
                    .filter(maps::workspace_id.eq(ws))
                    .order(maps::name)
                    .select((maps::name, maps::mapping))
                    .load(conn)
                    .await?;
                rows.into_iter()
                    .map(|(name, m)| {
                        Ok(SavedMapping {
                            name,
                            mapping: serde_json::from_value(m).map_err(ApiError::internal)?,
                        })
                    })
                    .collect::<ApiResult<Vec<_>>>()
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// `PUT /v1/bank-statements/mappings/{name}`
#[utoipa::path(
    tag = "business", summary = "Save a CSV layout under a name",
    params(("name" = String, Path, description = "Lowercase letters, digits, `-` and `_`"), WorkspaceFilter),
    request_body = CsvMapping,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Saved", body = SavedMapping),
        (status = 422, description = "Not a usable name or mapping", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/bank-statements/mappings/{name}")]
pub async fn put_bank_mapping(
    state: State,
    auth: Auth,
    name: Path<String>,
    workspace: Query<WorkspaceFilter>,
    body: Json<CsvMapping>,
) -> ApiResult<HttpResponse> {
    let name = name.into_inner();
    bank::check_name("name", &name)?;
    let Json(mapping, _) = body;
    let requested = workspace.into_inner().workspace_id;
    let value = serde_json::to_value(&mapping).map_err(ApiError::internal)?;
    let saved = name.clone();
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let ws = resolve_workspace(conn, me.user_id, requested).await?;
            diesel::insert_into(maps::table)
                .values((
                    maps::id.eq(Uuid::now_v7()),
                    maps::workspace_id.eq(ws),
                    maps::created_by.eq(me.user_id),
                    maps::name.eq(&name),
                    maps::mapping.eq(&value),
                ))
                .on_conflict((maps::workspace_id, maps::name))
                .do_update()
                .set((
                    maps::mapping.eq(&value),
                    maps::version.eq(maps::version + 1),
                    maps::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Ok().json(SavedMapping {
        name: saved,
        mapping,
    }))
}

/// `DELETE /v1/bank-statements/mappings/{name}`
#[utoipa::path(
    tag = "business", summary = "Delete a saved CSV layout",
    params(("name" = String, Path), WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such layout", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/bank-statements/mappings/{name}")]
pub async fn delete_bank_mapping(
    state: State,
    auth: Auth,
    name: Path<String>,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let name = name.into_inner();
    let requested = workspace.into_inner().workspace_id;
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let ws = resolve_workspace(conn, me.user_id, requested).await?;
            let n = diesel::delete(
                maps::table
                    .filter(maps::workspace_id.eq(ws))
                    .filter(maps::name.eq(&name)),
            )
            .execute(conn)
            .await?;
            if n == 0 {
                return Err(ApiError::not_found());
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/bank-statements`
#[utoipa::path(
    tag = "business", summary = "Import a bank statement.",
    description = "The body is the file your bank exported: CSV (in a preset bank layout or one you saved), OFX, or CAMT.053 XML. Every line is checked first: one bad line refuses the file with its row and column named, and nothing is imported. Lines already imported to the same account (the bank's id, or date, amount, description and balance) are skipped, so overlapping downloads are safe. The original is kept in the file store.",
    params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The statement file"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Imported; `lines_new` says how many lines were new", body = BankStatement),
        (status = 413, description = "Larger than the file limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not CSV, OFX or XML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line that cannot be read (the detail names it), no layout for a CSV, or no lines at all", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/bank-statements")]
pub async fn import_bank_statement(
    state: State,
    auth: Auth,
    req: HttpRequest,
    params: Query<ImportParams>,
    payload: Payload,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let account = p.account.unwrap_or_else(|| "main".into());
    bank::check_name("account", &account)?;
    let declared = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = upload::read(payload, state.config.file_max_bytes).await?;
    let kind = crate::files::kind::check(
        &bytes,
        crate::files::kind::STATEMENTS,
        p.name.as_deref(),
        declared.as_deref(),
    )?;
    let format = p.format.unwrap_or(match kind {
        Kind::Ofx => StatementFormat::Ofx,
        Kind::Xml => StatementFormat::Camt053,
        _ => StatementFormat::Csv,
    });
    let requested = p.workspace_id;
    // The layout may be a saved one: read it (and the file) before storing anything.
    let (ws, layout, parsed) = {
        let bytes = bytes.clone();
        let layout = p.layout.clone();
        auth.tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, requested).await?;
                let (name, mapping) = if format == StatementFormat::Csv {
                    let (n, m) = bank::layout_for(conn, ws, layout.as_deref(), &bytes).await?;
                    (Some(n), Some(m))
                } else {
                    (None, None)
                };
                let parsed = bank::read(format, &bytes, mapping.as_ref())?;
                Ok((ws, name, parsed))
            }
            .scope_boxed()
        })
        .await?
    };
    let stored = upload::store(
        &state.files,
        &bytes,
        Purpose::BankStatement,
        p.name.as_deref(),
        declared.as_deref(),
    )
    .await?;
    let key = stored.values.store_key.clone();
    let written = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let file = upload::insert(conn, me.user_id, ws, me.at, stored.values).await?;
                bank::insert(
                    conn, me.user_id, ws, &account, format, layout, file.id, &parsed,
                )
                .await
            }
            .scope_boxed()
        })
        .await;
    match written {
        Ok(row) => Ok(HttpResponse::Created().json(bank::statement_out(row))),
        Err(e) => {
            upload::abandon(&state.files, &key).await;
            Err(e)
        }
    }
}

/// `GET /v1/bank-statements`
#[utoipa::path(
    tag = "business", summary = "List imported statements",
    params(PageParams, WorkspaceFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<BankStatement>)),
)]
#[get("/bank-statements")]
pub async fn list_bank_statements(
    state: State,
    auth: Auth,
    page: Paging,
    workspace: Query<WorkspaceFilter>,
) -> ApiResult<HttpResponse> {
    let workspace_id = workspace.into_inner().workspace_id;
    let body = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let mut query = st::table.select(StatementRow::as_select()).into_boxed();
                if let Some(ws) = workspace_id {
                    query = query.filter(st::workspace_id.eq(ws));
                }
                let rows: Vec<StatementRow> = keyset!(query, st, page.after, page.fetch())
                    .load(conn)
                    .await?;
                let page = Page::from_rows(rows, &page, |r| Cursor {
                    created_at: r.created_at,
                    id: r.id,
                })
                .map(bank::statement_out);
                serde_json::to_vec(&page).map_err(ApiError::internal)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `GET /v1/bank-statements/{id}`
#[utoipa::path(
    tag = "business", summary = "Get an imported statement",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = BankStatement),
        (status = 404, description = "No such statement, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/bank-statements/{id}")]
pub async fn get_bank_statement(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                st::table
                    .filter(st::id.eq(id))
                    .select(StatementRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(bank::statement_out(row)))
}

/// `DELETE /v1/bank-statements/{id}`
#[utoipa::path(
    tag = "business", summary = "Delete an imported statement and its unrecorded lines.",
    description = "Refused while any of its lines is recorded as a payment or an expense: delete those first. Its original file goes too.",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such statement, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A line of it is recorded as a payment or an expense", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/bank-statements/{id}")]
pub async fn delete_bank_statement(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let ws: Uuid = st::table
                .filter(st::id.eq(id))
                .select(st::workspace_id)
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(ApiError::not_found)?;
            let recorded: i64 = tx::table
                .filter(tx::workspace_id.eq(ws))
                .filter(tx::statement_id.eq(id))
                .filter(tx::status.eq_any(["matched", "expense"]))
                .count()
                .get_result(conn)
                .await?;
            if recorded > 0 {
                return Err(ApiError::new(
                    crate::http::problem::ProblemKind::Conflict,
                    format!("{recorded} of its lines are recorded as payments or expenses"),
                ));
            }
            diesel::delete(
                st::table
                    .filter(st::workspace_id.eq(ws))
                    .filter(st::id.eq(id)),
            )
            .execute(conn)
            .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    state.jobs.wake();
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionFilter {
    pub workspace_id: Option<Uuid>,
    pub statement_id: Option<Uuid>,
    pub status: Option<TransactionStatus>,
}

/// `GET /v1/bank-transactions`
#[utoipa::path(
    tag = "business", summary = "List bank lines",
    params(PageParams, TransactionFilter),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest import first", body = Page<BankTransaction>)),
)]
#[get("/bank-transactions")]
pub async fn list_bank_transactions(
    state: State,
    auth: Auth,
    page: Paging,
    filter: Query<TransactionFilter>,
) -> ApiResult<HttpResponse> {
    let f = filter.into_inner();
    let body = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let mut query = tx::table.select(TransactionRow::as_select()).into_boxed();
                if let Some(ws) = f.workspace_id {
                    query = query.filter(tx::workspace_id.eq(ws));
                }
                if let Some(s) = f.statement_id {
                    query = query.filter(tx::statement_id.eq(s));
                }
                if let Some(s) = f.status {
                    query = query.filter(tx::status.eq(s.as_str()));
                }
                let rows: Vec<TransactionRow> = keyset!(query, tx, page.after, page.fetch())
                    .load(conn)
                    .await?;
                let page = Page::from_rows(rows, &page, |r| Cursor {
                    created_at: r.created_at,
                    id: r.id,
                })
                .map(bank::transaction_out);
                serde_json::to_vec(&page).map_err(ApiError::internal)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `GET /v1/bank-transactions/matches`
#[utoipa::path(
    tag = "business", summary = "Propose invoices for money in, and expenses for money out.",
    description = "A preview: for each unmatched credit, the open invoices it likely pays, best first, each with a score and the reasons (the invoice number in the reference, the exact amount, the client's name, the date); for each debit, a supplier for an expense. Nothing is written.",
    params(MatchParams),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The proposals", body = MatchPreview)),
)]
#[get("/bank-transactions/matches")]
pub async fn preview_bank_matches(
    state: State,
    auth: Auth,
    params: Query<MatchParams>,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = resolve_workspace(conn, me.user_id, p.workspace_id).await?;
                bank_matching::preview(conn, ws, p.statement_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `POST /v1/bank-transactions/matches`
#[utoipa::path(
    tag = "business", summary = "Record chosen matches as payments and expenses.",
    description = "All in one transaction: any refused match refuses them all. A line already recorded the same way is reported with `already_recorded` and not recorded again, so a retried confirmation is safe.",
    request_body = MatchConfirmation,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Recorded", body = MatchResult),
        (status = 409, description = "A line is already recorded otherwise (another invoice, or an expense)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A line or invoice that is not yours, money out for an invoice, or an amount above the balance", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/bank-transactions/matches")]
pub async fn confirm_bank_matches(
    state: State,
    auth: Auth,
    body: Json<MatchConfirmation>,
) -> ApiResult<HttpResponse> {
    let Json(body, _) = body;
    let out = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move { bank_matching::confirm(conn, me.user_id, me.at, body).await }.scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// `GET /v1/bank-transactions/{id}`
#[utoipa::path(
    tag = "business", summary = "Get a bank line",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = BankTransaction),
        (status = 404, description = "No such line, or not yours", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/bank-transactions/{id}")]
pub async fn get_bank_transaction(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                tx::table
                    .filter(tx::id.eq(id))
                    .select(TransactionRow::as_select())
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(bank::transaction_out(row)))
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_bank_presets)
        .service(list_bank_mappings)
        .service(put_bank_mapping)
        .service(delete_bank_mapping)
        .service(import_bank_statement)
        .service(list_bank_statements)
        .service(get_bank_statement)
        .service(delete_bank_statement)
        .service(list_bank_transactions)
        .service(preview_bank_matches)
        .service(confirm_bank_matches)
        .service(get_bank_transaction);
}
