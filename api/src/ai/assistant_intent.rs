//! What a question to the business assistant asks about, and for which period: plain keyword
//! rules, so the built-in provider answers the common questions offline and a model only words
//! figures computed here.

use chrono::{Datelike, Months, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    VatDue,
    Profit,
    Unpaid,
    Spending,
    Income,
    Unknown,
}

fn has(q: &str, words: &[&str]) -> bool {
    words.iter().any(|w| q.contains(w))
}

pub fn intent(question: &str) -> Intent {
    let q = format!(
        " {} ",
        question.to_lowercase().replace(['?', '!', ',', '.'], " ")
    );
    if has(&q, &[" vat ", "hmrc", "vat return"]) {
        Intent::VatDue
    } else if has(
        &q,
        &[
            "owe me",
            "owes me",
            "unpaid",
            "overdue",
            "outstanding",
            "hasn't paid",
            "haven't paid",
            "not paid",
            "who owes",
        ],
    ) {
        Intent::Unpaid
    } else if has(&q, &["profit", " made ", " net ", "take home", "earn"]) {
        Intent::Profit
    } else if has(&q, &[" spend", " spent", "expense", " cost", "bought"]) {
        Intent::Spending
    } else if has(
        &q,
        &[
            "income", "turnover", "sales", "revenue", "invoiced", "received",
        ],
    ) {
        Intent::Income
    } else {
        Intent::Unknown
    }
}

fn quarter_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month0() / 3 * 3 + 1, 1).unwrap_or(d)
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(d)
}

fn back(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n)).unwrap_or(d)
}

/// The UK tax year (6 April to 5 April) holding `d`.
fn tax_year_start(d: NaiveDate) -> NaiveDate {
    let this = NaiveDate::from_ymd_opt(d.year(), 4, 6).unwrap_or(d);
    if d >= this {
        this
    } else {
        NaiveDate::from_ymd_opt(d.year() - 1, 4, 6).unwrap_or(d)
    }
}

/// The period a question means, inclusive, with its label; by default this quarter for VAT
/// (returns are quarterly) and this tax year for everything else.
pub fn period(
    question: &str,
    intent: Intent,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate, &'static str) {
    let q = question.to_lowercase();
    let day_before = |d: NaiveDate| d.pred_opt().unwrap_or(d);
    if q.contains("last quarter") {
        let start = back(quarter_start(today), 3);
        (start, day_before(quarter_start(today)), "last quarter")
    } else if q.contains("this quarter") {
        let start = quarter_start(today);
        (start, day_before(months(start, 3)), "this quarter")
    } else if q.contains("last month") {
        let start = back(month_start(today), 1);
        (start, day_before(month_start(today)), "last month")
    } else if q.contains("this month") {
        let start = month_start(today);
        (start, day_before(months(start, 1)), "this month")
    } else if q.contains("last year") || q.contains("last tax year") {
        let start = back(tax_year_start(today), 12);
        (start, day_before(tax_year_start(today)), "last tax year")
    } else if q.contains("this year") || q.contains("tax year") || intent != Intent::VatDue {
        let start = tax_year_start(today);
        (start, day_before(months(start, 12)), "this tax year")
    } else {
        let start = quarter_start(today);
        (start, day_before(months(start, 3)), "this quarter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn questions_find_their_intent() {
        assert_eq!(intent("What do I owe in VAT this quarter?"), Intent::VatDue);
        assert_eq!(intent("Who owes me money?"), Intent::Unpaid);
        assert_eq!(
            intent("How much profit did I make this year?"),
            Intent::Profit
        );
        assert_eq!(intent("What did I spend last month?"), Intent::Spending);
        assert_eq!(intent("What's my turnover?"), Intent::Income);
        assert_eq!(intent("Tell me a joke"), Intent::Unknown);
    }

    #[test]
    fn periods_follow_the_calendar_and_the_tax_year() {
        let today = d("2027-02-14");
        assert_eq!(
            period("vat this quarter", Intent::VatDue, today),
            (d("2027-01-01"), d("2027-03-31"), "this quarter")
        );
        assert_eq!(period("vat", Intent::VatDue, today).0, d("2027-01-01"));
        assert_eq!(
            period("last quarter", Intent::VatDue, today),
            (d("2026-10-01"), d("2026-12-31"), "last quarter")
        );
        assert_eq!(
            period("last month", Intent::Spending, today),
            (d("2027-01-01"), d("2027-01-31"), "last month")
        );
        assert_eq!(
            period("profit", Intent::Profit, today),
            (d("2026-04-06"), d("2027-04-05"), "this tax year")
        );
        assert_eq!(
            period("profit", Intent::Profit, d("2027-04-06")).0,
            d("2027-04-06")
        );
        assert_eq!(
            period("profit last year", Intent::Profit, today),
            (d("2025-04-06"), d("2026-04-05"), "last tax year")
        );
    }
}
