//! The VAT return of one period (boxes 1 to 9) and its Making Tax Digital submission body, under
//! the standard scheme (accrual or cash accounting) or the Flat Rate Scheme: pure, no I/O.
//!
//! The caller passes every issued sales document and every expense it holds (voided invoices
//! left out); this module picks what belongs to the period, so a document can never be counted
//! in two periods or in none, whichever period is asked for first.
//!
//! Amounts are `i64` pence in and out; sums and products are worked in `i128` and converted back
//! once, so no intermediate figure can overflow and an out-of-range total is an error, not a
//! wrapped number. The only rounding is [`round_div`], half away from zero.
//!
//! Box 6 follows HMRC's "How to fill in and submit your VAT Return" (VAT Notice 700/12):
//! standard, reduced, zero-rated and exempt sales and the net of domestic reverse-charge sales
//! are in it; outside-the-scope supplies are not. The one `OutsideScope` rate cannot tell
//! non-business income (never in box 6) from services whose place of supply is abroad (which
//! HMRC does want in box 6), and leaving out is the error that cannot inflate turnover: a
//! business that sells services abroad must be told to record them as zero-rated exports, or
//! this choice revisited.

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use super::flat_rate::{self, FlatRateSector, FlatRateWorking};
use super::money::{RateTotal, VatRate};
use super::vat_period::round_div;
pub use super::vat_period::{Period, VatReturnError};

/// Whether a sales document adds to or takes from the period's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SaleKind {
    Invoice,
    CreditNote,
}

/// One issued sales document. Amounts are positive for a credit note too: `kind` gives the
/// sign, so the same [`RateTotal`]s the document was printed from can be passed unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub kind: SaleKind,
    /// For a credit note, the date it was issued: HMRC has the credit reduce the VAT of the
    /// period it is issued in, never reopen the invoice's period.
    pub tax_point: NaiveDate,
    pub by_rate: Vec<RateTotal>,
    /// Gross charged: every rate's net plus the VAT charged; reverse-charge VAT is shown on the
    /// document but not in here. Checked against `by_rate`, since a mismatch means the caller
    /// passed figures from two different versions of the document.
    pub total_pence: i64,
    /// Goods supplied from Northern Ireland to the EU: the sale's net is also in box 8.
    #[serde(default)]
    pub ni_eu_goods: bool,
    /// Payments received on an invoice, used on the cash basis only. On a credit note these are
    /// refunds, which are never counted: the credit note itself reduces the period it is issued
    /// in, so counting a refund as well would reduce the VAT twice.
    #[serde(default)]
    pub payments: Vec<(NaiveDate, i64)>,
}

/// One expense. A supplier's credit note is an expense with negative amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchase {
    /// The invoice date, or for an acquisition of goods from the EU into Northern Ireland the
    /// acquisition's tax point: acquisitions are always counted by this date, because the cash
    /// accounting scheme does not cover them (VAT Notice 731).
    pub date: NaiveDate,
    pub paid_on: Option<NaiveDate>,
    pub net_pence: i64,
    /// The VAT on the supplier's invoice; for an acquisition, the acquisition VAT the business
    /// accounts for itself at the UK rate (box 2), since the EU supplier charges none.
    pub vat_pence: i64,
    /// False for VAT that is blocked (business entertainment, a car) or not on a valid invoice.
    pub vat_reclaimable: bool,
    #[serde(default)]
    pub ni_eu_goods_acquisition: bool,
    /// A capital expenditure item: the Flat Rate Scheme lets only these be reclaimed, and only
    /// from £2,000 incl. VAT as one purchase.
    #[serde(default)]
    pub capital_item: bool,
    /// Goods that count in the limited cost trader test; the caller has already left out what
    /// HMRC excludes (food and drink for staff, vehicles, fuel, goods for resale or leasing,
    /// services of any kind).
    #[serde(default)]
    pub relevant_goods: bool,
    /// `net_pence + vat_pence`, checked: the VAT-inclusive cost is what both Flat Rate Scheme
    /// tests compare.
    pub gross_pence: i64,
}

/// When a document counts: by its date (accrual, "invoice basis") or by when the money moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Accrual,
    /// The cash accounting scheme; under the Flat Rate Scheme, its cash-based turnover method.
    Cash,
}

/// The VAT accounting scheme the business uses for the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "scheme", rename_all = "snake_case")]
pub enum Scheme {
    Standard {
        basis: Basis,
    },
    FlatRate {
        sector: FlatRateSector,
        /// The effective date of VAT registration: the first-year discount runs from it.
        registered_on: NaiveDate,
        basis: Basis,
    },
}

/// The nine boxes. Boxes 1 to 5 are pence; boxes 6 to 9 are whole pounds with the pence dropped
/// (truncated toward zero, so £1,234.99 is 1234 and −£1,234.99 is −1234), because HMRC's
/// guidance says "whole pounds only" for them and its API takes integers there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Boxes {
    /// VAT due on sales and other outputs; negative when credit notes outweigh sales.
    pub box1: i64,
    /// VAT due on acquisitions of goods from the EU into Northern Ireland.
    pub box2: i64,
    /// Box 1 + box 2.
    pub box3: i64,
    /// VAT reclaimed on purchases, acquisition VAT included.
    pub box4: i64,
    /// |box 3 − box 4|: HMRC wants it unsigned; [`VatReturn::direction`] says who pays.
    pub box5: i64,
    /// Sales ex VAT, box 8 included; under the Flat Rate Scheme, the VAT-inclusive flat rate
    /// turnover plus supplies made outside the scheme (reverse charge).
    pub box6: i64,
    /// Purchases ex VAT, box 9 included; under the Flat Rate Scheme only the capital items
    /// claimed in box 4 and the acquisitions of box 9, as HMRC's Flat Rate guidance says.
    pub box7: i64,
    /// Goods supplied from Northern Ireland to the EU, ex VAT.
    pub box8: i64,
    /// Goods acquired from the EU into Northern Ireland, ex VAT.
    pub box9: i64,
}

/// Who pays box 5: a return's net figure is always sent unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The business pays HMRC (box 3 > box 4).
    Payable,
    /// HMRC repays the business (box 3 < box 4).
    Repayable,
    Nil,
}

/// An amount of pence that is written to JSON as pounds, a number with up to two decimals, as
/// HMRC's MTD VAT API takes money (`105.5` for £105.50). Held as pence so the type stays exact
/// and `Eq`; the `f64` exists only while serializing, and serde_json's shortest round-trip
/// form of `pence / 100` is the decimal HMRC expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(value_type = f64, example = 105.5)]
pub struct PenceAsPounds(pub i64);

impl Serialize for PenceAsPounds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64 / 100.0)
    }
}

impl<'de> Deserialize<'de> for PenceAsPounds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pounds = f64::deserialize(d)?;
        // Beyond 2^53 pence an f64 no longer holds every penny; HMRC's own limit is far below.
        if !pounds.is_finite() || pounds.abs() * 100.0 > 9_007_199_254_740_992.0 {
            return Err(serde::de::Error::custom("an amount out of range"));
        }
        Ok(Self((pounds * 100.0).round() as i64))
    }
}

/// The body of HMRC's "Submit VAT return for period" (MTD VAT API), field names as HMRC spells
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MtdVatSubmission {
    #[serde(rename = "periodKey")]
    pub period_key: String,
    #[serde(rename = "vatDueSales")]
    pub vat_due_sales: PenceAsPounds,
    #[serde(rename = "vatDueAcquisitions")]
    pub vat_due_acquisitions: PenceAsPounds,
    #[serde(rename = "totalVatDue")]
    pub total_vat_due: PenceAsPounds,
    #[serde(rename = "vatReclaimedCurrPeriod")]
    pub vat_reclaimed_curr_period: PenceAsPounds,
    /// Never negative: HMRC reads the direction from boxes 3 and 4.
    #[serde(rename = "netVatDue")]
    pub net_vat_due: PenceAsPounds,
    #[serde(rename = "totalValueSalesExVAT")]
    pub total_value_sales_ex_vat: i64,
    #[serde(rename = "totalValuePurchasesExVAT")]
    pub total_value_purchases_ex_vat: i64,
    #[serde(rename = "totalValueGoodsSuppliedExVAT")]
    pub total_value_goods_supplied_ex_vat: i64,
    #[serde(rename = "totalAcquisitionsExVAT")]
    pub total_acquisitions_ex_vat: i64,
    pub finalised: bool,
}

/// A computed return: the boxes, what to send, and how the figures were reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VatReturn {
    pub period: Period,
    pub boxes: Boxes,
    pub direction: Direction,
    pub submission: MtdVatSubmission,
    /// Present under the Flat Rate Scheme: the percentage used and the limited cost trader
    /// test, which the trader must be able to show HMRC.
    pub flat_rate: Option<FlatRateWorking>,
    /// Plain-English remarks on what was treated specially, for the trader to review before
    /// submitting.
    pub notes: Vec<String>,
}

/// What one sale (or the share of it a payment settles) contributes, signed, in pence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Supply {
    /// VAT charged: box 1 under the standard scheme.
    pub vat: i128,
    /// Net of every rate but outside the scope, reverse charge included: box 6 under the
    /// standard scheme.
    pub net: i128,
    /// Net of reverse-charge lines: outside the Flat Rate Scheme, but in box 6.
    pub reverse_charge_net: i128,
    /// Net that is also box 8.
    pub ni_eu_net: i128,
    /// VAT-inclusive flat rate turnover.
    pub flat_rate_gross: i128,
}

impl Supply {
    fn scaled(self, num: i128, den: i128) -> Self {
        let f = |v: i128| round_div(v * num, den);
        Self {
            vat: f(self.vat),
            net: f(self.net),
            reverse_charge_net: f(self.reverse_charge_net),
            ni_eu_net: f(self.ni_eu_net),
            flat_rate_gross: f(self.flat_rate_gross),
        }
    }

    fn minus(self, o: Self) -> Self {
        Self {
            vat: self.vat - o.vat,
            net: self.net - o.net,
            reverse_charge_net: self.reverse_charge_net - o.reverse_charge_net,
            ni_eu_net: self.ni_eu_net - o.ni_eu_net,
            flat_rate_gross: self.flat_rate_gross - o.flat_rate_gross,
        }
    }
}

/// The whole document's contribution, unsigned, after checking it adds up. Every field is at
/// most the total, so a payment's share of it is at most the payment.
fn whole_supply(index: usize, sale: &Sale) -> Result<Supply, VatReturnError> {
    let bad = |problem| VatReturnError::InvalidSale { index, problem };
    let mut s = Supply::default();
    for r in &sale.by_rate {
        if r.net < 0 || r.vat < 0 {
            return Err(bad(
                "amounts are positive, a credit note's too: its kind gives the sign",
            ));
        }
        let (net, vat) = (i128::from(r.net), i128::from(r.vat));
        match r.rate {
            VatRate::Standard | VatRate::Reduced => {
                s.vat += vat;
                s.net += net;
            }
            VatRate::Zero | VatRate::Exempt | VatRate::OutsideScope if vat != 0 => {
                return Err(bad(
                    "zero-rated, exempt and outside-scope lines carry no VAT",
                ));
            }
            VatRate::Zero | VatRate::Exempt => s.net += net,
            VatRate::OutsideScope => {}
            VatRate::ReverseCharge => {
                s.net += net;
                s.reverse_charge_net += net;
            }
        }
    }
    s.flat_rate_gross = flat_rate::turnover_of(&sale.by_rate);
    if sale.ni_eu_goods {
        s.ni_eu_net = s.net;
    }
    // Zero-rated, exempt and outside-scope VAT is nil (checked above) and reverse-charge VAT
    // is not charged, so what was charged is every net plus `s.vat`.
    let charged = sale.by_rate.iter().map(|r| i128::from(r.net)).sum::<i128>() + s.vat;
    if charged != i128::from(sale.total_pence) {
        return Err(bad("the total is not the nets plus the VAT charged"));
    }
    if sale.payments.iter().any(|&(_, p)| p < 0) {
        return Err(bad("a payment is negative"));
    }
    Ok(s)
}

/// The dated supplies that fall in the period, signed.
///
/// On the cash basis each payment counts its share of the invoice: VAT = payment × invoice VAT
/// ÷ invoice total, and likewise for the net and the flat rate turnover. The share is taken of
/// the payments received so far, in date order, and the earlier payments' share subtracted, so
/// a fully paid invoice contributes exactly its own VAT and net over all its periods, never a
/// penny more or less than on the accrual basis; a single payment's share is exactly the
/// formula, rounded half-up. Money received beyond the total is an overpayment to refund, not
/// the price of a supply, so it carries no VAT. A credit note counts at its issue date on both
/// bases.
fn supplies_in_period(
    period: &Period,
    basis: Basis,
    sales: &[Sale],
    notes: &mut Vec<String>,
) -> Result<Vec<(NaiveDate, Supply)>, VatReturnError> {
    let mut out = Vec::new();
    for (i, sale) in sales.iter().enumerate() {
        let whole = whole_supply(i, sale)?;
        match (sale.kind, basis) {
            (SaleKind::CreditNote, _) => {
                if period.contains(sale.tax_point) {
                    out.push((sale.tax_point, Supply::default().minus(whole)));
                    if basis == Basis::Cash && !sale.payments.is_empty() {
                        notes.push(format!(
                            "sale {i}: a credit note counts when issued; its refunds are not \
                             counted again"
                        ));
                    }
                }
            }
            (SaleKind::Invoice, Basis::Accrual) => {
                if period.contains(sale.tax_point) {
                    out.push((sale.tax_point, whole));
                }
            }
            (SaleKind::Invoice, Basis::Cash) => {
                let total = i128::from(sale.total_pence);
                let mut payments = sale.payments.clone();
                payments.sort_by_key(|&(date, _)| date);
                let (mut received, mut counted) = (0i128, Supply::default());
                for (date, amount) in payments {
                    if date > period.end {
                        break;
                    }
                    if total == 0 {
                        if period.contains(date) && amount > 0 {
                            notes.push(format!(
                                "sale {i}: a payment on a document with a zero total was \
                                 ignored"
                            ));
                        }
                        continue;
                    }
                    let before = received;
                    received = (received + i128::from(amount)).min(total);
                    if period.contains(date) && before + i128::from(amount) > total {
                        notes.push(format!(
                            "sale {i}: payments exceed the total; the excess carries no VAT"
                        ));
                    }
                    let so_far = whole.scaled(received, total);
                    if period.contains(date) {
                        out.push((date, so_far.minus(counted)));
                    }
                    counted = so_far;
                }
            }
        }
    }
    Ok(out)
}

/// Whether a purchase belongs to the period.
fn purchase_counts(p: &Purchase, basis: Basis, period: &Period) -> bool {
    if p.ni_eu_goods_acquisition || basis == Basis::Accrual {
        period.contains(p.date)
    } else {
        p.paid_on.is_some_and(|d| period.contains(d))
    }
}

fn check_purchase(index: usize, p: &Purchase) -> Result<(), VatReturnError> {
    if i128::from(p.net_pence) + i128::from(p.vat_pence) != i128::from(p.gross_pence) {
        return Err(VatReturnError::InvalidPurchase {
            index,
            problem: "the gross is not net plus VAT",
        });
    }
    Ok(())
}

/// HMRC's MTD VAT API takes at most 13 digits of pounds in every box, and 11 in box 5; a
/// figure beyond is refused here rather than by HMRC after the trader has declared it.
const MAX_POUNDS: i128 = 9_999_999_999_999;
const MAX_BOX5_POUNDS: i128 = 99_999_999_999;

fn to_i64(v: i128, what: &'static str) -> Result<i64, VatReturnError> {
    i64::try_from(v).map_err(|_| VatReturnError::TooLarge { what })
}

/// A box of pounds and pence, within HMRC's range.
fn money_box(pence: i128, max_pounds: i128, what: &'static str) -> Result<i64, VatReturnError> {
    if pence.abs() > max_pounds * 100 + 99 {
        return Err(VatReturnError::TooLarge { what });
    }
    to_i64(pence, what)
}

/// Whole pounds, pence dropped toward zero, within HMRC's range.
fn whole_pounds(pence: i128, what: &'static str) -> Result<i64, VatReturnError> {
    let pounds = pence / 100;
    if pounds.abs() > MAX_POUNDS {
        return Err(VatReturnError::TooLarge { what });
    }
    to_i64(pounds, what)
}

/// The return for `period`. `sales` and `purchases` may hold documents of any date: only those
/// that belong to the period under `scheme` are counted.
pub fn vat_return(
    period: &Period,
    scheme: &Scheme,
    sales: &[Sale],
    purchases: &[Purchase],
) -> Result<VatReturn, VatReturnError> {
    if period.end < period.start {
        return Err(VatReturnError::PeriodEndsBeforeStart);
    }
    for (i, p) in purchases.iter().enumerate() {
        check_purchase(i, p)?;
    }
    let basis = match scheme {
        Scheme::Standard { basis } | Scheme::FlatRate { basis, .. } => *basis,
    };
    let mut notes = Vec::new();
    let supplies = supplies_in_period(period, basis, sales, &mut notes)?;
    let counted: Vec<(usize, &Purchase)> = purchases
        .iter()
        .enumerate()
        .filter(|(_, p)| purchase_counts(p, basis, period))
        .collect();
    if basis == Basis::Cash {
        for (i, p) in purchases.iter().enumerate() {
            if p.paid_on.is_none() && !p.ni_eu_goods_acquisition && period.contains(p.date) {
                notes.push(format!(
                    "purchase {i}: unpaid, so not counted on the cash basis"
                ));
            }
        }
    }

    let sum = |f: fn(&Supply) -> i128| supplies.iter().map(|(_, s)| f(s)).sum::<i128>();
    let box8 = sum(|s| s.ni_eu_net);
    let acquisitions = counted.iter().filter(|(_, p)| p.ni_eu_goods_acquisition);
    let box2: i128 = acquisitions
        .clone()
        .map(|(_, p)| i128::from(p.vat_pence))
        .sum();
    let box9: i128 = acquisitions.map(|(_, p)| i128::from(p.net_pence)).sum();

    let (box1, box4, box6, box7, working) = match scheme {
        Scheme::Standard { .. } => {
            let box4 = counted
                .iter()
                .filter(|(_, p)| p.vat_reclaimable)
                .map(|(_, p)| i128::from(p.vat_pence))
                .sum();
            let box7 = counted.iter().map(|(_, p)| i128::from(p.net_pence)).sum();
            (sum(|s| s.vat), box4, sum(|s| s.net), box7, None)
        }
        Scheme::FlatRate {
            sector,
            registered_on,
            ..
        } => {
            let turnover: Vec<(NaiveDate, i128)> = supplies
                .iter()
                .map(|(d, s)| (*d, s.flat_rate_gross))
                .collect();
            let relevant_goods: i128 = counted
                .iter()
                .filter(|(_, p)| p.relevant_goods && !p.capital_item)
                .map(|(_, p)| i128::from(p.gross_pence))
                .sum();
            let w = flat_rate::working(
                period,
                sector,
                *registered_on,
                &turnover,
                relevant_goods,
                &mut notes,
            )?;
            let (mut box4, mut box7) = (0i128, 0i128);
            for (i, p) in &counted {
                let claimed = p.capital_item
                    && p.vat_reclaimable
                    && p.gross_pence >= flat_rate::CAPITAL_GOODS_THRESHOLD;
                if claimed {
                    box4 += i128::from(p.vat_pence);
                }
                if claimed || p.ni_eu_goods_acquisition {
                    box7 += i128::from(p.net_pence);
                }
                if p.capital_item && !claimed && p.vat_reclaimable {
                    notes.push(format!(
                        "purchase {i}: a capital item under £2,000 incl. VAT: its VAT cannot \
                         be reclaimed under the Flat Rate Scheme"
                    ));
                } else if p.ni_eu_goods_acquisition && !claimed && p.vat_reclaimable {
                    notes.push(format!(
                        "purchase {i}: acquisition VAT is due in box 2 but, not being a \
                         capital item of £2,000 or more, is not reclaimed under the Flat Rate \
                         Scheme"
                    ));
                }
            }
            let rc = sum(|s| s.reverse_charge_net);
            if supplies.iter().any(|(_, s)| s.reverse_charge_net != 0) {
                notes.push(
                    "reverse-charge sales are outside the Flat Rate Scheme (VAT Regulations \
                     1995 reg 55C(6)): no flat rate VAT on them, their net is in box 6"
                        .to_string(),
                );
            }
            let box6 = i128::from(w.turnover_inclusive) + rc;
            (i128::from(w.vat), box4, box6, box7, Some(w))
        }
    };
    if box1 < 0 {
        notes.push("box 1 is negative: credit notes outweigh the period's sales".to_string());
    }

    let box3 = box1 + box2;
    let boxes = Boxes {
        box1: money_box(box1, MAX_POUNDS, "box 1")?,
        box2: money_box(box2, MAX_POUNDS, "box 2")?,
        box3: money_box(box3, MAX_POUNDS, "box 3")?,
        box4: money_box(box4, MAX_POUNDS, "box 4")?,
        box5: money_box((box3 - box4).abs(), MAX_BOX5_POUNDS, "box 5")?,
        box6: whole_pounds(box6, "box 6")?,
        box7: whole_pounds(box7, "box 7")?,
        box8: whole_pounds(box8, "box 8")?,
        box9: whole_pounds(box9, "box 9")?,
    };
    let direction = match box3.cmp(&box4) {
        std::cmp::Ordering::Greater => Direction::Payable,
        std::cmp::Ordering::Less => Direction::Repayable,
        std::cmp::Ordering::Equal => Direction::Nil,
    };
    let submission = MtdVatSubmission {
        period_key: period.period_key.clone(),
        vat_due_sales: PenceAsPounds(boxes.box1),
        vat_due_acquisitions: PenceAsPounds(boxes.box2),
        total_vat_due: PenceAsPounds(boxes.box3),
        vat_reclaimed_curr_period: PenceAsPounds(boxes.box4),
        net_vat_due: PenceAsPounds(boxes.box5),
        total_value_sales_ex_vat: boxes.box6,
        total_value_purchases_ex_vat: boxes.box7,
        total_value_goods_supplied_ex_vat: boxes.box8,
        total_acquisitions_ex_vat: boxes.box9,
        finalised: period.finalised,
    };
    Ok(VatReturn {
        period: period.clone(),
        boxes,
        direction,
        submission,
        flat_rate: working,
        notes,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    pub(crate) fn period(start: NaiveDate, end: NaiveDate, key: &str) -> Period {
        Period {
            start,
            end,
            period_key: key.to_string(),
            finalised: true,
        }
    }

    /// 1 January to 31 March 2025.
    pub(crate) fn q1() -> Period {
        period(d(2025, 1, 1), d(2025, 3, 31), "25A1")
    }

    /// 1 April to 30 June 2025.
    pub(crate) fn q2() -> Period {
        period(d(2025, 4, 1), d(2025, 6, 30), "25A2")
    }

    pub(crate) fn rt(rate: VatRate, net: i64, vat: i64) -> RateTotal {
        RateTotal { rate, net, vat }
    }

    /// A sale whose total is its nets plus the VAT charged, as money.rs computes it.
    pub(crate) fn sale(kind: SaleKind, tax_point: NaiveDate, by_rate: Vec<RateTotal>) -> Sale {
        let total_pence = by_rate
            .iter()
            .map(|r| {
                r.net
                    + if r.rate == VatRate::ReverseCharge {
                        0
                    } else {
                        r.vat
                    }
            })
            .sum();
        Sale {
            kind,
            tax_point,
            by_rate,
            total_pence,
            ni_eu_goods: false,
            payments: Vec::new(),
        }
    }

    pub(crate) fn invoice(tax_point: NaiveDate, by_rate: Vec<RateTotal>) -> Sale {
        sale(SaleKind::Invoice, tax_point, by_rate)
    }

    pub(crate) fn credit(tax_point: NaiveDate, by_rate: Vec<RateTotal>) -> Sale {
        sale(SaleKind::CreditNote, tax_point, by_rate)
    }

    /// A reclaimable expense paid on its date.
    pub(crate) fn expense(date: NaiveDate, net: i64, vat: i64) -> Purchase {
        Purchase {
            date,
            paid_on: Some(date),
            net_pence: net,
            vat_pence: vat,
            vat_reclaimable: true,
            ni_eu_goods_acquisition: false,
            capital_item: false,
            relevant_goods: false,
            gross_pence: net + vat,
        }
    }

    const ACCRUAL: Scheme = Scheme::Standard {
        basis: Basis::Accrual,
    };
    const CASH: Scheme = Scheme::Standard { basis: Basis::Cash };

    fn run(scheme: &Scheme, p: &Period, sales: &[Sale], purchases: &[Purchase]) -> VatReturn {
        vat_return(p, scheme, sales, purchases).unwrap()
    }

    /// Boxes 1 and 6 of a one-sale accrual return in Q1.
    fn box1_and_6(s: Sale) -> (i64, i64) {
        let r = run(&ACCRUAL, &q1(), &[s], &[]);
        (r.boxes.box1, r.boxes.box6)
    }

    #[test]
    fn standard_rate_sale() {
        // £1,000.00 net at 20 %: £200.00 VAT in box 1, £1,000 in box 6.
        let s = invoice(d(2025, 1, 10), vec![rt(VatRate::Standard, 100_000, 20_000)]);
        assert_eq!(box1_and_6(s), (20_000, 1_000));
    }

    #[test]
    fn reduced_rate_sale() {
        // £400.00 net at 5 %: £20.00 VAT.
        let s = invoice(d(2025, 2, 20), vec![rt(VatRate::Reduced, 40_000, 2_000)]);
        assert_eq!(box1_and_6(s), (2_000, 400));
    }

    #[test]
    fn zero_rated_and_exempt_sales_are_in_box_6_only() {
        // £150.00 zero-rated, £250.00 exempt: no VAT, both are sales in box 6.
        let z = invoice(d(2025, 3, 5), vec![rt(VatRate::Zero, 15_000, 0)]);
        assert_eq!(box1_and_6(z), (0, 150));
        let e = invoice(d(2025, 3, 5), vec![rt(VatRate::Exempt, 25_000, 0)]);
        assert_eq!(box1_and_6(e), (0, 250));
    }

    #[test]
    fn outside_scope_is_in_no_box() {
        // £99.99 outside the scope: not a supply in UK VAT, in neither box 1 nor box 6.
        let s = invoice(d(2025, 3, 5), vec![rt(VatRate::OutsideScope, 9_999, 0)]);
        let r = run(&ACCRUAL, &q1(), &[s], &[]);
        assert_eq!((r.boxes.box1, r.boxes.box5, r.boxes.box6), (0, 0, 0));
        assert_eq!(r.direction, Direction::Nil);
    }

    #[test]
    fn reverse_charge_supplier_puts_net_in_box_6_and_no_vat_in_box_1() {
        // £500.00 net, £100.00 VAT shown for the customer to account for: box 1 gets nothing,
        // box 6 gets the £500.
        let s = invoice(
            d(2025, 3, 28),
            vec![rt(VatRate::ReverseCharge, 50_000, 10_000)],
        );
        assert_eq!(s.total_pence, 50_000);
        assert_eq!(box1_and_6(s), (0, 500));
    }

    #[test]
    fn every_rate_together_with_an_expense() {
        // Box 1: £200.00 (standard) + £20.00 (reduced) = £220.00; reverse-charge VAT not in.
        // Box 4: £60.00 on a £300.00 expense. Box 5: 220.00 − 60.00 = £160.00 payable.
        // Box 6: 1,000 + 400 + 150 + 250 + 500 (reverse charge) = £2,300; the £99.99 outside
        // the scope and the April invoice are not in it. Box 7: £300.
        let sales = vec![
            invoice(d(2025, 1, 10), vec![rt(VatRate::Standard, 100_000, 20_000)]),
            invoice(d(2025, 2, 20), vec![rt(VatRate::Reduced, 40_000, 2_000)]),
            invoice(
                d(2025, 3, 5),
                vec![
                    rt(VatRate::Zero, 15_000, 0),
                    rt(VatRate::Exempt, 25_000, 0),
                    rt(VatRate::OutsideScope, 9_999, 0),
                ],
            ),
            invoice(
                d(2025, 3, 28),
                vec![rt(VatRate::ReverseCharge, 50_000, 10_000)],
            ),
            invoice(d(2025, 4, 1), vec![rt(VatRate::Standard, 10_000, 2_000)]),
        ];
        let r = run(
            &ACCRUAL,
            &q1(),
            &sales,
            &[expense(d(2025, 1, 15), 30_000, 6_000)],
        );
        assert_eq!(
            r.boxes,
            Boxes {
                box1: 22_000,
                box2: 0,
                box3: 22_000,
                box4: 6_000,
                box5: 16_000,
                box6: 2_300,
                box7: 300,
                box8: 0,
                box9: 0,
            }
        );
        assert_eq!(r.direction, Direction::Payable);
        assert!(r.flat_rate.is_none());
    }

    #[test]
    fn a_credit_note_reduces_the_quarter_it_is_issued_in() {
        // Invoice 15 Mar: £500.00 + £100.00 VAT. Credit note 10 Apr: £200.00 + £40.00 VAT.
        // Invoice 1 May: £300.00 + £60.00 VAT.
        // Q1 is untouched by the credit: box 1 £100.00, box 6 £500.
        // Q2: box 1 = 60.00 − 40.00 = £20.00; box 6 = 300 − 200 = £100.
        let sales = vec![
            invoice(d(2025, 3, 15), vec![rt(VatRate::Standard, 50_000, 10_000)]),
            credit(d(2025, 4, 10), vec![rt(VatRate::Standard, 20_000, 4_000)]),
            invoice(d(2025, 5, 1), vec![rt(VatRate::Standard, 30_000, 6_000)]),
        ];
        let r1 = run(&ACCRUAL, &q1(), &sales, &[]);
        assert_eq!((r1.boxes.box1, r1.boxes.box6), (10_000, 500));
        let r2 = run(&ACCRUAL, &q2(), &sales, &[]);
        assert_eq!((r2.boxes.box1, r2.boxes.box6), (2_000, 100));
        // Cash basis: the credit note also counts when issued.
        let r2 = run(&CASH, &q2(), &sales, &[]);
        assert_eq!((r2.boxes.box1, r2.boxes.box6), (-4_000, -200));
    }

    #[test]
    fn a_period_with_only_a_credit_note_is_a_repayment() {
        // Credit note 10 Apr: £200.00 + £40.00 VAT; expense 12 May: £50.00 + £10.00 VAT.
        // Box 1 = −£40.00, box 3 = −£40.00, box 4 = £10.00, box 5 = |−40.00 − 10.00| = £50.00,
        // repayable. Box 6 = −£200, box 7 = £50.
        let sales = vec![credit(
            d(2025, 4, 10),
            vec![rt(VatRate::Standard, 20_000, 4_000)],
        )];
        let r = run(
            &ACCRUAL,
            &q2(),
            &sales,
            &[expense(d(2025, 5, 12), 5_000, 1_000)],
        );
        assert_eq!(
            (r.boxes.box1, r.boxes.box3, r.boxes.box4, r.boxes.box5),
            (-4_000, -4_000, 1_000, 5_000)
        );
        assert_eq!((r.boxes.box6, r.boxes.box7), (-200, 50));
        assert_eq!(r.direction, Direction::Repayable);
        let json = serde_json::to_value(&r.submission).unwrap();
        assert_eq!(json["vatDueSales"], serde_json::json!(-40.0));
        assert_eq!(json["netVatDue"], serde_json::json!(50.0));
        assert_eq!(json["totalValueSalesExVAT"], serde_json::json!(-200));
        assert!(r.notes.iter().any(|n| n.contains("box 1 is negative")));
    }

    /// Invoice 10 Feb 2025: £1,000.00 + £200.00 VAT = £1,200.00, paid £500.00 on 20 Mar and
    /// £700.00 on 15 Apr. Expense A dated 20 Mar, paid 5 Apr: £100.00 + £20.00. Expense B
    /// dated 11 Feb, never paid: £50.00 + £10.00.
    fn part_paid() -> (Vec<Sale>, Vec<Purchase>) {
        let mut inv = invoice(d(2025, 2, 10), vec![rt(VatRate::Standard, 100_000, 20_000)]);
        inv.payments = vec![(d(2025, 4, 15), 70_000), (d(2025, 3, 20), 50_000)];
        let a = Purchase {
            paid_on: Some(d(2025, 4, 5)),
            ..expense(d(2025, 3, 20), 10_000, 2_000)
        };
        let b = Purchase {
            paid_on: None,
            ..expense(d(2025, 2, 11), 5_000, 1_000)
        };
        (vec![inv], vec![a, b])
    }

    #[test]
    fn accrual_counts_the_invoice_and_expenses_by_their_dates() {
        // Q1: box 1 £200.00, box 4 20.00 + 10.00 = £30.00, box 5 £170.00, box 6 £1,000,
        // box 7 100 + 50 = £150. Q2: nothing.
        let (sales, purchases) = part_paid();
        let r = run(&ACCRUAL, &q1(), &sales, &purchases);
        assert_eq!(
            (
                r.boxes.box1,
                r.boxes.box4,
                r.boxes.box5,
                r.boxes.box6,
                r.boxes.box7
            ),
            (20_000, 3_000, 17_000, 1_000, 150)
        );
        let r = run(&ACCRUAL, &q2(), &sales, &purchases);
        assert_eq!((r.boxes.box1, r.boxes.box4, r.boxes.box6), (0, 0, 0));
    }

    #[test]
    fn cash_basis_apportions_each_payment() {
        let (sales, purchases) = part_paid();
        // Q1: £500.00 received. VAT = 500.00 × 200.00 / 1,200.00 = £83.333 → £83.33; net =
        // 500.00 × 1,000.00 / 1,200.00 = £416.667 → £416.67, box 6 £416. Expense A is paid in
        // Q2 and B never: box 4 and 7 are nil. Box 5 £83.33.
        let r = run(&CASH, &q1(), &sales, &purchases);
        assert_eq!(
            (
                r.boxes.box1,
                r.boxes.box4,
                r.boxes.box5,
                r.boxes.box6,
                r.boxes.box7
            ),
            (8_333, 0, 8_333, 416, 0)
        );
        assert!(r.notes.iter().any(|n| n.starts_with("purchase 1: unpaid")));
        // Q2: £700.00 received. VAT = 700.00 × 200.00 / 1,200.00 = £116.667 → £116.67 (also
        // £200.00 − £83.33, the whole invoice less Q1); net = £583.333 → £583.33, box 6 £583.
        // Expense A paid: box 4 £20.00, box 7 £100. Box 5 = 116.67 − 20.00 = £96.67.
        let r = run(&CASH, &q2(), &sales, &purchases);
        assert_eq!(
            (
                r.boxes.box1,
                r.boxes.box4,
                r.boxes.box5,
                r.boxes.box6,
                r.boxes.box7
            ),
            (11_667, 2_000, 9_667, 583, 100)
        );
    }

    #[test]
    fn instalments_add_up_to_the_invoice_vat_exactly() {
        // £10.00 + £2.00 VAT = £12.00, paid £4.00 in each of Q1, Q2 and Q3. Each payment alone
        // is 4.00 × 2.00 / 12.00 = 66.67p → 67p, three of them 201p. Counted cumulatively:
        // Q1 round(66.67) = 67p; Q2 round(133.33) − 67 = 66p; Q3 200 − 133 = 67p; in all
        // exactly the invoice's 200p.
        let mut inv = invoice(d(2025, 1, 5), vec![rt(VatRate::Standard, 1_000, 200)]);
        inv.payments = vec![
            (d(2025, 3, 1), 400),
            (d(2025, 5, 1), 400),
            (d(2025, 8, 1), 400),
        ];
        let q3 = period(d(2025, 7, 1), d(2025, 9, 30), "25A3");
        let box1: Vec<i64> = [q1(), q2(), q3]
            .iter()
            .map(|p| run(&CASH, p, std::slice::from_ref(&inv), &[]).boxes.box1)
            .collect();
        assert_eq!(box1, vec![67, 66, 67]);
    }

    #[test]
    fn an_overpayment_carries_no_vat() {
        // £100.00 + £20.00 = £120.00, paid £150.00: only £120.00 is the price of the supply.
        let mut inv = invoice(d(2025, 1, 5), vec![rt(VatRate::Standard, 10_000, 2_000)]);
        inv.payments = vec![(d(2025, 1, 20), 15_000)];
        let r = run(&CASH, &q1(), &[inv], &[]);
        assert_eq!((r.boxes.box1, r.boxes.box6), (2_000, 100));
        assert!(r.notes.iter().any(|n| n.contains("excess")));
    }

    #[test]
    fn vat_that_is_not_reclaimable_stays_out_of_box_4() {
        // Client entertainment £80.00 + £16.00 VAT (blocked) and stationery £100.00 + £20.00:
        // box 4 = £20.00; box 7 = 80 + 100 = £180 (net, the blocked VAT is not a purchase
        // value either).
        let blocked = Purchase {
            vat_reclaimable: false,
            ..expense(d(2025, 2, 1), 8_000, 1_600)
        };
        let r = run(
            &ACCRUAL,
            &q1(),
            &[],
            &[blocked, expense(d(2025, 2, 2), 10_000, 2_000)],
        );
        assert_eq!((r.boxes.box4, r.boxes.box7), (2_000, 180));
        assert_eq!((r.boxes.box5, r.direction), (2_000, Direction::Repayable));
    }

    #[test]
    fn northern_ireland_eu_goods_boxes_2_8_and_9() {
        // Sales: zero-rated goods NI → EU £1,234.56 (box 8 £1,234) and a domestic £100.00 +
        // £20.00. Acquisitions EU → NI: £2,500.75 with £500.15 acquisition VAT (reclaimable)
        // and £100.00 with £20.00 (not reclaimable).
        // Box 1 £20.00; box 2 = 500.15 + 20.00 = £520.15; box 3 = £540.15;
        // box 4 = £500.15; box 5 = £40.00.
        // Box 6 = 1,234.56 + 100.00 = £1,334.56 → 1334; box 7 = box 9 = 2,500.75 + 100.00 =
        // £2,600.75 → 2600; box 8 1234.
        let mut eu = invoice(d(2025, 2, 3), vec![rt(VatRate::Zero, 123_456, 0)]);
        eu.ni_eu_goods = true;
        let domestic = invoice(d(2025, 2, 4), vec![rt(VatRate::Standard, 10_000, 2_000)]);
        let acq = Purchase {
            ni_eu_goods_acquisition: true,
            paid_on: None,
            ..expense(d(2025, 3, 15), 250_075, 50_015)
        };
        let blocked_acq = Purchase {
            vat_reclaimable: false,
            ..acq.clone()
        };
        let blocked_acq = Purchase {
            net_pence: 10_000,
            vat_pence: 2_000,
            gross_pence: 12_000,
            ..blocked_acq
        };
        let purchases = [acq, blocked_acq];
        let r = run(&ACCRUAL, &q1(), &[eu.clone(), domestic.clone()], &purchases);
        let expected = Boxes {
            box1: 2_000,
            box2: 52_015,
            box3: 54_015,
            box4: 50_015,
            box5: 4_000,
            box6: 1_334,
            box7: 2_600,
            box8: 1_234,
            box9: 2_600,
        };
        assert_eq!(r.boxes, expected);
        // On the cash basis the unpaid acquisitions still count, by their date; the sales are
        // paid in full in the period, so they count in full.
        let paid = |mut s: Sale| {
            s.payments = vec![(s.tax_point, s.total_pence)];
            s
        };
        let r = run(&CASH, &q1(), &[paid(eu), paid(domestic)], &purchases);
        assert_eq!(r.boxes, expected);
    }

    #[test]
    fn boxes_6_to_9_drop_the_pence_toward_zero() {
        // £1,234.99 + £247.00 VAT (20 % of 1,234.99 = 246.998 → 247.00): box 6 1234, not
        // 1235. A £0.99 expense: box 7 0. The same as a credit note alone: −1234, not −1235.
        let s = invoice(d(2025, 1, 2), vec![rt(VatRate::Standard, 123_499, 24_700)]);
        let r = run(&ACCRUAL, &q1(), &[s], &[expense(d(2025, 1, 3), 99, 20)]);
        assert_eq!(
            (r.boxes.box1, r.boxes.box6, r.boxes.box7),
            (24_700, 1_234, 0)
        );
        let c = credit(d(2025, 1, 2), vec![rt(VatRate::Standard, 123_499, 24_700)]);
        let r = run(&ACCRUAL, &q1(), &[c], &[]);
        assert_eq!((r.boxes.box1, r.boxes.box6), (-24_700, -1_234));
    }

    #[test]
    fn the_submission_uses_hmrc_names_and_pounds() {
        // £527.50 net + £105.50 VAT; an expense £52.55 + £10.51. Box 5 = 105.50 − 10.51 =
        // £94.99.
        let s = invoice(d(2025, 1, 2), vec![rt(VatRate::Standard, 52_750, 10_550)]);
        let mut p = q1();
        p.finalised = false;
        let r = run(&ACCRUAL, &p, &[s], &[expense(d(2025, 1, 3), 5_255, 1_051)]);
        let json = serde_json::to_string(&r.submission).unwrap();
        assert_eq!(
            json,
            "{\"periodKey\":\"25A1\",\"vatDueSales\":105.5,\"vatDueAcquisitions\":0.0,\
             \"totalVatDue\":105.5,\"vatReclaimedCurrPeriod\":10.51,\"netVatDue\":94.99,\
             \"totalValueSalesExVAT\":527,\"totalValuePurchasesExVAT\":52,\
             \"totalValueGoodsSuppliedExVAT\":0,\"totalAcquisitionsExVAT\":0,\
             \"finalised\":false}"
        );
        let back: MtdVatSubmission = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r.submission);
        // £105.10 prints as 105.1: the shortest form that reads back as the same number.
        assert_eq!(
            serde_json::to_string(&PenceAsPounds(10_510)).unwrap(),
            "105.1"
        );
        assert_eq!(serde_json::to_string(&PenceAsPounds(-1)).unwrap(), "-0.01");
        let whole: VatReturn = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(whole, r);
    }

    #[test]
    fn inconsistent_input_is_an_error_not_a_panic() {
        let mut s = invoice(d(2025, 1, 2), vec![rt(VatRate::Standard, 100, 20)]);
        s.total_pence = 121;
        let err = vat_return(&q1(), &ACCRUAL, &[s], &[]).unwrap_err();
        assert!(matches!(err, VatReturnError::InvalidSale { index: 0, .. }));
        let neg = credit(d(2025, 1, 2), vec![rt(VatRate::Standard, -100, -20)]);
        assert!(vat_return(&q1(), &ACCRUAL, &[neg], &[]).is_err());
        let vat_on_zero = invoice(d(2025, 1, 2), vec![rt(VatRate::Zero, 100, 20)]);
        assert!(vat_return(&q1(), &ACCRUAL, &[vat_on_zero], &[]).is_err());
        let mut neg_pay = invoice(d(2025, 1, 2), vec![rt(VatRate::Standard, 100, 20)]);
        neg_pay.payments = vec![(d(2025, 1, 3), -5)];
        assert!(vat_return(&q1(), &CASH, &[neg_pay], &[]).is_err());
        let p = Purchase {
            gross_pence: 1,
            ..expense(d(2025, 1, 2), 100, 20)
        };
        assert_eq!(
            vat_return(&q1(), &ACCRUAL, &[], &[p]),
            Err(VatReturnError::InvalidPurchase {
                index: 0,
                problem: "the gross is not net plus VAT"
            })
        );
        let backwards = period(d(2025, 3, 31), d(2025, 1, 1), "x");
        assert_eq!(
            vat_return(&backwards, &ACCRUAL, &[], &[]),
            Err(VatReturnError::PeriodEndsBeforeStart)
        );
        // Figures beyond HMRC's 13 digits of pounds are refused, not wrapped or sent: two
        // sales of i64::MAX pence overflow i64 in pence, and even one is 92 quadrillion pounds.
        let big = invoice(d(2025, 1, 2), vec![rt(VatRate::Zero, i64::MAX, 0)]);
        assert_eq!(
            vat_return(&q1(), &ACCRUAL, &[big.clone(), big], &[]),
            Err(VatReturnError::TooLarge { what: "box 6" })
        );
        // £10 trillion in one box 4 and box 5: one penny over the 13 digits of box 4.
        let huge = expense(d(2025, 1, 2), 0, 1_000_000_000_000_000);
        assert_eq!(
            vat_return(&q1(), &ACCRUAL, &[], &[huge]),
            Err(VatReturnError::TooLarge { what: "box 4" })
        );
        // Just inside box 4's range but beyond box 5's 11 digits.
        let large = expense(d(2025, 1, 2), 0, 999_999_999_999_999);
        assert_eq!(
            vat_return(&q1(), &ACCRUAL, &[], &[large]),
            Err(VatReturnError::TooLarge { what: "box 5" })
        );
    }

    /// xorshift64*: deterministic, so a failure is reproducible without a seed in the output.
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn new(seed: u64) -> Self {
            Self(seed.max(1))
        }

        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        /// Uniform enough in `0..n` for tests.
        pub(crate) fn below(&mut self, n: u64) -> i64 {
            (self.next() % n) as i64
        }

        pub(crate) fn date(&mut self) -> NaiveDate {
            d(2025, 1, 1) + chrono::Days::new(self.below(240) as u64)
        }
    }

    pub(crate) fn random_sale(rng: &mut Rng) -> Sale {
        let mut by_rate = Vec::new();
        for rate in VatRate::ALL {
            if rng.below(3) == 0 {
                let net = rng.below(10_000_000);
                let vat = round_div(i128::from(net) * i128::from(rate.basis_points()), 10_000);
                by_rate.push(rt(rate, net, vat as i64));
            }
        }
        let kind = if rng.below(4) == 0 {
            SaleKind::CreditNote
        } else {
            SaleKind::Invoice
        };
        let mut s = sale(kind, rng.date(), by_rate);
        s.ni_eu_goods = rng.below(5) == 0;
        for _ in 0..rng.below(4) {
            let amount = rng.below(s.total_pence.max(1) as u64 + 10);
            s.payments.push((rng.date(), amount));
        }
        s
    }

    pub(crate) fn random_purchase(rng: &mut Rng) -> Purchase {
        let net = rng.below(500_000) - 20_000;
        let vat = net / 5;
        let date = rng.date();
        Purchase {
            date,
            paid_on: (rng.below(3) != 0).then(|| date + chrono::Days::new(rng.below(60) as u64)),
            net_pence: net,
            vat_pence: vat,
            vat_reclaimable: rng.below(4) != 0,
            ni_eu_goods_acquisition: rng.below(6) == 0,
            capital_item: rng.below(4) == 0,
            relevant_goods: rng.below(2) == 0,
            gross_pence: net + vat,
        }
    }

    pub(crate) fn random_scheme(rng: &mut Rng) -> Scheme {
        let basis = if rng.below(2) == 0 {
            Basis::Accrual
        } else {
            Basis::Cash
        };
        match rng.below(3) {
            0 => Scheme::Standard { basis },
            1 => Scheme::FlatRate {
                sector: FlatRateSector::Sector {
                    id: flat_rate::sectors()[rng.below(56) as usize].id.to_string(),
                },
                registered_on: rng.date() - chrono::Days::new(365),
                basis,
            },
            _ => Scheme::FlatRate {
                sector: FlatRateSector::BasisPoints {
                    basis_points: rng.below(2_001),
                },
                registered_on: rng.date() - chrono::Days::new(200),
                basis,
            },
        }
    }

    /// The invariants every return keeps, whatever went in.
    pub(crate) fn assert_consistent(r: &VatReturn) {
        let b = &r.boxes;
        assert_eq!(b.box3, b.box1 + b.box2);
        assert_eq!(b.box5, (b.box3 - b.box4).abs());
        let expected = match b.box3.cmp(&b.box4) {
            std::cmp::Ordering::Greater => Direction::Payable,
            std::cmp::Ordering::Less => Direction::Repayable,
            std::cmp::Ordering::Equal => Direction::Nil,
        };
        assert_eq!(r.direction, expected);
        let s = &r.submission;
        assert_eq!(
            [s.vat_due_sales, s.vat_due_acquisitions, s.total_vat_due],
            [
                PenceAsPounds(b.box1),
                PenceAsPounds(b.box2),
                PenceAsPounds(b.box3)
            ]
        );
        assert_eq!(
            [s.vat_reclaimed_curr_period, s.net_vat_due],
            [PenceAsPounds(b.box4), PenceAsPounds(b.box5)]
        );
        assert_eq!(
            [
                s.total_value_sales_ex_vat,
                s.total_value_purchases_ex_vat,
                s.total_value_goods_supplied_ex_vat,
                s.total_acquisitions_ex_vat
            ],
            [b.box6, b.box7, b.box8, b.box9]
        );
        assert!(s.net_vat_due.0 >= 0);
        if let Some(w) = &r.flat_rate {
            assert_eq!(w.vat, b.box1);
            assert_eq!(w.parts.iter().map(|p| p.vat).sum::<i64>(), w.vat);
            assert_eq!(
                w.parts.iter().map(|p| p.turnover_inclusive).sum::<i64>(),
                w.turnover_inclusive
            );
        }
    }

    #[test]
    fn random_returns_keep_the_box_identities() {
        let mut rng = Rng::new(0x5EED_1234);
        let periods = [
            q1(),
            q2(),
            period(d(2025, 2, 1), d(2025, 2, 28), "25B2"),
            period(d(2025, 1, 15), d(2025, 4, 14), "25X1"),
        ];
        for _ in 0..400 {
            let sales: Vec<Sale> = (0..rng.below(12)).map(|_| random_sale(&mut rng)).collect();
            let purchases: Vec<Purchase> = (0..rng.below(12))
                .map(|_| random_purchase(&mut rng))
                .collect();
            let scheme = random_scheme(&mut rng);
            for p in &periods {
                assert_consistent(&vat_return(p, &scheme, &sales, &purchases).unwrap());
            }
        }
    }

    #[test]
    fn cash_equals_accrual_when_everything_is_paid_on_its_date() {
        // With every invoice paid in full on its tax point and every expense paid on its date,
        // the two bases must agree to the penny: the cumulative apportionment leaves nothing
        // over.
        let mut rng = Rng::new(77);
        for _ in 0..300 {
            let sales: Vec<Sale> = (0..rng.below(10))
                .map(|_| {
                    let mut s = random_sale(&mut rng);
                    s.payments = vec![(s.tax_point, s.total_pence)];
                    s
                })
                .collect();
            let purchases: Vec<Purchase> = (0..rng.below(10))
                .map(|_| {
                    let p = random_purchase(&mut rng);
                    Purchase {
                        paid_on: Some(p.date),
                        ..p
                    }
                })
                .collect();
            let scheme = random_scheme(&mut rng);
            let (accrual, cash) = match scheme {
                Scheme::Standard { .. } => (ACCRUAL, CASH),
                Scheme::FlatRate {
                    sector,
                    registered_on,
                    ..
                } => (
                    Scheme::FlatRate {
                        sector: sector.clone(),
                        registered_on,
                        basis: Basis::Accrual,
                    },
                    Scheme::FlatRate {
                        sector,
                        registered_on,
                        basis: Basis::Cash,
                    },
                ),
            };
            for p in [q1(), q2()] {
                let a = vat_return(&p, &accrual, &sales, &purchases).unwrap();
                let c = vat_return(&p, &cash, &sales, &purchases).unwrap();
                assert_eq!(a.boxes, c.boxes);
                assert_eq!(a.flat_rate, c.flat_rate);
            }
        }
    }
}
