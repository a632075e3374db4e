//! The business of a sole trader: its profile (`/v1/business/profile`), its clients
//! (`/v1/clients`) and the jobs done for them (`/v1/business-jobs`). Available on every plan.
//! `money` is the one place pence, VAT and credit are computed; `vat_number` checks UK VAT
//! numbers' check digits and bank details.

pub mod clients;
pub mod jobs;
pub mod money;
pub mod profile;
pub mod routes;
pub mod vat_number;

use crate::http::problem::FieldError;

/// A UK VAT registration number as stored: nine digits, read from an optional `GB` prefix and
/// any spaces. Checks the format only.
fn vrn(field: &str, raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw?;
    let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact
        .strip_prefix("GB")
        .or_else(|| compact.strip_prefix("gb"))
        .unwrap_or(&compact);
    if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError {
            field: field.into(),
            message: "must be a UK VAT number: 9 digits, optionally after GB".into(),
        });
    }
    Some(digits.to_owned())
}
