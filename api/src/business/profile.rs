//! The business profile: one per workspace, created or replaced whole by PUT and changed by a
//! merge patch. Bank details are sealed at rest and only ever shown masked.

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::parties::Party;
use crate::{
    common::{
        extractor::{Access, Auth},
        fields,
        resource::resolve_workspace,
        state::State,
    },
    db::{pool::Conn, schema::app::business_profiles as t},
    http::{
        etag,
        json::{self, Json},
        problem::{ApiError, ApiResult, FieldError, ProblemKind},
    },
    secrets::{KeyRing, Place},
};

pub const WORK_TYPES: &[&str] = &["agency", "freelance"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    business_name: String,
    address_lines: Vec<String>,
    postcode: Option<String>,
    country: String,
    phone: Option<String>,
    email: Option<String>,
    vat_registered: bool,
    vrn: Option<String>,
    work_type: String,
    agency_commission_bp: Option<i32>,
    payment_terms_days: i32,
    invoice_prefix: String,
    invoice_padding: i32,
    credit_note_prefix: String,
    quote_prefix: String,
    email_templates: serde_json::Value,
    bank_details: Option<Vec<u8>>,
    sort_code_masked: Option<String>,
    account_number_masked: Option<String>,
    accountant_name: Option<String>,
    accountant_email: Option<String>,
    accountant_phone: Option<String>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Bank details as shown: never in full.
#[derive(Serialize, ToSchema)]
pub struct MaskedBankDetails {
    #[schema(example = "12-34-**")]
    pub sort_code: String,
    #[schema(example = "****5678")]
    pub account_number: String,
}

#[derive(Serialize, ToSchema)]
pub struct BusinessProfile {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Ada Lovelace Carpentry")]
    pub business_name: String,
    #[schema(example = json!(["1 High Street", "Bristol"]))]
    pub address_lines: Vec<String>,
    #[schema(example = "BS1 1AA")]
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "GB")]
    pub country: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vat_registered: bool,
    /// The VAT registration number, `GB` and its digits; set exactly when `vat_registered`.
    #[schema(example = "GB980780684")]
    pub vrn: Option<String>,
    /// `agency` or `freelance`.
    #[schema(example = "freelance")]
    pub work_type: String,
    /// Default agency commission in basis points (1250 = 12.5 %).
    #[schema(example = 1250)]
    pub agency_commission_bp: Option<i32>,
    #[schema(example = 30)]
    pub payment_terms_days: i32,
    #[schema(example = "INV-")]
    pub invoice_prefix: String,
    #[schema(example = 4)]
    pub invoice_padding: i32,
    /// Credit notes are numbered in their own sequence, with this prefix and the same padding.
    #[schema(example = "CN-")]
    pub credit_note_prefix: String,
    /// Quotes are numbered in their own sequence too, with this prefix.
    #[schema(example = "QU-")]
    pub quote_prefix: String,
    pub email_templates: EmailTemplates,
    pub bank_details: Option<MaskedBankDetails>,
    pub accountant_name: Option<String>,
    pub accountant_email: Option<String>,
    pub accountant_phone: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// UK bank details, kept sealed.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankDetailsInput {
    /// Six digits, dashes or spaces allowed.
    #[schema(example = "12-34-56")]
    pub sort_code: String,
    /// Eight digits.
    #[schema(example = "12345678")]
    pub account_number: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessProfileInput {
    #[schema(example = "Ada Lovelace Carpentry")]
    pub business_name: String,
    #[schema(example = json!(["1 High Street", "Bristol"]))]
    pub address_lines: Option<Vec<String>>,
    #[schema(example = "BS1 1AA")]
    pub postcode: Option<String>,
    #[schema(example = "GB")]
    pub country: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub vat_registered: Option<bool>,
    /// Required exactly when `vat_registered`: a UK VAT number (9 or 12 digits, or GD/HA and
    /// 3 digits), optionally after `GB`, with valid check digits; kept as `GB` and the digits.
    #[schema(example = "GB980780684")]
    pub vrn: Option<String>,
    #[schema(example = "freelance")]
    pub work_type: Option<String>,
    #[schema(example = 1250, minimum = 0, maximum = 10000)]
    pub agency_commission_bp: Option<i32>,
    #[schema(example = 30, minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    #[schema(example = "INV-")]
    pub invoice_prefix: Option<String>,
    #[schema(example = 4, minimum = 1, maximum = 10)]
    pub invoice_padding: Option<i32>,
    #[schema(example = "CN-")]
    pub credit_note_prefix: Option<String>,
    #[schema(example = "QU-")]
    pub quote_prefix: Option<String>,
    /// Replaced whole; a field left out takes the default.
    pub email_templates: Option<EmailTemplates>,
    /// Replaces the stored bank details; they are never shown back in full.
    pub bank_details: Option<BankDetailsInput>,
    pub accountant_name: Option<String>,
    pub accountant_email: Option<String>,
    pub accountant_phone: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    business_name: String,
    address_lines: Vec<String>,
    postcode: Option<String>,
    country: String,
    phone: Option<String>,
    email: Option<String>,
    vat_registered: bool,
    vrn: Option<String>,
    work_type: String,
    agency_commission_bp: Option<i32>,
    payment_terms_days: i32,
    invoice_prefix: String,
    invoice_padding: i32,
    credit_note_prefix: String,
    quote_prefix: String,
    email_templates: serde_json::Value,
    bank_details: Option<Vec<u8>>,
    sort_code_masked: Option<String>,
    account_number_masked: Option<String>,
    accountant_name: Option<String>,
    accountant_email: Option<String>,
    accountant_phone: Option<String>,
}

/// The sealed bank details and their masked forms, as stored.
type Bank = (Option<Vec<u8>>, Option<String>, Option<String>);

fn place(workspace: &str) -> Place<'_> {
    Place {
        table: "app.business_profiles",
        column: "bank_details",
        row: workspace,
    }
}

fn output(r: Row) -> BusinessProfile {
    let bank_details =
        r.sort_code_masked
            .zip(r.account_number_masked)
            .map(|(sort_code, account_number)| MaskedBankDetails {
                sort_code,
                account_number,
            });
    BusinessProfile {
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        business_name: r.business_name,
        address_lines: r.address_lines,
        postcode: r.postcode,
        country: r.country,
        phone: r.phone,
        email: r.email,
        vat_registered: r.vat_registered,
        vrn: r.vrn,
        work_type: r.work_type,
        agency_commission_bp: r.agency_commission_bp,
        payment_terms_days: r.payment_terms_days,
        invoice_prefix: r.invoice_prefix,
        invoice_padding: r.invoice_padding,
        credit_note_prefix: r.credit_note_prefix,
        quote_prefix: r.quote_prefix,
        email_templates: serde_json::from_value(r.email_templates).unwrap_or_default(),
        bank_details,
        accountant_name: r.accountant_name,
        accountant_email: r.accountant_email,
        accountant_phone: r.accountant_phone,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The stored profile as input, for merge patches; bank details are left out (they are kept
/// unless the patch names them).
fn input(r: &Row) -> BusinessProfileInput {
    BusinessProfileInput {
        business_name: r.business_name.clone(),
        address_lines: Some(r.address_lines.clone()),
        postcode: r.postcode.clone(),
        country: Some(r.country.clone()),
        phone: r.phone.clone(),
        email: r.email.clone(),
        vat_registered: Some(r.vat_registered),
        vrn: r.vrn.clone(),
        work_type: Some(r.work_type.clone()),
        agency_commission_bp: r.agency_commission_bp,
        payment_terms_days: Some(r.payment_terms_days),
        invoice_prefix: Some(r.invoice_prefix.clone()),
        invoice_padding: Some(r.invoice_padding),
        credit_note_prefix: Some(r.credit_note_prefix.clone()),
        quote_prefix: Some(r.quote_prefix.clone()),
        email_templates: serde_json::from_value(r.email_templates.clone()).ok(),
        bank_details: None,
        accountant_name: r.accountant_name.clone(),
        accountant_email: r.accountant_email.clone(),
        accountant_phone: r.accountant_phone.clone(),
    }
}

/// Only the digits of `raw` when it has exactly `n` of them and nothing but `-` and spaces
/// besides.
fn digits(field: &str, raw: &str, n: usize, what: &str, errors: &mut Vec<FieldError>) -> String {
    let kept: String = raw.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if kept.len() != n || !kept.bytes().all(|b| b.is_ascii_digit()) {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be {what}"),
        });
    }
    kept
}

/// Seals the bank details for `workspace`, with their masked forms.
fn seal_bank(
    keys: Option<&KeyRing>,
    workspace: Uuid,
    b: BankDetailsInput,
    errors: &mut Vec<FieldError>,
) -> ApiResult<Bank> {
    let sort = digits(
        "bank_details.sort_code",
        &b.sort_code,
        6,
        "a sort code of 6 digits",
        errors,
    );
    let account = digits(
        "bank_details.account_number",
        &b.account_number,
        8,
        "an account number of 8 digits",
        errors,
    );
    if !errors.is_empty() {
        return Ok((None, None, None));
    }
    let keys = keys.ok_or_else(|| {
        ApiError::new(
            ProblemKind::Conflict,
            "this server keeps no secrets (MINIME_SECRET_KEYS is not set), so it cannot keep bank details",
        )
    })?;
    let plain = serde_json::to_vec(&BankDetailsInput {
        sort_code: sort.clone(),
        account_number: account.clone(),
    })
    .map_err(ApiError::internal)?;
    Ok((
        Some(keys.seal(place(&workspace.to_string()), &plain)),
        Some(format!("{}-{}-**", &sort[..2], &sort[2..4])),
        Some(format!("****{}", &account[4..])),
    ))
}

/// Checks every field (all errors at once); `kept` are the stored bank details a patch that does
/// not name them keeps.
fn validate(
    keys: Option<&KeyRing>,
    workspace: Uuid,
    i: BusinessProfileInput,
    kept: Bank,
) -> ApiResult<Values> {
    let mut errors = Vec::new();
    let address_lines: Vec<String> = i
        .address_lines
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(n, line)| fields::title(&format!("address_lines[{n}]"), line, 200, &mut errors))
        .collect();
    if address_lines.len() > 6 {
        errors.push(FieldError {
            field: "address_lines".into(),
            message: "must be at most 6 lines".into(),
        });
    }
    let country = i.country.unwrap_or_else(|| "GB".into());
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(FieldError {
            field: "country".into(),
            message: "must be an ISO 3166-1 alpha-2 code such as GB".into(),
        });
    }
    let vat_registered = i.vat_registered.unwrap_or(false);
    let vrn = super::vrn("vrn", i.vrn, &mut errors);
    if vat_registered != vrn.is_some() {
        errors.push(FieldError {
            field: "vrn".into(),
            message: if vat_registered {
                "is required when vat_registered".into()
            } else {
                "must be empty unless vat_registered".into()
            },
        });
    }
    let range = |field: &str, v: Option<i32>, min, max, errors: &mut Vec<FieldError>| {
        fields::range(field, v.map(i64::from), min, max, errors);
    };
    range(
        "agency_commission_bp",
        i.agency_commission_bp,
        0,
        10_000,
        &mut errors,
    );
    range(
        "payment_terms_days",
        i.payment_terms_days,
        0,
        365,
        &mut errors,
    );
    range("invoice_padding", i.invoice_padding, 1, 10, &mut errors);
    let mut values = Values {
        business_name: fields::title("business_name", &i.business_name, 200, &mut errors),
        address_lines,
        postcode: fields::text("postcode", i.postcode, 20, &mut errors),
        country,
        phone: fields::text("phone", i.phone, 50, &mut errors),
        email: fields::text("email", i.email, 320, &mut errors),
        vat_registered,
        vrn,
        work_type: fields::one_of(
            "work_type",
            i.work_type,
            WORK_TYPES,
            "freelance",
            &mut errors,
        ),
        agency_commission_bp: i.agency_commission_bp,
        payment_terms_days: i.payment_terms_days.unwrap_or(30),
        // Absent: the default; an empty string: no prefix at all.
        invoice_prefix: fields::text(
            "invoice_prefix",
            i.invoice_prefix.or_else(|| Some("INV-".into())),
            20,
            &mut errors,
        )
        .unwrap_or_default(),
        invoice_padding: i.invoice_padding.unwrap_or(4),
        credit_note_prefix: fields::text(
            "credit_note_prefix",
            i.credit_note_prefix.or_else(|| Some("CN-".into())),
            20,
            &mut errors,
        )
        .unwrap_or_default(),
        quote_prefix: fields::text(
            "quote_prefix",
            i.quote_prefix.or_else(|| Some("QU-".into())),
            20,
            &mut errors,
        )
        .unwrap_or_default(),
        email_templates: serde_json::to_value(templates(
            i.email_templates.unwrap_or_default(),
            &mut errors,
        ))
        .map_err(ApiError::internal)?,
        bank_details: None,
        sort_code_masked: None,
        account_number_masked: None,
        accountant_name: fields::text("accountant_name", i.accountant_name, 200, &mut errors),
        accountant_email: fields::text("accountant_email", i.accountant_email, 320, &mut errors),
        accountant_phone: fields::text("accountant_phone", i.accountant_phone, 50, &mut errors),
    };
    let bank = match i.bank_details {
        Some(b) => seal_bank(keys, workspace, b, &mut errors)?,
        None => kept,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    (
        values.bank_details,
        values.sort_code_masked,
        values.account_number_masked,
    ) = bank;
    Ok(values)
}

async fn find(conn: &mut Conn, workspace: Uuid) -> ApiResult<Option<Row>> {
    Ok(t::table
        .filter(t::workspace_id.eq(workspace))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}

async fn update(conn: &mut Conn, workspace: Uuid, values: Values) -> ApiResult<Row> {
    Ok(
        diesel::update(t::table.filter(t::workspace_id.eq(workspace)))
            .set((
                values,
                t::version.eq(t::version + 1),
                t::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?,
    )
}

fn reply(status: StatusCode, row: Row) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag::etag(row.version))
        .json(output(row))
}

pub async fn get(state: &State, auth: &Auth, workspace: Option<Uuid>) -> ApiResult<HttpResponse> {
    let row = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let workspace = resolve_workspace(conn, me.user_id, workspace).await?;
                find(conn, workspace).await?.ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, row))
}

/// Creates the profile (201) or replaces it whole (200; `If-Match` applies).
pub async fn put(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    workspace: Option<Uuid>,
    body: Json<BusinessProfileInput>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(req)?;
    let keys = state.config.secret_keys.as_deref();
    let input = body.0;
    let (status, row) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let workspace = resolve_workspace(conn, me.user_id, workspace).await?;
                let current = find(conn, workspace).await?;
                match (&current, expected) {
                    (Some(row), _) => etag::check(expected, row.version)?,
                    (None, Some(v)) => {
                        return Err(ApiError::new(
                            ProblemKind::PreconditionFailed,
                            format!("If-Match was \"{v}\" but there is no profile yet"),
                        ))
                    }
                    (None, None) => {}
                }
                let values = validate(keys, workspace, input, (None, None, None))?;
                if current.is_some() {
                    return Ok((StatusCode::OK, update(conn, workspace, values).await?));
                }
                let row = diesel::insert_into(t::table)
                    .values((
                        t::id.eq(Uuid::now_v7()),
                        t::workspace_id.eq(workspace),
                        t::created_by.eq(me.user_id),
                        values,
                    ))
                    .returning(Row::as_returning())
                    .get_result(conn)
                    .await?;
                Ok((StatusCode::CREATED, row))
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(status, row))
}

/// RFC 7396 against the stored profile, validated like a PUT; bank details not named stay.
pub async fn patch(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    workspace: Option<Uuid>,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(req)?;
    let schema = json::body_schema(req);
    let keys = state.config.secret_keys.as_deref();
    let patch = body.0;
    let Some(names_bank) = patch.as_object().map(|o| o.contains_key("bank_details")) else {
        return Err(ApiError::field(
            "body",
            "a merge patch must be a JSON object",
        ));
    };
    let row = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let workspace = resolve_workspace(conn, me.user_id, workspace).await?;
                let current = find(conn, workspace)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                etag::check(expected, current.version)?;
                let changed = json::merge_patch(&input(&current), &patch, schema.as_deref())?;
                let kept = if names_bank {
                    (None, None, None)
                } else {
                    (
                        current.bank_details,
                        current.sort_code_masked,
                        current.account_number_masked,
                    )
                };
                let values = validate(keys, workspace, changed, kept)?;
                update(conn, workspace, values).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(reply(StatusCode::OK, row))
}

/// Every sealed bank detail under the ring's sealing key; how many were sealed anew.
pub async fn reseal_all(conn: &mut Conn, keys: &KeyRing) -> ApiResult<usize> {
    #[derive(QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        workspace_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        bank_details: Vec<u8>,
    }
    #[derive(QueryableByName)]
    struct Swapped {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        done: bool,
    }
    let all: Vec<Sealed> =
        diesel::sql_query("SELECT workspace_id, bank_details FROM ops.bank_details_sealed()")
            .load(conn)
            .await?;
    let mut resealed = 0;
    for row in all {
        let workspace = row.workspace_id.to_string();
        let fresh = keys
            .reseal(place(&workspace), &row.bank_details)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("bank details of {workspace}: {e}")))?;
        let Some(fresh) = fresh else { continue };
        let swapped: Swapped =
            diesel::sql_query("SELECT ops.bank_details_reseal($1, $2, $3) AS done")
                .bind::<diesel::sql_types::Uuid, _>(row.workspace_id)
                .bind::<diesel::sql_types::Bytea, _>(&row.bank_details)
                .bind::<diesel::sql_types::Bytea, _>(fresh)
                .get_result(conn)
                .await?;
        resealed += usize::from(swapped.done);
    }
    Ok(resealed)
}

/// The subject and body of the mails that carry documents. Placeholders: `{number}`,
/// `{business}`, `{client}`, `{total}`, `{balance}`, `{due_date}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailTemplates {
    #[schema(example = "Invoice {number} from {business}")]
    pub invoice_subject: Option<String>,
    #[schema(
        example = "Hello {client},\n\nPlease find invoice {number} for {total} attached, due on {due_date}.\n\n{business}"
    )]
    pub invoice_body: Option<String>,
    #[schema(example = "Credit note {number} from {business}")]
    pub credit_note_subject: Option<String>,
    pub credit_note_body: Option<String>,
}

fn templates(t: EmailTemplates, errors: &mut Vec<FieldError>) -> EmailTemplates {
    let field = |name: &str, v: Option<String>, max, errors: &mut Vec<FieldError>| {
        fields::text(&format!("email_templates.{name}"), v, max, errors)
    };
    EmailTemplates {
        invoice_subject: field("invoice_subject", t.invoice_subject, 200, errors),
        invoice_body: field("invoice_body", t.invoice_body, 5000, errors),
        credit_note_subject: field("credit_note_subject", t.credit_note_subject, 200, errors),
        credit_note_body: field("credit_note_body", t.credit_note_body, 5000, errors),
    }
}

/// What issued documents say of the business, read when one is issued.
pub struct Issuer {
    pub party: Party,
    pub vat_registered: bool,
    pub payment_terms_days: i32,
    pub invoice_prefix: String,
    pub credit_note_prefix: String,
    pub quote_prefix: String,
    pub email_templates: EmailTemplates,
    pub padding: usize,
    /// Sort code and account number, opened from the seal, for the payment details a document
    /// prints; `None` when none are kept or this server holds no keys.
    pub bank: Option<(String, String)>,
}

/// The workspace's business as documents show it; `None` before a profile exists.
pub async fn issuer(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    workspace: Uuid,
) -> ApiResult<Option<Issuer>> {
    let Some(r) = find(conn, workspace).await? else {
        return Ok(None);
    };
    let place_row = workspace.to_string();
    let bank = match (keys, &r.bank_details) {
        (Some(keys), Some(sealed)) => {
            let plain = keys
                .open(place(&place_row), sealed)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("bank details: {e}")))?;
            let b: BankDetailsInput = serde_json::from_slice(&plain).map_err(ApiError::internal)?;
            Some((b.sort_code, b.account_number))
        }
        _ => None,
    };
    let mut address_lines = r.address_lines;
    address_lines.extend(r.postcode);
    Ok(Some(Issuer {
        party: Party {
            name: r.business_name,
            address_lines,
            vat_number: r.vrn,
            email: r.email,
            phone: r.phone,
        },
        vat_registered: r.vat_registered,
        payment_terms_days: r.payment_terms_days,
        invoice_prefix: r.invoice_prefix,
        credit_note_prefix: r.credit_note_prefix,
        quote_prefix: r.quote_prefix,
        email_templates: serde_json::from_value(r.email_templates).unwrap_or_default(),
        padding: usize::try_from(r.invoice_padding).unwrap_or(4),
        bank,
    }))
}
