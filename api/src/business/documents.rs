//! Generated documents (`/v1/documents`): the PDF of every invoice and credit note as it was
//! issued, kept byte for byte (the server role may insert them, never change or delete them;
//! they go with their workspace). A draft's PDF is made on request and not kept.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{credit_notes, invoices, lines, logo, parties::Party, pdf, profile, render};
use crate::{
    common::resource::ListQuery,
    db::{pool::Conn, schema::app::business_documents as t},
    http::problem::{ApiError, ApiResult},
    keyset,
    secrets::KeyRing,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    kind: String,
    invoice_id: Option<Uuid>,
    credit_note_id: Option<Uuid>,
    title: String,
    file_name: String,
    content_type: String,
    sha256: Vec<u8>,
    size_bytes: i32,
    version: i32,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Document {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    /// `invoice` or `credit_note`.
    #[schema(example = "invoice")]
    pub kind: String,
    pub invoice_id: Option<Uuid>,
    pub credit_note_id: Option<Uuid>,
    #[schema(example = "VAT invoice INV-0001")]
    pub title: String,
    #[schema(example = "INV-0001.pdf")]
    pub file_name: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Hex SHA-256 of the bytes `GET /v1/documents/{id}/content` answers.
    pub sha256: String,
    pub size_bytes: i32,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentFilter {
    pub invoice_id: Option<Uuid>,
    pub credit_note_id: Option<Uuid>,
}

pub fn output(r: Row) -> Document {
    Document {
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        kind: r.kind,
        invoice_id: r.invoice_id,
        credit_note_id: r.credit_note_id,
        title: r.title,
        file_name: r.file_name,
        content_type: r.content_type,
        sha256: hex::encode(r.sha256),
        size_bytes: r.size_bytes,
        version: r.version,
        created_at: r.created_at,
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

/// A file name made of the document number only: never anything a client typed beyond the
/// prefix, and only characters safe in `Content-Disposition`.
fn file_name(number: &str) -> String {
    let safe: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(90)
        .collect();
    format!("{}.pdf", if safe.is_empty() { "document" } else { &safe })
}

fn rendered(doc: &pdf::PdfDocument) -> ApiResult<Vec<u8>> {
    pdf::render(doc).map_err(|e| ApiError::internal(anyhow::anyhow!("PDF: {e}")))
}

/// An invoice as its PDF shows it; a draft shows today's profile and client, an issued one the
/// parties copied in when it was issued.
pub fn invoice_pdf(
    row: &invoices::Row,
    supplier: &Party,
    customer: &Party,
    bank: Option<&(String, String)>,
    logo: Option<pdf::Logo>,
) -> ApiResult<Vec<u8>> {
    let lines = lines::lines_of(&row.lines);
    let totals = invoices::totals_of(row);
    let mut dates = Vec::new();
    if let Some(d) = row.invoice_date {
        dates.push(("Invoice date".to_owned(), render::date(d)));
    }
    if let Some(tp) = row.tax_point.filter(|tp| Some(*tp) != row.invoice_date) {
        dates.push(("Tax point".to_owned(), render::date(tp)));
    }
    if let Some(d) = row.supply_date {
        dates.push(("Date of supply".to_owned(), render::date(d)));
    }
    if let Some(d) = row.due_date {
        dates.push(("Due date".to_owned(), render::date(d)));
    }
    let mut notes: Vec<String> = row.notes.iter().cloned().collect();
    notes.extend(render::bank_note(bank));
    if row.status == "void" {
        notes.push("VOID: this invoice was cancelled and is not payable.".to_owned());
    }
    rendered(&render::document(render::Parts {
        title: invoices::title(row.vat_registered, &row.form),
        number: row.number.as_deref(),
        supplier,
        customer,
        dates,
        vat_registered: row.vat_registered,
        lines: &lines,
        totals: &totals,
        notes,
        logo,
    }))
}

pub fn credit_note_pdf(
    note: &credit_notes::Row,
    invoice_number: &str,
    logo: Option<pdf::Logo>,
) -> ApiResult<Vec<u8>> {
    let lines = lines::lines_of(&note.lines);
    let totals = credit_notes::totals_of(note);
    let supplier: Party = serde_json::from_value(note.supplier.clone()).unwrap_or_default();
    let customer: Party = serde_json::from_value(note.customer.clone()).unwrap_or_default();
    let mut notes = vec![format!("Credit note for invoice {invoice_number}.")];
    notes.extend(note.reason.clone());
    rendered(&render::document(render::Parts {
        title: "Credit note",
        number: Some(&note.number),
        supplier: &supplier,
        customer: &customer,
        dates: vec![("Date".to_owned(), render::date(note.credit_date))],
        vat_registered: note.vat_registered,
        lines: &lines,
        totals: &totals,
        notes,
        logo,
    }))
}

struct Keep<'a> {
    user: Uuid,
    workspace: Uuid,
    kind: &'static str,
    invoice_id: Option<Uuid>,
    credit_note_id: Option<Uuid>,
    title: String,
    number: &'a str,
    content: Vec<u8>,
}

async fn keep(conn: &mut Conn, k: Keep<'_>) -> ApiResult<()> {
    let size = i32::try_from(k.content.len()).map_err(ApiError::internal)?;
    diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
            t::workspace_id.eq(k.workspace),
            t::created_by.eq(k.user),
            t::kind.eq(k.kind),
            t::invoice_id.eq(k.invoice_id),
            t::credit_note_id.eq(k.credit_note_id),
            t::title.eq(k.title),
            t::file_name.eq(file_name(k.number)),
            t::sha256.eq(Sha256::digest(&k.content).to_vec()),
            t::size_bytes.eq(size),
            t::content.eq(k.content),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps the PDF of an invoice just issued, in its issuing transaction.
pub async fn keep_invoice(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    user: Uuid,
    row: &invoices::Row,
) -> ApiResult<()> {
    let bank = profile::issuer(conn, keys, row.workspace_id)
        .await?
        .and_then(|i| i.bank);
    let bank = bank.as_ref();
    let out = invoices::output(row.clone(), chrono::NaiveDate::MIN);
    let (supplier, customer) = (
        out.supplier.unwrap_or_default(),
        out.customer.unwrap_or_default(),
    );
    let number = row.number.clone().unwrap_or_default();
    let logo = logo::for_documents(conn, row.workspace_id).await?;
    keep(
        conn,
        Keep {
            user,
            workspace: row.workspace_id,
            kind: "invoice",
            invoice_id: Some(row.id),
            credit_note_id: None,
            title: format!("{} {number}", out.title),
            number: &number,
            content: invoice_pdf(row, &supplier, &customer, bank, logo)?,
        },
    )
    .await
}

/// Keeps the PDF of a credit note just issued, in its issuing transaction.
pub async fn keep_credit_note(
    conn: &mut Conn,
    user: Uuid,
    note: &credit_notes::Row,
) -> ApiResult<()> {
    let invoice_number = invoices::find(conn, note.invoice_id)
        .await?
        .and_then(|i| i.number)
        .unwrap_or_default();
    let invoice_number = invoice_number.as_str();
    let logo = logo::for_documents(conn, note.workspace_id).await?;
    keep(
        conn,
        Keep {
            user,
            workspace: note.workspace_id,
            kind: "credit_note",
            invoice_id: None,
            credit_note_id: Some(note.id),
            title: format!("Credit note {}", note.number),
            number: &note.number,
            content: credit_note_pdf(note, invoice_number, logo)?,
        },
    )
    .await
}

pub async fn find(conn: &mut Conn, id: Uuid) -> ApiResult<Option<Row>> {
    Ok(t::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The kept PDF of an invoice or credit note: `(file name, bytes)`.
pub async fn content_of(
    conn: &mut Conn,
    invoice_id: Option<Uuid>,
    credit_note_id: Option<Uuid>,
    id: Option<Uuid>,
) -> ApiResult<Option<(String, Vec<u8>)>> {
    let mut query = t::table.select((t::file_name, t::content)).into_boxed();
    if let Some(i) = invoice_id {
        query = query.filter(t::invoice_id.eq(i));
    }
    if let Some(c) = credit_note_id {
        query = query.filter(t::credit_note_id.eq(c));
    }
    if let Some(id) = id {
        query = query.filter(t::id.eq(id));
    }
    Ok(query
        .order(t::created_at.desc())
        .first(conn)
        .await
        .optional()?)
}

pub async fn list(conn: &mut Conn, q: ListQuery<DocumentFilter>) -> ApiResult<Vec<Row>> {
    let mut query = t::table.select(Row::as_select()).into_boxed();
    if let Some(i) = q.filter.invoice_id {
        query = query.filter(t::invoice_id.eq(i));
    }
    if let Some(c) = q.filter.credit_note_id {
        query = query.filter(t::credit_note_id.eq(c));
    }
    Ok(keyset!(query, t, q).load(conn).await?)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{
        lines::{self, LineInput},
        money::{Quantity, UnitPrice, VatRate},
    };

    fn line() -> impl Strategy<Value = LineInput> {
        (
            0i64..=5_000_000,
            0i64..=50_000_000,
            prop::sample::select(VatRate::ALL.to_vec()),
            any::<bool>(),
        )
            .prop_map(|(q, p, rate, inclusive)| LineInput {
                description: format!("Item {q}"),
                quantity: Some(Quantity::from_ten_thousandths(q).expect("in bounds")),
                unit_price: UnitPrice::from_ten_thousandths(p).expect("in bounds"),
                vat_rate: Some(rate),
                price_includes_vat: inclusive && rate != VatRate::ReverseCharge,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// For any lines, the API's figures (the stored totals), the PDF's text and the VAT
        /// figures per rate agree to the penny.
        #[test]
        fn api_pdf_and_vat_figures_agree(lines in prop::collection::vec(line(), 1..8)) {
            let mut errors = Vec::new();
            let (priced, totals) = lines::price(&lines, true, &mut errors).expect("priced");
            prop_assert!(errors.is_empty());
            let per_rate_net: i64 = totals.by_rate.iter().map(|r| r.net).sum();
            let per_rate_vat: i64 = totals.by_rate.iter().map(|r| r.vat).sum();
            prop_assert_eq!(per_rate_net, totals.net);
            prop_assert_eq!(per_rate_vat, totals.vat + totals.reverse_charge_vat);
            prop_assert_eq!(priced.iter().map(|l| l.net_pence).sum::<i64>(), totals.net);
            let doc = super::super::render::document(super::super::render::Parts {
                title: "VAT invoice",
                number: Some("INV-0001"),
                supplier: &Default::default(),
                customer: &Default::default(),
                dates: Vec::new(),
                vat_registered: true,
                lines: &priced,
                totals: &lines::DocumentTotals {
                    net_pence: totals.net,
                    vat_pence: totals.vat,
                    reverse_charge_vat_pence: totals.reverse_charge_vat,
                    total_pence: totals.amount_due,
                    by_rate: totals.by_rate.clone(),
                },
                notes: Vec::new(),
                logo: None,
            });
            let text = super::super::pdf::text_of(&super::super::pdf::render(&doc).expect("a PDF"));
            let money = super::super::pdf::format_pence;
            for (label, pence) in [("Total excluding VAT", totals.net), ("VAT", totals.vat), ("Total", totals.amount_due)] {
                let expected = format!("{label} \n{} ", money(pence));
                prop_assert!(text.contains(&expected), "{expected:?} not in {text}");
            }
            for l in &priced {
                prop_assert!(text.contains(&money(l.net_pence)), "{} not in {}", money(l.net_pence), text);
            }
        }
    }

    #[test]
    fn file_names_are_safe_in_a_header() {
        assert_eq!(super::file_name("INV-0001"), "INV-0001.pdf");
        assert_eq!(super::file_name("A/B\"; x"), "A_B___x.pdf");
        assert_eq!(super::file_name(""), "document.pdf");
    }
}
