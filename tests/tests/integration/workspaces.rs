//! Shared workspaces: plans gate them, membership drives row-level security, invitations are
//! single use and may be bound to an address.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, two_users, TestApp};

#[tokio::test]
async fn sharing_a_workspace_end_to_end() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let carol = app.user("carol@example.com").await;
    let (ada, bob, carol) = (app.signed_in(&a), app.signed_in(&b), app.signed_in(&carol));

    // Free users cannot share.
    let res = ada
        .send(
            Method::POST,
            "/v1/workspaces",
            Some(&json!({"name": "Family"})),
            &[],
        )
        .await;
    problem(res, 403, "/problems/plan-required").await;
    minime_api::admin::cli::set_plan(&app.admin_url, "ADA@example.com", "pro")
        .await
        .unwrap();
    assert!(
        minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "platinum")
            .await
            .is_err()
    );
    assert!(
        minime_api::admin::cli::set_plan(&app.admin_url, "nobody@example.com", "pro")
            .await
            .is_err()
    );

    let ws = ada
        .create("/v1/workspaces", &json!({"name": "Family"}))
        .await;
    let wid = ws["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (ws["kind"].as_str(), ws["role"].as_str()),
        (Some("shared"), Some("owner"))
    );

    // An invitation bound to Bob's address is mailed to him; Carol cannot use it.
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/invites"),
            Some(&json!({"email": "bob@example.com"})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let invite: Value = res.json().await.unwrap();
    let token = app.mail_token("bob@example.com", "invited").await;
    assert_eq!(token, invite["token"].as_str().unwrap());
    let stored = app.count(&format!("SELECT count(*) FROM app.workspace_invites WHERE token_hash = sha256('{token}'::bytea)")).await;
    assert_eq!(stored, 1, "only the hash is stored");
    problem(
        carol
            .send(
                Method::POST,
                "/v1/invites/accept",
                Some(&json!({"token": token})),
                &[],
            )
            .await,
        400,
        "/problems/invalid-token",
    )
    .await;
    // Bob cannot see the workspace before accepting.
    problem(
        bob.send(Method::GET, &format!("/v1/workspaces/{wid}"), None, &[])
            .await,
        404,
        "/problems/not-found",
    )
    .await;
    let joined: Value = bob
        .send(
            Method::POST,
            "/v1/invites/accept",
            Some(&json!({"token": token})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (joined["id"].as_str(), joined["role"].as_str()),
        (Some(wid.as_str()), Some("member"))
    );
    problem(
        bob.send(
            Method::POST,
            "/v1/invites/accept",
            Some(&json!({"token": token})),
            &[],
        )
        .await,
        400,
        "/problems/invalid-token",
    )
    .await;

    // Members see and edit each other's rows in the workspace.
    let task = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Plan the holiday", "workspace_id": wid}),
        )
        .await;
    let tid = task["id"].as_str().unwrap().to_owned();
    let res = bob
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{tid}"),
            Some(&json!({"status": "in_progress"})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let bobs = bob
        .create(
            "/v1/tasks",
            &json!({"title": "Book the train", "workspace_id": wid}),
        )
        .await;
    let page = ada.get(&format!("/v1/tasks?workspace_id={wid}")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let members = ada.get(&format!("/v1/workspaces/{wid}/members")).await;
    let roles: Vec<(&str, &str)> = members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("ada@example.com", "owner"), ("bob@example.com", "member")]
    );
    // Carol, outside, sees nothing of it.
    problem(
        carol
            .send(Method::GET, &format!("/v1/tasks/{tid}"), None, &[])
            .await,
        404,
        "/problems/not-found",
    )
    .await;
    problem(
        carol
            .send(
                Method::GET,
                &format!("/v1/workspaces/{wid}/members"),
                None,
                &[],
            )
            .await,
        404,
        "/problems/not-found",
    )
    .await;

    // Members cannot rename, invite or remove others.
    problem(
        bob.send(
            Method::PATCH,
            &format!("/v1/workspaces/{wid}"),
            Some(&json!({"name": "Mine"})),
            &[],
        )
        .await,
        403,
        "/problems/owner-only",
    )
    .await;
    problem(
        bob.send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/invites"),
            Some(&json!({})),
            &[],
        )
        .await,
        403,
        "/problems/owner-only",
    )
    .await;
    let ada_id = ws["owner_id"].as_str().unwrap();
    problem(
        bob.send(
            Method::DELETE,
            &format!("/v1/workspaces/{wid}/members/{ada_id}"),
            None,
            &[],
        )
        .await,
        409,
        "/problems/conflict",
    )
    .await;
    let renamed: Value = ada
        .send(
            Method::PATCH,
            &format!("/v1/workspaces/{wid}"),
            Some(&json!({"name": "Family & friends"})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Family & friends");

    // Removal takes effect on the very next request.
    let bob_id = members["items"][1]["user_id"].as_str().unwrap().to_owned();
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/workspaces/{wid}/members/{bob_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        bob.send(Method::GET, &format!("/v1/tasks/{tid}"), None, &[])
            .await,
        404,
        "/problems/not-found",
    )
    .await;
    problem(
        bob.send(
            Method::GET,
            &format!("/v1/tasks/{}", bobs["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await,
        404,
        "/problems/not-found",
    )
    .await;
    let res = bob
        .send(
            Method::POST,
            "/v1/tasks",
            Some(&json!({"title": "Sneak in", "workspace_id": wid})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;

    // An open invitation (no address) lets Carol join; she leaves on her own.
    let open: Value = ada
        .send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/invites"),
            Some(&json!({"expires_in_days": 1})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    let pending = ada.get(&format!("/v1/workspaces/{wid}/invites")).await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 1);
    assert!(pending
        .to_string()
        .find(open["token"].as_str().unwrap())
        .is_none());
    carol
        .send(
            Method::POST,
            "/v1/invites/accept",
            Some(&json!({"token": open["token"]})),
            &[],
        )
        .await;
    let carol_id = ada.get(&format!("/v1/workspaces/{wid}/members")).await["items"][1]["user_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Hand over: Carol's plan must allow owning a shared workspace.
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/transfer"),
            Some(&json!({"user_id": carol_id})),
            &[],
        )
        .await;
    problem(res, 403, "/problems/plan-required").await;
    minime_api::admin::cli::set_plan(&app.admin_url, "carol@example.com", "max")
        .await
        .unwrap();
    let moved: Value = ada
        .send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/transfer"),
            Some(&json!({"user_id": carol_id})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (moved["owner_id"].as_str(), moved["role"].as_str()),
        (Some(carol_id.as_str()), Some("member"))
    );
    let res = ada
        .send(Method::DELETE, &format!("/v1/workspaces/{wid}"), None, &[])
        .await;
    problem(res, 403, "/problems/owner-only").await;
    // Ada leaves; Carol deletes it with all its rows.
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/workspaces/{wid}/members/{ada_id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        carol
            .send(Method::DELETE, &format!("/v1/workspaces/{wid}"), None, &[])
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM app.tasks WHERE workspace_id = '{wid}'"
        ))
        .await,
        0
    );
    // The personal workspace cannot go.
    let personal = carol.get("/v1/workspaces").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    problem(
        carol
            .send(
                Method::DELETE,
                &format!("/v1/workspaces/{personal}"),
                None,
                &[],
            )
            .await,
        409,
        "/problems/conflict",
    )
    .await;
}

#[tokio::test]
async fn plan_limits_are_enforced_with_their_own_problem() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "pro")
        .await
        .unwrap();
    for n in 0..5 {
        ada.create("/v1/workspaces", &json!({"name": format!("Shared {n}")}))
            .await;
    }
    let res = ada
        .send(
            Method::POST,
            "/v1/workspaces",
            Some(&json!({"name": "One too many"})),
            &[],
        )
        .await;
    problem(res, 403, "/problems/plan-limit").await;
    let wid = ada.get("/v1/workspaces?limit=1").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..9 {
        let res = ada
            .send(
                Method::POST,
                &format!("/v1/workspaces/{wid}/invites"),
                Some(&json!({})),
                &[],
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/workspaces/{wid}/invites"),
            Some(&json!({})),
            &[],
        )
        .await;
    problem(res, 403, "/problems/plan-limit").await;
}

#[tokio::test]
async fn plans_are_listed_with_their_limits() {
    let app = TestApp::spawn().await;
    let plans: Value = app
        .client
        .get(app.url("/v1/subscription-plans"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shared: Vec<(&str, bool)> = plans["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["limits"]["shared_workspaces"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(shared, [("free", false), ("pro", true), ("max", true)]);
    assert_eq!(plans["items"][2]["limits"]["email"], true);
    assert_eq!(plans["items"][1]["limits"]["email"], false);
}
