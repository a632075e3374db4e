//! Integrity of workspace data: the database keeps every link inside its workspace, deleting an
//! account removes that user's rows and nothing of anybody else's, membership writes are limited
//! to what the server does, SECURITY DEFINER functions cannot be shadowed through pg_temp, and
//! the admin id key never leaves the database. Attacks are run in SQL as the server's role.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_postgres::Client as Pg;

use crate::helpers::{connect, Client, TestApp, Tokens, PASSWORD};

async fn uuid_of(app: &TestApp, email: &str) -> String {
    app.admin()
        .await
        .query_one(
            "SELECT id::text FROM auth.users WHERE email = $1",
            &[&email],
        )
        .await
        .unwrap()
        .get(0)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// SQLSTATE and message of a failed statement.
fn db_error(err: tokio_postgres::Error) -> (String, String) {
    let db = err.as_db_error().unwrap_or_else(|| panic!("{err:?}"));
    (db.code().code().to_owned(), db.message().to_owned())
}

/// Runs `sql` as the server's role in one transaction acting as `user` (optionally switched to
/// `role`), committed so that deferred constraints are checked too; rows affected or the error.
async fn run_as(
    app: &TestApp,
    user: &str,
    role: Option<&str>,
    sql: &str,
) -> Result<u64, (String, String)> {
    let mut server = connect(&app.app_db_url).await;
    let tx = server.transaction().await.unwrap();
    tx.execute("SELECT set_config('app.user_id', $1, true)", &[&user])
        .await
        .unwrap();
    if let Some(role) = role {
        tx.batch_execute(&format!("SET LOCAL ROLE {role}"))
            .await
            .unwrap();
    }
    let n = tx.execute(sql, &[]).await.map_err(db_error)?;
    tx.commit().await.map_err(db_error)?;
    Ok(n)
}

/// Every table of the three schemas.
async fn tables(admin: &Pg) -> Vec<String> {
    admin
        .query(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('auth', 'app', 'ops') AND c.relkind = 'r' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn row_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let admin = app.admin().await;
    let mut counts = BTreeMap::new();
    for t in tables(&admin).await {
        let n: i64 = admin
            .query_one(&format!("SELECT count(*) FROM {t}"), &[])
            .await
            .unwrap()
            .get(0);
        counts.insert(t, n);
    }
    counts
}

/// Tables with columns naming a user, with those columns (auth.users by its id).
async fn user_columns(admin: &Pg) -> BTreeMap<String, Vec<String>> {
    let mut cols: BTreeMap<String, Vec<String>> = admin
        .query(
            "SELECT k.conrelid::regclass::text, array_agg(a.attname::text ORDER BY a.attname)
             FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
             WHERE k.contype = 'f' AND k.confrelid = 'auth.users'::regclass GROUP BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    cols.insert("auth.users".into(), vec!["id".into()]);
    cols
}

/// Per table, the number and md5 of the rows naming `user`, leaving out `except` (a condition
/// on `t` per table): the rows whose change is expected and checked on its own.
async fn fingerprint(
    app: &TestApp,
    user: &str,
    except: &[(&str, String)],
) -> BTreeMap<String, (i64, Option<String>)> {
    let admin = app.admin().await;
    let mut out = BTreeMap::new();
    for (table, cols) in user_columns(&admin).await {
        let mine = cols
            .iter()
            .map(|c| format!("t.{c} = '{user}'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let skip = except
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, c)| format!(" AND NOT ({c})"))
            .collect::<String>();
        let row = admin
            .query_one(
                &format!(
                    "SELECT count(*), md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t WHERE ({mine}){skip}"
                ),
                &[],
            )
            .await
            .unwrap();
        out.insert(table, (row.get(0), row.get(1)));
    }
    out
}

/// What deleting `user` must remove from the tables of the account itself (not workspace data).
async fn account_rows(app: &TestApp, user: &str, email: &str) -> BTreeMap<String, i64> {
    let admin = app.admin().await;
    let family: Vec<String> = admin
        .query(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint
             WHERE contype = 'f' AND confrelid = 'app.workspaces'::regclass",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut expected = BTreeMap::new();
    for (table, cols) in user_columns(&admin).await {
        if family.contains(&table) || table == "app.workspaces" || table == "auth.users" {
            continue;
        }
        let mut cond = cols
            .iter()
            .map(|c| format!("t.{c} = '{user}'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        if table == "ops.outbox" {
            cond.push_str(&format!(" OR t.to_address = '{email}'"));
        }
        let n: i64 = admin
            .query_one(&format!("SELECT count(*) FROM {table} t WHERE {cond}"), &[])
            .await
            .unwrap()
            .get(0);
        expected.insert(table, n);
    }
    for (table, sql) in [
        (
            "auth.refresh_tokens",
            format!("SELECT count(*) FROM auth.refresh_tokens WHERE session_id IN (SELECT id FROM auth.sessions WHERE user_id = '{user}')"),
        ),
        (
            "ops.rate_limits",
            format!("SELECT count(*) FROM ops.rate_limits WHERE key LIKE '%{user}%'"),
        ),
    ] {
        expected.insert(
            table.into(),
            admin.query_one(&sql, &[]).await.unwrap().get(0),
        );
    }
    expected.insert("auth.users".into(), 1);
    expected.retain(|_, n| *n > 0);
    expected
}

/// No column anywhere still holds the user's id.
async fn no_trace_of(app: &TestApp, user: &str) {
    let admin = app.admin().await;
    let cols = admin
        .query(
            "SELECT c.oid::regclass::text, a.attname::text FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname IN ('auth', 'app', 'ops') AND c.relkind = 'r' AND a.attnum > 0
               AND NOT a.attisdropped AND a.atttypid = 'uuid'::regtype",
            &[],
        )
        .await
        .unwrap();
    for row in cols {
        let (table, col): (String, String) = (row.get(0), row.get(1));
        let n: i64 = admin
            .query_one(
                &format!("SELECT count(*) FROM {table} WHERE {col} = '{user}'"),
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{table}.{col} still names the deleted user");
    }
}

/// Every table changed by exactly what the receipt says it removed.
fn assert_counted(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>, receipt: &Value) {
    for (table, n) in before {
        let gone = n - after[table];
        let counted = receipt["removed"][table].as_i64().unwrap_or(0);
        assert_eq!(
            gone, counted,
            "{table}: {gone} rows went, the receipt says {counted}"
        );
    }
}

fn counts(pairs: &[(&str, i64)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect(),
    )
}

fn with(mut base: BTreeMap<String, i64>, pairs: &[(&str, i64)]) -> Value {
    for (k, v) in pairs {
        base.insert((*k).to_owned(), *v);
    }
    serde_json::to_value(base).unwrap()
}

/// Ada (Pro) owns the shared workspace Family, Bob is a member. Bob's task holds Ada's subtask,
/// Ada's task holds Bob's subtask, Bob's goal holds Ada's milestone, Ada's day plan has a block
/// on Bob's subtask. Ada invited Bob's address twice: he accepted the first, the second is
/// pending; both were mailed to him.
struct Family {
    a: Tokens,
    b: Tokens,
    ada: String,
    bob: String,
    ada_personal: String,
    bob_personal: String,
    family: String,
    accepted_invite: String,
    bobs_task: String,
    adas_step: String,
    adas_task: String,
    bobs_step: String,
    bobs_goal: String,
}

/// A server whose mail budget lets an address receive every invitation of the scenario.
async fn spawn() -> TestApp {
    TestApp::spawn_with(&[("MINIME_RATE_LIMIT_MAIL_PER_ADDRESS", "100/3600")]).await
}

async fn family(app: &TestApp) -> Family {
    let a = app.user("ada@example.com").await;
    let b = app.user("bob@example.com").await;
    for who in ["ada@example.com", "bob@example.com"] {
        minime_api::admin::cli::set_plan(&app.admin_url, who, "pro")
            .await
            .unwrap();
    }
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let family = id(&ada
        .create("/v1/workspaces", &json!({"name": "Family"}))
        .await);
    let invite = ada
        .succeeds(
            Method::POST,
            &format!("/v1/workspaces/{family}/invites"),
            Some(&json!({"email": "bob@example.com"})),
        )
        .await;
    bob.succeeds(
        Method::POST,
        "/v1/invites/accept",
        Some(&json!({"token": invite["token"]})),
    )
    .await;
    ada.succeeds(
        Method::POST,
        &format!("/v1/workspaces/{family}/invites"),
        Some(&json!({"email": "bob@example.com"})),
    )
    .await;

    let task = |title: &str, parent: Option<&str>| json!({"title": title, "workspace_id": family, "parent_id": parent});
    let bobs_task = id(&bob.create("/v1/tasks", &task("Book the hall", None)).await);
    let adas_step = id(&ada
        .create("/v1/tasks", &task("Ask about parking", Some(&bobs_task)))
        .await);
    let adas_task = id(&ada.create("/v1/tasks", &task("Plan the menu", None)).await);
    let bobs_step = id(&bob
        .create("/v1/tasks", &task("Buy the cake", Some(&adas_task)))
        .await);
    let bobs_goal = id(&bob
        .create(
            "/v1/goals",
            &json!({"title": "A good party", "workspace_id": family}),
        )
        .await);
    ada.create(
        "/v1/milestones",
        &json!({"title": "Guests invited", "goal_id": bobs_goal, "workspace_id": family}),
    )
    .await;
    // Ada's plan for tomorrow in Family has a block for each open task without open steps:
    // her step and Bob's.
    let tomorrow = crate::helpers::user_today() + chrono::Duration::days(1);
    ada.succeeds(
        Method::POST,
        "/v1/plans",
        Some(&json!({"date": tomorrow, "workspace_id": family})),
    )
    .await;
    let blocks: Vec<String> = app
        .admin()
        .await
        .query(
            "SELECT task_id::text FROM app.day_plan_items ORDER BY task_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut steps = vec![adas_step.clone(), bobs_step.clone()];
    steps.sort();
    assert_eq!(blocks, steps);
    // Rows of their own elsewhere, which must come through untouched.
    ada.create("/v1/tasks", &json!({"title": "Ada alone"}))
        .await;
    bob.create("/v1/tasks", &json!({"title": "Bob alone"}))
        .await;
    app.mail_settled().await;
    let invited = app
        .count("SELECT count(*) FROM ops.outbox WHERE to_address = 'bob@example.com' AND subject LIKE '%invited%' AND sent_at IS NOT NULL")
        .await;
    assert_eq!(invited, 2);

    let admin = app.admin().await;
    let ada_id = uuid_of(app, "ada@example.com").await;
    let bob_id = uuid_of(app, "bob@example.com").await;
    let personal = |owner: String| {
        let admin = &admin;
        async move {
            admin
                .query_one(
                    "SELECT id::text FROM app.workspaces WHERE owner_id = $1::text::uuid AND kind = 'personal'",
                    &[&owner],
                )
                .await
                .unwrap()
                .get::<_, String>(0)
        }
    };
    let ada_personal = personal(ada_id.clone()).await;
    let bob_personal = personal(bob_id.clone()).await;
    let accepted_invite: String = admin
        .query_one(
            "SELECT id::text FROM app.workspace_invites WHERE accepted_by IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    Family {
        a,
        b,
        ada: ada_id,
        bob: bob_id,
        ada_personal,
        bob_personal,
        family,
        accepted_invite,
        bobs_task,
        adas_step,
        adas_task,
        bobs_step,
        bobs_goal,
    }
}

async fn delete_account(c: &Client<'_>, workspaces: Value) -> Value {
    c.succeeds(
        Method::DELETE,
        "/v1/account",
        Some(&json!({"password": PASSWORD, "workspaces": workspaces})),
    )
    .await
}

async fn task_row(app: &TestApp, id: &str) -> (String, String, Option<String>, i32) {
    let row = app
        .admin()
        .await
        .query_one(
            "SELECT title, created_by::text, parent_id::text, version FROM app.tasks WHERE id = $1::text::uuid",
            &[&id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

#[tokio::test]
async fn deleting_a_member_keeps_the_owners_subtask_under_their_task() {
    let app = spawn().await;
    let f = family(&app).await;
    let bob = app.signed_in(&f.b);
    // Ada's rows that change: her step under Bob's task, her invitation Bob accepted; and what
    // was addressed to Bob goes. Bob's goal becomes Ada's (her milestone needs it).
    let except = [
        ("app.tasks", format!("t.id = '{}'", f.adas_step)),
        (
            "app.workspace_invites",
            format!(
                "t.id = '{}' OR t.email = 'bob@example.com'",
                f.accepted_invite
            ),
        ),
        ("ops.outbox", "t.to_address = 'bob@example.com'".into()),
        ("app.goals", format!("t.id = '{}'", f.bobs_goal)),
        (
            "app.day_plan_items",
            format!("t.task_id = '{}'", f.bobs_step),
        ),
    ];
    let adas_before = fingerprint(&app, &f.ada, &except).await;
    let step_before = task_row(&app, &f.adas_step).await;
    let before = row_counts(&app).await;
    let account = account_rows(&app, &f.bob, "bob@example.com").await;

    let receipt = delete_account(&bob, json!({})).await;

    assert_eq!(
        receipt["removed"],
        with(
            account,
            &[
                ("app.tasks", 3),
                ("app.day_plan_items", 1),
                ("app.workspace_members", 2),
                ("app.workspace_invites", 1),
                ("app.workspaces", 1),
            ]
        ),
        "{receipt}"
    );
    assert_eq!(
        receipt["detached"],
        counts(&[("app.tasks", 1), ("app.workspace_invites", 1)])
    );
    assert_eq!(receipt["handed_over"], counts(&[("app.goals", 1)]));
    assert_eq!(receipt["workspaces_deleted"], json!([f.bob_personal]));
    assert_eq!(receipt["workspaces_transferred"], json!([]));
    assert_counted(&before, &row_counts(&app).await, &receipt);
    assert_eq!(fingerprint(&app, &f.ada, &except).await, adas_before);
    no_trace_of(&app, &f.bob).await;

    // Ada's step is a task of its own now; her invitation stays, used, naming nobody.
    let step = task_row(&app, &f.adas_step).await;
    assert_eq!(
        step,
        (step_before.0, f.ada.clone(), None, step_before.3 + 1)
    );
    let admin = app.admin().await;
    let invite = admin
        .query_one(
            "SELECT accepted_by IS NULL AND email IS NULL AND accepted_at IS NOT NULL, created_by::text
             FROM app.workspace_invites WHERE id = $1::text::uuid",
            &[&f.accepted_invite],
        )
        .await
        .unwrap();
    assert_eq!(
        (invite.get::<_, bool>(0), invite.get::<_, String>(1)),
        (true, f.ada.clone())
    );
    let left: i64 = admin
        .query_one(
            "SELECT (SELECT count(*) FROM app.workspace_invites WHERE email = 'bob@example.com')
                  + (SELECT count(*) FROM ops.outbox WHERE to_address = 'bob@example.com')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "nothing addressed to Bob is left");
    let blocks: Vec<String> = admin
        .query("SELECT task_id::text FROM app.day_plan_items", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        blocks,
        vec![f.adas_step.clone()],
        "Ada's plan keeps her own block"
    );
    // Bob's goal stays for Ada's milestone, as hers.
    let goal = admin
        .query_one(
            "SELECT g.created_by::text, count(m.id) FROM app.goals g JOIN app.milestones m ON m.goal_id = g.id
             WHERE g.id = $1::text::uuid GROUP BY 1",
            &[&f.bobs_goal],
        )
        .await
        .unwrap();
    assert_eq!(
        (goal.get::<_, String>(0), goal.get::<_, i64>(1)),
        (f.ada.clone(), 1)
    );
    // And Ada still works with all of it.
    let ada = app.signed_in(&f.a);
    let step = ada.get(&format!("/v1/tasks/{}", f.adas_step)).await;
    assert_eq!(step["parent_id"], Value::Null);
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/goals/{}", f.bobs_goal),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_owner_who_transfers_keeps_the_members_subtask_under_their_task() {
    let app = spawn().await;
    let f = family(&app).await;
    let ada = app.signed_in(&f.a);
    // Bob's rows that change: his step under Ada's task, his membership (now the owner's) and
    // the workspace he now owns; Ada's invitation he accepted goes with her.
    let except = [
        ("app.tasks", format!("t.id = '{}'", f.bobs_step)),
        (
            "app.workspace_invites",
            format!("t.created_by = '{}'", f.ada),
        ),
        (
            "app.workspace_members",
            format!("t.workspace_id = '{}'", f.family),
        ),
        ("app.workspaces", format!("t.id = '{}'", f.family)),
    ];
    let bobs_before = fingerprint(&app, &f.bob, &except).await;
    let step_before = task_row(&app, &f.bobs_step).await;
    let before = row_counts(&app).await;
    let account = account_rows(&app, &f.ada, "ada@example.com").await;

    let receipt = delete_account(&ada, json!({&f.family: "transfer"})).await;

    assert_eq!(
        receipt["removed"],
        with(
            account,
            &[
                ("app.tasks", 3),
                ("app.milestones", 1),
                ("app.day_plans", 1),
                ("app.day_plan_items", 2),
                ("app.workspace_members", 2),
                ("app.workspace_invites", 2),
                ("app.workspaces", 1),
            ]
        ),
        "{receipt}"
    );
    assert_eq!(receipt["detached"], counts(&[("app.tasks", 1)]));
    assert_eq!(receipt["handed_over"], counts(&[("app.workspaces", 1)]));
    assert_eq!(receipt["workspaces_deleted"], json!([f.ada_personal]));
    assert_eq!(receipt["workspaces_transferred"], json!([f.family]));
    assert_counted(&before, &row_counts(&app).await, &receipt);
    assert_eq!(fingerprint(&app, &f.bob, &except).await, bobs_before);
    no_trace_of(&app, &f.ada).await;

    assert_eq!(
        task_row(&app, &f.bobs_step).await,
        (step_before.0, f.bob.clone(), None, step_before.3 + 1)
    );
    let bob = app.signed_in(&f.b);
    let family = bob.get(&format!("/v1/workspaces/{}", f.family)).await;
    assert_eq!(family["role"], "owner");
    assert_eq!(family["owner_id"], f.bob.as_str());
    let created_by: String = app
        .admin()
        .await
        .query_one(
            "SELECT created_by::text FROM app.workspaces WHERE id = $1::text::uuid",
            &[&f.family],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(created_by, f.bob);
    let tasks = bob
        .get(&format!("/v1/tasks?workspace_id={}", f.family))
        .await;
    let mut titles: Vec<&str> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Book the hall", "Buy the cake"]);
    let adas = app
        .count(&format!(
            "SELECT count(*) FROM app.tasks WHERE id IN ('{}', '{}')",
            f.adas_task, f.adas_step
        ))
        .await;
    assert_eq!(adas, 0);
}

#[tokio::test]
async fn an_owner_who_deletes_the_shared_workspace_takes_only_its_rows() {
    let app = spawn().await;
    let f = family(&app).await;
    let ada = app.signed_in(&f.a);
    // Everything in Family goes, Bob's rows included; nothing else of his changes.
    let except = [
        ("app.tasks", format!("t.workspace_id = '{}'", f.family)),
        (
            "app.workspace_invites",
            format!("t.workspace_id = '{}'", f.family),
        ),
        ("app.goals", format!("t.workspace_id = '{}'", f.family)),
        (
            "app.workspace_members",
            format!("t.workspace_id = '{}'", f.family),
        ),
    ];
    let bobs_before = fingerprint(&app, &f.bob, &except).await;
    let before = row_counts(&app).await;
    let account = account_rows(&app, &f.ada, "ada@example.com").await;

    let receipt = delete_account(&ada, json!({&f.family: "delete"})).await;

    assert_eq!(
        receipt["removed"],
        with(
            account,
            &[
                ("app.tasks", 5),
                ("app.goals", 1),
                ("app.milestones", 1),
                ("app.day_plans", 1),
                ("app.day_plan_items", 2),
                ("app.workspace_members", 3),
                ("app.workspace_invites", 2),
                ("app.workspaces", 2),
            ]
        ),
        "{receipt}"
    );
    assert_eq!(receipt["detached"], json!({}));
    assert_eq!(receipt["handed_over"], json!({}));
    let mut deleted: Vec<String> =
        serde_json::from_value(receipt["workspaces_deleted"].clone()).unwrap();
    deleted.sort();
    let mut expected = vec![f.ada_personal.clone(), f.family.clone()];
    expected.sort();
    assert_eq!(deleted, expected);
    assert_counted(&before, &row_counts(&app).await, &receipt);
    assert_eq!(fingerprint(&app, &f.bob, &except).await, bobs_before);
    no_trace_of(&app, &f.ada).await;
    let family_rows = app
        .count(&format!(
            "SELECT (SELECT count(*) FROM app.tasks WHERE workspace_id = '{0}')
                  + (SELECT count(*) FROM app.workspace_members WHERE workspace_id = '{0}')",
            f.family
        ))
        .await;
    assert_eq!(family_rows, 0);
    let bob = app.signed_in(&f.b);
    let tasks = bob.get("/v1/tasks").await;
    let titles: Vec<&str> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Bob alone"]);
}

#[tokio::test]
async fn deleting_a_row_detaches_what_links_to_it_and_to_its_subtasks() {
    let app = spawn().await;
    let f = family(&app).await;
    let (ada, bob) = (app.signed_in(&f.a), app.signed_in(&f.b));
    // Bob's project holds Ada's task; Ada's capture became a task under Bob's task, which Ada
    // focused on.
    let project = id(&bob
        .create(
            "/v1/projects",
            &json!({"title": "Party", "workspace_id": f.family}),
        )
        .await);
    let adas_task = id(&ada
        .create(
            "/v1/tasks",
            &json!({"title": "Chairs", "workspace_id": f.family, "project_id": project}),
        )
        .await);
    let capture = id(&ada
        .create(
            "/v1/captures",
            &json!({"text": "Call the caterer", "workspace_id": f.family}),
        )
        .await);
    let converted = ada
        .succeeds(
            Method::POST,
            &format!("/v1/captures/{capture}/convert"),
            Some(&json!({"to": "task"})),
        )
        .await;
    let step = converted["task_id"].as_str().unwrap().to_owned();
    ada.succeeds(
        Method::PATCH,
        &format!("/v1/tasks/{step}"),
        Some(&json!({"parent_id": f.bobs_task})),
    )
    .await;
    ada.create(
        "/v1/focus-sessions",
        &json!({"workspace_id": f.family, "task_id": step, "started_at": "2026-01-05T09:00:00Z", "ended_at": "2026-01-05T09:25:00Z"}),
    )
    .await;

    for path in [
        format!("/v1/projects/{project}"),
        format!("/v1/tasks/{}", f.bobs_task),
    ] {
        let res = bob.send(Method::DELETE, &path, None, &[]).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "DELETE {path}");
    }
    let task = ada.get(&format!("/v1/tasks/{adas_task}")).await;
    assert_eq!(task["project_id"], Value::Null);
    assert_eq!(task["version"], 2, "a detached row gets a new version");
    let capture = ada.get(&format!("/v1/captures/{capture}")).await;
    assert_eq!(capture["converted_task_id"], Value::Null);
    let sessions = ada
        .get(&format!("/v1/focus-sessions?workspace_id={}", f.family))
        .await;
    assert_eq!(sessions["items"][0]["task_id"], Value::Null);
    let res = ada
        .send(Method::GET, &format!("/v1/tasks/{step}"), None, &[])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "the subtask went with its task"
    );
}

#[tokio::test]
async fn a_task_cannot_link_a_project_of_another_workspace_in_sql() {
    let app = spawn().await;
    let f = family(&app).await;
    let bob = app.signed_in(&f.b);
    let bobs_project = id(&bob.create("/v1/projects", &json!({"title": "Mine"})).await);
    let family_project = id(&bob
        .create(
            "/v1/projects",
            &json!({"title": "Ours", "workspace_id": f.family}),
        )
        .await);
    let insert = |project: &str| {
        format!(
            "INSERT INTO app.tasks (id, workspace_id, created_by, title, project_id)
             VALUES (gen_random_uuid(), '{}', '{}', 'Planted', '{project}')",
            f.ada_personal, f.ada
        )
    };
    // A project Ada cannot see, and one she can, in another workspace than the task.
    for project in [&bobs_project, &family_project] {
        let (code, message) = run_as(&app, &f.ada, None, &insert(project))
            .await
            .unwrap_err();
        assert_eq!(code, "23503", "{message}");
        assert!(message.contains("tasks_project_id_fkey"), "{message}");
    }
    // Nor can an existing row be pointed elsewhere.
    let (code, _) = run_as(
        &app,
        &f.ada,
        None,
        &format!(
            "UPDATE app.tasks SET parent_id = '{}' WHERE workspace_id = '{}'",
            f.bobs_task, f.ada_personal
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(code, "23503");
    // Within the workspace, the same link is fine.
    let inside = format!(
        "INSERT INTO app.tasks (id, workspace_id, created_by, title, project_id)
         VALUES (gen_random_uuid(), '{}', '{}', 'Chairs', '{family_project}')",
        f.family, f.ada
    );
    assert_eq!(run_as(&app, &f.ada, None, &inside).await, Ok(1));
}

#[tokio::test]
async fn a_member_cannot_make_themself_owner_in_sql() {
    let app = spawn().await;
    let f = family(&app).await;
    let rls = |r: Result<u64, (String, String)>| {
        let (code, message) = r.unwrap_err();
        assert_eq!(code, "42501", "{message}");
        assert!(message.contains("row-level security"), "{message}");
    };
    let family = &f.family;
    rls(run_as(&app, &f.bob, None, &format!(
        "INSERT INTO app.workspace_members (workspace_id, user_id, role, created_by) VALUES ('{family}', '{}', 'owner', '{}')",
        f.bob, f.bob
    ))
    .await);
    for sql in [
        format!("UPDATE app.workspace_members SET role = 'owner' WHERE workspace_id = '{family}' AND user_id = '{}'", f.bob),
        format!("UPDATE app.workspace_members SET role = 'member' WHERE workspace_id = '{family}' AND user_id = '{}'", f.ada),
        format!("UPDATE app.workspaces SET owner_id = '{}' WHERE id = '{family}'", f.bob),
        format!("DELETE FROM app.workspace_members WHERE workspace_id = '{family}' AND user_id = '{}'", f.ada),
    ] {
        assert_eq!(run_as(&app, &f.bob, None, &sql).await, Ok(0), "{sql}");
    }
    // Columns the server never writes are not writable at all.
    let (code, _) = run_as(&app, &f.bob, None, &format!(
        "UPDATE app.workspace_members SET user_id = '{}' WHERE workspace_id = '{family}' AND user_id = '{}'",
        f.ada, f.bob
    ))
    .await
    .unwrap_err();
    assert_eq!(code, "42501");
    let roles: Vec<(String, String)> = app
        .admin()
        .await
        .query(
            "SELECT user_id::text, role FROM app.workspace_members WHERE workspace_id = $1::text::uuid ORDER BY role",
            &[family],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        roles,
        [
            (f.bob.clone(), "member".into()),
            (f.ada.clone(), "owner".into())
        ]
    );
}

#[tokio::test]
async fn an_owner_cannot_add_a_second_owner_in_sql() {
    let app = spawn().await;
    let f = family(&app).await;
    app.user("carol@example.com").await;
    let carol = uuid_of(&app, "carol@example.com").await;
    let family = &f.family;
    // Nobody joins without an invitation, as owner or member, in a shared or a personal workspace.
    for (workspace, role) in [
        (family, "owner"),
        (family, "member"),
        (&f.bob_personal, "owner"),
    ] {
        let owner = if workspace == family { &f.ada } else { &f.bob };
        let (code, message) = run_as(&app, owner, None, &format!(
            "INSERT INTO app.workspace_members (workspace_id, user_id, role, created_by) VALUES ('{workspace}', '{carol}', '{role}', '{owner}')"
        ))
        .await
        .unwrap_err();
        assert_eq!(code, "42501", "{message}");
    }
    // Promoting a member without handing over leaves two owners: refused at commit.
    let (code, message) = run_as(&app, &f.ada, None, &format!(
        "UPDATE app.workspace_members SET role = 'owner' WHERE workspace_id = '{family}' AND user_id = '{}'",
        f.bob
    ))
    .await
    .unwrap_err();
    assert_eq!(code, "23P01", "{message}");
    // A personal workspace never changes hands, and the owner's row goes only with the workspace.
    let (code, _) = run_as(
        &app,
        &f.bob,
        None,
        &format!(
            "UPDATE app.workspaces SET owner_id = '{}' WHERE id = '{}'",
            f.ada, f.bob_personal
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(code, "42501");
    for sql in [
        format!(
            "DELETE FROM app.workspace_members WHERE workspace_id = '{family}' AND user_id = '{}'",
            f.ada
        ),
        format!("DELETE FROM app.workspaces WHERE id = '{}'", f.ada_personal),
    ] {
        assert_eq!(run_as(&app, &f.ada, None, &sql).await, Ok(0), "{sql}");
    }
    // What the server does still works: the hand-over, in its two steps.
    let ada = app.signed_in(&f.a);
    let ws = ada
        .succeeds(
            Method::POST,
            &format!("/v1/workspaces/{family}/transfer"),
            Some(&json!({"user_id": f.bob})),
        )
        .await;
    assert_eq!(
        (ws["role"].as_str(), ws["owner_id"].as_str()),
        (Some("member"), Some(f.bob.as_str()))
    );
}

#[tokio::test]
async fn a_temporary_table_cannot_shadow_the_catalogue() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    let ada = uuid_of(&app, "ada@example.com").await;
    for role in [None, Some("minime_admin")] {
        let (code, message) = run_as(
            &app,
            &ada,
            role,
            "CREATE TEMPORARY TABLE pg_namespace (oid oid, nspname name)",
        )
        .await
        .unwrap_err();
        assert_eq!(code, "42501", "{role:?}: {message}");
    }
    let admin = app.admin().await;
    let temporary: i64 = admin
        .query_one(
            "SELECT count(*) FROM unnest(ARRAY['minime_app', 'minime_admin', 'minime_owner']) r
             WHERE has_database_privilege(r, current_database(), 'TEMPORARY')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(temporary, 0);
    let definers = admin
        .query(
            "SELECT p.oid::regprocedure::text,
                    (SELECT c FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname IN ('auth', 'app', 'ops') AND p.prosecdef",
            &[],
        )
        .await
        .unwrap();
    assert!(
        definers.len() >= 8,
        "{} SECURITY DEFINER functions",
        definers.len()
    );
    for row in definers {
        let (function, path): (String, Option<String>) = (row.get(0), row.get(1));
        let path = path.unwrap_or_default();
        assert!(
            path.starts_with("search_path=pg_catalog") && path.ends_with("pg_temp"),
            "{function}: {path:?} must start with pg_catalog and end with pg_temp"
        );
    }
}

#[tokio::test]
async fn the_admin_cannot_log_an_invented_action() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    minime_api::admin::cli::grant(&app.admin_url, "ada@example.com", true)
        .await
        .unwrap();
    let ada = uuid_of(&app, "ada@example.com").await;
    let admin = Some("minime_admin");
    for sql in [
        "SELECT ops.admin_log('lock', 'r-1')",
        "SELECT ops.admin_log('made_everyone_admin', NULL)",
        "SELECT ops.admin_log(NULL, NULL)",
    ] {
        let (code, message) = run_as(&app, &ada, admin, sql).await.unwrap_err();
        assert_eq!(code, "22023", "{sql}: {message}");
    }
    // The signatures that took a key are gone.
    for sql in [
        "SELECT ops.admin_log('\\x00'::bytea, 'forged', NULL, '{}'::jsonb, NULL)",
        "SELECT * FROM ops.admin_users('\\x00'::bytea, NULL, 10)",
        "SELECT ops.admin_act('\\x00'::bytea, 'x', 'lock', NULL, NULL)",
    ] {
        let (code, message) = run_as(&app, &ada, admin, sql).await.unwrap_err();
        assert_eq!(code, "42883", "{sql}: {message}");
    }
    assert_eq!(app.count("SELECT count(*) FROM ops.admin_audit").await, 0);
    assert_eq!(
        run_as(
            &app,
            &ada,
            admin,
            "SELECT ops.admin_log('view_stats', 'r-2')"
        )
        .await,
        Ok(1)
    );
    assert_eq!(
        app.count("SELECT count(*) FROM ops.admin_audit WHERE action = 'view_stats'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_admin_cannot_read_or_choose_the_id_key() {
    let app = TestApp::spawn().await;
    let a = app.user("ada@example.com").await;
    minime_api::admin::cli::grant(&app.admin_url, "ada@example.com", true)
        .await
        .unwrap();
    let ada = uuid_of(&app, "ada@example.com").await;
    for role in [None, Some("minime_admin")] {
        for sql in [
            "SELECT key FROM ops.admin_key",
            "UPDATE ops.admin_key SET key = '\\x00'",
            "SELECT ops.set_admin_key('\\x00')",
            "SELECT ops.admin_id_key()",
        ] {
            let (code, message) = run_as(&app, &ada, role, sql).await.unwrap_err();
            assert_eq!(code, "42501", "{role:?} {sql}: {message}");
        }
    }
    // `minime migrate` stores the configured key, and the hashes are made with it.
    let configured = "a key this test configured, long enough to be one";
    let vars: std::collections::HashMap<String, String> = [
        ("DATABASE_URL", app.admin_url.as_str()),
        ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
        ("MINIME_ADMIN_ID_KEY", configured),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let key = minime_api::config::Config::from_vars(&vars)
        .unwrap()
        .admin_id_key;
    minime_api::db::migrate::run(&app.admin_url, None, Some(key))
        .await
        .unwrap();
    let expected: String = app
        .admin()
        .await
        .query_one(
            "SELECT substr(encode(hmac(convert_to($1, 'UTF8'), convert_to($2, 'UTF8'), 'sha256'), 'hex'), 1, 24)",
            &[&ada, &configured],
        )
        .await
        .unwrap()
        .get(0);
    let users = app.signed_in(&a).get("/v1/admin/users").await;
    assert_eq!(users["items"][0]["ref"], expected.as_str());
}

/// Workspace tables (those with a workspace_id column) and their checks, as superuser.
#[tokio::test]
async fn the_catalogue_keeps_every_workspace_row_in_its_workspace() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let one = |sql: &'static str| {
        let admin = &admin;
        async move {
            admin
                .query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<String>>()
        }
    };
    const WORKSPACE_TABLES: &str = "
        SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped
        WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p')";

    let tables = one(
        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id'
         WHERE n.nspname = 'app' AND c.relkind = 'r'",
    )
    .await;
    assert!(tables.len() >= 18, "{tables:?}");

    let unguarded = admin
        .query(
            &format!(
                "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid IN ({WORKSPACE_TABLES})
                   AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                            AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))"
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(
        unguarded.is_empty(),
        "without forced row-level security and policies: {:?}",
        unguarded
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
    );

    // Keys: the primary key leads with workspace_id; every unique constraint or index holds it.
    let bad_keys = admin
        .query(
            &format!(
                "SELECT i.indexrelid::regclass::text FROM pg_index i
                 WHERE i.indrelid IN ({WORKSPACE_TABLES}) AND (i.indisunique OR i.indisexclusion)
                   AND NOT (i.indisprimary AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = 'workspace_id'))
                   AND NOT (NOT i.indisprimary AND (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = 'workspace_id') = ANY (i.indkey))
                   -- One running focus session per user across workspaces: a per-user rule
                   -- that no workspace key can state.
                   AND i.indexrelid <> 'app.focus_sessions_one_running'::regclass"
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(
        bad_keys.is_empty(),
        "keys without workspace_id (first in a primary key): {:?}",
        bad_keys
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
    );
    let no_pk = admin
        .query(
            &format!("SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid IN ({WORKSPACE_TABLES})
                      AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)"),
            &[],
        )
        .await
        .unwrap();
    assert!(no_pk.is_empty());

    // Links between workspace rows are (workspace_id, x) -> (workspace_id, id).
    let loose = admin
        .query(
            &format!(
                "SELECT k.conname::text FROM pg_constraint k
                 WHERE k.contype = 'f' AND k.conrelid IN ({WORKSPACE_TABLES}) AND k.confrelid IN ({WORKSPACE_TABLES})
                   AND NOT (cardinality(k.conkey) = 2
                            AND (SELECT attname FROM pg_attribute WHERE attrelid = k.conrelid AND attnum = k.conkey[1]) = 'workspace_id'
                            AND (SELECT attname FROM pg_attribute WHERE attrelid = k.confrelid AND attnum = k.confkey[1]) = 'workspace_id'
                            AND (SELECT attname FROM pg_attribute WHERE attrelid = k.confrelid AND attnum = k.confkey[2]) = 'id')"
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(
        loose.is_empty(),
        "links not composite with workspace_id: {:?}",
        loose
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
    );
    let links: i64 = admin
        .query_one(
            &format!("SELECT count(*) FROM pg_constraint k WHERE k.contype = 'f'
                      AND k.conrelid IN ({WORKSPACE_TABLES}) AND k.confrelid IN ({WORKSPACE_TABLES})"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(links >= 18, "{links} links");

    // No foreign key anywhere sets NULL or a default: on Citus it would clear workspace_id too.
    let setters = one(
        "SELECT k.conname::text FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
         WHERE k.contype = 'f' AND n.nspname IN ('auth', 'app', 'ops')
           AND (k.confdeltype IN ('n', 'd') OR k.confupdtype IN ('n', 'd'))",
    )
    .await;
    assert!(setters.is_empty(), "SET NULL / SET DEFAULT: {setters:?}");

    // Every foreign key has an index leading with its columns.
    let unindexed = one(
        "SELECT k.conname::text FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
         WHERE k.contype = 'f' AND n.nspname IN ('auth', 'app', 'ops')
           AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = k.conrelid
                           AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] = k.conkey)",
    )
    .await;
    assert!(
        unindexed.is_empty(),
        "foreign keys without an index: {unindexed:?}"
    );
}

#[tokio::test]
async fn the_runtime_role_has_no_privilege_it_does_not_use() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let grants = admin
        .query(
            "SELECT c.oid::regclass::text, g.privilege_type, r.rolname::text
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             CROSS JOIN LATERAL aclexplode(c.relacl) g
             JOIN pg_roles r ON r.oid = g.grantee
             WHERE n.nspname IN ('auth', 'app', 'ops') AND r.rolname IN ('minime_app', 'minime_admin')
             UNION ALL
             SELECT c.oid::regclass::text || '.' || a.attname, g.privilege_type, r.rolname::text
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             CROSS JOIN LATERAL aclexplode(a.attacl) g
             JOIN pg_roles r ON r.oid = g.grantee
             WHERE n.nspname IN ('auth', 'app', 'ops') AND r.rolname IN ('minime_app', 'minime_admin')",
            &[],
        )
        .await
        .unwrap();
    assert!(grants.len() > 20);
    for row in grants {
        let (object, privilege, role): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        assert!(
            ["SELECT", "INSERT", "UPDATE", "DELETE"].contains(&privilege.as_str()),
            "{role} has {privilege} on {object}"
        );
        assert!(
            !object.starts_with("ops.admin_key"),
            "{role} has {privilege} on {object}"
        );
        if object.starts_with("ops.admin_audit") {
            assert_eq!(
                (role.as_str(), privilege.as_str()),
                ("minime_admin", "SELECT"),
                "{object}"
            );
        }
    }
    // Through its membership in minime_admin either (it switches to it only with SET ROLE).
    let reach: i64 = admin
        .query_one(
            "SELECT count(*) FROM unnest(ARRAY['ops.admin_key', 'ops.admin_audit']) t,
                    unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
             WHERE has_table_privilege('minime_app', t, p)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(reach, 0);
    let key_reach: i64 = admin
        .query_one(
            "SELECT count(*) FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
             WHERE has_table_privilege('minime_admin', 'ops.admin_key', p)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(key_reach, 0);
}
