//! What every document of the business (invoice, credit note, quote, recurring invoice) is made
//! of: lines priced by the one totals function (`money::totals`) and the totals they add up to.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::{self, MoneyError, Quantity, RateTotal, Totals, UnitPrice, VatRate};
use crate::{
    common::fields,
    http::problem::{ApiError, ApiResult, FieldError},
};

/// The words HMRC asks a reverse-charge invoice to carry (VAT Notice 735 §5.2 and the VAT
/// domestic reverse charge technical guide).
pub const REVERSE_CHARGE_WORDING: &str = "Reverse charge: customer to pay the VAT to HMRC";

/// A line as a document holds it, with its figures from the one totals function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DocumentLine {
    #[schema(example = "Fit kitchen units")]
    pub description: String,
    pub quantity: Quantity,
    /// In pounds, excluding VAT unless `price_includes_vat`.
    pub unit_price: UnitPrice,
    /// Absent when the business is not VAT registered.
    pub vat_rate: Option<VatRate>,
    pub price_includes_vat: bool,
    #[schema(example = 45000)]
    pub net_pence: i64,
    /// VAT of the line; on a reverse-charge line, shown but not charged.
    #[schema(example = 9000)]
    pub vat_pence: i64,
}

/// A line to price.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    #[schema(example = "Fit kitchen units")]
    pub description: String,
    /// Default 1.
    pub quantity: Option<Quantity>,
    pub unit_price: UnitPrice,
    /// Required when the business is VAT registered; must be absent when it is not.
    pub vat_rate: Option<VatRate>,
    /// The unit price includes VAT (entry of a VAT-inclusive price).
    #[serde(default)]
    pub price_includes_vat: bool,
}

impl From<&DocumentLine> for LineInput {
    fn from(l: &DocumentLine) -> Self {
        Self {
            description: l.description.clone(),
            quantity: Some(l.quantity),
            unit_price: l.unit_price,
            vat_rate: l.vat_rate,
            price_includes_vat: l.price_includes_vat,
        }
    }
}

/// Every figure of a document, in pence.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DocumentTotals {
    #[schema(example = 45000)]
    pub net_pence: i64,
    /// VAT charged.
    #[schema(example = 9000)]
    pub vat_pence: i64,
    /// VAT on reverse-charge lines: shown, for the customer to account for; not charged.
    pub reverse_charge_vat_pence: i64,
    /// Net plus VAT charged.
    #[schema(example = 54000)]
    pub total_pence: i64,
    /// Net and VAT per rate used.
    pub by_rate: Vec<RateTotal>,
}

pub fn lines_of(row_lines: &serde_json::Value) -> Vec<DocumentLine> {
    // Written only by this module from `DocumentLine`s, so it always reads back.
    serde_json::from_value(row_lines.clone()).unwrap_or_default()
}

/// A money error as the field it is about.
pub fn money_error(e: MoneyError) -> ApiError {
    let field = match &e {
        MoneyError::MissingVatRate { line }
        | MoneyError::VatWhenNotRegistered { line }
        | MoneyError::CreditRateNotOnInvoice { line } => format!("lines[{line}].vat_rate"),
        MoneyError::InclusiveReverseCharge { line } => format!("lines[{line}].price_includes_vat"),
        _ => "lines".to_owned(),
    };
    ApiError::field(&field, e.to_string())
}

/// Lines priced by the one totals function, with their descriptions checked.
pub fn price(
    inputs: &[LineInput],
    vat_registered: bool,
    errors: &mut Vec<FieldError>,
) -> ApiResult<(Vec<DocumentLine>, Totals)> {
    let descriptions: Vec<String> = inputs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            fields::title(
                &format!("lines[{i}].description"),
                &l.description,
                1000,
                errors,
            )
        })
        .collect();
    let one = Quantity::from_ten_thousandths(money::SCALE as i64).map_err(money_error)?;
    let priced: Vec<money::Line> = inputs
        .iter()
        .map(|l| money::Line {
            quantity: l.quantity.unwrap_or(one),
            unit_price: l.unit_price,
            vat_rate: l.vat_rate,
            price_includes_vat: l.price_includes_vat,
        })
        .collect();
    let totals = match money::totals(&priced, vat_registered) {
        Ok(totals) => totals,
        // Reported with the other fields' errors; the lines priced as nothing meanwhile.
        Err(e) => {
            errors.extend(money_error(e).errors);
            money::totals(&[], vat_registered).map_err(money_error)?
        }
    };
    if totals.lines.len() != priced.len() {
        return Ok((Vec::new(), totals));
    }
    let lines = descriptions
        .into_iter()
        .zip(&priced)
        .zip(&totals.lines)
        .map(|((description, l), t)| DocumentLine {
            description,
            quantity: l.quantity,
            unit_price: l.unit_price,
            vat_rate: l.vat_rate,
            price_includes_vat: l.price_includes_vat,
            net_pence: t.net,
            vat_pence: t.vat,
        })
        .collect();
    Ok((lines, totals))
}
