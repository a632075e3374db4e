//! Remittance matching: for each credit on a statement, which open invoices it probably
//! pays, with a score and reasons a person can check at a glance.
//!
//! The user confirms every match, so the goal is that the right invoice is first and the
//! list is short; a wrong top proposal costs more trust than no proposal, hence the
//! threshold. Evidence, strongest first:
//!
//! | signal | points |
//! |---|---|
//! | invoice number (prefix + number, any spacing, case, dashes, leading zeros) | +60 |
//! | zero-padded digits alone (`0042`), not glued to other letters | +40 |
//! | amount equals the outstanding balance | +30 |
//! | ... and no other open invoice has that amount | +10 |
//! | every significant word of the client name appears | +20, +3 per word (max +30) |
//! | at least half the words, one of them distinctive, appear | up to +20 pro rata |
//! | credit dated within [invoice date − 7 days, due date + 90 days] | +5 |
//! | credit dated outside that window | −40 |
//! | credit larger than the outstanding balance | −15 |
//!
//! Scores are clamped to 0–100 and only those ≥ [`PROPOSAL_THRESHOLD`] are proposed. The
//! threshold lets an exact and unique amount stand on its own (30 + 10 + 5) but not an
//! exact amount shared by several invoices, nor a name without an amount.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{clean_text, format_pounds, StatementLine};

pub const REFERENCE_POINTS: i32 = 60;
pub const BARE_NUMBER_POINTS: i32 = 40;
pub const EXACT_AMOUNT_POINTS: i32 = 30;
pub const UNIQUE_AMOUNT_POINTS: i32 = 10;
pub const NAME_BASE_POINTS: i32 = 20;
pub const NAME_WORD_POINTS: i32 = 3;
pub const NAME_MAX_POINTS: i32 = 30;
pub const DATE_IN_WINDOW_POINTS: i32 = 5;
pub const DATE_OUT_OF_WINDOW_POINTS: i32 = -40;
pub const OVERPAYMENT_POINTS: i32 = -15;
/// Days before the invoice date a payment is still plausible (pro-forma, early payers).
pub const EARLY_DAYS: i64 = 7;
/// Days after the due date a payment is still plausible (late payers).
pub const LATE_DAYS: i64 = 90;
/// Payment terms assumed when an invoice has no due date.
pub const DEFAULT_TERMS_DAYS: i64 = 30;
pub const PROPOSAL_THRESHOLD: u8 = 40;
pub const MAX_PROPOSALS: usize = 3;

/// A stored statement line: matching needs the id to report against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BankLine {
    pub id: Uuid,
    #[serde(flatten)]
    pub line: StatementLine,
}

/// An invoice that still has money owing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenInvoice {
    pub id: Uuid,
    /// As printed on the invoice, e.g. `INV-0042`.
    pub number: String,
    pub client_name: String,
    pub outstanding_pence: i64,
    pub invoice_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
}

/// One candidate invoice for a credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Proposal {
    pub invoice_id: Uuid,
    /// 0–100.
    pub score: u8,
    pub reasons: Vec<String>,
    /// What to record against the invoice: never more than is outstanding.
    pub amount_pence: i64,
    /// The invoice number (or its padded digits) was found; [`assign`] prefers these.
    pub reference_match: bool,
    /// Credit date minus invoice date; [`assign`] prefers the closest.
    pub days_after_invoice: i64,
}

/// Proposals for one statement line, best first (empty for debits and unmatched credits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineProposals {
    pub line_id: Uuid,
    pub proposals: Vec<Proposal>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Alpha,
    Digits,
}

/// A maximal run of letters or digits. `separator` is the last non-alphanumeric character
/// before it, `None` when it touches the previous run (`INV0042`, `PO42`).
#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    text: String,
    separator: Option<char>,
}

impl Token {
    /// Digits compare by value so `0042`, `042` and `42` are the same number.
    fn value(&self) -> &str {
        let trimmed = self.text.trim_start_matches('0');
        if trimmed.is_empty() && !self.text.is_empty() {
            "0"
        } else {
            trimmed
        }
    }
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut separator: Option<char> = Some(' ');
    for c in text.chars() {
        let kind = if c.is_ascii_digit() {
            Kind::Digits
        } else if c.is_alphabetic() {
            Kind::Alpha
        } else {
            separator = Some(c);
            continue;
        };
        match out.last_mut() {
            Some(last) if separator.is_none() && last.kind == kind => {
                last.text.extend(c.to_lowercase());
            }
            _ => out.push(Token {
                kind,
                text: c.to_lowercase().collect(),
                separator: separator.take(),
            }),
        }
    }
    out
}

/// Words customers use in place of the invoice's own prefix.
const INVOICE_WORDS: &[&str] = &["inv", "invoice", "invno", "invoices"];
/// Words that may sit between the prefix and the number ("Invoice No. 42").
const NUMBER_FILLERS: &[&str] = &["no", "nr", "num", "number", "ref"];
/// Legal-form and filler words that carry no identity.
const NAME_STOP_WORDS: &[&str] = &[
    "ltd", "limited", "plc", "llp", "lp", "llc", "inc", "co", "company", "and", "the", "of", "uk",
    "t", "a",
];
/// Words many unrelated businesses share; they count towards a full name match but cannot
/// carry a partial one alone.
const GENERIC_NAME_WORDS: &[&str] = &[
    "services",
    "service",
    "consulting",
    "consultancy",
    "design",
    "designs",
    "solutions",
    "studio",
    "studios",
    "media",
    "digital",
    "partners",
    "associates",
    "holdings",
    "group",
    "properties",
    "enterprises",
    "systems",
    "technologies",
    "international",
    "global",
    "trading",
    "sons",
    "shop",
    "cafe",
];

/// What is pre-computed once per invoice.
struct InvoiceKey<'a> {
    invoice: &'a OpenInvoice,
    number_tokens: Vec<Token>,
    /// Padded digits of the number (`0042`), matched alone when at least 3 long.
    padded_digits: Option<String>,
    name_words: Vec<String>,
}

impl<'a> InvoiceKey<'a> {
    fn new(invoice: &'a OpenInvoice) -> Self {
        let mut number_tokens = tokens(&invoice.number);
        // A bare number such as `42` would match any amount or date in the narrative, so a
        // number made of one digit run only counts through the padded-digits rule.
        let has_letters = number_tokens.iter().any(|t| t.kind == Kind::Alpha);
        let digit_runs = number_tokens
            .iter()
            .filter(|t| t.kind == Kind::Digits)
            .count();
        let padded_source = number_tokens.clone();
        if !has_letters && digit_runs < 2 {
            number_tokens.clear();
        }
        let padded_digits = padded_source
            .iter()
            .rev()
            .find(|t| t.kind == Kind::Digits)
            .map(|t| t.text.clone())
            .filter(|d| d.len() >= 3);
        let mut name_words: Vec<String> = Vec::new();
        for token in tokens(&invoice.client_name) {
            if token.text.chars().count() >= 2
                && !NAME_STOP_WORDS.contains(&token.text.as_str())
                && !name_words.contains(&token.text)
            {
                name_words.push(token.text);
            }
        }
        Self {
            invoice,
            number_tokens,
            padded_digits,
            name_words,
        }
    }
}

fn alpha_equivalent(expected: &str, found: &str) -> bool {
    expected == found || (INVOICE_WORDS.contains(&expected) && INVOICE_WORDS.contains(&found))
}

/// Whether the invoice number appears as a whole: every token in order, letters equal (or
/// both an "invoice" word), numbers equal by value, separators free. Digit runs are
/// maximal, so `INV-00421` can never match `INV-0042`.
fn number_appears(number: &[Token], text: &[Token]) -> bool {
    if number.is_empty() {
        return false;
    }
    (0..text.len()).any(|start| {
        let mut position = start;
        for (i, expected) in number.iter().enumerate() {
            let Some(found) = text.get(position) else {
                return false;
            };
            let fits = match expected.kind {
                Kind::Alpha => {
                    found.kind == Kind::Alpha && alpha_equivalent(&expected.text, &found.text)
                }
                Kind::Digits => found.kind == Kind::Digits && found.value() == expected.value(),
            };
            if !fits {
                return false;
            }
            position += 1;
            let next_is_digits = number.get(i + 1).is_some_and(|t| t.kind == Kind::Digits);
            if expected.kind == Kind::Alpha && next_is_digits {
                while text.get(position).is_some_and(|t| {
                    t.kind == Kind::Alpha && NUMBER_FILLERS.contains(&t.text.as_str())
                }) {
                    position += 1;
                }
            }
        }
        true
    })
}

/// Padded digits standing alone: not glued to letters (`PO0042` is another document) and
/// not part of a decimal amount (`12.0042`, `0042.50`).
fn padded_digits_appear(padded: &str, text: &[Token]) -> bool {
    text.iter().enumerate().any(|(i, token)| {
        if token.kind != Kind::Digits || token.text != padded {
            return false;
        }
        let glued_to_letters =
            token.separator.is_none() && i > 0 && text[i - 1].kind == Kind::Alpha;
        let after_decimal_point = matches!(token.separator, Some('.') | Some(','))
            && i > 0
            && text[i - 1].kind == Kind::Digits;
        let before_decimals = text.get(i + 1).is_some_and(|next| {
            next.kind == Kind::Digits && matches!(next.separator, Some('.') | Some(','))
        });
        !glued_to_letters && !after_decimal_point && !before_decimals
    })
}

/// The text of a line in the places a payer's reference can be.
struct LineText {
    reference: Vec<Token>,
    description: Vec<Token>,
    words: HashSet<String>,
}

impl LineText {
    fn new(line: &StatementLine) -> Self {
        let reference = tokens(line.reference.as_deref().unwrap_or_default());
        let description = tokens(&line.description);
        let counterparty = tokens(line.counterparty.as_deref().unwrap_or_default());
        let words = reference
            .iter()
            .chain(&description)
            .chain(&counterparty)
            .filter(|t| t.kind == Kind::Alpha)
            .map(|t| t.text.clone())
            .collect();
        Self {
            reference,
            description,
            words,
        }
    }
}

struct Scored {
    raw: i32,
    proposal: Proposal,
}

fn score(
    line: &StatementLine,
    text: &LineText,
    key: &InvoiceKey<'_>,
    amount_counts: &HashMap<i64, usize>,
) -> Scored {
    let invoice = key.invoice;
    let mut raw = 0;
    let mut reasons = Vec::new();
    let mut reference_match = false;

    let places = [
        ("reference", &text.reference),
        ("description", &text.description),
    ];
    if let Some((place, _)) = places
        .iter()
        .find(|(_, tokens)| number_appears(&key.number_tokens, tokens))
    {
        raw += REFERENCE_POINTS;
        reference_match = true;
        reasons.push(format!(
            "reference {} appears in the {place}",
            invoice.number
        ));
    } else if let Some(padded) = &key.padded_digits {
        if let Some((place, _)) = places
            .iter()
            .find(|(_, tokens)| padded_digits_appear(padded, tokens))
        {
            raw += BARE_NUMBER_POINTS;
            reference_match = true;
            reasons.push(format!(
                "number {padded} of {} appears in the {place}",
                invoice.number
            ));
        }
    }

    let credit = line.amount_pence;
    let outstanding = invoice.outstanding_pence;
    if credit == outstanding {
        raw += EXACT_AMOUNT_POINTS;
        reasons.push(format!(
            "amount {} equals the outstanding balance",
            format_pounds(credit)
        ));
        if amount_counts.get(&outstanding).copied().unwrap_or(0) == 1 {
            raw += UNIQUE_AMOUNT_POINTS;
            reasons.push("no other open invoice has this amount".to_owned());
        }
    } else if credit > outstanding {
        raw += OVERPAYMENT_POINTS;
        reasons.push(format!(
            "amount {} exceeds the outstanding {}",
            format_pounds(credit),
            format_pounds(outstanding)
        ));
    } else {
        reasons.push(format!(
            "part payment: {} of {} outstanding",
            format_pounds(credit),
            format_pounds(outstanding)
        ));
    }

    let total = key.name_words.len();
    let matched: Vec<&String> = key
        .name_words
        .iter()
        .filter(|w| text.words.contains(*w))
        .collect();
    if total > 0 && matched.len() == total {
        let words = i32::try_from(total).unwrap_or(i32::MAX);
        raw += (NAME_BASE_POINTS + NAME_WORD_POINTS.saturating_mul(words)).min(NAME_MAX_POINTS);
        reasons.push(format!("client name '{}' appears", invoice.client_name));
    } else if total >= 2
        && matched.len() * 2 >= total
        && matched
            .iter()
            .any(|w| !GENERIC_NAME_WORDS.contains(&w.as_str()))
    {
        let share = NAME_BASE_POINTS * i32::try_from(matched.len()).unwrap_or(0)
            / i32::try_from(total).unwrap_or(1).max(1);
        raw += share;
        reasons.push(format!(
            "client name '{}' partly appears ({} of {total} words)",
            invoice.client_name,
            matched.len()
        ));
    }

    let days = (line.date - invoice.invoice_date).num_days();
    let window_start = invoice.invoice_date - Duration::days(EARLY_DAYS);
    let due = invoice
        .due_date
        .unwrap_or(invoice.invoice_date + Duration::days(DEFAULT_TERMS_DAYS));
    let window_end = due + Duration::days(LATE_DAYS);
    let when = match days {
        0 => "paid on the invoice date".to_owned(),
        1 => "paid 1 day after the invoice date".to_owned(),
        -1 => "paid 1 day before the invoice date".to_owned(),
        d if d > 0 => format!("paid {d} days after the invoice date"),
        d => format!("paid {} days before the invoice date", -d),
    };
    if line.date >= window_start && line.date <= window_end {
        raw += DATE_IN_WINDOW_POINTS;
        reasons.push(when);
    } else {
        raw += DATE_OUT_OF_WINDOW_POINTS;
        reasons.push(format!(
            "{when}, outside the expected {window_start} to {window_end}"
        ));
    }

    Scored {
        raw,
        proposal: Proposal {
            invoice_id: invoice.id,
            score: u8::try_from(raw.clamp(0, 100)).unwrap_or(0),
            reasons,
            amount_pence: credit.min(outstanding),
            reference_match,
            days_after_invoice: days,
        },
    }
}

/// Proposes invoices for every line, in input order; debits and lines with nothing
/// convincing get an empty list.
pub fn propose(lines: &[BankLine], invoices: &[OpenInvoice]) -> Vec<LineProposals> {
    let open: Vec<&OpenInvoice> = invoices
        .iter()
        .filter(|i| i.outstanding_pence > 0)
        .collect();
    let keys: Vec<InvoiceKey<'_>> = open.iter().map(|i| InvoiceKey::new(i)).collect();
    let mut amount_counts: HashMap<i64, usize> = HashMap::new();
    for invoice in &open {
        *amount_counts.entry(invoice.outstanding_pence).or_insert(0) += 1;
    }
    lines
        .iter()
        .map(|line| LineProposals {
            line_id: line.id,
            proposals: propose_with(&line.line, &keys, &amount_counts),
        })
        .collect()
}

/// Proposals for a single line, best first.
pub fn propose_for_line(line: &StatementLine, invoices: &[OpenInvoice]) -> Vec<Proposal> {
    let bank_line = BankLine {
        id: Uuid::nil(),
        line: line.clone(),
    };
    propose(std::slice::from_ref(&bank_line), invoices)
        .into_iter()
        .next()
        .map(|p| p.proposals)
        .unwrap_or_default()
}

fn propose_with(
    line: &StatementLine,
    keys: &[InvoiceKey<'_>],
    amount_counts: &HashMap<i64, usize>,
) -> Vec<Proposal> {
    if line.amount_pence <= 0 {
        return Vec::new();
    }
    let text = LineText::new(line);
    let mut scored: Vec<(Scored, &str)> = keys
        .iter()
        .map(|key| {
            (
                score(line, &text, key, amount_counts),
                key.invoice.number.as_str(),
            )
        })
        .filter(|(s, _)| s.proposal.score >= PROPOSAL_THRESHOLD)
        .collect();
    // The raw score orders proposals that both clamp to 100.
    scored.sort_by(|(a, a_number), (b, b_number)| {
        b.raw
            .cmp(&a.raw)
            .then(b.proposal.reference_match.cmp(&a.proposal.reference_match))
            .then(
                a.proposal
                    .days_after_invoice
                    .abs()
                    .cmp(&b.proposal.days_after_invoice.abs()),
            )
            .then(a_number.cmp(b_number))
    });
    scored
        .into_iter()
        .take(MAX_PROPOSALS)
        .map(|(s, _)| s.proposal)
        .collect()
}

/// Picks at most one invoice per line and one line per invoice, so two equal credits do
/// not both claim the same invoice when a second equal invoice is there to take.
///
/// Greedy by score, then reference match, then date closeness; afterwards a line left
/// without an invoice may take one from another line that can move to a free alternative
/// without lowering the total score. Returned in input order as `(line_id, invoice_id)`.
pub fn assign(proposals: &[LineProposals]) -> Vec<(Uuid, Uuid)> {
    let mut candidates: Vec<(usize, usize)> = proposals
        .iter()
        .enumerate()
        .flat_map(|(line, p)| (0..p.proposals.len()).map(move |rank| (line, rank)))
        .collect();
    let proposal = |(line, rank): (usize, usize)| &proposals[line].proposals[rank];
    candidates.sort_by_key(|&(line, rank)| {
        let p = proposal((line, rank));
        (
            Reverse(p.score),
            Reverse(p.reference_match),
            p.days_after_invoice.abs(),
            line,
            rank,
        )
    });

    let mut chosen: Vec<Option<usize>> = vec![None; proposals.len()];
    let mut holder: HashMap<Uuid, usize> = HashMap::new();
    for (line, rank) in candidates {
        let invoice = proposal((line, rank)).invoice_id;
        if chosen[line].is_none() && !holder.contains_key(&invoice) {
            chosen[line] = Some(rank);
            holder.insert(invoice, line);
        }
    }

    for line in 0..proposals.len() {
        if chosen[line].is_some() {
            continue;
        }
        for (rank, wanted) in proposals[line].proposals.iter().enumerate() {
            let Some(&other) = holder.get(&wanted.invoice_id) else {
                continue;
            };
            let Some(other_rank) = chosen[other] else {
                continue;
            };
            let current = u32::from(proposals[other].proposals[other_rank].score);
            let alternative = proposals[other]
                .proposals
                .iter()
                .enumerate()
                .find(|(_, alt)| {
                    !holder.contains_key(&alt.invoice_id)
                        && u32::from(alt.score) + u32::from(wanted.score) > current
                });
            if let Some((alt_rank, alt)) = alternative {
                holder.insert(alt.invoice_id, other);
                chosen[other] = Some(alt_rank);
                holder.insert(wanted.invoice_id, line);
                chosen[line] = Some(rank);
                break;
            }
        }
    }

    chosen
        .iter()
        .enumerate()
        .filter_map(|(line, rank)| {
            rank.map(|r| {
                (
                    proposals[line].line_id,
                    proposals[line].proposals[r].invoice_id,
                )
            })
        })
        .collect()
}

/// Narrative prefixes that describe the payment method, not the supplier.
const PAYMENT_NOISE: &[&str] = &[
    "card",
    "payment",
    "payments",
    "to",
    "direct",
    "debit",
    "dd",
    "pos",
    "vis",
    "visa",
    "contactless",
    "purchase",
    "bp",
    "so",
    "deb",
    "fpo",
    "chq",
    "cd",
    "bcc",
    "online",
    "transaction",
    "standing",
    "order",
];

/// Suggests a supplier and description for recording a debit as an expense.
///
/// The counterparty, when the bank gives one, is the supplier; otherwise it is the first
/// words of the narrative after payment-method noise, stopping at the first word with a
/// digit (card numbers, dates, store numbers).
pub fn debit_to_expense_suggestion(line: &StatementLine) -> (String, String) {
    let description = if line.description.is_empty() {
        clean_text(line.reference.as_deref().unwrap_or_default())
    } else {
        line.description.clone()
    };
    if let Some(counterparty) = line.counterparty.as_deref().filter(|c| !c.is_empty()) {
        return (counterparty.to_owned(), description);
    }
    let words: Vec<&str> = line
        .description
        .split_whitespace()
        .skip_while(|w| PAYMENT_NOISE.contains(&w.to_lowercase().as_str()))
        .take_while(|w| !w.chars().any(|c| c.is_ascii_digit()) && !w.eq_ignore_ascii_case("on"))
        .take(4)
        .collect();
    let supplier = words
        .iter()
        .map(|w| {
            let lower = w.to_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ");
    let supplier = if supplier.is_empty() {
        line.description.clone()
    } else {
        supplier
    };
    (supplier, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn invoice(n: u128, number: &str, client: &str, pence: i64, on: NaiveDate) -> OpenInvoice {
        OpenInvoice {
            id: Uuid::from_u128(n),
            number: number.to_owned(),
            client_name: client.to_owned(),
            outstanding_pence: pence,
            invoice_date: on,
            due_date: Some(on + Duration::days(30)),
        }
    }

    fn credit(n: u128, on: NaiveDate, pence: i64, description: &str) -> BankLine {
        BankLine {
            id: Uuid::from_u128(1000 + n),
            line: StatementLine {
                date: on,
                amount_pence: pence,
                description: description.to_owned(),
                reference: None,
                counterparty: None,
                balance_pence: None,
                fitid: None,
                occurrence: 1,
            },
        }
    }

    fn number_found(number: &str, text: &str) -> bool {
        number_appears(&tokens(number), &tokens(text))
    }

    #[test]
    fn invoice_number_spellings() {
        for text in [
            "INV-0042",
            "inv42",
            "INV 0042",
            "Inv-42",
            "INV0042",
            "invoice 42",
            "Invoice No. 0042",
            "ACME LTD INV/0042 FPI",
            "inv#42.",
            "PAYMENT INV-042 THANKS",
        ] {
            assert!(number_found("INV-0042", text), "{text}");
        }
        for text in [
            "INV-00421",
            "INV-4200",
            "INV 4 2",
            "CN-0042",
            "42",
            "INVEST 42",
        ] {
            assert!(!number_found("INV-0042", text), "{text}");
        }
        assert!(number_found("2026/017", "ref 2026-17"));
        let on = date(2026, 3, 1);
        let numeric = [invoice(1, "1042", "Acme Ltd", 4_200, on)];
        assert!(
            propose_for_line(&credit(1, on, 4_000, "PAID 1042.00 ACME").line, &numeric).is_empty()
        );
        let found = propose_for_line(&credit(2, on, 4_000, "PAYMENT 1042").line, &numeric);
        assert_eq!(found[0].score, 45);
        let padded = |text: &str| padded_digits_appear("0042", &tokens(text));
        assert!(padded("0042"));
        assert!(padded("REF 0042 ACME"));
        assert!(padded("INV-0041/0042"));
        assert!(!padded("PO0042"));
        assert!(!padded("42"));
        assert!(!padded("12.0042"));
        assert!(!padded("0042.50"));
    }

    #[test]
    fn reference_beats_amount_and_reasons_explain() {
        let on = date(2026, 3, 1);
        let invoices = [
            invoice(1, "INV-0042", "Acme Ltd", 12_000, on),
            invoice(2, "INV-0043", "Other Co", 12_000, on),
        ];
        let line = credit(1, date(2026, 3, 13), 12_000, "ACME LTD INV 42");
        let proposals = propose_for_line(&line.line, &invoices);
        assert_eq!(proposals[0].invoice_id, invoices[0].id);
        assert_eq!(proposals[0].score, 100);
        assert_eq!(
            proposals[0].reasons,
            [
                "reference INV-0042 appears in the description",
                "amount £120.00 equals the outstanding balance",
                "client name 'Acme Ltd' appears",
                "paid 12 days after the invoice date",
            ]
        );
        // The other invoice shares the amount only: 30 + 5 is below the threshold.
        assert_eq!(proposals.len(), 1);
    }

    #[test]
    fn part_and_over_payments() {
        let on = date(2026, 3, 1);
        let invoices = [invoice(1, "INV-0042", "Acme Ltd", 12_000, on)];
        let part = propose_for_line(&credit(1, on, 5_000, "INV0042").line, &invoices);
        assert_eq!(part[0].amount_pence, 5_000);
        assert_eq!(part[0].score, 65);
        let over = propose_for_line(&credit(2, on, 15_000, "INV0042").line, &invoices);
        assert_eq!(over[0].amount_pence, 12_000);
        assert_eq!(over[0].score, 50);
        assert!(over[0]
            .reasons
            .contains(&"amount £150.00 exceeds the outstanding £120.00".to_owned()));
    }

    #[test]
    fn date_window_penalises_and_debits_get_nothing() {
        let on = date(2026, 3, 1);
        let invoices = [invoice(1, "INV-0042", "Acme Ltd", 12_000, on)];
        let early = propose_for_line(&credit(1, date(2026, 2, 1), 12_000, "").line, &invoices);
        assert!(
            early.is_empty(),
            "exact unique amount a month early: 30 + 10 - 40"
        );
        let in_window = propose_for_line(&credit(2, date(2026, 2, 23), 12_000, "").line, &invoices);
        assert_eq!(in_window[0].score, 45);
        assert_eq!(
            in_window[0].reasons[2],
            "paid 6 days before the invoice date"
        );
        let late = propose_for_line(
            &credit(3, date(2026, 7, 1), 12_000, "INV-0042").line,
            &invoices,
        );
        assert_eq!(late[0].score, 60);
        assert!(late[0].reasons[3].contains("outside the expected 2026-02-22 to 2026-06-29"));
        let debit = propose_for_line(&credit(4, on, -12_000, "INV-0042 ACME LTD").line, &invoices);
        assert!(debit.is_empty());
    }

    #[test]
    fn client_names_ignore_legal_forms_and_prefer_the_specific_name() {
        let on = date(2026, 3, 1);
        let invoices = [
            invoice(1, "INV-0001", "Acme Ltd", 50_000, on),
            invoice(2, "INV-0002", "Acme Consulting Limited", 50_000, on),
            invoice(3, "INV-0003", "Smith & Jones plc", 70_000, on),
        ];
        let specific = propose_for_line(&credit(1, on, 50_000, "ACME CONSULTING").line, &invoices);
        assert_eq!(specific[0].invoice_id, invoices[1].id);
        assert_eq!(specific[1].invoice_id, invoices[0].id);
        let plain = propose_for_line(&credit(2, on, 50_000, "FROM ACME").line, &invoices);
        assert_eq!(plain[0].invoice_id, invoices[0].id);
        let mut by_counterparty = credit(3, on, 70_000, "FASTER PAYMENT");
        by_counterparty.line.counterparty = Some("SMITH AND JONES".into());
        let proposals = propose_for_line(&by_counterparty.line, &invoices);
        assert!(proposals[0]
            .reasons
            .contains(&"client name 'Smith & Jones plc' appears".to_owned()));
    }

    #[test]
    fn assign_spreads_equal_amounts() {
        let invoices = [
            invoice(1, "INV-0001", "Acme Ltd", 50_000, date(2026, 1, 5)),
            invoice(2, "INV-0002", "Acme Ltd", 50_000, date(2026, 2, 5)),
        ];
        let lines = [
            credit(1, date(2026, 2, 10), 50_000, "ACME LTD"),
            credit(2, date(2026, 1, 10), 50_000, "ACME LTD"),
        ];
        let proposals = propose(&lines, &invoices);
        assert_eq!(proposals[0].proposals.len(), 2);
        assert_eq!(
            assign(&proposals),
            [(lines[0].id, invoices[1].id), (lines[1].id, invoices[0].id)]
        );
        // A reference outranks date closeness.
        let lines = [
            credit(1, date(2026, 2, 10), 50_000, "ACME LTD INV-0001"),
            credit(2, date(2026, 2, 10), 50_000, "ACME LTD"),
        ];
        let assigned = assign(&propose(&lines, &invoices));
        assert_eq!(
            assigned,
            [(lines[0].id, invoices[0].id), (lines[1].id, invoices[1].id)]
        );
    }

    #[test]
    fn assign_moves_a_line_to_its_alternative() {
        let proposal = |invoice: u128, score: u8| Proposal {
            invoice_id: Uuid::from_u128(invoice),
            score,
            reasons: Vec::new(),
            amount_pence: 1,
            reference_match: false,
            days_after_invoice: 0,
        };
        let a = Uuid::from_u128(10);
        let b = Uuid::from_u128(11);
        let proposals = [
            LineProposals {
                line_id: a,
                proposals: vec![proposal(1, 70), proposal(2, 65)],
            },
            LineProposals {
                line_id: b,
                proposals: vec![proposal(1, 68)],
            },
        ];
        assert_eq!(
            assign(&proposals),
            [(a, Uuid::from_u128(2)), (b, Uuid::from_u128(1))]
        );
    }

    #[test]
    fn expense_suggestions() {
        let mut line = credit(
            1,
            date(2026, 3, 1),
            -1_250,
            "CARD PAYMENT TO TESCO STORES 2231 ON 01 MAR",
        )
        .line;
        assert_eq!(
            debit_to_expense_suggestion(&line),
            (
                "Tesco Stores".to_owned(),
                "CARD PAYMENT TO TESCO STORES 2231 ON 01 MAR".to_owned()
            )
        );
        line.counterparty = Some("Tesco".into());
        assert_eq!(debit_to_expense_suggestion(&line).0, "Tesco");
        let odd = credit(2, date(2026, 3, 1), -100, "DD 1234").line;
        assert_eq!(debit_to_expense_suggestion(&odd).0, "DD 1234");
    }

    /// splitmix64: enough randomness for a fixed, reproducible data set.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len())]
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }

        fn shuffle<T>(&mut self, items: &mut [T]) {
            for i in (1..items.len()).rev() {
                items.swap(i, self.below(i + 1));
            }
        }

        fn pence(&mut self) -> i64 {
            i64::try_from(5_000 + self.below(495_000)).unwrap_or(5_000)
        }
    }

    const CLIENTS: [&str; 30] = [
        "Acme Ltd",
        "Acme Consulting Ltd",
        "Blue Sky Design",
        "Blue River Studios",
        "Northern Lights plc",
        "Northern Builders Ltd",
        "Green Leaf Catering",
        "Green & Sons",
        "Oakwood Dental",
        "Oak Tree Nursery",
        "Riverside Bakery",
        "Harbour Marine Ltd",
        "Summit Physio",
        "Pennine Walks Ltd",
        "Kestrel Media",
        "Falcon Logistics Ltd",
        "Bright Spark Electrical",
        "Bright Smile Dentistry",
        "Castle Accountants LLP",
        "Meadow Farm Shop",
        "Silver Birch Interiors",
        "Thames Valley Tutors",
        "Redbrick Architects",
        "Copper Kettle Cafe",
        "Lighthouse Charity",
        "Granite Stoneworks",
        "Willow & Thistle",
        "Maple Software Ltd",
        "Sterling Joinery",
        "Nimbus Cloud Ltd",
    ];

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Category {
        Reference,
        UniqueAmount,
        NameDisambiguates,
        Nothing,
        Debit,
    }

    /// How a payer might write a client's name on a transfer.
    fn payer_name(rng: &mut Rng, client: &str) -> String {
        let upper = client.to_uppercase();
        match rng.below(4) {
            0 => upper
                .replace(" LTD", "")
                .replace(" PLC", "")
                .replace(" LLP", ""),
            1 => upper.replace('&', "AND"),
            _ => upper,
        }
    }

    fn spelling(rng: &mut Rng, n: usize) -> String {
        match rng.below(10) {
            0 => format!("INV-{n:04}"),
            1 => format!("INV{n:04}"),
            2 => format!("inv{n}"),
            3 => format!("INV {n:04}"),
            4 => format!("Inv-{n}"),
            5 => format!("{n:04}"),
            6 => format!("invoice {n}"),
            7 => format!("INV/{n:04}"),
            8 => format!("inv#{n}"),
            _ => format!("Invoice No. {n:04}"),
        }
    }

    struct Dataset {
        invoices: Vec<OpenInvoice>,
        lines: Vec<BankLine>,
        expected: HashMap<Uuid, (Category, Option<Uuid>)>,
    }

    fn dataset(seed: u64) -> Dataset {
        let mut rng = Rng(seed);
        let base = date(2026, 1, 1);
        let mut invoices: Vec<OpenInvoice> = (1..=100)
            .map(|n| {
                let on = base + Duration::days(i64::try_from(rng.below(90)).unwrap_or(0));
                OpenInvoice {
                    id: Uuid::from_u128(u128::try_from(n).unwrap_or(0)),
                    number: format!("INV-{n:04}"),
                    client_name: (*rng.pick(&CLIENTS)).to_owned(),
                    outstanding_pence: rng.pence(),
                    invoice_date: on,
                    due_date: Some(on + Duration::days(30)),
                }
            })
            .collect();
        let mut seen = HashSet::new();
        for invoice in &mut invoices {
            while !seen.insert(invoice.outstanding_pence) {
                invoice.outstanding_pence = rng.pence();
            }
        }
        let mut order: Vec<usize> = (0..100).collect();
        rng.shuffle(&mut order);
        let mut duplicated = Vec::new();
        for pair in order[..16].chunks(2) {
            let (a, b) = (pair[0], pair[1]);
            invoices[b].outstanding_pence = invoices[a].outstanding_pence;
            while invoices[b].client_name == invoices[a].client_name {
                invoices[b].client_name = (*rng.pick(&CLIENTS)).to_owned();
            }
            duplicated.extend([a, b]);
        }
        let unique: Vec<usize> = order[16..].to_vec();
        let outstanding: HashSet<i64> = invoices.iter().map(|i| i.outstanding_pence).collect();
        let fresh_amount = |rng: &mut Rng| loop {
            let pence = rng.pence();
            if !outstanding.contains(&pence) {
                break pence;
            }
        };

        let mut lines = Vec::new();
        let mut expected = HashMap::new();
        let mut push = |line: StatementLine, category: Category, invoice: Option<Uuid>| {
            let id = Uuid::from_u128(10_000 + u128::try_from(expected.len()).unwrap_or(0));
            expected.insert(id, (category, invoice));
            lines.push(BankLine { id, line });
        };
        let blank = |on: NaiveDate, pence: i64, description: String| StatementLine {
            date: on,
            amount_pence: pence,
            description,
            reference: None,
            counterparty: None,
            balance_pence: None,
            fitid: None,
            occurrence: 1,
        };
        let people = [
            "J SMITH",
            "MRS A PATEL",
            "K O'BRIEN",
            "ACCOUNTS PAYABLE",
            "D WILLIAMS",
        ];

        let reference_invoices: Vec<usize> = duplicated[10..]
            .iter()
            .chain(&unique[30..])
            .copied()
            .collect();
        for &i in &reference_invoices {
            let invoice = &invoices[i];
            let on =
                invoice.invoice_date + Duration::days(i64::try_from(rng.below(45)).unwrap_or(0));
            let pence = if rng.chance(70) {
                invoice.outstanding_pence
            } else {
                let part = invoice.outstanding_pence
                    * i64::try_from(30 + rng.below(50)).unwrap_or(50)
                    / 100;
                if outstanding.contains(&part) {
                    part + 1
                } else {
                    part
                }
            };
            let payer = if rng.chance(70) {
                payer_name(&mut rng, &invoice.client_name)
            } else {
                (*rng.pick(&people)).to_owned()
            };
            let reference = spelling(&mut rng, i + 1);
            let mut line = match rng.below(3) {
                0 => blank(on, pence, format!("{payer} {reference} FPI")),
                1 => blank(on, pence, format!("BGC {payer} REF {reference}")),
                _ => {
                    let mut line = blank(on, pence, format!("{payer} FASTER PAYMENT"));
                    line.reference = Some(reference);
                    line
                }
            };
            if rng.chance(30) {
                line.counterparty = Some(payer);
            }
            push(line, Category::Reference, Some(invoice.id));
        }
        for (&i, category) in unique[..30]
            .iter()
            .map(|i| (i, Category::UniqueAmount))
            .chain(
                duplicated[..10]
                    .iter()
                    .map(|i| (i, Category::NameDisambiguates)),
            )
            .collect::<Vec<_>>()
        {
            let invoice = &invoices[i];
            let on =
                invoice.invoice_date + Duration::days(i64::try_from(rng.below(60)).unwrap_or(0));
            let payer = payer_name(&mut rng, &invoice.client_name);
            let line = match rng.below(3) {
                0 => blank(
                    on,
                    invoice.outstanding_pence,
                    format!("{payer} FASTER PAYMENT"),
                ),
                1 => blank(on, invoice.outstanding_pence, format!("BGC {payer}")),
                _ => {
                    let mut line = blank(on, invoice.outstanding_pence, "PAYMENT RECEIVED".into());
                    line.counterparty = Some(payer);
                    line
                }
            };
            push(line, category, Some(invoice.id));
        }
        let strangers = [
            "HMRC VAT REFUND",
            "INTEREST PAID",
            "J BLOGGS",
            "TFR FROM SAVINGS 40-12-34 12345678",
            "PAYPAL PPWDL 4KJ2M",
            "AMAZON REFUND 203-5551234-1234567",
            "DVLA REFUND",
            "EBAY PAYOUT 05MAR26",
            "ETSY PAYOUT",
            "VINTED WITHDRAWAL",
        ];
        for _ in 0..20 {
            let on = base + Duration::days(i64::try_from(rng.below(150)).unwrap_or(0));
            let pence = fresh_amount(&mut rng);
            push(
                blank(on, pence, (*rng.pick(&strangers)).to_owned()),
                Category::Nothing,
                None,
            );
        }
        let shops = [
            "TESCO STORES 2231",
            "DD BRITISH GAS",
            "ADOBE SYSTEMS INV 0042",
            "AMAZON MKTPLACE",
            "CARD PAYMENT TO SCREWFIX ON 02 MAR",
            "REFUND ACME LTD INV-0007",
            "HMRC SELF ASSESSMENT",
            "TRAINLINE",
            "SHELL 4412",
            "O2 MOBILE",
        ];
        for k in 0..80 {
            let on = base + Duration::days(i64::try_from(rng.below(150)).unwrap_or(0));
            // Some debits mirror an invoice amount exactly, to prove the sign is checked.
            let pence = if k % 10 == 0 {
                -invoices[rng.below(100)].outstanding_pence
            } else {
                -(i64::try_from(100 + rng.below(50_000)).unwrap_or(100))
            };
            push(
                blank(on, pence, (*rng.pick(&shops)).to_owned()),
                Category::Debit,
                None,
            );
        }
        rng.shuffle(&mut lines);
        Dataset {
            invoices,
            lines,
            expected,
        }
    }

    struct Metrics {
        with_proposal: usize,
        correct_first: usize,
        identifiable: usize,
        identifiable_correct: usize,
        matchable: usize,
        matchable_correct: usize,
        assigned: usize,
        assigned_correct: usize,
        failures: Vec<String>,
    }

    impl Metrics {
        fn precision(&self) -> f64 {
            self.correct_first as f64 / self.with_proposal.max(1) as f64
        }

        fn recall_identifiable(&self) -> f64 {
            self.identifiable_correct as f64 / self.identifiable.max(1) as f64
        }

        fn recall_all(&self) -> f64 {
            self.matchable_correct as f64 / self.matchable.max(1) as f64
        }
    }

    fn evaluate(data: &Dataset) -> Metrics {
        let results = propose(&data.lines, &data.invoices);
        let mut m = Metrics {
            with_proposal: 0,
            correct_first: 0,
            identifiable: 0,
            identifiable_correct: 0,
            matchable: 0,
            matchable_correct: 0,
            assigned: 0,
            assigned_correct: 0,
            failures: Vec::new(),
        };
        for (line, result) in data.lines.iter().zip(&results) {
            let (category, want) = data.expected[&line.id];
            let first = result.proposals.first().map(|p| p.invoice_id);
            if category == Category::Debit {
                assert!(result.proposals.is_empty(), "debit got proposals: {line:?}");
                continue;
            }
            let correct = first.is_some() && first == want;
            m.with_proposal += usize::from(first.is_some());
            m.correct_first += usize::from(correct);
            if want.is_some() {
                m.matchable += 1;
                m.matchable_correct += usize::from(correct);
            }
            if matches!(category, Category::Reference | Category::UniqueAmount) {
                m.identifiable += 1;
                m.identifiable_correct += usize::from(correct);
            }
            if want.is_some() && !correct || want.is_none() && first.is_some() {
                m.failures.push(format!(
                    "{category:?} {:?} -> {:?}",
                    line.line, result.proposals
                ));
            }
        }
        let assigned = assign(&results);
        let distinct: HashSet<Uuid> = assigned.iter().map(|(_, i)| *i).collect();
        assert_eq!(
            distinct.len(),
            assigned.len(),
            "an invoice was assigned twice"
        );
        m.assigned = assigned.len();
        m.assigned_correct = assigned
            .iter()
            .filter(|(line, invoice)| data.expected[line].1 == Some(*invoice))
            .count();
        m
    }

    #[test]
    fn precision_and_recall_on_a_generated_statement() {
        let data = dataset(0x5EED_2026);
        assert_eq!(data.invoices.len(), 100);
        assert_eq!(data.lines.len(), 200);
        let mut amount_counts: HashMap<i64, usize> = HashMap::new();
        for invoice in &data.invoices {
            *amount_counts.entry(invoice.outstanding_pence).or_insert(0) += 1;
        }
        let shared = data
            .invoices
            .iter()
            .filter(|i| amount_counts[&i.outstanding_pence] > 1)
            .count();
        assert_eq!(shared, 16, "invoices sharing an amount with another");

        let m = evaluate(&data);
        println!(
            "matching: {} of 120 credits have proposals, {} correct first; precision {:.3}; \
             recall (reference or unique amount, n={}) {:.3}; recall (all {} payable credits) \
             {:.3}; assign: {} pairs, {} correct",
            m.with_proposal,
            m.correct_first,
            m.precision(),
            m.identifiable,
            m.recall_identifiable(),
            m.matchable,
            m.recall_all(),
            m.assigned,
            m.assigned_correct
        );
        for failure in &m.failures {
            println!("  miss: {failure}");
        }
        assert_eq!(m.identifiable, 90);
        assert_eq!(
            m.identifiable_correct, m.identifiable,
            "identifiable credits not first: {:#?}",
            m.failures
        );
        assert!(m.precision() >= 0.9, "precision {}", m.precision());
    }

    /// The same guarantees over other seeds, so the weights are not tuned to one draw.
    #[test]
    fn precision_and_recall_hold_across_seeds() {
        let mut worst_precision = 1.0f64;
        let mut worst_recall_all = 1.0f64;
        for seed in 1..=30u64 {
            let m = evaluate(&dataset(seed.wrapping_mul(0x9E37_79B9)));
            for failure in &m.failures {
                println!("  seed {seed} miss: {failure}");
            }
            assert_eq!(m.identifiable_correct, m.identifiable, "seed {seed}");
            assert!(
                m.precision() >= 0.9,
                "seed {seed}: precision {}",
                m.precision()
            );
            worst_precision = worst_precision.min(m.precision());
            worst_recall_all = worst_recall_all.min(m.recall_all());
        }
        println!(
            "matching over 30 seeds: worst precision {worst_precision:.3}, \
             worst recall (all payable credits) {worst_recall_all:.3}"
        );
    }
}
