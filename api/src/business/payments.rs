//! Payments against an issued invoice (`/v1/invoices/{id}/payments`): recorded by hand, partial
//! payments allowed, more than the balance refused. A payment recorded by mistake is deleted,
//! which gives the invoice its balance back.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::invoices;
use crate::{
    common::fields,
    db::{pool::Conn, schema::app::invoice_payments as t},
    http::problem::{ApiError, ApiResult, FieldError, ProblemKind},
};

pub const METHODS: &[&str] = &["bank_transfer", "card", "cash", "cheque", "stripe", "other"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    invoice_id: Uuid,
    paid_on: NaiveDate,
    amount_pence: i64,
    method: String,
    reference: Option<String>,
    stripe_event_id: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Payment {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub invoice_id: Uuid,
    pub paid_on: NaiveDate,
    #[schema(example = 25000)]
    pub amount_pence: i64,
    /// `bank_transfer`, `card`, `cash`, `cheque`, `stripe` or `other`.
    #[schema(example = "bank_transfer")]
    pub method: String,
    #[schema(example = "ACME INV-0001")]
    pub reference: Option<String>,
    /// The Stripe event that recorded it, for payments made through Stripe Checkout.
    pub stripe_event_id: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// Default: today in your time zone.
    pub paid_on: Option<NaiveDate>,
    /// At most the invoice's balance.
    #[schema(example = 25000, minimum = 1)]
    pub amount_pence: i64,
    #[schema(example = "bank_transfer")]
    pub method: Option<String>,
    #[schema(example = "ACME INV-0001")]
    pub reference: Option<String>,
}

pub fn output(r: Row) -> Payment {
    Payment {
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        invoice_id: r.invoice_id,
        paid_on: r.paid_on,
        amount_pence: r.amount_pence,
        method: r.method,
        reference: r.reference,
        stripe_event_id: r.stripe_event_id,
        version: r.version,
        created_at: r.created_at,
    }
}

/// Records a payment on the invoice `invoice_id` (locked here) and moves its status.
pub async fn record(
    conn: &mut Conn,
    user: Uuid,
    today: NaiveDate,
    id: Uuid,
    invoice_id: Uuid,
    i: PaymentInput,
) -> ApiResult<Row> {
    let invoice = invoices::lock(conn, invoice_id).await?;
    invoices::must_be_open(&invoice)?;
    let mut errors = Vec::new();
    let method = fields::one_of("method", i.method, METHODS, "bank_transfer", &mut errors);
    let reference = fields::text("reference", i.reference, 200, &mut errors);
    let balance = invoices::balance(&invoice);
    if i.amount_pence <= 0 {
        errors.push(FieldError {
            field: "amount_pence".into(),
            message: "must be at least 1".into(),
        });
    } else if i.amount_pence > balance {
        errors.push(FieldError {
            field: "amount_pence".into(),
            message: format!(
                "is more than the balance of {balance} pence: an overpayment is refused"
            ),
        });
    }
    let paid_on = i.paid_on.unwrap_or(today);
    if invoice.invoice_date.is_some_and(|d| paid_on < d) {
        errors.push(FieldError {
            field: "paid_on".into(),
            message: "must not be before the invoice date".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let row = diesel::insert_into(t::table)
        .values((
            t::id.eq(id),
            t::workspace_id.eq(invoice.workspace_id),
            t::created_by.eq(user),
            t::invoice_id.eq(invoice.id),
            t::paid_on.eq(paid_on),
            t::amount_pence.eq(i.amount_pence),
            t::method.eq(method),
            t::reference.eq(reference),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    invoices::settle(conn, &invoice, i.amount_pence, 0).await?;
    Ok(row)
}

pub async fn list(conn: &mut Conn, invoice_id: Uuid) -> ApiResult<Vec<Row>> {
    Ok(t::table
        .filter(t::invoice_id.eq(invoice_id))
        .select(Row::as_select())
        .order((t::paid_on, t::created_at, t::id))
        .load(conn)
        .await?)
}

/// Deletes a payment recorded by hand; a Stripe payment stays (Stripe holds the money).
pub async fn delete(conn: &mut Conn, invoice_id: Uuid, id: Uuid) -> ApiResult<()> {
    let invoice = invoices::lock(conn, invoice_id).await?;
    let row: Row = t::table
        .filter(t::workspace_id.eq(invoice.workspace_id))
        .filter(t::invoice_id.eq(invoice_id))
        .filter(t::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    if row.stripe_event_id.is_some() {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "a payment made through Stripe is refunded in Stripe, not deleted here",
        ));
    }
    // A bank line recorded as this payment is open to be matched again.
    crate::common::resource::detach_links(
        conn,
        "app.invoice_payments",
        invoice.workspace_id,
        &[id],
    )
    .await?;
    diesel::delete(
        t::table
            .filter(t::workspace_id.eq(invoice.workspace_id))
            .filter(t::id.eq(id)),
    )
    .execute(conn)
    .await?;
    invoices::settle(conn, &invoice, -row.amount_pence, 0).await?;
    Ok(())
}
