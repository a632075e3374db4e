use std::sync::Arc;

use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::{db::pool::Conn, http::problem::ApiResult};

pub struct Mail {
    pub user_id: Option<Uuid>,
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Queues a mail in the caller's transaction. Mail bodies may hold live links, so the table is
/// out of the server role's reach: queueing, claiming and settling go through the database
/// functions that guard it (`ops.outbox_*`).
pub async fn enqueue(conn: &mut Conn, mail: Mail) -> ApiResult<()> {
    diesel::sql_query("SELECT ops.outbox_enqueue($1, $2, $3, $4, $5, $6)")
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Nullable<SqlUuid>, _>(mail.user_id)
        .bind::<Text, _>(mail.kind)
        .bind::<Text, _>(mail.to)
        .bind::<Text, _>(mail.subject)
        .bind::<Text, _>(mail.body)
        .execute(conn)
        .await?;
    Ok(())
}

/// Wakes the sender after a commit, so mail leaves at once rather than at the next poll.
#[derive(Clone, Default)]
pub struct Notifier(Arc<Notify>);

impl Notifier {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub(super) async fn woken(&self) {
        self.0.notified().await
    }
}
