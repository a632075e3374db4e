use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    common::jobs::{self, queue::NewJob},
    db::pool::Conn,
    http::problem::ApiResult,
};

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
    let id = Uuid::now_v7();
    diesel::sql_query("SELECT ops.outbox_enqueue($1, $2, $3, $4, $5, $6)")
        .bind::<SqlUuid, _>(id)
        .bind::<Nullable<SqlUuid>, _>(mail.user_id)
        .bind::<Text, _>(mail.kind)
        .bind::<Text, _>(mail.to)
        .bind::<Text, _>(mail.subject)
        .bind::<Text, _>(mail.body)
        .execute(conn)
        .await?;
    let mut job = NewJob::new(super::sender::SEND, chrono::Utc::now());
    job.payload = serde_json::json!({ "id": id });
    job.unique_key = Some(format!("{}:{id}", super::sender::SEND));
    jobs::queue::enqueue(conn, job).await?;
    Ok(())
}
