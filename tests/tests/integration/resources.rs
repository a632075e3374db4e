//! The contract every workspace resource shares, checked table-driven for each of them:
//! CRUD round trip, each validation error, keyset pages that neither skip nor repeat while rows
//! are added, ETag conflicts, idempotent replay, and isolation between users.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, two_users, Client, TestApp};

pub struct Case {
    pub path: &'static str,
    /// Creates a valid row; `n` makes each one distinct.
    pub create: fn(n: usize, links: &Value) -> Value,
    pub patch: Value,
    /// A body that is invalid, and the field the error must name.
    pub invalid: Vec<(Value, &'static str)>,
}

async fn count(app: &TestApp, path: &str) -> i64 {
    let table = path.trim_start_matches("/v1/").replace('-', "_");
    let table = match table.as_str() {
        "areas" => "life_areas".to_owned(),
        "captures" => "capture_items".to_owned(),
        "rules" => "automation_rules".to_owned(),
        other => other.to_owned(),
    };
    app.count(&format!("SELECT count(*) FROM app.{table}"))
        .await
}

/// Runs the whole contract for one resource. `links` holds ids of rows the bodies may link to.
pub async fn exercise(
    app: &TestApp,
    ada: &Client<'_>,
    bob: &Client<'_>,
    case: &Case,
    links: &Value,
) {
    let path = case.path;
    // Create, get, list.
    let res = ada
        .send(Method::POST, path, Some(&(case.create)(0, links)), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "{:?}", res.text().await);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let row: Value = res.json().await.unwrap();
    let id = row["id"].as_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", row["version"]));
    assert!(row["workspace_id"].is_string() && row["created_by"].is_string());
    let item = format!("{path}/{id}");
    assert_eq!(ada.get(&item).await, row);

    // Each invalid body names its field, and writes nothing.
    let before = count(app, path).await;
    for (body, field) in &case.invalid {
        let res = ada.send(Method::POST, path, Some(body), &[]).await;
        let problem = problem(res, 422, "/problems/validation").await;
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(field),
            "{path} {body}: expected an error on {field}, got {problem}"
        );
    }
    assert_eq!(
        count(app, path).await,
        before,
        "{path}: invalid bodies wrote rows"
    );

    // PATCH with If-Match; a stale ETag is refused and changes nothing.
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&case.patch),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{path} PATCH {:?}",
        res.text().await
    );
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["version"], row["version"].as_i64().unwrap() + 1);
    for (k, v) in case.patch.as_object().unwrap() {
        assert_eq!(&patched[k], v, "{path}: PATCH did not set {k}");
    }
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&case.patch),
            &[("if-match", &etag)],
        )
        .await;
    problem(res, 412, "/problems/precondition-failed").await;
    assert_eq!(ada.get(&item).await, patched);
    let res = ada
        .send(
            Method::PATCH,
            &item,
            Some(&json!({"no_such_field": 1})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;

    // Idempotent replay: same key and body, same answer and no second row; other body refused.
    // Keys belong to the user, so each resource gets its own.
    let key = format!("key-for-{path}");
    let key = key.as_str();
    let body = (case.create)(1, links);
    let first = ada
        .send(Method::POST, path, Some(&body), &[("idempotency-key", key)])
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let rows = count(app, path).await;
    let again = ada
        .send(Method::POST, path, Some(&body), &[("idempotency-key", key)])
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(count(app, path).await, rows);
    let other = ada
        .send(
            Method::POST,
            path,
            Some(&(case.create)(2, links)),
            &[("idempotency-key", key)],
        )
        .await;
    problem(other, 422, "/problems/idempotency-key-reused").await;

    // Isolation: Bob gets 404 for every verb on Ada's row, and changes nothing.
    problem(
        bob.send(Method::GET, &item, None, &[]).await,
        404,
        "/problems/not-found",
    )
    .await;
    problem(
        bob.send(Method::PATCH, &item, Some(&case.patch), &[]).await,
        404,
        "/problems/not-found",
    )
    .await;
    problem(
        bob.send(Method::DELETE, &item, None, &[]).await,
        404,
        "/problems/not-found",
    )
    .await;
    let bobs: Value = bob.get(path).await;
    assert!(
        !bobs.to_string().contains(&id),
        "{path}: Bob's list shows Ada's row"
    );
    let ada_ws = row["workspace_id"].as_str().unwrap();
    let mut planted = (case.create)(3, links);
    planted["workspace_id"] = json!(ada_ws);
    let res = bob.send(Method::POST, path, Some(&planted), &[]).await;
    problem(res, 422, "/problems/validation").await;
    assert_eq!(ada.get(&item).await, patched);

    // Pages neither skip nor repeat while rows are added between them.
    for n in 10..15 {
        ada.create(path, &(case.create)(n, links)).await;
    }
    let total = count(app, path).await as usize;
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=3&cursor={c}"),
            None => format!("{path}?limit=3"),
        };
        let page = ada.get(&url).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        // Someone adds a row while we page.
        ada.create(path, &(case.create)(100 + seen.len(), links))
            .await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "{path}: a row was repeated");
    assert!(
        seen.len() >= total,
        "{path}: rows were skipped ({} of {total})",
        seen.len()
    );

    // Delete honours If-Match, then the row is gone.
    let current = ada.get(&item).await;
    let res = ada
        .send(Method::DELETE, &item, None, &[("if-match", "\"999\"")])
        .await;
    problem(res, 412, "/problems/precondition-failed").await;
    let res = ada
        .send(
            Method::DELETE,
            &item,
            None,
            &[("if-match", &format!("\"{}\"", current["version"]))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    problem(
        ada.send(Method::GET, &item, None, &[]).await,
        404,
        "/problems/not-found",
    )
    .await;
}

#[tokio::test]
async fn areas() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let case = Case {
        path: "/v1/areas",
        create: |n, _| json!({"name": format!("Area {n}"), "color": "#22C55E", "position": n}),
        patch: json!({"name": "Health", "archived": true}),
        invalid: vec![
            (json!({"name": ""}), "name"),
            (json!({"name": "x".repeat(101)}), "name"),
            (json!({"name": "ok", "color": "green"}), "color"),
            (json!({"name": "ok", "position": "first"}), "position"),
            (json!({}), "name"),
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
async fn tasks() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let ada = app.signed_in(&a);
    let area = ada.create("/v1/areas", &json!({"name": "Work"})).await;
    let case = Case {
        path: "/v1/tasks",
        create: |n, links| {
            json!({"title": format!("Task {n}"), "priority": 1 + (n % 4), "energy": "high", "estimate_minutes": 30,
                   "due_date": "2026-12-01", "due_time": "17:30", "due_time_zone": "Europe/Berlin",
                   "labels": ["phone", "phone", " errands "], "area_id": links["area"]})
        },
        patch: json!({"title": "Call the dentist", "status": "in_progress", "labels": ["calls"]}),
        invalid: vec![
            (json!({"title": ""}), "title"),
            (json!({"title": "x", "priority": 5}), "priority"),
            (json!({"title": "x", "energy": "extreme"}), "energy"),
            (
                json!({"title": "x", "estimate_minutes": 0}),
                "estimate_minutes",
            ),
            (json!({"title": "x", "due_time": "09:00"}), "due_time"),
            (
                json!({"title": "x", "due_date": "2026-12-01", "due_time": "09:00", "due_time_zone": "Mars/Base"}),
                "due_time_zone",
            ),
            (json!({"title": "x", "due_date": "2026-02-30"}), "due_date"),
            (
                json!({"title": "x", "recurrence": "FREQ=HOURLY", "due_date": "2026-12-01"}),
                "recurrence",
            ),
            (
                json!({"title": "x", "recurrence": "FREQ=DAILY"}),
                "recurrence",
            ),
            (json!({"title": "x", "status": "finished"}), "status"),
            (
                json!({"title": "x", "parent_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11"}),
                "parent_id",
            ),
        ],
    };
    exercise(
        &app,
        &ada,
        &app.signed_in(&b),
        &case,
        &json!({"area": area["id"]}),
    )
    .await;

    // The fixed due time is an instant; labels were trimmed and deduplicated.
    let task = ada.create("/v1/tasks", &(case.create)(0, &json!({}))).await;
    assert_eq!(task["due_at"], "2026-12-01T16:30:00Z");
    assert_eq!(task["labels"], json!(["phone", "errands"]));
    // Bob cannot link to Ada's area, even naming his own workspace.
    let bob = app.signed_in(&b);
    let res = bob
        .send(
            Method::POST,
            "/v1/tasks",
            Some(&json!({"title": "x", "area_id": area["id"]})),
            &[],
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "area_id");
    // A task cannot become its own ancestor.
    let parent = ada.create("/v1/tasks", &json!({"title": "Parent"})).await;
    let child = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Child", "parent_id": parent["id"]}),
        )
        .await;
    let res = ada
        .send(
            Method::PATCH,
            &format!("/v1/tasks/{}", parent["id"].as_str().unwrap()),
            Some(&json!({"parent_id": child["id"]})),
            &[],
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "parent_id");
    // Status done stamps completed_at; back to todo clears it.
    let path = format!("/v1/tasks/{}", child["id"].as_str().unwrap());
    let done: Value = ada
        .send(Method::PATCH, &path, Some(&json!({"status": "done"})), &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(done["completed_at"].is_string());
    let open: Value = ada
        .send(Method::PATCH, &path, Some(&json!({"status": "todo"})), &[])
        .await
        .json()
        .await
        .unwrap();
    assert!(open["completed_at"].is_null());
    // Filters.
    let page = ada
        .get(&format!(
            "/v1/tasks?parent_id={}",
            parent["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let page = ada
        .get("/v1/tasks?label=errands&status=open&due_before=2026-12-01&due_after=2026-12-01")
        .await;
    assert!(page["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["labels"].as_array().unwrap().contains(&json!("errands"))));
    problem(
        ada.send(Method::GET, "/v1/tasks?status=later", None, &[])
            .await,
        422,
        "/problems/validation",
    )
    .await;
}

#[tokio::test]
async fn recurring_tasks_complete_skip_and_end() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let ada = app.signed_in(&a);
    let task = ada
        .create("/v1/tasks", &json!({"title": "Pay rent", "due_date": "2027-01-31", "recurrence": "FREQ=MONTHLY", "reset_steps": true}))
        .await;
    let id = task["id"].as_str().unwrap().to_owned();
    let step = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Check the amount", "parent_id": id, "status": "done"}),
        )
        .await;

    let occ = ada
        .get(&format!("/v1/tasks/{id}/occurrences?count=4"))
        .await;
    let dates: Vec<&str> = occ["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["date"].as_str().unwrap())
        .collect();
    assert_eq!(
        dates,
        ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"],
        "month end clamps, never overflows"
    );

    let post = |action: &'static str| {
        let path = format!("/v1/tasks/{id}/{action}");
        let ada = &ada;
        async move { ada.send(Method::POST, &path, None, &[]).await }
    };
    let done: Value = post("complete").await.json().await.unwrap();
    assert_eq!(
        (done["due_date"].as_str(), done["status"].as_str()),
        (Some("2027-02-28"), Some("todo"))
    );
    let step_now = ada
        .get(&format!("/v1/tasks/{}", step["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        step_now["status"], "todo",
        "steps reopen for the next occurrence"
    );
    let skipped: Value = post("skip").await.json().await.unwrap();
    assert_eq!(
        skipped["due_date"], "2027-03-31",
        "the series keeps its day after a short month"
    );
    let ended: Value = post("end-series").await.json().await.unwrap();
    assert!(ended["recurrence"].is_null());
    assert_eq!(ended["due_date"], "2027-03-31");
    problem(post("skip").await, 409, "/problems/conflict").await;
    let finished: Value = post("complete").await.json().await.unwrap();
    assert_eq!(finished["status"], "done");

    // A counted series ends by itself.
    let counted = ada
        .create("/v1/tasks", &json!({"title": "Physio", "due_date": "2027-03-26", "due_time": "09:00", "recurrence": "FREQ=DAILY;COUNT=2"}))
        .await;
    let cid = counted["id"].as_str().unwrap();
    let first: Value = ada
        .send(
            Method::POST,
            &format!("/v1/tasks/{cid}/complete"),
            None,
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["due_date"], "2027-03-27");
    let last: Value = ada
        .send(
            Method::POST,
            &format!("/v1/tasks/{cid}/complete"),
            None,
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["status"], "done");

    // Floating times follow the user's zone across DST.
    ada.send(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/Berlin"})),
        &[],
    )
    .await;
    let daily = ada
        .create("/v1/tasks", &json!({"title": "Stretch", "due_date": "2027-03-27", "due_time": "09:00", "recurrence": "FREQ=DAILY"}))
        .await;
    let occ = ada
        .get(&format!(
            "/v1/tasks/{}/occurrences?count=2",
            daily["id"].as_str().unwrap()
        ))
        .await;
    let at: Vec<&str> = occ["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["at"].as_str().unwrap())
        .collect();
    assert_eq!(at, ["2027-03-27T08:00:00Z", "2027-03-28T07:00:00Z"]);

    // Bob sees none of it.
    let bob = app.signed_in(&b);
    problem(
        bob.send(Method::POST, &format!("/v1/tasks/{id}/complete"), None, &[])
            .await,
        404,
        "/problems/not-found",
    )
    .await;
    problem(
        bob.send(
            Method::GET,
            &format!("/v1/tasks/{id}/occurrences"),
            None,
            &[],
        )
        .await,
        404,
        "/problems/not-found",
    )
    .await;
}

#[tokio::test]
async fn goals_milestones_and_projects() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let area = ada.create("/v1/areas", &json!({"name": "Health"})).await;
    let links = json!({"area": area["id"]});

    let goals = Case {
        path: "/v1/goals",
        create: |n, links| json!({"title": format!("Goal {n}"), "why": "Because", "target_date": "2027-04-30", "area_id": links["area"]}),
        patch: json!({"title": "Run a half marathon", "status": "paused"}),
        invalid: vec![
            (json!({"title": ""}), "title"),
            (json!({"title": "x", "status": "dreaming"}), "status"),
            (
                json!({"title": "x", "target_date": "someday"}),
                "target_date",
            ),
            (json!({"title": "x", "why": "w".repeat(5001)}), "why"),
            (
                json!({"title": "x", "area_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11"}),
                "area_id",
            ),
        ],
    };
    exercise(&app, &ada, &bob, &goals, &links).await;

    let goal = ada
        .create("/v1/goals", &json!({"title": "Half marathon"}))
        .await;
    let gid = goal["id"].as_str().unwrap().to_owned();
    assert_eq!(goal["progress"]["percent"], 0);
    let milestones = Case {
        path: "/v1/milestones",
        create: |n, links| json!({"goal_id": links["goal"], "title": format!("Milestone {n}"), "due_date": "2027-01-31"}),
        patch: json!({"title": "Run 10 km", "done": true}),
        invalid: vec![
            (json!({"title": "x"}), "goal_id"),
            (
                json!({"goal_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11", "title": "x"}),
                "goal_id",
            ),
            (json!({"goal_id": gid, "title": ""}), "title"),
            (json!({"goal_id": gid, "title": "x", "done": "yes"}), "done"),
        ],
    };
    exercise(&app, &ada, &bob, &milestones, &json!({"goal": gid})).await;

    // Progress follows milestones when there are any, else tasks.
    let fresh = ada
        .create("/v1/goals", &json!({"title": "Read 12 books"}))
        .await;
    let fid = fresh["id"].as_str().unwrap().to_owned();
    for status in ["done", "todo", "todo", "cancelled"] {
        ada.create(
            "/v1/tasks",
            &json!({"title": "Book", "goal_id": fid, "status": status}),
        )
        .await;
    }
    assert_eq!(
        ada.get(&format!("/v1/goals/{fid}")).await["progress"]["percent"],
        33
    );
    ada.create(
        "/v1/milestones",
        &json!({"goal_id": fid, "title": "First half", "done": true}),
    )
    .await;
    ada.create(
        "/v1/milestones",
        &json!({"goal_id": fid, "title": "Second half"}),
    )
    .await;
    let progress = ada.get(&format!("/v1/goals/{fid}")).await["progress"].clone();
    assert_eq!(
        progress,
        json!({"milestones_total": 2, "milestones_done": 1, "tasks_total": 3, "tasks_done": 1, "percent": 50})
    );

    let projects = Case {
        path: "/v1/projects",
        create: |n, links| json!({"title": format!("Project {n}"), "status": "planned", "goal_id": links["goal"], "area_id": links["area"]}),
        patch: json!({"title": "Move flat", "status": "completed"}),
        invalid: vec![
            (json!({"title": ""}), "title"),
            (json!({"title": "x", "status": "done"}), "status"),
            (
                json!({"title": "x", "goal_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11"}),
                "goal_id",
            ),
            (json!({"title": "x", "notes": 5}), "notes"),
        ],
    };
    exercise(
        &app,
        &ada,
        &bob,
        &projects,
        &json!({"goal": fid, "area": area["id"]}),
    )
    .await;
    let done = ada
        .create(
            "/v1/projects",
            &json!({"title": "Done already", "status": "completed"}),
        )
        .await;
    assert!(done["completed_at"].is_string());
}

#[tokio::test]
async fn routines_with_completions_and_streaks() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let case = Case {
        path: "/v1/routines",
        create: |n, _| {
            json!({"title": format!("Routine {n}"), "rrule": "FREQ=DAILY", "start_date": "2026-01-01", "time_of_day": "07:00",
                   "duration_minutes": 20, "steps": [{"title": "Shoes"}, {"title": "Run"}]})
        },
        patch: json!({"title": "Morning run", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR", "reset_steps": false}),
        invalid: vec![
            (json!({"title": "x"}), "rrule"),
            (json!({"title": "x", "rrule": "FREQ=HOURLY"}), "rrule"),
            (json!({"title": "", "rrule": "FREQ=DAILY"}), "title"),
            (
                json!({"title": "x", "rrule": "FREQ=DAILY", "steps": [{"title": ""}]}),
                "steps.0.title",
            ),
            (
                json!({"title": "x", "rrule": "FREQ=DAILY", "time_of_day": "25:00"}),
                "time_of_day",
            ),
            (
                json!({"title": "x", "rrule": "FREQ=DAILY", "duration_minutes": 0}),
                "duration_minutes",
            ),
        ],
    };
    exercise(&app, &ada, &bob, &case, &json!({})).await;

    // A daily routine that started a week ago: four done, one skipped, yesterday missed.
    let today = crate::helpers::user_today();
    let day = |n: i64| (today - chrono::Duration::days(n)).to_string();
    let routine = ada
        .create("/v1/routines", &json!({"title": "Stretch", "rrule": "FREQ=DAILY", "start_date": day(7), "steps": [{"title": "Neck"}, {"title": "Back"}]}))
        .await;
    let id = routine["id"].as_str().unwrap().to_owned();
    let record = |date: String, outcome: &'static str| {
        let path = format!("/v1/routines/{id}/completions");
        let ada = &ada;
        async move {
            ada.send(
                Method::POST,
                &path,
                Some(&json!({"date": date, "outcome": outcome, "steps_done": [0]})),
                &[],
            )
            .await
        }
    };
    for (n, outcome) in [
        (7, "done"),
        (6, "done"),
        (5, "done"),
        (4, "skipped"),
        (3, "done"),
        (2, "done"),
    ] {
        assert_eq!(record(day(n), outcome).await.status(), StatusCode::OK);
    }
    let streak = ada.get(&format!("/v1/routines/{id}")).await["streak"].clone();
    assert_eq!(
        streak,
        json!({"current": 0, "longest": 5, "done_total": 5}),
        "yesterday was missed"
    );
    record(day(1), "done").await;
    let streak = ada.get(&format!("/v1/routines/{id}")).await["streak"].clone();
    assert_eq!(
        streak["current"], 6,
        "today is still open; the skip neither breaks nor counts"
    );

    // Not an occurrence, done ahead of time, a step that does not exist.
    let weekly = ada.create("/v1/routines", &json!({"title": "Review", "rrule": "FREQ=WEEKLY;BYDAY=SU", "start_date": "2026-11-01"})).await;
    let wid = weekly["id"].as_str().unwrap();
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/routines/{wid}/completions"),
            Some(&json!({"date": "2026-11-03", "outcome": "done"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let res = record((today + chrono::Duration::days(3)).to_string(), "done").await;
    problem(res, 422, "/problems/validation").await;
    let res = ada
        .send(
            Method::POST,
            &format!("/v1/routines/{id}/completions"),
            Some(&json!({"date": day(1), "outcome": "done", "steps_done": [5]})),
            &[],
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"][0]["field"], "steps_done");
    // Skipping ahead is fine, and shows in the occurrences.
    assert_eq!(
        record((today + chrono::Duration::days(1)).to_string(), "skipped")
            .await
            .status(),
        StatusCode::OK
    );
    let occ = ada
        .get(&format!("/v1/routines/{id}/occurrences?count=2"))
        .await;
    assert_eq!(occ["items"][1]["outcome"], "skipped");

    // Undo, end the series.
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/routines/{id}/completions/{}", day(1)),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ada.get(&format!("/v1/routines/{id}/completions")).await["items"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    let ended: Value = ada
        .send(
            Method::POST,
            &format!("/v1/routines/{id}/end-series"),
            Some(&json!({"last_date": day(0)})),
            &[],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ended["ended_on"], day(0));
    let occ = ada
        .get(&format!("/v1/routines/{id}/occurrences?count=5"))
        .await;
    assert_eq!(
        occ["items"].as_array().unwrap().len(),
        1,
        "only today is left"
    );

    problem(
        bob.send(
            Method::GET,
            &format!("/v1/routines/{id}/completions"),
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
            &format!("/v1/routines/{id}/completions"),
            Some(&json!({"date": day(1), "outcome": "done"})),
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
}

#[tokio::test]
async fn settings_and_onboarding_are_per_user_documents_with_defaults() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let res = ada.send(Method::GET, "/v1/settings", None, &[]).await;
    assert_eq!(res.headers()["etag"], "\"0\"");
    let defaults: Value = res.json().await.unwrap();
    assert_eq!(defaults["day_starts_at"], "03:00:00");
    assert_eq!(defaults["ai_enabled"], false);

    let res = ada
        .send(
            Method::PATCH,
            "/v1/settings",
            Some(&json!({"work_start": "08:00", "ai_enabled": true})),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(
        (
            changed["work_start"].as_str(),
            changed["work_end"].as_str(),
            changed["version"].as_i64()
        ),
        (Some("08:00:00"), Some("17:00:00"), Some(1))
    );
    // The whole result is checked: an end before the start is refused and nothing changes.
    let res = ada
        .send(
            Method::PATCH,
            "/v1/settings",
            Some(&json!({"work_end": "07:00", "max_block_minutes": 5})),
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
    assert_eq!(fields, ["work_end", "max_block_minutes"]);
    problem(
        ada.send(
            Method::PATCH,
            "/v1/settings",
            Some(&json!({"work_end": "18:00"})),
            &[("if-match", "\"0\"")],
        )
        .await,
        412,
        "/problems/precondition-failed",
    )
    .await;
    problem(
        ada.send(
            Method::PATCH,
            "/v1/settings",
            Some(&json!({"theme": "dark"})),
            &[],
        )
        .await,
        422,
        "/problems/validation",
    )
    .await;
    assert_eq!(ada.get("/v1/settings").await, changed);
    // Bob has his own.
    assert_eq!(bob.get("/v1/settings").await, defaults);
    assert_eq!(
        ada.send(Method::DELETE, "/v1/settings", None, &[])
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(ada.get("/v1/settings").await, defaults);

    let res = ada
        .send(Method::PATCH, "/v1/onboarding", Some(&json!({"primary_needs": ["focus", "habits"], "available_time": "2_4h", "completed": true})), &[])
        .await;
    let answers: Value = res.json().await.unwrap();
    assert_eq!(answers["available_time"], "2_4h");
    assert!(answers["completed_at"].is_string());
    let res = ada
        .send(
            Method::PATCH,
            "/v1/onboarding",
            Some(&json!({"guidance_level": "total", "default_energy": "max"})),
            &[],
        )
        .await;
    let body = problem(res, 422, "/problems/validation").await;
    assert_eq!(body["errors"].as_array().unwrap().len(), 2);
    assert_eq!(bob.get("/v1/onboarding").await["completed"], false);
    // Row-level security keeps them apart in the database too.
    assert_eq!(
        app.count("SELECT count(*) FROM app.onboarding_answers")
            .await,
        1
    );
}
