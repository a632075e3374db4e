//! The shared resource contract for captures, reviews, decisions, rules and focus sessions,
//! and the behaviour of their own routes. Black-box tests over HTTP against a real PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::{problem, two_users, Client, TestApp},
    resources::{exercise, Case},
};

fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

/// A task of the caller's, made the way users make one from the inbox.
async fn task(c: &Client<'_>, title: &str) -> String {
    let capture = c.create("/v1/captures", &json!({"text": title})).await;
    let (status, done) = c
        .call(
            Method::POST,
            &format!("/v1/captures/{}/convert", capture["id"].as_str().unwrap()),
            Some(&json!({"to": "task"})),
        )
        .await;
    assert_eq!(status, 201, "{done}");
    done["task_id"].as_str().unwrap().to_owned()
}

async fn project(c: &Client<'_>, title: &str) -> String {
    let capture = c.create("/v1/captures", &json!({"text": title})).await;
    let (status, done) = c
        .call(
            Method::POST,
            &format!("/v1/captures/{}/convert", capture["id"].as_str().unwrap()),
            Some(&json!({"to": "project"})),
        )
        .await;
    assert_eq!(status, 201, "{done}");
    done["project_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn captures() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let case = Case {
        path: "/v1/captures",
        create: |n, _| json!({"text": format!("Idea {n}\nwith a second line"), "source": "voice"}),
        patch: json!({"text": "Buy oat milk", "status": "archived"}),
        invalid: vec![
            (json!({"text": ""}), "text"),
            (json!({"text": "x".repeat(5001)}), "text"),
            (json!({"text": "ok", "source": "fax"}), "source"),
            (json!({"text": "ok", "status": "converted"}), "status"),
            (json!({"text": "ok", "status": "done"}), "status"),
            (json!({}), "text"),
        ],
    };
    exercise(
        &app,
        &app.signed_in(&a),
        &app.signed_in(&b),
        &case,
        &json!({}),
    )
    .await;
}

#[tokio::test]
async fn converting_a_capture_makes_one_task_or_project() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let text = "Call the plumber about the kitchen tap\nbefore Friday";
    let capture = ada.create("/v1/captures", &json!({"text": text})).await;
    let id = capture["id"].as_str().unwrap();
    let convert = format!("/v1/captures/{id}/convert");

    // Bob cannot see it, so cannot convert it either.
    let res = bob
        .send(Method::POST, &convert, Some(&json!({"to": "task"})), &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
    // A bad title converts nothing.
    let res = ada
        .send(
            Method::POST,
            &convert,
            Some(&json!({"to": "task", "title": ""})),
            &[],
        )
        .await;
    let bad = problem(res, 422, "/problems/validation").await;
    assert_eq!(error_fields(&bad), ["title"]);
    let res = ada
        .send(Method::POST, &convert, Some(&json!({"to": "goal"})), &[])
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["to"]
    );
    assert_eq!(app.count("SELECT count(*) FROM app.tasks").await, 0);

    let res = ada
        .send(Method::POST, &convert, Some(&json!({"to": "task"})), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let first: Value = res.json().await.unwrap();
    let task_id = first["task_id"].as_str().unwrap();
    assert_eq!(first["project_id"], Value::Null);
    assert_eq!(first["capture"]["status"], "converted");
    assert_eq!(first["capture"]["converted_task_id"], task_id);
    assert!(first["capture"]["converted_at"].is_string());
    assert_eq!(first["capture"]["version"], 2);
    let row = app
        .admin()
        .await
        .query_one(
            "SELECT title, notes, workspace_id::text, created_by::text FROM app.tasks WHERE id = $1::text::uuid",
            &[&task_id],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, String>(0),
        "Call the plumber about the kitchen tap before Friday"
    );
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some(text));
    assert_eq!(row.get::<_, String>(2), capture["workspace_id"]);
    assert_eq!(row.get::<_, String>(3), capture["created_by"]);

    // Again: the same answer, and still one task.
    let (status, again) = ada
        .call(Method::POST, &convert, Some(&json!({"to": "task"})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again, first);
    assert_eq!(app.count("SELECT count(*) FROM app.tasks").await, 1);
    let res = ada
        .send(Method::POST, &convert, Some(&json!({"to": "project"})), &[])
        .await;
    problem(res, 409, "/problems/conflict").await;
    assert_eq!(app.count("SELECT count(*) FROM app.projects").await, 0);

    // A converted capture stays converted, though its text may change.
    let item = format!("/v1/captures/{id}");
    let res = ada
        .send(Method::PATCH, &item, Some(&json!({"status": "inbox"})), &[])
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["status"]
    );
    let (status, patched) = ada
        .call(
            Method::PATCH,
            &item,
            Some(&json!({"text": "Plumber, Friday"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["status"], "converted");
    let (_, converted) = ada
        .call(Method::GET, "/v1/captures?status=converted", None)
        .await;
    assert_eq!(converted["items"].as_array().unwrap().len(), 1);

    // Projects take the text cut to 200 characters, or the title asked for.
    let long = "word ".repeat(80);
    let capture = ada.create("/v1/captures", &json!({"text": long})).await;
    let (status, made) = ada
        .call(
            Method::POST,
            &format!("/v1/captures/{}/convert", capture["id"].as_str().unwrap()),
            Some(&json!({"to": "project"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["task_id"], Value::Null);
    assert_eq!(made["capture"]["converted_project_id"], made["project_id"]);
    let title: String = app
        .admin()
        .await
        .query_one(
            "SELECT title FROM app.projects WHERE id = $1::text::uuid",
            &[&made["project_id"].as_str().unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(title, "word ".repeat(40).trim_end());
    assert_eq!(app.count("SELECT count(*) FROM app.projects").await, 1);

    let capture = ada.create("/v1/captures", &json!({"text": "Garden"})).await;
    let (status, made) = ada
        .call(
            Method::POST,
            &format!("/v1/captures/{}/convert", capture["id"].as_str().unwrap()),
            Some(&json!({"to": "project", "title": "  Vegetable garden "})),
        )
        .await;
    assert_eq!(status, 201);
    let title: String = app
        .admin()
        .await
        .query_one(
            "SELECT title FROM app.projects WHERE id = $1::text::uuid",
            &[&made["project_id"].as_str().unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(title, "Vegetable garden");
}

#[tokio::test]
async fn reviews() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let crowded: serde_json::Map<String, Value> =
        (0..31).map(|i| (format!("q{i}"), json!("a"))).collect();
    let case = Case {
        path: "/v1/reviews",
        create: |n, _| {
            let day =
                chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(n as u64);
            json!({"kind": "daily", "period_start": day, "answers": {"What went well?": format!("Day {n}")}})
        },
        patch: json!({"answers": {"What went well?": "A long walk", "What to drop?": "Doomscrolling"}}),
        invalid: vec![
            (
                json!({"kind": "monthly", "period_start": "2025-01-01"}),
                "kind",
            ),
            (
                json!({"kind": "weekly", "period_start": "2025-01-06", "period_end": "2025-01-09"}),
                "period_end",
            ),
            (
                json!({"kind": "daily", "period_start": "2025-01-06", "period_end": "2025-01-07"}),
                "period_end",
            ),
            (json!({"kind": "daily"}), "period_start"),
            (
                json!({"kind": "daily", "period_start": "2025-01-06", "answers": {"q": "x".repeat(5001)}}),
                "answers.q",
            ),
            (
                json!({"kind": "daily", "period_start": "2025-01-06", "answers": crowded}),
                "answers",
            ),
            (
                json!({"kind": "daily", "period_start": "2025-01-06", "stats": {}}),
                "stats",
            ),
        ],
    };
    exercise(
        &app,
        &app.signed_in(&a),
        &app.signed_in(&b),
        &case,
        &json!({}),
    )
    .await;
}

#[tokio::test]
async fn review_stats_count_the_period() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let admin = app.admin().await;

    // Monday 2025-03-10: one task completed that day, one just after midnight UTC on Tuesday.
    let monday = task(&ada, "Fix the bike").await;
    let tuesday = task(&ada, "Water the plants").await;
    for (id, at) in [
        (&monday, "2025-03-10T12:00:00Z"),
        (&tuesday, "2025-03-11T00:30:00Z"),
    ] {
        admin
            .execute(
                "UPDATE app.tasks SET status = 'done', completed_at = $2::text::timestamptz WHERE id = $1::text::uuid",
                &[id, &at],
            )
            .await
            .unwrap();
    }
    // A 45-minute session on Monday, and one that started on Sunday.
    for (start, end) in [
        ("2025-03-10T09:00:00Z", "2025-03-10T09:45:30Z"),
        ("2025-03-09T23:50:00Z", "2025-03-10T00:20:00Z"),
    ] {
        ada.create(
            "/v1/focus-sessions",
            &json!({"started_at": start, "ended_at": end}),
        )
        .await;
    }
    // Bob's Monday counts for Bob only.
    bob.create(
        "/v1/focus-sessions",
        &json!({"started_at": "2025-03-10T10:00:00Z", "ended_at": "2025-03-10T11:00:00Z"}),
    )
    .await;
    let capture = ada
        .create("/v1/captures", &json!({"text": "Old note"}))
        .await;
    let ws = capture["workspace_id"].as_str().unwrap();
    let me = capture["created_by"].as_str().unwrap();
    admin
        .execute(
            "UPDATE app.capture_items SET created_at = '2025-03-10T08:00:00Z' WHERE id = $1::text::uuid",
            &[&capture["id"].as_str().unwrap()],
        )
        .await
        .unwrap();
    admin
        .batch_execute(&format!(
            "INSERT INTO app.routines (id, workspace_id, created_by, title, rrule, start_date) VALUES
               ('00000000-0000-7000-8000-000000000001', '{ws}', '{me}', 'Stretch', 'FREQ=DAILY', '2025-01-01'),
               ('00000000-0000-7000-8000-000000000002', '{ws}', '{me}', 'Journal', 'FREQ=DAILY', '2025-01-01');
             INSERT INTO app.routine_completions (id, workspace_id, created_by, routine_id, occurrence_date, outcome) VALUES
               (gen_random_uuid(), '{ws}', '{me}', '00000000-0000-7000-8000-000000000001', '2025-03-10', 'done'),
               (gen_random_uuid(), '{ws}', '{me}', '00000000-0000-7000-8000-000000000002', '2025-03-10', 'skipped'),
               (gen_random_uuid(), '{ws}', '{me}', '00000000-0000-7000-8000-000000000002', '2025-03-12', 'done');"
        ))
        .await
        .unwrap();

    let daily = ada
        .create(
            "/v1/reviews",
            &json!({"kind": "daily", "period_start": "2025-03-10"}),
        )
        .await;
    assert_eq!(daily["period_end"], "2025-03-10");
    assert_eq!(
        daily["stats"],
        json!({"tasks_completed": 1, "focus_minutes": 45, "routines_done": 1, "captures_created": 1})
    );
    let weekly = ada
        .create(
            "/v1/reviews",
            &json!({"kind": "weekly", "period_start": "2025-03-10", "period_end": "2025-03-16"}),
        )
        .await;
    assert_eq!(
        weekly["stats"],
        json!({"tasks_completed": 2, "focus_minutes": 45, "routines_done": 2, "captures_created": 1})
    );

    // A session still running adds nothing; once stopped, its minutes count at the next write.
    let running = ada
        .create(
            "/v1/focus-sessions",
            &json!({"started_at": "2025-03-10T14:00:00Z"}),
        )
        .await;
    let item = format!("/v1/reviews/{}", daily["id"].as_str().unwrap());
    let (status, patched) = ada
        .call(
            Method::PATCH,
            &item,
            Some(&json!({"answers": {"Best moment?": "The ride home"}})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["stats"]["focus_minutes"], 45);
    let (status, stopped) = ada
        .call(
            Method::POST,
            &format!(
                "/v1/focus-sessions/{}/stop",
                running["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{stopped}");
    let minutes = stopped["actual_minutes"].as_i64().unwrap();
    assert!(minutes > 0);
    let (status, patched) = ada
        .call(
            Method::PATCH,
            &item,
            Some(&json!({"answers": {"Best moment?": "Lunch"}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["stats"]["focus_minutes"], 45 + minutes);
    assert_eq!(patched["version"], 3);

    // Moving the start moves the end; stats follow the new day.
    let (status, moved) = ada
        .call(
            Method::PATCH,
            &item,
            Some(&json!({"period_start": "2025-03-11"})),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["period_end"], "2025-03-11");
    assert_eq!(moved["stats"]["tasks_completed"], 1);
    assert_eq!(moved["stats"]["focus_minutes"], 0);

    // Stats are the server's.
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"stats": {"tasks_completed": 99}})),
            &[],
        )
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["stats"]
    );
    let (_, weeklies) = ada
        .call(
            Method::GET,
            "/v1/reviews?kind=weekly&from=2025-03-10&to=2025-03-10",
            None,
        )
        .await;
    assert_eq!(weeklies["items"].as_array().unwrap().len(), 1);
    let (_, none) = ada
        .call(Method::GET, "/v1/reviews?from=2025-03-12", None)
        .await;
    assert_eq!(none["items"], json!([]));
}

#[tokio::test]
async fn decisions() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let case = Case {
        path: "/v1/decisions",
        create: |n, _| json!({"title": format!("Decision {n}"), "context": "Budget 1500 EUR"}),
        patch: json!({"title": "Which laptop", "context": null}),
        invalid: vec![
            (json!({"title": ""}), "title"),
            (json!({"title": "x".repeat(201)}), "title"),
            (
                json!({"title": "ok", "context": "x".repeat(20001)}),
                "context",
            ),
            (json!({"title": "ok", "status": "decided"}), "status"),
            (json!({}), "title"),
        ],
    };
    exercise(
        &app,
        &app.signed_in(&a),
        &app.signed_in(&b),
        &case,
        &json!({}),
    )
    .await;
}

#[tokio::test]
async fn decision_options() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let ada = app.signed_in(&a);
    let decision = ada
        .create("/v1/decisions", &json!({"title": "Which laptop"}))
        .await;
    let bobs = app
        .signed_in(&b)
        .create("/v1/decisions", &json!({"title": "Bob's choice"}))
        .await;
    let case = Case {
        path: "/v1/decision-options",
        create: |n, links| {
            json!({"decision_id": links["decision_id"], "title": format!("Option {n}"),
                   "pros": ["light", "quiet"], "cons": ["pricey"], "score": n % 11, "position": n})
        },
        patch: json!({"title": "The 14-inch one", "pros": ["long battery life"], "score": null}),
        invalid: vec![
            (json!({"title": "No decision"}), "decision_id"),
            (
                json!({"decision_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11", "title": "Nowhere"}),
                "decision_id",
            ),
            (
                json!({"decision_id": bobs["id"], "title": "Into Bob's decision"}),
                "decision_id",
            ),
            (
                json!({"decision_id": decision["id"], "title": "ok", "pros": vec!["p"; 21]}),
                "pros",
            ),
            (
                json!({"decision_id": decision["id"], "title": "ok", "cons": ["fine", ""]}),
                "cons.1",
            ),
            (
                json!({"decision_id": decision["id"], "title": "ok", "score": 11}),
                "score",
            ),
            (json!({"decision_id": decision["id"], "title": ""}), "title"),
        ],
    };
    exercise(
        &app,
        &ada,
        &app.signed_in(&b),
        &case,
        &json!({"decision_id": decision["id"]}),
    )
    .await;
}

#[tokio::test]
async fn deciding_and_reopening() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let laptop = ada
        .create("/v1/decisions", &json!({"title": "Which laptop"}))
        .await;
    let city = ada
        .create("/v1/decisions", &json!({"title": "Where to live"}))
        .await;
    let option =
        |decision: &Value, title: &str| json!({"decision_id": decision["id"], "title": title});
    let small = ada
        .create("/v1/decision-options", &option(&laptop, "14-inch"))
        .await;
    let large = ada
        .create("/v1/decision-options", &option(&laptop, "16-inch"))
        .await;
    let lisbon = ada
        .create("/v1/decision-options", &option(&city, "Lisbon"))
        .await;
    let id = laptop["id"].as_str().unwrap();
    let decide = format!("/v1/decisions/{id}/decide");
    let reopen = format!("/v1/decisions/{id}/reopen");
    let item = format!("/v1/decisions/{id}");

    // Another decision's option is refused.
    let res = ada
        .send(
            Method::POST,
            &decide,
            Some(&json!({"option_id": lisbon["id"]})),
            &[],
        )
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["option_id"]
    );
    let res = bob
        .send(
            Method::POST,
            &decide,
            Some(&json!({"option_id": small["id"]})),
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
    let res = ada
        .send(
            Method::POST,
            &decide,
            Some(&json!({"option_id": small["id"]})),
            &[("if-match", "\"7\"")],
        )
        .await;
    problem(res, 412, "/problems/precondition-failed").await;

    let res = ada
        .send(
            Method::POST,
            &decide,
            Some(&json!({"option_id": small["id"]})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let decided: Value = res.json().await.unwrap();
    assert_eq!(decided["status"], "decided");
    assert_eq!(decided["chosen_option_id"], small["id"]);
    assert!(decided["decided_at"].is_string());
    assert_eq!(ada.get(&item).await, decided);
    let (_, listed) = ada
        .call(Method::GET, "/v1/decisions?status=decided", None)
        .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // The choice is not a field: only /decide and /reopen change it.
    for body in [
        json!({"status": "open"}),
        json!({"chosen_option_id": large["id"]}),
        json!({"decided_at": "2026-01-01T00:00:00Z"}),
    ] {
        let res = ada.send(Method::PATCH, &item, Some(&body), &[]).await;
        let field = body.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(
            error_fields(&problem(res, 422, "/problems/validation").await),
            [field]
        );
    }

    let (status, changed) = ada
        .call(
            Method::POST,
            &decide,
            Some(&json!({"option_id": large["id"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(changed["chosen_option_id"], large["id"]);
    assert_eq!(changed["version"], 3);

    let res = bob.send(Method::POST, &reopen, None, &[]).await;
    problem(res, 404, "/problems/not-found").await;
    let (status, reopened) = ada.call(Method::POST, &reopen, None).await;
    assert_eq!(status, 200);
    assert_eq!(reopened["status"], "open");
    assert_eq!(reopened["chosen_option_id"], Value::Null);
    assert_eq!(reopened["decided_at"], Value::Null);
    assert_eq!(reopened["version"], 4);

    // An option stays with its decision.
    let res = ada
        .send(
            Method::PATCH,
            &format!("/v1/decision-options/{}", small["id"].as_str().unwrap()),
            Some(&json!({"decision_id": city["id"]})),
            &[],
        )
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["decision_id"]
    );
    let (_, options) = ada
        .call(
            Method::GET,
            &format!("/v1/decision-options?decision_id={id}"),
            None,
        )
        .await;
    assert_eq!(options["items"].as_array().unwrap().len(), 2);

    // Deleting the chosen option opens the decision again.
    let (status, _) = ada
        .call(
            Method::POST,
            &decide,
            Some(&json!({"option_id": small["id"]})),
        )
        .await;
    assert_eq!(status, 200);
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/decision-options/{}", small["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let after = ada.get(&item).await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["chosen_option_id"], Value::Null);
}

#[tokio::test]
async fn rules() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let ada = app.signed_in(&a);
    let project_id = project(&ada, "Home").await;
    let case = Case {
        path: "/v1/rules",
        create: |n, links| {
            json!({
                "name": format!("Rule {n}"),
                "trigger": {"type": "schedule", "at": "07:30", "days": [1, 2, 3, 4, 5]},
                "conditions": [
                    {"field": "priority", "op": "lt", "value": 3},
                    {"field": "project_id", "op": "eq", "value": links["project_id"]},
                ],
                "actions": [
                    {"type": "create_task", "title": format!("Follow up {n}"), "due_in_days": 1},
                    {"type": "notify", "message": "Planned"},
                ],
            })
        },
        patch: json!({"name": "Weekend planning", "enabled": false,
                      "trigger": {"type": "schedule", "at": "09:00", "days": [6, 7]}}),
        invalid: vec![
            (
                json!({"name": "", "trigger": {"type": "task_completed"}, "actions": [{"type": "notify", "message": "x"}]}),
                "name",
            ),
            (
                json!({"name": "r", "trigger": {"type": "task_completed"},
                       "conditions": [{"field": "priority", "op": "eq", "value": 9}],
                       "actions": [{"type": "notify", "message": "x"}]}),
                "conditions.0.value",
            ),
            (
                json!({"name": "r", "trigger": {"type": "schedule", "at": "25:00", "days": [1]},
                       "actions": [{"type": "notify", "message": "x"}]}),
                "trigger.at",
            ),
            (
                json!({"name": "r", "trigger": {"type": "task_completed"}, "actions": []}),
                "actions",
            ),
            (
                json!({"name": "r", "trigger": {"type": "task_completed"},
                       "actions": [{"type": "set_priority", "priority": 7}]}),
                "actions.0.priority",
            ),
            (
                json!({"name": "r", "trigger": {"type": "whenever"}, "actions": [{"type": "notify", "message": "x"}]}),
                "trigger.type",
            ),
            (
                json!({"name": "r", "actions": [{"type": "notify", "message": "x"}]}),
                "trigger",
            ),
        ],
    };
    exercise(
        &app,
        &ada,
        &app.signed_in(&b),
        &case,
        &json!({"project_id": project_id}),
    )
    .await;
}

#[tokio::test]
async fn a_rule_lists_every_problem_with_its_path() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let bobs_area = bob.create("/v1/areas", &json!({"name": "Bob's"})).await;
    let area = ada.create("/v1/areas", &json!({"name": "Health"})).await;
    let body = json!({
        "name": "",
        "trigger": {"type": "schedule", "at": "7", "days": [8]},
        "conditions": [
            {"field": "priority", "op": "contains", "value": 9},
            {"field": "energy", "op": "lt", "value": "extreme"},
            {"field": "area_id", "op": "eq", "value": bobs_area["id"]},
            {"field": "label", "op": "eq", "value": 5},
            {"field": "colour", "op": "eq", "value": "red"},
            {"field": "area_id", "op": "eq", "value": "not-an-id"},
        ],
        "actions": [
            {"type": "set_priority", "priority": 0},
            {"type": "create_task", "title": "ok", "due_in_days": 400},
            {"type": "teleport"},
            {"type": "notify"},
            {"type": "add_label", "label": "x", "colour": "red"},
        ],
    });
    let res = ada.send(Method::POST, "/v1/rules", Some(&body), &[]).await;
    let found = problem(res, 422, "/problems/validation").await;
    assert_eq!(
        error_fields(&found),
        [
            "name",
            "trigger.at",
            "trigger.days.0",
            "conditions.0.op",
            "conditions.0.value",
            "conditions.1.op",
            "conditions.1.value",
            "conditions.2.value",
            "conditions.3.value",
            "conditions.4.field",
            "conditions.5.value",
            "actions.0.priority",
            "actions.1.due_in_days",
            "actions.2.type",
            "actions.3.message",
            "actions.4.colour",
        ],
        "{found}"
    );
    let many: Vec<Value> = (0..11)
        .map(|_| json!({"field": "energy", "op": "eq", "value": "low"}))
        .collect();
    let res = ada
        .send(
            Method::POST,
            "/v1/rules",
            Some(&json!({"name": "r", "trigger": {"type": "capture_created"},
                         "conditions": many, "actions": [{"type": "add_label", "label": "inbox"}]})),
            &[],
        )
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["conditions"]
    );

    // A valid rule is stored in one spelling: days sorted once each, text trimmed.
    let rule = ada
        .create(
            "/v1/rules",
            &json!({
                "name": " Weekly reset ",
                "trigger": {"type": "schedule", "at": "18:00", "days": [7, 5, 7]},
                "conditions": [
                    {"field": "area_id", "op": "ne", "value": area["id"]},
                    {"field": "label", "op": "contains", "value": " errand "},
                    {"field": "energy", "op": "eq", "value": "low"},
                ],
                "actions": [{"type": "create_task", "title": " Review the week "}],
            }),
        )
        .await;
    assert_eq!(rule["name"], "Weekly reset");
    assert_eq!(rule["enabled"], true);
    assert_eq!(
        rule["trigger"],
        json!({"type": "schedule", "at": "18:00", "days": [5, 7]})
    );
    assert_eq!(rule["conditions"][1]["value"], "errand");
    assert_eq!(
        rule["actions"],
        json!([{"type": "create_task", "title": "Review the week"}])
    );
    // A merge patch merges into the trigger: switching its type clears the old fields.
    let item = format!("/v1/rules/{}", rule["id"].as_str().unwrap());
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"trigger": {"type": "task_completed"}})),
            &[],
        )
        .await;
    assert_eq!(
        error_fields(&problem(res, 422, "/problems/validation").await),
        ["trigger.at"]
    );
    let (status, switched) = ada
        .call(
            Method::PATCH,
            &item,
            Some(&json!({"trigger": {"type": "task_completed", "at": null, "days": null}})),
        )
        .await;
    assert_eq!(status, 200, "{switched}");
    assert_eq!(switched["trigger"], json!({"type": "task_completed"}));
    let (_, disabled) = ada.call(Method::GET, "/v1/rules?enabled=false", None).await;
    assert_eq!(disabled["items"], json!([]));
    let (_, enabled) = ada.call(Method::GET, "/v1/rules?enabled=true", None).await;
    assert_eq!(enabled["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn focus_sessions() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let ada = app.signed_in(&a);
    let task_id = task(&ada, "Write the report").await;
    let case = Case {
        path: "/v1/focus-sessions",
        // Each one already stopped, so that many can exist at once.
        create: |n, links| {
            let start = chrono::DateTime::parse_from_rfc3339("2025-06-01T08:00:00Z").unwrap()
                + chrono::TimeDelta::minutes(2 * n as i64);
            let end = start + chrono::TimeDelta::seconds(90);
            json!({"task_id": links["task_id"], "started_at": start.to_rfc3339(),
                   "ended_at": end.to_rfc3339(), "planned_minutes": 25, "note": format!("Session {n}")})
        },
        patch: json!({"note": "Deep work", "planned_minutes": 50}),
        invalid: vec![
            (
                json!({"planned_minutes": 0, "ended_at": "2025-06-01T09:00:00Z", "started_at": "2025-06-01T08:00:00Z"}),
                "planned_minutes",
            ),
            (
                json!({"started_at": "2025-06-01T08:00:00Z", "ended_at": "2025-06-01T07:59:00Z"}),
                "ended_at",
            ),
            (json!({"started_at": "2999-01-01T00:00:00Z"}), "started_at"),
            (
                json!({"ended_at": "2025-06-01T09:00:00Z", "started_at": "2025-06-01T08:00:00Z", "note": "x".repeat(5001)}),
                "note",
            ),
            (
                json!({"ended_at": "2025-06-01T09:00:00Z", "started_at": "2025-06-01T08:00:00Z",
                       "task_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11"}),
                "task_id",
            ),
            (json!({"started_at": "yesterday"}), "started_at"),
        ],
    };
    exercise(
        &app,
        &ada,
        &app.signed_in(&b),
        &case,
        &json!({"task_id": task_id}),
    )
    .await;
    let (_, on_task) = ada
        .call(
            Method::GET,
            &format!("/v1/focus-sessions?task_id={task_id}&limit=200"),
            None,
        )
        .await;
    let on_task = on_task["items"].as_array().unwrap();
    assert!(!on_task.is_empty());
    assert!(on_task
        .iter()
        .all(|s| s["task_id"] == task_id.as_str() && s["actual_minutes"] == 1));
}

#[tokio::test]
async fn one_focus_session_runs_at_a_time() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let first = ada.create("/v1/focus-sessions", &json!({})).await;
    assert_eq!(first["running"], true);
    assert_eq!(first["ended_at"], Value::Null);
    assert_eq!(first["actual_minutes"], Value::Null);
    let res = ada
        .send(
            Method::POST,
            "/v1/focus-sessions",
            Some(&json!({"planned_minutes": 25})),
            &[],
        )
        .await;
    let conflict = problem(res, 409, "/problems/conflict").await;
    assert_eq!(
        conflict["detail"],
        "a focus session is already running; stop it first"
    );
    // Per user: Bob may focus while Ada does, but not stop her session.
    let bobs = bob.create("/v1/focus-sessions", &json!({})).await;
    assert_eq!(bobs["running"], true);
    let stop = format!("/v1/focus-sessions/{}/stop", first["id"].as_str().unwrap());
    problem(
        bob.send(Method::POST, &stop, None, &[]).await,
        404,
        "/problems/not-found",
    )
    .await;
    let (_, running) = ada
        .call(Method::GET, "/v1/focus-sessions?running=true", None)
        .await;
    assert_eq!(running["items"].as_array().unwrap().len(), 1);

    let res = ada.send(Method::POST, &stop, None, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let stopped: Value = res.json().await.unwrap();
    assert_eq!(stopped["running"], false);
    assert_eq!(stopped["actual_minutes"], 0);
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(at(&stopped["ended_at"]) >= at(&first["started_at"]));
    problem(
        ada.send(Method::POST, &stop, None, &[]).await,
        409,
        "/problems/conflict",
    )
    .await;

    let second = ada.create("/v1/focus-sessions", &json!({})).await;
    assert_eq!(second["running"], true);
    // Restarting the first one would make two.
    let res = ada
        .send(
            Method::PATCH,
            &format!("/v1/focus-sessions/{}", first["id"].as_str().unwrap()),
            Some(&json!({"ended_at": null})),
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;
    let (_, stopped) = ada
        .call(Method::GET, "/v1/focus-sessions?running=false", None)
        .await;
    assert_eq!(stopped["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_cursor_answers_only_with_the_filters_it_was_made_with() {
    let app = TestApp::spawn().await;
    let ada = app.user("ada@example.com").await;
    let ada = app.signed_in(&ada);
    for title in ["One", "Two", "Three"] {
        ada.create("/v1/tasks", &json!({"title": title})).await;
    }
    let first = ada.get("/v1/tasks?status=todo&limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // The same filters in another order, and another page size, go on where it stopped.
    let next = ada
        .get(&format!("/v1/tasks?limit=2&cursor={cursor}&status=todo"))
        .await;
    let titles: Vec<&str> = [&first, &next]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap())
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Three", "Two", "One"]);
    for other in ["status=done&", "", "status=todo&label=home&"] {
        let res = ada
            .send(
                Method::GET,
                &format!("/v1/tasks?{other}cursor={cursor}"),
                None,
                &[],
            )
            .await;
        let body = problem(res, 422, "/problems/validation").await;
        assert_eq!(error_fields(&body), ["cursor"], "{other}");
    }
    let res = ada
        .send(Method::GET, "/v1/tasks?limit=many", None, &[])
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(error_fields(&body), ["limit"]);
}
