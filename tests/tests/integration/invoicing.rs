//! Invoicing over HTTP: drafts priced by the one totals function, issuing with gap-free numbers
//! and tax points, immutability, payments, credit notes, void, HMRC validation and the kept
//! PDFs.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{problem, Client, TestApp};

/// A VAT-registered business with a client; answers the client's id.
async fn vat_business(c: &Client<'_>) -> String {
    let res = c
        .send(
            Method::PUT,
            "/v1/business/profile",
            Some(
                &json!({"business_name": "Ada Carpentry", "vat_registered": true,
                         "vrn": "GB980780684", "address_lines": ["1 High Street", "Bristol"],
                         "postcode": "BS1 1AA", "payment_terms_days": 30}),
            ),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let client = c
        .create(
            "/v1/clients",
            &json!({"name": "Acme Builders Ltd", "address": "2 Low Road\nLeeds LS1 1AA",
                    "email": "accounts@acme.example"}),
        )
        .await;
    client["id"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn an_invoice_from_draft_to_paid() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;

    // Per-line VAT rounded half-up to the penny; invoice VAT is the sum of the lines'.
    let today = crate::helpers::calendar_today();
    let supply = today - chrono::Duration::days(10);
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "supply_date": supply.to_string(), "lines": [
                {"description": "Fit units", "quantity": "3", "unit_price": "0.125", "vat_rate": "standard"},
                {"description": "Timber", "quantity": "1", "unit_price": "10.03", "vat_rate": "standard"},
                {"description": "Children's safety gate", "unit_price": "12", "vat_rate": "zero"},
                {"description": "Skip hire, incl. VAT", "unit_price": "120", "vat_rate": "standard", "price_includes_vat": true},
            ]}),
        )
        .await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["number"], Value::Null);
    assert_eq!(draft["title"], "VAT invoice");
    let lines = draft["lines"].as_array().unwrap();
    // 3 × £0.125 = 37.5p → 38p; its VAT 7.6p → 8p. £10.03 → VAT 200.6p → 201p.
    assert_eq!(
        (
            lines[0]["net_pence"].as_i64(),
            lines[0]["vat_pence"].as_i64()
        ),
        (Some(38), Some(8))
    );
    assert_eq!(
        (
            lines[1]["net_pence"].as_i64(),
            lines[1]["vat_pence"].as_i64()
        ),
        (Some(1003), Some(201))
    );
    assert_eq!(lines[2]["vat_pence"], 0);
    // £120 incl. VAT: VAT = 120/6 = £20, net £100.
    assert_eq!(
        (
            lines[3]["net_pence"].as_i64(),
            lines[3]["vat_pence"].as_i64()
        ),
        (Some(10000), Some(2000))
    );
    let totals = &draft["totals"];
    assert_eq!(totals["net_pence"], 38 + 1003 + 1200 + 10000);
    assert_eq!(totals["vat_pence"], 8 + 201 + 2000);
    assert_eq!(
        totals["total_pence"],
        38 + 1003 + 1200 + 10000 + 8 + 201 + 2000
    );
    assert_eq!(draft["balance_pence"], totals["total_pence"]);

    // A draft changes by merge patch; a missing VAT rate is a field error.
    let path = format!("/v1/invoices/{}", id(&draft));
    let (status, body) = ada
        .call(
            Method::PATCH,
            &path,
            Some(&json!({"lines": [{"description": "x", "unit_price": "1"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "lines[0].vat_rate");
    let patched = ada
        .ok(Method::PATCH, &path, Some(&json!({"notes": "Thank you"})))
        .await;
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["notes"], "Thank you");

    // Issued 10 days after the supply: the invoice date is the tax point (the 14-day rule).
    let issued = ada
        .ok(
            Method::POST,
            &format!("{path}/issue"),
            Some(&json!({"invoice_date": today.to_string()})),
        )
        .await;
    assert_eq!(issued["status"], "issued");
    assert_eq!(issued["number"], "INV-0001");
    assert_eq!(issued["invoice_date"], today.to_string());
    assert_eq!(issued["tax_point"], today.to_string());
    assert_eq!(
        issued["due_date"],
        (today + chrono::Duration::days(30)).to_string()
    );
    assert_eq!(issued["supplier"]["vat_number"], "GB980780684");
    assert_eq!(
        issued["customer"]["address_lines"],
        json!(["2 Low Road", "Leeds LS1 1AA"])
    );
    assert_eq!(issued["totals"], draft["totals"]);

    // Issued means immutable: no patch, no delete, no second issue.
    let change = json!({"notes": "changed"});
    for (method, p, body) in [
        (Method::PATCH, path.clone(), Some(&change)),
        (Method::DELETE, path.clone(), None),
        (Method::POST, format!("{path}/issue"), None),
    ] {
        let res = ada.send(method, &p, body, &[]).await;
        problem(res, 409, "/problems/document-issued").await;
    }
    // A later change to the client leaves the issued invoice as it was.
    ada.ok(
        Method::PATCH,
        &format!("/v1/clients/{client}"),
        Some(&json!({"name": "Acme Renamed"})),
    )
    .await;
    assert_eq!(
        ada.get(&path).await["customer"]["name"],
        "Acme Builders Ltd"
    );

    // The PDF kept at issue is the one downloaded, byte for byte.
    let docs = ada
        .get(&format!("/v1/documents?invoice_id={}", id(&draft)))
        .await;
    let doc = &docs["items"][0];
    assert_eq!(docs["items"].as_array().unwrap().len(), 1);
    assert_eq!(doc["file_name"], "INV-0001.pdf");
    let res = ada
        .send(Method::GET, &format!("{path}/pdf"), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"INV-0001.pdf\""
    );
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        doc["sha256"].as_str().unwrap()
    );
    let content = ada
        .send(
            Method::GET,
            &format!("/v1/documents/{}/content", id(doc)),
            None,
            &[],
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(content, bytes);

    // Payments: partial, then an overpayment refused, then the rest.
    let total = issued["totals"]["total_pence"].as_i64().unwrap();
    let pay = format!("{path}/payments");
    let first = ada
        .create(&pay, &json!({"amount_pence": 5000, "reference": "BACS 1"}))
        .await;
    assert_eq!(first["method"], "bank_transfer");
    let now = ada.get(&path).await;
    assert_eq!(now["status"], "partly_paid");
    assert_eq!(now["balance_pence"], total - 5000);
    let (status, body) = ada
        .call(
            Method::POST,
            &pay,
            Some(&json!({"amount_pence": total - 4999})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "amount_pence");
    ada.create(
        &pay,
        &json!({"amount_pence": total - 5000, "method": "card"}),
    )
    .await;
    let paid = ada.get(&path).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["balance_pence"], 0);
    assert_eq!(ada.get(&pay).await.as_array().unwrap().len(), 2);

    // A payment recorded by mistake is deleted and the balance comes back.
    ada.succeeds(Method::DELETE, &format!("{pay}/{}", id(&first)), None)
        .await;
    let back = ada.get(&path).await;
    assert_eq!(back["status"], "partly_paid");
    assert_eq!(back["balance_pence"], 5000);

    // Another user sees none of it.
    let b = app.user("bob@example.com").await;
    let bob = app.signed_in(&b);
    for p in [
        path.clone(),
        format!("{path}/pdf"),
        format!("/v1/documents/{}", id(doc)),
    ] {
        let res = bob.send(Method::GET, &p, None, &[]).await;
        problem(res, 404, "/problems/not-found").await;
    }
    let res = bob
        .send(Method::POST, &pay, Some(&json!({"amount_pence": 1})), &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
}

#[tokio::test]
async fn fifty_concurrent_issues_take_fifty_consecutive_numbers() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    let mut drafts = Vec::new();
    for n in 0..50 {
        let d = ada
            .create(
                "/v1/invoices",
                &json!({"client_id": client, "lines": [
                    {"description": format!("Job {n}"), "unit_price": "100", "vat_rate": "standard"}]}),
            )
            .await;
        drafts.push(id(&d).to_owned());
    }
    let issues = drafts.iter().map(|d| {
        let ada = app.signed_in(&a);
        let path = format!("/v1/invoices/{d}/issue");
        async move { ada.call(Method::POST, &path, None).await }
    });
    let mut numbers: Vec<String> = futures_util::future::join_all(issues)
        .await
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, 200, "{body}");
            body["number"].as_str().unwrap().to_owned()
        })
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("INV-{n:04}")).collect();
    assert_eq!(numbers, expected);

    // A voided invoice keeps its number; the next issue takes the next one.
    let voided = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/void", drafts[0]),
            Some(&json!({"reason": "Wrong client"})),
        )
        .await;
    assert_eq!(voided["status"], "void");
    assert!(voided["number"].as_str().unwrap().starts_with("INV-"));
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/invoices/{}/payments", drafts[0]),
            Some(&json!({"amount_pence": 1})),
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    let next = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "lines": [
                {"description": "More", "unit_price": "1", "vat_rate": "standard"}]}),
        )
        .await;
    let next = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/issue", id(&next)),
            None,
        )
        .await;
    assert_eq!(next["number"], "INV-0051");
    // A failed issue (no lines) takes no number.
    let empty = ada
        .create("/v1/invoices", &json!({"client_id": client}))
        .await;
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/invoices/{}/issue", id(&empty)),
            None,
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    assert_eq!(
        app.count("SELECT last_invoice_number FROM app.business_profiles")
            .await,
        51
    );
}

#[tokio::test]
async fn credit_notes_never_exceed_what_is_left_and_net_the_balance() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "lines": [
                {"description": "Doors", "quantity": "2", "unit_price": "150", "vat_rate": "standard"},
                {"description": "Insurance", "unit_price": "50", "vat_rate": "exempt"}]}),
        )
        .await;
    // A draft cannot be credited.
    let res = ada
        .send(
            Method::POST,
            "/v1/credit-notes",
            Some(&json!({"invoice_id": id(&draft)})),
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    let path = format!("/v1/invoices/{}", id(&draft));
    let invoice = ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    // 2 × £150 + 20 % = £360, plus £50 exempt.
    assert_eq!(invoice["totals"]["total_pence"], 41000);
    ada.create(&format!("{path}/payments"), &json!({"amount_pence": 10000}))
        .await;

    let note = ada
        .create(
            "/v1/credit-notes",
            &json!({"invoice_id": id(&draft), "reason": "One door returned",
                    "lines": [{"description": "Door returned", "unit_price": "150", "vat_rate": "standard"}]}),
        )
        .await;
    assert_eq!(note["number"], "CN-0001");
    assert_eq!(note["title"], "Credit note");
    assert_eq!(note["totals"]["total_pence"], 18000);
    assert_eq!(note["customer"]["name"], "Acme Builders Ltd");
    let after = ada.get(&path).await;
    assert_eq!(after["credited_pence"], 18000);
    assert_eq!(after["balance_pence"], 41000 - 10000 - 18000);

    // A rate the invoice did not use is refused; so is more than is left to credit.
    let (status, body) = ada
        .call(
            Method::POST,
            "/v1/credit-notes",
            Some(&json!({"invoice_id": id(&draft),
                         "lines": [{"description": "x", "unit_price": "1", "vat_rate": "reduced"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "lines[0].vat_rate");
    let (status, body) = ada
        .call(
            Method::POST,
            "/v1/credit-notes",
            Some(&json!({"invoice_id": id(&draft),
                         "lines": [{"description": "Everything", "quantity": "2", "unit_price": "150", "vat_rate": "standard"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    // Exactly what is left: £410 − £180 = £230 = £150 + 20 % (£180) + £50 exempt.
    let rest = ada
        .create(
            "/v1/credit-notes",
            &json!({"invoice_id": id(&draft), "lines": [
                {"description": "Door", "unit_price": "150", "vat_rate": "standard"},
                {"description": "Insurance", "unit_price": "50", "vat_rate": "exempt"}]}),
        )
        .await;
    assert_eq!(rest["number"], "CN-0002");
    let settled = ada.get(&path).await;
    assert_eq!(settled["credited_pence"], 41000);
    // Paid £100 and credited it all: £100 is owed back to the customer.
    assert_eq!(settled["balance_pence"], -10000);
    assert_eq!(settled["status"], "paid");
    let res = ada
        .send(
            Method::POST,
            "/v1/credit-notes",
            Some(&json!({"invoice_id": id(&draft),
                         "lines": [{"description": "x", "unit_price": "0.01", "vat_rate": "exempt"}]})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let notes = ada
        .get(&format!("/v1/credit-notes?invoice_id={}", id(&draft)))
        .await;
    assert_eq!(notes["items"].as_array().unwrap().len(), 2);
    let pdf = ada
        .send(
            Method::GET,
            &format!("/v1/credit-notes/{}/pdf", id(&note)),
            None,
            &[],
        )
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(
        pdf.headers()["content-disposition"],
        "attachment; filename=\"CN-0001.pdf\""
    );
    // Credit notes are kept as issued: the server role cannot change them.
    let app_db = crate::helpers::connect(&app.app_db_url).await;
    let err = app_db
        .execute("UPDATE app.credit_notes SET reason = 'x'", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_business_that_is_not_vat_registered_shows_no_vat() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    // No profile yet: invoicing needs one.
    let client = ada
        .create("/v1/clients", &json!({"name": "Sam", "address": "3 Lane"}))
        .await;
    let res = ada
        .send(
            Method::POST,
            "/v1/invoices",
            Some(&json!({"client_id": id(&client)})),
            &[],
        )
        .await;
    problem(res, 409, "/problems/business-profile-required").await;
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/profile",
            Some(&json!({"business_name": "Ada Joinery", "address_lines": ["1 High St"]})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (status, body) = ada
        .call(
            Method::POST,
            "/v1/invoices",
            Some(&json!({"client_id": id(&client), "form": "simplified",
                         "lines": [{"description": "Shelf", "unit_price": "40", "vat_rate": "standard"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["form", "lines[0].vat_rate"]);
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": id(&client), "lines": [{"description": "Shelf", "quantity": "1.5", "unit_price": "40"}]}),
        )
        .await;
    assert_eq!(draft["title"], "Invoice");
    assert_eq!(draft["totals"]["vat_pence"], 0);
    assert_eq!(draft["totals"]["total_pence"], 6000);
    assert_eq!(draft["totals"]["by_rate"], json!([]));
    let path = format!("/v1/invoices/{}", id(&draft));
    let issued = ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    assert_eq!(issued["supplier"]["vat_number"], Value::Null);
    let checked = ada
        .ok(Method::POST, &format!("{path}/validate"), None)
        .await;
    assert_eq!(checked["valid"], true, "{checked}");
}

#[tokio::test]
async fn validation_answers_each_hmrc_rule() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    let lines = json!([{"description": "Shelving", "unit_price": "100", "vat_rate": "standard"},
                       {"description": "Book", "unit_price": "10", "vat_rate": "zero"}]);
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "lines": lines}),
        )
        .await;
    let path = format!("/v1/invoices/{}", id(&draft));
    let rule = |v: &Value, name: &str| -> Value {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == name)
            .unwrap_or_else(|| panic!("no rule {name} in {v}"))
            .clone()
    };
    // A draft has no number yet: that rule is broken, with its citation.
    let checked = ada
        .ok(Method::POST, &format!("{path}/validate"), None)
        .await;
    assert_eq!(checked["valid"], false);
    let number = rule(&checked, "sequential_number");
    assert_eq!(number["met"], false);
    assert!(
        number["citation"]
            .as_str()
            .unwrap()
            .contains("reg 14(1)(a)"),
        "{number}"
    );
    assert_eq!(rule(&checked, "line_vat_rate")["met"], true);
    // Supplied 40 days ago: the tax point stays the supply date and the 30-day rule breaks.
    let today = crate::helpers::calendar_today();
    let supply = today - chrono::Duration::days(40);
    ada.ok(
        Method::PATCH,
        &path,
        Some(&json!({"supply_date": supply.to_string()})),
    )
    .await;
    let issued = ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    assert_eq!(issued["tax_point"], supply.to_string());
    let checked = ada
        .ok(Method::POST, &format!("{path}/validate"), None)
        .await;
    assert_eq!(rule(&checked, "sequential_number")["met"], true);
    let late = rule(&checked, "issued_within_30_days");
    assert_eq!(late["met"], false, "{late}");
    assert!(
        late["citation"].as_str().unwrap().contains("reg 13"),
        "{late}"
    );
    assert_eq!(checked["valid"], false);

    // A client without an address breaks the customer-address rule of a full invoice.
    let bare = ada
        .create("/v1/clients", &json!({"name": "No Address"}))
        .await;
    let d2 = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": id(&bare), "lines": lines}),
        )
        .await;
    let issued = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/issue", id(&d2)),
            None,
        )
        .await;
    assert_eq!(issued["number"], "INV-0002");
    let checked = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/validate", id(&d2)),
            None,
        )
        .await;
    assert_eq!(rule(&checked, "customer_address")["met"], false);
    assert_eq!(rule(&checked, "issued_within_30_days")["met"], true);
    // Simplified (at most £250 incl. VAT): the customer's address is not required.
    let d3 = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": id(&bare), "form": "simplified", "lines": lines}),
        )
        .await;
    assert_eq!(d3["title"], "Simplified VAT invoice");
    ada.ok(
        Method::POST,
        &format!("/v1/invoices/{}/issue", id(&d3)),
        None,
    )
    .await;
    let checked = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/validate", id(&d3)),
            None,
        )
        .await;
    assert_eq!(checked["valid"], true, "{checked}");
    let too_big = ada
        .send(
            Method::POST,
            "/v1/invoices",
            Some(&json!({"client_id": id(&bare), "form": "simplified",
                         "lines": [{"description": "Big", "unit_price": "250", "vat_rate": "standard"}]})),
            &[],
        )
        .await;
    problem(too_big, 422, "/problems/validation").await;
}

#[tokio::test]
async fn a_reverse_charge_invoice_from_a_job_shows_the_vat_it_does_not_charge() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    vat_business(&ada).await;
    let builder = ada
        .create(
            "/v1/clients",
            &json!({"name": "Main Contractor Ltd", "address": "9 Site Road", "vat_registered": true,
                    "cis_registered": true, "end_user": false, "vat_number": "GB434031494"}),
        )
        .await;
    let job = ada
        .create(
            "/v1/business-jobs",
            &json!({"client_id": id(&builder), "title": "Second fix", "fee_kind": "daily",
                    "quantity": "2.5", "rate_pence": 20000}),
        )
        .await;
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": id(&builder), "job_id": id(&job)}),
        )
        .await;
    let line = &draft["lines"][0];
    assert_eq!(line["description"], "Second fix");
    assert_eq!(line["quantity"], "2.5");
    assert_eq!(line["unit_price"], "200");
    assert_eq!(line["vat_rate"], "reverse_charge");
    assert_eq!(draft["reverse_charge"], true);
    assert_eq!(draft["totals"]["net_pence"], 50000);
    assert_eq!(draft["totals"]["vat_pence"], 0);
    assert_eq!(draft["totals"]["reverse_charge_vat_pence"], 10000);
    assert_eq!(draft["totals"]["total_pence"], 50000);
    let path = format!("/v1/invoices/{}", id(&draft));
    ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    let checked = ada
        .ok(Method::POST, &format!("{path}/validate"), None)
        .await;
    assert_eq!(checked["valid"], true, "{checked}");
    // A job of another client cannot be invoiced to this one.
    let other = ada.create("/v1/clients", &json!({"name": "Other"})).await;
    let (status, body) = ada
        .call(
            Method::POST,
            "/v1/invoices",
            Some(&json!({"client_id": id(&other), "job_id": id(&job)})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "job_id");
    // A client with invoices is not deleted: archive it instead.
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/clients/{}", id(&builder)),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

/// The text of every page of a PDF, in drawing order.
fn pdf_text(pdf: &[u8]) -> String {
    let parsed = lopdf::Document::load_mem(pdf).expect("a readable PDF");
    let pages: Vec<u32> = parsed.get_pages().keys().copied().collect();
    parsed.extract_text(&pages).expect("text")
}

/// Compares `text` with `tests/data/pdf/{name}.txt`; `MINIME_BLESS=1` writes it instead.
fn golden(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/pdf")
        .join(format!("{name}.txt"));
    if std::env::var_os("MINIME_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (MINIME_BLESS=1 writes it)", path.display()));
    assert_eq!(text, expected, "the text of the {name} PDF changed");
}

/// Issues a draft dated in the past (so the document never depends on today) and answers the
/// text of its kept PDF, after checking the PDF is the same bytes every time it is read.
async fn issued_pdf(c: &Client<'_>, body: Value) -> (Value, String) {
    let draft = c.create("/v1/invoices", &body).await;
    let path = format!("/v1/invoices/{}", id(&draft));
    let issued = c
        .ok(
            Method::POST,
            &format!("{path}/issue"),
            Some(&json!({"invoice_date": "2026-11-02", "due_date": "2026-12-02"})),
        )
        .await;
    let get = || async {
        c.send(Method::GET, &format!("{path}/pdf"), None, &[])
            .await
            .bytes()
            .await
            .unwrap()
    };
    let bytes = get().await;
    assert_eq!(bytes, get().await);
    (issued, pdf_text(&bytes))
}

#[tokio::test]
async fn each_kind_of_invoice_prints_what_it_must() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    let lines = json!([
        {"description": "Oak shelving", "quantity": "2", "unit_price": "85.50", "vat_rate": "standard"},
        {"description": "Children's car seat", "unit_price": "60", "vat_rate": "reduced"},
        {"description": "Printed manual", "unit_price": "4.99", "vat_rate": "zero"},
        {"description": "Delivery insurance", "unit_price": "12", "vat_rate": "exempt"},
    ]);
    let (full, text) = issued_pdf(
        &ada,
        json!({"client_id": client, "supply_date": "2026-10-30", "lines": lines, "notes": "Thank you for your business."}),
    )
    .await;
    // Every figure the API answers is the one the PDF prints.
    for pence in [
        &full["totals"]["net_pence"],
        &full["totals"]["vat_pence"],
        &full["totals"]["total_pence"],
    ] {
        let p = pence.as_i64().unwrap();
        let shown = format!("£{}.{:02}", p / 100, p % 100);
        assert!(text.contains(&shown), "{shown} is not in the PDF:\n{text}");
    }
    golden("full_vat_invoice", &text);

    let (_, text) = issued_pdf(
        &ada,
        json!({"client_id": client, "form": "simplified", "supply_date": "2026-11-02",
               "lines": [{"description": "Picture frame", "unit_price": "24", "vat_rate": "standard"}]}),
    )
    .await;
    assert!(text.contains("Simplified VAT invoice"), "{text}");
    golden("simplified_vat_invoice", &text);

    let builder = ada
        .create(
            "/v1/clients",
            &json!({"name": "Main Contractor Ltd", "address": "9 Site Road\nBath BA1 1AA",
                    "vat_registered": true, "cis_registered": true, "vat_number": "GB434031494"}),
        )
        .await;
    let (rc, text) = issued_pdf(
        &ada,
        json!({"client_id": id(&builder), "supply_date": "2026-10-31",
               "lines": [{"description": "First fix electrics", "quantity": "3", "unit_price": "180", "vat_rate": "reverse_charge"}]}),
    )
    .await;
    assert!(
        text.contains("Reverse charge: customer to pay the VAT to HMRC"),
        "{text}"
    );
    assert_eq!(rc["totals"]["reverse_charge_vat_pence"], 10800);
    assert!(text.contains("£108.00"), "{text}");
    golden("reverse_charge_invoice", &text);

    // The credit note of the full invoice.
    let note = ada
        .create(
            "/v1/credit-notes",
            &json!({"invoice_id": id(&full), "credit_date": "2026-11-05", "reason": "One shelf returned",
                    "lines": [{"description": "Oak shelving returned", "unit_price": "85.50", "vat_rate": "standard"}]}),
        )
        .await;
    let bytes = ada
        .send(
            Method::GET,
            &format!("/v1/credit-notes/{}/pdf", id(&note)),
            None,
            &[],
        )
        .await
        .bytes()
        .await
        .unwrap();
    let text = pdf_text(&bytes);
    assert!(
        text.contains("Credit note") && text.contains("INV-0001"),
        "{text}"
    );
    golden("credit_note", &text);

    // Not VAT registered: no VAT anywhere on the document.
    let b = app.user("bob@example.com").await;
    let bob = app.signed_in(&b);
    let res = bob
        .send(
            Method::PUT,
            "/v1/business/profile",
            Some(
                &json!({"business_name": "Bob Gardens", "address_lines": ["4 Green Lane", "York"],
                         "bank_details": null}),
            ),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let customer = bob
        .create(
            "/v1/clients",
            &json!({"name": "Mrs Smith", "address": "5 Hill Road\nYork"}),
        )
        .await;
    let (_, text) = issued_pdf(
        &bob,
        json!({"client_id": id(&customer), "lines": [{"description": "Hedge trimming", "quantity": "3.5", "unit_price": "25"}]}),
    )
    .await;
    assert!(!text.contains("VAT"), "{text}");
    assert!(text.contains("£87.50"), "{text}");
    golden("not_vat_registered_invoice", &text);
}

#[tokio::test]
async fn an_issued_invoice_is_mailed_with_its_pdf_and_logged() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    ada.ok(
        Method::PATCH,
        "/v1/business/profile",
        Some(&json!({"email_templates": {"invoice_subject": "{business}: invoice {number} ({total})"}})),
    )
    .await;
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client, "lines": [{"description": "Door", "unit_price": "100", "vat_rate": "standard"}]}),
        )
        .await;
    let path = format!("/v1/invoices/{}", id(&draft));
    // A draft has no kept PDF to send.
    let res = ada
        .send(Method::POST, &format!("{path}/send"), None, &[])
        .await;
    problem(res, 409, "/problems/conflict").await;
    ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    let (status, queued) = ada.call(Method::POST, &format!("{path}/send"), None).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["to_address"], "accounts@acme.example");
    assert_eq!(
        queued["subject"],
        "Ada Carpentry: invoice INV-0001 (£120.00)"
    );

    let mail = app.mail("accounts@acme.example", "invoice INV-0001").await;
    assert!(mail.contains("multipart/mixed"), "{mail}");
    assert!(mail.contains("filename=\"INV-0001.pdf\""), "{mail}");
    assert!(mail.contains("application/pdf"), "{mail}");
    // The attachment is the kept PDF (base64 in the message, lines of 76).
    let doc = &ada
        .get(&format!("/v1/documents?invoice_id={}", id(&draft)))
        .await["items"][0];
    let kept = ada
        .send(
            Method::GET,
            &format!("/v1/documents/{}/content", id(doc)),
            None,
            &[],
        )
        .await
        .bytes()
        .await
        .unwrap();
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&kept);
    let flat: String = mail.split_whitespace().collect();
    assert!(flat.contains(&encoded[..200]), "the PDF is not attached");
    app.mail_settled().await;
    let log = ada.get(&format!("/v1/documents/{}/emails", id(doc))).await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["status"], "sent");
    assert!(log[0]["provider_id"].as_str().unwrap().contains("@minime"));
    // Another address, and an invalid one.
    let (status, _) = ada
        .call(
            Method::POST,
            &format!("{path}/send"),
            Some(&json!({"to": "books@ada.example"})),
        )
        .await;
    assert_eq!(status, 202);
    let (status, body) = ada
        .call(
            Method::POST,
            &format!("{path}/send"),
            Some(&json!({"to": "not an address"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

/// Waits until `sql` counts `n`.
async fn until_count(app: &TestApp, sql: &str, n: i64) {
    for _ in 0..200 {
        app.wake_jobs();
        if app.count(sql).await == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{sql} never counted {n} (now {})", app.count(sql).await);
}

#[tokio::test]
async fn a_recurring_invoice_is_made_once_per_occurrence() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = vat_business(&ada).await;
    let today = crate::helpers::calendar_today();
    let (status, body) = ada
        .call(
            Method::POST,
            "/v1/recurring-invoices",
            Some(&json!({"client_id": client, "rrule": "FREQ=SOMETIMES", "start_date": today.to_string(),
                         "lines": [{"description": "Retainer", "unit_price": "500", "vat_rate": "standard"}]})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "rrule");
    let schedule = ada
        .create(
            "/v1/recurring-invoices",
            &json!({"client_id": client, "rrule": "FREQ=WEEKLY", "start_date": today.to_string(),
                    "action": "issue_and_send",
                    "lines": [{"description": "Retainer", "unit_price": "500", "vat_rate": "standard"}]}),
        )
        .await;
    assert_eq!(schedule["next_date"], today.to_string());

    // A day on, today's occurrence is invoiced, issued and mailed.
    app.advance_when_idle(std::time::Duration::from_secs(24 * 3600))
        .await;
    let a = app.advance(std::time::Duration::ZERO, &a).await;
    let ada = app.signed_in(&a);
    until_count(
        &app,
        "SELECT count(*) FROM app.invoices WHERE status = 'issued'",
        1,
    )
    .await;
    app.mail("accounts@acme.example", "Invoice INV-0001").await;
    let after = ada
        .get(&format!("/v1/recurring-invoices/{}", id(&schedule)))
        .await;
    assert_eq!(
        after["next_date"],
        (today + chrono::Duration::days(7)).to_string()
    );

    // The same occurrence delivered again (a job planted twice) makes nothing more.
    let admin = app.admin().await;
    admin
        .execute(
            "INSERT INTO ops.jobs (kind, payload, user_id, run_at)
             SELECT 'invoices.recurring', jsonb_build_object('id', r.id, 'date', $1::text), r.created_by, now()
             FROM app.recurring_invoices r",
            &[&today.to_string()],
        )
        .await
        .unwrap();
    until_count(
        &app,
        "SELECT count(*) FROM ops.jobs WHERE kind = 'invoices.recurring' AND done_at IS NOT NULL",
        2,
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM app.invoices").await, 1);

    // A week on, the next one: numbered next.
    app.advance_when_idle(std::time::Duration::from_secs(7 * 24 * 3600))
        .await;
    until_count(&app, "SELECT count(*) FROM app.invoices", 2).await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.recurring_invoice_runs")
            .await,
        2
    );
    let a = app.advance(std::time::Duration::ZERO, &a).await;
    let ada = app.signed_in(&a);
    let issued = ada.get("/v1/invoices?status=issued").await;
    let mut numbers: Vec<&str> = issued["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["INV-0001", "INV-0002"]);

    // Paused, nothing more is made.
    ada.ok(
        Method::PATCH,
        &format!("/v1/recurring-invoices/{}", id(&schedule)),
        Some(&json!({"active": false})),
    )
    .await;
    app.advance_when_idle(std::time::Duration::from_secs(7 * 24 * 3600))
        .await;
    app.wake_jobs();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.count("SELECT count(*) FROM app.invoices").await, 2);
}
