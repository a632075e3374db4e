//! Operator commands run with `DATABASE_URL` (`minime admin ...`), outside the HTTP API.

use anyhow::{bail, Context};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::{db::schema::auth::users, subscriptions as plans};

/// Sets a user's plan: the only way plans change while billing is not connected.
pub async fn set_plan(database_url: &str, email: &str, plan: &str) -> anyhow::Result<()> {
    if !plans::PLANS.contains(&plan) {
        bail!("plan must be one of {}", plans::PLANS.join(", "));
    }
    let mut conn = AsyncPgConnection::establish(database_url)
        .await
        .context("cannot connect with DATABASE_URL")?;
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
