//! The business module's AI features over HTTP: job pricing from past jobs, receipts read into
//! draft expenses, and the business assistant's stored conversations; offline with the built-in
//! provider, and against a loopback fake of Anthropic's Messages API.

use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::helpers::{problem, Client, TestApp};

async fn consent(c: &Client<'_>) {
    c.ok(Method::PATCH, "/v1/me", Some(&json!({"ai_enabled": true})))
        .await;
}

async fn business(c: &Client<'_>) -> Value {
    c.succeeds(
        Method::PUT,
        "/v1/business/profile",
        Some(&json!({"business_name": "Ada Joinery Ltd", "vat_registered": true, "vrn": "GB980780684",
                     "address_lines": ["1 High Street", "Bristol"], "postcode": "BS1 1AA"})),
    )
    .await;
    c.create("/v1/clients", &json!({"name": "Acme Builders Ltd"}))
        .await
}

async fn upload(c: &Client<'_>, query: &str, bytes: Vec<u8>) -> Value {
    let res = c
        .request(Method::POST, &format!("/v1/files?{query}"))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    res.json().await.unwrap()
}

#[tokio::test]
async fn offline_pricing_receipts_and_the_assistant() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = business(&ada).await;

    // Off until turned on.
    for (path, body) in [
        (
            "/v1/ai/job-pricing/previews",
            json!({"description": "Fit a worktop"}),
        ),
        (
            "/v1/business-assistant/conversations",
            json!({"question": "What is my profit?"}),
        ),
    ] {
        let res = ada.send(Method::POST, path, Some(&body), &[]).await;
        problem(res, 403, "/problems/ai-consent-required").await;
    }
    consent(&ada).await;

    // Job pricing: the nearest past jobs decide; nothing of the client is sent.
    for (title, rate) in [
        ("Fit kitchen worktop", 30_000),
        ("Fit bathroom worktop", 28_000),
        ("Paint garden fence", 15_000),
    ] {
        ada.create(
            "/v1/business-jobs",
            &json!({"client_id": client["id"], "title": title, "rate_pence": rate}),
        )
        .await;
    }
    let preview = ada
        .create(
            "/v1/ai/job-pricing/previews",
            &json!({"description": "Fit a new kitchen worktop", "client_id": client["id"]}),
        )
        .await;
    let p = &preview["proposal"];
    assert_eq!(p["similar"][0]["title"], "Fit kitchen worktop", "{p}");
    let fee = p["fee_pence"].as_i64().unwrap();
    assert!((28_000..=30_000).contains(&fee), "{p}");
    assert_eq!(preview["sent"]["left_server"], false);
    let sent = preview["sent"]["fields"].to_string();
    assert!(
        !sent.contains("Acme") && !sent.contains("client_id"),
        "{sent}"
    );
    // Without a job to price, there is nothing to apply.
    let id = preview["id"].as_str().unwrap();
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{id}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    // For a job: confirming sets its rate.
    let job = ada
        .create(
            "/v1/business-jobs",
            &json!({"client_id": client["id"], "title": "Kitchen worktop, flat 2", "rate_pence": 1}),
        )
        .await;
    let preview = ada
        .create(
            "/v1/ai/job-pricing/previews",
            &json!({"description": "Kitchen worktop for flat 2", "job_id": job["id"]}),
        )
        .await;
    let id = preview["id"].as_str().unwrap();
    let done = ada
        .ok(
            Method::POST,
            &format!("/v1/ai/previews/{id}/confirm"),
            Some(&json!({"fee_pence": 29_500})),
        )
        .await;
    assert_eq!(done["result"]["rate_pence"], 29_500);
    let job = ada
        .get(&format!(
            "/v1/business-jobs/{}",
            job["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(job["rate_pence"], 29_500);
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/job-pricing/previews",
            Some(&json!({"description": "Service a boiler"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;

    // A supplier's invoice (one of minime's own PDFs) read offline from its text layer.
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client["id"], "lines": [
                {"description": "Timber and fixings", "unit_price": "45", "vat_rate": "standard"}]}),
        )
        .await;
    let invoice = ada
        .ok(
            Method::POST,
            &format!("/v1/invoices/{}/issue", draft["id"].as_str().unwrap()),
            None,
        )
        .await;
    let pdf = ada
        .request(
            Method::GET,
            &format!("/v1/invoices/{}/pdf", invoice["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let receipt = upload(&ada, "purpose=receipt&name=supplier.pdf", pdf).await;
    let preview = ada
        .create(
            "/v1/ai/document-processing/previews",
            &json!({"file_id": receipt["id"]}),
        )
        .await;
    let e = &preview["proposal"]["expense"];
    assert_eq!(e["supplier"], "Ada Joinery Ltd", "{preview}");
    assert_eq!(
        (e["net_pence"].as_i64(), e["vat_pence"].as_i64()),
        (Some(4_500), Some(900)),
        "{preview}"
    );
    assert_eq!(e["spent_on"], invoice["invoice_date"]);
    assert_eq!(
        preview["sent"]["fields"]["file"]["content_type"],
        "application/pdf"
    );
    let id = preview["id"].as_str().unwrap();
    let done = ada
        .ok(
            Method::POST,
            &format!("/v1/ai/previews/{id}/confirm"),
            Some(&json!({"expense": {"spent_on": e["spent_on"], "supplier": "Ada Joinery Ltd",
                                     "category": "cost_of_goods", "net_pence": 4_500, "vat_pence": 900}})),
        )
        .await;
    let expense = &done["result"]["expense"];
    assert_eq!(expense["receipt_file_id"], receipt["id"]);
    assert_eq!(expense["category"], "cost_of_goods");
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{id}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    assert_eq!(app.count("SELECT count(*) FROM app.expenses").await, 1);
    // An image needs a model.
    let image = upload(
        &ada,
        "purpose=receipt&name=r.png",
        crate::business::TINY_PNG.to_vec(),
    )
    .await;
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/document-processing/previews",
            Some(&json!({"file_id": image["id"]})),
            &[],
        )
        .await;
    problem(res, 501, "/problems/ai-offline").await;

    // The assistant answers from the computed VAT return, with the rows used.
    let conversation = ada
        .create(
            "/v1/business-assistant/conversations",
            &json!({"question": "What do I owe in VAT this quarter?"}),
        )
        .await;
    let answer = &conversation["messages"][1];
    assert_eq!(conversation["messages"][0]["role"], "user");
    assert_eq!(answer["role"], "assistant");
    // £9.00 VAT on the sale, £9.00 reclaimed on the expense: nothing either way.
    let figures = answer["figures"].as_array().unwrap();
    assert!(
        figures
            .iter()
            .any(|f| f["name"] == "VAT on sales (box 1)" && f["pence"] == 900),
        "{answer}"
    );
    let rows = answer["rows_used"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["id"] == invoice["id"]), "{answer}");
    assert!(rows.iter().any(|r| r["id"] == expense["id"]), "{answer}");
    assert_eq!(answer["sent"]["left_server"], false);
    let cid = conversation["id"].as_str().unwrap();
    let more = ada
        .create(
            &format!("/v1/business-assistant/conversations/{cid}/messages"),
            &json!({"question": "Who owes me money?"}),
        )
        .await;
    let owed = &more["messages"][3];
    assert_eq!(
        owed["figures"][0]["pence"], invoice["totals"]["total_pence"],
        "{owed}"
    );
    assert!(owed["text"].as_str().unwrap().contains("£54.00"), "{owed}");
    let list = ada.get("/v1/business-assistant/conversations").await;
    assert_eq!(
        list["items"][0]["title"],
        "What do I owe in VAT this quarter?"
    );
    // Another user sees none of it.
    let b = app.user("bob@example.com").await;
    let bob = app.signed_in(&b);
    let res = bob
        .send(
            Method::GET,
            &format!("/v1/business-assistant/conversations/{cid}"),
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
    ada.succeeds(
        Method::DELETE,
        &format!("/v1/business-assistant/conversations/{cid}"),
        None,
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.assistant_messages")
            .await,
        0
    );
}

#[tokio::test]
async fn claude_through_its_messages_api() {
    let fake = FakeAnthropic::start("claude-test-key");
    let url = fake.url();
    let app = TestApp::spawn_with(&[
        ("MINIME_AI_PROVIDER", "anthropic"),
        ("MINIME_ANTHROPIC_URL", &url),
        ("MINIME_ANTHROPIC_API_KEY", "claude-test-key"),
        ("MINIME_ANTHROPIC_MODEL", "test-model"),
        ("MINIME_AI_TIMEOUT_MS", "5000"),
    ])
    .await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let client = business(&ada).await;
    consent(&ada).await;
    let disclosure = ada.get("/v1/ai/disclosure").await;
    assert_eq!(disclosure["provider"], "anthropic");
    let to = disclosure["features"][0]["to"].as_str().unwrap();
    assert!(
        to.contains("Anthropic Claude (127.0.0.1, model test-model)"),
        "{to}"
    );

    // An image receipt: sent as an image block, answered through the forced tool.
    let image = upload(
        &ada,
        "purpose=receipt&name=r.png",
        crate::business::TINY_PNG.to_vec(),
    )
    .await;
    fake.script([Reply::Success(json!({
        "supplier": "Shell", "date": "2027-01-04", "total_pence": 6000, "vat_pence": 1000,
        "net_pence": 5000, "category": "travel", "description": "Diesel"}))]);
    let preview = ada
        .create(
            "/v1/ai/document-processing/previews",
            &json!({"file_id": image["id"]}),
        )
        .await;
    let e = &preview["proposal"]["expense"];
    assert_eq!(
        (
            e["supplier"].as_str(),
            e["net_pence"].as_i64(),
            e["category"].as_str()
        ),
        (Some("Shell"), Some(5000), Some("travel")),
        "{preview}"
    );
    assert_eq!(preview["provider"], "anthropic");
    assert_eq!(preview["sent"]["left_server"], true);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.header("x-api-key"), Some("[matches]"));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.body["model"], "test-model");
    assert_eq!(
        r.body["tool_choice"],
        json!({"type": "tool", "name": "answer"})
    );
    let schema = &r.body["tools"][0]["input_schema"];
    assert_eq!(schema["type"], "object");
    assert_eq!(
        schema["properties"]["supplier"]["type"],
        json!(["string", "null"])
    );
    assert!(schema["properties"]["category"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!("travel")));
    let content = r.body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(content[0]["type"], "image");
    assert_eq!(content[0]["source"]["media_type"], "image/png");
    assert!(!r.body.to_string().contains("claude-test-key"));

    // 429, then success: retried after `retry-after`.
    ada.create(
        "/v1/business-jobs",
        &json!({"client_id": client["id"], "title": "Fit kitchen worktop", "rate_pence": 30_000}),
    )
    .await;
    fake.script([
        Reply::RateLimited { retry_after: 1 },
        Reply::Success(json!({"fee_pence": 31_000, "low_pence": 28_000, "high_pence": 33_000, "reason": "Like your kitchen worktops"})),
    ]);
    let preview = ada
        .create(
            "/v1/ai/job-pricing/previews",
            &json!({"description": "Fit a kitchen worktop"}),
        )
        .await;
    assert_eq!(preview["proposal"]["fee_pence"], 31_000);
    assert_eq!(fake.requests().len(), 3);
    let priced = &fake.requests()[2].body;
    assert!(
        !priced.to_string().contains("Acme"),
        "no client names go to the model: {priced}"
    );

    // Overloaded three times: a clear 502 after exactly three attempts.
    fake.script([Reply::Overloaded, Reply::Overloaded, Reply::Overloaded]);
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/job-pricing/previews",
            Some(&json!({"description": "Fit a worktop"})),
            &[],
        )
        .await;
    problem(res, 502, "/problems/ai-provider").await;
    assert_eq!(fake.requests().len(), 6);

    // A refusal is the provider blocking the content.
    fake.script([Reply::Refusal]);
    let res = ada
        .send(
            Method::POST,
            "/v1/business-assistant/conversations",
            Some(&json!({"question": "How much profit did I make this tax year?"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/ai-blocked").await;
    assert_eq!(fake.pending(), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM app.assistant_conversations")
            .await,
        0
    );
}
