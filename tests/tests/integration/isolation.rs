//! The isolation matrix, generated from the OpenAPI document: for every operation that takes an
//! id in its path, another user using Ada's ids gets exactly what a made-up id gets — a 404 —
//! and no row anywhere changes. A new endpoint is covered without writing a test for it.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::{helpers::two_users, helpers::TestApp};

/// A fingerprint of every row of every table in `app`, so that any change shows.
async fn fingerprint(app: &TestApp) -> Vec<(String, Option<String>)> {
    let admin = app.admin().await;
    let tables: Vec<String> = admin
        .query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND c.relkind = 'r' ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::new();
    for table in tables {
        let sql =
            format!("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM app.{table} t");
        out.push((table, admin.query_one(&sql, &[]).await.unwrap().get(0)));
    }
    out
}

#[tokio::test]
async fn another_user_cannot_reach_any_row_by_id() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "pro")
        .await
        .unwrap();
    minime_api::admin::cli::set_plan(&app.admin_url, "bob@example.com", "pro")
        .await
        .unwrap();
    let today = crate::helpers::user_today().to_string();

    // One row of everything Ada can own.
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut make = |prefix: &'static str, row: Value| {
        ids.insert(prefix, row["id"].as_str().unwrap().to_owned());
        row
    };
    make(
        "areas",
        ada.create("/v1/areas", &json!({"name": "Home"})).await,
    );
    let goal = make(
        "goals",
        ada.create("/v1/goals", &json!({"title": "Goal"})).await,
    );
    make(
        "milestones",
        ada.create(
            "/v1/milestones",
            &json!({"goal_id": goal["id"], "title": "M"}),
        )
        .await,
    );
    make(
        "projects",
        ada.create("/v1/projects", &json!({"title": "P"})).await,
    );
    let client = make(
        "clients",
        ada.create("/v1/clients", &json!({"name": "C"})).await,
    );
    let job = make(
        "business-jobs",
        ada.create(
            "/v1/business-jobs",
            &json!({"client_id": client["id"], "title": "J", "rate_pence": 100}),
        )
        .await,
    );
    for c in [&ada, &bob] {
        c.send(
            Method::PUT,
            "/v1/business/profile",
            Some(&json!({"business_name": "B"})),
            &[],
        )
        .await;
    }
    let invoice = make(
        "invoices",
        ada.create(
            "/v1/invoices",
            &json!({"client_id": client["id"], "job_id": job["id"]}),
        )
        .await,
    );
    let invoice_path = format!("/v1/invoices/{}", invoice["id"].as_str().unwrap());
    ada.ok(Method::POST, &format!("{invoice_path}/issue"), None)
        .await;
    let payment = ada
        .create(
            &format!("{invoice_path}/payments"),
            &json!({"amount_pence": 10}),
        )
        .await;
    make(
        "credit-notes",
        ada.create(
            "/v1/credit-notes",
            &json!({"invoice_id": invoice["id"], "lines": [{"description": "x", "unit_price": "0.10"}]}),
        )
        .await,
    );
    make(
        "quotes",
        ada.create(
            "/v1/quotes",
            &json!({"client_id": client["id"], "lines": [{"description": "q", "unit_price": "1"}]}),
        )
        .await,
    );
    make(
        "recurring-invoices",
        ada.create(
            "/v1/recurring-invoices",
            &json!({"client_id": client["id"], "rrule": "FREQ=MONTHLY", "start_date": crate::helpers::calendar_today().to_string(),
                    "lines": [{"description": "r", "unit_price": "1"}]}),
        )
        .await,
    );
    let receipt: Value = ada
        .request(Method::POST, "/v1/files?purpose=receipt&name=r.png")
        .body(crate::business::TINY_PNG.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    make("files", receipt.clone());
    make(
        "expenses",
        ada.create(
            "/v1/expenses",
            &json!({"spent_on": today, "supplier": "S", "category": "admin", "net_pence": 100,
                    "receipt_file_id": receipt["id"]}),
        )
        .await,
    );
    ada.ok(
        Method::PUT,
        "/v1/bank-statements/mappings/seed-bank",
        Some(
            &json!({"date_column": "When", "date_format": "%Y-%m-%d", "description_column": "What",
                     "amount": {"kind": "single", "column": "Amount", "debit_negative": true}}),
        ),
    )
    .await;
    let statement: Value = ada
        .request(Method::POST, "/v1/bank-statements?layout=seed-bank")
        .body("When,What,Amount\n2027-01-05,Interest,0.42\n")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    make("bank-statements", statement);
    let lines = ada.get("/v1/bank-transactions").await;
    make("bank-transactions", lines["items"][0].clone());
    ada.ok(Method::PATCH, "/v1/me", Some(&json!({"ai_enabled": true})))
        .await;
    let conversation = ada
        .create(
            "/v1/business-assistant/conversations",
            &json!({"question": "Who owes me money?"}),
        )
        .await;
    make("business-assistant/conversations", conversation);
    let documents = ada.get("/v1/documents").await;
    make("documents", documents["items"][0].clone());
    make(
        "tasks",
        ada.create(
            "/v1/tasks",
            &json!({"title": "T", "due_date": today, "recurrence": "FREQ=DAILY"}),
        )
        .await,
    );
    let routine = make(
        "routines",
        ada.create(
            "/v1/routines",
            &json!({"title": "R", "rrule": "FREQ=DAILY", "start_date": today}),
        )
        .await,
    );
    make(
        "captures",
        ada.create("/v1/captures", &json!({"text": "C"})).await,
    );
    make(
        "reviews",
        ada.create(
            "/v1/reviews",
            &json!({"kind": "daily", "period_start": today}),
        )
        .await,
    );
    let decision = make(
        "decisions",
        ada.create("/v1/decisions", &json!({"title": "D"})).await,
    );
    let option = make(
        "decision-options",
        ada.create(
            "/v1/decision-options",
            &json!({"decision_id": decision["id"], "title": "O"}),
        )
        .await,
    );
    make(
        "rules",
        ada.create("/v1/rules", &json!({"name": "R", "trigger": {"type": "task_completed"}, "actions": [{"type": "notify", "message": "x"}]})).await,
    );
    make(
        "focus-sessions",
        ada.create("/v1/focus-sessions", &json!({})).await,
    );
    make(
        "workspaces",
        ada.create("/v1/workspaces", &json!({"name": "Shared"}))
            .await,
    );
    let wid = ids["workspaces"].clone();
    let invite: Value = ada
        .send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/invites"),
            Some(&json!({})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    ids.insert("auth/sessions", a.session_id.clone());
    let device = ada
        .create(
            "/v1/push/subscriptions",
            &json!({"endpoint": "https://1.1.1.1/push/ada", "keys": {
                "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}),
        )
        .await;
    ids.insert(
        "push/subscriptions",
        device["id"].as_str().unwrap().to_owned(),
    );
    let pat: Value = ada
        .create(
            "/v1/auth/tokens",
            &json!({"name": "script", "scope": "read"}),
        )
        .await;
    ids.insert("auth/tokens", pat["id"].as_str().unwrap().to_owned());
    let ada_me = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let passkey: String = app
        .admin()
        .await
        .query_one(
            "INSERT INTO auth.passkeys (id, user_id, credential_id, name, credential, backup_eligible,
                                        backup_state, created_at)
             VALUES (gen_random_uuid(), $1::text::uuid, '\\x0a0b', 'Ada''s key', '{}', false, false, now())
             RETURNING id::text",
            &[&ada_me],
        )
        .await
        .unwrap()
        .get(0);
    ids.insert("auth/passkeys", passkey);
    let rid = routine["id"].as_str().unwrap();
    ada.send(
        Method::POST,
        &format!("/v1/routines/{rid}/completions"),
        Some(&json!({"date": today, "outcome": "done"})),
        &[],
    )
    .await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .to_string();
    let plan: Value = ada
        .send(
            Method::POST,
            "/v1/plans",
            Some(&json!({"date": tomorrow})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    let line = plan["blocks"][0]["id"].as_str().expect("a planned line");
    ids.insert("plan-items", line.to_owned());
    ada.send(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"ai_enabled": true})),
        &[],
    )
    .await;
    let preview = ada
        .create(
            "/v1/ai/smart-add/previews",
            &json!({"text": "Buy stamps tomorrow"}),
        )
        .await;
    ids.insert("ai/previews", preview["id"].as_str().unwrap().to_owned());
    let ada_id = goal["created_by"].as_str().unwrap().to_owned();
    let bob_id = bob.get("/v1/me").await["id"].as_str().unwrap().to_owned();

    // Bodies that would be valid on Bob's own rows, so that only ownership can refuse them.
    let bodies: HashMap<&str, Value> = HashMap::from([
        ("/v1/auth/passkeys/{id}", json!({"name": "Mine now"})),
        (
            "/v1/decisions/{id}/decide",
            json!({"option_id": option["id"]}),
        ),
        (
            "/v1/routines/{id}/completions",
            json!({"date": today, "outcome": "done"}),
        ),
        ("/v1/captures/{id}/convert", json!({"to": "task"})),
        ("/v1/workspaces/{id}/transfer", json!({"user_id": bob_id})),
        ("/v1/workspaces/{id}", json!({"name": "Taken"})),
        ("/v1/invoices/{id}/payments", json!({"amount_pence": 1})),
        (
            "/v1/business-assistant/conversations/{id}/messages",
            json!({"question": "Who owes me money?"}),
        ),
        (
            "/v1/invoices/{id}/checkout",
            json!({"success_url": "https://a.example/", "cancel_url": "https://a.example/"}),
        ),
    ]);

    let doc = serde_json::to_value(minime_api::openapi::document()).unwrap();
    let before = fingerprint(&app).await;
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.contains("{id}") {
            continue;
        }
        let prefix = template
            .trim_start_matches("/v1/")
            .split("/{id}")
            .next()
            .unwrap();
        let id = ids
            .get(prefix)
            .unwrap_or_else(|| panic!("no row of Ada's for {template}: add one above"));
        let fill = |id: &str| {
            template
                .replace("{id}", id)
                .replace("{date}", &today)
                .replace("{user_id}", &ada_id)
                .replace("{invite_id}", invite["id"].as_str().unwrap())
                .replace("{payment_id}", payment["id"].as_str().unwrap())
        };
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body = bodies.get(template.as_str()).cloned().unwrap_or(json!({}));
            let body = (method != Method::GET && method != Method::DELETE).then_some(&body);
            let real = bob.send(method.clone(), &fill(id), body, &[]).await;
            let made_up = bob
                .send(
                    method.clone(),
                    &fill(&uuid::Uuid::now_v7().to_string()),
                    body,
                    &[],
                )
                .await;
            let (real_status, made_up_status) = (real.status(), made_up.status());
            let real: Value = real.json().await.unwrap_or(Value::Null);
            let made_up: Value = made_up.json().await.unwrap_or(Value::Null);
            assert_eq!(
                real_status, 404,
                "{method} {template} with Ada's id: {real}"
            );
            assert_eq!(
                (real_status, &real["type"]),
                (made_up_status, &made_up["type"]),
                "{method} {template}: Ada's id is distinguishable"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} operations checked");
    assert_eq!(
        fingerprint(&app).await,
        before,
        "a refused request changed a row"
    );
}
