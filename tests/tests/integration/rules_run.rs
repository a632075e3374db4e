//! Automation rules at work: each trigger and each action, conditions read when the run happens,
//! all of a rule's actions or none, no rule started by another's actions, time-caused events once
//! per row and day, schedules at their local instant across a daylight-saving change and without
//! catching up days the server was down, the record of runs, and the hourly limit.
//!
//! Most tests run the jobs themselves (the server's own workers are off), so that a test decides
//! when a queued event runs: what happens before `drain` has not run yet.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use minime_api::{common::jobs::worker::Worker, db::pool::Db};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{problem, Client, TestApp, Tokens, PASSWORD};

struct Rig {
    app: TestApp,
    worker: Worker,
}

/// A server whose workers are off, and one worker of the test's with every handler the server has.
async fn rig() -> Rig {
    let app = TestApp::spawn_with(&[("MINIME_JOB_WORKERS", "0")]).await;
    let vars: HashMap<String, String> = [
        ("DATABASE_URL", app.admin_url.as_str()),
        ("MINIME_MAIL_DIR", app.mail_dir.path().to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = minime_api::config::Config::from_vars(&vars).unwrap();
    let registry = minime_api::server::job_registry(&config).unwrap();
    let db = Db::connect(&app.app_db_url, 4, Duration::from_secs(5)).unwrap();
    let at = app.clock.now();
    db.tx(move |c| async move { minime_api::rules::detector::plant(c, at).await }.scope_boxed())
        .await
        .unwrap();
    let worker = Worker::new(db, app.clock.clone(), Arc::new(registry));
    Rig { app, worker }
}

impl Rig {
    /// Runs every job due now, until none is left.
    async fn drain(&self) {
        while self.worker.run_once().await.unwrap() {}
    }

    /// A verified, signed-in user (their mail delivered by a worker while it waits).
    async fn user(&self, email: &str) -> Tokens {
        let stop = Arc::new(AtomicBool::new(false));
        let (worker, done) = (self.worker.clone(), stop.clone());
        let mail = tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if !worker.run_once().await.unwrap() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        let tokens = self.app.user(email).await;
        stop.store(true, Ordering::Relaxed);
        mail.await.unwrap();
        tokens
    }

    /// Moves the clock to `at` (forward only) and runs what is due then.
    async fn at(&self, at: &str) {
        let target: DateTime<Utc> = at.parse().unwrap();
        let by = (target - self.app.clock.now())
            .to_std()
            .expect("the clock only moves forward");
        self.app.clock.advance(by);
        self.drain().await;
    }

    /// The user's today on the server's clock (UTC, day boundary 03:00).
    fn today(&self) -> NaiveDate {
        minime_api::planner::day::local_date(
            self.app.clock.now(),
            chrono_tz::UTC,
            NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
        )
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// The rule's runs as (outcome, error), oldest first.
async fn runs(app: &TestApp, rule: &Value) -> Vec<(String, Option<String>)> {
    app.admin()
        .await
        .query(
            "SELECT outcome, error FROM app.rule_runs WHERE rule_id = $1::text::uuid ORDER BY created_at, id",
            &[&id(rule)],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn outcomes(runs: &[(String, Option<String>)]) -> Vec<&str> {
    runs.iter().map(|(o, _)| o.as_str()).collect()
}

/// The notifications queued for delivery, as (user, payload).
async fn pushes(app: &TestApp) -> Vec<(String, Value)> {
    app.admin()
        .await
        .query(
            "SELECT user_id::text, payload::text FROM ops.jobs WHERE kind = 'push.notify' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                serde_json::from_str(r.get::<_, String>(1).as_str()).unwrap(),
            )
        })
        .collect()
}

async fn task(c: &Client<'_>, tid: &str) -> Value {
    c.get(&format!("/v1/tasks/{tid}")).await
}

#[tokio::test]
async fn a_completed_task_runs_its_rules_once_per_completion() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    let me = ada.get("/v1/me").await;
    let rule = ada
        .create(
            "/v1/rules",
            &json!({"name": "Urgent work done", "trigger": {"type": "task_completed"},
                    "conditions": [{"field": "priority", "op": "lt", "value": 3}],
                    "actions": [{"type": "add_label", "label": "reviewed"},
                                {"type": "set_priority", "priority": 1},
                                {"type": "notify", "message": "Well done"}]}),
        )
        .await;
    let urgent = ada
        .create("/v1/tasks", &json!({"title": "Call", "priority": 2}))
        .await;
    let tid = id(&urgent);
    ada.ok(Method::POST, &format!("/v1/tasks/{tid}/complete"), None)
        .await;
    assert!(runs(&rig.app, &rule).await.is_empty(), "ran before its job");
    rig.drain().await;
    assert_eq!(outcomes(&runs(&rig.app, &rule).await), ["done"]);
    let after = task(&ada, &tid).await;
    assert_eq!(
        (after["labels"].clone(), after["priority"].clone()),
        (json!(["reviewed"]), json!(1))
    );
    assert_eq!(
        pushes(&rig.app).await,
        [(
            me["id"].as_str().unwrap().to_owned(),
            json!({"title": "Urgent work done", "body": "Well done"})
        )]
    );

    // Reopened and completed again (by a patch this time): a second event, a second run.
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{tid}"),
        Some(&json!({"status": "todo"})),
    )
    .await;
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{tid}"),
        Some(&json!({"status": "done"})),
    )
    .await;
    // A patch that leaves it done is no completion.
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{tid}"),
        Some(&json!({"notes": "ok"})),
    )
    .await;
    rig.drain().await;
    assert_eq!(outcomes(&runs(&rig.app, &rule).await), ["done", "done"]);
    assert_eq!(task(&ada, &tid).await["labels"], json!(["reviewed"]));
    assert_eq!(pushes(&rig.app).await.len(), 2);

    // A task created done is completed too; one whose conditions fail is skipped and untouched.
    let low = ada
        .create("/v1/tasks", &json!({"title": "Tidy", "status": "done"}))
        .await;
    rig.drain().await;
    let all = runs(&rig.app, &rule).await;
    assert_eq!(outcomes(&all), ["done", "done", "skipped"]);
    assert_eq!(all[2].1.as_deref(), Some("its conditions do not hold"));
    let low = task(&ada, &id(&low)).await;
    assert_eq!(
        (low["labels"].clone(), low["priority"].clone()),
        (json!([]), json!(4))
    );
    assert_eq!(pushes(&rig.app).await.len(), 2);

    // A recurring task's completed occurrence is an event although the task stays open.
    let series = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Water plants", "priority": 1, "due_date": rig.today(), "recurrence": "FREQ=DAILY"}),
        )
        .await;
    let after = ada
        .ok(
            Method::POST,
            &format!("/v1/tasks/{}/complete", id(&series)),
            None,
        )
        .await;
    assert_eq!(after["status"], "todo");
    rig.drain().await;
    assert_eq!(
        outcomes(&runs(&rig.app, &rule).await),
        ["done", "done", "skipped", "done"]
    );
}

#[tokio::test]
async fn conditions_are_read_when_the_run_happens() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    let project = ada.create("/v1/projects", &json!({"title": "Work"})).await;
    let rule = ada
        .create(
            "/v1/rules",
            &json!({"name": "Urgent", "trigger": {"type": "task_completed"},
                    "conditions": [{"field": "label", "op": "eq", "value": "urgent"},
                                   {"field": "project_id", "op": "eq", "value": project["id"]}],
                    "actions": [{"type": "set_priority", "priority": 1}]}),
        )
        .await;
    // Labelled when completed, unlabelled before the run: skipped.
    let first = ada
        .create(
            "/v1/tasks",
            &json!({"title": "A", "labels": ["urgent"], "project_id": project["id"]}),
        )
        .await;
    ada.ok(
        Method::POST,
        &format!("/v1/tasks/{}/complete", id(&first)),
        None,
    )
    .await;
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{}", id(&first)),
        Some(&json!({"labels": []})),
    )
    .await;
    // Unlabelled when completed, labelled before the run: done.
    let second = ada
        .create(
            "/v1/tasks",
            &json!({"title": "B", "project_id": project["id"]}),
        )
        .await;
    ada.ok(
        Method::POST,
        &format!("/v1/tasks/{}/complete", id(&second)),
        None,
    )
    .await;
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{}", id(&second)),
        Some(&json!({"labels": ["Urgent"]})),
    )
    .await;
    // Deleted before the run: skipped, saying why.
    let third = ada
        .create(
            "/v1/tasks",
            &json!({"title": "C", "labels": ["urgent"], "project_id": project["id"]}),
        )
        .await;
    ada.ok(
        Method::POST,
        &format!("/v1/tasks/{}/complete", id(&third)),
        None,
    )
    .await;
    ada.succeeds(Method::DELETE, &format!("/v1/tasks/{}", id(&third)), None)
        .await;
    rig.drain().await;
    assert_eq!(
        runs(&rig.app, &rule).await,
        [
            (
                "skipped".to_owned(),
                Some("its conditions do not hold".to_owned())
            ),
            ("done".to_owned(), None),
            (
                "skipped".to_owned(),
                Some("the task no longer exists".to_owned())
            ),
        ]
    );
    assert_eq!(task(&ada, &id(&first)).await["priority"], 4);
    assert_eq!(task(&ada, &id(&second)).await["priority"], 1);

    // A rule disabled before its event runs does not run.
    ada.ok(
        Method::PATCH,
        &format!("/v1/rules/{}", id(&rule)),
        Some(&json!({"enabled": false})),
    )
    .await;
    ada.ok(
        Method::POST,
        &format!(
            "/v1/tasks/{}/complete",
            id(&ada.create("/v1/tasks", &json!({"title": "D"})).await)
        ),
        None,
    )
    .await;
    rig.drain().await;
    assert_eq!(runs(&rig.app, &rule).await.len(), 3);
}

#[tokio::test]
async fn a_capture_makes_a_task_and_a_failing_action_changes_nothing() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    let sorter = ada
        .create(
            "/v1/rules",
            &json!({"name": "Inbox", "trigger": {"type": "capture_created"},
                    "actions": [{"type": "create_task", "title": "Sort the inbox", "due_in_days": 1},
                                {"type": "add_label", "label": "inbox"},
                                {"type": "set_priority", "priority": 2}]}),
        )
        .await;
    // Labels need a task, and this trigger has none: the rule fails, its notification with it.
    let broken = ada
        .create(
            "/v1/rules",
            &json!({"name": "Broken", "trigger": {"type": "capture_created"},
                    "actions": [{"type": "notify", "message": "never sent"},
                                {"type": "add_label", "label": "x"}]}),
        )
        .await;
    let picky = ada
        .create(
            "/v1/rules",
            &json!({"name": "Picky", "trigger": {"type": "capture_created"},
                    "conditions": [{"field": "priority", "op": "eq", "value": 1}],
                    "actions": [{"type": "notify", "message": "never sent either"}]}),
        )
        .await;
    ada.create("/v1/captures", &json!({"text": "Call mum"}))
        .await;
    rig.drain().await;
    assert_eq!(outcomes(&runs(&rig.app, &sorter).await), ["done"]);
    let failed = runs(&rig.app, &broken).await;
    assert_eq!(outcomes(&failed), ["failed"]);
    assert!(
        failed[0]
            .1
            .as_deref()
            .unwrap()
            .contains("add_label needs a task"),
        "{failed:?}"
    );
    let skipped = runs(&rig.app, &picky).await;
    assert_eq!(outcomes(&skipped), ["skipped"]);
    assert!(pushes(&rig.app).await.is_empty());
    let made = ada.get("/v1/tasks").await;
    let made = &made["items"].as_array().unwrap()[..];
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["title"], "Sort the inbox");
    assert_eq!(
        made[0]["due_date"],
        json!(rig.today() + chrono::Duration::days(1))
    );
    assert_eq!(
        (made[0]["labels"].clone(), made[0]["priority"].clone()),
        (json!(["inbox"]), json!(2))
    );

    // A task full of labels cannot take one more: the priority set before it is undone too.
    let full = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Full", "labels": (0..20).map(|i| format!("l{i}")).collect::<Vec<_>>()}),
        )
        .await;
    let labeller = ada
        .create(
            "/v1/rules",
            &json!({"name": "Label", "trigger": {"type": "task_completed"},
                    "actions": [{"type": "set_priority", "priority": 1}, {"type": "add_label", "label": "one-more"}]}),
        )
        .await;
    ada.ok(
        Method::POST,
        &format!("/v1/tasks/{}/complete", id(&full)),
        None,
    )
    .await;
    rig.drain().await;
    let failed = runs(&rig.app, &labeller).await;
    assert_eq!(outcomes(&failed), ["failed"]);
    assert!(
        failed[0].1.as_deref().unwrap().contains("labels"),
        "{failed:?}"
    );
    let full = task(&ada, &id(&full)).await;
    assert_eq!(
        (
            full["priority"].clone(),
            full["labels"].as_array().unwrap().len()
        ),
        (json!(4), 20)
    );
}

#[tokio::test]
async fn no_rule_is_started_by_another_rules_actions() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    // A makes a task due today whenever a task is overdue; that task becomes overdue tomorrow,
    // which would start A and B again, every day, if what a rule made could start a rule.
    let maker = ada
        .create(
            "/v1/rules",
            &json!({"name": "Catch up", "trigger": {"type": "task_overdue"},
                    "actions": [{"type": "create_task", "title": "Catch up", "due_in_days": 0}]}),
        )
        .await;
    let teller = ada
        .create(
            "/v1/rules",
            &json!({"name": "Late", "trigger": {"type": "task_overdue"},
                    "actions": [{"type": "notify", "message": "Something is late"}]}),
        )
        .await;
    ada.create(
        "/v1/tasks",
        &json!({"title": "Report", "due_date": rig.today()}),
    )
    .await;
    // The clock moves on a day at a time; the detector runs each day.
    rig.app.clock.advance(Duration::from_secs(86_400));
    rig.drain().await;
    assert_eq!(outcomes(&runs(&rig.app, &maker).await), ["done"]);
    assert_eq!(outcomes(&runs(&rig.app, &teller).await), ["done"]);
    for _ in 0..3 {
        rig.app.clock.advance(Duration::from_secs(86_400));
        rig.drain().await;
    }
    assert_eq!(runs(&rig.app, &maker).await.len(), 1);
    assert_eq!(runs(&rig.app, &teller).await.len(), 1);
    let caught_up = rig
        .app
        .count("SELECT count(*) FROM app.tasks WHERE title = 'Catch up' AND made_by_rule")
        .await;
    assert_eq!(caught_up, 1);
}

#[tokio::test]
async fn overdue_tasks_and_missed_routines_fire_once_per_row_and_day() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    let overdue = ada
        .create(
            "/v1/rules",
            &json!({"name": "Overdue", "trigger": {"type": "task_overdue"},
                    "conditions": [{"field": "priority", "op": "lt", "value": 4}],
                    "actions": [{"type": "add_label", "label": "late"}]}),
        )
        .await;
    let missed = ada
        .create(
            "/v1/rules",
            &json!({"name": "Missed", "trigger": {"type": "routine_missed"},
                    "actions": [{"type": "notify", "message": "Stretch tomorrow"}]}),
        )
        .await;
    let today = rig.today();
    let late = ada
        .create(
            "/v1/tasks",
            &json!({"title": "Late", "priority": 2, "due_date": today}),
        )
        .await;
    // Due before the rule existed: overdue, but not since the rule was made.
    ada.create(
        "/v1/tasks",
        &json!({"title": "Older", "priority": 2, "due_date": today - chrono::Duration::days(1)}),
    )
    .await;
    ada.create(
        "/v1/tasks",
        &json!({"title": "Later", "priority": 2, "due_date": today + chrono::Duration::days(5)}),
    )
    .await;
    let routine = ada
        .create(
            "/v1/routines",
            &json!({"title": "Stretch", "rrule": "FREQ=DAILY", "start_date": today}),
        )
        .await;
    let rid = id(&routine);

    // A day later, and the detector run again and again that day.
    rig.app.clock.advance(Duration::from_secs(86_400));
    for _ in 0..4 {
        rig.app.clock.advance(Duration::from_secs(600));
        rig.drain().await;
    }
    let a = rig.app.signin("ada@example.com", PASSWORD).await;
    let ada = rig.app.signed_in(&a);
    assert_eq!(outcomes(&runs(&rig.app, &overdue).await), ["done"]);
    assert_eq!(task(&ada, &id(&late)).await["labels"], json!(["late"]));
    assert_eq!(outcomes(&runs(&rig.app, &missed).await), ["done"]);
    assert_eq!(pushes(&rig.app).await.len(), 1);

    // The next day: the task is still overdue from the same date (no second run); the routine
    // missed one more day, but not the day it was done.
    ada.succeeds(
        Method::POST,
        &format!("/v1/routines/{rid}/completions"),
        Some(&json!({"date": today + chrono::Duration::days(1), "outcome": "done"})),
    )
    .await;
    rig.app.clock.advance(Duration::from_secs(86_400));
    rig.drain().await;
    assert_eq!(runs(&rig.app, &overdue).await.len(), 1);
    assert_eq!(runs(&rig.app, &missed).await.len(), 1);
    rig.app.clock.advance(Duration::from_secs(86_400));
    rig.drain().await;
    assert_eq!(runs(&rig.app, &missed).await.len(), 2);

    // Moved to a new due date that passes: overdue again, once.
    let a = rig.app.signin("ada@example.com", PASSWORD).await;
    let ada = rig.app.signed_in(&a);
    ada.ok(
        Method::PATCH,
        &format!("/v1/tasks/{}", id(&late)),
        Some(&json!({"due_date": rig.today()})),
    )
    .await;
    rig.app.clock.advance(Duration::from_secs(86_400));
    rig.drain().await;
    rig.app.clock.advance(Duration::from_secs(600));
    rig.drain().await;
    assert_eq!(outcomes(&runs(&rig.app, &overdue).await), ["done", "done"]);
}

#[tokio::test]
async fn a_schedule_fires_at_its_local_time_across_the_change_to_summer_time() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    ada.ok(
        Method::PATCH,
        "/v1/me",
        Some(&json!({"time_zone": "Europe/London"})),
    )
    .await;
    // 01:30 does not exist in London on 2027-03-28: clocks go from 01:00 GMT to 02:00 BST. It is
    // read with the offset before the gap (GMT), as calendars do: 01:30Z, 02:30 BST.
    let rule = ada
        .create(
            "/v1/rules",
            &json!({"name": "Night", "trigger": {"type": "schedule", "at": "01:30", "days": [1, 2, 3, 4, 5, 6, 7]},
                    "actions": [{"type": "notify", "message": "Night"}]}),
        )
        .await;
    let planned = |date: &'static str| {
        let app = &rig.app;
        let rule = id(&rule);
        async move {
            app.admin()
                .await
                .query(
                    "SELECT to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM ops.jobs
                     WHERE kind = 'rules.run' AND payload ->> 'rule_id' = $1 AND payload ->> 'date' = $2",
                    &[&rule, &date],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
        }
    };
    let ran_at = || {
        let app = &rig.app;
        let rule = id(&rule);
        async move {
            app.admin()
                .await
                .query(
                    "SELECT outcome, to_char(ran_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') FROM app.rule_runs
                     WHERE rule_id = $1::text::uuid ORDER BY ran_at",
                    &[&rule],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)))
                .collect::<Vec<_>>()
        }
    };

    rig.at("2027-03-27T23:00:00Z").await;
    assert_eq!(planned("2027-03-28").await, ["2027-03-28T01:30:00Z"]);
    rig.at("2027-03-28T01:29:30Z").await;
    assert!(ran_at().await.is_empty());
    rig.at("2027-03-28T01:30:20Z").await;
    assert_eq!(
        ran_at().await,
        [("done".to_owned(), "2027-03-28T01:30".to_owned())]
    );
    // The detector comes again: once per day. The next night is 01:30 BST, 00:30 UTC.
    rig.at("2027-03-28T01:50:00Z").await;
    rig.at("2027-03-28T02:10:00Z").await;
    assert_eq!(ran_at().await.len(), 1);
    assert_eq!(planned("2027-03-29").await, ["2027-03-29T00:30:00Z"]);

    // Down for three days: the night it had planned is skipped, the others are not caught up.
    rig.at("2027-03-31T10:00:00Z").await;
    let after = ran_at().await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert_eq!(after[1].0, "skipped");
    assert!(planned("2027-03-30").await.is_empty() && planned("2027-03-31").await.is_empty());
    rig.at("2027-04-01T00:30:10Z").await;
    assert_eq!(
        ran_at().await.last().unwrap(),
        &("done".to_owned(), "2027-04-01T00:30".to_owned())
    );
}

#[tokio::test]
async fn runs_are_listed_in_pages_for_members_only() {
    let rig = rig().await;
    let (a, b) = (
        rig.user("ada@example.com").await,
        rig.user("bob@example.com").await,
    );
    let (ada, bob) = (rig.app.signed_in(&a), rig.app.signed_in(&b));
    let rule = ada
        .create(
            "/v1/rules",
            &json!({"name": "Tell", "trigger": {"type": "task_completed"},
                    "actions": [{"type": "notify", "message": "done"}]}),
        )
        .await;
    let other = ada
        .create(
            "/v1/rules",
            &json!({"name": "Other", "trigger": {"type": "capture_created"},
                    "actions": [{"type": "notify", "message": "captured"}]}),
        )
        .await;
    let mut subjects = Vec::new();
    for title in ["one", "two", "three"] {
        let t = ada.create("/v1/tasks", &json!({"title": title})).await;
        ada.ok(
            Method::POST,
            &format!("/v1/tasks/{}/complete", id(&t)),
            None,
        )
        .await;
        subjects.push(id(&t));
        rig.drain().await;
    }
    let path = format!("/v1/rules/{}/runs", id(&rule));
    let first = ada.get(&format!("{path}?limit=2")).await;
    let items = first["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["subject_id"], subjects[2].as_str());
    assert_eq!(items[1]["subject_id"], subjects[1].as_str());
    assert_eq!(
        (
            items[0]["trigger"].clone(),
            items[0]["outcome"].clone(),
            items[0]["error"].clone()
        ),
        (json!("task_completed"), json!("done"), Value::Null)
    );
    assert!(items[0]["ran_at"].is_string());
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ada.get(&format!("{path}?limit=2&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["subject_id"], subjects[0].as_str());
    assert!(second["next_cursor"].is_null());
    let none = ada.get(&format!("/v1/rules/{}/runs", id(&other))).await;
    assert_eq!(none["items"], json!([]));

    // Bob sees neither the rule nor its runs.
    let res = bob.send(Method::GET, &path, None, &[]).await;
    problem(res, 404, "/problems/not-found").await;

    // Deleting the rule takes its runs with it.
    ada.succeeds(Method::DELETE, &format!("/v1/rules/{}", id(&rule)), None)
        .await;
    assert!(runs(&rig.app, &rule).await.is_empty());
}

#[tokio::test]
async fn runs_beyond_the_hourly_limit_are_recorded_and_do_nothing() {
    // The server's own workers this time, with its configured limit.
    let app = TestApp::spawn_with(&[("MINIME_RULE_RUNS_PER_HOUR", "2")]).await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let rule = ada
        .create(
            "/v1/rules",
            &json!({"name": "Label", "trigger": {"type": "task_completed"},
                    "actions": [{"type": "add_label", "label": "seen"}]}),
        )
        .await;
    let wait_for = |n: usize| {
        let (app, rule) = (&app, &rule);
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                app.wake_jobs();
                let found = runs(app, rule).await;
                if found.len() >= n {
                    return found;
                }
                assert!(std::time::Instant::now() < deadline, "{found:?}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let mut ids = Vec::new();
    for title in ["one", "two", "three"] {
        let t = ada
            .create("/v1/tasks", &json!({"title": title, "status": "done"}))
            .await;
        ids.push(id(&t));
    }
    let found = wait_for(3).await;
    let mut seen = outcomes(&found);
    seen.sort();
    assert_eq!(seen, ["done", "done", "limited"]);
    let limited = found.iter().find(|(o, _)| o == "limited").unwrap();
    assert_eq!(
        limited.1.as_deref(),
        Some("over the limit of 2 rule runs an hour")
    );
    let mut labelled = 0;
    for tid in &ids {
        labelled += task(&ada, tid).await["labels"].as_array().unwrap().len();
    }
    assert_eq!(labelled, 2);

    // An hour later there is room again.
    let a = app.advance(Duration::from_secs(3_601), &a).await;
    let ada = app.signed_in(&a);
    ada.create("/v1/tasks", &json!({"title": "four", "status": "done"}))
        .await;
    assert_eq!(wait_for(4).await[3].0, "done");
}

#[tokio::test]
async fn rule_runs_expire_after_ninety_days() {
    let rig = rig().await;
    let a = rig.user("ada@example.com").await;
    let ada = rig.app.signed_in(&a);
    let rule = ada
        .create(
            "/v1/rules",
            &json!({"name": "Tell", "trigger": {"type": "task_completed"},
                    "actions": [{"type": "notify", "message": "done"}]}),
        )
        .await;
    let admin = rig.app.admin().await;
    admin
        .execute(
            "INSERT INTO app.rule_runs (id, workspace_id, created_by, rule_id, trigger, event, outcome, ran_at)
             SELECT gen_random_uuid(), r.workspace_id, r.created_by, r.id, 'task_completed', 'e' || n, 'done', now() - n * interval '1 day'
             FROM app.automation_rules r, unnest(ARRAY[89, 91]) n WHERE r.id = $1::text::uuid",
            &[&id(&rule)],
        )
        .await
        .unwrap();
    let removed: i64 = admin
        .query_one(
            "SELECT removed FROM ops.cleanup(now()) WHERE tbl = 'app.rule_runs'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(removed, 1);
    assert_eq!(runs(&rig.app, &rule).await.len(), 1);
}
