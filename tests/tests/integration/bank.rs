//! Bank statements over HTTP: import in a bank's CSV layout and as OFX, each line once however
//! often it is imported, a bad line refusing the whole file, and remittance matching from the
//! preview to the payments, recorded once however often it is confirmed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, Client, TestApp};

async fn import(c: &Client<'_>, query: &str, body: &str) -> reqwest::Response {
    c.request(Method::POST, &format!("/v1/bank-statements?{query}"))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn issued(c: &Client<'_>, client: &Value, price: &str) -> Value {
    let draft = c
        .create(
            "/v1/invoices",
            &json!({"client_id": client["id"], "lines": [{"description": "Work", "unit_price": price}]}),
        )
        .await;
    c.ok(
        Method::POST,
        &format!("/v1/invoices/{}/issue", draft["id"].as_str().unwrap()),
        None,
    )
    .await
}

const OFX: &str =
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n\
CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX>\r\n\
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260305120000\
<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0\
<SEVERITY>INFO</STATUS>\r\n<STMTRS><CURDEF>GBP<BANKACCTFROM><BANKID>309457<ACCTID>12345678\
<ACCTTYPE>CHECKING</BANKACCTFROM>\r\n<BANKTRANLIST><DTSTART>20260301<DTEND>20260305\r\n\
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260302<TRNAMT>-12.50<FITID>2026030201<NAME>TESCO STORES 2231\
</STMTTRN>\r\n<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260303<TRNAMT>1200.00<FITID>2026030301\
<NAME>ACME LTD<MEMO>THANKS</STMTTRN>\r\n</BANKTRANLIST><LEDGERBAL><BALAMT>2184.30<DTASOF>20260305\
</LEDGERBAL>\r\n</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n";

#[tokio::test]
async fn statements_import_once_and_credits_become_payments_once() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let b = app.user("bob@example.com").await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    ada.succeeds(
        Method::PUT,
        "/v1/business/profile",
        Some(&json!({"business_name": "Ada Joinery", "address_lines": ["1 High St"]})),
    )
    .await;
    let acme = ada
        .create("/v1/clients", &json!({"name": "Acme Ltd"}))
        .await;
    let globex = ada
        .create("/v1/clients", &json!({"name": "Globex Corporation"}))
        .await;
    let small = issued(&ada, &acme, "120").await;
    let big = issued(&ada, &acme, "250").await;
    let gx = issued(&ada, &globex, "99.99").await;
    let day: chrono::NaiveDate = big["invoice_date"].as_str().unwrap().parse().unwrap();
    let d = day.format("%d/%m/%Y");
    let number = big["number"].as_str().unwrap();
    let csv = format!(
        "Date,Counter Party,Reference,Type,Amount (GBP),Balance (GBP),Spending Category,Notes\n\
         {d},ACME LTD,{number},FASTER PAYMENT,250.00,1250.00,INCOME,\n\
         {d},GLOBEX CORPORATION,THANKS,FASTER PAYMENT,99.99,1349.99,INCOME,\n\
         {d},Screwfix,Card 1234,CARD,-54.00,1295.99,SHOPPING,\n\
         {d},Someone,Gift,FASTER PAYMENT,5.00,1300.99,INCOME,\n"
    );

    // One bad line refuses the file, naming the row and the column; nothing is kept.
    let bad = csv.replacen(&d.to_string(), "31/02/2027", 1);
    let res = import(&ada, "layout=starling&name=feb.csv", &bad).await;
    let body = problem(res, 422, "/problems/validation").await;
    let said = body["errors"][0]["message"].as_str().unwrap();
    assert!(said.contains("row 2") && said.contains("Date"), "{said}");
    assert_eq!(
        app.count("SELECT count(*) FROM app.bank_transactions")
            .await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM app.files").await, 0);
    let res = import(&ada, "layout=atlantis", &csv).await;
    problem(res, 422, "/problems/validation").await;
    let res = import(&ada, "", "%PDF-1.4\n").await;
    problem(res, 415, "/problems/unsupported-media-type").await;

    // The layout is recognised from the header; a second import adds nothing.
    let res = import(&ada, "name=feb.csv", &csv).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = res.json().await.unwrap();
    assert_eq!(
        (
            first["layout"].as_str(),
            first["lines_read"].as_i64(),
            first["lines_new"].as_i64()
        ),
        (Some("starling"), Some(4), Some(4))
    );
    let again: Value = import(&ada, "layout=starling", &csv)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["lines_new"], 0);
    assert_eq!(
        app.count("SELECT count(*) FROM app.bank_transactions")
            .await,
        4
    );
    // The original is kept and downloadable.
    let file = first["file_id"].as_str().unwrap();
    let (status, text) = ada
        .text(Method::GET, &format!("/v1/files/{file}/content"), None)
        .await;
    assert_eq!((status, text.as_str()), (200, csv.as_str()));

    // The preview proposes, writes nothing.
    let preview = ada.get("/v1/bank-transactions/matches").await;
    let credits = preview["credits"].as_array().unwrap();
    let by_amount = |pence: i64| {
        credits
            .iter()
            .find(|c| c["transaction"]["amount_pence"] == pence)
            .unwrap()
            .clone()
    };
    let paid_big = by_amount(25_000);
    assert_eq!(
        paid_big["proposals"][0]["invoice_id"], big["id"],
        "{paid_big}"
    );
    assert!(paid_big["proposals"][0]["reasons"]
        .to_string()
        .contains(number));
    let paid_gx = by_amount(9_999);
    assert_eq!(paid_gx["proposals"][0]["invoice_id"], gx["id"], "{paid_gx}");
    assert_eq!(paid_gx["suggested_invoice_id"], gx["id"]);
    assert_eq!(by_amount(500)["proposals"], json!([]));
    let debit = &preview["debits"][0];
    assert_eq!(debit["supplier"], "Screwfix");
    assert_eq!(
        app.count("SELECT count(*) FROM app.invoice_payments").await,
        0
    );

    // Bob can neither see nor use Ada's lines.
    let sid = first["id"].as_str().unwrap();
    let res = bob
        .send(
            Method::GET,
            &format!("/v1/bank-statements/{sid}"),
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(
        bob.get("/v1/bank-transactions/matches").await["credits"],
        json!([])
    );
    let confirm = json!({
        "payments": [
            {"transaction_id": paid_big["transaction"]["id"], "invoice_id": big["id"]},
            {"transaction_id": paid_gx["transaction"]["id"], "invoice_id": gx["id"]},
        ],
        "expenses": [{"transaction_id": debit["transaction"]["id"], "category": "repairs"}],
    });
    let res = bob
        .send(
            Method::POST,
            "/v1/bank-transactions/matches",
            Some(&confirm),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;

    // Confirmed: two payments and an expense, in one go; confirmed again: nothing new.
    let done = ada
        .ok(
            Method::POST,
            "/v1/bank-transactions/matches",
            Some(&confirm),
        )
        .await;
    assert_eq!(done["payments"][0]["already_recorded"], false);
    assert_eq!(done["payments"][0]["amount_pence"], 25_000);
    let again = ada
        .ok(
            Method::POST,
            "/v1/bank-transactions/matches",
            Some(&confirm),
        )
        .await;
    assert_eq!(again["payments"][0]["already_recorded"], true);
    assert_eq!(
        again["payments"][0]["payment_id"],
        done["payments"][0]["payment_id"]
    );
    assert_eq!(again["expenses"][0]["already_recorded"], true);
    assert_eq!(
        app.count("SELECT count(*) FROM app.invoice_payments").await,
        2
    );
    assert_eq!(app.count("SELECT count(*) FROM app.expenses").await, 1);
    let big_now = ada
        .get(&format!("/v1/invoices/{}", big["id"].as_str().unwrap()))
        .await;
    assert_eq!(big_now["status"], "paid");
    let expense = ada.get("/v1/expenses").await["items"][0].clone();
    assert_eq!(
        (expense["supplier"].as_str(), expense["net_pence"].as_i64()),
        (Some("Screwfix"), Some(5_400))
    );
    // The same line cannot pay another invoice, and a debit pays none.
    let res = ada
        .send(
            Method::POST,
            "/v1/bank-transactions/matches",
            Some(&json!({"payments": [{"transaction_id": paid_big["transaction"]["id"], "invoice_id": small["id"]}]})),
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    let gift = by_amount(500);
    let res = ada
        .send(
            Method::POST,
            "/v1/bank-transactions/matches",
            Some(&json!({"payments": [
                {"transaction_id": gift["transaction"]["id"], "invoice_id": small["id"]},
                {"transaction_id": debit["transaction"]["id"], "invoice_id": small["id"]},
            ]})),
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.invoice_payments").await,
        2,
        "a refused batch records nothing, not even its good first line"
    );
    let matched = ada.get("/v1/bank-transactions?status=matched").await;
    assert_eq!(matched["items"].as_array().unwrap().len(), 2);
    // A statement with recorded lines stays.
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/bank-statements/{sid}"),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    // Deleting what a line became reopens the line, which can then be matched again.
    let payment = done["payments"][0]["payment_id"].as_str().unwrap();
    ada.succeeds(
        Method::DELETE,
        &format!(
            "/v1/invoices/{}/payments/{payment}",
            big["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    ada.succeeds(
        Method::DELETE,
        &format!("/v1/expenses/{}", expense["id"].as_str().unwrap()),
        None,
    )
    .await;
    for line in [&paid_big, debit] {
        let now = ada
            .get(&format!(
                "/v1/bank-transactions/{}",
                line["transaction"]["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(now["status"], "unmatched", "{now}");
        assert!(now["payment_id"].is_null() && now["expense_id"].is_null());
    }
    let again = ada
        .ok(
            Method::POST,
            "/v1/bank-transactions/matches",
            Some(&confirm),
        )
        .await;
    assert_eq!(again["payments"][0]["already_recorded"], false);
    assert_eq!(again["expenses"][0]["already_recorded"], false);

    // OFX, to another account: the bank's own ids keep its lines apart.
    let res = import(&ada, "account=savings&name=march.ofx", OFX).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ofx: Value = res.json().await.unwrap();
    assert_eq!(
        (
            ofx["format"].as_str(),
            ofx["lines_new"].as_i64(),
            ofx["closing_balance_pence"].as_i64()
        ),
        (Some("ofx"), Some(2), Some(218_430))
    );
    let again: Value = import(&ada, "account=savings", OFX)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["lines_new"], 0);
    let res = import(&ada, "account=Savings!", OFX).await;
    problem(res, 422, "/problems/validation").await;
    // A statement without recorded lines goes with its lines and its original.
    let oid = ofx["id"].as_str().unwrap();
    ada.succeeds(Method::DELETE, &format!("/v1/bank-statements/{oid}"), None)
        .await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM app.bank_transactions WHERE statement_id = '{oid}'"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM app.files WHERE id = '{}'",
            ofx["file_id"].as_str().unwrap()
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn a_saved_layout_reads_a_bank_the_presets_do_not_know() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let presets = ada.get("/v1/bank-statements/presets").await;
    let ids: Vec<&str> = presets
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    for bank in [
        "barclays",
        "hsbc",
        "lloyds",
        "natwest",
        "santander",
        "nationwide",
        "monzo",
        "starling",
    ] {
        assert!(ids.contains(&bank), "{bank} in {ids:?}");
    }
    let mapping = json!({
        "date_column": "When", "date_format": "%Y-%m-%d", "description_column": "What",
        "amount": {"kind": "split", "paid_in_column": "In", "paid_out_column": "Out"},
        "delimiter": 59,
    });
    ada.ok(
        Method::PUT,
        "/v1/bank-statements/mappings/credit-union",
        Some(&mapping),
    )
    .await;
    let res = ada
        .send(
            Method::PUT,
            "/v1/bank-statements/mappings/Bad Name",
            Some(&mapping),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let saved = ada.get("/v1/bank-statements/mappings").await;
    assert_eq!(saved[0]["name"], "credit-union");
    let res = import(
        &ada,
        "layout=credit-union",
        "When;What;In;Out\n2027-01-05;Interest;0.42;\n2027-01-06;Fee;;3.00\n",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let lines = ada.get("/v1/bank-transactions").await;
    let mut amounts: Vec<i64> = lines["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount_pence"].as_i64().unwrap())
        .collect();
    amounts.sort();
    assert_eq!(amounts, [-300, 42]);
    ada.succeeds(
        Method::DELETE,
        "/v1/bank-statements/mappings/credit-union",
        None,
    )
    .await;
    let res = ada
        .send(
            Method::DELETE,
            "/v1/bank-statements/mappings/credit-union",
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
}
