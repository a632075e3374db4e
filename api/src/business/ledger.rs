//! The business's figures as the VAT return and the profit and loss read them: issued sales
//! documents (invoices with their payments, and credit notes) and expenses, loaded for one
//! workspace and period. Voided invoices are never counted; drafts are not documents yet.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::{
    expenses::{self, Category},
    money::RateTotal,
    vat_return::{Purchase, Sale, SaleKind},
};
use crate::{
    db::{
        pool::Conn,
        schema::app::{credit_notes as cn, invoice_payments as pay, invoices as inv},
    },
    http::problem::{ApiError, ApiResult},
};

/// One issued sales document with what the reports need beyond the VAT return's view of it.
pub struct SaleDoc {
    pub id: Uuid,
    pub number: String,
    pub sale: Sale,
    /// Net of every rate (what the business earned before VAT).
    pub net_pence: i64,
    /// Whether the business was VAT registered when it issued it.
    pub vat_registered: bool,
}

/// One expense as the reports read it.
pub struct ExpenseDoc {
    pub id: Uuid,
    pub category: Category,
    pub supplier: String,
    pub purchase: Purchase,
}

fn by_rate(value: serde_json::Value) -> ApiResult<Vec<RateTotal>> {
    serde_json::from_value(value).map_err(ApiError::internal)
}

/// Issued invoices whose tax point or any payment falls in `from..=to`, and credit notes issued
/// in it; every payment of each invoice comes with it (cash accounting apportions by them).
pub async fn sales(
    conn: &mut Conn,
    workspace: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<SaleDoc>> {
    let paid_in_period = pay::table
        .filter(pay::workspace_id.eq(workspace))
        .filter(pay::paid_on.between(from, to))
        .select(pay::invoice_id);
    type InvoiceRow = (
        Uuid,
        Option<String>,
        Option<NaiveDate>,
        bool,
        serde_json::Value,
        i64,
        i64,
    );
    let invoices: Vec<InvoiceRow> = inv::table
        .filter(inv::workspace_id.eq(workspace))
        .filter(inv::status.eq_any(["issued", "partly_paid", "paid"]))
        .filter(
            inv::tax_point
                .between(from, to)
                .or(inv::id.eq_any(paid_in_period)),
        )
        .order((inv::tax_point, inv::id))
        .select((
            inv::id,
            inv::number,
            inv::tax_point,
            inv::vat_registered,
            inv::by_rate,
            inv::total_pence,
            inv::net_pence,
        ))
        .load(conn)
        .await?;
    let ids: Vec<Uuid> = invoices.iter().map(|i| i.0).collect();
    let payments: Vec<(Uuid, NaiveDate, i64)> = pay::table
        .filter(pay::workspace_id.eq(workspace))
        .filter(pay::invoice_id.eq_any(&ids))
        .order((pay::paid_on, pay::id))
        .select((pay::invoice_id, pay::paid_on, pay::amount_pence))
        .load(conn)
        .await?;
    let mut out = Vec::with_capacity(invoices.len());
    for (id, number, tax_point, vat_registered, rates, total, net) in invoices {
        let Some(tax_point) = tax_point else { continue };
        out.push(SaleDoc {
            id,
            number: number.unwrap_or_default(),
            net_pence: net,
            vat_registered,
            sale: Sale {
                kind: SaleKind::Invoice,
                tax_point,
                by_rate: by_rate(rates)?,
                total_pence: total,
                ni_eu_goods: false,
                payments: payments
                    .iter()
                    .filter(|p| p.0 == id)
                    .map(|p| (p.1, p.2))
                    .collect(),
            },
        });
    }
    let notes: Vec<(Uuid, String, NaiveDate, bool, serde_json::Value, i64, i64)> = cn::table
        .filter(cn::workspace_id.eq(workspace))
        .filter(cn::credit_date.between(from, to))
        .order((cn::credit_date, cn::id))
        .select((
            cn::id,
            cn::number,
            cn::credit_date,
            cn::vat_registered,
            cn::by_rate,
            cn::total_pence,
            cn::net_pence,
        ))
        .load(conn)
        .await?;
    for (id, number, date, vat_registered, rates, total, net) in notes {
        out.push(SaleDoc {
            id,
            number,
            net_pence: net,
            vat_registered,
            sale: Sale {
                kind: SaleKind::CreditNote,
                tax_point: date,
                by_rate: by_rate(rates)?,
                total_pence: total,
                ni_eu_goods: false,
                payments: Vec::new(),
            },
        });
    }
    Ok(out)
}

/// Expenses spent or paid in `from..=to`.
pub async fn expenses(
    conn: &mut Conn,
    workspace: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<ExpenseDoc>> {
    Ok(expenses::in_period(conn, workspace, from, to)
        .await?
        .into_iter()
        .map(|r| ExpenseDoc {
            id: r.id,
            category: Category::parse(&r.category).unwrap_or(Category::Other),
            supplier: r.supplier,
            purchase: Purchase {
                date: r.spent_on,
                paid_on: r.paid_on,
                net_pence: r.net_pence,
                vat_pence: r.vat_pence,
                vat_reclaimable: r.vat_reclaimable,
                ni_eu_goods_acquisition: r.ni_eu_acquisition,
                capital_item: r.capital_item,
                relevant_goods: r.relevant_goods,
                gross_pence: r.net_pence + r.vat_pence,
            },
        })
        .collect())
}
