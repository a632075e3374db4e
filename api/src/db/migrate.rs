//! `minime migrate`: embedded diesel migrations, run without libpq under an advisory lock.

use anyhow::{anyhow, Context};
use diesel::{Connection, RunQueryDsl};
use diesel_async::{async_connection_wrapper::AsyncConnectionWrapper, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations");
const LOCK_KEY: i64 = 0x6d696e696d65; // "minime"

/// Versions built into this binary, oldest first.
pub fn embedded_versions() -> Vec<String> {
    use diesel::migration::MigrationSource;
    let migrations: Vec<Box<dyn diesel::migration::Migration<diesel::pg::Pg>>> =
        MIGRATIONS.migrations().unwrap_or_default();
    migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect()
}

/// Applies pending migrations; `app_password`, when given, becomes `minime_app`'s password.
pub async fn run(database_url: &str, app_password: Option<String>) -> anyhow::Result<Vec<String>> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .with_context(|| "cannot connect with DATABASE_URL")?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({LOCK_KEY})")).execute(&mut conn)?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| anyhow!("migration failed: {e}"));
        if let (Ok(_), Some(password)) = (&result, app_password) {
            // A bind cannot be used in ALTER ROLE; quote it as a literal instead.
            let literal = password.replace('\'', "''");
            diesel::sql_query(format!("ALTER ROLE minime_app PASSWORD '{literal}'"))
                .execute(&mut conn)?;
        }
        diesel::sql_query(format!("SELECT pg_advisory_unlock({LOCK_KEY})")).execute(&mut conn)?;
        result
    })
    .await?
}
