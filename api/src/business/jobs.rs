use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{Ctx, ListQuery, Meta, Resource},
    },
    db::{
        pool::Conn,
        schema::app::{business_jobs as t, clients},
    },
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
};

pub const FEE_KINDS: &[&str] = &["fixed", "hourly", "daily"];
pub const STATUSES: &[&str] = &["planned", "in_progress", "done", "invoiced", "cancelled"];

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    client_id: Uuid,
    title: String,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    fee_kind: String,
    quantity: Decimal,
    rate_pence: i64,
    agency_commission_bp: Option<i32>,
    status: String,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct BusinessJob {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub client_id: Uuid,
    #[schema(example = "Kitchen fit-out")]
    pub title: String,
    #[schema(example = "2027-01-04")]
    pub start_date: Option<NaiveDate>,
    #[schema(example = "2027-01-08")]
    pub end_date: Option<NaiveDate>,
    /// `fixed`, `hourly` or `daily`.
    #[schema(example = "daily")]
    pub fee_kind: String,
    /// Units of the fee (days, hours, or 1 for a fixed fee), up to 4 decimal places.
    #[schema(value_type = String, example = "4.5")]
    pub quantity: Decimal,
    /// The rate per unit, in pence.
    #[schema(example = 25000)]
    pub rate_pence: i64,
    /// Agency commission on this job in basis points; none means the profile's default.
    #[schema(example = 1250)]
    pub agency_commission_bp: Option<i32>,
    /// `planned`, `in_progress`, `done`, `invoiced` or `cancelled`.
    #[schema(example = "planned")]
    pub status: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessJobInput {
    pub workspace_id: Option<Uuid>,
    /// A client of the same workspace.
    pub client_id: Uuid,
    #[schema(example = "Kitchen fit-out")]
    pub title: String,
    #[schema(example = "2027-01-04")]
    pub start_date: Option<NaiveDate>,
    #[schema(example = "2027-01-08")]
    pub end_date: Option<NaiveDate>,
    #[schema(example = "daily")]
    pub fee_kind: Option<String>,
    /// A decimal of at most 4 places, 0 to 99,999,999.9999 (default 1); a string keeps it exact.
    #[schema(value_type = Option<String>, example = "4.5")]
    pub quantity: Option<Decimal>,
    #[schema(example = 25000, minimum = 0)]
    pub rate_pence: i64,
    #[schema(example = 1250, minimum = 0, maximum = 10000)]
    pub agency_commission_bp: Option<i32>,
    #[schema(example = "planned")]
    pub status: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    client_id: Uuid,
    title: String,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    fee_kind: String,
    quantity: Decimal,
    rate_pence: i64,
    agency_commission_bp: Option<i32>,
    status: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BusinessJobFilter {
    pub client_id: Option<Uuid>,
    pub status: Option<String>,
}

pub struct BusinessJobs;

impl Resource for BusinessJobs {
    const TABLE: &'static str = "app.business_jobs";
    type Row = Row;
    type Out = BusinessJob;
    type Input = BusinessJobInput;
    type Values = Values;
    type Filter = BusinessJobFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> BusinessJob {
        BusinessJob {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            client_id: r.client_id,
            title: r.title,
            start_date: r.start_date,
            end_date: r.end_date,
            fee_kind: r.fee_kind,
            quantity: r.quantity.normalize(),
            rate_pence: r.rate_pence,
            agency_commission_bp: r.agency_commission_bp,
            status: r.status,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> BusinessJobInput {
        BusinessJobInput {
            workspace_id: Some(r.workspace_id),
            client_id: r.client_id,
            title: r.title.clone(),
            start_date: r.start_date,
            end_date: r.end_date,
            fee_kind: Some(r.fee_kind.clone()),
            quantity: Some(r.quantity),
            rate_pence: r.rate_pence,
            agency_commission_bp: r.agency_commission_bp,
            status: Some(r.status.clone()),
        }
    }

    fn input_workspace(input: &BusinessJobInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        i: BusinessJobInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let mut error = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        let quantity = i.quantity.unwrap_or(Decimal::ONE);
        // The most `numeric(12, 4)` holds.
        if quantity.is_sign_negative()
            || quantity > Decimal::new(999_999_999_999, 4)
            || quantity.normalize().scale() > 4
        {
            error(
                "quantity",
                "must be 0 to 99999999.9999, with at most 4 decimal places",
            );
        }
        if i.rate_pence < 0 {
            error("rate_pence", "must not be negative");
        }
        if i.start_date.zip(i.end_date).is_some_and(|(s, e)| e < s) {
            error("end_date", "must not be before start_date");
        }
        let client: i64 = clients::table
            .filter(clients::workspace_id.eq(ctx.workspace_id))
            .filter(clients::id.eq(i.client_id))
            .count()
            .get_result(conn)
            .await?;
        if client == 0 {
            error("client_id", "does not name a client in the same workspace");
        }
        fields::range(
            "agency_commission_bp",
            i.agency_commission_bp.map(i64::from),
            0,
            10_000,
            &mut errors,
        );
        let values = Values {
            client_id: i.client_id,
            title: fields::title("title", &i.title, 200, &mut errors),
            start_date: i.start_date,
            end_date: i.end_date,
            fee_kind: fields::one_of("fee_kind", i.fee_kind, FEE_KINDS, "fixed", &mut errors),
            quantity,
            rate_pence: i.rate_pence,
            agency_commission_bp: i.agency_commission_bp,
            status: fields::one_of("status", i.status, STATUSES, "planned", &mut errors),
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(values)
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<BusinessJobFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(client) = q.filter.client_id {
            query = query.filter(t::client_id.eq(client));
        }
        if let Some(status) = q.filter.status.clone() {
            query = query.filter(t::status.eq(status));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

/// What an invoice made from a job takes from it.
pub struct Billable {
    pub client_id: Uuid,
    pub title: String,
    /// Exact, as stored (at most 4 places).
    pub quantity: Decimal,
    pub rate_pence: i64,
    pub end_date: Option<NaiveDate>,
}

/// The job `id` of `workspace`, for an invoice; `None` when there is none.
pub async fn billable(conn: &mut Conn, workspace: Uuid, id: Uuid) -> ApiResult<Option<Billable>> {
    let row: Option<Row> = t::table
        .filter(t::workspace_id.eq(workspace))
        .filter(t::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|r| Billable {
        client_id: r.client_id,
        title: r.title,
        quantity: r.quantity,
        rate_pence: r.rate_pence,
        end_date: r.end_date,
    }))
}
