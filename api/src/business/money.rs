//! Money and UK VAT arithmetic for invoices, quotes and credit notes: pure, no I/O.
//!
//! Every figure that leaves this module is an `i64` number of pence. Quantities and unit prices
//! are exact decimals with at most four places, held as fixed-point integers (ten-thousandths)
//! rather than `rust_decimal`: four places cover every price and quantity a sole trader writes
//! (0.5 hours, £0.125 a sheet), the bounds below keep every product inside `i128` and every total
//! inside `i64`, a value is stored as a plain BIGINT, and the only rounding is the one written
//! here (half-up), not a choice among a library's strategies.
//!
//! One function, [`totals`], produces every figure an invoice shows (API, PDF and VAT return),
//! so the three can never disagree by a penny.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Ten-thousandths: the fixed-point scale of quantities and unit prices.
pub const SCALE: i128 = 10_000;
/// Largest quantity on a line: 1,000,000 units.
pub const MAX_QUANTITY: i64 = 1_000_000 * SCALE as i64;
/// Largest unit price: £10,000,000.
pub const MAX_UNIT_PRICE: i64 = 10_000_000 * SCALE as i64;
/// Most lines on one document. With the two bounds above a line is at most 10^15 pence, so
/// 1,000 lines plus 20 % VAT stay below 1.2 × 10^18, well inside `i64` (9.2 × 10^18).
pub const MAX_LINES: usize = 1_000;
/// Largest fee a commission is taken from: the largest line.
pub const MAX_FEE: i64 = 1_000_000_000_000_000;
/// Reg 16A of the VAT Regulations 1995: a simplified invoice is allowed up to £250 incl. VAT.
pub const SIMPLIFIED_INVOICE_LIMIT: i64 = 25_000;

/// Why a set of lines, a credit note or a commission cannot be computed; each is a client
/// error (422), never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{what} must be a decimal with at most 4 places, like \"19.99\"")]
    InvalidDecimal { what: &'static str },
    #[error("{what} is out of bounds")]
    OutOfBounds { what: &'static str },
    #[error("a document has at most {MAX_LINES} lines")]
    TooManyLines,
    #[error("line {line} needs a VAT rate: the business is VAT registered")]
    MissingVatRate { line: usize },
    #[error("line {line} names VAT but the business is not VAT registered")]
    VatWhenNotRegistered { line: usize },
    #[error("line {line}: a reverse-charge price is net, it cannot include VAT")]
    InclusiveReverseCharge { line: usize },
    #[error("line {line}: a credit note credits at the invoice's own VAT rates")]
    CreditRateNotOnInvoice { line: usize },
    #[error("the credit note ({requested} pence) exceeds what is left to credit ({room} pence)")]
    CreditExceedsRoom { room: i64, requested: i64 },
}

/// Parses a non-negative decimal with at most four places into ten-thousandths. Only strings:
/// a JSON number would already have been through a float.
fn parse_fixed(s: &str, max: i64, what: &'static str) -> Result<i64, MoneyError> {
    let invalid = MoneyError::InvalidDecimal { what };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > 4 || s.ends_with('.') {
        return Err(invalid);
    }
    // Beyond 12 integer digits every value is out of bounds; stopping here keeps the sum small.
    if int.trim_start_matches('0').len() > 12 {
        return Err(MoneyError::OutOfBounds { what });
    }
    let int: i64 = int.parse().map_err(|_| invalid.clone())?;
    let frac: i64 = format!("{frac:0<4}").parse().map_err(|_| invalid)?;
    let value = int * SCALE as i64 + frac;
    if value > max {
        return Err(MoneyError::OutOfBounds { what });
    }
    Ok(value)
}

fn format_fixed(v: i64) -> String {
    let (int, frac) = (v / SCALE as i64, v % SCALE as i64);
    if frac == 0 {
        int.to_string()
    } else {
        format!("{int}.{}", format!("{frac:04}").trim_end_matches('0'))
    }
}

/// A quantity: a decimal string with at most 4 places, 0 to 1,000,000 (e.g. "1.5" hours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "1.5")]
pub struct Quantity(i64);

/// A unit price in pounds: a decimal string with at most 4 places, £0 to £10,000,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "19.99")]
pub struct UnitPrice(i64);

impl Quantity {
    pub fn from_ten_thousandths(v: i64) -> Result<Self, MoneyError> {
        (0..=MAX_QUANTITY)
            .contains(&v)
            .then_some(Self(v))
            .ok_or(MoneyError::OutOfBounds { what: "quantity" })
    }
}

impl UnitPrice {
    /// A price in ten-thousandths of a pound (hundredths of a penny).
    pub fn from_ten_thousandths(v: i64) -> Result<Self, MoneyError> {
        (0..=MAX_UNIT_PRICE)
            .contains(&v)
            .then_some(Self(v))
            .ok_or(MoneyError::OutOfBounds { what: "unit price" })
    }
}

impl std::str::FromStr for Quantity {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        parse_fixed(s, MAX_QUANTITY, "quantity").map(Self)
    }
}

impl std::str::FromStr for UnitPrice {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, MoneyError> {
        parse_fixed(s, MAX_UNIT_PRICE, "unit price").map(Self)
    }
}

impl TryFrom<String> for Quantity {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        s.parse()
    }
}

impl TryFrom<String> for UnitPrice {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, MoneyError> {
        s.parse()
    }
}

impl From<Quantity> for String {
    fn from(q: Quantity) -> String {
        format_fixed(q.0)
    }
}

impl From<UnitPrice> for String {
    fn from(p: UnitPrice) -> String {
        format_fixed(p.0)
    }
}

/// The VAT treatment of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VatRate {
    /// 20 %.
    Standard,
    /// 5 %.
    Reduced,
    /// 0 %: a taxable supply at nil rate.
    Zero,
    /// No VAT: an exempt supply.
    Exempt,
    /// No VAT: not a supply within the scope of UK VAT.
    OutsideScope,
    /// Domestic reverse charge for construction services (CIS): 20 % is shown with the words
    /// "Reverse charge: customer to pay the VAT to HMRC" but not charged, because the customer
    /// accounts for it.
    ReverseCharge,
}

impl VatRate {
    /// Rates in the order the per-rate breakdown lists them.
    pub const ALL: [VatRate; 6] = [
        VatRate::Standard,
        VatRate::Reduced,
        VatRate::Zero,
        VatRate::Exempt,
        VatRate::OutsideScope,
        VatRate::ReverseCharge,
    ];

    pub const fn basis_points(self) -> i64 {
        match self {
            VatRate::Standard | VatRate::ReverseCharge => 2_000,
            VatRate::Reduced => 500,
            VatRate::Zero | VatRate::Exempt | VatRate::OutsideScope => 0,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One priced line. A description and the like belong to the document, not to the arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub quantity: Quantity,
    pub unit_price: UnitPrice,
    /// Required when the business is VAT registered; must be absent when it is not.
    #[serde(default)]
    pub vat_rate: Option<VatRate>,
    /// The unit price includes VAT ("VAT-inclusive" entry): net and VAT are derived from it.
    #[serde(default)]
    pub price_includes_vat: bool,
}

/// The figures of one line, in pence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct LineTotal {
    pub net: i64,
    /// VAT on the line; for a reverse-charge line, the VAT shown but not charged.
    pub vat: i64,
}

/// Net and VAT of all lines at one rate, as the PDF's VAT summary and the VAT return need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RateTotal {
    pub rate: VatRate,
    pub net: i64,
    /// For reverse charge: shown, not charged.
    pub vat: i64,
}

/// Every figure of a document, in pence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    /// One entry per input line, in order.
    pub lines: Vec<LineTotal>,
    pub net: i64,
    /// VAT charged (reverse-charge VAT excluded).
    pub vat: i64,
    /// VAT shown on reverse-charge lines, for the customer to account for; not in `amount_due`.
    pub reverse_charge_vat: i64,
    /// Gross: `net + vat`.
    pub amount_due: i64,
    /// The rates used, in [`VatRate::ALL`] order; empty when the business is not VAT registered
    /// (its invoices show no rate at all).
    pub by_rate: Vec<RateTotal>,
    /// A simplified VAT invoice is allowed (reg 16A: at most £250 incl. VAT). False when not
    /// registered (only a registered business issues VAT invoices) and, as a deliberate
    /// caution, when any line is reverse charge: the customer accounts for that VAT from the
    /// invoice, so it gets every detail a full invoice carries.
    pub simplified_invoice_allowed: bool,
}

/// `n / d` rounded to the nearest integer, halves away from zero ("half up" for the
/// non-negative amounts here, as HMRC rounds). `d` is positive.
fn div_round_half_up(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d {
        q + n.signum()
    } else {
        q
    }
}

/// One line's net and VAT in pence.
///
/// Net = quantity × unit price rounded half-up to the penny. VAT is then worked out per line
/// and rounded half-up to the nearest penny, and the invoice VAT is the sum of the lines' VAT:
/// HMRC permits VAT to be calculated at line level and rounded to the nearest penny (VAT Notice
/// 700 §16.2 and §16.3; numbered §17.5 in older editions, as HMRC's manual VATREC12010 cites
/// it; VATREC12030: below half a penny down, half a penny or more up). Rounding line VAT down
/// is also allowed but never taken here, so one rule serves every line and every document.
///
/// A VAT-inclusive line is rounded once, as a gross: gross = quantity × inclusive price
/// rounded half-up; VAT = the VAT fraction of that gross (rate / (1 + rate), e.g. 1/6 at 20 %)
/// rounded half-up; net = gross − VAT. So net + VAT equals the inclusive amount exactly and the
/// VAT is within half a penny of the exact VAT fraction.
fn line_total(line: &Line, vat_registered: bool, index: usize) -> Result<LineTotal, MoneyError> {
    // ten-thousandths × ten-thousandths of a pound = 10^-8 pounds = 10^-6 pence.
    let amount = div_round_half_up(
        i128::from(line.quantity.0) * i128::from(line.unit_price.0),
        1_000_000,
    );
    // At most 10^15 pence by the bounds on quantity and price.
    let amount = i64::try_from(amount).map_err(|_| MoneyError::OutOfBounds { what: "line" })?;
    if !vat_registered {
        // An error, not a silent drop: a trader who typed "incl. VAT" or a rate expects VAT on
        // the invoice, and an unregistered business must not show any.
        if line.vat_rate.is_some() || line.price_includes_vat {
            return Err(MoneyError::VatWhenNotRegistered { line: index });
        }
        return Ok(LineTotal {
            net: amount,
            vat: 0,
        });
    }
    let rate = line
        .vat_rate
        .ok_or(MoneyError::MissingVatRate { line: index })?;
    let bp = i128::from(rate.basis_points());
    if line.price_includes_vat {
        if rate == VatRate::ReverseCharge {
            return Err(MoneyError::InclusiveReverseCharge { line: index });
        }
        let vat = div_round_half_up(i128::from(amount) * bp, 10_000 + bp) as i64;
        Ok(LineTotal {
            net: amount - vat,
            vat,
        })
    } else {
        let vat = div_round_half_up(i128::from(amount) * bp, 10_000) as i64;
        Ok(LineTotal { net: amount, vat })
    }
}

/// The totals of a document's lines: the one place any figure of an invoice, quote or credit
/// note is computed. See [`line_total`] for the rounding; the invoice VAT is the sum of the
/// lines' VAT, never recomputed from the net total.
pub fn totals(lines: &[Line], vat_registered: bool) -> Result<Totals, MoneyError> {
    if lines.len() > MAX_LINES {
        return Err(MoneyError::TooManyLines);
    }
    let mut per_rate = [(0i64, 0i64, false); VatRate::ALL.len()];
    let mut out = Totals {
        lines: Vec::with_capacity(lines.len()),
        net: 0,
        vat: 0,
        reverse_charge_vat: 0,
        amount_due: 0,
        by_rate: Vec::new(),
        simplified_invoice_allowed: false,
    };
    // No overflow: MAX_LINES lines of at most 10^15 pence plus VAT stay below 1.2 × 10^18.
    for (i, line) in lines.iter().enumerate() {
        let t = line_total(line, vat_registered, i)?;
        out.net += t.net;
        if line.vat_rate == Some(VatRate::ReverseCharge) {
            out.reverse_charge_vat += t.vat;
        } else {
            out.vat += t.vat;
        }
        if let Some(rate) = line.vat_rate {
            let slot = &mut per_rate[rate.index()];
            *slot = (slot.0 + t.net, slot.1 + t.vat, true);
        }
        out.lines.push(t);
    }
    out.amount_due = out.net + out.vat;
    out.by_rate = VatRate::ALL
        .into_iter()
        .zip(per_rate)
        .filter(|(_, (_, _, used))| *used)
        .map(|(rate, (net, vat, _))| RateTotal { rate, net, vat })
        .collect();
    out.simplified_invoice_allowed = vat_registered
        && !per_rate[VatRate::ReverseCharge.index()].2
        && out.amount_due <= SIMPLIFIED_INVOICE_LIMIT;
    Ok(out)
}

/// What is left to credit on an invoice: its amount due less the credit notes already issued,
/// never negative.
pub fn credit_room(invoice_total: i64, credits_so_far: i64) -> i64 {
    invoice_total.saturating_sub(credits_so_far).max(0)
}

/// The totals of a credit note against `invoice`, refused when a line uses a rate the invoice
/// did not (a credit reverses VAT at the rate it was charged) or when its amount due exceeds
/// [`credit_room`]. `vat_registered` is the invoice's status, not today's.
pub fn credit_note_totals(
    invoice: &Totals,
    credits_so_far: i64,
    note_lines: &[Line],
    vat_registered: bool,
) -> Result<Totals, MoneyError> {
    for (i, line) in note_lines.iter().enumerate() {
        if let Some(rate) = line.vat_rate {
            if !invoice.by_rate.iter().any(|r| r.rate == rate) {
                return Err(MoneyError::CreditRateNotOnInvoice { line: i });
            }
        }
    }
    let note = totals(note_lines, vat_registered)?;
    let room = credit_room(invoice.amount_due, credits_so_far);
    if note.amount_due > room {
        return Err(MoneyError::CreditExceedsRoom {
            room,
            requested: note.amount_due,
        });
    }
    Ok(note)
}

/// What the customer still owes; negative when they have overpaid (a refund is due).
pub fn balance(amount_due: i64, payments: i64, credits: i64) -> i64 {
    amount_due.saturating_sub(payments).saturating_sub(credits)
}

/// An agency's commission on a job's fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Commission {
    /// A share of the fee: 1,500 basis points = 15 %; at most 10,000.
    BasisPoints { basis_points: i64 },
    /// A fixed amount in pence, at most the fee.
    Fixed { pence: i64 },
}

/// The commission on `fee` pence, rounded half-up to the penny.
pub fn commission(fee: i64, commission: Commission) -> Result<i64, MoneyError> {
    if !(0..=MAX_FEE).contains(&fee) {
        return Err(MoneyError::OutOfBounds { what: "fee" });
    }
    match commission {
        Commission::BasisPoints { basis_points } if (0..=10_000).contains(&basis_points) => {
            Ok(div_round_half_up(i128::from(fee) * i128::from(basis_points), 10_000) as i64)
        }
        Commission::Fixed { pence } if (0..=fee).contains(&pence) => Ok(pence),
        _ => Err(MoneyError::OutOfBounds { what: "commission" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(q: &str, p: &str, rate: Option<VatRate>) -> Line {
        Line {
            quantity: q.parse().unwrap(),
            unit_price: p.parse().unwrap(),
            vat_rate: rate,
            price_includes_vat: false,
        }
    }

    fn inclusive(q: &str, p: &str, rate: VatRate) -> Line {
        Line {
            price_includes_vat: true,
            ..line(q, p, Some(rate))
        }
    }

    #[test]
    fn three_at_19_99_standard_rate() {
        // 3 × £19.99 = £59.97; 20 % = £11.994 → £11.99.
        let t = totals(&[line("3", "19.99", Some(VatRate::Standard))], true).unwrap();
        assert_eq!((t.net, t.vat, t.amount_due), (5_997, 1_199, 7_196));
        assert_eq!(
            t.by_rate,
            vec![RateTotal {
                rate: VatRate::Standard,
                net: 5_997,
                vat: 1_199
            }]
        );
        assert!(t.simplified_invoice_allowed);
    }

    #[test]
    fn vat_is_rounded_per_line_half_up_and_summed() {
        // Each line: £0.125 → 13p net (half up); 20 % of 13p = 2.6p → 3p. Three lines: 39p net,
        // 9p VAT, where VAT on the 39p net total would have been 7.8p → 8p.
        let l = line("1", "0.125", Some(VatRate::Standard));
        let t = totals(&[l.clone(), l.clone(), l], true).unwrap();
        assert_eq!((t.net, t.vat), (39, 9));
        // 5 % of 10p = 0.5p rounds up to 1p.
        let t = totals(&[line("1", "0.10", Some(VatRate::Reduced))], true).unwrap();
        assert_eq!(t.vat, 1);
    }

    #[test]
    fn mixed_rates_break_down_in_a_fixed_order() {
        let t = totals(
            &[
                line("2", "100", Some(VatRate::Zero)),
                line("1.5", "40", Some(VatRate::Standard)),
                line("1", "10", Some(VatRate::Reduced)),
                line("1", "5", Some(VatRate::Exempt)),
                line("1", "3", Some(VatRate::OutsideScope)),
                line("1", "7", Some(VatRate::Standard)),
            ],
            true,
        )
        .unwrap();
        let rates: Vec<_> = t.by_rate.iter().map(|r| (r.rate, r.net, r.vat)).collect();
        assert_eq!(
            rates,
            vec![
                (VatRate::Standard, 6_700, 1_340),
                (VatRate::Reduced, 1_000, 50),
                (VatRate::Zero, 20_000, 0),
                (VatRate::Exempt, 500, 0),
                (VatRate::OutsideScope, 300, 0),
            ]
        );
        assert_eq!((t.net, t.vat, t.amount_due), (28_500, 1_390, 29_890));
        assert!(!t.simplified_invoice_allowed, "over £250");
    }

    #[test]
    fn reverse_charge_is_shown_not_charged() {
        let t = totals(
            &[
                line("10", "150", Some(VatRate::ReverseCharge)),
                line("1", "20", Some(VatRate::Standard)),
            ],
            true,
        )
        .unwrap();
        assert_eq!(t.reverse_charge_vat, 30_000);
        assert_eq!((t.net, t.vat, t.amount_due), (152_000, 400, 152_400));
        assert_eq!(
            t.lines[0],
            LineTotal {
                net: 150_000,
                vat: 30_000
            }
        );
        let small = totals(&[line("1", "1", Some(VatRate::ReverseCharge))], true).unwrap();
        assert!(!small.simplified_invoice_allowed);
        assert_eq!(
            totals(&[inclusive("1", "120", VatRate::ReverseCharge)], true),
            Err(MoneyError::InclusiveReverseCharge { line: 0 })
        );
    }

    #[test]
    fn not_registered_means_no_vat_and_naming_a_rate_is_an_error() {
        let t = totals(&[line("3", "19.99", None)], false).unwrap();
        assert_eq!((t.net, t.vat, t.amount_due), (5_997, 0, 5_997));
        assert!(t.by_rate.is_empty());
        assert!(!t.simplified_invoice_allowed);
        assert_eq!(
            totals(
                &[line("1", "1", None), line("1", "1", Some(VatRate::Zero))],
                false
            ),
            Err(MoneyError::VatWhenNotRegistered { line: 1 })
        );
        let mut incl = line("1", "1", None);
        incl.price_includes_vat = true;
        assert_eq!(
            totals(&[incl], false),
            Err(MoneyError::VatWhenNotRegistered { line: 0 })
        );
        assert_eq!(
            totals(&[line("1", "1", None)], true),
            Err(MoneyError::MissingVatRate { line: 0 })
        );
    }

    #[test]
    fn vat_inclusive_lines_split_exactly() {
        // £120 incl. 20 %: VAT fraction 1/6 → £20, net £100.
        let t = totals(&[inclusive("1", "120", VatRate::Standard)], true).unwrap();
        assert_eq!((t.net, t.vat, t.amount_due), (10_000, 2_000, 12_000));
        // £9.99 incl.: 999/6 = 166.5p → 167p VAT, 832p net; the sum is still 999p.
        let t = totals(&[inclusive("1", "9.99", VatRate::Standard)], true).unwrap();
        assert_eq!((t.net, t.vat, t.amount_due), (832, 167, 999));
        // £10.50 incl. 5 %: 1050/21 = 50p VAT.
        let t = totals(&[inclusive("1", "10.50", VatRate::Reduced)], true).unwrap();
        assert_eq!((t.net, t.vat), (1_000, 50));
        let t = totals(&[inclusive("2", "10", VatRate::Exempt)], true).unwrap();
        assert_eq!((t.net, t.vat), (2_000, 0));
    }

    #[test]
    fn simplified_invoice_limit_is_inclusive_of_vat() {
        let at = totals(&[line("1", "208.33", Some(VatRate::Standard))], true).unwrap();
        assert_eq!(at.amount_due, 25_000);
        assert!(at.simplified_invoice_allowed);
        let over = totals(&[line("1", "208.34", Some(VatRate::Standard))], true).unwrap();
        assert_eq!(over.amount_due, 25_001);
        assert!(!over.simplified_invoice_allowed);
    }

    #[test]
    fn decimals_parse_strictly_and_print_canonically() {
        for ok in ["0", "1", "1.5", "19.99", "0.0001", "1000000", "007.50"] {
            let q: Quantity = ok.parse().unwrap();
            let back: Quantity = String::from(q).parse().unwrap();
            assert_eq!(q, back, "{ok}");
        }
        assert_eq!(String::from("007.50".parse::<UnitPrice>().unwrap()), "7.5");
        for bad in [
            "", ".5", "1.", "-1", "1e3", " 1", "1.23456", "1,5", "1.2.3", "+1",
        ] {
            assert_eq!(
                bad.parse::<Quantity>(),
                Err(MoneyError::InvalidDecimal { what: "quantity" }),
                "{bad:?}"
            );
        }
        assert!("1000000.0001".parse::<Quantity>().is_err());
        assert!("10000000".parse::<UnitPrice>().is_ok());
        assert!("10000000.0001".parse::<UnitPrice>().is_err());
        assert!("99999999999999999999999999".parse::<UnitPrice>().is_err());
        let json: Line = serde_json::from_str(
            r#"{"quantity":"3","unit_price":"19.99","vat_rate":"outside_scope"}"#,
        )
        .unwrap();
        assert_eq!(json.vat_rate, Some(VatRate::OutsideScope));
        assert!(serde_json::from_str::<Line>(r#"{"quantity":3,"unit_price":"1"}"#).is_err());
        assert!(
            serde_json::from_str::<Line>(r#"{"quantity":"3","unit_price":"1","vat":"20"}"#)
                .is_err()
        );
        let c: Commission =
            serde_json::from_str(r#"{"kind":"basis_points","basis_points":1500}"#).unwrap();
        assert_eq!(
            c,
            Commission::BasisPoints {
                basis_points: 1_500
            }
        );
        assert!(serde_json::from_str::<Commission>(r#"{"kind":"fixed","pence":1,"x":2}"#).is_err());
        assert_eq!(
            serde_json::to_value(VatRate::ReverseCharge).unwrap(),
            "reverse_charge"
        );
    }

    #[test]
    fn too_many_lines_is_an_error() {
        let lines = vec![line("1", "1", Some(VatRate::Zero)); MAX_LINES + 1];
        assert_eq!(totals(&lines, true), Err(MoneyError::TooManyLines));
    }

    #[test]
    fn credit_notes_stay_within_the_room() {
        let invoice = totals(&[line("3", "19.99", Some(VatRate::Standard))], true).unwrap();
        assert_eq!(credit_room(invoice.amount_due, 0), 7_196);
        let one = [line("1", "19.99", Some(VatRate::Standard))];
        let note = credit_note_totals(&invoice, 0, &one, true).unwrap();
        assert_eq!(note.amount_due, 2_399);
        assert_eq!(
            credit_note_totals(&invoice, 5_000, &one, true),
            Err(MoneyError::CreditExceedsRoom {
                room: 2_196,
                requested: 2_399
            })
        );
        assert_eq!(
            credit_note_totals(&invoice, 0, &[line("1", "1", Some(VatRate::Reduced))], true),
            Err(MoneyError::CreditRateNotOnInvoice { line: 0 })
        );
        assert_eq!(credit_room(100, 150), 0);
        assert_eq!(balance(7_196, 4_000, 2_399), 797);
        assert_eq!(balance(7_196, 7_196, 2_399), -2_399);
    }

    #[test]
    fn commission_rounds_half_up_and_is_bounded() {
        let bp = |basis_points| Commission::BasisPoints { basis_points };
        assert_eq!(commission(10_000, bp(1_500)), Ok(1_500));
        // 12.5 % of 4p = 0.5p → 1p.
        assert_eq!(commission(4, bp(1_250)), Ok(1));
        assert_eq!(commission(3, bp(1_250)), Ok(0));
        assert_eq!(commission(MAX_FEE, bp(10_000)), Ok(MAX_FEE));
        assert_eq!(commission(500, Commission::Fixed { pence: 200 }), Ok(200));
        for bad in [
            commission(500, Commission::Fixed { pence: 501 }),
            commission(500, Commission::Fixed { pence: -1 }),
            commission(500, bp(10_001)),
            commission(500, bp(-1)),
            commission(-1, bp(1)),
            commission(MAX_FEE + 1, bp(1)),
        ] {
            assert!(
                matches!(bad, Err(MoneyError::OutOfBounds { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_largest_document_does_not_overflow() {
        for rate in VatRate::ALL {
            for incl in [false, rate != VatRate::ReverseCharge] {
                let l = Line {
                    quantity: Quantity::from_ten_thousandths(MAX_QUANTITY).unwrap(),
                    unit_price: UnitPrice::from_ten_thousandths(MAX_UNIT_PRICE).unwrap(),
                    vat_rate: Some(rate),
                    price_includes_vat: incl,
                };
                let t = totals(&vec![l; MAX_LINES], true).unwrap();
                assert_eq!(t.net + t.vat, t.amount_due);
                assert_eq!(
                    t.net + t.vat + t.reverse_charge_vat,
                    t.lines.iter().map(|l| l.net + l.vat).sum::<i64>()
                );
            }
        }
        let biggest = line("1000000", "10000000", None);
        assert_eq!(
            totals(&vec![biggest; MAX_LINES], false).unwrap().net,
            MAX_LINES as i64 * MAX_FEE
        );
    }

    fn any_rate() -> impl Strategy<Value = VatRate> {
        proptest::sample::select(VatRate::ALL.to_vec())
    }

    /// Lines across the whole allowed range, biased towards the bounds.
    fn any_line(registered: bool) -> impl Strategy<Value = Line> {
        let q = prop_oneof![0..=100 * SCALE as i64, 0..=MAX_QUANTITY, Just(MAX_QUANTITY)];
        let p = prop_oneof![
            0..=1_000 * SCALE as i64,
            0..=MAX_UNIT_PRICE,
            Just(MAX_UNIT_PRICE)
        ];
        (q, p, any_rate(), any::<bool>()).prop_map(move |(q, p, rate, incl)| Line {
            quantity: Quantity::from_ten_thousandths(q).unwrap(),
            unit_price: UnitPrice::from_ten_thousandths(p).unwrap(),
            vat_rate: registered.then_some(rate),
            price_includes_vat: registered && incl && rate != VatRate::ReverseCharge,
        })
    }

    fn any_lines() -> impl Strategy<Value = (bool, Vec<Line>)> {
        any::<bool>().prop_flat_map(|reg| (Just(reg), prop::collection::vec(any_line(reg), 0..12)))
    }

    /// quantity × price in pence, exact, as a fraction over 10^6.
    fn exact_amount(l: &Line) -> i128 {
        i128::from(l.quantity.0) * i128::from(l.unit_price.0)
    }

    proptest! {
        #[test]
        fn totals_add_up((reg, lines) in any_lines()) {
            let t = totals(&lines, reg).unwrap();
            prop_assert_eq!(t.net + t.vat, t.amount_due);
            prop_assert_eq!(t.lines.iter().map(|l| l.net).sum::<i64>(), t.net);
            let rc: i64 = t.by_rate.iter().filter(|r| r.rate == VatRate::ReverseCharge).map(|r| r.vat).sum();
            let charged: i64 = t.by_rate.iter().filter(|r| r.rate != VatRate::ReverseCharge).map(|r| r.vat).sum();
            prop_assert_eq!(rc, t.reverse_charge_vat);
            if reg {
                prop_assert_eq!(t.by_rate.iter().map(|r| r.net).sum::<i64>(), t.net);
                prop_assert_eq!(charged, t.vat);
            } else {
                prop_assert!(t.by_rate.is_empty());
                prop_assert_eq!(t.vat + t.reverse_charge_vat, 0);
                prop_assert!(t.lines.iter().all(|l| l.vat == 0));
            }
            prop_assert_eq!(
                t.simplified_invoice_allowed,
                reg && t.amount_due <= SIMPLIFIED_INVOICE_LIMIT
                    && !lines.iter().any(|l| l.vat_rate == Some(VatRate::ReverseCharge))
            );
        }

        #[test]
        fn line_vat_is_within_half_a_penny_and_inclusive_lines_reconstruct(line in any_line(true)) {
            let t = totals(std::slice::from_ref(&line), true).unwrap();
            let lt = t.lines[0];
            let bp = i128::from(line.vat_rate.unwrap().basis_points());
            // Amounts in 10^-6 pence; VAT error bound: half a penny = 500,000.
            let exact = exact_amount(&line);
            if line.price_includes_vat {
                let gross = div_round_half_up(exact, 1_000_000);
                prop_assert_eq!(i128::from(lt.net + lt.vat), gross);
                // |vat - gross·r/(1+r)| ≤ ½p  ⇔  |vat·(1+r) - gross·r| ≤ ½·(1+r), in basis points.
                let err = (i128::from(lt.vat) * (10_000 + bp) - gross * bp).abs();
                prop_assert!(2 * err <= 10_000 + bp);
            } else {
                prop_assert!((i128::from(lt.net) * 1_000_000 - exact).abs() <= 500_000);
                let err = (i128::from(lt.vat) * 10_000 - i128::from(lt.net) * bp).abs();
                prop_assert!(2 * err <= 10_000);
            }
        }

        #[test]
        fn reverse_charge_never_adds_to_the_amount_due(
            lines in prop::collection::vec(any_line(true), 0..12),
            rc in prop::collection::vec(any_line(true), 1..4),
        ) {
            let rc: Vec<Line> = rc.into_iter().map(|l| Line {
                vat_rate: Some(VatRate::ReverseCharge),
                price_includes_vat: false,
                ..l
            }).collect();
            let without = totals(&lines, true).unwrap();
            let with = totals(&[lines.clone(), rc.clone()].concat(), true).unwrap();
            let rc_net: i64 = rc.iter().map(|l| totals(std::slice::from_ref(l), true).unwrap().net).sum();
            prop_assert_eq!(with.vat, without.vat);
            prop_assert_eq!(with.amount_due, without.amount_due + rc_net);
        }

        #[test]
        fn credit_notes_never_exceed_the_room_and_net_to_the_balance(
            (reg, lines) in any_lines(),
            notes in prop::collection::vec(prop::collection::vec((0usize..12, 0..=SCALE as i64), 1..4), 0..6),
            payments in 0i64..1_000_000,
        ) {
            prop_assume!(!lines.is_empty());
            let invoice = totals(&lines, reg).unwrap();
            let mut credited = 0i64;
            for note in notes {
                // Each note credits a fraction of some invoice lines, at their own rates.
                let note_lines: Vec<Line> = note.iter().map(|&(i, share)| {
                    let l = &lines[i % lines.len()];
                    Line {
                        quantity: Quantity::from_ten_thousandths(
                            (i128::from(l.quantity.0) * i128::from(share) / SCALE) as i64,
                        ).unwrap(),
                        ..l.clone()
                    }
                }).collect();
                match credit_note_totals(&invoice, credited, &note_lines, reg) {
                    Ok(t) => {
                        prop_assert!(t.amount_due <= credit_room(invoice.amount_due, credited));
                        credited += t.amount_due;
                    }
                    Err(MoneyError::CreditExceedsRoom { room, requested }) => {
                        prop_assert_eq!(room, credit_room(invoice.amount_due, credited));
                        prop_assert!(requested > room);
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("unexpected {e}"))),
                }
                prop_assert!(credited <= invoice.amount_due);
            }
            prop_assert_eq!(credit_room(invoice.amount_due, credited), invoice.amount_due - credited);
            prop_assert_eq!(
                balance(invoice.amount_due, payments, credited) + payments + credited,
                invoice.amount_due
            );
        }

        #[test]
        fn out_of_bounds_input_is_an_error_not_a_panic(s in "\\PC{0,30}", n in any::<i64>()) {
            let _ = s.parse::<Quantity>();
            let _ = s.parse::<UnitPrice>();
            prop_assert_eq!(Quantity::from_ten_thousandths(n).is_ok(), (0..=MAX_QUANTITY).contains(&n));
            prop_assert_eq!(UnitPrice::from_ten_thousandths(n).is_ok(), (0..=MAX_UNIT_PRICE).contains(&n));
            let _ = commission(n, Commission::BasisPoints { basis_points: n });
            let _ = commission(n, Commission::Fixed { pence: n });
            let _ = balance(n, n, n);
            let _ = credit_room(n, n.wrapping_neg());
        }

        #[test]
        fn decimal_strings_round_trip(n in 0..=MAX_UNIT_PRICE) {
            let p = UnitPrice::from_ten_thousandths(n).unwrap();
            prop_assert_eq!(String::from(p).parse::<UnitPrice>(), Ok(p));
        }
    }
}
