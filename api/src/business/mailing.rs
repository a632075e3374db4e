//! Mailing a kept document to the client (`POST /v1/invoices/{id}/send`,
//! `POST /v1/credit-notes/{id}/send`): the business's template with its placeholders filled, the
//! PDF attached, queued in the outbox like every mail, and an email log per document
//! (`GET /v1/documents/{id}/emails`: queued, sent or failed, with the provider's id).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{credit_notes, invoices, pdf::format_pence, profile, render};
use crate::{
    common::{
        email,
        jobs::{self, queue::NewJob},
        outbox,
    },
    db::{
        pool::Conn,
        schema::app::{business_documents as d, document_emails as t},
    },
    http::problem::{ApiError, ApiResult, FieldError, ProblemKind},
    secrets::KeyRing,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    document_id: Uuid,
    to_address: String,
    subject: String,
    status: String,
    provider_id: Option<String>,
    error: Option<String>,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// One mail of a document's email log.
#[derive(Serialize, ToSchema)]
pub struct DocumentEmail {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub document_id: Uuid,
    #[schema(example = "accounts@acme.example")]
    pub to_address: String,
    #[schema(example = "Invoice INV-0001 from Ada Carpentry")]
    pub subject: String,
    /// `queued`, `sent` or `failed`.
    #[schema(example = "sent")]
    pub status: String,
    /// The id the mail provider knows the message by.
    pub provider_id: Option<String>,
    pub error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Where the mail goes; by default to the client's address, with the business's template.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    /// Default: the client's email address.
    #[schema(example = "accounts@acme.example")]
    pub to: Option<String>,
    /// Default: the business's template.
    pub subject: Option<String>,
    /// Default: the business's template.
    pub body: Option<String>,
}

pub const STATUSES: &[&str] = &["queued", "sent", "failed"];

pub fn output(r: Row) -> DocumentEmail {
    DocumentEmail {
        id: r.id,
        workspace_id: r.workspace_id,
        document_id: r.document_id,
        to_address: r.to_address,
        subject: r.subject,
        status: r.status,
        provider_id: r.provider_id,
        error: r.error,
        sent_at: r.sent_at,
        created_at: r.created_at,
    }
}

/// `{name}` placeholders replaced by their values; unknown ones are left as typed.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// What a mail carries: the document, whom to, and the template's values.
struct Letter<'a> {
    workspace: Uuid,
    document_title: &'a str,
    customer_email: Option<String>,
    subject: (Option<String>, &'a str),
    body: (Option<String>, &'a str),
    values: Vec<(&'static str, String)>,
}

async fn queue(
    conn: &mut Conn,
    user: Uuid,
    kind: &'static str,
    source: (Option<Uuid>, Option<Uuid>),
    letter: Letter<'_>,
    i: SendInput,
) -> ApiResult<Row> {
    let document: Uuid = d::table
        .filter(d::workspace_id.eq(letter.workspace))
        .filter(d::invoice_id.is_not_distinct_from(source.0))
        .filter(d::credit_note_id.is_not_distinct_from(source.1))
        .select(d::id)
        .order(d::created_at.desc())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| {
            ApiError::new(
                ProblemKind::Conflict,
                format!("{} has no kept PDF to send", letter.document_title),
            )
        })?;
    let to =
        i.to.or(letter.customer_email)
            .ok_or_else(|| ApiError::field("to", "the client has no email address: give one"))?;
    let to = email::normalize("to", &to)?;
    let mut errors = Vec::new();
    let subject = fill(
        i.subject
            .or(letter.subject.0)
            .as_deref()
            .unwrap_or(letter.subject.1),
        &letter.values,
    );
    let body = fill(
        i.body.or(letter.body.0).as_deref().unwrap_or(letter.body.1),
        &letter.values,
    );
    let subject = subject.replace(['\r', '\n'], " ");
    if subject.trim().is_empty() || subject.chars().count() > 300 {
        errors.push(FieldError {
            field: "subject".into(),
            message: "must be 1 to 300 characters".into(),
        });
    }
    if body.chars().count() > 20_000 {
        errors.push(FieldError {
            field: "body".into(),
            message: "must be at most 20000 characters".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let id = Uuid::now_v7();
    diesel::sql_query("SELECT ops.outbox_enqueue_document($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind::<SqlUuid, _>(id)
        .bind::<Nullable<SqlUuid>, _>(Some(user))
        .bind::<Text, _>(kind)
        .bind::<Text, _>(&to)
        .bind::<Text, _>(&subject)
        .bind::<Text, _>(&body)
        .bind::<SqlUuid, _>(letter.workspace)
        .bind::<SqlUuid, _>(document)
        .execute(conn)
        .await?;
    let mut job = NewJob::new(outbox::sender::SEND, Utc::now());
    job.payload = serde_json::json!({ "id": id });
    job.unique_key = Some(format!("{}:{id}", outbox::sender::SEND));
    jobs::queue::enqueue(conn, job).await?;
    Ok(diesel::insert_into(t::table)
        .values((
            t::id.eq(id),
            t::workspace_id.eq(letter.workspace),
            t::created_by.eq(user),
            t::document_id.eq(document),
            t::to_address.eq(to),
            t::subject.eq(subject),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?)
}

/// Queues an issued invoice's PDF to its client.
pub async fn send_invoice(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    user: Uuid,
    invoice_id: Uuid,
    i: SendInput,
) -> ApiResult<Row> {
    let row = invoices::find(conn, invoice_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    invoices::must_be_open(&row)?;
    let issuer = profile::issuer(conn, keys, row.workspace_id)
        .await?
        .ok_or_else(invoices::profile_required)?;
    let out = invoices::output(row.clone(), chrono::NaiveDate::MIN);
    let number = row.number.clone().unwrap_or_default();
    let customer = out.customer.clone().unwrap_or_default();
    let values = vec![
        ("number", number.clone()),
        ("business", issuer.party.name.clone()),
        ("client", customer.name.clone()),
        ("total", format_pence(row.total_pence)),
        ("balance", format_pence(invoices::balance(&row))),
        (
            "due_date",
            row.due_date.map(render::date).unwrap_or_default(),
        ),
    ];
    let title = format!("{} {number}", out.title);
    queue(
        conn,
        user,
        "invoice",
        (Some(row.id), None),
        Letter {
            workspace: row.workspace_id,
            document_title: &title,
            customer_email: customer.email,
            subject: (
                issuer.email_templates.invoice_subject,
                "Invoice {number} from {business}",
            ),
            body: (
                issuer.email_templates.invoice_body,
                "Hello {client},\n\nPlease find invoice {number} for {total} attached, due on {due_date}.\n\nThank you,\n{business}",
            ),
            values,
        },
        i,
    )
    .await
}

/// Queues a credit note's PDF to its client.
pub async fn send_credit_note(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    user: Uuid,
    id: Uuid,
    i: SendInput,
) -> ApiResult<Row> {
    let note = credit_notes::find(conn, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let issuer = profile::issuer(conn, keys, note.workspace_id)
        .await?
        .ok_or_else(invoices::profile_required)?;
    let out = credit_notes::output(note.clone());
    let values = vec![
        ("number", note.number.clone()),
        ("business", issuer.party.name.clone()),
        ("client", out.customer.name.clone()),
        ("total", format_pence(note.total_pence)),
        ("balance", String::new()),
        ("due_date", String::new()),
    ];
    let title = format!("Credit note {}", note.number);
    queue(
        conn,
        user,
        "credit_note",
        (None, Some(note.id)),
        Letter {
            workspace: note.workspace_id,
            document_title: &title,
            customer_email: out.customer.email.clone(),
            subject: (
                issuer.email_templates.credit_note_subject,
                "Credit note {number} from {business}",
            ),
            body: (
                issuer.email_templates.credit_note_body,
                "Hello {client},\n\nPlease find credit note {number} for {total} attached.\n\n{business}",
            ),
            values,
        },
        i,
    )
    .await
}

pub async fn log(conn: &mut Conn, document_id: Uuid) -> ApiResult<Vec<Row>> {
    Ok(t::table
        .filter(t::document_id.eq(document_id))
        .select(Row::as_select())
        .order((t::created_at, t::id))
        .load(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        let values = [
            ("number", "INV-0001".to_owned()),
            ("total", "£1.00".to_owned()),
        ];
        assert_eq!(
            super::fill("{number}: {total} {other}", &values),
            "INV-0001: £1.00 {other}"
        );
    }
}
