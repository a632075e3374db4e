//! Files in the store and the expenses they are receipts of: uploads judged by content, names
//! that cannot reach the disk, downloads only through the API, and bytes removed from the store
//! when their row goes, however it goes.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::business::TINY_PNG;
use crate::helpers::{problem, Client, TestApp, PASSWORD};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn upload(c: &Client<'_>, query: &str, bytes: &[u8], declared: &str) -> reqwest::Response {
    c.request(Method::POST, &format!("/v1/files?{query}"))
        .header("content-type", declared)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

/// The objects in the store's folder.
fn stored(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app.file_dir.path())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits for the store to hold exactly `n` objects (removal is a queued job).
async fn store_holds(app: &TestApp, n: usize) {
    for _ in 0..100 {
        if stored(app).len() == n {
            return;
        }
        app.wake_jobs();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store holds {:?}, not {n} objects", stored(app));
}

#[tokio::test]
async fn uploads_are_judged_by_content_and_read_back_only_by_their_owner() {
    let app = TestApp::spawn_with(&[("MINIME_FILE_MAX_BYTES", "4096")]).await;
    let a = app.user("ada@example.com").await;
    let b = app.user("bob@example.com").await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));

    // A PNG named .pdf, a PDF sent as an image, HTML and an executable: refused, nothing kept.
    for (query, bytes, declared, says) in [
        (
            "purpose=receipt&name=receipt.pdf",
            TINY_PNG,
            "application/pdf",
            ".pdf",
        ),
        ("purpose=receipt", PDF, "image/png", "image/png"),
        (
            "purpose=receipt&name=r.pdf",
            b"<html><script>alert(1)</script>".as_slice(),
            "application/pdf",
            "not one of",
        ),
        (
            "purpose=receipt",
            b"MZ\x90\x00\x03\x00\x00\x00".as_slice(),
            "application/octet-stream",
            "not one of",
        ),
        (
            "purpose=bank_statement&name=s.csv",
            PDF,
            "text/csv",
            "not one of",
        ),
    ] {
        let res = upload(&ada, query, bytes, declared).await;
        let body = problem(res, 415, "/problems/unsupported-media-type").await;
        assert!(
            body["detail"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    let res = upload(
        &ada,
        "purpose=receipt",
        &vec![b'%'; 5000],
        "application/pdf",
    )
    .await;
    problem(res, 413, "/problems/payload-too-large").await;
    let res = upload(&ada, "purpose=receipt", b"", "application/pdf").await;
    problem(res, 422, "/problems/validation").await;
    let res = upload(&ada, "purpose=holiday", PDF, "application/pdf").await;
    assert_eq!(res.status().as_u16(), 422);
    assert_eq!(app.count("SELECT count(*) FROM app.files").await, 0);
    assert!(stored(&app).is_empty(), "{:?}", stored(&app));

    // A path in the name stays a name: the object is named by a random key.
    let res = upload(
        &ada,
        "purpose=receipt&name=..%2F..%2F..%2Fetc%2Fpasswd.pdf",
        PDF,
        "application/pdf",
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let file: Value = res.json().await.unwrap();
    assert_eq!(file["name"], "passwd.pdf");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["size_bytes"], PDF.len());
    assert_eq!(file["sha256"], sha256_hex(PDF));
    let names = stored(&app);
    assert_eq!(names.len(), 1);
    assert!(
        names[0].len() == 32 && names[0].bytes().all(|c| c.is_ascii_hexdigit()),
        "{names:?}"
    );
    assert!(!std::path::Path::new("/etc/passwd.pdf").exists());

    // Download: the same bytes, as an attachment that no browser runs.
    let id = file["id"].as_str().unwrap();
    let res = ada
        .send(Method::GET, &format!("/v1/files/{id}/content"), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains("passwd.pdf"), "{disposition}");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    // A name with quotes and non-ASCII cannot break the header.
    let renamed = ada
        .ok(
            Method::PATCH,
            &format!("/v1/files/{id}"),
            Some(&json!({"name": "reçu \"mars\".pdf"})),
        )
        .await;
    assert_eq!(renamed["name"], "reçu \"mars\".pdf");
    let res = ada
        .send(Method::GET, &format!("/v1/files/{id}/content"), None, &[])
        .await;
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains("filename=\"re_u _mars_.pdf\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''re%C3%A7u%20%22mars%22.pdf"),
        "{disposition}"
    );
    let res = ada
        .send(
            Method::PATCH,
            &format!("/v1/files/{id}"),
            Some(&json!({"name": "../x.pdf"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;

    // Bob sees nothing of it.
    for path in [format!("/v1/files/{id}"), format!("/v1/files/{id}/content")] {
        let res = bob.send(Method::GET, &path, None, &[]).await;
        problem(res, 404, "/problems/not-found").await;
    }
    assert_eq!(bob.get("/v1/files").await["items"], json!([]));
    let res = bob
        .send(Method::DELETE, &format!("/v1/files/{id}"), None, &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(
        ada.get("/v1/files?purpose=receipt").await["items"][0]["id"],
        id
    );

    // Deleted: the row at once, the bytes from the store right after.
    ada.succeeds(Method::DELETE, &format!("/v1/files/{id}"), None)
        .await;
    store_holds(&app, 0).await;
    let res = ada
        .send(Method::GET, &format!("/v1/files/{id}/content"), None, &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn expenses_carry_their_receipts_and_take_them_when_they_go() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let b = app.user("bob@example.com").await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let receipt: Value = upload(&ada, "purpose=receipt&name=fuel.png", TINY_PNG, "image/png")
        .await
        .json()
        .await
        .unwrap();
    let statement: Value = upload(
        &ada,
        "purpose=bank_statement&name=s.csv",
        b"Date,Amount\n01/02/2027,1.00\n",
        "text/csv",
    )
    .await
    .json()
    .await
    .unwrap();

    let expense = ada
        .create(
            "/v1/expenses",
            &json!({
                "spent_on": "2027-01-12", "supplier": "Screwfix", "category": "cost_of_goods",
                "net_pence": 4500, "vat_pence": 900, "receipt_file_id": receipt["id"],
            }),
        )
        .await;
    assert_eq!(expense["total_pence"], 5400);
    assert_eq!(
        expense["vat_reclaimable"], false,
        "a business that is not VAT registered reclaims nothing unless told"
    );
    assert_eq!(
        expense["paid_on"], "2027-01-12",
        "a card payment is paid when spent"
    );
    assert_eq!(expense["mtd_category"], "costOfGoods");
    assert_eq!(expense["allowable"], true);
    let lunch = ada
        .create(
            "/v1/expenses",
            &json!({
                "spent_on": "2027-01-13", "supplier": "The Ivy", "category": "entertainment",
                "net_pence": 10000, "payment_method": "bank_transfer",
            }),
        )
        .await;
    assert_eq!(lunch["allowable"], false);
    assert_eq!(
        lunch["paid_on"],
        Value::Null,
        "a transfer is unpaid until it is recorded"
    );

    // Bad input: every field at once, nothing written.
    let res = ada
        .send(
            Method::POST,
            "/v1/expenses",
            Some(&json!({
                "spent_on": "2027-01-12", "supplier": "", "category": "cost_of_goods",
                "net_pence": -1, "vat_pence": 5, "vat_reclaimable": true,
                "receipt_file_id": statement["id"], "capital_item": true, "relevant_goods": true,
            })),
            &[],
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in ["supplier", "net_pence", "receipt_file_id", "relevant_goods"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let res = ada
        .send(
            Method::POST,
            "/v1/expenses",
            Some(&json!({"spent_on": "2027-01-12", "supplier": "X", "category": "yachts", "net_pence": 1})),
            &[],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    // Bob cannot attach Ada's receipt.
    let res = bob
        .send(
            Method::POST,
            "/v1/expenses",
            Some(
                &json!({"spent_on": "2027-01-12", "supplier": "X", "category": "other",
                          "net_pence": 1, "receipt_file_id": receipt["id"]}),
            ),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    assert_eq!(app.count("SELECT count(*) FROM app.expenses").await, 2);

    let filtered = ada.get("/v1/expenses?category=entertainment").await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let ranged = ada.get("/v1/expenses?from=2027-01-13&to=2027-01-31").await;
    assert_eq!(ranged["items"][0]["supplier"], "The Ivy");

    // Deleting the expense takes its receipt, in the database and in the store.
    store_holds(&app, 2).await;
    let id = expense["id"].as_str().unwrap();
    ada.succeeds(Method::DELETE, &format!("/v1/expenses/{id}"), None)
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.files WHERE purpose = 'receipt'")
            .await,
        0
    );
    store_holds(&app, 1).await;

    // And a deleted account leaves nothing in the store.
    let second: Value = upload(&ada, "purpose=document", PDF, "application/pdf")
        .await
        .json()
        .await
        .unwrap();
    ada.create(
        "/v1/expenses",
        &json!({"spent_on": "2027-02-01", "supplier": "Staples", "category": "admin",
                 "net_pence": 1000, "receipt_file_id": null}),
    )
    .await;
    assert!(second["id"].is_string());
    store_holds(&app, 2).await;
    let res = ada
        .send(
            Method::DELETE,
            "/v1/account",
            Some(&json!({"password": PASSWORD})),
            &[],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    store_holds(&app, 0).await;
}

#[tokio::test]
async fn an_s3_bucket_holds_the_files_when_configured() {
    let s3 = crate::fake_s3::FakeS3::start("AKIAMINIME", "s3-secret-key", "eu-west-2", "receipts");
    let endpoint = s3.url();
    let app = TestApp::spawn_with(&[
        ("MINIME_FILE_STORE", "s3"),
        ("MINIME_S3_ENDPOINT", endpoint.as_str()),
        ("MINIME_S3_BUCKET", "receipts"),
        ("MINIME_S3_REGION", "eu-west-2"),
        ("MINIME_S3_ACCESS_KEY_ID", "AKIAMINIME"),
        ("MINIME_S3_SECRET_ACCESS_KEY", "s3-secret-key"),
        ("MINIME_S3_PREFIX", "minime/"),
    ])
    .await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let res = upload(&ada, "purpose=receipt&name=r.pdf", PDF, "application/pdf").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let file: Value = res.json().await.unwrap();
    let objects = s3.objects();
    assert_eq!(objects.len(), 1);
    let (key, bytes) = objects.iter().next().unwrap();
    assert!(
        key.starts_with("minime/") && key.len() == "minime/".len() + 32,
        "{key}"
    );
    assert_eq!(bytes.as_slice(), PDF);
    assert!(stored(&app).is_empty(), "nothing on local disk");

    let id = file["id"].as_str().unwrap();
    let res = ada
        .send(Method::GET, &format!("/v1/files/{id}/content"), None, &[])
        .await;
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    ada.succeeds(Method::DELETE, &format!("/v1/files/{id}"), None)
        .await;
    for _ in 0..100 {
        if s3.objects().is_empty() {
            break;
        }
        app.wake_jobs();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(s3.objects().is_empty());
    // Every request was signed, and every signature held.
    let requests = s3.requests();
    assert!(requests.len() >= 3);
    assert!(requests.iter().all(|r| r.verified), "{requests:?}");
}

#[tokio::test]
async fn a_bucket_that_refuses_loses_nothing() {
    // A wrong secret: the store refuses every request, so the upload fails whole.
    let s3 = crate::fake_s3::FakeS3::start("AKIAMINIME", "s3-secret-key", "eu-west-2", "receipts");
    let endpoint = s3.url();
    let app = TestApp::spawn_with(&[
        ("MINIME_FILE_STORE", "s3"),
        ("MINIME_S3_ENDPOINT", endpoint.as_str()),
        ("MINIME_S3_BUCKET", "receipts"),
        ("MINIME_S3_REGION", "eu-west-2"),
        ("MINIME_S3_ACCESS_KEY_ID", "AKIAMINIME"),
        ("MINIME_S3_SECRET_ACCESS_KEY", "wrong"),
    ])
    .await;
    let a = app.user("ada@example.com").await;
    let res = upload(
        &app.signed_in(&a),
        "purpose=receipt",
        PDF,
        "application/pdf",
    )
    .await;
    let body = problem(res, 500, "/problems/internal").await;
    assert!(
        !body.to_string().contains("SignatureDoesNotMatch"),
        "{body}"
    );
    assert_eq!(app.count("SELECT count(*) FROM app.files").await, 0);
    assert!(s3.objects().is_empty());
}
