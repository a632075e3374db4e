//! Operator commands run with `DATABASE_URL` (`minime admin ...`), outside the HTTP API.

use anyhow::{bail, Context};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::{
    db::schema::auth::{admins, users},
    subscriptions as plans,
};

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

/// Grants (or revokes) the administrator role.
pub async fn grant(database_url: &str, email: &str, admin: bool) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(database_url)
        .await
        .context("cannot connect with DATABASE_URL")?;
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
