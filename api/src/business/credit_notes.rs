//! Credit notes (`/v1/credit-notes`): each credits one issued invoice, at the invoice's own VAT
//! rates and never more than is left to credit on it. A credit note is issued when it is
//! created, with the next number of its own gap-free sequence, and never changes.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    invoices,
    lines::{self, DocumentLine, DocumentTotals, LineInput},
    money, numbering,
    parties::Party,
    profile,
};
use crate::{
    common::{fields, resource::ListQuery},
    db::{pool::Conn, schema::app::credit_notes as t},
    http::problem::{ApiError, ApiResult},
    keyset,
    secrets::KeyRing,
};

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub invoice_id: Uuid,
    pub number: String,
    pub sequence_number: i64,
    pub credit_date: NaiveDate,
    pub reason: Option<String>,
    pub vat_registered: bool,
    pub lines: serde_json::Value,
    pub net_pence: i64,
    pub vat_pence: i64,
    pub reverse_charge_vat_pence: i64,
    pub total_pence: i64,
    pub by_rate: serde_json::Value,
    pub supplier: serde_json::Value,
    pub customer: serde_json::Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CreditNote {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    /// The invoice it credits.
    pub invoice_id: Uuid,
    #[schema(example = "CN-0001")]
    pub number: String,
    /// "Credit note".
    #[schema(example = "Credit note")]
    pub title: String,
    pub credit_date: NaiveDate,
    pub reason: Option<String>,
    pub vat_registered: bool,
    pub lines: Vec<DocumentLine>,
    pub totals: DocumentTotals,
    pub supplier: Party,
    pub customer: Party,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteInput {
    /// An issued invoice (not void) of yours.
    pub invoice_id: Uuid,
    /// The lines credited, at rates the invoice used. None or empty: the whole invoice, which
    /// only works while nothing of it is credited yet.
    #[serde(default)]
    pub lines: Vec<LineInput>,
    #[schema(example = "Two units returned damaged")]
    pub reason: Option<String>,
    /// Default: today in your time zone.
    pub credit_date: Option<NaiveDate>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditNoteFilter {
    pub invoice_id: Option<Uuid>,
}

pub fn totals_of(row: &Row) -> DocumentTotals {
    DocumentTotals {
        net_pence: row.net_pence,
        vat_pence: row.vat_pence,
        reverse_charge_vat_pence: row.reverse_charge_vat_pence,
        total_pence: row.total_pence,
        by_rate: serde_json::from_value(row.by_rate.clone()).unwrap_or_default(),
    }
}

pub fn meta(r: &Row) -> crate::common::resource::Meta {
    crate::common::resource::Meta {
        id: r.id,
        workspace_id: r.workspace_id,
        version: r.version,
        created_at: r.created_at,
    }
}

pub fn output(r: Row) -> CreditNote {
    CreditNote {
        lines: lines::lines_of(&r.lines),
        totals: totals_of(&r),
        supplier: serde_json::from_value(r.supplier).unwrap_or_default(),
        customer: serde_json::from_value(r.customer).unwrap_or_default(),
        title: "Credit note".to_owned(),
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        invoice_id: r.invoice_id,
        number: r.number,
        credit_date: r.credit_date,
        reason: r.reason,
        vat_registered: r.vat_registered,
        version: r.version,
        created_at: r.created_at,
    }
}

/// The money lines of a document, for the totals function.
fn money_lines(lines: &[DocumentLine]) -> Vec<money::Line> {
    lines
        .iter()
        .map(|l| money::Line {
            quantity: l.quantity,
            unit_price: l.unit_price,
            vat_rate: l.vat_rate,
            price_includes_vat: l.price_includes_vat,
        })
        .collect()
}

/// Issues a credit note against the invoice it names (locked here) and lowers the invoice's
/// balance, in the caller's transaction, which also keeps its PDF (`documents::keep_credit_note`).
pub async fn create(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    user: Uuid,
    today: NaiveDate,
    id: Uuid,
    i: CreditNoteInput,
) -> ApiResult<Row> {
    let invoice = invoices::lock(conn, i.invoice_id)
        .await
        .map_err(|_| ApiError::field("invoice_id", "does not name an invoice of yours"))?;
    invoices::must_be_open(&invoice)?;
    let issuer = profile::issuer(conn, keys, invoice.workspace_id)
        .await?
        .ok_or_else(invoices::profile_required)?;
    let mut errors = Vec::new();
    let invoice_lines = lines::lines_of(&invoice.lines);
    let inputs: Vec<LineInput> = if i.lines.is_empty() {
        invoice_lines.iter().map(LineInput::from).collect()
    } else {
        i.lines
    };
    let (lines, _) = lines::price(&inputs, invoice.vat_registered, &mut errors)?;
    let reason = fields::text("reason", i.reason, 1000, &mut errors);
    let credit_date = i.credit_date.unwrap_or(today);
    if invoice.invoice_date.is_some_and(|d| credit_date < d) {
        errors.push(crate::http::problem::FieldError {
            field: "credit_date".into(),
            message: "must not be before the invoice date".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let invoice_totals = money::totals(&money_lines(&invoice_lines), invoice.vat_registered)
        .map_err(lines::money_error)?;
    let totals = money::credit_note_totals(
        &invoice_totals,
        invoice.credited_pence,
        &money_lines(&lines),
        invoice.vat_registered,
    )
    .map_err(lines::money_error)?;
    if totals.amount_due == 0 {
        return Err(ApiError::field(
            "lines",
            "a credit note must credit more than £0.00",
        ));
    }
    let sequence = numbering::next(conn, invoice.workspace_id, numbering::Kind::CreditNote).await?;
    let number = numbering::format(&issuer.credit_note_prefix, issuer.padding, sequence);
    let row: Row = diesel::insert_into(t::table)
        .values((
            t::id.eq(id),
            t::workspace_id.eq(invoice.workspace_id),
            t::created_by.eq(user),
            t::invoice_id.eq(invoice.id),
            t::number.eq(&number),
            t::sequence_number.eq(sequence),
            t::credit_date.eq(credit_date),
            t::reason.eq(reason),
            t::vat_registered.eq(invoice.vat_registered),
            t::lines.eq(serde_json::to_value(&lines).map_err(ApiError::internal)?),
            t::net_pence.eq(totals.net),
            t::vat_pence.eq(totals.vat),
            t::reverse_charge_vat_pence.eq(totals.reverse_charge_vat),
            t::total_pence.eq(totals.amount_due),
            t::by_rate.eq(serde_json::to_value(&totals.by_rate).map_err(ApiError::internal)?),
            // The parties as the credited invoice shows them.
            t::supplier.eq(invoice.supplier.clone().unwrap_or_default()),
            t::customer.eq(invoice.customer.clone().unwrap_or_default()),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    invoices::settle(conn, &invoice, 0, totals.amount_due).await?;
    Ok(row)
}

pub async fn find(conn: &mut Conn, id: Uuid) -> ApiResult<Option<Row>> {
    Ok(t::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn list(conn: &mut Conn, q: ListQuery<CreditNoteFilter>) -> ApiResult<Vec<Row>> {
    let mut query = t::table.select(Row::as_select()).into_boxed();
    if let Some(i) = q.filter.invoice_id {
        query = query.filter(t::invoice_id.eq(i));
    }
    Ok(keyset!(query, t, q).load(conn).await?)
}
