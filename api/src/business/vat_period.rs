//! What the VAT return and the Flat Rate Scheme share: the period a return covers, why one
//! cannot be computed, and the one rounding rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a return cannot be computed: each is a client error (422), never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VatReturnError {
    #[error("the period ends before it starts")]
    PeriodEndsBeforeStart,
    #[error("sale {index}: {problem}")]
    InvalidSale { index: usize, problem: &'static str },
    #[error("purchase {index}: {problem}")]
    InvalidPurchase { index: usize, problem: &'static str },
    #[error("unknown flat rate sector \"{id}\"")]
    UnknownSector { id: String },
    #[error("a flat rate percentage is between 0 and 100 % (0 to 10,000 basis points)")]
    FlatRateOutOfRange,
    #[error("{what} is too large for a VAT return")]
    TooLarge { what: &'static str },
}

/// The period a return covers, as HMRC's obligations list gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Period {
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
    pub period_key: String,
    /// The trader's declaration that the return is complete; HMRC rejects a submission without
    /// it, but a draft is computed with it false.
    pub finalised: bool,
}

impl Period {
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.start..=self.end).contains(&date)
    }
}

/// `n / d` rounded to the nearest integer, halves away from zero: half-up, as HMRC rounds, for
/// the non-negative amounts, and symmetric for credits so a credit note reverses exactly what
/// the same invoice added. `d` is positive. The one rounding rule of the VAT return.
pub(crate) fn round_div(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d {
        q + n.signum()
    } else {
        q
    }
}
