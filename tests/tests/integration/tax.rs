//! The VAT return, the profit and loss and the income tax update over HTTP, from invoices,
//! payments, credit notes and expenses recorded through the API. Each figure is worked by hand
//! in the comments; the pure module's own tests cover the Flat Rate Scheme's corners.

use chrono::{Duration, NaiveDate};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{problem, Client, TestApp};

async fn vat_business(c: &Client<'_>) -> String {
    c.succeeds(
        Method::PUT,
        "/v1/business/profile",
        Some(&json!({"business_name": "Ada Consulting", "vat_registered": true,
                     "vrn": "GB980780684", "address_lines": ["1 High Street"], "postcode": "BS1 1AA"})),
    )
    .await;
    let client = c
        .create(
            "/v1/clients",
            &json!({"name": "Acme Ltd", "address": "2 Low Road"}),
        )
        .await;
    client["id"].as_str().unwrap().to_owned()
}

async fn vat_return(c: &Client<'_>, start: NaiveDate, end: NaiveDate, extra: &str) -> Value {
    c.get(&format!(
        "/v1/business/vat-return?start={start}&end={end}{extra}"
    ))
    .await
}

fn boxes(r: &Value) -> [i64; 9] {
    let b = &r["boxes"];
    std::array::from_fn(|i| b[format!("box{}", i + 1)].as_i64().unwrap())
}

#[tokio::test]
async fn a_quarter_of_sales_and_costs_gives_the_nine_boxes() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;

    // One invoice at four rates: standard £100 (VAT £20), reduced £50 (VAT £2.50), zero £30,
    // exempt £20. Total £222.50.
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "lines": [
                {"description": "Consulting", "unit_price": "100", "vat_rate": "standard"},
                {"description": "Energy advice", "unit_price": "50", "vat_rate": "reduced"},
                {"description": "Printed guide", "unit_price": "30", "vat_rate": "zero"},
                {"description": "Training", "unit_price": "20", "vat_rate": "exempt"},
            ]}),
        )
        .await;
    let id = draft["id"].as_str().unwrap();
    let issued = ada
        .ok(Method::POST, &format!("/v1/invoices/{id}/issue"), None)
        .await;
    assert_eq!(issued["totals"]["total_pence"], 22_250);
    let t: NaiveDate = issued["tax_point"].as_str().unwrap().parse().unwrap();
    // Half of it is paid at once, the rest 35 days on.
    let payments = format!("/v1/invoices/{id}/payments");
    ada.create(
        &payments,
        &json!({"amount_pence": 11_125, "paid_on": t.to_string()}),
    )
    .await;
    ada.create(
        &payments,
        &json!({"amount_pence": 11_125, "paid_on": (t + Duration::days(35)).to_string()}),
    )
    .await;
    // Costs: £200 + £40 reclaimable VAT; a £60 + £12 lunch whose VAT is blocked.
    for body in [
        json!({"spent_on": t.to_string(), "supplier": "Dell", "category": "admin",
               "net_pence": 20_000, "vat_pence": 4_000}),
        json!({"spent_on": t.to_string(), "supplier": "The Ivy", "category": "entertainment",
               "net_pence": 6_000, "vat_pence": 1_200, "vat_reclaimable": false}),
    ] {
        ada.create("/v1/expenses", &body).await;
    }
    // A credit note of £10 + £2 VAT issued 40 days on, in the next period.
    ada.create(
        "/v1/credit-notes",
        &json!({"invoice_id": id, "credit_date": (t + Duration::days(40)).to_string(),
                "lines": [{"description": "Goodwill", "unit_price": "10", "vat_rate": "standard"}]}),
    )
    .await;

    let (q1, q1_end) = (t - Duration::days(29), t + Duration::days(30));
    let (q2, q2_end) = (t + Duration::days(31), t + Duration::days(90));

    // Accrual, first period: box 1 = 2000 + 250 = 2250; box 4 = 4000 (the lunch's VAT is
    // blocked); box 5 = |2250 − 4000| = 1750, repayable; box 6 = £100 + £50 + £30 + £20 = 200;
    // box 7 = £200 + £60 = 260.
    let r = vat_return(&ada, q1, q1_end, "&period_key=27A1").await;
    assert_eq!(
        boxes(&r),
        [2250, 0, 2250, 4000, 1750, 200, 260, 0, 0],
        "{r}"
    );
    assert_eq!(r["direction"], "repayable");
    assert_eq!(r["submission"]["periodKey"], "27A1");
    assert_eq!(r["submission"]["vatDueSales"], 22.5);
    assert_eq!(r["submission"]["netVatDue"], 17.5);
    assert_eq!(r["submission"]["totalValueSalesExVAT"], 200);
    assert_eq!(r["submission"]["finalised"], false);
    // Second period: only the credit note, which reduces it (never the first): box 1 = −200,
    // box 6 = −£10.
    let r = vat_return(&ada, q2, q2_end, "").await;
    assert_eq!(boxes(&r), [-200, 0, -200, 0, 200, -10, 0, 0, 0], "{r}");
    assert_eq!(r["direction"], "repayable");

    // Cash accounting: each period counts what was received in it. £111.25 of £222.50 carries
    // half the VAT: 1125; and half the net: £100. The credit note still reduces the period it is
    // issued in.
    let r = vat_return(&ada, q1, q1_end, "&basis=cash").await;
    assert_eq!(
        boxes(&r),
        [1125, 0, 1125, 4000, 2875, 100, 260, 0, 0],
        "{r}"
    );
    let r = vat_return(&ada, q2, q2_end, "&basis=cash").await;
    assert_eq!(boxes(&r), [925, 0, 925, 0, 925, 90, 0, 0, 0], "{r}");
    assert_eq!(r["direction"], "payable");

    // The Flat Rate Scheme, computer consultancy at 14.5 %, registered years ago: no relevant
    // goods were bought, so the business is a limited cost trader at 16.5 %:
    // 16.5 % × £222.50 = £36.7125 → 3671. Box 4: no capital item of £2,000 or more.
    let settings = ada
        .ok(
            Method::PUT,
            "/v1/business/vat-settings",
            Some(
                &json!({"scheme": "flat_rate", "flat_rate_sector": "computer_and_it_consultancy",
                         "registered_on": "2020-01-01"}),
            ),
        )
        .await;
    assert_eq!(settings["scheme"], "flat_rate");
    let r = vat_return(&ada, q1, q1_end, "").await;
    assert_eq!(r["flat_rate"]["limited_cost_trader"], true, "{r}");
    assert_eq!(r["flat_rate"]["turnover_inclusive"], 22_250);
    assert_eq!(boxes(&r)[0], 3671, "{r}");
    assert_eq!(boxes(&r)[3], 0);
    assert_eq!(boxes(&r)[5], 222);
    // Relevant goods of £300 (more than 2 % of turnover and than £1,000 a year pro rata) end
    // the limited cost test; registered within the year, the sector's rate falls by 1 point:
    // 13.5 % × £222.50 = £30.0375 → 3004.
    ada.create(
        "/v1/expenses",
        &json!({"spent_on": t.to_string(), "supplier": "Ryman", "category": "admin",
                "net_pence": 25_000, "vat_pence": 5_000, "relevant_goods": true}),
    )
    .await;
    ada.ok(
        Method::PUT,
        "/v1/business/vat-settings",
        Some(
            &json!({"scheme": "flat_rate", "flat_rate_sector": "computer_and_it_consultancy",
                     "registered_on": (t - Duration::days(100)).to_string()}),
        ),
    )
    .await;
    let r = vat_return(&ada, q1, q1_end, "").await;
    assert_eq!(r["flat_rate"]["limited_cost_trader"], false, "{r}");
    assert_eq!(r["flat_rate"]["first_year_discount"], true);
    assert_eq!(boxes(&r)[0], 3004, "{r}");

    // Bad settings and periods are refused with the field named.
    for body in [
        json!({"scheme": "flat_rate", "flat_rate_sector": "astrology", "registered_on": "2020-01-01"}),
        json!({"scheme": "flat_rate", "flat_rate_sector": "photography"}),
        json!({"scheme": "standard", "flat_rate_bp": 1200}),
    ] {
        let res = ada
            .send(Method::PUT, "/v1/business/vat-settings", Some(&body), &[])
            .await;
        problem(res, 422, "/problems/validation").await;
    }
    let res = ada
        .send(
            Method::GET,
            &format!("/v1/business/vat-return?start={q1_end}&end={q1}"),
            None,
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let sectors = ada.get("/v1/business/flat-rate-sectors").await;
    assert!(sectors.as_array().unwrap().len() > 50);

    // Another user's figures are their own: Bob's return is empty.
    let b = app.user("bob@example.com").await;
    let r = vat_return(&app.signed_in(&b), q1, q1_end, "").await;
    assert_eq!(boxes(&r), [0; 9]);
}

#[tokio::test]
async fn profit_and_loss_and_the_quarterly_update() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "lines": [
                {"description": "Consulting", "unit_price": "1000", "vat_rate": "standard"}]}),
        )
        .await;
    let id = draft["id"].as_str().unwrap();
    let issued = ada
        .ok(Method::POST, &format!("/v1/invoices/{id}/issue"), None)
        .await;
    let t: NaiveDate = issued["tax_point"].as_str().unwrap().parse().unwrap();
    // £600 of £1,200 received: £500 of income ex VAT.
    ada.create(
        &format!("/v1/invoices/{id}/payments"),
        &json!({"amount_pence": 60_000, "paid_on": t.to_string()}),
    )
    .await;
    ada.create(
        "/v1/expenses",
        &json!({"spent_on": t.to_string(), "supplier": "Dell", "category": "admin",
                "net_pence": 5_000, "vat_pence": 1_000}),
    )
    .await;
    ada.create(
        "/v1/expenses",
        &json!({"spent_on": t.to_string(), "supplier": "The Ivy", "category": "entertainment",
                "net_pence": 10_000, "vat_pence": 2_000, "vat_reclaimable": false}),
    )
    .await;
    let (from, to) = (t - Duration::days(10), t + Duration::days(10));
    let pl = ada
        .get(&format!("/v1/business/profit-and-loss?from={from}&to={to}"))
        .await;
    assert_eq!(pl["basis"], "cash");
    // Income £500; allowable costs £50 (its VAT is reclaimed); the £120 lunch is disallowable.
    assert_eq!(pl["total"]["income_pence"], 50_000, "{pl}");
    assert_eq!(pl["total"]["expenses_pence"], 5_000);
    assert_eq!(pl["total"]["disallowable_pence"], 12_000);
    assert_eq!(pl["total"]["profit_pence"], 45_000);
    let accrual = ada
        .get(&format!(
            "/v1/business/profit-and-loss?from={from}&to={to}&basis=accrual"
        ))
        .await;
    assert_eq!(accrual["total"]["income_pence"], 100_000);

    let update = ada
        .get(&format!(
            "/v1/business/income-tax-update?start={from}&end={to}"
        ))
        .await;
    assert_eq!(update["periodDates"]["periodStartDate"], from.to_string());
    assert_eq!(update["periodIncome"]["turnover"], 500.0);
    assert_eq!(update["periodExpenses"]["adminCosts"], 50.0);
    assert_eq!(
        update["periodExpenses"]["businessEntertainmentCosts"],
        120.0
    );
    assert_eq!(
        update["periodDisallowableExpenses"][0]["category"],
        "entertainment"
    );
    let consolidated = ada
        .get(&format!(
            "/v1/business/income-tax-update?start={from}&end={to}&consolidated=true"
        ))
        .await;
    assert_eq!(
        consolidated["periodExpenses"],
        json!({"consolidatedExpenses": 170.0})
    );
}
