//! Download my data and delete my account, checked against the catalogue: every table that can
//! hold a user's rows is seeded, every such row must be in the export (or the table listed as
//! not exported, with its reason), and after deletion no uuid column anywhere holds the user's id.

use std::collections::{BTreeMap, HashSet};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp};

/// Tables of the three schemas with their uuid columns and primary key columns.
async fn catalogue(app: &TestApp) -> Vec<(String, Vec<String>, Vec<String>)> {
    let admin = app.admin().await;
    admin
        .query(
            "SELECT n.nspname || '.' || c.relname,
                    coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                                AND a.atttypid = 'uuid'::regtype), '{}'),
                    coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i
                              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                              WHERE i.indrelid = c.oid AND i.indisprimary), '{}')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('auth', 'app', 'ops') AND c.relkind = 'r' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// The primary keys (as JSON objects) of every row in `table` tied to the user: a uuid column
/// holding their id, or a row of a workspace they own.
async fn tied_rows(
    app: &TestApp,
    table: &str,
    uuid_cols: &[String],
    pk: &[String],
    user: &str,
    owned: &[String],
) -> Vec<Value> {
    let mut cond: Vec<String> = uuid_cols
        .iter()
        .map(|c| format!("t.{c} = '{user}'"))
        .collect();
    if uuid_cols.iter().any(|c| c == "workspace_id") && !owned.is_empty() {
        let list = owned
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(",");
        cond.push(format!("t.workspace_id IN ({list})"));
    }
    if cond.is_empty() || pk.is_empty() {
        return Vec::new();
    }
    let keys = pk
        .iter()
        .map(|k| format!("'{k}', t.{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT jsonb_build_object({keys})::text FROM {table} t WHERE {}",
        cond.join(" OR ")
    );
    app.admin()
        .await
        .query(&sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r.get::<_, String>(0).as_str()).unwrap())
        .collect()
}

fn contains(rows: &[&Value], key: &Value) -> bool {
    rows.iter().any(|row| {
        key.as_object()
            .unwrap()
            .iter()
            .all(|(k, v)| row.get(k) == Some(v))
    })
}

/// Ada with a row in every table that can hold one, some of it in Bob's shared workspace.
async fn seed(app: &TestApp) -> (crate::helpers::Tokens, crate::helpers::Tokens, Value, Value) {
    let a = app.user("ada@example.com").await;
    let b = app.user("bob@example.com").await;
    for who in ["ada@example.com", "bob@example.com"] {
        minime_api::admin::cli::set_plan(&app.admin_url, who, "pro")
            .await
            .unwrap();
    }
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let today = crate::helpers::user_today();
    let tomorrow = today + chrono::Duration::days(2);
    let area = ada.create("/v1/areas", &json!({"name": "Home"})).await;
    let goal = ada
        .create("/v1/goals", &json!({"title": "Fit", "area_id": area["id"]}))
        .await;
    ada.create(
        "/v1/milestones",
        &json!({"goal_id": goal["id"], "title": "5k"}),
    )
    .await;
    let project = ada
        .create(
            "/v1/projects",
            &json!({"title": "Move", "goal_id": goal["id"]}),
        )
        .await;
    let task = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Pack", "project_id": project["id"], "estimate_minutes": 30}),
        )
        .await;
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/profile",
            Some(&json!({"business_name": "Ada Carpentry"})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let client = ada
        .create("/v1/clients", &json!({"name": "Acme Builders"}))
        .await;
    let job = ada
        .create(
            "/v1/business-jobs",
            &json!({"client_id": client["id"], "title": "Kitchen", "rate_pence": 25000}),
        )
        .await;
    let invoice = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client["id"], "job_id": job["id"]}),
        )
        .await;
    let issue = format!("/v1/invoices/{}/issue", invoice["id"].as_str().unwrap());
    ada.ok(Method::POST, &issue, None).await;
    let (status, _) = ada
        .call(
            Method::POST,
            &format!("/v1/invoices/{}/send", invoice["id"].as_str().unwrap()),
            Some(&json!({"to": "acme@example.com"})),
        )
        .await;
    assert_eq!(status, 202);
    let payments = format!("/v1/invoices/{}/payments", invoice["id"].as_str().unwrap());
    ada.create(&payments, &json!({"amount_pence": 1000})).await;
    ada.create(
        "/v1/credit-notes",
        &json!({"invoice_id": invoice["id"], "lines": [{"description": "Discount", "unit_price": "5"}]}),
    )
    .await;
    let logo = ada
        .request(Method::PUT, "/v1/business/profile/logo")
        .body(crate::business::TINY_PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(logo.status(), StatusCode::CREATED);
    let schedule = ada
        .create(
            "/v1/recurring-invoices",
            &json!({"client_id": client["id"], "rrule": "FREQ=MONTHLY", "start_date": crate::helpers::calendar_today().to_string(),
                    "lines": [{"description": "Retainer", "unit_price": "100"}]}),
        )
        .await;
    // A run as the schedule's job records it (the job itself needs the clock moved on).
    app.admin()
        .await
        .execute(
            "INSERT INTO app.recurring_invoice_runs (id, workspace_id, created_by, recurring_id, occurrence, invoice_id)
             SELECT gen_random_uuid(), r.workspace_id, r.created_by, r.id, r.start_date, $2::text::uuid
             FROM app.recurring_invoices r WHERE r.id = $1::text::uuid",
            &[&schedule["id"].as_str().unwrap(), &invoice["id"].as_str().unwrap()],
        )
        .await
        .unwrap();
    let receipt: Value = ada
        .request(Method::POST, "/v1/files?purpose=receipt&name=r.png")
        .body(crate::business::TINY_PNG.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ada.create(
        "/v1/expenses",
        &json!({"spent_on": "2027-01-12", "supplier": "Screwfix", "category": "repairs",
                "net_pence": 4500, "vat_pence": 900, "receipt_file_id": receipt["id"]}),
    )
    .await;
    ada.ok(
        Method::PUT,
        "/v1/business/vat-settings",
        Some(&json!({"scheme": "standard", "basis": "cash"})),
    )
    .await;
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
    assert_eq!(statement["lines_new"], 1, "{statement}");
    ada.ok(Method::PATCH, "/v1/me", Some(&json!({"ai_enabled": true})))
        .await;
    let conversation = ada
        .create(
            "/v1/business-assistant/conversations",
            &json!({"question": "Who owes me money?"}),
        )
        .await;
    assert_eq!(conversation["messages"].as_array().unwrap().len(), 2);
    let quote = ada
        .create(
            "/v1/quotes",
            &json!({"client_id": client["id"], "lines": [{"description": "Quote", "unit_price": "9"}]}),
        )
        .await;
    ada.ok(
        Method::POST,
        &format!("/v1/quotes/{}/send", quote["id"].as_str().unwrap()),
        None,
    )
    .await;
    let stripe = ada
        .send(
            Method::PUT,
            "/v1/business/stripe",
            Some(&json!({"api_key": "rk_test_seed", "webhook_secret": "whsec_seed"})),
            &[],
        )
        .await;
    assert_eq!(stripe.status(), StatusCode::CREATED);
    let stripe: Value = stripe.json().await.unwrap();
    let hook = url::Url::parse(stripe["webhook_url"].as_str().unwrap()).unwrap();
    let event = br#"{"id":"evt_seed","object":"event","type":"customer.created","created":0,"data":{"object":{}}}"#;
    let now = app.clock.now().timestamp();
    let delivered = app
        .client
        .post(app.url(hook.path()))
        .header(
            "stripe-signature",
            minime_api::business::stripe::sign(b"whsec_seed", now, event),
        )
        .body(event.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), StatusCode::OK);
    let res = ada
        .send(
            Method::POST,
            "/v1/tasks",
            Some(&json!({"title": "Replayable"})),
            &[("idempotency-key", "seed-1")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let routine = ada
        .create(
            "/v1/routines",
            &json!({"title": "Stretch", "rrule": "FREQ=DAILY", "start_date": today}),
        )
        .await;
    ada.succeeds(
        Method::POST,
        &format!(
            "/v1/routines/{}/completions",
            routine["id"].as_str().unwrap()
        ),
        Some(&json!({"date": today, "outcome": "done"})),
    )
    .await;
    ada.create("/v1/captures", &json!({"text": "Call mum"}))
        .await;
    ada.create(
        "/v1/reviews",
        &json!({"kind": "daily", "period_start": today}),
    )
    .await;
    let decision = ada.create("/v1/decisions", &json!({"title": "Car?"})).await;
    ada.create(
        "/v1/decision-options",
        &json!({"decision_id": decision["id"], "title": "Bike"}),
    )
    .await;
    ada.create("/v1/rules", &json!({"name": "R", "trigger": {"type": "task_completed"}, "actions": [{"type": "notify", "message": "x"}]})).await;
    // The rule runs when a task is completed (a rule run).
    ada.ok(
        Method::POST,
        &format!("/v1/tasks/{}/complete", task["id"].as_str().unwrap()),
        None,
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.count("SELECT count(*) FROM app.rule_runs").await == 0 {
        assert!(std::time::Instant::now() < deadline, "the rule did not run");
        app.wake_jobs();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    ada.create(
        "/v1/focus-sessions",
        &json!({"task_id": task["id"], "started_at": "2026-01-05T09:00:00Z", "ended_at": "2026-01-05T09:25:00Z"}),
    )
    .await;
    ada.succeeds(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({"max_block_minutes": 60})),
    )
    .await;
    ada.succeeds(
        Method::PATCH,
        "/v1/onboarding",
        Some(&json!({"default_energy": "high"})),
    )
    .await;
    ada.succeeds(Method::POST, "/v1/plans", Some(&json!({"date": tomorrow})))
        .await;
    ada.create(
        "/v1/auth/tokens",
        &json!({"name": "backup", "scope": "read"}),
    )
    .await;
    ada.succeeds(Method::PATCH, "/v1/me", Some(&json!({"ai_enabled": true})))
        .await;
    ada.create(
        "/v1/ai/smart-add/previews",
        &json!({"text": "Buy stamps tomorrow"}),
    )
    .await;

    // Ada's shared workspace with Bob in it, and Bob's with Ada writing in it.
    let shared = ada
        .create("/v1/workspaces", &json!({"name": "Family"}))
        .await;
    let invite = ada
        .succeeds(
            Method::POST,
            &format!("/v1/workspaces/{}/invites", shared["id"].as_str().unwrap()),
            Some(&json!({})),
        )
        .await;
    bob.succeeds(
        Method::POST,
        "/v1/invites/accept",
        Some(&json!({"token": invite["token"]})),
    )
    .await;
    ada.create(
        "/v1/workspaces/x/invites"
            .replace("x", shared["id"].as_str().unwrap())
            .as_str(),
        &json!({"email": "carol@example.com"}),
    )
    .await;
    let club = bob.create("/v1/workspaces", &json!({"name": "Club"})).await;
    let invite = bob
        .succeeds(
            Method::POST,
            &format!("/v1/workspaces/{}/invites", club["id"].as_str().unwrap()),
            Some(&json!({})),
        )
        .await;
    ada.succeeds(
        Method::POST,
        "/v1/invites/accept",
        Some(&json!({"token": invite["token"]})),
    )
    .await;
    ada.create(
        "/v1/tasks",
        &json!({"title": "Bring snacks", "workspace_id": club["id"]}),
    )
    .await;
    bob.create(
        "/v1/tasks",
        &json!({"title": "Book the hall", "workspace_id": club["id"]}),
    )
    .await;

    // A failed sign-in, an administrator role.
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "ada@example.com", "password": "not-the-password-1"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.admin()
        .await
        .execute(
            "INSERT INTO auth.admins (user_id) SELECT id FROM auth.users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap();
    // A device subscribed to Ada's notifications.
    app.admin()
        .await
        .execute(
            "INSERT INTO auth.push_subscriptions (id, user_id, endpoint, p256dh, auth, device)
             SELECT gen_random_uuid(), id, 'https://push.example/ada', decode('04' || repeat('07', 64), 'hex'),
                    decode(repeat('01', 16), 'hex'), 'Firefox on Linux'
             FROM auth.users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap();
    // A calendar Ada connected, with one cached occurrence (the URL sealed: bytes here).
    app.admin()
        .await
        .execute(
            "WITH c AS (INSERT INTO auth.calendar_connections (user_id, url, host, connected_at)
                        SELECT id, '\\x00'::bytea, 'calendar.example', now() FROM auth.users WHERE email = 'ada@example.com'
                        RETURNING user_id)
             INSERT INTO auth.calendar_events (user_id, position, uid, starts_at, ends_at, start_text, end_text,
                                               all_day, summary, status, busy)
             SELECT user_id, 0, 'standup@example', now(), now() + interval '15 minutes',
                    '2026-12-01T09:00:00+01:00', '2026-12-01T09:15:00+01:00', false, 'Standup', 'confirmed', true
             FROM c",
            &[],
        )
        .await
        .unwrap();
    // A Gmail mailbox connected to Ada's account, a message kept from it, a consent under way.
    app.admin()
        .await
        .batch_execute(
            "INSERT INTO auth.gmail_accounts (user_id, address, refresh_token, connected_at)
               SELECT id, 'ada@gmail.com', '\\x00'::bytea, now() FROM auth.users WHERE email = 'ada@example.com';
             INSERT INTO auth.gmail_messages (user_id, gmail_id, thread_id, sender, subject, snippet, received_at)
               SELECT id, 'm1', 't1', 'Grace <grace@example.com>', 'Lunch?', 'Friday?', now()
               FROM auth.users WHERE email = 'ada@example.com';
             INSERT INTO auth.gmail_oauth_states (state_hash, user_id, verifier, created_at, expires_at)
               SELECT sha256('state'), id, '\\x00'::bytea, now(), now() + interval '10 minutes'
               FROM auth.users WHERE email = 'ada@example.com';",
        )
        .await
        .unwrap();
    // Second factors: an authenticator app (its secret sealed: bytes here), a used recovery code,
    // a passkey marked as possibly cloned, a sign-in step under way; and Ada's sessions confirmed
    // with a factor just now, as sensitive actions of an account with factors require.
    app.admin()
        .await
        .batch_execute(
            "INSERT INTO auth.totp_factors (user_id, secret, created_at, confirmed_at, last_step)
               SELECT id, '\\x00'::bytea, now(), now(), 1 FROM auth.users WHERE email = 'ada@example.com';
             INSERT INTO auth.recovery_codes (user_id, code_hash, created_at, used_at)
               SELECT id, sha256('code'), now(), now() FROM auth.users WHERE email = 'ada@example.com';
             INSERT INTO auth.passkeys (id, user_id, credential_id, name, credential, backup_eligible,
                                        backup_state, created_at, possibly_cloned_at)
               SELECT gen_random_uuid(), id, '\\x0102'::bytea, 'Phone', '{}', true, true, now(), now()
               FROM auth.users WHERE email = 'ada@example.com';
             INSERT INTO auth.pending_steps (token_hash, kind, user_id, expires_at)
               SELECT sha256('step'), 'mfa', id, now() + interval '5 minutes'
               FROM auth.users WHERE email = 'ada@example.com';
             UPDATE auth.sessions SET auth_method = 'password_totp', authenticated_at = now()
               WHERE user_id = (SELECT id FROM auth.users WHERE email = 'ada@example.com');",
        )
        .await
        .unwrap();
    // A job queued to act as Ada, due later.
    app.admin()
        .await
        .execute(
            "INSERT INTO ops.jobs (kind, user_id, run_at) SELECT 'test.later', id, now() + interval '1 day' FROM auth.users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap();
    (a, b, shared, club)
}

#[tokio::test]
async fn export_holds_every_row_and_deletion_leaves_none() {
    // A key ring, so that the seed holds sealed secrets too (the Stripe account).
    let ring = minime_api::secrets::KeyRing::generate("k1");
    let app = TestApp::spawn_with(&[("MINIME_SECRET_KEYS", ring.as_str())]).await;
    let (a, b, shared, club) = seed(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let me = ada.get("/v1/me").await;
    let ada_id = me["id"].as_str().unwrap().to_owned();
    let owned: Vec<String> = app
        .admin()
        .await
        .query(
            "SELECT id::text FROM app.workspaces WHERE owner_id = $1::text::uuid",
            &[&ada_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(owned.len(), 2);

    let pat = ada
        .create(
            "/v1/auth/tokens",
            &json!({"name": "export", "scope": "read"}),
        )
        .await;
    let res = app
        .client
        .get(app.url("/v1/account/export"))
        .bearer_auth(pat["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    problem(res, 403, "/problems/insufficient-scope").await;
    let res = ada.send(Method::GET, "/v1/account/export", None, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["complete"], true);
    assert_eq!(export["manifest"]["format_version"], 1);
    let sections = export["sections"].as_object().unwrap();
    for (name, n) in export["manifest"]["counts"].as_object().unwrap() {
        assert_eq!(
            sections[name].as_array().unwrap().len() as u64,
            n.as_u64().unwrap(),
            "{name}"
        );
    }
    // Every stored file's bytes come along, checked against the listed digest and size.
    let files = sections["files"].as_array().unwrap();
    let contents = export["file_contents"].as_array().unwrap();
    assert!(!files.is_empty());
    assert_eq!(files.len(), contents.len());
    for file in files {
        let id = &file["id"];
        let content = contents.iter().find(|c| &c["id"] == id).expect("its bytes");
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content["content_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes.len() as u64, file["size_bytes"].as_u64().unwrap());
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        assert_eq!(content["sha256"], digest);
        assert_eq!(file["sha256"], format!("\\x{digest}"));
    }
    let text = export.to_string();
    for secret in [
        "password_hash",
        "token_hash",
        "body_text",
        "$argon2id",
        "store_key",
    ] {
        assert!(!text.contains(secret), "the export contains {secret}");
    }
    // Factors are listed without what would let anyone use them.
    let totp = &sections["totp_factor"].as_array().unwrap()[0];
    assert!(totp.get("secret").is_none() && totp["confirmed_at"].is_string());
    let passkey = &sections["passkeys"].as_array().unwrap()[0];
    assert!(passkey.get("credential").is_none());
    assert_eq!(passkey["name"], "Phone");
    assert!(passkey["possibly_cloned_at"].is_string());
    assert_eq!(sections["recovery_codes"][0]["left"], 0);
    assert!(
        !text.contains("Book the hall"),
        "Bob's row in Bob's workspace was exported"
    );
    let all_rows: Vec<&Value> = sections
        .values()
        .flat_map(|s| s.as_array().unwrap())
        .collect();

    let not_exported: HashSet<&str> = minime_api::account::export::NOT_EXPORTED
        .iter()
        .map(|(t, _)| *t)
        .collect();
    let catalogue = catalogue(&app).await;
    let mut seeded = BTreeMap::new();
    for (table, uuid_cols, pk) in &catalogue {
        let rows = tied_rows(&app, table, uuid_cols, pk, &ada_id, &owned).await;
        seeded.insert(table.clone(), rows.len());
        if not_exported.contains(table.as_str()) {
            continue;
        }
        for key in &rows {
            assert!(
                contains(&all_rows, key),
                "{table} row {key} is not in the export: export it, or list it in NOT_EXPORTED with the reason"
            );
        }
    }
    // Every table that can reference a user or a workspace was seeded, so a new one is covered.
    for (table, uuid_cols, _) in &catalogue {
        let holds_user_data = uuid_cols
            .iter()
            .any(|c| c == "user_id" || c == "created_by" || c == "workspace_id" || c == "owner_id");
        if holds_user_data {
            assert!(seeded[table] > 0, "the seed has no row of {table}: add one");
        }
    }

    // Deletion: the password again, then a choice for the shared workspace Bob is in.
    let wrong = ada
        .send(
            Method::DELETE,
            "/v1/account",
            Some(&json!({"password": "wrong-password-123"})),
            &[],
        )
        .await;
    problem(wrong, 422, "/problems/validation").await;
    let password = crate::helpers::PASSWORD;
    let res = ada
        .send(
            Method::DELETE,
            "/v1/account",
            Some(&json!({"password": password})),
            &[],
        )
        .await;
    let body = problem(res, 409, "/problems/conflict").await;
    let sid = shared["id"].as_str().unwrap();
    assert_eq!(body["errors"][0]["field"], format!("workspaces.{sid}"));
    assert!(
        ada.get("/v1/me").await["id"].is_string(),
        "a refused deletion removed the account"
    );
    let pat = ada
        .create("/v1/auth/tokens", &json!({"name": "t", "scope": "read"}))
        .await;
    let res = app
        .client
        .delete(app.url("/v1/account"))
        .bearer_auth(pat["token"].as_str().unwrap())
        .json(&json!({"password": password}))
        .send()
        .await
        .unwrap();
    problem(res, 403, "/problems/insufficient-scope").await;

    let receipt = ada
        .succeeds(
            Method::DELETE,
            "/v1/account",
            Some(&json!({"password": password, "workspaces": {sid: "transfer"}})),
        )
        .await;
    assert_eq!(receipt["user_id"], ada_id.as_str());
    assert_eq!(receipt["removed"]["auth.users"], 1);
    assert!(
        receipt["removed"]["app.tasks"].as_i64().unwrap() >= 3,
        "{receipt}"
    );
    assert_eq!(receipt["workspaces_transferred"], json!([sid]));
    assert_eq!(receipt["workspaces_deleted"].as_array().unwrap().len(), 1);

    let admin = app.admin().await;
    for (table, uuid_cols, _) in &catalogue {
        for col in uuid_cols {
            let n: i64 = admin
                .query_one(
                    &format!("SELECT count(*) FROM {table} WHERE {col} = $1::text::uuid"),
                    &[&ada_id],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(n, 0, "{table}.{col} still holds the deleted user's id");
        }
    }
    let leftovers: i64 = admin
        .query_one(
            "SELECT (SELECT count(*) FROM ops.rate_limits WHERE key LIKE '%' || $1 || '%')
                  + (SELECT count(*) FROM auth.signin_failures WHERE email_hash = sha256(convert_to('email:ada@example.com', 'UTF8')))",
            &[&ada_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0);

    // Ada's session is gone; Bob owns Family now, and Club lost only Ada's row.
    let res = ada.send(Method::GET, "/v1/me", None, &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let family = bob.get(&format!("/v1/workspaces/{sid}")).await;
    assert_eq!(family["role"], "owner", "{family}");
    let club_tasks = bob
        .get(&format!(
            "/v1/tasks?workspace_id={}",
            club["id"].as_str().unwrap()
        ))
        .await;
    let titles: Vec<&str> = club_tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Book the hall"]);
}
