//! Business expenses (`/v1/expenses`): what was bought, from whom, for how much and with what
//! VAT, in the categories of HMRC's self-employment return, with the receipt as a stored file.
//! The VAT return and the profit and loss read them; the Flat Rate Scheme reads the two flags
//! (`capital_item`, `relevant_goods`).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{Ctx, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::expenses as t},
    files::model::{self as files, Purpose},
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
};

/// The expense categories of MTD for Income Tax's self-employment period summary (which are
/// SA103F's boxes 17–30 plus payments to subcontractors).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Cost of goods bought for resale or goods used (`costOfGoods`).
    CostOfGoods,
    /// Construction industry: payments to subcontractors (`paymentsToSubcontractors`).
    Subcontractors,
    /// Wages, salaries and other staff costs (`wagesAndStaffCosts`).
    Staff,
    /// Car, van and travel expenses (`carVanTravelExpenses`).
    Travel,
    /// Rent, rates, power and insurance (`premisesRunningCosts`).
    Premises,
    /// Repairs and maintenance of property and equipment (`maintenanceCosts`).
    Repairs,
    /// Phone, fax, stationery and other office costs (`adminCosts`).
    Admin,
    /// Advertising costs (`advertisingCosts`).
    Advertising,
    /// Business entertainment (`businessEntertainmentCosts`): never allowable.
    Entertainment,
    /// Interest on bank and other loans (`interestOnBankOtherLoans`).
    Interest,
    /// Bank, credit card and other financial charges (`financeCharges`).
    FinanceCharges,
    /// Irrecoverable debts written off (`irrecoverableDebts`).
    BadDebts,
    /// Accountancy, legal and other professional fees (`professionalFees`).
    ProfessionalFees,
    /// Depreciation and loss or profit on sale of assets (`depreciation`): never allowable
    /// (capital allowances are claimed instead).
    Depreciation,
    /// Other business expenses (`otherExpenses`).
    Other,
}

impl Category {
    pub const ALL: [Category; 15] = [
        Category::CostOfGoods,
        Category::Subcontractors,
        Category::Staff,
        Category::Travel,
        Category::Premises,
        Category::Repairs,
        Category::Admin,
        Category::Advertising,
        Category::Entertainment,
        Category::Interest,
        Category::FinanceCharges,
        Category::BadDebts,
        Category::ProfessionalFees,
        Category::Depreciation,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::CostOfGoods => "cost_of_goods",
            Category::Subcontractors => "subcontractors",
            Category::Staff => "staff",
            Category::Travel => "travel",
            Category::Premises => "premises",
            Category::Repairs => "repairs",
            Category::Admin => "admin",
            Category::Advertising => "advertising",
            Category::Entertainment => "entertainment",
            Category::Interest => "interest",
            Category::FinanceCharges => "finance_charges",
            Category::BadDebts => "bad_debts",
            Category::ProfessionalFees => "professional_fees",
            Category::Depreciation => "depreciation",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The field MTD for Income Tax names it by.
    pub fn mtd_field(self) -> &'static str {
        match self {
            Category::CostOfGoods => "costOfGoods",
            Category::Subcontractors => "paymentsToSubcontractors",
            Category::Staff => "wagesAndStaffCosts",
            Category::Travel => "carVanTravelExpenses",
            Category::Premises => "premisesRunningCosts",
            Category::Repairs => "maintenanceCosts",
            Category::Admin => "adminCosts",
            Category::Advertising => "advertisingCosts",
            Category::Entertainment => "businessEntertainmentCosts",
            Category::Interest => "interestOnBankOtherLoans",
            Category::FinanceCharges => "financeCharges",
            Category::BadDebts => "irrecoverableDebts",
            Category::ProfessionalFees => "professionalFees",
            Category::Depreciation => "depreciation",
            Category::Other => "otherExpenses",
        }
    }

    /// Whether the cost reduces taxable profit: entertainment and depreciation never do.
    pub fn allowable(self) -> bool {
        !matches!(self, Category::Entertainment | Category::Depreciation)
    }
}

/// How an expense was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    BankTransfer,
    Card,
    Cash,
    Cheque,
    DirectDebit,
    Other,
}

impl PaymentMethod {
    const ALL: [PaymentMethod; 6] = [
        PaymentMethod::BankTransfer,
        PaymentMethod::Card,
        PaymentMethod::Cash,
        PaymentMethod::Cheque,
        PaymentMethod::DirectDebit,
        PaymentMethod::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Card => "card",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Cheque => "cheque",
            PaymentMethod::DirectDebit => "direct_debit",
            PaymentMethod::Other => "other",
        }
    }

    fn parse(s: &str) -> PaymentMethod {
        PaymentMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .unwrap_or(PaymentMethod::Other)
    }
}

/// The largest amount on one expense: £1,000,000,000.
const MAX_PENCE: i64 = 100_000_000_000;

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub spent_on: NaiveDate,
    pub paid_on: Option<NaiveDate>,
    pub supplier: String,
    pub description: Option<String>,
    pub category: String,
    pub net_pence: i64,
    pub vat_pence: i64,
    pub vat_reclaimable: bool,
    pub payment_method: String,
    pub capital_item: bool,
    pub relevant_goods: bool,
    pub ni_eu_acquisition: bool,
    pub receipt_file_id: Option<Uuid>,
    pub notes: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Expense {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    /// The date of the purchase (the supplier's invoice or receipt date).
    #[schema(example = "2027-01-12")]
    pub spent_on: NaiveDate,
    /// When it was paid; cash accounting counts it then. None while unpaid.
    #[schema(example = "2027-01-12")]
    pub paid_on: Option<NaiveDate>,
    #[schema(example = "Screwfix")]
    pub supplier: String,
    #[schema(example = "Drill bits and fixings")]
    pub description: Option<String>,
    pub category: Category,
    /// The category's field in MTD for Income Tax.
    #[schema(example = "costOfGoods")]
    pub mtd_category: String,
    /// Whether the cost reduces taxable profit (entertainment and depreciation do not).
    pub allowable: bool,
    /// Net of VAT, in pence.
    #[schema(example = 4500)]
    pub net_pence: i64,
    /// VAT on the purchase, in pence.
    #[schema(example = 900)]
    pub vat_pence: i64,
    /// `net_pence + vat_pence`.
    #[schema(example = 5400)]
    pub total_pence: i64,
    /// Whether the VAT may be reclaimed on the VAT return (a VAT invoice is held, the business
    /// is registered, and the purchase is for the business).
    pub vat_reclaimable: bool,
    pub payment_method: PaymentMethod,
    /// A capital item (equipment kept for the business): on the Flat Rate Scheme its VAT is
    /// reclaimed when it costs £2,000 or more including VAT.
    pub capital_item: bool,
    /// Goods that count in the Flat Rate Scheme's limited cost trader test (not capital items,
    /// food or drink for staff, vehicles, fuel or parts; not services).
    pub relevant_goods: bool,
    /// Goods acquired from the EU into Northern Ireland (VAT return boxes 2 and 9).
    pub ni_eu_acquisition: bool,
    /// The receipt: a stored file (`/v1/files/{id}/content`).
    pub receipt_file_id: Option<Uuid>,
    pub notes: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseInput {
    pub workspace_id: Option<Uuid>,
    #[schema(example = "2027-01-12")]
    pub spent_on: NaiveDate,
    /// When it was paid. Card, cash and direct debit payments are paid when spent, so it
    /// defaults to `spent_on` for them; a bill paid by transfer or cheque is unpaid until set.
    #[schema(example = "2027-01-12")]
    pub paid_on: Option<NaiveDate>,
    #[schema(example = "Screwfix")]
    pub supplier: String,
    pub description: Option<String>,
    pub category: Category,
    #[schema(example = 4500, minimum = 0)]
    pub net_pence: i64,
    #[schema(example = 900, minimum = 0)]
    pub vat_pence: Option<i64>,
    pub vat_reclaimable: Option<bool>,
    pub payment_method: Option<PaymentMethod>,
    pub capital_item: Option<bool>,
    pub relevant_goods: Option<bool>,
    pub ni_eu_acquisition: Option<bool>,
    /// A file uploaded with `purpose=receipt` to the same workspace.
    pub receipt_file_id: Option<Uuid>,
    pub notes: Option<String>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    spent_on: NaiveDate,
    paid_on: Option<NaiveDate>,
    supplier: String,
    description: Option<String>,
    category: String,
    net_pence: i64,
    vat_pence: i64,
    vat_reclaimable: bool,
    payment_method: String,
    capital_item: bool,
    relevant_goods: bool,
    ni_eu_acquisition: bool,
    receipt_file_id: Option<Uuid>,
    notes: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpenseFilter {
    pub category: Option<Category>,
    /// Spent on or after this date.
    pub from: Option<NaiveDate>,
    /// Spent on or before this date.
    pub to: Option<NaiveDate>,
}

pub struct Expenses;

impl Resource for Expenses {
    const TABLE: &'static str = "app.expenses";
    type Row = Row;
    type Out = Expense;
    type Input = ExpenseInput;
    type Values = Values;
    type Filter = ExpenseFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Expense {
        let category = Category::parse(&r.category).unwrap_or(Category::Other);
        Expense {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            spent_on: r.spent_on,
            paid_on: r.paid_on,
            supplier: r.supplier,
            description: r.description,
            category,
            mtd_category: category.mtd_field().into(),
            allowable: category.allowable(),
            net_pence: r.net_pence,
            vat_pence: r.vat_pence,
            total_pence: r.net_pence + r.vat_pence,
            vat_reclaimable: r.vat_reclaimable,
            payment_method: PaymentMethod::parse(&r.payment_method),
            capital_item: r.capital_item,
            relevant_goods: r.relevant_goods,
            ni_eu_acquisition: r.ni_eu_acquisition,
            receipt_file_id: r.receipt_file_id,
            notes: r.notes,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> ExpenseInput {
        ExpenseInput {
            workspace_id: Some(r.workspace_id),
            spent_on: r.spent_on,
            paid_on: r.paid_on,
            supplier: r.supplier.clone(),
            description: r.description.clone(),
            category: Category::parse(&r.category).unwrap_or(Category::Other),
            net_pence: r.net_pence,
            vat_pence: Some(r.vat_pence),
            vat_reclaimable: Some(r.vat_reclaimable),
            payment_method: Some(PaymentMethod::parse(&r.payment_method)),
            capital_item: Some(r.capital_item),
            relevant_goods: Some(r.relevant_goods),
            ni_eu_acquisition: Some(r.ni_eu_acquisition),
            receipt_file_id: r.receipt_file_id,
            notes: r.notes.clone(),
        }
    }

    fn input_workspace(input: &ExpenseInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        current: Option<&Row>,
        i: ExpenseInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let workspace = current.map_or(ctx.workspace_id, |c| c.workspace_id);
        let method = i.payment_method.unwrap_or(PaymentMethod::Card);
        let paid_on = i.paid_on.or_else(|| {
            matches!(
                method,
                PaymentMethod::Card | PaymentMethod::Cash | PaymentMethod::DirectDebit
            )
            .then_some(i.spent_on)
        });
        let vat = i.vat_pence.unwrap_or(0);
        for (field, value) in [("net_pence", i.net_pence), ("vat_pence", vat)] {
            fields::range(field, Some(value), 0, MAX_PENCE, &mut errors);
        }
        if vat > i.net_pence && i.net_pence > 0 {
            errors.push(FieldError {
                field: "vat_pence".into(),
                message: "VAT cannot exceed the net amount (20 % is the highest UK rate)".into(),
            });
        }
        if i.vat_reclaimable == Some(true) && vat == 0 {
            errors.push(FieldError {
                field: "vat_reclaimable".into(),
                message: "there is no VAT to reclaim".into(),
            });
        }
        if let Some(file) = i.receipt_file_id {
            if files::find_for(conn, workspace, file, Purpose::Receipt)
                .await?
                .is_none()
            {
                errors.push(FieldError {
                    field: "receipt_file_id".into(),
                    message: "no receipt file with this id in the expense's workspace".into(),
                });
            }
        }
        let values = Values {
            spent_on: i.spent_on,
            paid_on,
            supplier: fields::title("supplier", &i.supplier, 200, &mut errors),
            description: fields::text("description", i.description, 1000, &mut errors),
            category: i.category.as_str().into(),
            net_pence: i.net_pence,
            vat_pence: vat,
            vat_reclaimable: match i.vat_reclaimable {
                Some(given) => given,
                // Only a VAT-registered business reclaims VAT; for others it is part of the cost.
                None => vat > 0 && vat_registered(conn, workspace).await?,
            },
            payment_method: method.as_str().into(),
            capital_item: i.capital_item.unwrap_or(false),
            relevant_goods: i.relevant_goods.unwrap_or(false),
            ni_eu_acquisition: i.ni_eu_acquisition.unwrap_or(false),
            receipt_file_id: i.receipt_file_id,
            notes: fields::text("notes", i.notes, 5000, &mut errors),
        };
        if values.capital_item && values.relevant_goods {
            errors.push(FieldError {
                field: "relevant_goods".into(),
                message: "a capital item is never relevant goods for the limited cost test".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(values)
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<ExpenseFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(category) = q.filter.category {
            query = query.filter(t::category.eq(category.as_str()));
        }
        if let Some(from) = q.filter.from {
            query = query.filter(t::spent_on.ge(from));
        }
        if let Some(to) = q.filter.to {
            query = query.filter(t::spent_on.le(to));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

/// Every expense of `workspace` spent or paid between `from` and `to`, for the VAT return and
/// the profit and loss.
pub async fn in_period(
    conn: &mut Conn,
    workspace: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<Row>> {
    Ok(t::table
        .filter(t::workspace_id.eq(workspace))
        .filter(
            t::spent_on
                .between(from, to)
                .or(t::paid_on.between(from, to)),
        )
        .order((t::spent_on, t::id))
        .select(Row::as_select())
        .load(conn)
        .await?)
}

async fn vat_registered(conn: &mut Conn, workspace: Uuid) -> ApiResult<bool> {
    use crate::db::schema::app::business_profiles::dsl as bp;
    let registered = bp::business_profiles
        .filter(bp::workspace_id.eq(workspace))
        .select(bp::vat_registered)
        .first::<bool>(conn)
        .await
        .optional()?;
    Ok(registered.unwrap_or(false))
}
