//! Quotes (`/v1/quotes`): priced like invoices by the one totals function. Sending numbers a
//! draft from its own gap-free sequence, copies both parties in and makes a single-use,
//! expiring link (only its SHA-256 is kept) through which the client accepts or declines by
//! typing their name; an accepted quote becomes a draft invoice. The link has no signed-in user,
//! so it reaches its one quote only through the SECURITY DEFINER functions keyed by its hash
//! (`ops.quote_by_link`, `ops.quote_answer`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Bytea, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    clients, invoices, lines,
    lines::{DocumentLine, DocumentTotals, LineInput},
    numbering,
    parties::Party,
    profile,
};
use crate::{
    common::{fields, resource::ListQuery},
    db::{pool::Conn, schema::app::quotes as t},
    http::problem::{ApiError, ApiResult, FieldError, ProblemKind},
    keyset,
    secrets::KeyRing,
};

pub const STATUSES: &[&str] = &["draft", "sent", "accepted", "declined"];
/// How long a link answers when the quote names no `valid_until`.
pub const LINK_DAYS: i64 = 30;

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub client_id: Uuid,
    pub status: String,
    pub number: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub vat_registered: bool,
    pub lines: serde_json::Value,
    pub net_pence: i64,
    pub vat_pence: i64,
    pub reverse_charge_vat_pence: i64,
    pub total_pence: i64,
    pub by_rate: serde_json::Value,
    pub notes: Option<String>,
    pub supplier: Option<serde_json::Value>,
    pub customer: Option<serde_json::Value>,
    pub sent_at: Option<DateTime<Utc>>,
    pub link_expires_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub signer_name: Option<String>,
    pub invoice_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Quote {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub client_id: Uuid,
    /// `draft`, `sent`, `accepted` or `declined`.
    #[schema(example = "sent")]
    pub status: String,
    /// Sent and not answered before its link expired.
    pub expired: bool,
    #[schema(example = "QU-0001")]
    pub number: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub vat_registered: bool,
    pub lines: Vec<DocumentLine>,
    pub totals: DocumentTotals,
    pub notes: Option<String>,
    pub supplier: Option<Party>,
    pub customer: Option<Party>,
    pub sent_at: Option<DateTime<Utc>>,
    pub link_expires_at: Option<DateTime<Utc>>,
    /// The signature record: when and by what name the client answered.
    pub answered_at: Option<DateTime<Utc>>,
    #[schema(example = "Sam Acme")]
    pub signer_name: Option<String>,
    /// The draft invoice an acceptance made.
    pub invoice_id: Option<Uuid>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    pub workspace_id: Option<Uuid>,
    pub client_id: Uuid,
    #[schema(example = "2027-01-31")]
    pub valid_until: Option<NaiveDate>,
    #[serde(default)]
    pub lines: Vec<LineInput>,
    pub notes: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    client_id: Uuid,
    valid_until: Option<NaiveDate>,
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
pub struct QuoteFilter {
    pub status: Option<String>,
    pub client_id: Option<Uuid>,
}

/// A sent quote and the link to give the client (shown once: only its hash is kept).
#[derive(Serialize, ToSchema)]
pub struct SentQuote {
    pub quote: Quote,
    /// The client's page (`MINIME_APP_URL/quote#…`): the token travels in the fragment, so it
    /// reaches no server log.
    #[schema(example = "https://minime.example/quote#k3v…")]
    pub link: String,
    /// The token itself, for `GET /v1/public/quotes/{token}`.
    pub token: String,
    /// Where the link was mailed, when it was.
    pub mailed_to: Option<String>,
}

/// Whether to mail the link to the client as well.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendQuoteInput {
    /// Mail the link to the client's address (or to `to`).
    #[serde(default)]
    pub mail: bool,
    #[schema(example = "sam@acme.example")]
    pub to: Option<String>,
}

/// Mails a sent quote's link; answers the address it went to. The mail carries a live
/// capability, so it goes through the outbox, whose bodies the server role cannot read back.
pub async fn mail_link(
    conn: &mut Conn,
    user: Uuid,
    row: &Row,
    link: &str,
    to: Option<String>,
) -> ApiResult<String> {
    let customer = party(&row.customer).unwrap_or_default();
    let supplier = party(&row.supplier).unwrap_or_default();
    let to = to
        .or(customer.email.clone())
        .ok_or_else(|| ApiError::field("to", "the client has no email address: give one"))?;
    let to = crate::common::email::normalize("to", &to)?;
    let number = row.number.clone().unwrap_or_default();
    let total = super::pdf::format_pence(row.total_pence);
    let until = row
        .link_expires_at
        .map(|e| super::render::date((e - chrono::Duration::seconds(1)).date_naive()))
        .unwrap_or_default();
    crate::common::outbox::queue::enqueue(
        conn,
        crate::common::outbox::queue::Mail {
            user_id: Some(user),
            kind: "quote",
            to: to.clone(),
            subject: format!("Quote {number} from {}", supplier.name),
            body: format!(
                "Hello {},\n\n{} sends you quote {number} for {total}. See it, and accept or decline it, here (until {until}):\n\n{link}\n",
                customer.name, supplier.name
            ),
        },
    )
    .await?;
    Ok(to)
}

/// The client's answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    /// `true` accepts, `false` declines.
    pub accept: bool,
    /// Typed by the client: their signature.
    #[schema(example = "Sam Acme")]
    pub name: String,
}

/// What the link shows.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicQuote {
    pub number: Option<String>,
    pub status: String,
    pub valid_until: Option<NaiveDate>,
    pub vat_registered: bool,
    pub lines: Vec<DocumentLine>,
    pub totals: DocumentTotals,
    pub notes: Option<String>,
    pub supplier: Option<Party>,
    pub customer: Option<Party>,
    pub answered_at: Option<DateTime<Utc>>,
    pub signer_name: Option<String>,
}

fn party(v: &Option<serde_json::Value>) -> Option<Party> {
    v.as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub fn output(r: Row, at: DateTime<Utc>) -> Quote {
    Quote {
        expired: r.status == "sent" && r.link_expires_at.is_some_and(|e| e <= at),
        lines: lines::lines_of(&r.lines),
        totals: DocumentTotals {
            net_pence: r.net_pence,
            vat_pence: r.vat_pence,
            reverse_charge_vat_pence: r.reverse_charge_vat_pence,
            total_pence: r.total_pence,
            by_rate: serde_json::from_value(r.by_rate.clone()).unwrap_or_default(),
        },
        supplier: party(&r.supplier),
        customer: party(&r.customer),
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        client_id: r.client_id,
        status: r.status,
        number: r.number,
        valid_until: r.valid_until,
        vat_registered: r.vat_registered,
        notes: r.notes,
        sent_at: r.sent_at,
        link_expires_at: r.link_expires_at,
        answered_at: r.answered_at,
        signer_name: r.signer_name,
        invoice_id: r.invoice_id,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub fn input(r: &Row) -> QuoteInput {
    QuoteInput {
        workspace_id: Some(r.workspace_id),
        client_id: r.client_id,
        valid_until: r.valid_until,
        lines: lines::lines_of(&r.lines)
            .iter()
            .map(LineInput::from)
            .collect(),
        notes: r.notes.clone(),
    }
}

pub async fn validate(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    workspace: Uuid,
    i: QuoteInput,
) -> ApiResult<Values> {
    let issuer = profile::issuer(conn, keys, workspace)
        .await?
        .ok_or_else(invoices::profile_required)?;
    let mut errors = Vec::new();
    if clients::customer(conn, workspace, i.client_id)
        .await?
        .is_none()
    {
        errors.push(FieldError {
            field: "client_id".into(),
            message: "does not name a client in the same workspace".into(),
        });
    }
    let notes = fields::text("notes", i.notes, 5000, &mut errors);
    let (lines, totals) = lines::price(&i.lines, issuer.vat_registered, &mut errors)?;
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Values {
        client_id: i.client_id,
        valid_until: i.valid_until,
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
    workspace: Uuid,
    user: Uuid,
    values: Values,
) -> ApiResult<Row> {
    Ok(diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
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
            "quote {} was sent and cannot change: make a new one",
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

pub async fn list(conn: &mut Conn, q: ListQuery<QuoteFilter>) -> ApiResult<Vec<Row>> {
    let mut query = t::table.select(Row::as_select()).into_boxed();
    if let Some(status) = q.filter.status.clone() {
        query = query.filter(t::status.eq(status));
    }
    if let Some(client) = q.filter.client_id {
        query = query.filter(t::client_id.eq(client));
    }
    Ok(keyset!(query, t, q).load(conn).await?)
}

pub fn link_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Sends a draft (locked by the caller): its number, both parties, and a fresh link token.
pub async fn send(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    at: DateTime<Utc>,
    today: NaiveDate,
    row: Row,
) -> ApiResult<(Row, String)> {
    must_be_draft(&row)?;
    if lines::lines_of(&row.lines).is_empty() {
        return Err(ApiError::field("lines", "a quote needs at least one line"));
    }
    if row.valid_until.is_some_and(|d| d < today) {
        return Err(ApiError::field("valid_until", "is in the past"));
    }
    let issuer = profile::issuer(conn, keys, row.workspace_id)
        .await?
        .ok_or_else(invoices::profile_required)?;
    let customer = clients::customer(conn, row.workspace_id, row.client_id)
        .await?
        .ok_or_else(|| ApiError::field("client_id", "the client no longer exists"))?;
    let sequence = numbering::next(conn, row.workspace_id, numbering::Kind::Quote).await?;
    let number = numbering::format(&issuer.quote_prefix, issuer.padding, sequence);
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let token = URL_SAFE_NO_PAD.encode(secret);
    // Valid through its last day, or for LINK_DAYS.
    let expires = row
        .valid_until
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or(at + chrono::Duration::days(LINK_DAYS));
    let sent = diesel::update(t::table.find(row.id))
        .set((
            t::status.eq("sent"),
            t::number.eq(number),
            t::supplier.eq(serde_json::to_value(&issuer.party).map_err(ApiError::internal)?),
            t::customer.eq(serde_json::to_value(&customer.party).map_err(ApiError::internal)?),
            t::sent_at.eq(at),
            t::link_hash.eq(link_hash(&token)),
            t::link_expires_at.eq(expires),
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    Ok((sent, token))
}

/// The quote a link shows, if the link is live.
pub async fn by_link(
    conn: &mut Conn,
    token: &str,
    at: DateTime<Utc>,
) -> ApiResult<Option<PublicQuote>> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Nullable<Jsonb>)]
        quote: Option<serde_json::Value>,
    }
    let found: Found = diesel::sql_query("SELECT ops.quote_by_link($1, $2) AS quote")
        .bind::<Bytea, _>(link_hash(token))
        .bind::<Timestamptz, _>(at)
        .get_result(conn)
        .await?;
    found
        .quote
        .map(|q| serde_json::from_value(q).map_err(ApiError::internal))
        .transpose()
}

/// Records the client's one answer; `None` when the link is unknown, expired or answered.
pub async fn answer(
    conn: &mut Conn,
    token: &str,
    at: DateTime<Utc>,
    i: AnswerInput,
    fingerprint: Vec<u8>,
) -> ApiResult<Option<String>> {
    #[derive(QueryableByName)]
    struct Answered {
        #[diesel(sql_type = Nullable<Text>)]
        status: Option<String>,
    }
    let mut errors = Vec::new();
    let name = fields::title("name", &i.name, 200, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let answered: Answered =
        diesel::sql_query("SELECT ops.quote_answer($1, $2, $3, $4, $5, $6) AS status")
            .bind::<Bytea, _>(link_hash(token))
            .bind::<Timestamptz, _>(at)
            .bind::<Bool, _>(i.accept)
            .bind::<Text, _>(name)
            .bind::<Bytea, _>(fingerprint)
            .bind::<SqlUuid, _>(Uuid::now_v7())
            .get_result(conn)
            .await?;
    Ok(answered.status)
}
