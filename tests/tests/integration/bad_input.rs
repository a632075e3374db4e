//! Whatever a client sends, the answer is a problem document and nothing is written.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{problem, TestApp, JWT_SECRET, PASSWORD};

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT count(*) FROM auth.users").await,
        app.count("SELECT count(*) FROM ops.outbox").await,
        app.count("SELECT count(*) FROM auth.sessions").await,
    )
}

#[tokio::test]
async fn malformed_bodies_answer_problems_and_write_nothing() {
    let app = TestApp::spawn_with(&[("MINIME_MAX_BODY_BYTES", "2048")]).await;
    let before = counts(&app).await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.anonymous()
            .request(Method::POST, "/v1/auth/signup")
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    problem(
        raw("{\"email\": ", "application/json").await.unwrap(),
        400,
        "/problems/malformed-json",
    )
    .await;
    problem(
        raw("email=a@b.c", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
        415,
        "/problems/unsupported-media-type",
    )
    .await;
    problem(
        raw("{}", "text/plain").await.unwrap(),
        415,
        "/problems/unsupported-media-type",
    )
    .await;

    let body = problem(
        raw(r#"{"email": 42, "password": "x"}"#, "application/json")
            .await
            .unwrap(),
        422,
        "/problems/validation",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
    let body = problem(
        raw(r#"{"email": "ada@example.com"}"#, "application/json")
            .await
            .unwrap(),
        422,
        "/problems/validation",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "password");
    let body = problem(
        raw(
            r#"{"email": "ada@example.com", "password": "x", "admin": true}"#,
            "application/json",
        )
        .await
        .unwrap(),
        422,
        "/problems/validation",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("admin"));

    let big =
        json!({"email": "ada@example.com", "password": PASSWORD, "display_name": "x".repeat(4096)});
    let res = app.post("/v1/auth/signup", big).await;
    problem(res, 413, "/problems/payload-too-large").await;

    let res = app
        .post(
            "/v1/auth/signup",
            json!({"email": "ada@example.com", "password": "password123"}),
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "password");

    let res = app
        .post(
            "/v1/auth/signup",
            json!({"email": "not-an-email", "password": PASSWORD}),
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "email");

    let res = app.post("/v1/auth/signup", json!({"email": "ada@example.com", "password": PASSWORD, "time_zone": "Europe/Atlantis"})).await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "time_zone");

    assert_eq!(
        counts(&app).await,
        before,
        "no row was written by any bad request"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    problem(res, 404, "/problems/not-found").await;
    let res = app
        .client
        .get(app.url("/v1/auth/signup"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    problem(res, 405, "/problems/method-not-allowed").await;
    let res = app
        .anonymous()
        .request(Method::PUT, "/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["allow"], "GET, PATCH");
    problem(res, 405, "/problems/method-not-allowed").await;
    let res = app
        .client
        .delete(app.url("/v1/auth/sessions/not-a-uuid"))
        .bearer_auth("x")
        .send()
        .await
        .unwrap();
    assert!(matches!(res.status().as_u16(), 401 | 404));
}

fn jwt(claims: serde_json::Value, secret: &str) -> String {
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let claims = |exp: i64| {
        let user: serde_json::Value = {
            let payload = t.access.split('.').nth(1).unwrap();
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
        };
        json!({"sub": user["sub"], "sid": user["sid"], "iss": "minime", "aud": "minime-api", "iat": 0, "exp": exp})
    };
    let now = chrono::Utc::now().timestamp();
    // Sanity: a token we forge with the right secret and claims works, so the refusals below
    // are about the one thing each case changes.
    assert_eq!(
        app.get_auth("/v1/me", &jwt(claims(now + 60), JWT_SECRET))
            .await
            .status(),
        200
    );

    let expired = jwt(claims(now - 120), JWT_SECRET);
    let wrong_key = jwt(
        claims(now + 60),
        "some-other-secret-of-sufficient-length-000",
    );
    let mut wrong_aud = claims(now + 60);
    wrong_aud["aud"] = json!("someone-else");
    let wrong_aud = jwt(wrong_aud, JWT_SECRET);
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let none_payload = URL_SAFE_NO_PAD.encode(claims(now + 60).to_string());
    let unsigned = format!("{none_header}.{none_payload}.");
    let mut parts: Vec<&str> = t.access.split('.').collect();
    let tampered_payload = URL_SAFE_NO_PAD.encode(json!({"sub": uuid::Uuid::now_v7(), "sid": claims(0)["sid"], "iss": "minime", "aud": "minime-api", "iat": 0, "exp": now + 60}).to_string());
    parts[1] = &tampered_payload;
    let tampered = parts.join(".");

    for token in [
        expired,
        wrong_key,
        wrong_aud,
        unsigned,
        tampered,
        "garbage".to_owned(),
    ] {
        problem(
            app.get_auth("/v1/me", &token).await,
            401,
            "/problems/unauthorized",
        )
        .await;
    }
    let res = app
        .client
        .get(app.url("/v1/me"))
        .header("authorization", "Basic YWRhOnB3")
        .send()
        .await
        .unwrap();
    problem(res, 401, "/problems/unauthorized").await;
    problem(
        app.anonymous()
            .request(Method::GET, "/v1/me")
            .send()
            .await
            .unwrap(),
        401,
        "/problems/unauthorized",
    )
    .await;
}

#[tokio::test]
async fn deep_json_and_huge_pages_are_refused_cleanly() {
    let app = TestApp::spawn_with(&[("MINIME_MAX_BODY_BYTES", "65536")]).await;
    let t = app.user("ada@example.com").await;
    // 20,000 levels fit in the body limit; the parser stops at 128 instead of overflowing its
    // stack. A merge patch is parsed as any JSON, so the depth limit is what refuses it.
    let deep = format!(
        "{{\"title\": {}1{}}}",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let send = |method: reqwest::Method, path: &str| {
        app.anonymous()
            .request(method, path)
            .bearer_auth(&t.access)
            .header("content-type", "application/json")
            .body(deep.clone())
            .send()
    };
    let task: serde_json::Value = app
        .client
        .post(app.url("/v1/tasks"))
        .bearer_auth(&t.access)
        .json(&json!({"title": "Deep"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/v1/tasks/{}", task["id"].as_str().unwrap());
    problem(
        send(reqwest::Method::PATCH, &path).await.unwrap(),
        400,
        "/problems/malformed-json",
    )
    .await;
    problem(
        send(reqwest::Method::POST, "/v1/tasks").await.unwrap(),
        422,
        "/problems/validation",
    )
    .await;
    for limit in ["0", "201", "-1", "many"] {
        let res = app
            .get_auth(&format!("/v1/tasks?limit={limit}"), &t.access)
            .await;
        assert!(matches!(res.status().as_u16(), 400 | 422), "limit={limit}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM app.tasks WHERE title = 'Deep' AND version = 1")
            .await,
        1
    );
}

#[tokio::test]
async fn a_misspelt_query_parameter_is_refused_not_ignored() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let res = app.get_auth("/v1/tasks?limt=1", &t.access).await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "limt");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("limit"), "{message}");
    // Documented parameters still work, and an operation without any refuses every one.
    let res = app
        .get_auth("/v1/tasks?limit=1&status=todo", &t.access)
        .await;
    assert_eq!(res.status(), 200);
    let res = app.get_auth("/v1/me?verbose=1", &t.access).await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "verbose");
}

/// The field errors of a problem, as (field, message) pairs.
fn field_errors(body: &serde_json::Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn message_of<'a>(errors: &'a [(String, String)], field: &str) -> &'a str {
    errors
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
        .unwrap_or_else(|| panic!("no error for {field}: {errors:?}"))
}

#[tokio::test]
async fn unreadable_fields_are_explained_in_words_and_all_named_together() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let post = |body: serde_json::Value| {
        app.client
            .post(app.url("/v1/tasks"))
            .bearer_auth(&t.access)
            .json(&body)
            .send()
    };

    // A date that does not exist, and one that is not a date at all.
    for due in ["2026-02-30", "next tuesday"] {
        let body = problem(
            post(json!({"title": "Dentist", "due_date": due}))
                .await
                .unwrap(),
            422,
            "/problems/validation",
        )
        .await;
        let errors = field_errors(&body);
        assert_eq!(
            message_of(&errors, "due_date"),
            "must be a real date like 2026-12-01"
        );
    }
    // Numbers out of the type's range or of the wrong type name the real bounds.
    for priority in [json!(70000), json!("high"), json!(1.5)] {
        let body = problem(
            post(json!({"title": "Dentist", "priority": priority}))
                .await
                .unwrap(),
            422,
            "/problems/validation",
        )
        .await;
        assert_eq!(
            message_of(&field_errors(&body), "priority"),
            "must be an integer from 1 to 4",
            "{priority}"
        );
    }
    // Every unreadable field of one body is named in one answer.
    let body = problem(
        post(json!({
            "title": 5,
            "due_date": "soon",
            "priority": "urgent",
            "due_time": "5pm",
            "labels": [1],
            "colour": "red",
        }))
        .await
        .unwrap(),
        422,
        "/problems/validation",
    )
    .await;
    let errors = field_errors(&body);
    assert_eq!(message_of(&errors, "title"), "must be a string");
    assert_eq!(
        message_of(&errors, "due_date"),
        "must be a real date like 2026-12-01"
    );
    assert_eq!(
        message_of(&errors, "priority"),
        "must be an integer from 1 to 4"
    );
    assert_eq!(
        message_of(&errors, "due_time"),
        "must be a time of day like 17:30"
    );
    assert!(
        errors.iter().any(|(f, _)| f.starts_with("labels")),
        "{errors:?}"
    );
    assert!(
        message_of(&errors, "colour").starts_with("is not a field of this body"),
        "{errors:?}"
    );
    assert_eq!(
        body["detail"],
        format!("{} fields are invalid", errors.len())
    );
    assert_eq!(app.count("SELECT count(*) FROM app.tasks").await, 0);

    // A merge patch is read the same way.
    let task: serde_json::Value = post(json!({"title": "Dentist"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .client
        .patch(app.url(&format!("/v1/tasks/{}", task["id"].as_str().unwrap())))
        .bearer_auth(&t.access)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"due_date": "2026-13-01", "estimate_minutes": "an hour"}"#)
        .send()
        .await
        .unwrap();
    let errors = field_errors(&problem(res, 422, "/problems/validation").await);
    assert_eq!(
        message_of(&errors, "due_date"),
        "must be a real date like 2026-12-01"
    );
    assert_eq!(
        message_of(&errors, "estimate_minutes"),
        "must be an integer from 1 to 1440"
    );
}

#[tokio::test]
async fn unreadable_query_parameters_answer_422_naming_each() {
    let app = TestApp::spawn().await;
    let t = app.user("ada@example.com").await;
    let get = |query: &str| {
        let url = format!("/v1/tasks?{query}");
        let (app, access) = (&app, t.access.clone());
        async move { app.get_auth(&url, &access).await }
    };

    let errors = field_errors(&problem(get("limit=many").await, 422, "/problems/validation").await);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "limit");
    assert!(errors[0].1.ends_with("from 1 to 200"), "{errors:?}");

    let errors = field_errors(
        &problem(
            get("due_before=tomorrow&top_level=maybe&project_id=42").await,
            422,
            "/problems/validation",
        )
        .await,
    );
    assert_eq!(
        message_of(&errors, "due_before"),
        "must be a real date like 2026-12-01"
    );
    assert_eq!(message_of(&errors, "top_level"), "must be true or false");
    assert!(
        message_of(&errors, "project_id").starts_with("must be a UUID"),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 3, "{errors:?}");

    let res = app
        .get_auth("/v1/assistant?question=meaning_of_life", &t.access)
        .await;
    let errors = field_errors(&problem(res, 422, "/problems/validation").await);
    assert!(
        message_of(&errors, "question").starts_with("must be one of what_next"),
        "{errors:?}"
    );
}
