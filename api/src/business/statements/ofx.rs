//! OFX statements, both flavours UK banks still emit: 1.x SGML (leaf elements have no end
//! tag, `<TRNAMT>-12.50` then the next tag) and 2.x XML.
//!
//! Both are reduced to the same token stream and read by one interpreter, so the two
//! flavours cannot drift apart. XML goes through quick-xml for correct entity and CDATA
//! handling; if a bank's "XML" is not well-formed (common), the SGML tokenizer, which
//! tolerates end tags, reads it instead.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use quick_xml::events::Event;

use super::{
    clean_optional, clean_text, decode_text, finish, parse_money, Location, ParsedStatement,
    Problem, StatementBalance, StatementError, StatementFormat, StatementLine,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open(String),
    Close(String),
    Text(String),
}

/// Parses an OFX 1.x or 2.x bank or credit-card statement.
pub fn parse(bytes: &[u8]) -> Result<ParsedStatement, StatementError> {
    let text = decode_text(bytes);
    let upper_start = text
        .get(..text.len().min(4096))
        .unwrap_or(&text)
        .to_ascii_uppercase();
    let tokens = if upper_start.contains("<?XML") || upper_start.contains("<?OFX") {
        match xml_tokens(&text) {
            Ok(tokens) => tokens,
            Err(xml_error) => sgml_tokens(&text).map_err(|_| malformed(xml_error))?,
        }
    } else {
        sgml_tokens(&text).map_err(malformed)?
    };
    if !tokens
        .iter()
        .any(|t| matches!(t, Token::Open(n) if n == "OFX"))
    {
        return Err(malformed("there is no <OFX> element".into()));
    }
    // Aggregates always have end tags, even in SGML, so a missing </OFX> means the download
    // was cut short and transactions may be missing.
    if !tokens
        .iter()
        .any(|t| matches!(t, Token::Close(n) if n == "OFX"))
    {
        return Err(malformed(
            "the file ends before </OFX>; it looks truncated".into(),
        ));
    }
    interpret(&tokens)
}

fn malformed(detail: String) -> StatementError {
    StatementError::Malformed {
        format: StatementFormat::Ofx,
        detail,
    }
}

fn push_text(tokens: &mut Vec<Token>, text: &str) {
    if let Some(Token::Text(existing)) = tokens.last_mut() {
        existing.push_str(text);
    } else {
        tokens.push(Token::Text(text.to_owned()));
    }
}

fn xml_tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut tokens = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("XML error at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(start) => {
                tokens.push(Token::Open(
                    start.local_name().as_ref().to_ascii_uppercase(),
                ));
            }
            Event::Empty(start) => {
                let name = start.local_name().as_ref().to_ascii_uppercase();
                tokens.push(Token::Open(name.clone()));
                tokens.push(Token::Close(name));
            }
            Event::End(end) => {
                tokens.push(Token::Close(end.local_name().as_ref().to_ascii_uppercase()));
            }
            Event::Text(t) => push_text(&mut tokens, &t.xml10_content()),
            Event::CData(t) => push_text(&mut tokens, &t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => resolve_entity(&r)
                        .map(str::to_owned)
                        .unwrap_or_else(|| format!("&{};", &*r)),
                };
                push_text(&mut tokens, &resolved);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    Ok(tokens)
}

fn resolve_entity(name: &str) -> Option<&'static str> {
    quick_xml::escape::resolve_predefined_entity(name).or(match name {
        "nbsp" => Some(" "),
        _ => None,
    })
}

/// Decodes the entities SGML exports use; unknown ones are kept as written.
fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[..semi];
            let value = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
            } else if let Some(dec) = name.strip_prefix('#') {
                dec.parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .map(String::from)
            } else {
                resolve_entity(&name.to_ascii_lowercase()).map(str::to_owned)
            };
            value.map(|v| (v, semi))
        });
        match decoded {
            Some((value, semi)) => {
                out.push_str(&value);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn sgml_tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let Some(first) = text.find('<') else {
        return Ok(tokens);
    };
    // Everything before the first tag is the `KEY:VALUE` header of OFX 1.x.
    let mut rest = &text[first..];
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut tokens, &decode_entities(rest));
            break;
        };
        if lt > 0 {
            push_text(&mut tokens, &decode_entities(&rest[..lt]));
        }
        rest = &rest[lt..];
        let (skip_to, terminator) = if rest.starts_with("<!--") {
            (4, "-->")
        } else if rest.starts_with("<![CDATA[") {
            let body = &rest[9..];
            let end = body
                .find("]]>")
                .ok_or_else(|| "unterminated CDATA section".to_owned())?;
            push_text(&mut tokens, &body[..end]);
            rest = &body[end + 3..];
            continue;
        } else if rest.starts_with("<?") {
            (2, "?>")
        } else if rest.starts_with("<!") {
            (2, ">")
        } else {
            (1, ">")
        };
        let body = &rest[skip_to..];
        let end = body
            .find(terminator)
            .ok_or_else(|| format!("unterminated tag '{}'", preview(rest)))?;
        let tag = &body[..end];
        rest = &body[end + terminator.len()..];
        if skip_to != 1 {
            continue;
        }
        let tag = tag.trim();
        let (closing, tag) = match tag.strip_prefix('/') {
            Some(t) => (true, t.trim()),
            None => (false, tag),
        };
        let (self_closing, tag) = match tag.strip_suffix('/') {
            Some(t) => (true, t.trim_end()),
            None => (false, tag),
        };
        let name = tag
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap_or_default();
        // Namespace prefixes carry no meaning in OFX.
        let name = name.rsplit(':').next().unwrap_or(name).to_ascii_uppercase();
        if name.is_empty() {
            return Err(format!("empty tag '{}'", preview(tag)));
        }
        if closing {
            tokens.push(Token::Close(name));
        } else {
            tokens.push(Token::Open(name.clone()));
            if self_closing {
                tokens.push(Token::Close(name));
            }
        }
    }
    Ok(tokens)
}

fn preview(text: &str) -> String {
    text.chars().take(30).collect()
}

/// For each `Open` token, whether its element is closed before another element of the same
/// name opens. In SGML only aggregates have end tags, so this tells an aggregate from an
/// empty leaf such as a bare `<MEMO>`. One backward pass keeps it linear.
fn closed_elements(tokens: &[Token]) -> Vec<bool> {
    let mut closed = vec![false; tokens.len()];
    let mut pending: HashSet<&str> = HashSet::new();
    for (i, token) in tokens.iter().enumerate().rev() {
        match token {
            Token::Close(name) => {
                pending.insert(name);
            }
            Token::Open(name) => closed[i] = pending.remove(name.as_str()),
            Token::Text(_) => {}
        }
    }
    closed
}

/// Aggregates read here; listed so they nest even when a sloppy export drops an end tag.
const AGGREGATES: &[&str] = &[
    "OFX",
    "BANKMSGSRSV1",
    "CREDITCARDMSGSRSV1",
    "STMTTRNRS",
    "CCSTMTTRNRS",
    "STMTRS",
    "CCSTMTRS",
    "BANKTRANLIST",
    "STMTTRN",
    "PAYEE",
    "CURRENCY",
    "ORIGCURRENCY",
    "LEDGERBAL",
    "AVAILBAL",
];

#[derive(Default)]
struct Interpreter {
    stack: Vec<String>,
    transactions: Vec<HashMap<String, String>>,
    in_transaction: bool,
    ledger: HashMap<String, String>,
    statements: usize,
}

impl Interpreter {
    fn open(&mut self, name: &str) {
        match name {
            "STMTTRN" => {
                self.transactions.push(HashMap::new());
                self.in_transaction = true;
            }
            "STMTRS" | "CCSTMTRS" => self.statements += 1,
            "LEDGERBAL" => self.ledger.clear(),
            _ => {}
        }
        self.stack.push(name.to_owned());
    }

    fn close(&mut self, name: &str) {
        if !self.stack.iter().any(|s| s == name) {
            return;
        }
        while let Some(top) = self.stack.pop() {
            if top == "STMTTRN" {
                self.in_transaction = false;
            }
            if top == name {
                break;
            }
        }
    }

    fn leaf(&mut self, name: &str, value: &str) -> Result<(), StatementError> {
        let parent = self.stack.last().map(String::as_str).unwrap_or_default();
        if self.in_transaction {
            let key = if parent == "STMTTRN" {
                name.to_owned()
            } else {
                format!("{parent}.{name}")
            };
            if let Some(txn) = self.transactions.last_mut() {
                txn.entry(key).or_insert_with(|| value.trim().to_owned());
            }
        } else if parent == "LEDGERBAL" {
            self.ledger.insert(name.to_owned(), value.trim().to_owned());
        } else if name == "CURDEF" && !value.trim().eq_ignore_ascii_case("GBP") {
            return Err(StatementError::at(
                Location::Statement {
                    index: self.statements.max(1),
                },
                Problem::Currency {
                    found: value.trim().to_owned(),
                },
            ));
        }
        Ok(())
    }
}

fn interpret(tokens: &[Token]) -> Result<ParsedStatement, StatementError> {
    let closed = closed_elements(tokens);
    let mut state = Interpreter::default();
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        match token {
            Token::Open(name) => {
                if let Some(Token::Text(value)) = tokens.get(i + 1) {
                    if !value.trim().is_empty() {
                        state.leaf(name, value)?;
                        i += 2;
                        if matches!(tokens.get(i), Some(Token::Close(c)) if c == name) {
                            i += 1;
                        }
                        continue;
                    }
                }
                if closed.get(i).copied().unwrap_or(false) || AGGREGATES.contains(&name.as_str()) {
                    state.open(name);
                } else {
                    state.leaf(name, "")?;
                }
            }
            Token::Close(name) => state.close(name),
            Token::Text(_) => {}
        }
        i += 1;
    }

    let lines = state
        .transactions
        .iter()
        .enumerate()
        .map(|(i, txn)| transaction(i + 1, txn))
        .collect::<Result<Vec<_>, _>>()?;
    let closing_balance = match state.ledger.get("BALAMT") {
        Some(amount) => Some(StatementBalance {
            date: state.ledger.get("DTASOF").and_then(|d| ofx_date(d)),
            amount_pence: ofx_amount(amount).ok_or_else(|| {
                StatementError::at(
                    Location::Statement {
                        index: state.statements.max(1),
                    },
                    Problem::InvalidAmount {
                        value: amount.clone(),
                    },
                )
            })?,
        }),
        None => None,
    };
    Ok(finish(lines, closing_balance))
}

/// OFX dates are `YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]]`; the day is all a statement line needs.
fn ofx_date(value: &str) -> Option<NaiveDate> {
    let digits = value.trim().get(..8)?;
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

/// The OFX spec allows a comma as the decimal mark; thousands separators never appear.
fn ofx_amount(value: &str) -> Option<i64> {
    let value = value.trim();
    if value.contains(',') && !value.contains('.') {
        parse_money(&value.replace(',', "."))
    } else {
        parse_money(value)
    }
}

fn transaction(
    index: usize,
    txn: &HashMap<String, String>,
) -> Result<StatementLine, StatementError> {
    let get = |key: &str| txn.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let fitid = clean_optional(get("FITID"));
    let location = || Location::Transaction {
        index,
        fitid: fitid.clone(),
    };
    if let Some(currency) = get("CURRENCY.CURSYM").filter(|c| !c.eq_ignore_ascii_case("GBP")) {
        return Err(StatementError::at(
            location(),
            Problem::Currency {
                found: currency.to_owned(),
            },
        ));
    }
    let posted = get("DTPOSTED").ok_or_else(|| {
        StatementError::at(
            location(),
            Problem::Missing {
                field: "DTPOSTED".into(),
            },
        )
    })?;
    let date = ofx_date(posted).ok_or_else(|| {
        StatementError::at(
            location(),
            Problem::InvalidDate {
                value: posted.to_owned(),
                expected: "YYYYMMDD".into(),
            },
        )
    })?;
    let raw_amount = get("TRNAMT").ok_or_else(|| {
        StatementError::at(
            location(),
            Problem::Missing {
                field: "TRNAMT".into(),
            },
        )
    })?;
    let amount_pence = ofx_amount(raw_amount).ok_or_else(|| {
        StatementError::at(
            location(),
            Problem::InvalidAmount {
                value: raw_amount.to_owned(),
            },
        )
    })?;
    let name = clean_optional(get("NAME").or(get("PAYEE.NAME")));
    let memo = clean_optional(get("MEMO"));
    // UK banks split one narrative across NAME (payee, 32 chars) and MEMO; both are kept
    // unless MEMO merely repeats NAME.
    let description = match (&name, &memo) {
        (Some(n), Some(m)) if n.contains(m.as_str()) => n.clone(),
        (Some(n), Some(m)) => clean_text(&format!("{n} {m}")),
        (Some(n), None) => n.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => clean_text(get("TRNTYPE").unwrap_or_default()),
    };
    Ok(StatementLine {
        date,
        amount_pence,
        description,
        reference: memo
            .filter(|m| name.as_deref() != Some(m.as_str()))
            .or_else(|| clean_optional(get("REFNUM"))),
        counterparty: name,
        balance_pence: None,
        fitid,
        occurrence: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SGML: &str = "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\n\
ENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n\
<OFX>\r\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>\
<DTSERVER>20260305120000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n\
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\r\n\
<STMTRS><CURDEF>GBP<BANKACCTFROM><BANKID>309457<ACCTID>12345678<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n\
<BANKTRANLIST><DTSTART>20260301<DTEND>20260305\r\n\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260302000000[0:GMT]<TRNAMT>-12.50<FITID>2026030201\
<NAME>TESCO STORES 2231<MEMO></STMTTRN>\r\n\
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260303<TRNAMT>1200.00<FITID>2026030301\
<NAME>ACME LTD<MEMO>INV-0042 &amp; THANKS</STMTTRN>\r\n\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260304<TRNAMT>-3,20<FITID>2026030401\
<NAME>COFFEE ONE</STMTTRN>\r\n\
</BANKTRANLIST><LEDGERBAL><BALAMT>2184.30<DTASOF>20260305</LEDGERBAL>\r\n\
</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n";

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
  <BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>
    <STMTRS><CURDEF>GBP</CURDEF>
      <BANKTRANLIST>
        <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260302</DTPOSTED><TRNAMT>-12.50</TRNAMT>
          <FITID>A1</FITID><NAME>TESCO STORES 2231</NAME><MEMO/></STMTTRN>
        <STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20260303120000.000[-5:EST]</DTPOSTED>
          <TRNAMT>1200.00</TRNAMT><FITID>A2</FITID><NAME>ACME LTD</NAME>
          <MEMO>INV-0042 &amp; THANKS</MEMO></STMTTRN>
        <STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20260304</DTPOSTED><TRNAMT>-3.20</TRNAMT>
          <FITID>A3</FITID><PAYEE><NAME>COFFEE ONE</NAME></PAYEE></STMTTRN>
      </BANKTRANLIST>
      <LEDGERBAL><BALAMT>2184.30</BALAMT><DTASOF>20260305</DTASOF></LEDGERBAL>
    </STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>"#;

    fn check(parsed: &ParsedStatement) {
        let amounts: Vec<i64> = parsed.lines.iter().map(|l| l.amount_pence).collect();
        assert_eq!(amounts, [-1250, 120_000, -320]);
        let credit = &parsed.lines[1];
        assert_eq!(credit.description, "ACME LTD INV-0042 & THANKS");
        assert_eq!(credit.reference.as_deref(), Some("INV-0042 & THANKS"));
        assert_eq!(credit.counterparty.as_deref(), Some("ACME LTD"));
        assert_eq!(
            credit.date,
            NaiveDate::from_ymd_opt(2026, 3, 3).expect("date")
        );
        assert_eq!(parsed.lines[0].description, "TESCO STORES 2231");
        assert_eq!(parsed.lines[2].counterparty.as_deref(), Some("COFFEE ONE"));
        let balance = parsed.closing_balance.as_ref().expect("ledger balance");
        assert_eq!(balance.amount_pence, 218_430);
        assert_eq!(balance.date, NaiveDate::from_ymd_opt(2026, 3, 5));
    }

    #[test]
    fn sgml_1x() {
        let parsed = parse(SGML.as_bytes()).expect("sgml");
        check(&parsed);
        assert_eq!(parsed.lines[1].dedup_key(), "fitid:2026030301");
    }

    #[test]
    fn xml_2x() {
        check(&parse(XML.as_bytes()).expect("xml"));
    }

    #[test]
    fn sloppy_xml_falls_back_to_sgml_reader() {
        let sloppy = XML.replace("</TRNUID>", "");
        check(&parse(sloppy.as_bytes()).expect("sloppy xml"));
    }

    #[test]
    fn errors_name_the_transaction() {
        let bad = SGML.replace("<TRNAMT>1200.00", "<TRNAMT>12O0.00");
        let err = parse(bad.as_bytes()).expect_err("bad amount");
        assert_eq!(
            err.to_string(),
            "transaction 2 (FITID 2026030301): '12O0.00' is not an amount in pounds and pence"
        );
        let bad = SGML.replace("<DTPOSTED>20260303", "<DTPOSTED>20260231");
        let err = parse(bad.as_bytes()).expect_err("bad date");
        assert_eq!(
            err.to_string(),
            "transaction 2 (FITID 2026030301): date '20260231' is not a date (expected YYYYMMDD)"
        );
        let bad = SGML.replace("<DTPOSTED>20260303", "");
        assert!(parse(bad.as_bytes())
            .expect_err("missing date")
            .to_string()
            .contains("DTPOSTED is missing"));
        let euro = SGML.replace("<CURDEF>GBP", "<CURDEF>EUR");
        assert_eq!(
            parse(euro.as_bytes()).expect_err("eur").to_string(),
            "statement 1: currency is EUR; only GBP accounts can be imported"
        );
        assert!(matches!(
            parse(b"not an ofx file"),
            Err(StatementError::Malformed { .. })
        ));
        assert!(matches!(
            parse(b"<OFX><STMTTRN><NAME>x"),
            Err(StatementError::Malformed { .. })
        ));
        let cut = SGML
            .replace("</OFX>", "")
            .replace("</STMTRS></STMTTRNRS></BANKMSGSRSV1>", "");
        assert!(parse(cut.as_bytes()).is_err());
    }

    #[test]
    fn entities_and_tokens() {
        assert_eq!(
            decode_entities("A &amp; B &#163;1 &#x41; &bogus; &"),
            "A & B £1 A &bogus; &"
        );
        let tokens = sgml_tokens("<A><!-- c --><B>x</A>").expect("tokens");
        assert_eq!(
            tokens,
            [
                Token::Open("A".into()),
                Token::Open("B".into()),
                Token::Text("x".into()),
                Token::Close("A".into())
            ]
        );
        assert!(sgml_tokens("<A><B").is_err());
    }

    #[test]
    fn truncated_files_fail_without_panicking() {
        for sample in [SGML, XML] {
            for cut in 0..sample.len() {
                if let Some(prefix) = sample.get(..cut) {
                    let _ = parse(prefix.as_bytes());
                }
            }
        }
    }
}
