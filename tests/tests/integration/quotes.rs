//! Quotes: priced like invoices, sent with a single-use link the client answers without an
//! account, the answer kept as the signature record, an acceptance becoming a draft invoice.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp};

#[tokio::test]
async fn a_client_accepts_a_quote_through_its_link_once() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/profile",
            Some(&json!({"business_name": "Ada Carpentry", "vat_registered": true, "vrn": "GB980780684",
                         "address_lines": ["1 High St"]})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let client = ada
        .create(
            "/v1/clients",
            &json!({"name": "Sam Acme", "address": "2 Low Rd", "email": "sam@acme.example"}),
        )
        .await;
    let draft = ada
        .create(
            "/v1/quotes",
            &json!({"client_id": client["id"], "lines": [
                {"description": "New staircase", "unit_price": "1800", "vat_rate": "standard"}]}),
        )
        .await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["totals"]["total_pence"], 216000);
    let path = format!("/v1/quotes/{}", draft["id"].as_str().unwrap());
    ada.ok(
        Method::PATCH,
        &path,
        Some(&json!({"notes": "Oak, not pine"})),
    )
    .await;

    let sent = ada
        .ok(
            Method::POST,
            &format!("{path}/send"),
            Some(&json!({"mail": true})),
        )
        .await;
    assert_eq!(sent["mailed_to"], "sam@acme.example");
    let quote = &sent["quote"];
    assert_eq!(quote["status"], "sent");
    assert_eq!(quote["number"], "QU-0001");
    let token = sent["token"].as_str().unwrap();
    assert!(sent["link"]
        .as_str()
        .unwrap()
        .ends_with(&format!("#{token}")));
    // The link went by mail too (an .eml may fold long lines, so compare without breaks).
    let mail = app
        .mail("sam@acme.example", "Quote QU-0001 from Ada Carpentry")
        .await;
    let flat: String = mail
        .split(['\r', '\n'])
        .map(|l| l.trim_end_matches('='))
        .collect();
    assert!(flat.contains(token), "the mail carries the link: {mail}");
    // Only the token's hash is kept.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM app.quotes WHERE link_hash = sha256(convert_to('{token}', 'UTF8'))"
        ))
        .await,
        1
    );
    // A sent quote no longer changes.
    let res = ada
        .send(Method::PATCH, &path, Some(&json!({"notes": "x"})), &[])
        .await;
    problem(res, 409, "/problems/document-issued").await;

    // The client, with no account, sees it and answers once.
    let public = format!("/v1/public/quotes/{token}");
    let seen: Value = app
        .client
        .get(app.url(&public))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["number"], "QU-0001");
    assert_eq!(seen["supplier"]["name"], "Ada Carpentry");
    assert_eq!(seen["totals"]["total_pence"], 216000);
    let answer = |body: Value| {
        let client = app.client.clone();
        let url = app.url(&format!("{public}/answer"));
        async move {
            client
                .post(url)
                .header("user-agent", "Test Browser")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let res = answer(json!({"accept": true, "name": "  "})).await;
    problem(res, 422, "/problems/validation").await;
    let res = answer(json!({"accept": true, "name": "Sam Acme"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answered: Value = res.json().await.unwrap();
    assert_eq!(answered["status"], "accepted");
    assert_eq!(answered["signer_name"], "Sam Acme");
    // Single use: a second answer (either way) finds nothing.
    let res = answer(json!({"accept": false, "name": "Someone Else"})).await;
    problem(res, 404, "/problems/not-found").await;
    let res = app
        .client
        .get(app.url("/v1/public/quotes/not-a-token"))
        .send()
        .await
        .unwrap();
    problem(res, 404, "/problems/not-found").await;

    // The acceptance is the signature record, and a draft invoice with the quote's lines.
    let accepted = ada.get(&path).await;
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["signer_name"], "Sam Acme");
    assert!(accepted["answered_at"].is_string());
    let fingerprint: Vec<u8> = app
        .admin()
        .await
        .query_one("SELECT signer_fingerprint FROM app.quotes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(fingerprint.len(), 32);
    let invoice = ada
        .get(&format!(
            "/v1/invoices/{}",
            accepted["invoice_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["totals"], accepted["totals"]);
    assert_eq!(invoice["lines"], accepted["lines"]);
    assert_eq!(invoice["notes"], "From quote QU-0001");
    let issued = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/issue", invoice["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(issued["number"], "INV-0001");
}

#[tokio::test]
async fn a_declined_or_expired_link_makes_no_invoice() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    ada.send(
        Method::PUT,
        "/v1/business/profile",
        Some(&json!({"business_name": "Ada"})),
        &[],
    )
    .await;
    let client = ada.create("/v1/clients", &json!({"name": "Sam"})).await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let q = ada
            .create(
                "/v1/quotes",
                &json!({"client_id": client["id"], "valid_until": crate::helpers::calendar_today().to_string(),
                        "lines": [{"description": "Shelf", "unit_price": "40"}]}),
            )
            .await;
        let sent = ada
            .ok(
                Method::POST,
                &format!("/v1/quotes/{}/send", q["id"].as_str().unwrap()),
                None,
            )
            .await;
        tokens.push(sent["token"].as_str().unwrap().to_owned());
    }
    let res = app
        .client
        .post(app.url(&format!("/v1/public/quotes/{}/answer", tokens[0])))
        .json(&json!({"accept": false, "name": "Sam"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "declined");
    // Two days on, the other link has expired: nothing to see or answer.
    app.clock
        .advance(std::time::Duration::from_secs(2 * 24 * 3600));
    let res = app
        .client
        .post(app.url(&format!("/v1/public/quotes/{}/answer", tokens[1])))
        .json(&json!({"accept": true, "name": "Sam"}))
        .send()
        .await
        .unwrap();
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(app.count("SELECT count(*) FROM app.invoices").await, 0);
}
