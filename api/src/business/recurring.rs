//! Recurring invoices (`/v1/recurring-invoices`): lines, a client and an RRULE; on each
//! occurrence the job queue makes the invoice (a draft, issued, or issued and mailed). An
//! occurrence is invoiced once: the job locks its schedule, checks the occurrence is still the
//! next one, and records a run whose (schedule, occurrence) is unique, in the same transaction
//! as the invoice. A job delivered twice, or planted twice, finds the run and does nothing.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    documents,
    invoices::{self, InvoiceInput, IssueInput},
    lines::{self, DocumentLine, LineInput},
    mailing::{self, SendInput},
    profile,
};
use crate::{
    common::{
        fields,
        jobs::{
            queue::{enqueue, NewJob},
            worker::{JobContext, Registry},
        },
        resource::ListQuery,
        zone,
    },
    config::Config,
    db::{
        pool::Conn,
        schema::app::{recurring_invoice_runs as runs, recurring_invoices as t},
    },
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
    recurrence::{self, Series},
    secrets::KeyRing,
};

pub const RUN: &str = "invoices.recurring";
pub const ACTIONS: &[&str] = &["draft", "issue", "issue_and_send"];
/// The local time an occurrence is invoiced at.
const AT: (u32, u32) = (6, 0);

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    client_id: Uuid,
    lines: serde_json::Value,
    rrule: String,
    start_date: NaiveDate,
    next_date: Option<NaiveDate>,
    action: String,
    payment_terms_days: Option<i32>,
    notes: Option<String>,
    active: bool,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct RecurringInvoice {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub client_id: Uuid,
    pub lines: Vec<DocumentLine>,
    #[schema(example = "FREQ=MONTHLY;BYMONTHDAY=1")]
    pub rrule: String,
    pub start_date: NaiveDate,
    /// The next occurrence to invoice; none once the rule has ended.
    pub next_date: Option<NaiveDate>,
    /// `draft`, `issue` or `issue_and_send`.
    #[schema(example = "issue_and_send")]
    pub action: String,
    pub payment_terms_days: Option<i32>,
    pub notes: Option<String>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecurringInvoiceInput {
    pub workspace_id: Option<Uuid>,
    pub client_id: Uuid,
    pub lines: Vec<LineInput>,
    /// An RFC 5545 RRULE, e.g. `FREQ=MONTHLY;BYMONTHDAY=1`.
    #[schema(example = "FREQ=MONTHLY;BYMONTHDAY=1")]
    pub rrule: String,
    /// The first day the rule may fall on; not in the past.
    pub start_date: NaiveDate,
    #[schema(example = "issue_and_send")]
    pub action: Option<String>,
    #[schema(example = 14, minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    pub notes: Option<String>,
    pub active: Option<bool>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    client_id: Uuid,
    lines: serde_json::Value,
    rrule: String,
    start_date: NaiveDate,
    next_date: Option<NaiveDate>,
    action: String,
    payment_terms_days: Option<i32>,
    notes: Option<String>,
    active: bool,
}

pub fn output(r: Row) -> RecurringInvoice {
    RecurringInvoice {
        lines: lines::lines_of(&r.lines),
        id: r.id,
        workspace_id: r.workspace_id,
        created_by: r.created_by,
        client_id: r.client_id,
        rrule: r.rrule,
        start_date: r.start_date,
        next_date: r.next_date,
        action: r.action,
        payment_terms_days: r.payment_terms_days,
        notes: r.notes,
        active: r.active,
        version: r.version,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub fn input(r: &Row) -> RecurringInvoiceInput {
    RecurringInvoiceInput {
        workspace_id: Some(r.workspace_id),
        client_id: r.client_id,
        lines: lines::lines_of(&r.lines)
            .iter()
            .map(LineInput::from)
            .collect(),
        rrule: r.rrule.clone(),
        start_date: r.start_date,
        action: Some(r.action.clone()),
        payment_terms_days: r.payment_terms_days,
        notes: r.notes.clone(),
        active: Some(r.active),
    }
}

fn series(rule: &str, start: NaiveDate) -> Series<'_> {
    Series {
        rule,
        start,
        time: None,
        zone: chrono_tz::UTC,
    }
}

/// The first occurrence on or after `from`.
fn first_from(rule: &str, start: NaiveDate, from: NaiveDate) -> Option<NaiveDate> {
    series(rule, start)
        .occurrences(from.max(start), 1, &[])
        .ok()
        .and_then(|o| o.into_iter().next().map(|o| o.date))
}

/// Checks every field against the workspace's profile and client; `today` bounds the start.
pub async fn validate(
    conn: &mut Conn,
    keys: Option<&KeyRing>,
    workspace: Uuid,
    today: NaiveDate,
    current: Option<&Row>,
    i: RecurringInvoiceInput,
) -> ApiResult<Values> {
    // The lines and client as an invoice would have them: the same checks.
    invoices::validate(
        conn,
        keys,
        workspace,
        InvoiceInput {
            workspace_id: None,
            client_id: i.client_id,
            job_id: None,
            form: None,
            supply_date: None,
            payment_terms_days: i.payment_terms_days,
            lines: i.lines.clone(),
            notes: i.notes.clone(),
        },
    )
    .await?;
    let mut errors = Vec::new();
    if i.lines.is_empty() {
        errors.push(FieldError {
            field: "lines".into(),
            message: "a recurring invoice needs at least one line".into(),
        });
    }
    if let Err(why) = recurrence::validate(&i.rrule) {
        errors.push(FieldError {
            field: "rrule".into(),
            message: why,
        });
    }
    let unchanged_start = current.is_some_and(|c| c.start_date == i.start_date);
    if i.start_date < today && !unchanged_start {
        errors.push(FieldError {
            field: "start_date".into(),
            message: "must not be in the past".into(),
        });
    }
    let action = fields::one_of("action", i.action, ACTIONS, "draft", &mut errors);
    let notes = fields::text("notes", i.notes, 5000, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let issuer = profile::issuer(conn, keys, workspace)
        .await?
        .ok_or_else(invoices::profile_required)?;
    let mut price_errors = Vec::new();
    let (lines, _) = lines::price(&i.lines, issuer.vat_registered, &mut price_errors)?;
    Ok(Values {
        client_id: i.client_id,
        lines: serde_json::to_value(&lines).map_err(ApiError::internal)?,
        next_date: first_from(&i.rrule, i.start_date, today),
        rrule: i.rrule.trim().to_owned(),
        start_date: i.start_date,
        action,
        payment_terms_days: i.payment_terms_days,
        notes,
        active: i.active.unwrap_or(true),
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecurringFilter {
    pub client_id: Option<Uuid>,
}

pub fn cursor(r: &Row) -> crate::http::pagination::Cursor {
    crate::http::pagination::Cursor {
        created_at: r.created_at,
        id: r.id,
    }
}

pub fn version(r: &Row) -> i32 {
    r.version
}

pub fn workspace(r: &Row) -> Uuid {
    r.workspace_id
}

pub async fn list(conn: &mut Conn, q: ListQuery<RecurringFilter>) -> ApiResult<Vec<Row>> {
    let mut query = t::table.select(Row::as_select()).into_boxed();
    if let Some(client) = q.filter.client_id {
        query = query.filter(t::client_id.eq(client));
    }
    Ok(keyset!(query, t, q).load(conn).await?)
}

pub async fn insert(
    conn: &mut Conn,
    workspace: Uuid,
    user: Uuid,
    values: Values,
) -> ApiResult<Row> {
    let row: Row = diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
            t::workspace_id.eq(workspace),
            t::created_by.eq(user),
            values,
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    plant(conn, &row).await?;
    Ok(row)
}

pub async fn update(conn: &mut Conn, id: Uuid, values: Values) -> ApiResult<Row> {
    let row: Row = diesel::update(t::table.find(id))
        .set((
            values,
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    plant(conn, &row).await?;
    Ok(row)
}

pub async fn delete(conn: &mut Conn, row: &Row) -> ApiResult<()> {
    diesel::delete(
        t::table
            .filter(t::workspace_id.eq(row.workspace_id))
            .filter(t::id.eq(row.id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues the job for the schedule's next occurrence (once per occurrence, however often
/// asked), at [`AT`] in its creator's time zone.
async fn plant(conn: &mut Conn, row: &Row) -> ApiResult<()> {
    let Some(date) = row.next_date.filter(|_| row.active) else {
        return Ok(());
    };
    let zone = zone::user_zone(conn, row.created_by).await?;
    let at = NaiveTime::from_hms_opt(AT.0, AT.1, 0).unwrap_or_default();
    let mut job = NewJob::new(RUN, recurrence::place(date, at, zone));
    job.user_id = Some(row.created_by);
    job.payload = serde_json::json!({"id": row.id, "date": date});
    job.unique_key = Some(format!("{RUN}:{}:{date}", row.id));
    enqueue(conn, job).await?;
    Ok(())
}

/// Adds the handler of [`RUN`].
pub fn register(registry: Registry, config: &Config) -> Registry {
    let keys = config.secret_keys.clone();
    registry.add(RUN, move |ctx| {
        let keys = keys.clone();
        async move { run(ctx, keys.as_deref()).await }
    })
}

#[derive(Deserialize)]
struct Payload {
    id: Uuid,
    date: NaiveDate,
}

/// Invoices one occurrence, in one transaction with its run row and the next job.
async fn run(ctx: JobContext, keys: Option<&KeyRing>) -> anyhow::Result<()> {
    let payload: Payload = serde_json::from_value(ctx.job.payload.clone())?;
    let user = ctx
        .job
        .user_id
        .ok_or_else(|| anyhow::anyhow!("{RUN} needs the user as the job's user"))?;
    let at = ctx.clock.now();
    ctx.tx(move |conn| {
        async move {
            let Some(row) = find(conn, payload.id).await? else {
                return Ok(()); // deleted since
            };
            let row = lock(conn, row.id).await?;
            if !row.active || row.next_date != Some(payload.date) {
                return Ok(()); // paused, changed or done since this job was planted
            }
            let invoice_id = Uuid::now_v7();
            let values = invoices::validate(
                conn,
                keys,
                row.workspace_id,
                InvoiceInput {
                    workspace_id: None,
                    client_id: row.client_id,
                    job_id: None,
                    form: None,
                    supply_date: Some(payload.date),
                    payment_terms_days: row.payment_terms_days,
                    lines: lines::lines_of(&row.lines)
                        .iter()
                        .map(LineInput::from)
                        .collect(),
                    notes: row.notes.clone(),
                },
            )
            .await?;
            let invoice =
                invoices::insert(conn, invoice_id, row.workspace_id, user, values).await?;
            let recorded = diesel::insert_into(runs::table)
                .values((
                    runs::id.eq(Uuid::now_v7()),
                    runs::workspace_id.eq(row.workspace_id),
                    runs::created_by.eq(user),
                    runs::recurring_id.eq(row.id),
                    runs::occurrence.eq(payload.date),
                    runs::invoice_id.eq(invoice.id),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            if recorded == 0 {
                // Unreachable while the schedule's lock is held and `next_date` moves on in
                // this transaction; kept as the database's guarantee. The rollback takes the
                // invoice just made with it.
                return Err(ApiError::internal(anyhow::anyhow!(
                    "occurrence {} of {} was invoiced already",
                    payload.date,
                    row.id
                )));
            }
            if row.action != "draft" {
                let locked = invoices::lock(conn, invoice.id).await?;
                let today = payload.date.max(at.date_naive());
                let issued = invoices::issue(
                    conn,
                    keys,
                    at,
                    today,
                    locked,
                    IssueInput {
                        invoice_date: Some(payload.date.min(today)),
                        due_date: None,
                    },
                )
                .await?;
                documents::keep_invoice(conn, keys, user, &issued).await?;
                if row.action == "issue_and_send" {
                    mailing::send_invoice(conn, keys, user, invoice.id, SendInput::default())
                        .await?;
                }
            }
            let next = series(&row.rrule, row.start_date)
                .next_after(payload.date, &[])
                .ok()
                .flatten()
                .map(|o| o.date);
            let moved: Row = diesel::update(t::table.find(row.id))
                .set((t::next_date.eq(next), t::updated_at.eq(diesel::dsl::now)))
                .returning(Row::as_returning())
                .get_result(conn)
                .await?;
            plant(conn, &moved).await
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| anyhow::anyhow!("recurring invoice {}: {e}", payload.id))
}
