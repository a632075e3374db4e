//! Outbound mail: rows in `ops.outbox`, written in the same transaction as the change that
//! caused them, delivered by the sender after commit.

mod provider;
mod sender;

use std::sync::Arc;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tokio::sync::Notify;
use uuid::Uuid;

pub use sender::spawn;

use crate::{
    db::{schema::ops::outbox, Conn},
    http::ApiResult,
};

pub struct Mail {
    pub user_id: Option<Uuid>,
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub async fn enqueue(conn: &mut Conn, mail: Mail) -> ApiResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(Uuid::now_v7()),
            outbox::user_id.eq(mail.user_id),
            outbox::kind.eq(mail.kind),
            outbox::to_address.eq(mail.to),
            outbox::subject.eq(mail.subject),
            outbox::body_text.eq(mail.body),
        ))
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

    async fn woken(&self) {
        self.0.notified().await
    }
}
