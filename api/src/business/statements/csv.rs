//! CSV statements: every bank has its own layout, so a [`CsvMapping`] says where each field
//! is, and [`presets`] carry the layouts of the common UK banks so most users never see a
//! mapping screen.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    clean_optional, clean_text, decode_text, finish, humanise_format, parse_date_with, parse_money,
    Location, ParsedStatement, Problem, StatementError, StatementLine, FALLBACK_DATE_FORMATS,
};

/// A column by header name (case-insensitive, trimmed) or by zero-based position, for
/// files without a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Column {
    Name(String),
    Index(usize),
}

impl Column {
    fn name(name: &str) -> Self {
        Self::Name(name.to_owned())
    }
}

/// Banks either sign one amount column or split money in and out into two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AmountColumns {
    /// `debit_negative: false` is for exports that show spending as positive numbers
    /// (typical of credit-card accounts), so the sign is flipped on import.
    Single {
        column: Column,
        #[serde(default = "default_true")]
        debit_negative: bool,
    },
    /// The paid-out figure counts as a debit whatever its sign; some banks write it as
    /// `12.00`, others as `-12.00`.
    Split {
        paid_in_column: Column,
        paid_out_column: Column,
    },
}

/// Where each field sits in a CSV export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CsvMapping {
    pub date_column: Column,
    /// chrono format such as `%d/%m/%Y`; if the first date does not fit it, unambiguous
    /// day-first and ISO formats are tried and the first that fits is used for the whole
    /// file, because a file never mixes formats.
    pub date_format: String,
    pub description_column: Column,
    pub amount: AmountColumns,
    #[serde(default)]
    pub reference_column: Option<Column>,
    #[serde(default)]
    pub counterparty_column: Option<Column>,
    #[serde(default)]
    pub balance_column: Option<Column>,
    /// A stable bank transaction id (Monzo's `Transaction ID`): better for de-duplication
    /// than any hash of the visible fields.
    #[serde(default)]
    pub fitid_column: Option<Column>,
    #[serde(default = "default_true")]
    pub has_header: bool,
    #[serde(default = "default_delimiter")]
    pub delimiter: u8,
    /// Physical lines before the header (Nationwide's account summary).
    #[serde(default)]
    pub skip_rows: usize,
}

fn default_true() -> bool {
    true
}

fn default_delimiter() -> u8 {
    b','
}

/// A known bank layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Preset {
    pub id: String,
    pub bank_name: String,
    /// The header line as the bank writes it, shown to users and used by [`guess_preset`].
    pub sample_header: String,
    pub mapping: CsvMapping,
}

struct PresetSpec {
    id: &'static str,
    bank_name: &'static str,
    sample_header: &'static str,
    date: Column,
    date_format: &'static str,
    description: Column,
    amount: AmountColumns,
    reference: Option<&'static str>,
    counterparty: Option<&'static str>,
    balance: Option<&'static str>,
    fitid: Option<&'static str>,
    has_header: bool,
    skip_rows: usize,
}

fn single(column: &str) -> AmountColumns {
    AmountColumns::Single {
        column: Column::name(column),
        debit_negative: true,
    }
}

fn split(paid_in: &str, paid_out: &str) -> AmountColumns {
    AmountColumns::Split {
        paid_in_column: Column::name(paid_in),
        paid_out_column: Column::name(paid_out),
    }
}

fn preset_specs() -> Vec<PresetSpec> {
    vec![
        PresetSpec {
            id: "barclays",
            bank_name: "Barclays",
            sample_header: "Number,Date,Account,Amount,Subcategory,Memo",
            date: Column::name("Date"),
            date_format: "%d/%m/%Y",
            description: Column::name("Memo"),
            amount: single("Amount"),
            reference: None,
            counterparty: None,
            balance: None,
            fitid: None,
            has_header: true,
            skip_rows: 0,
        },
        PresetSpec {
            id: "hsbc",
            bank_name: "HSBC",
            sample_header: "date,description,amount (no header row)",
            date: Column::Index(0),
            date_format: "%d/%m/%Y",
            description: Column::Index(1),
            amount: AmountColumns::Single {
                column: Column::Index(2),
                debit_negative: true,
            },
            reference: None,
            counterparty: None,
            balance: None,
            fitid: None,
            has_header: false,
            skip_rows: 0,
        },
        PresetSpec {
            id: "lloyds",
            bank_name: "Lloyds (also Halifax, Bank of Scotland)",
            sample_header: "Transaction Date,Transaction Type,Sort Code,Account Number,\
                            Transaction Description,Debit Amount,Credit Amount,Balance",
            date: Column::name("Transaction Date"),
            date_format: "%d/%m/%Y",
            description: Column::name("Transaction Description"),
            amount: split("Credit Amount", "Debit Amount"),
            reference: None,
            counterparty: None,
            balance: Some("Balance"),
            fitid: None,
            has_header: true,
            skip_rows: 0,
        },
        PresetSpec {
            id: "natwest",
            bank_name: "NatWest (also RBS, Ulster Bank)",
            sample_header: "Date, Type, Description, Value, Balance, Account Name, Account Number",
            date: Column::name("Date"),
            date_format: "%d/%m/%Y",
            description: Column::name("Description"),
            amount: single("Value"),
            reference: None,
            counterparty: None,
            balance: Some("Balance"),
            fitid: None,
            has_header: true,
            skip_rows: 0,
        },
        PresetSpec {
            id: "santander",
            bank_name: "Santander",
            sample_header: "Date,Description,Money In,Money Out,Balance",
            date: Column::name("Date"),
            date_format: "%d/%m/%Y",
            description: Column::name("Description"),
            amount: split("Money In", "Money Out"),
            reference: None,
            counterparty: None,
            balance: Some("Balance"),
            fitid: None,
            has_header: true,
            skip_rows: 0,
        },
        PresetSpec {
            id: "nationwide",
            bank_name: "Nationwide",
            sample_header:
                "\"Date\",\"Transaction type\",\"Description\",\"Paid out\",\"Paid in\",\"Balance\"",
            date: Column::name("Date"),
            date_format: "%d %b %Y",
            description: Column::name("Description"),
            amount: split("Paid in", "Paid out"),
            reference: None,
            counterparty: None,
            balance: Some("Balance"),
            fitid: None,
            has_header: true,
            skip_rows: 4,
        },
        PresetSpec {
            id: "monzo",
            bank_name: "Monzo",
            sample_header: "Transaction ID,Date,Time,Type,Name,Emoji,Category,Amount,Currency,\
                            Local amount,Local currency,Notes and #tags,Address,Receipt,\
                            Description,Category split,Money Out,Money In",
            date: Column::name("Date"),
            date_format: "%d/%m/%Y",
            description: Column::name("Description"),
            amount: single("Amount"),
            reference: Some("Notes and #tags"),
            counterparty: Some("Name"),
            balance: None,
            fitid: Some("Transaction ID"),
            has_header: true,
            skip_rows: 0,
        },
        PresetSpec {
            id: "starling",
            bank_name: "Starling",
            sample_header: "Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),\
                            Spending Category,Notes",
            date: Column::name("Date"),
            date_format: "%d/%m/%Y",
            description: Column::name("Counter Party"),
            amount: single("Amount (GBP)"),
            reference: Some("Reference"),
            counterparty: Some("Counter Party"),
            balance: Some("Balance (GBP)"),
            fitid: None,
            has_header: true,
            skip_rows: 0,
        },
    ]
}

/// The built-in bank layouts, in display order.
pub fn presets() -> &'static [Preset] {
    static PRESETS: OnceLock<Vec<Preset>> = OnceLock::new();
    PRESETS.get_or_init(|| {
        preset_specs()
            .into_iter()
            .map(|s| Preset {
                id: s.id.to_owned(),
                bank_name: s.bank_name.to_owned(),
                sample_header: s.sample_header.to_owned(),
                mapping: CsvMapping {
                    date_column: s.date,
                    date_format: s.date_format.to_owned(),
                    description_column: s.description,
                    amount: s.amount,
                    reference_column: s.reference.map(Column::name),
                    counterparty_column: s.counterparty.map(Column::name),
                    balance_column: s.balance.map(Column::name),
                    fitid_column: s.fitid.map(Column::name),
                    has_header: s.has_header,
                    delimiter: b',',
                    skip_rows: s.skip_rows,
                },
            })
            .collect()
    })
}

/// Looks a preset up by id.
pub fn preset(id: &str) -> Option<&'static Preset> {
    presets().iter().find(|p| p.id == id)
}

fn normalise_header(name: &str) -> String {
    name.trim()
        .trim_matches(|c| c == '"' || c == '\u{feff}')
        .trim()
        .to_lowercase()
}

/// Returns the physical lines after the first `skip` ones, and how many were skipped.
fn skip_lines(text: &str, skip: usize) -> (&str, usize) {
    let mut rest = text;
    let mut skipped = 0;
    while skipped < skip {
        match rest.find('\n') {
            Some(pos) => {
                rest = &rest[pos + 1..];
                skipped += 1;
            }
            None => {
                rest = "";
                skipped += 1;
                break;
            }
        }
    }
    (rest, skipped)
}

fn reader(body: &str, delimiter: u8) -> ::csv::Reader<&[u8]> {
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes())
}

fn is_blank(record: &::csv::StringRecord) -> bool {
    record.iter().all(|f| f.trim().is_empty())
}

/// A mapping column resolved to a position, with the label errors should use.
#[derive(Debug, Clone)]
struct Resolved {
    index: usize,
    label: String,
}

struct Resolver<'a> {
    header: Option<&'a [String]>,
    header_row: usize,
    by_name: HashMap<String, usize>,
}

impl<'a> Resolver<'a> {
    /// With duplicate header names the leftmost column wins, as a spreadsheet lookup would.
    fn from_header(header_row: usize, names: &'a [String]) -> Self {
        Self {
            header: Some(names),
            header_row,
            by_name: names
                .iter()
                .enumerate()
                .rev()
                .map(|(i, n)| (normalise_header(n), i))
                .collect(),
        }
    }

    fn resolve(&self, column: &Column) -> Result<Resolved, StatementError> {
        match (column, self.header) {
            (Column::Index(index), header) => Ok(Resolved {
                index: *index,
                label: header
                    .and_then(|h| h.get(*index))
                    .filter(|l| !l.is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("#{index}")),
            }),
            (Column::Name(name), Some(header)) => match self.by_name.get(&normalise_header(name)) {
                Some(&index) => Ok(Resolved {
                    index,
                    label: header
                        .get(index)
                        .cloned()
                        .unwrap_or_else(|| name.trim().to_owned()),
                }),
                None => Err(StatementError::at(
                    Location::Row {
                        row: self.header_row,
                        column: None,
                    },
                    Problem::ColumnNotFound {
                        column: name.trim().to_owned(),
                        available: header.iter().filter(|h| !h.is_empty()).cloned().collect(),
                    },
                )),
            },
            (Column::Name(name), None) => Err(StatementError::at(
                Location::Row {
                    row: self.header_row,
                    column: None,
                },
                Problem::NamedColumnWithoutHeader {
                    column: name.trim().to_owned(),
                },
            )),
        }
    }

    fn resolve_opt(&self, column: Option<&Column>) -> Result<Option<Resolved>, StatementError> {
        column.map(|c| self.resolve(c)).transpose()
    }
}

enum ResolvedAmount {
    Single {
        column: Resolved,
        negate: bool,
    },
    Split {
        paid_in: Resolved,
        paid_out: Resolved,
    },
}

struct Layout {
    date: Resolved,
    description: Resolved,
    amount: ResolvedAmount,
    reference: Option<Resolved>,
    counterparty: Option<Resolved>,
    balance: Option<Resolved>,
    fitid: Option<Resolved>,
}

fn layout(mapping: &CsvMapping, resolver: &Resolver<'_>) -> Result<Layout, StatementError> {
    Ok(Layout {
        date: resolver.resolve(&mapping.date_column)?,
        description: resolver.resolve(&mapping.description_column)?,
        amount: match &mapping.amount {
            AmountColumns::Single {
                column,
                debit_negative,
            } => ResolvedAmount::Single {
                column: resolver.resolve(column)?,
                negate: !debit_negative,
            },
            AmountColumns::Split {
                paid_in_column,
                paid_out_column,
            } => ResolvedAmount::Split {
                paid_in: resolver.resolve(paid_in_column)?,
                paid_out: resolver.resolve(paid_out_column)?,
            },
        },
        reference: resolver.resolve_opt(mapping.reference_column.as_ref())?,
        counterparty: resolver.resolve_opt(mapping.counterparty_column.as_ref())?,
        balance: resolver.resolve_opt(mapping.balance_column.as_ref())?,
        fitid: resolver.resolve_opt(mapping.fitid_column.as_ref())?,
    })
}

struct Row<'a> {
    record: &'a ::csv::StringRecord,
    row: usize,
}

impl Row<'_> {
    fn location(&self, column: &Resolved) -> Location {
        Location::Row {
            row: self.row,
            column: Some(column.label.clone()),
        }
    }

    /// A field the mapping requires to exist; it may still be empty.
    fn field(&self, column: &Resolved) -> Result<&str, StatementError> {
        self.record.get(column.index).ok_or_else(|| {
            StatementError::at(
                self.location(column),
                Problem::TooFewFields {
                    index: column.index,
                    found: self.record.len(),
                },
            )
        })
    }

    /// Optional columns may be absent from short rows (trailing empty cells dropped).
    fn optional(&self, column: Option<&Resolved>) -> Option<&str> {
        column
            .and_then(|c| self.record.get(c.index))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn money(&self, column: &Resolved, value: &str) -> Result<i64, StatementError> {
        parse_money(value).ok_or_else(|| {
            StatementError::at(
                self.location(column),
                Problem::InvalidAmount {
                    value: value.trim().to_owned(),
                },
            )
        })
    }

    fn optional_money(&self, column: Option<&Resolved>) -> Result<Option<i64>, StatementError> {
        match (column, self.optional(column)) {
            (Some(c), Some(value)) => self.money(c, value).map(Some),
            _ => Ok(None),
        }
    }
}

/// Parses a CSV export with `mapping`.
pub fn parse(bytes: &[u8], mapping: &CsvMapping) -> Result<ParsedStatement, StatementError> {
    let text = decode_text(bytes);
    let (body, skipped) = skip_lines(&text, mapping.skip_rows);
    let mut reader = reader(body, mapping.delimiter);
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut layout_cache: Option<Layout> = None;
    let mut date_format: Option<String> = None;
    let mut lines = Vec::new();

    for (ordinal, result) in reader.records().enumerate() {
        let record = result.map_err(|e| csv_error(&e, skipped, ordinal))?;
        let row = physical_row(record.position(), skipped, ordinal);
        if is_blank(&record) {
            continue;
        }
        if mapping.has_header && header.is_none() {
            header = Some((row, record.iter().map(|h| h.trim().to_owned()).collect()));
            continue;
        }
        let layout = match &layout_cache {
            Some(layout) => layout,
            None => {
                let resolver = match &header {
                    Some((header_row, names)) => Resolver::from_header(*header_row, names),
                    None => Resolver {
                        header: None,
                        header_row: row,
                        by_name: HashMap::new(),
                    },
                };
                layout_cache.insert(layout(mapping, &resolver)?)
            }
        };
        let row = Row {
            record: &record,
            row,
        };
        lines.push(parse_row(&row, layout, mapping, &mut date_format)?);
    }
    // A header-only file is a valid, empty export; a header naming unknown columns is not.
    if lines.is_empty() {
        if let Some((header_row, names)) = &header {
            layout(mapping, &Resolver::from_header(*header_row, names))?;
        }
    }
    Ok(finish(lines, None))
}

/// The line number a spreadsheet shows: the reader counts from the first unskipped line.
fn physical_row(position: Option<&::csv::Position>, skipped: usize, ordinal: usize) -> usize {
    position
        .and_then(|p| usize::try_from(p.line()).ok())
        .unwrap_or(ordinal.saturating_add(1))
        .saturating_add(skipped)
}

fn csv_error(error: &::csv::Error, skipped: usize, ordinal: usize) -> StatementError {
    let row = physical_row(error.position(), skipped, ordinal);
    StatementError::at(
        Location::Row { row, column: None },
        Problem::InvalidCsv {
            detail: error.to_string(),
        },
    )
}

fn parse_row(
    row: &Row<'_>,
    layout: &Layout,
    mapping: &CsvMapping,
    date_format: &mut Option<String>,
) -> Result<StatementLine, StatementError> {
    let raw_date = row.field(&layout.date)?.trim();
    if raw_date.is_empty() {
        return Err(StatementError::at(
            row.location(&layout.date),
            Problem::Missing {
                field: "the date".into(),
            },
        ));
    }
    let date = match date_format.as_deref() {
        Some(format) => parse_date_with(raw_date, format),
        None => std::iter::once(mapping.date_format.as_str())
            .chain(FALLBACK_DATE_FORMATS.iter().copied())
            .find_map(|format| {
                parse_date_with(raw_date, format)
                    .inspect(|_| *date_format = Some(format.to_owned()))
            }),
    }
    .ok_or_else(|| {
        StatementError::at(
            row.location(&layout.date),
            Problem::InvalidDate {
                value: raw_date.to_owned(),
                expected: humanise_format(date_format.as_deref().unwrap_or(&mapping.date_format)),
            },
        )
    })?;

    let amount_pence = match &layout.amount {
        ResolvedAmount::Single { column, negate } => {
            let value = row.field(column)?.trim();
            if value.is_empty() {
                return Err(StatementError::at(
                    row.location(column),
                    Problem::Missing {
                        field: "the amount".into(),
                    },
                ));
            }
            let amount = row.money(column, value)?;
            if *negate {
                -amount
            } else {
                amount
            }
        }
        ResolvedAmount::Split { paid_in, paid_out } => {
            let money_in = row.field(paid_in)?.trim();
            let money_out = row.field(paid_out)?.trim();
            if money_in.is_empty() && money_out.is_empty() {
                return Err(StatementError::at(row.location(paid_in), Problem::NoAmount));
            }
            let credit = if money_in.is_empty() {
                0
            } else {
                row.money(paid_in, money_in)?
            };
            let debit = if money_out.is_empty() {
                0
            } else {
                row.money(paid_out, money_out)?.abs()
            };
            credit - debit
        }
    };

    let description = clean_text(row.field(&layout.description)?);
    Ok(StatementLine {
        date,
        amount_pence,
        description,
        reference: clean_optional(row.optional(layout.reference.as_ref())),
        counterparty: clean_optional(row.optional(layout.counterparty.as_ref())),
        balance_pence: row.optional_money(layout.balance.as_ref())?,
        fitid: clean_optional(row.optional(layout.fitid.as_ref())),
        occurrence: 1,
    })
}

/// Names the preset whose header the file carries, so the upload screen can pre-select the
/// bank. Header-less HSBC is recognised by its `date,description,amount` shape only when no
/// header matches.
pub fn guess_preset(bytes: &[u8]) -> Option<&'static str> {
    let text = decode_text(bytes);
    let mut best: Option<(u32, &'static str)> = None;
    for preset in presets().iter().filter(|p| p.mapping.has_header) {
        let Some(header) = first_record(&text, &preset.mapping) else {
            continue;
        };
        let header: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
        let resolver = Resolver::from_header(0, &header);
        if layout(&preset.mapping, &resolver).is_err() {
            continue;
        }
        let expected: Vec<String> = preset
            .sample_header
            .split(',')
            .map(normalise_header)
            .collect();
        let present: Vec<&String> = header.iter().filter(|h| !h.is_empty()).collect();
        let matched = expected.iter().filter(|e| present.contains(e)).count();
        let union = expected.len() + present.len() - matched;
        // Jaccard similarity so a preset whose few columns happen to appear in a wider
        // header does not beat the preset that describes the whole header.
        let score = u32::try_from(matched * 1000 / union.max(1)).unwrap_or(0);
        if score >= 500 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, preset.id.as_str()));
        }
    }
    if let Some((_, id)) = best {
        return Some(id);
    }
    let hsbc = presets().iter().find(|p| p.id == "hsbc")?;
    let record = first_record(&text, &hsbc.mapping)?;
    let looks_like_hsbc = record.len() == 3
        && std::iter::once(hsbc.mapping.date_format.as_str())
            .chain(FALLBACK_DATE_FORMATS.iter().copied())
            .any(|f| parse_date_with(&record[0], f).is_some())
        && parse_money(&record[2]).is_some();
    looks_like_hsbc.then_some(hsbc.id.as_str())
}

fn first_record(text: &str, mapping: &CsvMapping) -> Option<Vec<String>> {
    let (body, _) = skip_lines(text, mapping.skip_rows);
    reader(body, mapping.delimiter)
        .records()
        .map_while(Result::ok)
        .find(|r| !is_blank(r))
        .map(|r| r.iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn parse_preset(id: &str, text: &str) -> ParsedStatement {
        let preset = preset(id).expect("preset exists");
        parse(text.as_bytes(), &preset.mapping)
            .unwrap_or_else(|e| panic!("{id} sample failed: {e}"))
    }

    fn amounts(parsed: &ParsedStatement) -> Vec<i64> {
        parsed.lines.iter().map(|l| l.amount_pence).collect()
    }

    fn assert_guess(id: &str, text: &str) {
        assert_eq!(guess_preset(text.as_bytes()), Some(id), "guess for {id}");
    }

    #[test]
    fn barclays_sample() {
        let text = "Number,Date,Account,Amount,Subcategory,Memo\n\
             ,02/03/2026,20-32-06 13152170,-12.50,PAYMENT,TESCO STORES 2231    ON 01 MAR BCC\n\
             ,03/03/2026,20-32-06 13152170,1200.00,DIRECTDEP,ACME LTD\tINV-0042 BGC\n\
             ,04/03/2026,20-32-06 13152170,-3.20,PAYMENT,COFFEE ONE\n";
        let parsed = parse_preset("barclays", text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_eq!(parsed.lines[1].description, "ACME LTD INV-0042 BGC");
        assert_eq!(parsed.lines[1].date, date(2026, 3, 3));
        assert_guess("barclays", text);
    }

    #[test]
    fn hsbc_sample_without_header() {
        let text = "02/03/2026,TESCO STORES 2231,-12.50\n\
             03/03/2026,ACME LTD INV-0042,\"1,200.00\"\n\
             04/03/2026,COFFEE ONE,-3.20\n";
        let parsed = parse_preset("hsbc", text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_guess("hsbc", text);
    }

    #[test]
    fn lloyds_sample() {
        let text = "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,Credit Amount,Balance\n\
             02/03/2026,DEB,'30-94-57,12345678,TESCO STORES 2231,12.50,,987.50\n\
             03/03/2026,FPI,'30-94-57,12345678,ACME LTD INV-0042,,1200.00,2187.50\n\
             04/03/2026,DEB,'30-94-57,12345678,COFFEE ONE,3.20,,2184.30\n";
        let parsed = parse_preset("lloyds", text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_eq!(parsed.lines[2].balance_pence, Some(218_430));
        assert_guess("lloyds", text);
    }

    #[test]
    fn natwest_sample_with_apostrophes_and_blank_row() {
        let text = "Date, Type, Description, Value, Balance, Account Name, Account Number\n\
             \n\
             02/03/2026,POS,\"'4545 01MAR26 , TESCO STORES 2231\",-12.50,987.50,\"'SMITH J\",\"'600008-12345678\",\n\
             3 March 2026,BAC,\"'ACME LTD , INV-0042\",1200.00,2187.50,\"'SMITH J\",\"'600008-12345678\",\n\
             4 March 2026,POS,\"'COFFEE ONE\",-3.20,2184.30,\"'SMITH J\",\"'600008-12345678\",\n";
        // The second row switches date style; that is rejected because a file keeps one
        // format, so the sample sticks to the first style after the check.
        let preset = preset("natwest").expect("preset");
        let err = parse(text.as_bytes(), &preset.mapping).expect_err("mixed formats");
        assert_eq!(
            err.to_string(),
            "row 4, column 'Date': date '3 March 2026' is not a date (expected DD/MM/YYYY)"
        );
        let text = text
            .replace("3 March 2026", "03/03/2026")
            .replace("4 March 2026", "04/03/2026");
        let parsed = parse_preset("natwest", &text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_eq!(parsed.lines[1].description, "ACME LTD , INV-0042");
        assert_guess("natwest", &text);
        let newer = "Date, Type, Description, Value, Balance, Account Name, Account Number\n\
             29 May 2026,POS,\"'TESCO\",-12.50,987.50,\"'SMITH J\",\"'600008-12345678\",\n\
             2 June 2026,POS,\"'TESCO\",-12.50,975.00,\"'SMITH J\",\"'600008-12345678\",\n";
        let newer = parse_preset("natwest", newer);
        assert_eq!(newer.lines[0].date, date(2026, 5, 29));
        assert_eq!(newer.lines[1].date, date(2026, 6, 2));
    }

    #[test]
    fn santander_sample() {
        let text = "Date,Description,Money In,Money Out,Balance\n\
             02/03/2026,CARD PAYMENT TO TESCO STORES 2231,,12.50,987.50\n\
             03/03/2026,FASTER PAYMENTS RECEIPT REF INV-0042 FROM ACME LTD,1200.00,,2187.50\n\
             04/03/2026,CARD PAYMENT TO COFFEE ONE,,3.20,2184.30\n";
        let parsed = parse_preset("santander", text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_guess("santander", text);
    }

    #[test]
    fn nationwide_sample_with_preamble_and_pound_signs_in_cp1252() {
        let text = "\"Account Name:\",\"FlexDirect ****12345\"\n\
             \"Account Balance:\",\"\u{a3}2,184.30\"\n\
             \"Available Balance: \",\"\u{a3}2,184.30\"\n\
             \n\
             \"Date\",\"Transaction type\",\"Description\",\"Paid out\",\"Paid in\",\"Balance\"\n\
             \"02 Mar 2026\",\"Visa purchase\",\"TESCO STORES 2231\",\"\u{a3}12.50\",\"\",\"\u{a3}987.50\"\n\
             \"03 Mar 2026\",\"Bank credit ACME LTD\",\"ACME LTD INV-0042\",\"\",\"\u{a3}1,200.00\",\"\u{a3}2,187.50\"\n\
             \"04 Mar 2026\",\"Visa purchase\",\"COFFEE ONE\",\"\u{a3}3.20\",\"\",\"\u{a3}2,184.30\"\n";
        // Nationwide writes Windows-1252, where the pound sign is the single byte 0xA3.
        let bytes: Vec<u8> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect();
        let preset = preset("nationwide").expect("preset");
        let parsed = parse(&bytes, &preset.mapping).expect("nationwide sample");
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_eq!(parsed.lines[1].balance_pence, Some(218_750));
        assert_eq!(guess_preset(&bytes), Some("nationwide"));
    }

    #[test]
    fn monzo_sample() {
        let text = "Transaction ID,Date,Time,Type,Name,Emoji,Category,Amount,Currency,Local amount,Local currency,Notes and #tags,Address,Receipt,Description,Category split,Money Out,Money In\n\
             tx_0000AAA,02/03/2026,09:12:01,Card payment,Tesco,🛒,Groceries,-12.50,GBP,-12.50,GBP,,,,TESCO STORES 2231,,-12.50,\n\
             tx_0000AAB,03/03/2026,11:40:00,Faster payment,Acme Ltd,,Income,1200.00,GBP,1200.00,GBP,INV-0042,,,ACME LTD,,,1200.00\n\
             tx_0000AAC,04/03/2026,08:01:59,Card payment,Coffee One,☕,Eating out,-3.20,GBP,-3.20,GBP,,,,COFFEE ONE,,-3.20,\n";
        let parsed = parse_preset("monzo", text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        let credit = &parsed.lines[1];
        assert_eq!(credit.reference.as_deref(), Some("INV-0042"));
        assert_eq!(credit.counterparty.as_deref(), Some("Acme Ltd"));
        assert_eq!(credit.dedup_key(), "fitid:tx_0000AAB");
        assert_guess("monzo", text);
    }

    #[test]
    fn starling_sample() {
        let text = "Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes\n\
             02/03/2026,Tesco,TESCO STORES 2231,CONTACTLESS,-12.50,987.50,GROCERIES,\n\
             03/03/2026,Acme Ltd,INV-0042,FASTER PAYMENT,1200.00,2187.50,INCOME,\n\
             04/03/2026,Coffee One,COFFEE ONE,CONTACTLESS,-3.20,2184.30,EATING_OUT,\n";
        let parsed = parse_preset("starling", text);
        assert_eq!(amounts(&parsed), [-1250, 120_000, -320]);
        assert_eq!(parsed.lines[1].reference.as_deref(), Some("INV-0042"));
        assert_guess("starling", text);
    }

    #[test]
    fn every_preset_has_a_sample_test() {
        let ids: Vec<&str> = presets().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "barclays",
                "hsbc",
                "lloyds",
                "natwest",
                "santander",
                "nationwide",
                "monzo",
                "starling"
            ]
        );
    }

    #[test]
    fn bad_date_names_row_and_column() {
        let text = "Date,Description,Money In,Money Out,Balance\n\
             02/03/2026,A,,1.00,\n\
             31/02/2026,B,,1.00,\n";
        let err = parse(
            text.as_bytes(),
            &preset("santander").expect("preset").mapping,
        )
        .expect_err("invalid date");
        assert_eq!(
            err.to_string(),
            "row 3, column 'Date': date '31/02/2026' is not a date (expected DD/MM/YYYY)"
        );
    }

    #[test]
    fn bad_amount_and_missing_column_and_short_row() {
        let mapping = &preset("barclays").expect("preset").mapping;
        let text =
            "Number,Date,Account,Amount,Subcategory,Memo\n,02/03/2026,x,\"12,34\",PAYMENT,A\n";
        let err = parse(text.as_bytes(), mapping).expect_err("bad amount");
        assert_eq!(
            err.to_string(),
            "row 2, column 'Amount': '12,34' is not an amount in pounds and pence"
        );
        let text = "Number,Date,Account,Value,Subcategory,Memo\n,02/03/2026,x,12.00,P,A\n";
        let err = parse(text.as_bytes(), mapping).expect_err("missing column");
        assert!(matches!(
            err,
            StatementError::Invalid {
                location: Location::Row { row: 1, .. },
                problem: Problem::ColumnNotFound { ref column, .. }
            } if column == "Amount"
        ));
        let text = "Number,Date,Account,Amount,Subcategory,Memo\n,02/03/2026,x,12.00\n";
        let err = parse(text.as_bytes(), mapping).expect_err("short row");
        assert_eq!(
            err.to_string(),
            "row 2, column 'Memo': the row has 4 fields, so column 5 (counting from 0) is missing"
        );
        let mapping = &preset("lloyds").expect("preset").mapping;
        let text = "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,Debit Amount,Credit Amount,Balance\n\
                    02/03/2026,DEB,x,1,A,,,5.00\n";
        let err = parse(text.as_bytes(), mapping).expect_err("no amount");
        assert_eq!(
            err.to_string(),
            "row 2, column 'Credit Amount': neither paid in nor paid out has an amount"
        );
    }

    #[test]
    fn custom_mapping_round_trips_as_json() {
        let json = r#"{
            "date_column": 0, "date_format": "%Y-%m-%d", "description_column": "Details",
            "amount": {"kind": "single", "column": "Spent", "debit_negative": false},
            "delimiter": 59, "has_header": true
        }"#;
        let mapping: CsvMapping = serde_json::from_str(json).expect("mapping json");
        assert_eq!(mapping.date_column, Column::Index(0));
        assert_eq!(mapping.description_column, Column::Name("Details".into()));
        let text = "When;DETAILS ;Spent\n2026-03-02;Card shop;12.50\n2026-03-03;Refund;-2.00\n";
        let parsed = parse(text.as_bytes(), &mapping).expect("custom");
        assert_eq!(amounts(&parsed), [-1250, 200]);
        let back: CsvMapping =
            serde_json::from_value(serde_json::to_value(&mapping).expect("ser")).expect("de");
        assert_eq!(back, mapping);
    }

    #[test]
    fn header_only_file_is_empty_but_bad_header_is_an_error() {
        let mapping = &preset("starling").expect("preset").mapping;
        let ok = "Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes\n";
        assert!(parse(ok.as_bytes(), mapping)
            .expect("empty")
            .lines
            .is_empty());
        assert!(parse(b"Foo,Bar\n", mapping).is_err());
        assert_eq!(guess_preset(b"Foo,Bar\n1,2\n"), None);
    }

    #[test]
    fn repeated_identical_rows_are_numbered() {
        let text = "02/03/2026,COFFEE,-3.20\n02/03/2026,COFFEE,-3.20\n";
        let parsed = parse_preset("hsbc", text);
        let keys: Vec<String> = parsed.lines.iter().map(StatementLine::dedup_key).collect();
        assert_eq!(keys[1], format!("{}#2", keys[0]));
    }
}
