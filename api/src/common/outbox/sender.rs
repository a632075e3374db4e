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

use super::provider::{Attachment, Outgoing, Provider, SendError};
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
    let attachment = ctx
        .tx(move |conn| attachment(conn, id).scope_boxed())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let outgoing = Outgoing {
        id,
        from,
        to: &mail.to_address,
        subject: &mail.subject,
        body: mail.body_text.as_deref().unwrap_or(""),
        attachment,
    };
    let last_attempt = ctx.job.attempts >= ctx.job.max_attempts;
    let mut provider_id = None;
    let (outcome, error, retry) = match provider.send(&outgoing).await {
        // The body may hold a single-use link: it goes as soon as it is sent.
        Ok(sent_as) => {
            provider_id = Some(sent_as);
            ("sent", None, None)
        }
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
    ctx.tx(move |conn| settle(conn, id, outcome, error, provider_id, next).scope_boxed())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match retry {
        Some(error) => Err(error.context("the mail service will be asked again")),
        None => Ok(()),
    }
}

/// The message's settled state, in the outbox and, for a document's mail, in its email log.
async fn settle(
    conn: &mut Conn,
    id: Uuid,
    outcome: &'static str,
    error: Option<String>,
    provider_id: Option<String>,
    next: Option<chrono::DateTime<Utc>>,
) -> ApiResult<()> {
    diesel::sql_query("SELECT ops.outbox_settle($1, $2, $3, $4)")
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(outcome)
        .bind::<Nullable<Text>, _>(error.clone())
        .bind::<Nullable<Timestamptz>, _>(next)
        .execute(conn)
        .await?;
    diesel::sql_query("SELECT ops.document_email_settle($1, $2, $3, $4)")
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(outcome)
        .bind::<Nullable<Text>, _>(provider_id)
        .bind::<Nullable<Text>, _>(error)
        .execute(conn)
        .await?;
    Ok(())
}

/// The document a message carries, if any.
async fn attachment(conn: &mut Conn, id: Uuid) -> ApiResult<Option<Attachment>> {
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = Text)]
        file_name: String,
        #[diesel(sql_type = Text)]
        content_type: String,
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        content: Vec<u8>,
    }
    let file: Option<File> =
        diesel::sql_query("SELECT file_name, content_type, content FROM ops.outbox_attachment($1)")
            .bind::<SqlUuid, _>(id)
            .load(conn)
            .await?
            .into_iter()
            .next();
    Ok(file.map(|f| Attachment {
        file_name: f.file_name,
        content_type: f.content_type,
        content: f.content,
    }))
}
