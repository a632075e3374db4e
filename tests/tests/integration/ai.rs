//! AI features: consent, disclosure, preview → confirm (nothing written before, once, edits
//! validated, expiry), and the Gemini path against a loopback fake of its REST API.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, two_users, Client, TestApp};

/// Row counts of every `app` table but the previews themselves.
async fn counts(app: &TestApp) -> Vec<(String, i64)> {
    let admin = app.admin().await;
    let tables: Vec<String> = admin
        .query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND c.relkind = 'r' AND c.relname <> 'ai_previews' ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let n: i64 = admin
            .query_one(&format!("SELECT count(*) FROM app.{t}"), &[])
            .await
            .unwrap()
            .get(0);
        out.push((t, n));
    }
    out
}

async fn consent(c: &Client<'_>) {
    let (status, me) = c
        .call(Method::PATCH, "/v1/me", Some(&json!({"ai_enabled": true})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["ai_enabled"], true);
}

#[tokio::test]
async fn previews_write_nothing_until_confirmed_and_apply_once() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let smart =
        json!({"text": "Call mum tomorrow 5pm @phone #family\nPay rent every 1st of the month !1"});

    // Off until turned on.
    let res = ada
        .send(Method::POST, "/v1/ai/smart-add/previews", Some(&smart), &[])
        .await;
    problem(res, 403, "/problems/ai-consent-required").await;
    let (_, disclosure) = ada.call(Method::GET, "/v1/ai/disclosure", None).await;
    assert_eq!(disclosure["enabled"], false);
    consent(&ada).await;
    let (_, disclosure) = ada.call(Method::GET, "/v1/ai/disclosure", None).await;
    assert_eq!(disclosure["enabled"], true);
    assert_eq!(disclosure["provider"], "local");
    let sends = |feature: &str| -> Vec<String> {
        disclosure["features"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["feature"] == feature)
            .unwrap()["sends"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };

    let task = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Move flat", "notes": "- pack books\n- book a van\n- clean"}),
        )
        .await;
    let project = ada
        .create("/v1/projects", &json!({"title": "Garden"}))
        .await;
    let before = counts(&app).await;

    let (status, preview) = ada
        .call(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&smart.clone()),
        )
        .await;
    assert_eq!(status, 201, "{preview}");
    assert_eq!(preview["status"], "pending");
    let drafts = preview["proposal"]["tasks"].as_array().unwrap();
    assert_eq!(drafts.len(), 2);
    assert_eq!(drafts[0]["title"], "Call mum");
    assert_eq!(drafts[0]["labels"], json!(["phone"]));
    assert_eq!(drafts[1]["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=1");
    let span = &drafts[0]["spans"][0];
    let text = smart["text"].as_str().unwrap();
    assert_eq!(
        &text[span["start"].as_u64().unwrap() as usize..span["end"].as_u64().unwrap() as usize],
        span["text"].as_str().unwrap()
    );
    // The record of what was sent names exactly the disclosed fields.
    assert_eq!(preview["sent"]["left_server"], false);
    let mut keys: Vec<String> = preview["sent"]["fields"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    let mut disclosed = sends("smart-add");
    disclosed.sort();
    assert_eq!(keys, disclosed);
    assert_eq!(preview["sent"]["fields"]["text"], text.trim());

    let (s1, steps) = ada
        .call(
            Method::POST,
            "/v1/ai/break-into-steps/previews",
            Some(&json!({"task_id": task["id"]})),
        )
        .await;
    assert_eq!(s1, 201, "{steps}");
    let titles: Vec<&str> = steps["proposal"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Pack books", "Book a van", "Clean"]);
    let (s2, plan_tasks) = ada
        .call(
            Method::POST,
            "/v1/ai/project-tasks/previews",
            Some(&json!({"project_id": project["id"]})),
        )
        .await;
    assert_eq!(s2, 201);
    let (s3, explained) = ada
        .call(Method::POST, "/v1/ai/explain-plan/previews", None)
        .await;
    assert_eq!(s3, 201, "{explained}");
    assert!(explained["proposal"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Your plan for"));
    for (p, feature) in [
        (&steps, "break-into-steps"),
        (&plan_tasks, "project-tasks"),
        (&explained, "explain-plan"),
    ] {
        let mut keys: Vec<String> = p["sent"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        keys.sort();
        let mut disclosed = sends(feature);
        disclosed.sort();
        assert_eq!(keys, disclosed, "{feature}");
    }
    // Four previews later, not one row anywhere else.
    assert_eq!(counts(&app).await, before);

    // Someone else's preview does not exist for Bob.
    let id = preview["id"].as_str().unwrap();
    let res = bob
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{id}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;

    // Confirm once: two tasks and the project named in the text.
    let (status, done) = ada
        .call(Method::POST, &format!("/v1/ai/previews/{id}/confirm"), None)
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "confirmed");
    let created = done["result"]["tasks"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    assert_eq!(created[0]["title"], "Call mum");
    assert_eq!(created[0]["labels"], json!(["phone"]));
    assert!(created[0]["due_date"].is_string());
    assert_eq!(done["result"]["projects"][0]["title"], "family");
    assert_eq!(
        created[0]["project_id"],
        done["result"]["projects"][0]["id"]
    );
    assert_eq!(created[1]["priority"], 1);
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{id}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;

    // Edits are checked like POST /v1/tasks, all or nothing.
    let sid = steps["id"].as_str().unwrap();
    let before = counts(&app).await;
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{sid}/confirm"),
            Some(&json!({"tasks": [{"title": "Pack books"}, {"title": "", "priority": 9}]})),
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
    assert!(
        fields.contains(&"tasks.1.title") && fields.contains(&"tasks.1.priority"),
        "{fields:?}"
    );
    assert_eq!(counts(&app).await, before);
    let (status, done) = ada.call(Method::POST, &format!("/v1/ai/previews/{sid}/confirm"), Some(&json!({"tasks": [{"title": "Pack books"}, {"title": "Book a van", "priority": 2}]})))
    .await;
    assert_eq!(status, 200, "{done}");
    for t in done["result"]["tasks"].as_array().unwrap() {
        assert_eq!(t["parent_id"], task["id"]);
    }

    // Expired, discarded, nothing to apply.
    let pid = plan_tasks["id"].as_str().unwrap();
    // Fifteen minutes on the server's clock end the preview (and the access token with it).
    app.clock
        .advance(std::time::Duration::from_secs(15 * 60 + 1));
    let res = app
        .post("/v1/auth/refresh", json!({"refresh_token": a.refresh}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let ada = app.signed_in(&crate::helpers::tokens(res.json().await.unwrap()));
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{pid}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 410, "/problems/preview-expired").await;
    let (_, again) = ada
        .call(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "Buy milk"})),
        )
        .await;
    let aid = again["id"].as_str().unwrap();
    let res = ada
        .send(Method::DELETE, &format!("/v1/ai/previews/{aid}"), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{aid}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    // A live preview that creates nothing cannot be confirmed either.
    let (status, explained) = ada
        .call(Method::POST, "/v1/ai/explain-plan/previews", None)
        .await;
    assert_eq!(status, 201, "{explained}");
    let eid = explained["id"].as_str().unwrap();
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/ai/previews/{eid}/confirm"),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;

    // Voice needs an online provider; the type is checked first.
    let audio = |mime: &str| {
        app.anonymous()
            .request(Method::POST, "/v1/ai/transcriptions")
            .bearer_auth(&a.access)
            .header("content-type", mime.to_owned())
            .body(vec![0u8; 64])
            .send()
    };
    problem(
        audio("text/plain").await.unwrap(),
        415,
        "/problems/unsupported-media-type",
    )
    .await;
    problem(
        audio("audio/webm").await.unwrap(),
        501,
        "/problems/ai-offline",
    )
    .await;
    // Bad input to a preview.
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "   "})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let res = bob
        .send(
            Method::POST,
            "/v1/ai/break-into-steps/previews",
            Some(&json!({"task_id": task["id"]})),
            &[],
        )
        .await;
    problem(res, 403, "/problems/ai-consent-required").await;
    consent(&bob).await;
    let res = bob
        .send(
            Method::POST,
            "/v1/ai/break-into-steps/previews",
            Some(&json!({"task_id": task["id"]})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
}

/// What the fake saw, and how it should answer next.
#[derive(Default)]
struct Fake {
    requests: Vec<(String, Option<String>, Value)>,
    flaky: u32,
}

async fn generate(
    req: HttpRequest,
    body: web::Json<Value>,
    state: web::Data<Arc<Mutex<Fake>>>,
) -> HttpResponse {
    let key = req
        .headers()
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = body.into_inner();
    let mut fake = state.lock().unwrap();
    fake.requests
        .push((req.path().to_owned(), key.clone(), body.clone()));
    // The shape the real API requires; anything else is a 400 as Google would answer.
    let parts = &body["contents"][0]["parts"];
    let shape_ok = req.path() == "/v1beta/models/test-model:generateContent"
        && body["contents"][0]["role"] == "user"
        && parts.as_array().is_some_and(|p| !p.is_empty());
    if !shape_ok {
        return HttpResponse::BadRequest().json(json!({"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}));
    }
    if key.as_deref() != Some("test-key") {
        return HttpResponse::Forbidden().json(json!({"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}}));
    }
    let text: String = parts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect();
    let candidate = |text: String| json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}]});
    if let Some(audio) = parts[0].get("inlineData") {
        assert_eq!(audio["mimeType"], "audio/webm");
        assert!(!audio["data"].as_str().unwrap().is_empty());
        return HttpResponse::Ok().json(candidate("buy milk tomorrow".into()));
    }
    if body["generationConfig"]["responseMimeType"] != "application/json"
        || body["generationConfig"]["responseSchema"]["type"] != "OBJECT"
    {
        return HttpResponse::BadRequest().json(json!({"error": {"code": 400, "message": "responseSchema required by this fake", "status": "INVALID_ARGUMENT"}}));
    }
    if text.contains("QUOTA") {
        return HttpResponse::TooManyRequests().json(json!({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}));
    }
    if text.contains("FLAKY") && fake.flaky == 0 {
        fake.flaky += 1;
        return HttpResponse::ServiceUnavailable().json(json!({"error": {"code": 503, "message": "The model is overloaded", "status": "UNAVAILABLE"}}));
    }
    if text.contains("BLOCKED") {
        return HttpResponse::Ok().json(json!({"promptFeedback": {"blockReason": "SAFETY"}}));
    }
    if text.contains("GARBLED") {
        return HttpResponse::Ok().json(candidate("this is not json".into()));
    }
    let tasks = json!({"tasks": [{"title": "Call mum", "due_date": "2026-12-01", "due_time": "17:00", "priority": 1,
        "project": null, "labels": ["phone"], "estimate_minutes": 30, "recurrence": "FREQ=WEEKLY;BYDAY=MO", "energy": "loud"}]});
    HttpResponse::Ok().json(candidate(tasks.to_string()))
}

#[tokio::test]
async fn gemini_requests_and_errors_against_a_loopback_fake() {
    let state = Arc::new(Mutex::new(Fake::default()));
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(1 << 20))
            .default_service(web::post().to(generate))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    let url = format!("http://{addr}/");
    let app = TestApp::spawn_with(&[
        ("MINIME_AI_PROVIDER", "gemini"),
        ("MINIME_GEMINI_URL", &url),
        ("MINIME_GEMINI_API_KEY", "test-key"),
        ("MINIME_GEMINI_MODEL", "test-model"),
        ("MINIME_AI_TIMEOUT_MS", "5000"),
    ])
    .await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    consent(&ada).await;
    let (_, disclosure) = ada.call(Method::GET, "/v1/ai/disclosure", None).await;
    assert_eq!(disclosure["provider"], "gemini");
    assert!(disclosure["features"][0]["to"]
        .as_str()
        .unwrap()
        .contains("Google Gemini (127.0.0.1, model test-model)"));

    let before = counts(&app).await;
    let (status, preview) = ada
        .call(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "call mum next monday 5pm @phone !1"})),
        )
        .await;
    assert_eq!(status, 201, "{preview}");
    let draft = &preview["proposal"]["tasks"][0];
    assert_eq!(draft["title"], "Call mum");
    assert_eq!(draft["due_time"], "17:00:00");
    assert_eq!(draft["recurrence"], "FREQ=WEEKLY;BYDAY=MO");
    assert!(
        draft["energy"].is_null(),
        "an invalid value from the model is dropped"
    );
    let fields: Vec<(&str, &str)> = draft["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["field"].as_str().unwrap(), s["text"].as_str().unwrap()))
        .collect();
    assert_eq!(fields, [("title", "call mum"), ("labels", "@phone")]);
    assert_eq!(preview["sent"]["left_server"], true);
    assert_eq!(
        preview["sent"]["fields"]["text"],
        "call mum next monday 5pm @phone !1"
    );
    {
        let fake = state.lock().unwrap();
        let (path, key, body) = fake.requests.last().unwrap();
        assert_eq!(path, "/v1beta/models/test-model:generateContent");
        assert_eq!(key.as_deref(), Some("test-key"));
        let prompt = body["contents"][0]["parts"][0]["text"].as_str().unwrap();
        assert!(prompt.contains("call mum next monday 5pm @phone !1"));
        assert_eq!(
            body["generationConfig"]["responseSchema"]["properties"]["tasks"]["type"],
            "ARRAY"
        );
        assert_eq!(body["generationConfig"]["temperature"], 0);
    }
    assert_eq!(counts(&app).await, before);

    // A 503 is retried; a 429 that lasts is a clear problem with Retry-After; a block is 422.
    let n = state.lock().unwrap().requests.len();
    let (status, _) = ada
        .call(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "FLAKY buy milk"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(state.lock().unwrap().requests.len(), n + 2);
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "QUOTA buy milk"})),
            &[],
        )
        .await;
    assert_eq!(res.headers()["retry-after"], "30");
    problem(res, 503, "/problems/ai-quota").await;
    assert_eq!(
        state.lock().unwrap().requests.len(),
        n + 5,
        "three attempts on 429"
    );
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "BLOCKED words"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/ai-blocked").await;
    let res = ada
        .send(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "GARBLED words"})),
            &[],
        )
        .await;
    problem(res, 502, "/problems/ai-provider").await;

    // Voice: the audio goes inline; the text comes back as a preview.
    let res = app
        .client
        .post(app.url("/v1/ai/transcriptions"))
        .bearer_auth(&a.access)
        .header("content-type", "audio/webm")
        .body(vec![1u8; 2048])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let voice: Value = res.json().await.unwrap();
    assert_eq!(voice["proposal"]["text"], "buy milk tomorrow");
    assert_eq!(voice["sent"]["fields"]["audio"]["bytes"], 2048);

    // A wrong key is the provider refusing: 502, not retried.
    let wrong = TestApp::spawn_with(&[
        ("MINIME_AI_PROVIDER", "gemini"),
        ("MINIME_GEMINI_URL", &url),
        ("MINIME_GEMINI_API_KEY", "not-the-key"),
        ("MINIME_GEMINI_MODEL", "test-model"),
    ])
    .await;
    let (c, _) = two_users(&wrong).await;
    let carol = wrong.signed_in(&c);
    consent(&carol).await;
    let n = state.lock().unwrap().requests.len();
    let res = carol
        .send(
            Method::POST,
            "/v1/ai/smart-add/previews",
            Some(&json!({"text": "buy milk"})),
            &[],
        )
        .await;
    let body = problem(res, 502, "/problems/ai-provider").await;
    // What the provider said about our key stays in the operator's log.
    assert!(!body.to_string().contains("API key not valid"), "{body}");
    assert!(!body.to_string().contains("not-the-key"));
    assert_eq!(state.lock().unwrap().requests.len(), n + 1);
}

#[tokio::test]
async fn tasks_take_due_dates_in_plain_words() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    ada.call(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/Berlin"})),
    )
    .await;
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let today = minime_api::planner::day::local_date(
        chrono::Utc::now(),
        zone,
        chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
    );
    let task = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Call the bank", "due": "tomorrow 5pm"}),
        )
        .await;
    assert_eq!(task["due_date"], json!(today + chrono::Duration::days(1)));
    assert_eq!(task["due_time"], "17:00:00");
    assert!(task.get("due").is_none(), "write-only");
    let id = task["id"].as_str().unwrap();
    let (status, patched) = ada
        .call(
            Method::PATCH,
            &format!("/v1/tasks/{id}"),
            Some(&json!({"due": "in 3 days"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["due_date"],
        json!(today + chrono::Duration::days(3))
    );
    assert!(patched["due_time"].is_null());
    let res = ada
        .send(
            Method::POST,
            "/v1/tasks",
            Some(&json!({"title": "x", "due": "when pigs fly"})),
            &[],
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "due");
}
