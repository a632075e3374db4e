//! Card payments through a business's own Stripe account: `/v1/business/stripe` keeps its
//! restricted key and webhook signing secret (sealed; shown only as hints),
//! `POST /v1/invoices/{id}/checkout` opens a Stripe Checkout Session for what is owed, and
//! `POST /v1/webhooks/stripe/{workspace_id}/{endpoint_id}` records the payment when Stripe says
//! it was made. The webhook has no signed-in user: it reads the secrets and records the event
//! through two SECURITY DEFINER functions scoped to the workspace and endpoint in its URL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Date, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{invoices, stripe};
use crate::{
    config::Config,
    db::{pool::Conn, schema::app::stripe_accounts as t},
    http::problem::{ApiError, ApiResult, FieldError, ProblemKind},
    outbound::{Fetcher, Policy},
    secrets::{KeyRing, Place},
};

/// How long the signing secret a new one replaces still verifies deliveries: Stripe signs with
/// both while a secret is rolled, for up to 24 hours.
pub const PREVIOUS_SECRET_HOURS: i64 = 24;
/// Stripe's tolerance for a signature's timestamp, which its own libraries use.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    api_key: Vec<u8>,
    api_key_hint: String,
    endpoint_id: Uuid,
    webhook_secret: Vec<u8>,
    previous_valid_until: Option<DateTime<Utc>>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The connection as shown: the secrets never come back.
#[derive(Serialize, ToSchema)]
pub struct StripeAccount {
    pub id: Uuid,
    pub workspace_id: Uuid,
    /// The key's kind and last four characters.
    #[schema(example = "rk_live_…4242")]
    pub api_key_hint: String,
    /// Where to point the Stripe webhook endpoint (events `checkout.session.completed` and
    /// `checkout.session.async_payment_succeeded`).
    #[schema(example = "https://minime.example/v1/webhooks/stripe/0193…/0193…")]
    pub webhook_url: String,
    /// Until when the signing secret before the current one still verifies deliveries.
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StripeAccountInput {
    /// A restricted key (`rk_…`, with write access to Checkout Sessions only) is best; a secret
    /// key (`sk_…`) works too.
    #[schema(example = "rk_test_51H…")]
    pub api_key: String,
    /// The webhook endpoint's signing secret, `whsec_…`.
    #[schema(example = "whsec_…")]
    pub webhook_secret: String,
}

/// Where the payer goes after paying or giving up.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutInput {
    #[schema(example = "https://ada.example/thanks")]
    pub success_url: String,
    #[schema(example = "https://ada.example/invoice")]
    pub cancel_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct Checkout {
    /// The Checkout Session, `cs_…`.
    pub id: String,
    /// Send the payer here.
    pub url: String,
    /// What the payer is asked for, in pence: the invoice's balance.
    pub amount_pence: i64,
}

fn place<'a>(column: &'a str, workspace: &'a str) -> Place<'a> {
    Place {
        table: "app.stripe_accounts",
        column,
        row: workspace,
    }
}

fn keys(config: &Config) -> ApiResult<&KeyRing> {
    config.secret_keys.as_deref().ok_or_else(|| {
        ApiError::new(
            ProblemKind::IntegrationNotConfigured,
            "this server keeps no secrets (MINIME_SECRET_KEYS is not set), so it cannot keep a Stripe key",
        )
    })
}

pub fn output(config: &Config, r: Row) -> StripeAccount {
    let webhook_url = config
        .app_url
        .join(&format!(
            "/v1/webhooks/stripe/{}/{}",
            r.workspace_id, r.endpoint_id
        ))
        .map(String::from)
        .unwrap_or_default();
    StripeAccount {
        id: r.id,
        workspace_id: r.workspace_id,
        api_key_hint: r.api_key_hint,
        webhook_url,
        previous_secret_valid_until: r.previous_valid_until,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn hint(key: &str) -> String {
    let kind: String = key.split('_').take(2).collect::<Vec<_>>().join("_");
    let last: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{kind}_…{last}")
}

fn check(i: &StripeAccountInput) -> ApiResult<()> {
    let mut errors = Vec::new();
    let visible =
        |s: &str| !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic());
    if !(i.api_key.starts_with("rk_") || i.api_key.starts_with("sk_")) || !visible(&i.api_key) {
        errors.push(FieldError {
            field: "api_key".into(),
            message: "must be a Stripe restricted key (rk_…) or secret key (sk_…)".into(),
        });
    }
    if !i.webhook_secret.starts_with("whsec_") || !visible(&i.webhook_secret) {
        errors.push(FieldError {
            field: "webhook_secret".into(),
            message: "must be the webhook endpoint's signing secret (whsec_…)".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

pub async fn find(conn: &mut Conn, workspace: Uuid) -> ApiResult<Option<Row>> {
    Ok(t::table
        .filter(t::workspace_id.eq(workspace))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Stores the key and secret (201 when new). A changed signing secret keeps the one it
/// replaces for [`PREVIOUS_SECRET_HOURS`].
pub async fn put(
    conn: &mut Conn,
    config: &Config,
    user: Uuid,
    at: DateTime<Utc>,
    workspace: Uuid,
    i: StripeAccountInput,
) -> ApiResult<(bool, Row)> {
    check(&i)?;
    let keys = keys(config)?;
    let ws = workspace.to_string();
    let api_key = keys.seal(place("api_key", &ws), i.api_key.as_bytes());
    let secret = keys.seal(place("webhook_secret", &ws), i.webhook_secret.as_bytes());
    let current = find(conn, workspace).await?;
    let Some(current) = current else {
        let row = diesel::insert_into(t::table)
            .values((
                t::id.eq(Uuid::now_v7()),
                t::workspace_id.eq(workspace),
                t::created_by.eq(user),
                t::api_key.eq(api_key),
                t::api_key_hint.eq(hint(&i.api_key)),
                t::endpoint_id.eq(Uuid::new_v4()),
                t::webhook_secret.eq(secret),
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?;
        return Ok((true, row));
    };
    let same_secret = keys
        .open(place("webhook_secret", &ws), &current.webhook_secret)
        .is_ok_and(|old| old == i.webhook_secret.as_bytes());
    let row = if same_secret {
        diesel::update(t::table.filter(t::workspace_id.eq(workspace)))
            .set((
                t::api_key.eq(api_key),
                t::api_key_hint.eq(hint(&i.api_key)),
                t::version.eq(t::version + 1),
                t::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?
    } else {
        diesel::update(t::table.filter(t::workspace_id.eq(workspace)))
            .set((
                t::api_key.eq(api_key),
                t::api_key_hint.eq(hint(&i.api_key)),
                t::previous_webhook_secret.eq(Some(current.webhook_secret)),
                t::previous_valid_until
                    .eq(Some(at + chrono::Duration::hours(PREVIOUS_SECRET_HOURS))),
                t::webhook_secret.eq(secret),
                t::version.eq(t::version + 1),
                t::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Row::as_returning())
            .get_result(conn)
            .await?
    };
    Ok((false, row))
}

pub async fn delete(conn: &mut Conn, workspace: Uuid) -> ApiResult<usize> {
    Ok(
        diesel::delete(t::table.filter(t::workspace_id.eq(workspace)))
            .execute(conn)
            .await?,
    )
}

/// What a Checkout Session is made from, read in the request's transaction.
pub struct CheckoutPlan {
    api_key: String,
    form: Vec<(String, String)>,
    idempotency_key: String,
    amount_pence: i64,
}

fn url_field(field: &str, raw: &str, allow_http: bool, errors: &mut Vec<FieldError>) {
    let ok = url::Url::parse(raw)
        .is_ok_and(|u| u.scheme() == "https" || (allow_http && u.scheme() == "http"))
        && raw.len() <= 2000;
    if !ok {
        errors.push(FieldError {
            field: field.into(),
            message: "must be an https URL".into(),
        });
    }
}

pub async fn plan_checkout(
    conn: &mut Conn,
    config: &Config,
    invoice_id: Uuid,
    i: CheckoutInput,
) -> ApiResult<CheckoutPlan> {
    let mut errors = Vec::new();
    url_field(
        "success_url",
        &i.success_url,
        config.outbound_allow_loopback,
        &mut errors,
    );
    url_field(
        "cancel_url",
        &i.cancel_url,
        config.outbound_allow_loopback,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let invoice = invoices::find(conn, invoice_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    invoices::must_be_open(&invoice)?;
    let balance = invoices::balance(&invoice);
    // Stripe's smallest charge in GBP is 30p.
    if balance < 30 {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "nothing (or less than Stripe's minimum of £0.30) is left to pay on this invoice",
        ));
    }
    let account = find(conn, invoice.workspace_id).await?.ok_or_else(|| {
        ApiError::new(
            ProblemKind::IntegrationNotConfigured,
            "this business has no Stripe account: PUT /v1/business/stripe first",
        )
    })?;
    let ws = invoice.workspace_id.to_string();
    let api_key = keys(config)?
        .open(place("api_key", &ws), &account.api_key)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("Stripe key: {e}")))?;
    let customer_email = invoice
        .customer
        .as_ref()
        .and_then(|c| c.get("email"))
        .and_then(|e| e.as_str())
        .map(str::to_owned);
    let form = stripe::checkout_session_form(&stripe::CheckoutInput {
        invoice_id: invoice.id.to_string(),
        workspace_id: ws,
        invoice_number: invoice.number.clone().unwrap_or_default(),
        amount_pence: balance,
        customer_email,
        success_url: i.success_url,
        cancel_url: i.cancel_url,
    });
    Ok(CheckoutPlan {
        api_key: String::from_utf8(api_key).map_err(ApiError::internal)?,
        form,
        // One Checkout Session per invoice and amount owed: a retry gets the same one back.
        idempotency_key: format!(
            "minime-checkout-{}-{}-{balance}",
            invoice.id, invoice.version
        ),
        amount_pence: balance,
    })
}

/// Stripe's answers are small; its address is the operator's, plain http only for tests.
fn fetcher(config: &Config) -> Fetcher {
    Fetcher::new(Policy {
        allow_http: config.outbound_allow_loopback,
        allow_loopback: config.outbound_allow_loopback,
        max_redirects: 0,
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(20),
        max_body_bytes: 256 * 1024,
    })
}

fn provider_error(detail: impl Into<String>) -> ApiError {
    ApiError::new(ProblemKind::IntegrationProvider, detail)
}

/// Creates the Checkout Session. Retried once on a network error or a 5xx: the
/// `Idempotency-Key` makes a retry return the session the first attempt may have made.
pub async fn create_checkout(config: &Config, plan: CheckoutPlan) -> ApiResult<Checkout> {
    let url = config
        .stripe_api_url
        .join("/v1/checkout/sessions")
        .map_err(ApiError::internal)?;
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {}", plan.api_key);
    headers.insert(
        reqwest::header::AUTHORIZATION,
        bearer
            .parse()
            .map_err(|_| provider_error("the stored Stripe key is not a valid header"))?,
    );
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    headers.insert(
        "Idempotency-Key",
        plan.idempotency_key.parse().map_err(ApiError::internal)?,
    );
    let body = stripe::form_body(&plan.form).into_bytes();
    let fetcher = fetcher(config);
    let mut last = String::new();
    for attempt in 0..2 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        match fetcher
            .post(url.as_str(), headers.clone(), body.clone())
            .await
        {
            Ok(answer) if answer.status.is_success() => {
                let created = stripe::parse_created_session(&answer.body)
                    .map_err(|e| provider_error(format!("Stripe's answer: {e}")))?;
                return Ok(Checkout {
                    id: created.id,
                    url: created.url,
                    amount_pence: plan.amount_pence,
                });
            }
            Ok(answer) => {
                let why = stripe::parse_error(&answer.body).unwrap_or_default();
                last = format!("Stripe answered {}: {why}", answer.status.as_u16());
                if !answer.status.is_server_error() && answer.status.as_u16() != 429 {
                    break;
                }
            }
            Err(e) => last = format!("Stripe could not be reached: {e}"),
        }
    }
    Err(provider_error(last))
}

/// The signing secrets that verify a delivery to this endpoint; empty when it is unknown.
pub async fn webhook_secrets(
    conn: &mut Conn,
    config: &Config,
    workspace: Uuid,
    endpoint: Uuid,
    at: DateTime<Utc>,
) -> ApiResult<Vec<Vec<u8>>> {
    #[derive(QueryableByName)]
    struct Secrets {
        #[diesel(sql_type = Bytea)]
        secret: Vec<u8>,
        #[diesel(sql_type = Nullable<Bytea>)]
        previous: Option<Vec<u8>>,
    }
    let rows: Vec<Secrets> =
        diesel::sql_query("SELECT secret, previous FROM ops.stripe_webhook_secrets($1, $2, $3)")
            .bind::<SqlUuid, _>(workspace)
            .bind::<SqlUuid, _>(endpoint)
            .bind::<Timestamptz, _>(at)
            .load(conn)
            .await?;
    let Some(keys) = config.secret_keys.as_deref() else {
        return Ok(Vec::new());
    };
    let ws = workspace.to_string();
    let mut out = Vec::new();
    for row in rows {
        for sealed in std::iter::once(row.secret).chain(row.previous) {
            let secret = keys
                .open(place("webhook_secret", &ws), &sealed)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("Stripe signing secret: {e}")))?;
            out.push(secret);
        }
    }
    Ok(out)
}

/// Records a verified event once; answers what became of it (`recorded`, `duplicate`, …).
pub async fn record(
    conn: &mut Conn,
    workspace: Uuid,
    endpoint: Uuid,
    event: &stripe::Event,
) -> ApiResult<String> {
    #[derive(QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = Text)]
        outcome: String,
    }
    let paid = stripe::payment_to_record(event).filter(|s| {
        s.currency
            .as_deref()
            .is_none_or(|c| c.eq_ignore_ascii_case("gbp"))
    });
    let invoice = paid
        .and_then(|s| s.client_reference_id.as_deref())
        .and_then(|id| id.parse::<Uuid>().ok());
    let amount = paid.and_then(|s| s.amount_total).filter(|a| *a > 0);
    let (invoice, amount) = match (invoice, amount) {
        (Some(i), Some(a)) => (Some(i), a),
        _ => (None, 0),
    };
    let paid_on = DateTime::from_timestamp(event.created, 0)
        .unwrap_or_else(Utc::now)
        .date_naive();
    let reference = paid
        .and_then(|s| s.payment_intent.clone())
        .or_else(|| paid.map(|s| s.id.clone()));
    let row: Outcome = diesel::sql_query(
        "SELECT ops.stripe_record_event($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) AS outcome",
    )
    .bind::<SqlUuid, _>(workspace)
    .bind::<SqlUuid, _>(endpoint)
    .bind::<Text, _>(&event.id)
    .bind::<Text, _>(&event.kind)
    .bind::<Nullable<SqlUuid>, _>(invoice)
    .bind::<BigInt, _>(amount)
    .bind::<Date, _>(paid_on)
    .bind::<Nullable<Text>, _>(reference)
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .get_result(conn)
    .await?;
    Ok(row.outcome)
}

/// Every sealed Stripe secret under the ring's sealing key; how many accounts were sealed anew.
pub async fn reseal_all(conn: &mut Conn, keys: &KeyRing) -> ApiResult<usize> {
    #[derive(QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = SqlUuid)]
        workspace_id: Uuid,
        #[diesel(sql_type = Bytea)]
        api_key: Vec<u8>,
        #[diesel(sql_type = Bytea)]
        webhook_secret: Vec<u8>,
        #[diesel(sql_type = Nullable<Bytea>)]
        previous_webhook_secret: Option<Vec<u8>>,
    }
    #[derive(QueryableByName)]
    struct Swapped {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        done: bool,
    }
    let all: Vec<Sealed> = diesel::sql_query(
        "SELECT workspace_id, api_key, webhook_secret, previous_webhook_secret FROM ops.stripe_secrets_sealed()",
    )
    .load(conn)
    .await?;
    let mut resealed = 0;
    for row in all {
        let ws = row.workspace_id.to_string();
        let again = |column: &str, sealed: &[u8]| -> ApiResult<Option<Vec<u8>>> {
            keys.reseal(place(column, &ws), sealed)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("Stripe secrets of {ws}: {e}")))
        };
        let api = again("api_key", &row.api_key)?;
        let secret = again("webhook_secret", &row.webhook_secret)?;
        let previous = match &row.previous_webhook_secret {
            Some(p) => again("webhook_secret", p)?,
            None => None,
        };
        if api.is_none() && secret.is_none() && previous.is_none() {
            continue;
        }
        let old = vec![
            Some(row.api_key.clone()),
            Some(row.webhook_secret.clone()),
            row.previous_webhook_secret.clone(),
        ];
        let new = vec![
            Some(api.unwrap_or(row.api_key)),
            Some(secret.unwrap_or(row.webhook_secret)),
            previous.or(row.previous_webhook_secret),
        ];
        let swapped: Swapped =
            diesel::sql_query("SELECT ops.stripe_secrets_reseal($1, $2, $3) AS done")
                .bind::<SqlUuid, _>(row.workspace_id)
                .bind::<diesel::sql_types::Array<Nullable<Bytea>>, _>(old)
                .bind::<diesel::sql_types::Array<Nullable<Bytea>>, _>(new)
                .get_result(conn)
                .await?;
        resealed += usize::from(swapped.done);
    }
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hints_show_the_kind_and_the_last_four() {
        assert_eq!(super::hint("rk_live_51Habcdef4242"), "rk_live_…4242");
        assert_eq!(super::hint("sk_test_x9z1"), "sk_test_…x9z1");
    }
}
