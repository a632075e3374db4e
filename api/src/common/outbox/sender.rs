//! Delivers one message per job (`mail.send`, queued with the message): the job queue brings the
//! leases, retries with backoff and the dead state; this takes the message, sends it and records
//! what happened on its row.

use std::sync::Arc;

use chrono::Utc;
use diesel::{
    sql_types::{Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use uuid::Uuid;

use super::provider::{Outgoing, Provider, SendError};
use crate::{
    common::jobs::{
        queue::backoff,
        worker::{JobContext, Registry},
    },
    config::Config,
    db::pool::Conn,
    http::problem::ApiResult,
};

pub const SEND: &str = "mail.send";

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Text)]
    to_address: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Nullable<Text>)]
    body_text: Option<String>,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

/// Adds the `mail.send` handler, holding the configured provider, to `registry`.
pub fn register(registry: Registry, config: &Config) -> anyhow::Result<Registry> {
    let provider = Arc::new(Provider::new(config.mail.clone())?);
    let from: Arc<str> = config.mail_from.clone().into();
    Ok(registry.add(SEND, move |ctx| {
        let (provider, from) = (provider.clone(), from.clone());
        async move { deliver(ctx, &provider, &from).await }
    }))
}

async fn deliver(ctx: JobContext, provider: &Provider, from: &str) -> anyhow::Result<()> {
    let id: Uuid = serde_json::from_value(ctx.job.payload["id"].clone())?;
    let taken: Option<Taken> = ctx
        .tx(move |conn| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT to_address, subject, body_text, attempts FROM ops.outbox_take($1)",
                )
                .bind::<SqlUuid, _>(id)
                .load(conn)
                .await?
                .into_iter()
                .next())
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Sent or given up already (a job that ran twice after a lapsed lease).
    let Some(mail) = taken else {
        return Ok(());
    };
    let outgoing = Outgoing {
        id,
        from,
        to: &mail.to_address,
        subject: &mail.subject,
        body: mail.body_text.as_deref().unwrap_or(""),
    };
    let last_attempt = ctx.job.attempts >= ctx.job.max_attempts;
    let (outcome, error, retry) = match provider.send(&outgoing).await {
        // The body may hold a single-use link: it goes as soon as it is sent.
        Ok(()) => ("sent", None, None),
        Err(SendError::Retry(error)) if !last_attempt => {
            ("retry", Some(format!("{error:#}")), Some(error))
        }
        Err(SendError::Retry(error) | SendError::Permanent(error)) => {
            tracing::error!(%id, attempts = mail.attempts, error = %format!("{error:#}"), "mail: giving up");
            ("failed", Some(format!("{error:#}")), None)
        }
    };
    // When the queue will try again, about: the job's own backoff decides.
    let next = retry.as_ref().map(|_| {
        Utc::now() + chrono::Duration::from_std(backoff(ctx.job.attempts)).unwrap_or_default()
    });
    ctx.tx(move |conn| settle(conn, id, outcome, error, next).scope_boxed())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match retry {
        Some(error) => Err(error.context("the mail service will be asked again")),
        None => Ok(()),
    }
}

async fn settle(
    conn: &mut Conn,
    id: Uuid,
    outcome: &'static str,
    error: Option<String>,
    next: Option<chrono::DateTime<Utc>>,
) -> ApiResult<()> {
    diesel::sql_query("SELECT ops.outbox_settle($1, $2, $3, $4)")
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(outcome)
        .bind::<Nullable<Text>, _>(error)
        .bind::<Nullable<Timestamptz>, _>(next)
        .execute(conn)
        .await?;
    Ok(())
}
