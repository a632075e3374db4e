//! The facts `POST /v1/invoices/{id}/validate` checks: an issued invoice as it was issued, a
//! draft as it would be issued today (with today's profile and client).

use chrono::NaiveDate;

use super::{
    clients,
    invoices::{self, Row},
    money::VatRate,
    parties::Party,
    profile, render,
    tax_point::tax_point,
    validate::{FactLine, InvoiceFacts, InvoiceForm},
};
use crate::{db::pool::Conn, http::problem::ApiResult, secrets::KeyRing};

fn rate_name(rate: VatRate) -> String {
    serde_json::to_value(rate)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub async fn facts(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    row: &Row,
    today: NaiveDate,
) -> ApiResult<InvoiceFacts> {
    let out = invoices::output(row.clone(), today);
    let (supplier, customer) = if row.status == "draft" {
        let supplier = profile::issuer(conn, keys, row.workspace_id)
            .await?
            .map(|i| i.party)
            .unwrap_or_default();
        let customer = clients::customer(conn, row.workspace_id, row.client_id)
            .await?
            .map(|c| c.party)
            .unwrap_or_default();
        (supplier, customer)
    } else {
        (
            out.supplier.clone().unwrap_or_default(),
            out.customer.clone().unwrap_or_default(),
        )
    };
    let invoice_date = row.invoice_date.unwrap_or(today);
    let Party {
        name: supplier_name,
        address_lines: supplier_address,
        vat_number: supplier_vrn,
        ..
    } = supplier;
    Ok(InvoiceFacts {
        form: match row.form.as_str() {
            "simplified" => InvoiceForm::Simplified,
            "modified" => InvoiceForm::Modified,
            _ => InvoiceForm::Full,
        },
        vat_registered: row.vat_registered,
        number: row.number.clone(),
        // Numbers come only from the gap-free sequence, unique per business by a constraint.
        number_unique_and_sequential: row.sequence_number.is_some(),
        invoice_date: Some(invoice_date),
        tax_point: Some(
            row.tax_point
                .unwrap_or_else(|| tax_point(row.supply_date, invoice_date)),
        ),
        supply_date: row.supply_date,
        supplier_name,
        supplier_address,
        supplier_vrn,
        customer_name: Some(customer.name).filter(|n| !n.is_empty()),
        customer_address: customer.address_lines,
        customer_vrn: customer.vat_number,
        lines: out
            .lines
            .iter()
            .map(|l| FactLine {
                description: l.description.clone(),
                quantity: Some(String::from(l.quantity)),
                unit_price_pence_text: Some(render::unit_price(l.unit_price)),
                vat_rate: l.vat_rate.map(rate_name),
                net_pence: l.net_pence,
                vat_pence: l.vat_pence,
            })
            .collect(),
        net_total_pence: row.net_pence,
        vat_total_pence: row.vat_pence,
        gross_total_pence: row.total_pence,
        currency: "GBP".to_owned(),
        // Every document with a reverse-charge line carries the wording (`render::document`).
        reverse_charge_wording: out.reverse_charge,
    })
}
