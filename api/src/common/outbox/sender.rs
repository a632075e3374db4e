//! Delivers pending mail. Any number of instances may run it: rows are claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease, so no message is sent twice at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use uuid::Uuid;

use super::{
    provider::{Outgoing, Provider, SendError},
    queue::Notifier,
};
use crate::{config::Config, db::pool::Db};

const BATCH: i32 = 20;
const POLL: Duration = Duration::from_secs(5);
const MAX_ATTEMPTS: i32 = 8;

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    to_address: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Nullable<Text>)]
    body_text: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    attempts: i32,
}

pub fn spawn(
    config: &Config,
    db: Db,
    notifier: Notifier,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let provider = Provider::new(config.mail.clone())?;
    let from = config.mail_from.clone();
    Ok(tokio::spawn(async move {
        loop {
            match deliver_batch(&db, &provider, &from).await {
                Ok(n) if n == BATCH as usize => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "outbox: delivery round failed"),
            }
            tokio::select! {
                _ = notifier.woken() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }))
}

async fn deliver_batch(db: &Db, provider: &Provider, from: &str) -> anyhow::Result<usize> {
    let claimed: Vec<Claimed> = db
        .tx(|conn| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT id, to_address, subject, body_text, attempts \
                     FROM ops.outbox_claim($1, interval '60 seconds')",
                )
                .bind::<diesel::sql_types::Integer, _>(BATCH)
                .load(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let count = claimed.len();
    for mail in claimed {
        let outgoing = Outgoing {
            id: mail.id,
            from,
            to: &mail.to_address,
            subject: &mail.subject,
            body: mail.body_text.as_deref().unwrap_or(""),
        };
        let outcome = provider.send(&outgoing).await;
        let id = mail.id;
        let attempts = mail.attempts;
        db.tx(move |conn| {
            async move {
                let (outcome, error, next): (&str, Option<String>, Option<DateTime<Utc>>) =
                    match outcome {
                        // The body may hold a single-use link: it goes as soon as it is sent.
                        Ok(()) => ("sent", None, None),
                        Err(SendError::Retry(error)) if attempts < MAX_ATTEMPTS => {
                            tracing::warn!(%id, attempts, error = %format!("{error:#}"), "outbox: will retry");
                            let backoff =
                                chrono::Duration::seconds(10 * (1i64 << attempts.min(12)));
                            // Compared with the database's time when claiming: the worker
                            // runs on real time, not on the requests' clock.
                            ("retry", Some(format!("{error:#}")), Some(Utc::now() + backoff))
                        }
                        Err(SendError::Retry(error) | SendError::Permanent(error)) => {
                            tracing::error!(%id, attempts, error = %format!("{error:#}"), "outbox: giving up");
                            ("failed", Some(format!("{error:#}")), None)
                        }
                    };
                diesel::sql_query("SELECT ops.outbox_settle($1, $2, $3, $4)")
                    .bind::<SqlUuid, _>(id)
                    .bind::<Text, _>(outcome)
                    .bind::<Nullable<Text>, _>(error)
                    .bind::<Nullable<Timestamptz>, _>(next)
                    .execute(conn)
                    .await?;
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(count)
}
