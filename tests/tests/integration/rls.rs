//! Row-level security: proven from the catalogue and by querying as the runtime role.

use crate::helpers::{connect, TestApp};

#[tokio::test]
async fn the_runtime_role_cannot_bypass_rls() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let row = admin
        .query_one("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'minime_app'", &[])
        .await
        .unwrap();
    let flags: (bool, bool, bool, bool) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(flags, (false, false, false, false));

    // minime_app owns nothing and may create nothing.
    let owned = app
        .count("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('app', 'auth', 'ops') AND pg_get_userbyid(c.relowner) <> 'minime_owner'")
        .await;
    assert_eq!(owned, 0, "every table belongs to minime_owner");
    let can_create = app
        .count("SELECT count(*) FROM unnest(ARRAY['app', 'auth', 'ops', 'public']) s WHERE has_schema_privilege('minime_app', s, 'CREATE')")
        .await;
    assert_eq!(can_create, 0);
}

#[tokio::test]
async fn every_app_table_has_forced_rls_with_policies() {
    let app = TestApp::spawn().await;
    let rows = app
        .admin()
        .await
        .query(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, \
                    (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p')",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() >= 2);
    for row in rows {
        let (table, enabled, forced, policies): (String, bool, bool, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert!(
            enabled && forced,
            "app.{table} must ENABLE and FORCE row level security"
        );
        assert!(policies > 0, "app.{table} has no policy");
    }
}

#[tokio::test]
async fn a_query_without_where_sees_only_the_callers_rows() {
    let app = TestApp::spawn().await;
    app.user("ada@example.com").await;
    app.user("bob@example.com").await;
    let admin = app.admin().await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.workspaces").await,
        2,
        "the superuser sees both"
    );
    let ada: uuid::Uuid = admin
        .query_one(
            "SELECT id FROM auth.users WHERE email = 'ada@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    let mut runtime = connect(&app.app_db_url).await;
    let tx = runtime.transaction().await.unwrap();
    assert_eq!(
        tx.query_one("SELECT count(*) FROM app.workspaces", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0,
        "no user set: nothing"
    );
    tx.execute(
        "SELECT set_config('app.user_id', $1, true)",
        &[&ada.to_string()],
    )
    .await
    .unwrap();
    let owners: Vec<uuid::Uuid> = tx
        .query("SELECT owner_id FROM app.workspaces", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(owners, [ada]);
    assert_eq!(
        tx.query_one("SELECT count(*) FROM app.workspace_members", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        1
    );
    // Writes are checked too: Ada cannot plant a workspace on Bob.
    let bob: uuid::Uuid = admin
        .query_one(
            "SELECT id FROM auth.users WHERE email = 'bob@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let err = tx
        .execute(
            "INSERT INTO app.workspaces (id, name, kind, owner_id, created_by) VALUES (gen_random_uuid(), 'x', 'shared', $1, $1)",
            &[&bob],
        )
        .await
        .unwrap_err();
    let message = err.as_db_error().unwrap().message().to_owned();
    assert!(message.contains("row-level security"), "{message}");
    tx.rollback().await.unwrap();

    // The setting was transaction-local: a new transaction on the same connection sees nothing.
    let tx = runtime.transaction().await.unwrap();
    assert_eq!(
        tx.query_one("SELECT count(*) FROM app.workspaces", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        0
    );
}
