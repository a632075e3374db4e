//! What an invoice or credit note shows, laid out for the PDF renderer: every figure comes from
//! the document's stored totals (the one totals function's), formatted by the renderer's one
//! money formatter, so screen, PDF and VAT figures cannot differ.

use chrono::NaiveDate;

use super::{
    lines::{DocumentLine, DocumentTotals, REVERSE_CHARGE_WORDING},
    money::{RateTotal, VatRate},
    parties::Party,
    pdf::{self, PdfDocument, PdfLine},
};

/// "7 December 2026".
pub fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// A unit price in pounds (up to 4 places) as money: at least the pennies, "£0.125" kept.
pub fn unit_price(p: super::money::UnitPrice) -> String {
    let s: String = p.into();
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let pounds: i64 = int.parse().unwrap_or_default();
    let whole = pdf::format_pence(pounds * 100);
    let grouped = whole.trim_end_matches(".00");
    format!("{grouped}.{frac:0<2}")
}

pub fn rate_label(rate: VatRate) -> &'static str {
    match rate {
        VatRate::Standard => "20%",
        VatRate::Reduced => "5%",
        VatRate::Zero => "Zero rated (0%)",
        VatRate::Exempt => "Exempt",
        VatRate::OutsideScope => "Outside the scope of VAT",
        VatRate::ReverseCharge => "Reverse charge (20%)",
    }
}

fn party(p: &Party) -> pdf::Party {
    pdf::Party {
        name: p.name.clone(),
        address_lines: p.address_lines.clone(),
        vat_number: p.vat_number.clone(),
        email: p.email.clone(),
        phone: p.phone.clone(),
    }
}

/// The parts every document of the business has in common.
pub struct Parts<'a> {
    pub title: &'a str,
    pub number: Option<&'a str>,
    pub supplier: &'a Party,
    pub customer: &'a Party,
    pub dates: Vec<(String, String)>,
    pub vat_registered: bool,
    pub lines: &'a [DocumentLine],
    pub totals: &'a DocumentTotals,
    /// What the document adds at the end (terms, payment details, the credited invoice).
    pub notes: Vec<String>,
    pub logo: Option<pdf::Logo>,
}

pub fn document(p: Parts<'_>) -> PdfDocument {
    let lines = p
        .lines
        .iter()
        .map(|l| PdfLine {
            description: l.description.clone(),
            quantity: String::from(l.quantity),
            unit_price: unit_price(l.unit_price),
            vat_rate: l.vat_rate.map(|r| rate_label(r).to_owned()),
            net_pence: l.net_pence,
            vat_pence: p.vat_registered.then_some(l.vat_pence),
        })
        .collect();
    let vat_summary = p
        .totals
        .by_rate
        .iter()
        .map(|r: &RateTotal| (rate_label(r.rate).to_owned(), r.net, r.vat))
        .collect();
    let mut totals = Vec::new();
    let mut notes = Vec::new();
    if p.vat_registered {
        totals.push(("Total excluding VAT".to_owned(), p.totals.net_pence));
        totals.push(("VAT".to_owned(), p.totals.vat_pence));
        if p.totals.reverse_charge_vat_pence > 0
            || p.lines
                .iter()
                .any(|l| l.vat_rate == Some(VatRate::ReverseCharge))
        {
            totals.push((
                "Reverse charge VAT (customer to pay to HMRC)".to_owned(),
                p.totals.reverse_charge_vat_pence,
            ));
            notes.push(REVERSE_CHARGE_WORDING.to_owned());
        }
        totals.push(("Total".to_owned(), p.totals.total_pence));
    } else {
        totals.push(("Total".to_owned(), p.totals.total_pence));
    }
    notes.extend(p.notes);
    PdfDocument {
        title: p.title.to_owned(),
        number: p.number.map(str::to_owned),
        supplier: party(p.supplier),
        customer: party(p.customer),
        dates: p.dates,
        lines,
        vat_summary,
        totals,
        notes,
        logo: p.logo,
    }
}

/// "Payment details: sort code 12-34-56, account 12345678".
pub fn bank_note(bank: Option<&(String, String)>) -> Option<String> {
    bank.map(|(sort, account)| {
        format!(
            "Pay by bank transfer to sort code {}-{}-{}, account {account}.",
            &sort[..2],
            &sort[2..4],
            &sort[4..]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_prices_keep_their_places() {
        let p = |s: &str| unit_price(s.parse().expect("a price"));
        assert_eq!(p("19.99"), "£19.99");
        assert_eq!(p("0.125"), "£0.125");
        assert_eq!(p("1250"), "£1,250.00");
        assert_eq!(p("3.5"), "£3.50");
    }

    #[test]
    fn dates_read_as_people_write_them() {
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 12, 7).expect("a date")),
            "7 December 2026"
        );
    }
}
