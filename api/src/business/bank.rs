//! Imported bank statements and their lines (`/v1/bank-statements`, `/v1/bank-transactions`):
//! a file read by [`super::statements`], its original kept in the file store, each line stored
//! once per account however often it is imported, and CSV layouts saved by name.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::statements::{self, CsvMapping, ParsedStatement, StatementFormat};
use crate::{
    db::{
        pool::Conn,
        schema::app::{bank_csv_mappings as maps, bank_statements as st, bank_transactions as tx},
    },
    http::problem::{ApiError, ApiResult},
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = st)]
pub struct StatementRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub account: String,
    pub format: String,
    pub layout: Option<String>,
    pub file_id: Option<Uuid>,
    pub lines_read: i32,
    pub lines_new: i32,
    pub closing_balance_pence: Option<i64>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An imported statement file.
#[derive(Serialize, ToSchema)]
pub struct BankStatement {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    /// The account it belongs to: lines are unique per account.
    #[schema(example = "main")]
    pub account: String,
    pub format: StatementFormat,
    /// The CSV layout used: a preset's id or a saved mapping's name.
    #[schema(example = "monzo")]
    pub layout: Option<String>,
    /// The original file (`/v1/files/{id}/content`).
    pub file_id: Option<Uuid>,
    /// Lines in the file.
    pub lines_read: i32,
    /// Lines not seen before; the rest were already imported.
    pub lines_new: i32,
    /// The bank's own closing balance, when the file states one.
    pub closing_balance_pence: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub fn statement_out(r: StatementRow) -> BankStatement {
    BankStatement {
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        account: r.account,
        format: match r.format.as_str() {
            "ofx" => StatementFormat::Ofx,
            "camt053" => StatementFormat::Camt053,
            _ => StatementFormat::Csv,
        },
        layout: r.layout,
        file_id: r.file_id,
        lines_read: r.lines_read,
        lines_new: r.lines_new,
        closing_balance_pence: r.closing_balance_pence,
        created_at: r.created_at,
    }
}

pub fn format_name(f: StatementFormat) -> &'static str {
    match f {
        StatementFormat::Csv => "csv",
        StatementFormat::Ofx => "ofx",
        StatementFormat::Camt053 => "camt053",
    }
}

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = tx)]
pub struct TransactionRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub statement_id: Uuid,
    pub account: String,
    pub posted_on: NaiveDate,
    pub amount_pence: i64,
    pub description: String,
    pub reference: Option<String>,
    pub counterparty: Option<String>,
    pub balance_pence: Option<i64>,
    pub fitid: Option<String>,
    pub dedup_key: String,
    pub status: String,
    pub payment_id: Option<Uuid>,
    pub expense_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a line stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    Unmatched,
    /// Recorded as a payment of an invoice.
    Matched,
    /// Recorded as an expense.
    Expense,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Unmatched => "unmatched",
            TransactionStatus::Matched => "matched",
            TransactionStatus::Expense => "expense",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "matched" => TransactionStatus::Matched,
            "expense" => TransactionStatus::Expense,
            _ => TransactionStatus::Unmatched,
        }
    }
}

/// One booked line of a statement.
#[derive(Serialize, ToSchema)]
pub struct BankTransaction {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub statement_id: Uuid,
    pub account: String,
    #[schema(example = "2027-02-03")]
    pub posted_on: NaiveDate,
    /// Money in positive, money out negative.
    #[schema(example = 12000)]
    pub amount_pence: i64,
    #[schema(example = "ACME LTD INV-0042")]
    pub description: String,
    pub reference: Option<String>,
    pub counterparty: Option<String>,
    pub balance_pence: Option<i64>,
    pub status: TransactionStatus,
    /// The invoice payment it was recorded as.
    pub payment_id: Option<Uuid>,
    /// The expense it was recorded as.
    pub expense_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

pub fn transaction_out(r: TransactionRow) -> BankTransaction {
    BankTransaction {
        id: r.id,
        workspace_id: r.workspace_id,
        statement_id: r.statement_id,
        account: r.account,
        posted_on: r.posted_on,
        amount_pence: r.amount_pence,
        description: r.description,
        reference: r.reference,
        counterparty: r.counterparty,
        balance_pence: r.balance_pence,
        status: TransactionStatus::parse(&r.status),
        payment_id: r.payment_id,
        expense_id: r.expense_id,
        created_at: r.created_at,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    pub workspace_id: Option<Uuid>,
    /// `csv`, `ofx` or `camt053`; recognised from the content when absent.
    pub format: Option<StatementFormat>,
    /// For CSV: a preset's id (`GET /v1/bank-statements/presets`) or a saved mapping's name;
    /// recognised from the header when absent.
    #[param(example = "monzo")]
    pub layout: Option<String>,
    /// The account the statement is of (lowercase letters, digits, `-` and `_`); `main` by
    /// default. Lines are unique per account.
    #[param(example = "main")]
    pub account: Option<String>,
    /// The file's name, kept with the original.
    pub name: Option<String>,
}

pub fn check_name(field: &str, name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 50
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && !name.starts_with(['-', '_']);
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            "1 to 50 lowercase letters, digits, '-' or '_'",
        ))
    }
}

/// The saved mapping `name` of `workspace`.
pub async fn saved_mapping(
    conn: &mut Conn,
    workspace: Uuid,
    name: &str,
) -> ApiResult<Option<CsvMapping>> {
    let value: Option<serde_json::Value> = maps::table
        .filter(maps::workspace_id.eq(workspace))
        .filter(maps::name.eq(name))
        .select(maps::mapping)
        .first(conn)
        .await
        .optional()?;
    value
        .map(|v| serde_json::from_value(v).map_err(ApiError::internal))
        .transpose()
}

/// The CSV layout to read with: the named one (a saved mapping first, then a preset), else the
/// preset whose header the file has.
pub async fn layout_for(
    conn: &mut Conn,
    workspace: Uuid,
    layout: Option<&str>,
    bytes: &[u8],
) -> ApiResult<(String, CsvMapping)> {
    match layout {
        Some(name) => {
            if let Some(m) = saved_mapping(conn, workspace, name).await? {
                return Ok((name.to_owned(), m));
            }
            statements::csv::preset(name)
                .map(|p| (p.id.clone(), p.mapping.clone()))
                .ok_or_else(|| {
                    ApiError::field(
                        "layout",
                        "neither a saved mapping nor a preset: see /v1/bank-statements/presets",
                    )
                })
        }
        None => statements::guess_preset(bytes)
            .and_then(statements::csv::preset)
            .map(|p| (p.id.clone(), p.mapping.clone()))
            .ok_or_else(|| {
                ApiError::field(
                    "layout",
                    "the header matches no bank preset: choose a preset or save a mapping",
                )
            }),
    }
}

/// Reads the file, refusing it whole (with the row and column) if any line is wrong.
pub fn read(
    format: StatementFormat,
    bytes: &[u8],
    mapping: Option<&CsvMapping>,
) -> ApiResult<ParsedStatement> {
    let parsed = statements::parse(format, bytes, mapping)
        .map_err(|e| ApiError::field("body", e.to_string()))?;
    if parsed.lines.is_empty() {
        return Err(ApiError::field("body", "the statement has no transactions"));
    }
    Ok(parsed)
}

/// The statement's row and each line not seen before in `account`, in the caller's
/// transaction. Answers the statement as stored.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut Conn,
    user: Uuid,
    workspace: Uuid,
    account: &str,
    format: StatementFormat,
    layout: Option<String>,
    file_id: Uuid,
    parsed: &ParsedStatement,
) -> ApiResult<StatementRow> {
    let id = Uuid::now_v7();
    diesel::insert_into(st::table)
        .values((
            st::id.eq(id),
            st::workspace_id.eq(workspace),
            st::created_by.eq(user),
            st::account.eq(account),
            st::format.eq(format_name(format)),
            st::layout.eq(layout),
            st::file_id.eq(file_id),
            st::lines_read.eq(i32::try_from(parsed.lines.len()).unwrap_or(i32::MAX)),
            st::lines_new.eq(0),
            st::closing_balance_pence.eq(parsed.closing_balance.as_ref().map(|b| b.amount_pence)),
        ))
        .execute(conn)
        .await?;
    let mut new = 0i32;
    for chunk in parsed.lines.chunks(500) {
        // A zero line (a fee waived, a card check) moves no money.
        let rows: Vec<_> = chunk
            .iter()
            .filter(|l| l.amount_pence != 0)
            .map(|l| {
                (
                    tx::id.eq(Uuid::now_v7()),
                    tx::workspace_id.eq(workspace),
                    tx::created_by.eq(user),
                    tx::statement_id.eq(id),
                    tx::account.eq(account),
                    tx::posted_on.eq(l.date),
                    tx::amount_pence.eq(l.amount_pence),
                    tx::description.eq(l.description.clone()),
                    tx::reference.eq(l.reference.clone()),
                    tx::counterparty.eq(l.counterparty.clone()),
                    tx::balance_pence.eq(l.balance_pence),
                    tx::fitid.eq(l.fitid.clone()),
                    tx::dedup_key.eq(l.dedup_key()),
                )
            })
            .collect();
        new += i32::try_from(
            diesel::insert_into(tx::table)
                .values(&rows)
                .on_conflict((tx::workspace_id, tx::account, tx::dedup_key))
                .do_nothing()
                .execute(conn)
                .await?,
        )
        .unwrap_or(i32::MAX);
    }
    Ok(diesel::update(
        st::table
            .filter(st::workspace_id.eq(workspace))
            .filter(st::id.eq(id)),
    )
    .set(st::lines_new.eq(new))
    .returning(StatementRow::as_returning())
    .get_result(conn)
    .await?)
}
