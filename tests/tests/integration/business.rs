//! The business module: the business profile (one per workspace, bank details sealed and
//! masked) and clients, over HTTP with the contract every workspace resource keeps.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, Client, TestApp};

const PROFILE: &str = "/v1/business/profile";

async fn fields_of(res: reqwest::Response) -> Vec<String> {
    problem(res, 422, "/problems/validation").await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn etag_of(c: &Client<'_>, path: &str) -> String {
    let res = c.send(Method::GET, path, None, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()["etag"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn clients_keep_the_resource_contract() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);

    // Idempotent creation: the same key and body answer the first response.
    let body =
        json!({"name": "Acme Builders", "vat_number": "GB 980 7806 84", "payment_terms_days": 14});
    let first = ada
        .send(
            Method::POST,
            "/v1/clients",
            Some(&body),
            &[("idempotency-key", "c-1")],
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();
    let again: Value = ada
        .send(
            Method::POST,
            "/v1/clients",
            Some(&body),
            &[("idempotency-key", "c-1")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(app.count("SELECT count(*) FROM app.clients").await, 1);
    assert_eq!(first["vat_number"], "GB980780684");
    assert_eq!(etag, format!("\"{}\"", first["version"]));

    // PATCH with If-Match; a stale ETag is refused and changes nothing.
    let item = format!("/v1/clients/{}", first["id"].as_str().unwrap());
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"notes": "Pays late", "payment_terms_days": null})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["notes"], "Pays late");
    assert_eq!(patched["payment_terms_days"], Value::Null);
    assert_eq!(patched["name"], "Acme Builders");
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"notes": "x"})),
            &[("if-match", &etag)],
        )
        .await;
    problem(res, 412, "/problems/precondition-failed").await;
    assert_eq!(ada.get(&item).await, patched);

    // Validation names every bad field at once, and writes nothing.
    let res = ada
        .send(
            Method::POST,
            "/v1/clients",
            Some(&json!({"name": " ", "vat_number": "GB12345", "payment_terms_days": 400})),
            &[],
        )
        .await;
    let mut fields = fields_of(res).await;
    fields.sort();
    assert_eq!(fields, ["name", "payment_terms_days", "vat_number"]);
    assert_eq!(app.count("SELECT count(*) FROM app.clients").await, 1);

    // Keyset pages, newest first.
    for n in 0..4 {
        ada.create(
            "/v1/clients",
            &json!({"name": format!("Client {n}"), "archived": n % 2 == 0}),
        )
        .await;
    }
    let page = ada.get("/v1/clients?limit=3").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(page["items"][0]["name"], "Client 3");
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = ada
        .get(&format!("/v1/clients?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["next_cursor"], Value::Null);
    let archived = ada.get("/v1/clients?archived=true").await;
    assert_eq!(archived["items"].as_array().unwrap().len(), 2);

    // Delete honours If-Match.
    let res = ada
        .send(Method::DELETE, &item, None, &[("if-match", "\"1\"")])
        .await;
    problem(res, 412, "/problems/precondition-failed").await;
    let res = ada
        .send(Method::DELETE, &item, None, &[("if-match", "\"2\"")])
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = ada.send(Method::GET, &item, None, &[]).await;
    problem(res, 404, "/problems/not-found").await;
}

#[tokio::test]
async fn reverse_charge_applies_only_to_a_vat_and_cis_registered_customer_who_is_not_an_end_user() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    for vat in [false, true] {
        for cis in [false, true] {
            for end_user in [false, true] {
                let row = ada
                    .create(
                        "/v1/clients",
                        &json!({"name": "C", "vat_registered": vat, "cis_registered": cis, "end_user": end_user}),
                    )
                    .await;
                assert_eq!(
                    row["reverse_charge_applies"],
                    vat && cis && !end_user,
                    "vat {vat}, cis {cis}, end user {end_user}"
                );
            }
        }
    }
    // A change of the flags changes the answer.
    let id = ada
        .create(
            "/v1/clients",
            &json!({"name": "C", "vat_registered": true, "cis_registered": true}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let row = ada
        .ok(
            Method::PATCH,
            &format!("/v1/clients/{id}"),
            Some(&json!({"end_user": true})),
        )
        .await;
    assert_eq!(row["reverse_charge_applies"], false);
}

#[tokio::test]
async fn the_profile_is_one_per_workspace_and_validated() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let res = ada.send(Method::GET, PROFILE, None, &[]).await;
    problem(res, 404, "/problems/not-found").await;
    let res = ada
        .send(Method::PATCH, PROFILE, Some(&json!({"phone": "1"})), &[])
        .await;
    problem(res, 404, "/problems/not-found").await;

    // Every bad field at once: VRN missing when VAT-registered, bad work type, commission.
    let res = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada Carpentry", "vat_registered": true, "work_type": "employed",
                         "agency_commission_bp": 10001, "country": "uk"})),
            &[],
        )
        .await;
    let mut fields = fields_of(res).await;
    fields.sort();
    assert_eq!(
        fields,
        ["agency_commission_bp", "country", "vrn", "work_type"]
    );
    let res = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada Carpentry", "vat_registered": true, "vrn": "GB12345678X"})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["vrn"]);
    let res = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada Carpentry", "vrn": "980780684"})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["vrn"]);
    // Well formed, but its check digits do not match (a typo of GB980780684).
    let res = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada Carpentry", "vat_registered": true, "vrn": "GB980780648"})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["vrn"]);
    assert_eq!(
        app.count("SELECT count(*) FROM app.business_profiles")
            .await,
        0
    );

    // PUT creates, then replaces whole; If-Match applies.
    let body = json!({"business_name": "Ada Carpentry", "vat_registered": true, "vrn": "GB 980780684",
                      "address_lines": ["1 High Street", "Bristol"], "postcode": "BS1 1AA",
                      "work_type": "agency", "agency_commission_bp": 1250});
    let res = ada
        .send(Method::PUT, PROFILE, Some(&body), &[("if-match", "\"1\"")])
        .await;
    problem(res, 412, "/problems/precondition-failed").await;
    let res = ada.send(Method::PUT, PROFILE, Some(&body), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["vrn"], "GB980780684");
    assert_eq!(created["payment_terms_days"], 30);
    assert_eq!(created["bank_details"], Value::Null);
    assert_eq!(ada.get(PROFILE).await, created);
    let replaced = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada Joinery"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(replaced.status(), StatusCode::OK);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["id"], created["id"]);
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["vat_registered"], false);
    assert_eq!(replaced["address_lines"], json!([]));
    let res = ada
        .send(Method::PUT, PROFILE, Some(&body), &[("if-match", "\"1\"")])
        .await;
    problem(res, 412, "/problems/precondition-failed").await;

    // PATCH merges and is validated like a PUT.
    let res = ada
        .send(
            Method::PATCH,
            PROFILE,
            Some(&json!({"vat_registered": true})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["vrn"]);
    let patched = ada
        .ok(
            Method::PATCH,
            PROFILE,
            Some(&json!({"vat_registered": true, "vrn": "434031494", "accountant_name": "Grace"})),
        )
        .await;
    assert_eq!(patched["business_name"], "Ada Joinery");
    assert_eq!(patched["vrn"], "GB434031494");
    assert_eq!(patched["version"], 3);
    let res = ada
        .send(
            Method::PATCH,
            PROFILE,
            Some(&json!({"phone": "1"})),
            &[("if-match", "\"2\"")],
        )
        .await;
    problem(res, 412, "/problems/precondition-failed").await;

    // A workspace of one's own only.
    let other = app.user("bob@example.com").await;
    let bob = app.signed_in(&other);
    let ws = created["workspace_id"].as_str().unwrap();
    let res = bob.send(Method::GET, PROFILE, None, &[]).await;
    problem(res, 404, "/problems/not-found").await;
    let res = bob
        .send(
            Method::GET,
            &format!("{PROFILE}?workspace_id={ws}"),
            None,
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["workspace_id"]);
    let res = bob
        .send(
            Method::PATCH,
            &format!("{PROFILE}?workspace_id={ws}"),
            Some(&json!({"phone": "1"})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["workspace_id"]);
    assert_eq!(ada.get(PROFILE).await, patched);
}

#[tokio::test]
async fn another_user_sees_none_of_the_clients() {
    let app = TestApp::spawn().await;
    let (a, b) = crate::helpers::two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let client = ada.create("/v1/clients", &json!({"name": "Acme"})).await;
    let item = format!("/v1/clients/{}", client["id"].as_str().unwrap());
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "Mine"}))),
        (Method::DELETE, None),
    ] {
        let res = bob.send(method, &item, body.as_ref(), &[]).await;
        problem(res, 404, "/problems/not-found").await;
    }
    assert_eq!(bob.get("/v1/clients").await["items"], json!([]));
    let ws = client["workspace_id"].as_str().unwrap();
    let res = bob
        .send(
            Method::POST,
            "/v1/clients",
            Some(&json!({"name": "In", "workspace_id": ws})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["workspace_id"]);
    assert_eq!(ada.get(&item).await, client);
}

fn pg_dump(url: &str) -> String {
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("bin/pg_dump"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    let dump = std::process::Command::new(found.pop().unwrap_or_else(|| "pg_dump".into()))
        .arg("--data-only")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    String::from_utf8_lossy(&dump.stdout).into_owned()
}

/// Bank details are sealed at rest, only ever shown masked, kept by a patch that does not
/// name them, and resealed by `minime secrets rotate`.
#[tokio::test]
async fn bank_details_are_sealed_masked_and_resealed() {
    use minime_api::secrets::KeyRing;
    let (old, new) = (KeyRing::generate("old"), KeyRing::generate("new"));
    let app = TestApp::spawn_with(&[("MINIME_SECRET_KEYS", old.as_str())]).await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);

    let res = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada", "bank_details": {"sort_code": "20-71-9", "account_number": "7391528X"}})),
            &[],
        )
        .await;
    let mut fields = fields_of(res).await;
    fields.sort();
    assert_eq!(
        fields,
        ["bank_details.account_number", "bank_details.sort_code"]
    );

    let (status, text) = ada
        .text(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada", "bank_details": {"sort_code": "20-71-94", "account_number": "73915284"}})),
        )
        .await;
    assert_eq!(status, 201, "{text}");
    let row: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        row["bank_details"],
        json!({"sort_code": "20-71-**", "account_number": "****5284"})
    );
    let (_, shown) = ada.text(Method::GET, PROFILE, None).await;
    for full in ["207194", "20-71-94", "73915284"] {
        assert!(
            !text.contains(full) && !shown.contains(full),
            "{full} shown"
        );
    }

    let dump = pg_dump(&app.admin_url);
    assert!(dump.contains("Ada"), "the dump holds the profile");
    for full in ["207194", "73915284"] {
        assert!(!dump.contains(full), "{full} is in the dump in clear");
    }

    // A patch that does not name them keeps them; one that does replaces them.
    let etag = etag_of(&ada, PROFILE).await;
    let kept = ada
        .ok(
            Method::PATCH,
            PROFILE,
            Some(&json!({"phone": "0117 000 0000"})),
        )
        .await;
    assert_eq!(kept["bank_details"], row["bank_details"]);
    assert_ne!(etag, etag_of(&ada, PROFILE).await);

    let vars = |ring: &str| -> std::collections::HashMap<String, String> {
        [
            ("DATABASE_URL", app.admin_url.as_str()),
            ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
            ("MINIME_SECRET_KEYS", ring),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    let both = minime_api::config::Config::from_vars(&vars(&format!("{new},{old}"))).unwrap();
    assert_eq!(
        minime_api::admin::cli::rotate_secrets(&both).await.unwrap(),
        1
    );
    let kid = "SELECT convert_from(substring(bank_details from 2 for get_byte(bank_details, 0)), 'UTF8') \
               FROM app.business_profiles";
    let admin = app.admin().await;
    assert_eq!(
        admin.query_one(kid, &[]).await.unwrap().get::<_, String>(0),
        "new"
    );
    let workspace = row["workspace_id"].as_str().unwrap();
    let sealed: Vec<u8> = admin
        .query_one("SELECT bank_details FROM app.business_profiles", &[])
        .await
        .unwrap()
        .get(0);
    let only_new = minime_api::config::Config::from_vars(&vars(&new)).unwrap();
    let place = minime_api::secrets::Place {
        table: "app.business_profiles",
        column: "bank_details",
        row: workspace,
    };
    let plain: Value = serde_json::from_slice(
        &only_new
            .secret_keys
            .as_deref()
            .unwrap()
            .open(place, &sealed)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        plain,
        json!({"sort_code": "207194", "account_number": "73915284"})
    );

    let cleared = ada
        .ok(Method::PATCH, PROFILE, Some(&json!({"bank_details": null})))
        .await;
    assert_eq!(cleared["bank_details"], Value::Null);
    assert_eq!(
        app.count("SELECT count(*) FROM app.business_profiles WHERE bank_details IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn jobs_belong_to_a_client_of_their_own_workspace() {
    let app = TestApp::spawn().await;
    let (a, b) = crate::helpers::two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "pro")
        .await
        .unwrap();
    let client = ada.create("/v1/clients", &json!({"name": "Acme"})).await;
    let shared = ada
        .create("/v1/workspaces", &json!({"name": "Partnership"}))
        .await;

    let body = json!({"client_id": client["id"], "title": "Kitchen fit-out", "fee_kind": "daily",
                      "quantity": "4.5", "rate_pence": 25000, "start_date": "2027-01-04", "end_date": "2027-01-08"});
    let res = ada
        .send(
            Method::POST,
            "/v1/business-jobs",
            Some(&body),
            &[("idempotency-key", "j-1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let job: Value = res.json().await.unwrap();
    assert_eq!(job["quantity"], "4.5");
    assert_eq!(job["rate_pence"], 25000);
    assert_eq!(job["status"], "planned");
    let again: Value = ada
        .send(
            Method::POST,
            "/v1/business-jobs",
            Some(&body),
            &[("idempotency-key", "j-1")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, job);
    let item = format!("/v1/business-jobs/{}", job["id"].as_str().unwrap());
    let patched = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"status": "done", "quantity": 5})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(
        (patched["status"].as_str(), patched["quantity"].as_str()),
        (Some("done"), Some("5"))
    );
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"status": "invoiced"})),
            &[("if-match", &etag)],
        )
        .await;
    problem(res, 412, "/problems/precondition-failed").await;

    // Every bad field at once.
    let res = ada
        .send(
            Method::POST,
            "/v1/business-jobs",
            Some(&json!({"client_id": client["id"], "title": "X", "quantity": "1.23456", "rate_pence": -1,
                         "fee_kind": "weekly", "status": "paid", "agency_commission_bp": -5,
                         "start_date": "2027-01-08", "end_date": "2027-01-04"})),
            &[],
        )
        .await;
    let mut fields = fields_of(res).await;
    fields.sort();
    assert_eq!(
        fields,
        [
            "agency_commission_bp",
            "end_date",
            "fee_kind",
            "quantity",
            "rate_pence",
            "status"
        ]
    );

    // A client of another workspace (even one's own), or of another user, is refused.
    let in_shared = json!({"client_id": client["id"], "title": "X", "rate_pence": 1, "workspace_id": shared["id"]});
    let res = ada
        .send(Method::POST, "/v1/business-jobs", Some(&in_shared), &[])
        .await;
    assert_eq!(fields_of(res).await, ["client_id"]);
    let res = bob
        .send(
            Method::POST,
            "/v1/business-jobs",
            Some(&json!({"client_id": client["id"], "title": "X", "rate_pence": 1})),
            &[],
        )
        .await;
    assert_eq!(fields_of(res).await, ["client_id"]);
    // The database itself refuses the link: the key is (workspace_id, client_id).
    let refused = app
        .admin()
        .await
        .execute(
            "INSERT INTO app.business_jobs (id, workspace_id, created_by, client_id, title, rate_pence)
             SELECT gen_random_uuid(), $1::text::uuid, created_by, id, 'X', 1 FROM app.clients",
            &[&shared["id"].as_str().unwrap()],
        )
        .await;
    let refused = refused.unwrap_err();
    assert_eq!(
        refused.as_db_error().map(|e| e.code().code()),
        Some("23503"),
        "{refused:?}"
    );
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"title": "Mine"}))),
        (Method::DELETE, None),
    ] {
        let res = bob.send(method, &item, body.as_ref(), &[]).await;
        problem(res, 404, "/problems/not-found").await;
    }

    // Listed by client; a client's jobs go with it.
    let other = ada.create("/v1/clients", &json!({"name": "Other"})).await;
    ada.create(
        "/v1/business-jobs",
        &json!({"client_id": other["id"], "title": "Y", "rate_pence": 2}),
    )
    .await;
    let page = ada
        .get(&format!(
            "/v1/business-jobs?client_id={}",
            client["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page["items"], json!([patched]));
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/clients/{}", client["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = ada.send(Method::GET, &item, None, &[]).await;
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(app.count("SELECT count(*) FROM app.business_jobs").await, 1);
}

/// Two first PUTs at once race for the one profile of the workspace: one creates it, the other
/// is told to retry (409) or replaces it; none is a server error.
#[tokio::test]
async fn profiles_created_at_once_answer_created_or_conflict_never_500() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let ada = app.signed_in(&t);
    let body = json!({"business_name": "Ada Carpentry", "vat_registered": false});
    let answers = futures_util::future::join_all(
        (0..8).map(|_| ada.send(Method::PUT, PROFILE, Some(&body), &[])),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| [200, 201, 409].contains(s)),
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM app.business_profiles")
            .await,
        1
    );
}

/// A 1×1 PNG.
pub const TINY_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x38, 0xa3, 0x24, 0x08,
    0x00, 0x02, 0xbd, 0x01, 0x00, 0xa7, 0xc4, 0x97, 0x87, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn a_logo_is_recognised_by_its_content_and_printed() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let res = ada
        .send(
            Method::PUT,
            PROFILE,
            Some(&json!({"business_name": "Ada", "address_lines": ["1 High St"]})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let upload = |bytes: Vec<u8>, declared: &'static str| {
        let req = ada
            .request(Method::PUT, "/v1/business/profile/logo")
            .header("content-type", declared)
            .body(bytes);
        async move { req.send().await.unwrap() }
    };
    // Judged by content: an SVG called PNG, text, and a broken PNG are refused.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let res = upload(svg.to_vec(), "image/png").await;
    let body = problem(res, 415, "/problems/unsupported-media-type").await;
    assert!(body["detail"].as_str().unwrap().contains("PNG"), "{body}");
    let res = upload(b"hello".to_vec(), "image/jpeg").await;
    problem(res, 415, "/problems/unsupported-media-type").await;
    let mut broken = TINY_PNG[..20].to_vec();
    broken.extend_from_slice(&[0; 40]);
    let res = upload(broken, "image/png").await;
    problem(res, 422, "/problems/validation").await;
    let res = upload(vec![0xFF; 600 * 1024], "image/jpeg").await;
    problem(res, 413, "/problems/payload-too-large").await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.business_logos").await,
        0
    );

    let res = upload(TINY_PNG.to_vec(), "application/octet-stream").await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored: Value = res.json().await.unwrap();
    assert_eq!(stored["content_type"], "image/png");
    assert_eq!(stored["size_bytes"], TINY_PNG.len());
    let res = ada
        .send(Method::GET, "/v1/business/profile/logo", None, &[])
        .await;
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().as_ref(), TINY_PNG);

    // Documents print it: the issued PDF holds an image.
    let client = ada
        .create(
            "/v1/clients",
            &json!({"name": "Sam", "address": "2 Low Rd"}),
        )
        .await;
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client["id"], "lines": [{"description": "Shelf", "unit_price": "40"}]}),
        )
        .await;
    let path = format!("/v1/invoices/{}", draft["id"].as_str().unwrap());
    ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    let pdf = ada
        .send(Method::GET, &format!("{path}/pdf"), None, &[])
        .await
        .bytes()
        .await
        .unwrap();
    let parsed = lopdf::Document::load_mem(&pdf).unwrap();
    let images = parsed
        .objects
        .values()
        .filter(|o| {
            o.as_stream().is_ok_and(|s| {
                s.dict
                    .get(b"Subtype")
                    .is_ok_and(|t| t.as_name().is_ok_and(|n| n == b"Image"))
            })
        })
        .count();
    assert!(images >= 1, "no image in the PDF");
    ada.succeeds(Method::DELETE, "/v1/business/profile/logo", None)
        .await;
    let res = ada
        .send(Method::GET, "/v1/business/profile/logo", None, &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
}
