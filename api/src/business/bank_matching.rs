//! Remittance matching: for each unmatched credit, the open invoices it likely pays, scored
//! with the reasons (a preview, nothing written); and the confirmation, which records the
//! chosen payments and expenses in one transaction. A line already recorded is reported, not
//! recorded again, so confirming twice records each payment once.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    bank::{self, BankTransaction, TransactionRow, TransactionStatus},
    expenses::{Category, ExpenseInput, Expenses, PaymentMethod},
    invoices,
    payments::{self, PaymentInput},
    statements::{
        matching::{self, BankLine, OpenInvoice, Proposal},
        StatementLine,
    },
};
use crate::{
    common::resource::{Ctx, Resource},
    db::{
        pool::Conn,
        schema::app::{bank_transactions as tx, invoices as inv},
    },
    http::problem::{ApiError, ApiResult, ProblemKind},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchParams {
    pub workspace_id: Option<Uuid>,
    /// Only the lines of this statement.
    pub statement_id: Option<Uuid>,
}

/// A proposed invoice for a credit.
#[derive(Serialize, ToSchema)]
pub struct InvoiceProposal {
    pub invoice_id: Uuid,
    #[schema(example = "INV-0042")]
    pub invoice_number: String,
    /// 0–100: how sure the match is.
    #[schema(example = 95)]
    pub score: u8,
    /// Why, in words.
    pub reasons: Vec<String>,
    /// What confirming records: never more than the invoice's balance.
    pub amount_pence: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CreditMatch {
    pub transaction: BankTransaction,
    /// Best first, at most three.
    pub proposals: Vec<InvoiceProposal>,
    /// The invoice this line gets when every line is matched at once, one invoice per line.
    pub suggested_invoice_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct DebitSuggestion {
    pub transaction: BankTransaction,
    /// A supplier read from the line, for an expense.
    #[schema(example = "Screwfix")]
    pub supplier: String,
    pub description: String,
}

/// The preview: nothing is written until it is confirmed.
#[derive(Serialize, ToSchema)]
pub struct MatchPreview {
    pub credits: Vec<CreditMatch>,
    pub debits: Vec<DebitSuggestion>,
}

fn line_of(r: &TransactionRow) -> StatementLine {
    StatementLine {
        date: r.posted_on,
        amount_pence: r.amount_pence,
        description: r.description.clone(),
        reference: r.reference.clone(),
        counterparty: r.counterparty.clone(),
        balance_pence: r.balance_pence,
        fitid: r.fitid.clone(),
        occurrence: 1,
    }
}

/// The open (issued or partly paid) invoices of `workspace`, with what is left to pay.
async fn open_invoices(conn: &mut Conn, workspace: Uuid) -> ApiResult<Vec<OpenInvoice>> {
    type Open = (
        Uuid,
        Option<String>,
        Option<serde_json::Value>,
        i64,
        i64,
        i64,
        Option<NaiveDate>,
        Option<NaiveDate>,
    );
    let rows: Vec<Open> = inv::table
        .filter(inv::workspace_id.eq(workspace))
        .filter(inv::status.eq_any(["issued", "partly_paid"]))
        .select((
            inv::id,
            inv::number,
            inv::customer,
            inv::total_pence,
            inv::paid_pence,
            inv::credited_pence,
            inv::invoice_date,
            inv::due_date,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, number, customer, total, paid, credited, date, due)| {
            let outstanding = super::money::balance(total, paid, credited);
            (outstanding > 0).then(|| OpenInvoice {
                id,
                number: number.unwrap_or_default(),
                client_name: customer
                    .as_ref()
                    .and_then(|c| c["name"].as_str())
                    .unwrap_or_default()
                    .to_owned(),
                outstanding_pence: outstanding,
                invoice_date: date.unwrap_or(NaiveDate::MIN),
                due_date: due,
            })
        })
        .collect())
}

pub async fn preview(
    conn: &mut Conn,
    workspace: Uuid,
    statement: Option<Uuid>,
) -> ApiResult<MatchPreview> {
    let mut query = tx::table
        .filter(tx::workspace_id.eq(workspace))
        .filter(tx::status.eq(TransactionStatus::Unmatched.as_str()))
        .into_boxed();
    if let Some(s) = statement {
        query = query.filter(tx::statement_id.eq(s));
    }
    let rows: Vec<TransactionRow> = query
        .order((tx::posted_on, tx::id))
        .limit(2_000)
        .select(TransactionRow::as_select())
        .load(conn)
        .await?;
    let invoices = open_invoices(conn, workspace).await?;
    let numbers: HashMap<Uuid, String> =
        invoices.iter().map(|i| (i.id, i.number.clone())).collect();
    let lines: Vec<BankLine> = rows
        .iter()
        .filter(|r| r.amount_pence > 0)
        .map(|r| BankLine {
            id: r.id,
            line: line_of(r),
        })
        .collect();
    let proposals = matching::propose(&lines, &invoices);
    let assigned: HashMap<Uuid, Uuid> = matching::assign(&proposals).into_iter().collect();
    let mut by_line: HashMap<Uuid, Vec<Proposal>> = proposals
        .into_iter()
        .map(|p| (p.line_id, p.proposals))
        .collect();
    let mut out = MatchPreview {
        credits: Vec::new(),
        debits: Vec::new(),
    };
    for row in rows {
        if row.amount_pence > 0 {
            let proposals = by_line
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .map(|p| InvoiceProposal {
                    invoice_number: numbers.get(&p.invoice_id).cloned().unwrap_or_default(),
                    invoice_id: p.invoice_id,
                    score: p.score,
                    reasons: p.reasons,
                    amount_pence: p.amount_pence,
                })
                .collect();
            out.credits.push(CreditMatch {
                suggested_invoice_id: assigned.get(&row.id).copied(),
                proposals,
                transaction: bank::transaction_out(row),
            });
        } else {
            let (supplier, description) = matching::debit_to_expense_suggestion(&line_of(&row));
            out.debits.push(DebitSuggestion {
                transaction: bank::transaction_out(row),
                supplier,
                description,
            });
        }
    }
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMatch {
    /// A credit line.
    pub transaction_id: Uuid,
    pub invoice_id: Uuid,
    /// Default: the line's amount, or the invoice's balance when that is less.
    pub amount_pence: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseMatch {
    /// A debit line.
    pub transaction_id: Uuid,
    pub category: Category,
    /// Default: the supplier read from the line.
    pub supplier: Option<String>,
    pub description: Option<String>,
    /// The VAT in the amount paid; none by default.
    #[schema(minimum = 0)]
    pub vat_pence: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchConfirmation {
    #[serde(default)]
    pub payments: Vec<PaymentMatch>,
    #[serde(default)]
    pub expenses: Vec<ExpenseMatch>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordedPayment {
    pub transaction_id: Uuid,
    pub invoice_id: Uuid,
    pub payment_id: Uuid,
    pub amount_pence: i64,
    /// Recorded by an earlier confirmation; nothing was added now.
    pub already_recorded: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RecordedExpense {
    pub transaction_id: Uuid,
    pub expense_id: Uuid,
    pub already_recorded: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MatchResult {
    pub payments: Vec<RecordedPayment>,
    pub expenses: Vec<RecordedExpense>,
}

async fn lock_line(conn: &mut Conn, id: Uuid, field: &str) -> ApiResult<TransactionRow> {
    tx::table
        .filter(tx::id.eq(id))
        .select(TransactionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::field(field, "no such bank line of yours"))
}

fn taken(what: &str) -> ApiError {
    ApiError::new(
        ProblemKind::Conflict,
        format!("this bank line is already recorded as {what}"),
    )
}

/// Records every chosen match, all or nothing.
pub async fn confirm(
    conn: &mut Conn,
    user: Uuid,
    at: chrono::DateTime<chrono::Utc>,
    body: MatchConfirmation,
) -> ApiResult<MatchResult> {
    if body.payments.len() + body.expenses.len() > 1_000 {
        return Err(ApiError::field("payments", "at most 1,000 matches at once"));
    }
    let mut out = MatchResult {
        payments: Vec::new(),
        expenses: Vec::new(),
    };
    for (n, m) in body.payments.into_iter().enumerate() {
        let field = format!("payments[{n}].transaction_id");
        let line = lock_line(conn, m.transaction_id, &field).await?;
        match (TransactionStatus::parse(&line.status), line.payment_id) {
            (TransactionStatus::Matched, Some(payment_id)) => {
                let paid: Option<(Uuid, i64)> = crate::db::schema::app::invoice_payments::table
                    .filter(crate::db::schema::app::invoice_payments::id.eq(payment_id))
                    .select((
                        crate::db::schema::app::invoice_payments::invoice_id,
                        crate::db::schema::app::invoice_payments::amount_pence,
                    ))
                    .first(conn)
                    .await
                    .optional()?;
                match paid {
                    Some((invoice_id, amount)) if invoice_id == m.invoice_id => {
                        out.payments.push(RecordedPayment {
                            transaction_id: line.id,
                            invoice_id,
                            payment_id,
                            amount_pence: amount,
                            already_recorded: true,
                        });
                        continue;
                    }
                    _ => return Err(taken("a payment of another invoice")),
                }
            }
            (TransactionStatus::Unmatched, _) => {}
            (TransactionStatus::Expense, _) => return Err(taken("an expense")),
            (TransactionStatus::Matched, None) => return Err(taken("matched")),
        }
        if line.amount_pence <= 0 {
            return Err(ApiError::field(&field, "money out cannot pay an invoice"));
        }
        let invoice = invoices::lock(conn, m.invoice_id).await.map_err(|_| {
            ApiError::field(
                &format!("payments[{n}].invoice_id"),
                "no such invoice of yours",
            )
        })?;
        if invoice.workspace_id != line.workspace_id {
            return Err(ApiError::field(
                &format!("payments[{n}].invoice_id"),
                "the invoice belongs to another workspace than the bank line",
            ));
        }
        let amount = m
            .amount_pence
            .unwrap_or_else(|| line.amount_pence.min(invoices::balance(&invoice)));
        if amount > line.amount_pence {
            return Err(ApiError::field(
                &format!("payments[{n}].amount_pence"),
                "more than the bank line brought in",
            ));
        }
        let payment_id = Uuid::now_v7();
        let reference: String = line.description.chars().take(200).collect();
        payments::record(
            conn,
            user,
            line.posted_on,
            payment_id,
            invoice.id,
            PaymentInput {
                paid_on: Some(line.posted_on),
                amount_pence: amount,
                method: Some("bank_transfer".into()),
                reference: Some(reference),
            },
        )
        .await?;
        link(conn, &line, Some(payment_id), None).await?;
        out.payments.push(RecordedPayment {
            transaction_id: line.id,
            invoice_id: invoice.id,
            payment_id,
            amount_pence: amount,
            already_recorded: false,
        });
    }
    for (n, m) in body.expenses.into_iter().enumerate() {
        let field = format!("expenses[{n}].transaction_id");
        let line = lock_line(conn, m.transaction_id, &field).await?;
        match (TransactionStatus::parse(&line.status), line.expense_id) {
            (TransactionStatus::Expense, Some(expense_id)) => {
                out.expenses.push(RecordedExpense {
                    transaction_id: line.id,
                    expense_id,
                    already_recorded: true,
                });
                continue;
            }
            (TransactionStatus::Unmatched, _) => {}
            (TransactionStatus::Matched, _) => return Err(taken("a payment")),
            (TransactionStatus::Expense, None) => return Err(taken("an expense")),
        }
        if line.amount_pence >= 0 {
            return Err(ApiError::field(&field, "money in is not an expense"));
        }
        let paid = -line.amount_pence;
        let vat = m.vat_pence.unwrap_or(0);
        if !(0..=paid).contains(&vat) {
            return Err(ApiError::field(
                &format!("expenses[{n}].vat_pence"),
                "between 0 and the amount paid",
            ));
        }
        let (supplier, description) = matching::debit_to_expense_suggestion(&line_of(&line));
        let ctx = Ctx {
            user_id: user,
            workspace_id: line.workspace_id,
            id: Uuid::now_v7(),
            at,
        };
        let input = ExpenseInput {
            workspace_id: Some(line.workspace_id),
            spent_on: line.posted_on,
            paid_on: Some(line.posted_on),
            supplier: m.supplier.unwrap_or(supplier),
            description: Some(m.description.unwrap_or(description)),
            category: m.category,
            net_pence: paid - vat,
            vat_pence: Some(vat),
            vat_reclaimable: None,
            payment_method: Some(PaymentMethod::Other),
            capital_item: None,
            relevant_goods: None,
            ni_eu_acquisition: None,
            receipt_file_id: None,
            notes: None,
        };
        let values = Expenses::validate(conn, ctx, None, input).await?;
        let expense = Expenses::insert(conn, ctx, values).await?;
        link(conn, &line, None, Some(expense.id)).await?;
        out.expenses.push(RecordedExpense {
            transaction_id: line.id,
            expense_id: expense.id,
            already_recorded: false,
        });
    }
    Ok(out)
}

/// Links the line to what it became; its status follows (a generated column).
async fn link(
    conn: &mut Conn,
    line: &TransactionRow,
    payment: Option<Uuid>,
    expense: Option<Uuid>,
) -> ApiResult<()> {
    diesel::update(
        tx::table
            .filter(tx::workspace_id.eq(line.workspace_id))
            .filter(tx::id.eq(line.id)),
    )
    .set((
        tx::payment_id.eq(payment),
        tx::expense_id.eq(expense),
        tx::version.eq(tx::version + 1),
        tx::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    Ok(())
}
