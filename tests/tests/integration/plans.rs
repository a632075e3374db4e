//! Today, daily plans and the Assistant over HTTP: a realistic week of one user in Berlin.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, two_users, Client, TestApp};

const ZONE: Tz = chrono_tz::Europe::Berlin;

fn at(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    ZONE.from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
        .earliest()
        .unwrap()
        .to_utc()
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn local_time(v: &Value) -> NaiveTime {
    instant(v).with_timezone(&ZONE).time()
}

async fn plan(c: &Client<'_>, date: NaiveDate, busy: &Value) -> Value {
    c.ok(
        Method::POST,
        "/v1/plans",
        Some(&json!({"date": date, "busy": busy})),
    )
    .await
}

/// What every plan promises, whatever the data.
fn check_plan(plan: &Value, busy: &[(DateTime<Utc>, DateTime<Utc>)], open_tasks: &[&str]) {
    let blocks = plan["blocks"].as_array().unwrap();
    let window = (instant(&plan["window_start"]), instant(&plan["window_end"]));
    let mut used = 0;
    for (n, b) in blocks.iter().enumerate() {
        let (s, e) = (instant(&b["start"]), instant(&b["end"]));
        assert!(s < e);
        assert!(!b["reason"].as_str().unwrap().is_empty(), "{b}");
        assert_ne!(b["status"], "rejected");
        used += (e - s).num_minutes();
        if b["item"]["kind"] == "task" {
            assert!(
                s >= window.0 && e <= window.1,
                "outside the working window: {b}"
            );
            assert!(
                (e - s).num_minutes() <= 60,
                "longer than max_block_minutes: {b}"
            );
            for (bs, be) in busy {
                assert!(e <= *bs || *be <= s, "over a busy block: {b}");
            }
        }
        for other in &blocks[n + 1..] {
            assert!(
                e <= instant(&other["start"]) || instant(&other["end"]) <= s,
                "overlap: {b} {other}"
            );
        }
    }
    assert_eq!(plan["planned_minutes"], used);
    assert!(used <= plan["available_minutes"].as_i64().unwrap());
    let mut seen: HashSet<&str> = blocks
        .iter()
        .map(|b| b["item"]["id"].as_str().unwrap())
        .collect();
    for u in plan["unplanned"].as_array().unwrap() {
        assert!(!u["reason"].as_str().unwrap().is_empty());
        assert!(u["start"].is_null());
        seen.insert(u["item"]["id"].as_str().unwrap());
    }
    for r in plan["rejected"].as_array().unwrap() {
        seen.insert(r["item"]["id"].as_str().unwrap());
    }
    for id in open_tasks {
        assert!(seen.contains(id), "task {id} is neither planned nor listed");
    }
}

fn lines_of<'a>(plan: &'a Value, id: &str) -> Vec<&'a Value> {
    plan["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .chain(plan["unplanned"].as_array().unwrap())
        .chain(plan["rejected"].as_array().unwrap())
        .filter(|l| l["item"]["id"] == id)
        .collect()
}

/// (item, start, end, reason) of the proposed blocks: what must not change between computations.
fn shape(plan: &Value) -> Vec<(String, String, String, String)> {
    plan["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["item"]["id"].to_string(),
                b["start"].to_string(),
                b["end"].to_string(),
                b["reason"].to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_week_of_plans_for_one_user() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    ada.ok(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/Berlin"})),
    )
    .await;
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({
            "day_starts_at": "00:00:00", "work_start": "09:00:00", "work_end": "17:00:00",
            "high_energy_start": "09:00:00", "high_energy_end": "12:00:00", "max_block_minutes": 60
        })),
    )
    .await;
    ada.ok(
        Method::PATCH,
        "/v1/onboarding",
        Some(&json!({"available_time": "over_4h", "default_energy": "low"})),
    )
    .await;
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let day = |n: i64| today + Duration::days(n);

    let id = |v: Value| v["id"].as_str().unwrap().to_owned();
    let report = id(ada
        .create(
            "/v1/tasks",
            &json!({"title": "Write the quarterly report", "priority": 1,
        "energy": "high", "estimate_minutes": 150, "due_date": day(1)}),
        )
        .await);
    let plumber = id(ada
        .create(
            "/v1/tasks",
            &json!({"title": "Call the plumber", "priority": 2, "estimate_minutes": 15, "due_date": day(-2)}),
        )
        .await);
    let book = id(ada
        .create(
            "/v1/tasks",
            &json!({"title": "Read a chapter", "priority": 4, "estimate_minutes": 30}),
        )
        .await);
    let trip = id(ada
        .create(
            "/v1/tasks",
            &json!({"title": "Plan the trip", "priority": 3}),
        )
        .await);
    let step = id(ada
        .create(
            "/v1/tasks",
            &json!({"title": "Book the train", "parent_id": trip, "estimate_minutes": 20}),
        )
        .await);
    let later = id(ada.create("/v1/tasks", &json!({"title": "Renew the passport", "scheduled_date": day(3), "estimate_minutes": 30})).await);
    let run = id(ada
        .create(
            "/v1/routines",
            &json!({"title": "Morning run", "rrule": "FREQ=DAILY",
        "start_date": day(-10), "time_of_day": "07:30", "duration_minutes": 30}),
        )
        .await);
    let review = id(ada
        .create(
            "/v1/routines",
            &json!({"title": "Weekly review", "rrule": "FREQ=WEEKLY;BYDAY=FR",
        "start_date": day(-10), "duration_minutes": 20}),
        )
        .await);
    let open = [
        report.as_str(),
        plumber.as_str(),
        book.as_str(),
        trip.as_str(),
        step.as_str(),
        later.as_str(),
    ];

    // Tomorrow, with lunch in the way.
    let d1 = day(1);
    let lunch = (at(d1, 13, 0), at(d1, 14, 0));
    let busy = json!([{"start": lunch.0, "end": lunch.1, "title": "Lunch with Sam"}]);
    let p1 = plan(&ada, d1, &busy).await;
    check_plan(&p1, &[lunch], &open);
    assert_eq!(p1["stored"], true);
    assert_eq!(p1["time_zone"], "Europe/Berlin");
    assert_eq!(p1["available_minutes"], 480);
    assert_eq!(
        local_time(&p1["window_start"]),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap()
    );
    assert_eq!(p1["busy"][0]["title"], "Lunch with Sam");
    // The overdue call comes first among tasks, outside the high-energy hours (default energy: low).
    let tasks: Vec<&Value> = p1["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["item"]["kind"] == "task")
        .collect();
    let call = lines_of(&p1, &plumber);
    assert!(
        call[0]["reason"].as_str().unwrap().starts_with("overdue"),
        "{}",
        call[0]
    );
    assert!(local_time(&call[0]["start"]) >= NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    // 150 minutes of high-energy work due tomorrow: three blocks of at most 60 in the morning.
    let parts = lines_of(&p1, &report);
    assert_eq!(parts.len(), 3, "{p1}");
    for p in &parts {
        assert!(
            p["reason"]
                .as_str()
                .unwrap()
                .contains("in your high-energy hours"),
            "{p}"
        );
        assert!(local_time(&p["end"]) <= NaiveTime::from_hms_opt(12, 0, 0).unwrap());
    }
    assert!(tasks.len() >= 4);
    // The routine keeps its time; the weekly one appears on Fridays only.
    let runs = lines_of(&p1, &run);
    assert_eq!(
        local_time(&runs[0]["start"]),
        NaiveTime::from_hms_opt(7, 30, 0).unwrap()
    );
    assert_eq!(runs[0]["reason"], "routine at its usual time");
    assert_eq!(
        lines_of(&p1, &review).is_empty(),
        d1.format("%a").to_string() != "Fri"
    );
    // A task with open steps is planned through them; one scheduled later waits for its day.
    assert_eq!(
        lines_of(&p1, &trip)[0]["reason"],
        "planned through its open steps"
    );
    assert!(lines_of(&p1, &step)[0]["start"].is_string());
    assert_eq!(
        lines_of(&p1, &later)[0]["reason"],
        format!("scheduled for {}", day(3))
    );
    // Stored: the same plan comes back.
    assert_eq!(
        ada.ok(Method::GET, &format!("/v1/plans/{d1}"), None).await,
        p1
    );
    // Computing again with nothing answered gives the same plan.
    assert_eq!(shape(&plan(&ada, d1, &busy).await), shape(&p1));

    // Accept the report: it is scheduled for that day and its blocks stay put on recomputation.
    let p1 = ada.ok(Method::GET, &format!("/v1/plans/{d1}"), None).await;
    let first_part = lines_of(&p1, &report)[0]["id"].as_str().unwrap().to_owned();
    let accepted = ada
        .ok(
            Method::POST,
            &format!("/v1/plan-items/{first_part}/accept"),
            None,
        )
        .await;
    assert!(lines_of(&accepted, &report)
        .iter()
        .all(|l| l["status"] == "accepted"));
    assert_eq!(
        ada.get(&format!("/v1/tasks/{report}")).await["scheduled_date"],
        json!(d1)
    );
    // Reject the book without a body: it moves to the next day and leaves this plan.
    let book_line = lines_of(&accepted, &book)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rejected = ada
        .ok(
            Method::POST,
            &format!("/v1/plan-items/{book_line}/reject"),
            None,
        )
        .await;
    assert_eq!(lines_of(&rejected, &book)[0]["status"], "rejected");
    assert_eq!(
        ada.get(&format!("/v1/tasks/{book}")).await["scheduled_date"],
        json!(day(2))
    );
    // What did not fit has no line to answer.
    let waiting = lines_of(&rejected, &later)[0];
    assert_eq!(waiting["status"], "unplanned");
    assert!(waiting["id"].is_null());
    let again = plan(&ada, d1, &busy).await;
    check_plan(&again, &[lunch], &open);
    let keep = |p: &Value| -> Vec<(Value, Value, Value)> {
        lines_of(p, &report)
            .iter()
            .map(|l| (l["id"].clone(), l["start"].clone(), l["status"].clone()))
            .collect()
    };
    assert_eq!(keep(&again), keep(&accepted));
    let book_lines = lines_of(&again, &book);
    assert_eq!(book_lines.len(), 1);
    assert_eq!(book_lines[0]["status"], "rejected");
    // Rejecting with an explicit null unschedules the task.
    let step_line = lines_of(&again, &step)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ada.ok(
        Method::POST,
        &format!("/v1/plan-items/{step_line}/reject"),
        Some(&json!({"reschedule_to": null})),
    )
    .await;
    assert!(ada.get(&format!("/v1/tasks/{step}")).await["scheduled_date"].is_null());

    // The rest of the week: every day keeps the promises; Friday has the weekly review.
    for n in 2..=7 {
        let d = day(n);
        let p = plan(&ada, d, &json!([])).await;
        check_plan(&p, &[], &open);
        let fri = d.format("%a").to_string() == "Fri";
        assert_eq!(!lines_of(&p, &review).is_empty(), fri, "{d}: {p}");
        if fri {
            let r = lines_of(&p, &review)[0];
            assert!(r["reason"]
                .as_str()
                .unwrap()
                .contains("routine without a set time"));
        }
    }

    // A DST day: on 28 March 2027 09:00 in Berlin is 07:00 UTC.
    let dst = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
    if dst <= today + Duration::days(366) && dst > today {
        let p = plan(&ada, dst, &json!([])).await;
        assert_eq!(
            instant(&p["window_start"]),
            Utc.with_ymd_and_hms(2027, 3, 28, 7, 0, 0).unwrap()
        );
    }

    // Bad input changes nothing and says what is wrong.
    let plans_before = app.count("SELECT count(*) FROM app.day_plans").await;
    let bad = |body: Value| {
        let ada = &ada;
        async move { ada.send(Method::POST, "/v1/plans", Some(&body), &[]).await }
    };
    let res = problem(
        bad(json!({"date": day(-1)})).await,
        422,
        "/problems/validation",
    )
    .await;
    assert_eq!(res["errors"][0]["field"], "date");
    let res = problem(
        bad(json!({"date": day(4), "busy": [{"start": lunch.1, "end": lunch.0}]})).await,
        422,
        "/problems/validation",
    )
    .await;
    assert_eq!(res["errors"][0]["field"], "busy.0.end");
    problem(
        bad(json!({"date": day(400)})).await,
        422,
        "/problems/validation",
    )
    .await;
    problem(
        bad(json!({"date": day(4), "color": "red"})).await,
        422,
        "/problems/validation",
    )
    .await;
    problem(
        bad(json!({"date": "tomorrow"})).await,
        422,
        "/problems/validation",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.day_plans").await,
        plans_before
    );
    let missing = ada
        .send(Method::GET, &format!("/v1/plans/{}", day(30)), None, &[])
        .await;
    problem(missing, 404, "/problems/not-found").await;
    let garbage = ada.send(Method::GET, "/v1/plans/someday", None, &[]).await;
    problem(garbage, 404, "/problems/not-found").await;

    // Plans are personal: Bob sees none of Ada's.
    let res = bob
        .send(Method::GET, &format!("/v1/plans/{d1}"), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn today_follows_the_day_boundary_and_recommends_with_reasons() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    ada.ok(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/Berlin"})),
    )
    .await;
    // A boundary late in the evening: before it, "today" is still the calendar day before.
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(
            &json!({"day_starts_at": "23:59:00", "work_start": "00:00:00", "work_end": "23:59:00"}),
        ),
    )
    .await;
    let now = Utc::now().with_timezone(&ZONE);
    let expected = if now.time() < NaiveTime::from_hms_opt(23, 59, 0).unwrap() {
        now.date_naive().pred_opt().unwrap()
    } else {
        now.date_naive()
    };
    let today = expected;
    let plumber = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Call the plumber", "priority": 1, "estimate_minutes": 15, "due_date": today - Duration::days(2)}),
        )
        .await;
    ada.create(
        "/v1/tasks",
        &json!({"title": "Send the invoice", "priority": 2, "due_date": today}),
    )
    .await;
    let run = ada
        .create(
            "/v1/routines",
            &json!({"title": "Stretch", "rrule": "FREQ=DAILY", "start_date": today - Duration::days(3)}),
        )
        .await;
    ada.send(
        Method::POST,
        &format!("/v1/routines/{}/completions", run["id"].as_str().unwrap()),
        Some(&json!({"date": today, "outcome": "done"})),
        &[],
    )
    .await;

    let t = ada.ok(Method::GET, "/v1/today", None).await;
    assert_eq!(t["date"], json!(expected), "{t}");
    assert_eq!(t["time_zone"], "Europe/Berlin");
    assert_eq!(
        instant(&t["day_started_at"])
            .with_timezone(&ZONE)
            .time()
            .hour(),
        23
    );
    assert_eq!(t["overdue_count"], 1);
    assert_eq!(t["overdue"][0]["id"], plumber["id"]);
    assert_eq!(t["due_today_count"], 1);
    assert_eq!(t["due_today"][0]["title"], "Send the invoice");
    assert_eq!(t["routines"][0]["title"], "Stretch");
    assert_eq!(t["routines"][0]["outcome"], "done");
    // Not stored: a preview computed now, in which the completed routine is not planned again.
    assert_eq!(t["plan"]["stored"], false);
    assert!(t["plan"]["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["item"]["id"] != run["id"]
            && instant(&b["start"]) >= instant(&t["now"]) - Duration::seconds(1)));
    // Whatever is recommended carries its reason; the overdue call leads when anything fits.
    for r in t["recommendations"].as_array().unwrap() {
        assert!(!r["reason"].as_str().unwrap().is_empty());
    }
    let first = &t["recommendations"][0];
    assert_eq!(first["item"]["id"], plumber["id"], "{t}");
    let why = first["reason"].as_str().unwrap();
    assert!(why.contains("overdue, priority 1"), "{why}");
    // Once stored, Today shows the stored plan.
    let stored = ada.ok(Method::POST, "/v1/plans", Some(&json!({}))).await;
    assert_eq!(stored["date"], json!(expected));
    let t = ada.ok(Method::GET, "/v1/today", None).await;
    assert_eq!(t["plan"]["id"], stored["id"]);
    assert_eq!(t["plan"]["stored"], true);
}

#[tokio::test]
async fn the_assistant_answers_from_the_users_rows() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    ada.ok(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/Berlin"})),
    )
    .await;
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({"day_starts_at": "00:00:00"})),
    )
    .await;
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let ask = |q: &str| format!("/v1/assistant?question={q}");

    let old = ada
        .create(
            "/v1/tasks",
            &json!({"title": "File taxes", "due_date": today - Duration::days(5)}),
        )
        .await;
    let done = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Buy milk", "due_date": today - Duration::days(1)}),
        )
        .await;
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{}", done["id"].as_str().unwrap()),
        Some(&json!({"status": "done"})),
    )
    .await;
    let overdue = ada.ok(Method::GET, &ask("overdue"), None).await;
    let answer = &overdue["items"][0];
    assert_eq!(answer["question"], "overdue");
    assert_eq!(answer["figures"]["overdue_tasks"], 1);
    assert_eq!(answer["rows"][0]["id"], old["id"]);
    assert!(
        answer["answer"].as_str().unwrap().contains("“File taxes”"),
        "{answer}"
    );
    assert!(
        answer["answer"].as_str().unwrap().contains("5 days ago"),
        "{answer}"
    );

    // The week: a completed task, a routine kept and one skipped, a 45-minute focus session, a review.
    let routine = ada
        .create(
            "/v1/routines",
            &json!({"title": "Journal", "rrule": "FREQ=DAILY", "start_date": today - Duration::days(9)}),
        )
        .await;
    let rid = routine["id"].as_str().unwrap();
    for (d, outcome) in [(0, "done"), (1, "skipped"), (8, "done")] {
        let res = ada
            .send(
                Method::POST,
                &format!("/v1/routines/{rid}/completions"),
                Some(&json!({"date": today - Duration::days(d), "outcome": outcome})),
                &[],
            )
            .await;
        assert!(res.status().is_success());
    }
    let start = Utc::now() - Duration::hours(2);
    let session = ada
        .create(
            "/v1/focus-sessions",
            &json!({"task_id": old["id"], "started_at": start, "ended_at": start + Duration::minutes(45)}),
        )
        .await;
    let review = ada
        .create(
            "/v1/reviews",
            &json!({"kind": "weekly", "period_start": today - Duration::days(6), "period_end": today}),
        )
        .await;
    let week = ada.ok(Method::GET, &ask("week"), None).await;
    let w = &week["items"][0];
    assert_eq!(w["figures"]["tasks_completed"], 1, "{w}");
    assert_eq!(w["figures"]["routines_done"], 1);
    assert_eq!(w["figures"]["routines_skipped"], 1);
    assert_eq!(w["figures"]["focus_minutes"], 45);
    assert_eq!(w["figures"]["reviews"], 1);
    let used: HashSet<&str> = w["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for row in [&done, &session, &review] {
        assert!(
            used.contains(row["id"].as_str().unwrap()),
            "{row} missing from {w}"
        );
    }
    assert!(w["answer"].as_str().unwrap().contains("0 h 45 min"), "{w}");

    // Goals: one moving, one untouched for a month.
    let moving = ada
        .create("/v1/goals", &json!({"title": "Run a 10k"}))
        .await;
    ada.create(
        "/v1/tasks",
        &json!({"title": "Run 5k", "goal_id": moving["id"], "status": "done"}),
    )
    .await;
    let stuck = ada
        .create("/v1/goals", &json!({"title": "Learn Spanish"}))
        .await;
    let admin = app.admin().await;
    admin
        .execute(
            "UPDATE app.goals SET created_at = now() - interval '30 days'",
            &[],
        )
        .await
        .unwrap();
    let stalled = ada.ok(Method::GET, &ask("stalled_goals"), None).await;
    let s = &stalled["items"][0];
    assert_eq!(s["figures"]["active_goals"], 2);
    assert_eq!(s["figures"]["stalled_goals"], 1, "{s}");
    assert_eq!(s["rows"][0]["id"], stuck["id"]);
    assert!(s["rows"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("add a next step"));

    // Without a question, every question is answered; what_next names a task and why.
    let all = ada.ok(Method::GET, "/v1/assistant", None).await;
    let questions: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["question"].as_str().unwrap())
        .collect();
    assert_eq!(questions, ["what_next", "overdue", "week", "stalled_goals"]);
    assert!(!all["items"][0]["answer"].as_str().unwrap().is_empty());

    // Unknown questions are refused, naming the parameter; Bob's answers know nothing of Ada.
    let res = ada
        .send(Method::GET, &ask("meaning_of_life"), None, &[])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "question");
    let theirs = bob.ok(Method::GET, "/v1/assistant", None).await;
    assert_eq!(theirs["items"][1]["figures"]["overdue_tasks"], 0);
    assert_eq!(theirs["items"][2]["figures"]["tasks_completed"], 0);
    assert_eq!(theirs["items"][3]["figures"]["active_goals"], 0);
}

#[tokio::test]
async fn a_plan_made_after_the_working_day_says_the_day_is_over() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    // A fixed-offset zone in which it is now about noon, with a working day that ended at 10:00.
    let offset = 12 - i32::try_from(Utc::now().hour()).unwrap();
    let zone = match offset {
        0 => "Etc/GMT".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    ada.ok(Method::PATCH, "/v1/me", Some(&json!({"time_zone": zone})))
        .await;
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({
            "day_starts_at": "00:00:00", "work_start": "06:00:00", "work_end": "10:00:00",
            "high_energy_start": "06:00:00", "high_energy_end": "08:00:00"
        })),
    )
    .await;
    let zone: Tz = zone.parse().unwrap();
    let today = Utc::now().with_timezone(&zone).date_naive();
    let task = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Call the plumber", "priority": 2, "estimate_minutes": 15, "due_date": today}),
        )
        .await;
    let p = plan(&ada, today, &json!([])).await;
    let lines = lines_of(&p, task["id"].as_str().unwrap());
    assert_eq!(
        lines[0]["reason"], "due today, priority 2: the working day (06:00–10:00) is over",
        "{p}"
    );
}

/// "Today" and streaks follow the server's clock across the user's day boundary.
#[tokio::test]
async fn the_day_turns_on_the_servers_clock() {
    let app = TestApp::spawn().await;
    let (a, _) = two_users(&app).await;
    let ada = app.signed_in(&a);
    ada.ok(
        Method::PATCH,
        "/v1/settings",
        Some(&json!({"day_starts_at": "00:00:00"})),
    )
    .await;
    let today = |clock: &minime_api::clock::Clock| clock.now().date_naive();
    let day0 = today(&app.clock);
    let routine = ada
        .create(
            "/v1/routines",
            &json!({"title": "Stretch", "rrule": "FREQ=DAILY", "start_date": day0}),
        )
        .await;
    let rid = routine["id"].as_str().unwrap();
    let record = |date: chrono::NaiveDate| json!({"date": date, "outcome": "done"});
    let completions = format!("/v1/routines/{rid}/completions");
    // Tomorrow cannot be done yet; today can.
    let (status, body) = ada
        .call(
            Method::POST,
            &completions,
            Some(&record(day0 + Duration::days(1))),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    ada.succeeds(Method::POST, &completions, Some(&record(day0)))
        .await;
    assert_eq!(
        ada.get(&format!("/v1/routines/{rid}")).await["streak"]["current"],
        1
    );

    // A day later on the server's clock, that day is today: it can be done, and the streak grows.
    let a = app
        .advance(std::time::Duration::from_secs(86_400), &a)
        .await;
    let ada = app.signed_in(&a);
    let day1 = today(&app.clock);
    assert_eq!(day1, day0 + Duration::days(1));
    ada.succeeds(Method::POST, &completions, Some(&record(day1)))
        .await;
    assert_eq!(
        ada.get(&format!("/v1/routines/{rid}")).await["streak"]["current"],
        2
    );
}
