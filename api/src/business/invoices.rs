//! Invoices (`/v1/invoices`): a draft changes freely; issuing gives it the next number of the
//! business's gap-free sequence, fixes its dates, copies in both parties and keeps its PDF, and
//! from then on it never changes: corrections are credit notes, payments are recorded against
//! it, and voiding keeps its number and record. Overdue is derived from the due date.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    clients, jobs,
    lines::{lines_of, money_error, price, DocumentLine, DocumentTotals, LineInput},
    money::{self, Quantity, UnitPrice, VatRate},
    numbering,
    parties::Party,
    profile::{self, Issuer},
    tax_point::tax_point,
};
use crate::{
    common::{fields, resource::ListQuery},
    db::{pool::Conn, schema::app::invoices as t},
    http::problem::{ApiError, ApiResult, FieldError, ProblemKind},
    keyset,
    secrets::KeyRing,
};

pub const STATUSES: &[&str] = &["draft", "issued", "partly_paid", "paid", "void"];
pub const FORMS: &[&str] = &["full", "simplified", "modified"];
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub client_id: Uuid,
    pub job_id: Option<Uuid>,
    pub status: String,
    pub form: String,
    pub number: Option<String>,
    pub sequence_number: Option<i64>,
    pub supply_date: Option<NaiveDate>,
    pub invoice_date: Option<NaiveDate>,
    pub tax_point: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub payment_terms_days: Option<i32>,
    pub vat_registered: bool,
    pub lines: serde_json::Value,
    pub net_pence: i64,
    pub vat_pence: i64,
    pub reverse_charge_vat_pence: i64,
    pub total_pence: i64,
    pub by_rate: serde_json::Value,
    pub paid_pence: i64,
    pub credited_pence: i64,
    pub notes: Option<String>,
    pub supplier: Option<serde_json::Value>,
    pub customer: Option<serde_json::Value>,
    pub issued_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub client_id: Uuid,
    pub job_id: Option<Uuid>,
    /// `draft`, `issued`, `partly_paid`, `paid` or `void`.
    #[schema(example = "issued")]
    pub status: String,
    /// Issued or partly paid with its due date before today (in your time zone).
    pub overdue: bool,
    /// `full`, `simplified` (at most £250 incl. VAT) or `modified` (VAT-inclusive amounts shown).
    #[schema(example = "full")]
    pub form: String,
    /// What the document is headed: "VAT invoice", "Simplified VAT invoice" or "Invoice" (not
    /// VAT registered).
    #[schema(example = "VAT invoice")]
    pub title: String,
    /// Assigned when issued.
    #[schema(example = "INV-0001")]
    pub number: Option<String>,
    /// The date of supply (the basic tax point).
    pub supply_date: Option<NaiveDate>,
    /// The date of issue; set when issued.
    pub invoice_date: Option<NaiveDate>,
    /// The time of supply for VAT; set when issued.
    pub tax_point: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// Days to pay; none means the client's terms, then the profile's.
    pub payment_terms_days: Option<i32>,
    /// Whether the business was VAT registered for this document.
    pub vat_registered: bool,
    pub lines: Vec<DocumentLine>,
    pub totals: DocumentTotals,
    pub paid_pence: i64,
    pub credited_pence: i64,
    /// What the client still owes: total less payments and credit notes.
    pub balance_pence: i64,
    /// A reverse-charge invoice carries [`REVERSE_CHARGE_WORDING`].
    pub reverse_charge: bool,
    pub notes: Option<String>,
    /// The business as the issued invoice shows it.
    pub supplier: Option<Party>,
    /// The client as the issued invoice shows it.
    pub customer: Option<Party>,
    pub issued_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub void_reason: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceInput {
    pub workspace_id: Option<Uuid>,
    /// A client of the same workspace.
    pub client_id: Uuid,
    /// A job of that client. With no `lines`, the invoice gets one line from the job (its
    /// title, quantity and rate; the standard rate, or the reverse charge where it applies to
    /// the client, when the business is VAT registered).
    pub job_id: Option<Uuid>,
    #[schema(example = "full")]
    pub form: Option<String>,
    #[schema(example = "2027-01-08")]
    pub supply_date: Option<NaiveDate>,
    #[schema(example = 14, minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    #[serde(default)]
    pub lines: Vec<LineInput>,
    pub notes: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    client_id: Uuid,
    job_id: Option<Uuid>,
    form: String,
    supply_date: Option<NaiveDate>,
    payment_terms_days: Option<i32>,
    vat_registered: bool,
    lines: serde_json::Value,
    net_pence: i64,
    vat_pence: i64,
    reverse_charge_vat_pence: i64,
    total_pence: i64,
    by_rate: serde_json::Value,
    notes: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceFilter {
    /// One of `draft`, `issued`, `partly_paid`, `paid`, `void`.
    pub status: Option<String>,
    pub client_id: Option<Uuid>,
    /// Only invoices past their due date with money still owed.
    pub overdue: Option<bool>,
}

/// When to date an issue and when payment is due.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueInput {
    /// Default: today in your time zone. At most 14 days in the future.
    pub invoice_date: Option<NaiveDate>,
    /// Default: the invoice date plus the payment terms (the invoice's, the client's, then the
    /// profile's).
    pub due_date: Option<NaiveDate>,
}

#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidInput {
    #[schema(example = "Raised against the wrong client")]
    pub reason: Option<String>,
}

/// The heading a document of this kind carries.
pub fn title(vat_registered: bool, form: &str) -> &'static str {
    match (vat_registered, form) {
        (false, _) => "Invoice",
        (true, "simplified") => "Simplified VAT invoice",
        (true, _) => "VAT invoice",
    }
}

fn party(v: &Option<serde_json::Value>) -> Option<Party> {
    v.as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub fn totals_of(row: &Row) -> DocumentTotals {
    DocumentTotals {
        net_pence: row.net_pence,
        vat_pence: row.vat_pence,
        reverse_charge_vat_pence: row.reverse_charge_vat_pence,
        total_pence: row.total_pence,
        by_rate: serde_json::from_value(row.by_rate.clone()).unwrap_or_default(),
    }
}

pub fn balance(row: &Row) -> i64 {
    money::balance(row.total_pence, row.paid_pence, row.credited_pence)
}

fn is_open(status: &str) -> bool {
    matches!(status, "issued" | "partly_paid")
}

pub fn output(r: Row, today: NaiveDate) -> Invoice {
    let lines = lines_of(&r.lines);
    let totals = totals_of(&r);
    let balance_pence = balance(&r);
    let overdue = is_open(&r.status) && r.due_date.is_some_and(|due| due < today);
    Invoice {
        title: title(r.vat_registered, &r.form).to_owned(),
        reverse_charge: lines
            .iter()
            .any(|l| l.vat_rate == Some(VatRate::ReverseCharge)),
        supplier: party(&r.supplier),
        customer: party(&r.customer),
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        client_id: r.client_id,
        job_id: r.job_id,
        status: r.status,
        overdue,
        form: r.form,
        number: r.number,
        supply_date: r.supply_date,
        invoice_date: r.invoice_date,
        tax_point: r.tax_point,
        due_date: r.due_date,
        payment_terms_days: r.payment_terms_days,
        vat_registered: r.vat_registered,
        lines,
        totals,
        paid_pence: r.paid_pence,
        credited_pence: r.credited_pence,
        balance_pence,
        notes: r.notes,
        issued_at: r.issued_at,
        voided_at: r.voided_at,
        void_reason: r.void_reason,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub fn input(r: &Row) -> InvoiceInput {
    InvoiceInput {
        workspace_id: Some(r.workspace_id),
        client_id: r.client_id,
        job_id: r.job_id,
        form: Some(r.form.clone()),
        supply_date: r.supply_date,
        payment_terms_days: r.payment_terms_days,
        lines: lines_of(&r.lines).iter().map(LineInput::from).collect(),
        notes: r.notes.clone(),
    }
}

pub fn profile_required() -> ApiError {
    ApiError::new(
        ProblemKind::BusinessProfileRequired,
        "this workspace has no business profile: PUT /v1/business/profile first",
    )
}

/// The line an invoice made from a job starts with.
fn job_line(
    job: &jobs::Billable,
    vat_registered: bool,
    reverse_charge: bool,
) -> ApiResult<LineInput> {
    let quantity: Quantity = job
        .quantity
        .normalize()
        .to_string()
        .parse()
        .map_err(money_error)?;
    let unit_price = UnitPrice::from_ten_thousandths(job.rate_pence.saturating_mul(100))
        .map_err(|e| ApiError::field("job_id", format!("the job's rate: {e}")))?;
    let vat_rate = vat_registered.then_some(if reverse_charge {
        VatRate::ReverseCharge
    } else {
        VatRate::Standard
    });
    Ok(LineInput {
        description: job.title.clone(),
        quantity: Some(quantity),
        unit_price,
        vat_rate,
        price_includes_vat: false,
    })
}

/// Checks a draft (all field errors at once) against the workspace's profile, client and job.
pub async fn validate(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    workspace: Uuid,
    i: InvoiceInput,
) -> ApiResult<Values> {
    let issuer = profile::issuer(conn, keys, workspace)
        .await?
        .ok_or_else(profile_required)?;
    let mut errors = Vec::new();
    let customer = clients::customer(conn, workspace, i.client_id).await?;
    if customer.is_none() {
        errors.push(FieldError {
            field: "client_id".into(),
            message: "does not name a client in the same workspace".into(),
        });
    }
    let mut lines = i.lines;
    if let Some(job_id) = i.job_id {
        match jobs::billable(conn, workspace, job_id).await? {
            Some(job) if job.client_id == i.client_id => {
                if lines.is_empty() {
                    let reverse = customer.as_ref().is_some_and(|c| c.reverse_charge);
                    lines.push(job_line(&job, issuer.vat_registered, reverse)?);
                }
            }
            Some(_) => errors.push(FieldError {
                field: "job_id".into(),
                message: "is a job of another client".into(),
            }),
            None => errors.push(FieldError {
                field: "job_id".into(),
                message: "does not name a job in the same workspace".into(),
            }),
        }
    }
    fields::range(
        "payment_terms_days",
        i.payment_terms_days.map(i64::from),
        0,
        365,
        &mut errors,
    );
    let form = fields::one_of("form", i.form, FORMS, "full", &mut errors);
    let notes = fields::text("notes", i.notes, 5000, &mut errors);
    let (lines, totals) = price(&lines, issuer.vat_registered, &mut errors)?;
    if form != "full" && !issuer.vat_registered {
        errors.push(FieldError {
            field: "form".into(),
            message: "simplified and modified invoices are VAT invoices: the business is not VAT registered".into(),
        });
    } else if form == "simplified" && !totals.simplified_invoice_allowed {
        errors.push(FieldError {
            field: "form".into(),
            message: "a simplified invoice is for at most £250 including VAT, with no reverse charge (VAT Regulations 1995, reg 16A)".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Values {
        client_id: i.client_id,
        job_id: i.job_id,
        form,
        supply_date: i.supply_date,
        payment_terms_days: i.payment_terms_days,
        vat_registered: issuer.vat_registered,
        lines: serde_json::to_value(&lines).map_err(ApiError::internal)?,
        net_pence: totals.net,
        vat_pence: totals.vat,
        reverse_charge_vat_pence: totals.reverse_charge_vat,
        total_pence: totals.amount_due,
        by_rate: serde_json::to_value(&totals.by_rate).map_err(ApiError::internal)?,
        notes,
    })
}

pub async fn find(conn: &mut Conn, id: Uuid) -> ApiResult<Option<Row>> {
    Ok(t::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The row, locked until the transaction ends: issuing, paying and crediting one invoice
/// happen one at a time.
pub async fn lock(conn: &mut Conn, id: Uuid) -> ApiResult<Row> {
    t::table
        .find(id)
        .select(Row::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)
}

pub async fn insert(
    conn: &mut Conn,
    id: Uuid,
    workspace: Uuid,
    user: Uuid,
    values: Values,
) -> ApiResult<Row> {
    Ok(diesel::insert_into(t::table)
        .values((
            t::id.eq(id),
            t::workspace_id.eq(workspace),
            t::created_by.eq(user),
            values,
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?)
}

pub fn must_be_draft(row: &Row) -> ApiResult<()> {
    if row.status == "draft" {
        return Ok(());
    }
    Err(ApiError::new(
        ProblemKind::DocumentIssued,
        format!(
            "invoice {} is issued and cannot change: correct it with a credit note",
            row.number.as_deref().unwrap_or_default()
        ),
    ))
}

pub async fn update_draft(conn: &mut Conn, id: Uuid, values: Values) -> ApiResult<Row> {
    Ok(diesel::update(t::table.find(id))
        .set((
            values,
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?)
}

pub async fn delete_draft(conn: &mut Conn, row: &Row) -> ApiResult<()> {
    must_be_draft(row)?;
    diesel::delete(
        t::table
            .filter(t::workspace_id.eq(row.workspace_id))
            .filter(t::id.eq(row.id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list(
    conn: &mut Conn,
    today: NaiveDate,
    q: ListQuery<InvoiceFilter>,
) -> ApiResult<Vec<Row>> {
    let mut query = t::table.select(Row::as_select()).into_boxed();
    if let Some(status) = q.filter.status.clone() {
        query = query.filter(t::status.eq(status));
    }
    if let Some(client) = q.filter.client_id {
        query = query.filter(t::client_id.eq(client));
    }
    match q.filter.overdue {
        Some(true) => {
            query = query
                .filter(t::status.eq_any(["issued", "partly_paid"]))
                .filter(t::due_date.lt(today))
        }
        Some(false) => {
            query = query.filter(
                t::status
                    .ne_all(["issued", "partly_paid"])
                    .or(t::due_date.ge(today)),
            )
        }
        None => {}
    }
    Ok(keyset!(query, t, q).load(conn).await?)
}

/// The terms that set the due date: the invoice's own, the client's, then the business's.
fn terms(row: &Row, customer: Option<i32>, issuer: &Issuer) -> i64 {
    i64::from(
        row.payment_terms_days
            .or(customer)
            .unwrap_or(issuer.payment_terms_days),
    )
}

/// Issues a draft (locked by the caller): the next number, the dates, both parties copied in;
/// the caller keeps its PDF (`documents::keep_invoice`) in the same transaction. Refused when
/// the profile's VAT registration changed since the draft was priced, so an issued invoice never
/// shows VAT it was not priced with.
pub async fn issue(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    at: DateTime<Utc>,
    today: NaiveDate,
    row: Row,
    i: IssueInput,
) -> ApiResult<Row> {
    must_be_draft(&row)?;
    let issuer = profile::issuer(conn, keys, row.workspace_id)
        .await?
        .ok_or_else(profile_required)?;
    if issuer.vat_registered != row.vat_registered {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "the business's VAT registration changed since this draft was priced: save its lines again (PATCH) before issuing",
        ));
    }
    let customer = clients::customer(conn, row.workspace_id, row.client_id)
        .await?
        .ok_or_else(|| ApiError::field("client_id", "the client no longer exists"))?;
    let mut errors = Vec::new();
    if lines_of(&row.lines).is_empty() {
        errors.push(FieldError {
            field: "lines".into(),
            message: "an invoice needs at least one line".into(),
        });
    }
    let invoice_date = i.invoice_date.unwrap_or(today);
    if (invoice_date - today).num_days() > 14 {
        errors.push(FieldError {
            field: "invoice_date".into(),
            message: "must be at most 14 days from today".into(),
        });
    }
    let due_date = i.due_date.unwrap_or_else(|| {
        invoice_date + chrono::Duration::days(terms(&row, customer.payment_terms_days, &issuer))
    });
    if due_date < invoice_date {
        errors.push(FieldError {
            field: "due_date".into(),
            message: "must not be before the invoice date".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let sequence = numbering::next(conn, row.workspace_id, numbering::Kind::Invoice).await?;
    let number = numbering::format(&issuer.invoice_prefix, issuer.padding, sequence);
    let issued: Row = diesel::update(t::table.find(row.id))
        .set((
            t::status.eq("issued"),
            t::number.eq(&number),
            t::sequence_number.eq(sequence),
            t::invoice_date.eq(invoice_date),
            t::tax_point.eq(tax_point(row.supply_date, invoice_date)),
            t::due_date.eq(due_date),
            t::supplier.eq(serde_json::to_value(&issuer.party).map_err(ApiError::internal)?),
            t::customer.eq(serde_json::to_value(&customer.party).map_err(ApiError::internal)?),
            t::issued_at.eq(at),
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    Ok(issued)
}

/// Voids an issued invoice with nothing paid or credited on it; it keeps its number.
pub async fn void(conn: &mut Conn, at: DateTime<Utc>, row: Row, i: VoidInput) -> ApiResult<Row> {
    if row.status == "draft" {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "a draft has no number to keep: delete it instead",
        ));
    }
    if row.status == "void" {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "the invoice is void already",
        ));
    }
    if row.paid_pence > 0 || row.credited_pence > 0 {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "payments or credit notes are recorded against this invoice: credit what is left instead",
        ));
    }
    let mut errors = Vec::new();
    let reason = fields::text("reason", i.reason, 500, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(diesel::update(t::table.find(row.id))
        .set((
            t::status.eq("void"),
            t::voided_at.eq(at),
            t::void_reason.eq(reason),
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?)
}

/// The status that follows from what is paid and credited.
fn settled_status(total: i64, paid: i64, credited: i64) -> &'static str {
    if money::balance(total, paid, credited) <= 0 {
        "paid"
    } else if paid > 0 || credited > 0 {
        "partly_paid"
    } else {
        "issued"
    }
}

/// Adds `paid` and `credited` pence to a locked, issued invoice and moves its status.
pub async fn settle(conn: &mut Conn, row: &Row, paid: i64, credited: i64) -> ApiResult<Row> {
    let (paid, credited) = (row.paid_pence + paid, row.credited_pence + credited);
    Ok(diesel::update(t::table.find(row.id))
        .set((
            t::paid_pence.eq(paid),
            t::credited_pence.eq(credited),
            t::status.eq(settled_status(row.total_pence, paid, credited)),
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?)
}

/// Money can be paid or credited only on an issued invoice that is not void.
pub fn must_be_open(row: &Row) -> ApiResult<()> {
    match row.status.as_str() {
        "draft" => Err(ApiError::new(
            ProblemKind::Conflict,
            "the invoice is a draft: issue it first",
        )),
        "void" => Err(ApiError::new(ProblemKind::Conflict, "the invoice is void")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_balance() {
        assert_eq!(settled_status(1000, 0, 0), "issued");
        assert_eq!(settled_status(1000, 1, 0), "partly_paid");
        assert_eq!(settled_status(1000, 0, 999), "partly_paid");
        assert_eq!(settled_status(1000, 400, 600), "paid");
    }

    #[test]
    fn headings() {
        assert_eq!(title(false, "full"), "Invoice");
        assert_eq!(title(true, "full"), "VAT invoice");
        assert_eq!(title(true, "modified"), "VAT invoice");
        assert_eq!(title(true, "simplified"), "Simplified VAT invoice");
    }
}
