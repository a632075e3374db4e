//! `POST /v1/push/test-notifications`: a notification to every device of the caller, so that a
//! user can see that push works where they subscribed.

use actix_web::{post, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    sender::{notify, Notification, Urgency},
    subscription::ids,
};
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    http::problem::{ApiResult, Problem},
};

#[derive(Serialize, ToSchema)]
pub struct TestNotification {
    /// The devices it goes to (0: subscribe a browser first).
    #[schema(example = 2)]
    pub devices: usize,
}

/// `POST /v1/push/test-notifications`
#[utoipa::path(
    tag = "push", summary = "Send a test notification to each of your devices.",
    description = "Queued at once and delivered by the job workers. At most one per minute \
                   reaches your devices: more within the same minute are merged into it.",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 202, description = "Queued", body = TestNotification),
        (status = 403, description = "A read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/push/test-notifications")]
pub async fn send(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let devices = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let devices = ids(conn).await?.len();
                let test = Notification {
                    title: "minime".into(),
                    body: "Notifications reach this device.".into(),
                    url: Some("/".into()),
                    topic: Some("test".into()),
                    urgency: Some(Urgency::Normal),
                    ttl: Some(3600),
                };
                let minute = me.at.timestamp() / 60;
                let once = format!("push-test:{}:{minute}", me.user_id);
                notify(conn, me.user_id, test, Some(once)).await?;
                Ok(devices)
            }
            .scope_boxed()
        })
        .await?;
    state.jobs.wake();
    Ok(HttpResponse::Accepted().json(TestNotification { devices }))
}
