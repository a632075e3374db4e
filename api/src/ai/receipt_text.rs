//! The built-in reader of receipts and supplier invoices: the text layer of a PDF read by rules
//! (who, when, how much, how much VAT, what kind of cost). It reads what a document states and
//! guesses nothing it cannot point to: `found` says which line each figure came from.

use chrono::NaiveDate;
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiptDraft {
    pub supplier: Option<String>,
    pub date: Option<NaiveDate>,
    pub total_pence: Option<i64>,
    pub vat_pence: Option<i64>,
    pub net_pence: Option<i64>,
    pub category: &'static str,
    pub vat_number: Option<String>,
    pub found: Vec<String>,
}

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:£|gbp\s?)\s?(-?\d{1,3}(?:,\d{3})*(?:\.\d{2})|-?\d+\.\d{2})|(-?\d{1,3}(?:,\d{3})*\.\d{2}|-?\d+\.\d{2})\s?gbp")
        .expect("a valid pattern")
});
static BARE_AMOUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(-?\d{1,3}(?:,\d{3})*\.\d{2})\b").expect("a valid pattern"));
static VRN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bGB\s?(\d{3})\s?(\d{4})\s?(\d{2})\b").expect("a valid pattern")
});
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b|\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
        .expect("a valid pattern")
});
static WORD_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b")
        .expect("a valid pattern")
});

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn pence(s: &str) -> Option<i64> {
    let clean = s.replace(',', "");
    let (pounds, p) = clean.split_once('.')?;
    let negative = pounds.starts_with('-');
    let pounds: i64 = pounds.trim_start_matches('-').parse().ok()?;
    let p: i64 = p.parse().ok()?;
    let v = pounds.checked_mul(100)?.checked_add(p)?;
    Some(if negative { -v } else { v })
}

/// The amounts on a line, currency-marked ones first.
fn amounts(line: &str) -> Vec<i64> {
    let marked: Vec<i64> = AMOUNT
        .captures_iter(line)
        .filter_map(|c| c.get(1).or(c.get(2)).and_then(|m| pence(m.as_str())))
        .collect();
    if !marked.is_empty() {
        return marked;
    }
    BARE_AMOUNT
        .captures_iter(line)
        .filter_map(|c| pence(&c[1]))
        .collect()
}

fn dates(line: &str) -> Vec<NaiveDate> {
    let mut out: Vec<NaiveDate> = NUMERIC_DATE
        .captures_iter(line)
        .filter_map(|c| {
            let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
            match (n(1), n(2), n(3)) {
                (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d),
                _ => NaiveDate::from_ymd_opt(n(6)? as i32, n(5)?, n(4)?),
            }
        })
        .collect();
    out.extend(WORD_DATE.captures_iter(line).filter_map(|c| {
        let month = |s: &str| {
            MONTHS
                .iter()
                .position(|m| s.to_lowercase().starts_with(m))
                .map(|i| i as u32 + 1)
        };
        if let (Some(d), Some(m), Some(y)) = (c.get(1), c.get(2), c.get(3)) {
            NaiveDate::from_ymd_opt(
                y.as_str().parse().ok()?,
                month(m.as_str())?,
                d.as_str().parse().ok()?,
            )
        } else {
            NaiveDate::from_ymd_opt(
                c.get(6)?.as_str().parse().ok()?,
                month(c.get(4)?.as_str())?,
                c.get(5)?.as_str().parse().ok()?,
            )
        }
    }));
    out
}

fn category(text: &str) -> &'static str {
    let t = text.to_lowercase();
    let rules: &[(&[&str], &'static str)] = &[
        (
            &[
                "fuel", "diesel", "petrol", "train", "rail", "taxi", "uber", "parking", "hotel",
                "mileage",
            ],
            "travel",
        ),
        (
            &[
                "restaurant",
                "cafe",
                "café",
                "lunch",
                "dinner",
                "bar ",
                "pub ",
            ],
            "entertainment",
        ),
        (
            &[
                "accountant",
                "accountancy",
                "solicitor",
                "legal",
                "bookkeeping",
            ],
            "professional_fees",
        ),
        (
            &[
                "advert",
                "facebook ads",
                "google ads",
                "flyers",
                "marketing",
            ],
            "advertising",
        ),
        (
            &["rent", "electricity", "gas", "water rates", "insurance"],
            "premises",
        ),
        (&["repair", "servicing", "maintenance"], "repairs"),
        (
            &[
                "bank charge",
                "card fee",
                "transaction fee",
                "interest charge",
            ],
            "finance_charges",
        ),
        (
            &[
                "software",
                "subscription",
                "stationery",
                "phone",
                "broadband",
                "postage",
                "royal mail",
            ],
            "admin",
        ),
        (
            &[
                "screwfix",
                "toolstation",
                "timber",
                "b&q",
                "materials",
                "fixings",
                "plywood",
            ],
            "cost_of_goods",
        ),
    ];
    rules
        .iter()
        .find(|(words, _)| words.iter().any(|w| t.contains(w)))
        .map_or("other", |(_, c)| c)
}

fn is_label(line: &str) -> bool {
    let l = line.to_lowercase();
    [
        "invoice",
        "receipt",
        "vat invoice",
        "tax invoice",
        "credit note",
        "page ",
    ]
    .iter()
    .any(|w| l == *w || l.starts_with(&format!("{w} ")) && l.len() < 25)
        || !amounts(line).is_empty()
        || !dates(line).is_empty()
        || line.chars().filter(|c| c.is_alphabetic()).count() < 2
}

/// "Total excluding VAT", "ex VAT": a net figure.
fn excluding(l: &str) -> bool {
    l.contains("excluding vat")
        || l.contains("ex vat")
        || l.contains("excl. vat")
        || l.contains("excl vat")
}

pub fn read_receipt(text: &str, today: NaiveDate) -> ReceiptDraft {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    let mut r = ReceiptDraft {
        category: category(text),
        ..Default::default()
    };
    let candidates: Vec<&String> = lines.iter().filter(|l| !is_label(l)).take(5).collect();
    r.supplier = candidates
        .iter()
        .find(|l| {
            let l = l.to_lowercase();
            l.contains(" ltd") || l.contains("limited") || l.contains(" plc") || l.contains(" llp")
        })
        .or(candidates.first())
        .map(|l| l.chars().take(200).collect());
    if let Some(s) = &r.supplier {
        r.found.push(format!("supplier from the line '{s}'"));
    }
    let latest = today + chrono::Duration::days(1);
    let dated = |want: &dyn Fn(&str) -> bool| {
        lines
            .iter()
            .filter(|l| want(&l.to_lowercase()))
            .flat_map(|l| dates(l).into_iter().map(move |d| (d, l)))
            .find(|(d, _)| *d <= latest)
    };
    if let Some((d, l)) =
        dated(&|l: &str| l.contains("date") || l.contains("tax point")).or_else(|| dated(&|_| true))
    {
        r.date = Some(d);
        r.found.push(format!("date {d} from the line '{l}'"));
    }
    r.vat_number = VRN
        .captures(text)
        .map(|c| format!("GB{}{}{}", &c[1], &c[2], &c[3]));
    // Figures: the last amount on the line that names them.
    let figure = |rank: &dyn Fn(&str) -> Option<u8>| {
        // A label's amount is on its line, or (in a two-column layout) on the next one.
        lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let rank = rank(&l.to_lowercase())?;
                let here = amounts(l).last().copied();
                let next = || lines.get(i + 1).and_then(|n| amounts(n).first().copied());
                here.or_else(next).map(|a| (rank, a, l))
            })
            .min_by_key(|(rank, _, _)| *rank)
    };
    let total = figure(&|l: &str| {
        if l.contains("subtotal")
            || l.contains("sub-total")
            || l.contains("sub total")
            || excluding(l)
        {
            None
        } else if [
            "total due",
            "amount due",
            "grand total",
            "balance due",
            "total to pay",
            "inc vat",
            "incl. vat",
            "including vat",
        ]
        .iter()
        .any(|w| l.contains(w))
        {
            Some(0)
        } else if l.contains("total") {
            Some(1)
        } else {
            None
        }
    });
    let vat = figure(&|l: &str| {
        let about_number = ["vat number", "vat reg", "vat no", "vat registration"]
            .iter()
            .any(|w| l.contains(w));
        (l.contains("vat")
            && !about_number
            && !excluding(l)
            && !l.contains("inc")
            && !l.contains("total due"))
        .then_some(0)
    });
    let net = figure(&|l: &str| {
        (l.contains("subtotal") || l.contains("sub-total") || l.contains("net") || excluding(l))
            .then_some(0)
    });
    for (name, f) in [("total", &total), ("VAT", &vat), ("net", &net)] {
        if let Some((_, a, l)) = f {
            r.found.push(format!(
                "{name} £{}.{:02} from the line '{l}'",
                a / 100,
                a % 100
            ));
        }
    }
    r.total_pence = total.map(|t| t.1);
    r.vat_pence = vat
        .map(|v| v.1)
        .filter(|v| r.total_pence.is_none_or(|t| *v < t));
    r.net_pence = net
        .map(|n| n.1)
        .filter(|n| r.total_pence.is_none_or(|t| *n <= t));
    match (r.total_pence, r.vat_pence, r.net_pence) {
        (Some(t), Some(v), None) => r.net_pence = Some(t - v),
        (Some(t), None, Some(n)) => r.vat_pence = Some(t - n),
        (None, Some(v), Some(n)) => r.total_pence = Some(n + v),
        (Some(t), Some(v), Some(n)) if n + v != t => r.net_pence = Some(t - v),
        _ => {}
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, 20).unwrap()
    }

    #[test]
    fn a_trade_counter_receipt() {
        let r = read_receipt(
            "SCREWFIX DIRECT LTD\nTrade counter, Bristol\nDate: 14/03/2027\nTimber 2x4 x6   £30.00\nFixings   £15.00\nSubtotal £45.00\nVAT 20% £9.00\nTotal £54.00\nVAT No: GB 123 4567 89\n",
            today(),
        );
        assert_eq!(r.supplier.as_deref(), Some("SCREWFIX DIRECT LTD"));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2027, 3, 14));
        assert_eq!(
            (r.total_pence, r.vat_pence, r.net_pence),
            (Some(5400), Some(900), Some(4500))
        );
        assert_eq!(r.category, "cost_of_goods");
        assert_eq!(r.vat_number.as_deref(), Some("GB123456789"));
    }

    #[test]
    fn an_accountants_invoice_and_a_train_ticket() {
        let r = read_receipt(
            "Invoice\nSmith & Co Accountants LLP\nInvoice date 2 March 2027\nBookkeeping, February   500.00\nVAT at 20%   100.00\nTotal due   £600.00\n",
            today(),
        );
        assert_eq!(r.supplier.as_deref(), Some("Smith & Co Accountants LLP"));
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2027, 3, 2));
        assert_eq!(
            (r.total_pence, r.vat_pence, r.net_pence),
            (Some(60_000), Some(10_000), Some(50_000))
        );
        assert_eq!(r.category, "professional_fees");
        let t = read_receipt(
            "GWR Rail\nTicket: Bristol to London\nMar 18, 2027\nTotal GBP 89.40\n",
            today(),
        );
        assert_eq!(
            (t.total_pence, t.vat_pence, t.category),
            (Some(8940), None, "travel")
        );
        assert_eq!(t.date, NaiveDate::from_ymd_opt(2027, 3, 18));
    }

    #[test]
    fn nothing_is_invented_from_noise() {
        let r = read_receipt("%%%%\n\u{0}\n12\n", today());
        assert_eq!((r.supplier, r.total_pence, r.date), (None, None, None));
        assert_eq!(read_receipt("", today()).category, "other");
    }
}
