//! The business of a sole trader: its profile (`/v1/business/profile`), its clients
//! (`/v1/clients`), the jobs done for them (`/v1/business-jobs`), and invoicing: invoices,
//! payments, credit notes and their PDFs (`invoice_routes`), quotes the client answers through a
//! link (`quote_routes`), invoices on a schedule (`recurring_routes`), and card payments through the
//! business's own Stripe account (`stripe_routes`). Available on every plan.
//! `money` is the one place pence, VAT and credit are computed; `vat_number` checks UK VAT
//! numbers' check digits and bank details; `validate` holds HMRC's invoice rules.

pub mod bank;
pub mod bank_matching;
pub mod bank_routes;
mod checks;
pub mod clients;
pub mod credit_notes;
pub mod documents;
pub mod expense_routes;
pub mod expenses;
pub mod flat_rate;
pub mod invoice_routes;
pub mod invoices;
pub mod jobs;
pub mod ledger;
pub mod lines;
pub mod logo;
pub mod mailing;
pub mod money;
mod numbering;
pub mod parties;
pub mod payments;
pub mod pdf;
pub mod profile;
pub mod profit;
pub mod quote_routes;
pub mod quotes;
pub mod recurring;
pub mod recurring_routes;
mod render;
pub mod report_routes;
pub mod routes;
pub mod statements;
pub mod stripe;
pub mod stripe_account;
pub mod stripe_routes;
pub mod tax_point;
pub mod validate;
pub mod vat;
pub mod vat_number;
pub mod vat_period;
pub mod vat_return;

use crate::http::problem::FieldError;

/// A UK VAT registration number as stored: its canonical form (`GB980780684`), checked by
/// format and check digits ([`vat_number::normalise_vat_number`]).
fn vrn(field: &str, raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw?;
    match vat_number::normalise_vat_number(&raw) {
        Ok(vrn) => Some(vrn),
        Err(e) => {
            errors.push(FieldError {
                field: field.into(),
                message: e.to_string(),
            });
            Some(raw)
        }
    }
}
