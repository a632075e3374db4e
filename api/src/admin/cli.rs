//! Operator commands run with `DATABASE_URL` (`minime admin ...`), outside the HTTP API.

use anyhow::{bail, Context};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::{
    db::schema::auth::{admins, users},
    subscriptions as plans,
};

async fn connect(database_url: &str) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(database_url)
        .await
        .context("cannot connect with DATABASE_URL")
}

/// Sets a user's plan: the only way plans change while billing is not connected.
pub async fn set_plan(database_url: &str, email: &str, plan: &str) -> anyhow::Result<()> {
    if !plans::PLANS.contains(&plan) {
        bail!("plan must be one of {}", plans::PLANS.join(", "));
    }
    let mut conn = connect(database_url).await?;
    let email = email.trim().to_lowercase();
    let n = diesel::update(users::table.filter(users::email.eq(&email)))
        .set((
            users::plan.eq(plan),
            users::version.eq(users::version + 1),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(&mut conn)
        .await?;
    if n == 0 {
        bail!("no account with the email {email}");
    }
    Ok(())
}

/// Grants (or revokes) the administrator role.
pub async fn grant(database_url: &str, email: &str, admin: bool) -> anyhow::Result<()> {
    let mut conn = connect(database_url).await?;
    let email = email.trim().to_lowercase();
    let id: Option<uuid::Uuid> = users::table
        .filter(users::email.eq(&email))
        .select(users::id)
        .first(&mut conn)
        .await
        .optional()?;
    let Some(id) = id else {
        bail!("no account with the email {email}");
    };
    if admin {
        diesel::insert_into(admins::table)
            .values(admins::user_id.eq(id))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await?;
    } else {
        diesel::delete(admins::table.find(id))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// One line per job (id, kind, attempts, when, last error): the dead ones, or all that are not
/// done yet.
pub async fn list_jobs(database_url: &str, dead: bool) -> anyhow::Result<Vec<String>> {
    use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz};
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Integer)]
        attempts: i32,
        #[diesel(sql_type = Timestamptz)]
        at: chrono::DateTime<chrono::Utc>,
        #[diesel(sql_type = Nullable<Text>)]
        last_error: Option<String>,
    }
    let mut conn = connect(database_url).await?;
    let filter = if dead {
        "dead_at IS NOT NULL"
    } else {
        "done_at IS NULL AND dead_at IS NULL"
    };
    let lines: Vec<Line> = diesel::sql_query(format!(
        "SELECT id, kind, attempts, coalesce(dead_at, run_at) AS at, last_error FROM ops.jobs \
         WHERE {filter} ORDER BY id"
    ))
    .load(&mut conn)
    .await?;
    Ok(lines
        .into_iter()
        .map(|l| {
            format!(
                "{}\t{}\t{} attempt(s)\t{}\t{}",
                l.id,
                l.kind,
                l.attempts,
                l.at.to_rfc3339(),
                l.last_error.unwrap_or_default()
            )
        })
        .collect())
}

/// Gives a dead job its attempts back and runs it again now.
pub async fn retry_job(database_url: &str, id: i64) -> anyhow::Result<()> {
    let mut conn = connect(database_url).await?;
    let n = diesel::sql_query(
        "UPDATE ops.jobs SET dead_at = NULL, attempts = 0, run_at = now(), locked_until = NULL \
         WHERE id = $1 AND dead_at IS NOT NULL",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .execute(&mut conn)
    .await?;
    if n == 0 {
        bail!("no dead job with the id {id}");
    }
    Ok(())
}

/// `minime secrets rotate`: every secret at rest sealed anew under the ring's first key. Run it
/// after putting a new key in front of `MINIME_SECRET_KEYS`; once it reports nothing left under
/// other keys, the old key can go. Each secret is swapped only if it is still what was read, so
/// the command can run while servers do, and again after an interruption.
pub async fn rotate_secrets(config: &crate::config::Config) -> anyhow::Result<usize> {
    let Some(ring) = config.secret_keys.as_deref() else {
        bail!("MINIME_SECRET_KEYS (or MINIME_SECRET_KEYS_FILE) is not set: there is no key to seal with");
    };
    let mut conn = connect(&config.app_database_url).await?;
    let server = crate::common::server_secrets::reseal_all(&mut conn, ring)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing the server's secrets: {e}"))?;
    let calendars = crate::calendar::sync::reseal_all(&mut conn, ring)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing calendar URLs: {e}"))?;
    let gmail = crate::gmail::store::reseal_all(&mut conn, ring)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing Gmail tokens: {e}"))?;
    let banks = crate::business::profile::reseal_all(&mut conn, ring)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing bank details: {e}"))?;
    let stripe = crate::business::stripe_account::reseal_all(&mut conn, ring)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing Stripe secrets: {e}"))?;
    let totp = crate::auth::factors::totp::reseal_all(&mut conn, ring)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing authenticator app secrets: {e}"))?;
    Ok(server + calendars + gmail + banks + stripe + totp)
}
