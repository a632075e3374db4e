//! Whether a document meets HMRC's rules for a VAT invoice, rule by rule: pure, no I/O.
//!
//! Each rule answers met or broken and names its source, so the trader sees which particular
//! is missing and where the requirement comes from rather than a bare "invalid". The sources:
//!
//! - The Value Added Tax Regulations 1995 (SI 1995/2518): reg 13(5), the 30 days to issue;
//!   reg 14(1), the particulars of a full VAT invoice, by paragraph letter as the revised text
//!   stands ((f) and (k) are revoked; (h) and (i) allow any currency, only (l), the VAT total,
//!   must be in sterling; (m) is the unit price; (o) the reverse-charge reference); reg 16A, the
//!   simplified invoice for a supply of at most £250.
//! - VAT Notice 700/21 §4 ("Records and accounts: VAT invoices"): §4.3 full, §4.4 simplified,
//!   §4.5 modified invoices.
//! - The Value Added Tax Act 1994 s6(4) and s6(5), which fix the tax point an invoice must show.
//! - HMRC's manuals where the Notice is silent: VATREC6010 (30 days), VATREC16042 (no exempt
//!   supplies on a simplified invoice), VATREC16043 (modified invoices), VATREVCON37100
//!   (reverse-charge invoices).
//!
//! The customer's VAT number is not a rule: reg 14(1) does not list it for a UK supply (only
//! reg 14(2), for supplies to another member State), and HMRC's construction reverse charge
//! guidance (VATREVCON37100) asks for the usual particulars plus the reverse-charge wording,
//! not the customer's number. [`InvoiceFacts::customer_vrn`] is carried for the document, not
//! checked.
//!
//! A business that is not VAT registered cannot give VAT invoices at all, so for it the VAT rules
//! do not apply (`applies: false`); what it must not do is show VAT (`not_vat_registered`).
//! The number, date, names and descriptions still apply to it, as the particulars GOV.UK asks
//! of any invoice, and are cited as such.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Reg 16A: a simplified invoice is allowed for a supply of at most £250 including VAT. The
/// same figure as `money::SIMPLIFIED_INVOICE_LIMIT`.
const SIMPLIFIED_LIMIT_PENCE: i64 = 25_000;
/// VATA 1994 s6(5): an invoice issued within 14 days of the supply fixes the tax point at its
/// own date; later, the date of supply stands and has to be shown.
const FOURTEEN_DAY_RULE: i64 = 14;
/// Reg 13(5): the invoice is due within 30 days of the tax point.
const ISSUE_WITHIN_DAYS: i64 = 30;

/// Which kind of VAT invoice the document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceForm {
    /// Every particular of reg 14(1) (Notice 700/21 §4.3).
    Full,
    /// A supply of at most £250 incl. VAT: only the particulars of reg 16A (Notice 700/21 §4.4).
    Simplified,
    /// A full invoice whose lines show VAT-inclusive amounts, the totals still showing the VAT
    /// (Notice 700/21 §4.5).
    Modified,
}

/// One line as the document shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactLine {
    pub description: String,
    pub quantity: Option<String>,
    pub unit_price_pence_text: Option<String>,
    /// "standard", "reduced", "zero", "exempt", "outside_scope" or "reverse_charge".
    pub vat_rate: Option<String>,
    pub net_pence: i64,
    /// For a reverse-charge line, the VAT shown for the customer to account for, not charged.
    pub vat_pence: i64,
}

/// What a document shows, as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceFacts {
    pub form: InvoiceForm,
    pub vat_registered: bool,
    /// `None` while a draft.
    pub number: Option<String>,
    /// Whether the number comes from the business's gap-free sequence without repeating.
    pub number_unique_and_sequential: bool,
    /// The date of issue.
    pub invoice_date: Option<NaiveDate>,
    /// The tax point printed on the document, if one is.
    pub tax_point: Option<NaiveDate>,
    /// When the goods went or the work was done.
    pub supply_date: Option<NaiveDate>,
    pub supplier_name: String,
    pub supplier_address: Vec<String>,
    pub supplier_vrn: Option<String>,
    pub customer_name: Option<String>,
    pub customer_address: Vec<String>,
    pub lines: Vec<FactLine>,
    pub net_total_pence: i64,
    /// VAT charged: reverse-charge VAT is not in it.
    pub vat_total_pence: i64,
    pub gross_total_pence: i64,
    /// "GBP".
    pub currency: String,
    /// The document carries "Reverse charge: customer to pay the VAT to HMRC".
    pub reverse_charge_wording: bool,
    /// Shown when known; no rule needs it (see the module documentation).
    pub customer_vrn: Option<String>,
}

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleResult {
    /// Stable snake_case id, e.g. "sequential_number".
    pub rule: &'static str,
    /// True when the rule is met or does not apply.
    pub met: bool,
    /// False when the rule does not apply to this kind of document, e.g. the customer's address
    /// on a simplified invoice.
    pub applies: bool,
    pub description: &'static str,
    /// Where the requirement comes from; for a rule that does not apply, why not.
    pub citation: &'static str,
    /// Why the rule is broken; `None` when met.
    pub detail: Option<String>,
}

/// Every rule, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Validation {
    /// Every rule that applies is met.
    pub valid: bool,
    pub rules: Vec<RuleResult>,
}

/// Which set of requirements the document answers to: a modified invoice is a full invoice
/// with VAT-inclusive lines, so it shares the full invoice's requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Regime {
    Full,
    Simplified,
    Unregistered,
}

impl Regime {
    fn of(facts: &InvoiceFacts) -> Self {
        match (facts.vat_registered, facts.form) {
            (false, _) => Regime::Unregistered,
            (true, InvoiceForm::Simplified) => Regime::Simplified,
            (true, InvoiceForm::Full | InvoiceForm::Modified) => Regime::Full,
        }
    }

    /// The citation for this regime: one string per regime keeps every citation `'static`.
    fn pick(
        self,
        full: &'static str,
        simplified: &'static str,
        unregistered: &'static str,
    ) -> &'static str {
        match self {
            Regime::Full => full,
            Regime::Simplified => simplified,
            Regime::Unregistered => unregistered,
        }
    }
}

const ANY_INVOICE: &str =
    "GOV.UK \"Invoicing and taking payment from customers\": what any invoice must include";
const ANY_INVOICE_NAME: &str = "GOV.UK \"Invoicing and taking payment from customers\"; \
     Companies Act 2006 s1202 when trading under a business name";
const NOT_REGISTERED: &str =
    "Not VAT registered: only a registered person provides VAT invoices (SI 1995/2518 reg 13(1))";
const NOT_SIMPLIFIED: &str = "SI 1995/2518 reg 16A: not a particular of a simplified invoice";

/// The VAT treatment a line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rate {
    Standard,
    Reduced,
    Zero,
    Exempt,
    OutsideScope,
    ReverseCharge,
}

impl Rate {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "standard" => Rate::Standard,
            "reduced" => Rate::Reduced,
            "zero" => Rate::Zero,
            "exempt" => Rate::Exempt,
            "outside_scope" => Rate::OutsideScope,
            "reverse_charge" => Rate::ReverseCharge,
            _ => return None,
        })
    }

    fn carries_no_vat(self) -> bool {
        matches!(self, Rate::Zero | Rate::Exempt | Rate::OutsideScope)
    }
}

fn rate_of(line: &FactLine) -> Option<Rate> {
    line.vat_rate.as_deref().and_then(Rate::parse)
}

fn is_reverse_charge(line: &FactLine) -> bool {
    rate_of(line) == Some(Rate::ReverseCharge)
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn missing(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(blank)
}

/// One-based line numbers, as the document prints them.
fn lines_where(facts: &InvoiceFacts, pred: impl Fn(&FactLine) -> bool) -> Vec<usize> {
    facts
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| pred(l))
        .map(|(i, _)| i + 1)
        .collect()
}

fn numbered(lines: &[usize]) -> String {
    let list: Vec<String> = lines.iter().map(usize::to_string).collect();
    match lines {
        [_] => format!("line {}", list[0]),
        _ => format!("lines {}", list.join(", ")),
    }
}

/// Ok when no line `fails`, otherwise the failing lines' numbers and `what` is wrong.
fn every_line(
    facts: &InvoiceFacts,
    fails: impl Fn(&FactLine) -> bool,
    what: &str,
) -> Result<(), String> {
    let bad = lines_where(facts, fails);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {what}", numbered(&bad)))
    }
}

/// Sums in `i128`: the facts come from outside and a sum of `i64`s may not fit in one.
fn sum(facts: &InvoiceFacts, amount: impl Fn(&FactLine) -> i64) -> i128 {
    facts.lines.iter().map(|l| i128::from(amount(l))).sum()
}

fn line_net_sum(facts: &InvoiceFacts) -> i128 {
    sum(facts, |l| l.net_pence)
}

/// VAT charged: reverse-charge VAT is shown on the document but the customer accounts for it,
/// so it stays out of the VAT total (VATREVCON37100).
fn line_vat_charged_sum(facts: &InvoiceFacts) -> i128 {
    sum(
        facts,
        |l| if is_reverse_charge(l) { 0 } else { l.vat_pence },
    )
}

fn days_between(later: NaiveDate, earlier: NaiveDate) -> i64 {
    (later - earlier).num_days()
}

/// The tax point the document stands for: the one printed; else, once issued, its date unless
/// the supply was more than 14 days earlier (VATA 1994 s6(5)), when the supply date stands;
/// for a draft, the supply date.
fn effective_tax_point(facts: &InvoiceFacts) -> Option<NaiveDate> {
    if facts.tax_point.is_some() {
        return facts.tax_point;
    }
    match (facts.invoice_date, facts.supply_date) {
        (Some(issued), Some(supplied)) if days_between(issued, supplied) > FOURTEEN_DAY_RULE => {
            Some(supplied)
        }
        (Some(issued), _) => Some(issued),
        (None, supplied) => supplied,
    }
}

fn vrn_well_formed(raw: &str) -> bool {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let number = compact.strip_prefix("GB").unwrap_or(&compact);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // HMRC splits the three-digit range: government departments below 500, health authorities
    // from 500; comparing the digit strings compares the numbers as both are three long.
    if let Some(n) = number.strip_prefix("GD") {
        return n.len() == 3 && digits(n) && n < "500";
    }
    if let Some(n) = number.strip_prefix("HA") {
        return n.len() == 3 && digits(n) && n >= "500";
    }
    digits(number) && matches!(number.len(), 9 | 12)
}

fn sequential_number(facts: &InvoiceFacts) -> Result<(), String> {
    match &facts.number {
        None => Err("no number yet: a draft is numbered when it is issued".into()),
        Some(n) if blank(n) => Err("the number is blank".into()),
        Some(n) if !facts.number_unique_and_sequential => Err(format!(
            "{n} does not follow on from the previous number or is used twice"
        )),
        Some(_) => Ok(()),
    }
}

fn invoice_date(facts: &InvoiceFacts) -> Result<(), String> {
    match facts.invoice_date {
        Some(_) => Ok(()),
        None => Err("no date of issue: a draft is dated when it is issued".into()),
    }
}

fn tax_point(facts: &InvoiceFacts) -> Result<(), String> {
    match (facts.tax_point, facts.invoice_date, facts.supply_date) {
        // s6(4): issuing the invoice before the supply fixes the tax point at the invoice's
        // date, so a later printed tax point cannot be right.
        (Some(point), Some(issued), _) if point > issued => Err(format!(
            "the tax point {point} is after the date of issue {issued}; issuing the invoice \
             fixes the tax point no later than its date"
        )),
        (Some(_), _, _) => Ok(()),
        (None, None, _) => Err("neither a tax point nor a date of issue is shown".into()),
        (None, Some(issued), Some(supplied))
            if days_between(issued, supplied) > FOURTEEN_DAY_RULE =>
        {
            Err(format!(
                "the supply on {supplied} was more than {FOURTEEN_DAY_RULE} days before the \
                 date of issue {issued}, so the tax point is {supplied} and must be shown"
            ))
        }
        (None, Some(_), _) => Ok(()),
    }
}

fn supplier_name(facts: &InvoiceFacts) -> Result<(), String> {
    if blank(&facts.supplier_name) {
        Err("the business's name is blank".into())
    } else {
        Ok(())
    }
}

fn address(lines: &[String], whose: &str) -> Result<(), String> {
    if lines.iter().all(|l| blank(l)) {
        Err(format!("{whose} address is missing"))
    } else {
        Ok(())
    }
}

fn supplier_vrn(facts: &InvoiceFacts) -> Result<(), String> {
    match &facts.supplier_vrn {
        None => Err("the business's VAT number is not shown".into()),
        Some(v) if !vrn_well_formed(v) => Err(format!(
            "\"{v}\" is not a UK VAT number: GB and 9 digits, 12 for a branch, or GD/HA and 3"
        )),
        Some(_) => Ok(()),
    }
}

fn customer_name(facts: &InvoiceFacts) -> Result<(), String> {
    if missing(&facts.customer_name) {
        Err("the customer's name is missing".into())
    } else {
        Ok(())
    }
}

fn line_description(facts: &InvoiceFacts) -> Result<(), String> {
    if facts.lines.is_empty() {
        return Err("the invoice has no lines".into());
    }
    every_line(facts, |l| blank(&l.description), "no description")
}

fn line_quantity_and_unit_price(facts: &InvoiceFacts) -> Result<(), String> {
    let problems: Vec<String> = [
        every_line(facts, |l| missing(&l.quantity), "no quantity"),
        every_line(
            facts,
            |l| missing(&l.unit_price_pence_text),
            "no unit price",
        ),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn line_vat_rate(facts: &InvoiceFacts) -> Result<(), String> {
    let problems: Vec<String> = [
        every_line(facts, |l| l.vat_rate.is_none(), "no VAT rate"),
        every_line(
            facts,
            |l| l.vat_rate.is_some() && rate_of(l).is_none(),
            "a VAT rate that does not exist",
        ),
        // Notice 700/21 §4.3: a zero-rated or exempt item must be shown as carrying no VAT.
        every_line(
            facts,
            |l| rate_of(l).is_some_and(Rate::carries_no_vat) && l.vat_pence != 0,
            "VAT on a zero-rated, exempt or outside-the-scope line",
        ),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn net_total(facts: &InvoiceFacts) -> Result<(), String> {
    let lines = line_net_sum(facts);
    if lines == i128::from(facts.net_total_pence) {
        Ok(())
    } else {
        Err(format!(
            "the total excluding VAT is {} pence but the lines add up to {lines}",
            facts.net_total_pence
        ))
    }
}

fn vat_total_sterling(facts: &InvoiceFacts) -> Result<(), String> {
    let lines = line_vat_charged_sum(facts);
    if lines == i128::from(facts.vat_total_pence) {
        Ok(())
    } else {
        Err(format!(
            "the VAT total is {} pence but the VAT charged on the lines adds up to {lines}",
            facts.vat_total_pence
        ))
    }
}

fn currency_sterling(facts: &InvoiceFacts) -> Result<(), String> {
    if facts.currency.trim().eq_ignore_ascii_case("GBP") {
        Ok(())
    } else {
        Err(format!(
            "amounts are in {} and the VAT total is not also shown in sterling",
            facts.currency
        ))
    }
}

fn issued_within_30_days(facts: &InvoiceFacts, today: NaiveDate) -> Result<(), String> {
    // A draft is measured against today: it is late already if issuing it now would be.
    let issued = facts.invoice_date.unwrap_or(today);
    let Some(point) = effective_tax_point(facts) else {
        return Ok(());
    };
    let days = days_between(issued, point);
    if days <= ISSUE_WITHIN_DAYS {
        return Ok(());
    }
    Err(match facts.invoice_date {
        Some(_) => format!(
            "issued {days} days after the tax point {point}; the limit is {ISSUE_WITHIN_DAYS}"
        ),
        None => format!(
            "still a draft {days} days after the tax point {point}; the limit is \
             {ISSUE_WITHIN_DAYS}"
        ),
    })
}

fn simplified_limit(facts: &InvoiceFacts) -> Result<(), String> {
    if facts.gross_total_pence <= SIMPLIFIED_LIMIT_PENCE {
        Ok(())
    } else {
        Err(format!(
            "the total including VAT is {} pence, over the £250 a simplified invoice allows",
            facts.gross_total_pence
        ))
    }
}

fn simplified_no_exempt(facts: &InvoiceFacts) -> Result<(), String> {
    every_line(
        facts,
        |l| rate_of(l) == Some(Rate::Exempt),
        "exempt, which a simplified invoice cannot include",
    )
}

fn reverse_charge_wording(facts: &InvoiceFacts) -> Result<(), String> {
    if facts.reverse_charge_wording {
        Ok(())
    } else {
        Err(
            "a line is reverse charge but the document does not say the customer is to pay \
             the VAT to HMRC"
                .into(),
        )
    }
}

fn not_vat_registered(facts: &InvoiceFacts) -> Result<(), String> {
    let mut problems: Vec<String> = [
        every_line(facts, |l| l.vat_rate.is_some(), "a VAT rate shown"),
        every_line(facts, |l| l.vat_pence != 0, "VAT shown"),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if facts.vat_total_pence != 0 {
        problems.push(format!(
            "the VAT total is {} pence, not 0",
            facts.vat_total_pence
        ));
    }
    if !missing(&facts.supplier_vrn) {
        problems.push("a VAT number is shown".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn modified_invoice(facts: &InvoiceFacts) -> Result<(), String> {
    let (net, vat, gross) = (
        i128::from(facts.net_total_pence),
        i128::from(facts.vat_total_pence),
        i128::from(facts.gross_total_pence),
    );
    if net + vat == gross {
        Ok(())
    } else {
        Err(format!(
            "the totals excluding VAT ({net}), of VAT ({vat}) and including VAT ({gross}) \
             do not agree"
        ))
    }
}

fn totals_consistent(facts: &InvoiceFacts) -> Result<(), String> {
    let mut problems = Vec::new();
    let (net, vat, gross) = (
        i128::from(facts.net_total_pence),
        i128::from(facts.vat_total_pence),
        i128::from(facts.gross_total_pence),
    );
    let lines_net = line_net_sum(facts);
    if lines_net != net {
        problems.push(format!(
            "the lines' net is {lines_net}, the net total {net}"
        ));
    }
    let lines_vat = line_vat_charged_sum(facts);
    if lines_vat != vat {
        problems.push(format!(
            "the VAT charged on the lines is {lines_vat}, the VAT total {vat}"
        ));
    }
    if net + vat != gross {
        problems.push(format!("net {net} plus VAT {vat} is not the total {gross}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn outcome(
    rule: &'static str,
    description: &'static str,
    citation: &'static str,
    applies: bool,
    check: impl FnOnce() -> Result<(), String>,
) -> RuleResult {
    // A rule that does not apply is not run: its facts may legitimately be absent.
    let detail = if applies { check().err() } else { None };
    RuleResult {
        rule,
        met: detail.is_none(),
        applies,
        description,
        citation,
        detail,
    }
}

/// Checks `facts` against every rule; `today` dates a draft for the 30-day rule.
pub fn validate(facts: &InvoiceFacts, today: NaiveDate) -> Validation {
    let regime = Regime::of(facts);
    let full = regime == Regime::Full;
    let simplified = regime == Regime::Simplified;
    let registered = facts.vat_registered;
    let any_reverse_charge = facts.lines.iter().any(is_reverse_charge);

    let rules = vec![
        outcome(
            "sequential_number",
            "A unique number that follows on from the last invoice",
            regime.pick(
                "SI 1995/2518 reg 14(1)(a); VAT Notice 700/21 §4.3",
                "VAT Notice 700/21 §4.4 and GOV.UK \"VAT record keeping\" (reg 16A itself \
                 does not list a number)",
                ANY_INVOICE,
            ),
            true,
            || sequential_number(facts),
        ),
        outcome(
            "invoice_date",
            "The date of issue",
            regime.pick(
                "SI 1995/2518 reg 14(1)(c); VAT Notice 700/21 §4.3",
                NOT_SIMPLIFIED,
                ANY_INVOICE,
            ),
            !simplified,
            || invoice_date(facts),
        ),
        outcome(
            "tax_point",
            "The time of supply (tax point), where it differs from the date of issue",
            regime.pick(
                "SI 1995/2518 reg 14(1)(b); VATA 1994 s6(4), s6(5); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(b); VATA 1994 s6(4), s6(5); VAT Notice 700/21 §4.4",
                NOT_REGISTERED,
            ),
            registered,
            || tax_point(facts),
        ),
        outcome(
            "supplier_name",
            "The business's name",
            regime.pick(
                "SI 1995/2518 reg 14(1)(d); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(a); VAT Notice 700/21 §4.4",
                ANY_INVOICE_NAME,
            ),
            true,
            || supplier_name(facts),
        ),
        outcome(
            "supplier_address",
            "The business's address",
            regime.pick(
                "SI 1995/2518 reg 14(1)(d); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(a); VAT Notice 700/21 §4.4",
                ANY_INVOICE_NAME,
            ),
            true,
            || address(&facts.supplier_address, "the business's"),
        ),
        outcome(
            "supplier_vrn",
            "The business's VAT registration number, well formed",
            regime.pick(
                "SI 1995/2518 reg 14(1)(d); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(a); VAT Notice 700/21 §4.4",
                NOT_REGISTERED,
            ),
            registered,
            || supplier_vrn(facts),
        ),
        outcome(
            "customer_name",
            "The customer's name",
            regime.pick(
                "SI 1995/2518 reg 14(1)(e); VAT Notice 700/21 §4.3",
                NOT_SIMPLIFIED,
                ANY_INVOICE,
            ),
            !simplified,
            || customer_name(facts),
        ),
        outcome(
            "customer_address",
            "The customer's address",
            regime.pick(
                "SI 1995/2518 reg 14(1)(e); VAT Notice 700/21 §4.3",
                NOT_SIMPLIFIED,
                NOT_REGISTERED,
            ),
            full,
            || address(&facts.customer_address, "the customer's"),
        ),
        outcome(
            "line_description",
            "A description of each line sufficient to identify the goods or services",
            regime.pick(
                "SI 1995/2518 reg 14(1)(g); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(c); VAT Notice 700/21 §4.4",
                ANY_INVOICE,
            ),
            true,
            || line_description(facts),
        ),
        outcome(
            "line_quantity_and_unit_price",
            "Each line's quantity of goods or extent of services, and its unit price",
            regime.pick(
                "SI 1995/2518 reg 14(1)(h) (quantity or extent) and (m) (unit price); \
                 VAT Notice 700/21 §4.3",
                NOT_SIMPLIFIED,
                NOT_REGISTERED,
            ),
            full,
            || line_quantity_and_unit_price(facts),
        ),
        outcome(
            "line_vat_rate",
            "Each line's VAT rate, zero-rated and exempt lines shown as carrying no VAT",
            regime.pick(
                "SI 1995/2518 reg 14(1)(h); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(e); VAT Notice 700/21 §4.4",
                NOT_REGISTERED,
            ),
            registered,
            || line_vat_rate(facts),
        ),
        outcome(
            "net_total",
            "The total excluding VAT, the sum of the lines (any currency)",
            regime.pick(
                "SI 1995/2518 reg 14(1)(i); VAT Notice 700/21 §4.3",
                "SI 1995/2518 reg 16A(d): a simplified invoice shows the total including VAT \
                 instead",
                NOT_REGISTERED,
            ),
            full,
            || net_total(facts),
        ),
        outcome(
            "vat_total_sterling",
            "The total VAT charged, the sum of the lines' VAT less any reverse charge",
            regime.pick(
                "SI 1995/2518 reg 14(1)(l); VAT Notice 700/21 §4.3; HMRC VATREVCON37100 \
                 (reverse-charge VAT is not part of the VAT charged)",
                NOT_SIMPLIFIED,
                NOT_REGISTERED,
            ),
            full,
            || vat_total_sterling(facts),
        ),
        outcome(
            "currency_sterling",
            "Amounts in sterling, or at least the VAT total shown in sterling",
            regime.pick(
                "SI 1995/2518 reg 14(1)(l) (VAT total in sterling; (h) and (i) allow any \
                 currency); VAT Notice 700/21 §4.3",
                NOT_SIMPLIFIED,
                NOT_REGISTERED,
            ),
            full,
            || currency_sterling(facts),
        ),
        outcome(
            "issued_within_30_days",
            "Issued within 30 days of the tax point",
            regime.pick(
                "SI 1995/2518 reg 13(5); HMRC VATREC6010",
                "SI 1995/2518 reg 13(5); HMRC VATREC6010",
                NOT_REGISTERED,
            ),
            registered,
            || issued_within_30_days(facts, today),
        ),
        outcome(
            "simplified_limit",
            "A simplified invoice is for at most £250 including VAT",
            "SI 1995/2518 reg 16A; VAT Notice 700/21 §4.4",
            simplified,
            || simplified_limit(facts),
        ),
        outcome(
            "simplified_no_exempt",
            "A simplified invoice includes no exempt supplies",
            "VAT Notice 700/21 §4.4; HMRC VATREC16042",
            simplified,
            || simplified_no_exempt(facts),
        ),
        outcome(
            "reverse_charge_wording",
            "A reverse-charge supply says the customer is to account for the VAT",
            if registered {
                "SI 1995/2518 reg 14(1)(o); HMRC VATREVCON37100 (e.g. \"Reverse charge: \
                 customer to pay the VAT to HMRC\")"
            } else {
                NOT_REGISTERED
            },
            registered && any_reverse_charge,
            || reverse_charge_wording(facts),
        ),
        outcome(
            "not_vat_registered",
            "A business that is not VAT registered shows no VAT, no VAT rate and no VAT number",
            "VATA 1994 Sch 11 para 5 (VAT shown is recoverable from the issuer); FA 2008 \
             Sch 41 para 2 (unauthorised issue of an invoice showing VAT)",
            !registered,
            || not_vat_registered(facts),
        ),
        outcome(
            "modified_invoice",
            "A modified invoice shows the totals excluding VAT, of VAT and including VAT",
            "VAT Notice 700/21 §4.5; HMRC VATREC16043",
            registered && facts.form == InvoiceForm::Modified,
            || modified_invoice(facts),
        ),
        outcome(
            "totals_consistent",
            "The totals are those of the lines, and net plus VAT is the total",
            regime.pick(
                "SI 1995/2518 reg 14(1)(h), (i), (l); HMRC VATREVCON37100",
                "SI 1995/2518 reg 16A(d), (e)",
                ANY_INVOICE,
            ),
            true,
            || totals_consistent(facts),
        ),
    ];
    Validation {
        valid: rules.iter().all(|r| !r.applies || r.met),
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn today() -> NaiveDate {
        date(2025, 3, 12)
    }

    fn line(description: &str, rate: Option<&str>, net: i64, vat: i64) -> FactLine {
        FactLine {
            description: description.into(),
            quantity: Some("1".into()),
            unit_price_pence_text: Some(format!("{}.{:02}", net / 100, net % 100)),
            vat_rate: rate.map(Into::into),
            net_pence: net,
            vat_pence: vat,
        }
    }

    /// Recomputes the totals from the lines, as `money::totals` does, so a fixture changed
    /// line by line stays consistent.
    fn retotal(mut f: InvoiceFacts) -> InvoiceFacts {
        f.net_total_pence = f.lines.iter().map(|l| l.net_pence).sum();
        f.vat_total_pence = f
            .lines
            .iter()
            .filter(|l| !is_reverse_charge(l))
            .map(|l| l.vat_pence)
            .sum();
        f.gross_total_pence = f.net_total_pence + f.vat_total_pence;
        f
    }

    /// A valid full VAT invoice: 3 × £19.99 standard rated and a zero-rated £40 line.
    fn full() -> InvoiceFacts {
        retotal(InvoiceFacts {
            form: InvoiceForm::Full,
            vat_registered: true,
            number: Some("INV-0042".into()),
            number_unique_and_sequential: true,
            invoice_date: Some(date(2025, 3, 10)),
            tax_point: None,
            supply_date: Some(date(2025, 3, 7)),
            supplier_name: "Sam Carter Joinery".into(),
            supplier_address: vec!["1 High Street".into(), "Leeds LS1 1AA".into()],
            supplier_vrn: Some("GB 980 7806 84".into()),
            customer_name: Some("Acme Builders Ltd".into()),
            customer_address: vec!["2 Mill Lane".into(), "York YO1 2BB".into()],
            lines: vec![
                FactLine {
                    quantity: Some("3".into()),
                    unit_price_pence_text: Some("19.99".into()),
                    ..line("Oak shelf, fitted", Some("standard"), 5_997, 1_199)
                },
                line("Children's books", Some("zero"), 4_000, 0),
            ],
            net_total_pence: 0,
            vat_total_pence: 0,
            gross_total_pence: 0,
            currency: "GBP".into(),
            reverse_charge_wording: false,
            customer_vrn: None,
        })
    }

    /// A valid simplified invoice: £50 + £10 VAT, no customer, no quantity or unit price.
    fn simplified() -> InvoiceFacts {
        retotal(InvoiceFacts {
            form: InvoiceForm::Simplified,
            customer_name: None,
            customer_address: Vec::new(),
            lines: vec![FactLine {
                quantity: None,
                unit_price_pence_text: None,
                ..line("Door hung", Some("standard"), 5_000, 1_000)
            }],
            ..full()
        })
    }

    /// A valid domestic reverse-charge invoice for construction work.
    fn reverse_charge() -> InvoiceFacts {
        retotal(InvoiceFacts {
            lines: vec![line(
                "First-fix carpentry, plot 7",
                Some("reverse_charge"),
                100_000,
                20_000,
            )],
            reverse_charge_wording: true,
            customer_vrn: Some("GB123456782".into()),
            ..full()
        })
    }

    /// A valid invoice from a business that is not VAT registered.
    fn unregistered() -> InvoiceFacts {
        retotal(InvoiceFacts {
            vat_registered: false,
            supplier_vrn: None,
            lines: vec![line("Garden gate repaired", None, 12_000, 0)],
            ..full()
        })
    }

    fn modified() -> InvoiceFacts {
        InvoiceFacts {
            form: InvoiceForm::Modified,
            ..full()
        }
    }

    fn result<'a>(v: &'a Validation, id: &str) -> &'a RuleResult {
        v.rules
            .iter()
            .find(|r| r.rule == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    }

    fn broken(v: &Validation) -> Vec<&'static str> {
        v.rules
            .iter()
            .filter(|r| r.applies && !r.met)
            .map(|r| r.rule)
            .collect()
    }

    #[track_caller]
    fn assert_met(f: &InvoiceFacts, id: &str) {
        let v = validate(f, today());
        let r = result(&v, id);
        assert!(r.applies, "{id} should apply");
        assert!(r.met, "{id} should be met: {:?}", r.detail);
        assert_eq!(r.detail, None);
    }

    /// Asserts the rules broken are exactly `ids`, each with a reason, and the document is
    /// therefore not valid.
    #[track_caller]
    fn assert_broken(f: &InvoiceFacts, ids: &[&str]) {
        let v = validate(f, today());
        assert_eq!(broken(&v), ids);
        for id in ids {
            assert!(result(&v, id).detail.is_some(), "{id} needs a reason");
        }
        assert!(!v.valid);
    }

    #[track_caller]
    fn assert_not_applicable(f: &InvoiceFacts, id: &str) {
        let v = validate(f, today());
        let r = result(&v, id);
        assert!(!r.applies, "{id} should not apply");
        assert!(r.met && r.detail.is_none());
    }

    #[test]
    fn valid_documents_are_valid() {
        for (name, f) in [
            ("full", full()),
            ("simplified", simplified()),
            ("reverse charge", reverse_charge()),
            ("not registered", unregistered()),
            ("modified", modified()),
        ] {
            let v = validate(&f, today());
            assert!(v.valid, "{name}: {:?}", broken(&v));
        }
    }

    #[test]
    fn rule_ids_are_unique_snake_case_and_cited() {
        let v = validate(&full(), today());
        let mut ids: Vec<_> = v.rules.iter().map(|r| r.rule).collect();
        assert_eq!(ids.len(), 21);
        assert!(ids.iter().all(|id| id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 21);
        for f in [full(), simplified(), unregistered(), reverse_charge()] {
            let v = validate(&f, today());
            assert!(v.rules.iter().all(|r| !r.citation.is_empty()));
            assert!(v.rules.iter().all(|r| !r.description.is_empty()));
        }
    }

    #[test]
    fn sequential_number() {
        assert_met(&full(), "sequential_number");
        assert_met(&simplified(), "sequential_number");
        assert_met(&unregistered(), "sequential_number");
        assert_broken(
            &InvoiceFacts {
                number_unique_and_sequential: false,
                ..full()
            },
            &["sequential_number"],
        );
        assert_broken(
            &InvoiceFacts {
                number: Some("  ".into()),
                ..full()
            },
            &["sequential_number"],
        );
    }

    #[test]
    fn a_draft_has_no_number_or_date() {
        let draft = InvoiceFacts {
            number: None,
            invoice_date: None,
            ..full()
        };
        assert_broken(&draft, &["sequential_number", "invoice_date", "tax_point"]);
    }

    #[test]
    fn invoice_date() {
        assert_met(&full(), "invoice_date");
        assert_met(&unregistered(), "invoice_date");
        // The tax point printed keeps this to the one rule.
        assert_broken(
            &InvoiceFacts {
                invoice_date: None,
                tax_point: Some(date(2025, 3, 7)),
                ..full()
            },
            &["invoice_date"],
        );
        assert_not_applicable(
            &InvoiceFacts {
                invoice_date: None,
                tax_point: Some(date(2025, 3, 7)),
                ..simplified()
            },
            "invoice_date",
        );
    }

    #[test]
    fn tax_point() {
        // Supplied 3 days before the invoice: the invoice date is the tax point.
        assert_met(&full(), "tax_point");
        assert_met(&simplified(), "tax_point");
        let late = InvoiceFacts {
            supply_date: Some(date(2025, 2, 20)),
            ..full()
        };
        assert_broken(&late, &["tax_point"]);
        assert_met(
            &InvoiceFacts {
                tax_point: Some(date(2025, 2, 20)),
                ..late
            },
            "tax_point",
        );
        assert_broken(
            &InvoiceFacts {
                tax_point: Some(date(2025, 3, 11)),
                ..full()
            },
            &["tax_point"],
        );
        assert_not_applicable(&unregistered(), "tax_point");
    }

    #[test]
    fn tax_point_fourteen_day_boundary() {
        let after = |days| InvoiceFacts {
            supply_date: Some(date(2025, 3, 10) - chrono::Days::new(days)),
            ..full()
        };
        assert_met(&after(14), "tax_point");
        assert_broken(&after(15), &["tax_point"]);
        // An invoice issued before the supply is itself the tax point.
        assert_met(
            &InvoiceFacts {
                supply_date: Some(date(2025, 4, 1)),
                ..full()
            },
            "tax_point",
        );
    }

    #[test]
    fn supplier_name() {
        assert_met(&full(), "supplier_name");
        assert_met(&unregistered(), "supplier_name");
        assert_broken(
            &InvoiceFacts {
                supplier_name: " ".into(),
                ..full()
            },
            &["supplier_name"],
        );
    }

    #[test]
    fn supplier_address() {
        assert_met(&full(), "supplier_address");
        assert_met(&simplified(), "supplier_address");
        assert_broken(
            &InvoiceFacts {
                supplier_address: Vec::new(),
                ..full()
            },
            &["supplier_address"],
        );
        assert_broken(
            &InvoiceFacts {
                supplier_address: vec!["".into(), "  ".into()],
                ..full()
            },
            &["supplier_address"],
        );
    }

    #[test]
    fn supplier_vrn() {
        assert_met(&full(), "supplier_vrn");
        assert_met(&simplified(), "supplier_vrn");
        assert_broken(
            &InvoiceFacts {
                supplier_vrn: None,
                ..full()
            },
            &["supplier_vrn"],
        );
        assert_not_applicable(&unregistered(), "supplier_vrn");
    }

    #[test]
    fn vat_number_formats() {
        for good in [
            "980780684",
            "GB980780684",
            "gb 980 7806 84",
            "GB980780684001",
            "980780684001",
            "GBGD001",
            "GD499",
            "GBHA500",
            "ha999",
        ] {
            assert!(vrn_well_formed(good), "{good}");
        }
        for bad in [
            "",
            "GB",
            "98078068",
            "9807806840",
            "GB98078068X",
            "GBGB980780684",
            "GD500",
            "HA499",
            "GD01",
            "XI980780684",
            "GB９８０７８０６８４",
        ] {
            assert!(!vrn_well_formed(bad), "{bad}");
        }
        assert_broken(
            &InvoiceFacts {
                supplier_vrn: Some("GB12345678".into()),
                ..full()
            },
            &["supplier_vrn"],
        );
    }

    #[test]
    fn customer_name() {
        assert_met(&full(), "customer_name");
        assert_met(&unregistered(), "customer_name");
        assert_broken(
            &InvoiceFacts {
                customer_name: None,
                ..full()
            },
            &["customer_name"],
        );
        assert_broken(
            &InvoiceFacts {
                customer_name: Some("".into()),
                ..full()
            },
            &["customer_name"],
        );
        assert_not_applicable(&simplified(), "customer_name");
    }

    #[test]
    fn customer_address() {
        assert_met(&full(), "customer_address");
        assert_met(&modified(), "customer_address");
        assert_broken(
            &InvoiceFacts {
                customer_address: Vec::new(),
                ..full()
            },
            &["customer_address"],
        );
        assert_not_applicable(&simplified(), "customer_address");
        assert_not_applicable(&unregistered(), "customer_address");
    }

    #[test]
    fn line_description() {
        assert_met(&full(), "line_description");
        let mut f = full();
        f.lines[1].description = "\t".into();
        assert_broken(&f, &["line_description"]);
        assert_eq!(
            result(&validate(&f, today()), "line_description").detail,
            Some("line 2: no description".into())
        );
        assert_broken(
            &retotal(InvoiceFacts {
                lines: Vec::new(),
                ..full()
            }),
            &["line_description"],
        );
    }

    #[test]
    fn line_quantity_and_unit_price() {
        assert_met(&full(), "line_quantity_and_unit_price");
        let mut f = full();
        f.lines[0].quantity = None;
        assert_broken(&f, &["line_quantity_and_unit_price"]);
        let mut f = full();
        f.lines[0].unit_price_pence_text = Some("".into());
        f.lines[1].unit_price_pence_text = None;
        assert_broken(&f, &["line_quantity_and_unit_price"]);
        assert_eq!(
            result(&validate(&f, today()), "line_quantity_and_unit_price").detail,
            Some("lines 1, 2: no unit price".into())
        );
        assert_not_applicable(&simplified(), "line_quantity_and_unit_price");
    }

    #[test]
    fn line_vat_rate() {
        assert_met(&full(), "line_vat_rate");
        assert_met(&simplified(), "line_vat_rate");
        assert_met(&reverse_charge(), "line_vat_rate");
        let mut f = full();
        f.lines[0].vat_rate = None;
        assert_broken(&f, &["line_vat_rate"]);
        let mut f = full();
        f.lines[0].vat_rate = Some("twenty".into());
        assert_broken(&f, &["line_vat_rate"]);
        // A zero-rated line carrying VAT, the totals following it.
        let mut f = full();
        f.lines[1].vat_pence = 800;
        assert_broken(&retotal(f), &["line_vat_rate"]);
        assert_not_applicable(&unregistered(), "line_vat_rate");
    }

    #[test]
    fn net_total() {
        assert_met(&full(), "net_total");
        let mut f = full();
        f.net_total_pence += 1;
        f.gross_total_pence += 1;
        assert_broken(&f, &["net_total", "totals_consistent"]);
        assert_not_applicable(&simplified(), "net_total");
    }

    #[test]
    fn vat_total_sterling() {
        assert_met(&full(), "vat_total_sterling");
        assert_met(&reverse_charge(), "vat_total_sterling");
        let mut f = full();
        f.vat_total_pence += 1;
        f.gross_total_pence += 1;
        assert_broken(&f, &["vat_total_sterling", "totals_consistent"]);
        // Reverse-charge VAT counted as charged.
        let mut f = reverse_charge();
        f.vat_total_pence = 20_000;
        f.gross_total_pence = 120_000;
        assert_broken(&f, &["vat_total_sterling", "totals_consistent"]);
    }

    #[test]
    fn currency_sterling() {
        assert_met(&full(), "currency_sterling");
        assert_met(
            &InvoiceFacts {
                currency: "gbp".into(),
                ..full()
            },
            "currency_sterling",
        );
        assert_broken(
            &InvoiceFacts {
                currency: "EUR".into(),
                ..full()
            },
            &["currency_sterling"],
        );
        assert_not_applicable(
            &InvoiceFacts {
                currency: "EUR".into(),
                ..unregistered()
            },
            "currency_sterling",
        );
    }

    #[test]
    fn issued_within_30_days() {
        assert_met(&full(), "issued_within_30_days");
        let printed = |point| InvoiceFacts {
            tax_point: Some(point),
            supply_date: Some(point),
            ..full()
        };
        assert_met(&printed(date(2025, 2, 8)), "issued_within_30_days");
        assert_broken(&printed(date(2025, 2, 7)), &["issued_within_30_days"]);
        // Not printed either: the supply date stands as the tax point.
        assert_broken(
            &InvoiceFacts {
                supply_date: Some(date(2025, 1, 2)),
                ..full()
            },
            &["tax_point", "issued_within_30_days"],
        );
        assert_not_applicable(&unregistered(), "issued_within_30_days");
    }

    #[test]
    fn a_draft_is_late_once_30_days_pass() {
        let draft = |supplied| InvoiceFacts {
            number: None,
            invoice_date: None,
            tax_point: None,
            supply_date: Some(supplied),
            ..full()
        };
        let drafting = ["sequential_number", "invoice_date", "tax_point"];
        assert_broken(&draft(date(2025, 2, 10)), &drafting);
        assert_broken(
            &draft(date(2025, 2, 9)),
            &[
                "sequential_number",
                "invoice_date",
                "tax_point",
                "issued_within_30_days",
            ],
        );
        let v = validate(&draft(date(2025, 2, 9)), today());
        assert_eq!(
            result(&v, "issued_within_30_days").detail.as_deref(),
            Some("still a draft 31 days after the tax point 2025-02-09; the limit is 30")
        );
    }

    #[test]
    fn simplified_limit() {
        let at = |net, vat| {
            retotal(InvoiceFacts {
                lines: vec![line("Door hung", Some("standard"), net, vat)],
                ..simplified()
            })
        };
        assert_met(&simplified(), "simplified_limit");
        assert_met(&at(20_834, 4_166), "simplified_limit");
        assert_broken(&at(20_834, 4_167), &["simplified_limit"]);
        assert_not_applicable(&full(), "simplified_limit");
    }

    #[test]
    fn simplified_no_exempt() {
        assert_met(&simplified(), "simplified_no_exempt");
        let mut f = simplified();
        f.lines.push(line("Insurance", Some("exempt"), 1_000, 0));
        assert_broken(&retotal(f), &["simplified_no_exempt"]);
        assert_not_applicable(&full(), "simplified_no_exempt");
    }

    #[test]
    fn reverse_charge_wording() {
        assert_met(&reverse_charge(), "reverse_charge_wording");
        assert_broken(
            &InvoiceFacts {
                reverse_charge_wording: false,
                ..reverse_charge()
            },
            &["reverse_charge_wording"],
        );
        assert_not_applicable(&full(), "reverse_charge_wording");
    }

    #[test]
    fn not_vat_registered() {
        assert_met(&unregistered(), "not_vat_registered");
        let mut f = unregistered();
        f.lines[0].vat_rate = Some("standard".into());
        assert_broken(&f, &["not_vat_registered"]);
        assert_broken(
            &InvoiceFacts {
                supplier_vrn: Some("GB980780684".into()),
                ..unregistered()
            },
            &["not_vat_registered"],
        );
        let mut f = unregistered();
        f.lines[0].vat_pence = 2_400;
        let f = retotal(f);
        assert_broken(&f, &["not_vat_registered"]);
        assert_eq!(
            result(&validate(&f, today()), "not_vat_registered").detail,
            Some("line 1: VAT shown; the VAT total is 2400 pence, not 0".into())
        );
        assert_not_applicable(&full(), "not_vat_registered");
    }

    #[test]
    fn unregistered_invoices_answer_only_to_general_rules() {
        let v = validate(&unregistered(), today());
        let applying: Vec<_> = v
            .rules
            .iter()
            .filter(|r| r.applies)
            .map(|r| r.rule)
            .collect();
        assert_eq!(
            applying,
            [
                "sequential_number",
                "invoice_date",
                "supplier_name",
                "supplier_address",
                "customer_name",
                "line_description",
                "not_vat_registered",
                "totals_consistent",
            ]
        );
        // The form is irrelevant without registration: no simplified or modified VAT invoice.
        for form in [InvoiceForm::Simplified, InvoiceForm::Modified] {
            let v = validate(
                &InvoiceFacts {
                    form,
                    ..unregistered()
                },
                today(),
            );
            assert!(v.valid);
            assert!(!result(&v, "simplified_limit").applies);
            assert!(!result(&v, "modified_invoice").applies);
        }
    }

    #[test]
    fn modified_invoice() {
        assert_met(&modified(), "modified_invoice");
        let mut f = modified();
        f.gross_total_pence -= 1;
        assert_broken(&f, &["modified_invoice", "totals_consistent"]);
        assert_not_applicable(&full(), "modified_invoice");
    }

    #[test]
    fn totals_consistent() {
        assert_met(&full(), "totals_consistent");
        assert_met(&simplified(), "totals_consistent");
        assert_met(&reverse_charge(), "totals_consistent");
        assert_met(&unregistered(), "totals_consistent");
        let mut f = full();
        f.gross_total_pence += 1;
        assert_broken(&f, &["totals_consistent"]);
        let mut f = simplified();
        f.lines[0].net_pence += 1;
        assert_broken(&f, &["totals_consistent"]);
    }

    fn any_line() -> impl Strategy<Value = FactLine> {
        (
            "[ a-z]{0,8}",
            proptest::option::of("[0-9.]{0,4}"),
            proptest::option::of("[0-9.]{0,4}"),
            proptest::option::of(proptest::sample::select(vec![
                "standard",
                "reduced",
                "zero",
                "exempt",
                "outside_scope",
                "reverse_charge",
                "bogus",
            ])),
            any::<i64>(),
            any::<i64>(),
        )
            .prop_map(|(description, quantity, price, rate, net, vat)| FactLine {
                description,
                quantity,
                unit_price_pence_text: price,
                vat_rate: rate.map(Into::into),
                net_pence: net,
                vat_pence: vat,
            })
    }

    fn any_date() -> impl Strategy<Value = Option<NaiveDate>> {
        proptest::option::of(
            (-400_000i32..400_000)
                .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(730_000 + d).unwrap()),
        )
    }

    fn any_form() -> impl Strategy<Value = InvoiceForm> {
        proptest::sample::select(vec![
            InvoiceForm::Full,
            InvoiceForm::Simplified,
            InvoiceForm::Modified,
        ])
    }

    proptest! {
        #[test]
        fn never_panics_and_valid_means_every_applicable_rule_met(
            form in any_form(),
            registered: bool,
            sequential: bool,
            dates in (any_date(), any_date(), any_date(), any_date()),
            lines in proptest::collection::vec(any_line(), 0..5),
            totals in (any::<i64>(), any::<i64>(), any::<i64>()),
            vrn in proptest::option::of("(GB)?[0-9A-Z ]{0,14}"),
            wording: bool,
        ) {
            let (invoice_date, tax_point, supply_date, today) = dates;
            let f = InvoiceFacts {
                form,
                vat_registered: registered,
                number_unique_and_sequential: sequential,
                invoice_date,
                tax_point,
                supply_date,
                supplier_vrn: vrn,
                lines,
                net_total_pence: totals.0,
                vat_total_pence: totals.1,
                gross_total_pence: totals.2,
                reverse_charge_wording: wording,
                ..full()
            };
            let v = validate(&f, today.unwrap_or_else(super::tests::today));
            prop_assert_eq!(v.valid, v.rules.iter().all(|r| !r.applies || r.met));
            for r in &v.rules {
                prop_assert_eq!(r.met, r.detail.is_none());
                prop_assert!(r.applies || r.met);
            }
        }

        #[test]
        fn totals_from_the_lines_are_consistent(
            form in any_form(),
            lines in proptest::collection::vec(
                (0i64..1_000_000_000, 0i64..200_000_000, proptest::sample::select(vec![
                    "standard", "reduced", "zero", "reverse_charge",
                ])),
                1..8,
            ),
        ) {
            let f = retotal(InvoiceFacts {
                form,
                lines: lines
                    .into_iter()
                    .map(|(net, vat, rate)| {
                        let vat = if rate == "zero" { 0 } else { vat };
                        line("Work", Some(rate), net, vat)
                    })
                    .collect(),
                ..full()
            });
            let v = validate(&f, today());
            prop_assert!(result(&v, "totals_consistent").met);
            prop_assert!(result(&v, "modified_invoice").met);
            prop_assert!(result(&v, "net_total").met);
            prop_assert!(result(&v, "vat_total_sterling").met);
        }
    }
}
