//! ISO 20022 CAMT.053 bank-to-customer statements, as business accounts export them.
//!
//! Elements are matched by local name so that every schema version (camt.053.001.02 to
//! .08 and beyond) and any namespace prefix read the same; the fields used here have kept
//! their names across versions, only moving under `Pty` for parties in later ones.

use chrono::NaiveDate;
use quick_xml::events::Event;

use super::{
    clean_optional, clean_text, decode_text, finish, parse_money, Location, ParsedStatement,
    Problem, StatementBalance, StatementError, StatementFormat, StatementLine,
};

/// Deeper nesting than any CAMT message needs is refused, so hostile input cannot exhaust
/// the stack when the tree is dropped.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Default)]
struct Node {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn children_named<'a>(&'a self, name: &str) -> Vec<&'a Node> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    fn first(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, name| node.first(name))
    }

    /// Every node reachable by `path`, following all same-named children at each step.
    fn all(&self, path: &[&str]) -> Vec<&Node> {
        let mut current = vec![self];
        for name in path {
            current = current
                .into_iter()
                .flat_map(|n| n.children_named(name))
                .collect();
        }
        current
    }

    fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)
            .map(|n| n.text.trim())
            .filter(|t| !t.is_empty())
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }
}

fn malformed(detail: String) -> StatementError {
    StatementError::Malformed {
        format: StatementFormat::Camt053,
        detail,
    }
}

fn tree(text: &str) -> Result<Node, StatementError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let element = |start: &quick_xml::events::BytesStart<'_>| -> Result<Node, StatementError> {
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.map_err(|e| malformed(format!("bad attribute: {e}")))?;
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| malformed(format!("bad attribute value: {e}")))?;
            attributes.push((
                attribute.key.local_name().as_ref().to_owned(),
                value.into_owned(),
            ));
        }
        Ok(Node {
            name: start.local_name().as_ref().to_owned(),
            attributes,
            ..Node::default()
        })
    };
    loop {
        let event = reader.read_event().map_err(|e| {
            malformed(format!(
                "XML error at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed("elements are nested too deeply".into()));
                }
                stack.push(element(&start)?);
            }
            Event::Empty(start) => {
                let node = element(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = root.or(Some(node)),
                }
            }
            Event::End(_) => {
                if let Some(node) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = root.or(Some(node)),
                    }
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => quick_xml::escape::resolve_predefined_entity(&r)
                        .map(str::to_owned)
                        .ok_or_else(|| malformed(format!("unknown entity &{};", &*r)))?,
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed(
            "the file ends inside an element; it looks truncated".into(),
        ));
    }
    root.ok_or_else(|| malformed("the file contains no XML element".into()))
}

/// ISO dates and date-times both start with `YYYY-MM-DD`; the offset or time is dropped.
fn iso_date(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim().get(..10)?, "%Y-%m-%d").ok()
}

fn node_date(node: &Node) -> Option<&str> {
    node.text_at(&["Dt"]).or_else(|| node.text_at(&["DtTm"]))
}

fn is_gbp(currency: &str) -> bool {
    currency.eq_ignore_ascii_case("GBP")
}

/// Parses a CAMT.053 statement file (one or more `Stmt`).
pub fn parse(bytes: &[u8]) -> Result<ParsedStatement, StatementError> {
    let text = decode_text(bytes);
    let root = tree(&text)?;
    let report = if root.name == "BkToCstmrStmt" {
        &root
    } else {
        root.at(&["BkToCstmrStmt"]).ok_or_else(|| {
            malformed(format!(
                "expected a camt.053 Document/BkToCstmrStmt, found <{}>",
                root.name
            ))
        })?
    };

    let mut lines = Vec::new();
    let mut closing: Option<StatementBalance> = None;
    let mut entry_index = 0;
    for (statement_index, statement) in report.children_named("Stmt").into_iter().enumerate() {
        let statement_location = || Location::Statement {
            index: statement_index + 1,
        };
        if let Some(currency) = statement.text_at(&["Acct", "Ccy"]).filter(|c| !is_gbp(c)) {
            return Err(StatementError::at(
                statement_location(),
                Problem::Currency {
                    found: currency.to_owned(),
                },
            ));
        }
        for balance in statement.children_named("Bal") {
            if balance.text_at(&["Tp", "CdOrPrtry", "Cd"]) != Some("CLBD") {
                continue;
            }
            let signed = signed_amount(balance, statement_location)?;
            let date = balance.at(&["Dt"]).and_then(node_date).and_then(iso_date);
            // With several statements in one file the latest closing balance is the one
            // that describes the account now.
            if closing
                .as_ref()
                .is_none_or(|c| c.date.is_none() || date >= c.date)
            {
                closing = Some(StatementBalance {
                    date,
                    amount_pence: signed,
                });
            }
        }
        for entry in statement.children_named("Ntry") {
            entry_index += 1;
            if let Some(line) = parse_entry(entry, entry_index)? {
                lines.push(line);
            }
        }
    }
    Ok(finish(lines, closing))
}

/// Reads `Amt`, its currency and `CdtDbtInd` of an entry or balance into signed pence.
fn signed_amount(node: &Node, location: impl Fn() -> Location) -> Result<i64, StatementError> {
    let amount = node.at(&["Amt"]).ok_or_else(|| {
        StatementError::at(
            location(),
            Problem::Missing {
                field: "Amt".into(),
            },
        )
    })?;
    if let Some(currency) = amount.attribute("Ccy").filter(|c| !is_gbp(c)) {
        return Err(StatementError::at(
            location(),
            Problem::Currency {
                found: currency.to_owned(),
            },
        ));
    }
    let raw = amount.text.trim();
    let pence = parse_money(raw)
        .filter(|p| *p >= 0 && !raw.contains(','))
        .ok_or_else(|| {
            StatementError::at(
                location(),
                Problem::InvalidAmount {
                    value: raw.to_owned(),
                },
            )
        })?;
    match node.text_at(&["CdtDbtInd"]) {
        Some("CRDT") => Ok(pence),
        Some("DBIT") => Ok(-pence),
        Some(other) => Err(StatementError::at(
            location(),
            Problem::InvalidCreditDebit {
                value: other.to_owned(),
            },
        )),
        None => Err(StatementError::at(
            location(),
            Problem::Missing {
                field: "CdtDbtInd".into(),
            },
        )),
    }
}

/// Party name in both layouts: `Dbtr/Nm` (up to .001.07) and `Dbtr/Pty/Nm` (.001.08+).
fn party_name<'a>(details: &[&'a Node], role: &str) -> Option<&'a str> {
    details.iter().find_map(|tx| {
        tx.text_at(&["RltdPties", role, "Nm"])
            .or_else(|| tx.text_at(&["RltdPties", role, "Pty", "Nm"]))
    })
}

fn parse_entry(entry: &Node, index: usize) -> Result<Option<StatementLine>, StatementError> {
    let bank_ref = entry
        .text_at(&["AcctSvcrRef"])
        .or_else(|| entry.text_at(&["NtryRef"]));
    let location = || Location::Entry {
        index,
        reference: bank_ref.map(str::to_owned),
    };
    // Pending and information-only entries can still change or vanish; importing them
    // would create lines the booked statement later contradicts.
    let status = entry
        .text_at(&["Sts", "Cd"])
        .or_else(|| entry.text_at(&["Sts"]));
    if status.is_some_and(|s| s != "BOOK") {
        return Ok(None);
    }
    let amount_pence = signed_amount(entry, location)?;
    let raw_date = entry
        .at(&["BookgDt"])
        .and_then(node_date)
        .or_else(|| entry.at(&["ValDt"]).and_then(node_date))
        .ok_or_else(|| {
            StatementError::at(
                location(),
                Problem::Missing {
                    field: "BookgDt".into(),
                },
            )
        })?;
    let date = iso_date(raw_date).ok_or_else(|| {
        StatementError::at(
            location(),
            Problem::InvalidDate {
                value: raw_date.to_owned(),
                expected: "YYYY-MM-DD".into(),
            },
        )
    })?;

    let details = entry.all(&["NtryDtls", "TxDtls"]);
    let texts = |path: &[&str]| -> Vec<String> {
        details
            .iter()
            .flat_map(|tx| tx.all(path))
            .map(|n| clean_text(&n.text))
            .filter(|t| !t.is_empty())
            .collect()
    };
    let unstructured = texts(&["RmtInf", "Ustrd"]);
    let structured = texts(&["RmtInf", "Strd", "CdtrRefInf", "Ref"]);
    let end_to_end = texts(&["Refs", "EndToEndId"])
        .into_iter()
        .filter(|r| !r.eq_ignore_ascii_case("NOTPROVIDED"))
        .collect::<Vec<_>>();
    let (role, ultimate) = if amount_pence >= 0 {
        ("Dbtr", "UltmtDbtr")
    } else {
        ("Cdtr", "UltmtCdtr")
    };
    let counterparty =
        clean_optional(party_name(&details, role).or(party_name(&details, ultimate)));

    let mut parts: Vec<String> = Vec::new();
    for part in entry
        .text_at(&["AddtlNtryInf"])
        .map(clean_text)
        .into_iter()
        .chain(unstructured.iter().cloned())
        .chain(texts(&["AddtlTxInf"]))
    {
        if !part.is_empty() && !parts.iter().any(|p| p.contains(&part)) {
            parts.push(part);
        }
    }
    let mut description = clean_text(&parts.join(" "));
    if description.is_empty() {
        description = counterparty.clone().unwrap_or_default();
    }
    let reference = structured
        .first()
        .cloned()
        .or_else(|| clean_optional(Some(&unstructured.join(" "))))
        .or_else(|| end_to_end.first().cloned());

    Ok(Some(StatementLine {
        date,
        amount_pence,
        description,
        reference,
        counterparty,
        balance_pence: None,
        fitid: clean_optional(bank_ref)
            .or_else(|| texts(&["Refs", "AcctSvcrRef"]).first().cloned()),
        occurrence: 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(version: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG1</MsgId><CreDtTm>2026-03-05T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2026-03-05</Id>
      <Acct><Id><IBAN>GB33BUKB20201555555555</IBAN></Id><Ccy>GBP</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="GBP">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="GBP">2184.30</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-05</Dt></Dt></Bal>
      <Ntry>
        <NtryRef>1</NtryRef><Amt Ccy="GBP">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>BANK-001</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Cdtr><Nm>Tesco Stores</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>
        <AddtlNtryInf>CARD PAYMENT TESCO STORES 2231</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <Amt Ccy="GBP">1200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2026-03-03T10:15:00+00:00</DtTm></BookgDt>
        <AcctSvcrRef>BANK-002</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties><Dbtr><Pty><Nm>Acme Ltd</Nm></Pty></Dbtr><Cdtr><Nm>J Smith</Nm></Cdtr></RltdPties>
          <RmtInf><Ustrd>Payment for INV-0042 &amp; thanks</Ustrd>
            <Strd><CdtrRefInf><Ref>INV-0042</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
        <AddtlNtryInf>FASTER PAYMENT RECEIVED</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <Amt Ccy="GBP">3.20</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-04</Dt></BookgDt><NtryRef>BANK-003</NtryRef>
        <AddtlNtryInf>COFFEE ONE</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <Amt Ccy="GBP">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts>
        <BookgDt><Dt>2026-03-05</Dt></BookgDt><AddtlNtryInf>PENDING</AddtlNtryInf>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>"#
        )
    }

    #[test]
    fn reads_entries_across_versions() {
        for version in ["02", "04", "08"] {
            let parsed = parse(sample(version).as_bytes()).expect("camt sample");
            let amounts: Vec<i64> = parsed.lines.iter().map(|l| l.amount_pence).collect();
            assert_eq!(amounts, [-1250, 120_000, -320], "version {version}");
            let credit = &parsed.lines[1];
            assert_eq!(
                credit.date,
                NaiveDate::from_ymd_opt(2026, 3, 3).expect("date")
            );
            assert_eq!(credit.counterparty.as_deref(), Some("Acme Ltd"));
            assert_eq!(credit.reference.as_deref(), Some("INV-0042"));
            assert_eq!(
                credit.description,
                "FASTER PAYMENT RECEIVED Payment for INV-0042 & thanks"
            );
            assert_eq!(credit.dedup_key(), "fitid:BANK-002");
            assert_eq!(
                parsed.lines[0].counterparty.as_deref(),
                Some("Tesco Stores")
            );
            assert_eq!(parsed.lines[2].fitid.as_deref(), Some("BANK-003"));
            let closing = parsed.closing_balance.expect("CLBD");
            assert_eq!(closing.amount_pence, 218_430);
            assert_eq!(closing.date, NaiveDate::from_ymd_opt(2026, 3, 5));
        }
    }

    #[test]
    fn prefixed_namespaces_read_the_same() {
        let prefixed = sample("02")
            .replace("<Document xmlns=", "<c:Document xmlns:c=")
            .replace("</Document>", "</c:Document>")
            .replace("<Ntry>", "<c:Ntry>")
            .replace("</Ntry>", "</c:Ntry>");
        assert_eq!(parse(prefixed.as_bytes()).expect("prefixed").lines.len(), 3);
    }

    #[test]
    fn foreign_currency_entry_is_named() {
        let euro =
            sample("02").replacen(r#"<Amt Ccy="GBP">1200.00"#, r#"<Amt Ccy="EUR">1200.00"#, 1);
        assert_eq!(
            parse(euro.as_bytes()).expect_err("eur").to_string(),
            "entry 2 (reference BANK-002): currency is EUR; only GBP accounts can be imported"
        );
        let account = sample("02").replace("<Ccy>GBP</Ccy>", "<Ccy>USD</Ccy>");
        assert_eq!(
            parse(account.as_bytes()).expect_err("usd").to_string(),
            "statement 1: currency is USD; only GBP accounts can be imported"
        );
    }

    #[test]
    fn broken_entries_and_files() {
        let bad = sample("02").replace(
            "<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>BOOK",
            "<CdtDbtInd>X</CdtDbtInd>\n        <Sts>BOOK",
        );
        assert_eq!(
            parse(bad.as_bytes()).expect_err("indicator").to_string(),
            "entry 1 (reference BANK-001): credit/debit indicator 'X' is neither CRDT nor DBIT"
        );
        let bad = sample("02").replace("2026-03-04", "2026-02-30");
        assert!(parse(bad.as_bytes())
            .expect_err("date")
            .to_string()
            .starts_with("entry 3 (reference BANK-003): date '2026-02-30'"));
        let bad = sample("02").replace(">3.20<", ">3,20<");
        assert!(parse(bad.as_bytes()).is_err());
        assert!(matches!(
            parse(b"<Document><Other/></Document>"),
            Err(StatementError::Malformed { .. })
        ));
        assert!(matches!(
            parse(b"<Document><BkToCstmrStmt>"),
            Err(StatementError::Malformed { .. })
        ));
        assert!(matches!(
            parse(b"plain text"),
            Err(StatementError::Malformed { .. })
        ));
        let deep = "<a>".repeat(200);
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(StatementError::Malformed { .. })
        ));
    }

    #[test]
    fn truncated_files_fail_without_panicking() {
        let sample = sample("08");
        for cut in 0..sample.len() {
            if let Some(prefix) = sample.get(..cut) {
                assert!(parse(prefix.as_bytes()).is_err() || cut > sample.len() - 20);
            }
        }
    }
}
