//! `minime migrate`: embedded diesel migrations, run without libpq under an advisory lock.

use anyhow::{anyhow, Context};
use diesel::{sql_types::Bytea, Connection, RunQueryDsl};
use diesel_async::{async_connection_wrapper::AsyncConnectionWrapper, AsyncPgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use secrecy::{ExposeSecret, SecretString};

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

/// Nobody may create temporary objects: one could shadow the catalogue inside a SECURITY
/// DEFINER function. A database's ACL does not come along with CREATE DATABASE ... TEMPLATE nor
/// with a restore into a new database, hence on every run, not only in a migration.
pub const REVOKE_TEMPORARY: &str =
    "DO $$ BEGIN EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()); END $$";

/// Applies pending migrations; `app_password`, when given, becomes `minime_app`'s password, and
/// `admin_id_key` the key of the hashed user ids of the admin API (kept in the database, where
/// only the schema owner reads it).
pub async fn run(
    database_url: &str,
    app_password: Option<String>,
    admin_id_key: Option<SecretString>,
) -> anyhow::Result<Vec<String>> {
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .with_context(|| "cannot connect with DATABASE_URL")?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({LOCK_KEY})")).execute(&mut conn)?;
        let result = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| anyhow!("migration failed: {e}"));
        if result.is_ok() {
            diesel::sql_query(REVOKE_TEMPORARY).execute(&mut conn)?;
            if let Some(key) = admin_id_key {
                diesel::sql_query("SELECT ops.set_admin_key($1)")
                    .bind::<Bytea, _>(key.expose_secret().as_bytes())
                    .execute(&mut conn)?;
            }
        }
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
