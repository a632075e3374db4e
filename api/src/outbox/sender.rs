//! Delivers pending mail. Any number of instances may run it: rows are claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease, so no message is sent twice at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Nullable, Text, Uuid as SqlUuid},
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use uuid::Uuid;

use super::{
    provider::{Outgoing, Provider, SendError},
    Notifier,
};
use crate::{
    config::Config,
    db::{schema::ops::outbox, Db},
};

const BATCH: i64 = 20;
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
                Ok(n) if n as i64 == BATCH => continue,
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
                    "UPDATE ops.outbox SET locked_until = now() + interval '60 seconds', attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM ops.outbox \
                       WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() \
                         AND (locked_until IS NULL OR locked_until < now()) \
                       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, to_address, subject, body_text, attempts",
                )
                .bind::<diesel::sql_types::BigInt, _>(BATCH)
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
                let row = outbox::table.find(id);
                match outcome {
                    Ok(()) => {
                        // The body may hold a single-use token: keep it no longer than needed.
                        diesel::update(row)
                            .set((outbox::sent_at.eq(diesel::dsl::now), outbox::body_text.eq(None::<String>), outbox::locked_until.eq(None::<DateTime<Utc>>)))
                            .execute(conn)
                            .await?;
                    }
                    Err(SendError::Retry(error)) if attempts < MAX_ATTEMPTS => {
                        tracing::warn!(%id, attempts, error = %format!("{error:#}"), "outbox: will retry");
                        let backoff = chrono::Duration::seconds(10 * (1i64 << attempts.min(12)));
                        diesel::update(row)
                            .set((
                                outbox::next_attempt_at.eq(Utc::now() + backoff),
                                outbox::last_error.eq(format!("{error:#}")),
                                outbox::locked_until.eq(None::<DateTime<Utc>>),
                            ))
                            .execute(conn)
                            .await?;
                    }
                    Err(SendError::Retry(error) | SendError::Permanent(error)) => {
                        tracing::error!(%id, attempts, error = %format!("{error:#}"), "outbox: giving up");
                        diesel::update(row)
                            .set((
                                outbox::failed_at.eq(diesel::dsl::now),
                                outbox::body_text.eq(None::<String>),
                                outbox::last_error.eq(format!("{error:#}")),
                            ))
                            .execute(conn)
                            .await?;
                    }
                }
                Ok(())
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(count)
}
