//! Profit and loss by month (`/v1/business/profit-and-loss`) and the quarterly update MTD for
//! Income Tax asks of a self-employed business (`/v1/business/income-tax-update`), from the same
//! ledger the VAT return reads.
//!
//! The cash basis is the default, as it has been HMRC's default for the self-employed since
//! 6 April 2024: income when received, expenses when paid. On the cash basis a credit note
//! counts only through what is then received (it reduces no receipt by itself); on the accrual
//! basis it reduces the income of the month it is issued in. VAT a business reclaims is not a
//! cost; VAT it cannot reclaim is part of the cost. A VAT-registered business's receipts are
//! counted without the VAT in them, apportioned as the VAT return's cash basis does.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    expenses::Category,
    ledger::{self, ExpenseDoc, SaleDoc},
    vat_return::{Basis, PenceAsPounds, SaleKind},
};
use crate::{
    db::pool::Conn,
    http::problem::{ApiError, ApiResult},
};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfitParams {
    pub workspace_id: Option<Uuid>,
    #[param(example = "2027-04-06")]
    pub from: NaiveDate,
    /// Inclusive.
    #[param(example = "2028-04-05")]
    pub to: NaiveDate,
    /// `cash` (the default) or `accrual`.
    pub basis: Option<Basis>,
}

/// One category's expenses in pence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CategoryTotal {
    pub category: Category,
    pub pence: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProfitLine {
    /// `YYYY-MM`, or `total`.
    #[schema(example = "2027-04")]
    pub month: String,
    /// Turnover: sales ex VAT.
    pub income_pence: i64,
    /// Allowable expenses.
    pub expenses_pence: i64,
    /// Expenses that do not reduce taxable profit (entertainment, depreciation).
    pub disallowable_pence: i64,
    /// `income_pence − expenses_pence`: the profit before tax adjustments.
    pub profit_pence: i64,
    pub by_category: Vec<CategoryTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProfitAndLoss {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub basis: Basis,
    /// Every month the range touches, in order, months without figures included.
    pub months: Vec<ProfitLine>,
    pub total: ProfitLine,
}

/// Income and expenses, keyed by the date they count on.
#[derive(Default)]
struct Entries {
    income: Vec<(NaiveDate, i64)>,
    expenses: Vec<(NaiveDate, Category, i64)>,
}

fn apportion(amount: i64, part: i64, whole: i64) -> i64 {
    if whole == 0 {
        return 0;
    }
    let n = i128::from(amount) * i128::from(part);
    let d = i128::from(whole);
    let (q, r) = (n / d, n % d);
    let q = if 2 * r.abs() >= d { q + n.signum() } else { q };
    i64::try_from(q).unwrap_or(0)
}

fn entries(
    sales: &[SaleDoc],
    expenses: &[ExpenseDoc],
    basis: Basis,
    from: NaiveDate,
    to: NaiveDate,
) -> Entries {
    let within = |d: NaiveDate| (from..=to).contains(&d);
    let mut e = Entries::default();
    for s in sales {
        match (basis, s.sale.kind) {
            (Basis::Accrual, kind) if within(s.sale.tax_point) => {
                let sign = if kind == SaleKind::CreditNote { -1 } else { 1 };
                e.income.push((s.sale.tax_point, sign * s.net_pence));
            }
            (Basis::Cash, SaleKind::Invoice) => {
                for &(on, amount) in s.sale.payments.iter().filter(|p| within(p.0)) {
                    let net = if s.vat_registered {
                        apportion(amount, s.net_pence, s.sale.total_pence)
                    } else {
                        amount
                    };
                    e.income.push((on, net));
                }
            }
            _ => {}
        }
    }
    for x in expenses {
        let p = &x.purchase;
        let on = match basis {
            Basis::Accrual => Some(p.date),
            Basis::Cash => p.paid_on,
        };
        let Some(on) = on.filter(|d| within(*d)) else {
            continue;
        };
        let cost = if p.vat_reclaimable {
            p.net_pence
        } else {
            p.net_pence + p.vat_pence
        };
        e.expenses.push((on, x.category, cost));
    }
    e
}

fn month_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn line(month: String, income: i64, costs: &BTreeMap<Category, i64>) -> ProfitLine {
    let expenses: i64 = costs
        .iter()
        .filter(|(c, _)| c.allowable())
        .map(|(_, p)| p)
        .sum();
    let disallowable: i64 = costs
        .iter()
        .filter(|(c, _)| !c.allowable())
        .map(|(_, p)| p)
        .sum();
    ProfitLine {
        month,
        income_pence: income,
        expenses_pence: expenses,
        disallowable_pence: disallowable,
        profit_pence: income - expenses,
        by_category: Category::ALL
            .iter()
            .filter_map(|c| {
                costs.get(c).map(|&pence| CategoryTotal {
                    category: *c,
                    pence,
                })
            })
            .collect(),
    }
}

/// The profit and loss of `from..=to`, month by month. Pure: the caller loads the ledger.
fn report(
    sales: &[SaleDoc],
    expenses: &[ExpenseDoc],
    basis: Basis,
    from: NaiveDate,
    to: NaiveDate,
) -> ProfitAndLoss {
    let e = entries(sales, expenses, basis, from, to);
    let mut months: BTreeMap<String, (i64, BTreeMap<Category, i64>)> = BTreeMap::new();
    let mut cursor = from.with_day(1).unwrap_or(from);
    while cursor <= to {
        months.insert(month_of(cursor), Default::default());
        cursor = cursor
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
    }
    let mut total = (0i64, BTreeMap::<Category, i64>::new());
    for (on, amount) in e.income {
        months.entry(month_of(on)).or_default().0 += amount;
        total.0 += amount;
    }
    for (on, category, cost) in e.expenses {
        *months
            .entry(month_of(on))
            .or_default()
            .1
            .entry(category)
            .or_default() += cost;
        *total.1.entry(category).or_default() += cost;
    }
    ProfitAndLoss {
        from,
        to,
        basis,
        months: months
            .into_iter()
            .map(|(m, (income, costs))| line(m, income, &costs))
            .collect(),
        total: line("total".into(), total.0, &total.1),
    }
}

fn check_range(from: NaiveDate, to: NaiveDate) -> ApiResult<()> {
    if to < from {
        return Err(ApiError::field("to", "the range ends before it starts"));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(ApiError::field("to", "a report covers at most three years"));
    }
    Ok(())
}

pub async fn profit_and_loss(
    conn: &mut Conn,
    workspace: Uuid,
    p: ProfitParams,
) -> ApiResult<ProfitAndLoss> {
    check_range(p.from, p.to)?;
    let sales = ledger::sales(conn, workspace, p.from, p.to).await?;
    let expenses = ledger::expenses(conn, workspace, p.from, p.to).await?;
    Ok(report(
        &sales,
        &expenses,
        p.basis.unwrap_or(Basis::Cash),
        p.from,
        p.to,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdateParams {
    pub workspace_id: Option<Uuid>,
    /// The update period's first day (quarters run from 6 April, or from 1 April by election).
    #[param(example = "2027-04-06")]
    pub start: NaiveDate,
    #[param(example = "2027-07-05")]
    pub end: NaiveDate,
    /// `cash` (the default) or `accrual`.
    pub basis: Option<Basis>,
    /// One `consolidatedExpenses` figure instead of categories: allowed while turnover is
    /// below the VAT registration threshold (£90,000 a year).
    pub consolidated: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PeriodDates {
    #[serde(rename = "periodStartDate")]
    pub start: NaiveDate,
    #[serde(rename = "periodEndDate")]
    pub end: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PeriodIncome {
    pub turnover: PenceAsPounds,
    pub other: PenceAsPounds,
}

/// The categories of MTD's period summary, in pounds; a category without figures is left out,
/// as the API wants.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodExpenses {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consolidated_expenses: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_of_goods: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments_to_subcontractors: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wages_and_staff_costs: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub car_van_travel_expenses: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub premises_running_costs: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance_costs: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_costs: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_entertainment_costs: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advertising_costs: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interest_on_bank_other_loans: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finance_charges: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub irrecoverable_debts: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub professional_fees: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depreciation: Option<PenceAsPounds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_expenses: Option<PenceAsPounds>,
}

impl PeriodExpenses {
    fn set(&mut self, c: Category, v: PenceAsPounds) {
        let slot = match c {
            Category::CostOfGoods => &mut self.cost_of_goods,
            Category::Subcontractors => &mut self.payments_to_subcontractors,
            Category::Staff => &mut self.wages_and_staff_costs,
            Category::Travel => &mut self.car_van_travel_expenses,
            Category::Premises => &mut self.premises_running_costs,
            Category::Repairs => &mut self.maintenance_costs,
            Category::Admin => &mut self.admin_costs,
            Category::Entertainment => &mut self.business_entertainment_costs,
            Category::Advertising => &mut self.advertising_costs,
            Category::Interest => &mut self.interest_on_bank_other_loans,
            Category::FinanceCharges => &mut self.finance_charges,
            Category::BadDebts => &mut self.irrecoverable_debts,
            Category::ProfessionalFees => &mut self.professional_fees,
            Category::Depreciation => &mut self.depreciation,
            Category::Other => &mut self.other_expenses,
        };
        *slot = Some(v);
    }
}

/// The body of MTD for Income Tax's self-employment period summary: every expense in
/// `periodExpenses`, and the part of each that is not allowable again in
/// `periodDisallowableExpenses` (entertainment and depreciation, wholly), as HMRC wants both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncomeTaxUpdate {
    pub period_dates: PeriodDates,
    pub period_income: PeriodIncome,
    pub period_expenses: PeriodExpenses,
    /// Disallowable amounts per category (MTD names them `<category>Disallowable`); empty when
    /// expenses are consolidated.
    pub period_disallowable_expenses: Vec<CategoryTotal>,
}

pub async fn income_tax_update(
    conn: &mut Conn,
    workspace: Uuid,
    p: UpdateParams,
) -> ApiResult<IncomeTaxUpdate> {
    check_range(p.start, p.end)?;
    if (p.end - p.start).num_days() > 366 {
        return Err(ApiError::field("end", "an update covers at most a year"));
    }
    let sales = ledger::sales(conn, workspace, p.start, p.end).await?;
    let expenses = ledger::expenses(conn, workspace, p.start, p.end).await?;
    let r = report(
        &sales,
        &expenses,
        p.basis.unwrap_or(Basis::Cash),
        p.start,
        p.end,
    );
    Ok(update_of(
        &r,
        p.start,
        p.end,
        p.consolidated.unwrap_or(false),
    ))
}

fn update_of(
    r: &ProfitAndLoss,
    start: NaiveDate,
    end: NaiveDate,
    consolidated: bool,
) -> IncomeTaxUpdate {
    let mut period_expenses = PeriodExpenses::default();
    let all: i64 = r.total.by_category.iter().map(|c| c.pence).sum();
    let mut disallowable = Vec::new();
    if consolidated {
        period_expenses.consolidated_expenses = Some(PenceAsPounds(all));
    } else {
        for c in &r.total.by_category {
            period_expenses.set(c.category, PenceAsPounds(c.pence));
            if !c.category.allowable() {
                disallowable.push(c.clone());
            }
        }
    }
    IncomeTaxUpdate {
        period_dates: PeriodDates { start, end },
        period_income: PeriodIncome {
            turnover: PenceAsPounds(r.total.income_pence),
            other: PenceAsPounds(0),
        },
        period_expenses,
        period_disallowable_expenses: disallowable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::business::{
        money::{RateTotal, VatRate},
        vat_return::{Purchase, Sale},
    };

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn invoice(on: &str, net: i64, vat: i64, payments: &[(&str, i64)]) -> SaleDoc {
        SaleDoc {
            id: Uuid::nil(),
            number: "INV-1".into(),
            net_pence: net,
            vat_registered: vat > 0,
            sale: Sale {
                kind: SaleKind::Invoice,
                tax_point: d(on),
                by_rate: vec![RateTotal {
                    rate: VatRate::Standard,
                    net,
                    vat,
                }],
                total_pence: net + vat,
                ni_eu_goods: false,
                payments: payments.iter().map(|(o, a)| (d(o), *a)).collect(),
            },
        }
    }

    fn expense(
        on: &str,
        paid: Option<&str>,
        c: Category,
        net: i64,
        vat: i64,
        back: bool,
    ) -> ExpenseDoc {
        ExpenseDoc {
            id: Uuid::nil(),
            category: c,
            supplier: "S".into(),
            purchase: Purchase {
                date: d(on),
                paid_on: paid.map(d),
                net_pence: net,
                vat_pence: vat,
                vat_reclaimable: back,
                ni_eu_goods_acquisition: false,
                capital_item: false,
                relevant_goods: false,
                gross_pence: net + vat,
            },
        }
    }

    #[test]
    fn cash_and_accrual_count_different_months() {
        // £1,000 + £200 VAT invoiced in April, £600 received in April and £600 in May.
        let sales = [invoice(
            "2027-04-20",
            100_000,
            20_000,
            &[("2027-04-28", 60_000), ("2027-05-10", 60_000)],
        )];
        // £50 + £10 reclaimable VAT (cost £50); £120 lunch, VAT not reclaimable (cost £120,
        // disallowable); a £300 bill spent in May, paid in June.
        let costs = [
            expense(
                "2027-04-02",
                Some("2027-04-02"),
                Category::Admin,
                5_000,
                1_000,
                true,
            ),
            expense(
                "2027-04-15",
                Some("2027-04-15"),
                Category::Entertainment,
                10_000,
                2_000,
                false,
            ),
            expense(
                "2027-05-30",
                Some("2027-06-02"),
                Category::Repairs,
                30_000,
                0,
                false,
            ),
        ];
        let (from, to) = (d("2027-04-01"), d("2027-06-30"));
        let cash = report(&sales, &costs, Basis::Cash, from, to);
        let m: Vec<_> = cash
            .months
            .iter()
            .map(|l| {
                (
                    l.month.as_str(),
                    l.income_pence,
                    l.expenses_pence,
                    l.disallowable_pence,
                )
            })
            .collect();
        // £600 received holds £100 VAT: £500 income each month.
        assert_eq!(
            m,
            [
                ("2027-04", 50_000, 5_000, 12_000),
                ("2027-05", 50_000, 0, 0),
                ("2027-06", 0, 30_000, 0)
            ]
        );
        assert_eq!(cash.total.profit_pence, 100_000 - 35_000);
        let accrual = report(&sales, &costs, Basis::Accrual, from, to);
        let m: Vec<_> = accrual
            .months
            .iter()
            .map(|l| (l.month.as_str(), l.income_pence, l.expenses_pence))
            .collect();
        assert_eq!(
            m,
            [
                ("2027-04", 100_000, 5_000),
                ("2027-05", 0, 30_000),
                ("2027-06", 0, 0)
            ]
        );

        let update = update_of(&cash, from, to, false);
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(json["periodIncome"]["turnover"], 1000.0);
        assert_eq!(json["periodExpenses"]["adminCosts"], 50.0);
        assert_eq!(json["periodExpenses"]["businessEntertainmentCosts"], 120.0);
        assert_eq!(json["periodExpenses"]["maintenanceCosts"], 300.0);
        assert!(json["periodExpenses"].get("costOfGoods").is_none());
        assert_eq!(json["periodDisallowableExpenses"][0]["pence"], 12_000);
        let consolidated = serde_json::to_value(update_of(&cash, from, to, true)).unwrap();
        assert_eq!(
            consolidated["periodExpenses"],
            serde_json::json!({"consolidatedExpenses": 470.0})
        );
    }
}
