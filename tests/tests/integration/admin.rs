//! The privacy-enhanced admin API: statistics and hashed ids only, every action audited in a
//! log nobody can change, and nothing at all for anyone who is not an administrator.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{connect, problem, two_users, TestApp, PASSWORD};

#[tokio::test]
async fn administrators_see_statistics_and_hashed_ids_only() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    minime_api::admin::cli::grant(&app.admin_url, "ada@example.com", true)
        .await
        .unwrap();
    let res = bob
        .send(
            Method::PATCH,
            "/v1/me",
            Some(&json!({"display_name": "Robert Builder"})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    bob.create("/v1/tasks", &json!({"title": "Surprise party for Ada"}))
        .await;
    let ada_id = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let bob_id = bob.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();

    let (status, body) = ada.text(Method::GET, "/v1/admin/stats", None).await;
    assert_eq!(status, 200, "{body}");
    let stats: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["users"], 2);
    assert_eq!(stats["users_by_plan"]["free"], 2);
    assert_eq!(stats["entities"]["tasks"], 1);
    // The business module is counted like every table, never shown.
    for table in [
        "invoices",
        "credit_notes",
        "quotes",
        "invoice_payments",
        "stripe_accounts",
        "expenses",
        "files",
        "bank_statements",
        "bank_transactions",
        "assistant_conversations",
    ] {
        assert_eq!(stats["entities"][table], 0, "{table}");
    }
    assert_eq!(stats["signups_per_day"][0]["count"], 2);
    assert!(stats["active_users_per_day"][0]["count"].as_i64().unwrap() >= 2);
    assert_eq!(stats["outbox"]["failed"], 0);
    assert_eq!(stats["integrations"]["calendar_connections"], 0);
    assert_eq!(stats["factors"]["totp_users"], 0);
    assert_eq!(stats["factors"]["passkeys"], 0);
    seen.push(body);

    let (status, body) = ada.text(Method::GET, "/v1/admin/users?limit=1", None).await;
    assert_eq!(status, 200);
    let first: Value = serde_json::from_str(&body).unwrap();
    seen.push(body);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, body) = ada
        .text(
            Method::GET,
            &format!("/v1/admin/users?cursor={cursor}"),
            None,
        )
        .await;
    let second: Value = serde_json::from_str(&body).unwrap();
    seen.push(body);
    assert!(second["next_cursor"].is_null());
    let users: Vec<&Value> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .collect();
    assert_eq!(users.len(), 2);
    for u in &users {
        let r = u["ref"].as_str().unwrap();
        assert_eq!(r.len(), 24);
        assert!(r.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(u["plan"], "free");
        assert_eq!(u["locked"], false);
        assert_eq!(u["created_month"].as_str().unwrap().len(), 7);
    }
    let bob_ref = users.iter().find(|u| u["admin"] == false).unwrap()["ref"]
        .as_str()
        .unwrap()
        .to_owned();
    let ada_ref = users.iter().find(|u| u["admin"] == true).unwrap()["ref"]
        .as_str()
        .unwrap()
        .to_owned();

    // Actions by hashed id.
    let path = |what: &str| format!("/v1/admin/users/{bob_ref}/{what}");
    let (status, _) = ada
        .text(Method::POST, &path("plan"), Some(&json!({"plan": "max"})))
        .await;
    assert_eq!(status, 204);
    assert_eq!(bob.get("/v1/me").await["plan"], "max");
    let res = ada
        .send(
            Method::POST,
            &path("plan"),
            Some(&json!({"plan": "platinum"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let res = ada
        .send(
            Method::POST,
            "/v1/admin/users/000000000000000000000000/lock",
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;

    let (status, _) = ada.text(Method::POST, &path("lock"), None).await;
    assert_eq!(status, 204);
    let res = bob.send(Method::GET, "/v1/me", None, &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .post(
            "/v1/auth/signin",
            json!({"email": "bob@example.com", "password": PASSWORD}),
        )
        .await;
    problem(res, 403, "/problems/account-suspended").await;
    let (_, body) = ada.text(Method::GET, "/v1/admin/stats", None).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["locked_users"],
        1
    );
    seen.push(body);
    let (status, _) = ada.text(Method::POST, &path("unlock"), None).await;
    assert_eq!(status, 204);
    let again = app.signin("bob@example.com", PASSWORD).await;
    let bob = app.signed_in(&again);
    assert_eq!(bob.get("/v1/me").await["plan"], "max");
    let (status, _) = ada.text(Method::POST, &path("sign-out"), None).await;
    assert_eq!(status, 204);
    let res = bob.send(Method::GET, "/v1/me", None, &[]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Every call is in the audit log, by hashed ids and request id.
    let (status, body) = ada
        .text(Method::GET, "/v1/admin/audit?limit=200", None)
        .await;
    assert_eq!(status, 200);
    let log: Value = serde_json::from_str(&body).unwrap();
    seen.push(body);
    let actions: Vec<(&str, Option<&str>)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str()))
        .collect();
    let bob_ref = bob_ref.as_str();
    for expected in [
        ("sign_out", Some(bob_ref)),
        ("unlock", Some(bob_ref)),
        ("lock", Some(bob_ref)),
        ("set_plan", Some(bob_ref)),
        ("list_users", None),
        ("view_stats", None),
    ] {
        assert!(
            actions.contains(&expected),
            "{expected:?} missing from {actions:?}"
        );
    }
    for e in log["items"].as_array().unwrap() {
        assert_eq!(e["actor"], ada_ref.as_str());
        assert!(e["request_id"].is_string());
    }
    assert_eq!(log["items"][0]["action"], "sign_out");

    // Nothing personal in any admin answer.
    for body in &seen {
        for secret in [
            "ada@example.com",
            "bob@example.com",
            "Robert Builder",
            "Surprise party",
            ada_id.as_str(),
            bob_id.as_str(),
        ] {
            assert!(
                !body.contains(secret),
                "an admin answer contains {secret}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn everyone_else_gets_404_on_every_admin_route() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    minime_api::admin::cli::grant(&app.admin_url, "ada@example.com", true)
        .await
        .unwrap();
    // An administrator's personal access token does not reach the admin API either.
    let pat = ada
        .create(
            "/v1/auth/tokens",
            &json!({"name": "script", "scope": "write"}),
        )
        .await;
    let token = app.bearer(pat["token"].as_str().unwrap());
    let doc = serde_json::to_value(minime_api::openapi::document()).unwrap();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/v1/admin") {
            continue;
        }
        let path = template.replace("{user_ref}", "0123456789abcdef01234567");
        for method in ["get", "post", "patch", "put", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for who in [&bob, &token] {
                let body = json!({"plan": "pro"});
                let res = who.send(m.clone(), &path, Some(&body), &[]).await;
                problem(res, 404, "/problems/not-found").await;
            }
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} admin operations");
    // The same routes work for the administrator's session (so 404 above is not a typo).
    let (status, _) = ada.text(Method::GET, "/v1/admin/stats", None).await;
    assert_eq!(status, 200);
}

fn message(err: tokio_postgres::Error) -> String {
    err.as_db_error()
        .map_or_else(|| format!("{err:?}"), |e| e.message().to_owned())
}

#[tokio::test]
async fn the_audit_log_and_personal_columns_are_out_of_reach_in_sql() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    minime_api::admin::cli::grant(&app.admin_url, "ada@example.com", true)
        .await
        .unwrap();
    let (status, _) = ada.text(Method::GET, "/v1/admin/stats", None).await;
    assert_eq!(status, 200);

    let server = connect(&app.app_db_url).await;
    for sql in [
        "UPDATE ops.admin_audit SET action = 'nothing'",
        "DELETE FROM ops.admin_audit",
        "TRUNCATE ops.admin_audit",
        "INSERT INTO ops.admin_audit (actor, action) VALUES ('x', 'forged')",
    ] {
        let err = message(server.batch_execute(sql).await.unwrap_err());
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // The admin role reads the log and nothing personal.
    for sql in [
        "UPDATE ops.admin_audit SET action = 'nothing'",
        "DELETE FROM ops.admin_audit",
        "SELECT email FROM auth.users",
        "SELECT title FROM app.tasks",
        "SELECT * FROM auth.sessions",
        "SELECT ops.admin_ref('\\x00'::bytea, gen_random_uuid())",
    ] {
        let err = message(
            server
                .batch_execute(&format!(
                    "BEGIN; SET LOCAL ROLE minime_admin; {sql}; COMMIT"
                ))
                .await
                .unwrap_err(),
        );
        assert!(err.contains("permission denied"), "{sql}: {err}");
        server.batch_execute("ROLLBACK").await.unwrap();
    }
    // Not even the owner changes it.
    let owner = app.admin().await;
    let err = message(
        owner
            .batch_execute("UPDATE ops.admin_audit SET action = 'nothing'")
            .await
            .unwrap_err(),
    );
    assert!(err.contains("append-only"), "{err}");
    let n: i64 = owner
        .query_one(
            "SELECT count(*) FROM ops.admin_audit WHERE action = 'view_stats'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}
