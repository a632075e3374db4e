//! How the business accounts for VAT (`/v1/business/vat-settings`) and its VAT return for a
//! period (`/v1/business/vat-return`), computed from the issued documents and expenses by
//! [`super::vat_return`], with the MTD submission body ready for a future HMRC connection.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    flat_rate::{self, FlatRateSector},
    ledger,
    vat_return::{self, Basis, Period, Scheme, VatReturn, VatReturnError},
};
use crate::{
    db::{pool::Conn, schema::app::vat_settings as t},
    http::problem::{ApiError, ApiResult, FieldError},
};

/// The VAT scheme a business uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SchemeKind {
    Standard,
    FlatRate,
}

#[derive(Serialize, ToSchema)]
pub struct VatSettings {
    pub workspace_id: Uuid,
    pub scheme: SchemeKind,
    /// `accrual` (by tax point: the default) or `cash` (the cash accounting scheme; on the
    /// Flat Rate Scheme, its cash-based turnover).
    pub basis: Basis,
    /// On the Flat Rate Scheme: the sector (`GET /v1/business/flat-rate-sectors`).
    #[schema(example = "computer_and_it_consultancy")]
    pub flat_rate_sector: Option<String>,
    /// On the Flat Rate Scheme: a percentage HMRC confirmed, in basis points, instead of a
    /// sector.
    pub flat_rate_bp: Option<i32>,
    /// The effective date of VAT registration (the Flat Rate Scheme's 1 % first-year discount
    /// runs from it).
    pub registered_on: Option<NaiveDate>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VatSettingsInput {
    pub workspace_id: Option<Uuid>,
    pub scheme: SchemeKind,
    pub basis: Option<Basis>,
    pub flat_rate_sector: Option<String>,
    #[schema(minimum = 0, maximum = 10000)]
    pub flat_rate_bp: Option<i32>,
    pub registered_on: Option<NaiveDate>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    workspace_id: Uuid,
    scheme: String,
    basis: String,
    flat_rate_sector: Option<String>,
    flat_rate_bp: Option<i32>,
    registered_on: Option<NaiveDate>,
    version: i32,
    updated_at: DateTime<Utc>,
}

fn basis_of(s: &str) -> Basis {
    if s == "cash" {
        Basis::Cash
    } else {
        Basis::Accrual
    }
}

fn basis_name(b: Basis) -> &'static str {
    match b {
        Basis::Accrual => "accrual",
        Basis::Cash => "cash",
    }
}

fn output(r: Row) -> VatSettings {
    VatSettings {
        workspace_id: r.workspace_id,
        scheme: if r.scheme == "flat_rate" {
            SchemeKind::FlatRate
        } else {
            SchemeKind::Standard
        },
        basis: basis_of(&r.basis),
        flat_rate_sector: r.flat_rate_sector,
        flat_rate_bp: r.flat_rate_bp,
        registered_on: r.registered_on,
        version: r.version,
        updated_at: r.updated_at,
    }
}

/// The settings of `workspace`; a business that saved none is on the standard scheme, accrual.
pub async fn get(conn: &mut Conn, workspace: Uuid) -> ApiResult<VatSettings> {
    let row: Option<Row> = t::table
        .filter(t::workspace_id.eq(workspace))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(output).unwrap_or(VatSettings {
        workspace_id: workspace,
        scheme: SchemeKind::Standard,
        basis: Basis::Accrual,
        flat_rate_sector: None,
        flat_rate_bp: None,
        registered_on: None,
        version: 0,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    }))
}

/// Checks and saves the settings of `workspace`, replacing any before them.
pub async fn put(
    conn: &mut Conn,
    user: Uuid,
    workspace: Uuid,
    i: VatSettingsInput,
) -> ApiResult<VatSettings> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        })
    };
    let flat = i.scheme == SchemeKind::FlatRate;
    if flat {
        if i.registered_on.is_none() {
            error(
                "registered_on",
                "the Flat Rate Scheme needs the VAT registration date",
            );
        }
        match (&i.flat_rate_sector, i.flat_rate_bp) {
            (Some(_), Some(_)) | (None, None) => error(
                "flat_rate_sector",
                "give either a sector or a percentage in basis points",
            ),
            (Some(id), None) if flat_rate::sector(id).is_none() => {
                error("flat_rate_sector", "not a sector of HMRC's flat rate table")
            }
            (None, Some(bp)) if !(0..=10_000).contains(&bp) => {
                error("flat_rate_bp", "between 0 and 10,000 basis points")
            }
            _ => {}
        }
    } else if i.flat_rate_sector.is_some() || i.flat_rate_bp.is_some() {
        error(
            "scheme",
            "a flat rate sector or percentage belongs to the Flat Rate Scheme",
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let scheme = if flat { "flat_rate" } else { "standard" };
    let basis = basis_name(i.basis.unwrap_or(Basis::Accrual));
    let row = diesel::insert_into(t::table)
        .values((
            t::id.eq(Uuid::now_v7()),
            t::workspace_id.eq(workspace),
            t::created_by.eq(user),
            t::scheme.eq(scheme),
            t::basis.eq(basis),
            t::flat_rate_sector.eq(&i.flat_rate_sector),
            t::flat_rate_bp.eq(i.flat_rate_bp),
            t::registered_on.eq(i.registered_on),
        ))
        .on_conflict(t::workspace_id)
        .do_update()
        .set((
            t::scheme.eq(scheme),
            t::basis.eq(basis),
            t::flat_rate_sector.eq(&i.flat_rate_sector),
            t::flat_rate_bp.eq(i.flat_rate_bp),
            t::registered_on.eq(i.registered_on),
            t::version.eq(t::version + 1),
            t::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Row::as_returning())
        .get_result(conn)
        .await?;
    Ok(output(row))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VatReturnParams {
    pub workspace_id: Option<Uuid>,
    /// The period's first day.
    #[param(example = "2027-01-01")]
    pub start: NaiveDate,
    /// The period's last day (inclusive).
    #[param(example = "2027-03-31")]
    pub end: NaiveDate,
    /// HMRC's key for the period (from its obligations list); `start`'s year and quarter
    /// (`27A1`-style keys are HMRC's own) by default.
    pub period_key: Option<String>,
    /// The declaration that the return is complete; false (a draft) by default.
    pub finalised: Option<bool>,
    /// Overrides the saved basis for this computation.
    pub basis: Option<Basis>,
}

/// The return for the asked period under the business's saved scheme.
pub async fn compute(conn: &mut Conn, workspace: Uuid, p: VatReturnParams) -> ApiResult<VatReturn> {
    if p.end < p.start {
        return Err(ApiError::field("end", "the period ends before it starts"));
    }
    if (p.end - p.start).num_days() > 366 {
        return Err(ApiError::field("end", "a VAT period is at most a year"));
    }
    let settings = get(conn, workspace).await?;
    let basis = p.basis.unwrap_or(settings.basis);
    let scheme = match settings.scheme {
        SchemeKind::Standard => Scheme::Standard { basis },
        SchemeKind::FlatRate => Scheme::FlatRate {
            sector: match (settings.flat_rate_sector, settings.flat_rate_bp) {
                (Some(id), _) => FlatRateSector::Sector { id },
                (None, bp) => FlatRateSector::BasisPoints {
                    basis_points: i64::from(bp.unwrap_or(0)),
                },
            },
            registered_on: settings.registered_on.unwrap_or(p.start),
            basis,
        },
    };
    let period_key = p
        .period_key
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|| default_key(p.start));
    if period_key.is_empty() || period_key.len() > 4 {
        return Err(ApiError::field(
            "period_key",
            "HMRC's period keys are 1 to 4 characters (such as 27A1)",
        ));
    }
    let period = Period {
        start: p.start,
        end: p.end,
        period_key,
        finalised: p.finalised.unwrap_or(false),
    };
    let sales: Vec<_> = ledger::sales(conn, workspace, p.start, p.end)
        .await?
        .into_iter()
        .filter(|s| s.vat_registered)
        .map(|s| s.sale)
        .collect();
    let purchases: Vec<_> = ledger::expenses(conn, workspace, p.start, p.end)
        .await?
        .into_iter()
        .map(|e| e.purchase)
        .collect();
    vat_return::vat_return(&period, &scheme, &sales, &purchases).map_err(|e| match e {
        VatReturnError::PeriodEndsBeforeStart => ApiError::field("end", e.to_string()),
        VatReturnError::UnknownSector { .. } | VatReturnError::FlatRateOutOfRange => {
            ApiError::field("flat_rate_sector", e.to_string())
        }
        // Amounts are bounded one by one when written, so a period's sum can still outgrow a
        // return's boxes: the caller chose that period.
        VatReturnError::TooLarge { .. } => ApiError::field("end", e.to_string()),
        // Stored documents are checked when written: a mismatch here is ours, not the caller's.
        other => ApiError::internal(anyhow::anyhow!("vat return: {other}")),
    })
}

/// `YYQn`-style key from the period's start (`27C1` is the HMRC pattern; ours is only a
/// placeholder until the obligations list is read from HMRC).
fn default_key(start: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:02}A{}", start.year() % 100, start.month0() / 3 + 1)
}
