//! Bank statement import and remittance matching.
//!
//! Sole traders rarely have a bank feed; they download whatever their bank offers (a CSV in
//! the bank's own layout, OFX from the "Quicken/Money" button, or CAMT.053 from a business
//! account) and upload it. Every format is reduced to the same [`StatementLine`] so that
//! de-duplication and [`matching`] never care where a line came from.
//!
//! Design choices that shape the code:
//! - Money is parsed straight from text to integer pence; a float would turn `0.29` into
//!   `28` pence somewhere down the line.
//! - Any input problem is a [`StatementError`] naming the row, transaction or entry and the
//!   field, so the API can say "row 14, column 'Date': date '31/02/2026' is not a date"
//!   instead of "invalid file".
//! - Re-importing an overlapping download must not double-count money, so every line has a
//!   stable [`StatementLine::dedup_key`]; genuinely repeated lines within one file (two
//!   identical coffees on one day) are told apart by [`StatementLine::occurrence`].
//! - No OFX or CAMT crate is used: the maintained candidates (`ofx-rs`, `camt053`) pull in
//!   `rust_decimal`, `time` or `zip` and far more than the handful of fields read here.

pub mod camt;
pub mod csv;
pub mod matching;
pub mod ofx;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

pub use self::csv::{guess_preset, presets, AmountColumns, Column, CsvMapping, Preset};

/// Longest description kept; bank narratives beyond this are noise and would bloat the
/// dedup hash input and the UI.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// The file formats [`parse`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatementFormat {
    Csv,
    Ofx,
    Camt053,
}

impl std::fmt::Display for StatementFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Csv => "CSV",
            Self::Ofx => "OFX",
            Self::Camt053 => "CAMT.053",
        })
    }
}

/// One booked transaction, whatever the source format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatementLine {
    /// Booking date; value dates are ignored because the statement balance follows booking.
    pub date: NaiveDate,
    /// Credit positive, debit negative.
    pub amount_pence: i64,
    /// Trimmed, whitespace collapsed, at most [`MAX_DESCRIPTION_CHARS`] characters.
    pub description: String,
    pub reference: Option<String>,
    pub counterparty: Option<String>,
    /// Running balance after this line, when the bank reports one.
    pub balance_pence: Option<i64>,
    /// The bank's own transaction id (OFX FITID, CAMT AcctSvcrRef/NtryRef, Monzo id).
    pub fitid: Option<String>,
    /// 1 for the first line with a given base key in a file, 2 for the next identical one...
    #[serde(default = "first_occurrence")]
    pub occurrence: u32,
}

fn first_occurrence() -> u32 {
    1
}

impl StatementLine {
    /// Key under which the line is stored once per bank account.
    ///
    /// The bank's id wins because it survives description edits between downloads; without
    /// it the hash covers what a bank does not change between two exports of the same
    /// booking. Keys are only unique per account: FITIDs are not global.
    pub fn dedup_key(&self) -> String {
        let base = self.base_key();
        if self.occurrence > 1 {
            format!("{base}#{}", self.occurrence)
        } else {
            base
        }
    }

    fn base_key(&self) -> String {
        if let Some(fitid) = self.fitid.as_deref().filter(|f| !f.is_empty()) {
            return format!("fitid:{fitid}");
        }
        let balance = self
            .balance_pence
            .map(|b| b.to_string())
            .unwrap_or_default();
        let material = format!(
            "{}|{}|{}|{}",
            self.date.format("%Y-%m-%d"),
            self.amount_pence,
            self.description.to_lowercase(),
            balance
        );
        format!("h:{}", hex::encode(Sha256::digest(material.as_bytes())))
    }
}

/// A balance the bank states for the account (OFX LEDGERBAL, CAMT CLBD).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatementBalance {
    pub date: Option<NaiveDate>,
    pub amount_pence: i64,
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParsedStatement {
    pub lines: Vec<StatementLine>,
    /// Lets the caller check the import against the bank's own figure.
    pub closing_balance: Option<StatementBalance>,
}

/// Where in the file a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Location {
    /// A physical line of a CSV file (1-based, counting preamble and header lines, so it is
    /// the row number a spreadsheet shows).
    Row { row: usize, column: Option<String> },
    /// The n-th STMTTRN of an OFX file (1-based).
    Transaction { index: usize, fitid: Option<String> },
    /// The n-th Ntry of a CAMT.053 file (1-based, across statements).
    Entry {
        index: usize,
        reference: Option<String>,
    },
    /// The n-th Stmt of a CAMT.053 file or statement response of an OFX file.
    Statement { index: usize },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Row { row, column: None } => write!(f, "row {row}"),
            Self::Row {
                row,
                column: Some(column),
            } => write!(f, "row {row}, column '{column}'"),
            Self::Transaction { index, fitid: None } => write!(f, "transaction {index}"),
            Self::Transaction {
                index,
                fitid: Some(fitid),
            } => write!(f, "transaction {index} (FITID {fitid})"),
            Self::Entry {
                index,
                reference: None,
            } => write!(f, "entry {index}"),
            Self::Entry {
                index,
                reference: Some(reference),
            } => write!(f, "entry {index} (reference {reference})"),
            Self::Statement { index } => write!(f, "statement {index}"),
        }
    }
}

/// What is wrong at a [`Location`]; worded to be shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = StatementProblem)]
pub enum Problem {
    #[error("date '{value}' is not a date (expected {expected})")]
    InvalidDate { value: String, expected: String },
    #[error("'{value}' is not an amount in pounds and pence")]
    InvalidAmount { value: String },
    #[error("{field} is missing or empty")]
    Missing { field: String },
    #[error("column '{column}' is not in the header (found: {})", available.join(", "))]
    ColumnNotFound {
        column: String,
        available: Vec<String>,
    },
    #[error("the mapping names column '{column}' but the file has no header row")]
    NamedColumnWithoutHeader { column: String },
    #[error("the row has {found} fields, so column {index} (counting from 0) is missing")]
    TooFewFields { index: usize, found: usize },
    #[error("neither paid in nor paid out has an amount")]
    NoAmount,
    #[error("currency is {found}; only GBP accounts can be imported")]
    Currency { found: String },
    #[error("credit/debit indicator '{value}' is neither CRDT nor DBIT")]
    InvalidCreditDebit { value: String },
    #[error("not valid CSV: {detail}")]
    InvalidCsv { detail: String },
}

/// Why a file could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatementError {
    #[error("a CSV import needs a column mapping: choose a bank preset or map the columns")]
    MappingRequired,
    #[error("{location}: {problem}")]
    Invalid {
        location: Location,
        problem: Problem,
    },
    #[error("the file is not a readable {format} statement: {detail}")]
    Malformed {
        format: StatementFormat,
        detail: String,
    },
}

impl StatementError {
    fn at(location: Location, problem: Problem) -> Self {
        Self::Invalid { location, problem }
    }
}

/// Parses one uploaded file. `mapping` is only read for CSV, which has no self-describing
/// layout.
pub fn parse(
    format: StatementFormat,
    bytes: &[u8],
    mapping: Option<&CsvMapping>,
) -> Result<ParsedStatement, StatementError> {
    match format {
        StatementFormat::Csv => {
            let mapping = mapping.ok_or(StatementError::MappingRequired)?;
            csv::parse(bytes, mapping)
        }
        StatementFormat::Ofx => ofx::parse(bytes),
        StatementFormat::Camt053 => camt::parse(bytes),
    }
}

/// Common tail of every format parser: numbering repeats is what keeps two identical lines
/// in one file apart while a re-import of the same file still produces the same keys.
fn finish(
    mut lines: Vec<StatementLine>,
    closing_balance: Option<StatementBalance>,
) -> ParsedStatement {
    let mut seen: HashMap<String, u32> = HashMap::new();
    for line in &mut lines {
        let count = seen.entry(line.base_key()).or_insert(0);
        *count += 1;
        line.occurrence = *count;
    }
    ParsedStatement {
        lines,
        closing_balance,
    }
}

/// Banks still ship Windows-1252 (Nationwide's `£` is byte 0xA3) and Excel adds BOMs, so
/// text is decoded leniently rather than rejected.
fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]));
        return char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]));
        return char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| cp1252(b)).collect(),
    }
}

fn cp1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Normalises free text so the same narrative always hashes and displays the same way.
/// A leading apostrophe is NatWest's guard against Excel formulas, not data.
fn clean_text(raw: &str) -> String {
    let trimmed = raw.trim().strip_prefix('\'').unwrap_or(raw.trim());
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((cut, _)) => out[..cut].trim_end().to_owned(),
        None => out,
    }
}

fn clean_optional(raw: Option<&str>) -> Option<String> {
    raw.map(clean_text).filter(|s| !s.is_empty())
}

/// Parses a UK-formatted money amount into exact pence.
///
/// Accepted: `1,234.56`, `-12.00`, `£12.00`, `-£12`, `12.00 CR`/`DR`, `(12.00)`, `12.00-`,
/// `GBP 12.00`. Rejected rather than guessed: more than one sign marker, misplaced
/// thousands separators (`12,34` is a European decimal, not 1,234), and sub-penny digits
/// other than zeros.
fn parse_money(raw: &str) -> Option<i64> {
    let mut s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == '\u{2212}' { '-' } else { c })
        .collect();
    let mut markers = 0u8;
    let mut negative = false;
    let upper = s.to_ascii_uppercase();
    if upper.ends_with("CR") {
        s.truncate(s.len() - 2);
        markers += 1;
    } else if upper.ends_with("DR") {
        s.truncate(s.len() - 2);
        markers += 1;
        negative = true;
    }
    if s.starts_with('(') && s.ends_with(')') && s.len() >= 2 {
        s = s[1..s.len() - 1].to_owned();
        markers += 1;
        negative = true;
    }
    let mut body = s.as_str();
    loop {
        if let Some(rest) = body.strip_prefix('-') {
            markers += 1;
            negative = true;
            body = rest;
        } else if let Some(rest) = body.strip_prefix('+') {
            markers += 1;
            body = rest;
        } else if let Some(rest) = body.strip_prefix('£') {
            body = rest;
        } else if let Some(rest) = body
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("GBP"))
            .map(|_| &body[3..])
        {
            body = rest;
        } else {
            break;
        }
    }
    if let Some(rest) = body.strip_suffix('-') {
        markers += 1;
        negative = true;
        body = rest;
    }
    if markers > 1 || body.is_empty() {
        return None;
    }
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, f),
        None => (body, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let groups: Vec<&str> = whole.split(',').collect();
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return None;
        }
    }
    let mut pounds: i64 = 0;
    for c in groups.concat().chars() {
        let digit = i64::from(c.to_digit(10)?);
        pounds = pounds.checked_mul(10)?.checked_add(digit)?;
    }
    let (pennies, excess) = fraction.split_at(fraction.len().min(2));
    if !excess.chars().all(|c| c == '0') {
        return None;
    }
    let pennies = match pennies.len() {
        0 => 0,
        1 => i64::from(pennies.parse::<u8>().ok()?) * 10,
        _ => i64::from(pennies.parse::<u8>().ok()?),
    };
    let pence = pounds.checked_mul(100)?.checked_add(pennies)?;
    Some(if negative { -pence } else { pence })
}

/// Formats pence the way reasons and errors show money: `£1,234.56`, `-£12.00`.
fn format_pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let abs = pence.unsigned_abs();
    let pounds = (abs / 100).to_string();
    let mut grouped = String::with_capacity(pounds.len() + pounds.len() / 3);
    for (i, c) in pounds.chars().enumerate() {
        if i > 0 && (pounds.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{:02}", abs % 100)
}

/// Day-first or ISO formats tried when the configured one does not fit: banks change their
/// export layouts (NatWest moved from `01/02/2024` to `1 February 2024`), and none of these
/// can be confused with each other, so trying them cannot swap day and month.
const FALLBACK_DATE_FORMATS: &[&str] = &[
    "%d/%m/%Y", "%d %b %Y", "%d %B %Y", "%d-%m-%Y", "%d-%b-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y",
    "%d %b %y", "%d-%b-%y",
];

/// Years outside this range mean the format misread the text (e.g. `%Y` taking `26` as
/// the year 26), so the date is rejected and the next format tried.
fn plausible(date: NaiveDate) -> bool {
    (1970..=2100).contains(&date.year())
}

/// Tries `format` on the value and on the value without a trailing time of day. Short and
/// long month names are interchangeable (`%b`/`%B`) because exports mix "May" and "June"
/// within one file.
fn parse_date_with(value: &str, format: &str) -> Option<NaiveDate> {
    let value = value.trim();
    let mut candidates = vec![value];
    if let Some((date, time)) = value.split_once('T') {
        if time.contains(':') {
            candidates.push(date);
        }
    }
    if let Some((date, time)) = value.rsplit_once(' ') {
        if time.contains(':') {
            candidates.push(date.trim());
        }
    }
    let mut formats = vec![format.to_owned()];
    if format.contains("%b") {
        formats.push(format.replace("%b", "%B"));
    } else if format.contains("%B") {
        formats.push(format.replace("%B", "%b"));
    }
    candidates
        .iter()
        .flat_map(|c| formats.iter().map(move |f| (c, f)))
        .filter_map(|(c, f)| NaiveDate::parse_from_str(c, f).ok())
        .find(|d| plausible(*d))
}

/// Turns a chrono format into what a user recognises, for error messages.
fn humanise_format(format: &str) -> String {
    format
        .replace("%d", "DD")
        .replace("%m", "MM")
        .replace("%Y", "YYYY")
        .replace("%y", "YY")
        .replace("%b", "Mon")
        .replace("%B", "Month")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        let cases = [
            ("1,234.56", Some(123_456)),
            ("-12.00", Some(-1200)),
            ("£12.00", Some(1200)),
            ("-£12.00", Some(-1200)),
            ("£-12.00", Some(-1200)),
            ("12.00 CR", Some(1200)),
            ("12.00 DR", Some(-1200)),
            ("12.00dr", Some(-1200)),
            ("(12.00)", Some(-1200)),
            ("(£1,000)", Some(-100_000)),
            ("12.00-", Some(-1200)),
            ("+5", Some(500)),
            ("0.29", Some(29)),
            ("1.5", Some(150)),
            (".50", Some(50)),
            ("12.500", Some(1250)),
            ("GBP 7.10", Some(710)),
            ("\u{2212}3.00", Some(-300)),
            ("12,34", None),
            ("1,2345.00", None),
            ("12.345", None),
            ("-12.00 DR", None),
            ("-(12.00)", None),
            ("", None),
            ("£", None),
            ("abc", None),
            ("1.2.3", None),
            ("99999999999999999999", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_money(text), expected, "{text}");
        }
    }

    #[test]
    fn pounds_display() {
        assert_eq!(format_pounds(12_000), "£120.00");
        assert_eq!(format_pounds(123_456_789), "£1,234,567.89");
        assert_eq!(format_pounds(-5), "-£0.05");
    }

    #[test]
    fn text_is_cleaned_and_capped() {
        assert_eq!(clean_text("  'ACME\t LTD \n INV 42 "), "ACME LTD INV 42");
        let long = "x".repeat(600);
        assert_eq!(clean_text(&long).chars().count(), MAX_DESCRIPTION_CHARS);
        let multibyte = "é".repeat(600);
        assert_eq!(
            clean_text(&multibyte).chars().count(),
            MAX_DESCRIPTION_CHARS
        );
    }

    #[test]
    fn decodes_windows_1252_and_boms() {
        assert_eq!(decode_text(b"\xa312.00"), "£12.00");
        assert_eq!(decode_text(b"\x80"), "€");
        assert_eq!(decode_text(b"\xEF\xBB\xBFDate"), "Date");
        assert_eq!(decode_text(&[0xFF, 0xFE, b'A', 0]), "A");
    }

    #[test]
    fn dates_with_time_and_implausible_years() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 1);
        assert_eq!(parse_date_with("01/02/2026", "%d/%m/%Y"), d);
        assert_eq!(parse_date_with("01/02/2026 14:03", "%d/%m/%Y"), d);
        assert_eq!(parse_date_with("2026-02-01T09:33:50Z", "%Y-%m-%d"), d);
        assert_eq!(parse_date_with("01/02/26", "%d/%m/%Y"), None);
        assert_eq!(parse_date_with("31/02/2026", "%d/%m/%Y"), None);
    }

    fn line(description: &str) -> StatementLine {
        StatementLine {
            date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default(),
            amount_pence: -350,
            description: description.to_owned(),
            reference: None,
            counterparty: None,
            balance_pence: None,
            fitid: None,
            occurrence: 1,
        }
    }

    #[test]
    fn identical_lines_get_distinct_stable_keys() {
        let first = finish(vec![line("COFFEE"), line("COFFEE"), line("TEA")], None);
        let keys: Vec<String> = first.lines.iter().map(StatementLine::dedup_key).collect();
        assert!(keys[0].starts_with("h:") && keys[0].len() == 2 + 64);
        assert_eq!(keys[1], format!("{}#2", keys[0]));
        assert_ne!(keys[0], keys[2]);
        let again = finish(vec![line("COFFEE"), line("COFFEE"), line("TEA")], None);
        let keys_again: Vec<String> = again.lines.iter().map(StatementLine::dedup_key).collect();
        assert_eq!(keys, keys_again);
        let mut with_id = line("COFFEE");
        with_id.fitid = Some("ABC123".into());
        assert_eq!(with_id.dedup_key(), "fitid:ABC123");
    }

    #[test]
    fn errors_read_as_sentences() {
        let err = StatementError::at(
            Location::Row {
                row: 14,
                column: Some("Date".into()),
            },
            Problem::InvalidDate {
                value: "31/02/2026".into(),
                expected: humanise_format("%d/%m/%Y"),
            },
        );
        assert_eq!(
            err.to_string(),
            "row 14, column 'Date': date '31/02/2026' is not a date (expected DD/MM/YYYY)"
        );
        let json = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(json["location"]["row"], 14);
    }

    /// Parsers see whatever users upload: arbitrary bytes must give an error, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic() {
        const ALPHABET: &[u8] =
            b"<>/?!-[]&;#:,.\"'\n\r \t0123456789OFXSTMTRNAMDBCGPLHUV\xa3\xff\x80";
        let mut state: u64 = 0x1234_5678;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap_or(0)
        };
        let mappings: Vec<&CsvMapping> = presets().iter().map(|p| &p.mapping).collect();
        for _ in 0..3000 {
            let len = next() % 120;
            let bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[next() % ALPHABET.len()])
                .collect();
            let _ = parse(StatementFormat::Ofx, &bytes, None);
            let _ = parse(StatementFormat::Camt053, &bytes, None);
            let _ = parse(
                StatementFormat::Csv,
                &bytes,
                Some(mappings[next() % mappings.len()]),
            );
            let _ = guess_preset(&bytes);
            let _ = parse_money(&String::from_utf8_lossy(&bytes));
        }
        assert_eq!(
            parse(StatementFormat::Csv, b"", None),
            Err(StatementError::MappingRequired)
        );
    }

    /// The derives feed the API's OpenAPI document; building each schema catches a derive
    /// that compiles but cannot describe its serde shape.
    #[test]
    fn openapi_schemas_build() {
        use utoipa::PartialSchema;
        let schemas = [
            StatementLine::schema(),
            ParsedStatement::schema(),
            StatementError::schema(),
            CsvMapping::schema(),
            Preset::schema(),
            matching::BankLine::schema(),
            matching::OpenInvoice::schema(),
            matching::LineProposals::schema(),
        ];
        for schema in schemas {
            let json = serde_json::to_string(&schema).unwrap_or_default();
            assert!(json.len() > 20, "{json}");
        }
        let column = serde_json::to_string(&Column::schema()).unwrap_or_default();
        assert!(column.contains("oneOf"), "{column}");
    }
}
